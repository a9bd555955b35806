"""Training dynamics of a kernel model in closed form (MATH.md section 6; notebooks/06).

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

The eigendecomposition (`O(n^3)`) is done once, by `gradient_flow` or `flow_predictor`; the
objects they return evaluate any time `t` with one `O(T n^2)` product, cheap enough for a
slider. All functions accept any symmetric positive semi-definite Gram matrix (an empirical
or infinite-width NTK, or `Phi Phi^T` of a linear model); negative eigenvalues from round-off
are set to 0.
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


@jax.jit
def _flow_modes(lam: Array, coeffs: Array, t: Array) -> Array:
    return coeffs * jnp.exp(-t[..., None] * lam)


@jax.jit
def _flow(lam: Array, V: Array, coeffs: Array, t: Array) -> Array:
    return _flow_modes(lam, coeffs, t) @ V.T


class GradientFlow(NamedTuple):
    """The solution `U(t) = V exp(-Lambda t) V^T U(0)` of `dU/dt = -K U`, ready to evaluate.

    Built by `gradient_flow(K, U0)`. `flow(t)` gives the residual at time `t` (a number, or a
    1-D array of T times); `flow.modes(t)` gives it in the eigenbasis, where component i is
    `(v_i . U(0)) exp(-lambda_i t)`.
    """

    eigvals: Array
    """Eigenvalues of K, largest first, shape (n,)."""
    eigvecs: Array
    """Eigenvectors of K as columns, in the same order, shape (n, n)."""
    coeffs: Array
    """The initial residual in the eigenbasis, `V^T U(0)`, shape (n,)."""

    def __call__(self, t: Any) -> Array:
        """Residual `U(t)`: shape (n,) for a number `t >= 0`, (T, n) for T times."""
        t = v.times(t, "t").astype(self.eigvals.dtype)
        return _flow(self.eigvals, self.eigvecs, self.coeffs, t)

    def modes(self, t: Any) -> Array:
        """`V^T U(t)`: component i decays like `exp(-lambda_i t)`; shape (n,) or (T, n)."""
        t = v.times(t, "t").astype(self.eigvals.dtype)
        return _flow_modes(self.eigvals, self.coeffs, t)

    def time_to(self, fraction: float) -> float:
        """The time t at which the loss `1/2 |U(t)|^2` has fallen to `fraction` of `1/2 |U(0)|^2`.

        The loss `1/2 sum_i c_i^2 exp(-2 lambda_i t)` falls monotonically, so the time is
        found by bisection (to 1e-10 relative); `inf` when the part of U(0) along eigenvalue 0
        alone is above the fraction. `fraction` in (0, 1).
        """
        fraction = v.positive_float(fraction, "fraction")
        if fraction >= 1:
            raise ValueError(f"fraction must be below 1, got {fraction!r}")
        lam, c2 = (np.asarray(x, dtype=np.float64) for x in (self.eigvals, self.coeffs**2))
        goal = fraction * c2.sum()
        lam = np.where(lam > lam.size * np.finfo(self.eigvals.dtype).eps * lam[0], lam, 0)
        if c2[lam <= 0].sum() >= goal:  # round-off zeros count as 0, as in flow_predictor
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

    def __repr__(self) -> str:
        lam = self.eigvals
        return (f"GradientFlow(n={lam.shape[0]}, dtype={lam.dtype}, "
                f"lambda_max={float(lam[0]):.4g}, lambda_min={float(lam[-1]):.4g}, "
                f"|U(0)|={float(jnp.linalg.norm(self.coeffs)):.4g}): "
                f"U(t) = V exp(-Lambda t) V^T U(0)")


def gradient_flow(K: Array, U0: Array) -> GradientFlow:
    """Gradient flow of the residual under a fixed kernel: `U(t) = exp(-K t) U0`.

    Eigendecomposes K once; the returned object evaluates any t cheaply.

    Args:
      K: Gram matrix of the training inputs, shape (n, n), symmetric positive semi-definite.
      U0: initial residual `f(w0, X) - y`, shape (n,).
    Returns:
      `GradientFlow`: call it with `t` (number -> (n,), 1-D array of T times -> (T, n)).
    """
    K, U0 = _kernel_and_residual(K, U0)
    lam, V = _decompose(K, "K")
    return GradientFlow(lam, V, V.T @ U0)


@partial(jax.jit, static_argnames="steps")
def _gd(lam: Array, V: Array, coeffs: Array, eta: Array, steps: int) -> Array:
    k = jnp.arange(steps + 1)
    return (jnp.power(1 - eta * lam, k[:, None]) * coeffs) @ V.T


def gd_residual(K: Array, U0: Array, *, eta: float, steps: int) -> Array:
    """Residuals of discrete gradient descent on a fixed kernel: `U_k = (I - eta K)^k U0`.

    Computed as `V (1 - eta Lambda)^k V^T U0` for k = 0..steps. Above the stability bound
    `eta > 2 / lambda_max` the residual grows like `|1 - eta lambda_max|^k`: the values are
    returned as they are (that divergence is the lesson). Past the float range they overflow
    to inf, and to NaN where infinite terms of opposite sign meet; below that they are finite.

    Args:
      K: Gram matrix, shape (n, n).  U0: initial residual, shape (n,).
      eta: learning rate, a positive finite number.  steps: number of steps, >= 1.
    Returns:
      residuals `U_0, ..., U_steps`, shape (steps + 1, n); row k is at flow time `eta * k`.
    """
    K, U0 = _kernel_and_residual(K, U0)
    eta = v.positive_float(eta, "eta")
    steps = v.positive_int(steps, "steps")
    lam, V = _decompose(K, "K")
    return _gd(lam, V, V.T @ U0, jnp.asarray(eta, lam.dtype), steps)


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


class Predictor(NamedTuple):
    """Test predictions `f_t(X*)` of the linearized model trained by gradient flow.

    Built by `flow_predictor`. `predictor(t)` evaluates
    `f_t(X*) = f0(X*) - K(X*, X) K^-1 (I - exp(-K t)) (f0(X) - y)` for a number `t >= 0`
    (shape (n*,)) or a 1-D array of T times (shape (T, n*)); `t = inf` is allowed and gives
    kernel regression with the NTK started from `f0`.
    """

    eigvals: Array
    """Eigenvalues of K(X, X), largest first, shape (n,)."""
    cutoff: Array
    """Eigenvalues at or below this (`n * eps * lambda_max`) count as 0, shape ()."""
    KsV: Array
    """`K(X*, X) V`, shape (n*, n)."""
    coeffs: Array
    """The initial training residual in the eigenbasis, `V^T (f0(X) - y)`, shape (n,)."""
    f0_test: Array
    """Initial predictions `f0(X*)`, shape (n*,)."""

    def __call__(self, t: Any) -> Array:
        """`f_t(X*)`: shape (n*,) for a number `t` (inf allowed), (T, n*) for T times."""
        t = v.times(t, "t", allow_inf=True).astype(self.eigvals.dtype)
        return _predict(self.eigvals, self.cutoff, self.KsV, self.coeffs, self.f0_test, t)

    def __repr__(self) -> str:
        n_test, n = self.KsV.shape
        dropped = int(jnp.sum(self.eigvals <= self.cutoff))
        return (f"Predictor(n_train={n}, n_test={n_test}, dtype={self.eigvals.dtype}, "
                f"lambda_max={float(self.eigvals[0]):.4g}, zero eigenvalues={dropped}): "
                f"f_t(X*) = f0(X*) - K(X*, X) K^-1 (I - exp(-K t)) (f0(X) - y)")


def flow_predictor(K_train: Array, K_test_train: Array, f0_train: Array, f0_test: Array,
                     y: Array) -> Predictor:
    """Predictions at test points during gradient flow in the lazy (linearized) regime.

        f_t(X*) = f0(X*) - K(X*, X) K^-1 (I - exp(-K t)) (f0(X) - y),   K = K(X, X).

    `K^-1 (I - exp(-K t)) = V diag((1 - exp(-lambda t)) / lambda) V^T` needs no inverse. A
    direction with eigenvalue 0 (at most `n * eps * lambda_max`, e.g. a duplicated training
    point) contributes nothing: there `K(X*, X) v = 0` for kernels from one feature map, so
    the exact term `t K(X*, X) v v^T (f0(X) - y)` vanishes; dropping it keeps `t = inf`
    finite and gives the pseudo-inverse (minimum-norm) kernel regression. At `X* = X` the
    prediction is `y + U(t)` with `U` from `gradient_flow`.

    Args:
      K_train: `K(X, X)`, shape (n, n), symmetric positive semi-definite.
      K_test_train: `K(X*, X)`, shape (n*, n).
      f0_train: `f(w0, X)`, shape (n,).  f0_test: `f(w0, X*)`, shape (n*,).
      y: training targets, shape (n,).
    Returns:
      `Predictor`: call it with `t` (number -> (n*,), 1-D array of T times -> (T, n*)).
    """
    K, f0_train = _kernel_and_residual(K_train, f0_train, "K_train", "f0_train")
    n = K.shape[0]
    y = v.vector(y, "y", size=n)
    Ks = v.matrix(K_test_train, "K_test_train")
    if Ks.shape[1] != n:
        raise ValueError(f"K_test_train must have shape (n*, {n}) to match K_train, got shape "
                         f"{tuple(Ks.shape)}")
    f0_test = v.vector(f0_test, "f0_test", size=Ks.shape[0])
    dtype = jnp.result_type(K, Ks, f0_test, y)
    lam, cutoff, KsV, coeffs, lam_min, scale = _predictor_parts(
        K.astype(dtype), Ks.astype(dtype), f0_train.astype(dtype), y.astype(dtype))
    if not v.is_traced(lam):
        _check_psd(*jax.device_get((lam_min, scale)), dtype, "K_train")
    return Predictor(lam, cutoff, KsV, coeffs, f0_test.astype(dtype))


@jax.jit
def _predictor_parts(K: Array, Ks: Array, f0_train: Array,
                     y: Array) -> tuple[Array, Array, Array, Array, Array, Array]:
    # One compiled call (eigh and the products): a time slider's first call pays one dispatch
    # and one device-to-host transfer (the PSD check), not a dozen.
    lam, V = _eigh_descending(K)
    lam0 = jnp.maximum(lam, 0)
    cutoff = K.shape[0] * jnp.finfo(K.dtype).eps * lam0[0]
    return lam0, cutoff, Ks @ V, V.T @ (f0_train - y), lam[-1], jnp.max(jnp.abs(lam))



# ------------------------------------------------ discrete GD at test points, regimes (nb 06)

@partial(jax.jit, static_argnames="steps")
def _gd_predict(lam: Array, cutoff: Array, KsV: Array, coeffs: Array, f0_test: Array,
                eta: Array, steps: int) -> Array:
    keep = lam > cutoff
    safe = jnp.where(keep, lam, 1)
    # sum_{j<k} eta (1 - eta lambda)^j = (1 - (1 - eta lambda)^k) / lambda
    k = jnp.arange(steps + 1)[:, None]
    gain = jnp.where(keep, (1 - jnp.power(1 - eta * safe, k)) / safe, 0)
    return f0_test - (gain * coeffs) @ KsV.T


def gd_predictions(K_train: Array, K_test_train: Array, f0_train: Array, f0_test: Array,
                   y: Array, *, eta: float, steps: int) -> Array:
    """Test predictions of discrete gradient descent on a fixed kernel (the linearized model).

        f_k(X*) = f0(X*) - K(X*, X) K^-1 (I - (I - eta K)^k) (f0(X) - y),   k = 0..steps,

    the discrete twin of `flow_predictor` (same eigenbasis, `(1 - (1 - eta lambda)^k) / lambda`
    in place of `(1 - exp(-lambda t)) / lambda`; eigenvalues at or below `n eps lambda_max`
    count as 0). Above `eta = 2 / lambda_max` the values grow without bound, as they should.

    Args:
      K_train: `K(X, X)`, shape (n, n).  K_test_train: `K(X*, X)`, shape (n*, n).
      f0_train: `f(w0, X)`, shape (n,).  f0_test: `f(w0, X*)`, shape (n*,).  y: shape (n,).
      eta: learning rate, a positive finite number.  steps: number of steps, >= 1.
    Returns:
      predictions, shape (steps + 1, n*); row k is at flow time `eta * k`.
    Introduced in notebooks/06.
    """
    p = flow_predictor(K_train, K_test_train, f0_train, f0_test, y)
    eta = v.positive_float(eta, "eta")
    steps = v.positive_int(steps, "steps")
    return _gd_predict(p.eigvals, p.cutoff, p.KsV, p.coeffs, p.f0_test,
                       jnp.asarray(eta, p.eigvals.dtype), steps)


REGIMES = ("converging", "catapult", "diverging", "stalled")


class Regime(NamedTuple):
    """What gradient descent did at a learning rate, against the kernel bound 2/lambda_max.

    name: one of `REGIMES`; multiple: eta / (2 / lambda_max); peak, final: the largest and the
    last finite loss; message: one readable sentence for a figure.
    """

    name: str
    multiple: float
    peak: float
    final: float
    message: str


def classify_regime(loss: Any, *, eta: float, lambda_max: float) -> Regime:
    """Name the regime of a training run from its loss curve and the NTK's largest eigenvalue.

    - 'diverging': the loss became non-finite (NaN/inf, e.g. a `Trajectory` past its
      divergence threshold);
    - 'converging': the loss ended below its start and never rose above it by more than 1%
      (below `2 / lambda_max` this is what the kernel picture predicts);
    - 'catapult': the loss spiked above its start and then still ended below it (only possible
      beyond the kernel picture, i.e. for eta > 2 / lambda_max);
    - 'stalled': finite, but the loss did not end below its start.

    Args:
      loss: losses L_0..L_steps, shape (steps + 1,), NaN after a divergence.
      eta: the learning rate (> 0).  lambda_max: largest NTK eigenvalue at init (> 0).
    Returns:
      a `Regime`.
    Introduced in notebooks/06.
    """
    loss = np.asarray(loss, dtype=np.float64).ravel()
    if loss.size < 2:
        raise ValueError(f"loss must hold at least 2 values, got shape {loss.shape}")
    eta = v.positive_float(eta, "eta")
    lambda_max = v.positive_float(lambda_max, "lambda_max")
    multiple = eta * lambda_max / 2
    finite = loss[np.isfinite(loss)]
    if not np.isfinite(loss[0]):
        raise ValueError("loss[0] must be finite (the loss at initialisation)")
    peak, final = float(finite.max()), float(finite[-1])
    head = f"η = {multiple:.2f} × 2/λ_max: "
    if finite.size < loss.size:
        return Regime("diverging", multiple, peak, final,
                      head + "DIVERGING: the loss blows up (from about 4/λ_max on the network "
                      "cannot recover); the kernel picture has ended")
    L0 = float(loss[0])
    if final < L0 and peak <= 1.01 * L0:
        text = ("converging, as the kernel picture predicts" if multiple < 1 else
                "converging without a spike")
        return Regime("converging", multiple, peak, final, head + text)
    if final < L0:
        return Regime("catapult", multiple, peak, final,
                      head + f"CATAPULT: the loss spikes to {peak:.3g} ({peak / L0:.0f} × its "
                      f"start), then converges to {final:.2g}" + (
                          "; the linearized model diverges here: the kernel picture has ended"
                          if multiple > 1 else ""))
    return Regime("stalled", multiple, peak, final,
                  head + f"STALLED: finite, but the loss ends at {final:.3g}, not below its "
                  f"start {L0:.3g}")


# ------------------------------- spectral bias, label alignment, learning-rate phases (nb 07)

def circulant_eigenvalues(K: Array) -> Array:
    """Eigenvalue of each Fourier frequency of a circulant Gram matrix.

    For n points evenly spaced on a circle (angles 2 pi j / n) and a rotation-invariant kernel
    (every NTK of `net` is one, also with the constant coordinate of `net.embed`), K is
    circulant: its eigenvectors are cos(k theta) and sin(k theta), with eigenvalue
    `lambda_k = sum_j K[0, j] cos(2 pi k j / n)` (twice for 0 < k < n/2). `lambda_k / n` tends
    to MATH.md's `(1/pi) int_0^pi K(phi) cos(k phi) dphi` as n grows.

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
    `widths[i]` at `eta = multiples[j] * 2 / lambda0[i]`.
    """

    widths: np.ndarray
    """Widths m, shape (W,)."""
    multiples: np.ndarray
    """Learning rates as multiples of each width's `2 / lambda0`, shape (E,)."""
    lambda0: np.ndarray
    """Largest eigenvalue of the empirical NTK at initialisation, per width, shape (W,)."""
    regimes: np.ndarray
    """Regime names (`REGIMES`), shape (W, E)."""

    def boundary(self, regime: str) -> np.ndarray:
        """Per width, the smallest multiple whose run is `regime` (NaN if none), shape (W,)."""
        regime = v.choice(regime, "regime", REGIMES)
        hit = self.regimes == regime
        first = np.where(hit.any(axis=1), hit.argmax(axis=1), -1)
        return np.where(first >= 0, self.multiples[first], np.nan)


def learning_rate_phases(key: Array, X: Array, y: Array, *, widths: Any, multiples: Any,
                         steps: int, activation: str = "relu") -> PhaseDiagram:
    """Train the network of `net` at each width and learning rate and name what happened.

    For each width m: `net.init(key, d, m)`, `lambda0` the largest eigenvalue of its empirical
    NTK on X, then `steps` of gradient descent (`train.train_network`) at each
    `eta = multiple * 2 / lambda0`, classified by `classify_regime`. The kernel picture
    predicts 'converging' below multiple 1 and divergence above; a wide network instead
    catapults up to a multiple of about 2 (eta ~ 4 / lambda0), then diverges.

    Args:
      key: a `jax.random` key.  X: inputs, shape (n, d).  y: targets, shape (n,).
      widths: positive integers, shape (W,).  multiples: positive numbers, shape (E,).
      steps: gradient-descent steps per run.  activation: as in `net.apply`.
    Returns:
      a `PhaseDiagram`.
    Introduced in notebooks/07.
    """
    key = net.check_key(key)
    X = v.matrix(X, "X")
    y = v.vector(y, "y", size=X.shape[0])
    widths = np.array([v.positive_int(m, "widths") for m in np.ravel(widths)])
    multiples = np.asarray(v.vector(multiples, "multiples"), dtype=np.float64)
    if np.any(multiples <= 0):
        raise ValueError(f"multiples must be positive, got {multiples}")
    steps = v.positive_int(steps, "steps")
    if widths.size == 0 or multiples.size == 0:
        raise ValueError(f"widths and multiples must not be empty, got {widths.size} widths "
                         f"and {multiples.size} multiples")
    lambda0, regimes = [], []
    for m in widths:
        params0 = net.init(key, X.shape[1], int(m), dtype=X.dtype)
        lam = float(spectrum(ntk.empirical_ntk(params0, X, activation=activation))[0])
        lambda0.append(lam)
        regimes.append([classify_regime(train.train_network(
            params0, X, y, eta=c * 2 / lam, steps=steps, record_every=steps,
            activation=activation).loss, eta=c * 2 / lam, lambda_max=lam).name
            for c in multiples])
    return PhaseDiagram(widths, multiples, np.array(lambda0), np.array(regimes))
