"""Notebook 07 (the NTK in practice): learning-rate phases of one network, lambda_max(t) live.

The erf network of width m (`net.init_nested(NETWORK_KEY, 2, m)`, float32 weights, the same
network as notebook 06's panel) is trained on toy_1d (inputs (x, 1)) by gradient descent at
eta = eta_multiple * 2/lambda_0, lambda_0 the top eigenvalue of its empirical NTK K(w0).
Left: the network's loss and the linearized model's ((I - eta K(w0))^k, from one
decomposition of K(w0)) against t = eta k. Right: lambda_max of the empirical NTK K(w_k)
during training against the line 2/eta, below which gradient descent on a kernel is stable:
in a catapult the loss spikes while lambda_max falls below 2/eta, then the loss converges.
The title names the regime of the run (`nb06_gradient_flow.describe_regime`).

Also the experiments of the notebook's sections 1 and 3 that are too long for a cell:
`width_sweep` (networks of growing width against the infinite-width kernel, with the control
of each network's own kernel at initialisation) and `label_fits` (true against shuffled labels).
"""

from __future__ import annotations

import functools
import textwrap
from typing import NamedTuple

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .. import data, dynamics, net, plots, train
from . import NETWORK_KEY, Choice, Panel
from .nb06_gradient_flow import ETA_GRID, WIDTHS, describe_regime, padded_kernel_and_output

PHASE_STEPS, PHASE_RECORD = 500, 2
"""Gradient-descent steps of a run, and how often lambda_max(K(w_k)) is computed."""


class PhaseResult(NamedTuple):
    """One run at (m, eta_multiple) with the NTK's top eigenvalue tracked."""

    m: int
    eta_multiple: float
    eta: float
    lambda0: float           # lambda_max of K(w0)
    t: np.ndarray            # t = eta k, k = 0..PHASE_STEPS
    loss: np.ndarray         # network loss (NaN after a divergence)
    linearized: np.ndarray   # (1/2)|(I - eta K0)^k U0|^2
    record_t: np.ndarray     # times of the lambda_max records, (R,)
    lambda_max: np.ndarray   # lambda_max(K(w_k)) at record_t (NaN after a divergence)
    regime: str              # dynamics.Regime fields: name ...
    peak: float
    final: float


@functools.lru_cache(maxsize=16)
def _setup(m: int) -> dict:
    """What does not depend on eta: data, w0 and one decomposition of K(w0)."""
    toy = data.load("toy_1d", split="train")
    X = net.embed(jnp.asarray(toy.X))
    y = jnp.asarray(toy.y)
    p64 = net.init_nested(NETWORK_KEY, 2, m, dtype=jnp.float64)  # the float32 numbers
    K0, f0 = padded_kernel_and_output(p64, X, X)  # one compiled program for every width
    kd = dynamics.kernel_dynamics(K0, f0 - y)
    return {"params": net.init_nested(NETWORK_KEY, 2, m, dtype=jnp.float32),
            "X": X.astype(jnp.float32), "y": y.astype(jnp.float32), "dynamics": kd}


@functools.lru_cache(maxsize=128)
def compute(*, m: int, eta_multiple: float) -> PhaseResult:
    """PHASE_STEPS steps of gradient descent at eta = eta_multiple * 2 / lambda_0."""
    s = _setup(m)
    kd = s["dynamics"]
    eta = eta_multiple * kd.max_stable_learning_rate
    traj = train.train_network(s["params"], s["X"], s["y"], eta=eta, steps=PHASE_STEPS,
                               activation="erf", record_every=PHASE_RECORD,
                               track_lambda_max=True, pad_to=WIDTHS[-1])
    with np.errstate(over="ignore", invalid="ignore"):
        lin = np.asarray(kd.gd_loss(eta, PHASE_STEPS), dtype=np.float64)
    regime = dynamics.classify_regime(traj.loss, eta=eta, lambda_max=kd.lambda_max)
    return PhaseResult(m, eta_multiple, eta, kd.lambda_max,
                       np.asarray(traj.times, dtype=np.float64),
                       np.asarray(traj.loss, dtype=np.float64), lin,
                       np.asarray(traj.record_times, dtype=np.float64),
                       np.asarray(traj.lambda_max, dtype=np.float64), regime.name,
                       regime.peak, regime.final)


def draw(r: PhaseResult) -> Figure:
    """Left: network and linearized loss; right: lambda_max(K(w_k)) against 2/eta.

    Time is on a log axis from the first step, so the values at t = 0 (the loss L0 and
    lambda_0) are drawn as dotted horizontal lines: a narrow network can jump in one step.
    """
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.8), layout="none")
    fig.subplots_adjust(left=0.085, right=0.98, bottom=0.25, top=0.82, wspace=0.25)
    finite = r.loss[np.isfinite(r.loss)]
    # log time from the first step: a catapult is over within a few dozen steps
    plots.training_curves(ax1, r.t[1:], network=r.loss[1:], linearized=r.linearized[1:],
                          top=30 * float(finite.max()))
    ax1.axhline(r.loss[0], color=plots.COLORS["target"], ls=":",
                label=rf"$\mathcal{{L}}_0 = {r.loss[0]:.3g}$ (at $t = 0$)")
    ax1.legend(fontsize=9)
    ax1.set_title("loss: network and its linearization", y=1.01)
    # past a divergence the weights are not finite: no kernel left to measure
    at = np.rint(r.record_t / r.eta).astype(int)
    lam = np.where(np.isfinite(r.loss[np.clip(at, 0, r.loss.size - 1)]), r.lambda_max, np.nan)
    ax2.plot(r.record_t[1:], lam[1:], color=plots.COLORS["network"],
             label=r"$\lambda_{\max}(K(w_k))$")
    ax2.axhline(2 / r.eta, color=plots.COLORS["bound"], ls="--",
                label=r"$2/\eta$ (stable below)")
    ax2.axhline(r.lambda0, color=plots.COLORS["target"], ls=":",
                label=rf"$\lambda_0 = {r.lambda0:.3g}$ (at $t = 0$)")
    # a diverging lambda_max leaves through the top
    seen = float(np.nanmax(lam)) if np.any(np.isfinite(lam)) else r.lambda0
    top = max(min(seen, 3 * r.lambda0), 2 / r.eta, r.lambda0)
    ax2.set(ylim=(0, 1.15 * top), xlabel=r"gradient-flow time $t = \eta k$",
            ylabel=r"top eigenvalue $\lambda_{\max}$ of the NTK")
    for ax in (ax1, ax2):
        ax.set_xscale("log")
        plots.quick_log_ticks(ax.xaxis)
        ax.set_xlim(r.t[1], r.t[-1])
    if r.regime == "diverging":
        ax2.text(0.6, 0.5, "the network diverged:\nno kernel left to measure",
                 transform=ax2.transAxes, ha="center", color=plots.COLORS["bound"])
    ax2.set_title("the NTK's top eigenvalue during training", y=1.01)
    # below the axes: the horizontal lines move with eta and 'best' does not avoid them
    ax2.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, fontsize=8,
               frameon=False)
    regime = dynamics.Regime(r.regime, r.eta_multiple, r.peak, r.final)
    # the notebook calls the kernel's top eigenvalue at initialisation lambda_0
    text = describe_regime(regime).replace("2/λ_max", "2/λ₀")
    fig.suptitle(textwrap.fill(f"m = {r.m}, erf, {PHASE_STEPS} steps: " + text, 120),
                 color=plots.COLORS[plots.REGIME_ROLES[r.regime]], fontsize=11)
    return fig


PANEL = Panel(
    "07 learning-rate phases", compute, draw,
    {"m": Choice("width m", WIDTHS, 4096, "{:d}"),
     "eta_multiple": Choice("η / (2/λ₀)", ETA_GRID, 1.5, "{:.2f}")},
    prefetch=("m",))


# ------------------------------------------------------------ section 1: networks of growing width

class WidthSweep(NamedTuple):
    """Centred relu networks of several widths and seeds against the infinite-width kernel.

    Every array has shape (seeds, widths); distances are RMS over the test points.
    """

    widths: np.ndarray
    test_rmse: np.ndarray     # the network's test RMSE
    to_kernel: np.ndarray     # network vs the infinite-width kernel's GD prediction
    init_kernel: np.ndarray   # control, no training: the prediction of the network's own
                              # NTK at initialisation K_m(w0) vs the infinite-width one
    drift: np.ndarray         # network vs the prediction of its own K_m(w0)
    kernel_error: np.ndarray  # ||K_m(w0) - K||_F / ||K||_F on the training inputs


def width_sweep(key, X, y, X_test, y_test, *, widths, seeds: int, eta: float,
                steps: int) -> WidthSweep:
    """Train centred relu networks (float32) by `steps` of gradient descent at `eta`.

    The references are gradient descent on a fixed kernel for the same steps (the same
    discrete process, `KernelDynamics.gd_predict`), with the infinite-width NTK and with the
    network's own empirical NTK at initialisation (computed in float64 from the same weights).
    Seed s initialises with `jax.random.fold_in(key, s)`.
    """
    import jax

    from .. import ntk

    X, X_test = jnp.asarray(X, jnp.float64), jnp.asarray(X_test, jnp.float64)
    y, y_test = jnp.asarray(y, jnp.float64), np.asarray(y_test, np.float64)
    zeros = jnp.zeros(X_test.shape[0])

    def gd_prediction(K, Ks):
        kd = dynamics.kernel_dynamics(K, -y, K_test_train=Ks, f0_test=zeros)
        return np.asarray(kd.gd_predict(eta, steps)[-1])

    K_inf = ntk.infinite_width_ntk(X)
    f_inf = gd_prediction(K_inf, ntk.infinite_width_ntk(X_test, X))
    widths = np.asarray(widths)
    out = np.zeros((5, seeds, widths.size))
    X32, Xt32, y32 = (a.astype(jnp.float32) for a in (X, X_test, y))
    for s in range(seeds):
        for i, m in enumerate(widths):
            p0 = net.init(jax.random.fold_in(key, s), X.shape[1], int(m), dtype=jnp.float32)
            f = np.asarray(train.train_network(p0, X32, y32, eta=eta, steps=steps,
                                               record_every=steps, X_eval=Xt32,
                                               centred=True).predictions[-1], np.float64)
            p64 = net.Params(*(jnp.asarray(a, jnp.float64) for a in p0))
            K_m = ntk.empirical_ntk(p64, X)
            f_init = gd_prediction(K_m, ntk.empirical_ntk(p64, X_test, X))
            for j, (a, b) in enumerate(((f, y_test), (f, f_inf), (f_init, f_inf), (f, f_init))):
                out[j, s, i] = np.sqrt(np.mean((a - b) ** 2))
            out[4, s, i] = float(jnp.linalg.norm(K_m - K_inf) / jnp.linalg.norm(K_inf))
    return WidthSweep(widths, *out)


# ------------------------------------------------- section 3: fitting true and shuffled labels

class LabelFit(NamedTuple):
    """Losses over the steps k = 0..steps of one labelling, each of shape (steps + 1,)."""

    network: np.ndarray       # the centred network trained by gradient descent
    kernel_flow: np.ndarray   # the kernel ODE with the infinite-width K, at t = eta k
    kernel_gd: np.ndarray     # gradient descent on the fixed infinite-width K, same step
    init_gd: np.ndarray       # control: gradient descent on the network's own K_m(w0)


def label_fits(params0, X, labels: dict, K, *, eta: float, steps: int) -> dict:
    """Losses of a centred relu network trained on each labelling, and of the kernels.

    For each `name: y` in `labels`: gradient descent on the network from `params0` (float32)
    and, with the kernel K (float64), the kernel ODE's loss at the same times t = eta k and
    gradient descent on the fixed kernel with the same step; as a control, gradient descent
    with the same step on the network's own empirical NTK at initialisation K_m(w0)
    (float64, from the same weights): the network without any change of its kernel.
    Returns `{name: LabelFit}`.
    """
    from .. import ntk

    X32 = jnp.asarray(X, jnp.float32)
    p64 = net.Params(*(jnp.asarray(a, jnp.float64) for a in params0))
    K_m = ntk.empirical_ntk(p64, jnp.asarray(X, jnp.float64))
    out = {}
    for name, y in labels.items():
        r = train.train_network(params0, X32, jnp.asarray(y, jnp.float32), eta=eta,
                                steps=steps, record_every=steps, centred=True)
        kd = dynamics.kernel_dynamics(K, -jnp.asarray(y, jnp.float64))
        kd_m = dynamics.kernel_dynamics(K_m, -jnp.asarray(y, jnp.float64))
        out[name] = LabelFit(np.asarray(r.loss, np.float64),
                             np.asarray(kd.loss(np.asarray(r.times))),
                             np.asarray(kd.gd_loss(eta, steps), np.float64),
                             np.asarray(kd_m.gd_loss(eta, steps), np.float64))
    return out
