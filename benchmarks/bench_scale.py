"""The cost curve: each stage's wall time and peak memory, from slices to a graded submission, by size.

    python benchmarks/bench_scale.py [--slices 10 100 300 1000] [--method blend] [--root DIR]
                                     [--workers N] [--out costs.csv]

For every size, in a fresh process (so that its peak memory is its own): generate that many
synthetic slices, build a challenge set of the official size (1,000 playlists per category;
100 below 50 slices, where too few playlists qualify), then run the ``recommend`` command's
own stages (load, fit, recommend, write, verify, grade). It prints each stage's seconds and
peak resident memory (GiB), the job from the slices to a verified submission (load to
verify), the training data's size against the full MPD's, and the grade; with ``--out`` it
writes all of it as CSV (the book's appendix on scale reads ``book/scale_costs.csv``). Data
are made under ``--root`` (default: a temporary folder, removed afterwards); 1,000 slices
take 28 GB of disk.
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

END_TO_END = ("load", "fit", "recommend", "write", "verify")


def measure(slices: int, root: Path, method: str, workers: int | None) -> pd.DataFrame:
    """Every stage at one size, in this process."""
    report: list[dict] = []
    folder = root / f"{slices}-slices"
    per_category = 1000 if slices >= 50 else 100 if slices >= 10 else 5
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
    grade = run.grade.loc["all"]
    return table.assign(
        slices=slices,
        playlists=slices * 1000,
        challenge=10 * per_category,
        method=method,
        **{f"n_{name}": value for name, value in run.sizes.items()},
        **{metric: grade[metric] for metric in ("r_precision", "ndcg", "clicks") if metric in grade},
    )


def main(argv: list[str] | None = None) -> int:
    """Measure every size in its own process and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slices", type=int, nargs="+", default=[10, 100, 300, 1000])
    parser.add_argument("--method", choices=list(pipeline.METHODS), default="blend")
    parser.add_argument("--root", type=Path, default=None)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    root = args.root or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    tables = []
    try:
        for slices in args.slices:  # a fresh process per size: its peak memory is its own
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                table = pool.submit(measure, slices, root, args.method, args.workers).result()
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
        costs.to_csv(args.out, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
