"""Ranking shared by every recommender: the top n without seeds, the popular fill, top k per row.

Everything works on whole sparse batches (playlists x tracks, only the candidates stored), so
no step ever holds a dense playlists x tracks array. Ties are broken by the smaller column
index everywhere, so a ranking never depends on the sorting kernel NumPy picks for the CPU.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def top_n(scores: sp.csr_matrix, seeds: sp.csr_matrix, popular: np.ndarray, n: int = 500) -> np.ndarray:
    """Per row: the ``n`` best-scored candidates that are not seeds, then popular tracks.

    ``scores`` holds a score for each candidate (row, track); absent entries are not
    candidates. ``popular`` lists track indices, most popular first. Returns an int32 array
    of shape (rows, n) of distinct tracks (-1 only if even the popular list runs out).

    Shown in the book: 04_application.
    """
    n_rows, n_tracks = scores.shape
    coo = at_least_kth(scores.tocsr(), n + seeds.getnnz(axis=1)).tocoo()  # a seed may be among the best
    row, col, val = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data
    keep = ~np.isin(row * n_tracks + col, _keys(seeds))
    row, col, val = row[keep], col[keep], val[keep]
    order = np.lexsort((col, -val, row))  # by row, best score first; ties by track index
    row, col = row[order], col[order]
    rank = _rank_within_rows(row)
    take = rank < n
    out = np.full((n_rows, n), -1, np.int32)
    out[row[take], rank[take]] = col[take]
    have = np.bincount(row[take], minlength=n_rows)
    short = np.flatnonzero(have < n)
    if len(short):
        fill_popular(out, have, short, seeds, popular, n_tracks)
    return out


def fill_popular(
    out: np.ndarray, have: np.ndarray, short: np.ndarray, seeds: sp.csr_matrix, popular: np.ndarray, n_tracks: int
) -> None:
    """Top up the rows ``short`` of ``out`` with popular tracks they lack, in popularity order.

    ``have[r]`` is how many places row ``r`` has filled; a popular track is skipped where it
    is a seed of the row or already recommended to it.

    Shown in the book: 04_application.
    """
    n = out.shape[1]
    longest = int(seeds[short].getnnz(axis=1).max(initial=0))
    pool = popular[: 2 * n + longest].astype(np.int64)
    grid = np.broadcast_to(pool, (len(short), len(pool)))
    keys = short[:, None].astype(np.int64) * n_tracks + grid
    chosen = out[short].astype(np.int64)
    chosen_keys = np.where(chosen >= 0, short[:, None] * n_tracks + chosen, -1)
    usable = ~np.isin(keys, _keys(seeds)) & ~np.isin(keys, chosen_keys)
    order = np.cumsum(usable, axis=1) - 1 + have[short][:, None]
    put = usable & (order < n)
    r, c = np.nonzero(put)
    out[short[r], order[r, c]] = grid[r, c]


def top_k_per_row(m: sp.csr_matrix, k: int, ties: bool = False) -> sp.csr_matrix:
    """Only the ``k`` largest stored entries of each row (ties to the smaller column).

    With ``ties=True``, every entry equal to a row's k-th value is kept too.
    """
    coo, order = _best_first(at_least_kth(m.tocsr(), np.full(m.shape[0], k)))
    row, val = coo.row[order], coo.data[order]
    rank = _rank_within_rows(row)
    keep = rank < k
    if ties:
        kth = np.full(m.shape[0], -np.inf, dtype=val.dtype)
        at_k = rank == k - 1
        kth[row[at_k]] = val[at_k]
        keep |= val >= kth[row]
    keep = order[keep]
    return sp.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=m.shape)


def at_least_kth(m: sp.csr_matrix, k: np.ndarray) -> sp.csr_matrix:
    """Each row's stored entries that are at least its ``k[row]``-th largest (all of a shorter row).

    The k best of a row, however its ties are broken, are among them, so sorting only these
    gives the same top k as sorting the whole row; a row of a million candidates costs one
    partition, not a sort.
    """
    length, k = np.diff(m.indptr), np.maximum(k, 1)
    long = np.flatnonzero(length > k)
    if not len(long):
        return m
    kth = np.full(m.shape[0], -np.inf, dtype=m.dtype)
    for r in long:  # the k-th largest value: the same whichever partition kernel finds it
        values = m.data[m.indptr[r] : m.indptr[r + 1]]
        kth[r] = np.partition(values, len(values) - k[r])[len(values) - k[r]]
    row = np.repeat(np.arange(m.shape[0]), length)
    keep = m.data >= kth[row]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(row[keep], minlength=m.shape[0]))])
    return sp.csr_matrix((m.data[keep], m.indices[keep], indptr), shape=m.shape)


def rank_per_row(m: sp.csr_matrix) -> sp.csr_matrix:
    """1 at each row's best stored entry, 2 at the next, ... (ties to the smaller column)."""
    coo, order = _best_first(m)
    row = coo.row[order]
    rank = (_rank_within_rows(row) + 1).astype(np.float32)
    return sp.csr_matrix((rank, (row, coo.col[order])), shape=m.shape)


def values_at(m: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The entries of ``m`` at (row, col) pairs as float32, 0 where nothing is stored."""
    coo = m.tocoo()
    keys = coo.row.astype(np.int64) * m.shape[1] + coo.col
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], np.append(coo.data[order], 0)
    wanted = rows.astype(np.int64) * m.shape[1] + cols
    at = np.searchsorted(keys, wanted)
    found = at < len(keys)
    found[found] = keys[at[found]] == wanted[found]
    return np.where(found, values[np.where(found, at, len(keys))], 0).astype(np.float32)


def scale_rows(m: sp.csr_matrix) -> sp.csr_matrix:
    """Each row divided by its largest entry, so that its best candidate scores 1."""
    m = m.tocsr()
    top = m.max(axis=1).toarray().ravel()
    inverse = np.divide(1.0, top, out=np.zeros_like(top, dtype=np.float32), where=top > 0)
    return (sp.diags(inverse.astype(np.float32)) @ m).tocsr()


def place_rows(m: sp.csr_matrix, where: np.ndarray, n_rows: int) -> sp.csr_matrix:
    """The rows of ``m`` put at rows ``where`` of an ``n_rows``-row matrix (the rest empty)."""
    put = sp.csr_matrix((np.ones(len(where), np.float32), (where, np.arange(len(where)))), shape=(n_rows, len(where)))
    return (put @ m).tocsr()


def _best_first(m: sp.spmatrix) -> tuple[sp.coo_matrix, np.ndarray]:
    """The stored entries, and their order by row, best value first, ties to the smaller column."""
    coo = m.tocoo()
    return coo, np.lexsort((coo.col, -coo.data, coo.row))


def _rank_within_rows(row: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each run of equal values of a sorted row array."""
    return np.arange(len(row)) - np.searchsorted(row, row)


def _keys(m: sp.csr_matrix) -> np.ndarray:
    """Sorted row * n_cols + col keys of a sparse matrix's stored entries."""
    coo = m.tocoo()
    return np.sort(coo.row.astype(np.int64) * m.shape[1] + coo.col)
