"""Figures that more than one chapter draws, and tables as a reader reads them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


def _cell(value: object, decimals: int) -> str:
    """1234567 -> '1,234,567'; 2958.6 -> '2,959'; 0.26123 -> '0.261' (at ``decimals``); NaN -> '–'."""
    if isinstance(value, str):
        return value
    if value is None or pd.isna(value):
        return "–"
    if isinstance(value, (int, np.integer)) or float(value).is_integer() or abs(value) >= 1000:
        return f"{round(value):,}"
    return f"{value:,.{decimals}f}"


def readable(frame: pd.DataFrame, decimals: int | Mapping[str, int] = 3) -> pd.DataFrame:
    """The table as text: whole numbers, and any number of 1,000 or more, with thousands
    separators and no decimals; other numbers with a fixed number of decimals (per column,
    by the column's name, where a mapping gives it),
    and a dash where a value is missing, instead of pandas' mix of 1.000000e+06, 10000.000
    and NaN in one column. The index is written the same way."""

    def places(column: object) -> int:
        key = column[-1] if isinstance(column, tuple) else column
        return decimals.get(key, 3) if isinstance(decimals, Mapping) else decimals

    out = pd.DataFrame({c: [_cell(v, places(c)) for v in frame[c]] for c in frame.columns}, columns=frame.columns)
    if isinstance(frame.index, pd.MultiIndex):
        out.index = pd.MultiIndex.from_tuples(
            [tuple(_cell(v, 0) for v in key) for key in frame.index], names=frame.index.names
        )
    else:
        out.index = pd.Index([_cell(v, 0) for v in frame.index], name=frame.index.name)
    return out


def neumf_diagram(latent_dim: int = 32, dense_layers: Sequence[int] = (256, 128, 128, 64), ax=None):
    """A box diagram of NeuMF: two inputs, four embeddings, the GMF and MLP branches, one sigmoid."""
    ax = ax or plt.subplots(figsize=(7.5, 5))[1]
    mlp = dense_layers[0] // 2
    boxes = {
        "playlist": (0.13, 0.05, "playlist index\n(user)"),
        "track": (0.63, 0.05, "track index\n(item)"),
        "mf_u": (0.02, 0.25, f"GMF playlist\nembedding ({latent_dim})"),
        "mf_i": (0.27, 0.25, f"GMF track\nembedding ({latent_dim})"),
        "mlp_u": (0.52, 0.25, f"MLP playlist\nembedding ({mlp})"),
        "mlp_i": (0.77, 0.25, f"MLP track\nembedding ({mlp})"),
        "gmf": (0.14, 0.47, "element-wise product\n(GMF latent)"),
        "cat": (0.64, 0.42, f"concatenate ({2 * mlp})"),
        "dense": (0.64, 0.58, "ReLU layers\n" + " → ".join(str(d) for d in dense_layers[1:])),
        "join": (0.39, 0.75, f"concatenate ({latent_dim} + {dense_layers[-1]})"),
        "out": (0.39, 0.9, "sigmoid unit: P(track in playlist)"),
    }
    centre = {}
    for key, (x, y, text) in boxes.items():
        ax.text(
            x + 0.1,
            y,
            text,
            ha="center",
            va="center",
            fontsize=10,
            bbox=dict(
                boxstyle="round",
                fc="#dbe9f6"
                if key.startswith(("mf", "gmf"))
                else "#fde2c8"
                if key.startswith(("mlp", "cat", "dense"))
                else "#eeeeee",
            ),
        )
        centre[key] = (x + 0.1, y)
    arrows = [
        ("playlist", "mf_u"),
        ("playlist", "mlp_u"),
        ("track", "mf_i"),
        ("track", "mlp_i"),
        ("mf_u", "gmf"),
        ("mf_i", "gmf"),
        ("mlp_u", "cat"),
        ("mlp_i", "cat"),
        ("cat", "dense"),
        ("gmf", "join"),
        ("dense", "join"),
        ("join", "out"),
    ]
    for a, b in arrows:
        (x0, y0), (x1, y1) = centre[a], centre[b]
        ax.annotate("", xy=(x1, y1 - 0.045), xytext=(x0, y0 + 0.045), arrowprops=dict(arrowstyle="->", color="0.4"))
    ax.set(xlim=(0, 1), ylim=(0, 1))
    ax.axis("off")
    ax.set_title("NeuMF: GMF (blue) and MLP (orange) over separate embeddings")
    return ax
