"""Beyond the write-up: a blend of candidate sources, each scaled to its best, summed with weights.

The challenge's best teams worked in two stages: a recall-oriented candidate generator,
then a model that orders the candidates. A :class:`Blend` is such a first stage: item-based
and playlist-based neighbours, iALS and, for playlists with few or no seeds, the title
model; it may also re-order its own best candidates by one similarity (NeuMF's, a dot product).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mpd_helpers.data.dataset import Dataset
from mpd_helpers.models.base import Recommender
from mpd_helpers.models.ranking import place_rows, scale_rows, top_k_per_row


class Blend(Recommender):
    """Several recommenders' scores, each scaled to a row maximum of 1, summed with weights.

    ``weights(n_seeds)`` gives the weight of every component for playlists with that many
    seeds, so that, say, the title model counts most when there are no seeds. With a
    ``reranker`` (NeuMF's scorer), the ``rerank_depth`` best candidates of each seeded
    playlist get ``rerank_weight`` times their NeuMF probability added; with
    ``rerank_weight=None`` the re-ranker alone orders them (ahead of the rest).

    Shown in the book: 07_beyond.
    """

    needs_seeds = False

    def __init__(
        self,
        components: Sequence[Recommender],
        weights: Callable[[np.ndarray], np.ndarray],
        reranker: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
        rerank_weight: float = 0.3,
        rerank_depth: int = 1000,
        name: str = "blend",
    ):
        self.components, self.weights = list(components), weights
        self.reranker, self.rerank_weight = reranker, rerank_weight
        self.rerank_depth, self.name = rerank_depth, name

    def fit(self, ds: Dataset) -> Blend:
        """Fit every component, except one already fitted on this very matrix (a shared model)."""
        super().fit(ds)
        for component in self.components:
            if getattr(component, "matrix", None) is not self.matrix:
                component.fit(ds)
        return self

    def _parts(self) -> list[Recommender]:
        """Every component."""
        return self.components

    def _add_rows(self, titles, tracks) -> None:
        """A re-ranker (NeuMF) knows only the playlists it was trained with."""
        if self.reranker is not None:
            raise NotImplementedError(f"{self.name} re-ranks with a model of trained playlists only")

    def scores(self, rows: np.ndarray) -> sp.csr_matrix:
        """The weighted sum of row-scaled component scores, then the re-ranker's term."""
        return self.combine(rows, {})

    def combine(self, rows: np.ndarray, known: dict[int, sp.csr_matrix]) -> sp.csr_matrix:
        """:meth:`scores`, taking a component's candidates for all ``rows`` from ``known``
        (keyed by ``id(component)``) where the caller has them already."""
        rows = np.asarray(rows)
        n_seeds = self.matrix[rows].getnnz(axis=1)
        w = np.asarray(self.weights(n_seeds), np.float32)  # rows x components
        total = sp.csr_matrix((len(rows), self.matrix.shape[1]), dtype=np.float32)
        for j, component in enumerate(self.components):
            used = np.flatnonzero(w[:, j])
            if len(used):
                given = known.get(id(component))
                part = scale_rows(given[used] if given is not None else component.candidates(rows[used]))
                total = total + place_rows(sp.diags(w[used, j]) @ part, used, len(rows))
        total = total.tocsr()
        if self.reranker is not None:
            total = total + self._rerank(rows, total, n_seeds)
        return total.tocsr()

    def _rerank(self, rows: np.ndarray, total: sp.csr_matrix, n_seeds: np.ndarray) -> sp.csr_matrix:
        """The re-ranker's weighted probability for each seeded playlist's best candidates."""
        best = top_k_per_row(total, self.rerank_depth).tocoo()
        keep = n_seeds[best.row] > 0
        r, c = best.row[keep], best.col[keep]
        p = np.asarray(self.reranker(rows[r].astype(np.int32), c.astype(np.int32)), np.float64).ravel()
        if self.rerank_weight is not None:
            return sp.csr_matrix(((self.rerank_weight * p).astype(np.float32), (r, c)), shape=total.shape)
        # the re-ranker's order alone: each row's scores mapped to [0, 1], above everything else
        low, high = np.full(total.shape[0], np.inf), np.full(total.shape[0], -np.inf)
        np.minimum.at(low, r, p)
        np.maximum.at(high, r, p)
        spread = np.where(high > low, high - low, 1.0)
        top = total.max(axis=1).toarray().ravel()
        value = top[r] + 1.0 + (p - low[r]) / spread[r] - np.asarray(total[r, c]).ravel()
        return sp.csr_matrix((value.astype(np.float32), (r, c)), shape=total.shape)


@dataclass(frozen=True)
class SeedWeights:
    """Component weights by the number of seeds: the seed-based components, then the title model.

    No seeds: the title model alone. Up to ``title_until`` seeds: all of them. More: the
    seed-based components (``seeded``, in the blend's order) without the title model.
    """

    title_until: int = 1
    seeded: tuple[float, ...] = (1.0, 1.0)
    title: float = 1.0

    def __call__(self, n_seeds: np.ndarray) -> np.ndarray:
        """rows x (len(seeded) + 1) weights."""
        w = np.tile(np.array([*self.seeded, self.title], np.float32), (len(n_seeds), 1))
        w[n_seeds == 0, :-1] = 0.0
        w[n_seeds > self.title_until, -1] = 0.0
        return w


def seed_weights(title_until: int = 1, seeded: Sequence[float] = (1.0, 1.0), title: float = 1.0) -> SeedWeights:
    """The weights of :class:`SeedWeights` (a picklable function of the number of seeds)."""
    return SeedWeights(title_until, tuple(seeded), title)
