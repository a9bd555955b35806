"""The interactive panels of the notebooks: wiring only, the computing is in the modules below.

Every panel follows one pattern (`live`): a row of controls with `continuous_update=False`,
and an `Output` of fixed height that shows the figure returned by a `draw_*` function of this
module. A `draw_*` function takes the control values as keyword arguments, computes through
ntklib (caching what does not depend on the value that moved), and returns a matplotlib
`Figure`; it can be called without widgets, which is how notebooks show the figure once
statically (on GitHub and under nbval) and how `benchmarks/` time an update.

When a value makes the computation fail or training diverge, the panel shows a readable
message (`plots.message`) instead of a traceback or an empty figure.
"""

from __future__ import annotations

import functools
import math
import textwrap
import threading
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as w
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import matplotlib.ticker as mpl_ticker
import numpy as np
from IPython.display import display
from jax import Array
from matplotlib.figure import Figure

from . import _validate as _v
from . import data, dynamics, features, linearize, net, ntk, plots, train

Draw = Callable[..., Figure]

#: What a panel computes ahead, in a background thread, when it is built: the jax
#: compilations and cached results that the first visit of each width would otherwise wait
#: for (draw function -> its warm-up; filled in by the sections below).
WARM_UPS: dict[Draw, Callable[[], None]] = {}


def warm_up(draw: Draw) -> threading.Thread | None:
    """Start the registered warm-up of `draw` in a daemon thread (None if it has none).

    It only fills caches (no plotting, which is not thread-safe), so a slider moved before it
    ends still works: that update just computes for itself.
    """
    work = WARM_UPS.get(draw)
    if work is None:
        return None
    thread = threading.Thread(target=work, name=f"warm-up of {draw.__name__}", daemon=True)
    thread.start()
    return thread


def safe_draw(draw: Draw, **values: Any) -> Figure:
    """`draw(**values)`, or a figure holding a readable message if it raises ValueError,
    TypeError or FloatingPointError (e.g. a learning rate that makes training diverge)."""
    try:
        return draw(**values)
    except (ValueError, TypeError, FloatingPointError) as exc:
        plt.close("all")
        fig, ax = plt.subplots(figsize=plots.STYLE["figure.figsize"])
        plots.message(ax, f"{exc}")
        return fig


def live(draw: Draw, controls: Mapping[str, w.ValueWidget], *, height: str = "460px",
         columns: int = 3) -> w.VBox:
    """A panel: `controls` (name -> widget) above the figure `draw(**values)`.

    The figure redraws when a control's value changes (on release for sliders with
    `continuous_update=False`). Figures are closed after display, so nothing accumulates.
    If `draw` has a registered warm-up (`WARM_UPS`), it starts in the background.

    Args:
      draw: returns a Figure for keyword arguments named like `controls`.
      controls: ipywidgets value widgets, in display order.
      height: fixed height of the figure area (no page jumps while it redraws).
      columns: controls per row.
    Returns:
      the panel, a VBox; display it as the last expression of a cell.
    """
    if not controls:
        raise ValueError("controls must name at least one widget, got none")

    def show(**values: Any) -> None:
        fig = safe_draw(draw, **values)
        display(fig)
        plt.close(fig)

    out = w.interactive_output(show, dict(controls))
    out.layout = w.Layout(height=height, overflow="hidden")
    warm_up(draw)
    items = list(controls.values())
    rows = [w.HBox(items[i:i + columns]) for i in range(0, len(items), columns)]
    return w.VBox([*rows, out])


# --- notebooks 05-06: width m against the infinite-width NTK; width and learning rate live ---


#: Widths offered by the width sliders of notebooks 05 and 06 (powers of 2: a log scale).
NTK_WIDTHS: tuple[int, ...] = tuple(2**k for k in range(2, 15))
FLOW_WIDTHS: tuple[int, ...] = tuple(2**k for k in range(4, 13))
#: Gradient-descent steps of the notebook-06 panel, and how often predictions are stored.
FLOW_STEPS, FLOW_RECORD = 1000, 50


@functools.lru_cache(maxsize=4)
def _ntk_grid(activation: str, n: int = 81) -> tuple[np.ndarray, Array, ntk.NTKParts]:
    """The 1-D grid x in [-1, 1], its embedding (x, 1) and the infinite-width NTK on it."""
    x = np.linspace(-1.0, 1.0, n)
    X = net.embed(jnp.asarray(x[:, None]))
    return x, X, ntk.infinite_width_ntk_parts(X, activation=activation)


@functools.lru_cache(maxsize=8)
def _nb56_neurons(seed: int, d: int, m_max: int) -> tuple[np.ndarray, np.ndarray]:
    """The weights of `net.init(jax.random.key(seed), d, m_max)` (float64 numpy): a network
    of width m in the panels is its first m neurons, so the widths are nested (the same
    network grows) and a new width costs no new random draw (no compilation)."""
    params = net.init(jax.random.key(seed), d, m_max, dtype=jnp.float64)
    return np.asarray(params.A), np.asarray(params.b)


def _nb56_params(seed: int, d: int, m: int, m_max: int, dtype: Any) -> net.Params:
    """The first m neurons of `_nb56_neurons(seed, d, m_max)` as Params of the given dtype."""
    if m > m_max:
        raise ValueError(f"m must be <= {m_max} in this panel, got {m}")
    A, b = _nb56_neurons(seed, d, m_max)
    return net.Params(jnp.asarray(A[:m], dtype), jnp.asarray(b[:m], dtype))


@functools.lru_cache(maxsize=32)
def _ntk_at_width(m: int, activation: str, seed: int) -> ntk.NTKParts:
    _, X, _ = _ntk_grid(activation)
    params = _nb56_params(seed, X.shape[1], m, NTK_WIDTHS[-1], X.dtype)
    return ntk.empirical_ntk_parts(params, X, activation=activation)


def draw_ntk_width(m: int = 64, show_Ka: bool = False, show_Kb: bool = False, *,
                   activation: str = "relu", x0: float = 0.5, seed: int = 0) -> Figure:
    """Notebook 05's panel: the empirical NTK K_m of one network of width m against K.

    Left: the slice K_m(x0, x) and K(x0, x) on x in [-1, 1] (inputs embedded as (x, 1)),
    optionally with the parts K^a and K^b. Right: the error K_m - K as a heatmap with a fixed
    colour scale, so it fades as m grows.

    Args:
      m: width (>= 1).  show_Ka, show_Kb: also draw the parts K^a (dashed), K^b (dotted).
      activation: 'relu' or 'erf' (closed forms) or 'tanh'.  x0: the slice point in [-1, 1].
      seed: the network is the first m neurons of `net.init(jax.random.key(seed), 2, M)`,
        M = NTK_WIDTHS[-1] (nested widths: the same network grows).
    Returns:
      the Figure (two panels).
    """
    m = _v.positive_int(m, "m")
    if not -1 <= x0 <= 1:
        raise ValueError(f"x0 must lie in [-1, 1], got {x0}")
    x, _, inf = _ntk_grid(activation)
    emp = _ntk_at_width(m, activation, seed)
    i0 = int(np.argmin(np.abs(x - x0)))
    K_inf, K_m = np.asarray(inf.K), np.asarray(emp.K)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), layout="none",
                                   gridspec_kw={"width_ratios": [1.25, 1]})
    fig.subplots_adjust(left=0.07, right=0.97, bottom=0.12, top=0.85, wspace=0.2)
    # plain-text labels (no mathtext): this figure is redrawn on every slider move
    ax1.plot(x, K_inf[i0], color=plots.COLORS["kernel"], label="K(x₀, x), m = ∞")
    ax1.plot(x, K_m[i0], color=plots.COLORS["network"], label=f"Kₘ(x₀, x), m = {m}")
    for show, part, style, name in ((show_Ka, "Ka", "--", "a"), (show_Kb, "Kb", ":", "b")):
        if show:
            ax1.plot(x, np.asarray(getattr(inf, part))[i0], style, color=plots.COLORS["kernel"],
                     lw=1.5, label=f"part {name}, m = ∞")
            ax1.plot(x, np.asarray(getattr(emp, part))[i0], style,
                     color=plots.COLORS["network"], lw=1.5, label=f"part {name}, m = {m}")
    ax1.axvline(x[i0], color=plots.COLORS["target"], lw=1)
    # a title at a fixed height skips matplotlib's costly automatic placement
    ax1.set_title(f"one slice: Kₘ wobbles around K ({activation})", y=1.01)
    ax1.set(xlabel="x", ylabel=f"kernel at x₀ = {x[i0]:.2f}")
    ax1.legend(loc="upper left", ncol=2 if (show_Ka or show_Kb) else 1)
    err = ntk.relative_error(K_m, K_inf)
    plots.kernel_heatmap(ax2, K_m - K_inf, x, diverging=True,
                         vmax=0.25 * float(np.max(np.abs(K_inf))),
                         title="")
    ax2.set_title(f"Kₘ - K: relative error {err:.3f}", y=1.01)
    fig.suptitle(f"width m = {m}: the error shrinks like 1/√m")
    return fig


@functools.lru_cache(maxsize=16)
def _flow_setup(m: int, activation: str, seed: int) -> dict[str, Any]:
    """Everything of notebook 06's panel that does not depend on eta: data, w0 (float32 for
    training, the same values in float64 for the kernel), K(w0) on train and test, lambda_max,
    the kernel ODE's flow and predictor."""
    train_set, test_set = data.load("toy_1d", split="train"), data.load("toy_1d", split="test")
    X, Xt = net.embed(jnp.asarray(train_set.X)), net.embed(jnp.asarray(test_set.X))
    y = jnp.asarray(train_set.y)
    p32 = _nb56_params(seed, X.shape[1], m, FLOW_WIDTHS[-1], jnp.float32)
    # the kernel of exactly the trained (float32) weights, computed in float64
    p64 = net.Params(p32.A.astype(jnp.float64), p32.b.astype(jnp.float64))
    n = X.shape[0]  # one kernel and one forward pass on train and test together
    K_all = ntk.empirical_ntk(p64, jnp.concatenate([X, Xt]), activation=activation)
    f_all = net.apply(p64, jnp.concatenate([X, Xt]), activation=activation)
    K0, Ks, f0, f0t = K_all[:n, :n], K_all[n:, :n], f_all[:n], f_all[n:]
    return {"x": np.asarray(test_set.X[:, 0]), "y_test": np.asarray(test_set.y),
            "x_train": np.asarray(train_set.X[:, 0]), "X": X, "Xt": Xt, "y": y,
            "params": p32, "K0": K0, "Ks": Ks, "f0": f0, "f0t": f0t,
            "lambda_max": float(dynamics.spectrum(K0)[0]),
            "flow": dynamics.gradient_flow(K0, f0 - y),
            "predictor": dynamics.flow_predictor(K0, Ks, f0, f0t, y)}


@functools.lru_cache(maxsize=64)
def _flow_run(m: int, eta_multiple: float, activation: str, seed: int) -> dict[str, Any]:
    """The three models at one learning rate: the network by gradient descent (float32), its
    linearization in closed form (I - eta K0)^k (exactly gradient descent on f_lin), and the
    kernel ODE exp(-K0 t), all on the same steps k = 0..FLOW_STEPS."""
    s = _flow_setup(m, activation, seed)
    eta = eta_multiple * 2 / s["lambda_max"]
    traj = train.train_network(s["params"], s["X"], s["y"], eta=eta, steps=FLOW_STEPS,
                               activation=activation, record_every=FLOW_RECORD, X_eval=s["Xt"])
    U0 = s["f0"] - s["y"]
    k = np.arange(FLOW_STEPS + 1)
    with np.errstate(over="ignore", invalid="ignore"):
        U_lin = np.asarray(dynamics.gd_residual(s["K0"], U0, eta=eta, steps=FLOW_STEPS))
        lin = 0.5 * np.sum(U_lin**2, axis=1)
        lin_pred = np.asarray(dynamics.gd_predictions(s["K0"], s["Ks"], s["f0"], s["f0t"],
                                                      s["y"], eta=eta, steps=FLOW_STEPS))
    t = eta * k
    kernel = 0.5 * np.sum(np.asarray(s["flow"](t)) ** 2, axis=1)
    return {"eta": eta, "t": t, "network": np.asarray(traj.loss, dtype=np.float64),
            "linearized": lin, "kernel": kernel, "record_steps": np.asarray(traj.record_steps),
            "net_pred": np.asarray(traj.predictions, dtype=np.float64), "lin_pred": lin_pred,
            "regime": dynamics.classify_regime(traj.loss, eta=eta, lambda_max=s["lambda_max"]),
            "diverged_step": traj.diverged_step}


def draw_gradient_flow(m: int = 1024, eta_multiple: float = 0.5, steps: int = FLOW_STEPS, *,
                       activation: str = "erf", seed: int = 0) -> Figure:
    """Notebook 06's main panel: network, linearization and kernel ODE at width m and
    learning rate eta = eta_multiple * 2 / lambda_max, after `steps` steps.

    Left: the three losses against t = eta k (log scale). Right: the three functions at step
    `steps` on the test grid of toy_1d, with the data. The title names the regime of the
    network's run of FLOW_STEPS steps (`dynamics.classify_regime`): converging, catapult,
    diverging (or stalled). lambda_max is that of the empirical NTK at initialisation.

    Args:
      m: width (>= 1).  eta_multiple: eta in units of 2 / lambda_max (> 0).
      steps: the step shown, 1..FLOW_STEPS (the curves run up to t = eta * steps).
      activation: 'erf' (default: it shows the catapult and the divergence), 'tanh' or 'relu'.
      seed: w0 is the first m neurons of `net.init(jax.random.key(seed), 2, M)`,
        M = FLOW_WIDTHS[-1], in float32 (nested widths: the same network grows).
    Returns:
      the Figure (two panels).
    """
    m = _v.positive_int(m, "m")
    eta_multiple = _v.positive_float(eta_multiple, "eta_multiple")
    steps = _v.positive_int(steps, "steps")
    if steps > FLOW_STEPS:
        raise ValueError(f"steps must be <= {FLOW_STEPS}, got {steps}")
    s = _flow_setup(m, activation, seed)
    r = _flow_run(m, round(eta_multiple, 6), activation, seed)
    regime = r["regime"]
    # a fixed layout: the constrained layout would cost more than half of the update time
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.4), layout="none")
    fig.subplots_adjust(left=0.085, right=0.98, bottom=0.12, top=0.8, wspace=0.22)
    last = steps if r["diverged_step"] is None else min(steps, max(4 * r["diverged_step"], 40))
    shown = slice(0, last + 1)  # after a divergence, only the steps around it
    finite_net = r["network"][np.isfinite(r["network"])]
    plots.training_curves(ax1, r["t"][shown], network=r["network"][shown],
                          linearized=r["linearized"][shown], kernel=r["kernel"][shown],
                          top=30 * float(finite_net.max()))
    # titles at a fixed height skip matplotlib's costly automatic placement
    ax1.set_title("loss: network, linearization, kernel ODE", y=1.01)
    # the function at the recorded step nearest to `steps`
    j = int(np.argmin(np.abs(r["record_steps"] - steps)))
    k = int(r["record_steps"][j])
    t_k = r["eta"] * k
    ax2.plot(s["x"], s["y_test"], color=plots.COLORS["target"], lw=1.5, label="target g")
    ax2.plot(s["x_train"], np.asarray(s["y"]), "o", color=plots.COLORS["data"], ms=4,
             label="training data")
    lin = r["lin_pred"][k]
    lin_ok = bool(np.all(np.isfinite(lin)) and np.max(np.abs(lin)) < 1e3)
    net_ok = bool(np.all(np.isfinite(r["net_pred"][j])))
    if net_ok:
        ax2.plot(s["x"], r["net_pred"][j], color=plots.COLORS["network"], label="network")
    ax2.plot(s["x"], lin, "--", color=plots.COLORS["linearized"],
             label="linearized" + ("" if lin_ok else " (diverged: off the chart)"))
    ax2.plot(s["x"], np.asarray(s["predictor"](t_k)), ":", color=plots.COLORS["kernel"],
             label="kernel ODE")
    if not net_ok:
        ax2.text(0.5, 0.08, f"network diverged at step {r['diverged_step']}",
                 transform=ax2.transAxes, ha="center", color=plots.COLORS["bound"])
    # few ticks: every tick is an object and a text to lay out on each redraw
    ax2.set(ylim=(-2.2, 2.2), xlabel="x", ylabel="f(x)", xticks=[-1, -0.5, 0, 0.5, 1],
            yticks=[-2, -1, 0, 1, 2])
    ax1.xaxis.set_major_locator(mpl_ticker.MaxNLocator(5))
    ax2.set_title(f"functions at step k = {k} (t = {t_k:.3g})", y=1.01)
    ax2.legend(loc="upper left", fontsize=8)
    fig.suptitle(textwrap.fill(f"m = {m}, {activation}: " + regime.message, 120),
                 color=plots.COLORS[plots.REGIME_ROLES[regime.name]], fontsize=11)
    return fig


# --- notebooks 01-02: the learning rate of descent in feature space; kernel ridge live ---


LR_STEPS = 10_000
"""Gradient-descent steps drawn by `draw_learning_rate`."""

LR_MULTIPLES = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.01, 1.1, 1.5)
"""Slider values of eta / (2 / lambda_max) for `draw_learning_rate`: both sides of the bound."""


@functools.lru_cache(maxsize=8)
def _feature_regression(p: int) -> dict[str, Any]:
    """toy_1d with polynomial features of degree p (c = 1): Phi, the bound, the closed form."""
    train_set, test_set = data.load("toy_1d", "train"), data.load("toy_1d", "test")
    Phi = features.polynomial_features(train_set.X, p)
    Phi_test = features.polynomial_features(test_set.X, p)
    H = Phi.T @ Phi  # the Hessian of L; the same nonzero spectrum as Phi Phi^T
    w_star = features.least_squares(Phi, train_set.y)
    return {"train": train_set, "test": test_set, "Phi": Phi, "Phi_test": Phi_test,
            "eigvals": np.linalg.eigvalsh(np.asarray(H)),
            "bound": dynamics.max_stable_learning_rate(H), "w_star": w_star,
            "loss_star": float(features.linear_loss(Phi, train_set.y, w_star)),
            "pred_star": np.asarray(Phi_test @ w_star)}


def draw_learning_rate(eta_multiple: float = 0.5, p: int = 5, steps: int = LR_STEPS) -> Figure:
    """Gradient descent on f(w, x) = w . phi(x) (polynomial features of degree p, toy_1d) with
    eta = eta_multiple * 2 / lambda_max(Phi^T Phi): the loss against step k, the fit after
    `steps` steps next to the closed-form least-squares fit, and the error factor per step
    max_i |1 - eta lambda_i| with the bound marked.

    Above the bound (eta_multiple > 1) the loss curve is drawn red and cut where descent
    diverges, and the fit panel explains why instead of drawing a useless curve.

    Args:
      eta_multiple: eta / (2 / lambda_max), a positive number; slider values `LR_MULTIPLES`.
      p: degree of the features, 1..12.  steps: number of gradient-descent steps.
    Returns:
      a Figure with three panels.
    Introduced in notebooks/01 (classic kernels); trains with `train.train_linear`.
    """
    eta_multiple = _v.positive_float(eta_multiple, "eta_multiple")
    p = _v.positive_int(p, "p")
    if p > 12:
        raise ValueError(f"p must be at most 12 (the features become too ill-conditioned for "
                         f"gradient descent to show anything), got {p}")
    steps = _v.positive_int(steps, "steps")
    s = _feature_regression(p)
    eta = eta_multiple * s["bound"]
    traj = train.train_linear(s["Phi"], s["train"].y, eta=eta, steps=steps, record_every=steps,
                              Phi_eval=s["Phi_test"])
    above = eta_multiple > 1
    fig, (ax_loss, ax_fit, ax_rate) = plt.subplots(1, 3, figsize=(14, 4.2))
    k = np.arange(steps + 1)
    ax_loss.semilogy(k, np.asarray(traj.loss), color=plots.COLORS["bound" if above else "network"],
                     label=r"$L(w_k)$, gradient descent")
    ax_loss.axhline(s["loss_star"], color=plots.COLORS["kernel"], ls="--", lw=1.5,
                    label=r"$L(w^*)$, closed form")
    if traj.diverged:
        ax_loss.axvline(traj.diverged_step, color=plots.COLORS["bound"], ls=":", lw=1.5,
                        label=f"DIVERGED at step {traj.diverged_step}")
    ax_loss.set(xlabel="step $k$", ylabel=r"loss $L(w_k)$",
                title="loss explodes" if above else "loss falls to the minimum")
    ax_loss.legend(loc="upper right", fontsize=8)
    lam_max = float(s["eigvals"][-1])
    if above:
        factor = abs(1 - eta * lam_max)
        plots.message(ax_fit, f"Descent diverges: eta = {eta_multiple:g} x 2/lambda_max is above "
                              f"the bound 2/lambda_max = {s['bound']:.4g}. Each step multiplies "
                              f"the error along the top eigenvector by |1 - eta lambda_max| = "
                              f"{factor:.3f} > 1.")
    else:
        plots.regression_1d(
            ax_fit, s["train"].X, s["train"].y, s["test"].X, s["test"].y,
            {r"closed form $w^*$": s["pred_star"],
             f"after {steps} steps": np.asarray(traj.predictions[-1])},
            colors={f"after {steps} steps": plots.COLORS["network"],
                    r"closed form $w^*$": plots.COLORS["kernel"]},
            dashed=(f"after {steps} steps",), title=f"the fit, degree $p = {p}$")
        ax_fit.set_ylim(-1.6, 1.6)
    plots.contraction_factor(ax_rate, s["eigvals"], eta_multiple)
    verdict = "diverges" if above else "converges"
    fig.suptitle(f"$\\eta$ = {eta_multiple:g} $\\times\\ 2/\\lambda_{{\\max}}$ = {eta:.4g}: "
                 f"gradient descent {verdict}",
                 color=plots.COLORS["bound"] if above else "black")
    return fig


RIDGE_DEGREES = (1, 15)
"""Range of the degree slider of `draw_kernel_ridge`."""

RIDGE_OFFSETS = (0.0, 0.25, 0.5, 1.0, 2.0, 5.0)
"""Slider values of the offset c of `draw_kernel_ridge`."""

RIDGE_LAMBDAS = (0.0, 1e-8, 1e-6, 1e-4, 1e-2, 1.0, 100.0)
"""Slider values of the ridge lambda of `draw_kernel_ridge` (log-spaced, and 0)."""


@functools.lru_cache(maxsize=128)
def _polynomial_grams(p: int, c: float) -> dict[str, Any]:
    """K(X, X), K(X*, X) and the spectrum of K(X, X) on toy_1d for (c + x x')^p."""
    train_set, test_set = data.load("toy_1d", "train"), data.load("toy_1d", "test")
    K = features.polynomial_kernel(train_set.X, p=p, c=c)
    return {"train": train_set, "test": test_set, "K": K,
            "K_test": features.polynomial_kernel(test_set.X, train_set.X, p=p, c=c),
            "eigvals": np.asarray(dynamics.spectrum(K))}


def draw_kernel_ridge(p: int = 5, c: float = 1.0, lam: float = 1e-4) -> Figure:
    """Kernel ridge regression with the polynomial kernel (c + x x')^p on toy_1d: the fit with
    its test error, and the eigenvalues of the Gram matrix K(X, X) with lambda marked
    (directions whose eigenvalue is far below lambda are damped).

    Args:
      p: degree, integer in 1..15.  c: offset >= 0.  lam: ridge parameter >= 0.
    Returns:
      a Figure with two panels.
    Introduced in notebooks/02 (kernel trick).
    """
    p = _v.positive_int(p, "p")
    if p > RIDGE_DEGREES[1]:
        raise ValueError(f"p must be at most {RIDGE_DEGREES[1]}, got {p}")
    c = _v.positive_float(c, "c", allow_zero=True)
    lam = _v.positive_float(lam, "lam", allow_zero=True)
    s = _polynomial_grams(p, c)
    alpha = features.kernel_ridge(s["K"], s["train"].y, lam)
    pred = np.asarray(s["K_test"] @ alpha)
    rmse = float(np.sqrt(np.mean((pred - s["test"].y) ** 2)))
    fig, (ax_fit, ax_eig) = plt.subplots(1, 2, figsize=(12, 4.2))
    label = f"kernel ridge (test RMSE {rmse:.3f})"
    plots.regression_1d(ax_fit, s["train"].X, s["train"].y, s["test"].X, s["test"].y,
                        {label: pred}, title=f"$(c + x x')^p$, $p = {p}$, $c = {c:g}$, "
                                             f"$\\lambda$ = {lam:g}")
    ax_fit.set_ylim(-1.6, 1.6)
    lam_K = s["eigvals"]
    plots.eigenvalues(ax_eig, lam_K, label=r"eigenvalues of $K(X, X)$",
                      color=plots.COLORS["kernel"])
    if lam > 0:
        ax_eig.axhline(lam, color=plots.COLORS["bound"], ls="--", lw=1.5,
                       label=r"ridge $\lambda$: smaller directions damped")
    rank = int(np.sum(lam_K > 10 * lam_K.size * np.finfo(float).eps * lam_K[0]))
    exact = 1 if c == 0 else min(p + 1, lam_K.size)
    ax_eig.set_title(f"numerical rank {rank} of {lam_K.size} (exact rank {exact})")
    ax_eig.legend(fontsize=8, loc="upper right")
    return fig


# --- notebooks 03-04: width m of the network live; f against f_lin with m and eta live ---



#: Widths of the sliders of notebooks 03-04: powers of 2 (a log scale, and few shapes for jax
#: to compile: a new width compiles once, then every update reuses it).
NET_WIDTHS: tuple[int, ...] = tuple(2**k for k in range(15))
#: Notebook 03's panel: gradient descent up to time t = NET_TIME in NET_STEPS steps
#: (eta = NET_TIME / NET_STEPS, lowered to 1 / lambda_max at widths where that is smaller).
NET_STEPS, NET_TIME = 1000, 50.0
#: Notebook 04's panel: steps, and how often predictions are stored.
LAZY_STEPS, LAZY_RECORD = 300, 15


@functools.lru_cache(maxsize=1)
def _toy_float32() -> dict[str, Any]:
    """toy_1d embedded as (x, 1), in float32 (the panels train in float32 for speed)."""
    tr, te = data.load("toy_1d", split="train"), data.load("toy_1d", split="test")
    X = net.embed(jnp.asarray(tr.X, dtype=jnp.float32))
    Xt = net.embed(jnp.asarray(te.X, dtype=jnp.float32))
    sd = np.sqrt(np.diag(np.asarray(ntk.infinite_width_ntk_parts(
        net.embed(jnp.asarray(te.X))).Kb)))
    return {"x_train": tr.X[:, 0], "y_train": tr.y, "x_test": te.X[:, 0], "y_test": te.y,
            "X": X, "Xt": Xt, "y": jnp.asarray(tr.y, dtype=jnp.float32), "gp_sd": sd}


@functools.lru_cache(maxsize=4)
def _neurons(seed: int, samples: int = 6) -> dict[str, np.ndarray]:
    """Weights for every width at once, drawn once per seed (float32): the network of width
    m uses the first m neurons of one draw of max(NET_WIDTHS) neurons by `net.init`, so its
    weights are i.i.d. N(0, 1) as `net.init` draws them and a new width needs no new random
    draw (nor a compilation for it). Also `samples` more draws for the functions at init."""
    keys = jax.random.split(jax.random.key(seed), samples + 1)
    draws = [net.init(k, 2, NET_WIDTHS[-1], dtype=jnp.float32) for k in keys]
    return {"A": np.stack([np.asarray(p.A) for p in draws]),
            "b": np.stack([np.asarray(p.b) for p in draws])}


def _first_neurons(seed: int, m: int, draw: int = 0) -> net.Params:
    """The width-m network of draw `draw` of `_neurons(seed)` (draw 0: the one trained)."""
    w = _neurons(seed)
    return net.Params(jnp.asarray(w["A"][draw, :m]), jnp.asarray(w["b"][draw, :m]))


def _lambda_max(params: net.Params, X: Array) -> float:
    """Largest eigenvalue of the empirical NTK K_m(w0) = J J^T on X (J = `net.jacobian`,
    not jit-compiled: a new width costs no compilation), in float64."""
    J = np.asarray(net.jacobian(params, X), dtype=np.float64)
    return float(np.linalg.eigvalsh(J @ J.T)[-1])


@functools.lru_cache(maxsize=32)
def _width_network(m: int, seed: int) -> dict[str, Any]:
    """Notebook 03's panel at width m: six functions at initialisation, and one network
    trained by gradient descent (float32) on toy_1d. Depends on m only: cached."""
    s = _toy_float32()
    samples = [np.asarray(net.apply(_first_neurons(seed, m, i), s["Xt"])) for i in range(1, 7)]
    p0 = _first_neurons(seed, m)
    eta = min(NET_TIME / NET_STEPS, 1.0 / _lambda_max(p0, s["X"]))
    traj = train.train_network(p0, s["X"], s["y"], eta=eta, steps=NET_STEPS,
                               record_every=NET_STEPS, X_eval=s["Xt"])
    return {"samples": np.array(samples), "f0": np.asarray(traj.predictions[0]),
            "fT": np.asarray(traj.predictions[-1]), "eta": eta,
            "loss": (float(traj.loss[0]), float(traj.loss[-1])),
            "change": float(traj.weight_change[-1]), "diverged": traj.diverged}


def draw_width_network(m: int = 64, *, seed: int = 0) -> Figure:
    """Notebook 03's panel: the network f(w, x) = (1/sqrt(m)) sum_i b_i sigma(a_i . x) at
    width m, relu, inputs embedded as (x, 1).

    Left: six functions f(w0, .) for six initialisations, with the band +-2 sqrt(K^b(x, x))
    of the Gaussian-process limit. Right: one network trained by gradient descent on toy_1d
    (t = 50), its function at initialisation (dotted) and after training.

    Args:
      m: width (>= 1); the notebook's slider offers NET_WIDTHS (1 .. 16384).
      seed: the weights are the first m neurons of draws from `jax.random.key(seed)`.
    Returns:
      the Figure (two panels).
    """
    m = _v.positive_int(m, "m")
    s, r = _toy_float32(), _width_network(m, seed)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), layout="none", sharey=True)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.84, wspace=0.08)
    x = s["x_test"]
    ax1.fill_between(x, -2 * s["gp_sd"], 2 * s["gp_sd"], color=plots.COLORS["kernel"],
                     alpha=0.15, label="± 2√Kᵇ(x, x), the m = ∞ limit")
    for i, f in enumerate(r["samples"]):
        ax1.plot(x, f, color=plots.COLORS["init"], lw=1.2, alpha=0.8,
                 label="f(w_0, x), 6 draws" if i == 0 else None)
    ax1.set(xlabel="x", ylabel="f(x)", ylim=(-3.5, 3.5),
            title="at initialisation: random functions")
    ax1.legend(loc="upper left")
    plots.data_and_target(ax2, s["x_train"], s["y_train"], x, s["y_test"])
    ax2.plot(x, r["f0"], ":", color=plots.COLORS["init"], lw=1.5, label="f(w_0, x)")
    if r["diverged"]:
        ax2.text(0.5, 0.1, "training diverged", transform=ax2.transAxes, ha="center",
                 color=plots.COLORS["bound"])
    else:
        ax2.plot(x, r["fT"], color=plots.COLORS["network"], label="f(w_T, x), trained")
    loss0, lossT = r["loss"]
    ax2.set(xlabel="x", title=f"trained: loss {loss0:.3g} → {lossT:.3g}")
    ax2.legend(loc="upper left")
    # plain text, no mathtext, in the panels: parsing it costs ~10 ms a string per redraw
    fig.suptitle(f"width m = {m}: relative weight change ‖w_T − w_0‖ / ‖w_0‖ = "
                 f"{r['change']:.3f}  (η = {r['eta']:.3g})")
    return fig


@functools.lru_cache(maxsize=16)
def _lazy_setup(m: int, seed: int) -> tuple[net.Params, float]:
    """w0 (float32) and lambda_max of K_m(w0) on the training inputs: what does not depend
    on eta."""
    p0 = _first_neurons(seed, m)
    return p0, _lambda_max(p0, _toy_float32()["X"])


@functools.lru_cache(maxsize=64)
def _lazy_run(m: int, eta_ratio: float, seed: int) -> dict[str, Any]:
    """f and f_lin trained from the same w0 at eta = eta_ratio * 2 / lambda_max."""
    s = _toy_float32()
    p0, lam = _lazy_setup(m, seed)
    eta = eta_ratio * 2.0 / lam
    kw = {"eta": eta, "steps": LAZY_STEPS, "record_every": LAZY_RECORD, "X_eval": s["Xt"]}
    runs = {"f": train.train_network(p0, s["X"], s["y"], **kw),
            "lin": linearize.train_linearized(p0, s["X"], s["y"], **kw)}
    return {"eta": eta, "lambda_max": lam, **{
        name: {"loss": np.asarray(t.loss, dtype=float), "t": np.asarray(t.times, dtype=float),
               "pred": np.asarray(t.predictions[-1], dtype=float),
               "f0": np.asarray(t.predictions[0], dtype=float),
               "change": float(t.weight_change[-1]), "diverged_step": t.diverged_step}
        for name, t in runs.items()}}


def draw_lazy_training(m: int = 256, eta_ratio: float = 0.5, *, seed: int = 0) -> Figure:
    """Notebook 04's panel: the network f and its Taylor model f_lin trained from the same
    w0 with eta = eta_ratio * 2 / lambda_max (lambda_max of the NTK K_m(w0) on the data).

    Left: the two functions after LAZY_STEPS steps, with the data. Middle: both losses
    against t = eta k. Right: a gauge of the relative weight change ||w_T - w0|| / ||w0||.
    If a model diverges (eta_ratio > 1 is beyond the kernel picture), its curve stops and a
    note says so; if both diverge, a ValueError with a readable message (`widgets.live`
    shows it as a message).

    Args:
      m: width (>= 1); the notebook's slider offers NET_WIDTHS.
      eta_ratio: the learning rate in units of 2 / lambda_max (> 0).
      seed: w0 is the first m neurons of `net.init(jax.random.key(seed), 2, M)`,
        M = FLOW_WIDTHS[-1], in float32 (nested widths: the same network grows).
    Returns:
      the Figure (three panels).
    """
    m = _v.positive_int(m, "m")
    eta_ratio = _v.positive_float(eta_ratio, "eta_ratio")
    s, r = _toy_float32(), _lazy_run(m, round(eta_ratio, 6), seed)
    f, lin = r["f"], r["lin"]
    if f["diverged_step"] is not None and lin["diverged_step"] is not None:
        raise ValueError(
            f"Training diverged: at eta = {eta_ratio:.2f} x 2/lambda_max (eta = {r['eta']:.3g}, "
            f"lambda_max = {r['lambda_max']:.3g}) both the network (step "
            f"{f['diverged_step']}) and its linearization (step {lin['diverged_step']}) blow "
            f"up. Gradient descent on f_lin converges only for eta < 2/lambda_max: move the "
            f"learning-rate slider below 1.")
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(12, 4.2), layout="none",
                                        gridspec_kw={"width_ratios": [1.3, 1.1, 0.8]})
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.13, top=0.8, wspace=0.3)
    x = s["x_test"]
    plots.data_and_target(ax1, s["x_train"], s["y_train"], x, s["y_test"])
    ax1.plot(x, f["f0"], ":", color=plots.COLORS["init"], lw=1.5, label="f(w_0, x)")
    notes = []
    for name, style, label, color in (("f", "-", "network f", "network"),
                                      ("lin", "--", "linearized f_lin",
                                       "linearized")):
        run = r[name]
        if run["diverged_step"] is None:
            ax1.plot(x, run["pred"], style, color=plots.COLORS[color], label=label)
        else:
            notes.append(f"{label} diverged at step {run['diverged_step']}")
        ax2.semilogy(run["t"], run["loss"], style, color=plots.COLORS[color], label=label)
    if notes:
        ax1.text(0.5, 0.95, "\n".join(notes), transform=ax1.transAxes, ha="center", va="top",
                 color=plots.COLORS["bound"], fontsize=10)
    ax1.set(ylim=(-2.5, 2.5), title=f"after {LAZY_STEPS} steps")
    ax1.legend(loc="lower right", fontsize=8)
    ax2.set(xlabel="gradient-flow time t = ηk", ylabel="loss ½‖U‖²",
            title="loss")
    ax2.legend(loc="upper right", fontsize=8)
    ax2.yaxis.set_major_formatter(mpl_ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    plots.gauge(ax3, {"f": f["change"], "f_lin": lin["change"]},
                {"f": plots.COLORS["network"],
                 "f_lin": plots.COLORS["linearized"]},
                vmax=1.0, title="relative weight change\n‖w_T − w_0‖ / ‖w_0‖",
                xlabel=f"(compare 1/√m = {1 / math.sqrt(m):.3f})")
    fig.suptitle(f"width m = {m}, η = {eta_ratio:.2f} × 2/λ_max = {r['eta']:.3g}: "
                 + ("both train, side by side" if not notes else
                    "beyond 2/λ_max the kernel picture ends"), fontsize=11)
    return fig


def _warm_width_network(seed: int = 0) -> None:
    for m in NET_WIDTHS:
        if m <= WARM_MAX_WIDTH:
            _width_network(m, seed)


def _warm_lazy_training(seed: int = 0, eta_ratio: float = 0.5) -> None:
    # one run per width compiles both trainers for its shapes; any eta then reuses them
    for m in NET_WIDTHS[2:]:
        if m <= WARM_MAX_WIDTH:
            _lazy_run(m, eta_ratio, seed)


#: Widths up to this one are computed ahead by the panels of notebooks 03-04.
WARM_MAX_WIDTH = 4096
WARM_UPS[draw_width_network] = _warm_width_network
WARM_UPS[draw_lazy_training] = _warm_lazy_training


# --- notebook 07: learning-rate phases of a wide network, lambda_max(t) live ---


#: Gradient-descent steps of notebook 07's panel, and how often lambda_max is computed.
PHASE_STEPS, PHASE_RECORD = 500, 2


@functools.lru_cache(maxsize=16)
def _phase_setup(m: int, seed: int) -> dict[str, Any]:
    """Notebook 07's panel at width m (erf, toy_1d embedded): w0 (float32, nested widths as in
    notebook 06), K(w0) in float64, lambda_0 and the initial residual."""
    s = _toy_float32()
    p32 = _nb56_params(seed, 2, m, FLOW_WIDTHS[-1], jnp.float32)
    p64 = net.Params(p32.A.astype(jnp.float64), p32.b.astype(jnp.float64))
    X64 = s["X"].astype(jnp.float64)
    K0 = ntk.empirical_ntk(p64, X64, activation="erf")
    U0 = net.apply(p64, X64, activation="erf") - s["y"].astype(jnp.float64)
    return {"params": p32, "K0": K0, "U0": U0, "lambda0": float(dynamics.spectrum(K0)[0])}


@functools.lru_cache(maxsize=64)
def _phase_run(m: int, eta_multiple: float, seed: int) -> dict[str, Any]:
    """The network's run with lambda_max(K(w_k)) tracked, and the linearized model's loss."""
    s, toy = _phase_setup(m, seed), _toy_float32()
    eta = eta_multiple * 2 / s["lambda0"]
    traj = train.train_network(s["params"], toy["X"], toy["y"], eta=eta, steps=PHASE_STEPS,
                               activation="erf", record_every=PHASE_RECORD,
                               track_lambda_max=True)
    with np.errstate(over="ignore", invalid="ignore"):
        U_lin = np.asarray(dynamics.gd_residual(s["K0"], s["U0"], eta=eta, steps=PHASE_STEPS))
        lin = 0.5 * np.sum(U_lin**2, axis=1)
    return {"eta": eta, "t": np.asarray(traj.times, dtype=np.float64),
            "loss": np.asarray(traj.loss, dtype=np.float64), "linearized": lin,
            "record_t": np.asarray(traj.record_times, dtype=np.float64),
            "lambda_max": np.asarray(traj.lambda_max, dtype=np.float64),
            "regime": dynamics.classify_regime(traj.loss, eta=eta, lambda_max=s["lambda0"])}


def draw_lr_phases(m: int = 4096, eta_multiple: float = 1.5, *, seed: int = 0) -> Figure:
    """Notebook 07's panel: one wide erf network on toy_1d at eta = eta_multiple * 2/lambda_0.

    Left: the network's loss and the linearized model's (gradient descent on the fixed
    kernel K(w0)) against t = eta k. Right: lambda_max of the empirical NTK K(w_k) during
    training, against the line 2/eta: gradient descent on a kernel is stable only below it.
    In a catapult the loss spikes while lambda_max falls below 2/eta, then the loss converges.
    The title names the regime (`dynamics.classify_regime`).

    Args:
      m: width, at most FLOW_WIDTHS[-1] (the first m neurons of one draw, as in notebook 06).
      eta_multiple: eta in units of 2 / lambda_0 (> 0); lambda_0 of K(w0).
      seed: the draw of w0.
    Returns:
      the Figure (two panels).
    """
    m = _v.positive_int(m, "m")
    eta_multiple = _v.positive_float(eta_multiple, "eta_multiple")
    s = _phase_setup(m, seed)
    r = _phase_run(m, round(eta_multiple, 6), seed)
    regime = r["regime"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.4), layout="none")
    fig.subplots_adjust(left=0.085, right=0.98, bottom=0.12, top=0.8, wspace=0.25)
    finite = r["loss"][np.isfinite(r["loss"])]
    # log time from the first step: a catapult is over within a few dozen steps
    plots.training_curves(ax1, r["t"][1:], network=r["loss"][1:],
                          linearized=r["linearized"][1:], top=30 * float(finite.max()))
    ax1.set_title("loss: network and its linearization", y=1.01)
    lam = r["lambda_max"]
    ax2.plot(r["record_t"][1:], lam[1:], color=plots.COLORS["network"],
             label="λ_max of K(w_k)")
    ax2.axhline(2 / r["eta"], color=plots.COLORS["bound"], ls="--",
                label="2/η: stable below this line")
    ax2.axhline(s["lambda0"], color=plots.COLORS["target"], ls=":", label="λ₀ = λ_max at init")
    # a diverging lambda_max leaves through the top
    top = max(min(float(np.nanmax(lam)), 3 * s["lambda0"]), 2 / r["eta"], s["lambda0"])
    ax2.set(ylim=(0, 1.15 * top), xlabel="gradient-flow time t = ηk",
            ylabel="λ_max")
    for ax in (ax1, ax2):
        ax.set_xscale("log")
        ax.set_xlim(r["t"][1], r["t"][-1])
    if regime.name == "diverging":
        ax2.text(0.6, 0.5, "the network diverged:\nno kernel left to measure",
                 transform=ax2.transAxes, ha="center", color=plots.COLORS["bound"])
    ax2.set_title("the NTK's top eigenvalue during training", y=1.01)
    ax2.legend(loc="upper right", fontsize=8)
    fig.suptitle(textwrap.fill(f"m = {m}, erf: " + regime.message, 120),
                 color=plots.COLORS[plots.REGIME_ROLES[regime.name]], fontsize=11)
    return fig


def _warm_lr_phases(seed: int = 0) -> None:
    # one run per width compiles the tracked trainer for its shape; any eta then reuses it
    for m in FLOW_WIDTHS:
        _phase_run(m, 0.5, seed)


WARM_UPS[draw_lr_phases] = _warm_lr_phases
