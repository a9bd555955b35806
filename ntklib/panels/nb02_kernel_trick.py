"""Notebook 02 (kernel trick): kernel ridge regression with the polynomial kernel, live.

The panel fits toy_1d with f(x*) = K(x*, X) (K(X, X) + lam I)^-1 y for K = (c + x x')^p and
shows the fit with its test error next to the eigenvalues of the Gram matrix K(X, X): the
ridge lam damps the directions whose eigenvalue lies below it, and eigenvalues below the
round-off level of K (which `features.kernel_ridge` treats as zero) are marked, so the gap
between the numerical rank and the exact rank min(p + 1, n) (1 for c = 0) shows.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .. import data, dynamics, features, plots
from . import Choice, Panel

DEGREES = tuple(range(1, 16))
"""Slider values of the degree p."""

OFFSETS = (0.0, 0.25, 0.5, 1.0, 2.0, 5.0)
"""Slider values of the offset c."""

LAMBDAS = (0.0, 1e-8, 1e-6, 1e-4, 1e-2, 1.0, 100.0)
"""Slider values of the ridge lambda (log-spaced, and 0)."""


class KernelRidgeResult(NamedTuple):
    """Kernel ridge regression on toy_1d with (c + x x')^p at one lambda."""

    p: int
    c: float
    lam: float
    eigvals: np.ndarray   # eigenvalues of K(X, X), largest first, shape (n,)
    roundoff: float       # eigenvalues below this are zero up to round-off
    exact_rank: int       # rank of K(X, X) in exact arithmetic
    rmse: float           # test RMSE of the fit
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    pred: np.ndarray      # f(X_test)


@functools.lru_cache(maxsize=128)
def _grams(p: int, c: float) -> dict:
    """What does not depend on lam: K(X, X), K(X*, X) and the spectrum of K(X, X)."""
    train_set, test_set = data.load("toy_1d", "train"), data.load("toy_1d", "test")
    K = features.polynomial_kernel(train_set.X, p=p, c=c)
    eigvals = np.asarray(dynamics.spectrum(K))
    n = eigvals.size
    return {"train": train_set, "test": test_set, "K": K,
            "K_test": features.polynomial_kernel(test_set.X, train_set.X, p=p, c=c),
            "eigvals": eigvals, "roundoff": features.gram_roundoff(n, K.dtype) * eigvals[0],
            "exact_rank": 1 if c == 0 else min(p + 1, n)}


@functools.lru_cache(maxsize=256)
def compute(*, p: int, c: float, lam: float) -> KernelRidgeResult:
    """Fit by `features.kernel_ridge` and predict on the test grid."""
    s = _grams(p, c)
    alpha = features.kernel_ridge(s["K"], s["train"].y, lam)
    pred = np.asarray(s["K_test"] @ alpha)
    rmse = float(np.sqrt(np.mean((pred - s["test"].y) ** 2)))
    return KernelRidgeResult(p, c, lam, s["eigvals"], float(s["roundoff"]), s["exact_rank"],
                             rmse, np.asarray(s["train"].X), np.asarray(s["train"].y),
                             np.asarray(s["test"].X), np.asarray(s["test"].y), pred)


def draw(r: KernelRidgeResult) -> Figure:
    """Two panels: the fit with its test error; the eigenvalues of K(X, X) with lam marked."""
    # a fixed layout: the constrained layout would cost about half of each redraw
    fig, (ax_fit, ax_eig) = plt.subplots(1, 2, figsize=(12, 4.2), layout="none")
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.9, wspace=0.22)
    label = f"kernel ridge (test RMSE {r.rmse:.3f})"
    plots.regression_1d(ax_fit, r.X_train, r.y_train, r.X_test, r.y_test, {label: r.pred},
                        title=f"$(c + x x')^p$, $p = {r.p}$, $c = {r.c:g}$, "
                              f"$\\lambda = {r.lam:g}$")
    ax_fit.set_ylim(-1.6, 1.6)
    plots.eigenvalues(ax_eig, r.eigvals, label=r"eigenvalues of $K(X, X)$",
                      color=plots.COLORS["kernel"], zero_tol=r.roundoff)
    if r.lam > 0:
        ax_eig.axhline(r.lam, color=plots.COLORS["bound"], ls="--", lw=1.5,
                       label=r"ridge $\lambda$: smaller directions damped")
    rank = int(np.sum(r.eigvals > r.roundoff))
    ax_eig.set_title(f"numerical rank {rank} of {r.eigvals.size} (exact rank {r.exact_rank})")
    low, high = ax_eig.get_ylim()
    low = min(low, r.lam / 10) if r.lam > 0 else low
    high = max(high, 2 * r.lam)
    # headroom above every eigenvalue and the lam line (a third of the log range): the legend
    # sits there and hides no data at any slider position
    ax_eig.set_ylim(low, high * (high / low) ** 0.35)
    ax_eig.legend(fontsize=8, loc="upper right")
    return fig


PANEL = Panel("02 kernel ridge", compute, draw, {
    "p": Choice("degree p", DEGREES, 5, "{:d}"),
    "c": Choice("offset c", OFFSETS, 1.0, "{:g}"),
    "lam": Choice("ridge λ", LAMBDAS, 1e-4, "{:g}"),
}, prefetch=())
