"""Bootstrap confidence intervals, paired over challenge playlists: known answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mpd_helpers.grading import intervals, metrics

COLUMNS = ["count", "mean", "low", "high", "diff", "diff_low", "diff_high", "significant"]


def per_playlist(
    values: np.ndarray, pids: np.ndarray | None = None, categories: np.ndarray | None = None, metric: str = "ndcg"
) -> pd.DataFrame:
    """A frame shaped like `metrics.evaluate`'s output, holding one metric."""
    n = len(values)
    pids = np.arange(1000, 1000 + n) if pids is None else pids
    categories = np.arange(n) % 10 + 1 if categories is None else categories
    return pd.DataFrame({"pid": pids, "category": categories, metric: values})


def systems(n: int = 1000, seed: int = 7) -> dict[str, pd.DataFrame]:
    """Four systems graded on the same playlists: a reference, a better, a worse and a twin."""
    rng = np.random.default_rng(seed)
    base = rng.random(n)
    return {
        "popularity": per_playlist(base),
        "item_knn": per_playlist(np.clip(base + 0.05 + 0.05 * rng.standard_normal(n), 0, 1)),
        "worse": per_playlist(base - 0.03 + 0.02 * rng.standard_normal(n)),
        "twin": per_playlist(base.copy()),
    }


def test_constant_difference_has_a_point_interval():
    a = np.random.default_rng(1).random(500)
    b = a - 0.1
    diff, low, high = intervals.paired_difference(a, b)
    assert diff == pytest.approx(0.1, abs=1e-12)
    assert low == pytest.approx(0.1, abs=1e-12)
    assert high == pytest.approx(0.1, abs=1e-12)

    table = intervals.compare({"a": per_playlist(a), "b": per_playlist(b)}, "b", "ndcg")
    row = table.loc["a"]
    assert row[["diff", "diff_low", "diff_high"]].to_numpy(dtype=float) == pytest.approx([0.1, 0.1, 0.1], abs=1e-12)
    assert bool(row["significant"])


def test_identical_systems_differ_by_exactly_zero():
    a = np.random.default_rng(2).random(300)
    assert intervals.paired_difference(a, a.copy()) == (0.0, 0.0, 0.0)

    table = intervals.compare({"ref": per_playlist(a), "copy": per_playlist(a.copy())}, "ref", "ndcg")
    assert list(table.columns) == COLUMNS
    assert table.index.name == "system"
    for name in ("ref", "copy"):
        assert table.loc[name, ["diff", "diff_low", "diff_high"]].tolist() == [0.0, 0.0, 0.0]
        assert not table.loc[name, "significant"]
    assert table.loc["copy", ["mean", "low", "high"]].tolist() == table.loc["ref", ["mean", "low", "high"]].tolist()


def test_large_normal_sample_matches_the_normal_interval():
    n = 20000
    values = np.random.default_rng(3).normal(0.3, 1.0, n)
    mean, low, high = intervals.mean_ci(values)
    assert mean == pytest.approx(values.mean())
    assert low < 0.3 < high
    assert low < mean < high
    expected = 2 * 1.96 / math.sqrt(n)
    assert abs((high - low) - expected) < 0.10 * expected


def test_level_sets_the_width():
    values = np.random.default_rng(4).normal(0.0, 1.0, 5000)
    _, low90, high90 = intervals.mean_ci(values, level=0.90)
    _, low99, high99 = intervals.mean_ci(values, level=0.99)
    # normal quantiles: the 99 % interval is 2.576 / 1.645 times as wide as the 90 % one
    assert (high99 - low99) / (high90 - low90) == pytest.approx(2.576 / 1.645, rel=0.1)


def test_coverage_of_a_bernoulli_mean():
    rng = np.random.default_rng(5)
    samples = rng.random((200, 200)) < 0.3
    covered = 0
    for k, sample in enumerate(samples):
        _, low, high = intervals.mean_ci(sample.astype(float), n_resamples=500, seed=k)
        covered += low <= 0.3 <= high
    assert 0.90 <= covered / len(samples) <= 0.99


def test_pairing_narrows_the_difference_interval():
    rng = np.random.default_rng(6)
    a = rng.random(2000)  # playlists differ a lot from one another ...
    b = a + 0.01 + 0.01 * rng.standard_normal(len(a))  # ... systems much less
    _, a_low, a_high = intervals.mean_ci(a)
    _, b_low, b_high = intervals.mean_ci(b)
    diff, low, high = intervals.paired_difference(b, a)
    assert low < diff < high
    assert low > 0  # 0.01 is detected, although the two means' intervals overlap widely
    assert a_low < b_low < a_high
    assert high - low < 0.1 * min(a_high - a_low, b_high - b_low)
    # an unpaired bootstrap resamples the two systems independently: about sqrt(2) times wider
    # than one mean's interval, so it could not tell the systems apart
    assert math.hypot(a_high - a_low, b_high - b_low) > 10 * (high - low)


def test_compare_resamples_every_system_with_the_same_playlists():
    table = intervals.compare(systems(), "popularity", "ndcg", seed=11)
    for name, frame in systems().items():
        values = frame.sort_values("pid")["ndcg"].to_numpy()
        assert table.loc[name, ["mean", "low", "high"]].to_numpy(dtype=float) == pytest.approx(
            intervals.mean_ci(values, seed=11), rel=1e-12
        )
        reference = systems()["popularity"].sort_values("pid")["ndcg"].to_numpy()
        assert table.loc[name, ["diff", "diff_low", "diff_high"]].to_numpy(dtype=float) == pytest.approx(
            intervals.paired_difference(values, reference, seed=11), abs=1e-12
        )
    assert table["significant"].to_dict() == {"popularity": False, "item_knn": True, "worse": True, "twin": False}
    assert table.loc["item_knn", "diff_low"] > 0 > table.loc["worse", "diff_high"]
    assert (table["count"] == 1000).all()


def test_same_seed_same_table_other_seed_other_bounds():
    first = intervals.compare(systems(), "popularity", "ndcg", seed=3)
    again = intervals.compare(systems(), "popularity", "ndcg", seed=3)
    pd.testing.assert_frame_equal(first, again)
    assert intervals.mean_ci(np.arange(50.0), seed=3) == intervals.mean_ci(np.arange(50.0), seed=3)

    other = intervals.compare(systems(), "popularity", "ndcg", seed=4)
    pd.testing.assert_series_equal(first["mean"], other["mean"])
    assert not np.allclose(first["low"], other["low"], rtol=0, atol=1e-12)
    assert np.allclose(first["low"], other["low"], atol=0.01)
    assert intervals.mean_ci(np.arange(50.0), seed=3) != intervals.mean_ci(np.arange(50.0), seed=4)


def test_rows_are_matched_by_pid_not_by_position():
    table = intervals.compare(systems(), "popularity", "ndcg")
    shuffled = {name: frame.sample(frac=1.0, random_state=k) for k, (name, frame) in enumerate(systems().items())}
    pd.testing.assert_frame_equal(intervals.compare(shuffled, "popularity", "ndcg"), table)


@pytest.mark.parametrize("change", ["other pid", "missing pid", "extra pid", "repeated pid"])
def test_compare_rejects_other_playlists_and_names_the_system(change):
    data = systems(n=50)
    frame = data["worse"]
    if change == "other pid":
        frame = frame.assign(pid=frame["pid"].replace({1000: 5}))
    elif change == "missing pid":
        frame = frame.iloc[1:]
    elif change == "extra pid":
        frame = pd.concat([frame, frame.iloc[:1].assign(pid=9999)])
    else:
        frame = pd.concat([frame.iloc[1:], frame.iloc[1:2]])
    data["worse"] = frame
    with pytest.raises(ValueError, match="worse"):
        intervals.compare(data, "popularity", "ndcg")


def test_compare_rejects_bad_arguments():
    data = systems(n=50)
    with pytest.raises(ValueError, match="nobody"):
        intervals.compare(data, "nobody", "ndcg")
    with pytest.raises(ValueError, match="clicks"):
        intervals.compare(data, "popularity", "clicks")
    with pytest.raises(ValueError, match="level"):
        intervals.compare(data, "popularity", "ndcg", level=95)
    with pytest.raises(ValueError, match="level"):
        intervals.mean_ci(np.ones(5), level=1.0)
    with pytest.raises(ValueError, match="n_resamples"):
        intervals.mean_ci(np.ones(5), n_resamples=0)
    with pytest.raises(ValueError):
        intervals.mean_ci(np.array([]))
    with pytest.raises(ValueError):
        intervals.paired_difference(np.ones(5), np.ones(4))


def test_by_category_gives_one_group_per_category():
    rng = np.random.default_rng(8)
    n = 600
    categories = rng.choice([1, 2, 5, 9], size=n, p=[0.1, 0.2, 0.3, 0.4])
    base = rng.random(n)
    data = {
        "ref": per_playlist(base, categories=categories),
        "better": per_playlist(base + 0.2, categories=categories),
        "noisy": per_playlist(base + rng.normal(0, 0.1, n), categories=categories),
    }
    table = intervals.compare(data, "ref", "ndcg", by_category=True, n_resamples=500)
    assert list(table.columns) == COLUMNS
    assert table.index.names == ["category", "system"]
    assert table.index.get_level_values("category").unique().tolist() == [1, 2, 5, 9]
    counts = pd.Series(categories).value_counts()
    for category, group in table.groupby(level="category"):
        assert group.index.get_level_values("system").tolist() == ["ref", "better", "noisy"]
        assert (group["count"] == counts[category]).all()
        in_category = categories == category
        for name, frame in data.items():
            row = group.loc[(category, name)]
            assert row["mean"] == pytest.approx(frame["ndcg"][in_category].mean())
            assert row["low"] <= row["mean"] <= row["high"]
        assert group.loc[(category, "better"), ["diff", "diff_low", "diff_high"]].to_numpy(
            dtype=float
        ) == pytest.approx([0.2, 0.2, 0.2], abs=1e-12)
        assert group.loc[(category, "ref"), "diff_low":"diff_high"].tolist() == [0.0, 0.0]
    assert table["count"].groupby(level="category").first().sum() == n


def test_by_category_needs_categories():
    data = {name: frame.drop(columns="category") for name, frame in systems(n=50).items()}
    assert len(intervals.compare(data, "popularity", "ndcg")) == 4
    with pytest.raises(ValueError, match="category"):
        intervals.compare(data, "popularity", "ndcg", by_category=True)


def test_compare_reads_evaluate_output():
    truth = pd.DataFrame(
        {
            "pid": [1, 1, 2, 2, 3],
            "category": [1, 1, 1, 1, 2],
            "pos": 0,
            "track_uri": [f"spotify:track:{t:0>22}" for t in "abcde"],
            "artist_uri": "spotify:artist:" + "x" * 22,
        }
    )
    good = pd.DataFrame({"pid": [1, 1, 2, 2, 3], "track_uri": [f"spotify:track:{t:0>22}" for t in "abcde"]})
    bad = good.assign(track_uri="spotify:track:" + "z" * 22)
    graded = {"good": metrics.evaluate(good, truth), "bad": metrics.evaluate(bad, truth)}
    table = intervals.compare(graded, "bad", "clicks", n_resamples=200)
    assert table.loc["good", "mean"] == 0.0
    assert table.loc["bad", "mean"] == metrics.NO_HIT_CLICKS
    assert table.loc["good", ["diff", "diff_low", "diff_high"]].tolist() == [-51.0] * 3
    assert table.loc["good", "significant"]
