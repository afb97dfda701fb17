"""The command line: one sub-command per task, each registered by the module that owns it."""

from __future__ import annotations

import argparse
import importlib
import sys

# Modules that contribute sub-commands; each defines ``add_cli(subparsers)`` which adds its
# parsers and sets ``func`` (a callable taking the parsed namespace and returning an exit code).
COMMAND_MODULES = ("synthetic", "challenge", "embedded", "dataset", "stats", "submission", "metrics")


def build_parser() -> argparse.ArgumentParser:
    """The parser with every module's sub-commands."""
    parser = argparse.ArgumentParser(prog="python -m mpd_helpers", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"mpd_helpers.{name}")
        except ModuleNotFoundError as err:
            if err.name == f"mpd_helpers.{name}":
                continue
            raise
        if hasattr(module, "add_cli"):
            module.add_cli(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one sub-command and return its exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (FileNotFoundError, ValueError) as err:  # MPDInputError is a ValueError
        print(f"error: {err}", file=sys.stderr)
        return 2
