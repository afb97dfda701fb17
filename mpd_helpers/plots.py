"""Figures that more than one chapter draws."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt


def neumf_diagram(latent_dim: int = 32, dense_layers: Sequence[int] = (256, 128, 128, 64), ax=None):
    """A box diagram of NeuMF: two inputs, four embeddings, the GMF and MLP branches, one sigmoid."""
    ax = ax or plt.subplots(figsize=(10, 5.5))[1]
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
            fontsize=9,
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
