"""Applying a model: candidates, scores, the top 500 without seeds, and the popular fill.

Every recommender here has one face: ``fit(dataset, matrix)``, then ``recommend(rows, n)``
returns, for each playlist row, ``n`` distinct track indices in rank order, none of them a
seed of that playlist, topped up with the most popular tracks when its own candidates run
short (as the write-up does). A recommender only has to say which tracks are candidates
for a batch of playlists and how they score (:meth:`Recommender.scores`, a sparse matrix);
ranking, seed removal and filling are shared and work on whole batches at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from tqdm import tqdm

from mpd_helpers.dataset import Dataset


def top_n(scores: sp.csr_matrix, seeds: sp.csr_matrix, popular: np.ndarray, n: int = 500) -> np.ndarray:
    """Per row: the ``n`` best-scored candidates that are not seeds, then popular tracks.

    ``scores`` holds a score for each candidate (row, track); absent entries are not
    candidates. ``popular`` lists track indices, most popular first. Returns an int32 array
    of shape (rows, n) of distinct tracks (-1 only if even the popular list runs out).
    """
    n_rows, n_tracks = scores.shape
    coo = scores.tocoo()
    row, col, val = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data
    seed_keys = _keys(seeds)
    keep = ~np.isin(row * n_tracks + col, seed_keys)
    row, col, val = row[keep], col[keep], val[keep]
    order = np.lexsort((col, -val, row))  # by row, best score first; ties by track index
    row, col = row[order], col[order]
    rank = np.arange(len(row)) - np.searchsorted(row, row)
    take = rank < n
    out = np.full((n_rows, n), -1, np.int32)
    out[row[take], rank[take]] = col[take]
    have = np.bincount(row[take], minlength=n_rows)
    short = np.flatnonzero(have < n)
    if len(short):
        _fill(out, have, short, seeds, popular, n_tracks)
    return out


def top_n_dense(scores: np.ndarray, seeds: sp.csr_matrix, popular: np.ndarray, n: int = 500) -> np.ndarray:
    """:func:`top_n` for a dense score array, where the candidates are the positive scores."""
    s = np.array(scores, dtype=np.float32)
    seed = seeds.tocoo()
    s[seed.row, seed.col] = 0.0
    out, _ = top_k_dense(s, n)
    have = (out >= 0).sum(axis=1)
    short = np.flatnonzero(have < n)
    if len(short):
        _fill(out, have, short, seeds, popular, s.shape[1])
    return out


def top_k_dense(s: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the ``k`` largest positive entries: (indices, scores), best first, -1 padded.

    Ties are broken by the smaller track index, also at the k-th place. The choice among
    tied entries never depends on the sorting kernel NumPy picks for the CPU: only the k-th
    value comes from ``np.partition`` (a value, which every kernel agrees on), and the
    entries are then selected by comparison with it.
    """
    n_rows, n_cols = s.shape
    k = min(k, n_cols)
    if k < n_cols:
        kth = np.maximum(-np.partition(-s, k - 1, axis=1)[:, k - 1], 0)[:, None]
    else:
        kth = np.zeros((n_rows, 1), s.dtype)
    take = s > kth
    need = k - take.sum(axis=1)
    tr, tc = np.nonzero((s == kth) & (kth > 0))  # ties at the k-th value, columns ascending
    rank = np.arange(len(tr)) - np.searchsorted(tr, tr)
    keep = rank < need[tr]
    take[tr[keep], tc[keep]] = True
    r, c = np.nonzero(take)
    vals = s[r, c]
    order = np.lexsort((c, -vals, r))
    r, c, vals = r[order], c[order], vals[order]
    pos = np.arange(len(r)) - np.searchsorted(r, r)
    idx = np.full((n_rows, k), -1, np.int32)
    top = np.zeros((n_rows, k), s.dtype)
    idx[r, pos], top[r, pos] = c, vals
    return idx, top


def _keys(m: sp.csr_matrix) -> np.ndarray:
    """Sorted row * n_cols + col keys of a sparse matrix's stored entries."""
    coo = m.tocoo()
    return np.sort(coo.row.astype(np.int64) * m.shape[1] + coo.col)


def _fill(out: np.ndarray, have: np.ndarray, short: np.ndarray, seeds: sp.csr_matrix, popular: np.ndarray,
          n_tracks: int) -> None:
    """Top up the rows ``short`` of ``out`` with popular tracks they lack, in popularity order."""
    n = out.shape[1]
    pool = popular[: n + int(seeds[short].getnnz(axis=1).max(initial=0)) + n].astype(np.int64)
    grid = np.broadcast_to(pool, (len(short), len(pool)))
    keys = short[:, None].astype(np.int64) * n_tracks + grid
    chosen = out[short].astype(np.int64)
    chosen_keys = np.where(chosen >= 0, short[:, None] * n_tracks + chosen, -1)
    usable = ~np.isin(keys, _keys(seeds)) & ~np.isin(keys, chosen_keys)
    order = np.cumsum(usable, axis=1) - 1 + have[short][:, None]
    put = usable & (order < n)
    r, c = np.nonzero(put)
    out[short[r], order[r, c]] = grid[r, c]


class Recommender:
    """Shared machinery: popularity, seeds, batching; subclasses provide :meth:`scores`."""

    name = "recommender"

    def fit(self, ds: Dataset, matrix: sp.csr_matrix) -> "Recommender":
        """Remember the data and rank tracks by how many training playlists hold them."""
        self.ds, self.matrix = ds, matrix.tocsr()
        train = ~ds.playlists["is_challenge"].to_numpy()
        counts = np.asarray(self.matrix[train].sum(axis=0)).ravel()
        self.popular = np.lexsort((np.arange(len(counts)), -counts)).astype(np.int32)
        self.popularity = counts
        return self

    def scores(self, rows: np.ndarray) -> sp.csr_matrix | np.ndarray:
        """Candidate scores for a batch of playlist rows (rows x tracks).

        Sparse: the stored entries are the candidates. Dense: the positive entries are.
        """
        raise NotImplementedError

    def recommend(self, rows: np.ndarray, n: int = 500, batch_size: int = 200, progress: bool = True) -> np.ndarray:
        """``n`` distinct non-seed track indices per playlist row, best first."""
        rows = np.asarray(rows)
        out = np.empty((len(rows), n), np.int32)
        for start in tqdm(range(0, len(rows), batch_size), desc=self.name, disable=not progress, unit="batch"):
            batch = rows[start:start + batch_size]
            scores = self.scores(batch)
            rank = top_n_dense if isinstance(scores, np.ndarray) else top_n
            out[start:start + len(batch)] = rank(scores, self.matrix[batch], self.popular, n)
        return out


class Popularity(Recommender):
    """The most popular tracks, the same for every playlist."""

    name = "popularity"

    def scores(self, rows: np.ndarray) -> sp.csr_matrix:
        """No candidates of its own: the popular fill does all the work."""
        return sp.csr_matrix((len(rows), self.matrix.shape[1]), dtype=np.float32)


def normalize_titles(titles: pd.Series) -> pd.Series:
    """Titles for matching: lower case, emoji and punctuation dropped, spaces collapsed."""
    out = titles.fillna("").astype(str).str.lower().str.replace(r"[^\w\s&]", " ", regex=True)
    return out.str.replace(r"\s+", " ", regex=True).str.strip()


class TitleModel(Recommender):
    """Tracks of training playlists with similar titles (TF-IDF over word and character n-grams).

    A playlist's candidates are the tracks of its ``k`` most similar training titles, each
    scored by the summed similarity of the playlists that hold it; character n-grams let
    "coutry" find "country".
    """

    name = "title tf-idf"

    def __init__(self, k: int = 100):
        self.k = k

    def fit(self, ds: Dataset, matrix: sp.csr_matrix) -> "TitleModel":
        """Vectorise the training titles."""
        super().fit(ds, matrix)
        titles = normalize_titles(ds.playlists["name"])
        self.train_rows = np.flatnonzero(~ds.playlists["is_challenge"].to_numpy())
        self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=2)
        self.train_vectors = self.vectorizer.fit_transform(titles.iloc[self.train_rows])
        self.titles = titles
        return self

    def scores(self, rows: np.ndarray) -> sp.csr_matrix:
        """Track scores summed over each playlist's most similar training titles."""
        sim = (self.vectorizer.transform(self.titles.iloc[rows]) @ self.train_vectors.T).tocsr()
        sim = _keep_top_k_per_row(sim, self.k)
        return (sim @ self.matrix[self.train_rows]).tocsr()


def _keep_top_k_per_row(m: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Only the ``k`` largest stored entries of each row."""
    coo = m.tocoo()
    order = np.lexsort((-coo.data, coo.row))
    row = coo.row[order]
    rank = np.arange(len(row)) - np.searchsorted(row, row)
    keep = order[rank < k]
    return sp.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=m.shape)


@dataclass
class NeuMFClusters(Recommender):
    """The write-up's procedure: candidates from the playlist's k-means cluster, ranked by NeuMF.

    ``scorer(users, items)`` returns NeuMF's probabilities for pairs of playlist rows and
    track indices; ``labels`` is the k-means cluster of every playlist row. Playlists with
    no seed track have no trained embedding; they are served by ``fallback`` (the title
    model), as the write-up proposed.
    """

    scorer: Callable[[np.ndarray, np.ndarray], np.ndarray]
    labels: np.ndarray
    fallback: Recommender | None = None
    name: str = "NeuMF + k-means"

    def fit(self, ds: Dataset, matrix: sp.csr_matrix) -> "NeuMFClusters":
        """Build the cluster x track table of candidates."""
        super().fit(ds, matrix)
        n_clusters = int(self.labels.max()) + 1
        member = sp.csr_matrix((np.ones(len(self.labels), np.float32), (self.labels, np.arange(len(self.labels)))),
                               shape=(n_clusters, len(self.labels)))
        self.cluster_tracks = (member @ self.matrix).tocsr()
        self.cluster_tracks.data[:] = 1.0
        if self.fallback is not None:
            self.fallback.fit(ds, matrix)
        return self

    def served_by(self, rows: np.ndarray) -> np.ndarray:
        """Which path serves each row: 'neumf' (has seeds) or the fallback's name."""
        has_seeds = self.matrix[rows].getnnz(axis=1) > 0
        return np.where(has_seeds, "neumf", self.fallback.name if self.fallback else "popularity")

    def scores(self, rows: np.ndarray) -> sp.csr_matrix:
        """NeuMF scores of the cluster's tracks, or the fallback's scores for seedless rows."""
        rows = np.asarray(rows)
        cand = self.cluster_tracks[self.labels[rows]].tocoo()
        has_seeds = self.matrix[rows].getnnz(axis=1) > 0
        keep = has_seeds[cand.row]
        r, c = cand.row[keep], cand.col[keep]
        s = self.scorer(rows[r].astype(np.int32), c.astype(np.int32)).astype(np.float32).ravel()
        out = sp.csr_matrix((s, (r, c)), shape=(len(rows), self.matrix.shape[1]))
        if self.fallback is not None and (~has_seeds).any():
            fb = self.fallback.scores(rows).tocsr()
            fb = sp.diags((~has_seeds).astype(np.float32)) @ fb
            fb.eliminate_zeros()
            out = (out + fb).tocsr()
        return out


def to_uris(ds: Dataset, recommendations: np.ndarray) -> np.ndarray:
    """Track indices as track URIs (an array of the same shape)."""
    return ds.tracks["track_uri"].to_numpy()[recommendations]


def as_frame(ds: Dataset, rows: np.ndarray, recommendations: np.ndarray) -> pd.DataFrame:
    """Long form (pid, track_uri) in rank order, with the challenge's own pids."""
    pids = ds.playlists["mpd_pid"].to_numpy()[rows]
    return pd.DataFrame({"pid": np.repeat(pids, recommendations.shape[1]),
                         "track_uri": to_uris(ds, recommendations).ravel()})
