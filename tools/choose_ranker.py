"""Choose the two-stage pipeline's candidate pool and its ranker's parameters on the validation challenge alone.

Usage: python tools/choose_ranker.py [--root data] [--pools book/ranker_pools.csv]
                                     [--out book/ranker_params.csv]

On the embedded data of the book's default size (made on first use, as the chapters make
it), the script fits chapter 6's two-stage pipeline once per candidate pool below (the
first stage's best, with the best of each source added), keeping the features and labels
of its validation challenge (cut from the training playlists), and grades each with the
first setting of the parameters below: its ranker learned on half of the validation
playlists and graded on the other half by NDCG at 500 against all their hidden tracks
(``LearnedRanker.validate``), so that a pool is charged for what it misses.
On the best pool, it then grades each setting of the parameters the same way. The held-out
truth is never read. The tables go to ``--pools`` and ``--out``; chapter 6 prints them, and
``catalogue.POOL`` and ``catalogue.RANKER_PARAMS`` hold the best (a test checks that they
do).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from mpd_helpers import files  # noqa: E402
from mpd_helpers.data import challenge_set, dataset, embedded  # noqa: E402
from mpd_helpers.models import catalogue  # noqa: E402

# The pools tried: the first stage's depth and the best of each source added to it (0: none).
_POOL = dict(depth=800, iALS=500, playlist_kNN=200, item_kNN=0, title=0)
POOLS = {
    "first stage 300, iALS 300, playlist-kNN 200": {**_POOL, "depth": 300, "iALS": 300},
    "first stage 500, iALS 300, playlist-kNN 200": {**_POOL, "depth": 500, "iALS": 300},
    "first stage 500, iALS 500, playlist-kNN 200": {**_POOL, "depth": 500},
    "first stage 800, iALS 500, playlist-kNN 200": _POOL,
    "first stage 800, iALS 500, playlist-kNN 200, item-kNN 200": {**_POOL, "item_kNN": 200},
    "first stage 800, iALS 500, playlist-kNN 200, title 100": {**_POOL, "title": 100},
    "first stage 800, iALS 500, playlist-kNN 200, item-kNN 200, title 100": {**_POOL, "item_kNN": 200, "title": 100},
}
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


def fitted(ds, pool: dict, params: dict):
    """The two-stage pipeline with this pool, fitted on the validation challenge only, its features kept."""
    model = catalogue.two_stage(seed=0, depth=pool["depth"])
    model.pool = catalogue.pool_of(pool)
    model.params.update(params)
    model.keep_training, model.refit = True, False  # the second fit serves, and is not graded here
    return model.fit(ds)


def main(argv: list[str] | None = None) -> int:
    """Grade every pool, then every setting on the best pool; write both tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=None, help="where the embedded data is made (default data/)")
    parser.add_argument("--pools", type=Path, default=ROOT / "book" / "ranker_pools.csv")
    parser.add_argument("--out", type=Path, default=ROOT / "book" / "ranker_params.csv")
    args = parser.parse_args(argv)
    paths = embedded.ensure(args.root)
    ds = dataset.load(paths.mpd_dir, challenge_set.read(paths.challenge_path, paths.truth_path))
    first = next(iter(SETTINGS.values()))
    rows, best, best_ndcg = {}, None, -1.0
    for name, pool in POOLS.items():
        start = time.perf_counter()
        model = fitted(ds, pool, first)
        _, labels, group, hidden = model.training[:4]
        ndcg = float(model.validate({name: {}})["validation NDCG"].iat[0])
        rows[name] = {
            **pool,
            "candidates per playlist": group.mean(),
            "recall": labels.sum() / hidden.sum(),
            "validation NDCG": ndcg,
        }
        print(f"{name}: NDCG {ndcg:.4f}, {time.perf_counter() - start:.0f} s", flush=True)
        if ndcg > best_ndcg:
            best, best_ndcg, best_model = name, ndcg, model
    pools = pd.DataFrame(rows).T.rename_axis("pool").astype(float).astype({k: int for k in _POOL})
    files.write_with(args.pools, lambda p: pools.to_csv(p, float_format="%.5f"), suffix=".csv")
    print(pools.to_string())
    table = best_model.validate(SETTINGS).rename_axis("setting")
    table = table[["objective", "num_leaves", "n_estimators", "learning_rate", "validation NDCG"]].astype(
        {"num_leaves": int, "n_estimators": int, "learning_rate": float, "validation NDCG": float}
    )
    files.write_with(args.out, lambda p: table.to_csv(p, float_format="%.5f"), suffix=".csv")
    print(f"on the pool {best}:")
    print(table.to_string())
    print(f"wrote {args.pools} and {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
