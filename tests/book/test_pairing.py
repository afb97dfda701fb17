"""The notebooks are pairs: NN_name.py (the source) and NN_name.ipynb (the reference outputs).

These tests catch a pair that has drifted apart (edited on one side, not re-synced with
`jupytext --sync`), a half of a pair that is missing, a papermill injected-parameters cell
that slipped into a tracked file, a reference notebook that was never executed (nbval
would then check nothing), and a notebook without exactly one `parameters` cell.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
PATTERN = "[0-9][0-9]_*"
STEMS = sorted({p.stem for p in NOTEBOOKS.glob(f"{PATTERN}.py")} | {p.stem for p in NOTEBOOKS.glob(f"{PATTERN}.ipynb")})


def cells(path: Path) -> list[tuple[str, list[str], str]]:
    """The (cell type, tags, source) of every cell of a notebook file, read with jupytext."""
    nb = jupytext.read(path)
    return [(c.cell_type, sorted(c.metadata.get("tags", [])), c.source.strip("\n")) for c in nb.cells]


def test_there_are_notebooks() -> None:
    assert STEMS, f"no {PATTERN}.py / .ipynb notebooks in {NOTEBOOKS}"


@pytest.mark.parametrize("stem", STEMS)
def test_pair_is_complete(stem: str) -> None:
    missing = [s for s in (".py", ".ipynb") if not (NOTEBOOKS / f"{stem}{s}").exists()]
    assert not missing, (
        f"notebooks/{stem}: the {' and '.join(missing)} half of the pair is "
        f"missing; run `jupytext --sync notebooks/{stem}.*`"
    )


@pytest.mark.parametrize("stem", STEMS)
def test_pair_is_in_sync(stem: str) -> None:
    py, ipynb = NOTEBOOKS / f"{stem}.py", NOTEBOOKS / f"{stem}.ipynb"
    if not (py.exists() and ipynb.exists()):
        pytest.skip("incomplete pair (reported by test_pair_is_complete)")
    from_py, from_ipynb = cells(py), cells(ipynb)
    for i, (a, b) in enumerate(zip(from_py, from_ipynb)):
        assert a == b, (
            f"notebooks/{stem}: cell {i} differs between .py and .ipynb; "
            f"run `jupytext --sync notebooks/{stem}.py`\n.py:    {a}\n.ipynb: {b}"
        )
    assert len(from_py) == len(from_ipynb), (
        f"notebooks/{stem}: {len(from_py)} cells in .py, {len(from_ipynb)} in .ipynb; "
        f"run `jupytext --sync notebooks/{stem}.py`"
    )


@pytest.mark.parametrize(
    "path", [NOTEBOOKS / f"{s}{x}" for s in STEMS for x in (".py", ".ipynb")], ids=lambda p: p.name
)
def test_one_parameters_cell_and_no_injected_cell(path: Path) -> None:
    if not path.exists():
        pytest.skip("missing (reported by test_pair_is_complete)")
    tags = [t for _, cell_tags, _ in cells(path) for t in cell_tags]
    assert "injected-parameters" not in tags, (
        f"{path.name} holds a papermill injected-parameters cell; remove it (reference runs must not pass -p)"
    )
    assert tags.count("parameters") == 1, (
        f"{path.name} has {tags.count('parameters')} cells tagged 'parameters'; it needs exactly one"
    )


@pytest.mark.parametrize("stem", STEMS)
def test_reference_outputs_are_recorded(stem: str) -> None:
    ipynb = NOTEBOOKS / f"{stem}.ipynb"
    if not ipynb.exists():
        pytest.skip("missing (reported by test_pair_is_complete)")
    nb = jupytext.read(ipynb)
    unrun = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and c.source.strip() and c.get("execution_count") is None
    ]
    assert not unrun, (
        f"notebooks/{stem}.ipynb: code cells {unrun} were never executed, so nbval "
        "would not check their outputs; run `make reference`"
    )
