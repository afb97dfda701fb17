"""Beyond the write-up: a blend of candidate sources, and models that re-order its best candidates.

The challenge's best teams worked in two stages: a recall-oriented candidate generator,
then a model that orders the candidates. Here the first stage blends item-based and
playlist-based neighbours and iALS (and, for playlists with few or no seeds, the title
model); the second is either one similarity (NeuMF's, a dot product) or a LightGBM ranker
over every source's scores, learnt on a validation challenge cut from the training playlists.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mpd_helpers.dataset import Dataset
from mpd_helpers.factorization import ALS
from mpd_helpers.matrix import PlaylistOrder
from mpd_helpers.neighbours import ItemKNN, PlaylistKNN, Successors
from mpd_helpers.ranking import place_rows, rank_per_row, scale_rows, top_k_per_row, values_at
from mpd_helpers.recommend import Recommender
from mpd_helpers.titles import TitleModel


class Blend(Recommender):
    """Several recommenders' scores, each scaled to a row maximum of 1, summed with weights.

    ``weights(n_seeds)`` gives the weight of every component for playlists with that many
    seeds, so that, say, the title model counts most when there are no seeds. With a
    ``reranker`` (NeuMF's scorer), the ``rerank_depth`` best candidates of each seeded
    playlist get ``rerank_weight`` times their NeuMF probability added; with
    ``rerank_weight=None`` the re-ranker alone orders them (ahead of the rest).
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

    def fit(self, ds: Dataset, matrix: sp.csr_matrix) -> Blend:
        """Fit every component, except one already fitted on this very matrix (a shared model)."""
        super().fit(ds, matrix)
        for component in self.components:
            if getattr(component, "matrix", None) is not self.matrix:
                component.fit(ds, matrix)
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


# --- the learned second stage ------------------------------------------------------------


def validation_split(
    ds: Dataset, per_category: int = 100, seed: int = 0
) -> tuple[Dataset, sp.csr_matrix, np.ndarray, sp.csr_matrix]:
    """A challenge built from training playlists only, by the challenge's ten-category recipe.

    Returns the dataset with those playlists cut to their seeds (and marked as challenge
    playlists, so no model trains on their hidden tracks), its utility matrix, their rows,
    and their hidden tracks (rows x tracks). The real challenge playlists stay out of it.
    """
    from mpd_helpers.challenge import CATEGORIES, _seed_mask
    from mpd_helpers.matrix import utility_matrix

    rng = np.random.default_rng(seed)
    pl = ds.playlists
    entries = ds.entries.sort_values(["pid", "pos"], kind="stable")
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
        masks.append(_seed_mask(rng, length[rows], cat))
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
    return val, utility_matrix(val.entries, val.n_playlists, val.n_tracks), rows, truth[rows]


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
        **params,
    ):
        self.sources, self.first_stage, self.pool = sources, first_stage, dict(pool or {})
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

    def fit(self, ds: Dataset, matrix: sp.csr_matrix) -> LearnedRanker:
        """Learn the ranker on the validation challenge, then refit the sources on all training data."""
        import lightgbm

        super().fit(ds, matrix)
        artist = pd.factorize(ds.tracks["artist_uri"])[0]
        album = pd.factorize(ds.tracks["album_uri"])[0]
        self.artist_of = sp.csr_matrix((np.ones(len(artist), np.float32), (np.arange(len(artist)), artist)))
        self.album_of = sp.csr_matrix((np.ones(len(album), np.float32), (np.arange(len(album)), album)))
        self.has_title = ds.playlists["name"].fillna("").astype(str).str.strip().ne("").to_numpy()
        val, val_matrix, rows, truth = validation_split(ds, self.per_category, self.seed)
        self._fit_sources(val, val_matrix)
        i, c, features, _ = self._features(rows, val_matrix, val.playlists["name"].notna().to_numpy())
        labels = np.asarray(truth[i, c]).ravel()
        group = np.bincount(i, minlength=len(rows))
        self.ranker = lightgbm.LGBMRanker(
            random_state=self.seed, deterministic=True, force_row_wise=True, n_jobs=1, verbose=-1, **self.params
        )
        self.ranker.fit(features, labels, group=group[group > 0])
        self.feature_names = list(features.columns)
        self._fit_sources(ds, self.matrix)
        return self

    def _fit_sources(self, ds: Dataset, matrix: sp.csr_matrix) -> None:
        """Fresh sources fitted on ``ds``, the first stage made of them, and the order of each playlist."""
        self.models = {name: make().fit(ds, matrix) for name, make in self.sources.items()}
        self.candidate_model = self.first_stage(self.models).fit(ds, matrix)
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


# --- the book's pipelines, by name -----------------------------------------------------------


def first_stage(models: dict[str, Recommender]) -> Blend:
    """Item-kNN, playlist-kNN and iALS, each scaled to its best; the title model for <= 1 seed."""
    return Blend(
        [models["item-kNN"], models["playlist-kNN"], models["iALS"], models["title"]],
        seed_weights(title_until=1, seeded=(1.0, 1.0, 1.0)),
        name="first stage",
    )


def sources(seed: int = 0) -> dict[str, Callable[[], Recommender]]:
    """The two-stage pipeline's sources: the neighbour models, iALS, the next-track model and the title model."""
    return {
        "item-kNN": ItemKNN,
        "playlist-kNN": PlaylistKNN,
        "iALS": partial(ALS, seed=seed, k=500),
        "successors": Successors,
        "title": TitleModel,
    }


def neighbour_blend(**options) -> Blend:
    """Item-kNN and playlist-kNN; the title model for <= 1 seed (``options`` go to :class:`Blend`)."""
    return Blend([ItemKNN(), PlaylistKNN(), TitleModel()], seed_weights(title_until=1), **options)


def first_stage_alone(seed: int = 0) -> Blend:
    """The two-stage pipeline's first stage, with its own sources, as a recommender of its own."""
    return first_stage({name: make() for name, make in sources(seed).items()})


def two_stage(seed: int = 0, depth: int = 300, per_category: int = 200) -> LearnedRanker:
    """The book's best pipeline: the first stage's 300 best, iALS's 300 best and playlist-kNN's 200 best
    candidates of each playlist, ordered by the learned ranker."""
    return LearnedRanker(
        sources(seed),
        first_stage,
        pool={"iALS": 300, "playlist-kNN": 200},
        depth=depth,
        per_category=per_category,
        seed=seed,
    )
