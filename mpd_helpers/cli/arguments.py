"""The command line's argument types: each turns a string into a checked value, or says why not."""

from __future__ import annotations

import argparse
import math


def _number(text: str, kind: type, name: str) -> int | float:
    """``text`` read as ``kind`` (int or float), or an argparse error saying it is not ``name``."""
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {name}") from None


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    value = _number(text, int, "an integer")
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive integer")
    return value


def seed(text: str) -> int:
    """An argparse type: a random seed, an integer in 0..2**32 - 1."""
    value = _number(text, int, "an integer")
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"{value} is not a seed in 0..{2**32 - 1}")
    return value


def share(text: str) -> float:
    """An argparse type: a number in (0, 1]."""
    value = _number(text, float, "a number")
    if not (math.isfinite(value) and 0 < value <= 1):
        raise argparse.ArgumentTypeError(f"{text} is not a share in (0, 1]")
    return value
