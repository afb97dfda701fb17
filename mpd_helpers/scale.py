"""What the scale appendix's table of costs says, read from the table itself.

``benchmarks/bench_scale.py`` writes one row per size (``slices``), system (``method``) and
stage: its wall ``seconds`` and ``peak_gib`` of resident memory, the data's counts, and the
grade of the job's submission. The appendix prints :func:`findings` instead of prose about
those numbers, so that its text cannot say what the table does not.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mpd_helpers.grading.intervals import HIGHER_IS_BETTER, LABELS

METRICS = ("r_precision", "ndcg", "clicks")  # the grades the table keeps
# Below this relative move, two sizes' grades are called level: each is a mean over other
# challenge playlists (1,000 or 10,000), and such unpaired means move by a few per cent alone.
LEVEL = 0.05
# The stages whose work grows with the training playlists (the others handle only the challenge's).
TRAINING_STAGES = ("load", "fit")


def _sizes(values: Sequence[int]) -> str:
    """1,000 / 10 and 100 / 10, 100 and 1,000."""
    words = [f"{v:,}" for v in values]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _per_size(costs: pd.DataFrame, stage: str, value: str) -> pd.Series:
    """One stage's ``value`` by number of training playlists; a challenge stage's seconds per challenge playlist."""
    rows = costs[costs["stage"] == stage]
    amount = rows[value].to_numpy(float)
    if value == "seconds" and stage not in TRAINING_STAGES and "challenge" in rows:
        amount = amount / rows["challenge"].to_numpy(float)
    return pd.Series(amount, index=rows["playlists"].to_numpy()).groupby(level=0).mean()


def growth(costs: pd.DataFrame, stage: str, value: str = "seconds") -> float:
    """The exponent ``a`` of ``value`` ∝ playlists\\ :sup:`a` for one stage, fitted by least squares on logs.

    For the stages that handle only the challenge playlists, whose number differs between
    sizes, it is the seconds per challenge playlist that are fitted.
    """
    rows = _per_size(costs, stage, value)
    if len(rows) < 2:
        return float("nan")
    return float(np.polyfit(np.log(rows.index.to_numpy(float)), np.log(rows.to_numpy(float)), 1)[0])


def beyond(costs: pd.DataFrame, job: Sequence[str], factors: Sequence[float] = (10, 100)) -> pd.DataFrame:
    """Each stage of the job carried past the largest size measured, by its fitted exponents.

    Per stage: the exponents of time and of peak memory, and both at the largest size and at
    ``factors`` times it (the challenge's 10,000 playlists throughout): the largest
    measurement times ``factor ** exponent``. A row "the job" sums the times and takes the
    largest peak.
    """
    largest = costs[costs["playlists"] == costs["playlists"].max()].set_index("stage")
    rows = {}
    for stage in [s for s in job if s in largest.index]:
        a, b = growth(costs, stage), growth(costs, stage, "peak_gib")
        row = {"time exponent": a, "memory exponent": b}
        for factor in (1, *factors):
            row[f"{factor:g}x: seconds"] = largest.at[stage, "seconds"] * factor**a
            row[f"{factor:g}x: GiB"] = largest.at[stage, "peak_gib"] * factor**b
        rows[stage] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    total = {c: (table[c].sum() if c.endswith("seconds") else table[c].max()) for c in table.columns[2:]}
    table.loc["the job"] = {"time exponent": np.nan, "memory exponent": np.nan, **total}
    return table


def first_outgrown(table: pd.DataFrame, seconds: float = 3600, gib: float = 16) -> str:
    """At the smallest size of a :func:`beyond` table where a stage passes ``seconds`` or the
    memory passes ``gib``: which stages, and where the memory peaks (a stage's peak is the
    whole process's, with what earlier stages left in memory)."""
    stages = table.drop(index="the job")
    for factor in [c.split("x:")[0] for c in table.columns if c.endswith("x: seconds")]:
        time, peak = stages[f"{factor}x: seconds"], stages[f"{factor}x: GiB"]
        over = [f"{stage} passes {seconds / 3600:g} h ({t / 3600:.1f} h)" for stage, t in time.items() if t > seconds]
        if peak.max() > gib:
            over.append(f"the memory passes {gib:g} GiB ({peak.max():.0f} GiB, in {peak.idxmax()})")
        if over:
            return f"At {factor}x the largest size measured: " + "; ".join(over) + "."
    return f"No stage passes {seconds / 3600:g} h or {gib:g} GiB at the sizes carried to."


def _percent(share: float) -> str:
    """0.083 -> '8 %', 0.002 -> '<1 %'."""
    return "<1 %" if share < 0.005 else f"{share * 100:.0f} %"


def _move(before: float, after: float, higher_is_better: bool) -> str:
    """'level', or 'better by 12 %' / 'worse by 8 %'."""
    change = (after - before) / before
    if abs(change) < LEVEL:
        return "level"
    return f"{'better' if (change > 0) == higher_is_better else 'worse'} by {_percent(abs(change))}"


def findings(costs: pd.DataFrame, job: Sequence[str]) -> list[str]:
    """Sentences on one system's costs table: the sizes, how the grades move, which stage
    times fall as the data grows (noise), each stage's growth, and where the job's time goes.

    ``job`` lists the stages from the slices to a verified submission.
    """
    sizes = sorted(costs["slices"].unique())
    first = costs.groupby("slices").first()
    lines = [f"Sizes measured: {_sizes(sizes)} slices ({_sizes(first['playlists'].tolist())} playlists)."]
    for metric in METRICS:
        label, higher = LABELS[metric], HIGHER_IS_BETTER[metric]
        values = first[metric].tolist()
        steps = [
            f"{_move(values[i], values[i + 1], higher)} from {sizes[i]:,} to {sizes[i + 1]:,} slices"
            for i in range(len(sizes) - 1)
        ]
        shown = ", ".join(f"{v:.3f}" if metric != "clicks" else f"{v:.2f}" for v in values)
        lines.append(f"{label}{'' if higher else ' (lower is better)'}: {shown}; " + ", ".join(steps) + ".")
    seconds = costs.pivot_table(index="slices", columns="stage", values="seconds", sort=False)
    falling = [
        f"{stage} ({seconds.at[a, stage]:.1f} s at {a:,} slices, {seconds.at[b, stage]:.1f} s at {b:,})"
        for stage in seconds.columns
        for a, b in zip(sizes, sizes[1:])
        if seconds.at[b, stage] < seconds.at[a, stage]
    ]
    if falling:
        lines.append(
            "Took less time on more data: "
            + "; ".join(falling)
            + ". Their work does not shrink with the data, so these moves are other work that shared "
            "the machine, not a property of the stage."
        )
    exponents = [f"{s} {growth(costs, s):.2f}" for s in TRAINING_STAGES if s in seconds.columns]
    if exponents and len(sizes) > 1:
        per_playlist = [f"{s} {growth(costs, s):.2f}" for s in job if s not in TRAINING_STAGES and s in seconds.columns]
        lines.append(
            "Growth with the training playlists (seconds ∝ playlists^a, fitted over all sizes): "
            + ", ".join(exponents)
            + "; 1 is proportional."
            + (
                " Per challenge playlist: " + ", ".join(per_playlist) + "; 0 is a cost that does not grow."
                if per_playlist and "challenge" in costs
                else ""
            )
        )
    largest = costs[(costs["slices"] == sizes[-1]) & costs["stage"].isin(job)].set_index("stage")["seconds"]
    total = largest.sum()
    shares = ", ".join(f"{stage} {_percent(t / total)}" for stage, t in largest.sort_values(ascending=False).items())
    lines.append(f"At {sizes[-1]:,} slices the job takes {total / 60:.0f} min: {shares}.")
    return lines
