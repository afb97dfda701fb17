"""The embedded data: a synthetic MPD and a challenge set built from it, made on first use."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from mpd_helpers import challenge, synthetic

DEFAULT_ROOT = Path(os.environ.get("MPD_BOOK_DATA", Path(__file__).resolve().parents[1] / "data"))


@dataclass(frozen=True)
class Embedded:
    """Where the embedded data lies."""

    mpd_dir: Path
    challenge_path: Path
    truth_path: Path


def ensure(root: str | Path | None = None, n_slices: int = 10, per_category: int = 100, seed: int = 0,
           progress: bool = True) -> Embedded:
    """Generate the embedded MPD and challenge set under ``root`` unless they are there already."""
    base = Path(root) if root is not None else DEFAULT_ROOT
    folder = base / f"synthetic-{n_slices}x1000-c{per_category}-s{seed}"
    paths = Embedded(folder / "mpd", folder / "challenge" / "challenge_set.json",
                     folder / "challenge" / "challenge_truth.json")
    stamp = folder / "complete.json"
    if stamp.is_file() and json.loads(stamp.read_text()).get("generator") == synthetic.GENERATOR_VERSION:
        return paths
    synthetic.generate(paths.mpd_dir, n_slices=n_slices, seed=seed, progress=progress)
    built = challenge.build(paths.mpd_dir, paths.challenge_path.parent, per_category=per_category,
                            seed=seed, progress=progress)
    stamp.write_text(json.dumps({"generator": synthetic.GENERATOR_VERSION, "slices": n_slices, "per_category": per_category, "seed": seed,
                                 "coverage": built.coverage["mean_coverage"].round(4).tolist()}))
    return paths


def add_cli(subparsers) -> None:
    """``embedded``: make the embedded data if it is missing and print where it is."""
    p = subparsers.add_parser("embedded", help="generate the embedded synthetic MPD and challenge set if missing")
    p.add_argument("--root", default=None, help=f"data directory (default {DEFAULT_ROOT})")
    p.add_argument("--slices", type=int, default=10)
    p.add_argument("--per-category", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cli)


def _cli(args) -> int:
    """Run ``embedded``."""
    paths = ensure(args.root, args.slices, args.per_category, args.seed)
    print(f"mpd_dir={paths.mpd_dir}\nchallenge={paths.challenge_path}\ntruth={paths.truth_path}")
    return 0
