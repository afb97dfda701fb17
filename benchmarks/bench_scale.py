"""The cost curve: each stage's wall time and peak memory, from slices to a graded submission, by size.

    python benchmarks/bench_scale.py [--slices 10 100 300 1000] [--method blend] [--root DIR]
                                     [--workers N] [--out costs.csv]

For every size, in a fresh process (so that its peak memory is its own): generate that many
synthetic slices, build a challenge set of the official size (1,000 playlists per category;
100 below 100 slices, where too few playlists qualify), then run the ``recommend`` command's
own stages (load, fit, recommend, write, verify, grade). Each stage's seconds and peak
resident memory (GiB) are printed as a table and, with ``--out``, written as CSV. Data are
made under ``--root`` (default: a temporary folder, removed afterwards).
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

from mpd_helpers import challenge, pipeline, synthetic


def measure(slices: int, root: Path, method: str, workers: int | None) -> pd.DataFrame:
    """Every stage at one size, in this process."""
    report: list[dict] = []
    folder = root / f"{slices}-slices"
    per_category = 1000 if slices >= 50 else 100 if slices >= 10 else 5
    with pipeline.stage("synth", report):
        synthetic.generate(folder / "mpd", n_slices=slices, progress=False)
    with pipeline.stage("challenge", report):
        challenge.build(folder / "mpd", folder / "challenge", per_category=per_category, progress=False)
    stages, _ = pipeline.recommend_all(folder / "mpd", folder / "challenge" / "challenge_set.json", method,
                                       folder / "submission.csv", folder / "challenge" / "challenge_truth.json",
                                       workers=workers, progress=False)
    table = pd.concat([pd.DataFrame(report), stages], ignore_index=True)
    return table.assign(slices=slices, playlists=slices * 1000, challenge=10 * per_category, method=method)


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
                print(table.pivot_table(index="slices", columns="stage", values="seconds", sort=False).round(1)
                      .to_string(), flush=True)
    finally:
        if args.root is None:
            shutil.rmtree(root, ignore_errors=True)
    costs = pd.concat(tables, ignore_index=True)
    wide = costs.pivot_table(index=["slices", "playlists", "challenge"], columns="stage",
                             values=["seconds", "peak_gib"], sort=False)
    end_to_end = costs.groupby("slices").agg(total_seconds=("seconds", "sum"), peak_gib=("peak_gib", "max"))
    with pd.option_context("display.width", 200):
        print(wide.round(2).to_string())
        print(end_to_end.round(2).to_string())
    if args.out is not None:
        costs.to_csv(args.out, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
