"""Training dynamics of a kernel model in closed form (notebooks/06_gradient_flow.ipynb).

In the lazy regime the residual `U = f(w, X) - y` on the training set obeys

    dU/dt = -K U,        U(t) = exp(-K t) U(0) = V exp(-Lambda t) V^T U(0),

with `K = V Lambda V^T` the (fixed) NTK Gram matrix of the training inputs. Discrete gradient
descent with learning rate `eta` gives `U_k = (I - eta K)^k U_0`, and predictions at test
points `X*` follow `f_t(X*) = f_0(X*) - K(X*, X) K^-1 (I - exp(-K t)) (f_0(X) - y)`.

Convention: the loss is `L = 1/2 * sum_j (f(w, x_j) - y_j)^2` (a sum, no 1/n), so `t` is
plain gradient-flow time `t = eta * k` and no factor appears in `dU/dt = -K U`.
`neural_tangents.predict.gradient_descent_mse(K, y, learning_rate=lr)` uses the mean loss
`1/2 * mean((f - y)^2)` and measures time in steps: its time `t` is our time `lr * t / n`
(equivalently, its predictions equal ours for the kernel `K / n` at time `lr * t`).

One kernel is decomposed once: `kernel_dynamics(K, U0, ...)` does the eigendecomposition
(`O(n^3)`) and returns a `KernelDynamics` that evaluates the flow, gradient descent, their
losses and test predictions with cheap products in the eigenbasis (fast enough for a slider).
`gradient_flow`, `gd_residual`, `flow_predictor`, `gd_predictions` are one-line conveniences
over it for one-off calls; code that needs more than one of them on the same K builds one
`KernelDynamics`. All functions accept any symmetric positive semi-definite Gram matrix (an
empirical or infinite-width NTK, or `Phi Phi^T` of a linear model); negative eigenvalues
from round-off are set to 0.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from . import _validate as v
from . import net, ntk, train


@jax.jit
def _eigh_descending(K: Array) -> tuple[Array, Array]:
    lam, V = jnp.linalg.eigh(K)
    return lam[::-1], V[:, ::-1]


def _decompose(K: Array, name: str) -> tuple[Array, Array]:
    """Eigenpairs of a validated symmetric K, eigenvalues descending and clipped at 0.

    Refuses K whose most negative eigenvalue is more than sqrt(eps) * max|lambda|: that is not
    round-off of a positive semi-definite matrix.
    """
    lam, V = _eigh_descending(K)
    if not v.is_traced(lam):
        _check_psd(*jax.device_get((lam[-1], jnp.max(jnp.abs(lam)))), lam.dtype, name)
    return jnp.maximum(lam, 0), V


def _check_psd(lam_min: Any, scale: Any, dtype: Any, name: str) -> None:
    lam_min, scale = float(lam_min), float(scale)
    tol = math.sqrt(float(jnp.finfo(dtype).eps))
    if lam_min < -tol * scale:
        raise ValueError(f"{name} must be positive semi-definite, got smallest eigenvalue "
                         f"{lam_min:.4g} (largest |eigenvalue| {scale:.4g})")


def _kernel_and_residual(K: Any, U0: Any, K_name: str = "K",
                         U0_name: str = "U0") -> tuple[Array, Array]:
    K = v.square(K, K_name, symmetric=True)
    U0 = v.vector(U0, U0_name, size=K.shape[0])
    dtype = jnp.result_type(K, U0)
    return K.astype(dtype), U0.astype(dtype)


def spectrum(K: Array) -> Array:
    """Eigenvalues of a symmetric positive semi-definite kernel matrix, largest first.

    Args:
      K: Gram matrix, shape (n, n).
    Returns:
      eigenvalues `lambda_1 >= ... >= lambda_n >= 0`, shape (n,) (round-off negatives set to 0).
    """
    K = v.square(K, "K", symmetric=True)
    return _decompose(K, "K")[0]


def max_stable_learning_rate(K: Array) -> float:
    """The stability bound `2 / lambda_max` of gradient descent with kernel `K`.

    `U_k = (I - eta K)^k U_0` shrinks along every eigenvector only if `|1 - eta lambda_i| < 1`,
    i.e. `eta < 2 / lambda_max`. Any Gram matrix works: for a linear model `Phi Phi^T` has the
    same nonzero spectrum as `Phi^T Phi`, so this is also the bound for gradient descent on w.

    Args:
      K: Gram matrix, shape (n, n).
    Returns:
      `2 / lambda_max` (`inf` for the zero matrix).
    """
    lam_max = float(spectrum(K)[0])
    return 2.0 / lam_max if lam_max > 0 else math.inf


# ------------------------------------------ one decomposition per kernel: KernelDynamics (nb 06)

@partial(jax.jit, static_argnames="with_test")
def _dynamics_parts(K: Array, U0: Array, Ks: Array | None,
                    with_test: bool) -> tuple[Array, Array, Array, Array | None, Array]:
    # One compiled call (eigh and the products): a new kernel costs one dispatch and one
    # device-to-host transfer (the PSD check), not a dozen.
    lam, V = _eigh_descending(K)
    KsV = Ks @ V if with_test else None
    extremes = jnp.stack([lam[-1], jnp.max(jnp.abs(lam)), jnp.maximum(lam[0], 0)])
    return jnp.maximum(lam, 0), V, V.T @ U0, KsV, extremes


@jax.jit
def _flow_modes(lam: Array, coeffs: Array, t: Array) -> Array:
    return coeffs * jnp.exp(-t[..., None] * lam)


@jax.jit
def _flow(lam: Array, V: Array, coeffs: Array, t: Array) -> Array:
    return _flow_modes(lam, coeffs, t) @ V.T


@jax.jit
def _flow_loss(lam: Array, coeffs: Array, t: Array) -> Array:
    # 1/2 |U(t)|^2 = 1/2 sum_i c_i^2 exp(-2 lambda_i t): V is orthogonal
    return 0.5 * jnp.sum(_flow_modes(lam, coeffs, t) ** 2, axis=-1)


def _gd_modes(lam: Array, coeffs: Array, eta: Array, steps: int) -> Array:
    k = jnp.arange(steps + 1)[:, None]
    return jnp.power(1 - eta * lam, k) * coeffs


@partial(jax.jit, static_argnames="steps")
def _gd(lam: Array, V: Array, coeffs: Array, eta: Array, steps: int) -> Array:
    return _gd_modes(lam, coeffs, eta, steps) @ V.T


@partial(jax.jit, static_argnames="steps")
def _gd_loss(lam: Array, coeffs: Array, eta: Array, steps: int) -> Array:
    return 0.5 * jnp.sum(_gd_modes(lam, coeffs, eta, steps) ** 2, axis=-1)


@jax.jit
def _predict(lam: Array, cutoff: Array, KsV: Array, coeffs: Array, f0_test: Array,
             t: Array) -> Array:
    keep = lam > cutoff
    safe = jnp.where(keep, lam, 1)
    # K^-1 (I - exp(-K t)) in the eigenbasis: (1 - exp(-lambda t)) / lambda, via expm1 so that
    # small lambda t loses no digits; 1 / lambda at t = inf.
    gain = jnp.where(keep, -jnp.expm1(-t[..., None] * safe) / safe, 0)
    # KsV @ x, not x @ KsV.T: the same product, but up to 5x faster on some jax versions
    return f0_test - (KsV @ (gain * coeffs).T).T


@partial(jax.jit, static_argnames="steps")
def _gd_predict(lam: Array, cutoff: Array, KsV: Array, coeffs: Array, f0_test: Array,
                eta: Array, steps: int) -> Array:
    keep = lam > cutoff
    safe = jnp.where(keep, lam, 1)
    # sum_{j<k} eta (1 - eta lambda)^j = (1 - (1 - eta lambda)^k) / lambda
    k = jnp.arange(steps + 1)[:, None]
    gain = jnp.where(keep, (1 - jnp.power(1 - eta * safe, k)) / safe, 0)
    return f0_test - (gain * coeffs) @ KsV.T


class KernelDynamics(NamedTuple):
    """Training under one fixed kernel K, from ONE eigendecomposition `K = V Lambda V^T`.

    Built by `kernel_dynamics(K, U0, K_test_train=..., f0_test=...)`. Every formula of
    gradient flow is a cheap product in the eigenbasis:

    - `dyn(t)`: gradient flow `U(t) = V exp(-Lambda t) V^T U0` (`modes(t)`: `V^T U(t)`;
      `loss(t)`: `1/2 |U(t)|^2`; `time_to(fraction)`: when the loss falls to a fraction);
    - `gd(eta, steps)`: gradient descent `U_k = (I - eta K)^k U0`, k = 0..steps
      (`gd_loss`: its loss);
    - `predict(t)`, `gd_predict(eta, steps)`: predictions at test points (only when built
      with `K_test_train` and `f0_test`).

    Eigenvalues at or below `cutoff = roundoff(n, dtype) * lambda_max` count as 0 in the
    predictions and in `time_to` (a duplicated training point gives one).
    """

    eigvals: Array
    """Eigenvalues of K, largest first, clipped at 0, shape (n,)."""
    eigvecs: Array
    """Eigenvectors of K as columns, in the same order, shape (n, n)."""
    coeffs: Array
    """The initial residual in the eigenbasis, `V^T U0`, shape (n,)."""
    cutoff: float
    """Eigenvalues at or below this (`n * eps * lambda_max`) count as 0."""
    KsV: Array | None = None
    """`K(X*, X) V`, shape (n*, n); None without test points."""
    f0_test: Array | None = None
    """Initial predictions `f0(X*)`, shape (n*,); None without test points."""

    @property
    def lambda_max(self) -> float:
        """The largest eigenvalue of K."""
        return float(self.eigvals[0])

    @property
    def max_stable_learning_rate(self) -> float:
        """`2 / lambda_max`: gradient descent converges only below it (`inf` for K = 0)."""
        lam = self.lambda_max
        return 2.0 / lam if lam > 0 else math.inf

    def _times(self, t: Any, allow_inf: bool = False) -> Array:
        return v.times(t, "t", allow_inf=allow_inf).astype(self.eigvals.dtype)

    def __call__(self, t: Any) -> Array:
        """Residual `U(t)`: shape (n,) for a number `t >= 0`, (T, n) for T times."""
        return _flow(self.eigvals, self.eigvecs, self.coeffs, self._times(t))

    def modes(self, t: Any) -> Array:
        """`V^T U(t)`: component i decays like `exp(-lambda_i t)`; shape (n,) or (T, n)."""
        return _flow_modes(self.eigvals, self.coeffs, self._times(t))

    def loss(self, t: Any) -> Array:
        """`1/2 |U(t)|^2` (computed in the eigenbasis): shape () or (T,)."""
        return _flow_loss(self.eigvals, self.coeffs, self._times(t))

    def time_to(self, fraction: float) -> float:
        """The time t at which the loss `1/2 |U(t)|^2` has fallen to `fraction` of `1/2 |U0|^2`.

        The loss `1/2 sum_i c_i^2 exp(-2 lambda_i t)` falls monotonically, so the time is
        found by bisection (to 1e-10 relative); `inf` when the part of U0 along eigenvalue 0
        alone is above the fraction. `fraction` in (0, 1).
        """
        fraction = v.positive_float(fraction, "fraction")
        if fraction >= 1:
            raise ValueError(f"fraction must be below 1, got {fraction!r}")
        lam, c2 = (np.asarray(x, dtype=np.float64) for x in (self.eigvals, self.coeffs**2))
        goal = fraction * c2.sum()
        lam = np.where(lam > self.cutoff, lam, 0)
        if c2[lam <= 0].sum() >= goal:  # round-off zeros count as 0, as in `predict`
            return math.inf

        def left(t: float) -> float:
            return float(np.sum(c2 * np.exp(-2 * lam * t)))

        lo, hi = 0.0, 1.0 / lam[0]
        while left(hi) > goal:
            lo, hi = hi, 2 * hi
        while hi - lo > 1e-10 * hi:
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if left(mid) > goal else (lo, mid)
        return hi

    def _gd_args(self, eta: Any, steps: Any) -> tuple[Array, int]:
        eta = v.positive_float(eta, "eta")
        return jnp.asarray(eta, self.eigvals.dtype), v.positive_int(steps, "steps")

    def gd(self, eta: float, steps: int) -> Array:
        """Gradient descent on the fixed kernel: `U_k = (I - eta K)^k U0` for k = 0..steps.

        Above `eta = 2 / lambda_max` the residual grows like `|1 - eta lambda_max|^k`, returned
        as it is (that divergence is the lesson); past the float range it overflows to inf,
        and to NaN where infinite terms of opposite sign meet.
        Returns shape (steps + 1, n); row k is at flow time `eta * k`.
        """
        eta, steps = self._gd_args(eta, steps)
        return _gd(self.eigvals, self.eigvecs, self.coeffs, eta, steps)

    def gd_loss(self, eta: float, steps: int) -> Array:
        """`1/2 |U_k|^2` of `gd(eta, steps)`, computed in the eigenbasis; shape (steps + 1,)."""
        eta, steps = self._gd_args(eta, steps)
        return _gd_loss(self.eigvals, self.coeffs, eta, steps)

    def _test_parts(self, method: str) -> tuple[Array, Array]:
        if self.KsV is None or self.f0_test is None:
            raise ValueError(f"{method} needs test points: build with kernel_dynamics(K, U0, "
                             f"K_test_train=K(X*, X), f0_test=f0(X*))")
        return self.KsV, self.f0_test

    def predict(self, t: Any) -> Array:
        """Test predictions `f_t(X*) = f0(X*) - K(X*, X) K^-1 (I - exp(-K t)) U0`.

        `K^-1 (I - exp(-K t)) = V diag((1 - exp(-lambda t)) / lambda) V^T` needs no inverse;
        `t = inf` is allowed and gives kernel regression with the NTK started from f0 (the
        pseudo-inverse one when K is singular). Shape (n*,) for a number, (T, n*) for T times.
        """
        KsV, f0_test = self._test_parts("predict")
        return _predict(self.eigvals, self.cutoff, KsV, self.coeffs, f0_test,
                        self._times(t, allow_inf=True))

    def gd_predict(self, eta: float, steps: int) -> Array:
        """Test predictions of gradient descent on the fixed kernel (the linearized model),

            f_k(X*) = f0(X*) - K(X*, X) K^-1 (I - (I - eta K)^k) U0,   k = 0..steps,

        the discrete twin of `predict`. Shape (steps + 1, n*); row k is at time `eta * k`.
        """
        KsV, f0_test = self._test_parts("gd_predict")
        eta, steps = self._gd_args(eta, steps)
        return _gd_predict(self.eigvals, self.cutoff, KsV, self.coeffs, f0_test, eta, steps)

    def __repr__(self) -> str:
        lam = self.eigvals
        test = "" if self.KsV is None else f", n_test={self.KsV.shape[0]}"
        zeros = int(np.sum(np.asarray(lam) <= self.cutoff))
        return (f"KernelDynamics(n={lam.shape[0]}{test}, dtype={lam.dtype}, "
                f"lambda_max={self.lambda_max:.4g}, lambda_min={float(lam[-1]):.4g}, "
                f"zero eigenvalues={zeros}, |U0|={float(jnp.linalg.norm(self.coeffs)):.4g}): "
                f"U(t) = V exp(-Lambda t) V^T U0, U_k = (I - eta K)^k U0"
                + ("" if self.KsV is None else
                   ", f_t(X*) = f0(X*) - K(X*, X) K^-1 (I - exp(-K t)) U0"))


def kernel_dynamics(K: Array, U0: Array, *, K_test_train: Array | None = None,
                    f0_test: Array | None = None) -> KernelDynamics:
    """Eigendecompose the kernel once; the returned object evaluates every formula cheaply.

    Args:
      K: Gram matrix of the training inputs, shape (n, n), symmetric positive semi-definite
        (round-off negatives are set to 0; a more negative eigenvalue is refused).
      U0: initial residual `f(w0, X) - y`, shape (n,).
      K_test_train: `K(X*, X)`, shape (n*, n), for predictions at test points (optional).
      f0_test: `f(w0, X*)`, shape (n*,); given exactly when `K_test_train` is.
    Returns:
      `KernelDynamics`, in the dtype of the arguments (float32 stays float32).
    Introduced in notebooks/06.
    """
    K, U0 = _kernel_and_residual(K, U0)
    n = K.shape[0]
    if (K_test_train is None) != (f0_test is None):
        raise ValueError("K_test_train and f0_test must be given together (test predictions "
                         f"need both), got K_test_train={v.describe(K_test_train)} and "
                         f"f0_test={v.describe(f0_test)}")
    Ks = None
    dtype = K.dtype
    if K_test_train is not None:
        Ks = v.matrix(K_test_train, "K_test_train")
        if Ks.shape[1] != n:
            raise ValueError(f"K_test_train must have shape (n*, {n}) to match K, got shape "
                             f"{tuple(Ks.shape)}")
        f0_test = v.vector(f0_test, "f0_test", size=Ks.shape[0])
        dtype = jnp.result_type(K, Ks, f0_test)
        Ks, f0_test = Ks.astype(dtype), f0_test.astype(dtype)
    lam, V, coeffs, KsV, extremes = _dynamics_parts(K.astype(dtype), U0.astype(dtype), Ks,
                                                    with_test=Ks is not None)
    if v.is_traced(lam):
        cutoff = v.roundoff(n, dtype) * lam[0]
    else:
        lam_min, scale, lam_max = (float(x) for x in jax.device_get(extremes))
        _check_psd(lam_min, scale, dtype, "K")
        cutoff = v.roundoff(n, dtype) * lam_max
    return KernelDynamics(lam, V, coeffs, cutoff, KsV, f0_test)


# Conveniences for one-off calls: each is one line over `kernel_dynamics`.

def gradient_flow(K: Array, U0: Array) -> KernelDynamics:
    """Gradient flow `U(t) = exp(-K t) U0` under a fixed kernel: `kernel_dynamics(K, U0)`,
    called with `t` (number -> (n,), 1-D array of T times -> (T, n))."""
    return kernel_dynamics(K, U0)


def gd_residual(K: Array, U0: Array, *, eta: float, steps: int) -> Array:
    """Gradient descent on a fixed kernel, `U_k = (I - eta K)^k U0` for k = 0..steps, shape
    (steps + 1, n): `kernel_dynamics(K, U0).gd(eta, steps)`."""
    return kernel_dynamics(K, U0).gd(eta, steps)


def _named_problem(K_train: Any, K_test_train: Any, f0_train: Any, f0_test: Any,
                   y: Any) -> KernelDynamics:
    # the argument names of the test-point conveniences, validated before kernel_dynamics
    K, f0_train = _kernel_and_residual(K_train, f0_train, "K_train", "f0_train")
    y = v.vector(y, "y", size=K.shape[0])
    try:
        return kernel_dynamics(K, f0_train - y.astype(f0_train.dtype),
                               K_test_train=K_test_train, f0_test=f0_test)
    except ValueError as exc:  # K is K_train here
        raise ValueError(str(exc).replace("K must", "K_train must")) from None


def flow_predictor(K_train: Array, K_test_train: Array, f0_train: Array, f0_test: Array,
                   y: Array) -> Any:
    """Test predictions during gradient flow, `t -> f_t(X*)`: the `predict` method of
    `kernel_dynamics(K_train, f0_train - y, K_test_train=..., f0_test=...)` (number ->
    (n*,), T times -> (T, n*); `t = inf` allowed)."""
    return _named_problem(K_train, K_test_train, f0_train, f0_test, y).predict


def gd_predictions(K_train: Array, K_test_train: Array, f0_train: Array, f0_test: Array,
                   y: Array, *, eta: float, steps: int) -> Array:
    """Test predictions of gradient descent on a fixed kernel, shape (steps + 1, n*): the
    `gd_predict(eta, steps)` of `kernel_dynamics(K_train, f0_train - y, ...)`."""
    return _named_problem(K_train, K_test_train, f0_train, f0_test, y).gd_predict(eta, steps)


REGIMES = ("converging", "catapult", "diverging", "stalled", "dead")

DEAD_FRACTION = 0.01
"""A relu run is 'dead' when fewer than this fraction of its neurons is still active."""


def active_fraction(params: net.Params, X: Array) -> float:
    """Fraction of the hidden neurons that are active (`a_i . x > 0`) on at least one input.

    For relu a neuron with `a_i . x_j <= 0` on every training input is dead for good: its
    gradients `(1/sqrt(m)) sum_j U_j b_i relu'(a_i . x_j) x_j` and
    `(1/sqrt(m)) sum_j U_j relu(a_i . x_j)` are both 0, so gradient descent never moves it
    again, and it adds nothing to f on the training set.

    Args:
      params: `Params(A=(m, d), b=(m,))`.  X: inputs, shape (n, d).
    Returns:
      a number in [0, 1].
    Introduced in notebooks/06 (relu neurons dying at a large learning rate).
    """
    X = v.matrix(X, "X")
    return float(jnp.mean(jnp.any(X @ params.A.T > 0, axis=0)))


class Regime(NamedTuple):
    """What gradient descent did at a learning rate, against the kernel bound 2/lambda_max.

    Numbers only; the sentences a learner reads are worded by the panel modules
    (`ntklib.panels.nb06_gradient_flow.describe_regime`).
    """

    name: str
    """One of `REGIMES`."""
    eta_multiple: float
    """The learning rate in units of the kernel bound: eta / (2 / lambda_max)."""
    peak: float
    """The largest finite loss."""
    final: float
    """The last finite loss."""


def classify_regime(loss: Any, *, eta: float, lambda_max: float,
                    active: float | None = None) -> Regime:
    """Name the regime of a training run from its loss curve and the NTK's largest eigenvalue.

    - 'diverging': the loss became non-finite (NaN/inf, e.g. a `Trajectory` past its
      divergence threshold);
    - 'dead': finite, but fewer than `DEAD_FRACTION` (1%) of the neurons are still active
      at the end (`active`, from `active_fraction` of the final relu weights): the big steps
      switched the rest off for good (a dead neuron has zero gradient), so the network has
      lost its width; its loss stalls, at `1/2 |y|^2` when every neuron is dead (f = 0);
    - 'converging': the loss ended below its start and never rose above it by more than 1%
      (below `2 / lambda_max` this is what the kernel picture predicts);
    - 'catapult': the loss spiked above its start and then still ended below it (only possible
      beyond the kernel picture, i.e. for eta > 2 / lambda_max);
    - 'stalled': finite, but the loss did not end below its start.

    Args:
      loss: losses L_0..L_steps, shape (steps + 1,), NaN after a divergence.
      eta: the learning rate (> 0).  lambda_max: largest NTK eigenvalue at init (> 0).
      active: the fraction of neurons still active at the end, in [0, 1] (relu runs);
        None (smooth activations) never gives 'dead'.
    Returns:
      a `Regime` (name and numbers).
    Introduced in notebooks/06.
    """
    loss = np.asarray(loss, dtype=np.float64).ravel()
    if loss.size < 2:
        raise ValueError(f"loss must hold at least 2 values, got shape {loss.shape}")
    eta = v.positive_float(eta, "eta")
    lambda_max = v.positive_float(lambda_max, "lambda_max")
    if active is not None and not 0 <= float(active) <= 1:
        raise ValueError(f"active must be a fraction in [0, 1] or None, got {active!r}")
    eta_multiple = eta * lambda_max / 2
    if not np.isfinite(loss[0]):
        raise ValueError("loss[0] must be finite (the loss at initialisation)")
    finite = loss[np.isfinite(loss)]
    peak, final, L0 = float(finite.max()), float(finite[-1]), float(loss[0])
    if finite.size < loss.size:
        name = "diverging"
    elif active is not None and float(active) < DEAD_FRACTION:
        name = "dead"
    elif final < L0 and peak <= 1.01 * L0:
        name = "converging"
    elif final < L0:
        name = "catapult"
    else:
        name = "stalled"
    return Regime(name, eta_multiple, peak, final)



# ------------------------------- spectral bias, label alignment, learning-rate phases (nb 07)

def circulant_eigenvalues(K: Array) -> Array:
    """Eigenvalue of each Fourier frequency of a circulant Gram matrix.

    For n points evenly spaced on a circle (angles 2 pi j / n) and a rotation-invariant kernel
    (every NTK of `net` is one, also with the constant coordinate of `net.embed`), K is
    circulant: its eigenvectors are cos(k theta) and sin(k theta), with eigenvalue
    `lambda_k = sum_j K[0, j] cos(2 pi k j / n)` (twice for 0 < k < n/2). `lambda_k / n` tends
    to `(1/pi) int_0^pi K(phi) cos(k phi) dphi` as n grows.

    Args:
      K: Gram matrix of the n circle points, shape (n, n), symmetric and circulant
        (row i is row 0 shifted by i, to round-off).
    Returns:
      `lambda_k` for k = 0..n//2, shape (n//2 + 1,).
    Introduced in notebooks/07.
    """
    K = v.square(K, "K", symmetric=True)
    n = K.shape[0]
    shift = (jnp.arange(n)[None, :] - jnp.arange(n)[:, None]) % n
    gap, scale = (float(x) for x in (jnp.max(jnp.abs(K - K[0][shift])), jnp.max(jnp.abs(K))))
    if gap > math.sqrt(float(jnp.finfo(K.dtype).eps)) * scale:
        raise ValueError(f"K must be circulant (points evenly spaced on a circle, a "
                         f"rotation-invariant kernel): rows differ from shifts of row 0 by "
                         f"up to {gap:.3g}")
    return jnp.fft.rfft(K[0]).real


def fourier_amplitudes(U: Array) -> Array:
    """Amplitude of each frequency in values at n evenly spaced points of a circle.

    `U_j = sum_k c_k cos(k theta_j + phi_k)` with `theta_j = 2 pi j / n` gives back `c_k >= 0`
    for k = 0..n//2: the part of a residual that lives in the eigenspace of frequency k of
    a circulant kernel (`circulant_eigenvalues`), which gradient flow shrinks like
    `exp(-lambda_k t)`.

    Args:
      U: values at the n points, shape (n,), or T such vectors, shape (T, n).
    Returns:
      amplitudes, shape (n//2 + 1,) or (T, n//2 + 1).
    Introduced in notebooks/07.
    """
    U = v.matrix(U, "U") if np.ndim(U) == 2 else v.vector(U, "U")
    n = U.shape[-1]
    amp = 2 * jnp.abs(jnp.fft.rfft(U, axis=-1)) / n
    amp = amp.at[..., 0].divide(2)
    return amp.at[..., -1].divide(2) if n % 2 == 0 else amp


def decay_rate(t: Any, amplitude: Any, *, start: float = 0.5, stop: float = 1e-2) -> float:
    """Rate r of an exponential decay `amplitude(t) ~ C exp(-r t)`, fitted on its clean part.

    A least-squares line through `log amplitude` against t, on the points where the amplitude
    lies between `stop * amplitude[0]` and `start * amplitude[0]` (the start of a decay can
    lag and its end can sink into round-off or finite-width noise).

    Args:
      t: times, increasing, shape (T,).  amplitude: positive values at those times, (T,).
      start, stop: the window, fractions of the first amplitude, 1 >= start > stop > 0.
    Returns:
      r (> 0 for a decay). Raises ValueError when fewer than 3 points lie in the window.
    Introduced in notebooks/07.
    """
    t = np.asarray(v.vector(t, "t"), dtype=np.float64)
    a = np.asarray(v.vector(amplitude, "amplitude", size=t.size), dtype=np.float64)
    if not 1 >= start > stop > 0:
        raise ValueError(f"start and stop must satisfy 1 >= start > stop > 0, got start="
                         f"{start!r}, stop={stop!r}")
    if a[0] <= 0:
        raise ValueError(f"amplitude[0] must be positive, got {a[0]:.4g}")
    inside = (a <= start * a[0]) & (a >= stop * a[0])
    if inside.sum() < 3:
        raise ValueError(f"amplitude must have at least 3 points between {stop:g} and "
                         f"{start:g} times its first value, got {int(inside.sum())}: record "
                         f"more often or longer")
    slope = np.polyfit(t[inside], np.log(a[inside]), 1)[0]
    return float(-slope)


class PhaseDiagram(NamedTuple):
    """The regime of gradient descent on a grid of widths and learning rates.

    Built by `learning_rate_phases`. `regimes[i, j]` is the `classify_regime` name of width
    `widths[i]` at `eta = eta_multiples[j] * 2 / lambda0[i]`.
    """

    widths: np.ndarray
    """Widths m, shape (W,)."""
    eta_multiples: np.ndarray
    """Learning rates as multiples of each width's `2 / lambda0`, shape (E,)."""
    lambda0: np.ndarray
    """Largest eigenvalue of the empirical NTK at initialisation, per width, shape (W,)."""
    regimes: np.ndarray
    """Regime names (`REGIMES`), shape (W, E)."""

    def boundary(self, regime: str) -> np.ndarray:
        """Per width, the smallest eta_multiple whose run is `regime` (NaN if none), shape (W,)."""
        regime = v.choice(regime, "regime", REGIMES)
        hit = self.regimes == regime
        first = np.where(hit.any(axis=1), hit.argmax(axis=1), -1)
        return np.where(first >= 0, self.eta_multiples[first], np.nan)


def learning_rate_phases(key: Array, X: Array, y: Array, *, widths: Any, eta_multiples: Any,
                         steps: int, activation: str = "relu") -> PhaseDiagram:
    """Train the network of `net` at each width and learning rate and name what happened.

    For each width m: `net.init_nested(key, d, m)` (nested widths: the same network grows),
    `lambda0` the largest eigenvalue of its empirical NTK on X, then `steps` of gradient
    descent (`train.train_network`) at each `eta = eta_multiple * 2 / lambda0`, classified
    by `classify_regime` (for relu with the fraction of neurons still active, so that a run
    that killed its neurons is 'dead', not a catapult). The kernel picture predicts
    'converging' below eta_multiple 1 and divergence above; a wide erf network instead
    catapults up to about 2 (eta ~ 4 / lambda0), then diverges.

    Args:
      key: a `jax.random` key.  X: inputs, shape (n, d).  y: targets, shape (n,).
      widths: positive integers, shape (W,).
      eta_multiples: learning rates in units of 2 / lambda0, positive numbers, shape (E,).
      steps: gradient-descent steps per run.  activation: as in `net.apply`.
    Returns:
      a `PhaseDiagram`.
    Introduced in notebooks/07.
    """
    key = net.check_key(key)
    X = v.matrix(X, "X")
    y = v.vector(y, "y", size=X.shape[0])
    widths = np.array([v.positive_int(m, "widths") for m in np.ravel(widths)])
    eta_multiples = np.asarray(v.vector(eta_multiples, "eta_multiples"), dtype=np.float64)
    if np.any(eta_multiples <= 0):
        raise ValueError(f"eta_multiples must be positive, got {eta_multiples}")
    steps = v.positive_int(steps, "steps")
    if widths.size == 0 or eta_multiples.size == 0:
        raise ValueError(f"widths and eta_multiples must not be empty, got {widths.size} "
                         f"widths and {eta_multiples.size} eta_multiples")
    lambda0, regimes = [], []
    for m in widths:
        params0 = net.init_nested(key, X.shape[1], int(m), dtype=X.dtype)
        lam = float(spectrum(ntk.empirical_ntk(params0, X, activation=activation))[0])
        lambda0.append(lam)
        row = []
        for c in eta_multiples:
            traj = train.train_network(params0, X, y, eta=c * 2 / lam, steps=steps,
                                       record_every=steps, activation=activation)
            active = active_fraction(traj.params, X) if activation == "relu" else None
            row.append(classify_regime(traj.loss, eta=c * 2 / lam, lambda_max=lam,
                                       active=active).name)
        regimes.append(row)
    return PhaseDiagram(widths, eta_multiples, np.array(lambda0), np.array(regimes))
