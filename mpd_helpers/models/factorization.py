"""Matrix factorisation for implicit feedback: iALS (WRMF) from the ``implicit`` library.

The challenge's winner drew its candidates from weighted matrix factorisation
(Hu, Koren and Volinsky's implicit ALS): a playlist-track pair that is present gets
confidence $1 + \\alpha$, an absent one confidence 1 towards 0, and alternating least squares
fits playlist and track factors to that. Here it is one more recommender: a playlist's
candidates are its ``k`` best-scored tracks, found by the library in batches.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from mpd_helpers.data.dataset import Dataset
from mpd_helpers.models.base import Recommender

with warnings.catch_warnings():
    # implicit draws its progress bars with tqdm.auto, which warns when it is imported in a
    # notebook without ipywidgets ("IProgress not found"); the book never shows those bars.
    warnings.simplefilter("ignore")
    from implicit.cpu.als import AlternatingLeastSquares


class ALS(Recommender):
    """Implicit ALS over every playlist's tracks (training playlists and challenge seeds).

    Seeded playlists are factorised with the rest, as NeuMF's are; a playlist added later
    (:meth:`add_playlists`) gets its factors solved from its seeds at scoring time.

    Shown in the book: 07_beyond.
    """

    name = "iALS"

    def __init__(
        self,
        factors: int = 128,
        regularization: float = 0.05,
        alpha: float = 20.0,
        iterations: int = 15,
        k: int = 1000,
        seed: int = 0,
        fallback: Recommender | None = None,
        margin: int = 50,
        query_batch: int = 50,
    ):
        self.factors, self.regularization, self.alpha = factors, regularization, alpha
        self.iterations, self.k, self.seed, self.fallback, self.margin = iterations, k, seed, fallback, margin
        self.query_batch = query_batch

    def fit(self, ds: Dataset) -> ALS:
        """Factorise the utility matrix on every core, seeded.

        The library solves each playlist's and each track's factors on its own, in any
        thread, from products that BLAS computes on one thread: the factors are the same
        bits whatever the number of cores.
        """
        super().fit(ds)
        with threadpool_limits(1, "blas"):
            self.model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=self.seed,
                num_threads=0,
            )
            start = time.perf_counter()
            self.model.fit(self.matrix, show_progress=False)
            self.seconds_per_iteration = (time.perf_counter() - start) / max(self.iterations, 1)
        self.n_fitted = self.matrix.shape[0]
        return self

    def scores(self, rows: np.ndarray) -> sp.csr_matrix:
        """Each playlist's ``k`` best tracks by factor score, seeds excluded.

        The library finds a few more than ``k`` candidates with its own float32 products,
        whose last bits depend on the batch (BLAS picks its kernels by the matrices' shapes);
        each candidate is then scored again alone, in float64 rounded to float32, so that a
        playlist's scores and order never depend on the other playlists of its batch.
        """
        rows = np.asarray(rows)
        new = rows >= self.n_fitted
        users = np.empty((len(rows), self.model.factors), np.float32)
        users[~new] = self.model.user_factors[rows[~new]]
        if new.any():  # solved from the seeds, one playlist at a time
            users[new] = self.model.recalculate_user(np.arange(new.sum()), self.matrix[rows[new]])
        wanted = min(self.k + self.margin, self.matrix.shape[1])
        ids = np.full((len(rows), wanted), -1, np.int64)
        for group in (np.flatnonzero(~new), np.flatnonzero(new)):
            # the library scores every track for each playlist of a call: a few at a time bound its memory
            for start in range(0, len(group), self.query_batch):
                part = group[start : start + self.query_batch]
                found, _ = self.model.recommend(
                    np.arange(len(part)) if new[part[0]] else rows[part],
                    self.matrix[rows[part]],
                    N=wanted,
                    filter_already_liked_items=True,
                    recalculate_user=bool(new[part[0]]),
                )
                ids[part, : found.shape[1]] = found
        valid = ids >= 0
        exact = np.full(ids.shape, -np.inf)
        r, c = np.nonzero(valid)
        exact[r, c] = np.einsum("ij,ij->i", users[r], self.item_factors()[ids[r, c]], dtype=np.float64)
        exact = exact.astype(np.float32)
        best = np.lexsort((ids, -exact))[:, : self.k]  # highest first, ties to the lower track index
        ids, values = np.take_along_axis(ids, best, 1), np.take_along_axis(exact, best, 1).astype(np.float64)
        valid = ids >= 0
        # each row shifted to positive scores, so that the blend's row scaling keeps their order
        lowest = np.where(valid, values, np.inf).min(axis=1, keepdims=True)
        values = (values - lowest + 1e-6).astype(np.float32)
        r = np.repeat(np.arange(len(rows)), ids.shape[1]).reshape(ids.shape)
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
