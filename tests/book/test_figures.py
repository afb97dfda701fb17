"""Every figure of the book is legible at the book's width: drawn no wider than its text
column, with text no smaller than its small print (notebooks/matplotlibrc)."""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

from mpd_helpers import plots

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
COLUMN_PX = 800  # the text column of the book's theme on a wide screen


def figures(notebook: Path) -> list[tuple[int, int]]:
    """(width, height) in pixels of every PNG a recorded notebook shows."""
    sizes = []
    for cell in json.loads(notebook.read_text())["cells"]:
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if png:
                sizes.append(struct.unpack(">II", base64.b64decode(png)[16:24]))
    return sizes


def test_the_chapters_draw_figures():
    assert sum(len(figures(nb)) for nb in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")) >= 10


@pytest.mark.parametrize("notebook", sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.stem)
def test_no_figure_is_wider_than_the_column(notebook):
    wide = [size for size in figures(notebook) if size[0] > COLUMN_PX]
    assert not wide, f"{notebook.name}: figures of {wide} px would be shrunk to {COLUMN_PX} px, text and all"


def test_the_style_sets_legible_text():
    style = matplotlib.rc_params_from_file(str(NOTEBOOKS / "matplotlibrc"), use_default_template=False)
    assert style["figure.figsize"][0] * style["figure.dpi"] <= COLUMN_PX
    for key in ("font.size", "xtick.labelsize", "ytick.labelsize", "legend.fontsize", "axes.labelsize"):
        assert float(style[key]) >= 10, key


def test_tables_are_written_as_a_reader_reads_them():
    frame = pd.DataFrame(
        {"entries": [66_346_428, 573_665], "per entry": [0.0341, np.nan], "label": ["a", "b"]},
        index=pd.Index([1_000_000, 10_000], name="playlists"),
    )
    shown = plots.readable(frame, {"per entry": 2})
    assert shown.to_dict("list") == {
        "entries": ["66,346,428", "573,665"],
        "per entry": ["0.03", "–"],
        "label": ["a", "b"],
    }
    assert shown.index.tolist() == ["1,000,000", "10,000"] and shown.index.name == "playlists"
    assert plots.readable(pd.DataFrame({"x": [1e6, 2958.6, 207.0, 2.5]}))["x"].tolist() == [
        "1,000,000",
        "2,959",
        "207",
        "2.500",
    ]
