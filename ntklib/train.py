"""Full-batch gradient descent and its trajectory (notebooks 03, 04, 06).

    L(w) = 1/2 * sum_j (f(w, x_j) - y_j)^2,        w_{k+1} = w_k - eta * grad L(w_k),
    grad L(w) = sum_j (f(w, x_j) - y_j) grad_w f(w, x_j)      (sum, not mean: no 1/n),

recorded against step k and gradient-flow time t = eta * k. Above eta = 2/lambda_max the
kernel picture predicts divergence, yet a wide network may still converge after a loss spike of
several orders of magnitude (the "catapult", notebooks 04 and 06); so divergence is
declared only when the loss is non-finite or exceeds `divergence_threshold * (L0 + 1)`.

Compilation: the loop is one `jax.jit` of a nested `lax.scan` whose static arguments are the
model `f`, `steps` and `record_every`. The learning rate, the weights and the data are traced,
so a slider that changes `eta` or the targets reruns the compiled loop without recompiling;
a new width m, number of points n or new `f` object compiles once more.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array, lax

from . import _validate as v
from . import net, ntk

Model = Callable[[Any, Array], Array]

# Generous: a catapult spike of several orders of magnitude must not count as divergence.
DIVERGENCE_THRESHOLD = 1e10


class Trajectory(NamedTuple):
    """What gradient descent did, step by step.

    Attributes:
      eta: the learning rate.
      loss: L(w_k) = 1/2 |f(w_k, X) - y|^2 for k = 0..steps, shape (steps + 1,).
      record_steps: the steps k at which predictions were stored, shape (R,): 0,
        record_every, 2 record_every, ... and always the last step.
      predictions: f(w_k, X_eval) at the recorded steps, shape (R, n_eval).
      weight_change: ||w_k - w0|| / ||w0|| over all parameters together, shape (steps + 1,)
        (the absolute ||w_k - w0|| when w0 = 0).
      params: the final weights (same pytree as w0).
      diverged: True if the loss became non-finite or exceeded the divergence threshold.
      diverged_step: the first such step k, else None. From there on loss, weight_change and
        predictions are NaN (a gap in plots) and `params` is the last finite iterate.
      lambda_max: the largest eigenvalue of the empirical NTK K(w_k) on the training inputs
        at the recorded steps, shape (R,) (NaN after a divergence), from
        `train_network(..., track_lambda_max=True)`; else None.
    """

    eta: float
    loss: Array
    record_steps: Array
    predictions: Array
    weight_change: Array
    params: Any
    diverged: bool
    diverged_step: int | None
    lambda_max: Array | None = None

    @property
    def steps(self) -> int:
        """Number of gradient-descent steps."""
        return int(self.loss.shape[0]) - 1

    @property
    def times(self) -> Array:
        """Gradient-flow time t = eta * k for k = 0..steps, shape (steps + 1,)."""
        return self.eta * jnp.arange(self.steps + 1, dtype=self.loss.dtype)

    @property
    def record_times(self) -> Array:
        """Gradient-flow time of each recorded prediction, shape (R,)."""
        return self.eta * self.record_steps.astype(self.loss.dtype)

    @classmethod
    def from_descent(cls, eta: float, steps: int, record_every: int,
                     out: tuple[Array, Array, Array, Any]) -> Trajectory:
        """The Trajectory of one run of `descent` (its returned tuple `out`), with the
        divergence step read off the NaNs of the loss."""
        loss, preds, wc, params = out
        gone = np.isnan(np.asarray(loss))
        diverged = bool(gone.any())
        return cls(eta, loss, jnp.asarray(_record_steps(steps, record_every)), preds, wc,
                   params, diverged, int(gone.argmax()) if diverged else None)

    def __repr__(self) -> str:
        head = (f"Trajectory(eta={self.eta:.4g}, steps={self.steps}, "
                f"t_final={self.eta * self.steps:.4g}, {self.predictions.shape[0]} recorded "
                f"predictions at {self.predictions.shape[1]} points")
        loss0 = float(self.loss[0])
        if not self.diverged:
            return (f"{head}: loss {loss0:.4g} -> {float(self.loss[-1]):.4g}, weight change "
                    f"{float(self.weight_change[-1]):.4g})")
        k = self.diverged_step
        before = (f"loss {loss0:.4g} -> {float(self.loss[k - 1]):.4g} at step {k - 1}, then"
                  if k else "loss at step 0 already")
        return (f"{head}: DIVERGED at step {k} (t={self.eta * k:.4g}): {before} non-finite or "
                f"above the divergence threshold; loss, weight change and predictions are NaN "
                f"from step {k} on, params are the last finite iterate)")


def _tree_norm(tree: Any) -> Array:
    return jnp.sqrt(sum(jnp.sum(leaf * leaf) for leaf in jax.tree_util.tree_leaves(tree)))


def _record_steps(steps: int, record_every: int) -> np.ndarray:
    return np.unique(np.append(np.arange(0, steps + 1, record_every), steps))


def descent(value_and_grad: Callable[[Any], tuple[Array, Any]], fe: Callable[[Any], Array],
             params0: Any, eta: Array, threshold: Array, steps: int,
             record_every: int) -> tuple[Array, Array, Array, Any]:
    """THE gradient-descent loop: every trainer of ntklib (`gradient_descent`, `train_network`,
    `train_linear`, `linearize.train_linearized`) runs this one loop; call it inside `jax.jit`.

    w_{k+1} = w_k - eta * grad L(w_k), with divergence detection: once L(w_k) is non-finite or
    above `threshold * (L(w0) + 1)`, the weights stop changing (the last finite iterate is
    kept) and loss, weight change and predictions are NaN from that step on.

    Args:
      value_and_grad: w -> (L(w), grad L(w)) on the training set (grad a pytree like w).
      fe: w -> what to record, e.g. f(w, X_eval), shape (n_eval,).
      params0: the start w0, a pytree of float arrays.
      eta, threshold: learning rate and divergence threshold (traced: no recompilation).
      steps, record_every: static; `fe` is recorded every `record_every` steps and at the end.
    Returns:
      (loss (steps+1,), recorded (R, n_eval), weight_change (steps+1,), final params), the
      tuple `Trajectory.from_descent` turns into a `Trajectory`.

    Outer scan over blocks of `record_every` steps (one record per block), inner scan over the
    steps; then the remaining steps and the last step.
    """
    limit = threshold * (value_and_grad(params0)[0] + 1)

    def sq_change(w: Any) -> Array:  # ||w - w0||^2; not finite when w is not
        pairs = zip(jax.tree_util.tree_leaves(w), jax.tree_util.tree_leaves(params0), strict=True)
        return sum(jnp.sum((a - a0) ** 2) for a, a0 in pairs)

    def ok(alive: Array, loss: Array) -> Array:
        return alive & jnp.isfinite(loss) & (loss <= limit)

    def step(carry: tuple[Any, Array, Array], _: None) -> tuple[Any, tuple[Array, Array]]:
        w, alive, change = carry
        loss, grad = value_and_grad(w)
        fine = ok(alive, loss)
        new = jax.tree.map(lambda a, g: a - eta * g, w, grad)
        new_change = sq_change(new)
        keep = fine & jnp.isfinite(new_change)  # a non-finite update is never written into w
        w_next = jax.tree.map(lambda a, b: jnp.where(keep, a, b), new, w)
        carry = (w_next, keep, jnp.where(keep, new_change, change))
        return carry, (jnp.where(fine, loss, jnp.nan), change)

    def block(carry: tuple[Any, Array, Array], _: None) -> tuple[Any, Any]:
        pred = fe(carry[0])
        carry, out = lax.scan(step, carry, None, length=record_every)
        return carry, (pred, out)

    n_blocks, rest = divmod(steps, record_every)
    carry = (params0, jnp.array(True), sq_change(params0))
    carry, (preds, (loss, wc)) = lax.scan(block, carry, None, length=n_blocks)
    preds, losses, wcs = [preds, fe(carry[0])[None]], [loss.reshape(-1)], [wc.reshape(-1)]
    if rest:
        carry, (loss, wc) = lax.scan(step, carry, None, length=rest)
        preds.append(fe(carry[0])[None])
        losses.append(loss)
        wcs.append(wc)
    w, alive, change = carry
    last = value_and_grad(w)[0]
    losses.append(jnp.where(ok(alive, last), last, jnp.nan)[None])
    wcs.append(change[None])
    loss = jnp.concatenate(losses)
    gone = jnp.isnan(loss)
    norm0 = _tree_norm(params0)
    wc = jnp.sqrt(jnp.concatenate(wcs)) / jnp.where(norm0 > 0, norm0, 1)
    wc = jnp.where(gone, jnp.nan, wc)
    preds = jnp.concatenate(preds)
    preds = jnp.where(gone[_record_steps(steps, record_every)][:, None], jnp.nan, preds)
    return loss, preds, wc, w


def _squared_loss(fx: Callable[[Any], Array], y: Array) -> Callable[[Any], tuple[Array, Any]]:
    """w -> (L(w), grad L(w)) by autodiff, L(w) = 1/2 |fx(w) - y|^2."""
    return jax.value_and_grad(lambda w: 0.5 * jnp.sum((fx(w) - y) ** 2))


@functools.partial(jax.jit, static_argnames=("f", "steps", "record_every"))
def _descend(f: Model, params0: Any, X: Array, y: Array, X_eval: Array, eta: Array,
             threshold: Array, steps: int, record_every: int) -> tuple[Array, Array, Array, Any]:
    for inputs, name in ((X, "X"), (X_eval, "X_eval")):  # shapes are known while tracing
        shape = jax.eval_shape(f, params0, inputs).shape
        if shape != (inputs.shape[0],):
            raise ValueError(f"f(params0, {name}) must have shape ({inputs.shape[0]},), one "
                             f"output per row of {name}; got shape {shape}")
    return descent(_squared_loss(lambda w: f(w, X), y), lambda w: f(w, X_eval), params0, eta,
                    threshold, steps, record_every)


def check_tree(params: Any, name: str) -> Any:
    """`params` as a pytree of finite float arrays, else a ValueError/TypeError naming `name`
    (the check of a trainer's initial weights)."""
    params = jax.tree.map(jnp.asarray, params)
    leaves = jax.tree_util.tree_leaves(params)
    if not leaves:
        raise ValueError(f"{name} must hold at least one array of weights, got {params!r}")
    for leaf in leaves:
        if not jnp.issubdtype(leaf.dtype, jnp.floating):
            raise TypeError(f"{name} must hold float arrays, got a leaf of dtype {leaf.dtype}")
        if not bool(jnp.all(jnp.isfinite(leaf))):
            raise ValueError(f"{name} must be finite, got a leaf with NaN or infinite entries")
    return params


def check_loop(eta: Any, steps: Any, record_every: Any) -> tuple[float, int, int]:
    """Validated (eta, steps, record_every) of a trainer: eta > 0 finite, steps >= 1;
    record_every None means every step, and is capped at steps."""
    eta = v.positive_float(eta, "eta")
    steps = v.positive_int(steps, "steps")
    record_every = 1 if record_every is None else v.positive_int(record_every, "record_every")
    return eta, steps, min(record_every, steps)


def gradient_descent(f: Model, params0: Any, X: Array, y: Array, *, eta: float, steps: int,
                     record_every: int | None = None, X_eval: Array | None = None,
                     divergence_threshold: float = DIVERGENCE_THRESHOLD) -> Trajectory:
    """Full-batch gradient descent w_{k+1} = w_k - eta * grad L(w_k), L = 1/2 sum (f - y)^2.

    Compiled once per (f, shapes, steps, record_every): pass the same `f` object again (not a
    new lambda) and a new `eta` or new data values reuse the compiled loop.

    Args:
      f: the model, f(params, X) -> shape (n,), written with jax.numpy.
      params0: initial weights, any pytree of float arrays (e.g. `net.Params`).
      X: inputs, shape (n, d).  y: targets, shape (n,).
      eta: learning rate > 0.  steps: number of updates >= 1.
      record_every: store f(w_k, X_eval) every this many steps (and at the last step);
        None means every step.
      X_eval: points for the recorded predictions, shape (n_eval, d); None means X.
      divergence_threshold: declare divergence when L(w_k) > divergence_threshold * (L0 + 1)
        or is non-finite; generous by default so that a catapult spike is not cut off.
    Returns:
      a `Trajectory`; see its docstring for shapes.
    Introduced in notebooks/03; the network and linear versions are `train_network`,
    `train_linear`, `ntklib.linearize.train_linearized`.
    """
    if not callable(f):
        raise TypeError(f"f must be a function f(params, X) -> (n,), got {type(f).__name__}")
    params0 = check_tree(params0, "params0")
    X = v.matrix(X, "X")
    y = v.vector(y, "y", size=X.shape[0])
    X_eval = X if X_eval is None else v.matrix(X_eval, "X_eval", cols=X.shape[1])
    eta, steps, record_every = check_loop(eta, steps, record_every)
    threshold = v.positive_float(divergence_threshold, "divergence_threshold")
    return Trajectory.from_descent(eta, steps, record_every, _descend(
        f, params0, X, y, X_eval, eta, threshold, steps=steps, record_every=record_every))


@functools.cache
def network_model(activation: str = "relu", parameterization: str = "ntk") -> Model:
    """`net.apply` with the activation and parameterization fixed, as a model f(params, X).

    Cached: the same arguments give the same function object, so `gradient_descent`,
    `linearize.linearize` and jit reuse their compilation.

    Returns:
      f(params, X) -> shape (n,), with params `Params(A=(m, d), b=(m,))` and X shape (n, d).
    """
    net.activation(activation)
    v.choice(parameterization, "parameterization", net.PARAMETERIZATIONS)
    return functools.partial(net.apply, activation=activation,
                             parameterization=parameterization)


def check_network_inputs(params0: Any, X: Any, y: Any, X_eval: Any, activation: str,
                          parameterization: str) -> tuple[net.Params, Array, Array, Array]:
    """Validated (params0, X, y, X_eval) of a trainer of the network of `net` (activation and
    parameterization checked too), the data cast to the dtype of the weights; X_eval None
    means X."""
    net.activation(activation)
    v.choice(parameterization, "parameterization", net.PARAMETERIZATIONS)
    params0 = net.check_params(params0, "params0")
    dtype = jnp.result_type(params0.A, params0.b)
    X = v.matrix(X, "X", cols=params0.d).astype(dtype)
    y = v.vector(y, "y", size=X.shape[0]).astype(dtype)
    X_eval = X if X_eval is None else v.matrix(X_eval, "X_eval", cols=params0.d).astype(dtype)
    return params0, X, y, X_eval


def pre_activations(A: Array, X: Array) -> Array:
    """A X^T, shape (m, n): entry (i, j) is a_i . x_j.

    This (m, n) layout and, for small d, a sum of d outer products instead of a (m, d) @ (d, n)
    product make a gradient step about twice as fast on a CPU as autodiff of `net.apply`.
    """
    d = X.shape[1]
    return sum(A[:, k, None] * X[:, k] for k in range(d)) if d <= 4 else A @ X.T


def pad_neurons(params: net.Params, width: int | None) -> net.Params:
    """`params` with zero neurons (a_i = 0, b_i = 0) appended up to `width` (None: as is).

    A zero neuron outputs b_i sigma(0) = 0 and, as sigma(0) = 0 for every activation of `net`,
    gets zero gradients, so it stays zero under gradient descent: a trainer run on the padded
    weights with the scale of the true width (`pad_to=` of `train_network`,
    `linearize.train_linearized`) follows the same iterates as on `params`, and every width up
    to `width` reuses one compiled program (a width slider needs no compilation per width).
    """
    if width is None:
        return params
    width = v.positive_int(width, "pad_to")
    if width < params.m:
        raise ValueError(f"pad_to must be at least the width m = {params.m} of params0, got "
                         f"{width}")
    # on the host, moved by device_put: jnp.pad / jnp.asarray compile a program per shape
    extra = width - params.m
    A, b = np.asarray(params.A), np.asarray(params.b)
    return net.Params(jax.device_put(np.pad(A, ((0, extra), (0, 0)))),
                      jax.device_put(np.pad(b, (0, extra))))


def unpad_neurons(params: net.Params, m: int) -> net.Params:
    """The first m neurons of `params` (undoes `pad_neurons`), sliced on the host: no
    compilation per width."""
    if params.m == m:
        return params
    return net.Params(jax.device_put(np.asarray(params.A)[:m]),
                      jax.device_put(np.asarray(params.b)[:m]))


@functools.partial(jax.jit, static_argnames=("activation", "parameterization", "steps",
                                             "record_every", "track_lambda_max", "centred"))
def _descend_network(params0: net.Params, X: Array, y: Array, X_eval: Array, eta: Array,
                     scale: Array, activation: str, parameterization: str, steps: int,
                     record_every: int, track_lambda_max: bool = False,
                     centred: bool = False) -> tuple[Array, Array, Array, Any]:
    # scale is traced (the output scale of the true width): padded weights reuse the program
    act = net.activation(activation)

    def output(w: net.Params, inputs: Array) -> Array:
        return scale * (w.b @ act.fn(pre_activations(w.A, inputs)))

    if centred:  # f - f0 on the targets y: the residual of f on y + f0
        y = y + output(params0, X)
        f0_eval = output(params0, X_eval)

    def value_and_grad(w: net.Params) -> tuple[Array, net.Params]:
        # notebook 05: grad_{a_i} f(x) = scale b_i sigma'(a_i . x) x,
        # grad_{b_i} f(x) = scale sigma(a_i . x); grad L = sum_j U_j grad f(x_j).
        Z = pre_activations(w.A, X)
        S, dS = act.fn(Z), act.deriv(Z)
        U = scale * (w.b @ S) - y
        return 0.5 * (U @ U), net.Params(scale * (w.b[:, None] * dS * U) @ X, scale * (S @ U))

    def predict(w: net.Params) -> Array:
        f = output(w, X_eval) - f0_eval if centred else output(w, X_eval)
        if not track_lambda_max:
            return f
        K = ntk.empirical_ntk(w, X, activation=activation, parameterization=parameterization)
        K = K * (scale / net.output_scale(w.m, parameterization)) ** 2  # true width if padded
        return jnp.append(f, jnp.linalg.eigvalsh(K)[-1])  # split off by train_network

    return descent(value_and_grad, predict, params0, eta, DIVERGENCE_THRESHOLD, steps,
                    record_every)


def train_network(params0: net.Params, X: Array, y: Array, *, eta: float, steps: int,
                  activation: str = "relu", parameterization: str = "ntk",
                  record_every: int | None = None, X_eval: Array | None = None,
                  track_lambda_max: bool = False, centred: bool = False,
                  pad_to: int | None = None) -> Trajectory:
    """Gradient descent on the network f(w, x) = (1/sqrt(m)) sum_i b_i sigma(a_i . x) of `net`.

    The same iteration as `gradient_descent(network_model(activation, parameterization), ...)`,
    with the gradient written in closed form for speed (notebooks/05):
    grad_{a_i} f(x) = s b_i sigma'(a_i . x) x,  grad_{b_i} f(x) = s sigma(a_i . x),  s = 1/sqrt(m).
    It runs in the dtype of `params0` (float32 weights: float32 throughout).

    Args:
      params0: `Params(A=(m, d), b=(m,))`, e.g. from `net.init`.
      X: inputs, shape (n, d) (embed 1-D data with `net.embed`).  y: targets, shape (n,).
      eta: learning rate > 0.  steps: number of updates >= 1.
      activation, parameterization: as in `net.apply`.
      record_every: store predictions every this many steps; None means every step.
      X_eval: points for the recorded predictions, shape (n_eval, d); None means X.
      track_lambda_max: also record the largest eigenvalue of the empirical NTK on X at the
        recorded steps (one n x n eigenvalue problem each): `Trajectory.lambda_max`.
      centred: train the centred network `f(w, x) - f(w0, x)` instead: the same gradients,
        the same NTK, but output 0 at initialisation (to round-off), so that as m -> inf it
        follows the kernel prediction started from f0 = 0. Done by training f on the targets
        `y + f(w0, X)` (the residual is the same) and subtracting `f(w0, X_eval)` from the
        recorded predictions.
      pad_to: run on the weights padded with zero neurons up to this width (`pad_neurons`):
        the same iterates, and one compiled program for every width up to pad_to (the width
        sliders of the notebooks); None runs at the width of params0.
    Returns:
      a `Trajectory` whose `params` are `Params` of the width of params0.
    Introduced in notebooks/03; lazy training shows in `weight_change` ~ 1/sqrt(m); notebooks/07
    tracks `lambda_max` through a catapult.
    """
    params0, X, y, X_eval = check_network_inputs(params0, X, y, X_eval, activation,
                                                  parameterization)
    eta, steps, record_every = check_loop(eta, steps, record_every)
    for flag, name in ((track_lambda_max, "track_lambda_max"), (centred, "centred")):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be True or False, got {flag!r}")
    m = params0.m
    scale = jnp.asarray(net.output_scale(m, parameterization), params0.A.dtype)
    loss, preds, wc, params = _descend_network(
        pad_neurons(params0, pad_to), X, y, X_eval, eta, scale, activation=activation,
        parameterization=parameterization, steps=steps, record_every=record_every,
        track_lambda_max=track_lambda_max, centred=centred)
    params = unpad_neurons(params, m)
    if not track_lambda_max:
        return Trajectory.from_descent(eta, steps, record_every, (loss, preds, wc, params))
    trajectory = Trajectory.from_descent(eta, steps, record_every,
                                         (loss, preds[:, :-1], wc, params))
    return trajectory._replace(lambda_max=preds[:, -1])


def _linear_model(w: Array, Phi: Array) -> Array:
    return Phi @ w


def train_linear(Phi: Array, y: Array, w0: Array | None = None, *, eta: float, steps: int,
                 record_every: int | None = None, Phi_eval: Array | None = None) -> Trajectory:
    """Gradient descent on a model linear in its weights, f(w) = Phi w (notebook 01).

    grad L = sum_j (f_j - y_j) phi(x_j) = Phi^T U, so U_{k+1} = (I - eta Phi Phi^T) U_k:
    it converges for eta < 2 / lambda_max(Phi Phi^T).

    Args:
      Phi: features phi(x_j) as rows, shape (n, D).  y: targets, shape (n,).
      w0: initial weights, shape (D,); None means zeros.
      eta: learning rate > 0.  steps: number of updates >= 1.
      record_every: store predictions every this many steps; None means every step.
      Phi_eval: features of the prediction points, shape (n_eval, D); None means Phi.
    Returns:
      a `Trajectory` (its weight_change is the absolute ||w_k|| when w0 = 0).
    Introduced in notebooks/01 (feature-space regression).
    """
    Phi = v.matrix(Phi, "Phi")
    y = v.vector(y, "y", size=Phi.shape[0])
    D = Phi.shape[1]
    w0 = jnp.zeros(D, Phi.dtype) if w0 is None else v.vector(w0, "w0")
    if w0.shape != (D,):
        raise ValueError(f"w0 must have shape ({D},), one weight per column of Phi, got shape "
                         f"{tuple(w0.shape)}")
    Phi_eval = Phi if Phi_eval is None else v.matrix(Phi_eval, "Phi_eval", cols=D)
    eta, steps, record_every = check_loop(eta, steps, record_every)
    return Trajectory.from_descent(eta, steps, record_every, _descend(
        _linear_model, w0, Phi, y, Phi_eval, eta, DIVERGENCE_THRESHOLD, steps=steps,
        record_every=record_every))



# --- notebooks 03-04: how much the "features" grad_w f move during training ---

def feature_change(params0: net.Params, params: net.Params, X: Array, *,
                   activation: str = "relu", parameterization: str = "ntk") -> float:
    """Relative change of the network's features, |J(w) - J(w0)|_F / |J(w0)|_F on X.

    J(w) = d f(w, X) / dw (shape (n, P), `net.jacobian`): its rows are the "features"
    phi(x_j) = grad_w f(w, x_j). For a kernel model (notebook 01) they are fixed and this is
    0; for the network they move with w(t), less and less as the width grows (lazy training).

    Args:
      params0: the weights at initialisation, `Params(A=(m, d), b=(m,))`.
      params: the weights after training, same shapes.
      X: inputs, shape (n, d).
    Returns:
      the relative Frobenius change, a float >= 0.
    Introduced in notebooks/03.
    """
    params0, params = net.check_params_pair(params0, params)
    kw = dict(activation=activation, parameterization=parameterization)
    J0 = net.jacobian(params0, X, **kw)
    return float(jnp.linalg.norm(net.jacobian(params, X, **kw) - J0) / jnp.linalg.norm(J0))


# --- notebook 08: the laziness scale alpha (Chizat, Oyallon & Bach 2019) ---

def train_scaled(params0: net.Params, X: Array, y: Array, *, alpha: float, eta: float,
                 steps: int, activation: str = "relu", record_every: int | None = None,
                 X_eval: Array | None = None, track_lambda_max: bool = False,
                 pad_to: int | None = None) -> Trajectory:
    """Gradient descent on the alpha-scaled network h_alpha(w, x) = alpha (f(w, x) - f(w0, x)).

    The loss is divided by alpha^2 to match (notebook 08):
        L_alpha(w) = 1/(2 alpha^2) sum_j (h_alpha(w, x_j) - y_j)^2
                   = 1/2 sum_j ((f(w, x_j) - f(w0, x_j)) - y_j / alpha)^2,
    so alpha-scaled training IS the centred training of `train_network(..., centred=True)` on
    the targets y / alpha, with the predictions multiplied by alpha: this function does exactly
    that (the same descent loop, no copy). Under gradient flow dh/dt = -K(w(t)) (h - y) with
    the NTK K of f: every alpha starts the same kernel dynamics, and the bound
    eta < 2 / lambda_max(K) is the same; but changing h by O(1) takes ||w - w0|| ~ 1/alpha.
    alpha >> 1/sqrt(m): lazy (the kernel regime); alpha << 1/sqrt(m): rich (features move);
    alpha = 1/sqrt(m): the mean-field network.

    Args:
      params0: `Params(A=(m, d), b=(m,))`, the initialisation w0 (h_alpha(w0, .) = 0).
      X: inputs, shape (n, d).  y: targets, shape (n,).
      alpha: the laziness scale, a positive finite number.
      eta: learning rate > 0 (stable while eta < 2 / lambda_max(K(w_k)); check it with
        track_lambda_max, the kernel grows in the rich regime).  steps: updates >= 1.
      activation, record_every, X_eval, track_lambda_max, pad_to: as in `train_network`.
    Returns:
      a `Trajectory` whose `loss` is the loss of h in function space,
      1/2 sum_j (h_alpha(w_k, x_j) - y_j)^2 = alpha^2 L_alpha(w_k) (the same start y^T y / 2
      for every alpha), whose `predictions` are h_alpha(w_k, X_eval) and whose
      `weight_change` is ||w_k - w0|| / ||w0||; `lambda_max` is that of K(w_k), the NTK of f
      (and of the dynamics of h).
    Introduced in notebooks/08_beyond_the_kernel.ipynb.
    """
    alpha = v.positive_float(alpha, "alpha")
    y = v.vector(y, "y")
    trajectory = train_network(params0, X, y / alpha, eta=eta, steps=steps,
                               activation=activation, record_every=record_every,
                               X_eval=X_eval, track_lambda_max=track_lambda_max,
                               centred=True, pad_to=pad_to)
    return trajectory._replace(loss=alpha**2 * trajectory.loss,
                               predictions=alpha * trajectory.predictions)
