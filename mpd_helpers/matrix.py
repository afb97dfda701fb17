"""The playlist x track utility matrix: 1 where a track is in a playlist."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp


def utility_matrix(entries: pd.DataFrame, n_playlists: int, n_tracks: int) -> sp.csr_matrix:
    """Binary CSR matrix of shape (n_playlists, n_tracks) from the entries' pid and track_index."""
    rows = entries["pid"].to_numpy(np.int64)
    cols = entries["track_index"].to_numpy(np.int64)
    m = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n_playlists, n_tracks))
    m.sum_duplicates()
    m.data[:] = 1.0  # a track listed twice in a playlist is still one preference
    return m


def sparsity(m: sp.spmatrix) -> float:
    """Share of the matrix's cells that are zero."""
    return 1.0 - m.nnz / (m.shape[0] * m.shape[1])


def popularity(m: sp.spmatrix) -> np.ndarray:
    """Number of playlists each track occurs in."""
    return np.asarray((m > 0).sum(axis=0)).ravel()
