"""Classic kernels and their explicit feature maps (notebooks 01 and 02).

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


#: Factor on `_validate.roundoff(n, dtype)` (n eps) below which an eigenvalue of an n x n Gram
#: matrix, relative to the largest, counts as zero: forming K = Phi Phi^T and decomposing it
#: each add errors of a few n eps lambda_max; 10 leaves room for both.
GRAM_ROUNDOFF_FACTOR = 10.0


def gram_roundoff(n: int, dtype) -> float:
    """Relative round-off level of an n x n Gram matrix and its eigenvalues:
    `GRAM_ROUNDOFF_FACTOR * roundoff(n, dtype)` = 10 n eps (eps of K's dtype: 2.2e-16 for
    float64, 1.2e-7 for float32). An eigenvalue below this times lambda_max is zero up to
    round-off (used by `check_gram` and `kernel_ridge`)."""
    return GRAM_ROUNDOFF_FACTOR * v.roundoff(n, dtype)


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
    tol = (gram_roundoff(K.shape[0], K.dtype) if tol is None
           else v.positive_float(tol, "tol", allow_zero=True))
    asym, scale, eig = (np.asarray(a) for a in _gram_stats(K))
    symmetric = bool(asym <= tol * scale)
    psd = symmetric and bool(eig[0] >= -tol * np.max(np.abs(eig)))
    return GramReport(symmetric, float(asym), float(eig[0]), psd)


# ---------------------------------------------------------------------------------------------
# Kernel ridge regression (dual) and least squares on features (primal)


@jax.jit
def _ridge_cholesky(K: Array, y: Array, lam: Array) -> Array:
    """(K + lam I)^-1 y by Cholesky: fast, for well-conditioned systems (the timed routes)."""
    factor = jax.scipy.linalg.cho_factor(K + lam * jnp.eye(K.shape[0], dtype=K.dtype),
                                         lower=True)
    return jax.scipy.linalg.cho_solve(factor, y)


@jax.jit
def _ridge_eigh(K: Array, y: Array, lam: Array) -> tuple[Array, Array]:
    """alpha from K = V diag(mu) V^T, and the smallest eigenvalue of K (for the PSD check)."""
    mu, V = jnp.linalg.eigh(K)
    cutoff = gram_roundoff(K.shape[0], K.dtype) * jnp.max(jnp.abs(mu))
    keep = (jnp.abs(mu) > cutoff) | (lam > cutoff)
    gain = jnp.where(keep, 1 / jnp.where(keep, mu + lam, 1), 0)
    return V @ (gain * (V.T @ y)), mu[0] + jnp.where(lam > cutoff, lam, cutoff)


def kernel_ridge(K: Array, y: Array, lam: float = 0.0) -> Array:
    """Dual coefficients of kernel (ridge) regression: alpha = (K + lam I)^-1 y.

    Predictions at test points are one matrix product, f(X*) = K(X*, X) @ alpha, e.g.
    `rbf_kernel(X_test, X) @ kernel_ridge(rbf_kernel(X), y, lam)`. With K = Phi Phi^T they equal
    the primal predictions `Phi(X*) @ least_squares(Phi, y, lam)`.

    Computed from the eigendecomposition K = V diag(mu) V^T as alpha = V (V^T y / (mu + lam)),
    never from a factorisation that round-off can break. Eigenvalues that are zero up to
    round-off (|mu| <= `gram_roundoff(n)` max |mu| = 10 n eps max |mu|, as in `check_gram`)
    carry no information that K holds, so when lam is below that level too they are dropped:
    - lam = 0: alpha = K^+ y, the pseudo-inverse. For invertible K this is K^-1 y; for
      singular K (more points than features, repeated points) it gives the minimum-norm
      least-squares fit, and K alpha interpolates y whenever y lies in the range of K.
    - 0 < lam <= the round-off level: the same directions dropped, 1 / (mu + lam) on the rest.
      (Exact arithmetic would add y's component along them divided by lam; no prediction
      K(X*, X) alpha of a kernel with a feature map sees it, since K(X*, X)'s rows lie in K's
      range, but in floating point it multiplies round-off by 1 / lam.)
    - lam above the round-off level: every direction, alpha = (K + lam I)^-1 y.
    So every PSD K and every lam >= 0 give a finite alpha. Where K is badly conditioned (a
    polynomial kernel of high degree with a large offset) the dual sees fewer directions than
    the primal `least_squares` on Phi, whose singular values are the square roots of mu.
    Cost O(n^3), against O(n D^2 + D^3) in the primal.

    Args:
      K: training Gram matrix K(X, X), symmetric PSD, shape (n, n).
      y: targets, shape (n,).
      lam: ridge parameter lambda (finite, >= 0).
    Returns:
      alpha, shape (n,).
    Raises:
      ValueError: K + lam I is not positive definite beyond round-off (K has a negative
        eigenvalue that lam does not outweigh), for lam > 0.
    Introduced in notebooks/02 (kernel trick).
    """
    K = v.square(K, "K", symmetric=True)
    y = v.vector(y, "y", size=K.shape[0])
    lam = v.positive_float(lam, "lam", allow_zero=True)
    dtype = jnp.result_type(K, y)
    K, y = K.astype(dtype), y.astype(dtype)
    alpha, lowest = _ridge_eigh(K, y, jnp.asarray(lam, dtype))
    if lam > 0 and not v.is_traced(lowest) and float(lowest) <= 0:
        raise ValueError(f"K + lam I is not positive definite (lam = {lam!r}): K must be a "
                         "PSD Gram matrix (see check_gram), or lam larger")
    return alpha


@jax.jit
def _least_squares(Phi: Array, y: Array, lam: Array) -> Array:
    U, s, Vt = jnp.linalg.svd(Phi, full_matrices=False)
    cutoff = v.roundoff(max(Phi.shape), Phi.dtype) * jnp.max(s)  # factor 1, as numpy.lstsq
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



# ---------------------------------------------------------------------------------------------
# notebooks 01-02: the loss of a model linear in w, the RBF feature map, the two routes' cost


def linear_loss(Phi: Array, y: Array, w: Array) -> Array:
    """Squared loss of the model f(w, x) = w . phi(x): L(w) = 1/2 sum_j (w . phi(x_j) - y_j)^2.

    A sum, not a mean (the convention of every notebook). Convex in w: its Hessian Phi^T Phi is PSD.

    Args:
      Phi: features phi(x_j) as rows, shape (n, D).  y: targets, shape (n,).
      w: weights, shape (D,), or a batch of weights with shape (..., D).
    Returns:
      L(w), shape () for one w, (...) for a batch.
    Introduced in notebooks/01 (classic kernels).
    """
    Phi = v.matrix(Phi, "Phi")
    y = v.vector(y, "y", size=Phi.shape[0])
    w = jnp.asarray(w)
    if w.ndim < 1 or w.shape[-1] != Phi.shape[1]:
        raise ValueError(f"w must have shape (..., {Phi.shape[1]}), one weight per column of "
                         f"Phi, got shape {tuple(w.shape)}")
    return _linear_loss(Phi, y, w)


@jax.jit
def _linear_loss(Phi: Array, y: Array, w: Array) -> Array:
    U = w @ Phi.T - y
    return 0.5 * jnp.sum(U * U, axis=-1)


def linear_loss_gradient(Phi: Array, y: Array, w: Array) -> Array:
    """grad L(w) = sum_j (f(w, x_j) - y_j) phi(x_j) = Phi^T (Phi w - y), the residual f - y.

    The notes write (y_j - f(w, x_j)): the derivative of 1/2 (y - f)^2 brings a minus sign,
    and without it gradient descent would climb the loss.

    Args:
      Phi: features, shape (n, D).  y: targets, shape (n,).  w: weights, shape (D,).
    Returns:
      the gradient, shape (D,).
    Introduced in notebooks/01 (classic kernels).
    """
    Phi = v.matrix(Phi, "Phi")
    y = v.vector(y, "y", size=Phi.shape[0])
    w = v.vector(w, "w", size=Phi.shape[1])
    return Phi.T @ (Phi @ w - y)


def loss_slice(Phi: Array, y: Array, w_center: Array, i: int, j: int, wi: Array,
               wj: Array) -> Array:
    """L(w) on a grid over two weights, the others held at `w_center` (a 2-D slice of L).

    A slice of a convex function is convex; through the minimiser w* its lowest point is
    w* itself.

    Args:
      Phi: features, shape (n, D).  y: targets, shape (n,).
      w_center: the weights of the slice, shape (D,).
      i, j: the two weights that vary (distinct indices in 0..D-1).
      wi: values of w_i, shape (Ni,).  wj: values of w_j, shape (Nj,).
    Returns:
      L, shape (Nj, Ni): row r, column s is L at w_i = wi[s], w_j = wj[r] (the layout of
      `ax.contour(wi, wj, L)`).
    Introduced in notebooks/01 (classic kernels).
    """
    Phi = v.matrix(Phi, "Phi")
    D = Phi.shape[1]
    w_center = v.vector(w_center, "w_center", size=D)
    for name, idx in (("i", i), ("j", j)):
        if isinstance(idx, bool) or not isinstance(idx, int) or not 0 <= idx < D:
            raise ValueError(f"{name} must be a weight index in 0..{D - 1}, got {idx!r}")
    if i == j:
        raise ValueError(f"i and j must be two different weights, got i = j = {i}")
    wi, wj = v.vector(wi, "wi"), v.vector(wj, "wj")
    y = v.vector(y, "y", size=Phi.shape[0])
    return _loss_slice(Phi, y, w_center, wi, wj, i, j)


@functools.partial(jax.jit, static_argnames=("i", "j"))
def _loss_slice(Phi: Array, y: Array, w_center: Array, wi: Array, wj: Array, i: int,
                j: int) -> Array:
    Wi, Wj = jnp.meshgrid(wi, wj)
    W = jnp.broadcast_to(w_center, (*Wi.shape, w_center.shape[0]))
    return _linear_loss(Phi, y, W.at[..., i].set(Wi).at[..., j].set(Wj))


def rbf_taylor_features(X: Array, n_terms: int, *, lengthscale: float = 1.0) -> Array:
    """The first `n_terms` coordinates of the (infinite) feature map of the 1-D RBF kernel.

    exp(-(x - x')^2 / (2 l^2)) = exp(-x^2 / 2l^2) exp(-x'^2 / 2l^2) sum_k (x x' / l^2)^k / k!,
    so phi_k(x) = exp(-x^2 / (2 l^2)) (x / l)^k / sqrt(k!), k = 0, 1, 2, ...: the RBF kernel
    is <phi(x), phi(x')> with infinitely many coordinates. Truncating after `n_terms` gives a
    kernel that approaches `rbf_kernel` as n_terms grows, but equals it for no finite D.

    Args:
      X: one-dimensional inputs, shape (n, 1).
      n_terms: number of coordinates kept (>= 1).  lengthscale: l > 0.
    Returns:
      features, shape (n, n_terms).
    Introduced in notebooks/02 (kernel trick).
    """
    X = v.matrix(X, "X", cols=1)
    n_terms = v.positive_int(n_terms, "n_terms")
    lengthscale = v.positive_float(lengthscale, "lengthscale")
    return _rbf_taylor_features(X, jnp.asarray(lengthscale, X.dtype), n_terms)


@functools.partial(jax.jit, static_argnames=("n_terms",))
def _rbf_taylor_features(X: Array, lengthscale: Array, n_terms: int) -> Array:
    z = X[:, 0] / lengthscale
    k = jnp.arange(n_terms)
    log_fact = jax.scipy.special.gammaln(k + 1.0).astype(X.dtype)
    return jnp.exp(-0.5 * z**2)[:, None] * z[:, None] ** k * jnp.exp(-0.5 * log_fact)


ROUTES = ("primal", "dual")


def polynomial_ridge_predict(X: Array, y: Array, X_test: Array, *, p: int, c: float = 1.0,
                             lam: float = 0.0, route: str = "dual") -> Array:
    """Predictions of ridge regression with the polynomial kernel (c + x . x')^p, two routes.

    primal: Phi = polynomial_features(X, p, c), f(X*) = Phi(X*) w with, for lam > 0,
      w = (Phi^T Phi + lam I_D)^-1 Phi^T y from a Cholesky factorisation of the D x D normal
      matrix (cost O(n D^2 + D^3), D = C(d + p, p)), and for lam = 0 w = least_squares(Phi, y)
      (SVD: the minimum-norm least-squares weights).
    dual: alpha = kernel_ridge(polynomial_kernel(X, p=p, c=c), y, lam),
      f(X*) = K(X*, X) alpha; cost O(n^2 d + n^3), never forming phi.
    Both give the same predictions (for lam = 0: the minimum-norm least-squares fit).

    Args:
      X: training inputs, shape (n, d).  y: targets, shape (n,).
      X_test: prediction points, shape (n*, d).
      p: degree (>= 1).  c: offset (>= 0).  lam: ridge parameter (>= 0).
      route: 'primal' or 'dual'.
    Returns:
      f(X*), shape (n*,).
    Introduced in notebooks/02 (kernel trick).
    """
    route = v.choice(route, "route", ROUTES)
    X = v.matrix(X, "X")
    X_test = v.matrix(X_test, "X_test", cols=X.shape[1])
    y = v.vector(y, "y", size=X.shape[0])
    p = v.positive_int(p, "p")
    c = v.positive_float(c, "c", allow_zero=True)
    lam = v.positive_float(lam, "lam", allow_zero=True)
    if lam > 0:  # one compiled program per route and shape: cheap to time
        dtype = jnp.result_type(X, X_test, y)
        X, X_test, y = X.astype(dtype), X_test.astype(dtype), y.astype(dtype)
        fit = _primal_ridge if route == "primal" else _dual_ridge
        return fit(X, y, X_test, jnp.asarray(c, dtype), jnp.asarray(lam, dtype), p)
    if route == "primal":
        w = least_squares(polynomial_features(X, p, c), y)
        return polynomial_features(X_test, p, c) @ w
    alpha = kernel_ridge(polynomial_kernel(X, p=p, c=c), y)
    return polynomial_kernel(X_test, X, p=p, c=c) @ alpha


@functools.partial(jax.jit, static_argnames=("p",))
def _primal_ridge(X: Array, y: Array, X_test: Array, c: Array, lam: Array, p: int) -> Array:
    Phi = _polynomial_features(X, c, p)                          # (n, D)
    w = _ridge_cholesky(Phi.T @ Phi, Phi.T @ y, lam)             # D x D normal equations
    return _polynomial_features(X_test, c, p) @ w


@functools.partial(jax.jit, static_argnames=("p",))
def _dual_ridge(X: Array, y: Array, X_test: Array, c: Array, lam: Array, p: int) -> Array:
    alpha = _ridge_cholesky(_polynomial_kernel(X, X, c, p), y, lam)  # n x n system
    return _polynomial_kernel(X_test, X, c, p) @ alpha


def ridge_flops(n: int, d: int, p: int, route: str = "dual") -> int:
    """Leading count of multiply-adds of `polynomial_ridge_predict` (lam > 0), fit only.

    primal: n D^2 (the normal matrix Phi^T Phi) + D^3 / 3 (its Cholesky factor), D = C(d+p, p).
    dual: n^2 d (the Gram matrix K) + n^3 / 3 (its Cholesky factor).

    Args:
      n: number of training points.  d: input dimension.  p: degree (all >= 1).
      route: 'primal' or 'dual'.
    Returns:
      the count, an int: what measured seconds of the fit should follow.
    Introduced in notebooks/01 and 02 (the cost of D against the cost of n).
    """
    n = v.positive_int(n, "n")
    route = v.choice(route, "route", ROUTES)
    if route == "primal":
        D = n_polynomial_features(d, p)
        return n * D * D + D**3 // 3
    d = v.positive_int(d, "d")
    v.positive_int(p, "p")
    return n * n * d + n**3 // 3


# ---------------------------------------------------------------------------------------------
# A single-index target (notebook 08): y depends on x only through one direction u

SINGLE_INDEX_TARGETS = ("abs", "relu")
"""The link functions g of `single_index`: |z| and max(z, 0)."""


class SingleIndex(NamedTuple):
    """Inputs X (n, d [+ 1]), targets y (n,) and the hidden direction u (d,) of `single_index`."""

    X: Array
    y: Array
    u: Array


def single_index(key: Array, n: int, d: int, *, target: str = "abs", inputs: str = "sphere",
                 constant: bool = True, u: Array | None = None) -> SingleIndex:
    """A single-index regression task: y = g(sqrt(d) u . x), g = |.| or relu, |u| = 1.

    x is uniform on the unit sphere of R^d (inputs='sphere') or Gaussian N(0, I_d / d)
    (inputs='gaussian'), so |x| is about 1 and sqrt(d) u . x has variance 1 in both cases;
    with `constant` the coordinate 1 is appended (x -> (x, 1), the bias the notes' network
    lacks). The target depends on one direction u of R^d only: a network that learns
    features can find u, a kernel cannot (Ghorbani et al. 2019).

    Args:
      key: a `jax.random` key, the only source of randomness (split into inputs and u).
      n: number of points (>= 1).  d: input dimension (>= 1).
      target: 'abs' (y = |z|) or 'relu' (y = max(z, 0)), z = sqrt(d) u . x.
      inputs: 'sphere' or 'gaussian'.  constant: append the constant coordinate.
      u: the direction, shape (d,), normalised here; None draws it uniformly from the key.
    Returns:
      `SingleIndex(X, y, u)`: X shape (n, d + 1) with the constant (else (n, d)), y (n,),
      u (d,) of norm 1, in jax's default float dtype.
    Introduced in notebooks/08_beyond_the_kernel.ipynb.
    """
    if not (isinstance(key, Array) and (jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key)
                                        or (key.dtype == jnp.uint32 and key.shape == (2,)))):
        raise TypeError(f"key must be a jax.random key (jax.random.key(seed)), got "
                        f"{v.describe(key)}")
    n, d = v.positive_int(n, "n"), v.positive_int(d, "d")
    v.choice(target, "target", SINGLE_INDEX_TARGETS)
    v.choice(inputs, "inputs", ("sphere", "gaussian"))
    if not isinstance(constant, bool):
        raise TypeError(f"constant must be True or False, got {constant!r}")
    k_x, k_u = jax.random.split(key)
    dtype = jnp.result_type(float)
    u = jax.random.normal(k_u, (d,), dtype) if u is None else v.vector(u, "u", size=d)
    norm_u = float(jnp.linalg.norm(u))
    if norm_u == 0:
        raise ValueError("u must not be the zero vector")
    u = (u / norm_u).astype(dtype)
    X = jax.random.normal(k_x, (n, d), dtype)
    X = X / jnp.linalg.norm(X, axis=1, keepdims=True) if inputs == "sphere" else X / math.sqrt(d)
    z = math.sqrt(d) * (X @ u)
    y = jnp.abs(z) if target == "abs" else jnp.maximum(z, 0)
    if constant:
        X = jnp.concatenate([X, jnp.ones((n, 1), dtype)], axis=1)
    return SingleIndex(X, y, u)
