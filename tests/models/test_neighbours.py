"""Item- and playlist-based neighbours, checked against the formulas computed densely."""

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mpd_helpers.data import dataset, matrix
from mpd_helpers.models import neighbours


def _with_matrix(dense: np.ndarray, challenge: list[bool], name: str = "x") -> dataset.Dataset:
    """A dataset whose utility matrix is ``dense`` (each playlist's tracks in column order)."""
    coo = sp.csr_matrix(dense).tocoo()
    pos = np.arange(coo.nnz) - np.searchsorted(coo.row, coo.row)
    return dataset.Dataset(
        pd.DataFrame({"pid": coo.row, "pos": pos, "track_index": coo.col}),
        pd.DataFrame(index=range(dense.shape[1])),
        pd.DataFrame({"is_challenge": challenge, "name": [name] * len(challenge)}),
    )


def _toy(n_train: int = 60, n_test: int = 8, n_tracks: int = 40, seed: int = 0):
    rng = np.random.default_rng(seed)
    dense = (rng.random((n_train + n_test, n_tracks)) < 0.15).astype(np.float32)
    ds = _with_matrix(dense, [False] * n_train + [True] * n_test)
    return ds, ds.matrix, dense[:n_train], np.arange(n_train, n_train + n_test)


def test_item_knn_scores_are_summed_cosine_similarities():
    ds, m, train, rows = _toy()
    knn = neighbours.ItemKNN().fit(ds)
    counts = np.maximum(train.sum(axis=0), 1)
    sim = (train.T @ train) / np.sqrt(np.outer(counts, counts))
    expected = m[rows].toarray() @ sim
    assert np.allclose(knn.scores(rows).toarray(), expected, rtol=1e-5, atol=1e-6)


def test_a_seed_reaches_at_most_reach_playlists_and_the_sample_stands_for_the_rest():
    ds, m, train, rows = _toy(n_train=400, n_test=8, seed=1)
    popular = train.sum(axis=0)
    assert popular.max() > 50  # some tracks are in more playlists than the reach below
    unbounded = neighbours.ItemKNN(reach=None).fit(ds)
    assert np.array_equal(
        neighbours.ItemKNN(reach=int(popular.max())).fit(ds).scores(rows).toarray(), unbounded.scores(rows).toarray()
    )  # nothing to cut: the same model
    bounded = neighbours.ItemKNN(reach=30).fit(ds)
    reached = bounded.train_t.getnnz(axis=1)
    assert reached.max() == 30 and np.array_equal(reached, np.minimum(popular, 30))
    # Each kept playlist of a track stands for n / reach of them: row sums are kept exactly.
    assert np.allclose(np.asarray(bounded.train_t.sum(axis=1)).ravel(), popular)
    assert np.array_equal(
        neighbours.ItemKNN(reach=30).fit(ds).scores(rows).toarray(), bounded.scores(rows).toarray()
    )  # the sample is drawn from the seed
    # Averaged over many samples, the bounded scores are the unbounded ones.
    mean = np.mean([neighbours.ItemKNN(reach=30, seed=s).fit(ds).scores(rows).toarray() for s in range(200)], axis=0)
    exact = unbounded.scores(rows).toarray()
    assert np.abs(mean - exact).max() < 0.05 * exact.max()
    # Playlist-kNN bounds the training playlists a seed reaches the same way.
    whole = neighbours.PlaylistKNN(k=10, reach=None).fit(ds)
    assert np.array_equal(
        neighbours.PlaylistKNN(k=10, reach=int(popular.max())).fit(ds).scores(rows).toarray(),
        whole.scores(rows).toarray(),
    )
    cut = neighbours.PlaylistKNN(k=10, reach=30).fit(ds)
    assert np.array_equal(cut.train_t.getnnz(axis=1), np.minimum(popular, 30))
    assert (cut.neighbours(rows).getnnz(axis=1) >= 10).all()


def test_sample_per_row_keeps_short_rows_and_draws_from_long_ones():
    m = sp.csr_matrix(np.array([[1, 2, 3, 4, 5, 6], [0, 7, 0, 8, 0, 0], [0, 0, 0, 0, 0, 0]], np.float32))
    assert matrix.sample_per_row(m, 6) is m
    cut = matrix.sample_per_row(m, 2, seed=3)
    assert np.array_equal(cut.getnnz(axis=1), [2, 2, 0])
    assert np.array_equal(cut[1].toarray(), m[1].toarray())  # a row within the bound is kept as it is
    kept = cut[0].toarray()[0]
    assert set(np.flatnonzero(kept)) <= set(range(6)) and np.allclose(kept[kept > 0], 3 * m[0].toarray()[0][kept > 0])


def test_playlist_knn_weights_the_k_nearest_playlists_by_powered_cosine():
    ds, m, train, rows = _toy()
    knn = neighbours.PlaylistKNN(k=5, power=2.0).fit(ds)
    seeds = m[rows].toarray()
    length = np.maximum(train.sum(axis=1), 1)
    sim = (seeds @ train.T) / np.sqrt(np.maximum(seeds.sum(axis=1), 1)[:, None] * length[None, :])
    sim = sim**2
    cut = -np.sort(-sim, axis=1)[:, 4:5]
    sim[sim < cut] = 0.0  # the 5 nearest, and any tied with the 5th
    assert np.allclose(knn.scores(rows).toarray(), sim @ train, rtol=1e-5, atol=1e-7)


def test_playlist_knn_prefers_the_closest_playlist():
    # playlists 0-2 train, 3 is the challenge row sharing 3 tracks with playlist 0, 1 with playlist 1
    dense = np.array(
        [[1, 1, 1, 1, 0, 0, 0], [1, 0, 0, 0, 1, 1, 0], [0, 0, 0, 0, 0, 1, 1], [1, 1, 1, 0, 0, 0, 0]], np.float32
    )
    ds = _with_matrix(dense, [False, False, False, True], name="a")
    knn = neighbours.PlaylistKNN(k=2).fit(ds)
    s = knn.scores(np.array([3])).toarray()[0]
    assert s[3] > s[4] > 0 and s[6] == 0  # playlist 0's track beats playlist 1's; 2 is no neighbour
    assert knn.recommend(np.array([3]), n=4, progress=False)[0, 0] == 3


def test_item_knn_weights_popularity_and_playlist_length_as_stated():
    ds, m, train, rows = _toy()
    knn = neighbours.ItemKNN(damping=0.8, length_weight=True).fit(ds)
    counts = np.maximum(train.sum(axis=0), 1)
    weight = 1 / np.log2(1 + np.maximum(train.sum(axis=1), 1))
    sim = (train.T * weight) @ train / np.sqrt(counts)[:, None] / counts[None, :] ** 0.8
    assert np.allclose(knn.scores(rows).toarray(), m[rows].toarray() @ sim, rtol=1e-4, atol=1e-7)


def test_rp3beta_is_a_damped_three_step_walk_and_pruning_keeps_the_strongest_steps():
    ds, m, train, rows = _toy()
    counts = np.maximum(train.sum(axis=0), 1)
    length = np.maximum(train.sum(axis=1), 1)
    walk = (train.T / counts[:, None]) @ (train / length[:, None]) / counts[None, :] ** 0.6
    seeds = m[rows].toarray()
    full = neighbours.RP3beta(beta=0.6).fit(ds)
    assert np.allclose(full.scores(rows).toarray(), seeds @ walk, rtol=1e-4, atol=1e-8)
    pruned = neighbours.RP3beta(beta=0.6, prune=5, block=7).fit(ds)
    kept = np.where(walk >= -np.sort(-walk, axis=1)[:, 4:5], walk, 0)  # (no ties in random data)
    assert (pruned.similar.getnnz(axis=1) <= 5).all()
    assert np.allclose(pruned.scores(rows).toarray(), seeds @ kept, rtol=1e-4, atol=1e-8)


def test_pruned_item_knn_sums_each_seeds_strongest_neighbours_whatever_the_blocks():
    ds, m, train, rows = _toy()
    counts = np.maximum(train.sum(axis=0), 1)
    sim = train.T @ train / np.sqrt(counts)[:, None] / np.sqrt(counts)[None, :]
    kept = np.where(sim >= -np.sort(-sim, axis=1)[:, 3:4], sim, 0)  # each track's 4 best (ties kept)
    one_block = neighbours.ItemKNN(prune=4).fit(ds)
    many = neighbours.ItemKNN(prune=4, block=1).fit(ds)  # one track a block
    assert (one_block.similar.getnnz(axis=1) <= 4).all()
    assert (one_block.similar != many.similar).nnz == 0
    similar = one_block.similar.toarray()
    # each row keeps min(4, its neighbours) entries, all among its 4 best (ties included), at their similarity
    assert np.array_equal(one_block.similar.getnnz(axis=1), np.minimum(4, (sim > 0).sum(axis=1)))
    assert np.all((similar == 0) | (kept > 0))
    assert np.allclose(similar, np.where(similar > 0, sim, 0), rtol=1e-5, atol=1e-7)
    assert np.allclose(one_block.scores(rows).toarray(), m[rows].toarray() @ similar, rtol=1e-5, atol=1e-7)


def _ordered(lists: list[list[int]], challenge: list[bool], n_tracks: int, positions=None):
    """A dataset of playlists given by their tracks in order (positions 0, 1, ... unless given)."""
    pid = np.repeat(np.arange(len(lists)), [len(t) for t in lists])
    pos = np.concatenate(
        [np.arange(len(t)) if positions is None or positions[r] is None else positions[r] for r, t in enumerate(lists)]
    ).astype(int)
    entries = pd.DataFrame({"pid": pid, "pos": pos, "track_index": np.concatenate(lists).astype(int)})
    ds = dataset.Dataset(
        entries,
        pd.DataFrame(index=range(n_tracks)),
        pd.DataFrame({"is_challenge": challenge, "name": ["x"] * len(lists)}),
    )
    return ds, ds.matrix


def test_successors_share_the_last_tracks_followers_weighted_by_recency():
    # training: 1 -> 2 twice, 1 -> 3 once, 0 -> 4; the challenge playlists end ... 0, 1
    train = [[1, 2], [1, 2], [5, 1, 3], [0, 4]]
    ds, m = _ordered(train + [[6, 0, 1], [1, 0]], [False] * 4 + [True] * 2, 8)
    model = neighbours.Successors(window=2).fit(ds)
    s = model.scores(np.array([4, 5])).toarray()
    assert np.allclose(s[0], [0, 0, 2 / 3, 1 / 3, 1 / 2, 0, 0, 0])  # after 1 (weight 1), after 0 (weight 1/2)
    assert np.allclose(s[1], [0, 0, 1 / 3, 1 / 6, 1, 0, 0, 0])  # after 0 (1), after 1 (1/2)
    # a track followed only within challenge playlists (6 -> 0) is not learnt from
    assert model.follow[6].nnz == 0
    # a new playlist continues from its own last tracks, given in order
    new = model.add_playlists([[0, 1], [1, 0]], pd.Series(["a", "b"]))
    assert np.allclose(model.scores(new).toarray(), s)


def test_playlist_order_knows_the_last_tracks_and_whether_seeds_start_the_playlist():
    lists = [[3, 4, 5], [7], [2, 9], []]
    ds, _ = _ordered(lists, [False, True, True, True], 10, positions=[None, None, [4, 10], None])
    order = matrix.PlaylistOrder.of(ds.entries, 4, window=2)
    assert order.last.tolist() == [[5, 4], [7, -1], [9, 2], [-1, -1]]
    assert order.from_start.tolist() == [True, True, False, False]  # random seeds (4, 10) do not start it
    order.extend([[1, 2, 3], []])
    assert order.last[4:].tolist() == [[3, 2], [-1, -1]] and order.from_start[4:].tolist() == [True, False]
    assert np.allclose(order.recent(np.array([0, 2]), 10).toarray()[:, [2, 4, 5, 9]], [[0, 0.5, 1, 0], [0.5, 0, 0, 1]])
    # only adjacent positions make a transition
    assert matrix.transitions(ds.entries, 10).toarray()[[3, 4, 2], [4, 5, 9]].tolist() == [1, 1, 0]


def test_item_knn_fits_any_items_the_playlists_hold():
    items = sp.random(300, 40, density=0.1, random_state=0, format="csr", dtype=np.float32)
    items.data[:] = 1.0  # playlists x artists, say
    knn = neighbours.ItemKNN(prune=10).fit_items(items)
    n = np.maximum(items.getnnz(axis=0), 1)
    cosine = (items.T @ items).toarray() / np.sqrt(np.outer(n, n))
    similar = knn.similar.toarray()
    for row in range(40):
        kept = similar[row] > 0
        assert 0 < kept.sum() <= 10
        np.testing.assert_allclose(similar[row, kept], cosine[row, kept], rtol=1e-5)
        assert similar[row, kept].min() >= np.sort(cosine[row])[-kept.sum()] - 1e-6  # the best ones
