"""Notebook 04 (Taylor linearization): the network f and its Taylor model f_lin around w0,
trained side by side from the same w0 by gradient descent on toy_1d (relu, inputs (x, 1),
float32), at width m and learning rate eta = eta_multiple * 2 / lambda_max, lambda_max the
largest eigenvalue of the NTK K_m(w0) on the training inputs.

Left: both functions after STEPS steps, with the data. Middle: both losses against the
gradient-flow time t = eta k. Right: the relative weight change ||w_T - w0|| / ||w0|| of each,
next to the reference c / sqrt(m) with c fitted once (GAUGE_WIDTHS at the default rate).
Below eta_multiple = 1 both train and, for wide networks, agree; above it f_lin diverges
while the network may survive after a loss spike: a catapult when it still fits (final loss
below CATAPULT times its loss at eta_multiple = GAUGE_ETA and below half its initial loss),
otherwise a survivor that does not fit in STEPS steps, or a dead network (every relu off,
output 0), which the headline names in every case; further up both diverge, which the panel
says in words (`PanelError`).
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax.numpy as jnp
import matplotlib.pyplot as plt
import matplotlib.ticker as mpl_ticker
import numpy as np
from matplotlib.figure import Figure

from .. import data, linearize, net, ntk, plots, train
from . import NETWORK_KEY, Choice, Panel, PanelError

WIDTHS = tuple(2**k for k in range(2, 15))
"""Slider values of the width m: powers of 2, 4 .. 16384."""

ETA_GRID = tuple(round(0.05 * k, 2) for k in range(1, 61))
"""Slider values of eta / (2 / lambda_max): 0.05 .. 3.00 in steps of 0.05."""

STEPS, RECORD = 300, 15
"""Gradient-descent steps, and how often predictions are stored."""

PAD_WIDTH = 1024
"""Widths up to this one train padded with zero neurons to this width (`pad_to`): one
compiled program per model serves them all, so a new width costs no compilation."""

GAUGE_WIDTHS, GAUGE_ETA = (64, 128, 256, 512, 1024), 0.5
"""Where the constant c of the gauge's reference c / sqrt(m) is fitted: the network's
relative weight change times sqrt(m), geometric mean over these widths, at this rate."""

DEAD = 1e-6
"""A surviving network whose outputs are all below this in size is dead (every relu off)."""

CATAPULT = 2.0
"""A network that survives above 2 / lambda_max is called a catapult only if its final loss is
below this multiple of its final loss at eta_multiple = GAUGE_ETA (the lazy fit at that width)
and below half its initial loss."""


class LazyResult(NamedTuple):
    """f and f_lin trained from the same w0 at one width and one learning rate."""

    m: int
    eta_multiple: float
    eta: float
    lambda_max: float
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    f0: np.ndarray          # f(w0, x_test)
    t: np.ndarray           # gradient-flow times eta k, k = 0..STEPS
    pred: np.ndarray        # final predictions on x_test, (2, n*): network, f_lin
    loss: np.ndarray        # losses, (2, STEPS + 1): network, f_lin (NaN after divergence)
    change: np.ndarray      # ||w_T - w0|| / ||w0||, (2,): network, f_lin (NaN if diverged)
    diverged_step: np.ndarray  # first diverged step, (2,): network, f_lin; -1 if none
    gauge_c: float          # c of the reference c / sqrt(m)
    fit_loss: float         # the network's final loss at eta_multiple = GAUGE_ETA, this width


@functools.lru_cache(maxsize=1)
def _toy() -> dict:
    """toy_1d embedded as (x, 1), in float32 (the panel trains in float32 for speed)."""
    tr, te = data.load("toy_1d", split="train"), data.load("toy_1d", split="test")
    return {"x_train": np.asarray(tr.X[:, 0], float), "y_train": np.asarray(tr.y, float),
            "x_test": np.asarray(te.X[:, 0], float), "y_test": np.asarray(te.y, float),
            "X": net.embed(jnp.asarray(tr.X, jnp.float32)),
            "Xt": net.embed(jnp.asarray(te.X, jnp.float32)),
            "y": jnp.asarray(tr.y, jnp.float32)}


@functools.lru_cache(maxsize=16)
def _setup(m: int) -> tuple[net.Params, float]:
    """w0 and lambda_max of K_m(w0) on the training inputs (float64 on the host: no
    compilation): what does not depend on eta."""
    p0 = net.init_nested(NETWORK_KEY, 2, m, dtype=jnp.float32)
    return p0, float(np.linalg.eigvalsh(ntk.empirical_ntk_host(p0, _toy()["X"]))[-1])


def _runs(m: int, eta_multiple: float) -> tuple[float, train.Trajectory, train.Trajectory]:
    s = _toy()
    p0, lam = _setup(m)
    eta = eta_multiple * 2.0 / lam
    kw = {"eta": eta, "steps": STEPS, "record_every": RECORD, "X_eval": s["Xt"],
          "pad_to": max(m, PAD_WIDTH)}
    return (eta, train.train_network(p0, s["X"], s["y"], **kw),
            linearize.train_linearized(p0, s["X"], s["y"], **kw))


@functools.lru_cache(maxsize=1)
def gauge_constant() -> float:
    """c such that the network's relative weight change is about c / sqrt(m): the geometric
    mean of sqrt(m) ||w_T - w0|| / ||w0|| over GAUGE_WIDTHS at eta_multiple = GAUGE_ETA."""
    logs = [math.log(math.sqrt(m) * float(_runs(m, GAUGE_ETA)[1].weight_change[-1]))
            for m in GAUGE_WIDTHS]
    return math.exp(sum(logs) / len(logs))


@functools.lru_cache(maxsize=64)
def compute(*, m: int, eta_multiple: float) -> LazyResult:
    """Both models at width m and eta = eta_multiple * 2 / lambda_max."""
    s = _toy()
    eta, f, lin = _runs(m, eta_multiple)
    runs = (f, lin)
    fit = (float(f.loss[-1]) if eta_multiple == GAUGE_ETA
           else float(compute(m=m, eta_multiple=GAUGE_ETA).loss[0, -1]))
    return LazyResult(
        m, eta_multiple, eta, _setup(m)[1], s["x_train"], s["y_train"], s["x_test"],
        s["y_test"], np.asarray(f.predictions[0], float), np.asarray(f.times, float),
        np.array([np.asarray(r.predictions[-1], float) for r in runs]),
        np.array([np.asarray(r.loss, float) for r in runs]),
        np.array([float(r.weight_change[-1]) for r in runs]),
        np.array([-1 if r.diverged_step is None else r.diverged_step for r in runs]),
        gauge_constant(), fit)


def headline(r: LazyResult) -> str:
    """What the figure shows at this state, true at every position of the sliders."""
    f_gone, lin_gone = r.diverged_step >= 0
    dead = not f_gone and float(np.max(np.abs(r.pred[0]))) < DEAD
    if lin_gone:
        above = r"above $2/\lambda_{\max}$ $f_{\mathrm{lin}}$ diverges; the network survives "
        if dead:
            return above + "only as a dead network (output 0), not a catapult"
        final = float(r.loss[0, -1])
        if final < CATAPULT * r.fit_loss and final < 0.5 * float(r.loss[0, 0]):
            return above + "and still fits (a catapult)"
        return (above + f"but does not fit in {STEPS} steps\n(final loss {final:.2f}; "
                f"{r.fit_loss:.2f} at $\\eta = {GAUGE_ETA:.2f} \\times 2/\\lambda_{{\\max}}$): "
                "not a catapult")
    if f_gone:
        return (r"$f_{\mathrm{lin}}$ converges, the network diverges: here $f$ is not its "
                "Taylor model")
    if dead:
        return (r"$f_{\mathrm{lin}}$ trains; the network died (every relu off, output 0): "
                "a dead network, not a fit")
    return "both train, side by side"


def draw(r: LazyResult) -> Figure:
    """Fits, losses and weight changes of f and f_lin; a `PanelError` if both diverged."""
    kf, kl = (int(k) for k in r.diverged_step)
    if kf >= 0 and kl >= 0:
        raise PanelError(
            f"Training diverged: at η = {r.eta_multiple:.2f} × 2/λ_max (η = {r.eta:.3g}, "
            f"λ_max = {r.lambda_max:.3g}) both the network (step {kf}) and its linearization "
            f"(step {kl}) blow up. Above 2/λ_max (slider value 1.00) gradient descent on f_lin "
            f"diverges; the network can survive somewhat larger rates after a loss spike "
            f"(the catapult), but not this one. Move the learning-rate slider down.")
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(12, 4.2), layout="none",
                                        gridspec_kw={"width_ratios": [1.3, 1.1, 0.8]})
    fig.subplots_adjust(left=0.06, right=0.97, bottom=0.25, top=0.8, wspace=0.35)
    plots.data_and_target(ax1, r.x_train, r.y_train, r.x_test, r.y_test)
    ax1.plot(r.x_test, r.f0, ":", color=plots.COLORS["init"], lw=1.5, label="$f(w_0, x)$")
    notes = []
    for i, (style, label, color) in enumerate((("-", "network $f$", "network"),
                                               ("--", r"linearized $f_{\mathrm{lin}}$",
                                                "linearized"))):
        if r.diverged_step[i] < 0:
            ax1.plot(r.x_test, r.pred[i], style, color=plots.COLORS[color], label=label)
        else:
            name = ("$f$", r"$f_{\mathrm{lin}}$")[i]
            notes.append(f"{name} diverged at step {int(r.diverged_step[i])}")
        ax2.semilogy(r.t, r.loss[i], style, color=plots.COLORS[color], label=label)
    if notes:
        ax1.text(0.98, 0.97, "\n".join(notes), transform=ax1.transAxes, ha="right", va="top",
                 color=plots.COLORS["bound"], fontsize=10)
    ax1.set(xlabel="$x$", ylabel="$f(x)$", ylim=(-4.0, 3.2), title=f"after {STEPS} steps")
    ax1.legend(loc="upper left", fontsize=8)
    ax2.set(xlabel=r"gradient-flow time $t = \eta k$", ylabel=r"loss $\|U\|^2 / 2$",
            title="loss")
    ax2.legend(loc="upper right", fontsize=8)
    # one tick format on the loss axis: powers of ten in math text, minor ticks (labelled only
    # when the losses span about a decade or less) in the same scientific notation
    ax2.yaxis.set_major_formatter(mpl_ticker.LogFormatterSciNotation())
    ax2.yaxis.set_minor_formatter(mpl_ticker.LogFormatterSciNotation(minor_thresholds=(1, 0.4)))
    ref = r.gauge_c / math.sqrt(r.m)
    lin = r"$f_{\mathrm{lin}}$"
    plots.gauge(ax3, {"$f$": r.change[0], lin: r.change[1]},
                {"$f$": plots.COLORS["network"], lin: plots.COLORS["linearized"]},
                vmax=1.0, title="relative weight change\n$\\|w_T - w_0\\| / \\|w_0\\|$",
                xlabel=f"dashed: reference $c/\\sqrt{{m}} = {ref:.3f}$, $c = {r.gauge_c:.2f}$\n"
                       f"fitted to $f$ at $\\eta = {GAUGE_ETA:.2f} \\times 2/\\lambda_{{\\max}}$,\n"
                       f"$m = {GAUGE_WIDTHS[0]}$ to ${GAUGE_WIDTHS[-1]}$")
    ax3.xaxis.label.set_fontsize(9)
    if ref < 1:
        ax3.axvline(ref, color=plots.COLORS["data"], ls="--", lw=1.2)
    fig.suptitle(f"width $m = {r.m}$, $\\eta = {r.eta_multiple:.2f} \\times 2/\\lambda_{{\\max}} = "
                 f"{r.eta:.3g}$: {headline(r)}", fontsize=11)
    return fig


PANEL = Panel("04 network against its linearization", compute, draw,
              {"m": Choice("width m", WIDTHS, 256, "{:d}"),
               "eta_multiple": Choice("η / (2/λmax)", ETA_GRID, 0.5, "{:.2f}")},
              prefetch=("m",))
