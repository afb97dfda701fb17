"""The scale benchmark's table keeps what it did not measure and replaces what it did."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_scale", ROOT / "benchmarks" / "bench_scale.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rows(method: str, slices: int, seconds: float) -> pd.DataFrame:
    return pd.DataFrame({"stage": ["load", "fit"], "seconds": [seconds, seconds], "method": method, "slices": slices})


def test_new_rows_replace_their_own_method_and_size_and_keep_the_others(tmp_path):
    out = tmp_path / "costs.csv"
    bench = _bench()
    bench.write(pd.concat([_rows("blend", 10, 1.0), _rows("blend", 100, 2.0)]), out)
    bench.write(pd.concat([_rows("two-stage", 10, 3.0), _rows("blend", 100, 4.0)]), out)
    table = pd.read_csv(out)
    assert sorted(set(zip(table["method"], table["slices"]))) == [("blend", 10), ("blend", 100), ("two-stage", 10)]
    seconds = table.groupby(["method", "slices"])["seconds"].first()
    assert seconds[("blend", 10)] == 1.0 and seconds[("blend", 100)] == 4.0 and seconds[("two-stage", 10)] == 3.0
    assert len(table) == 6  # each (method, size) once, two stages each
    assert [p.name for p in tmp_path.iterdir()] == ["costs.csv"]  # no temporary file left
