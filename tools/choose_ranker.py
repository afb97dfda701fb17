"""Choose the two-stage ranker's parameters on the validation challenge alone.

Usage: python tools/choose_ranker.py [--root data] [--out book/ranker_params.csv]

Fits chapter 6's two-stage pipeline on the embedded data of the book's default size (made
on first use, as the chapters make it), keeps the features and labels of its validation
challenge (cut from the training playlists), and learns the ranker under each setting below
on half of those playlists, grading it on the other half by NDCG at 500
(``LearnedRanker.validate``). The held-out truth is never read. The table goes to
``--out``; chapter 6 prints it, and ``catalogue.RANKER_PARAMS`` holds the best setting
(a test checks that it does).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mpd_helpers import files  # noqa: E402
from mpd_helpers.data import challenge_set, dataset, embedded  # noqa: E402
from mpd_helpers.models import catalogue  # noqa: E402

# The settings tried: the objective, the trees' size, their number and learning rate.
SETTINGS = {
    "XE-NDCG, 15 leaves, 150 trees, rate 0.1": dict(
        objective="rank_xendcg", num_leaves=15, n_estimators=150, learning_rate=0.1
    ),
    "LambdaMART, 15 leaves, 150 trees, rate 0.1": dict(
        objective="lambdarank", num_leaves=15, n_estimators=150, learning_rate=0.1
    ),
    "XE-NDCG, 31 leaves, 150 trees, rate 0.1": dict(
        objective="rank_xendcg", num_leaves=31, n_estimators=150, learning_rate=0.1
    ),
    "XE-NDCG, 15 leaves, 400 trees, rate 0.05": dict(
        objective="rank_xendcg", num_leaves=15, n_estimators=400, learning_rate=0.05
    ),
    "XE-NDCG, 31 leaves, 400 trees, rate 0.05": dict(
        objective="rank_xendcg", num_leaves=31, n_estimators=400, learning_rate=0.05
    ),
}


def main(argv: list[str] | None = None) -> int:
    """Fit, validate every setting, write the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=None, help="where the embedded data is made (default data/)")
    parser.add_argument("--out", type=Path, default=ROOT / "book" / "ranker_params.csv")
    args = parser.parse_args(argv)
    paths = embedded.ensure(args.root)
    ds = dataset.load(paths.mpd_dir, challenge_set.read(paths.challenge_path, paths.truth_path))
    start = time.perf_counter()
    model = catalogue.two_stage(seed=0)
    model.keep_training = True
    model.fit(ds)
    print(f"two-stage fitted in {time.perf_counter() - start:.0f} s", flush=True)
    table = model.validate(SETTINGS).rename_axis("setting")
    table = table[["objective", "num_leaves", "n_estimators", "learning_rate", "validation NDCG"]].astype(
        {"num_leaves": int, "n_estimators": int, "learning_rate": float, "validation NDCG": float}
    )
    files.write_with(args.out, lambda p: table.to_csv(p, float_format="%.5f"), suffix=".csv")
    print(table.to_string())
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
