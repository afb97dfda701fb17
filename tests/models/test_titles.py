"""Title models: similar titles find the right tracks; normalisation drops noise."""

import numpy as np
import pandas as pd
from mpd_data import challenge_build, mpd_dir

from mpd_helpers.data import challenge_set, dataset
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
