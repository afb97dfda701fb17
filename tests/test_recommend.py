"""Ranking, seed removal and the popular fill, for every kind of recommender."""

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mpd_data import challenge_build, mpd_dir
from mpd_helpers import dataset, matrix, recommend


def test_top_n_ranks_removes_seeds_and_fills_with_popular_tracks():
    scores = sp.csr_matrix(np.array([[0.9, 0.0, 0.5, 0.7, 0.0, 0.0],
                                     [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]], np.float32))
    seeds = sp.csr_matrix(np.array([[0, 0, 0, 1, 0, 0],
                                    [0, 1, 0, 0, 0, 1]], np.float32))
    popular = np.array([3, 1, 5, 0, 4, 2])
    out = recommend.top_n(scores, seeds, popular, n=4)
    assert out[0].tolist() == [0, 2, 1, 5]  # 0.9, 0.5 (3 is a seed), then popular 1, 5
    assert out[1].tolist() == [3, 0, 4, 2]  # only popular tracks, seeds 1 and 5 skipped


def test_zero_scores_are_still_candidates_and_ties_break_by_index():
    scores = sp.coo_matrix((np.array([0.0, 0.0, 0.2]), (np.array([0, 0, 0]), np.array([4, 2, 1]))), shape=(1, 5)).tocsr()
    out = recommend.top_n(scores, sp.csr_matrix((1, 5)), np.arange(5), n=5)
    assert out[0].tolist() == [1, 2, 4, 0, 3]


def _setup():
    b = challenge_build()
    ds = dataset.load(mpd_dir(5), b.challenge_path, b.truth_path, progress=False)
    return ds, matrix.utility_matrix(ds.entries, ds.n_playlists, ds.n_tracks)


def _check_500(ds, m, rows, recs):
    assert recs.shape == (len(rows), 500)
    assert (recs >= 0).all()
    for i, row in enumerate(rows):
        assert len(set(recs[i])) == 500
        assert not set(recs[i]) & set(m[row].indices)


def test_every_category_gets_500_unique_non_seed_tracks():
    ds, m = _setup()
    rows = ds.challenge_rows
    title = recommend.TitleModel().fit(ds, m)
    labels = np.random.default_rng(0).integers(0, 20, ds.n_playlists)
    scorer = lambda u, i: ((u * 7 + i * 13) % 101) / 101.0  # any deterministic score
    for rec in (recommend.Popularity().fit(ds, m), title,
                recommend.NeuMFClusters(scorer, labels, recommend.TitleModel()).fit(ds, m)):
        _check_500(ds, m, rows, rec.recommend(rows, progress=False))


def test_title_model_finds_playlists_with_similar_titles():
    ds, m = _setup()
    title = recommend.TitleModel(k=20).fit(ds, m)
    train = np.flatnonzero(~ds.playlists["is_challenge"].to_numpy())
    norm = recommend.normalize_titles(ds.playlists["name"])
    row = train[norm.iloc[train].eq("country").to_numpy()][0]
    s = title.scores(np.array([row])).tocsr()
    best = s.indices[np.argsort(-s.data)[:50]]
    country_rows = train[norm.iloc[train].str.contains("country").to_numpy()]
    in_country = np.asarray(m[country_rows].sum(axis=0)).ravel() > 0
    assert in_country[best].mean() > 0.9
    assert recommend.normalize_titles(pd.Series(["Country 🤠!!", None])).tolist() == ["country", ""]


def test_neumf_clusters_serve_seedless_playlists_from_titles_and_rank_by_score():
    ds, m = _setup()
    rows = ds.challenge_rows
    labels = np.zeros(ds.n_playlists, int)  # one cluster: every training track is a candidate
    scorer = lambda u, i: (i == 5).astype(float)  # track 5 is the best for everyone
    rec = recommend.NeuMFClusters(scorer, labels, recommend.TitleModel()).fit(ds, m)
    served = rec.served_by(rows)
    seedless = m[rows].getnnz(axis=1) == 0
    assert (served[seedless] == "title tf-idf").all() and (served[~seedless] == "neumf").all()
    out = rec.recommend(rows, progress=False)
    has5 = np.asarray(m[rows][:, 5].todense()).ravel() > 0
    assert (out[~seedless & ~has5, 0] == 5).all()


def test_as_frame_uses_the_challenge_pids():
    ds, m = _setup()
    rows = ds.challenge_rows[:3]
    recs = recommend.Popularity().fit(ds, m).recommend(rows, n=5, progress=False)
    frame = recommend.as_frame(ds, rows, recs)
    assert frame["pid"].tolist() == [1_000_000] * 5 + [1_000_001] * 5 + [1_000_002] * 5
    assert frame["track_uri"].str.startswith("spotify:track:").all()


def test_dense_and_sparse_ranking_agree():
    rng = np.random.default_rng(0)
    dense = np.where(rng.random((30, 80)) < 0.3, rng.random((30, 80)), 0).astype(np.float32)
    seeds = sp.csr_matrix((rng.random((30, 80)) < 0.05).astype(np.float32))
    popular = rng.permutation(80)
    a = recommend.top_n(sp.csr_matrix(dense), seeds, popular, n=40)
    b = recommend.top_n_dense(dense, seeds, popular, n=40)
    assert (a == b).all()


def test_item_knn_recommends_co_occurring_tracks():
    from mpd_helpers import baselines
    ds, m = _setup()
    rows = ds.challenge_rows
    knn = baselines.ItemKNN(fallback=baselines.SameTitle()).fit(ds, m)
    recs = knn.recommend(rows, progress=False)
    _check_500(ds, m, rows, recs)
    row = rows[m[rows].getnnz(axis=1) == 5][0]
    seeds = m[row].indices
    train = m[np.flatnonzero(~ds.playlists["is_challenge"].to_numpy())]
    co = np.asarray(train[train[:, seeds].getnnz(axis=1) > 0].sum(axis=0)).ravel()
    first = recs[list(rows).index(row), :10]
    assert (co[first] > 0).all()  # the best candidates occur beside a seed


def test_top_k_dense_breaks_ties_by_index_also_at_the_kth_place():
    s = np.array([[0.5, 0.9, 0.5, 0.0, 0.5, 0.5, 0.2],
                  [0.0, 0.0, 0.3, 0.0, 0.0, 0.0, 0.0]], np.float32)
    idx, vals = recommend.top_k_dense(s, 3)
    assert idx[0].tolist() == [1, 0, 2]  # 0.9, then the first two of the four tied 0.5s
    assert idx[1].tolist() == [2, -1, -1]  # only positive scores are candidates
    assert vals[1].tolist() == [np.float32(0.3), 0.0, 0.0]


def test_top_k_dense_matches_a_full_stable_sort_on_many_ties():
    rng = np.random.default_rng(0)
    s = rng.integers(0, 6, size=(50, 3000)).astype(np.float32) / 5  # few distinct values: ties everywhere
    idx, _ = recommend.top_k_dense(s, 500)
    expected = np.argsort(-s, axis=1, kind="stable")[:, :500]  # stable: equal scores keep index order
    expected = np.where(np.take_along_axis(s, expected, axis=1) > 0, expected, -1)
    assert (idx == expected).all()
