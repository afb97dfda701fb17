"""Bootstrap confidence intervals over challenge playlists, and paired comparisons of systems.

Plain numpy (np.random.default_rng(seed)) rather than scipy.stats.bootstrap: a comparison table
needs one resample matrix shared by every system's mean and every difference to the reference,
while scipy draws its own indices inside each call and copies a float (resamples x rows) array
per sample, so six systems with their differences would need a dozen such copies. Here each
block of resamples becomes a matrix of counts (how often each playlist was drawn), and a single
matrix product gives the resampled means of all columns at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_BLOCK_ENTRIES = 1 << 22  # about 4 M drawn indices per block of resamples


def _check_options(level: float, n_resamples: int) -> None:
    """Reject a confidence level outside (0, 1) or a non-positive number of resamples."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples!r}")


def _resampled_means(columns: np.ndarray, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Column means over `n_resamples` bootstrap resamples of the rows, the same rows for all."""
    n = columns.shape[0]
    means = np.empty((n_resamples, columns.shape[1]))
    step = max(1, _BLOCK_ENTRIES // n)
    for start in range(0, n_resamples, step):  # blocks of resamples, never a loop over rows
        size = min(step, n_resamples - start)
        drawn = rng.integers(0, n, size=(size, n))
        drawn += (np.arange(size) * n)[:, None]
        counts = np.bincount(drawn.ravel(), minlength=size * n).reshape(size, n)
        means[start : start + size] = (counts.astype(np.float64) @ columns) / n
    return means


def _intervals(
    columns: np.ndarray, level: float, n_resamples: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column: the mean and the low and high ends of its bootstrap percentile interval."""
    if columns.shape[0] == 0:
        raise ValueError("cannot bootstrap an empty sample")
    boot = _resampled_means(columns, n_resamples, rng)
    low, high = np.quantile(boot, [(1.0 - level) / 2.0, (1.0 + level) / 2.0], axis=0)
    return columns.mean(axis=0), low, high


def mean_ci(
    values: np.ndarray, level: float = 0.95, n_resamples: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """The mean of `values` and its bootstrap percentile interval (mean, low, high)."""
    _check_options(level, n_resamples)
    column = np.asarray(values, dtype=np.float64).reshape(-1, 1)
    mean, low, high = _intervals(column, level, n_resamples, np.random.default_rng(seed))
    return float(mean[0]), float(low[0]), float(high[0])


def paired_difference(
    a: np.ndarray, b: np.ndarray, level: float = 0.95, n_resamples: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """The mean of a - b over the same playlists and its paired bootstrap interval."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"a and b must be 1-d with the same length, got {a.shape} and {b.shape}")
    return mean_ci(a - b, level=level, n_resamples=n_resamples, seed=seed)


_COMPARE_COLUMNS = ["count", "mean", "low", "high", "diff", "diff_low", "diff_high", "significant"]


def _aligned(
    per_playlist: dict[str, pd.DataFrame], reference: str, metric: str
) -> tuple[pd.Series | None, pd.DataFrame]:
    """The reference's category per pid (if known) and one metric column per system, by pid."""
    if reference not in per_playlist:
        raise ValueError(f"reference system {reference!r} is not among {list(per_playlist)}")
    values = {}
    for name, frame in per_playlist.items():
        if metric not in frame.columns:
            raise ValueError(f"system {name!r} has no column {metric!r}")
        if frame["pid"].duplicated().any():
            raise ValueError(f"system {name!r} has repeated pids")
        values[name] = frame.set_index("pid")[metric].astype(np.float64)
    pids = values[reference].index
    for name, column in values.items():
        if len(column.index) != len(pids) or not column.index.isin(pids).all():
            raise ValueError(f"system {name!r} is graded on other playlists than the reference {reference!r}")
    pids = pids.sort_values()
    table = pd.DataFrame({name: column.reindex(pids) for name, column in values.items()})
    category = None
    if "category" in per_playlist[reference].columns:
        category = per_playlist[reference].set_index("pid")["category"].reindex(pids)
    return category, table


def _compare_block(
    table: pd.DataFrame, reference: str, level: float, n_resamples: int, rng: np.random.Generator
) -> pd.DataFrame:
    """Means, differences to the reference and their intervals for one set of playlists."""
    values = table.to_numpy()
    differences = values - table[reference].to_numpy()[:, None]
    mean, low, high = _intervals(np.hstack([values, differences]), level, n_resamples, rng)
    k = values.shape[1]
    result = pd.DataFrame(
        {
            "count": len(table),
            "mean": mean[:k],
            "low": low[:k],
            "high": high[:k],
            "diff": mean[k:],
            "diff_low": low[k:],
            "diff_high": high[k:],
        },
        index=pd.Index(table.columns, name="system"),
    )
    result["significant"] = (result["diff_low"] > 0) | (result["diff_high"] < 0)
    return result[_COMPARE_COLUMNS]


def compare(
    per_playlist: dict[str, pd.DataFrame],
    reference: str,
    metric: str,
    level: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
    by_category: bool = False,
) -> pd.DataFrame:
    """Each system's mean of `metric` and its paired difference to `reference`, with intervals.

    `per_playlist` maps a system's name to what `evaluate` returned for it; all systems must be
    graded on the same pids. One row per system (index "system"), or with `by_category` one per
    (category, system); columns count, mean, low, high, diff, diff_low, diff_high, significant
    (the difference's interval excludes zero). Within a table (or a category) every system is
    resampled with the same playlists, so the differences stay paired.

    Shown in the book: 06_evaluation.
    """
    _check_options(level, n_resamples)
    category, table = _aligned(per_playlist, reference, metric)
    if not by_category:
        return _compare_block(table, reference, level, n_resamples, np.random.default_rng(seed))
    if category is None:
        raise ValueError(f"by_category needs a 'category' column in the reference {reference!r}")
    groups = category.groupby(category.to_numpy(), sort=True).groups
    streams = np.random.SeedSequence(seed).spawn(len(groups))
    blocks = {
        key: _compare_block(table.loc[pids], reference, level, n_resamples, np.random.default_rng(stream))
        for (key, pids), stream in zip(groups.items(), streams)
    }
    return pd.concat(blocks, names=["category", "system"])


LABELS = {
    "r_precision": "R-precision",
    "r_precision_artist": "R-precision (artist)",
    "ndcg": "NDCG",
    "clicks": "clicks",
}
HIGHER_IS_BETTER = {"r_precision": True, "r_precision_artist": True, "ndcg": True, "clicks": False}


def interval_table(
    per_playlist: dict[str, pd.DataFrame],
    reference: str,
    metrics: tuple[str, ...] = ("r_precision", "ndcg", "clicks"),
    **options,
) -> pd.DataFrame:
    """A readable table: each metric's mean (95 % interval) and its paired difference to `reference`.

    A difference whose interval excludes zero is marked "better" or "worse" for the system
    against the reference; otherwise "≈". `options` go to :func:`compare`.
    """
    columns = {}
    for metric in metrics:
        table = compare(per_playlist, reference, metric, **options)
        digits = 2 if metric == "clicks" else 3
        label = LABELS.get(metric, metric)
        columns[label] = [
            f"{m:.{digits}f} ({lo:.{digits}f}–{hi:.{digits}f})"
            for m, lo, hi in table[["mean", "low", "high"]].to_numpy()
        ]
        columns[f"{label} vs {reference}"] = [
            ""
            if name == reference
            else f"{d:+.{digits}f} ({lo:+.{digits}f}, {hi:+.{digits}f}) {verdict(d, sig, metric)}"
            for name, d, lo, hi, sig in zip(
                table.index, table["diff"], table["diff_low"], table["diff_high"], table["significant"]
            )
        ]
    return pd.DataFrame(columns, index=pd.Index(list(per_playlist), name="system"))


def verdict(difference: float, significant: bool, metric: str) -> str:
    """'better', 'worse' or '≈' (the interval holds zero) for a difference in `metric`."""
    if not significant:
        return "≈"
    return "better" if (difference > 0) == HIGHER_IS_BETTER.get(metric, True) else "worse"
