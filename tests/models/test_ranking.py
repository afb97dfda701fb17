"""Ranking shared by every recommender: top n without seeds, the popular fill, top k per row."""

import numpy as np
import scipy.sparse as sp

from mpd_helpers.models import ranking


def test_top_n_ranks_removes_seeds_and_fills_with_popular_tracks():
    scores = sp.csr_matrix(np.array([[0.9, 0.0, 0.5, 0.7, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]], np.float32))
    seeds = sp.csr_matrix(np.array([[0, 0, 0, 1, 0, 0], [0, 1, 0, 0, 0, 1]], np.float32))
    popular = np.array([3, 1, 5, 0, 4, 2])
    out = ranking.top_n(scores, seeds, popular, n=4)
    assert out[0].tolist() == [0, 2, 1, 5]  # 0.9, 0.5 (3 is a seed), then popular 1, 5
    assert out[1].tolist() == [3, 0, 4, 2]  # only popular tracks, seeds 1 and 5 skipped


def test_zero_scores_are_still_candidates_and_ties_break_by_index():
    scores = sp.coo_matrix(
        (np.array([0.0, 0.0, 0.2]), (np.array([0, 0, 0]), np.array([4, 2, 1]))), shape=(1, 5)
    ).tocsr()
    out = ranking.top_n(scores, sp.csr_matrix((1, 5)), np.arange(5), n=5)
    assert out[0].tolist() == [1, 2, 4, 0, 3]


def test_a_short_popular_list_leaves_minus_one():
    out = ranking.top_n(sp.csr_matrix((1, 3)), sp.csr_matrix(np.array([[1, 0, 0]])), np.arange(3), n=3)
    assert out[0].tolist() == [1, 2, -1]


def test_top_k_per_row_keeps_the_largest_with_ties_to_the_smaller_column():
    m = sp.csr_matrix(np.array([[0.1, 0.5, 0.5, 0.3, 0.5], [0.0, 0.25, 0.0, 0.0, 0.0]], np.float32))
    kept = ranking.top_k_per_row(m, 2).toarray()
    assert kept[0].tolist() == [0, 0.5, 0.5, 0, 0] and kept[1].tolist() == [0, 0.25, 0, 0, 0]
    with_ties = ranking.top_k_per_row(m, 2, ties=True).toarray()
    assert with_ties[0].tolist() == [0, 0.5, 0.5, 0, 0.5]
    assert ranking.top_k_per_row(m, 4, ties=True).nnz == 5  # fewer than k entries: all kept


def test_scale_rows_and_place_rows():
    m = sp.csr_matrix(np.array([[2.0, 4.0], [0.0, 0.0], [0.5, 0.25]], np.float32))
    assert ranking.scale_rows(m).toarray().tolist() == [[0.5, 1.0], [0, 0], [1.0, 0.5]]
    placed = ranking.place_rows(m[[0, 2]], np.array([3, 1]), 4).toarray()
    assert placed.tolist() == [[0, 0], [0.5, 0.25], [0, 0], [2.0, 4.0]]


def test_rank_per_row_and_values_at_agree_with_the_dense_matrix():
    dense = np.array([[0.0, 0.3, 0.3, 0.9], [0.0, 0.0, 0.0, 0.0], [0.5, 0.0, 0.1, 0.0]], np.float32)
    m = sp.csr_matrix(dense)
    assert ranking.rank_per_row(m).toarray().tolist() == [[0, 2, 3, 1], [0, 0, 0, 0], [1, 0, 2, 0]]
    r, c = np.nonzero(np.ones_like(dense))
    assert ranking.values_at(m, r, c).tolist() == dense[r, c].tolist()
    assert ranking.values_at(sp.csr_matrix((2, 2)), np.array([0, 1]), np.array([1, 0])).tolist() == [0, 0]


def test_only_the_entries_at_least_each_rows_kth_are_sorted_and_the_result_is_the_full_sorts():
    rng = np.random.default_rng(4)
    dense = np.round(rng.random((30, 400)), 1) * (rng.random((30, 400)) < 0.5)  # many ties
    dense[3] = 0  # an empty row
    m = sp.csr_matrix(dense)
    k = rng.integers(1, 60, 30)
    cut = ranking.at_least_kth(m, k)
    for r in range(30):
        row = dense[r][dense[r] != 0]
        kept = cut[r].data
        if len(row) <= k[r]:
            assert len(kept) == len(row)
        else:
            kth = np.sort(row)[::-1][k[r] - 1]
            assert np.array_equal(np.sort(kept), np.sort(row[row >= kth]))
    seeds = sp.csr_matrix((rng.random((30, 400)) < 0.05).astype(np.float32))
    popular = np.arange(400)[::-1]
    for n in (1, 20, 300):
        got = ranking.top_n(m, seeds, popular, n)
        for r in range(30):  # the full sort: best score first, ties to the smaller track, no seeds
            cand = [c for c in np.lexsort((np.arange(400), -dense[r])) if dense[r, c] != 0 and not seeds[r, c]]
            assert list(got[r][: min(n, len(cand))]) == cand[:n]
