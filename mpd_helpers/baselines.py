"""Honest baselines: item-based collaborative filtering and a same-title model.

Popularity lives in :mod:`mpd_helpers.recommend` (it is the fill every recommender uses).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from mpd_helpers.dataset import Dataset
from mpd_helpers.recommend import Recommender, normalize_titles


class ItemKNN(Recommender):
    """Item-based CF: a candidate scores its summed cosine similarity to the playlist's seeds.

    With $X$ the training utility matrix and $n_j$ the number of playlists holding track
    $j$, the similarity is $\\mathrm{sim}(i, j) = (X^\\top X)_{ij} / \\sqrt{n_i n_j}$ and a
    playlist with seeds $S$ scores track $j$ by $\\sum_{i \\in S} \\mathrm{sim}(i, j)$. The
    item x item matrix is never formed: the scores of a batch are
    $((S D^{-1/2}) X^\\top) X D^{-1/2}$, two sparse products. Seedless playlists are served
    by ``fallback``.
    """

    name = "item-kNN"

    def __init__(self, fallback: Recommender | None = None):
        self.fallback = fallback

    def fit(self, ds: Dataset, matrix: sp.csr_matrix) -> "ItemKNN":
        """Keep the training rows and the tracks' popularity normalisers."""
        super().fit(ds, matrix)
        self.train = self.matrix[~ds.playlists["is_challenge"].to_numpy()].tocsr()
        self.norm = 1.0 / np.sqrt(np.maximum(self.popularity, 1)).astype(np.float32)
        self.train_t = self.train.T.tocsr()
        if self.fallback is not None:
            self.fallback.fit(ds, matrix)
        return self

    def scores(self, rows: np.ndarray) -> np.ndarray:
        """Summed seed similarities (dense; 0 = not a candidate); the fallback's for seedless rows."""
        seeds = self.matrix[rows] @ sp.diags(self.norm)
        weights = (seeds @ self.train_t).toarray()  # rows x training playlists
        out = (self.train_t @ weights.T).T * self.norm
        has_seeds = self.matrix[rows].getnnz(axis=1) > 0
        if self.fallback is not None and not has_seeds.all():
            out[~has_seeds] = self.fallback.scores(rows[~has_seeds]).toarray()
        return out


class SameTitle(Recommender):
    """Tracks of training playlists whose normalised title is the same, by how many hold them."""

    name = "same title"

    def fit(self, ds: Dataset, matrix: sp.csr_matrix) -> "SameTitle":
        """Group training playlists by normalised title."""
        super().fit(ds, matrix)
        titles = normalize_titles(ds.playlists["name"])
        train = ~ds.playlists["is_challenge"].to_numpy()
        codes, self.vocab = titles.factorize()
        self.codes = codes
        groups = sp.csr_matrix((np.ones(train.sum(), np.float32), (codes[train], np.flatnonzero(train))),
                               shape=(len(self.vocab), len(codes)))
        self.title_tracks = (groups @ self.matrix).tocsr()
        return self

    def scores(self, rows: np.ndarray) -> sp.csr_matrix:
        """Counts of the playlists with the same title that hold each track."""
        return self.title_tracks[self.codes[rows]].tocsr()
