"""Self-checks for the exercises: compare a learner's answer with the expected one.

Each notebook's exercises call `check(answer, expected)`, which prints one line that starts
with the verdict: right / close / wrong (with the largest relative difference), or missing
when no answer was given yet. It returns nothing, so a notebook cell shows only that line.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _validate as v

VERDICTS = ("right", "close", "wrong", "missing")


def check(answer: Any, expected: Any, *, name: str = "answer", rtol: float = 1e-8,
          close: float = 1e-2) -> None:
    """Compare `answer` with `expected` (numbers or arrays of the same shape) and say how near.

    Verdicts: 'right' when the largest relative difference is <= rtol, 'close' when it is
    <= close, 'wrong' otherwise or on a shape mismatch or non-finite values, 'missing' when
    the answer is still `None` (the stub of the exercise).

    Args:
      answer: the learner's value, a number or array-like; None means not answered yet.
      expected: the reference value, same shape as answer.
      name: what the answer is called in the printed line.
      rtol: relative tolerance for 'right'.  close: relative tolerance for 'close'.
    Prints:
      one line, `<verdict>: <details>`, the verdict one of VERDICTS.
    """
    rtol = v.positive_float(rtol, "rtol")
    close = v.positive_float(close, "close")
    if close < rtol:
        raise ValueError(f"close must be >= rtol, got close={close!r} < rtol={rtol!r}")
    print(_verdict(answer, expected, name, rtol, close))


def _verdict(answer: Any, expected: Any, name: str, rtol: float, close: float) -> str:
    if answer is None:
        return f"missing: {name} is still None; replace it with your code and run the cell"
    try:
        a = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return (f"wrong: {name} must be a number or an array of numbers, got "
                f"{type(answer).__name__}")
    e = np.asarray(expected, dtype=float)
    if a.shape != e.shape:
        return f"wrong: {name} has shape {a.shape}, expected shape {e.shape}"
    if not np.all(np.isfinite(a)):
        return f"wrong: {name} contains NaN or infinite values"
    scale = max(float(np.max(np.abs(e), initial=0.0)), np.finfo(float).tiny)
    diff = float(np.max(np.abs(a - e), initial=0.0)) / scale
    if diff <= rtol:
        return f"right: {name} matches (max relative difference {diff:.1e})"
    verdict = "close" if diff <= close else "wrong"
    hint = "almost: look for a rounding or a small slip" if verdict == "close" else "try again"
    return f"{verdict}: {name} is off by a relative {diff:.2e}; {hint}"


# ---------------------------------------------------------------------------------------------
# notebook 01 (classic kernels): expected values of the exercises, out of the learner's sight


def nb01_monomials_of_degree(d: int, p: int) -> int:
    """Exercise 1 of notebook 01: how many monomials in d variables have degree exactly p.

    Returns C(d + p - 1, p) (multisets of size p from d variables).
    """
    import math

    return math.comb(v.positive_int(d, "d") + v.positive_int(p, "p") - 1, p)


def nb01_gradient(Phi: Any, y: Any, w: Any) -> np.ndarray:
    """Exercise 2 of notebook 01: grad L(w) = Phi^T (Phi w - y) for L = 1/2 sum (f - y)^2.

    Args:
      Phi: features, shape (n, D).  y: targets, shape (n,).  w: weights, shape (D,).
    Returns:
      the gradient, shape (D,).
    """
    Phi, y, w = (np.asarray(a, dtype=float) for a in (Phi, y, w))
    return Phi.T @ (Phi @ w - y)


def nb01_slowest_factor(Phi: Any, eta_multiple: float) -> float:
    """Exercise 3 of notebook 01: the error factor per step max_i |1 - eta lambda_i| of
    gradient descent on L = 1/2 |Phi w - y|^2 at eta = eta_multiple * 2 / lambda_max, with
    lambda_i the eigenvalues of Phi^T Phi.

    Args:
      Phi: features, shape (n, D).  eta_multiple: eta in units of 2 / lambda_max (> 0).
    """
    Phi = np.asarray(Phi, dtype=float)
    lam = np.linalg.eigvalsh(Phi.T @ Phi)
    eta = v.positive_float(eta_multiple, "eta_multiple") * 2 / lam[-1]
    return float(np.max(np.abs(1 - eta * lam)))


# ---------------------------------------------------------------------------------------------
# notebook 02 (kernel trick): expected values of the exercises, out of the learner's sight


def _sq_distances(X1: np.ndarray, X2: np.ndarray) -> np.ndarray:
    return np.sum((X1[:, None, :] - X2[None, :, :]) ** 2, axis=-1)


def nb02_rbf_gram(X: Any, lengthscale: float) -> np.ndarray:
    """Exercise 1 of notebook 02: K_ij = exp(-|x_i - x_j|^2 / (2 l^2)), shape (n, n)."""
    X = np.asarray(X, dtype=float)
    ell = v.positive_float(lengthscale, "lengthscale")
    return np.exp(-_sq_distances(X, X) / (2 * ell**2))


def nb02_check_cubic_features(phi: Any, X: Any) -> None:
    """Exercise 2 of notebook 02: check a learner's feature map `phi` of the homogeneous cubic
    kernel (x . x')^3 in d = 2, and print one line as `check` does.

    A feature map is not unique (any rotation of the features gives the same inner products),
    so the features are not compared with fixed values. The check asks for the minimal map,
    four features: phi(X) must have shape (n, 4), and phi(Z) phi(Z)^T must equal (Z Z^T)^3 both
    on the learner's points Z = X and on 7 further points the learner does not see.

    Args:
      phi: the learner's function, (k, 2) array -> (k, D) array; None means not answered yet.
      X: the exercise's points, shape (n, 2).
    Prints:
      one line, `<verdict>: <details>`, the verdict one of VERDICTS.
    """
    name = "phi_hand"
    if phi is None:
        print(f"missing: {name} is still None; replace it with your function and run the cell")
        return
    if not callable(phi):
        print(f"wrong: {name} must be a function of X, got {type(phi).__name__}")
        return
    X = np.asarray(X, dtype=float)
    hidden = np.random.default_rng(20).normal(size=(7, 2))
    try:
        F, F_hidden = (np.asarray(phi(Z), dtype=float) for Z in (X, hidden))
    except Exception as error:  # a learner's bug: say what it was, do not raise
        print(f"wrong: {name} raised {type(error).__name__}: {error}")
        return
    if F.shape != (X.shape[0], 4):
        print(f"wrong: {name}(X) has shape {F.shape}; the cubic kernel in d = 2 needs "
              f"(n, number of monomials of degree exactly 3)")
        return
    if F_hidden.shape != (hidden.shape[0], 4):
        print(f"wrong: {name} of 7 other points has shape {F_hidden.shape}, not (7, 4)")
        return
    answer = np.concatenate([(F @ F.T).ravel(), (F_hidden @ F_hidden.T).ravel()])
    expected = np.concatenate([((X @ X.T) ** 3).ravel(), ((hidden @ hidden.T) ** 3).ravel()])
    print(_verdict(answer, expected, f"{name}(X) {name}(X)^T", 1e-8, 1e-2)
          + " (on X and on 7 hidden points)")


def nb02_rbf_ridge_rmse(X: Any, y: Any, X_test: Any, y_test: Any, *, lengthscale: float,
                        lam: float) -> float:
    """Exercise 3 of notebook 02: test RMSE of kernel ridge regression with the RBF kernel,
    f(X*) = K(X*, X) (K(X, X) + lam I)^-1 y (lam > 0).

    Args:
      X: (n, d).  y: (n,).  X_test: (n*, d).  y_test: (n*,).  lengthscale, lam: > 0.
    """
    X, X_test = np.asarray(X, dtype=float), np.asarray(X_test, dtype=float)
    y, y_test = np.asarray(y, dtype=float), np.asarray(y_test, dtype=float)
    ell = v.positive_float(lengthscale, "lengthscale")
    lam = v.positive_float(lam, "lam")
    K = np.exp(-_sq_distances(X, X) / (2 * ell**2))
    K_test = np.exp(-_sq_distances(X_test, X) / (2 * ell**2))
    pred = K_test @ np.linalg.solve(K + lam * np.eye(len(y)), y)
    return float(np.sqrt(np.mean((pred - y_test) ** 2)))


# ---------------------------------------------------------------------------------------------
# notebook 03 (one hidden layer): expected values of the exercises, out of the learner's sight


def nb03_unscaled_relu_sd(m: int, x: Any) -> float:
    """Exercise 1 of notebook 03: the standard deviation of the relu network without the
    factor 1/sqrt(m), sum_i b_i relu(a_i . x), at initialisation (a, b ~ N(0, 1)):
    sqrt(m K^b(x, x)) = sqrt(m |x|^2 / 2).

    Args:
      m: width >= 1.  x: the input, shape (d,).
    """
    x = np.asarray(x, dtype=float).ravel()
    return float(np.sqrt(v.positive_int(m, "m") * (x @ x) / 2))


def nb03_variance_when_active(x: Any) -> float:
    """Exercise 2 of notebook 03: Var f(w0, x) of one relu neuron (m = 1) over the draws where
    it is active at x (f != 0, probability 1/2): E[f^2] / P(f != 0) = 2 K^b(x, x) = |x|^2.

    Args:
      x: the input, shape (d,).
    """
    x = np.asarray(x, dtype=float).ravel()
    return float(x @ x)


# ---------------------------------------------------------------------------------------------
# notebook 04 (Taylor linearization): expected values of the exercises, out of sight


def nb04_lin_difference(f_lin: Any, step: Any, X: Any) -> np.ndarray:
    """Exercise 1 of notebook 04: f_lin(w0 + 3 delta, X) - f_lin(w0 - delta, X), evaluated by
    calling the Taylor model (the learner builds it from the features instead).

    Args:
      f_lin: the model f_lin(params, X).  step: s -> the weights w0 + s delta.
      X: inputs, shape (n, d).
    Returns:
      shape (n,).
    """
    return np.asarray(f_lin(step(3.0), X), dtype=float) - np.asarray(f_lin(step(-1.0), X),
                                                                      dtype=float)


def nb04_width_for_change(c: float, slope: float, target: float = 0.01) -> float:
    """Exercise 2 of notebook 04: the width m at which the fit c m^slope (slope < 0) of the
    relative weight change reaches `target`: m = (target / c)^(1 / slope).

    Args:
      c: > 0.  slope: < 0.  target: > 0.
    """
    c, target = v.positive_float(c, "c"), v.positive_float(target, "target")
    if not slope < 0:
        raise ValueError(f"slope must be < 0 (a quantity that falls with m), got {slope!r}")
    return float((target / c) ** (1 / slope))


# --------------------------------------------------------------------------------- notebook 07

def nb07_relu_circle_eigenvalue(k: int) -> float:
    """Exact eigenvalue of frequency k of the relu NTK on the unit circle, no constant input.

    Normalised as (1/pi) int_0^pi K(phi) cos(k phi) dphi (Bietti & Mairal 2019):
    3/pi^2 (k = 0), 1/4 (k = 1), (k^2 + 3) / (pi^2 (k^2 - 1)^2) (even k), 0 (odd k >= 3).
    """
    k = int(k)
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    if k == 0:
        return 3 / np.pi**2
    if k == 1:
        return 0.25
    return (k**2 + 3) / (np.pi**2 * (k**2 - 1) ** 2) if k % 2 == 0 else 0.0


def nb07_exercise1() -> float:
    """lambda_2 / lambda_4 of the relu circle spectrum: (7/9) / (19/225) = 175/19."""
    return nb07_relu_circle_eigenvalue(2) / nb07_relu_circle_eigenvalue(4)


def nb07_exercise3(K: Any) -> float:
    """v_1^T K^-1 v_1 for the unit top eigenvector v_1 of K, by a linear solve."""
    K = np.asarray(K, dtype=np.float64)
    v = np.linalg.eigh(K)[1][:, -1]
    return float(v @ np.linalg.solve(K, v))


def nb07_exercise4(K: Any, y: Any, fraction: float = 0.01) -> float:
    """Flow time at which (1/2)|exp(-K t) y|^2 falls to `fraction` of (1/2)|y|^2 (bisection)."""
    lam, V = np.linalg.eigh(np.asarray(K, dtype=np.float64))
    c2 = (V.T @ np.asarray(y, dtype=np.float64)) ** 2
    lam = np.clip(lam, 0.0, None)

    def left(t: float) -> float:
        return float(np.sum(c2 * np.exp(-2 * lam * t)) / np.sum(c2)) - fraction

    lo, hi = 0.0, 1.0
    while left(hi) > 0:
        lo, hi = hi, 2 * hi
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if left(mid) > 0 else (lo, mid)
    return (lo + hi) / 2


# ---------------------------------------------------------------------------------------------
# notebooks 05 (neural tangent kernel) and 06 (gradient flow): expected values of the exercises


def nb05_relu_Kb(x: Any, x2: Any) -> float:
    """Exercise 1 of notebook 05: the infinite-width relu K^b(x, x') = E[relu(a.x) relu(a.x')]
    = |x||x'| (sin theta + (pi - theta) cos theta) / (2 pi), theta the angle between x and x'.

    Args:
      x, x2: two nonzero vectors of the same length d.
    """
    x, x2 = np.asarray(x, dtype=float).ravel(), np.asarray(x2, dtype=float).ravel()
    nx, nx2 = float(np.linalg.norm(x)), float(np.linalg.norm(x2))
    theta = float(np.arccos(np.clip(x @ x2 / (nx * nx2), -1.0, 1.0)))
    return nx * nx2 * (np.sin(theta) + (np.pi - theta) * np.cos(theta)) / (2 * np.pi)


def nb05_tanh_ntk(A: Any, b: Any, x: Any) -> float:
    """Exercise 2 of notebook 05: K_m(x, x) of the tanh network f = (1/sqrt(m)) sum b_i tanh(a_i.x),
    the sum of squared gradients: (x.x) (1/m) sum b_i^2 tanh'(a_i.x)^2 + (1/m) sum tanh(a_i.x)^2.

    Args:
      A: first-layer weights, shape (m, d).  b: shape (m,).  x: one input, shape (d,).
    """
    A, b, x = (np.asarray(a, dtype=float) for a in (A, b, x))
    z = np.tanh(A @ x)
    m = b.size
    return float(np.sum(b**2 * (1 - z**2) ** 2) * (x @ x) / m + np.sum(z**2) / m)


def nb06_time_for_factor_e(eigvals: Any) -> float:
    """Exercise 1 of notebook 06: the flow time after which the residual along the top
    eigenvector has shrunk by a factor e: 1 / lambda_max."""
    return 1.0 / float(np.max(np.asarray(eigvals, dtype=float)))


def nb06_steps_to_shrink(eigvals: Any, eta: float, *, index: int = 4,
                         factor: float = 100.0) -> int:
    """Exercise 2 of notebook 06: the number of gradient-descent steps k after which the residual
    along eigenvector `index` (0-based, eigenvalues largest first) has shrunk by `factor`:
    the smallest k with |1 - eta lambda|^k <= 1 / factor.

    Args:
      eigvals: eigenvalues of K, shape (n,).  eta: learning rate with 0 < eta lambda < 2.
    """
    lam = np.sort(np.asarray(eigvals, dtype=float))[::-1][index]
    q = abs(1 - v.positive_float(eta, "eta") * lam)
    if not 0 < q < 1:
        raise ValueError(f"eta * lambda must lie in (0, 2) (a shrinking mode), got {eta * lam!r}")
    return int(np.ceil(np.log(factor) / -np.log(q)))


# ---------------------------------------------------------------------------------------------
# notebook 08 (beyond the kernel): expected values of the exercises, out of the learner's sight


def _nb08_run(runs: Any, m: int, alpha: float) -> Any:
    try:
        return runs[m, alpha]
    except (KeyError, TypeError):
        raise ValueError(f"runs must hold the run (m, alpha) = ({m!r}, {alpha!r}) of notebook "
                         "08's section 2 (the dict `sweep`)") from None


def nb08_weight_change(runs: Any, m: int = 256, alpha: float = 100.0) -> float:
    """Exercise 1 of notebook 08: the measured relative weight change ||w_T - w0|| / ||w0|| of
    the run (m, alpha) in `runs` (notebook 08's `sweep`, runs with a `weight_change` array)."""
    return float(np.asarray(_nb08_run(runs, m, alpha).weight_change)[-1])


def nb08_mean_field_alpha(m: int) -> float:
    """Exercise 2 of notebook 08: the alpha at which alpha (f - f0) with the NTK-scaled f is
    the mean-field network (1/m) sum_i (...): alpha / sqrt(m) = 1 / m, alpha = 1 / sqrt(m)."""
    return 1.0 / float(np.sqrt(v.positive_int(m, "m")))


def nb08_initial_alignment(runs: Any, m: int = 256, alpha: float = 1.0) -> float:
    """Exercise 3 of notebook 08: the alignment of K(w0) with the centred target, as measured
    at t = 0 by the run (m, alpha) in `runs` (the same for every alpha of one width)."""
    return float(np.asarray(_nb08_run(runs, m, alpha).alignment)[0])
