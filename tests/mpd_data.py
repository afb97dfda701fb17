"""What the tests share: small generated MPD directories (made once per test session) and the command line."""

from __future__ import annotations

import functools
import importlib
import re
import shutil
import subprocess
import sys
import tempfile
from itertools import islice
from pathlib import Path

from mpd_helpers import cli
from mpd_helpers.data import recipe, slices, synthetic

ROOT = Path(__file__).resolve().parents[1]
SLICE = "mpd.slice.0-999.json"
_ROOT = Path(tempfile.mkdtemp(prefix="mpd-tests-"))


@functools.cache
def mpd_dir(n_slices: int = 1, seed: int = 0) -> Path:
    """A synthetic MPD directory (generated once)."""
    out = _ROOT / f"mpd-{n_slices}-{seed}"
    synthetic.generate(out, n_slices=n_slices, seed=seed, progress=False)
    return out


@functools.cache
def challenge_build(n_slices: int = 5, per_category: int = 10, seed: int = 0) -> recipe.Build:
    """A challenge set built from a synthetic MPD directory (built once)."""
    return recipe.build(
        mpd_dir(n_slices),
        _ROOT / f"challenge-{n_slices}-{per_category}-{seed}",
        per_category=per_category,
        seed=seed,
        progress=False,
    )


@functools.cache
def known_tracks(n_slices: int = 5) -> tuple[str, ...]:
    """Every track URI of a synthetic MPD directory, sorted (read once)."""
    return tuple(sorted(set(slices.read_slices(mpd_dir(n_slices), progress=False).entries["track_uri"])))


def popular_rows(seeds: dict[int, set[str]], skip: int = 0, n_slices: int = 5) -> list[list[str]]:
    """For each playlist (in ``seeds``' order), 500 known tracks, none of them its seeds, after the first ``skip``."""
    known = known_tracks(n_slices)
    return [list(islice((t for t in known if t not in own), skip, skip + 500)) for own in seeds.values()]


def copy_dir(src: Path, dst: Path) -> Path:
    """A writable copy of a data directory."""
    shutil.copytree(src, dst)
    return dst


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    """The command line in this process: exit status, stdout and stderr."""
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_process(*argv, timeout: float = 60) -> tuple[int, str, str]:
    """The command line in a fresh process: a hang fails the test instead of stalling it."""
    done = subprocess.run(
        [sys.executable, "-m", "mpd_helpers", *map(str, argv)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return done.returncode, done.stdout, done.stderr


def last_line(err: str) -> str:
    """The last line of a command's stderr: its error, if any."""
    return err.strip().splitlines()[-1]


INCLUDE = re.compile(r"\{literalinclude\} /mpd_helpers/([\w/]+)\.py\n(?:# :[^\n]*\n)*?# :pyobject: ([\w.]+)")


def included() -> dict[str, list[str]]:
    """The package objects the chapters show (``literalinclude``), as ``module.object`` (the
    module under mpd_helpers, dotted) -> the chapters (notebook stems) that show it."""
    shown: dict[str, list[str]] = {}
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        for module, obj in INCLUDE.findall(path.read_text(encoding="utf-8")):
            shown.setdefault(f"{module.replace('/', '.')}.{obj}", []).append(path.stem)
    return shown


def package_object(dotted: str) -> object:
    """The object ``module.attr[.attr]`` of the package, found by importing modules from the left."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module("mpd_helpers." + ".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(dotted)
