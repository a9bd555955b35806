"""ntklib.net: the notes' network, its parameterizations, activations and input embedding."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from jax.flatten_util import ravel_pytree

from ntklib import net

ACTS = sorted(net.ACTIVATIONS)


def _X(key, n=7, d=3, dtype=jnp.float64):
    return jax.random.normal(key, (n, d), dtype)


@pytest.mark.parametrize("parameterization", net.PARAMETERIZATIONS)
def test_apply_matches_the_sum_over_neurons(key, parameterization):
    """f(w, x) = s * sum_i b_i sigma(a_i . x), written as an explicit loop in numpy."""
    k1, k2 = jax.random.split(key)
    params = net.init(k1, 3, 5, parameterization)
    X = np.asarray(_X(k2))
    A, b = np.asarray(params.A), np.asarray(params.b)
    s = 1 / math.sqrt(5) if parameterization == "ntk" else 1.0
    expected = [s * sum(b[i] * max(A[i] @ x, 0.0) for i in range(5)) for x in X]
    np.testing.assert_allclose(net.apply(params, X, parameterization=parameterization),
                               expected, rtol=1e-13)


@pytest.mark.parametrize("name", ACTS)
def test_activation_derivatives_match_autodiff(name):
    act = net.activation(name)
    z = jnp.linspace(-3.0, 3.0, 61) + 0.013  # avoid relu's kink at 0
    np.testing.assert_allclose(act.deriv(z), jax.vmap(jax.grad(act.fn))(z), rtol=1e-12,
                               atol=1e-14)


def test_init_statistics(key):
    """NTK: A, b ~ N(0, 1); standard: b ~ N(0, 1/m). Large m, so the sample moments are tight."""
    m = 200_000
    ntk = net.init(key, 2, m)
    std = net.init(key, 2, m, "standard")
    assert abs(float(jnp.var(ntk.A)) - 1) < 0.01
    assert abs(float(jnp.var(ntk.b)) - 1) < 0.01
    assert abs(float(jnp.var(std.b)) * m - 1) < 0.01
    np.testing.assert_array_equal(std.A, ntk.A)  # same key, same A


def test_init_is_reproducible_and_key_dependent(key):
    a = net.init(key, 3, 4)
    b = net.init(key, 3, 4)
    c = net.init(jax.random.key(1), 3, 4)
    np.testing.assert_array_equal(a.A, b.A)
    assert not np.allclose(a.A, c.A)


def test_output_variance_is_flat_in_m_only_with_the_scale(key):
    """MATH.md 3: Var f(w0, x) = E[sigma(a.x)^2] = |x|^2 / 2 for relu, whatever m;
    the same weights without 1/sqrt(m) give variance m |x|^2 / 2."""
    x = jnp.array([[0.6, 0.8]])  # |x| = 1
    for m in (4, 64):
        keys = jax.random.split(key, 4000)
        ps = jax.vmap(lambda k, m=m: net.init(k, 2, m))(keys)
        f = jax.vmap(lambda p: net.apply(net.Params(p.A, p.b), x)[0])(ps)
        raw = f * math.sqrt(m)  # the notes' unscaled sum with N(0, 1) weights
        assert abs(float(jnp.var(f)) - 0.5) < 0.06, m
        assert abs(float(jnp.var(raw)) / m - 0.5) < 0.06, m


def test_params_is_a_pytree_with_a_readable_repr(key):
    p = net.init(key, 3, 4)
    assert len(jax.tree_util.tree_leaves(p)) == 2
    assert (p.m, p.d, p.size) == (4, 3, 16)
    assert repr(p) == "Params(m=4, d=3, P=16, dtype=float64: A (4, 3), b (4,))"


def test_apply_works_under_jit_and_grad(key):
    p = net.init(key, 3, 4)
    X = _X(key)
    np.testing.assert_allclose(jax.jit(net.apply)(p, X), net.apply(p, X), rtol=1e-14)
    g = jax.grad(lambda q: net.apply(q, X).sum())(p)
    assert g.A.shape == (4, 3) and g.b.shape == (4,)


def test_dtype_is_kept(key):
    p = net.init(key, 3, 4, dtype=jnp.float32)
    assert p.A.dtype == jnp.float32
    assert net.apply(p, _X(key, dtype=jnp.float32)).dtype == jnp.float32


@given(st.floats(-5, 5).filter(lambda c: abs(c) > 1e-3), st.integers(1, 4))
def test_embed_appends_the_constant(c, d):
    X = jnp.arange(2.0 * d).reshape(2, d)
    E = net.embed(X, c)
    assert E.shape == (2, d + 1)
    np.testing.assert_array_equal(E[:, :d], X)
    np.testing.assert_array_equal(E[:, d], c)


def test_bias_free_relu_is_homogeneous_and_the_constant_repairs_it(key):
    """MATH.md "Inputs": without a constant coordinate f(c x) = c f(x) for c > 0 (two
    half-lines through the origin in 1-D); with it the network is not homogeneous."""
    p1 = net.init(key, 1, 50)
    x = jnp.array([[0.7], [-1.3]])
    np.testing.assert_allclose(net.apply(p1, 3 * x), 3 * net.apply(p1, x), rtol=1e-12)
    p2 = net.init(key, 2, 50)
    assert not np.allclose(net.apply(p2, net.embed(3 * x)), 3 * net.apply(p2, net.embed(x)))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda p: net.init(jax.random.key(0), 3, 0), "m must be an integer >= 1"),
        (lambda p: net.init(jax.random.key(0), 0, 3), "d must be"),
        (lambda p: net.init(jax.random.key(0), 3, 2.5), "m must be an integer"),
        (lambda p: net.init(jax.random.key(0), 3, True), "m must be an integer"),
        (lambda p: net.init(0, 3, 4), "key must be a jax.random key"),
        (lambda p: net.init(jax.random.key(0), 3, 4, "mean-field"), "parameterization"),
        (lambda p: net.apply(p, jnp.ones((2, 4))), "X must have 3 columns"),
        (lambda p: net.apply(p, jnp.ones(3)), r"X\[:, None\]"),
        (lambda p: net.apply(p, jnp.full((2, 3), jnp.nan)), "X must be finite"),
        (lambda p: net.apply(p, jnp.ones((2, 3)), activation="gelu"), "activation"),
        (lambda p: net.apply(p, jnp.ones((2, 3)), parameterization="x"), "parameterization"),
        (lambda p: net.apply((p.A, p.b), jnp.ones((2, 3))), "params must be"),
        (lambda p: net.apply(net.Params(p.A, p.b[:2]), jnp.ones((2, 3))), "params.b"),
        (lambda p: net.embed(jnp.ones((2, 1)), 0.0), "constant"),
        (lambda p: net.apply(p, "abc"), "X must be a numeric array"),
    ],
)
def test_bad_input_is_rejected_with_a_message_naming_the_argument(key, call, match):
    p = net.init(key, 3, 4)
    with pytest.raises((ValueError, TypeError), match=match):
        call(p)


def test_apply_under_jit_with_a_closed_over_concrete_array(key):
    """Validation must not turn a concrete array captured by a jitted closure into a tracer
    error (autodiff_ntk differentiates such closures)."""
    p = net.init(key, 3, 4)
    X = _X(key)
    f = jax.jit(lambda A, X: net.apply(net.Params(A, p.b), X))
    np.testing.assert_allclose(f(p.A, X), net.apply(p, X), rtol=1e-14)


# --- notebooks 03-04: outputs at initialisation over many draws, the Jacobian ------------

@pytest.mark.parametrize("parameterization", net.INIT_PARAMETERIZATIONS)
def test_outputs_at_init_are_those_of_net_init_one_draw_at_a_time(key, parameterization):
    X = _X(key, n=4, d=2)
    m, samples = 9, 5
    out = net.outputs_at_init(key, X, m=m, samples=samples, parameterization=parameterization)
    assert out.shape == (samples, 4) and out.dtype == X.dtype
    init_as = "standard" if parameterization == "standard" else "ntk"
    apply_as = "ntk" if parameterization == "ntk" else "standard"
    for s, k in enumerate(jax.random.split(key, samples)):
        p = net.init(k, 2, m, init_as)
        np.testing.assert_allclose(out[s], net.apply(p, X, parameterization=apply_as),
                                   rtol=1e-12, atol=1e-14)


def test_outputs_at_init_parameterizations_relate_exactly(key):
    """With one key: 'standard' (b / sqrt(m), no factor) gives the very numbers of 'ntk'
    at initialisation, and 'unscaled' is sqrt(m) times them."""
    X = _X(key, n=3, d=2)
    kw = dict(m=25, samples=7)
    ntk_ = net.outputs_at_init(key, X, parameterization="ntk", **kw)
    np.testing.assert_allclose(net.outputs_at_init(key, X, parameterization="standard", **kw),
                               ntk_, rtol=1e-12)
    np.testing.assert_allclose(net.outputs_at_init(key, X, parameterization="unscaled", **kw),
                               5 * ntk_, rtol=1e-12)


def test_outputs_at_init_batches_do_not_change_the_result(key, monkeypatch):
    X = _X(key, n=3, d=2)
    whole = net.outputs_at_init(key, X, m=16, samples=10)
    monkeypatch.setattr(net, "_INIT_BATCH_ELEMENTS", 3 * 16 * 3)  # 3 draws a batch, 1 left
    np.testing.assert_allclose(net.outputs_at_init(key, X, m=16, samples=10), whole,
                               rtol=1e-13)


def test_output_covariance_at_init_is_the_relu_kernel_kb(key):
    """E[f(x) f(x')] = E[relu(a.x) relu(a.x')] = |x||x'| (sin t + (pi - t) cos t) / (2 pi)
    at every width (MATH.md section 3, written out here independently of ntklib.ntk).
    Tolerance: 5 standard errors of a sample covariance, sqrt((K_xx K_x'x' + K_xx'^2) / S)."""
    X = jnp.array([[0.6, 1.0], [-0.4, 1.0], [1.0, 0.3]])
    S = 4000
    F = np.asarray(net.outputs_at_init(key, X, m=40, samples=S))
    C = F.T @ F / S
    norms = np.linalg.norm(np.asarray(X), axis=1)
    cos = np.clip(np.asarray(X) @ np.asarray(X).T / np.outer(norms, norms), -1, 1)
    t = np.arccos(cos)
    K = np.outer(norms, norms) * (np.sin(t) + (np.pi - t) * cos) / (2 * np.pi)
    se = np.sqrt((np.outer(np.diag(K), np.diag(K)) + K**2) / S)
    assert np.all(np.abs(C - K) < 5 * se), (C, K)


@pytest.mark.parametrize(
    "kwargs, match",
    [(dict(parameterization="mean-field"), "parameterization"), (dict(samples=0), "samples"),
     (dict(m=0), "m must be"), (dict(activation="gelu"), "activation")],
)
def test_outputs_at_init_rejects_bad_input(key, kwargs, match):
    args = dict(m=3, samples=2) | kwargs
    with pytest.raises(ValueError, match=match):
        net.outputs_at_init(key, jnp.ones((2, 2)), **args)


@pytest.mark.parametrize("activation", ACTS)
@pytest.mark.parametrize("parameterization", net.PARAMETERIZATIONS)
def test_jacobian_matches_autodiff_in_ravel_pytree_order(key, activation, parameterization):
    p = net.init(key, 3, 6)
    X = _X(jax.random.key(5), n=4)
    J = net.jacobian(p, X, activation=activation, parameterization=parameterization)
    assert J.shape == (4, p.size)
    flat, unravel = ravel_pytree(p)
    J_ad = jax.jacrev(lambda w: net.apply(unravel(w), X, activation=activation,
                                          parameterization=parameterization))(flat)
    np.testing.assert_allclose(J, J_ad, rtol=1e-12, atol=1e-14)


def test_jacobian_rejects_a_wrong_input_width(key):
    with pytest.raises(ValueError, match="X must have 3 columns"):
        net.jacobian(net.init(key, 3, 4), jnp.ones((2, 2)))


def test_init_nested_widths_are_the_first_neurons_of_one_draw(key):
    wide = net.init_nested(key, 3, 64)
    narrow = net.init_nested(key, 3, 8)
    assert narrow.A.shape == (8, 3) and narrow.b.shape == (8,)
    np.testing.assert_array_equal(narrow.A, wide.A[:8])
    np.testing.assert_array_equal(narrow.b, wide.b[:8])
    # the same numbers in every dtype (drawn once, in float32), and from raw keys too
    f32 = net.init_nested(key, 3, 8, dtype=jnp.float32)
    assert f32.A.dtype == jnp.float32 and narrow.A.dtype == jnp.float64
    np.testing.assert_array_equal(np.asarray(f32.A, np.float64), narrow.A)
    raw = net.init_nested(jax.random.PRNGKey(0), 3, 8)
    np.testing.assert_array_equal(raw.A, narrow.A)
    # another key, another network; standard parameterization rescales b by 1/sqrt(m)
    other = net.init_nested(jax.random.key(1), 3, 8)
    assert not np.allclose(other.A, narrow.A)
    std = net.init_nested(key, 3, 8, parameterization="standard")
    np.testing.assert_allclose(std.b, narrow.b / np.sqrt(8), rtol=1e-15)


def test_init_nested_draws_are_standard_normal(key):
    p = net.init_nested(key, 2, net.MAX_NESTED_WIDTH)
    sample = np.concatenate([np.ravel(p.A), np.ravel(p.b)])
    se = 1 / np.sqrt(sample.size)  # standard error of the mean of N(0, 1)
    assert abs(sample.mean()) < 5 * se, "mean of N(0, 1) draws"
    assert abs(sample.var() - 1) < 5 * np.sqrt(2) * se, "variance of N(0, 1) draws"


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"m": 0}, "m must be"), ({"m": net.MAX_NESTED_WIDTH + 1}, "MAX_NESTED_WIDTH"),
    ({"parameterization": "mean-field"}, "parameterization"), ({"d": 0}, "d must be")])
def test_init_nested_refuses_bad_arguments(key, kwargs, match):
    args = {"d": 2, "m": 4} | kwargs
    with pytest.raises(ValueError, match=match):
        net.init_nested(key, args.pop("d"), args.pop("m"), **args)


def test_init_nested_needs_a_key():
    with pytest.raises(TypeError, match=r"key must be a jax\.random key"):
        net.init_nested(0, 2, 4)
