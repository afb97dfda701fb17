"""The one face every recommender shares, and the simplest recommender: popularity.

Every recommender is fitted with ``fit(dataset)``; then ``recommend(rows, n)``
returns, for each playlist row, ``n`` distinct track indices in rank order, none of them a
seed of that playlist, topped up with the most popular tracks when its own candidates run
short (as the write-up does). A recommender only says which tracks are candidates for a
batch of playlists and how they score (:meth:`Recommender.scores`, a sparse matrix);
serving playlists without seeds, ranking, seed removal and filling are shared
(:meth:`Recommender.candidates`, :mod:`mpd_helpers.models.ranking`) and work on whole batches.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from tqdm import tqdm

from mpd_helpers.data.dataset import Dataset
from mpd_helpers.data.matrix import binary
from mpd_helpers.models.ranking import place_rows, top_n


class Recommender(ABC):
    """Fit on the training playlists, then rank tracks for challenge playlists.

    A model of seed tracks cannot serve a playlist that has none (``needs_seeds``): such
    playlists go to ``fallback`` (a title model, say), or, without one, to the popular fill.
    """

    name = "recommender"
    needs_seeds = True
    fallback: Recommender | None = None

    def fit(self, ds: Dataset) -> Recommender:
        """Keep the training rows and rank tracks by how many training playlists hold them."""
        self.matrix = ds.matrix
        self.train_rows = np.flatnonzero(~ds.playlists["is_challenge"].to_numpy())
        self.train = ds.training
        self.popularity = self.train.getnnz(axis=0).astype(np.float32)
        order = np.lexsort((np.arange(len(self.popularity)), -self.popularity))
        self.popular = order.astype(np.int32)
        if self.fallback is not None:
            self.fallback.fit(ds)
        return self

    @abstractmethod
    def scores(self, rows: np.ndarray) -> sp.csr_matrix:
        """Candidate scores for a batch of playlist rows (rows x tracks, stored = candidate).

        When ``needs_seeds``, only rows that have seeds are passed.
        """

    def candidates(self, rows: np.ndarray) -> sp.csr_matrix:
        """Scores for any batch (float32): the model's own where it can serve, the fallback's elsewhere.

        Scores are float32 whatever a model computes in, so that a playlist's scores, and so
        its ranking, never depend on the other playlists of its batch.

        Shown in the book: 04_application.
        """
        rows = np.asarray(rows)
        if not self.needs_seeds:
            return self.scores(rows).astype(np.float32).tocsr()
        seeded = self.matrix[rows].getnnz(axis=1) > 0
        own = self.scores(rows[seeded]).astype(np.float32)
        out = place_rows(own, np.flatnonzero(seeded), len(rows))
        if self.fallback is not None and not seeded.all():
            other = self.fallback.candidates(rows[~seeded])
            out = out + place_rows(other, np.flatnonzero(~seeded), len(rows))
        return out.tocsr()

    def add_playlists(self, tracks: Sequence[Sequence[int]], titles: pd.Series) -> np.ndarray:
        """Make new playlists servable without refitting; returns their rows.

        ``tracks`` holds each new playlist's seed tracks (fitted track indices) in playlist
        order, ``titles`` their titles. The fitted model is unchanged: new playlists are only
        ever served, never learnt from.
        """
        n_tracks = self.matrix.shape[1]
        if len(tracks) != len(titles):
            raise ValueError(f"{len(tracks)} track lists and {len(titles)} titles do not match")
        tracks = [np.asarray(t, np.int64) for t in tracks]
        flat = np.concatenate([np.empty(0, np.int64), *tracks])
        if ((flat < 0) | (flat >= n_tracks)).any():
            raise ValueError(f"seed track indices must lie in 0..{n_tracks - 1}")
        row = np.repeat(np.arange(len(tracks)), [len(t) for t in tracks])
        seeds = binary(row, flat, (len(tracks), n_tracks))
        first = self.matrix.shape[0]
        titles = pd.Series(titles, dtype=object).reset_index(drop=True)
        tree = self._tree()
        for model in tree:  # a model that cannot serve new playlists says so here
            model._add_rows(titles, tracks)
        for model in tree:
            model.matrix = sp.vstack([model.matrix, seeds.astype(model.matrix.dtype)]).tocsr()
        return np.arange(first, self.matrix.shape[0])

    def _tree(self) -> list[Recommender]:
        """This model and every model it consults, each once (parts may be shared)."""
        found, todo = {}, [self]
        while todo:
            model = todo.pop()
            if id(model) not in found:
                found[id(model)] = model
                todo.extend(model._parts())
        return list(found.values())

    def _add_rows(self, titles: pd.Series, tracks: list[np.ndarray]) -> None:  # noqa: B027 - a hook, empty by default
        """Extend any per-playlist state of the model to new rows (none by default)."""

    def _parts(self) -> list[Recommender]:
        """The models this one consults: its fallback, if any."""
        return [self.fallback] if self.fallback is not None else []

    def served_by(self, rows: np.ndarray) -> np.ndarray:
        """Which model serves each row: this one, its fallback, or the popular fill."""
        if not self.needs_seeds:
            return np.full(len(rows), self.name, dtype=object)
        seeded = self.matrix[np.asarray(rows)].getnnz(axis=1) > 0
        other = self.fallback.name if self.fallback is not None else "popularity"
        return np.where(seeded, self.name, other).astype(object)

    def recommend(self, rows: np.ndarray, n: int = 500, batch_size: int = 200, progress: bool = True) -> np.ndarray:
        """``n`` distinct non-seed track indices per playlist row, best first."""
        rows = np.asarray(rows)
        out = np.empty((len(rows), n), np.int32)
        batches = range(0, len(rows), batch_size)
        for start in tqdm(batches, desc=self.name, disable=not progress, unit="batch"):
            batch = rows[start : start + batch_size]
            scores = self.candidates(batch)
            out[start : start + len(batch)] = top_n(scores, self.matrix[batch], self.popular, n)
        return out


class Popularity(Recommender):
    """The most popular tracks, the same for every playlist."""

    name = "popularity"
    needs_seeds = False

    def scores(self, rows: np.ndarray) -> sp.csr_matrix:
        """No candidates of its own: the popular fill does all the work."""
        return sp.csr_matrix((len(rows), self.matrix.shape[1]), dtype=np.float32)


def to_uris(ds: Dataset, recommendations: np.ndarray) -> np.ndarray:
    """Track indices as track URIs (an array of the same shape)."""
    return ds.tracks["track_uri"].to_numpy()[recommendations]


def as_frame(ds: Dataset, rows: np.ndarray, recommendations: np.ndarray) -> pd.DataFrame:
    """Long form (pid, track_uri) in rank order, with the challenge's own pids."""
    pids = ds.playlists["mpd_pid"].to_numpy()[rows]
    return pd.DataFrame(
        {"pid": np.repeat(pids, recommendations.shape[1]), "track_uri": to_uris(ds, recommendations).ravel()}
    )
