"""Notebook 08 (beyond the kernel): the laziness dial alpha, from the NTK regime to features.

A relu network of width m (`net.init_nested(NETWORK_KEY, 3, m)`, float32) trained as
h_alpha = alpha (f(w) - f(w0)), loss divided by alpha^2 (`train.train_scaled`), on a
single-index task on the unit circle (`features.single_index`), every alpha to the same time
T_END with a step size per run that keeps eta lambda_max(K_t) below ETA_LAMBDA_MAX. Four views:
the fit (with the kernel prediction of K(w0)), the loss and the kernel distance against t, and
the neurons a_i at start and end. The title names the regime by the measured kernel distance
and quotes what was measured, so that it is true at every slider position.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import ticker
from matplotlib.figure import Figure

from .. import dynamics, features, net, ntk, plots, train
from . import NETWORK_KEY, Choice, Panel, PanelError

WIDTHS = (64, 128, 256, 512, 1024)
"""Slider values of the width m."""
ALPHAS = tuple(float(f"{10 ** (k / 4):.3g}") for k in range(-8, 9))
"""Slider values of alpha: 0.01 to 100, four per decade."""
TASK_KEY = jax.random.key(8)
"""The key of the data: N_TRAIN points on the circle and the direction u."""
N_TRAIN, N_GRID = 48, 121
"""Training points on the unit circle; grid points (angles) where the fit is drawn."""
T_END, PIECES = 5.0, 16
"""Gradient-flow time of every run, cut into PIECES equal pieces at whose ends the kernel,
its distance to K_0 and lambda_max are measured."""
STEP_BUDGETS, ETA_LAMBDA_MAX, DEAD = (256, 1024, 4096, 16384), 1.0, 1e-3
"""Steps tried in order (eta = T_END / steps) until eta lambda_max(K_t) < ETA_LAMBDA_MAX (half
the bound) at every piece's end, and lambda_max stays above DEAD lambda_max(K_0) (no relu
killed by a step too large)."""
LAZY, RICH = 0.1, 0.5
"""Kernel distance at T_END below LAZY: lazy; above RICH: rich; in between: in between."""


def describe_regime(kernel_distance: float) -> str:
    """The regime named by the kernel distance ||K_T - K_0||_F / ||K_0||_F at the end alone
    (below LAZY: lazy, above RICH: rich); it claims nothing that was not measured."""
    moved = f"the kernel moved by {kernel_distance:.3g}"
    if kernel_distance < LAZY:
        return f"LAZY: {moved} (< {LAZY})"
    if kernel_distance > RICH:
        return f"RICH: {moved} (> {RICH}, of order 1)"
    return f"IN BETWEEN: {moved} (between {LAZY} and {RICH})"


@functools.lru_cache(maxsize=1)
def task() -> tuple[features.SingleIndex, np.ndarray, np.ndarray]:
    """The training task, the grid of angles and the inputs (cos, sin, 1) on that grid."""
    data = features.single_index(TASK_KEY, N_TRAIN, 2, target="abs")
    theta = np.linspace(-np.pi, np.pi, N_GRID)
    grid = np.stack([np.cos(theta), np.sin(theta), np.ones_like(theta)], axis=1)
    return data, theta, grid


class ScaledRun(NamedTuple):
    """One alpha-scaled run of width m to t = T_END, measured at the ends of its pieces."""
    m: int
    alpha: float
    eta: float
    steps: int
    t: np.ndarray                # all steps, t = eta k, (steps + 1,)
    loss: np.ndarray             # 1/2 |h - y|^2 at every step, (steps + 1,)
    t_pieces: np.ndarray         # ends of the pieces, (PIECES + 1,)
    kernel_distance: np.ndarray  # ||K_t - K_0||_F / ||K_0||_F, (PIECES + 1,)
    alignment: np.ndarray        # centred-target alignment of K_t, (PIECES + 1,)
    lambda_max: np.ndarray       # of K_t, (PIECES + 1,)
    weight_change: np.ndarray    # ||w_t - w_0|| / ||w_0||, (PIECES + 1,)
    h_grid: np.ndarray           # h at T_END on the grid, (N_GRID,)
    kernel_grid: np.ndarray      # kernel prediction (K_0) at T_END on the grid, (N_GRID,)
    kernel_loss: np.ndarray      # kernel prediction's loss at t, (steps + 1,)
    A0: np.ndarray               # first-layer weights at start, (m, 3)
    b0: np.ndarray
    A: np.ndarray                # ... and at the end
    b: np.ndarray


def _kernel(params: net.Params, X: np.ndarray) -> np.ndarray:
    """The empirical NTK in float64 on the host (no compilation for a new width)."""
    return ntk.empirical_ntk_host(params, X)


def _attempt(m: int, alpha: float, steps: int) -> dict | None:
    """The run in PIECES pieces of steps / PIECES; None as soon as it leaves the margin."""
    data, _, grid = task()
    X, y = np.asarray(data.X), np.asarray(data.y)
    both = np.concatenate([X, grid]).astype(np.float32)
    w = w0 = net.init_nested(NETWORK_KEY, 3, m, dtype=jnp.float32)
    eta, per = T_END / steps, steps // PIECES
    K0, yc, h = _kernel(w0, X), y - y.mean(), np.zeros(len(both))
    norm0 = float(np.sqrt(sum(np.sum(np.asarray(x) ** 2) for x in w0)))
    losses, dist, align, wc = [], [0.0], [ntk.kernel_alignment(K0, yc)], [0.0]
    lam = [float(np.linalg.eigvalsh(K0)[-1])]
    for _ in range(PIECES):
        # one piece from w: h = h_before + alpha (f(w') - f(w)), trained on y - h_before
        r = train.train_scaled(w, both[:N_TRAIN], (y - h[:N_TRAIN]).astype(np.float32),
                               alpha=alpha, eta=eta, steps=per, record_every=per,
                               X_eval=both, pad_to=WIDTHS[-1])
        if r.diverged:
            return None
        w = r.params
        h = h + np.asarray(r.predictions[-1], dtype=np.float64)
        K = _kernel(w, X)
        lam.append(float(np.linalg.eigvalsh(K)[-1]))
        if not eta * lam[-1] < ETA_LAMBDA_MAX or lam[-1] < DEAD * lam[0]:
            return None  # a step too large for the grown kernel, or neurons killed by one
        losses.append(np.asarray(r.loss, dtype=np.float64)[(1 if losses else 0):])
        dist.append(float(np.linalg.norm(K - K0) / np.linalg.norm(K0)))
        align.append(ntk.kernel_alignment(K, yc))
        wc.append(float(np.sqrt(sum(np.sum((np.asarray(x) - np.asarray(x0)) ** 2)
                                    for x, x0 in zip(w, w0, strict=True)))) / norm0)
    return {"eta": eta, "steps": steps, "w0": w0, "w": w, "K0": K0, "h": h, "wc": wc,
            "loss": np.concatenate(losses), "dist": dist, "align": align, "lam": lam}


@functools.lru_cache(maxsize=128)
def run(m: int, alpha: float, steps: int | None = None) -> ScaledRun:
    """The alpha-scaled run of width m to T_END, with the fewest steps of STEP_BUDGETS that
    keep eta lambda_max(K_t) < ETA_LAMBDA_MAX at every piece's end (PanelError if none).
    `steps` (one of STEP_BUDGETS) forces that budget instead, if it keeps the same margin: the
    control that the choice of step does not change what a run measures."""
    if steps is not None and steps not in STEP_BUDGETS:
        raise ValueError(f"steps must be None or one of {STEP_BUDGETS}, got {steps!r}")
    lam0 = float(np.linalg.eigvalsh(_kernel(net.init_nested(NETWORK_KEY, 3, m), task()[0].X))[-1])
    budgets = STEP_BUDGETS if steps is None else (steps,)
    for steps in (b for b in budgets if T_END / b * lam0 < ETA_LAMBDA_MAX):
        if (s := _attempt(m, alpha, steps)) is not None:
            break
    else:
        raise PanelError(f"At α = {alpha:g} and m = {m} the kernel grows so much that even "
                         f"{STEP_BUDGETS[-1]} steps are too large a step for t = {T_END:g}: deep "
                         "in the rich regime the step shrinks as K grows. Take a larger α or m.")
    data, _, grid = task()
    X, y = np.asarray(data.X), np.asarray(data.y)
    Kg = _kernel(s["w0"], np.concatenate([grid, X]))[:N_GRID, N_GRID:]
    kd = dynamics.kernel_dynamics(s["K0"], -y, K_test_train=Kg, f0_test=np.zeros(N_GRID))
    t = s["eta"] * np.arange(s["steps"] + 1)
    return ScaledRun(m, alpha, s["eta"], s["steps"], t, s["loss"],
                     np.linspace(0, T_END, PIECES + 1), np.array(s["dist"]),
                     np.array(s["align"]), np.array(s["lam"]), np.array(s["wc"]),
                     s["h"][N_TRAIN:], np.asarray(kd.predict(T_END)),
                     np.asarray(kd.loss(t), dtype=np.float64),
                     np.asarray(s["w0"].A), np.asarray(s["w0"].b), np.asarray(s["w"].A),
                     np.asarray(s["w"].b))


def direction_score(A: np.ndarray, b: np.ndarray, u: np.ndarray) -> float:
    """Mean |cos(a_i, u)| over the neurons, weighted by |b_i| |a_i| (the first len(u)
    coordinates of a_i: the constant coordinate's weight is the bias): 2/pi for uniform
    directions in the plane, 1 when every neuron points along +-u."""
    a = np.asarray(A)[:, : len(u)]
    norms = np.linalg.norm(a, axis=1)
    weight = np.abs(np.asarray(b)) * np.linalg.norm(np.asarray(A), axis=1)
    return float(np.sum(weight * np.abs(a @ np.asarray(u)) / norms) / np.sum(weight))


class DialResult(NamedTuple):
    """What the panel draws: a `ScaledRun`, the task and the two direction scores."""
    run: ScaledRun
    theta_train: np.ndarray
    y_train: np.ndarray
    theta_grid: np.ndarray
    y_grid: np.ndarray
    u: np.ndarray
    score0: float
    score: float


@functools.lru_cache(maxsize=128)
def compute(*, m: int, alpha: float) -> DialResult:
    """The run at (m, alpha) and what is drawn with it."""
    r = run(m, alpha)
    data, theta, grid = task()
    X, u = np.asarray(data.X), np.asarray(data.u)
    return DialResult(r, np.arctan2(X[:, 1], X[:, 0]), np.asarray(data.y), theta,
                      np.abs(np.sqrt(2) * grid[:, :2] @ u), u,
                      direction_score(r.A0, r.b0, u), direction_score(r.A, r.b, u))


def draw(res: DialResult) -> Figure:
    """Fit, loss, kernel distance against t, and the neurons' directions."""
    r = res.run
    fig = plt.figure(figsize=(13, 4.3), layout="none")
    fig.subplots_adjust(left=0.05, right=0.98, bottom=0.14, top=0.78, wspace=0.32)
    ax1, ax2, ax3 = (fig.add_subplot(1, 4, i) for i in (1, 2, 3))
    ax4 = fig.add_subplot(1, 4, 4, projection="polar")
    ax1.plot(res.theta_grid, res.y_grid, color=plots.COLORS["target"], label="target")
    ax1.plot(res.theta_train, res.y_train, "o", ms=3, color=plots.COLORS["data"], label="data")
    ax1.plot(res.theta_grid, r.h_grid, color=plots.COLORS["network"], label="network $h$")
    ax1.plot(res.theta_grid, r.kernel_grid, ":", color=plots.COLORS["kernel"], label="kernel $K_0$")
    ax1.set(xlabel=r"angle $\theta$ of $x = (\cos\theta, \sin\theta, 1)$", ylim=(-0.6, 2.4),
            ylabel=f"$h(x)$ at $t = {T_END:g}$", xticks=[-3, 0, 3], yticks=[0, 1, 2])
    ax1.legend(loc="upper center", fontsize=7, ncol=2)
    ax1.set_title("fit at the end", y=1.01)
    ax2.semilogy(r.t[1:], r.loss[1:], color=plots.COLORS["network"], label="network $h$")
    ax2.semilogy(r.t[1:], r.kernel_loss[1:], ":", color=plots.COLORS["kernel"],
                 label="kernel flow, $K_0$")
    ax2.set(xlabel=r"gradient-flow time $t = \eta k$", ylabel=r"loss $\frac{1}{2}\|h - y\|^2$",
            ylim=(1e-5, 30))
    ax2.legend(loc="upper right", fontsize=8)
    ax2.set_title("loss", y=1.01)
    ax3.semilogy(r.t_pieces[1:], np.maximum(r.kernel_distance[1:], 1e-5), "o-", ms=3,
                 color=plots.COLORS["network"])
    ax3.hlines((LAZY, RICH), 0, T_END, color=plots.COLORS["target"], lw=1, ls="--",
               label=f"lazy below {LAZY:g}, rich above {RICH:g}")
    ax3.legend(loc="lower right", fontsize=7)
    ax3.set(xlabel=r"gradient-flow time $t = \eta k$", ylabel=r"$\|K_t - K_0\|_F / \|K_0\|_F$",
            ylim=(1e-5, 100), xlim=(0, T_END))
    ax3.set_title("kernel distance", y=1.01)
    for ax in (ax2, ax3):  # few plain-text ticks: mathtext ticks cost most of a redraw
        plots.quick_log_ticks(ax.yaxis, numticks=5)
        ax.xaxis.set_major_locator(ticker.FixedLocator((0, 1, 2, 3, 4, 5)))
    for A, b, color, label in ((r.A0, r.b0, plots.COLORS["target"], "start"),
                               (r.A, r.b, plots.COLORS["network"], "end")):
        size = np.abs(b) * np.linalg.norm(A, axis=1)
        ax4.scatter(np.arctan2(A[:, 1], A[:, 0]), size / size.max(), s=6, color=color, label=label)
    angle = float(np.arctan2(res.u[1], res.u[0]))
    ax4.plot([angle, angle, angle + np.pi], [1.05, 0, 1.05], color=plots.COLORS["bound"], lw=1)
    ax4.set(yticks=[], xticks=np.arange(0, 2 * np.pi, np.pi / 2), xticklabels=[], ylim=(0, 1.05))
    ax4.set_xlabel(r"direction of $a_i$; red: $\pm u$", fontsize=9)
    ax4.set_title("neurons: start, end", y=1.06)
    ax4.legend(loc="lower left", bbox_to_anchor=(-0.25, -0.05), fontsize=7)
    gap = float(np.linalg.norm(r.h_grid - r.kernel_grid) / np.linalg.norm(r.kernel_grid))
    scale = r.alpha * np.sqrt(r.m)
    scale_text = f"{scale:.3g}" if scale < 100 else f"{scale:.0f}"  # 3200, not 3.2e+03
    text = (rf"$m$ = {r.m}, $\alpha$ = {r.alpha:g} ($\alpha\sqrt{{m}}$ = {scale_text}): "
            + describe_regime(float(r.kernel_distance[-1]))
            + f"\nfit {gap:.1%} from the kernel flow of $K_0$; weights moved by"
            rf" {r.weight_change[-1]:.2g} of $\|w_0\|$; neurons' $|\cos(a_i, u)|$"
            f" {res.score0:.2f} → {res.score:.2f}; {r.steps} steps,"
            rf" max $\eta\,\lambda_{{\max}}$ = {r.eta * r.lambda_max.max():.2f}")
    fig.suptitle(text, fontsize=11)
    return fig


PANEL = Panel(
    "08 beyond the kernel", compute, draw,
    {"alpha": Choice("scale α", ALPHAS, 0.1, "{:.3g}"),
     "m": Choice("width m", WIDTHS, 256, "{:d}")},
    prefetch=("m", "alpha"))
