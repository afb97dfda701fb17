"""Matrix factorisation for implicit feedback: iALS (WRMF) from the ``implicit`` library.

The challenge's winner drew its candidates from weighted matrix factorisation
(Hu, Koren and Volinsky's implicit ALS): a playlist-track pair that is present gets
confidence $1 + \\alpha$, an absent one confidence 1 towards 0, and alternating least squares
fits playlist and track factors to that. Here it is one more recommender: a playlist's
candidates are its ``k`` best-scored tracks, found by the library in batches.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from mpd_helpers.dataset import Dataset
from mpd_helpers.recommend import Recommender


class ALS(Recommender):
    """Implicit ALS over every playlist's tracks (training playlists and challenge seeds).

    Seeded playlists are factorised with the rest, as NeuMF's are; a playlist added later
    (:meth:`add_playlists`) gets its factors solved from its seeds at scoring time.
    """

    name = "iALS"

    def __init__(self, factors: int = 128, regularization: float = 0.05, alpha: float = 20.0,
                 iterations: int = 15, k: int = 1000, seed: int = 0,
                 fallback: Recommender | None = None):
        self.factors, self.regularization, self.alpha = factors, regularization, alpha
        self.iterations, self.k, self.seed, self.fallback = iterations, k, seed, fallback

    def fit(self, ds: Dataset, matrix: sp.csr_matrix) -> "ALS":
        """Factorise the utility matrix (one thread, seeded: the same factors on every run)."""
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        super().fit(ds, matrix)
        with threadpool_limits(1, "blas"):
            self.model = AlternatingLeastSquares(
                factors=self.factors, regularization=self.regularization, alpha=self.alpha,
                iterations=self.iterations, random_state=self.seed, num_threads=1)
            self.model.fit(self.matrix, show_progress=False)
        self.n_fitted = self.matrix.shape[0]
        return self

    def scores(self, rows: np.ndarray) -> sp.csr_matrix:
        """Each playlist's ``k`` best tracks by factor score, seeds excluded."""
        rows = np.asarray(rows)
        out = []
        for part in (rows[rows < self.n_fitted], rows[rows >= self.n_fitted]):
            if len(part) == 0:
                continue
            new = bool(part[0] >= self.n_fitted)
            ids, values = self.model.recommend(part if not new else np.arange(len(part)),
                                               self.matrix[part], N=self.k,
                                               filter_already_liked_items=True, recalculate_user=new)
            out.append((ids, values))
        ids = np.vstack([i for i, _ in out]) if out else np.empty((0, self.k), int)
        values = np.vstack([v for _, v in out]) if out else np.empty((0, self.k), np.float32)
        order = np.r_[np.flatnonzero(rows < self.n_fitted), np.flatnonzero(rows >= self.n_fitted)]
        valid = ids >= 0
        # each row shifted to positive scores, so that the blend's row scaling keeps their order
        lowest = np.where(valid, values, np.inf).min(axis=1, keepdims=True)
        values = values - lowest + 1e-6
        r = np.repeat(order, ids.shape[1]).reshape(ids.shape)
        return sp.csr_matrix((values[valid], (r[valid], ids[valid])), shape=(len(rows), self.matrix.shape[1]))

    def item_factors(self) -> np.ndarray:
        """The tracks' factors."""
        return np.asarray(self.model.item_factors)


class DotScorer:
    """A playlist-track score that is the dot product of two factor tables (GMF's, iALS's)."""

    def __init__(self, users: np.ndarray, items: np.ndarray):
        self.users, self.items = np.asarray(users, np.float32), np.asarray(items, np.float32)

    def __call__(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """One dot product per (playlist row, track index) pair."""
        return np.einsum("ij,ij->i", self.users[users], self.items[items])
