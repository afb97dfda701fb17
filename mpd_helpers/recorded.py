"""Each chapter's key figures, recorded, and checked against a reference within stated tolerances.

The data, the challenge set, popularity, the neighbour models and the metrics come out the
same, bit for bit, on any x86-64 machine, so nbval checks what the chapters print about them
character by character. A trained model does not: another CPU, another BLAS kernel or
TensorFlow's oneDNN switched off adds in another order, and after a few epochs the last bits
have become the third decimal. So the chapters print the figures that follow from the model
for the reader, nbval leaves those cells' text alone, and every figure is also written to
``<work>/figures/<chapter>.json``; ``tests/book/test_reference_figures.py`` compares that record with
``tests/reference_figures.json`` within the tolerance of the figure's kind (:data:`TOLERANCES`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mpd_helpers import files
from mpd_helpers.errors import MPDInputError


@dataclass(frozen=True)
class Tolerance:
    """How far a figure may move from its reference: ``|x - ref| <= abs + rel * |ref|``."""

    abs: float = 0.0
    rel: float = 0.0
    meaning: str = ""

    def allows(self, value: float, reference: float) -> bool:
        """Whether ``value`` lies within this tolerance of ``reference``."""
        if math.isnan(reference):
            return math.isnan(value)
        return abs(value - reference) <= self.abs + self.rel * abs(reference) + 1e-12

    def __str__(self) -> str:
        if not (self.abs or self.rel):
            return "exact"
        parts = ([f"{self.abs:g}"] if self.abs else []) + ([f"{self.rel * 100:g} %"] if self.rel else [])
        return "±" + " + ".join(parts)


# The kinds of figure and how far each may move between machines. The model-dependent ones are
# wider than what the cross-check (`make cross-check`, book/cross_check.md) measured across
# thread counts, BLAS kernels and oneDNN (at least 1.5 times the largest move), and narrow
# enough that a real regression (negatives not redrawn, no seed removal, a wrong blend weight)
# lies outside them.
TOLERANCES: dict[str, Tolerance] = {
    "exact": Tolerance(meaning="the same on every machine: data, neighbour models, their grades"),
    "loss": Tolerance(rel=0.05, meaning="NeuMF's training loss per epoch"),
    "accuracy": Tolerance(abs=0.01, meaning="NeuMF's training accuracy per epoch"),
    "metric": Tolerance(abs=0.01, meaning="R-precision or NDCG of a system that uses the model"),
    "clicks": Tolerance(abs=0.25, rel=0.2, meaning="mean clicks of a system that uses the model"),
    "share": Tolerance(abs=0.03, meaning="a share of playlists (cluster title purity)"),
    "cluster size": Tolerance(rel=0.3, abs=2, meaning="the smallest, median and largest k-means cluster"),
    "singletons": Tolerance(abs=10, meaning="k-means clusters of one playlist"),
    "candidates": Tolerance(abs=40, meaning="mean candidates (at most 500) a cluster gives a playlist"),
    "interval": Tolerance(abs=1e-6, meaning="a bound of a bootstrap interval of a system without the model"),
}


@dataclass
class Record:
    """The key figures of one chapter: name -> (value, kind)."""

    chapter: str
    figures: dict[str, tuple[float, str]] = field(default_factory=dict)

    def add(self, name: str, value: float, kind: str) -> Record:
        """Note one figure; ``kind`` names its tolerance in :data:`TOLERANCES`."""
        if kind not in TOLERANCES:
            raise MPDInputError(f"unknown kind {kind!r}; one of {', '.join(TOLERANCES)}", field="kind")
        self.figures[name] = (float(value), kind)
        return self

    def add_table(self, frame: pd.DataFrame, kinds: dict[str, str]) -> Record:
        """Note every cell of the columns in ``kinds`` (column -> kind), named "column, row"."""
        label = f"{frame.index.name} " if frame.index.name else ""
        for column, kind in kinds.items():
            for row, value in frame[column].items():
                self.add(f"{column}, {label}{row}", value, kind)
        return self

    def save(self, work_dir: str | Path) -> Path:
        """Write ``<work_dir>/figures/<chapter>.json`` (through a temporary file)."""
        out = Path(work_dir) / "figures"
        out.mkdir(parents=True, exist_ok=True)
        text = json.dumps({name: {"value": v, "kind": k} for name, (v, k) in self.figures.items()}, indent=1)
        return files.write_bytes(out / f"{self.chapter}.json", (text + "\n").encode())


def read(path: str | Path) -> dict[str, dict]:
    """A chapter's record as written by :meth:`Record.save` (name -> {value, kind})."""
    path = Path(path)
    try:  # the standard library's reader: a record may hold NaN, which strict JSON (orjson) refuses
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no record of figures; execute the chapter first") from None
    except json.JSONDecodeError as err:
        raise MPDInputError(f"malformed JSON: {err.msg}", file=path, line=err.lineno) from None
    for name, entry in doc.items():
        if (
            not isinstance(entry, dict)
            or entry.get("kind") not in TOLERANCES
            or not isinstance(entry.get("value"), (int, float))
        ):
            raise MPDInputError("expected {value: number, kind: one of the tolerance kinds}", file=path, field=name)
    return doc


def deviations(record: dict[str, dict], reference: dict[str, dict]) -> pd.DataFrame:
    """One row per reference figure: value, reference, tolerance and whether it is within it.

    The tolerance is the reference's kind's; a figure missing from the record fails.
    """
    rows = []
    for name, ref in reference.items():
        tol = TOLERANCES[ref["kind"]]
        value = record.get(name, {}).get("value", math.nan)
        ok = name in record and tol.allows(value, ref["value"])
        rows.append(
            {
                "figure": name,
                "kind": ref["kind"],
                "value": value,
                "reference": ref["value"],
                "tolerance": str(tol),
                "ok": ok,
            }
        )
    return pd.DataFrame(rows, columns=["figure", "kind", "value", "reference", "tolerance", "ok"])


def spread(records: dict[str, dict[str, dict]], reference: dict[str, dict]) -> pd.DataFrame:
    """Each reference figure's move from its reference in several runs (a column per run).

    ``records`` maps a setting's name to its record; a figure missing from a record moves NaN.
    """
    rows = []
    for name, ref in reference.items():
        moves = {setting: rec.get(name, {}).get("value", math.nan) - ref["value"] for setting, rec in records.items()}
        rows.append(
            {
                "figure": name,
                "kind": ref["kind"],
                "reference": ref["value"],
                **moves,
                "tolerance": str(TOLERANCES[ref["kind"]]),
            }
        )
    return pd.DataFrame(rows).set_index("figure")
