"""The house style of the notebooks' figures, and small drawing helpers they share.

Helpers take `ax` first, draw, and return nothing; they never call `plt.show()`.
"""

from __future__ import annotations

import io
import textwrap
import threading

import matplotlib as mpl
import numpy as np
from matplotlib import image as mpl_image
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.figure import Figure

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


_RENDERERS: dict[tuple[int, int, float], RendererAgg] = {}
_RENDERING = threading.Lock()


def png(fig: Figure) -> bytes:
    """`fig` as PNG, the pixels of `fig.savefig(format="png")`, drawn on one Agg renderer per
    figure size kept between calls. matplotlib keeps its mathtext parses and text sizes per
    renderer, and a figure's own renderer starts empty: a panel that draws a new figure on
    every slider move would lay out every label and tick again (30-75 ms of a redraw)."""
    width, height = fig.canvas.get_width_height(physical=True)
    key = (width, height, fig.dpi)
    with _RENDERING:
        if key not in _RENDERERS:
            _RENDERERS[key] = RendererAgg(width, height, fig.dpi)
        renderer = _RENDERERS[key]
        renderer.clear()
        fig.draw(renderer)
        buf = io.BytesIO()
        mpl_image.imsave(buf, np.asarray(renderer.buffer_rgba()), format="png",
                         origin="upper", dpi=fig.dpi)
    return buf.getvalue()


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


# --- notebooks 05-06: kernel heatmaps, loss curves against t = eta k, log-log fits ---

def kernel_heatmap(ax: Axes, K, x, *, title: str, diverging: bool = False,
                   vmax: float | None = None, vmin: float | None = None,
                   label: str = "") -> None:
    """Draw a kernel matrix on a 1-D grid as a heatmap, K(x_i, x_j) at (x_j, x_i), with a
    colour bar.

    Args:
      ax: the axes.  K: kernel matrix, shape (n, n).  x: the grid, shape (n,), increasing.
      title: what to see.  diverging: a zero-centred red-blue map (for differences such as
        K_m - K); vmax: colour limit (symmetric when diverging); None: from the data.
      vmin: lower colour limit when not diverging (pass it with vmax to put several panels
        on one colour scale); None: the smallest entry of K.
      label: the colour bar's label (what a colour means).
    Introduced in notebooks/05.
    """
    import numpy as np

    K, x = np.asarray(K, dtype=float), np.asarray(x, dtype=float).ravel()
    if K.shape != (x.size, x.size):
        raise ValueError(f"K must have shape (n, n) = ({x.size}, {x.size}) for x of shape "
                         f"({x.size},), got {K.shape}")
    limit = float(np.max(np.abs(K))) if vmax is None else float(vmax)
    kwargs = ({"cmap": "RdBu_r", "vmin": -limit, "vmax": limit} if diverging else
              {"vmin": float(np.min(K)) if vmin is None else float(vmin), "vmax": vmax})
    im = ax.imshow(K, origin="lower", extent=(x[0], x[-1], x[0], x[-1]), aspect="equal",
                   interpolation="nearest", **kwargs)
    ax.figure.colorbar(im, ax=ax, shrink=0.85, label=label)
    ax.set(xlabel="x'", ylabel="x", title=title)
    ax.grid(False)


def quick_log_ticks(axis, numticks: int = 7) -> None:
    """Plain-text labels ("0.01", "1e-05") on a log `axis` (ax.yaxis), at powers of ten and,
    where the axis spans less than about a decade, at 2 and 5 times them: matplotlib's
    default "$10^{-3}$" labels are mathtext, laid out again on every redraw, which costs a
    panel that redraws on each slider move tens of milliseconds."""
    from matplotlib.ticker import LogFormatter, LogLocator

    axis.set_major_locator(LogLocator(numticks=numticks))
    axis.set_major_formatter(LogFormatter())
    axis.set_minor_locator(LogLocator(subs=(2.0, 5.0), numticks=numticks))
    axis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(1, 0.4)))


def training_curves(ax: Axes, t, *, network=None, linearized=None, kernel=None,
                    ylabel: str = r"loss $\frac{1}{2}\|U\|^2$", top: float | None = None) -> None:
    """Loss curves against gradient-flow time t = eta k on a log scale, one colour per role.

    Network solid blue, linearized dashed orange, kernel prediction dotted green (COLORS);
    any curve may be None. Non-finite values (divergence) leave a gap; values above `top`
    are clipped to the frame so that a diverging curve leaves through the top.

    Args:
      ax: the axes.  t: times, shape (T,).
      network, linearized, kernel: losses at the times t, shape (T,) each, or None.
      ylabel: label of the loss axis.  top: upper limit of the loss axis; None: from the data.
    Introduced in notebooks/06.
    """
    import numpy as np

    t = np.asarray(t, dtype=float).ravel()
    # plain text, no mathtext: these figures are redrawn by widgets, mathtext is slow
    curves = [(network, "network f", "network", "-"),
              (linearized, "linearized f_lin", "linearized", "--"),
              (kernel, "kernel ODE exp(-Kt) U₀", "kernel", ":")]
    shown = []
    for loss, label, role, style in curves:
        if loss is None:
            continue
        loss = np.asarray(loss, dtype=float).ravel()
        if loss.shape != t.shape:
            raise ValueError(f"each loss must have the shape of t {t.shape}, got {loss.shape}")
        if top is not None:  # inf too; NaN stays NaN (a gap)
            loss = np.where(loss > top, 10 * top, loss)
        ax.semilogy(t, loss, style, color=COLORS[role], label=label)
        shown.append(loss[np.isfinite(loss) & (loss > 0)])
    if not shown:
        raise ValueError("give at least one of network, linearized, kernel")
    values = np.concatenate(shown)
    if values.size:
        ax.set_ylim(max(float(values.min()) / 2, 1e-12),
                    top if top is not None else float(values.max()) * 2)
    quick_log_ticks(ax.yaxis)
    ax.set(xlabel=r"gradient-flow time $t = \eta k$", ylabel=ylabel)
    ax.legend()


def loglog_fit(ax: Axes, x, y, slope: float, C: float, *, label: str, color: str,
               xlabel: str = "width $m$", ylabel: str = "relative error") -> None:
    """Points (x, y) on log-log axes with the fitted line C x^slope through them.

    Args:
      ax: the axes.  x, y: positive values, shape (W,) each.
      slope, C: the fit, e.g. from `linearize.loglog_slope`.  label: legend text of the points
        (the slope is added).  color: their colour.  xlabel, ylabel: axis labels.
    Introduced in notebooks/05.
    """
    import numpy as np

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ax.loglog(x, y, "o", color=color, label=label)
    ax.loglog(x, C * x ** slope, "-", color=color, alpha=0.6, lw=1.5,
              label=f"fit: slope {slope:.2f}")
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.legend()


# --- notebooks 03-04: outputs at initialisation, 1-D fits, power laws over widths, gauges ---

def init_histogram(ax: Axes, samples, variance: float, *, title: str,
                   color: str = COLORS["network"], bins: int = 40,
                   theory_label: str = r"$\mathcal{N}(0, K^b(x, x))$",
                   legend: bool = True) -> None:
    """Histogram (as a density) of network outputs over initialisations, with the Gaussian
    N(0, variance) of the infinite-width limit drawn over it.

    Args:
      ax: the axes.  samples: f(w0, x) over many initialisations, shape (S,).
      variance: the limit's variance, e.g. K^b(x, x) (> 0).  title: what to see.
      color: the histogram's colour.  bins: number of bins.
      theory_label: legend text of the Gaussian.  legend: draw a legend.
    Introduced in notebooks/03.
    """
    import numpy as np

    samples = np.asarray(samples, dtype=float).ravel()
    if not variance > 0:
        raise ValueError(f"variance must be > 0, got {variance}")
    sd = float(np.sqrt(variance))
    ax.hist(samples, bins=bins, density=True, color=color, alpha=0.6,
            label=f"{samples.size} draws")
    z = np.linspace(-4 * sd, 4 * sd, 200)
    ax.plot(z, np.exp(-0.5 * (z / sd) ** 2) / (sd * np.sqrt(2 * np.pi)), color=COLORS["kernel"],
            label=theory_label)
    ax.set(xlabel="$f(w_0, x)$", ylabel="density", title=title)
    if legend:
        ax.legend(loc="upper left")


def data_and_target(ax: Axes, x_train, y_train, x_test=None, y_test=None) -> None:
    """The 1-D regression data: training points (dots) and the noise-free target (grey line).

    Args:
      ax: the axes.  x_train, y_train: shape (n,) each.
      x_test, y_test: the target on a grid, shape (n*,) each, or None.
    Introduced in notebooks/03.
    """
    import numpy as np

    if x_test is not None and y_test is not None:
        ax.plot(np.ravel(x_test), np.ravel(y_test), color=COLORS["target"], lw=1.5,
                label="target $g(x)$")
    ax.plot(np.ravel(x_train), np.ravel(y_train), "o", color=COLORS["data"], ms=4,
            label="training data")
    ax.set(xlabel="$x$", ylabel="$f(x)$")


def power_law_seeds(ax: Axes, widths, Y, slope: float, C: float, *, label: str, color: str,
                    xlabel: str = "width $m$", ylabel: str = "") -> None:
    """Log-log plot of a quantity measured for several initialisations at each width: one
    faint dot per initialisation, their geometric mean as a large dot, and the fit C m^slope.

    Args:
      ax: the axes.  widths: shape (W,).  Y: positive values, shape (W, S).
      slope, C: the fit, e.g. from `linearize.loglog_slope(widths, Y)`.
      label: legend text of the means (the slope is added).  color: their colour.
    Introduced in notebooks/03-04.
    """
    import numpy as np

    m = np.asarray(widths, dtype=float)
    Y = np.asarray(Y, dtype=float).reshape(m.size, -1)
    ax.loglog(np.repeat(m, Y.shape[1]), Y.ravel(), ".", color=color, alpha=0.35)
    ax.loglog(m, np.exp(np.mean(np.log(Y), axis=1)), "o", color=color, ms=7, label=label)
    grid = np.geomspace(m.min(), m.max(), 50)
    ax.loglog(grid, C * grid**slope, "-", color=color, alpha=0.6, lw=1.5,
              label=f"fit: slope {slope:.2f}")
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.legend()


def gauge(ax: Axes, values: dict, colors: dict, *, vmax: float = 1.0, title: str = "",
          xlabel: str = "") -> None:
    """Horizontal bars, one per named value, on [0, vmax], the value written at each bar's end.
    A value above vmax fills the frame and is marked '>'; a NaN is written as 'diverged'.

    Args:
      ax: the axes.  values: {label: value}.  colors: {label: colour}.
      vmax: right end of the scale.  title, xlabel: as in matplotlib.
    Introduced in notebooks/04 (relative weight change ||w_t - w0|| / ||w0||).
    """
    import math

    labels = list(values)
    for i, name in enumerate(labels):
        value = float(values[name])
        shown = vmax if not math.isfinite(value) or value > vmax else max(value, 0.0)
        ax.barh(i, shown, color=colors[name], alpha=0.8 if math.isfinite(value) else 0.15)
        text = ("diverged" if not math.isfinite(value) else
                (f"> {vmax:g}" if value > vmax else f"{value:.3f}"))
        ax.text(min(shown, 0.62 * vmax) + 0.02 * vmax, i, text, va="center", fontsize=10)
    ax.set_yticks(range(len(labels)), labels)
    ax.set(xlim=(0, vmax), xlabel=xlabel, title=title)
    ax.invert_yaxis()


# --- notebooks 01-02: features, a convex loss, learning-rate bound, Gram matrices, cost ---

def regression_1d(ax: Axes, X_train, y_train, X_test, y_test=None, preds=None, *,
                  colors=None, dashed=(), title: str = "") -> None:
    """A 1-D regression: training points, the true function (if given) and fitted curves.

    Args:
      ax: the axes.  X_train: shape (n, 1).  y_train: shape (n,).
      X_test: the plotting grid, shape (n*, 1), increasing.  y_test: the true function on
        it, shape (n*,), drawn dashed grey; None: not drawn.
      preds: {label: predictions at X_test, shape (n*,)}, drawn in order.
      colors: {label: colour}; default the kernel green for every curve.
      dashed: labels of curves drawn dashed and thinner (to show one curve on top of another).
      title: what to see.
    Introduced in notebooks/01.
    """
    import numpy as np

    x = np.asarray(X_test, dtype=float)[:, 0]
    if y_test is not None:
        ax.plot(x, np.asarray(y_test), ":", color=COLORS["target"], lw=1.5,
                label="true function")
    for label, pred in (preds or {}).items():
        color = (colors or {}).get(label, COLORS["kernel"])
        style = {"ls": "--", "lw": 1.8} if label in dashed else {"lw": 3.0 if dashed else 2.0}
        ax.plot(x, np.asarray(pred), color=color, label=label, **style)
    ax.plot(np.asarray(X_train)[:, 0], np.asarray(y_train), "o", color=COLORS["data"], ms=4,
            label="training data")
    ax.set(xlabel="$x$", ylabel="$y$", title=title)
    ax.legend()


def feature_curves(ax: Axes, X, Phi, names, *, title: str = "") -> None:
    """The feature functions x -> phi_k(x) of a 1-D input, one curve per column of Phi.

    Args:
      ax: the axes.  X: grid, shape (n, 1), increasing.  Phi: features on it, shape (n, D).
      names: D labels, e.g. `features.polynomial_feature_names(1, p)`.  title: what to see.
    Introduced in notebooks/01.
    """
    import re

    import numpy as np

    x, Phi = np.asarray(X, dtype=float)[:, 0], np.asarray(Phi, dtype=float)
    if Phi.shape != (x.size, len(names)):
        raise ValueError(f"Phi must have shape ({x.size}, {len(names)}) for {x.size} points "
                         f"and {len(names)} names, got {Phi.shape}")
    one_variable = all(set(re.findall(r"x(\d+)", n)) <= {"1"} for n in names)
    for k, name in enumerate(names):
        # 'x1^2 x3' -> x_1^{2} x_3 (or x^{2} for one variable): mathtext
        tex = re.sub(r"x(\d+)(?:\^(\d+))?", lambda m: ("x" if one_variable else
                     f"x_{{{m[1]}}}") + (f"^{{{m[2]}}}" if m[2] else ""), name)
        ax.plot(x, Phi[:, k], lw=1.5, label=rf"$\phi_{{{k}}} \propto {tex}$")
    ax.set(xlabel="$x$", ylabel=r"$\phi_k(x)$", title=title)
    ax.legend(ncol=2, fontsize=8)


def loss_contour(ax: Axes, wi, wj, L, *, minimum, names=("$w_i$", "$w_j$"), marks=None,
                 title: str = "") -> None:
    """Filled contours of a loss slice L(w_i, w_j) (from `features.loss_slice`), its minimum
    marked with a star; levels are spaced geometrically above the minimum, so the ellipses
    of a quadratic show at every scale.

    Args:
      ax: the axes.  wi: shape (Ni,).  wj: shape (Nj,).  L: shape (Nj, Ni).
      minimum: (w_i, w_j) of the minimiser.  names: axis labels.
      marks: {label: (w_i, w_j)} further points, drawn as crosses.  title: what to see.
    Introduced in notebooks/01.
    """
    import numpy as np

    L = np.asarray(L, dtype=float)
    lo, hi = float(L.min()), float(L.max())
    levels = lo + (hi - lo) * np.geomspace(1e-3, 1, 13)
    cs = ax.contourf(np.asarray(wi), np.asarray(wj), L, levels=np.r_[lo, levels],
                     cmap="viridis_r")
    ax.figure.colorbar(cs, ax=ax, shrink=0.85, label=r"$L(w)$", format="%.3g")
    ax.plot(*minimum, "*", color=COLORS["bound"], ms=16, mec="white",
            label="unique minimum $w^*$")
    for label, point in (marks or {}).items():
        ax.plot(*point, "x", color="white", ms=10, mew=2.5, label=label)
    ax.set(xlabel=names[0], ylabel=names[1], title=title)
    ax.grid(False)
    ax.legend(loc="upper right", frameon=True, facecolor="white", framealpha=0.85)


def contraction_factor(ax: Axes, eigvals, eta_multiple: float | None = None, *,
                       top: float = 1.6) -> None:
    """|1 - eta lambda_i| for every eigenvalue lambda_i, against eta in units of 2 / lambda_max.

    Gradient descent on a quadratic with Hessian eigenvalues lambda_i multiplies the error
    along eigenvector i by (1 - eta lambda_i) per step: it shrinks where the factor is below 1
    and grows where it is above. The top eigenvalue reaches 1 first, at eta = 2 / lambda_max
    (red line): beyond it descent diverges. Small eigenvalues stay near 1: learned last.
    The rate of descent is the largest factor, max_i |1 - eta lambda_i|: the lambda_min line
    for small eta, the lambda_max line for large eta (the thick upper envelope).

    Args:
      ax: the axes.  eigvals: eigenvalues of Phi^T Phi (or of a kernel), shape (D,), >= 0.
      eta_multiple: the current eta / (2 / lambda_max), a dotted line with the rate
        max_i |1 - eta lambda_i| marked; None: no mark.
      top: the largest eta / (2 / lambda_max) on the axis.
    Introduced in notebooks/01.
    """
    import numpy as np

    lam = np.sort(np.asarray(eigvals, dtype=float))[::-1]
    lam_max = float(lam[0])
    s = np.linspace(0, top, 600)
    factors = np.abs(1 - s[None, :] * 2 * lam[:, None] / lam_max)  # (D, 600)
    for i in range(1, lam.size - 1):
        ax.plot(s, factors[i], lw=1.0, color=COLORS["target"], alpha=0.8,
                label=r"other $\lambda_i$" if i == 1 else None)
    if lam.size > 1:
        ax.plot(s, factors[-1], lw=1.6, color=COLORS["kernel"], label=r"$\lambda_{\min}$")
    ax.plot(s, factors[0], lw=1.6, color=COLORS["network"], label=r"$\lambda_{\max}$")
    ax.plot(s, factors.max(axis=0), lw=4, color=COLORS["data"], alpha=0.25,
            label=r"rate $\max_i |1 - \eta\lambda_i|$")
    ax.axhline(1, color=COLORS["target"], lw=1)
    ax.axvline(1, color=COLORS["bound"], ls="--", lw=1.5,
               label=r"$\eta = 2/\lambda_{\max}$")
    ax.axvspan(1, top, color=COLORS["bound"], alpha=0.08)
    if eta_multiple is not None:
        r = float(np.max(np.abs(1 - 2 * eta_multiple * lam / lam_max)))
        ax.axvline(eta_multiple, color=COLORS["data"], ls=":", lw=1.2)
        if eta_multiple <= top:
            shown = f"{r:.3f}" if r <= 0.99 or r >= 1 else f"1 - {1 - r:.2g}"
            ax.plot(eta_multiple, min(r, 2.0), "o", ms=9, mec=COLORS["data"],
                    label=f"this $\\eta$: rate {shown}", clip_on=False,
                    color=COLORS["bound"] if r >= 1 else "white")
    # ylim above 2: a marker at the largest rate, 2 (eta = 1.5 x the bound), is not cut off
    ax.set(xlim=(0, top), ylim=(0, 2.1), xlabel=r"$\eta\ /\ (2/\lambda_{\max})$",
           ylabel=r"error factor per step $|1 - \eta\lambda_i|$",
           title="shrinks below 1, grows above")
    ax.legend(loc="upper left", fontsize=8)


def feature_count(ax: Axes, ds, ps) -> None:
    """D = C(d + p, p), the number of monomials of degree <= p in d variables, against d on a
    log scale, one line per degree p.

    Args:
      ax: the axes.  ds: input dimensions (>= 1).  ps: degrees (>= 1).
    Introduced in notebooks/01.
    """
    import math

    import numpy as np

    ds = np.asarray(ds, dtype=int)
    for p in ps:
        ax.semilogy(ds, [math.comb(int(d) + p, p) for d in ds], "o-" if ds.size <= 20 else "-",
                    ms=4, label=f"$p = {p}$")
    ax.set(xlabel="input dimension $d$", ylabel="feature dimension $D$",
           title=r"$D = \binom{d+p}{p}$ explodes with $d$ and $p$")
    ax.legend(ncol=2)


def seconds_against_size(ax: Axes, sizes, seconds, *, xlabel: str, colors=None,
                         flops=None, title: str = "") -> None:
    """Measured seconds against a problem size on log-log axes, one line per route.

    Args:
      ax: the axes.  sizes: shape (S,).  seconds: {label: shape (S,)}.
      xlabel: the size's name.  colors: {label: colour}.
      flops: {label: operation counts, shape (S,)} (e.g. `features.ridge_flops`), drawn
        dotted and scaled to pass through the largest measurement of the same label: the
        trend the timings should follow once fixed overheads stop mattering.
      title: what to see.
    Introduced in notebooks/01 (explicit fit against D) and 02 (explicit against kernel).
    """
    import numpy as np

    sizes = np.asarray(sizes, dtype=float)
    for label, secs in seconds.items():
        color = (colors or {}).get(label)
        ms = np.asarray(secs, dtype=float) * 1e3
        (line,) = ax.loglog(sizes, ms, "o-", color=color, label=f"{label}: measured")
        if flops is not None and label in flops:
            count = np.asarray(flops[label], dtype=float)
            ax.loglog(sizes, count * ms[-1] / count[-1], ":", lw=1.5, color=line.get_color(),
                      label=f"{label}: operation count")
    ax.yaxis.set_major_formatter(mpl.ticker.FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(mpl.ticker.NullFormatter())
    ax.set(xlabel=xlabel, ylabel="time of fit + predict (ms)", title=title)
    ax.legend()


def gram_heatmap(ax: Axes, K, *, title: str) -> None:
    """A Gram matrix as an image: entry (i, j) = K(x_i, x_j) at row i, column j, with a
    colour bar (zero-centred red-blue when K has negative entries).

    Args:
      ax: the axes.  K: shape (n, n).  title: what to see.
    Introduced in notebooks/02.
    """
    import numpy as np

    K = np.asarray(K, dtype=float)
    limit = float(np.max(np.abs(K)))
    kwargs = ({"cmap": "RdBu_r", "vmin": -limit, "vmax": limit} if K.min() < 0 else {})
    im = ax.imshow(K, interpolation="nearest", **kwargs)
    ax.figure.colorbar(im, ax=ax, shrink=0.85)
    ax.set(xlabel="$j$", ylabel="$i$", title=title)
    ax.grid(False)


def eigenvalues(ax: Axes, eigvals, *, label: str, color: str | None = None,
                zero_tol: float | None = None) -> None:
    """Eigenvalues of a symmetric matrix, largest first, on a log scale. Positive ones are
    dots; those within +-zero_tol of 0 (round-off) grey rings drawn at zero_tol; negative ones
    below -zero_tol red crosses at their absolute value (a log axis cannot show a sign).

    Args:
      ax: the axes.  eigvals: shape (n,).  label: legend entry.  color: of the dots.
      zero_tol: what counts as zero; None: `features.gram_roundoff(n)` max |lambda|
        (10 n eps, as `features.check_gram`).
    Introduced in notebooks/02.
    """
    import numpy as np

    lam = np.sort(np.asarray(eigvals, dtype=float))[::-1]
    from . import features

    tol = (features.gram_roundoff(lam.size, np.float64) * float(np.max(np.abs(lam)))
           if zero_tol is None else float(zero_tol))
    i = np.arange(1, lam.size + 1)
    pos, neg = lam > tol, lam < -tol
    zero = ~pos & ~neg
    ax.semilogy(i[pos], lam[pos], "o-", ms=4, color=color, label=label)
    if zero.any():
        ax.semilogy(i[zero], np.full(zero.sum(), tol), "o", ms=5, mfc="none",
                    color=COLORS["target"], label="zero up to round-off (drawn at the tolerance)")
    if neg.any():
        ax.semilogy(i[neg], -lam[neg], "x", ms=8, mew=2, color=COLORS["bound"],
                    label="negative: $|\\lambda_i|$ shown")
    ax.set(xlabel="index $i$ (largest first)", ylabel=r"eigenvalue $\lambda_i$")
    nonzero = np.abs(lam[~zero])
    low = tol if zero.any() or not nonzero.size else float(nonzero.min())
    ax.set_ylim(low / 10, float(np.max(np.abs(lam)) if lam.size else 1) * 30)
    ax.legend(loc="upper right")


def rbf_truncation(ax_kernel: Axes, ax_error: Axes, X, exact, partial, errors, n_terms, *,
                   x0: float, lengthscale: float) -> None:
    """The RBF kernel as an infinite feature map: K(x, x0) from the first D coordinates of
    `features.rbf_taylor_features` against the exact `features.rbf_kernel` (left), and the
    largest error over X against D (right). The caller computes; this only draws.

    Args:
      ax_kernel, ax_error: two axes.  X: grid, shape (N, 1).
      exact: K(x, x0) on X, shape (N,).
      partial: truncated kernels, shape (N, D_max): column D - 1 is the kernel of the first D
        features (a cumulative sum of phi_k(x) phi_k(x0) over k).
      errors: max_x |partial[:, D - 1] - exact| for D = 1..D_max, shape (D_max,).
      n_terms: the truncations D to draw on the left (ints in 1..D_max).
      x0: the second point.  lengthscale: l, for the title.
    Introduced in notebooks/02.
    """
    import numpy as np

    x = np.asarray(X, dtype=float)[:, 0]
    partial = np.asarray(partial, dtype=float)
    ax_kernel.plot(x, np.asarray(exact), color=COLORS["kernel"], lw=3, alpha=0.6,
                   label="exact RBF")
    palette = [COLORS["network"], COLORS["linearized"], COLORS["init"], COLORS["data"]]
    height = float(np.ptp(np.asarray(exact, dtype=float)))
    for k, n in enumerate(n_terms):
        hidden = np.max(np.abs(partial[:, n - 1] - np.asarray(exact))) < 0.01 * height
        ax_kernel.plot(x, partial[:, n - 1], "--", lw=1.5, color=palette[k % len(palette)],
                       label=f"$D = {n}$" + (" (hidden under the exact curve)" if hidden else ""))
    ax_kernel.set(xlabel="$x$", ylabel=f"$K(x, {x0:g})$", ylim=(-0.2, 1.2),
                  title=f"truncated feature map, $\\ell = {lengthscale:g}$")
    ax_kernel.legend(fontsize=8)
    errors = np.asarray(errors, dtype=float)
    ns = np.arange(1, errors.size + 1)
    ax_error.semilogy(ns, np.maximum(errors, 1e-17), "o-", ms=3, color=COLORS["kernel"],
                      label="truncation error")
    floor = np.finfo(float).eps * float(np.max(np.abs(exact)))
    ax_error.axhline(floor, color=COLORS["target"], ls=":", lw=1.5,
                     label=r"float64 round-off $\varepsilon\,\max K$")
    ax_error.set(xlabel="number of features $D$",
                 ylabel=r"$\max_x |\langle\phi_D(x),\phi_D(x_0)\rangle - K(x,x_0)|$",
                 title="close for large $D$, exact for none (down to round-off)")
    ax_error.legend(fontsize=8, loc="upper right")


# --- notebooks 03-04 (continued): the network and its linearization side by side ---

def network_and_linearized(ax_fit: Axes, ax_loss: Axes, x, network, linearized, *,
                           title: str = "") -> None:
    """Two trajectories from the same w0: their functions at the last recorded step on
    `ax_fit` (network solid blue, linearized dashed orange) and their losses against
    t = eta k on `ax_loss` (log scale).

    Args:
      ax_fit, ax_loss: the axes.  x: the 1-D evaluation points, shape (n_eval,).
      network, linearized: `train.Trajectory` objects with predictions (R, n_eval).
      title: the title of ax_fit.
    Introduced in notebooks/04.
    """
    import numpy as np

    x = np.ravel(np.asarray(x, dtype=float))
    for traj, role, style, label in ((network, "network", "-", "network $f$"),
                                     (linearized, "linearized", "--",
                                      r"linearized $f_{\mathrm{lin}}$")):
        ax_fit.plot(x, np.asarray(traj.predictions[-1], dtype=float), style,
                    color=COLORS[role], label=label)
        ax_loss.semilogy(np.asarray(traj.times, dtype=float), np.asarray(traj.loss, dtype=float),
                         style, color=COLORS[role], label=label)
    ax_fit.set(xlabel="$x$", ylabel="$f(x)$", title=title)
    ax_loss.set(xlabel=r"$t = \eta k$", ylabel=r"loss $\frac{1}{2}\|U\|^2$")


# --- notebook 07: real data against width, mode decay, learning-rate phases ---

def error_against_width(ax: Axes, widths, errors, kernel_error: float, *,
                        ylabel: str = "test RMSE") -> None:
    """Test errors of networks of several widths (one dot per seed, the mean joined) against
    the infinite-width kernel's error (a green line).

    Args:
      ax: the axes.  widths: shape (W,).  errors: shape (S, W), S seeds.
      kernel_error: the kernel prediction's error at the same time t.
    Introduced in notebooks/07.
    """
    import numpy as np

    widths = np.asarray(widths, dtype=float)
    errors = np.asarray(errors, dtype=float)
    if errors.ndim != 2 or errors.shape[1] != widths.size:
        raise ValueError(f"errors must have shape (seeds, {widths.size}), got {errors.shape}")
    for row in errors:
        ax.semilogx(widths, row, "o", color=COLORS["network"], alpha=0.35, ms=4)
    ax.semilogx(widths, errors.mean(axis=0), "-", color=COLORS["network"],
                label="networks (dots: seeds; line: mean)")
    ax.axhline(kernel_error, color=COLORS["kernel"], ls=":", label="infinite-width NTK")
    ax.set(xlabel="width $m$", ylabel=ylabel)
    ax.legend()


def mode_decay(ax: Axes, t, amplitudes, rates, labels, colors, *,
               predicted: str = r"dashed: $e^{-\lambda_k t}$") -> None:
    """Amplitudes of residual modes over time (solid, log scale) against the decay that the
    kernel predicts, `amplitude_0 exp(-rate t)` (dashed, same colour).

    Args:
      ax: the axes.  t: times, shape (T,).  amplitudes: shape (T, K), one column per mode.
      rates: predicted rates, shape (K,).  labels, colors: one per mode.
      predicted: what the dashed lines are, for the legend's title.
    Introduced in notebooks/07.
    """
    import numpy as np

    t = np.asarray(t, dtype=float)
    amplitudes = np.asarray(amplitudes, dtype=float)
    if amplitudes.shape != (t.size, len(rates)):
        raise ValueError(f"amplitudes must have shape ({t.size}, {len(rates)}), got "
                         f"{amplitudes.shape}")
    for a, rate, label, color in zip(amplitudes.T, rates, labels, colors, strict=True):
        ax.semilogy(t, a, color=color, label=label)
        ax.semilogy(t, a[0] * np.exp(-rate * t), "--", color=color, lw=1.2)
    ax.set_ylim(max(float(amplitudes.min()), 1e-4 * float(amplitudes.max())) / 2,
                2 * float(amplitudes.max()))
    ax.set(xlabel="gradient-flow time $t$", ylabel="amplitude of the residual")
    ax.legend(title="solid: network; " + predicted)


#: Regime -> colour role of the phase figures (as in notebook 06's panel).
REGIME_ROLES = {"converging": "kernel", "catapult": "linearized", "diverging": "bound",
                "stalled": "init", "dead": "data"}


def phase_diagram(ax: Axes, diagram) -> None:
    """The regime of each (width, learning rate) of a `dynamics.PhaseDiagram` as coloured
    cells, with the kernel bound eta = 2/lambda_max (multiple 1) and eta = 4/lambda_max
    (multiple 2) as lines.

    Introduced in notebooks/07.
    """
    import numpy as np
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    names = list(REGIME_ROLES)
    codes = np.vectorize(names.index)(diagram.regimes)
    cmap = ListedColormap([COLORS[REGIME_ROLES[n]] for n in names])
    x, W = np.asarray(diagram.eta_multiples), len(diagram.widths)
    ax.pcolormesh(np.arange(x.size + 1), np.arange(W + 1), codes, cmap=cmap, vmin=-0.5,
                  vmax=len(names) - 0.5, edgecolors="white", linewidth=1.5)
    ax.set_xticks(np.arange(x.size) + 0.5, [f"{c:g}" for c in x])
    ax.set_yticks(np.arange(W) + 0.5, [str(int(m)) for m in diagram.widths])
    for c, text in ((1.0, "2/λ₀"), (2.0, "4/λ₀")):
        pos = np.interp(c, x, np.arange(x.size) + 0.5)
        ax.axvline(pos, color="black", lw=1.2, ls="--")
        ax.text(pos, W + 0.05, text, ha="center", va="bottom", fontsize=9)
    ax.grid(False)
    ax.set(xlabel="learning rate η in units of 2/λ₀", ylabel="width $m$")
    present = [n for n in names if n in set(diagram.regimes.ravel())]
    ax.legend(handles=[Patch(color=COLORS[REGIME_ROLES[n]], label=n) for n in present],
              loc="upper left", bbox_to_anchor=(1.01, 1))
