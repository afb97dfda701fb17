"""Beyond the write-up: a blend of candidate sources, and a model that re-orders its best candidates.

The challenge's best teams worked in two stages: a recall-oriented candidate generator,
then a model that orders the candidates. Here the first stage blends item-based and
playlist-based neighbours (and, for playlists with few or no seeds, the title model); the
second adds NeuMF's probability for the best candidates.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import scipy.sparse as sp

from mpd_helpers.dataset import Dataset
from mpd_helpers.ranking import place_rows, scale_rows, top_k_per_row
from mpd_helpers.recommend import Recommender


class Blend(Recommender):
    """Several recommenders' scores, each scaled to a row maximum of 1, summed with weights.

    ``weights(n_seeds)`` gives the weight of every component for playlists with that many
    seeds, so that, say, the title model counts most when there are no seeds. With a
    ``reranker`` (NeuMF's scorer), the ``rerank_depth`` best candidates of each seeded
    playlist get ``rerank_weight`` times their NeuMF probability added.
    """

    needs_seeds = False

    def __init__(self, components: Sequence[Recommender],
                 weights: Callable[[np.ndarray], np.ndarray],
                 reranker: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
                 rerank_weight: float = 0.3, rerank_depth: int = 1000, name: str = "blend"):
        self.components, self.weights = list(components), weights
        self.reranker, self.rerank_weight = reranker, rerank_weight
        self.rerank_depth, self.name = rerank_depth, name

    def fit(self, ds: Dataset, matrix: sp.csr_matrix) -> "Blend":
        """Fit every component."""
        super().fit(ds, matrix)
        for component in self.components:
            component.fit(ds, matrix)
        return self

    def _parts(self) -> list[Recommender]:
        """Every component."""
        return self.components

    def _add_rows(self, titles) -> None:
        """A re-ranker (NeuMF) knows only the playlists it was trained with."""
        if self.reranker is not None:
            raise NotImplementedError(f"{self.name} re-ranks with a model of trained playlists only")

    def scores(self, rows: np.ndarray) -> sp.csr_matrix:
        """The weighted sum of row-scaled component scores, then the re-ranker's term."""
        rows = np.asarray(rows)
        n_seeds = self.matrix[rows].getnnz(axis=1)
        w = np.asarray(self.weights(n_seeds), np.float32)  # rows x components
        total = sp.csr_matrix((len(rows), self.matrix.shape[1]), dtype=np.float32)
        for j, component in enumerate(self.components):
            used = np.flatnonzero(w[:, j])
            if len(used):
                part = scale_rows(component.candidates(rows[used]))
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
        p = np.asarray(self.reranker(rows[r].astype(np.int32), c.astype(np.int32)), np.float32)
        return sp.csr_matrix((self.rerank_weight * p.ravel(), (r, c)), shape=total.shape)


def seed_weights(title_until: int = 1, item: float = 1.0, playlist: float = 1.0,
                 title: float = 1.0) -> Callable[[np.ndarray], np.ndarray]:
    """Component weights (item-kNN, playlist-kNN, title) by the number of seeds.

    No seeds: the title model alone. Up to ``title_until`` seeds: all three. More: the two
    neighbour models.
    """

    def weights(n_seeds: np.ndarray) -> np.ndarray:
        """rows x 3 weights."""
        w = np.tile(np.array([item, playlist, title], np.float32), (len(n_seeds), 1))
        w[n_seeds == 0, :2] = 0.0
        w[n_seeds > title_until, 2] = 0.0
        return w

    return weights
