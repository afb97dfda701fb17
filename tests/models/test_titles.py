"""Title models: similar titles find the right tracks; normalisation drops noise; the known-genre bound
serves each playlist its lead genre."""

import numpy as np
import pandas as pd
import pytest
from mpd_data import challenge_build, mpd_dir

from mpd_helpers.data import challenge_set, dataset, synthetic
from mpd_helpers.errors import MPDInputError
from mpd_helpers.models import titles


def test_title_model_finds_playlists_with_similar_titles():
    b = challenge_build()
    ds = dataset.load(mpd_dir(5), challenge_set.read(b.challenge_path, b.truth_path), progress=False)
    m = ds.matrix
    title = titles.TitleModel(k=20).fit(ds)
    train = np.flatnonzero(~ds.playlists["is_challenge"].to_numpy())
    norm = titles.normalize_titles(ds.playlists["name"])
    row = train[norm.iloc[train].eq("country").to_numpy()][0]
    s = title.scores(np.array([row])).tocsr()
    best = s.indices[np.argsort(-s.data)[:50]]
    country_rows = train[norm.iloc[train].str.contains("country").to_numpy()]
    in_country = np.asarray(m[country_rows].sum(axis=0)).ravel() > 0
    assert in_country[best].mean() > 0.9


def test_the_nearest_titles_are_the_k_most_similar_training_playlists_ties_to_the_earlier():
    b = challenge_build()
    ds = dataset.load(mpd_dir(5), challenge_set.read(b.challenge_path, b.truth_path), progress=False)
    model = titles.TitleModel(k=30).fit(ds)
    queries = pd.Series(["country", "Chill vibes", "coutry roads", "", "qqqq", "summer 2017"])
    vectors = model.vectorizer.transform(titles.normalize_titles(queries))
    every = model.vectorizer.transform(model.titles.iloc[model.train_rows])  # one vector per training playlist
    sim = (vectors @ every.T).toarray()
    got = model.nearest(vectors).toarray()
    for q in range(len(queries)):
        order = np.lexsort((np.arange(sim.shape[1]), -sim[q]))  # most similar first, then the earlier playlist
        best = [i for i in order[:30] if sim[q, i] > 0]
        expected = np.zeros(sim.shape[1])
        expected[best] = sim[q, best]
        assert np.array_equal(got[q], expected), queries[q]
    assert (got[0] > 0).sum() == 30 and not got[3].any()


def test_normalize_titles():
    got = titles.normalize_titles(pd.Series(["Country 🤠!!", None, "  Rock  &  Roll "]))
    assert got.tolist() == ["country", "", "rock & roll"]


def _genre_titles() -> dict[str, int]:
    """The titles (lower-cased) that only one genre's playlists are given, with that genre."""
    owners: dict[str, set[int]] = {}
    for g, (_, names) in enumerate(synthetic.GENRES.values()):
        for name in names:
            owners.setdefault(name.lower(), set()).add(g)
    shared = {t.lower() for t in [*synthetic.GENERIC_TITLES, *synthetic.WORDS]}
    return {t: next(iter(gs)) for t, gs in owners.items() if len(gs) == 1 and t not in shared}


def test_the_known_genre_bound_hands_each_playlist_the_genre_its_title_was_drawn_from():
    b = challenge_build()
    ds = dataset.load(mpd_dir(5), challenge_set.read(b.challenge_path, b.truth_path), progress=False)
    truth = challenge_set.read_truth(b.truth_path).tracks
    genres = synthetic.artist_genres(mpd_dir(5))
    bound = titles.KnownGenre(genres, truth).fit(ds)
    # A playlist titled with one genre's own words was led by that genre; title-only challenge
    # playlists included, whose every track is held out.
    titled = ds.playlists["name"].str.lower().map(_genre_titles())
    known = titled.notna().to_numpy()
    assert known.sum() > 500 and known[ds.challenge_rows].sum() > 10
    assert (bound.lead[known] == titled[known].to_numpy()).all()
    # Each playlist is served the tracks that its genre's training playlists hold most.
    rows = ds.challenge_rows
    best = bound.recommend(rows, progress=False)[:, :20]
    track_genre = ds.tracks["artist_uri"].map(genres).to_numpy()
    assert (track_genre[best] == bound.lead[rows][:, None]).mean() > 0.8
    same = bound.lead[rows] == bound.lead[rows][0]
    first = same & (ds.matrix[rows].getnnz(axis=1) == 0)  # no seeds to leave out: the same list
    assert first.sum() > 1 and (best[first] == best[first][0]).all()


def test_the_known_genre_bound_refuses_genres_that_are_not_the_datas():
    b = challenge_build()
    ds = dataset.load(mpd_dir(5), challenge_set.read(b.challenge_path, b.truth_path), progress=False)
    truth = challenge_set.read_truth(b.truth_path).tracks
    other = synthetic.artist_genres(mpd_dir(1, seed=1))  # another seed draws other artists
    with pytest.raises(MPDInputError, match="artist_uri.*no genre|no genre.*artist_uri"):
        titles.KnownGenre(other, truth).fit(ds)


def test_the_known_genre_bound_names_a_held_out_playlist_the_dataset_lacks():
    b = challenge_build()
    ds = dataset.load(mpd_dir(5), challenge_set.read(b.challenge_path, b.truth_path), progress=False)
    truth = challenge_set.read_truth(b.truth_path).tracks
    stray = truth.iloc[:1].assign(pid=9_999_999)
    with pytest.raises(MPDInputError, match="9999999.*pid"):
        titles.KnownGenre(synthetic.artist_genres(mpd_dir(5)), pd.concat([truth, stray])).fit(ds)
