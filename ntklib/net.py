"""The notes' one-hidden-layer network (notebooks/03).

    f(w, x) = (1/sqrt(m)) * sum_i b_i * sigma(a_i . x),    w = (A, b),

with `A` of shape (m, d) and `b` of shape (m,), all entries i.i.d. N(0, 1) at initialisation
(the NTK parameterization). The "standard" parameterization drops the 1/sqrt(m) and draws
`b ~ N(0, 1/m)` instead; it is kept as the comparison that shows why the factor matters.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax import Array

from . import _validate as v

PARAMETERIZATIONS = ("ntk", "standard")


class Activation(NamedTuple):
    """An activation `sigma` with its derivative `sigma'` (both elementwise)."""

    name: str
    fn: Callable[[Array], Array]
    deriv: Callable[[Array], Array]


def _relu(z: Array) -> Array:
    return jnp.maximum(z, 0)


def _relu_deriv(z: Array) -> Array:
    # sigma'(0) = 0, as jax.grad of relu gives; inputs of measure zero in practice.
    return (z > 0).astype(z.dtype)


def _erf_deriv(z: Array) -> Array:
    return (2.0 / math.sqrt(math.pi)) * jnp.exp(-z * z)


def _tanh_deriv(z: Array) -> Array:
    return 1.0 - jnp.tanh(z) ** 2


ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation("relu", _relu, _relu_deriv),
    "erf": Activation("erf", jax.scipy.special.erf, _erf_deriv),
    "tanh": Activation("tanh", jnp.tanh, _tanh_deriv),
}


def activation(name: str) -> Activation:
    """The activation called `name` ('relu', 'erf' or 'tanh'), with its derivative."""
    return ACTIVATIONS[v.choice(name, "activation", ACTIVATIONS)]


_lookup_activation = activation  # for functions whose `activation` argument shadows the name


class Params(NamedTuple):
    """Weights `w = (A, b)` of the network: `A` shape (m, d), `b` shape (m,).

    A NamedTuple, hence a jax pytree: `jax.grad`, `jax.tree_util` and `lax.scan` see the
    two arrays as leaves.
    """

    A: Array
    b: Array

    @property
    def m(self) -> int:
        """Width: the number of hidden neurons."""
        return int(self.A.shape[0])

    @property
    def d(self) -> int:
        """Input dimension."""
        return int(self.A.shape[1])

    @property
    def size(self) -> int:
        """Number of parameters P = m (d + 1)."""
        return self.m * (self.d + 1)

    def __repr__(self) -> str:
        return (f"Params(m={self.m}, d={self.d}, P={self.size}, dtype={self.A.dtype}: "
                f"A {tuple(self.A.shape)}, b {tuple(self.b.shape)})")


def check_params(params: Any, name: str = "params") -> Params:
    """`params` as a `Params` with consistent shapes, or a ValueError/TypeError."""
    if not isinstance(params, Params):
        raise TypeError(f"{name} must be ntklib.net.Params(A, b), got {type(params).__name__}")
    A = v.matrix(params.A, f"{name}.A")
    b = v.vector(params.b, f"{name}.b", size=A.shape[0])
    return Params(A, b)


def check_params_pair(params0: Any, params: Any) -> tuple[Params, Params]:
    """Initial and later weights of one network: both valid `Params` of the same shapes."""
    params0 = check_params(params0, "params0")
    params = check_params(params, "params")
    if params.A.shape != params0.A.shape:
        raise ValueError(f"params must have the shapes of params0, A {tuple(params0.A.shape)}; "
                         f"got A {tuple(params.A.shape)}")
    return params0, params


def check_key(key: Any) -> Array:
    """`key` if it is a jax.random key (new-style or raw uint32[2]), else a TypeError."""
    if isinstance(key, Array) and (
        jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key)
        or (key.dtype == jnp.uint32 and key.shape == (2,))
    ):
        return key
    raise TypeError(f"key must be a jax.random key (jax.random.key(seed)), got "
                    f"{v.describe(key)}")


def output_scale(m: int, parameterization: str = "ntk") -> float:
    """The factor in front of the sum: 1/sqrt(m) ('ntk') or 1 ('standard')."""
    m = v.positive_int(m, "m")
    v.choice(parameterization, "parameterization", PARAMETERIZATIONS)
    return 1.0 / math.sqrt(m) if parameterization == "ntk" else 1.0


def init(key: Array, d: int, m: int, parameterization: str = "ntk", *,
         dtype: Any = None) -> Params:
    """Draw initial weights.

    Args:
      key: a `jax.random` key; the only source of randomness.
      d: input dimension (>= 1).  m: width (>= 1).
      parameterization: 'ntk' (A, b ~ N(0, 1)) or 'standard' (A ~ N(0, 1), b ~ N(0, 1/m)).
      dtype: float dtype of the weights; default jax's default float.
    Returns:
      `Params(A=(m, d), b=(m,))`.
    """
    key = check_key(key)
    d = v.positive_int(d, "d")
    m = v.positive_int(m, "m")
    v.choice(parameterization, "parameterization", PARAMETERIZATIONS)
    dtype = jnp.result_type(float) if dtype is None else dtype
    ka, kb = jax.random.split(key)
    A = jax.random.normal(ka, (m, d), dtype)
    b = jax.random.normal(kb, (m,), dtype)
    if parameterization == "standard":
        b = b / math.sqrt(m)
    return Params(A, b)


#: The widest network `init_nested` draws: every width m <= MAX_NESTED_WIDTH is its first m neurons.
MAX_NESTED_WIDTH = 2**14


@functools.lru_cache(maxsize=16)
def _nested_draw(key_data: tuple[int, ...], d: int) -> tuple[Any, Any]:
    # drawn in float32 whatever the dtype asked for: the same weights in every dtype
    key = jax.random.wrap_key_data(jnp.asarray(key_data, dtype=jnp.uint32))
    full = init(key, d, MAX_NESTED_WIDTH, dtype=jnp.float32)
    return jax.device_get(full.A), jax.device_get(full.b)


def init_nested(key: Array, d: int, m: int, parameterization: str = "ntk", *,
                dtype: Any = None) -> Params:
    """The first m neurons of ONE draw `init(key, d, MAX_NESTED_WIDTH, ...)`: nested widths.

    Every width comes from the same draw, so the network of width 2m contains the network of
    width m (the same network grows) and, for one key, the width-64 network is the same in
    every notebook and panel. The draw is made once per (key, d), in float32 whatever `dtype`
    (so the weights are the same numbers in every dtype), and kept; a new width costs one
    slice, no new random draw and no compilation. The entries are i.i.d. N(0, 1) as `init`
    draws them; for 'standard', b is rescaled to N(0, 1/m) for the width m asked for.

    Args:
      key: a `jax.random` key.  d: input dimension (>= 1).
      m: width, 1 <= m <= MAX_NESTED_WIDTH.
      parameterization: 'ntk' or 'standard'.  dtype: float dtype; default jax's default float.
    Returns:
      `Params(A=(m, d), b=(m,))`.
    Introduced in notebooks/03 (the width slider); used by every width experiment.
    """
    key = check_key(key)
    d = v.positive_int(d, "d")
    m = v.positive_int(m, "m")
    if m > MAX_NESTED_WIDTH:
        raise ValueError(f"m must be at most MAX_NESTED_WIDTH = {MAX_NESTED_WIDTH} for nested "
                         f"widths, got {m}")
    v.choice(parameterization, "parameterization", PARAMETERIZATIONS)
    dtype = jnp.dtype(jnp.result_type(float) if dtype is None else dtype)
    if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    A, b = _nested_draw(tuple(int(k) for k in jax.device_get(key).ravel()), d)
    A, b = jnp.asarray(A[:m], dtype), jnp.asarray(b[:m], dtype)
    return Params(A, b / math.sqrt(m) if parameterization == "standard" else b)


def apply(params: Params, X: Array, *, activation: str = "relu",
          parameterization: str = "ntk") -> Array:
    """Network output f(w, X) = scale * sigma(X A^T) b, scale = 1/sqrt(m) for 'ntk'.

    Usable inside `jax.jit` / `jax.grad` (the finiteness checks skip tracers).

    Args:
      params: `Params(A=(m, d), b=(m,))`.
      X: inputs, shape (n, d).
    Returns:
      outputs, shape (n,).
    """
    params = check_params(params)
    X = v.matrix(X, "X", cols=params.d)
    act = _lookup_activation(activation)
    scale = output_scale(params.m, parameterization)
    return scale * (act.fn(X @ params.A.T) @ params.b)


def embed(X: Array, constant: float = 1.0) -> Array:
    """Append a constant coordinate: x -> (x, constant), shape (n, d) -> (n, d + 1).

    The notes' network has no biases; the weight on this coordinate plays the bias, and the
    model stays exactly the notes' model (notebook 03, "The bias-free trap"). Without it a relu
    network on raw 1-D data can only draw two half-lines through the origin.
    """
    X = v.matrix(X, "X")
    c = float(constant)
    if not math.isfinite(c) or c == 0:
        raise ValueError(f"constant must be a finite non-zero number, got {constant!r}")
    return jnp.concatenate([X, jnp.full((X.shape[0], 1), c, X.dtype)], axis=1)


# --- notebooks 03-04: the network at initialisation over many draws, and its features ---

INIT_PARAMETERIZATIONS = ("ntk", "standard", "unscaled")
"""The parameterizations `outputs_at_init` compares (notebook 03, "why 1/sqrt(m)"):
'ntk': N(0, 1) weights and the factor 1/sqrt(m) (the notes' network);
'standard': no factor, b ~ N(0, 1/m) (the usual standard parameterization);
'unscaled': N(0, 1) weights and no factor (the notes' first formula, sum_i b_i sigma(a_i . x)).
The first two are `PARAMETERIZATIONS`; 'unscaled' exists only to show the variance grow."""

_INIT_BATCH_ELEMENTS = 1 << 22  # entries of sigma(X A^T) held at once by outputs_at_init


@functools.partial(jax.jit, static_argnames=("m", "activation", "parameterization", "batch"))
def _outputs_at_init(keys: Array, X: Array, m: int, activation: str, parameterization: str,
                     batch: int) -> Array:
    init_as = "standard" if parameterization == "standard" else "ntk"
    apply_as = "ntk" if parameterization == "ntk" else "standard"

    def one(k: Array) -> Array:
        return apply(init(k, X.shape[1], m, init_as, dtype=X.dtype), X, activation=activation,
                     parameterization=apply_as)

    return jax.lax.map(one, keys, batch_size=batch)


def outputs_at_init(key: Array, X: Array, *, m: int, samples: int, activation: str = "relu",
                    parameterization: str = "ntk") -> Array:
    """f(w0, X) for `samples` independent initialisations w0 of a width-m network.

    Sample s uses the weights `init(jax.random.split(key, samples)[s], d, m, ...)`. In memory
    only a batch of draws is held at a time (about 4 million entries of sigma(X A^T)).

    Args:
      key: a `jax.random` key.
      X: inputs, shape (n, d); the outputs have X's float dtype.
      m: width.  samples: number of independent initialisations.
      activation: 'relu', 'erf' or 'tanh'.
      parameterization: one of `INIT_PARAMETERIZATIONS`: 'ntk' (the notes' network: N(0, 1),
        factor 1/sqrt(m)), 'standard' (no factor, b ~ N(0, 1/m)) or 'unscaled' (N(0, 1), no
        factor: the variance grows like m).
    Returns:
      outputs, shape (samples, n): row s is f(w0_s, X).
    Introduced in notebooks/03: Var f(w0, x) = E[sigma(a . x)^2] = K^b(x, x) for 'ntk' and
    'standard' at every m, m K^b(x, x) for 'unscaled'.
    """
    key = check_key(key)
    X = v.matrix(X, "X")
    m = v.positive_int(m, "m")
    samples = v.positive_int(samples, "samples")
    activation_ = _lookup_activation(activation).name
    v.choice(parameterization, "parameterization", INIT_PARAMETERIZATIONS)
    per_draw = m * max(X.shape[0], X.shape[1])
    batch = max(1, min(samples, _INIT_BATCH_ELEMENTS // per_draw))
    return _outputs_at_init(jax.random.split(key, samples), X, m, activation_, parameterization,
                            batch)


def jacobian(params: Params, X: Array, *, activation: str = "relu",
             parameterization: str = "ntk") -> Array:
    """The features of the network, phi(x_j) = grad_w f(w, x_j), as the rows of J (n, P).

    Closed form (derived in notebooks/05), with s the output scale (1/sqrt(m) for 'ntk'):
        d f(x) / d A_ik = s b_i sigma'(a_i . x) x_k,    d f(x) / d b_i = s sigma(a_i . x).
    Columns in the order of `jax.flatten_util.ravel_pytree(params)`: A row by row (m d
    columns), then b (m columns). Memory O(n P): for the kernel alone use `ntk.empirical_ntk`.

    Args:
      params: `Params(A=(m, d), b=(m,))`.
      X: inputs, shape (n, d).
    Returns:
      J, shape (n, P) with P = m (d + 1).
    Introduced in notebooks/03 (the "features" move during training) and 04 (phi = J(w0)).
    """
    params = check_params(params)
    X = v.matrix(X, "X", cols=params.d)
    act = _lookup_activation(activation)
    s = output_scale(params.m, parameterization)
    Z = X @ params.A.T  # (n, m)
    JA = (s * params.b * act.deriv(Z))[:, :, None] * X[:, None, :]  # (n, m, d)
    return jnp.concatenate([JA.reshape(X.shape[0], -1), s * act.fn(Z)], axis=1)
