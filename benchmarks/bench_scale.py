"""The cost curve: each stage's wall time and peak memory, from slices to a graded submission, by size.

    python benchmarks/bench_scale.py [--slices 10 100 300 1000] [--method blend] [--root DIR]
                                     [--reuse] [--workers N] [--out costs.csv]

For every size, in a fresh process (so that its peak memory is its own): generate that many
synthetic slices, build a challenge set of the official size (1,000 playlists per category;
100 below 50 slices, where too few playlists qualify), then run the ``recommend`` command's
own stages (load, fit, recommend, write, verify, grade). It prints each stage's seconds and
peak resident memory (GiB), the job from the slices to a verified submission (load to
verify), the training data's size against the full MPD's, and the grade; with ``--out`` it
writes all of it as CSV (the book's appendix on scale reads ``book/scale_costs.csv``): the
rows of the other methods and sizes already in that file are kept, those measured now
replace their own. Data are made under ``--root`` (default: a temporary folder, removed
afterwards); 1,000 slices take 28 GB of disk. With ``--reuse``, slices and a challenge set
already under ``--root`` (``N-slices/mpd``, ``N-slices/challenge``, as this script makes
them) are used as they are, so that several methods run on the same data; their making is
then not measured.
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from mpd_helpers import pipeline
from mpd_helpers.data import recipe, stats, synthetic
from mpd_helpers.models.factorization import ALS

END_TO_END = ("load", "fit", "recommend", "write", "verify")


def measure(slices: int, root: Path, method: str, workers: int | None, reuse: bool = False) -> pd.DataFrame:
    """Every stage at one size, in this process."""
    report: list[dict] = []
    folder = root / f"{slices}-slices"
    per_category = 1000 if slices >= 50 else 100 if slices >= 10 else 5
    made = reuse and (folder / "challenge" / "challenge_truth.json").is_file()
    if not made:
        with pipeline.stage("synth", report):
            synthetic.generate(folder / "mpd", n_slices=slices, progress=False, workers=workers)
        with pipeline.stage("challenge", report):
            recipe.build(folder / "mpd", folder / "challenge", per_category=per_category, progress=False)
    run = pipeline.recommend_all(
        folder / "mpd",
        folder / "challenge" / "challenge_set.json",
        method,
        folder / "submission.csv",
        folder / "challenge" / "challenge_truth.json",
        workers=workers,
        progress=False,
    )
    table = pd.concat([pd.DataFrame(report), run.stages], ignore_index=True)
    factorised = [part for part in run.model._tree() if isinstance(part, ALS)]
    grade = run.grade.loc["all"]
    return table.assign(
        slices=slices,
        playlists=slices * 1000,
        challenge=10 * per_category,
        method=method,
        **{f"n_{name}": value for name, value in run.sizes.items()},
        **{metric: grade[metric] for metric in ("r_precision", "ndcg", "clicks") if metric in grade},
        ials_seconds_per_iteration=factorised[0].seconds_per_iteration if factorised else float("nan"),
    )


def main(argv: list[str] | None = None) -> int:
    """Measure every size in its own process and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slices", type=int, nargs="+", default=[10, 100, 300, 1000])
    parser.add_argument("--method", choices=list(pipeline.METHODS), default="blend")
    parser.add_argument("--root", type=Path, default=None)
    parser.add_argument("--reuse", action="store_true", help="use slices and challenge sets already under --root")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    root = args.root or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    tables = []
    try:
        for slices in args.slices:  # a fresh process per size: its peak memory is its own
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                table = pool.submit(measure, slices, root, args.method, args.workers, args.reuse).result()
                tables.append(table)
                print(
                    table.pivot_table(index="slices", columns="stage", values="seconds", sort=False)
                    .round(1)
                    .to_string(),
                    flush=True,
                )
    finally:
        if args.root is None:
            shutil.rmtree(root, ignore_errors=True)
    costs = pd.concat(tables, ignore_index=True)
    wide = costs.pivot_table(
        index=["slices", "playlists", "challenge"], columns="stage", values=["seconds", "peak_gib"], sort=False
    )
    job = costs[costs["stage"].isin(END_TO_END)]  # what a user with slices and a challenge set runs
    end_to_end = job.groupby("slices").agg(seconds=("seconds", "sum"), peak_gib=("peak_gib", "max"))
    sizes = costs.groupby("slices")[[c for c in costs if c.startswith("n_")]].first()
    mpd = stats.read_reference()
    sizes.loc["MPD"] = [
        mpd["number of playlists"],
        mpd["number of tracks"],
        mpd["number of unique tracks"],
        mpd["number of unique albums"],
        mpd["number of unique artists"],
    ]
    with pd.option_context("display.width", 200):
        print(wide.round(2).to_string())
        print(f"\nend to end ({', '.join(END_TO_END)}):")
        print(end_to_end.round(2).to_string())
        print("\ntraining data (challenge playlists left out) against the full MPD:")
        print(sizes.astype("int64").to_string())
        print(
            costs.groupby("slices")[[c for c in ("r_precision", "ndcg", "clicks") if c in costs]]
            .first()
            .round(4)
            .to_string()
        )
    if args.out is not None:
        write(costs, args.out)
    return 0


def write(costs: pd.DataFrame, out: Path) -> None:
    """``costs`` into ``out``, beside the rows of other methods and sizes it already holds (a
    temporary file, then a rename)."""
    if out.exists():
        kept = pd.read_csv(out)
        measured = pd.MultiIndex.from_frame(costs[["method", "slices"]].drop_duplicates())
        kept = kept[~pd.MultiIndex.from_frame(kept[["method", "slices"]]).isin(measured)]
        costs = pd.concat([kept, costs], ignore_index=True)
    costs = costs.sort_values(["method", "slices"], kind="stable")
    part = out.with_name(f".{out.name}.part")
    costs.to_csv(part, index=False, float_format="%.4f")
    part.replace(out)


if __name__ == "__main__":
    sys.exit(main())
