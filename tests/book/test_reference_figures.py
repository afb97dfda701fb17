"""The chapters' key figures against the recorded reference, within the stated tolerances.

When nbval executes a chapter (``make test``), the chapter writes its figures to
``work/figures/<chapter>.json``. The tests here run after the notebooks (tests/conftest.py
moves them to the end of the session) and compare each record with
``tests/reference_figures.json``, which ``make reference`` writes. A chapter that nbval did
not execute in this session is skipped: its record, if any, could be stale.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from conftest import EXECUTED_KEY, STARTED_KEY

from mpd_helpers import recorded

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "reference_figures.json"
RECORDS = ROOT / "work" / "figures"


def _reference() -> dict:
    return json.loads(REFERENCE.read_text()) if REFERENCE.is_file() else {}


@pytest.mark.after_notebooks
@pytest.mark.parametrize("chapter", sorted(_reference()))
def test_chapter_figures_within_tolerance(chapter, request):
    executed = request.config.stash.get(EXECUTED_KEY, set())
    if chapter not in executed:
        pytest.skip(f"nbval did not execute {chapter} in this session (make test does)")
    path = RECORDS / f"{chapter}.json"
    assert path.is_file(), f"{chapter} ran but wrote no {path}"
    assert path.stat().st_mtime >= request.config.stash[STARTED_KEY], f"{path} is older than this test session"
    table = recorded.deviations(recorded.read(path), _reference()[chapter])
    bad = table[~table["ok"]]
    assert bad.empty, f"{chapter}: figures outside their tolerance:\n{bad.to_string(index=False)}"


def test_tolerance_allows_within_and_rejects_beyond():
    loss = recorded.TOLERANCES["loss"]  # ±5 % relative
    assert loss.allows(0.3150, 0.30) and loss.allows(0.2850, 0.30)
    assert not loss.allows(0.3160, 0.30) and not loss.allows(0.2840, 0.30)
    metric = recorded.TOLERANCES["metric"]  # ±0.01 absolute
    assert metric.allows(0.190, 0.1805) and not metric.allows(0.191, 0.1805)
    exact = recorded.TOLERANCES["exact"]
    assert exact.allows(0.3108, 0.3108) and not exact.allows(0.3109, 0.3108)
    assert exact.allows(math.nan, math.nan) and not exact.allows(0.0, math.nan)


def test_compare_flags_moved_and_missing_figures(tmp_path):
    rec = recorded.Record("99_test").add("loss, epoch 1", 0.40, "loss").add("blend, ndcg", 0.35, "exact")
    rec.add("NeuMF, r_precision", 0.0804, "metric")
    reference = recorded.read(rec.save(tmp_path))
    moved = dict(reference)
    moved["loss, epoch 1"] = {"value": 0.43, "kind": "loss"}  # +7.5 %
    moved["NeuMF, r_precision"] = {"value": 0.0859, "kind": "metric"}  # +0.0055
    del moved["blend, ndcg"]
    table = recorded.deviations(moved, reference).set_index("figure")
    assert table["ok"].to_dict() == {"loss, epoch 1": False, "blend, ndcg": False, "NeuMF, r_precision": True}
    assert table.at["loss, epoch 1", "tolerance"] == "±5 %"


def test_a_record_with_an_unknown_kind_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown kind"):
        recorded.Record("99_test").add("x", 1.0, "roughly")
    path = tmp_path / "bad.json"
    path.write_text('{"x": {"value": "high", "kind": "loss"}}')
    with pytest.raises(ValueError, match="bad.json"):
        recorded.read(path)


def test_the_reference_covers_every_chapter_that_depends_on_the_model():
    assert {"02_neumf", "03_clustering", "04_application", "06_evaluation"} <= set(_reference())
    kinds = {entry["kind"] for chapter in _reference().values() for entry in chapter.values()}
    assert {"loss", "metric", "exact"} <= kinds
