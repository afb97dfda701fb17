"""Times the data foundation: generating the embedded MPD, and loading it against a plain reader.

    python benchmarks/bench_data.py [--slices 10] [--repeat 3]

The plain reader is what the write-up did: ``json.load`` each slice and
``pandas.json_normalize`` its playlists (plus, for a like-for-like figure, flattening
the tracks into one row per entry with ``json_normalize(record_path='tracks')``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from mpd_helpers.data import dataset, slices, synthetic


def plain_playlists(mpd_dir: Path) -> pd.DataFrame:
    """The write-up's reader: one row per playlist, tracks left nested."""
    frames = []
    for path in slices.slice_files(mpd_dir):
        with open(path) as f:
            frames.append(pd.json_normalize(json.load(f), "playlists"))
    return pd.concat(frames)


def plain_entries(mpd_dir: Path) -> pd.DataFrame:
    """A plain reader of one row per playlist-track entry."""
    frames = []
    for path in slices.slice_files(mpd_dir):
        with open(path) as f:
            doc = json.load(f)
        frames.append(pd.json_normalize(doc["playlists"], record_path="tracks", meta=["pid", "num_tracks"]))
    return pd.concat(frames, ignore_index=True)


def timed(fn, repeat: int) -> float:
    """Median wall time of ``fn()`` over ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slices", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "mpd"
        gen = timed(lambda: synthetic.generate(out, args.slices, seed=0, progress=False), 1)
        rows = {
            "generate (synthetic.generate)": gen,
            "load, checked (dataset.load)": timed(lambda: dataset.load(out, progress=False), args.repeat),
            "plain: json + json_normalize playlists": timed(lambda: plain_playlists(out), args.repeat),
            "plain: json + json_normalize entries": timed(lambda: plain_entries(out), args.repeat),
        }
    ours = rows["load, checked (dataset.load)"]
    print(f"{args.slices} slices ({args.slices * 1000:,} playlists); median of {args.repeat} runs\n")
    print(f"{'step':45s} {'seconds':>8s} {'plain / ours':>13s}")
    for name, seconds in rows.items():
        ratio = f"{seconds / ours:13.2f}" if name.startswith("plain") else ""
        print(f"{name:45s} {seconds:8.2f} {ratio}")


if __name__ == "__main__":
    main()
