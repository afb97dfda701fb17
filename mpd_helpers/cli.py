"""The command line: one sub-command per task, each a thin call into the module that owns it."""

from __future__ import annotations

import argparse
import importlib
import math
import os
import signal
import sys
import threading
import warnings

from mpd_helpers.errors import MPDInputError, printable

# The modules that contribute sub-commands, and the commands each adds through its
# ``add_cli(subparsers)`` (which sets ``func``: parsed namespace -> exit code).
COMMANDS = {
    "synthetic": ("synth",),
    "challenge": ("challenge",),
    "embedded": ("embedded",),
    "dataset": ("check",),
    "stats": ("stats",),
    "submission": ("verify",),
    "metrics": ("evaluate",),
    "pipeline": ("recommend", "continue"),
}
EXIT_CODES = """exit status:
  0    done; the checked file is valid
  1    the checked file has problems (check, verify), or the submission does not cover
       the truth (evaluate without --partial)
  2    bad input or usage: a missing, unreadable or malformed file or argument,
       named with its file, line, pid and field where it has them
  141  the output was closed early (e.g. piped into head)
  143  stopped by SIGTERM (130: by Ctrl-C); nothing half-written is left behind"""


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive integer")
    return value


def seed(text: str) -> int:
    """An argparse type: a random seed, an integer in 0..2**32 - 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"{value} is not a seed in 0..{2**32 - 1}")
    return value


def share(text: str) -> float:
    """An argparse type: a number in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and 0 < value <= 1):
        raise argparse.ArgumentTypeError(f"{text} is not a share in (0, 1]")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The parser with every module's sub-commands."""
    parser = argparse.ArgumentParser(
        prog="python -m mpd_helpers",
        description=__doc__,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, commands in COMMANDS.items():
        module = importlib.import_module(f"mpd_helpers.{name}")
        module.add_cli(sub)
        missing = set(commands) - set(sub.choices)
        if missing:
            raise RuntimeError(f"mpd_helpers.{name} did not add the command(s) {', '.join(sorted(missing))}")
    for command in sub.choices.values():
        command.epilog = EXIT_CODES
        command.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one sub-command and return its exit code; bad input is reported in one line."""
    args = build_parser().parse_args(argv)
    # A termination request unwinds like an interrupt, so that no partial output stays behind.
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main else None
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            code = int(args.func(args) or 0)
        if sys.stdout is not None:  # None when started with stdout closed (>&-): the output goes nowhere
            sys.stdout.flush()  # a closed pipe shows here, not in Python's final flush
        return code
    except MPDInputError as err:
        print(f"error: {err}", file=sys.stderr)
    except KeyboardInterrupt:
        print("interrupted; nothing half-written was left behind", file=sys.stderr)
        return 130
    except OSError as err:  # missing, unreadable or unwritable files and folders
        if isinstance(err, BrokenPipeError):
            return _closed_output()
        where = f"{printable(str(err.filename), keep_newlines=False)}: " if err.filename else ""
        print(f"error: {where}{printable(err.strerror or str(err))}", file=sys.stderr)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 2


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one line on stderr, without the package's file and line."""
    if sys.stderr is not None:
        print(f"warning: {printable(str(message))}", file=sys.stderr)


def _terminate(signum, frame) -> None:
    """SIGTERM: leave through the normal exception path (exit status 143, as the shell's)."""
    raise SystemExit(128 + signum)


def _closed_output() -> int:
    """The reader of our output went away: stop quietly, as command-line tools do."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    if sys.stdout is not None:
        os.dup2(devnull, sys.stdout.fileno())  # Python's final flush must not fail again
    return 141
