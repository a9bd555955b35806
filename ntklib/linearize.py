"""The first-order Taylor model around w0 and its training (notebooks/04).

    f_lin(w, x) = f(w0, x) + grad_w f(w0, x) . (w - w0)

is linear in w (not in x): a kernel model with features phi(x) = grad_w f(w0, x) and kernel
K(x, x') = <grad_w f(w0, x), grad_w f(w0, x')>, the NTK at initialisation. Neither
`linearize` (any model, by jax.jvp) nor `train_linearized` (the network of `net`, in closed
form) forms the (n, P) Jacobian.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from . import net
from .train import (
    DIVERGENCE_THRESHOLD,
    Model,
    Trajectory,
    check_loop,
    check_network_inputs,
    check_tree,
    descent,
    pad_neurons,
    pre_activations,
    train_network,
    unpad_neurons,
)


def linearize(f: Model, params0: Any) -> Model:
    """The Taylor model of `f` around `params0`, with the same signature as `f`.

    f_lin(params, X) = f(params0, X) + J(params0, X) (params - params0), evaluated as one
    `jax.jvp` of f at params0 in the direction params - params0 (no Jacobian is formed). It
    plugs into `train.gradient_descent` and into the autodiff NTK like any model.

    Args:
      f: the model, f(params, X) -> shape (n,), written with jax.numpy.
      params0: the linearisation point w0, a pytree of float arrays (e.g. `net.Params`).
    Returns:
      f_lin(params, X) -> shape (n,), params of the same structure as params0.
    Introduced in notebooks/04; training it from w0 is `train_linearized`.
    """
    if not callable(f):
        raise TypeError(f"f must be a function f(params, X) -> (n,), got {type(f).__name__}")
    params0 = check_tree(params0, "params0")

    def f_lin(params: Any, X: Array) -> Array:
        delta = jax.tree.map(lambda w, w0: (w - w0).astype(w0.dtype), params, params0)
        f0, df = jax.jvp(lambda w: f(w, X), (params0,), (delta,))
        return f0 + df

    return f_lin


class _Taylor(NamedTuple):
    """The network's first-order terms at w0 on n inputs X (notebook 05)."""

    f0: Array  # f(w0, X), shape (n,)
    S0: Array  # sigma(A0 X^T), shape (m, n): grad_{b_i} f(x_j) = scale S0_ij
    B0: Array  # b0_i sigma'(a0_i . x_j), shape (m, n): grad_{a_i} f(x_j) = scale B0_ij x_j


def _taylor(params0: net.Params, X: Array, act: net.Activation, scale: float) -> _Taylor:
    Z = pre_activations(params0.A, X)
    S0 = act.fn(Z)
    return _Taylor(scale * (params0.b @ S0), S0, params0.b[:, None] * act.deriv(Z))


def _taylor_apply(t: _Taylor, params0: net.Params, w: net.Params, X: Array,
                  scale: float) -> Array:
    """f0 + J(w0) (w - w0) on the inputs X of `t`, shape (n,)."""
    terms = (w.b - params0.b)[:, None] * t.S0 + t.B0 * pre_activations(w.A - params0.A, X)
    # the sum over neurons as ones @ terms: faster than jnp.sum(terms, 0) on XLA:CPU
    return t.f0 + scale * (jnp.ones_like(w.b) @ terms)


@functools.partial(jax.jit, static_argnames=("activation", "parameterization", "steps",
                                             "record_every"))
def _descend_linearized(params0: net.Params, X: Array, y: Array, X_eval: Array, eta: Array,
                        scale: Array, activation: str, parameterization: str, steps: int,
                        record_every: int) -> tuple[Array, Array, Array, Any]:
    # scale is traced (the output scale of the true width): padded weights reuse the program
    act = net.activation(activation)
    # f(w0) and the features at w0 are computed once, before the loop.
    on_X, on_eval = _taylor(params0, X, act, scale), _taylor(params0, X_eval, act, scale)

    def value_and_grad(w: net.Params) -> tuple[Array, net.Params]:
        # the network's gradient formulas with the features frozen at w0: J(w0)^T U
        U = _taylor_apply(on_X, params0, w, X, scale) - y
        return 0.5 * (U @ U), net.Params(scale * (on_X.B0 * U) @ X, scale * (on_X.S0 @ U))

    return descent(value_and_grad, lambda w: _taylor_apply(on_eval, params0, w, X_eval, scale),
                    params0, eta, DIVERGENCE_THRESHOLD, steps, record_every)


def train_linearized(params0: net.Params, X: Array, y: Array, *, eta: float, steps: int,
                     activation: str = "relu", parameterization: str = "ntk",
                     record_every: int | None = None, X_eval: Array | None = None,
                     pad_to: int | None = None) -> Trajectory:
    """Gradient descent on the Taylor model of the network of `net` around `params0`.

    Same arguments and result as `train.train_network`, so the two trajectories compare
    point by point; their gap shrinks as the width m grows. The same iteration as
    `gradient_descent(linearize(network_model(activation, parameterization), params0), ...)`,
    but f(w0) and the Jacobian's factors sigma(A0 X^T), b0 sigma'(A0 X^T) (notebook 05)
    are computed once, before the loop, and no (n, P) Jacobian is formed.

    Args:
      params0: `Params(A=(m, d), b=(m,))`: the linearisation point and the start.
      X: inputs, shape (n, d).  y: targets, shape (n,).
      eta: learning rate > 0.  steps: number of updates >= 1.
      activation, parameterization: as in `net.apply`.
      record_every: store predictions every this many steps; None means every step.
      X_eval: points for the recorded predictions, shape (n_eval, d); None means X.
      pad_to: as in `train.train_network`: zero neurons up to this width (their features are
        0 and they stay 0), one compiled program for every width up to pad_to.
    Returns:
      a `Trajectory` of the linearised model (`params` of the width of params0).
    Introduced in notebooks/04.
    """
    params0, X, y, X_eval = check_network_inputs(params0, X, y, X_eval, activation,
                                                  parameterization)
    eta, steps, record_every = check_loop(eta, steps, record_every)
    m = params0.m
    scale = jnp.asarray(net.output_scale(m, parameterization), params0.A.dtype)
    out = _descend_linearized(
        pad_neurons(params0, pad_to), X, y, X_eval, eta, scale, activation=activation,
        parameterization=parameterization, steps=steps, record_every=record_every)
    loss, preds, wc, params = out
    return Trajectory.from_descent(eta, steps, record_every,
                                   (loss, preds, wc, unpad_neurons(params, m)))


# --- notebooks 03-04: lazy training, f against f_lin over widths ---

class LazySweep(NamedTuple):
    """Training f and f_lin from the same w0 for several widths and initialisations.

    Attributes (W widths, S seeds):
      widths: the widths m, shape (W,).
      weight_change: ||w_T - w0|| / ||w0|| of the network at the end, shape (W, S).
      weight_change_lin: the same for the Taylor model, shape (W, S).
      gap: max over recorded times of the RMS of f_t(X_eval) - f_lin_t(X_eval), shape (W, S).
      function_change: RMS of f_T(X_eval) - f_0(X_eval), how far the function moved, (W, S).
      weight_step_rms: ||w_T - w0|| / sqrt(P), how far a typical single weight of the network
        moved (root mean square over its P = m (d + 1) weights), shape (W, S).
      trajectories: {m: (network Trajectory, Taylor-model Trajectory)} for the first seed.
    """

    widths: np.ndarray
    weight_change: np.ndarray
    weight_change_lin: np.ndarray
    gap: np.ndarray
    function_change: np.ndarray
    weight_step_rms: np.ndarray
    trajectories: dict

    def __repr__(self) -> str:
        return (f"LazySweep(widths={[int(m) for m in self.widths]}, "
                f"{self.gap.shape[1]} initialisations each)")


def lazy_training_sweep(key: Array, X: Array, y: Array, *, widths: Any, seeds: int, eta: float,
                        steps: int, X_eval: Array | None = None, record_every: int | None = None,
                        activation: str = "relu") -> LazySweep:
    """Train the network and its Taylor model from the same w0, for each width and seed.

    Initialisation s of width m is `net.init(jax.random.fold_in(key, s), d, m)`, in the
    dtype of X; both models use `eta`, `steps` and the squared loss of `train`.

    Args:
      key: a `jax.random` key.
      X: inputs, shape (n, d).  y: targets, shape (n,).
      widths: the widths m to try, e.g. [10, 100, 1000, 10000].  seeds: initialisations each.
      eta: learning rate.  steps: gradient-descent steps.
      X_eval: where the functions are compared, shape (n_eval, d); None means X.
      record_every: how often predictions are stored (the gap is a max over those times).
      activation: as in `net.apply`.
    Returns:
      a `LazySweep`; raises ValueError if a run diverges (lower eta).
    Introduced in notebooks/04.
    """
    net.check_key(key)
    X = jnp.asarray(X)
    widths = np.array([int(m) for m in widths])
    seeds = int(seeds)
    if widths.size == 0 or np.any(widths < 1) or seeds < 1:
        raise ValueError(f"widths must be >= 1 and seeds >= 1, got widths={widths.tolist()}, "
                         f"seeds={seeds}")
    kw = dict(eta=eta, steps=steps, record_every=record_every, X_eval=X_eval,
              activation=activation)
    out = np.zeros((5, widths.size, seeds))
    trajectories = {}
    for i, m in enumerate(widths):
        for s in range(seeds):
            p0 = net.init(jax.random.fold_in(key, s), X.shape[1], int(m), dtype=X.dtype)
            f_traj = train_network(p0, X, y, **kw)
            lin = train_linearized(p0, X, y, **kw)
            if f_traj.diverged or lin.diverged:
                raise ValueError(f"training diverged at m={m}, seed {s}, eta={eta}: lower eta")
            sq = sum(float(jnp.sum((a - a0) ** 2)) for a, a0 in zip(f_traj.params, p0,
                                                                    strict=True))
            step = (sq / p0.size) ** 0.5
            out[:, i, s] = (f_traj.weight_change[-1], lin.weight_change[-1],
                            float(jnp.max(prediction_gap(f_traj, lin))),
                            float(jnp.sqrt(jnp.mean((f_traj.predictions[-1]
                                                     - f_traj.predictions[0]) ** 2))), step)
            if s == 0:
                trajectories[int(m)] = (f_traj, lin)
    return LazySweep(widths, *out, trajectories)


def prediction_gap(a: Trajectory, b: Trajectory) -> Array:
    """RMS over the evaluation points of the difference of two trajectories' predictions.

    Args:
      a, b: trajectories recorded at the same steps on the same points, predictions (R, n).
    Returns:
      sqrt(mean_j (a_j(t) - b_j(t))^2) at each recorded time, shape (R,).
    Introduced in notebooks/04 (network against its Taylor model).
    """
    if a.predictions.shape != b.predictions.shape:
        raise ValueError(f"trajectories must have predictions of one shape, got "
                         f"{tuple(a.predictions.shape)} and {tuple(b.predictions.shape)}")
    return jnp.sqrt(jnp.mean((a.predictions - b.predictions) ** 2, axis=1))


def loglog_slope(x: Any, y: Any) -> tuple[float, float]:
    """Least-squares line through (log x, log y): y ~ c x^slope.

    Args:
      x: positive numbers, shape (k,), k >= 2, at least two distinct.
      y: positive numbers, shape (k,) or (k, S); with S columns (e.g. initialisations) the
        fit goes through the mean of log y.
    Returns:
      (slope, c).
    Introduced in notebooks/04 (lazy training: slope -1/2 against the width m); notebook 05
    fits the 1/sqrt(m) convergence of the empirical NTK with it.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if y.ndim == 2 and np.all(y > 0):
        y = np.exp(np.mean(np.log(y), axis=1))
    if x.ndim != 1 or x.size < 2 or y.shape != x.shape:
        raise ValueError(f"x and y must be positive, of one length >= 2, got shapes {x.shape}, "
                         f"{y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y)) and np.all(x > 0)
            and np.all(y > 0)):
        raise ValueError("x and y must be positive finite numbers (their logarithms are fitted)")
    if np.ptp(x) == 0:
        raise ValueError("x must hold at least two distinct values")
    slope, intercept = np.polyfit(np.log(x), np.log(y), 1)
    return float(slope), float(np.exp(intercept))
