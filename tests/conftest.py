"""Shared pytest configuration, including the rule nbval follows for stderr.

nbval (0.11) compares every stream of a cell, stderr included, and a stream that is present
on one side only fails the cell. stderr is where the noise lives: TensorFlow's start-up log
(printed by C++ code, which papermill records and nbval's kernel does not reproduce),
Python warnings, tqdm bars. So stderr is never compared: the cells' results are checked
through stdout, text/plain, text/html and errors. `make reference` also drops stderr from
the tracked notebooks, which keeps their diffs quiet.

nbval stores the keys it ignores on each notebook collector (``skip_compare``); stream
outputs are compared under the stream's name, so adding "stderr" there is all it takes.
The same hook moves the tests marked ``after_notebooks`` (the comparison of the chapters'
recorded figures with the reference, tests/test_reference_figures.py) to the end of the
session, after nbval has executed the notebooks, and notes which chapters nbval executes.

This hook runs for every collected item, so it needs this conftest to be loaded: run
nbval in the same pytest session as tests/, as `make test` does
(``pytest --nbval ... tests notebooks``).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

EXECUTED_KEY = pytest.StashKey[set]()  # chapters (notebook stems) nbval executes in this session
STARTED_KEY = pytest.StashKey[float]()  # when the session started (time.time())


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker and note the start of the session."""
    config.addinivalue_line("markers", "after_notebooks: run after nbval has executed the notebooks")
    config.stash[STARTED_KEY] = time.time()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave stderr out of nbval's comparison; run the figure checks after the notebooks."""
    try:
        from nbval.plugin import IPyNbFile
    except ImportError:  # nbval not installed: nothing to adjust
        IPyNbFile = ()
    executed = set()
    for item in items:
        notebook = item.parent
        if IPyNbFile and isinstance(notebook, IPyNbFile):
            executed.add(Path(str(notebook.path)).stem)
            if "stderr" not in notebook.skip_compare:
                notebook.skip_compare = (*notebook.skip_compare, "stderr")
    config.stash[EXECUTED_KEY] = executed
    items.sort(key=lambda item: item.get_closest_marker("after_notebooks") is not None)  # stable
