"""The book's systems by name: the one list that the command line, the chapters, the benchmarks
and the tests draw their recommenders from.

Each :class:`System` has one name, the one the book's tables print ("item-kNN", "iALS"), and,
when the command line offers it, the name ``recommend --method`` takes ("item-knn", "ials").
``make(seed)`` returns a fresh, unfitted recommender. The write-up's own system (NeuMF +
k-means) is not here: it is built from a trained network and its clusters
(:class:`mpd_helpers.models.clustering.NeuMFClusters`), which the chapters make first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from mpd_helpers.models.base import Popularity, Recommender
from mpd_helpers.models.blend import Blend, seed_weights
from mpd_helpers.models.factorization import ALS
from mpd_helpers.models.neighbours import ItemKNN, PlaylistKNN, RP3beta, Successors
from mpd_helpers.models.ranker import LearnedRanker
from mpd_helpers.models.titles import SameTitle, TitleModel


def first_stage(models: dict[str, Recommender]) -> Blend:
    """Item-kNN, playlist-kNN and iALS, each scaled to its best; the title model for <= 1 seed."""
    return Blend(
        [models["item-kNN"], models["playlist-kNN"], models["iALS"], models["title"]],
        seed_weights(title_until=1, seeded=(1.0, 1.0, 1.0)),
        name="first stage",
    )


def sources(seed: int = 0) -> dict[str, Callable[[], Recommender]]:
    """The two-stage pipeline's sources: the neighbour models, iALS, the next-track model and the title model.

    Item-kNN keeps each track's 100 most similar tracks, precomputed, so that a playlist's
    cost does not grow with the data (on the book's data, the pipeline grades the same as
    with the exact sums).
    """
    return {
        "item-kNN": partial(ItemKNN, prune=100),
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


# The candidates the ranker orders (the first stage's best ``depth``, and the best of each source;
# 0: none of its own) and the ranker's parameters: the pool and then the setting with the best NDCG
# on the validation challenge among those that tools/choose_ranker.py tries (its tables:
# book/ranker_pools.csv, book/ranker_params.csv).
POOL = {"depth": 800, "iALS": 500, "playlist_kNN": 200, "item_kNN": 0, "title": 0}
POOL_SOURCES = {"iALS": "iALS", "playlist_kNN": "playlist-kNN", "item_kNN": "item-kNN", "title": "title"}
RANKER_PARAMS = {"objective": "rank_xendcg", "num_leaves": 15, "n_estimators": 400, "learning_rate": 0.05}


def pool_of(pool: dict[str, int]) -> dict[str, int]:
    """The sources' part of a pool (a row of book/ranker_pools.csv), by source name, without those of 0."""
    return {source: int(pool[key]) for key, source in POOL_SOURCES.items() if pool.get(key, 0) > 0}


def two_stage(seed: int = 0, depth: int | None = None, per_category: int = 200) -> LearnedRanker:
    """The book's best pipeline: the first stage's 800 best, iALS's 500 best and playlist-kNN's 200 best
    candidates of each playlist (``depth`` changes the first), ordered by the learned ranker with every
    group of features.

    Shown in the book: 07_beyond.
    """
    return LearnedRanker(
        sources(seed),
        first_stage,
        pool=pool_of(POOL),
        depth=POOL["depth"] if depth is None else depth,
        per_category=per_category,
        seed=seed,
        **RANKER_PARAMS,
    )


@dataclass(frozen=True)
class System:
    """A recommender the book grades, under the name its tables print."""

    name: str
    make: Callable[[int], Recommender]  # seed -> a fresh, unfitted recommender
    about: str  # one line for tables and --help
    command: str | None = None  # its name on the command line (recommend, continue); None: not offered there
    solved_for_new: bool = False  # a new playlist's factors are solved from its seeds, not fitted with the rest


SYSTEMS: dict[str, System] = {
    system.name: system
    for system in (
        System("popularity", lambda seed: Popularity(), "the most popular training tracks", "popularity"),
        System(
            "item-kNN",
            lambda seed: ItemKNN(fallback=SameTitle()),
            "tracks that share playlists with the seeds (cosine); same-title playlists without seeds",
            "item-knn",
        ),
        System(
            "item-kNN, damping 0.3, length-weighted",
            lambda seed: ItemKNN(fallback=SameTitle(), damping=0.3, length_weight=True),
            "item-kNN with popular candidates damped and long playlists weighted down",
        ),
        System("RP3beta", lambda seed: RP3beta(beta=0.6, fallback=TitleModel()), "a popularity-damped random walk"),
        System(
            "playlist-kNN",
            lambda seed: PlaylistKNN(fallback=TitleModel()),
            "the tracks of the playlists most like this one; the title model without seeds",
            "playlist-knn",
        ),
        System(
            "iALS",
            lambda seed: ALS(seed=seed, fallback=TitleModel()),
            "implicit alternating least squares; the title model without seeds",
            "ials",
            solved_for_new=True,
        ),
        System("successors", lambda seed: Successors(fallback=TitleModel()), "the tracks that follow the last seeds"),
        System("same title", lambda seed: SameTitle(), "the tracks of playlists with the same title"),
        System("title tf-idf", lambda seed: TitleModel(), "the tracks of playlists with similar titles (TF-IDF)"),
        System(
            "blend",
            lambda seed: neighbour_blend(),
            "item-kNN and playlist-kNN blended; the title model for <= 1 seed",
            "blend",
        ),
        System("first stage", first_stage_alone, "item-kNN, playlist-kNN and iALS blended: the first stage alone"),
        System(
            "two-stage",
            two_stage,
            "the first stage's best candidates re-ordered by a LightGBM ranker: the book's best",
            "two-stage",
            solved_for_new=True,
        ),
    )
}
COMMANDS: dict[str, System] = {system.command: system for system in SYSTEMS.values() if system.command}


def make(name: str, seed: int = 0) -> Recommender:
    """A fresh recommender of the system called ``name`` (its book name, or its command-line name)."""
    system = SYSTEMS.get(name) or COMMANDS.get(name)
    if system is None:
        raise KeyError(f"no system called {name!r}; the catalogue has {', '.join(SYSTEMS)}")
    return system.make(seed)
