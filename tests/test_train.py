"""ntklib.train: gradient descent on any model, on the network and on linear models."""

import logging
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special
from hypothesis import given
from hypothesis import strategies as st

from ntklib import dynamics, net, ntk, train


def _linear_problem(seed, n=6, D=4):
    k1, k2, k3 = jax.random.split(jax.random.key(seed), 3)
    Phi = jax.random.normal(k1, (n, D))
    y = jax.random.normal(k2, (n,))
    w0 = jax.random.normal(k3, (D,))
    return np.asarray(Phi), np.asarray(y), np.asarray(w0)


def _toy(n=12, dtype=jnp.float64):
    """1-D inputs in [-1, 1] embedded as (x, 1), targets sin(pi x)."""
    x = jnp.linspace(-1.0, 1.0, n, dtype=dtype)[:, None] + 0.01
    return net.embed(x), jnp.sin(math.pi * x[:, 0])


def _lambda_max(params, X, activation="relu"):
    """Largest eigenvalue of J J^T, J the Jacobian of the network from jax.jacrev."""
    J = jax.jacrev(lambda p: net.apply(p, X, activation=activation))(params)
    J = np.concatenate([np.asarray(J.A).reshape(X.shape[0], -1), np.asarray(J.b)], axis=1)
    return float(np.linalg.eigvalsh(J @ J.T)[-1])


def _linear(w, Phi):
    return Phi @ w


# ---- the iteration itself ---------------------------------------------------------------

@given(seed=st.integers(0, 2**31 - 1), fraction=st.floats(0.05, 0.95))
def test_linear_model_follows_the_discrete_recursion(seed, fraction):
    """U_k = (I - eta Phi Phi^T)^k U_0 (numpy matrix power), loss 1/2 |U_k|^2, and the
    weights w_{k+1} = w_k - eta Phi^T U_k predict Phi_eval w_k."""
    Phi, y, w0 = _linear_problem(seed)
    Phi_eval = Phi[:3] * 0.7 + 0.1
    K = Phi @ Phi.T
    eta = fraction * 2 / np.linalg.eigvalsh(K)[-1]
    steps = 25
    traj = train.train_linear(Phi, y, w0, eta=eta, steps=steps, Phi_eval=Phi_eval)
    M = np.eye(len(y)) - eta * K
    U = np.stack([np.linalg.matrix_power(M, k) @ (Phi @ w0 - y) for k in range(steps + 1)])
    np.testing.assert_allclose(traj.loss, 0.5 * np.sum(U**2, axis=1), rtol=1e-10)
    w, expected = w0, []
    for _ in range(steps + 1):
        expected.append(Phi_eval @ w)
        w = w - eta * Phi.T @ (Phi @ w - y)
    np.testing.assert_allclose(traj.predictions, expected, rtol=1e-10, atol=1e-12)
    assert not traj.diverged and traj.diverged_step is None


def test_gradient_descent_on_a_linear_function_equals_train_linear():
    Phi, y, w0 = _linear_problem(3)
    a = train.train_linear(Phi, y, w0, eta=0.02, steps=40, record_every=7)
    b = train.gradient_descent(_linear, w0, Phi, y, eta=0.02, steps=40, record_every=7)
    np.testing.assert_allclose(a.loss, b.loss, rtol=1e-12)
    np.testing.assert_allclose(a.predictions, b.predictions, rtol=1e-12)


def test_train_linear_starts_from_zero_by_default():
    Phi, y, _ = _linear_problem(4)
    traj = train.train_linear(Phi, y, eta=0.01, steps=3)
    np.testing.assert_allclose(traj.loss[0], 0.5 * np.sum(y**2), rtol=1e-12)
    # w0 = 0: weight_change is the absolute ||w_k||, not a division by zero
    w1 = 0.01 * Phi.T @ y
    np.testing.assert_allclose(traj.weight_change[1], np.linalg.norm(w1), rtol=1e-12)


def _pytree_model(p, X):
    return jnp.tanh(X @ p["W"].T) @ p["v"] + p["c"]


def test_one_step_uses_the_gradient_of_the_half_sum_loss(key):
    """One step by hand with jax.grad of 1/2 sum (f - y)^2 on a dict pytree; the mean-loss
    gradient (n times smaller) would give a different step."""
    k1, k2, k3, k4 = jax.random.split(key, 4)
    p0 = {"W": jax.random.normal(k1, (5, 3)), "v": jax.random.normal(k2, (5,)),
          "c": jnp.array(0.3)}
    X = jax.random.normal(k3, (8, 3))
    y = jax.random.normal(k4, (8,))
    eta = 0.05

    def half_sum(p):
        return 0.5 * jnp.sum((_pytree_model(p, X) - y) ** 2)

    def mean(p):
        return 0.5 * jnp.mean((_pytree_model(p, X) - y) ** 2)

    traj = train.gradient_descent(_pytree_model, p0, X, y, eta=eta, steps=1)
    by_hand = jax.tree.map(lambda w, g: w - eta * g, p0, jax.grad(half_sum)(p0))
    with_mean = jax.tree.map(lambda w, g: w - eta * g, p0, jax.grad(mean)(p0))
    for name in p0:
        np.testing.assert_allclose(traj.params[name], by_hand[name], rtol=1e-12)
    assert not np.allclose(traj.params["W"], with_mean["W"], rtol=1e-3)
    np.testing.assert_allclose(traj.loss, [half_sum(p0), half_sum(by_hand)], rtol=1e-12)
    P = sum(np.size(w) for w in p0.values())
    sq = sum(np.sum((np.asarray(by_hand[k]) - np.asarray(p0[k])) ** 2) for k in p0)
    norm0 = math.sqrt(sum(np.sum(np.asarray(w) ** 2) for w in p0.values()))
    assert P == 21
    np.testing.assert_allclose(traj.weight_change, [0.0, math.sqrt(sq) / norm0], rtol=1e-12)


def _np_act(name, z):
    """sigma and sigma' in plain numpy/scipy, independent of ntklib.net."""
    if name == "relu":
        return np.maximum(z, 0), (z > 0).astype(float)
    if name == "tanh":
        return np.tanh(z), 1 - np.tanh(z) ** 2
    return scipy.special.erf(z), 2 / math.sqrt(math.pi) * np.exp(-z * z)


@pytest.mark.parametrize("activation", ["relu", "erf", "tanh"])
@pytest.mark.parametrize("parameterization", ["ntk", "standard"])
def test_train_network_one_step_matches_the_math_md_gradients(key, activation,
                                                              parameterization):
    """grad_{a_i} f = s b_i sigma'(a_i . x) x, grad_{b_i} f = s sigma(a_i . x), summed over the
    data with weights U_j = f(x_j) - y_j; a loop over neurons in numpy."""
    k1, k2, k3 = jax.random.split(key, 3)
    m, d, n, eta = 6, 3, 5, 0.1
    p0 = net.init(k1, d, m, parameterization)
    X = np.asarray(jax.random.normal(k2, (n, d)))
    y = np.asarray(jax.random.normal(k3, (n,)))
    A, b = np.asarray(p0.A), np.asarray(p0.b)
    s = 1 / math.sqrt(m) if parameterization == "ntk" else 1.0
    S, dS = _np_act(activation, X @ A.T)  # (n, m)
    U = s * S @ b - y
    gA = np.zeros_like(A)
    gb = np.zeros_like(b)
    for i in range(m):
        for j in range(n):
            gA[i] += U[j] * s * b[i] * dS[j, i] * X[j]
            gb[i] += U[j] * s * S[j, i]
    traj = train.train_network(p0, X, y, eta=eta, steps=1, activation=activation,
                               parameterization=parameterization)
    np.testing.assert_allclose(traj.params.A, A - eta * gA, rtol=1e-12)
    np.testing.assert_allclose(traj.params.b, b - eta * gb, rtol=1e-12)
    np.testing.assert_allclose(traj.loss[0], 0.5 * U @ U, rtol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_train_network_equals_autodiff_gradient_descent_on_net_apply(key, activation):
    """The closed-form gradient of train_network against jax.grad through net.apply."""
    k1, k2 = jax.random.split(key)
    X, y = _toy(10)
    X_eval = net.embed(jax.random.uniform(k2, (9, 1), minval=-1.5, maxval=1.5))
    p0 = net.init(k1, 2, 40)
    kw = dict(eta=0.05, steps=30, record_every=4, X_eval=X_eval)
    a = train.train_network(p0, X, y, activation=activation, **kw)
    b = train.gradient_descent(train.network_model(activation), p0, X, y, **kw)
    np.testing.assert_allclose(a.loss, b.loss, rtol=1e-11)
    np.testing.assert_allclose(a.predictions, b.predictions, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a.weight_change, b.weight_change, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(a.params.A, b.params.A, rtol=1e-11)


@pytest.mark.parametrize(("steps", "record_every", "expected"), [
    (10, 3, [0, 3, 6, 9, 10]),  # the last step is always recorded
    (10, 5, [0, 5, 10]),
    (10, 50, [0, 10]),
    (1, 1, [0, 1]),
])
def test_recorded_predictions_are_those_of_every_step(steps, record_every, expected):
    Phi, y, w0 = _linear_problem(5)
    every = train.train_linear(Phi, y, w0, eta=0.03, steps=steps)
    some = train.train_linear(Phi, y, w0, eta=0.03, steps=steps, record_every=record_every)
    np.testing.assert_array_equal(some.record_steps, expected)
    np.testing.assert_array_equal(every.record_steps, np.arange(steps + 1))
    np.testing.assert_allclose(some.predictions, every.predictions[np.array(expected)],
                               rtol=1e-13)
    np.testing.assert_allclose(some.loss, every.loss, rtol=1e-13)
    np.testing.assert_allclose(some.record_times, 0.03 * np.array(expected), rtol=1e-15)


# ---- behaviour on the network --------------------------------------------------------

def test_small_eta_decreases_the_loss_monotonically_and_converges(key):
    X, y = _toy(12)
    p0 = net.init(key, 2, 256)
    eta = 1 / _lambda_max(p0, X)  # half the stability bound 2 / lambda_max
    traj = train.train_network(p0, X, y, eta=eta, steps=2000, record_every=100)
    loss = np.asarray(traj.loss)
    assert np.all(np.diff(loss) <= 1e-12 * loss[0]), "the loss must never increase"
    assert loss[-1] < 5e-3 * loss[0]
    assert traj.weight_change[0] == 0.0
    np.testing.assert_allclose(traj.times, eta * np.arange(2001), rtol=1e-15)
    assert traj.predictions.shape == (21, 12) and not traj.diverged
    assert "DIVERGED" not in repr(traj) and "eta=" in repr(traj)


def test_lazy_training_weight_change_falls_like_one_over_sqrt_m():
    """||w_t - w0|| / ||w0|| at fixed t = eta k: log-log slope -1/2 over m = 100..10000.

    Tolerance 0.1: at width m the weight change fluctuates around its m -> inf behaviour by
    O(1/sqrt(m)) relatively (about 10% at m = 100, 1% at m = 10000), which moves the fitted
    slope over two decades by about 0.1 / ln(100) ~ 0.02; 0.1 leaves a factor 5.
    """
    X, y = _toy(12)
    widths = [100, 1000, 10000]
    change = []
    for i, m in enumerate(widths):
        p0 = net.init(jax.random.key(10 + i), 2, m)
        traj = train.train_network(p0, X, y, eta=0.05, steps=100, record_every=100)
        assert not traj.diverged
        change.append(float(traj.weight_change[-1]))
    slope = np.polyfit(np.log(widths), np.log(change), 1)[0]
    assert abs(slope + 0.5) < 0.1, f"slope {slope:.3f}, changes {change}"


# ---- divergence ------------------------------------------------------------------------

def _check_diverged(traj):
    k = traj.diverged_step
    assert traj.diverged and isinstance(k, int) and 0 < k <= traj.steps
    loss = np.asarray(traj.loss)
    assert np.all(np.isfinite(loss[:k])) and np.all(np.isnan(loss[k:]))
    assert np.all(np.isnan(traj.weight_change[k:]))
    after = np.asarray(traj.record_steps) >= k
    assert np.all(np.isnan(np.asarray(traj.predictions)[after]))
    assert np.all(np.isfinite(np.asarray(traj.predictions)[~after]))
    for leaf in jax.tree_util.tree_leaves(traj.params):
        assert np.all(np.isfinite(leaf)), "no NaN may reach the weights"
    assert f"DIVERGED at step {k}" in repr(traj)


def test_linear_model_diverges_above_two_over_lambda_max():
    Phi, y, w0 = _linear_problem(6)
    bound = 2 / np.linalg.eigvalsh(Phi @ Phi.T)[-1]
    stable = train.train_linear(Phi, y, w0, eta=0.95 * bound, steps=300, record_every=10)
    assert not stable.diverged and stable.diverged_step is None
    assert np.all(np.isfinite(stable.loss))
    eta = 10 * bound
    traj = train.train_linear(Phi, y, w0, eta=eta, steps=300, record_every=10)
    _check_diverged(traj)
    # first k with 1/2 |U_k|^2 > 1e10 (L0 + 1), from the closed form U_k = (I - eta K)^k U_0
    M = np.eye(len(y)) - eta * Phi @ Phi.T
    U = Phi @ w0 - y
    limit, k = 1e10 * (0.5 * U @ U + 1), 0
    while 0.5 * U @ U <= limit:
        U, k = M @ U, k + 1
    assert traj.diverged_step == k


def test_network_diverges_far_above_the_bound(key):
    """tanh network at 10 x (2 / lambda_max). (A relu network may instead survive such a step
    with most neurons switched off: its loss spikes and then returns to about L0.)"""
    X, y = _toy(12)
    p0 = net.init(key, 2, 256)
    bound = 2 / _lambda_max(p0, X, "tanh")
    _check_diverged(train.train_network(p0, X, y, eta=10 * bound, steps=200, record_every=25,
                                        activation="tanh"))


def test_overflow_never_reaches_the_weights():
    """float32, a threshold too large to trigger: the loss overflows to inf; the weights stay
    at the last finite iterate."""
    Phi, y, w0 = (a.astype(np.float32) for a in _linear_problem(7))
    traj = train.gradient_descent(_linear, w0, Phi, y, eta=1.0, steps=400,
                                  divergence_threshold=1e38)
    _check_diverged(traj)
    assert traj.params.dtype == jnp.float32


# ---- compilation ---------------------------------------------------------------------

def test_new_eta_or_new_data_values_do_not_recompile():
    traces = []

    def f(w, Phi):  # runs only while jax traces; a compiled call does not execute it
        traces.append(1)
        return Phi @ w

    Phi, y, w0 = _linear_problem(8)
    train.gradient_descent(f, w0, Phi, y, eta=0.01, steps=20, record_every=5)
    after_first = len(traces)
    assert after_first > 0
    train.gradient_descent(f, w0, Phi, y, eta=0.02, steps=20, record_every=5)
    train.gradient_descent(f, w0 + 1, Phi * 2, y - 1, eta=0.005, steps=20, record_every=5)
    assert len(traces) == after_first, "a new eta or new data values recompiled"
    train.gradient_descent(f, w0, Phi[:4], y[:4], eta=0.01, steps=20, record_every=5)
    assert len(traces) > after_first  # a new shape does retrace: the counter can fail


def _compilations(caplog, run):
    """The messages of the XLA compilations that `run()` triggers (jax.log_compiles)."""
    caplog.clear()
    with caplog.at_level(logging.WARNING), jax.log_compiles():
        run()
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("Compiling")]


def _host_params(seed, m, d=2):
    """Weights made on the host (numpy), so that only the trainer can compile anything."""
    rng = np.random.default_rng(seed)
    return net.Params(jnp.asarray(rng.normal(size=(m, d))), jnp.asarray(rng.normal(size=m)))


def test_train_network_does_not_recompile_for_a_new_eta(caplog):
    X, y = _toy(8)
    p0, y2 = _host_params(0, 16), y * 2
    train.train_network(p0, X, y, eta=0.1, steps=10, record_every=5)

    def again():
        train.train_network(p0, X, y2, eta=0.07, steps=10, record_every=5)
        train.train_network(_host_params(3, 16), X, y, eta=0.3, steps=10, record_every=5)

    assert _compilations(caplog, again) == []
    # the counter can fail: a new width compiles again
    p17 = _host_params(3, 17)
    assert _compilations(caplog, lambda: train.train_network(p17, X, y, eta=0.3, steps=10,
                                                             record_every=5))


def test_padded_widths_share_one_compiled_program(caplog):
    X, y = _toy(8)
    kw = dict(eta=0.1, steps=10, record_every=5, pad_to=32)
    train.train_network(_host_params(0, 3), X, y, **kw)
    others = [_host_params(m, m) for m in (5, 16, 32)]

    def other_widths():
        for p0 in others:
            train.train_network(p0, X, y, **kw)

    assert _compilations(caplog, other_widths) == []


def test_float32_weights_train_in_float32(key):
    X, y = _toy(8, jnp.float32)
    p0 = net.init(key, 2, 16, dtype=jnp.float32)
    traj = train.train_network(p0, X, np.asarray(y, np.float64), eta=0.1, steps=5)
    assert traj.loss.dtype == traj.predictions.dtype == traj.params.A.dtype == jnp.float32
    assert traj.weight_change.dtype == traj.times.dtype == jnp.float32


# ---- bad input -----------------------------------------------------------------------

def _network_call(**change):
    X, y = _toy(6)
    kw = dict(params0=net.init(jax.random.key(0), 2, 4), X=X, y=y, eta=0.1, steps=3)
    kw.update(change)
    return train.train_network(**kw)


@pytest.mark.parametrize(("change", "error", "match"), [
    (dict(eta=0.0), ValueError, "eta"),
    (dict(eta=-0.1), ValueError, "eta"),
    (dict(eta=float("nan")), ValueError, "eta"),
    (dict(eta=float("inf")), ValueError, "eta"),
    (dict(eta="0.1"), TypeError, "eta"),
    (dict(steps=0), ValueError, "steps"),
    (dict(steps=2.5), TypeError, "steps"),
    (dict(steps=True), TypeError, "steps"),
    (dict(record_every=0), ValueError, "record_every"),
    (dict(y=np.ones(5)), ValueError, "y"),
    (dict(y=np.ones((6, 1))), ValueError, "y"),
    (dict(X=np.ones(6)), ValueError, "X"),
    (dict(X=np.ones((6, 3))), ValueError, "X"),  # d = 3, params have d = 2
    (dict(X_eval=np.ones((4, 3))), ValueError, "X_eval"),
    (dict(activation="sigmoid"), ValueError, "activation"),
    (dict(parameterization="mup"), ValueError, "parameterization"),
    (dict(params0=(np.ones((4, 2)), np.ones(4))), TypeError, "params0"),
    (dict(y=np.full(6, np.nan)), ValueError, "y"),
])
def test_train_network_rejects_bad_input(change, error, match):
    with pytest.raises(error, match=match):
        _network_call(**change)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    (dict(Phi=np.ones(6)), ValueError, "Phi"),
    (dict(y=np.ones(4)), ValueError, "y"),
    (dict(w0=np.ones(3)), ValueError, "w0"),
    (dict(Phi_eval=np.ones((2, 3))), ValueError, "Phi_eval"),
    (dict(eta=-1.0), ValueError, "eta"),
    (dict(steps=0), ValueError, "steps"),
])
def test_train_linear_rejects_bad_input(kwargs, error, match):
    Phi, y, w0 = _linear_problem(0)
    kw = dict(Phi=Phi, y=y, w0=w0, eta=0.1, steps=3) | kwargs
    with pytest.raises(error, match=match):
        train.train_linear(**kw)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    (dict(f="Phi @ w"), TypeError, "f"),
    (dict(params0={"w": np.arange(4)}), TypeError, "params0"),
    (dict(params0={}), ValueError, "params0"),
    (dict(params0=np.array([1.0, np.inf, 0.0, 0.0])), ValueError, "params0"),
    (dict(f=lambda w, Phi: (Phi @ w)[:, None]), ValueError, r"f\(params0, X\)"),
    (dict(divergence_threshold=0.0), ValueError, "divergence_threshold"),
    (dict(eta=float("nan")), ValueError, "eta"),
    (dict(record_every=-2), ValueError, "record_every"),
    (dict(X_eval=np.ones(4)), ValueError, "X_eval"),
])
def test_gradient_descent_rejects_bad_input(kwargs, error, match):
    Phi, y, w0 = _linear_problem(0)
    kw = dict(f=_linear, params0=w0, X=Phi, y=y, eta=0.1, steps=3) | kwargs
    with pytest.raises(error, match=match):
        train.gradient_descent(**kw)


# ---- notebooks 03-04: how much the features grad_w f move ---------------------------------

def _autodiff_features(params, X, activation="relu"):
    J = jax.jacrev(lambda p: net.apply(p, X, activation=activation))(params)
    return np.concatenate([np.asarray(J.A).reshape(X.shape[0], -1), np.asarray(J.b)], axis=1)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_feature_change_is_the_relative_change_of_the_autodiff_jacobian(key, activation):
    X, y = _toy(10)
    p0 = net.init(key, 2, 12)
    p = train.train_network(p0, X, y, eta=0.05, steps=50, activation=activation).params
    J0, J = _autodiff_features(p0, X, activation), _autodiff_features(p, X, activation)
    expected = np.linalg.norm(J - J0) / np.linalg.norm(J0)
    assert expected > 1e-3  # the features did move
    got = train.feature_change(p0, p, X, activation=activation)
    assert math.isclose(got, expected, rel_tol=1e-10)
    assert train.feature_change(p0, p0, X, activation=activation) == 0.0


def test_feature_change_falls_with_width():
    """A wider network moves its features less (lazy training); relu: about m^(-1/4), since
    the features sigma'(a_i . x) jump where a neuron's sign flips."""
    X, y = _toy(12)
    changes = []
    for m in [16, 256, 4096]:
        p0 = net.init(jax.random.key(1), 2, m)
        p = train.train_network(p0, X, y, eta=0.05, steps=200, record_every=200).params
        changes.append(train.feature_change(p0, p, X))
    assert changes[0] > changes[1] > changes[2], changes


def test_feature_change_rejects_params_of_another_width(key):
    X, _ = _toy(4)
    with pytest.raises(ValueError, match="shapes of params0"):
        train.feature_change(net.init(key, 2, 3), net.init(key, 2, 4), X)


# --- notebook 07 API ---
# train_network(..., track_lambda_max=True): Trajectory.lambda_max, the largest eigenvalue of
# the empirical NTK on X at the recorded steps; centred=True: the network f(w, x) - f(w0, x).

def _top_eigenvalues(params, X, activation="relu", parameterization="ntk"):
    """lambda_max of K(w) on X by two routes: the closed form `ntk.empirical_ntk` and
    `ntk.autodiff_ntk` of the model (J J^T from jax.jacrev), each through numpy's eigvalsh."""
    closed = ntk.empirical_ntk(params, X, activation=activation,
                               parameterization=parameterization)
    auto = ntk.autodiff_ntk(train.network_model(activation, parameterization), params, X)
    return (float(np.linalg.eigvalsh(np.asarray(closed))[-1]),
            float(np.linalg.eigvalsh(np.asarray(auto))[-1]))


@pytest.mark.parametrize(("activation", "parameterization", "centred"), [
    ("relu", "ntk", False), ("tanh", "ntk", False), ("relu", "standard", False),
    ("relu", "ntk", True),
])
def test_lambda_max_is_the_top_eigenvalue_of_the_ntk_at_the_first_and_last_step(
        key, activation, parameterization, centred):
    """record_every = steps: entry 0 is lambda_max(K(w0)), entry 1 lambda_max(K(w_final)), on
    the training inputs X even when predictions are recorded at other points X_eval, and not
    shifted by the centring (which touches only the predictions)."""
    X, y = _toy(8)
    X_eval = X[:3] * 0.6 + 0.05
    p0 = net.init(key, 2, 24, parameterization)
    eta = 0.5 / _top_eigenvalues(p0, X, activation, parameterization)[0]
    traj = train.train_network(p0, X, y, eta=eta, steps=60, record_every=60, X_eval=X_eval,
                               activation=activation, parameterization=parameterization,
                               track_lambda_max=True, centred=centred)
    lam = np.asarray(traj.lambda_max)
    assert lam.shape == (2,) and traj.predictions.shape == (2, 3)
    for got, params in zip(lam, (p0, traj.params), strict=True):
        closed, auto = _top_eigenvalues(params, X, activation, parameterization)
        assert math.isclose(got, closed, rel_tol=1e-10)
        assert math.isclose(got, auto, rel_tol=1e-10)
    assert abs(lam[1] - lam[0]) > 1e-6 * lam[0], "the kernel of a narrow network must move"


def test_lambda_max_at_an_intermediate_recorded_step(key):
    """record_every = 10 of 30 steps: entry k/10 is lambda_max at the weights a separate
    10-step run ends with."""
    X, y = _toy(8)
    p0 = net.init(key, 2, 16)
    traj = train.train_network(p0, X, y, eta=0.05, steps=30, record_every=10,
                               track_lambda_max=True)
    assert traj.lambda_max.shape == (4,)
    p10 = train.train_network(p0, X, y, eta=0.05, steps=10).params
    assert math.isclose(float(traj.lambda_max[1]), _top_eigenvalues(p10, X)[0], rel_tol=1e-10)


def test_tracking_lambda_max_changes_nothing_else_and_is_none_when_off(key):
    X, y = _toy(8)
    p0 = net.init(key, 2, 16)
    kw = dict(eta=0.05, steps=30, record_every=7, X_eval=X[:5] + 0.1)
    off = train.train_network(p0, X, y, **kw)
    on = train.train_network(p0, X, y, **kw, track_lambda_max=True)
    assert off.lambda_max is None
    assert on.lambda_max.shape == on.record_steps.shape == (6,)
    for a, b in ((off.loss, on.loss), (off.predictions, on.predictions),
                 (off.weight_change, on.weight_change), (off.params.A, on.params.A),
                 (off.params.b, on.params.b), (off.record_steps, on.record_steps)):
        np.testing.assert_array_equal(a, b)
    assert off.diverged == on.diverged and off.diverged_step == on.diverged_step


def test_lambda_max_is_nan_after_a_divergence(key):
    """tanh at 10 x (2 / lambda_max) diverges (see test_network_diverges_far_above_the_bound):
    lambda_max is finite before the divergence step and NaN from it on."""
    X, y = _toy(12)
    p0 = net.init(key, 2, 256)
    bound = 2 / _lambda_max(p0, X, "tanh")
    traj = train.train_network(p0, X, y, eta=10 * bound, steps=200, record_every=25,
                               activation="tanh", track_lambda_max=True)
    _check_diverged(traj)
    after = np.asarray(traj.record_steps) >= traj.diverged_step
    lam = np.asarray(traj.lambda_max)
    assert after.any() and (~after).any()
    assert np.all(np.isnan(lam[after])) and np.all(np.isfinite(lam[~after]))
    assert math.isclose(lam[0], _lambda_max(p0, X, "tanh"), rel_tol=1e-10)


@pytest.mark.parametrize(("change", "name"), [
    (dict(track_lambda_max=1), "track_lambda_max"),
    (dict(track_lambda_max="yes"), "track_lambda_max"),
    (dict(track_lambda_max=None), "track_lambda_max"),
    (dict(centred=0), "centred"),
    (dict(centred="True"), "centred"),
])
def test_notebook_07_flags_must_be_bool(change, name):
    with pytest.raises(TypeError, match=name):
        _network_call(**change)


def test_centred_network_starts_at_zero(key):
    """f(w0, x) - f(w0, x) = 0 (to round-off: XLA may fuse the two evaluations differently)
    at every recorded point at step 0, and the loss starts at 1/2 |0 - y|^2."""
    X, y = _toy(8)
    X_eval = X[:3] * 0.6 + 0.05
    p0 = net.init(key, 2, 24)
    for points in (None, X_eval):
        traj = train.train_network(p0, X, y, eta=0.02, steps=20, record_every=5,
                                   X_eval=points, centred=True)
        np.testing.assert_allclose(traj.predictions[0], 0.0, atol=1e-14)
        assert math.isclose(float(traj.loss[0]), 0.5 * float(y @ y), rel_tol=1e-12)


def test_centred_network_equals_autodiff_descent_on_f_minus_f0(key):
    """Independent route: `gradient_descent` (autodiff of the half-sum loss) on the model
    w -> f(w, x) - f(w0, x) itself; and the docstring's re-derivation: the plain network
    trained on y + f(w0, X), its predictions minus f(w0, X_eval)."""
    X, y = _toy(8)
    X_eval = X[:3] * 0.6 + 0.05
    p0 = net.init(key, 2, 24)
    kw = dict(eta=0.03, steps=40, record_every=10, X_eval=X_eval)
    traj = train.train_network(p0, X, y, **kw, centred=True)

    def centred(w, Z):
        return net.apply(w, Z) - net.apply(p0, Z)

    auto = train.gradient_descent(centred, p0, X, y, **kw)
    np.testing.assert_allclose(traj.loss, auto.loss, rtol=1e-10)
    np.testing.assert_allclose(traj.predictions, auto.predictions, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(traj.params.A, auto.params.A, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(traj.weight_change, auto.weight_change, rtol=1e-10)
    shifted = train.train_network(p0, X, y + net.apply(p0, X), **kw)
    np.testing.assert_allclose(traj.loss, shifted.loss, rtol=1e-12)
    np.testing.assert_allclose(traj.predictions, shifted.predictions - net.apply(p0, X_eval),
                               rtol=1e-12, atol=1e-14)
    assert float(traj.loss[-1]) < 0.75 * float(traj.loss[0])  # it did train


def test_wide_centred_network_follows_the_kernel_flow_from_zero():
    """m -> inf: the centred network follows f_t(X*) = -K(X*, X) K^-1 (I - exp(-K t)) (-y),
    the infinite-width flow started from f0 = 0 (`dynamics.flow_predictor`). The gap is
    O(1/sqrt(m)) (the kernel at init and its drift); from m = 500 to 20000 it should fall by
    about sqrt(40) ~ 6, asserted: by 2, mean over 3 draws. eta = 1e-3 keeps gradient descent
    within 1e-4 of the flow (below the m = 20000 gap of ~3e-3)."""
    X = net.embed(np.array([[-0.8], [-0.2], [0.35], [0.9]]))
    X_eval = net.embed(np.array([[-0.55], [0.1], [0.73]]))
    y = np.array([0.5, -0.3, 0.8, -0.6])
    eta, steps = 1e-3, 1000
    K = ntk.infinite_width_ntk(X)
    expected = dynamics.flow_predictor(K, ntk.infinite_width_ntk(X_eval, X), np.zeros(4),
                                       np.zeros(3), y)(eta * steps)
    assert np.max(np.abs(expected)) > 0.1  # far from the start 0: the check has teeth
    gaps = {}
    for m in (500, 20000):
        gap = []
        for seed in range(3):
            p0 = net.init(jax.random.key(seed), 2, m)
            traj = train.train_network(p0, X, y, eta=eta, steps=steps, record_every=steps,
                                       X_eval=X_eval, centred=True)
            gap.append(np.max(np.abs(np.asarray(traj.predictions[-1]) - expected)))
        gaps[m] = float(np.mean(gap))
    assert gaps[20000] < 0.02, gaps
    assert gaps[20000] < gaps[500] / 2, gaps


# ---- zero neurons: one compiled program for every width (pad_to) ------------------------

@pytest.mark.parametrize("activation", ["relu", "erf", "tanh"])
@pytest.mark.parametrize("centred", [False, True])
def test_padded_network_follows_the_same_iterates(key, activation, centred):
    """Zero neurons output 0 and get zero gradients (sigma(0) = 0): a run padded to a wider
    program gives the run at the true width (scale 1/sqrt(m) of the true m), lambda_max
    included, against the plain run computed independently at width m."""
    X, y = _toy()
    p0 = net.init(key, 2, 7)
    kw = dict(eta=0.1, steps=30, record_every=10, activation=activation, centred=centred,
              track_lambda_max=True)
    plain = train.train_network(p0, X, y, **kw)
    padded = train.train_network(p0, X, y, pad_to=32, **kw)
    for a, b in [(plain.loss, padded.loss), (plain.predictions, padded.predictions),
                 (plain.weight_change, padded.weight_change),
                 (plain.lambda_max, padded.lambda_max), (plain.params.A, padded.params.A),
                 (plain.params.b, padded.params.b)]:
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


def test_pad_to_below_the_width_is_rejected(key):
    X, y = _toy()
    with pytest.raises(ValueError, match="pad_to must be at least the width m = 7"):
        train.train_network(net.init(key, 2, 7), X, y, eta=0.1, steps=3, pad_to=4)
