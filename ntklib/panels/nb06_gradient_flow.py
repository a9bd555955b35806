"""Notebook 06 (gradient flow): network, linearization and kernel ODE on one clock.

The erf network of width m (`net.init_nested(NETWORK_KEY, 2, m)`, float32 weights) is trained
on toy_1d (inputs embedded as (x, 1)) by gradient descent at eta = eta_multiple * 2/lambda_max,
lambda_max that of its empirical NTK K0 at initialisation. Next to it, from ONE
decomposition of K0 (`dynamics.kernel_dynamics`): the linearized model, exactly
(I - eta K0)^k, and the kernel ODE exp(-K0 t). Left: the three losses against t = eta k, up
to the step shown; right: the three functions at that step. The title names the regime of the
whole run (FLOW_STEPS steps): converging, catapult, diverging or stalled (erf never gives
'dead', a relu regime), worded by
`describe_regime`, which notebook 07's panel and the notebooks use too.
"""

from __future__ import annotations

import functools
import textwrap
from typing import NamedTuple

import jax.numpy as jnp
import matplotlib.pyplot as plt
import matplotlib.ticker as mpl_ticker
import numpy as np
from matplotlib.figure import Figure

from .. import data, dynamics, net, ntk, plots, train
from . import NETWORK_KEY, Choice, Panel

WIDTHS = tuple(2**k for k in range(4, 13))
"""Slider values of the width m: powers of 2 from 16 to 4096."""

ETA_GRID = tuple(round(0.05 * k, 2) for k in range(2, 61))
"""Slider values of eta / (2 / lambda_max): 0.10 to 3.00 in steps of 0.05."""

FLOW_STEPS, FLOW_RECORD = 1000, 50
"""Gradient-descent steps of a run, and how often the network's predictions are stored."""

STEP_GRID = tuple(range(FLOW_RECORD, FLOW_STEPS + 1, FLOW_RECORD))
"""Slider values of the step shown: 50 to 1000 (the recorded steps)."""

ACTIVATION = "erf"
"""erf shows all regimes: converging, the catapult, divergence."""


def describe_regime(regime: dynamics.Regime) -> str:
    """One readable sentence for a `dynamics.Regime` (a figure title, a notebook's print)."""
    head = f"η = {regime.eta_multiple:.2f} × 2/λ_max: "
    if regime.name == "diverging":
        return head + ("DIVERGING: this run's loss blows up and does not come back; the "
                       "kernel picture has ended")
    if regime.name == "converging":
        # only convergence is claimed: at small width the network can converge while it
        # leaves its kernel (m = 16, eta = 0.1x: final loss 0.094 against the kernel's ~0.15)
        return head + ("converging, below the bound 2/λ_max" if regime.eta_multiple < 1
                       else "converging without a spike")
    if regime.name == "catapult":
        return head + (f"CATAPULT: the loss spikes to {regime.peak:.3g}, then converges to "
                       f"{regime.final:.2g}" + (
                           "; the linearized model diverges here: the kernel picture has ended"
                           if regime.eta_multiple > 1 else ""))
    if regime.name == "dead":
        return head + (f"DEAD: the big steps switched nearly every relu neuron off for good "
                       f"(fewer than 1% still active); the loss stalls at {regime.final:.3g}: "
                       "not a catapult")
    return head + (f"STALLED: finite, but the loss ends at {regime.final:.3g}, not below its "
                   "start")


class FlowResult(NamedTuple):
    """The three models at one width and learning rate, and the step to show."""

    m: int
    eta_multiple: float
    steps: int
    eta: float
    lambda_max: float
    t: np.ndarray            # t = eta k, k = 0..FLOW_STEPS
    network: np.ndarray      # network loss per step (NaN after a divergence)
    linearized: np.ndarray   # (1/2)|(I - eta K0)^k U0|^2
    kernel: np.ndarray       # (1/2)|exp(-K0 t) U0|^2
    record_steps: np.ndarray  # steps of the stored predictions, (R,)
    net_pred: np.ndarray     # network on the test grid at record_steps, (R, n*)
    lin_pred: np.ndarray     # linearized model, (R, n*)
    kernel_pred: np.ndarray  # kernel ODE at t = eta * record_steps, (R, n*)
    diverged_step: int       # -1 if the network did not diverge
    regime: str              # dynamics.Regime fields of the whole run: name ...
    peak: float
    final: float
    x_test: np.ndarray
    y_test: np.ndarray
    x_train: np.ndarray
    y_train: np.ndarray


def padded_kernel_and_output(params: net.Params, X1: jnp.ndarray,
                             X2: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    """K(X1, X2) and f(X1) of the network, computed on its weights padded with zero neurons
    to WIDTHS[-1] (`train.pad_neurons`), so that every width reuses one compiled program.

    A zero neuron adds nothing to f nor to the NTK (b_i = 0 and sigma(0) = 0), so only the
    output scale 1/sqrt(m) differs: f is rescaled by sqrt(M/m) and K by M/m, M = WIDTHS[-1].
    """
    ratio = net.output_scale(params.m, "ntk") / net.output_scale(WIDTHS[-1], "ntk")
    padded = train.pad_neurons(params, WIDTHS[-1])
    return (ntk.empirical_ntk(padded, X1, X2, activation=ACTIVATION) * ratio**2,
            net.apply(padded, X1, activation=ACTIVATION) * ratio)


@functools.lru_cache(maxsize=16)
def _setup(m: int) -> dict:
    """What does not depend on eta: data, w0, and one decomposition of K0 on train and test."""
    train_set, test_set = data.load("toy_1d", split="train"), data.load("toy_1d", split="test")
    X, Xt = net.embed(jnp.asarray(train_set.X)), net.embed(jnp.asarray(test_set.X))
    y = jnp.asarray(train_set.y)
    p32 = net.init_nested(NETWORK_KEY, 2, m, dtype=jnp.float32)
    # the kernel of exactly the trained weights, computed in float64 (init_nested draws in
    # float32: the same numbers in both dtypes, and no per-width cast to compile)
    p64 = net.init_nested(NETWORK_KEY, 2, m, dtype=jnp.float64)
    n, both = X.shape[0], jnp.concatenate([X, Xt])  # one kernel and one pass on both sets
    K_all, f_all = padded_kernel_and_output(p64, both, X)
    kd = dynamics.kernel_dynamics(K_all[:n], f_all[:n] - y, K_test_train=K_all[n:],
                                  f0_test=f_all[n:])
    return {"X": X, "Xt": Xt, "y": y, "params": p32, "dynamics": kd,
            "x_test": np.asarray(test_set.X[:, 0]), "y_test": np.asarray(test_set.y),
            "x_train": np.asarray(train_set.X[:, 0]), "y_train": np.asarray(train_set.y)}


@functools.lru_cache(maxsize=64)
def _run(m: int, eta_multiple: float) -> dict:
    """The three models over FLOW_STEPS steps at one learning rate (any step slider reuses it)."""
    s = _setup(m)
    kd = s["dynamics"]
    eta = eta_multiple * kd.max_stable_learning_rate
    # padded to the widest width: one compiled trainer for every width of the slider
    traj = train.train_network(s["params"], s["X"], s["y"], eta=eta, steps=FLOW_STEPS,
                               activation=ACTIVATION, record_every=FLOW_RECORD, X_eval=s["Xt"],
                               pad_to=WIDTHS[-1])
    record = np.asarray(traj.record_steps)
    t = eta * np.arange(FLOW_STEPS + 1)
    with np.errstate(over="ignore", invalid="ignore"):
        lin_pred = np.asarray(kd.gd_predict(eta, FLOW_STEPS))[record]
        linearized = np.asarray(kd.gd_loss(eta, FLOW_STEPS), dtype=np.float64)
    regime = dynamics.classify_regime(traj.loss, eta=eta, lambda_max=kd.lambda_max)
    return {"eta": eta, "t": t, "network": np.asarray(traj.loss, dtype=np.float64),
            "linearized": linearized, "kernel": np.asarray(kd.loss(t), dtype=np.float64),
            "record_steps": record, "lin_pred": lin_pred,
            "net_pred": np.asarray(traj.predictions, dtype=np.float64),
            "kernel_pred": np.asarray(kd.predict(eta * record), dtype=np.float64),
            "diverged_step": -1 if traj.diverged_step is None else int(traj.diverged_step),
            "regime": regime}


@functools.lru_cache(maxsize=256)
def compute(*, m: int, eta_multiple: float, steps: int) -> FlowResult:
    """The run at (m, eta_multiple), shown up to step `steps` (a slider move costs nothing)."""
    s, r = _setup(m), _run(m, eta_multiple)
    g = r["regime"]
    return FlowResult(m, eta_multiple, steps, r["eta"], s["dynamics"].lambda_max, r["t"],
                      r["network"], r["linearized"], r["kernel"], r["record_steps"],
                      r["net_pred"], r["lin_pred"], r["kernel_pred"], r["diverged_step"],
                      g.name, g.peak, g.final, s["x_test"], s["y_test"], s["x_train"],
                      s["y_train"])


def draw(r: FlowResult) -> Figure:
    """Left: the three losses against t = eta k up to the step shown; right: the functions."""
    # a fixed layout: the constrained layout would cost more than half of the update time
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.4), layout="none")
    fig.subplots_adjust(left=0.085, right=0.98, bottom=0.12, top=0.8, wspace=0.22)
    diverged = r.diverged_step >= 0
    last = r.steps if not diverged else min(r.steps, max(4 * r.diverged_step, 40))
    shown = slice(0, last + 1)  # after a divergence, only the steps around it
    finite_net = r.network[np.isfinite(r.network)]
    plots.training_curves(ax1, r.t[shown], network=r.network[shown],
                          linearized=r.linearized[shown], kernel=r.kernel[shown],
                          top=30 * float(finite_net.max()))
    # titles at a fixed height skip matplotlib's costly automatic placement
    ax1.set_title("loss: network, linearization, kernel ODE", y=1.01)
    j = int(np.argmin(np.abs(r.record_steps - r.steps)))  # the recorded step shown
    k = int(r.record_steps[j])
    ax2.plot(r.x_test, r.y_test, color=plots.COLORS["target"], lw=1.5, label="target g")
    ax2.plot(r.x_train, r.y_train, "o", color=plots.COLORS["data"], ms=4,
             label="training data")
    lin = r.lin_pred[j]
    lin_ok = bool(np.all(np.isfinite(lin)) and np.max(np.abs(lin)) < 1e3)
    net_ok = bool(np.all(np.isfinite(r.net_pred[j])))
    if net_ok:
        ax2.plot(r.x_test, r.net_pred[j], color=plots.COLORS["network"], label="network")
    ax2.plot(r.x_test, np.clip(lin, -1e3, 1e3), "--", color=plots.COLORS["linearized"],
             label="linearized" + ("" if lin_ok else " (diverged: off the chart)"))
    ax2.plot(r.x_test, r.kernel_pred[j], ":", color=plots.COLORS["kernel"],
             label="kernel ODE")
    if not net_ok:
        ax2.text(0.5, 0.08, f"network diverged at step {r.diverged_step}",
                 transform=ax2.transAxes, ha="center", color=plots.COLORS["bound"])
    # few ticks: every tick is an object and a text to lay out on each redraw
    ax2.set(ylim=(-2.2, 2.2), xlabel="input x", ylabel="f(x)", xticks=[-1, -0.5, 0, 0.5, 1],
            yticks=[-2, -1, 0, 1, 2])
    ax1.xaxis.set_major_locator(mpl_ticker.MaxNLocator(5))
    ax2.set_title(f"functions at step k = {k} (t = {r.eta * k:.3g})", y=1.01)
    ax2.legend(loc="upper left", fontsize=8)
    regime = dynamics.Regime(r.regime, r.eta_multiple, r.peak, r.final)
    text = (f"m = {r.m}, {ACTIVATION}, regime of the whole run ({FLOW_STEPS} steps): "
            + describe_regime(regime))
    fig.suptitle(textwrap.fill(text, 120), fontsize=11,
                 color=plots.COLORS[plots.REGIME_ROLES[r.regime]])
    return fig


PANEL = Panel(
    "06 gradient flow", compute, draw,
    {"m": Choice("width m", WIDTHS, 1024, "{:d}"),
     "eta_multiple": Choice("η / (2/λmax)", ETA_GRID, 0.5, "{:.2f}"),
     "steps": Choice("steps k", STEP_GRID, FLOW_STEPS, "{:d}")},
    prefetch=("m",))
