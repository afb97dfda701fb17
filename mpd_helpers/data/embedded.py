"""The embedded data: a synthetic MPD and a challenge set built from it, made on first use."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mpd_helpers import files
from mpd_helpers.data import recipe, synthetic
from mpd_helpers.errors import MPDInputError

DEFAULT_ROOT = Path(os.environ.get("MPD_BOOK_DATA", Path(__file__).resolve().parents[2] / "data"))


@dataclass(frozen=True)
class Embedded:
    """Where the embedded data lies."""

    mpd_dir: Path
    challenge_path: Path
    truth_path: Path


def ensure(
    root: str | Path | None = None, n_slices: int = 10, per_category: int = 100, seed: int = 0, progress: bool = True
) -> Embedded:
    """Generate the embedded MPD and challenge set under ``root`` unless they are there already."""
    for name, value, least in (("n_slices", n_slices, 1), ("per_category", per_category, 1), ("seed", seed, 0)):
        if value < least:
            raise MPDInputError(f"must be at least {least}, got {value}", field=name)
    base = Path(root) if root is not None else DEFAULT_ROOT
    folder = base / f"synthetic-{n_slices}x1000-c{per_category}-s{seed}"
    paths = Embedded(
        folder / "mpd", folder / "challenge" / "challenge_set.json", folder / "challenge" / "challenge_truth.json"
    )
    stamp = files.read_stamp(folder)  # None when missing or unreadable: then the data is made anew
    if stamp is not None and stamp.get("generator") == synthetic.GENERATOR_VERSION:
        return paths
    synthetic.generate(paths.mpd_dir, n_slices=n_slices, seed=seed, progress=progress)
    built = recipe.build(
        paths.mpd_dir, paths.challenge_path.parent, per_category=per_category, seed=seed, progress=progress
    )
    files.write_json(
        folder / files.STAMP,
        {
            "kind": "embedded data",
            "generator": synthetic.GENERATOR_VERSION,
            "slices": n_slices,
            "per_category": per_category,
            "seed": seed,
            "coverage": built.coverage["mean_coverage"].round(4).tolist(),
        },
    )
    return paths
