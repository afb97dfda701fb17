"""Work spread over processes, or done in this process when one is enough.

Worker processes die with the process that started them: on Linux each asks the kernel to
kill it when its parent goes (``PR_SET_PDEATHSIG``), so that even a parent killed outright
(SIGKILL, the out-of-memory killer) leaves no orphan computing on. A worker takes SIGTERM's
default action (the command line's own handler, inherited through ``fork``, would only turn
it into an exception sent back to the parent) and ignores SIGINT, which a terminal's Ctrl-C
sends to the whole process group: the parent handles it, and a pool left by an exception
drops the work not yet started instead of finishing it.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class _Inline:
    """A stand-in for a process pool that maps in this process."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    map = staticmethod(map)


class _Pool(ProcessPoolExecutor):
    """A process pool that, left by an exception (an interrupt, a termination request, bad
    input), cancels the tasks no worker has started rather than running them all first."""

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.shutdown(wait=True, cancel_futures=True)
            return False
        return super().__exit__(exc_type, exc, tb)


def count(jobs: int, workers: int | None = None, most: int | None = None) -> int:
    """How many processes for ``jobs`` jobs: ``workers``, by default one per CPU (at most ``most``)."""
    default = min(os.cpu_count() or 1, most or os.cpu_count() or 1)
    return max(1, min(jobs, workers or default))


def pool(workers: int, initializer: Callable | None = None, initargs: tuple = ()) -> ProcessPoolExecutor | _Inline:
    """A pool of ``workers`` processes, each set up by ``initializer(*initargs)``; with one worker,
    this process, set up the same way.

    The workers die with this process (see the module's notes). On Linux the kernel ties a
    worker to the thread that started it, so use a pool from the thread that made it.
    """
    if workers > 1:
        context = multiprocessing.get_context()
        return _Pool(
            workers,
            mp_context=context,
            initializer=_start_worker,
            initargs=(os.getpid(), context.get_start_method(), initializer, initargs),
        )
    if initializer is not None:
        initializer(*initargs)
    return _Inline()


def _start_worker(parent: int, method: str, initializer: Callable | None, initargs: tuple) -> None:
    """A worker's first act: its signals set, its life tied to ``parent``'s, then its own set-up."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()
    # The parent may have died before the kernel was asked: then nothing would come.
    if method == "forkserver":  # the fork server is this process's parent, not ``parent``
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:
            pass
    elif os.getppid() != parent:
        os._exit(1)
    if initializer is not None:
        initializer(*initargs)


def die_with_parent(sig: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent dies (Linux only);
    whether it was asked."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False
