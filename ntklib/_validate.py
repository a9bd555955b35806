"""Argument checks shared by every public function of ntklib.

Each check raises `ValueError` (or `TypeError` for a value of the wrong kind) with a message
that names the argument, says what came, and says what is allowed. Public functions call
these at their boundary and then hand clean `jax.Array`s to jitted internals.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Integral, Real
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array


def describe(value: Any) -> str:
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"an array of shape {tuple(shape)} and dtype {getattr(value, 'dtype', '?')}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _as_float_array(value: Any, name: str) -> Array:
    if isinstance(value, str | bytes) or value is None:
        raise TypeError(f"{name} must be a numeric array, got {describe(value)}")
    try:
        arr = jnp.asarray(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array, got {describe(value)}") from exc
    if not (jnp.issubdtype(arr.dtype, jnp.floating) or jnp.issubdtype(arr.dtype, jnp.integer)
            or arr.dtype == jnp.bool_):
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if not jnp.issubdtype(arr.dtype, jnp.floating):
        arr = arr.astype(jnp.result_type(float))
    return arr


def is_traced(arr: Any) -> bool:
    """True inside jax.jit / grad / vmap, where values are unknown and only shapes count."""
    return isinstance(arr, jax.core.Tracer)


def _check_finite(arr: Array, name: str) -> None:
    if is_traced(arr):
        return
    # numpy, not jnp: inside a jit trace a jnp reduction of a concrete array is a tracer.
    finite = np.isfinite(np.asarray(arr))
    if not finite.all():
        bad = int(finite.size - np.count_nonzero(finite))
        raise ValueError(f"{name} must be finite, got {bad} NaN or infinite entries")


def matrix(value: Any, name: str, *, cols: int | None = None, min_rows: int = 1,
           finite: bool = True) -> Array:
    """`value` as a float array of shape (n, cols) with n >= min_rows."""
    arr = _as_float_array(value, name)
    if arr.ndim != 2:
        hint = f" (for one-dimensional inputs use {name}[:, None])" if arr.ndim == 1 else ""
        raise ValueError(f"{name} must have shape (n, d), got shape {tuple(arr.shape)}{hint}")
    if arr.shape[0] < min_rows:
        raise ValueError(f"{name} must have at least {min_rows} row(s), got shape "
                         f"{tuple(arr.shape)}")
    if arr.shape[1] < 1:
        raise ValueError(f"{name} must have at least one column, got shape {tuple(arr.shape)}")
    if cols is not None and arr.shape[1] != cols:
        raise ValueError(f"{name} must have {cols} columns, got shape {tuple(arr.shape)}")
    if finite:
        _check_finite(arr, name)
    return arr


def vector(value: Any, name: str, *, size: int | None = None, finite: bool = True) -> Array:
    """`value` as a float array of shape (size,)."""
    arr = _as_float_array(value, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must have shape (n,), got shape {tuple(arr.shape)}")
    if size is not None and arr.shape[0] != size:
        raise ValueError(f"{name} must have shape ({size},) to match the inputs, got shape "
                         f"{tuple(arr.shape)}")
    if finite:
        _check_finite(arr, name)
    return arr


def square(value: Any, name: str, *, size: int | None = None, symmetric: bool = False,
           finite: bool = True) -> Array:
    """`value` as a float array of shape (n, n); optionally symmetric up to round-off."""
    arr = _as_float_array(value, name)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] < 1:
        raise ValueError(f"{name} must be a square matrix of shape (n, n), got shape "
                         f"{tuple(arr.shape)}")
    if size is not None and arr.shape[0] != size:
        raise ValueError(f"{name} must have shape ({size}, {size}), got shape "
                         f"{tuple(arr.shape)}")
    if finite:
        _check_finite(arr, name)
    if symmetric and not is_traced(arr):
        host = np.asarray(arr)
        scale = float(np.max(np.abs(host))) or 1.0
        asym = float(np.max(np.abs(host - host.T)))
        tol = 1e-5 if arr.dtype == jnp.float32 else 1e-10
        if asym > tol * scale:
            raise ValueError(f"{name} must be symmetric, got max |K - K^T| = {asym:.3g} "
                             f"(relative {asym / scale:.3g})")
    return arr


def positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """`value` as a Python int >= minimum (bools are refused)."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {describe(value)}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def positive_float(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """`value` as a finite Python float > 0 (>= 0 with allow_zero)."""
    if isinstance(value, bool) or not isinstance(value, Real | np.floating | np.integer):
        raise TypeError(f"{name} must be a positive finite number, got {describe(value)}")
    out = float(value)
    if not math.isfinite(out) or out < 0 or (out == 0 and not allow_zero):
        allowed = "a finite number >= 0" if allow_zero else "a positive finite number"
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return out


def choice(value: Any, name: str, allowed: Iterable[str]) -> str:
    """`value` if it is one of `allowed` (strings)."""
    allowed = tuple(allowed)
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got "
                         f"{describe(value)}")
    return value


def times(value: Any, name: str = "t", *, allow_inf: bool = False) -> Array:
    """A scalar or 1-D array of times >= 0 (and +inf with allow_inf), shape () or (T,)."""
    arr = _as_float_array(value, name)
    if arr.ndim > 1:
        raise ValueError(f"{name} must be a number or a 1-D array of times, got shape "
                         f"{tuple(arr.shape)}")
    if is_traced(arr):
        return arr
    host = np.asarray(arr)
    _check_finite(np.where(np.isposinf(host), 0, host) if allow_inf else host, name)
    if np.any(host < 0):
        raise ValueError(f"{name} must be >= 0, got minimum {float(np.min(host))!r}")
    return arr


def roundoff(n: int, dtype: Any) -> float:
    """`n * eps(dtype)`: the relative size of round-off in a quantity built from n terms (an
    n x n Gram matrix, its eigenvalues, a sum of n products).

    The one round-off level of ntklib; callers scale it by a stated factor (e.g. an
    eigenvalue below `roundoff(n, dtype) * lambda_max` counts as 0).
    """
    return n * float(jnp.finfo(dtype).eps)
