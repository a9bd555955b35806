"""Tests of ntklib.dynamics against independent routes: scipy's matrix exponential, numerical
integration of dU/dt = -K U, matrix powers, pseudo-inverse kernel regression."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
from hypothesis import given
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from ntklib import dynamics as dyn


def _features(key, n, D):
    """Random non-degenerate features, shape (n, D)."""
    return np.array(jax.random.normal(key, (n, D)))  # a writable copy


def _problem(key, n=6, D=9):
    """A full-rank PSD kernel K = Phi Phi^T / D, shape (n, n), and a residual U0, shape (n,)."""
    k1, k2 = jax.random.split(key)
    Phi = _features(k1, n, D)
    return Phi @ Phi.T / D, np.asarray(jax.random.normal(k2, (n,)))


TIMES = np.array([0.0, 0.05, 0.4, 1.7, 6.0])


def test_flow_matches_matrix_exponential(key):
    K, U0 = _problem(key)
    flow = dyn.gradient_flow(K, U0)
    for t in TIMES:
        np.testing.assert_allclose(flow(t), scipy.linalg.expm(-K * t) @ U0,
                                   rtol=1e-10, atol=1e-12)


def test_flow_matches_numerical_integration(key):
    K, U0 = _problem(key)
    sol = solve_ivp(lambda t, u: -K @ u, (0.0, TIMES[-1]), U0, t_eval=TIMES, method="DOP853",
                    rtol=1e-10, atol=1e-12)
    assert sol.success
    np.testing.assert_allclose(dyn.gradient_flow(K, U0)(TIMES), sol.y.T, rtol=0, atol=1e-8)


def test_flow_starts_at_U0_and_vector_t_agrees_with_scalar_t(key):
    K, U0 = _problem(key)
    flow = dyn.gradient_flow(K, U0)
    np.testing.assert_allclose(flow(0.0), U0, rtol=0, atol=1e-13)
    many = flow(TIMES)
    assert many.shape == (TIMES.size, U0.size) and flow(1.0).shape == U0.shape
    for row, t in zip(many, TIMES, strict=True):
        np.testing.assert_allclose(row, flow(t), rtol=1e-13, atol=1e-14)


def test_each_eigendirection_decays_exponentially(key):
    K, U0 = _problem(key)
    lam, V = np.linalg.eigh(K)  # independent decomposition
    flow = dyn.gradient_flow(K, U0)
    np.testing.assert_allclose(flow.eigvals, lam[::-1], rtol=1e-12)
    for t in TIMES:
        np.testing.assert_allclose(V.T @ flow(t), np.exp(-lam * t) * (V.T @ U0),
                                   rtol=1e-9, atol=1e-13)
        # modes(t) is the same thing in the flow's own (descending) eigenbasis
        np.testing.assert_allclose(flow.modes(t), flow.eigvecs.T @ flow(t), rtol=0, atol=1e-13)
    assert flow.modes(TIMES).shape == (TIMES.size, U0.size)


@pytest.mark.parametrize("fraction", [0.3, 0.9, 1.3])  # of the stability bound; 1.3 diverges
def test_gd_residual_matches_matrix_power(key, fraction):
    K, U0 = _problem(key)
    eta = fraction * 2 / np.linalg.eigvalsh(K)[-1]
    steps = 12
    out = dyn.gd_residual(K, U0, eta=eta, steps=steps)
    assert out.shape == (steps + 1, U0.size)
    step = np.eye(len(U0)) - eta * K
    expected = np.stack([np.linalg.matrix_power(step, k) @ U0 for k in range(steps + 1)])
    np.testing.assert_allclose(out, expected, rtol=1e-9, atol=1e-12)


def test_gd_approaches_flow_as_eta_shrinks(key):
    K, U0 = _problem(key)
    t = 1.5
    target = dyn.gradient_flow(K, U0)(t)
    errors = []
    for steps in (15, 150, 1500):
        gd = dyn.gd_residual(K, U0, eta=t / steps, steps=steps)
        errors.append(float(np.max(np.abs(gd[-1] - target))))
    # Euler's error is O(eta): ten times smaller steps, about ten times smaller error.
    assert errors[0] > 5 * errors[1] > 25 * errors[2], errors
    assert errors[2] < 1e-3


def test_max_stable_learning_rate_separates_convergence_from_divergence(key):
    K, U0 = _problem(key)
    bound = dyn.max_stable_learning_rate(K)
    assert isinstance(bound, float)
    assert bound == pytest.approx(2 / np.linalg.eigvalsh(K)[-1], rel=1e-12)
    steps = 2000
    below = np.linalg.norm(dyn.gd_residual(K, U0, eta=0.99 * bound, steps=steps), axis=1)
    above = np.linalg.norm(dyn.gd_residual(K, U0, eta=1.01 * bound, steps=steps), axis=1)
    assert below[-1] < 1e-3 * below[0]
    assert above[-1] > 1e3 * above[0] and np.all(np.isfinite(above))


def test_max_stable_learning_rate_of_a_linear_model(key):
    # Phi Phi^T (n x n, the kernel) and Phi^T Phi (D x D, the weight-space Hessian) share their
    # nonzero spectrum, so the bound in function space is the bound for gradient descent on w.
    Phi = _features(key, 7, 3)
    assert dyn.max_stable_learning_rate(Phi @ Phi.T) == pytest.approx(
        dyn.max_stable_learning_rate(Phi.T @ Phi), rel=1e-12)
    assert dyn.max_stable_learning_rate(np.zeros((3, 3))) == np.inf


def test_spectrum_is_descending_and_clips_round_off(key):
    Phi = _features(key, 6, 2)  # rank 2: four eigenvalues are round-off around 0
    lam = dyn.spectrum(Phi @ Phi.T)
    np.testing.assert_allclose(lam, np.linalg.eigvalsh(Phi @ Phi.T)[::-1], rtol=1e-12,
                               atol=1e-12)
    assert np.all(np.diff(lam) <= 0) and np.all(lam >= 0)


def _joint(key, n, n_test, D, duplicate=False):
    """Kernels from one feature map: K(X, X) (n, n) and K(X*, X) (n_test, n), plus f0, y."""
    k1, k2, k3, k4 = jax.random.split(key, 4)
    Phi = _features(k1, n, D)
    if duplicate:
        Phi[1] = Phi[0]  # a duplicated training point: K is singular
    Phi_test = _features(k2, n_test, D)
    f0 = np.asarray(jax.random.normal(k3, (n + n_test,)))
    y = np.asarray(jax.random.normal(k4, (n,)))
    return Phi @ Phi.T / D, Phi_test @ Phi.T / D, f0[:n], f0[n:], y


def test_predictions_match_the_explicit_formula(key):
    K, Ks, f0, f0_test, y = _joint(key, 5, 4, 12)
    predict = dyn.flow_predictor(K, Ks, f0, f0_test, y)
    for t in TIMES:
        expected = f0_test - Ks @ np.linalg.solve(K, (np.eye(5) - scipy.linalg.expm(-K * t))
                                                  @ (f0 - y))
        np.testing.assert_allclose(predict(t), expected, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(predict(0.0), f0_test, rtol=0, atol=1e-13)
    # t = inf: kernel regression with the NTK, started from f0
    np.testing.assert_allclose(predict(np.inf), f0_test + Ks @ np.linalg.solve(K, y - f0),
                               rtol=1e-9, atol=1e-11)


def test_predictions_on_the_training_set_follow_the_flow(key):
    K, _, f0, _, y = _joint(key, 5, 1, 12)
    predict = dyn.flow_predictor(K, K, f0, f0, y)
    flow = dyn.gradient_flow(K, f0 - y)
    np.testing.assert_allclose(predict(TIMES), y + flow(TIMES), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(predict(np.inf), y, rtol=0, atol=1e-10)  # interpolation


def test_predictions_vector_t_agrees_with_scalar_t(key):
    K, Ks, f0, f0_test, y = _joint(key, 5, 4, 12)
    predict = dyn.flow_predictor(K, Ks, f0, f0_test, y)
    times = np.append(TIMES, np.inf)
    many = predict(times)
    assert many.shape == (times.size, 4) and predict(1.0).shape == (4,)
    for row, t in zip(many, times, strict=True):
        np.testing.assert_allclose(row, predict(t), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("seed", range(8))  # round-off puts the zero eigenvalue on either side
def test_predictions_with_a_singular_kernel_are_finite_and_use_the_pseudo_inverse(seed):
    K, Ks, f0, f0_test, y = _joint(jax.random.key(seed), 5, 4, 12, duplicate=True)
    assert np.linalg.matrix_rank(K) == 4
    predict = dyn.flow_predictor(K, Ks, f0, f0_test, y)
    times = np.append(TIMES, [1e8, np.inf])
    out = predict(times)
    assert np.all(np.isfinite(out))
    pinv = np.linalg.pinv(K, hermitian=True)
    for row, t in zip(out, times, strict=True):
        decay = 0 if np.isinf(t) else scipy.linalg.expm(-K * t)
        expected = f0_test - Ks @ pinv @ ((np.eye(5) - decay) @ (f0 - y))
        np.testing.assert_allclose(row, expected, rtol=1e-8, atol=1e-9)


def test_float32_stays_float32(key):
    K, U0 = _problem(key)
    K32, U32 = K.astype(np.float32), U0.astype(np.float32)
    assert dyn.spectrum(K32).dtype == jnp.float32
    assert dyn.gradient_flow(K32, U32)(0.5).dtype == jnp.float32
    assert dyn.gd_residual(K32, U32, eta=0.1, steps=3).dtype == jnp.float32
    predict = dyn.flow_predictor(K32, K32, U32, U32, np.zeros(6, np.float32))
    out = predict(np.array([0.5, np.inf]))
    assert out.dtype == jnp.float32
    np.testing.assert_allclose(out[0], dyn.gradient_flow(K, U0)(0.5), rtol=1e-4, atol=1e-4)


def test_reprs_explain_the_objects(key):
    K, U0 = _problem(key)
    text = repr(dyn.gradient_flow(K, U0))
    assert text.startswith("GradientFlow(n=6, dtype=float64") and "exp(-Lambda t)" in text
    text = repr(dyn.flow_predictor(K, K[:2], U0, U0[:2], U0))
    assert text.startswith("Predictor(n_train=6, n_test=2") and "K^-1" in text


@given(n=st.integers(1, 6), rank=st.integers(1, 6), seed=st.integers(0, 2**31 - 1),
       fraction=st.floats(0.05, 0.99))
def test_residual_norm_never_increases(n, rank, seed, fraction):
    Phi = _features(jax.random.key(seed), n, rank)
    K = Phi @ Phi.T
    U0 = _features(jax.random.key(seed + 1), 1, n)[0]
    times = np.array([0.0, 0.01, 0.1, 0.5, 1.0, 3.0, 10.0, 100.0])
    norms = np.linalg.norm(dyn.gradient_flow(K, U0)(times), axis=1)
    assert np.all(np.diff(norms) <= 1e-12 * norms[0])
    # below the stability bound every mode shrinks, so gradient descent is monotone too
    eta = fraction * dyn.max_stable_learning_rate(K)
    norms = np.linalg.norm(dyn.gd_residual(K, U0, eta=eta, steps=20), axis=1)
    assert np.all(np.diff(norms) <= 1e-12 * norms[0])


BAD_K = [
    (np.ones((3, 2)), "K"),  # not square
    (np.ones(3), "K"),  # not a matrix
    (np.array([[2.0, 1.0], [0.0, 2.0]]), "symmetric"),
    (np.array([[1.0, 0.0], [0.0, -1.0]]), "positive semi-definite"),
    (np.array([[1.0, np.nan], [np.nan, 1.0]]), "K must be finite"),
]


@pytest.mark.parametrize(("K", "match"), BAD_K)
def test_bad_kernels_are_refused(K, match):
    U0 = np.ones(K.shape[0])
    for call in (lambda: dyn.spectrum(K), lambda: dyn.max_stable_learning_rate(K),
                 lambda: dyn.gradient_flow(K, U0),
                 lambda: dyn.gd_residual(K, U0, eta=0.1, steps=2)):
        with pytest.raises(ValueError, match=match):
            call()
    with pytest.raises(ValueError, match=match.replace("K", "K_train")):
        dyn.flow_predictor(K, np.ones((1, K.shape[-1])), U0, np.ones(1), U0)


def test_bad_residuals_and_times_are_refused(key):
    K, U0 = _problem(key)
    with pytest.raises(ValueError, match="U0"):
        dyn.gradient_flow(K, U0[:-1])
    with pytest.raises(ValueError, match="U0"):
        dyn.gd_residual(K, np.ones((6, 1)), eta=0.1, steps=2)
    flow = dyn.gradient_flow(K, U0)
    predict = dyn.flow_predictor(K, K, U0, U0, U0)
    for t in (-1.0, np.array([0.0, -0.5]), np.nan, np.inf, np.ones((2, 2))):
        with pytest.raises(ValueError, match="t"):
            flow(t)
        with pytest.raises(ValueError, match="t"):
            flow.modes(t)
    for t in (-1.0, np.nan, -np.inf, np.array([np.inf, -np.inf])):
        with pytest.raises(ValueError, match="t"):
            predict(t)
    with pytest.raises(TypeError, match="t"):
        flow("soon")


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"eta": 0.0, "steps": 3}, ValueError, "eta"),
    ({"eta": -0.1, "steps": 3}, ValueError, "eta"),
    ({"eta": np.inf, "steps": 3}, ValueError, "eta"),
    ({"eta": np.nan, "steps": 3}, ValueError, "eta"),
    ({"eta": 0.1, "steps": 0}, ValueError, "steps"),
    ({"eta": 0.1, "steps": 2.5}, TypeError, "steps"),
])
def test_gd_residual_refuses_bad_eta_and_steps(key, kwargs, error, match):
    K, U0 = _problem(key)
    with pytest.raises(error, match=match):
        dyn.gd_residual(K, U0, **kwargs)


@pytest.mark.parametrize(("which", "match"), [
    ("K_test_train", "K_test_train"), ("f0_train", "f0_train"), ("f0_test", "f0_test"),
    ("y", "y must"),
])
def test_flow_predictor_refuses_mismatched_shapes(key, which, match):
    K, Ks, f0, f0_test, y = _joint(key, 5, 4, 12)
    args = {"K_train": K, "K_test_train": Ks, "f0_train": f0, "f0_test": f0_test, "y": y}
    args[which] = args[which][..., :-1]
    with pytest.raises(ValueError, match=match):
        dyn.flow_predictor(**args)


# ------------------------------------------ discrete GD at test points, regimes (nb 06)

def test_gd_predictions_match_the_trained_linearized_network():
    """Closed form (I - eta K)^k at test points against gradient descent on f_lin itself."""
    from ntklib import linearize, net, ntk

    k1, k2 = jax.random.split(jax.random.key(3))
    X = net.embed(jax.random.uniform(k1, (9, 1), minval=-1, maxval=1))
    Xt = net.embed(jnp.linspace(-1, 1, 7)[:, None])
    y = jnp.sin(3 * X[:, 0])
    p0 = net.init(k2, 2, 32)
    K, Ks = ntk.empirical_ntk(p0, X), ntk.empirical_ntk(p0, Xt, X)
    f0, f0t = net.apply(p0, X), net.apply(p0, Xt)
    eta = 0.7 * dyn.max_stable_learning_rate(K)
    lin = linearize.train_linearized(p0, X, y, eta=eta, steps=40, record_every=10, X_eval=Xt)
    pred = dyn.gd_predictions(K, Ks, f0, f0t, y, eta=eta, steps=40)
    assert pred.shape == (41, 7)
    assert jnp.allclose(pred[lin.record_steps], lin.predictions, atol=1e-10)
    # at the training points the predictions are y + U_k
    on_train = dyn.gd_predictions(K, K, f0, f0, y, eta=eta, steps=40)
    assert jnp.allclose(on_train - y, dyn.gd_residual(K, f0 - y, eta=eta, steps=40),
                        atol=1e-10)
    with pytest.raises(ValueError, match="eta"):
        dyn.gd_predictions(K, Ks, f0, f0t, y, eta=-1.0, steps=4)


@pytest.mark.parametrize(("loss", "name"), [
    ([10.0, 5.0, 1.0, 0.1], "converging"),
    ([10.0, 800.0, 3.0, 0.1], "catapult"),
    ([10.0, 1e5, float("nan"), float("nan")], "diverging"),
    ([10.0, 1e5, 30.0, 12.0], "stalled"),
])
def test_classify_regime_names_each_kind_of_run(loss, name):
    r = dyn.classify_regime(np.array(loss), eta=0.15, lambda_max=20.0)
    assert r.name == name and r.multiple == pytest.approx(1.5)
    assert r.peak == pytest.approx(np.nanmax(loss))
    assert name.upper() in r.message or name in r.message


def test_classify_regime_refuses_bad_input():
    with pytest.raises(ValueError, match="at least 2"):
        dyn.classify_regime(np.array([1.0]), eta=0.1, lambda_max=1.0)
    with pytest.raises(ValueError, match="lambda_max"):
        dyn.classify_regime(np.array([1.0, 0.5]), eta=0.1, lambda_max=0.0)
    with pytest.raises(ValueError, match="loss\\[0\\]"):
        dyn.classify_regime(np.array([np.nan, 0.5]), eta=0.1, lambda_max=1.0)
