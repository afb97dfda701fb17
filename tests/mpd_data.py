"""Small generated MPD directories shared by the tests (made once per test session)."""

from __future__ import annotations

import functools
import shutil
import tempfile
from pathlib import Path

from mpd_helpers import challenge, synthetic

_ROOT = Path(tempfile.mkdtemp(prefix="mpd-tests-"))


@functools.lru_cache(maxsize=None)
def mpd_dir(n_slices: int = 1, seed: int = 0) -> Path:
    """A synthetic MPD directory (generated once)."""
    out = _ROOT / f"mpd-{n_slices}-{seed}"
    synthetic.generate(out, n_slices=n_slices, seed=seed, progress=False)
    return out


@functools.lru_cache(maxsize=None)
def challenge_build(n_slices: int = 5, per_category: int = 10, seed: int = 0) -> challenge.Build:
    """A challenge set built from a synthetic MPD directory (built once)."""
    return challenge.build(mpd_dir(n_slices), _ROOT / f"challenge-{n_slices}-{per_category}-{seed}",
                           per_category=per_category, seed=seed, progress=False)


def copy_dir(src: Path, dst: Path) -> Path:
    """A writable copy of a data directory."""
    shutil.copytree(src, dst)
    return dst
