"""The command line's argument types: a value in range, or one line saying what was expected."""

import argparse
from pathlib import Path

import pytest

from mpd_helpers.cli import arguments


@pytest.mark.parametrize(
    "kind, text, value",
    [(arguments.positive_int, "3", 3), (arguments.seed, "0", 0), (arguments.seed, "4294967295", 2**32 - 1)]
    + [(arguments.share, "0.5", 0.5), (arguments.share, "1", 1.0)],
)
def test_a_value_in_range_is_read(kind, text, value):
    assert kind(text) == value


@pytest.mark.parametrize(
    "kind, text, message",
    [
        (arguments.positive_int, "abc", "'abc' is not an integer"),
        (arguments.positive_int, "0", "0 is not a positive integer"),
        (arguments.seed, "1.5", "'1.5' is not an integer"),
        (arguments.seed, "4294967296", "4294967296 is not a seed in 0..4294967295"),
        (arguments.share, "x", "'x' is not a number"),
        (arguments.share, "0", "0 is not a share in (0, 1]"),
        (arguments.share, "nan", "nan is not a share in (0, 1]"),
    ],
)
def test_a_value_out_of_range_says_what_was_expected(kind, text, message):
    with pytest.raises(argparse.ArgumentTypeError) as err:
        kind(text)
    assert str(err.value) == message


@pytest.mark.parametrize("command, default", [("recommend", "two-stage"), ("continue", "playlist-knn")])
def test_help_names_the_default_method_why_and_every_method(command, default, capsys):
    from mpd_helpers import cli, pipeline

    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split()).replace("- ", "-")  # argparse wraps after hyphens
    assert f"default {default}" in text
    assert (
        cli.build_parser().parse_args([command, "mpd", *(["c.json"] if command == "recommend" else [])]).method
        == default
    )
    for name, system in pipeline.METHODS.items():
        assert f"{name}: {' '.join(system.about.split())}." in text


def test_the_full_size_figures_in_help_are_the_appendixs():
    """recommend --help quotes each system's job at 1,000 slices: the scale table's own figures."""
    import pandas as pd

    from mpd_helpers.cli import commands

    costs = pd.read_csv(Path(__file__).resolve().parents[2] / "book" / "scale_costs.csv")
    job = costs[(costs["slices"] == 1000) & costs["stage"].isin(["load", "fit", "recommend", "write", "verify"])]
    for method, (minutes, gib) in commands.FULL_SIZE.items():
        rows = job[job["method"] == method]
        assert round(rows["seconds"].sum() / 60) == minutes
        assert round(rows["peak_gib"].max(), 1) == gib
