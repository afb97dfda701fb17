"""Beyond the write-up: a LightGBM ranker that re-orders the best candidates of a first stage.

The ranker learns from a validation challenge cut from the training playlists by the
challenge's own recipe (:func:`validation_split`), never from the held-out truth; its
features are every source's score and rank and what the seeds say of each candidate.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mpd_helpers.data.challenge_set import CATEGORIES
from mpd_helpers.data.dataset import Dataset
from mpd_helpers.data.matrix import PlaylistOrder, binary, in_order
from mpd_helpers.data.recipe import seed_mask
from mpd_helpers.models.base import Recommender
from mpd_helpers.models.blend import Blend
from mpd_helpers.models.factorization import ALS
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
    (:func:`validation_split`), never from the held-out truth. Its features per (playlist,
    candidate) come in the groups of :data:`GROUPS` (``groups`` picks some; by default the
    seven of :data:`PIPELINE_GROUPS`): the sources' scores and ranks, the title model's, the
    seeds' artists and albums and the candidate's popularity, the playlist's order, the
    candidate against each seed, the playlist, the track, and (not by default) the
    candidate's artist and album against the seeds'. Its loss is XE-NDCG (``rank_xendcg``),
    a listwise bound on NDCG over each playlist's whole list of candidates; ``params`` go to
    ``lightgbm.LGBMRanker``. With ``keep_training=True`` it keeps its validation features
    (every group's), so that variants (:meth:`with_groups`, :meth:`with_pair_scores`) and
    settings (:meth:`validate`) can be learned without fitting the sources again.
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
        groups: tuple[str, ...] | None = None,
        keep_training: bool = False,
        **params,
    ):
        self.sources, self.first_stage, self.pool = sources, first_stage, dict(pool or {})
        self.refit, self.batch_size, self.keep_training = refit, batch_size, keep_training
        unknown = set(self.pool) - set(sources)
        if unknown:
            raise ValueError(f"pool names unknown sources: {', '.join(sorted(unknown))}")
        self.groups = PIPELINE_GROUPS if groups is None else tuple(groups)
        unknown = set(self.groups) - set(GROUPS)
        if unknown:
            raise ValueError(f"unknown feature groups: {', '.join(sorted(unknown))}; there are {', '.join(GROUPS)}")
        self.depth, self.per_category, self.seed, self.name = depth, per_category, seed, name
        self.average, self.pair_scorers = 1, {}
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
        super().fit(ds)
        artist = pd.factorize(ds.tracks["artist_uri"])[0]
        album = pd.factorize(ds.tracks["album_uri"])[0]
        self.artist_of = sp.csr_matrix((np.ones(len(artist), np.float32), (np.arange(len(artist)), artist)))
        self.album_of = sp.csr_matrix((np.ones(len(album), np.float32), (np.arange(len(album)), album)))
        self.has_title = ds.playlists["name"].fillna("").astype(str).str.strip().ne("").to_numpy()
        self.title_words = _words(ds.playlists["name"])
        self.log_duration = np.log1p(ds.tracks["duration_ms"].to_numpy(np.float64).clip(0) / 1000).astype(np.float32)
        val, rows, truth = validation_split(ds, self.per_category, self.seed)
        self._fit_sources(val)
        titled, matrix = val.playlists["name"].notna().to_numpy(), val.matrix
        # the validation's own counts, without its hidden tracks
        counts = Counts.of(val.training.getnnz(axis=0).astype(np.float32), self.artist_of, self.album_of)
        del val  # its table of entries: the features need only its matrix
        parts, labels = [], []
        for start in range(0, len(rows), self.batch_size):
            i, c, features, _ = self._features(rows[start : start + self.batch_size], matrix, titled, counts)
            parts.append((i + start, c, features))
            labels.append(np.asarray(truth[i + start, c]).ravel())
        i = np.concatenate([part[0] for part in parts])
        c = np.concatenate([part[1] for part in parts])
        features = pd.concat([part[2] for part in parts], ignore_index=True)
        labels = np.concatenate(labels)
        group = np.bincount(i, minlength=len(rows))
        self.counts = Counts.of(self.popularity, self.artist_of, self.album_of)
        self.feature_names = self._in_groups(features.columns, self.groups)
        self.ranker = self._learn(features[self.feature_names], labels, group)
        if self.keep_training:  # for variants that differ only in their features or parameters (with_groups)
            self.training = (features, labels, group, truth.getnnz(axis=1), (rows[i], c))
            self.served = {}  # the challenge playlists' features, computed once for all the variants
        self.refitted = self.refit if self.refit is not None else len(rows) > REFIT_SHARE * len(self.train_rows)
        if self.refitted:
            self._fit_sources(ds)
        else:  # served from the sources as fitted, which share the whole utility matrix
            for model in self._tree():
                model.matrix = self.matrix
        return self

    def _learn(self, features: pd.DataFrame, labels: np.ndarray, group: np.ndarray) -> Averaged:
        """LightGBM rankers learned on candidate lists (``group``: each playlist's number of candidates).

        ``self.average`` of them, seeded ``seed``, ``seed + 1``, ...: the seed draws XE-NDCG's
        random gains, so the rankers differ, and their mean score orders the candidates.
        """
        import lightgbm

        fixed = {"deterministic": True, "force_row_wise": True, "n_jobs": 1, "verbose": -1}
        return Averaged(
            [
                lightgbm.LGBMRanker(random_state=self.seed + k, **fixed, **self.params).fit(
                    features, labels, group=group[group > 0]
                )
                for k in range(self.average)
            ]
        )

    def with_groups(self, groups: tuple[str, ...], average: int = 1, **params) -> LearnedRanker:
        """The same fitted sources, with a ranker learned again on only these feature groups (and ``params``).

        ``average`` rankers, differently seeded, are averaged. Needs a ranker fitted with
        ``keep_training=True``; the variants share everything but their ranker, so comparing
        them isolates what the features (or parameters) add.
        """
        features, labels, group = self.training[:3]
        variant = copy.copy(self)
        variant.groups, variant.params, variant.average = tuple(groups), {**self.params, **params}, average
        variant.feature_names = [*self._in_groups(features.columns, variant.groups), *self.pair_scorers]
        variant.ranker = variant._learn(features[variant.feature_names], labels, group)
        return variant

    def with_pair_scores(self, learned: dict[str, Callable], served: dict[str, Callable], **params) -> LearnedRanker:
        """The same fitted sources and groups, with one feature more per model: its score of each
        (playlist, candidate) pair.

        ``learned[name](playlist rows, tracks)`` scores the validation challenge's pairs, and
        must know nothing of its hidden tracks (a model trained on the validation split);
        ``served[name]`` scores the pairs of the playlists served (a model trained on every
        training playlist). Needs ``keep_training=True``.

        Shown in the book: 07_beyond.
        """
        features, labels, group, hidden, (r, c) = self.training
        extra = pd.DataFrame({name: np.asarray(score(r, c), np.float32) for name, score in learned.items()})
        variant = copy.copy(self)
        variant.pair_scorers = {**self.pair_scorers, **served}
        variant.training = (pd.concat([features, extra], axis=1), labels, group, hidden, (r, c))
        variant.params = {**self.params, **params}
        variant.feature_names = [*self.feature_names, *extra.columns]
        variant.ranker = variant._learn(variant.training[0][variant.feature_names], labels, group)
        return variant

    def validate(self, settings: dict[str, dict], share: float = 0.5) -> pd.DataFrame:
        """Each setting of the ranker's parameters learned on part of the validation playlists, graded on the rest.

        The validation playlists are split at random (``share`` of them learn); each
        setting's score is the mean NDCG at 500 of the other playlists' candidates as it
        orders them, against all their hidden tracks (so a pool that misses some is
        charged for it), from the labels of the validation challenge alone. A setting's
        ``groups``, if it names them, replace the ranker's feature groups. Needs
        ``keep_training=True``.
        """
        features, labels, group, hidden = self.training[:4]
        learn = np.zeros(len(group), bool)
        learn[np.random.default_rng(self.seed).permutation(len(group))[: int(share * len(group))]] = True
        at = np.repeat(learn, group)
        out = {}
        for name, setting in settings.items():
            params = {k: v for k, v in setting.items() if k != "groups"}
            groups = setting.get("groups")
            names = (
                self.feature_names
                if groups is None
                else [*self._in_groups(features.columns, tuple(groups)), *self.pair_scorers]
            )
            X = features[names]
            variant = copy.copy(self)
            variant.params = {**self.params, **params}
            model = variant._learn(X[at], labels[at], group[learn])
            scores = model.predict(X[~at], num_threads=1)
            out[name] = {**variant.params, "validation NDCG": _ndcg(scores, labels[~at], group[~learn], hidden[~learn])}
        return pd.DataFrame(out).T

    def group_importance(self) -> pd.Series:
        """Each feature group's share of the trees' gain."""
        gain = pd.Series(self.ranker.gain(), index=self.feature_names)
        by_group = (gain / gain.sum()).groupby(
            lambda name: "pair scores" if name in self.pair_scorers else _group(name, self.sources)
        )
        return by_group.sum().sort_values(ascending=False)

    def _in_groups(self, columns, groups: tuple[str, ...]) -> list[str]:
        """The feature columns that belong to these groups, in their order."""
        return [name for name in columns if name not in self.pair_scorers and _group(name, self.sources) in groups]

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
        if self._links_artists():
            self.linked = {}
            for level, of in (("artist", self.artist_of), ("album", self.album_of)):
                counts = ds.training @ of  # training playlists x artists (albums): tracks of each
                held = binary(*counts.nonzero(), counts.shape)
                self.linked[level] = ItemKNN(prune=100, seed=self.seed).fit_items(held)

    def _links_artists(self) -> bool:
        """Whether the artists and albums group is computed: when the ranker reads it, or keeps every group."""
        return "artists and albums" in self.groups or self.keep_training

    def _features(
        self, rows: np.ndarray, matrix: sp.csr_matrix, has_title: np.ndarray, counts: Counts | None = None
    ) -> tuple[np.ndarray, np.ndarray, pd.DataFrame, sp.csr_matrix]:
        """Candidate pairs (position in ``rows``, track) in order, their features, the first stage's scores.

        ``counts`` are the popularity counts the features read (the training playlists' by default).
        """
        counts = self.counts if counts is None else counts
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
        seeds.data[:] = 1.0
        n_seeds = seeds.getnnz(axis=1).astype(np.float32)
        per_seed = 1 / np.maximum(n_seeds, 1)
        columns = {
            "first stage score": values_at(scale_rows(first), i, c),
            "first stage rank": values_at(rank_per_row(first), i, c),
        }
        for name, s in scores.items():
            columns[f"{name} score"] = values_at(scale_rows(s), i, c)
            columns[f"{name} rank"] = values_at(rank_per_row(s), i, c)
        artist, album = self.artist_of.indices, self.album_of.indices
        same_artist = (seeds @ self.artist_of).tocsr()
        same_album = (seeds @ self.album_of).tocsr()
        columns["log popularity"] = np.log1p(counts.tracks[c])
        columns["seeds by its artist"] = values_at(same_artist, i, artist[c]) * per_seed[i]
        columns["seeds from its album"] = values_at(same_album, i, album[c]) * per_seed[i]
        columns["seeds"] = n_seeds[i]
        columns["has title"] = has_title[rows][i].astype(np.float32)
        columns.update(self._order_features(rows, i, c))
        columns.update(self._similarity_features(seeds, i, c))
        if self._links_artists():
            for level, of in (("artist", self.artist_of), ("album", self.album_of)):
                shared = (seeds @ of) @ self.linked[level].similar  # rows x artists (albums)
                value = values_at(shared.tocsr(), i, of.indices[c]) * per_seed[i]
                columns[f"its {level} with the seeds' {level}s"] = np.where(n_seeds[i] > 0, value, np.nan)
        log_pop = np.log1p(counts.tracks)
        mean_pop = (seeds @ log_pop) * per_seed
        spread = np.sqrt(np.maximum((seeds @ log_pop**2) * per_seed - mean_pop**2, 0))
        columns["seeds' mean log popularity"] = np.where(n_seeds > 0, mean_pop, np.nan)[i]
        columns["seeds' spread of log popularity"] = np.where(n_seeds > 0, spread, np.nan)[i]
        columns["seeds' artists per seed"] = np.where(n_seeds > 0, same_artist.getnnz(axis=1) * per_seed, np.nan)[i]
        columns["seeds' albums per seed"] = np.where(n_seeds > 0, same_album.getnnz(axis=1) * per_seed, np.nan)[i]
        columns["title words"] = self.title_words[rows][i]
        by_popularity = sp.csr_matrix((counts.tracks[c] + 1.0, (i, c)), shape=first.shape)
        columns["popularity rank among candidates"] = values_at(rank_per_row(by_popularity), i, c)
        columns["log duration"] = self.log_duration[c]
        columns["its artist's log popularity"] = np.log1p(counts.artists[artist[c]])
        columns["its album's log popularity"] = np.log1p(counts.albums[album[c]])
        return i, c, pd.DataFrame({name: np.asarray(v, np.float32) for name, v in columns.items()}), first

    def _similarity_features(self, seeds: sp.csr_matrix, i: np.ndarray, c: np.ndarray) -> dict[str, np.ndarray]:
        """The candidate against each seed, summed up: in item-kNN's space and in iALS's factor space.

        Item-kNN's (with its precomputed neighbour lists): the largest similarity to a seed
        and the share of seeds that list the candidate among their neighbours. iALS's: the
        largest, mean and smallest cosine between the candidate's factors and the seeds'.
        NaN without seeds. Each playlist costs its seeds x candidates, whatever the data's size.
        """
        out = {}
        n_seeds = seeds.getnnz(axis=1)
        knn = self.models.get("item-kNN")
        if isinstance(knn, ItemKNN) and knn.similar is not None:
            pairs = seeds.tocoo()
            linked = knn.similar[pairs.col].tocoo()  # a row per (playlist, seed)
            keys = i.astype(np.int64) * seeds.shape[1] + c  # ascending: the pairs are in order
            wanted = pairs.row[linked.row].astype(np.int64) * seeds.shape[1] + linked.col
            at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
            hit = keys[at] == wanted if len(keys) else np.zeros(len(wanted), bool)
            largest = np.zeros(len(keys), np.float32)
            np.maximum.at(largest, at[hit], linked.data[hit])
            listed = np.bincount(at[hit], minlength=len(keys)) / np.maximum(n_seeds[i], 1)
            out["item-kNN max over seeds"] = np.where(n_seeds[i] > 0, largest, np.nan)
            out["item-kNN share of seeds"] = np.where(n_seeds[i] > 0, listed, np.nan)
        als = self.models.get("iALS")
        if isinstance(als, ALS):
            factors = als.item_factors()
            unit = factors / np.maximum(np.linalg.norm(factors, axis=1, keepdims=True), 1e-12)
            stats = np.full((3, len(i)), np.nan, np.float32)
            bounds = np.searchsorted(i, np.arange(seeds.shape[0] + 1))
            for row in np.flatnonzero(n_seeds):
                lo, hi = bounds[row], bounds[row + 1]
                if hi > lo:
                    cos = unit[c[lo:hi]] @ unit[seeds.indices[seeds.indptr[row] : seeds.indptr[row + 1]]].T
                    stats[:, lo:hi] = cos.max(axis=1), cos.mean(axis=1), cos.min(axis=1)
            out.update(zip(("iALS max over seeds", "iALS mean over seeds", "iALS min over seeds"), stats))
        return out

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
        served = getattr(self, "served", None)
        key = rows.tobytes()
        if served is not None and key in served:
            i, c, features, first = served[key]
        else:
            i, c, features, first = self._features(rows, self.matrix, self.has_title)
            if served is not None:
                served[key] = (i, c, features, first)
        first = scale_rows(first)  # at most 1
        if len(i) == 0:
            return first
        if self.pair_scorers:
            features = features.assign(
                **{name: np.asarray(score(rows[i], c), np.float32) for name, score in self.pair_scorers.items()}
            )
        s = self.ranker.predict(features[self.feature_names], num_threads=1).astype(np.float64)
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
        self.title_words = np.concatenate([self.title_words, _words(pd.Series(titles, dtype=object))])
        self.order.extend(tracks)


# The ranker's features by group: what each says of a (playlist, candidate) pair. The first four
# are the ranker's first features; the last three add what the seeds, the playlist and the
# track say beyond the sources' scores.
GROUPS = {
    "scores": "the first stage's and each source's score and rank (the title model's apart)",
    "title": "the title model's score and rank, and whether there is a title",
    "seeds and popularity": "how many seeds, how many share the candidate's artist or album; its popularity",
    "order": "the seeds' place in the playlist; the candidate against the last seed",
    "seed similarity": "the candidate against each seed: item-kNN's largest and share; iALS's largest, mean, least",
    "playlist": "the seeds' popularity, mean and spread; their artists and albums per seed; the title's words",
    "track": "its popularity's rank among the candidates, its duration, its artist's and album's popularity",
    "artists and albums": "its artist (album) against the seeds': how often they share playlists, cosine, per seed",
}
BASE_GROUPS = ("scores", "title", "seeds and popularity", "order")  # the ranker's first features
PIPELINE_GROUPS = tuple(GROUPS)[:7]  # the pipeline's; the artists and albums group is graded in the book


def _group(name: str, sources: dict) -> str:
    """The group a feature column belongs to."""
    if name.startswith("title ") and name != "title words" or name == "has title":
        return "title"
    if (
        name.startswith("first stage ")
        or any(name.startswith(f"{source} ") for source in sources)
        and (name.endswith(" score") or name.endswith(" rank"))
    ):
        return "scores"
    if name in ("seeds by its artist", "seeds from its album", "seeds", "log popularity"):
        return "seeds and popularity"
    if name.startswith(("seeds are", "last seed", "item-kNN from the last")):
        return "order"
    if name.endswith(("over seeds", "share of seeds")):
        return "seed similarity"
    if name.startswith(("its artist with", "its album with")):
        return "artists and albums"
    if name.startswith(("seeds", "title words")):
        return "playlist"
    return "track"


class Averaged:
    """Rankers whose scores are averaged."""

    def __init__(self, rankers: list):
        self.rankers = rankers

    def predict(self, features: pd.DataFrame, **options) -> np.ndarray:
        """The rankers' mean score of each row."""
        return np.mean([ranker.predict(features, **options) for ranker in self.rankers], axis=0)

    def gain(self) -> np.ndarray:
        """Each feature's gain, summed over the rankers' trees."""
        return np.sum(
            [getattr(ranker, "booster_", ranker).feature_importance("gain") for ranker in self.rankers], axis=0
        )


@dataclass
class Counts:
    """How many playlists hold each track, each artist's tracks, each album's tracks."""

    tracks: np.ndarray
    artists: np.ndarray
    albums: np.ndarray

    @classmethod
    def of(cls, tracks: np.ndarray, artist_of: sp.csr_matrix, album_of: sp.csr_matrix) -> Counts:
        """The artists' and albums' counts summed from the tracks' (playlists holding each track)."""
        return cls(tracks, artist_of.T @ tracks, album_of.T @ tracks)


def _words(names: pd.Series) -> np.ndarray:
    """The number of words of each playlist's title (0 without one)."""
    return names.fillna("").astype(str).str.split().str.len().to_numpy(np.float32)


def _ndcg(scores: np.ndarray, labels: np.ndarray, group: np.ndarray, hidden: np.ndarray, k: int = 500) -> float:
    """Mean NDCG at ``k`` of candidate lists laid end to end (``group``: their lengths), each ordered by
    ``scores``, against the playlist's ``hidden`` tracks, found among its candidates or not."""
    discount = 1 / np.log2(np.arange(2, k + 2))
    ideal_at = np.concatenate([[0], np.cumsum(discount)])
    out, start = [], 0
    for n, h in zip(group, hidden):
        s, y = scores[start : start + n], labels[start : start + n]
        start += n
        if h > 0:
            order = np.lexsort((np.arange(n), -s))[:k]
            out.append((y[order] * discount[: len(order)]).sum() / ideal_at[min(h, k)])
    return float(np.mean(out)) if out else float("nan")
