"""Playlist neighbours, the blend, NeuMF re-ranking, and k-means clusters."""

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mpd_data import challenge_build, mpd_dir
from mpd_helpers import baselines, clustering, dataset, hybrid, matrix, recommend


def _setup():
    b = challenge_build()
    ds = dataset.load(mpd_dir(5), b.challenge_path, b.truth_path, progress=False)
    return ds, matrix.utility_matrix(ds.entries, ds.n_playlists, ds.n_tracks)


def test_playlist_knn_prefers_the_closest_playlist():
    # playlists 0-2 train, 3 is the "challenge" row sharing 3 tracks with playlist 0, 1 with playlist 1
    m = sp.csr_matrix(np.array([[1, 1, 1, 1, 0, 0, 0], [1, 0, 0, 0, 1, 1, 0],
                                [0, 0, 0, 0, 0, 1, 1], [1, 1, 1, 0, 0, 0, 0]], np.float32))
    ds = dataset.Dataset(pd.DataFrame(), pd.DataFrame(index=range(7)),
                         pd.DataFrame({"is_challenge": [False, False, False, True], "name": ["a"] * 4}))
    knn = hybrid.PlaylistKNN(k=2).fit(ds, m)
    s = knn.scores(np.array([3]))[0]
    assert s[3] > s[4] > 0 and s[6] == 0  # playlist 0's track beats playlist 1's; playlist 2 is no neighbour
    assert knn.recommend(np.array([3]), n=4, progress=False)[0, 0] == 3


def test_blend_serves_seedless_playlists_by_title_and_reranker_reorders():
    ds, m = _setup()
    rows = ds.challenge_rows
    seedless = m[rows].getnnz(axis=1) == 0
    weights = hybrid.seed_weights(title_until=1)
    w = weights(np.array([0, 1, 5]))
    assert w.tolist() == [[0, 0, 1], [1, 1, 1], [1, 1, 0]]
    plain = hybrid.Blend([baselines.ItemKNN(), hybrid.PlaylistKNN(), recommend.TitleModel()], weights).fit(ds, m)
    title_only = recommend.TitleModel().fit(ds, m)
    a = plain.recommend(rows[seedless][:5], n=50, progress=False)
    b = title_only.recommend(rows[seedless][:5], n=50, progress=False)
    overlap = np.mean([len(set(x) & set(y)) / 50 for x, y in zip(a, b)])
    assert overlap > 0.95  # the same tracks (order may differ where scaled float32 scores tie)
    favourite = lambda u, i: (i % 97 == 0).astype(np.float32)  # a re-ranker that loves some tracks
    reranked = hybrid.Blend([baselines.ItemKNN(), hybrid.PlaylistKNN(), recommend.TitleModel()], weights,
                            reranker=favourite, rerank_weight=5.0).fit(ds, m)
    seeded = rows[~seedless][:20]
    top = reranked.recommend(seeded, n=500, progress=False)
    base = plain.recommend(seeded, n=500, progress=False)
    assert (top[:, 0] % 97 == 0).mean() > (base[:, 0] % 97 == 0).mean()
    for i, row in enumerate(seeded):
        assert len(set(top[i])) == 500 and not set(top[i]) & set(m[row].indices)


def test_kmeans_is_seeded_and_clusters_are_described():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(5, 8)) * 10
    points = np.repeat(centres, 40, axis=0) + rng.normal(size=(200, 8))
    a = clustering.fit_kmeans(points, n_clusters=5, seed=0).labels_
    b = clustering.fit_kmeans(points, n_clusters=5, seed=0).labels_
    assert (a == b).all()
    truth = np.repeat(np.arange(5), 40)
    pairs = set(zip(a.tolist(), truth.tolist()))
    assert len(pairs) == 5 and len({p[0] for p in pairs}) == 5  # each planted group is one cluster
    assert clustering.project_2d(points).shape == (200, 2)


def test_cluster_description_and_title_purity():
    ds, m = _setup()
    titles = recommend.normalize_titles(ds.playlists["name"])
    by_title = pd.factorize(titles)[0]  # clusters that are exactly the titles
    assert clustering.title_purity(ds, by_title) == 1.0
    shuffled = np.random.default_rng(0).permutation(by_title)
    assert clustering.title_purity(ds, shuffled) < 0.5
    table = clustering.describe(ds, by_title % 7)
    assert list(table.columns) == ["playlists", "top titles", "top artists"]
    assert table["playlists"].sum() == ds.n_playlists
