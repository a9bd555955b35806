"""Notebook 03 (one hidden layer): the network f(w, x) = (1/sqrt(m)) sum_i b_i sigma(a_i . x)
at width m (relu, inputs embedded as (x, 1), float32).

Left: six functions f(w0, .) of six independent initialisations, inside the band
+-2 sqrt(K^b(x, x)) of their Gaussian-process limit (m = infinity). Right: the network of
`panels.NETWORK_KEY` trained by gradient descent on toy_1d for STEPS steps, its function at
initialisation and after training; the title gives the relative weight change
||w_T - w0|| / ||w0|| and the gradient-flow time t = eta * STEPS it reached (eta is
TIME / STEPS, lowered to 1 / lambda_max at widths where that is smaller, so t can be below
TIME). As m grows the functions at initialisation become Gaussian and the weights move less.
At the narrowest widths every relu can die during training (output 0 at every x): the panel
names that a dead network, not a fit, and does not read its weight change as lazy.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .. import data, net, ntk, plots, train
from . import NETWORK_KEY, Choice, Panel

WIDTHS = tuple(2**k for k in range(15))
"""Slider values of the width m: powers of 2, 1 .. 16384 (a log scale)."""

STEPS, TIME = 1000, 50.0
"""Gradient-descent steps, and the gradient-flow time t = eta * STEPS they aim at."""

PAD_WIDTH = 1024
"""Widths up to this one train padded with zero neurons to this width (`train.pad_neurons`):
one compiled program serves them all, so a new width costs no compilation."""

SAMPLES = 6
"""Independent initialisations drawn for the left panel."""

DEAD = 1e-6
"""A trained network whose outputs on the test grid are all below this in size is dead (every
relu off)."""

YLIM = (-4.5, 3.5)
"""Shared y-range: room for the draws at initialisation (the trained network of NETWORK_KEY
reaches -3.8 at x = -1 for m = 64 and 128, a draw about 3.7 standard deviations out)."""

_SAMPLES_KEY = jax.random.key(3)
"""The key of the six extra initialisations (split into SAMPLES keys, nested widths each)."""


class WidthResult(NamedTuple):
    """The network of width m at initialisation and after gradient descent on toy_1d."""

    m: int
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    gp_sd: np.ndarray     # sqrt(K^b(x, x)) of the infinite-width limit on x_test
    samples: np.ndarray   # f(w0, x_test) of SAMPLES other initialisations, (SAMPLES, n*)
    f0: np.ndarray        # f(w0, x_test) of the trained network at initialisation
    fT: np.ndarray        # f(w_T, x_test) after STEPS steps (NaN if diverged)
    eta: float
    lambda_max: float     # of the empirical NTK K_m(w0) on the training inputs
    t_final: float        # eta * STEPS
    loss0: float
    lossT: float
    change: float         # ||w_T - w0|| / ||w0||
    diverged: bool


@functools.lru_cache(maxsize=1)
def _toy() -> dict:
    """toy_1d embedded as (x, 1) in float32 (the panel trains in float32 for speed), and the
    Gaussian-process standard deviation sqrt(K^b(x, x)) on the test grid."""
    tr, te = data.load("toy_1d", split="train"), data.load("toy_1d", split="test")
    Xt = net.embed(jnp.asarray(te.X))
    sd = np.sqrt(np.diag(np.asarray(ntk.infinite_width_ntk_parts(Xt).Kb, dtype=float)))
    return {"x_train": np.asarray(tr.X[:, 0], float), "y_train": np.asarray(tr.y, float),
            "x_test": np.asarray(te.X[:, 0], float), "y_test": np.asarray(te.y, float),
            "X": net.embed(jnp.asarray(tr.X, jnp.float32)),
            "Xt": net.embed(jnp.asarray(te.X, jnp.float32)),
            "y": jnp.asarray(tr.y, jnp.float32), "gp_sd": sd}


@functools.lru_cache(maxsize=1)
def _sample_keys() -> tuple:
    return tuple(jax.random.split(_SAMPLES_KEY, SAMPLES))


@functools.lru_cache(maxsize=32)
def compute(*, m: int) -> WidthResult:
    """Six functions at initialisation and one trained network, at width m."""
    s = _toy()
    p0 = net.init_nested(NETWORK_KEY, 2, m, dtype=jnp.float32)
    host = np.asarray(s["Xt"], np.float64)
    samples = []
    for k in _sample_keys():  # f(w0, x) = s sigma(X A^T) b in numpy: no compilation per width
        p = net.init_nested(k, 2, m, dtype=jnp.float32)
        A, b = np.asarray(p.A, np.float64), np.asarray(p.b, np.float64)
        samples.append(np.maximum(host @ A.T, 0) @ b * net.output_scale(m))
    lam = float(np.linalg.eigvalsh(ntk.empirical_ntk_host(p0, s["X"]))[-1])
    eta = min(TIME / STEPS, 1.0 / lam)
    traj = train.train_network(p0, s["X"], s["y"], eta=eta, steps=STEPS, record_every=STEPS,
                               X_eval=s["Xt"], pad_to=max(m, PAD_WIDTH))
    preds = np.asarray(traj.predictions, float)
    return WidthResult(m, s["x_train"], s["y_train"], s["x_test"], s["y_test"], s["gp_sd"],
                       np.array(samples), preds[0], preds[-1], eta, lam, eta * STEPS,
                       float(traj.loss[0]), float(traj.loss[-1]),
                       float(traj.weight_change[-1]), traj.diverged)


def draw(r: WidthResult) -> Figure:
    """Functions at initialisation (left), the trained network (right)."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), layout="none", sharey=True)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.84, wspace=0.08)
    x = r.x_test
    ax1.fill_between(x, -2 * r.gp_sd, 2 * r.gp_sd, color=plots.COLORS["kernel"], alpha=0.15,
                     label=r"$\pm 2\sqrt{K^b(x, x)}$, the $m = \infty$ limit")
    for i, f in enumerate(r.samples):
        ax1.plot(x, f, color=plots.COLORS["init"], lw=1.2, alpha=0.8,
                 label=f"$f(w_0, x)$, {SAMPLES} draws" if i == 0 else None)
    ax1.set(xlabel="$x$", ylabel="$f(x)$", ylim=YLIM,
            title="at initialisation: random functions")
    ax1.legend(loc="upper left")
    plots.data_and_target(ax2, r.x_train, r.y_train, x, r.y_test)
    ax2.plot(x, r.f0, ":", color=plots.COLORS["init"], lw=1.5, label="$f(w_0, x)$")
    dead = not r.diverged and float(np.max(np.abs(r.fT))) < DEAD
    if r.diverged:
        ax2.text(0.5, 0.1, "training diverged", transform=ax2.transAxes, ha="center",
                 color=plots.COLORS["bound"])
    elif dead:
        ax2.plot(x, r.fT, color=plots.COLORS["network"], label="$f(w_T, x) = 0$: dead")
    else:
        ax2.plot(x, r.fT, color=plots.COLORS["network"], label="$f(w_T, x)$, trained")
    if dead:
        ax2.set(xlabel="$x$", title=f"every relu died during training (output 0):\n"
                f"a dead network, not a fit (loss ${r.loss0:.3g} \\to {r.lossT:.3g}$)")
        ax2.title.set_fontsize(10)
    else:
        ax2.set(xlabel="$x$", title=f"trained to $t = \\eta k = {r.t_final:.3g}$: "
                f"loss ${r.loss0:.3g} \\to {r.lossT:.3g}$")
    ax2.legend(loc="upper left")
    lowered = "" if r.eta == TIME / STEPS else r" = 1/\lambda_{\max}"
    if dead:
        fig.suptitle(f"width $m = {r.m}$: the network died, so its weight change "
                     f"$\\|w_T - w_0\\| / \\|w_0\\| = {r.change:.3f}$ is not lazy training"
                     f"   ({STEPS} steps, $\\eta = {r.eta:.3g}{lowered}$)")
    else:
        fig.suptitle(f"width $m = {r.m}$: relative weight change $\\|w_T - w_0\\| / \\|w_0\\| = "
                     f"{r.change:.3f}$   ({STEPS} steps, $\\eta = {r.eta:.3g}{lowered}$)")
    return fig


PANEL = Panel("03 width of the network", compute, draw,
              {"m": Choice("width m", WIDTHS, 64, "{:d}")}, prefetch=("m",))
