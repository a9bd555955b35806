"""Notebook 05 (the Neural Tangent Kernel): the empirical NTK of one network against its limit.

The panel draws, for the relu network of width m (`net.init_nested(NETWORK_KEY, 2, m)`: the
same network grows with m), on the grid x in [-1, 1] embedded as (x, 1):
left, the slice K_m(x0, x) against the infinite-width K(x0, x), optionally with the parts
K^a (gradients wrt A) and K^b (wrt b, the notes' boxed formula); right, the error K_m - K as
a heatmap on ONE fixed colour scale (the same at every width, with a labelled colour bar), so
that it fades as m grows; far right, this network's relative error at every width of the
slider against a 1/sqrt(m) reference, the width shown marked. One network's error fluctuates
from width to width (at m = 64 this one is an outlier, about 0.59 against 0.23 at m = 32 and
128); only the mean over draws falls like 1/sqrt(m) (notebook 05, section 4).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .. import net, ntk, plots
from . import NETWORK_KEY, Choice, Panel, Toggle

WIDTHS = tuple(2**k for k in range(2, 15))
"""Slider values of the width m: powers of 2 from 4 to 16384 (a log scale)."""

GRID = np.linspace(-1.0, 1.0, 81)
"""The inputs x (embedded as (x, 1))."""

X0 = 0.5
"""The slice point x0 of the left panel."""

COLOUR_LIMIT = 0.5
"""The heatmap's colour scale: +-COLOUR_LIMIT * max |K|, the same at every width."""


class NTKWidthResult(NamedTuple):
    """The empirical NTK of the width-m network and its limit on GRID."""

    m: int
    show_Ka: bool
    show_Kb: bool
    x: np.ndarray        # the grid, shape (n,)
    i0: int              # index of the slice point x0 in x
    K_inf: np.ndarray    # infinite-width NTK, (n, n); its parts below
    Ka_inf: np.ndarray
    Kb_inf: np.ndarray
    K_m: np.ndarray      # empirical NTK of width m, (n, n); its parts below
    Ka_m: np.ndarray
    Kb_m: np.ndarray
    error: float         # ||K_m - K||_F / ||K||_F
    errors: np.ndarray   # the same error at every width in WIDTHS, (len(WIDTHS),)


@functools.lru_cache(maxsize=1)
def _limit() -> tuple[jnp.ndarray, ntk.NTKParts]:
    X = net.embed(jnp.asarray(GRID[:, None]))
    return X, ntk.infinite_width_ntk_parts(X)


@functools.lru_cache(maxsize=32)
def _at_width(m: int) -> tuple[ntk.NTKParts, float]:
    """The expensive part: the empirical NTK of width m (independent of the toggles)."""
    X, inf = _limit()
    parts = ntk.empirical_ntk_parts(net.init_nested(NETWORK_KEY, 2, m, dtype=X.dtype), X)
    return parts, ntk.relative_error(parts.K, inf.K)


@functools.lru_cache(maxsize=1)
def error_curve() -> np.ndarray:
    """This network's relative error ||K_m - K||_F / ||K||_F at every width in WIDTHS."""
    return np.array([_at_width(m)[1] for m in WIDTHS])


@functools.lru_cache(maxsize=64)
def compute(*, m: int, show_Ka: bool, show_Kb: bool) -> NTKWidthResult:
    """K_m of the width-m network and K on GRID (toggles only choose what is drawn)."""
    _, inf = _limit()
    emp, error = _at_width(m)
    i0 = int(np.argmin(np.abs(GRID - X0)))
    Ka_inf, Kb_inf, Ka_m, Kb_m = (np.asarray(a, dtype=np.float64) for a in (*inf, *emp))
    K_inf, K_m = Ka_inf + Kb_inf, Ka_m + Kb_m
    return NTKWidthResult(m, bool(show_Ka), bool(show_Kb), GRID, i0, K_inf, Ka_inf, Kb_inf,
                          K_m, Ka_m, Kb_m, error, error_curve())


def draw(r: NTKWidthResult) -> Figure:
    """Three panels: one slice K_m(x0, .) against K(x0, .); the error K_m - K as a heatmap;
    this network's error against m (log-log) with a 1/sqrt(m) reference."""
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(13, 4.2), layout="none",
                                        gridspec_kw={"width_ratios": [1.25, 1, 0.75]})
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.12, top=0.83, wspace=0.45)
    x, i0 = r.x, r.i0
    # plain-text legend entries (no mathtext): this figure is redrawn on every slider move
    ax1.plot(x, r.K_inf[i0], color=plots.COLORS["kernel"], label="K(x₀, x), m = ∞")
    ax1.plot(x, r.K_m[i0], color=plots.COLORS["network"], label=f"Kₘ(x₀, x), m = {r.m}")
    for show, inf, emp, style, name in ((r.show_Ka, r.Ka_inf, r.Ka_m, "--", "Kᵃ"),
                                        (r.show_Kb, r.Kb_inf, r.Kb_m, ":", "Kᵇ")):
        if show:
            ax1.plot(x, inf[i0], style, color=plots.COLORS["kernel"], lw=1.5,
                     label=f"part {name}, m = ∞")
            ax1.plot(x, emp[i0], style, color=plots.COLORS["network"], lw=1.5,
                     label=f"part {name}, m = {r.m}")
    ax1.axvline(x[i0], color=plots.COLORS["target"], lw=1)
    # the slices peak near x = 1; room above them keeps the legend off the curves
    top = max(float(np.max(r.K_inf[i0])), float(np.max(r.K_m[i0])))
    ax1.set_ylim(min(0.0, float(np.min(r.K_m[i0]))), 1.6 * top)
    # a title at a fixed height skips matplotlib's costly automatic placement
    ax1.set_title("one slice: Kₘ against K (relu)", y=1.01)
    ax1.set(xlabel="input x", ylabel=f"kernel at x₀ = {x[i0]:.2f}")
    ax1.legend(loc="upper left", ncol=2 if (r.show_Ka or r.show_Kb) else 1, fontsize=8)
    limit = COLOUR_LIMIT * float(np.max(np.abs(r.K_inf)))
    plots.kernel_heatmap(ax2, r.K_m - r.K_inf, x, diverging=True, vmax=limit, title="",
                         label=f"Kₘ - K (scale fixed: ±{COLOUR_LIMIT:g} max K)")
    ax2.set_title(f"Kₘ - K: relative error {r.error:.3f}", y=1.01)
    widths = np.asarray(WIDTHS, dtype=np.float64)
    ax3.loglog(widths, r.errors, "o-", color=plots.COLORS["network"], ms=3, lw=1,
               label="this network")
    # the reference 1/sqrt(m) through the geometric mean of the errors (a guide for the eye)
    level = float(np.exp(np.mean(np.log(r.errors * np.sqrt(widths)))))
    ax3.loglog(widths, level / np.sqrt(widths), "--", color=plots.COLORS["kernel"], lw=1,
               label="∝ 1/√m")
    ax3.plot([r.m], [r.error], "o", ms=9, mfc="none", color=plots.COLORS["target"],
             label=f"m = {r.m}")
    ax3.set(xlabel="width m", ylabel="relative error")
    ax3.set_title("‖Kₘ - K‖ / ‖K‖ at every width", y=1.01)
    ax3.legend(loc="lower left", fontsize=8)
    fig.suptitle(f"width m = {r.m}, one network: Kₘ → K as m grows; a single draw fluctuates, "
                 "the mean over draws falls like 1/√m (section 4)")
    return fig


PANEL = Panel(
    "05 NTK against width", compute, draw,
    {"m": Choice("width m", WIDTHS, 256, "{:d}"),
     "show_Ka": Toggle("show Kᵃ", False),
     "show_Kb": Toggle("show Kᵇ", False)},
    prefetch=("m",))
