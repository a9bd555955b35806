"""The Neural Tangent Kernel of the notes' network (notebooks/05_neural_tangent_kernel.ipynb).

Finite width, closed form (no Jacobian of shape (n, P) is ever formed):

    K_m(x, x') = K^a + K^b,   s = net.output_scale(m, parameterization)  (s^2 = 1/m: 'ntk')
    K^a = s^2 (x . x') sum_i b_i^2 sigma'(a_i . x) sigma'(a_i . x')     (gradients wrt A)
    K^b = s^2 sum_i sigma(a_i . x) sigma(a_i . x')                       (gradients wrt b)

Infinite width (law of large numbers, a ~ N(0, I_d), b ~ N(0, 1)):

    K^a = (x . x') E[sigma'(a . x) sigma'(a . x')],   K^b = E[sigma(a . x) sigma(a . x')],

in closed form for relu (arc-cosine kernels) and erf, by two-dimensional Gauss-Hermite
quadrature for any activation. `autodiff_ntk` is the generic route J1 J2^T for any model,
`monte_carlo_ntk` the empirical NTK of a fresh network of huge width, in bounded memory.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from . import _validate as v
from . import net

CLOSED_FORMS = ("relu", "erf")
METHODS = ("closed_form", "quadrature")
# Elements of one (rows, n2, q, q) block of the quadrature: bounds its memory.
_QUADRATURE_BLOCK = 2**20
# numpy's Gauss-Hermite weights overflow beyond about 350 nodes.
MAX_QUADRATURE_POINTS = 256


class NTKParts(NamedTuple):
    """The NTK split by parameter block: `Ka` from the gradients wrt A, `Kb` wrt b.

    Both have shape (n1, n2); `K = Ka + Kb` is the whole NTK (the notes box only K^b).
    A NamedTuple, hence a jax pytree.
    """

    Ka: Array
    Kb: Array

    @property
    def K(self) -> Array:
        """The whole NTK K = Ka + Kb, shape (n1, n2)."""
        return self.Ka + self.Kb

    def __repr__(self) -> str:
        return (f"NTKParts(Ka, Kb: shape {tuple(self.Ka.shape)}, dtype {self.Ka.dtype}; "
                f"K = Ka + Kb)")


def _inputs(X1: Any, X2: Any, d: int | None = None) -> tuple[Array, Array | None]:
    X1 = v.matrix(X1, "X1", cols=d)
    return X1, None if X2 is None else v.matrix(X2, "X2", cols=X1.shape[1])


# ---------------------------------------------------------------- finite width, closed form

def _neuron_sums(A: Array, b: Array, X1: Array, X2: Array | None,
                 act: net.Activation) -> NTKParts:
    """Unscaled sums over the neurons: ((S1' b^2) S2'^T) * (X1 X2^T) and S1 S2^T."""
    Z1 = X1 @ A.T
    S1, D1 = act.fn(Z1), act.deriv(Z1)
    if X2 is None:
        X2, S2, D2 = X1, S1, D1
    else:
        Z2 = X2 @ A.T
        S2, D2 = act.fn(Z2), act.deriv(Z2)
    return NTKParts(((D1 * (b * b)) @ D2.T) * (X1 @ X2.T), S1 @ S2.T)


@partial(jax.jit, static_argnames=("activation", "parameterization"))
def _empirical_parts(A: Array, b: Array, X1: Array, X2: Array | None, activation: str,
                     parameterization: str) -> NTKParts:
    s2 = net.output_scale(A.shape[0], parameterization) ** 2
    Ka, Kb = _neuron_sums(A, b, X1, X2, net.activation(activation))
    return NTKParts(s2 * Ka, s2 * Kb)


@partial(jax.jit, static_argnames=("activation", "parameterization"))
def _empirical_ntk(A: Array, b: Array, X1: Array, X2: Array | None, activation: str,
                   parameterization: str) -> Array:
    return _empirical_parts(A, b, X1, X2, activation, parameterization).K


def _checked_empirical(params: Any, X1: Any, X2: Any, activation: str,
                       parameterization: str) -> tuple[net.Params, Array, Array | None]:
    """The arguments of the empirical NTK, validated (shapes, activation, parameterization)."""
    params = net.check_params(params)
    X1, X2 = _inputs(X1, X2, params.d)
    net.activation(activation)
    net.output_scale(params.m, parameterization)
    return params, X1, X2


def empirical_ntk_parts(params: net.Params, X1: Array, X2: Array | None = None, *,
                        activation: str = "relu", parameterization: str = "ntk") -> NTKParts:
    """Finite-width NTK of the network in `net`, split into K^a (wrt A) and K^b (wrt b).

    Closed form, with S = sigma(X A^T), S' = sigma'(X A^T) (shape (n, m)) and s the output
    scale (s^2 = 1/m for 'ntk'):
        Ka = ((S1' * b**2) @ S2'.T) * (X1 @ X2.T) * s**2,   Kb = S1 @ S2.T * s**2.
    Two matrix products, O(n1 n2 m + (n1 + n2) m d) time and O((n1 + n2) m + n1 n2) memory;
    no Jacobian of shape (n, P) is formed.

    Args:
      params: `Params(A=(m, d), b=(m,))`.
      X1: inputs, shape (n1, d).  X2: shape (n2, d); None means X1 (S1 is reused).
      activation: 'relu', 'erf' or 'tanh'.  parameterization: 'ntk' or 'standard'.
    Returns:
      `NTKParts(Ka, Kb)`, each of shape (n1, n2); `.K` is their sum.
    Introduced in notebooks/05; its m -> inf limit is `infinite_width_ntk_parts`.
    """
    params, X1, X2 = _checked_empirical(params, X1, X2, activation, parameterization)
    return _empirical_parts(params.A, params.b, X1, X2, activation, parameterization)


def empirical_ntk(params: net.Params, X1: Array, X2: Array | None = None, *,
                  activation: str = "relu", parameterization: str = "ntk") -> Array:
    """Finite-width NTK K_m(x, x') = <grad_w f(x), grad_w f(x')> of the network in `net`.

    Closed form: K_m = ((S1' * b**2) @ S2'.T) * (X1 @ X2.T) * s**2 + S1 @ S2.T * s**2,
    with S = sigma(X A^T), S' = sigma'(X A^T) and s^2 = 1/m ('ntk'); see
    `empirical_ntk_parts` for the two terms and the cost.

    Args:
      params: `Params(A=(m, d), b=(m,))`.
      X1: inputs, shape (n1, d).  X2: shape (n2, d); None means X1.
      activation: 'relu', 'erf' or 'tanh'.  parameterization: 'ntk' or 'standard'.
    Returns:
      kernel matrix, shape (n1, n2).
    Usable inside `jax.jit` (on traced arguments only the shapes are checked): `train` tracks
    lambda_max(K(w_k)) with it inside its compiled loop.
    Introduced in notebooks/05; its m -> inf limit is `infinite_width_ntk`.
    """
    params, X1, X2 = _checked_empirical(params, X1, X2, activation, parameterization)
    return _empirical_ntk(params.A, params.b, X1, X2, activation, parameterization)


_erf_host = np.frompyfunc(math.erf, 1, 1)

# sigma and sigma' in numpy float64, for `empirical_ntk_host`
_HOST_ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float)),
    "erf": (lambda z: _erf_host(z).astype(float),
            lambda z: (2.0 / math.sqrt(math.pi)) * np.exp(-z * z)),
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
}


def empirical_ntk_host(params: net.Params, X1: Array, X2: Array | None = None, *,
                       activation: str = "relu", parameterization: str = "ntk") -> np.ndarray:
    """`empirical_ntk` computed with numpy in float64 on the host: no jit, no compilation.

    The same closed form, K_m = ((S1' * b**2) @ S2'.T) * (X1 @ X2.T) * s**2 + S1 @ S2.T * s**2.
    For the small kernels of a slider (n of a few dozen): a new width costs a few
    milliseconds instead of a compilation per shape (jit or jax's op-by-op dispatch), and
    float64 whatever jax's precision, e.g. for lambda_max and the step-size bound 2/lambda_max.

    Args:
      params: `Params(A=(m, d), b=(m,))` (any float dtype; used in float64).
      X1: inputs, shape (n1, d).  X2: shape (n2, d); None means X1.
      activation: 'relu', 'erf' or 'tanh'.  parameterization: 'ntk' or 'standard'.
    Returns:
      kernel matrix, a float64 numpy array of shape (n1, n2).
    Introduced in notebooks/04 (the learning-rate slider in units of 2/lambda_max).
    """
    params, X1, X2 = _checked_empirical(params, X1, X2, activation, parameterization)
    fn, deriv = _HOST_ACTIVATIONS[activation]
    A, b = np.asarray(params.A, np.float64), np.asarray(params.b, np.float64)
    X1 = np.asarray(X1, np.float64)
    X2 = X1 if X2 is None else np.asarray(X2, np.float64)
    Z1 = X1 @ A.T
    Z2 = Z1 if X2 is X1 else X2 @ A.T
    S1, S2 = fn(Z1), fn(Z2)
    Ka = ((deriv(Z1) * (b * b)) @ deriv(Z2).T) * (X1 @ X2.T)
    return (Ka + S1 @ S2.T) * net.output_scale(params.m, parameterization) ** 2


# ---------------------------------------------------------------- any model, autodiff

@partial(jax.jit, static_argnums=0)
def _autodiff_ntk(f: Callable, params: Any, X1: Array, X2: Array | None) -> Array:
    J1 = jax.tree.leaves(jax.jacrev(f)(params, X1))
    J2 = J1 if X2 is None else jax.tree.leaves(jax.jacrev(f)(params, X2))
    return sum(j1.reshape(j1.shape[0], -1) @ j2.reshape(j2.shape[0], -1).T
               for j1, j2 in zip(J1, J2, strict=True))


def autodiff_ntk(f: Callable[[Any, Array], Array], params: Any, X1: Array,
                 X2: Array | None = None) -> Array:
    """Empirical NTK of any model by autodiff: K = J1 J2^T, J = d f(params, X) / d params.

    The generic route (section 4's "features" grad_w f): the Jacobian of every leaf of the
    `params` pytree is taken with `jax.jacrev`, flattened to (n, P_leaf), and the products
    J1 J2^T are summed over the leaves. Memory O(n P): use `empirical_ntk` for the network.

    Args:
      f: model, `f(params, X) -> (n,)` for X of shape (n, d); traceable by jax and hashable
        (it is a static argument of `jax.jit`: reuse the same function to reuse compilation).
      params: any pytree of float arrays (e.g. `net.Params`, or a single array).
      X1: inputs, shape (n1, d).  X2: shape (n2, d); None means X1.
    Returns:
      kernel matrix, shape (n1, n2).
    """
    if not callable(f):
        raise TypeError(f"f must be a function f(params, X) -> (n,), got {v.describe(f)}")
    leaves = jax.tree.leaves(params)
    if not leaves or not all(jnp.issubdtype(jnp.result_type(p), jnp.floating) for p in leaves):
        raise TypeError(f"params must be a pytree of float arrays, got {v.describe(params)}")
    X1, X2 = _inputs(X1, X2)
    for name, X in (("X1", X1), ("X2", X2)):
        if X is not None:
            out = jax.eval_shape(f, params, X)
            if getattr(out, "shape", None) != (X.shape[0],):
                raise ValueError(f"f must return shape (n,) = ({X.shape[0]},) for {name} of "
                                 f"shape {tuple(X.shape)}, got {out}")
    return _autodiff_ntk(f, params, X1, X2)


# ---------------------------------------------------------------- infinite width

def _gram(X1: Array, X2: Array | None) -> tuple[Array, Array, Array]:
    """G = X1 X2^T and the squared norms |x|^2 (n1,), |x'|^2 (n2,).

    For X2 = None the norms are the diagonal of G itself, so cos(x, x) = 1 exactly.
    """
    if X2 is None:
        G = X1 @ X1.T
        return G, jnp.diag(G), jnp.diag(G)
    return X1 @ X2.T, jnp.sum(X1 * X1, axis=1), jnp.sum(X2 * X2, axis=1)


def _cosine(G: Array, sq1: Array, sq2: Array) -> tuple[Array, Array]:
    """cos(angle), clipped to [-1, 1] (1 where a vector is zero), and |x||x'|.

    |x||x'| = sqrt(|x|^2 |x'|^2) entrywise, so cos(x, x) = g / sqrt(g * g) = 1 exactly
    (IEEE sqrt of a rounded square is exact): theta = 0 on the diagonal, not sqrt(eps).
    """
    norms = jnp.sqrt(sq1[:, None] * sq2[None, :])
    nonzero = norms > 0
    cos = jnp.where(nonzero, G / jnp.where(nonzero, norms, 1), 1)
    return jnp.clip(cos, -1, 1), norms


# Elementwise work dominates the closed forms once d is small (n1 n2 entries, a few
# transcendentals each) and XLA's CPU arccos/arcsin are scalar loops (~9 ns an entry, as
# much as the whole Gram matrix at d = 784). In float32 they are replaced by Cephes' asinf
# polynomial (max error 1-2 ulp on [-1, 1], measured against numpy's float64), which XLA
# vectorises and fuses with the rest into one pass over the (n1, n2) entries; float64 keeps
# jnp.arccos / jnp.arcsin (the polynomial is a float32 approximation).
_ASIN_F32 = (4.2163199048e-2, 2.4181311049e-2, 4.5470025998e-2, 7.4953002686e-2,
             1.6666752422e-1)


def _asin_parts(a: Array) -> tuple[Array, Array]:
    """For a = |x| in [0, 1]: (r, big) with asin(a) = r where not big (a <= 1/2) and
    asin(a) = pi/2 - 2 r where big, r = asin(s) for s = a or s = sqrt((1 - a)/2) <= 1/2."""
    big = a > 0.5
    z = jnp.where(big, 0.5 * (1 - a), a * a)
    s = jnp.where(big, jnp.sqrt(z), a)
    p = _ASIN_F32[0]
    for coef in _ASIN_F32[1:]:
        p = p * z + coef
    return s + s * z * p, big


def fast_arccos(c: Array) -> Array:
    """arccos on [-1, 1]: in float32 a vectorised polynomial (Cephes asinf, within 2 ulp of
    pi), which XLA fuses with the kernel's other elementwise work; jnp.arccos otherwise.
    Used by the relu closed form of `infinite_width_ntk`."""
    if c.dtype != jnp.float32:
        return jnp.arccos(c)
    r, big = _asin_parts(jnp.abs(c))
    r = jnp.where(c < 0, -r, r)
    # |c| <= 1/2: pi/2 - asin(c); c > 1/2: 2 asin(sqrt((1 - c)/2)); c < -1/2: pi - that
    return jnp.where(big, jnp.where(c < 0, math.pi + 2 * r, 2 * r), math.pi / 2 - r)


def fast_arcsin(x: Array) -> Array:
    """arcsin on [-1, 1]: in float32 a vectorised polynomial (within 1 ulp of pi/2);
    jnp.arcsin otherwise. Used by the erf closed form of `infinite_width_ntk`."""
    if x.dtype != jnp.float32:
        return jnp.arcsin(x)
    r, big = _asin_parts(jnp.abs(x))
    r = jnp.where(big, math.pi / 2 - 2 * r, r)
    return jnp.where(x < 0, -r, r)


def _relu_closed_form(X1: Array, X2: Array | None) -> NTKParts:
    G, sq1, sq2 = _gram(X1, X2)
    cos, norms = _cosine(G, sq1, sq2)
    psi = fast_arccos(-cos)  # = pi - theta
    sin = jnp.sqrt((1 - cos) * (1 + cos))  # = sin(theta), without a second transcendental
    return NTKParts(G * psi / (2 * math.pi), norms * (sin + psi * cos) / (2 * math.pi))


def _erf_closed_form(X1: Array, X2: Array | None) -> NTKParts:
    G, sq1, sq2 = _gram(X1, X2)
    p1, p2 = 1 + 2 * sq1, 1 + 2 * sq2
    # det(I + 2 Sigma) = 1 + 2|x|^2 + 2|x'|^2 + 4 (|x|^2 |x'|^2 - (x.x')^2) >= 1
    det = (p1[:, None] + p2[None, :] - 1
           + 4 * jnp.maximum(sq1[:, None] * sq2[None, :] - G * G, 0))
    # 1/sqrt(p1 p2) as an outer product of two vectors: no square root per entry
    r1, r2 = 1 / jnp.sqrt(p1), 1 / jnp.sqrt(p2)
    return NTKParts(G * (4 / math.pi) / jnp.sqrt(det),
                    (2 / math.pi) * fast_arcsin(jnp.clip(2 * G * r1[:, None] * r2[None, :], -1, 1)))


def _quadrature(X1: Array, X2: Array | None, act: net.Activation, q: int) -> NTKParts:
    """E[sigma(u) sigma(v)] and E[sigma'(u) sigma'(v)] by q x q Gauss-Hermite quadrature.

    (u, v) = (a.x, a.x') is Gaussian with covariance [[|x|^2, x.x'], [x.x', |x'|^2]]; with
    z1, z2 ~ N(0, 1), cos(theta/2) = sqrt((1 + cos)/2), sin(theta/2) = sqrt((1 - cos)/2):
        u = |x| (cos(theta/2) z1 + sin(theta/2) z2),  v = |x'| (cos(theta/2) z1 - sin(theta/2) z2).
    Valid for parallel and antiparallel pairs, and exactly symmetric in (x, x'): swapping
    them is z2 -> -z2, and the nodes are symmetric.
    """
    G, sq1, sq2 = _gram(X1, X2)
    cos, _ = _cosine(G, sq1, sq2)
    half_cos, half_sin = jnp.sqrt((1 + cos) / 2), jnp.sqrt((1 - cos) / 2)
    nodes, weights = np.polynomial.hermite_e.hermegauss(q)
    z = jnp.asarray(nodes, G.dtype)
    W = jnp.asarray(np.outer(weights, weights) / weights.sum() ** 2, G.dtype)
    norm1, norm2 = jnp.sqrt(sq1), jnp.sqrt(sq2)

    def row(args: tuple[Array, Array, Array]) -> tuple[Array, Array]:
        norm, hc, hs = args                                   # (), (n2,), (n2,)
        along = hc[:, None, None] * z[:, None]                # (n2, q, 1)
        across = hs[:, None, None] * z[None, :]               # (n2, 1, q)
        u, w = norm * (along + across), norm2[:, None, None] * (along - across)
        return (jnp.sum(act.deriv(u) * act.deriv(w) * W, axis=(1, 2)),
                jnp.sum(act.fn(u) * act.fn(w) * W, axis=(1, 2)))

    rows = max(1, _QUADRATURE_BLOCK // (G.shape[1] * q * q))
    Ea, Eb = jax.lax.map(row, (norm1, half_cos, half_sin), batch_size=rows)
    return NTKParts(G * Ea, Eb)


@partial(jax.jit, static_argnames=("activation", "method", "quadrature_points"))
def _infinite_width(X1: Array, X2: Array | None, activation: str, method: str,
                    quadrature_points: int) -> NTKParts:
    if method == "quadrature":
        return _quadrature(X1, X2, net.activation(activation), quadrature_points)
    return (_relu_closed_form if activation == "relu" else _erf_closed_form)(X1, X2)


@partial(jax.jit, static_argnames=("activation", "method", "quadrature_points"))
def _infinite_width_ntk(X1: Array, X2: Array | None, activation: str, method: str,
                        quadrature_points: int) -> Array:
    # Ka + Kb inside the same jit: one fused pass, no two (n1, n2) intermediates returned.
    return _infinite_width(X1, X2, activation, method, quadrature_points).K


def _infinite_width_args(X1: Any, X2: Any, activation: str, method: str | None,
                         quadrature_points: Any) -> tuple[Array, Array | None, str, int]:
    X1, X2 = _inputs(X1, X2)
    net.activation(activation)
    if method is None:
        method = "closed_form" if activation in CLOSED_FORMS else "quadrature"
    v.choice(method, "method", METHODS)
    if method == "closed_form" and activation not in CLOSED_FORMS:
        raise ValueError(f"method='closed_form' exists only for activation in {CLOSED_FORMS}, "
                         f"got activation={activation!r}; use method='quadrature'")
    q = v.positive_int(quadrature_points, "quadrature_points")
    if q > MAX_QUADRATURE_POINTS:
        raise ValueError(f"quadrature_points must be <= {MAX_QUADRATURE_POINTS}, got {q}")
    return X1, X2, method, q


def infinite_width_ntk_parts(X1: Array, X2: Array | None = None, *, activation: str = "relu",
                             method: str | None = None,
                             quadrature_points: int = 64) -> NTKParts:
    """The m -> inf limit of `empirical_ntk_parts` (NTK parameterization).

    With a ~ N(0, I_d), b ~ N(0, 1) and theta the angle between x and x':
        Ka = (x . x') E[sigma'(a . x) sigma'(a . x')],   Kb = E[sigma(a . x) sigma(a . x')].
    Closed forms:
      relu: Kb = |x||x'| (sin theta + (pi - theta) cos theta) / (2 pi),
            Ka = (x . x') (pi - theta) / (2 pi);
      erf:  Kb = (2/pi) arcsin(2 x.x' / sqrt((1 + 2 x.x)(1 + 2 x'.x'))),
            Ka = (x . x') (4/pi) / sqrt(det(I + 2 Sigma)), Sigma = [[x.x, x.x'], [x.x', x'.x']].
    Quadrature (any activation): q x q Gauss-Hermite over the Gaussian pair (a.x, a.x'),
    O(n1 n2 q^2) work in row blocks of bounded memory. Its accuracy falls as |x| grows (the
    activation varies on the scale 1/|x| of the nodes): for erf/tanh, relative error about
    1e-6 at |x| = 1, 1e-3 at |x| = 1.5, 3e-2 at |x| = 2 with q = 32; about 1e-7, 1e-4, 2e-3
    with q = 64 and 1e-11, 3e-7, 3e-5 with q = 128. For relu, whose sigma' jumps, it converges
    only like q^(-1/2) (Ka) and 1/q (Kb): use the closed form there.
    theta comes from the clipped cosine: x = x' gives theta = 0 exactly when X2 is None;
    zero vectors give 0, never NaN.

    Args:
      X1: inputs, shape (n1, d).  X2: shape (n2, d); None means X1.
      activation: 'relu', 'erf' or 'tanh'.
      method: 'closed_form' (relu, erf only) or 'quadrature'; None: the closed form where
        one exists, else quadrature.
      quadrature_points: q, Gauss-Hermite nodes per dimension (quadrature only).
    Returns:
      `NTKParts(Ka, Kb)`, each of shape (n1, n2); `.K` is their sum.
    Introduced in notebooks/05.
    """
    X1, X2, method, q = _infinite_width_args(X1, X2, activation, method, quadrature_points)
    return _infinite_width(X1, X2, activation, method, q)


def infinite_width_ntk(X1: Array, X2: Array | None = None, *, activation: str = "relu",
                       method: str | None = None, quadrature_points: int = 64) -> Array:
    """The infinite-width NTK K = Ka + Kb, shape (n1, n2); see `infinite_width_ntk_parts`.

    Args:
      X1: inputs, shape (n1, d).  X2: shape (n2, d); None means X1.
      activation, method, quadrature_points: as in `infinite_width_ntk_parts`.
    Returns:
      kernel matrix, shape (n1, n2).
    Introduced in notebooks/05.
    """
    X1, X2, method, q = _infinite_width_args(X1, X2, activation, method, quadrature_points)
    return _infinite_width_ntk(X1, X2, activation, method, q)


# ---------------------------------------------------------------- Monte Carlo, huge width

@partial(jax.jit, static_argnames=("m", "chunk", "activation"))
def _monte_carlo(key: Array, X1: Array, X2: Array | None, m: int, chunk: int,
                 activation: str) -> NTKParts:
    act = net.activation(activation)
    dtype = X1.dtype if X2 is None else jnp.result_type(X1, X2)

    def draw(k: Array, size: int) -> NTKParts:
        params = net.init(k, X1.shape[1], size, dtype=dtype)
        return _neuron_sums(params.A, params.b, X1, X2, act)

    if m <= chunk:
        total = draw(key, m)
    else:
        full, rest = divmod(m, chunk)
        keys = jax.random.split(key, full + (rest > 0))

        def step(acc: NTKParts, k: Array) -> tuple[NTKParts, None]:
            return jax.tree.map(jnp.add, acc, draw(k, chunk)), None

        n2 = X1.shape[0] if X2 is None else X2.shape[0]
        zeros = jnp.zeros((X1.shape[0], n2), dtype)
        total, _ = jax.lax.scan(step, NTKParts(zeros, zeros), keys[:full])
        if rest:
            total = jax.tree.map(jnp.add, total, draw(keys[full], rest))
    return NTKParts(total.Ka / m, total.Kb / m)


def monte_carlo_ntk(key: Array, X1: Array, X2: Array | None = None, *, m: int,
                    activation: str = "relu", chunk: int = 8192) -> NTKParts:
    """Empirical NTK of a freshly drawn width-m network (NTK parameterization), any m.

    The sums over neurons are additive, so neurons are drawn and summed in chunks and the
    total divided by m: memory O((n1 + n2) chunk + n1 n2) whatever m (m = 10^6 is fine).
    Keys: if m <= chunk the network is `net.init(key, d, m)`, so the result equals
    `empirical_ntk_parts(net.init(key, d, m), X1, X2)`; otherwise chunk k holds the neurons
    of `net.init(keys[k], d, size_k)` with `keys = jax.random.split(key, ceil(m / chunk))`,
    size_k = chunk except the last (the remainder).

    Args:
      key: a `jax.random` key.
      X1: inputs, shape (n1, d).  X2: shape (n2, d); None means X1.
      m: width (>= 1).  activation: 'relu', 'erf' or 'tanh'.
      chunk: neurons drawn at a time (>= 1).
    Returns:
      `NTKParts(Ka, Kb)`, each of shape (n1, n2); tends to `infinite_width_ntk_parts` with
      error of order 1/sqrt(m).
    Introduced in notebooks/05.
    """
    key = net.check_key(key)
    X1, X2 = _inputs(X1, X2)
    m = v.positive_int(m, "m")
    chunk = v.positive_int(chunk, "chunk")
    net.activation(activation)
    return _monte_carlo(key, X1, X2, m, chunk, activation)


# ---------------------------------------------------------------- convergence and drift (nb 05)

def relative_error(K: Array, K_ref: Array) -> float:
    """Relative Frobenius distance ||K - K_ref||_F / ||K_ref||_F between two kernel matrices.

    Args:
      K, K_ref: kernel matrices of the same shape (n1, n2); K_ref not all zero.
    Returns:
      the relative error, a float >= 0.
    Introduced in notebooks/05 (K_m -> K as m grows, and the drift of K during training).
    """
    K_ref = v.matrix(K_ref, "K_ref")
    K = v.matrix(K, "K")
    if K.shape != K_ref.shape:
        raise ValueError(f"K and K_ref must have the same shape, got {tuple(K.shape)} and "
                         f"{tuple(K_ref.shape)}")
    ref = float(jnp.linalg.norm(K_ref))
    if ref == 0:
        raise ValueError("K_ref must not be the zero matrix (the relative error is undefined)")
    return float(jnp.linalg.norm(K - K_ref)) / ref


def width_errors(key: Array, X: Array, widths: Any, *, draws: int = 8,
                 activation: str = "relu") -> np.ndarray:
    """Mean relative error of the empirical NTK against its infinite-width limit, per width.

    Each of `draws` keys split from `key` gives, for each width m, the network
    `net.init_nested(k, d, m)` (nested widths: the first m neurons of one draw, so the same
    network grows) and `relative_error(empirical_ntk(params, X), infinite_width_ntk(X))`;
    the mean over the draws is returned. By the law of large numbers it falls like
    1/sqrt(m).

    Args:
      key: a `jax.random` key.  X: inputs, shape (n, d).
      widths: the widths m, a sequence of positive integers, at most
        `net.MAX_NESTED_WIDTH`, shape (W,).
      draws: networks drawn per width (>= 1).  activation: 'relu', 'erf' or 'tanh'.
    Returns:
      mean relative errors, shape (W,), float64 numpy.
    Introduced in notebooks/05.
    """
    key = net.check_key(key)
    X = v.matrix(X, "X")
    widths = [v.positive_int(m, "widths[i]") for m in np.atleast_1d(np.asarray(widths))]
    draws = v.positive_int(draws, "draws")
    K_inf = infinite_width_ntk(X, activation=activation)
    errors = np.zeros((draws, len(widths)))
    for i, k in enumerate(jax.random.split(key, draws)):
        for j, m in enumerate(widths):
            params = net.init_nested(k, X.shape[1], m, dtype=X.dtype)
            errors[i, j] = relative_error(empirical_ntk(params, X, activation=activation), K_inf)
    return errors.mean(axis=0)


def kernel_drift(params0: net.Params, params: net.Params, X: Array, *,
                 activation: str = "relu", parameterization: str = "ntk") -> float:
    """How far the empirical NTK moved: ||K(w) - K(w0)||_F / ||K(w0)||_F on the inputs X.

    Args:
      params0: initial weights `Params(A=(m, d), b=(m,))`.  params: later weights, same shapes.
      X: inputs, shape (n, d).
      activation, parameterization: as in `empirical_ntk`.
    Returns:
      the relative change, a float >= 0 (small for wide networks: lazy training).
    Introduced in notebooks/05.
    """
    params0, params = net.check_params_pair(params0, params)
    K0 = empirical_ntk(params0, X, activation=activation, parameterization=parameterization)
    K = empirical_ntk(params, X, activation=activation, parameterization=parameterization)
    return relative_error(K, K0)


# ---------------------------------------------------------------- kernel-target alignment (nb 08)

def kernel_alignment(K: Array, y: Array) -> float:
    """Kernel-target alignment y^T K y / (||K||_F ||y||^2), a number in [0, 1] for a PSD K.

    1 when K is proportional to y y^T (the kernel "sees" only the target); for a kernel that
    ignores the target it is small. A network that learns features raises it during training
    (notebooks/08: the rich regime), a lazy one keeps the alignment of its initial kernel.

    Args:
      K: kernel matrix on the training inputs, shape (n, n), e.g. `empirical_ntk(params, X)`
        at any weights, not all zero.
      y: targets, shape (n,), not all zero.
    Returns:
      the alignment, a float.
    Introduced in notebooks/08_beyond_the_kernel.ipynb.
    """
    K = v.square(K, "K")
    y = v.vector(y, "y", size=K.shape[0])
    norm_K, norm_y = float(jnp.linalg.norm(K)), float(y @ y)
    if norm_K == 0 or norm_y == 0:
        raise ValueError(f"K and y must not be zero (the alignment is undefined), got "
                         f"||K||_F = {norm_K!r}, ||y||^2 = {norm_y!r}")
    return float(y @ K @ y) / (norm_K * norm_y)
