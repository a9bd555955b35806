"""Notebook 01 (classic kernels): the learning rate of gradient descent in feature space.

The panel trains f(w, x) = w . phi(x) (polynomial features of degree p, c = 1, on toy_1d) by
gradient descent from w = 0 with eta = eta_multiple * 2 / lambda_max(Phi^T Phi), and shows
the loss against the step next to the closed-form minimum L(w*), the fit after the last step
next to the least-squares fit, and the error factor per step |1 - eta lambda_i| of every
eigen-direction with the rate of this eta, max_i |1 - eta lambda_i|, marked. Below the bound
descent converges, slowly along the small eigenvalues; above it, it diverges.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .. import data, features, plots, train
from . import Choice, Panel

STEPS = 10_000
"""Gradient-descent steps of the panel."""

ETA_GRID = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.01, 1.1, 1.5)
"""Slider values of eta / (2 / lambda_max): both sides of the bound."""

DEGREES = tuple(range(1, 13))
"""Slider values of the degree p (beyond 12 the features are too ill-conditioned for
gradient descent to show anything in 10 000 steps)."""

D_MAX = DEGREES[-1] + 1
"""Features at the largest degree (d = 1): every degree's features are padded to this."""

CONVERGED, CLOSE = 1e-3, 0.1
"""L(w_k) / L(w*) - 1 below CONVERGED counts as at the minimum, below CLOSE as close to it."""


class LearningRateResult(NamedTuple):
    """Gradient descent on polynomial features of toy_1d at one learning rate."""

    eta_multiple: float
    p: int
    eta: float
    bound: float          # 2 / lambda_max(Phi^T Phi)
    eigvals: np.ndarray   # eigenvalues of Phi^T Phi, ascending, shape (p + 1,)
    rate: float           # max_i |1 - eta lambda_i|: the error factor per step
    loss: np.ndarray      # L(w_k), k = 0..STEPS (NaN after a divergence)
    loss_star: float      # L(w*), the closed-form minimum
    diverged_step: int    # first step with L > 1e10 (L0 + 1) (train's threshold), -1 if none
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    pred_star: np.ndarray   # least-squares fit w* . phi(x) on X_test
    pred_final: np.ndarray  # fit after STEPS steps on X_test (NaN if diverged)


def _padded(Phi) -> np.ndarray:
    """Phi with zero columns up to D_MAX features: a zero feature has zero gradient, so its
    weight stays 0 and descent is unchanged, while every degree shares one compiled shape
    (a new degree on the slider costs no compilation)."""
    Phi = np.asarray(Phi)
    return np.pad(Phi, ((0, 0), (0, D_MAX - Phi.shape[1])))


@functools.lru_cache(maxsize=16)
def _feature_regression(p: int) -> dict:
    """What does not depend on eta: features, spectrum, bound and the closed-form fit (the
    small eigenproblem in numpy: no compilation for a new degree)."""
    train_set, test_set = data.load("toy_1d", "train"), data.load("toy_1d", "test")
    n = train_set.X.shape[0]  # one call for train and test: one compilation per degree
    both = np.asarray(features.polynomial_features(np.vstack([train_set.X, test_set.X]), p))
    H = both[:n].T @ both[:n]  # the Hessian of L; the nonzero spectrum of Phi Phi^T
    eigvals = np.linalg.eigvalsh(H)
    Phi, Phi_test = _padded(both[:n]), _padded(both[n:])
    w_star = features.least_squares(Phi, train_set.y)  # 0 on the zero columns
    return {"train": train_set, "test": test_set, "Phi": Phi, "Phi_test": Phi_test,
            "eigvals": eigvals, "bound": 2.0 / float(eigvals[-1]),
            "loss_star": float(features.linear_loss(Phi, train_set.y, w_star)),
            "pred_star": np.asarray(Phi_test @ w_star)}


@functools.lru_cache(maxsize=64)
def compute(*, eta_multiple: float, p: int) -> LearningRateResult:
    """Train STEPS steps of gradient descent at eta = eta_multiple * 2 / lambda_max."""
    s = _feature_regression(p)
    eta = eta_multiple * s["bound"]
    traj = train.train_linear(s["Phi"], s["train"].y, eta=eta, steps=STEPS, record_every=STEPS,
                              Phi_eval=s["Phi_test"])
    rate = float(np.max(np.abs(1 - eta * s["eigvals"])))
    return LearningRateResult(
        eta_multiple, p, eta, s["bound"], s["eigvals"], rate, np.asarray(traj.loss),
        s["loss_star"], -1 if traj.diverged_step is None else int(traj.diverged_step),
        np.asarray(s["train"].X), np.asarray(s["train"].y), np.asarray(s["test"].X),
        np.asarray(s["test"].y), s["pred_star"], np.asarray(traj.predictions[-1]))


def rate_text(rate: float) -> str:
    """The error factor per step, readable where it is 1 up to a few parts in 10^8."""
    return f"{rate:.3f}" if rate <= 0.99 or rate >= 1 else f"1 − {1 - rate:.2g}"


def _verdict(r: LearningRateResult) -> str:
    """The suptitle: what happened after STEPS steps, true at every slider position."""
    head = rf"$\eta = {r.eta_multiple:.2f} \times 2/\lambda_{{\max}} = {r.eta:.4g}$: "
    if r.diverged_step >= 0:
        return head + (f"gradient descent diverges (the loss passes $10^{{10}}(L_0 + 1)$ "
                       f"at step {r.diverged_step:,})")
    ratio = float(r.loss[-1] / r.loss_star)
    shown = f"{ratio:.4f}" if ratio < 10 else f"{ratio:.3g}"
    where = ("at the minimum" if ratio - 1 < CONVERGED else
             "close to the minimum" if ratio - 1 < CLOSE else "still far from the minimum")
    return head + (f"$L/L^* = {shown}$ after {STEPS:,} steps: {where} "
                   f"(error factor {rate_text(r.rate)} per step)")


def draw(r: LearningRateResult) -> Figure:
    """Three panels: loss against step, the fit, the error factor per step."""
    diverged = r.diverged_step >= 0
    above = r.eta_multiple > 1
    # a fixed layout: the constrained layout would cost about half of each redraw
    fig, (ax_loss, ax_fit, ax_rate) = plt.subplots(1, 3, figsize=(14, 4.4), layout="none")
    fig.subplots_adjust(left=0.06, right=0.985, bottom=0.12, top=0.84, wspace=0.27)
    k = np.arange(r.loss.size)
    ax_loss.semilogy(k, r.loss, color=plots.COLORS["bound" if above else "network"],
                     label=r"$L(w_k)$, gradient descent")
    ax_loss.axhline(r.loss_star, color=plots.COLORS["kernel"], ls="--", lw=1.5,
                    label=r"$L(w^*)$, closed form")
    if diverged:
        ax_loss.axvline(r.diverged_step, color=plots.COLORS["bound"], ls=":", lw=1.5,
                        label=f"$L > 10^{{10}}(L_0 + 1)$ from step {r.diverged_step:,}")
    plots.quick_log_ticks(ax_loss.yaxis)
    ax_loss.set(xlabel="step $k$", ylabel=r"loss $L(w_k)$",
                title="the loss explodes" if diverged else r"the loss falls towards $L(w^*)$")
    ax_loss.legend(loc="upper left" if diverged else "upper right", fontsize=8)  # off the curve
    if diverged:
        factor = abs(1 - r.eta * float(r.eigvals[-1]))
        # mathtext without spaces: the message is wrapped at spaces
        m = r.eta_multiple
        plots.message(ax_fit, rf"Descent diverges: $\eta={m:.2f}\times2/\lambda_{{\max}}$ "
                              rf"is above the bound $2/\lambda_{{\max}}={r.bound:.4g}$. Each step "
                              rf"multiplies the error along the top eigenvector by "
                              rf"$|1-\eta\lambda_{{\max}}|={factor:.3f}>1$.")
    else:
        after = f"after {STEPS:,} steps"
        plots.regression_1d(ax_fit, r.X_train, r.y_train, r.X_test, r.y_test,
                            {r"closed form $w^*$": r.pred_star, after: r.pred_final},
                            colors={after: plots.COLORS["network"],
                                    r"closed form $w^*$": plots.COLORS["kernel"]},
                            dashed=(after,), title=f"the fit, degree $p = {r.p}$")
        ax_fit.set_ylim(-1.6, 1.6)
    plots.contraction_factor(ax_rate, r.eigvals, r.eta_multiple)
    fig.suptitle(_verdict(r), color=plots.COLORS["bound"] if above else "black")
    return fig


PANEL = Panel("01 learning rate", compute, draw, {
    "eta_multiple": Choice("η / (2/λmax)", ETA_GRID, 0.5, "{:.2f}"),
    "p": Choice("degree p", DEGREES, 5, "{:d}"),
}, prefetch=("p",))
