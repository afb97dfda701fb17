"""The reproducibility appendix's tables agree with what they describe: the tolerance table
with ``recorded.TOLERANCES``, and the cross-check table (book/cross_check.md, written by
tools/cross_check.py) with the recorded figures and the settings the tool runs, so that
neither can go stale silently when the references are recorded again."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

from mpd_helpers import recorded

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import cross_check  # noqa: E402


def markdown_table(path: Path, first_header: str) -> tuple[list[str], list[list[str]]]:
    """The header and the rows of the markdown table whose first column is headed so."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"\|\s*{re.escape(first_header)}\s*\|", line))
    cells = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines[start:]]
    end = next((i for i, row in enumerate(cells) if not lines[start + i].startswith("|")), len(cells))
    return cells[0], cells[2:end]


def test_the_tolerance_table_lists_every_kind_as_the_code_states_it():
    _, rows = markdown_table(ROOT / "book" / "reproducibility.md", "kind")
    assert {row[0]: row[1] for row in rows} == {kind: str(t) for kind, t in recorded.TOLERANCES.items()}


def test_the_cross_check_table_counts_the_recorded_figures_under_every_setting():
    reference = json.loads((ROOT / "tests" / "reference_figures.json").read_text())
    expected = Counter(
        (chapter, figure["kind"]) for chapter, figures in reference.items() for figure in figures.values()
    )
    header, rows = markdown_table(ROOT / "book" / "cross_check.md", "figures")
    assert header[1:-1] == list(cross_check.SETTINGS), "the table must show every setting the tool runs"
    found = {}
    for row in rows[:-1]:
        chapter, count, kind = re.fullmatch(r"(\S+): (\d+) × (.+)", row[0]).groups()
        found[(chapter, kind)] = int(count)
        assert row[-1] == str(recorded.TOLERANCES[kind]), row
        assert "missing" not in row, row
    assert found == dict(expected)
    assert rows[-1][0].startswith("`make test`") or rows[-1][0].startswith("the notebooks")
    assert set(rows[-1][1:-1]) == {"passed"}
