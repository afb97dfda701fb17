"""Beyond the write-up: a LightGBM ranker that re-orders the best candidates of a first stage.

The ranker learns from a validation challenge cut from the training playlists by the
challenge's own recipe (:func:`validation_split`), never from the held-out truth; its
features are every source's score and rank and what the seeds say of each candidate.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mpd_helpers.data.challenge_set import CATEGORIES
from mpd_helpers.data.dataset import Dataset
from mpd_helpers.data.matrix import PlaylistOrder, in_order
from mpd_helpers.data.recipe import seed_mask
from mpd_helpers.models.base import Recommender
from mpd_helpers.models.blend import Blend
from mpd_helpers.models.neighbours import ItemKNN
from mpd_helpers.models.ranking import rank_per_row, scale_rows, top_k_per_row, values_at


def validation_split(ds: Dataset, per_category: int = 100, seed: int = 0) -> tuple[Dataset, np.ndarray, sp.csr_matrix]:
    """A challenge built from training playlists only, by the challenge's ten-category recipe.

    Returns the dataset with those playlists cut to their seeds (and marked as challenge
    playlists, so no model trains on their hidden tracks), their rows,
    and their hidden tracks (rows x tracks). The real challenge playlists stay out of it.
    """
    rng = np.random.default_rng(seed)
    pl = ds.playlists
    pid, pos, track = in_order(ds.entries)
    entries = pd.DataFrame({"pid": pid, "pos": pos, "track_index": track}).astype(np.int32)  # what sources read
    del pid, pos, track
    length = np.bincount(entries["pid"].to_numpy(), minlength=len(pl))
    titled = pl["name"].fillna("").astype(str).str.strip().ne("").to_numpy()
    free = ~pl["is_challenge"].to_numpy()
    chosen, masks, untitled = [], [], []
    for cat in CATEGORIES:
        ok = free & (length >= max(cat.min_tracks, cat.n_seeds + 1)) & (length <= cat.max_tracks)
        if cat.title:
            ok &= titled
        rows = np.sort(rng.permutation(np.flatnonzero(ok))[:per_category])
        free[rows] = False
        chosen.append(rows)
        masks.append(seed_mask(rng, length[rows], cat))
        untitled.append(np.full(len(rows), not cat.title))
    rows = np.concatenate(chosen)
    starts = np.concatenate([[0], np.cumsum(length)[:-1]])
    where = (
        np.concatenate([np.arange(starts[r], starts[r] + length[r]) for r in rows]) if len(rows) else np.empty(0, int)
    )
    hidden = where[~np.concatenate(masks)] if len(rows) else where
    keep = np.ones(len(entries), bool)
    keep[hidden] = False
    gone = entries.iloc[hidden]
    truth = sp.csr_matrix(
        (np.ones(len(gone), np.float32), (gone["pid"].to_numpy(), gone["track_index"].to_numpy())),
        shape=(len(pl), len(ds.tracks)),
    )
    truth.sum_duplicates()
    truth.data[:] = 1.0
    playlists = pl.copy()
    playlists.loc[rows, "is_challenge"] = True
    playlists.loc[rows[np.concatenate(untitled)], "name"] = None
    val = Dataset(entries[keep], ds.tracks, playlists)
    return val, rows, truth[rows]


# The share of the training playlists above which the validation challenge's hidden tracks
# are worth a second fit of the sources (see LearnedRanker.fit). On the book's data, where they
# are a fifth, serving without it loses 1.5 % of R-precision and 2.6 % of NDCG; the loss
# shrinks with the share.
REFIT_SHARE = 0.05


class LearnedRanker(Recommender):
    """Candidates from a first stage and from the best of some sources, re-ordered by a LightGBM ranker.

    ``sources`` make the models whose scores are the ranker's features; ``first_stage``
    composes fitted sources into the first stage (a :class:`Blend`, say). A playlist's
    candidates are the first stage's ``depth`` best tracks together with the ``pool[name]``
    best of each named source, so that no source's strongest tracks are lost to the blend.

    The ranker learns from a validation challenge cut from the training playlists
    (:func:`validation_split`), never from the held-out truth. Its features, per
    (playlist, candidate): the first stage's and every source's score (scaled to the
    playlist's best) and rank, the candidate's popularity, how many seeds share its artist
    and its album, the number of seeds and whether there is a title; and from the playlist's
    order, whether the seeds are its first tracks, whether the candidate shares the last
    seed's artist or album, and its item-kNN similarity to the last seed. Its loss is XE-NDCG
    (``rank_xendcg``), a listwise bound on NDCG over each playlist's whole list of
    candidates; ``params`` go to ``lightgbm.LGBMRanker``.
    """

    needs_seeds = False

    def __init__(
        self,
        sources: dict[str, Callable[[], Recommender]],
        first_stage: Callable[[dict[str, Recommender]], Recommender],
        pool: dict[str, int] | None = None,
        depth: int = 300,
        per_category: int = 200,
        seed: int = 0,
        name: str = "two-stage",
        refit: bool | None = None,
        batch_size: int = 200,
        **params,
    ):
        self.sources, self.first_stage, self.pool = sources, first_stage, dict(pool or {})
        self.refit, self.batch_size = refit, batch_size
        unknown = set(self.pool) - set(sources)
        if unknown:
            raise ValueError(f"pool names unknown sources: {', '.join(sorted(unknown))}")
        self.depth, self.per_category, self.seed, self.name = depth, per_category, seed, name
        self.params = {
            "objective": "rank_xendcg",
            "n_estimators": 150,
            "learning_rate": 0.1,
            "num_leaves": 15,
            "min_child_samples": 100,
            **params,
        }

    def fit(self, ds: Dataset) -> LearnedRanker:
        """Learn the ranker on the validation challenge, then serve from sources that know every training track.

        The sources are fitted once, on the training playlists with the validation
        playlists cut to their seeds. When those playlists hold more than
        :data:`REFIT_SHARE` of the training playlists (or ``refit=True``), the tracks they
        hide would be missed, and the sources are fitted again on all of them; on a large
        MPD the share is small and the second fit is saved. Features are computed
        ``batch_size`` playlists at a time.

        Shown in the book: 07_beyond.
        """
        import lightgbm

        super().fit(ds)
        artist = pd.factorize(ds.tracks["artist_uri"])[0]
        album = pd.factorize(ds.tracks["album_uri"])[0]
        self.artist_of = sp.csr_matrix((np.ones(len(artist), np.float32), (np.arange(len(artist)), artist)))
        self.album_of = sp.csr_matrix((np.ones(len(album), np.float32), (np.arange(len(album)), album)))
        self.has_title = ds.playlists["name"].fillna("").astype(str).str.strip().ne("").to_numpy()
        val, rows, truth = validation_split(ds, self.per_category, self.seed)
        self._fit_sources(val)
        titled, matrix = val.playlists["name"].notna().to_numpy(), val.matrix
        del val  # its table of entries: the features need only its matrix
        parts, labels = [], []
        for start in range(0, len(rows), self.batch_size):
            i, c, features, _ = self._features(rows[start : start + self.batch_size], matrix, titled)
            parts.append((i + start, features))
            labels.append(np.asarray(truth[i + start, c]).ravel())
        i = np.concatenate([part[0] for part in parts])
        features = pd.concat([part[1] for part in parts], ignore_index=True)
        labels = np.concatenate(labels)
        group = np.bincount(i, minlength=len(rows))
        self.ranker = lightgbm.LGBMRanker(
            random_state=self.seed, deterministic=True, force_row_wise=True, n_jobs=1, verbose=-1, **self.params
        )
        self.ranker.fit(features, labels, group=group[group > 0])
        self.feature_names = list(features.columns)
        self.refitted = self.refit if self.refit is not None else len(rows) > REFIT_SHARE * len(self.train_rows)
        if self.refitted:
            self._fit_sources(ds)
        else:  # served from the sources as fitted, which share the whole utility matrix
            for model in self._tree():
                model.matrix = self.matrix
        return self

    def _fit_sources(self, ds: Dataset) -> None:
        """Fresh sources fitted on ``ds``, the first stage made of them, and the order of each playlist.

        They are fitted last listed first: the catalogue lists last the models (next tracks,
        titles) that need much memory while they are fitted and little after, and these
        are best fitted while the least is held. Each fit is independent of the others.
        """
        fitted = {name: self.sources[name]().fit(ds) for name in reversed(self.sources)}
        self.models = {name: fitted[name] for name in self.sources}
        self.candidate_model = self.first_stage(self.models).fit(ds)
        self.order = PlaylistOrder.of(ds.entries, ds.n_playlists, window=1)

    def _features(
        self, rows: np.ndarray, matrix: sp.csr_matrix, has_title: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, pd.DataFrame, sp.csr_matrix]:
        """Candidate pairs (position in ``rows``, track) in order, their features, the first stage's scores."""
        scores = {name: model.candidates(rows) for name, model in self.models.items()}
        if isinstance(self.candidate_model, Blend):  # built of the sources: their scores are known
            known = {id(model): scores[name] for name, model in self.models.items()}
            first = self.candidate_model.combine(rows, known).astype(np.float32).tocsr()
        else:
            first = self.candidate_model.candidates(rows)
        pooled = top_k_per_row(first, self.depth)
        for name, k in self.pool.items():
            pooled = pooled + top_k_per_row(scores[name], k)
        cand = pooled.tocoo()
        order = np.lexsort((cand.col, cand.row))
        i, c = cand.row[order], cand.col[order]
        seeds = matrix[rows]
        n_seeds = seeds.getnnz(axis=1).astype(np.float32)
        columns = {
            "first stage score": values_at(scale_rows(first), i, c),
            "first stage rank": values_at(rank_per_row(first), i, c),
        }
        for name, s in scores.items():
            columns[f"{name} score"] = values_at(scale_rows(s), i, c)
            columns[f"{name} rank"] = values_at(rank_per_row(s), i, c)
        same_artist = (seeds @ self.artist_of).tocsr()
        same_album = (seeds @ self.album_of).tocsr()
        columns["log popularity"] = np.log1p(self.popularity[c])
        columns["seeds by its artist"] = values_at(same_artist, i, self.artist_of.indices[c]) / np.maximum(
            n_seeds[i], 1
        )
        columns["seeds from its album"] = values_at(same_album, i, self.album_of.indices[c]) / np.maximum(n_seeds[i], 1)
        columns["seeds"] = n_seeds[i]
        columns["has title"] = has_title[rows][i].astype(np.float32)
        columns.update(self._order_features(rows, i, c))
        return i, c, pd.DataFrame(columns), first

    def _order_features(self, rows: np.ndarray, i: np.ndarray, c: np.ndarray) -> dict[str, np.ndarray]:
        """What the playlists' order says: are the seeds its first tracks; the candidate against the last seed."""
        last = self.order.last[rows, 0]
        known = last[i] >= 0
        latest = np.maximum(last[i], 0)
        out = {
            "seeds are the first tracks": self.order.from_start[rows][i].astype(np.float32),
            "last seed's artist": (known & (self.artist_of.indices[c] == self.artist_of.indices[latest])),
            "last seed's album": (known & (self.album_of.indices[c] == self.album_of.indices[latest])),
        }
        if isinstance(self.models.get("item-kNN"), ItemKNN):
            out["item-kNN from the last seed"] = values_at(
                self.models["item-kNN"].from_seeds(self.order.recent(rows, self.matrix.shape[1])), i, c
            )
        return {name: np.asarray(v, np.float32) for name, v in out.items()}

    def scores(self, rows: np.ndarray) -> sp.csr_matrix:
        """The ranker's order for the pooled candidates, then the first stage's order for the rest."""
        rows = np.asarray(rows)
        i, c, features, first = self._features(rows, self.matrix, self.has_title)
        first = scale_rows(first)  # at most 1
        if len(i) == 0:
            return first
        s = self.ranker.predict(features, num_threads=1).astype(np.float64)
        lowest = np.full(len(rows), np.inf)
        np.minimum.at(lowest, i, s)
        on_top = sp.csr_matrix(((s - lowest[i] + 2.0).astype(np.float32), (i, c)), shape=first.shape)
        ranked = sp.csr_matrix((np.ones(len(i), np.float32), (i, c)), shape=first.shape)
        return (first - first.multiply(ranked) + on_top).tocsr()

    def _parts(self) -> list[Recommender]:
        """The first stage and every source."""
        return [self.candidate_model, *self.models.values()]

    def _add_rows(self, titles, tracks) -> None:
        """New playlists: their title flag and the order of their tracks."""
        self.has_title = np.concatenate(
            [self.has_title, pd.Series(titles).fillna("").astype(str).str.strip().ne("").to_numpy()]
        )
        self.order.extend(tracks)
