"""The house style of the notebooks' figures, and small drawing helpers they share.

Helpers take `ax` first, draw, and return nothing; they never call `plt.show()`.
"""

from __future__ import annotations

import textwrap

import matplotlib as mpl
from matplotlib.axes import Axes

#: One colour per role, the same in every notebook: a learner can follow "the network"
#: (blue), "its linearization" (orange) and "the kernel prediction" (green) across figures.
COLORS: dict[str, str] = {
    "data": "#222222",
    "target": "#8c8c8c",
    "network": "#1f77b4",
    "linearized": "#ff7f0e",
    "kernel": "#2ca02c",
    "init": "#9467bd",
    "bound": "#d62728",
}

STYLE: dict[str, object] = {
    "figure.figsize": (7.0, 4.0),
    "figure.dpi": 100,
    "figure.constrained_layout.use": True,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.frameon": False,
    "legend.fontsize": 9,
    "lines.linewidth": 2.0,
    "image.cmap": "viridis",
}


def use_style() -> None:
    """Apply the house style to matplotlib (call once, at the top of a notebook)."""
    mpl.rcParams.update(STYLE)


def message(ax: Axes, text: str, *, kind: str = "warning") -> None:
    """Replace the content of `ax` by a readable message (e.g. "training diverged").

    Widgets call this instead of drawing a broken or empty figure.
    kind: 'warning' (red frame) or 'info' (grey frame).
    """
    if kind not in ("warning", "info"):
        raise ValueError(f"kind must be 'warning' or 'info', got {kind!r}")
    color = COLORS["bound"] if kind == "warning" else COLORS["target"]
    ax.clear()
    ax.set_axis_off()
    ax.text(0.5, 0.5, textwrap.fill(text, 48), ha="center", va="center", fontsize=12,
            transform=ax.transAxes, wrap=True,
            bbox={"boxstyle": "round,pad=0.8", "facecolor": "white", "edgecolor": color,
                  "linewidth": 2})
