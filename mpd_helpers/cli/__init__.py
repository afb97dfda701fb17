"""The command line: one sub-command per task, each a thin call into the part of the package that does it."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import warnings

from mpd_helpers.cli import commands
from mpd_helpers.errors import MPDInputError, printable

# Every command: its name, its one-line help, its description, and the functions of
# mpd_helpers.cli.commands that declare its arguments and run it.
COMMANDS = (
    ("synth", "write synthetic MPD slices", "Write MPD-format slices of synthetic playlists."),
    (
        "challenge",
        "build a challenge set and its held-out truth from MPD slices",
        "Apply the challenge's 10-category recipe to an MPD directory.",
    ),
    ("embedded", "generate the embedded synthetic MPD and challenge set if missing", None),
    (
        "check",
        "check MPD slices (and a challenge set) against the dataset's rules",
        "Read MPD slices strictly; exit 2 naming file, pid and field on the first problem.",
    ),
    ("stats", "statistics of MPD slices, in the form of the dataset's own program", None),
    (
        "verify",
        "check a submission file against the challenge's rules",
        "Apply the rules of Spotify's submission verifier; exit 0 when valid, 1 when the submission would be rejected.",
    ),
    (
        "evaluate",
        "grade a submission against held-out tracks",
        "Print R-precision, NDCG and clicks overall and per challenge category, after saying which playlists "
        "are missing, short or hold seeds. Exit 1 when playlists of the truth are missing from the submission "
        "(unless --partial).",
    ),
    (
        "recommend",
        "recommend for a challenge set and write the submission",
        "Load the MPD slices and a challenge set, fit a recommender, write 500 tracks per challenge playlist "
        "as a submission CSV (and .gz), verify it, and grade it when the held-out tracks are given. Each "
        "stage's time and peak memory go to stderr.",
    ),
    (
        "continue",
        "continue one new playlist from a title and/or tracks",
        "Recommend the next tracks of a playlist the model never saw. The model is fitted on every playlist "
        "of MPD_DIR once and kept in ~/.cache/mpd-book (or --model-dir), so later calls take seconds.",
    ),
)
EXIT_CODES = """exit status:
  0    done; the checked file is valid
  1    the checked file has problems (check, verify), or the submission does not cover
       the truth (evaluate without --partial)
  2    bad input or usage: a missing, unreadable or malformed file or argument,
       named with its file, line, pid and field where it has them
  141  the output was closed early (e.g. piped into head)
  143  stopped by SIGTERM (130: by Ctrl-C); nothing half-written is left behind"""


def build_parser() -> argparse.ArgumentParser:
    """The parser with every command."""
    parser = argparse.ArgumentParser(
        prog="python -m mpd_helpers",
        description=__doc__,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, summary, description in COMMANDS:
        command = sub.add_parser(
            name,
            help=summary,
            description=description,
            epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        getattr(commands, f"{name}_arguments")(command)
        command.set_defaults(func=getattr(commands, f"run_{name}"))
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
