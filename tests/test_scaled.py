"""Notebook 08's additions to ntklib: the alpha-scaled trainer (`train.train_scaled`), the
kernel-target alignment (`ntk.kernel_alignment`) and the single-index task
(`features.single_index`), each against an independent route."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntklib import features, net, ntk, train

KEY = jax.random.key(3)


def _problem(m: int = 8, n: int = 6, d: int = 3):
    k1, k2, k3 = jax.random.split(KEY, 3)
    params = net.init(k1, d, m, dtype=jnp.float64)
    X = jax.random.normal(k2, (n, d), jnp.float64)
    y = jax.random.normal(k3, (n,), jnp.float64)
    return params, X, y


@pytest.mark.parametrize("alpha", [0.05, 1.0, 20.0])
def test_train_scaled_matches_explicit_steps_on_L_alpha(alpha):
    """Three steps of w <- w - eta grad L_alpha(w), L_alpha written out and differentiated
    by autodiff, against train_scaled (which reuses the centred descent)."""
    params0, X, y = _problem()
    eta, steps = 0.05, 3

    def L_alpha(w):
        h = alpha * (net.apply(w, X) - net.apply(params0, X))
        return jnp.sum((h - y) ** 2) / (2 * alpha**2)

    w, losses = params0, []
    for _ in range(steps):
        losses.append(alpha**2 * L_alpha(w))
        w = jax.tree.map(lambda p, g: p - eta * g, w, jax.grad(L_alpha)(w))
    losses.append(alpha**2 * L_alpha(w))
    h_end = alpha * (net.apply(w, X) - net.apply(params0, X))

    r = train.train_scaled(params0, X, y, alpha=alpha, eta=eta, steps=steps)
    np.testing.assert_allclose(r.params.A, w.A, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(r.params.b, w.b, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(r.loss, np.array(losses), rtol=1e-9)
    np.testing.assert_allclose(r.predictions[-1], h_end, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(r.predictions[0], 0.0, atol=1e-12)
    np.testing.assert_allclose(r.loss[0], 0.5 * float(y @ y), rtol=1e-12)


def test_every_alpha_starts_the_same_kernel_dynamics():
    """After one small step h changes by eta K(w0) y, whatever alpha (to first order)."""
    params0, X, y = _problem(m=64)
    eta = 1e-4
    K = ntk.empirical_ntk(params0, X)
    for alpha in (0.01, 1.0, 100.0):
        r = train.train_scaled(params0, X, y, alpha=alpha, eta=eta, steps=1)
        np.testing.assert_allclose(r.predictions[-1], eta * (K @ y), rtol=2e-2)


@pytest.mark.parametrize("alpha", [0.0, -1.0, math.inf, math.nan])
def test_train_scaled_refuses_bad_alpha_by_name(alpha):
    params0, X, y = _problem()
    with pytest.raises(ValueError, match="alpha"):
        train.train_scaled(params0, X, y, alpha=alpha, eta=0.1, steps=1)


def test_kernel_alignment_against_its_definition():
    K = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 3.0]])
    y = np.array([1.0, -2.0, 0.5])
    expected = (y @ K @ y) / (np.sqrt(np.sum(K**2)) * np.sum(y**2))
    assert ntk.kernel_alignment(K, y) == pytest.approx(expected, rel=1e-12)
    # K = y y^T is perfectly aligned
    assert ntk.kernel_alignment(np.outer(y, y), y) == pytest.approx(1.0, rel=1e-12)
    with pytest.raises(ValueError, match="y"):
        ntk.kernel_alignment(K, np.zeros(3))
    with pytest.raises(ValueError, match="y"):
        ntk.kernel_alignment(K, np.ones(2))


def test_single_index_shapes_seeding_and_target():
    a = features.single_index(KEY, 50, 4, target="relu")
    b = features.single_index(KEY, 50, 4, target="relu")
    c = features.single_index(jax.random.key(4), 50, 4, target="relu")
    assert a.X.shape == (50, 5) and a.y.shape == (50,) and a.u.shape == (4,)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.allclose(a.X, c.X)
    np.testing.assert_allclose(np.linalg.norm(a.u), 1.0, rtol=1e-12)
    np.testing.assert_allclose(a.X[:, -1], 1.0)
    np.testing.assert_allclose(np.linalg.norm(a.X[:, :4], axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(a.y, np.maximum(2.0 * (a.X[:, :4] @ a.u), 0), rtol=1e-12)
    g = features.single_index(KEY, 2000, 4, target="abs", inputs="gaussian", constant=False,
                               u=jnp.array([0.0, 2.0, 0.0, 0.0]))
    assert g.X.shape == (2000, 4)
    np.testing.assert_allclose(g.u, [0.0, 1.0, 0.0, 0.0])
    np.testing.assert_allclose(g.y, np.abs(2.0 * g.X[:, 1]), rtol=1e-12)
    # sqrt(d) u.x has variance about 1
    assert abs(float(np.var(2.0 * g.X[:, 1])) - 1) < 0.1


def test_single_index_refuses_bad_arguments_by_name():
    with pytest.raises(ValueError, match="target"):
        features.single_index(KEY, 5, 2, target="square")
    with pytest.raises(ValueError, match="inputs"):
        features.single_index(KEY, 5, 2, inputs="cube")
    with pytest.raises(TypeError, match="key"):
        features.single_index(0, 5, 2)
    with pytest.raises(ValueError, match="u"):
        features.single_index(KEY, 5, 2, u=jnp.zeros(2))


def test_nb08_run_forces_only_a_listed_step_budget():
    from ntklib.panels import nb08_beyond_the_kernel as nb08

    with pytest.raises(ValueError, match="steps must be None or one of"):
        nb08.run(64, 1.0, steps=1000)
    forced = nb08.run(64, 1.0, steps=4096)
    assert forced.steps == 4096 and forced.eta == nb08.T_END / 4096
    # the control of notebook 08: 4x smaller steps measure the same kernel distance
    chosen = nb08.run(64, 1.0)
    assert chosen.steps < 4096
    assert math.isclose(forced.kernel_distance[-1], chosen.kernel_distance[-1], rel_tol=0.2)
