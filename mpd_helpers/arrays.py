"""Whole-array helpers that the data and the models share."""

from __future__ import annotations

import numpy as np
import pandas as pd


def ranges(lengths: np.ndarray) -> np.ndarray:
    """``0, 1, ..., n - 1`` for each ``n`` in ``lengths``, concatenated."""
    ends = np.cumsum(lengths)
    return np.arange(ends[-1] if len(ends) else 0) - np.repeat(ends - lengths, lengths)


def nunique_per_row(rows: np.ndarray, values: pd.Series | np.ndarray, n_rows: int) -> np.ndarray:
    """The number of distinct ``values`` in each playlist row."""
    codes = pd.factorize(values)[0].astype(np.int64)
    key = np.sort(rows.astype(np.int64) * (int(codes.max(initial=0)) + 1) + codes)
    first = np.ones(len(key), bool)
    first[1:] = key[1:] != key[:-1]
    return np.bincount(key[first] // (int(codes.max(initial=0)) + 1), minlength=n_rows)
