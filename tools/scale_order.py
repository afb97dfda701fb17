"""Grade the main systems at several sizes of the embedded data: does their order hold as it grows?

Usage: python tools/scale_order.py [--sizes 10:100 50:1000 100:1000 300:1000] [--root data]
                                   [--cache _build/scale] [--out book/scale_order.csv]

A size ``S:C`` is the embedded generator's ``S`` slices (1,000 playlists each) with a
challenge set of ``C`` playlists per category (10 categories) held out of them, made on first
use like the book's default data (10:100). At each size the script fits chapter 6's
systems (the same package code), recommends 500 tracks for every challenge playlist and grades
them: all of them up to 50 slices, and past that the five that carry the chapter's question
(item-kNN, playlist-kNN, iALS, the first stage and the two-stage pipeline), since the variants
of item-kNN and the blend are the costliest to serve and answer nothing new there.

Per-playlist grades are kept under ``--cache``, by size and generator version (a rerun only
grades what is missing; delete a system's file after changing it), and the
summary is written to ``--out``: for each size, system, category ("all" and 1-10) and metric,
the mean with its 95 % paired bootstrap interval, and the paired difference to item-kNN and to
the best single model of that size (by R-precision) with theirs. Chapter 6 plots it.
The systems are those of chapter 6 that need no NeuMF model (NeuMF is trained by the
chapters, at the default size only).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from mpd_helpers import files  # noqa: E402
from mpd_helpers.data import challenge_set, dataset, embedded, synthetic  # noqa: E402
from mpd_helpers.grading import intervals, metrics  # noqa: E402
from mpd_helpers.models import base, catalogue  # noqa: E402

METRICS = ("r_precision", "ndcg", "clicks")
SINGLE_MODELS = ("item-kNN", "playlist-kNN", "iALS")


# The systems graded at every size: chapter 6's, from the catalogue, less those that need NeuMF.
SYSTEMS = (
    "item-kNN",
    "item-kNN, damping 0.3, length-weighted",
    "RP3beta",
    "playlist-kNN",
    "iALS",
    "blend",
    "first stage",
    "two-stage",
)
# The systems graded past ALL_UP_TO slices.
CORE = ("item-kNN", "playlist-kNN", "iALS", "first stage", "two-stage")
ALL_UP_TO = 50


def systems_at(slices: int) -> tuple[str, ...]:
    """The systems graded at a size: all of them up to ``ALL_UP_TO`` slices, the core ones past it."""
    return SYSTEMS if slices <= ALL_UP_TO else CORE


def grade_size(
    slices: int, per_category: int, root: Path | None, cache: Path, seed: int = 0, only: list[str] | None = None
) -> dict[str, pd.DataFrame]:
    """Every system's per-playlist grade at one size (from the cache where it is there)."""
    paths = embedded.ensure(root, n_slices=slices, per_category=per_category, seed=seed)
    folder = cache / f"{slices}x1000-c{per_category}-s{seed}-g{synthetic.GENERATOR_VERSION}"  # data of this generator
    folder.mkdir(parents=True, exist_ok=True)
    wanted = [name for name in systems_at(slices) if only is None or name in only]
    missing = [name for name in wanted if not (folder / f"{name}.parquet").is_file()]
    if missing:
        challenge = challenge_set.read(paths.challenge_path, paths.truth_path)
        ds = dataset.load(paths.mpd_dir, challenge)
        rows = ds.challenge_rows
        for name in missing:
            start = time.perf_counter()
            recs = catalogue.make(name, seed).fit(ds).recommend(rows)
            grade = metrics.evaluate(base.as_frame(ds, rows, recs), challenge.truth.tracks, ndcg="spotify")
            files.write_with(folder / f"{name}.parquet", grade.to_parquet, suffix=".parquet")
            print(
                f"{slices} slices, {name}: {time.perf_counter() - start:.0f} s, "
                f"R-precision {grade['r_precision'].mean():.4f}",
                flush=True,
            )
    # every system graded at this size, whether asked for now or before
    return {
        name: pd.read_parquet(folder / f"{name}.parquet")
        for name in systems_at(slices)
        if (folder / f"{name}.parquet").is_file()
    }


def summary(graded: dict[str, pd.DataFrame], slices: int, per_category: int) -> pd.DataFrame:
    """Means, intervals and paired differences to item-kNN and to the best single model, per category."""
    single = [n for n in graded if n in SINGLE_MODELS]
    best = max(single, key=lambda n: graded[n]["r_precision"].mean())
    blocks = []
    for reference in dict.fromkeys(["item-kNN", best]) if "item-kNN" in graded else [best]:
        for metric in METRICS:
            overall = intervals.compare(graded, reference, metric).assign(category="all")
            per_cat = intervals.compare(graded, reference, metric, by_category=True).reset_index("category")
            for table in (overall, per_cat.assign(category=per_cat["category"].astype(str))):
                blocks.append(table.reset_index().assign(reference=reference, metric=metric))
    out = pd.concat(blocks, ignore_index=True)
    n_train = int(slices * 1000 - 10 * per_category)
    return out.assign(
        slices=slices, training_playlists=n_train, challenge_playlists=10 * per_category, best_single=best
    )[
        [
            "slices",
            "training_playlists",
            "challenge_playlists",
            "reference",
            "best_single",
            "metric",
            "category",
            "system",
            "count",
            "mean",
            "low",
            "high",
            "diff",
            "diff_low",
            "diff_high",
            "significant",
        ]
    ]


def main(argv: list[str] | None = None) -> int:
    """Grade every size and write the summary table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes", nargs="+", default=["10:100", "50:1000", "100:1000", "300:1000"], metavar="SLICES:PER_CATEGORY"
    )
    parser.add_argument("--root", type=Path, default=None, help="where the embedded data is made (default data/)")
    parser.add_argument("--cache", type=Path, default=ROOT / "_build" / "scale")
    parser.add_argument("--out", type=Path, default=ROOT / "book" / "scale_order.csv")
    parser.add_argument("--systems", nargs="+", choices=list(SYSTEMS), help="only these (default: all)")
    args = parser.parse_args(argv)
    tables = []
    for size in args.sizes:
        slices, per_category = (int(x) for x in size.split(":"))
        graded = grade_size(slices, per_category, args.root, args.cache, only=args.systems)
        tables.append(summary(graded, slices, per_category))
    table = pd.concat(tables, ignore_index=True)
    files.write_with(args.out, lambda p: table.to_csv(p, index=False, float_format="%.5f"), suffix=".csv")
    shown = table.query("category == 'all' and reference == 'item-kNN'").pivot_table(
        index=["slices", "system"], columns="metric", values="mean"
    )
    print(shown.round(4).to_string())
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
