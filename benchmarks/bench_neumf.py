"""Training throughput of NeuMF: Keras' model.fit against the sparse-update training step.

Each measurement runs in its own process (so that its peak memory is its own) on the same
utility matrix: the real one when a data directory exists, else a
random matrix shaped like the write-up's (10,000 playlists x 180,000 tracks, 660,000 entries,
Zipf-like track popularity). It times a few hundred optimisation steps after a warm-up and
prints samples per second, the ratio to model.fit, and the peak resident memory.

    .venv/bin/python benchmarks/bench_neumf.py            # defaults: the write-up's architecture
    .venv/bin/python benchmarks/bench_neumf.py --steps 100 --book-batch 2048
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def random_matrix(n_playlists: int, n_tracks: int, n_entries: int, seed: int = 0, zipf: float = 0.9) -> sp.csr_matrix:
    """A binary playlist x track matrix with Zipf-like track popularity and varied lengths."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, n_tracks + 1) ** zipf
    popularity = rng.permutation(weights / weights.sum())
    lengths = rng.lognormal(mean=0.0, sigma=0.6, size=n_playlists)
    lengths /= lengths.sum()
    draws = int(n_entries * 1.15)
    users = rng.choice(n_playlists, size=draws, p=lengths)
    items = rng.choice(n_tracks, size=draws, p=popularity)
    keys = np.unique(users.astype(np.int64) * n_tracks + items)
    keys = np.sort(rng.choice(keys, size=min(n_entries, keys.size), replace=False))
    rows, cols = np.divmod(keys, n_tracks)
    return sp.csr_matrix((np.ones(keys.size, np.float32), (rows, cols)), shape=(n_playlists, n_tracks))


def real_matrix(data_dir: Path) -> sp.csr_matrix | None:
    """The utility matrix of a real or embedded MPD directory, when there is one."""
    from mpd_helpers.data import dataset

    if not data_dir.is_dir():
        return None
    return dataset.load(data_dir, progress=False).matrix


def measure(args: argparse.Namespace) -> dict:
    """Time one training mode in this process and return its figures."""
    import keras

    from mpd_helpers.models import neumf

    with np.load(args.matrix) as f:
        mat = sp.csr_matrix((f["data"], f["indices"], f["indptr"]), shape=tuple(f["shape"]))
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    users, items, labels = neumf.sample_negatives(mat, 4, rng)
    order = rng.permutation(labels.size)
    users, items, labels = users[order], items[order], labels[order]
    batch = args.batch
    warm, timed = args.warmup * batch, args.steps * batch
    need = warm + timed
    if need > labels.size:  # repeat the epoch's samples when asked for more steps than it has
        reps = -(-need // labels.size)
        users, items, labels = (np.tile(a, reps) for a in (users, items, labels))
    model = neumf.build_model(mat.shape[0], mat.shape[1], seed=0, row_lookup=args.run != "naive")
    if args.run == "naive":

        def step(lo: int, hi: int) -> None:
            """model.fit over samples lo:hi."""
            model.fit(
                [users[lo:hi, None], items[lo:hi, None]],
                labels[lo:hi, None],
                batch_size=batch,
                epochs=1,
                shuffle=False,
                verbose=0,
            )
    else:
        trainer = neumf.Trainer(model)

        def step(lo: int, hi: int) -> None:
            """The sparse-update training step over samples lo:hi."""
            trainer.fit_arrays(users[lo:hi], items[lo:hi], labels[lo:hi], batch)

    step(0, warm)
    start = time.perf_counter()
    step(warm, need)
    seconds = time.perf_counter() - start
    return {
        "run": args.run,
        "batch": batch,
        "steps": args.steps,
        "seconds": seconds,
        "samples_per_s": timed / seconds,
        "params": model.count_params(),
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    """Run every mode in a child process and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "mpd", help="MPD directory to use when it exists")
    parser.add_argument("--random", action="store_true", help="use the random matrix only")
    parser.add_argument("--playlists", type=int, default=10_000)
    parser.add_argument("--tracks", type=int, default=180_000)
    parser.add_argument("--entries", type=int, default=660_000)
    parser.add_argument("--steps", type=int, default=200, help="timed steps per mode")
    parser.add_argument("--warmup", type=int, default=20, help="untimed steps first")
    parser.add_argument("--naive-batch", type=int, default=2048)
    parser.add_argument("--book-batch", type=int, default=4096, help="the larger batch to time the fast path at")
    parser.add_argument("--run", choices=["naive", "fast"], help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--matrix", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run:
        print(json.dumps(measure(args)))
        return 0

    mat = None if args.random else real_matrix(args.data)
    source = f"data from {args.data}"
    if mat is None:
        mat = random_matrix(args.playlists, args.tracks, args.entries)
        source = "random Zipf-like matrix"
    print(
        f"utility matrix: {mat.shape[0]:,} playlists x {mat.shape[1]:,} tracks, "
        f"{mat.nnz:,} entries ({source}); {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at start"
    )
    modes = [
        ("naive", args.naive_batch, "keras model.fit"),
        ("fast", 256, "sparse Adam step"),
        ("fast", args.book_batch, "sparse Adam step"),
    ]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "matrix.npz"
        np.savez(path, data=mat.data, indices=mat.indices, indptr=mat.indptr, shape=np.array(mat.shape))
        for run, batch, label in modes:
            cmd = [
                sys.executable,
                __file__,
                "--run",
                run,
                "--batch",
                str(batch),
                "--matrix",
                str(path),
                "--steps",
                str(args.steps),
                "--warmup",
                str(args.warmup),
            ]
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if done.returncode:
                print(done.stderr[-3000:], file=sys.stderr)
                return done.returncode
            row = json.loads(done.stdout.strip().splitlines()[-1])
            row["label"] = label
            rows.append(row)
            print(f"  measured {label} at batch {batch}", file=sys.stderr)
    base = rows[0]["samples_per_s"]
    print(
        f"model: {rows[0]['params']:,} parameters; {args.steps} timed steps after "
        f"{args.warmup} warm-up steps; load average {os.getloadavg()[0]:.1f} at end "
        "(other processes slow every figure)"
    )
    print(f"{'training path':<20}{'batch':>7}{'samples/s':>12}{'vs fit':>8}{'s/step':>9}{'peak MiB':>10}")
    for row in rows:
        print(
            f"{row['label']:<20}{row['batch']:>7}{row['samples_per_s']:>12,.0f}"
            f"{row['samples_per_s'] / base:>7.1f}x{row['seconds'] / row['steps']:>9.4f}"
            f"{row['peak_mib']:>10,.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
