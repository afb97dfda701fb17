"""Neighbourhood models: item-based and playlist-based collaborative filtering, in sparse products.

Neither ever forms a dense array: a batch of playlists touches only the training playlists
that share a seed with it, and only the tracks of those playlists become candidates.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from mpd_helpers.dataset import Dataset
from mpd_helpers.ranking import top_k_per_row
from mpd_helpers.recommend import Recommender


class ItemKNN(Recommender):
    """Item-based CF: a candidate scores its summed cosine similarity to the playlist's seeds.

    With $X$ the training utility matrix and $n_j$ the number of playlists holding track
    $j$, the similarity is $\\mathrm{sim}(i, j) = (X^\\top X)_{ij} / \\sqrt{n_i n_j}$ and a
    playlist with seeds $S$ scores track $j$ by $\\sum_{i \\in S} \\mathrm{sim}(i, j)$. The
    item x item matrix is never formed: the scores of a batch are
    $((S D^{-1/2}) X^\\top) X D^{-1/2}$, two sparse products.
    """

    name = "item-kNN"

    def __init__(self, fallback: Recommender | None = None):
        self.fallback = fallback

    def fit(self, ds: Dataset, matrix: sp.csr_matrix) -> "ItemKNN":
        """Keep the training rows and the tracks' popularity normalisers."""
        super().fit(ds, matrix)
        norm = 1.0 / np.sqrt(np.maximum(self.popularity, 1))
        self.norm = sp.diags(norm.astype(np.float32))
        self.train_t = self.train.T.tocsr()
        return self

    def scores(self, rows: np.ndarray) -> sp.csr_matrix:
        """Summed cosine similarities of each candidate to the playlist's seeds."""
        seeds = self.matrix[rows] @ self.norm
        shared = seeds @ self.train_t  # rows x training playlists that hold a seed
        return (shared @ self.train @ self.norm).tocsr()


class PlaylistKNN(Recommender):
    """Playlist-based CF: tracks of the ``k`` training playlists most similar to the seeds.

    A training playlist $u$ is weighted by its cosine similarity to the seed set $S$,
    $|S \\cap X_u| / \\sqrt{|S| |X_u|}$, raised to ``power`` (which favours the closest
    neighbours); a track scores the summed weights of the neighbours that hold it.
    """

    name = "playlist-kNN"

    def __init__(self, k: int = 150, power: float = 2.0, fallback: Recommender | None = None):
        self.k, self.power, self.fallback = k, power, fallback

    def fit(self, ds: Dataset, matrix: sp.csr_matrix) -> "PlaylistKNN":
        """Keep the training rows and their lengths."""
        super().fit(ds, matrix)
        self.train_t = self.train.T.tocsr()
        self.length = np.maximum(self.train.getnnz(axis=1), 1).astype(np.float64)
        return self

    def neighbours(self, rows: np.ndarray) -> sp.csr_matrix:
        """Weights of each playlist's ``k`` nearest training playlists (rows x training rows)."""
        seeds = self.matrix[rows]
        overlap = (seeds @ self.train_t).tocoo()
        n_seeds = np.maximum(seeds.getnnz(axis=1), 1).astype(np.float64)
        cosine = overlap.data / np.sqrt(n_seeds[overlap.row] * self.length[overlap.col])
        sim = sp.csr_matrix((cosine ** self.power, (overlap.row, overlap.col)), shape=overlap.shape)
        return top_k_per_row(sim, self.k, ties=True)

    def scores(self, rows: np.ndarray) -> sp.csr_matrix:
        """Summed weights of the nearest training playlists that hold each track."""
        return (self.neighbours(rows) @ self.train).tocsr()
