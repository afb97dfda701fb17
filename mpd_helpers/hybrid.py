"""Beyond the write-up: neighbour candidates, a blend of scores, and NeuMF as a re-ranker.

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
from mpd_helpers.recommend import Recommender, top_k_dense


class PlaylistKNN(Recommender):
    """Playlist-based CF: tracks of the ``k`` training playlists most similar to the seeds.

    A training playlist $u$ is weighted by its cosine similarity to the seed set $S$,
    $|S \\cap X_u| / \\sqrt{|S| |X_u|}$, raised to ``power`` (which favours the closest
    neighbours); a track scores the summed weights of the neighbours that hold it.
    """

    name = "playlist-kNN"

    def __init__(self, k: int = 150, power: float = 2.0):
        self.k, self.power = k, power

    def fit(self, ds: Dataset, matrix: sp.csr_matrix) -> "PlaylistKNN":
        """Keep the training rows and their lengths."""
        super().fit(ds, matrix)
        self.train = self.matrix[~ds.playlists["is_challenge"].to_numpy()].tocsr()
        self.train_t = self.train.T.tocsr()
        self.length = np.maximum(self.train.getnnz(axis=1), 1).astype(np.float32)
        return self

    def scores(self, rows: np.ndarray) -> np.ndarray:
        """Dense scores: summed weights of the nearest training playlists (0 = no candidate)."""
        seeds = self.matrix[rows]
        overlap = (seeds @ self.train_t).toarray()
        sim = overlap / np.sqrt(np.maximum(seeds.getnnz(axis=1), 1)[:, None] * self.length[None, :])
        sim = sim ** self.power
        if self.k < sim.shape[1]:
            cut = np.partition(sim, -self.k, axis=1)[:, -self.k][:, None]
            sim[sim < cut] = 0.0
        return np.asarray((self.train_t @ sim.T).T, dtype=np.float32)


class Blend(Recommender):
    """Several recommenders' scores, each scaled to a row maximum of 1, summed with weights.

    ``weights(n_seeds)`` gives the weight of every component for playlists with that many
    seeds, so that, say, the title model counts most when there are no seeds. With a
    ``reranker`` (NeuMF's scorer), the ``rerank_depth`` best candidates of each playlist
    get ``rerank_weight`` times their NeuMF probability added.
    """

    def __init__(self, components: Sequence[Recommender], weights: Callable[[np.ndarray], np.ndarray],
                 reranker: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
                 rerank_weight: float = 0.3, rerank_depth: int = 1000, name: str = "blend"):
        self.components, self.weights = list(components), weights
        self.reranker, self.rerank_weight, self.rerank_depth = reranker, rerank_weight, rerank_depth
        self.name = name

    def fit(self, ds: Dataset, matrix: sp.csr_matrix) -> "Blend":
        """Fit every component."""
        super().fit(ds, matrix)
        for c in self.components:
            c.fit(ds, matrix)
        return self

    def scores(self, rows: np.ndarray) -> np.ndarray:
        """The weighted sum of row-scaled component scores, then the NeuMF term."""
        rows = np.asarray(rows)
        n_seeds = self.matrix[rows].getnnz(axis=1)
        w = self.weights(n_seeds)  # rows x components
        total = np.zeros((len(rows), self.matrix.shape[1]), np.float32)
        for j, c in enumerate(self.components):
            if not w[:, j].any():
                continue
            s = c.scores(rows)
            s = s.toarray() if sp.issparse(s) else np.asarray(s, np.float32)
            top = s.max(axis=1, keepdims=True)
            total += w[:, j:j + 1] * np.divide(s, top, out=np.zeros_like(s), where=top > 0)
        if self.reranker is not None:
            self._rerank(rows, total, n_seeds)
        return total

    def _rerank(self, rows: np.ndarray, total: np.ndarray, n_seeds: np.ndarray) -> None:
        """Add NeuMF's probability to each seeded playlist's best candidates, in place."""
        best, _ = top_k_dense(total, self.rerank_depth)
        r, c = np.nonzero((best >= 0) & (n_seeds > 0)[:, None])
        items = best[r, c]
        total[r, items] += self.rerank_weight * self.reranker(rows[r].astype(np.int32), items.astype(np.int32))


def seed_weights(title_until: int = 1, item: float = 1.0, playlist: float = 1.0, title: float = 1.0
                 ) -> Callable[[np.ndarray], np.ndarray]:
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
