"""Times the application step: batched predictions against the write-up's per-playlist loop.

    python benchmarks/bench_application.py [--work work] [--sample 3] [--scale 10]

Run it after ``make book`` (it reads the dataset, the NeuMF model and the k-means labels
from the work directory). It times

* the batched pipeline (``clustering.NeuMFClusters``) on every challenge playlist, and on
  ``--scale`` copies of them (10 copies of the default 1,000 = the official 10,000);
* the write-up's procedure, re-implemented step for step (a Python scan of the cluster
  labels, one DataFrame filter per neighbour, ``model.predict`` at batch 100, one
  DataFrame filter per candidate to find its URI, pandas sorting and de-duplication, the
  popular fill) on ``--sample`` playlists,

and prints seconds per playlist for both and their ratio.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from mpd_helpers.data import dataset
from mpd_helpers.models import clustering, neumf, titles


def writeup_procedure(
    row: int, entries: pd.DataFrame, labels: np.ndarray, model, popular_uris: list[str], n: int = 500
) -> list[str]:
    """The write-up's per-playlist loop, in its own shape (slow on purpose)."""
    neighbours = [u for u, label in enumerate(labels) if label == labels[row]]
    tracks: list[int] = []
    for u in neighbours:
        tracks += list(entries[entries["pid"] == u]["track_index"])
    users = np.full(len(tracks), row, dtype="int32")
    probs = model.predict([users[:, None], np.array(tracks, dtype="int32")[:, None]], batch_size=100, verbose=0)
    table = pd.DataFrame(np.nan, index=range(len(probs)), columns=["probability", "track_uri"], dtype=object)
    for i, p in enumerate(probs):
        table.loc[i] = [p[0], entries[entries["track_index"] == tracks[i]].iloc[0]["trackid"]]
    table = table.sort_values(by=["probability"], ascending=False).drop_duplicates(subset=["track_uri"])
    own = entries[entries["pid"] == row]["trackid"]
    table = table[~table["track_uri"].isin(own)]
    result = table[:n]["track_uri"].tolist()
    if len(result) < n:
        result += [t for t in popular_uris if t not in set(result) | set(own)][: n - len(result)]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", default="work")
    parser.add_argument("--sample", type=int, default=3, help="playlists for the write-up's loop")
    parser.add_argument("--scale", type=int, default=10, help="copies of the challenge rows for the large run")
    args = parser.parse_args()
    work = Path(args.work)
    ds = dataset.read_saved(work / "dataset")
    M = ds.matrix
    model, _ = neumf.load(work / "neumf")
    labels = np.load(work / "clusters.npz")["labels"]
    rows = ds.challenge_rows
    pipeline = clustering.NeuMFClusters(neumf.Scorer(model), labels, titles.TitleModel()).fit(ds)

    timings = {}
    for label, batch_rows in [
        (f"batched, {len(rows):,} playlists", rows),
        (f"batched, {len(rows) * args.scale:,} playlists", np.tile(rows, args.scale)),
    ]:
        start = time.perf_counter()
        pipeline.recommend(batch_rows, progress=True)
        timings[label] = (time.perf_counter() - start, len(batch_rows))

    seeded = rows[M[rows].getnnz(axis=1) >= 5][: args.sample]
    popular_uris = ds.tracks["track_uri"].to_numpy()[pipeline.popular[:1000]].tolist()
    start = time.perf_counter()
    for row in seeded:
        writeup_procedure(int(row), ds.entries, labels, model, popular_uris)
    timings[f"write-up's loop, {len(seeded)} playlists"] = (time.perf_counter() - start, len(seeded))

    loop = timings[f"write-up's loop, {len(seeded)} playlists"]
    per_loop = loop[0] / loop[1]
    print(f"\n{'procedure':40s} {'seconds':>9s} {'s/playlist':>11s} {'speed-up':>9s}")
    for name, (seconds, count) in timings.items():
        per = seconds / count
        print(f"{name:40s} {seconds:9.2f} {per:11.4f} {per_loop / per:9.0f}x")


if __name__ == "__main__":
    main()
