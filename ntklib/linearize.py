"""The first-order Taylor model around w0 and its training (MATH.md section 4; notebooks/04).

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
from jax import Array

from . import net
from .train import (
    DIVERGENCE_THRESHOLD,
    Model,
    Trajectory,
    _check_loop,
    _check_network_inputs,
    _check_tree,
    _descent,
    _pre_activations,
    _trajectory,
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
    params0 = _check_tree(params0, "params0")

    def f_lin(params: Any, X: Array) -> Array:
        delta = jax.tree.map(lambda w, w0: (w - w0).astype(w0.dtype), params, params0)
        f0, df = jax.jvp(lambda w: f(w, X), (params0,), (delta,))
        return f0 + df

    return f_lin


class _Taylor(NamedTuple):
    """The network's first-order terms at w0 on n inputs X (MATH.md section 5)."""

    f0: Array  # f(w0, X), shape (n,)
    S0: Array  # sigma(A0 X^T), shape (m, n): grad_{b_i} f(x_j) = scale S0_ij
    B0: Array  # b0_i sigma'(a0_i . x_j), shape (m, n): grad_{a_i} f(x_j) = scale B0_ij x_j


def _taylor(params0: net.Params, X: Array, act: net.Activation, scale: float) -> _Taylor:
    Z = _pre_activations(params0.A, X)
    S0 = act.fn(Z)
    return _Taylor(scale * (params0.b @ S0), S0, params0.b[:, None] * act.deriv(Z))


def _taylor_apply(t: _Taylor, params0: net.Params, w: net.Params, X: Array,
                  scale: float) -> Array:
    """f0 + J(w0) (w - w0) on the inputs X of `t`, shape (n,)."""
    terms = (w.b - params0.b)[:, None] * t.S0 + t.B0 * _pre_activations(w.A - params0.A, X)
    # the sum over neurons as ones @ terms: faster than jnp.sum(terms, 0) on XLA:CPU
    return t.f0 + scale * (jnp.ones_like(w.b) @ terms)


@functools.partial(jax.jit, static_argnames=("activation", "parameterization", "steps",
                                             "record_every"))
def _descend_linearized(params0: net.Params, X: Array, y: Array, X_eval: Array, eta: Array,
                        activation: str, parameterization: str, steps: int,
                        record_every: int) -> tuple[Array, Array, Array, Any]:
    act = net.activation(activation)
    scale = net.output_scale(params0.m, parameterization)
    # f(w0) and the features at w0 are computed once, before the loop.
    on_X, on_eval = _taylor(params0, X, act, scale), _taylor(params0, X_eval, act, scale)

    def value_and_grad(w: net.Params) -> tuple[Array, net.Params]:
        # the network's gradient formulas with the features frozen at w0: J(w0)^T U
        U = _taylor_apply(on_X, params0, w, X, scale) - y
        return 0.5 * (U @ U), net.Params(scale * (on_X.B0 * U) @ X, scale * (on_X.S0 @ U))

    return _descent(value_and_grad, lambda w: _taylor_apply(on_eval, params0, w, X_eval, scale),
                    params0, eta, DIVERGENCE_THRESHOLD, steps, record_every)


def train_linearized(params0: net.Params, X: Array, y: Array, *, eta: float, steps: int,
                     activation: str = "relu", parameterization: str = "ntk",
                     record_every: int | None = None,
                     X_eval: Array | None = None) -> Trajectory:
    """Gradient descent on the Taylor model of the network of `net` around `params0`.

    Same arguments and result as `train.train_network`, so the two trajectories compare
    point by point; their gap shrinks as the width m grows. The same iteration as
    `gradient_descent(linearize(network_model(activation, parameterization), params0), ...)`,
    but f(w0) and the Jacobian's factors sigma(A0 X^T), b0 sigma'(A0 X^T) (MATH.md section 5)
    are computed once, before the loop, and no (n, P) Jacobian is formed.

    Args:
      params0: `Params(A=(m, d), b=(m,))`: the linearisation point and the start.
      X: inputs, shape (n, d).  y: targets, shape (n,).
      eta: learning rate > 0.  steps: number of updates >= 1.
      activation, parameterization: as in `net.apply`.
      record_every: store predictions every this many steps; None means every step.
      X_eval: points for the recorded predictions, shape (n_eval, d); None means X.
    Returns:
      a `Trajectory` of the linearised model.
    Introduced in notebooks/04.
    """
    params0, X, y, X_eval = _check_network_inputs(params0, X, y, X_eval, activation,
                                                  parameterization)
    eta, steps, record_every = _check_loop(eta, steps, record_every)
    return _trajectory(eta, steps, record_every, _descend_linearized(
        params0, X, y, X_eval, eta, activation=activation, parameterization=parameterization,
        steps=steps, record_every=record_every))
