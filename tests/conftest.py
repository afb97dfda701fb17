"""Shared pytest configuration, including the rule nbval follows for stderr.

nbval (0.11) compares every stream of a cell, stderr included, and a stream that is present
on one side only fails the cell. stderr is where the noise lives: TensorFlow's start-up log
(printed by C++ code, which papermill records and nbval's kernel does not reproduce),
Python warnings, tqdm bars. So stderr is never compared: the cells' results are checked
through stdout, text/plain, text/html and errors. `make reference` also drops stderr from
the tracked notebooks, which keeps their diffs quiet.

nbval stores the keys it ignores on each notebook collector (``skip_compare``); stream
outputs are compared under the stream's name, so adding "stderr" there is all it takes.
The same hook runs the notebooks first and moves the tests marked ``after_notebooks`` (the
comparison of the chapters' recorded figures with the reference,
tests/book/test_reference_figures.py) to the end of the session, after nbval has executed the
notebooks, and notes which chapters nbval executes. Under pytest-xdist (``make test`` runs
``-n auto``) the notebooks and those checks stay together, in that order, in one worker.

Under pytest-xdist each worker is also kept to its own share of the cores the session may
use (:func:`_own_cores`): TensorFlow, OpenBLAS and the notebooks' kernels each start
several threads, so two workers on two cores would otherwise run twice as many busy threads
as there are cores, and take turns (``make test`` took 20 minutes that way on two cores, 9
this way). The recorded figures do not depend on it: the cross-check's one-core setting
(``taskset -c 0``) gives them bit for bit.

This hook runs for every collected item, so it needs this conftest to be loaded: run
nbval in the same pytest session as tests/, as `make test` does
(``pytest --nbval ... tests notebooks``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

EXECUTED_KEY = pytest.StashKey[set]()  # chapters (notebook stems) nbval executes in this session
STARTED_KEY = pytest.StashKey[float]()  # when the session started (time.time())
AFTER_NOTEBOOKS = "tests/book/test_reference_figures.py::test_chapter_figures_within_tolerance"
ALONE = {"tests/book/test_book_smoke.py"}  # files whose tests are scheduled one by one


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker, note the start of the session, and keep an xdist worker to its cores."""
    config.addinivalue_line("markers", "after_notebooks: run after nbval has executed the notebooks")
    config.stash[STARTED_KEY] = time.time()
    _own_cores()


def _own_cores() -> None:
    """In xdist worker gwN of W, use only every W-th of the session's cores, from the N-th
    (with 2 workers on 2 cores: one core each). Set before the worker starts any thread or
    kernel, it holds for everything the worker starts. MPD_TEST_SHARE_CORES=1 turns it off."""
    worker, count = os.environ.get("PYTEST_XDIST_WORKER", ""), int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if not worker.startswith("gw") or count < 2 or os.environ.get("MPD_TEST_SHARE_CORES") == "1":
        return
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) >= count:
        os.sched_setaffinity(0, cores[int(worker[2:]) :: count])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave stderr out of nbval's comparison; run the notebooks first and the figure checks after them."""
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
    items.sort(key=lambda item: _stage(item, IPyNbFile))  # stable


def _stage(item: pytest.Item, notebook_type: type | tuple) -> tuple[int, int]:
    """(0, 0): a notebook's cell; (1, k): a unit test, the longest first (k = 0: marked slow;
    1: the commands' and the models' tests; 2: the rest), so that the workers finish together;
    (2, 0): a check that needs the executed notebooks."""
    if notebook_type and isinstance(item.parent, notebook_type):
        return 0, 0
    if item.get_closest_marker("after_notebooks") is not None:
        return 2, 0
    if item.get_closest_marker("slow") is not None:
        return 1, 0
    return 1, 1 if item.nodeid.startswith(("tests/cli/", "tests/models/")) else 2


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """With pytest-xdist (``-n``, as `make test` runs): the notebooks and the figure checks go to
    one worker, in order (each chapter reads what the one before it wrote), first; the unit
    tests to the others a file at a time (a file's fixtures are made once), except the files
    in ``ALONE``, whose tests go out one by one."""
    from xdist.scheduler import LoadScopeScheduling

    class ChaptersInOrder(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::")[0]
            if path.startswith("notebooks/") or nodeid.startswith(AFTER_NOTEBOOKS):
                return "notebooks"
            if path in ALONE:  # tests of minutes each: any worker may take any of them
                return nodeid
            return path

    return ChaptersInOrder(config, log)
