"""The scale appendix's sentences are read from its table of costs, whatever that table holds."""

from __future__ import annotations

import pandas as pd
import pytest

from mpd_helpers import scale

JOB = ["load", "fit", "recommend", "write", "verify"]


def table(sizes: dict[int, dict[str, float]], grades: dict[int, tuple[float, float, float]]) -> pd.DataFrame:
    """A costs table as bench_scale writes it: a row per size and stage."""
    rows = []
    for slices, stages in sizes.items():
        r, n, c = grades[slices]
        for stage, seconds in stages.items():
            rows.append(
                {
                    "stage": stage,
                    "seconds": seconds,
                    "peak_gib": 1.0,
                    "slices": slices,
                    "playlists": slices * 1000,
                    "method": "blend",
                    "r_precision": r,
                    "ndcg": n,
                    "clicks": c,
                }
            )
    return pd.DataFrame(rows)


def test_the_sentences_follow_the_numbers():
    costs = table(
        {
            10: {"load": 10, "fit": 1, "recommend": 10, "write": 2, "verify": 1},
            100: {"load": 100, "fit": 10, "recommend": 100, "write": 20, "verify": 9},
            1000: {"load": 1000, "fit": 100, "recommend": 1000, "write": 5, "verify": 9.5},
        },
        {10: (0.20, 0.40, 3.0), 100: (0.201, 0.30, 2.0), 1000: (0.10, 0.31, 2.5)},
    )
    lines = scale.findings(costs, JOB)
    assert lines[0] == "Sizes measured: 10, 100 and 1,000 slices (10,000, 100,000 and 1,000,000 playlists)."
    assert lines[1] == (
        "R-precision: 0.200, 0.201, 0.100; level from 10 to 100 slices, worse by 50 % from 100 to 1,000 slices."
    )
    assert "NDCG: 0.400, 0.300, 0.310; worse by 25 % from 10 to 100 slices, level from 100 to 1,000" in lines[2]
    assert "better by 33 % from 10 to 100 slices, worse by 25 % from 100 to 1,000" in lines[3]  # fewer clicks: better
    falling = lines[4]
    assert falling.startswith("Took less time on more data: write (20.0 s at 100 slices, 5.0 s at 1,000).")
    assert "verify" not in falling  # 9 s then 9.5 s: no fall
    assert "load 1.00, fit 1.00" in lines[5]
    assert (
        lines[6] == "At 1,000 slices the job takes 35 min: load 47 %, recommend 47 %, fit 5 %, verify <1 %, write <1 %."
    )


def test_no_falling_stage_no_such_sentence():
    costs = table({10: {"load": 1, "fit": 1}, 100: {"load": 8, "fit": 12}}, {10: (0.1, 0.2, 3), 100: (0.1, 0.2, 3)})
    lines = scale.findings(costs, JOB)
    assert not any(line.startswith("Took less time") for line in lines)
    assert scale.growth(costs, "load") == pytest.approx(0.903, abs=1e-3)


def test_challenge_stages_grow_per_challenge_playlist():
    """recommend handles the challenge playlists only: its exponent is that of its cost per challenge playlist."""
    costs = table(
        {10: {"load": 1, "recommend": 1}, 100: {"load": 10, "recommend": 20}}, {10: (0.1,) * 3, 100: (0.1,) * 3}
    )
    costs["challenge"] = costs["slices"].map({10: 1000, 100: 10000})
    assert scale.growth(costs, "load") == pytest.approx(1.0)
    assert scale.growth(costs, "recommend") == pytest.approx(0.30103, abs=1e-5)  # 2x per playlist over 10x the data
    assert scale.growth(costs, "load", "peak_gib") == pytest.approx(0.0)


def test_beyond_carries_each_stage_by_its_exponents_and_names_the_first_to_outgrow():
    costs = table(
        {10: {"load": 10, "fit": 1, "recommend": 100}, 100: {"load": 100, "fit": 100, "recommend": 100}},
        {10: (0.1,) * 3, 100: (0.1,) * 3},
    )
    costs.loc[costs["stage"] == "fit", "peak_gib"] = costs["slices"] / 100  # 0.1 then 1 GiB: exponent 1
    ahead = scale.beyond(costs, JOB)
    assert ahead.at["fit", "time exponent"] == pytest.approx(2.0)
    assert ahead.at["load", "10x: seconds"] == pytest.approx(1000)
    assert ahead.at["fit", "100x: seconds"] == pytest.approx(100 * 100**2)
    assert ahead.at["fit", "10x: GiB"] == pytest.approx(10)
    assert ahead.at["the job", "1x: seconds"] == pytest.approx(300)
    assert ahead.at["the job", "10x: GiB"] == pytest.approx(10)
    # at 10x: fit 10,000 s (> 1 h); load 1,000 s and recommend 100 s stay under
    assert scale.first_outgrown(ahead) == "At 10x the largest size measured: fit passes 1 h (2.8 h)."
    assert scale.first_outgrown(ahead, seconds=1e9, gib=5) == (
        "At 10x the largest size measured: the memory passes 5 GiB (10 GiB, in fit)."
    )
    assert scale.first_outgrown(ahead, seconds=1e9, gib=1e9).startswith("No stage passes")
