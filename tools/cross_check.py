"""Run `make test` under settings that change the floating-point work, and tabulate what moved.

Usage: python tools/cross_check.py [--out DIR] [--table book/cross_check.md] [--notebooks] [SETTING ...]

Each setting runs the whole `make test` (unit tests, nbval over every chapter, and the check
of the chapters' recorded figures against tests/reference_figures.json), or with
--notebooks only the part that can move a figure (nbval over every chapter and the
figures' check), in a changed environment: one core instead of two, TensorFlow's oneDNN kernels off, OpenBLAS's Haswell
kernels instead of the ones it picks for this CPU, NumPy without its AVX-512 kernels (as on
an older CPU). Each run's figures are kept under DIR/<setting>/, and the table of how far
every model-dependent figure moved from the reference, per setting, is written to the
markdown file the book's reproducibility appendix includes. Exits 1 if any setting failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from mpd_helpers import recorded  # noqa: E402

# name -> (command prefix, environment)
SETTINGS: dict[str, tuple[list[str], dict[str, str]]] = {
    "as recorded": ([], {}),
    "1 core": (["taskset", "-c", "0"], {}),
    "oneDNN off": ([], {"TF_ENABLE_ONEDNN_OPTS": "0"}),
    "OpenBLAS Haswell": ([], {"OPENBLAS_CORETYPE": "Haswell"}),
    "NumPy without AVX-512": ([], {"NPY_DISABLE_CPU_FEATURES": "X86_V4,AVX512_ICL,AVX512_SPR"}),
}


# --notebooks: what `make test` runs of the notebooks, and the figures' check after them
NOTEBOOKS_ONLY = [
    sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--nbval", "--nbval-current-env",
    "--nbval-sanitize-with", "tests/nbval_sanitize.cfg", "notebooks", "tests/book/test_reference_figures.py",
]  # fmt: skip


def run(name: str, out: Path, notebooks_only: bool = False) -> tuple[bool, float]:
    """``make test`` (or its notebooks) under one setting; its figures go to out/<name>.
    Returns (passed, seconds)."""
    prefix, env = SETTINGS[name]
    records = ROOT / "work" / "figures"
    shutil.rmtree(records, ignore_errors=True)
    start = time.perf_counter()
    command = prefix + (NOTEBOOKS_ONLY if notebooks_only else ["make", "test"])
    print(f"=== {name}: {' '.join([f'{k}={v}' for k, v in env.items()] + command)}", flush=True)
    done = subprocess.run(command, cwd=ROOT, env={**os.environ, **env})
    seconds = time.perf_counter() - start
    target = out / name.replace(" ", "_")
    shutil.rmtree(target, ignore_errors=True)
    if records.is_dir():
        shutil.copytree(records, target)
    print(f"=== {name}: {'passed' if done.returncode == 0 else 'FAILED'} in {seconds / 60:.1f} min", flush=True)
    return done.returncode == 0, seconds


def _largest_moves(group: pd.DataFrame, names: list[str]) -> dict[str, str]:
    """Per setting, the largest move of a group of figures, in the unit of their tolerance."""
    tol = recorded.TOLERANCES[group["kind"].iloc[0]]
    relative = tol.rel and not tol.abs
    cells = {}
    for name in names:
        move = group[name].abs()
        if relative:
            move = move / group["reference"].abs()
        if move.isna().any():
            cells[name] = "missing"
        elif move.max() == 0:
            cells[name] = "0"
        else:
            cells[name] = f"{move.max():.1%}" if relative else f"{move.max():.3g}"
    return cells


def table(out: Path, names: list[str], passed: dict[str, bool], what: str = "`make test`") -> str:
    """Markdown: per chapter and kind of figure, the largest move from the reference per setting."""
    reference = json.loads((ROOT / "tests" / "reference_figures.json").read_text())
    frames = []
    for chapter, ref in reference.items():
        records = {}
        for name in names:
            path = out / name.replace(" ", "_") / f"{chapter}.json"
            records[name] = recorded.read(path) if path.is_file() else {}
        frame = recorded.spread(records, ref)
        frame.insert(0, "chapter", chapter)
        frames.append(frame)
    moves = pd.concat(frames)
    lines = [
        f"Measured with `python tools/cross_check.py` on one {platform.machine()} machine "
        f"({os.cpu_count()} cores) against references recorded with its default setting. A cell "
        "is the largest move of any figure of its row from that figure's reference, in the "
        "unit of the tolerance (0: bit-identical).",
        "",
        "| figures | " + " | ".join(names) + " | tolerance |",
        "|---|" + "---:|" * len(names) + "---|",
    ]
    for (chapter, kind), group in moves.groupby(["chapter", "kind"], sort=True):
        cells = _largest_moves(group, names)
        label = f"{chapter}: {len(group)} × {kind}"
        lines.append(f"| {label} | " + " | ".join(cells[n] for n in names) + f" | {recorded.TOLERANCES[kind]} |")
    lines.append(f"| {what} | " + " | ".join("passed" if passed.get(n) else "failed" for n in names) + " | |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the settings, then write the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("settings", nargs="*", default=list(SETTINGS), help=f"any of: {', '.join(SETTINGS)}")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "cross-check")
    parser.add_argument("--table", type=Path, default=ROOT / "book" / "cross_check.md")
    parser.add_argument("--table-only", action="store_true", help="tabulate the runs already under --out")
    parser.add_argument(
        "--notebooks", action="store_true", help="run only the notebooks and the figures' check, not all of make test"
    )
    args = parser.parse_args(argv)
    unknown = set(args.settings) - set(SETTINGS)
    if unknown:
        parser.error(f"unknown setting(s) {', '.join(sorted(unknown))}; choose from {', '.join(SETTINGS)}")
    args.out.mkdir(parents=True, exist_ok=True)
    status = args.out / "status.json"
    passed = json.loads(status.read_text()) if status.is_file() else {}
    if not args.table_only:
        for name in args.settings:
            passed[name], _ = run(name, args.out, args.notebooks)
            status.write_text(json.dumps(passed, indent=1))
    names = [n for n in SETTINGS if n in passed]
    what = "the notebooks and the figures' check" if args.notebooks else "`make test`"
    text = table(args.out, names, passed, what)
    tmp = args.table.with_name(f".{args.table.name}.tmp")
    tmp.write_text(text)
    tmp.replace(args.table)
    print(text)
    return 0 if all(passed[n] for n in names) else 1


if __name__ == "__main__":
    raise SystemExit(main())
