"""The playlist x track utility matrix (1 where a track is in a playlist), and the order of playlists' tracks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp


def utility_matrix(entries: pd.DataFrame, n_playlists: int, n_tracks: int) -> sp.csr_matrix:
    """Binary CSR matrix of shape (n_playlists, n_tracks) from the entries' pid and track_index.

    Shown in the book: 01_representation.
    """
    return binary(entries["pid"].to_numpy(np.int64), entries["track_index"].to_numpy(np.int64), (n_playlists, n_tracks))


def binary(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """A float32 CSR matrix with 1 at each (row, col) pair, however often the pair occurs."""
    m = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=shape)
    m.sum_duplicates()
    m.data[:] = 1.0  # a track listed twice in a playlist is still one preference
    return m


def sparsity(m: sp.spmatrix) -> float:
    """Share of the matrix's cells that are zero."""
    return 1.0 - m.nnz / (m.shape[0] * m.shape[1])


def popularity(m: sp.spmatrix) -> np.ndarray:
    """Number of playlists each track occurs in."""
    return np.asarray((m > 0).sum(axis=0)).ravel()


def sample_per_row(m: sp.csr_matrix, k: int, seed: int = 0) -> sp.csr_matrix:
    """At most ``k`` stored entries of each row, drawn at random; a row that had $n > k$ is
    scaled by $n / k$, so that its sum, and any product with it, keeps its expectation.

    Shown in the book: 08_scale.
    """
    counts = np.diff(m.indptr)
    if counts.max(initial=0) <= k:
        return m
    row = np.repeat(np.arange(m.shape[0]), counts)
    order = np.lexsort((np.random.default_rng(seed).random(m.nnz), row))  # a random order within each row
    rank = np.empty(m.nnz, np.int64)
    rank[order] = np.arange(m.nnz) - m.indptr[row[order]]
    keep = rank < k
    data = (m.data * np.maximum(counts / k, 1.0).astype(m.dtype)[row])[keep]
    indptr = np.concatenate([[0], np.cumsum(np.minimum(counts, k))])
    return sp.csr_matrix((data, m.indices[keep], indptr), shape=m.shape)


def in_order(entries: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The entries' pid, pos and track_index (in their own integer types) by playlist, then
    position; sorted only when they are not in that order already (loaded slices are), so that
    no copy of the table is made."""
    pid, pos, track = (entries[c].to_numpy() for c in ("pid", "pos", "track_index"))
    if ((pid[1:] < pid[:-1]) | ((pid[1:] == pid[:-1]) & (pos[1:] < pos[:-1]))).any():
        order = np.lexsort((pos, pid))  # stable: equal positions keep their order
        pid, pos, track = pid[order], pos[order], track[order]
    return pid, pos, track


def transitions(entries: pd.DataFrame, n_tracks: int) -> sp.csr_matrix:
    """How often track j directly follows track i in a playlist (tracks x tracks counts)."""
    pid, pos, track = in_order(entries)
    adjacent = (pid[1:] == pid[:-1]) & (pos[1:] == pos[:-1] + 1)
    del pid, pos
    index = np.int32 if n_tracks < 2**31 else np.int64
    m = sp.coo_matrix(
        (
            np.ones(int(adjacent.sum()), np.float32),
            (track[:-1][adjacent].astype(index, copy=False), track[1:][adjacent].astype(index, copy=False)),
        ),
        shape=(n_tracks, n_tracks),
    ).tocsr()  # duplicates summed
    return m


@dataclass
class PlaylistOrder:
    """The order of each playlist's known tracks.

    ``last`` holds each playlist's last ``window`` tracks, the latest first (-1 where it has
    fewer); ``from_start`` says whether its known tracks are its first ones (a first-n
    challenge playlist, or one being continued) rather than a random sample of it.
    """

    last: np.ndarray  # rows x window track indices
    from_start: np.ndarray  # bool per row

    @classmethod
    def of(cls, entries: pd.DataFrame, n_playlists: int, window: int = 3) -> PlaylistOrder:
        """The order of every playlist row's entries."""
        pid, pos, track = in_order(entries)
        count = np.bincount(pid, minlength=n_playlists)
        end = np.cumsum(count)
        last = np.full((n_playlists, window), -1, np.int64)
        for back in range(window):
            has = count > back
            last[has, back] = track[end[has] - 1 - back]
        last_pos = np.full(n_playlists, -1)
        last_pos[count > 0] = pos[end[count > 0] - 1]
        return cls(last, (count > 0) & (last_pos == count - 1))

    def extend(self, tracks: Sequence[Sequence[int]]) -> None:
        """Add playlists given by their tracks in order, as the first tracks of each."""
        window = self.last.shape[1]
        new = np.full((len(tracks), window), -1, np.int64)
        for r, t in enumerate(tracks):
            tail = np.asarray(t, np.int64)[::-1][:window]
            new[r, : len(tail)] = tail
        self.last = np.vstack([self.last, new])
        self.from_start = np.concatenate([self.from_start, np.array([len(t) > 0 for t in tracks], bool)])

    def recent(self, rows: np.ndarray, n_tracks: int) -> sp.csr_matrix:
        """Rows x tracks: weight 1 on each playlist's last track, 1/2 on the one before, and so on."""
        last = self.last[np.asarray(rows)]
        r, back = np.nonzero(last >= 0)
        m = sp.csr_matrix(((1.0 / (1 + back)).astype(np.float32), (r, last[r, back])), shape=(len(last), n_tracks))
        m.sum_duplicates()
        return m
