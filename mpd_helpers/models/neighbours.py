"""Neighbourhood models: item-based and playlist-based collaborative filtering, in sparse products.

Neither ever forms a dense array: a batch of playlists touches only the training playlists
that share a seed with it, and only the tracks of those playlists become candidates.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

from mpd_helpers import parallel
from mpd_helpers.data.dataset import Dataset
from mpd_helpers.data.matrix import PlaylistOrder, sample_per_row, transitions
from mpd_helpers.models.base import Recommender
from mpd_helpers.models.ranking import top_k_per_row


class ItemKNN(Recommender):
    """Item-based CF: a candidate scores its summed cosine similarity to the playlist's seeds.

    With $X$ the training utility matrix and $n_j$ the number of playlists holding track
    $j$, the similarity is $\\mathrm{sim}(i, j) = (X^\\top X)_{ij} / \\sqrt{n_i n_j}$ and a
    playlist with seeds $S$ scores track $j$ by $\\sum_{i \\in S} \\mathrm{sim}(i, j)$. The
    item x item matrix is never formed: the scores of a batch are
    $((S D^{-1/2}) X^\\top) X D^{-1/2}$, two sparse products. ``damping`` is the exponent of
    the candidate's popularity (0.5: cosine; less favours popular tracks, more damps them);
    ``length_weight`` weights each training playlist by $1 / \\log_2(1 + |X_v|)$.

    A seed held by more than ``reach`` training playlists reaches a random ``reach`` of them
    (drawn once, with ``seed``), each weighted $n_i / \\text{reach}$ to stand for the rest:
    the similarity is then an unbiased estimate, and a playlist costs at most
    $\\text{reach} \\times$ (its seeds) $\\times$ (the longest playlist) products, however
    large the data. ``reach=None`` keeps every playlist.

    ``prune=k`` precomputes each track's ``k`` most similar tracks (a sparse track x track
    list, built in blocks of at most ``block`` products on every core): a playlist then
    costs (its seeds) x ``k`` products, however large the data, at the price of the
    similarities below each seed's ``k``-th.

    Shown in the book: 06_evaluation.
    """

    name = "item-kNN"

    def __init__(
        self,
        fallback: Recommender | None = None,
        damping: float = 0.5,
        length_weight: bool = False,
        reach: int | None = 1000,
        seed: int = 0,
        prune: int | None = None,
        block: int = 20_000_000,
    ):
        self.fallback, self.damping, self.length_weight = fallback, damping, length_weight
        self.reach, self.seed, self.prune, self.block = reach, seed, prune, block

    def fit(self, ds: Dataset) -> ItemKNN:
        """Keep the training rows and the weights of seeds, playlists and candidates."""
        super().fit(ds)
        return self._weigh()

    def fit_items(self, train: sp.csr_matrix) -> ItemKNN:
        """Fit on any training playlists x items matrix (artists, albums), to score items from seed items.

        Only :meth:`from_seeds` and :meth:`walk` serve such a model: it knows no playlists of its own.
        """
        self.train = self.matrix = train.tocsr()
        self.popularity = self.train.getnnz(axis=0).astype(np.float32)
        return self._weigh()

    def _weigh(self) -> ItemKNN:
        """The weights of seeds, playlists and candidates, and the pruned neighbour lists if asked."""
        count = np.maximum(self.popularity, 1).astype(np.float32)
        length = np.maximum(self.train.getnnz(axis=1), 1).astype(np.float32)
        seed, playlist, candidate = self._weights(count, length)
        self.seed_w, self.candidate_w = _diag(seed), _diag(candidate)
        self.train_t = (self.train.T @ _diag(playlist)).tocsr()
        if self.reach is not None:
            self.train_t = sample_per_row(self.train_t, self.reach, self.seed)
        self.similar = self._most_similar() if self.prune is not None else None
        return self

    def _most_similar(self) -> sp.csr_matrix:
        """Each track's ``prune`` best-scored tracks as a seed of its own (tracks x tracks), in blocks.

        A block holds consecutive tracks whose products (the lengths of the training
        playlists each one reaches) add up to at most ``block``; blocks run on every core
        (SciPy's sparse products release the GIL), and each row is computed alone, so the
        list is the same whatever the blocks and the cores.

        Shown in the book: 08_scale.
        """
        n = self.matrix.shape[1]
        length = self.train.getnnz(axis=1).astype(np.int64)
        reached = np.repeat(np.arange(n), np.diff(self.train_t.indptr))
        work = np.bincount(reached, weights=length[self.train_t.indices], minlength=n)
        edges = [0]
        total = np.cumsum(work)
        while edges[-1] < n:  # each block: as many tracks as fit in ``block`` products, at least one
            start = edges[-1]
            stop = int(np.searchsorted(total, (total[start - 1] if start else 0) + self.block, side="right"))
            edges.append(min(n, max(stop, start + 1)))
        identity = sp.identity(n, np.float32, format="csr")

        def best(bounds: tuple[int, int]) -> sp.csr_matrix:
            return top_k_per_row(self.walk(identity[bounds[0] : bounds[1]]), self.prune)

        with ThreadPoolExecutor(parallel.count(len(edges) - 1)) as threads:
            blocks = list(threads.map(best, zip(edges[:-1], edges[1:])))
        return _stack(blocks, n)

    def _weights(self, count: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per seed track, per training playlist and per candidate track."""
        playlist = (
            _float32(1.0 / np.log2(1.0 + length.astype(np.float64))) if self.length_weight else np.ones_like(length)
        )
        return _inverse_power(count, 0.5), playlist, _inverse_power(count, self.damping)

    def scores(self, rows: np.ndarray) -> sp.csr_matrix:
        """Summed similarities of each candidate to the playlist's seeds."""
        return self.from_seeds(self.matrix[rows])

    def from_seeds(self, seeds: sp.csr_matrix) -> sp.csr_matrix:
        """The scores of any sets of seed tracks (rows x tracks, weighted): from the pruned list if any."""
        if self.similar is not None:
            return (seeds @ self.similar).tocsr()
        return self.walk(seeds)

    def walk(self, seeds: sp.csr_matrix) -> sp.csr_matrix:
        """The exact scores of any sets of seed tracks: two sparse products through the training playlists."""
        shared = (seeds @ self.seed_w) @ self.train_t  # rows x training playlists that hold a seed
        return (shared @ self.train @ self.candidate_w).tocsr()


class RP3beta(ItemKNN):
    """RP3beta (Paudel et al., 2017): a three-step random walk seed -> playlist -> track.

    A walk leaves a seed $i$ for one of its $n_i$ playlists, then that playlist $v$ for one
    of its $|X_v|$ tracks; a candidate's arrival probability is divided by $n_j^\\beta$ to
    damp popular tracks. Unpruned, it is computed as item-kNN is, from the seeds;
    ``prune`` keeps only each track's ``prune`` strongest successors, precomputed.

    Shown in the book: 07_beyond.
    """

    name = "RP3beta"

    def __init__(
        self,
        beta: float = 0.6,
        prune: int | None = None,
        fallback: Recommender | None = None,
        block: int = 20_000_000,
    ):
        super().__init__(fallback=fallback, prune=prune, block=block)
        self.beta = beta

    def _weights(self, count: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, ...]:
        """Transition probabilities out of a seed and out of a playlist; the damping."""
        return 1.0 / count, 1.0 / length, _inverse_power(count, self.beta)


class PlaylistKNN(Recommender):
    """Playlist-based CF: tracks of the ``k`` training playlists most similar to the seeds.

    A training playlist $u$ is weighted by its cosine similarity to the seed set $S$,
    $|S \\cap X_u| / \\sqrt{|S| |X_u|}$, raised to ``power`` (which favours the closest
    neighbours); a track scores the summed weights of the neighbours that hold it. As in
    :class:`ItemKNN`, a seed held by more than ``reach`` training playlists reaches a random
    ``reach`` of them, each counted $n_i / \\text{reach}$ times, so that a batch compares
    its playlists with a bounded number of training playlists however large the data.

    Shown in the book: 06_evaluation.
    """

    name = "playlist-kNN"

    def __init__(
        self,
        k: int = 150,
        power: float = 2.0,
        fallback: Recommender | None = None,
        reach: int | None = 1000,
        seed: int = 0,
    ):
        self.k, self.power, self.fallback, self.reach, self.seed = k, power, fallback, reach, seed

    def fit(self, ds: Dataset) -> PlaylistKNN:
        """Keep the training rows and their lengths."""
        super().fit(ds)
        self.train_t = self.train.T.tocsr()
        if self.reach is not None:
            self.train_t = sample_per_row(self.train_t, self.reach, self.seed)
        self.length = np.maximum(self.train.getnnz(axis=1), 1).astype(np.float64)
        return self

    def neighbours(self, rows: np.ndarray) -> sp.csr_matrix:
        """Weights of each playlist's ``k`` nearest training playlists (rows x training rows)."""
        seeds = self.matrix[rows]
        overlap = (seeds @ self.train_t).tocoo()
        n_seeds = np.maximum(seeds.getnnz(axis=1), 1).astype(np.float64)
        cosine = overlap.data / np.sqrt(n_seeds[overlap.row] * self.length[overlap.col])
        sim = sp.csr_matrix((cosine**self.power, (overlap.row, overlap.col)), shape=overlap.shape)
        return top_k_per_row(sim, self.k, ties=True)

    def scores(self, rows: np.ndarray) -> sp.csr_matrix:
        """Summed weights of the nearest training playlists that hold each track."""
        return (self.neighbours(rows) @ self.train).tocsr()


class Successors(Recommender):
    """A next-track model: the tracks that directly follow the playlist's last tracks elsewhere.

    With $T_{ij}$ the number of training playlists in which track $j$ directly follows track
    $i$, and the playlist's last ``window`` known tracks $s_1$ (the latest), $s_2$, ..., a
    candidate scores $\\sum_d T_{s_d j} / (d \\sum_k T_{s_d k})$: the share of each one's
    successors that it is, weighted by recency. Playlists are ordered, and a first-n challenge
    playlist continues from its last seed.

    Shown in the book: 07_beyond.
    """

    name = "successors"

    def __init__(self, window: int = 3, fallback: Recommender | None = None):
        self.window, self.fallback = window, fallback

    def fit(self, ds: Dataset) -> Successors:
        """Count the training playlists' transitions; note each playlist's last tracks."""
        super().fit(ds)
        training = ds.entries[~ds.playlists["is_challenge"].to_numpy()[ds.entries["pid"].to_numpy()]]
        counts = transitions(training, self.matrix.shape[1])
        self.follow = (_diag(1.0 / np.maximum(counts.sum(axis=1).A1, 1)) @ counts).tocsr()
        self.order = PlaylistOrder.of(ds.entries, self.matrix.shape[0], self.window)
        return self

    def _add_rows(self, titles, tracks: list[np.ndarray]) -> None:
        """Note the new playlists' last tracks."""
        self.order.extend(tracks)

    def scores(self, rows: np.ndarray) -> sp.csr_matrix:
        """The recency-weighted shares of the last tracks' successors."""
        return (self.order.recent(rows, self.matrix.shape[1]) @ self.follow).tocsr()


def _stack(blocks: list[sp.csr_matrix], n_cols: int) -> sp.csr_matrix:
    """The blocks' rows one under the other, each block freed once copied (the result's pages are
    only touched as they are filled, so the peak is the result and one block, not twice the result)."""
    nnz = sum(b.nnz for b in blocks)
    index = np.int32 if nnz < 2**31 and n_cols < 2**31 else np.int64
    data, indices = np.empty(nnz, np.float32), np.empty(nnz, index)
    indptr, at, row = np.zeros(sum(b.shape[0] for b in blocks) + 1, index), 0, 0
    while blocks:
        block = blocks.pop(0)
        data[at : at + block.nnz], indices[at : at + block.nnz] = block.data, block.indices
        indptr[row + 1 : row + 1 + block.shape[0]] = block.indptr[1:] + at
        at, row = at + block.nnz, row + block.shape[0]
    return sp.csr_matrix((data, indices, indptr), shape=(row, n_cols))


def _diag(values: np.ndarray) -> sp.dia_matrix:
    """A float32 diagonal matrix."""
    return sp.diags(values.astype(np.float32))


def _inverse_power(count: np.ndarray, power: float) -> np.ndarray:
    """``count ** -power`` in float32 (the square root's own rounding for 0.5, as cosine uses)."""
    return 1.0 / np.sqrt(count) if power == 0.5 else _float32(count.astype(np.float64) ** -power)


def _float32(values: np.ndarray) -> np.ndarray:
    """Rounded to float32 from float64, so that the few ULPs by which NumPy's CPU-specific
    kernels of ``log`` and ``pow`` differ vanish in the rounding (as good as always)."""
    return np.asarray(values, np.float64).astype(np.float32)
