"""Classic kernels and their explicit feature maps (MATH.md sections 1-2; notebooks 01, 02).

Section 1: a fixed feature map `phi: R^d -> R^D` and the model `f(w, x) = w . phi(x)`, linear
in `w`. For the polynomial map `D = C(d + p, p)` grows combinatorially.
Section 2: the kernel trick `K(x, x') = <phi(x), phi(x')>` computes the same inner products
without forming `phi`; kernel (ridge) regression `f(x*) = K(x*, X) (K(X, X) + lam I)^-1 y`
gives the same predictions as least squares on the explicit features.

Shapes: inputs `X` (n, d), targets `y` (n,), kernels (n1, n2), features (n, D).
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from . import _validate as v

# ---------------------------------------------------------------------------------------------
# Explicit polynomial features


def n_polynomial_features(d: int, p: int) -> int:
    """Number of monomials of degree 0..p in d variables: D = C(d + p, p).

    Args:
      d: input dimension (>= 1).  p: degree (>= 1).
    Returns:
      D, the length of `polynomial_features(X, p)[i]`.
    Introduced in notebooks/01 (classic kernels): the cost of explicit features.
    """
    d = v.positive_int(d, "d")
    p = v.positive_int(p, "p")
    return math.comb(d + p, p)


@functools.lru_cache(maxsize=16)
def _monomial_table(d: int, p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The monomials of degree 0..p in d variables, ordered by degree then lexicographically.

    A monomial of degree k is a sorted index tuple (i1 <= ... <= ik), e.g. (0, 0, 2) = x1^2 x3.
    Within a degree the tuples run in lexicographic order, so those that start with variable j
    form one contiguous block, and (j, rest) is `x_j` times the degree-(k-1) monomial `rest`,
    which starts with a variable >= j: a tail block of the previous degree. Hence every
    monomial is `X[:, var] * previous[:, parent]`, one multiplication per feature.

    Returns (all of length D):
      exponents (D, d) int, degree (D,) int, parent (D,) int (position of the monomial of one
      degree lower within its degree, -1 for the constant), var (D,) int (the variable it
      multiplies, -1 for the constant).
    """
    exponents = [np.zeros((1, d), np.int64)]
    parent, var = [np.array([-1])], [np.array([-1])]
    first = np.zeros(d, np.int64)  # where tuples starting with a variable >= j begin
    for _ in range(p):
        prev = exponents[-1]
        blocks = [np.arange(first[j], len(prev)) for j in range(d)]
        lengths = np.array([len(b) for b in blocks])
        par = np.concatenate(blocks)
        vj = np.repeat(np.arange(d), lengths)
        exponents.append(prev[par] + np.eye(d, dtype=np.int64)[vj])
        parent.append(par)
        var.append(vj)
        first = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    E = np.concatenate(exponents)
    return E, E.sum(axis=1), np.concatenate(parent), np.concatenate(var)


def _multinomial_sqrt(d: int, p: int) -> np.ndarray:
    """sqrt(p! / ((p - k)! alpha_1! ... alpha_d!)) for each monomial x^alpha of degree k."""
    E, degree, _, _ = _monomial_table(d, p)
    fact = np.array([math.factorial(i) for i in range(p + 1)], np.float64)
    return np.sqrt(fact[p] / (fact[p - degree] * np.prod(fact[E], axis=1)))


@functools.partial(jax.jit, static_argnames=("p",))
def _polynomial_features(X: Array, c: Array, p: int) -> Array:
    d = X.shape[1]
    _, degree, parent, var = _monomial_table(d, p)
    columns = [jnp.ones((X.shape[0], 1), X.dtype)]  # degree 0, then one block per degree
    for k in range(1, p + 1):
        idx = np.flatnonzero(degree == k)
        columns.append(X[:, var[idx]] * columns[-1][:, parent[idx]])
    monomials = jnp.concatenate(columns, axis=1)
    # sqrt(multinomial * c^(p - k)); with c = 0, 0^0 = 1 keeps degree p, zeroes the rest.
    scale = jnp.asarray(_multinomial_sqrt(d, p), X.dtype) * jnp.sqrt(c) ** jnp.asarray(
        p - degree, X.dtype)
    return monomials * scale


def polynomial_features(X: Array, p: int, c: float = 1.0) -> Array:
    """Explicit feature map of the polynomial kernel: phi(x) . phi(x') = (c + x . x')^p.

    Expanding (c + sum_i x_i x'_i)^p with the multinomial theorem gives one coordinate per
    monomial x^alpha = x_1^alpha_1 ... x_d^alpha_d of degree k = |alpha| in 0..p:

        phi_alpha(x) = sqrt(p! / ((p - k)! alpha_1! ... alpha_d!) * c^(p - k)) * x^alpha.

    Columns are ordered by degree, then lexicographically (names: `polynomial_feature_names`).
    With c = 0 (the homogeneous kernel (x . x')^p) the layout stays the same: the columns of
    degree < p are identically zero, and only C(d + p - 1, p) of the D columns carry values.

    Args:
      X: inputs, shape (n, d).
      p: degree (integer >= 1).  c: offset (finite, >= 0).
    Returns:
      features, shape (n, D) with D = C(d + p, p) = `n_polynomial_features(d, p)`; the dtype
      of X. Memory n * D: fine for d up to about 20 with p up to about 6.
    Introduced in notebooks/01 (classic kernels); the kernel trick replaces it by
    `polynomial_kernel` in notebooks/02.
    """
    X = v.matrix(X, "X")
    p = v.positive_int(p, "p")
    c = v.positive_float(c, "c", allow_zero=True)
    return _polynomial_features(X, jnp.asarray(c, X.dtype), p)


def polynomial_feature_names(d: int, p: int) -> list[str]:
    """Names of the columns of `polynomial_features`, e.g. d = 2, p = 2:
    ['1', 'x1', 'x2', 'x1^2', 'x1 x2', 'x2^2'] (variables numbered from 1, as in the notes).

    Args:
      d: input dimension (>= 1).  p: degree (>= 1).
    Returns:
      D = C(d + p, p) strings, in the column order of `polynomial_features`.
    """
    d = v.positive_int(d, "d")
    p = v.positive_int(p, "p")
    E = _monomial_table(d, p)[0]
    names = []
    for row in E:
        parts = [f"x{i + 1}" + (f"^{e}" if e > 1 else "") for i, e in enumerate(row) if e]
        names.append(" ".join(parts) or "1")
    return names


# ---------------------------------------------------------------------------------------------
# Kernels: K(X1, X2) of shape (n1, n2); X2 = None means X1 (the Gram matrix).


def _pair(X1: Array, X2: Array | None) -> tuple[Array, Array]:
    X1 = v.matrix(X1, "X1")
    X2 = X1 if X2 is None else v.matrix(X2, "X2", cols=X1.shape[1])
    return X1, X2


@jax.jit
def _linear_kernel(X1: Array, X2: Array) -> Array:
    return X1 @ X2.T


def linear_kernel(X1: Array, X2: Array | None = None) -> Array:
    """Linear kernel K(x, x') = x . x' (the feature map phi(x) = x).

    Args:
      X1: inputs, shape (n1, d).  X2: shape (n2, d); None means X1.
    Returns:
      kernel matrix X1 X2^T, shape (n1, n2).
    Introduced in notebooks/02 (kernel trick).
    """
    return _linear_kernel(*_pair(X1, X2))


@functools.partial(jax.jit, static_argnames=("p",))
def _polynomial_kernel(X1: Array, X2: Array, c: Array, p: int) -> Array:
    return (c + X1 @ X2.T) ** p


def polynomial_kernel(X1: Array, X2: Array | None = None, *, p: int, c: float = 1.0) -> Array:
    """Polynomial kernel K(x, x') = (c + x . x')^p (the notes call the degree K).

    Equals `polynomial_features(X1, p, c) @ polynomial_features(X2, p, c).T` at a cost of
    O(n1 n2 d) instead of O(n1 n2 D), D = C(d + p, p).

    Args:
      X1: inputs, shape (n1, d).  X2: shape (n2, d); None means X1.
      p: degree (integer >= 1).  c: offset (finite, >= 0).
    Returns:
      kernel matrix, shape (n1, n2).
    Introduced in notebooks/02 (kernel trick).
    """
    X1, X2 = _pair(X1, X2)
    p = v.positive_int(p, "p")
    c = v.positive_float(c, "c", allow_zero=True)
    dtype = jnp.result_type(X1, X2)
    return _polynomial_kernel(X1, X2, jnp.asarray(c, dtype), p)


@functools.partial(jax.jit, static_argnames=("gram",))
def _rbf_kernel(X1: Array, X2: Array, lengthscale: Array, gram: bool) -> Array:
    # |x - x'|^2 = |x|^2 + |x'|^2 - 2 x . x', after moving the origin to the mean of X1
    # (distances do not change; the cancellation shrinks for data far from the origin).
    mean = jnp.mean(X1, axis=0)
    A, B = X1 - mean, X2 - mean
    sq = jnp.sum(A * A, axis=1)[:, None] + jnp.sum(B * B, axis=1)[None, :] - 2 * (A @ B.T)
    sq = jnp.maximum(sq, 0)
    if gram:
        sq = jnp.where(jnp.eye(sq.shape[0], dtype=bool), 0, sq)
    return jnp.exp(-sq / (2 * lengthscale**2))


def rbf_kernel(X1: Array, X2: Array | None = None, *, lengthscale: float = 1.0) -> Array:
    """Gaussian (RBF) kernel K(x, x') = exp(-|x - x'|^2 / (2 lengthscale^2)).

    Its feature map is infinite-dimensional: only the kernel trick can use it. Squared
    distances are clipped at 0 (round-off never makes them negative, so K <= 1), and the
    Gram matrix (X2 = None) is exactly 1 on its diagonal.

    Args:
      X1: inputs, shape (n1, d).  X2: shape (n2, d); None means X1.
      lengthscale: l > 0, the distance over which the kernel decays.
    Returns:
      kernel matrix with entries in [0, 1], shape (n1, n2).
    Introduced in notebooks/02 (kernel trick).
    """
    gram = X2 is None
    X1, X2 = _pair(X1, X2)
    lengthscale = v.positive_float(lengthscale, "lengthscale")
    dtype = jnp.result_type(X1, X2)
    return _rbf_kernel(X1, X2, jnp.asarray(lengthscale, dtype), gram)


# ---------------------------------------------------------------------------------------------
# Gram matrix checks


class GramReport(NamedTuple):
    """Result of `check_gram`: is K symmetric and positive semi-definite (a valid Gram matrix)?

    Fields:
      symmetric: max |K - K^T| within the tolerance (relative to max |K|).
      max_asymmetry: max |K_ij - K_ji|.
      min_eigenvalue: smallest eigenvalue of the symmetric part (K + K^T) / 2.
      psd: symmetric, and no eigenvalue below -tol * (largest |eigenvalue|).
    """

    symmetric: bool
    max_asymmetry: float
    min_eigenvalue: float
    psd: bool

    def __repr__(self) -> str:
        sym = (f"{'symmetric' if self.symmetric else 'NOT symmetric'} "
               f"(max |K - K^T| = {self.max_asymmetry:.3g})")
        lam = f"smallest eigenvalue {self.min_eigenvalue:.3g}"
        if self.psd:
            note = ", zero up to round-off" if self.min_eigenvalue < 0 else ""
            return f"GramReport: {sym}, PSD ({lam}{note}): a valid Gram matrix"
        if not self.symmetric:
            return f"GramReport: {sym}: not a Gram matrix ({lam} of (K + K^T)/2)"
        return f"GramReport: {sym}, NOT PSD ({lam} < 0): not a valid Gram matrix"


@jax.jit
def _gram_stats(K: Array) -> tuple[Array, Array, Array]:
    return jnp.max(jnp.abs(K - K.T)), jnp.max(jnp.abs(K)), jnp.linalg.eigvalsh((K + K.T) / 2)


def _roundoff_tol(n: int, dtype: jnp.dtype) -> float:
    """Relative round-off level of an n x n Gram matrix and its eigenvalues: 10 n eps."""
    return 10 * n * float(jnp.finfo(dtype).eps)


def check_gram(K: Array, *, tol: float | None = None) -> GramReport:
    """Check that K is symmetric positive semi-definite, as every kernel Gram matrix is.

    Round-off makes exact zero eigenvalues come out as tiny numbers of either sign, so both
    tests allow a relative tolerance: |K_ij - K_ji| <= tol * max |K| and every eigenvalue
    >= -tol * (largest |eigenvalue|). Default tol = 10 n eps (eps of K's dtype: 2.2e-16 for
    float64, 1.2e-7 for float32).

    Args:
      K: matrix, shape (n, n).
      tol: relative tolerance (>= 0); None for the default.
    Returns:
      `GramReport(symmetric, max_asymmetry, min_eigenvalue, psd)`; its repr explains it.
    Introduced in notebooks/02 (kernel trick).
    """
    K = v.square(K, "K")
    tol = (_roundoff_tol(K.shape[0], K.dtype) if tol is None
           else v.positive_float(tol, "tol", allow_zero=True))
    asym, scale, eig = (np.asarray(a) for a in _gram_stats(K))
    symmetric = bool(asym <= tol * scale)
    psd = symmetric and bool(eig[0] >= -tol * np.max(np.abs(eig)))
    return GramReport(symmetric, float(asym), float(eig[0]), psd)


# ---------------------------------------------------------------------------------------------
# Kernel ridge regression (dual) and least squares on features (primal)


@jax.jit
def _ridge_cholesky(K: Array, y: Array, lam: Array) -> Array:
    factor = jax.scipy.linalg.cho_factor(K + lam * jnp.eye(K.shape[0], dtype=K.dtype),
                                         lower=True)
    return jax.scipy.linalg.cho_solve(factor, y)


@jax.jit
def _ridge_pinv(K: Array, y: Array) -> Array:
    mu, V = jnp.linalg.eigh(K)
    keep = jnp.abs(mu) > _roundoff_tol(K.shape[0], K.dtype) * jnp.max(jnp.abs(mu))
    inv = jnp.where(keep, 1 / jnp.where(keep, mu, 1), 0)
    return V @ (inv * (V.T @ y))


def kernel_ridge(K: Array, y: Array, lam: float = 0.0) -> Array:
    """Dual coefficients of kernel (ridge) regression: alpha = (K + lam I)^-1 y.

    Predictions at test points are one matrix product, f(X*) = K(X*, X) @ alpha, e.g.
    `rbf_kernel(X_test, X) @ kernel_ridge(rbf_kernel(X), y, lam)`. With K = Phi Phi^T they equal
    the primal predictions `Phi(X*) @ least_squares(Phi, y, lam)`.

    lam > 0: Cholesky factorisation of K + lam I (raises if K is not PSD).
    lam = 0: alpha = K^+ y with the pseudo-inverse from an eigendecomposition of K, dropping
    eigenvalues that are zero up to round-off (|mu| <= 10 n eps max |mu|, as in `check_gram`).
    For invertible K this is K^-1 y; for singular K (more points than features, repeated
    points) it gives the minimum-norm least-squares fit, and K alpha interpolates y whenever
    y lies in the range of K. Cost O(n^3) either way, against O(n D^2 + D^3) in the primal.

    Args:
      K: training Gram matrix K(X, X), symmetric PSD, shape (n, n).
      y: targets, shape (n,).
      lam: ridge parameter lambda (finite, >= 0).
    Returns:
      alpha, shape (n,).
    Introduced in notebooks/02 (kernel trick).
    """
    K = v.square(K, "K", symmetric=True)
    y = v.vector(y, "y", size=K.shape[0])
    lam = v.positive_float(lam, "lam", allow_zero=True)
    dtype = jnp.result_type(K, y)
    K, y = K.astype(dtype), y.astype(dtype)
    if lam == 0:
        return _ridge_pinv(K, y)
    alpha = _ridge_cholesky(K, y, jnp.asarray(lam, dtype))
    if not v.is_traced(alpha) and not bool(jnp.all(jnp.isfinite(alpha))):
        raise ValueError(f"K + lam I is not positive definite (lam = {lam!r}): K must be a "
                         "PSD Gram matrix (see check_gram), or lam larger")
    return alpha


@jax.jit
def _least_squares(Phi: Array, y: Array, lam: Array) -> Array:
    U, s, Vt = jnp.linalg.svd(Phi, full_matrices=False)
    cutoff = max(Phi.shape) * jnp.finfo(Phi.dtype).eps * jnp.max(s)
    keep = (lam > 0) | (s > cutoff)
    gain = jnp.where(keep, s / jnp.where(keep, s * s + lam, 1), 0)
    return Vt.T @ (gain * (U.T @ y))


def least_squares(Phi: Array, y: Array, lam: float = 0.0) -> Array:
    """Primal ridge / least-squares weights in feature space:
    w = argmin |Phi w - y|^2 + lam |w|^2, and for lam = 0 the minimum-norm minimiser.

    lam > 0: w = (Phi^T Phi + lam I)^-1 Phi^T y. lam = 0: w = Phi^+ y, the least-squares fit
    when n > D and the minimum-norm interpolant when n < D. Computed from the SVD
    Phi = U S V^T as w = V S / (S^2 + lam) U^T y (singular values below max(n, D) eps s_max
    dropped when lam = 0, as numpy.linalg.lstsq does), never from an explicit inverse.
    The model is f(x) = w . phi(x): predictions `Phi(X*) @ w`.

    Args:
      Phi: features, shape (n, D), e.g. `polynomial_features(X, p)`.
      y: targets, shape (n,).
      lam: ridge parameter lambda (finite, >= 0).
    Returns:
      w, shape (D,).
    Introduced in notebooks/01 (classic kernels); its dual is `kernel_ridge`.
    """
    Phi = v.matrix(Phi, "Phi")
    y = v.vector(y, "y", size=Phi.shape[0])
    lam = v.positive_float(lam, "lam", allow_zero=True)
    dtype = jnp.result_type(Phi, y)
    return _least_squares(Phi.astype(dtype), y.astype(dtype), jnp.asarray(lam, dtype))

