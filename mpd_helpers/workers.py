"""Work spread over processes, or done in this process when one is enough."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from typing import Callable


class _Inline:
    """A stand-in for a process pool that maps in this process."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    map = staticmethod(map)


def count(jobs: int, workers: int | None = None, most: int | None = None) -> int:
    """How many processes for ``jobs`` jobs: ``workers``, by default one per CPU (at most ``most``)."""
    default = min(os.cpu_count() or 1, most or os.cpu_count() or 1)
    return max(1, min(jobs, workers or default))


def pool(workers: int, initializer: Callable | None = None, initargs: tuple = ()) -> ProcessPoolExecutor | _Inline:
    """A pool of ``workers`` processes, each set up by ``initializer(*initargs)``; with one worker,
    this process, set up the same way."""
    if workers > 1:
        return ProcessPoolExecutor(workers, initializer=initializer, initargs=initargs)
    if initializer is not None:
        initializer(*initargs)
    return _Inline()
