"""Shared pytest configuration, including the rule nbval follows for stderr.

nbval (0.11) compares every stream of a cell, stderr included, and a stream that is present
on one side only fails the cell. stderr is where the noise lives: TensorFlow's start-up log
(printed by C++ code, which papermill records and nbval's kernel does not reproduce),
Python warnings, tqdm bars. So stderr is never compared: the cells' results are checked
through stdout, text/plain, text/html and errors. `make reference` also drops stderr from
the tracked notebooks, which keeps their diffs quiet.

nbval stores the keys it ignores on each notebook collector (``skip_compare``); stream
outputs are compared under the stream's name, so adding "stderr" there is all it takes.
This hook runs for every collected item, so it needs this conftest to be loaded: run
nbval in the same pytest session as tests/, as `make test` does
(``pytest --nbval ... tests notebooks``).
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Make nbval leave stderr streams out of the output comparison."""
    try:
        from nbval.plugin import IPyNbFile
    except ImportError:  # nbval not installed: nothing to adjust
        return
    for item in items:
        notebook = item.parent
        if isinstance(notebook, IPyNbFile) and "stderr" not in notebook.skip_compare:
            notebook.skip_compare = (*notebook.skip_compare, "stderr")
