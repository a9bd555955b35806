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
from ntklib import net, ntk, train


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
    assert text.startswith("KernelDynamics(n=6, dtype=float64") and "exp(-Lambda t)" in text
    assert "K^-1" not in text
    text = repr(dyn.kernel_dynamics(K, U0, K_test_train=K[:2], f0_test=U0[:2]))
    assert text.startswith("KernelDynamics(n=6, n_test=2") and "K^-1" in text
    assert "zero eigenvalues=0" in text


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


# ------------------------------------------ KernelDynamics: one decomposition per kernel

@pytest.mark.parametrize(("dtype", "rtol", "atol"), [
    (np.float64, 1e-9, 1e-11), (np.float32, 2e-3, 2e-4)])
def test_kernel_dynamics_matches_independent_routes(key, dtype, rtol, atol):
    """Every formula of one KernelDynamics against its own route: scipy's expm, matrix
    powers, an explicit inverse, numpy's eigvalsh; in float64 and float32."""
    K, Ks, f0, f0_test, y = _joint(key, 5, 4, 12)
    U0 = f0 - y
    dyn_ = dyn.kernel_dynamics(*(a.astype(dtype) for a in (K, U0)),
                               K_test_train=Ks.astype(dtype), f0_test=f0_test.astype(dtype))
    assert dyn_.eigvals.dtype == dtype and dyn_.predict(0.5).dtype == dtype
    lam = np.linalg.eigvalsh(K)
    assert dyn_.lambda_max == pytest.approx(lam[-1], rel=rtol)
    assert dyn_.max_stable_learning_rate == pytest.approx(2 / lam[-1], rel=rtol)
    assert dyn_.cutoff == pytest.approx(5 * np.finfo(dtype).eps * lam[-1], rel=rtol)
    for t in TIMES:
        E = scipy.linalg.expm(-K * t)
        np.testing.assert_allclose(dyn_(t), E @ U0, rtol=rtol, atol=atol)
        np.testing.assert_allclose(dyn_.loss(t), 0.5 * np.sum((E @ U0) ** 2), rtol=rtol,
                                   atol=atol)
        expected = f0_test - Ks @ np.linalg.solve(K, (np.eye(5) - E) @ U0)
        np.testing.assert_allclose(dyn_.predict(t), expected, rtol=rtol, atol=atol)
    np.testing.assert_allclose(dyn_.loss(TIMES), [float(dyn_.loss(t)) for t in TIMES],
                               rtol=rtol)
    eta, steps = 0.9 * 2 / lam[-1], 12
    M = np.eye(5) - eta * K
    powers = [np.linalg.matrix_power(M, k) for k in range(steps + 1)]
    np.testing.assert_allclose(dyn_.gd(eta, steps), [P @ U0 for P in powers], rtol=rtol,
                               atol=atol)
    np.testing.assert_allclose(dyn_.gd_loss(eta, steps),
                               [0.5 * np.sum((P @ U0) ** 2) for P in powers], rtol=rtol,
                               atol=atol)
    np.testing.assert_allclose(
        dyn_.gd_predict(eta, steps),
        [f0_test - Ks @ np.linalg.solve(K, (np.eye(5) - P) @ U0) for P in powers],
        rtol=rtol, atol=10 * atol)


def test_kernel_dynamics_agrees_with_the_conveniences(key):
    """The conveniences are the same numbers as the one object they wrap."""
    K, Ks, f0, f0_test, y = _joint(key, 5, 4, 12)
    one = dyn.kernel_dynamics(K, f0 - y, K_test_train=Ks, f0_test=f0_test)
    np.testing.assert_array_equal(one(TIMES), dyn.gradient_flow(K, f0 - y)(TIMES))
    np.testing.assert_array_equal(one.gd(0.3, 7), dyn.gd_residual(K, f0 - y, eta=0.3, steps=7))
    np.testing.assert_array_equal(one.predict(TIMES),
                                  dyn.flow_predictor(K, Ks, f0, f0_test, y)(TIMES))
    np.testing.assert_array_equal(one.gd_predict(0.3, 7),
                                  dyn.gd_predictions(K, Ks, f0, f0_test, y, eta=0.3, steps=7))
    np.testing.assert_allclose(one.eigvals, dyn.spectrum(K), rtol=1e-12, atol=1e-14)


def test_kernel_dynamics_of_a_network_is_the_flow_of_its_initial_ntk():
    """The kernel-ODE loss of notebook 06's panel: the NTK of the width-64 float32 network
    (net.init_nested) in float64, its flow by eigh and expm, against KernelDynamics.loss."""
    x = jnp.linspace(-1, 1, 9)[:, None] + 0.013
    X, y = net.embed(x), jnp.sin(3 * x[:, 0])
    p32 = net.init_nested(jax.random.key(0), 2, 64, dtype=jnp.float32)
    p = net.Params(p32.A.astype(jnp.float64), p32.b.astype(jnp.float64))
    K = np.asarray(ntk.empirical_ntk(p, X, activation="erf"))
    U0 = np.asarray(net.apply(p, X, activation="erf") - y)
    one = dyn.kernel_dynamics(K, U0)
    t = 0.5 / one.lambda_max * np.arange(0, 201, 10)
    expected = [0.5 * np.sum((scipy.linalg.expm(-K * ti) @ U0) ** 2) for ti in t]
    np.testing.assert_allclose(one.loss(t), expected, rtol=1e-8)


def test_kernel_dynamics_without_test_points_refuses_predictions(key):
    K, U0 = _problem(key)
    one = dyn.kernel_dynamics(K, U0)
    for call in (lambda: one.predict(1.0), lambda: one.gd_predict(0.1, 3)):
        with pytest.raises(ValueError, match="K_test_train"):
            call()
    with pytest.raises(ValueError, match="together"):
        dyn.kernel_dynamics(K, U0, K_test_train=K)
    with pytest.raises(ValueError, match="together"):
        dyn.kernel_dynamics(K, U0, f0_test=U0)
    with pytest.raises(ValueError, match="K_test_train must have shape"):
        dyn.kernel_dynamics(K, U0, K_test_train=K[:, :3], f0_test=U0)
    with pytest.raises(ValueError, match="f0_test"):
        dyn.kernel_dynamics(K, U0, K_test_train=K, f0_test=U0[:3])
    for kwargs in ({"eta": 0.0, "steps": 3}, {"eta": 0.1, "steps": 0}):
        with pytest.raises(ValueError, match=r"eta|steps"):
            one.gd(**kwargs)
        with pytest.raises(ValueError, match=r"eta|steps"):
            one.gd_loss(**kwargs)


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
    assert r.name == name and r.eta_multiple == pytest.approx(1.5)
    assert r.peak == pytest.approx(np.nanmax(loss))
    assert r.final == pytest.approx(np.asarray(loss)[np.isfinite(loss)][-1])
    assert r._fields == ("name", "eta_multiple", "peak", "final")  # numbers, no sentence


def test_classify_regime_refuses_bad_input():
    with pytest.raises(ValueError, match="at least 2"):
        dyn.classify_regime(np.array([1.0]), eta=0.1, lambda_max=1.0)
    with pytest.raises(ValueError, match="lambda_max"):
        dyn.classify_regime(np.array([1.0, 0.5]), eta=0.1, lambda_max=0.0)
    with pytest.raises(ValueError, match="loss\\[0\\]"):
        dyn.classify_regime(np.array([np.nan, 0.5]), eta=0.1, lambda_max=1.0)


def test_active_fraction_counts_neurons_live_on_some_input():
    X = jnp.array([[1.0, 1.0], [-1.0, 1.0]])
    A = jnp.array([[1.0, 0.0], [-1.0, 0.0], [0.0, -1.0], [0.0, -2.0]])  # 2 live, 2 dead
    p = net.Params(A=A, b=jnp.ones(4))
    assert dyn.active_fraction(p, X) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="X"):
        dyn.active_fraction(p, jnp.ones(3))


def test_a_dead_neuron_never_moves_and_a_dead_network_is_classified_dead():
    """A constructed run: every neuron off on every input (a_i . x_j < 0), so f = 0, the
    gradients are 0 and gradient descent stays put at loss 1/2 |y|^2. Without `active` the
    same loss curve after a spike reads as 'stalled'; with it, as 'dead'."""
    X = net.embed(jnp.linspace(-1, 1, 6)[:, None])          # rows (x, 1)
    y = jnp.linspace(-0.5, 0.8, 6)
    A = jnp.tile(jnp.array([[0.3, -2.0]]), (8, 1))          # a . x = 0.3 x - 2 < 0
    p = net.Params(A=A, b=jnp.ones(8))
    traj = train.train_network(p, X, y, eta=0.5, steps=20)
    assert jnp.allclose(traj.params.A, A) and jnp.allclose(traj.params.b, 1.0)
    assert np.allclose(traj.loss, 0.5 * float(y @ y))
    active = dyn.active_fraction(traj.params, X)
    assert active == 0.0
    spiked = np.concatenate([[0.3, 50.0], np.asarray(traj.loss)])  # L0 < 1/2 |y|^2
    assert dyn.classify_regime(spiked, eta=0.5, lambda_max=10.0).name == "stalled"
    assert dyn.classify_regime(spiked, eta=0.5, lambda_max=10.0, active=active).name == "dead"


@pytest.mark.parametrize(("active", "name"), [(0.0, "dead"), (0.009, "dead"),
                                              (0.05, "catapult"), (None, "catapult")])
def test_dead_needs_fewer_than_one_percent_of_the_neurons(active, name):
    # the loss of a catapult: a run that still fits with 5% of its neurons is not dead
    loss = np.array([10.0, 800.0, 3.0, 0.1])
    assert dyn.classify_regime(loss, eta=0.15, lambda_max=20.0, active=active).name == name


def test_diverging_wins_over_dead_and_active_is_a_fraction():
    loss = np.array([10.0, 1e5, np.nan])
    assert dyn.classify_regime(loss, eta=0.1, lambda_max=1.0, active=0.0).name == "diverging"
    with pytest.raises(ValueError, match="active"):
        dyn.classify_regime(np.array([1.0, 0.5]), eta=0.1, lambda_max=1.0, active=1.5)


def test_learning_rate_phases_names_a_relu_run_that_killed_its_neurons_dead():
    """relu at 10 x 2/lambda0 on toy_1d (width 512): the big first steps switch every neuron
    off (measured: none left active, f = 0); the phase diagram calls it dead, not a catapult."""
    from ntklib import data
    tr = data.load("toy_1d", split="train")
    X, y = net.embed(jnp.asarray(tr.X)), jnp.asarray(tr.y)
    pd = dyn.learning_rate_phases(jax.random.key(6), X, y, widths=(512,),
                                  eta_multiples=[0.5, 10.0], steps=200)
    assert pd.regimes.tolist() == [["converging", "dead"]], pd.regimes


# --- notebook 07 API ---
# spectral bias on the circle (circulant_eigenvalues, fourier_amplitudes, decay_rate),
# KernelDynamics.time_to, learning-rate phases (learning_rate_phases, PhaseDiagram).

def _circle(n):
    """n evenly spaced points of the unit circle, shape (n, 2), angles 2 pi j / n."""
    theta = 2 * np.pi * np.arange(n) / n
    return np.stack([np.cos(theta), np.sin(theta)], axis=1)


def _with_multiplicity(lam_k, n):
    """The n eigenvalues of a circulant matrix from lambda_k, k = 0..n//2: twice for
    0 < k < n/2 (cos and sin), sorted."""
    k = np.arange(lam_k.size)
    twice = (k > 0) & (2 * k < n)
    return np.sort(np.concatenate([lam_k, lam_k[twice]]))


@pytest.mark.parametrize("n", [12, 13])
@pytest.mark.parametrize("embedded", [False, True])
def test_circulant_eigenvalues_are_the_eigenvalues_of_the_relu_ntk_on_the_circle(n, embedded):
    X = _circle(n)
    K = np.asarray(ntk.infinite_width_ntk(net.embed(X) if embedded else X))
    lam_k = np.asarray(dyn.circulant_eigenvalues(K))
    assert lam_k.shape == (n // 2 + 1,)
    np.testing.assert_allclose(_with_multiplicity(lam_k, n), np.linalg.eigvalsh(K),
                               rtol=1e-10, atol=1e-12 * n)


@given(n=st.sampled_from([1, 2, 5, 8]), seed=st.integers(0, 2**31 - 1))  # few shapes: jit
def test_circulant_eigenvalues_of_any_symmetric_circulant_matrix(n, seed):
    """K[i, j] = c[(j - i) % n] with c[j] = c[n - j] (symmetric), c random: numpy's eigvalsh."""
    c = np.asarray(jax.random.normal(jax.random.key(seed), (n,)))
    c = (c + np.roll(c[::-1], 1)) / 2  # c[j] = c[-j mod n]
    K = c[(np.arange(n)[None, :] - np.arange(n)[:, None]) % n]
    lam_k = np.asarray(dyn.circulant_eigenvalues(K))
    np.testing.assert_allclose(_with_multiplicity(lam_k, n), np.linalg.eigvalsh(K),
                               rtol=1e-10, atol=1e-12 * np.abs(c).sum())


def _relu_circle_spectrum(k):
    """MATH.md: (1/pi) int_0^pi K(phi) cos(k phi) dphi for the relu NTK on the unit circle."""
    k = np.asarray(k, dtype=float)
    even = (k**2 + 3) / (np.pi**2 * np.maximum(k**2 - 1, 1) ** 2)
    return np.where(k == 0, 3 / np.pi**2, np.where(k == 1, 0.25, np.where(k % 2 == 0, even, 0)))


def test_relu_circle_spectrum_over_n_tends_to_the_math_md_values():
    """lambda_k / n is a trapezoid rule for MATH.md's integral; the relu kernel has a kink at
    phi = 0, so the error falls like 1/n^2 (measured: 3.7e-4 at n = 32, 2.1e-5 at n = 128).
    Odd k >= 3 vanish to round-off already at finite n."""
    k = np.arange(9)
    errors = []
    for n in (32, 128):
        lam = np.asarray(dyn.circulant_eigenvalues(ntk.infinite_width_ntk(_circle(n)))) / n
        errors.append(np.max(np.abs(lam[k] - _relu_circle_spectrum(k))))
        assert np.max(np.abs(lam[3:9:2])) < 1e-14
    assert errors[1] < 1e-4 and errors[0] > 8 * errors[1], errors


def test_circulant_eigenvalues_refuses_other_matrices(key):
    K = np.array([[2.0, 1.0, 0.5], [1.0, 3.0, 1.0], [0.5, 1.0, 2.0]])  # symmetric, not circulant
    with pytest.raises(ValueError, match="circulant"):
        dyn.circulant_eigenvalues(K)
    # the empirical NTK of a finite network: random weights break the rotation invariance
    Ke = ntk.empirical_ntk(net.init(key, 2, 8), _circle(8))
    with pytest.raises(ValueError, match="circulant"):
        dyn.circulant_eigenvalues(Ke)
    with pytest.raises(ValueError, match="symmetric"):
        dyn.circulant_eigenvalues(np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="K"):
        dyn.circulant_eigenvalues(np.ones((3, 2)))
    with pytest.raises(ValueError, match="K"):
        dyn.circulant_eigenvalues(np.ones(3))


@given(n=st.integers(1, 16),
       amps=st.lists(st.floats(0.0, 10.0), min_size=9, max_size=9),
       phases=st.lists(st.floats(-np.pi, np.pi), min_size=9, max_size=9))
def test_fourier_amplitudes_recover_a_sum_of_cosines(n, amps, phases):
    """U_j = sum_k c_k cos(k theta_j + phi_k): amplitude c_k for 0 < k < n/2; at k = 0 and
    k = n/2 (n even) cos(k theta_j + phi) = +-cos(phi) at every point, so |c_k cos(phi_k)|."""
    half = n // 2
    c, phi = np.array(amps[:half + 1]), np.array(phases[:half + 1])
    theta = 2 * np.pi * np.arange(n) / n
    U = sum(c[k] * np.cos(k * theta + phi[k]) for k in range(half + 1))
    edge = (np.arange(half + 1) == 0) | (2 * np.arange(half + 1) == n)
    expected = np.where(edge, np.abs(c * np.cos(phi)), c)
    got = np.asarray(dyn.fourier_amplitudes(U))
    assert got.shape == (half + 1,)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12 * (1 + c.sum()))


def test_fourier_amplitudes_work_row_by_row(key):
    """(T, n) input: row t is the amplitudes of row t alone; here frequency 3 decays like
    exp(-t) while frequency 1 stays."""
    n = 10
    theta = 2 * np.pi * np.arange(n) / n
    t = np.linspace(0, 2, 5)
    U = (0.7 * np.cos(theta + 0.3))[None, :] + np.exp(-t)[:, None] * 2 * np.sin(3 * theta)
    rng = np.asarray(jax.random.normal(key, (2, n)))
    for rows in (U, rng):
        got = np.asarray(dyn.fourier_amplitudes(rows))
        assert got.shape == (rows.shape[0], n // 2 + 1)
        for row, amps in zip(rows, got, strict=True):
            np.testing.assert_allclose(amps, dyn.fourier_amplitudes(row), rtol=1e-13, atol=1e-15)
    got = np.asarray(dyn.fourier_amplitudes(U))
    np.testing.assert_allclose(got[:, 3], 2 * np.exp(-t), rtol=1e-10)
    np.testing.assert_allclose(got[:, 1], 0.7, rtol=1e-10)
    np.testing.assert_allclose(got[:, [0, 2, 4, 5]], 0, atol=1e-13)


@pytest.mark.parametrize(("U", "error"), [
    (np.ones((2, 3, 4)), ValueError),
    (np.float64(1.0), ValueError),
    (np.ones((2, 0)), ValueError),
    (np.array([1.0, np.nan, 0.0]), ValueError),
    (np.array([[1.0, np.inf], [0.0, 0.0]]), ValueError),
    ("0 1 0", TypeError),
    (None, TypeError),
])
def test_fourier_amplitudes_refuses_bad_shapes(U, error):
    with pytest.raises(error, match="U"):
        dyn.fourier_amplitudes(U)


@given(rate=st.floats(0.01, 100.0), scale=st.floats(1e-3, 1e3))
def test_decay_rate_is_exact_on_a_pure_exponential(rate, scale):
    t = np.linspace(0, 12 / rate, 200)
    assert dyn.decay_rate(t, scale * np.exp(-rate * t)) == pytest.approx(rate, rel=1e-9)


def test_decay_rate_fits_only_inside_its_window():
    """A signal that lags (flat at 1 until t = 1), then decays at rate 2, then sits on a noise
    floor of 1e-4: the default window [1e-2, 0.5] of the first value sees only the decay;
    a window reaching into the plateau and the floor does not give 2."""
    t = np.linspace(0, 8, 401)
    a = np.maximum(np.exp(-2 * np.maximum(t - 1, 0)), 1e-4)
    assert dyn.decay_rate(t, a) == pytest.approx(2.0, rel=1e-9)
    assert dyn.decay_rate(t, a, start=0.2, stop=0.05) == pytest.approx(2.0, rel=1e-9)
    assert abs(dyn.decay_rate(t, a, start=1.0, stop=1e-5) - 2.0) > 0.3


def test_decay_rate_needs_three_points_in_its_window():
    t = np.linspace(0, 1, 6)
    a = np.exp(-8 * t)  # 1, 0.2, 0.04, 8e-3, ...: 2 points in [1e-2, 0.5]
    with pytest.raises(ValueError, match="at least 3 points"):
        dyn.decay_rate(t, a)
    assert dyn.decay_rate(t, a, stop=1e-3) == pytest.approx(8.0, rel=1e-9)  # 3 points


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(start=1.5), "start and stop"),
    (dict(start=0.1, stop=0.2), "start and stop"),
    (dict(start=0.1, stop=0.1), "start and stop"),
    (dict(stop=0.0), "start and stop"),
    (dict(stop=-0.1), "start and stop"),
    (dict(start=np.nan), "start and stop"),
    (dict(amplitude=np.exp(-np.linspace(0, 5, 49))), "amplitude"),
    (dict(amplitude=-np.exp(-np.linspace(0, 5, 50))), "amplitude"),
    (dict(amplitude=np.ones((50, 1))), "amplitude"),
    (dict(t=np.ones((50, 1))), "t"),
])
def test_decay_rate_refuses_bad_input(kwargs, match):
    call = dict(t=np.linspace(0, 5, 50), amplitude=np.exp(-np.linspace(0, 5, 50))) | kwargs
    with pytest.raises(ValueError, match=match):
        dyn.decay_rate(**call)


@pytest.mark.parametrize("fraction", [0.9, 0.5, 0.1, 1e-3])
def test_time_to_reaches_the_fraction_of_the_initial_loss(key, fraction):
    """Loss 1/2 |U(t)|^2 at the returned t, by the flow itself and by scipy's expm."""
    K, U0 = _problem(key)
    flow = dyn.gradient_flow(K, U0)
    t = flow.time_to(fraction)
    assert 0 < t < np.inf
    goal = fraction * 0.5 * U0 @ U0
    assert 0.5 * float(np.sum(np.asarray(flow(t)) ** 2)) == pytest.approx(goal, rel=1e-8)
    U = scipy.linalg.expm(-K * t) @ U0
    assert 0.5 * U @ U == pytest.approx(goal, rel=1e-8)


def test_time_to_grows_as_the_fraction_falls(key):
    K, U0 = _problem(key)
    flow = dyn.gradient_flow(K, U0)
    times = [flow.time_to(f) for f in (0.99, 0.5, 0.1, 1e-2, 1e-4)]
    assert np.all(np.diff(times) > 0), times
    # one eigenvalue: loss U0^2 exp(-2 lambda t) / 2 reaches fraction at t = -ln(f) / (2 lambda)
    one = dyn.gradient_flow(np.array([[2.5]]), np.array([1.3]))
    assert one.time_to(0.3) == pytest.approx(-np.log(0.3) / 5, rel=1e-9)


def test_time_to_is_infinite_when_the_zero_eigenvalue_holds_too_much():
    """K = diag(2, 1, 0): the part of U0 along the zero eigenvalue never decays."""
    K = np.diag([2.0, 1.0, 0.0])
    assert dyn.gradient_flow(K, np.array([0.0, 0.0, 1.0])).time_to(0.5) == np.inf
    flow = dyn.gradient_flow(K, np.array([1.0, 0.0, 1.0]))  # half the loss is stuck
    assert flow.time_to(0.4) == np.inf
    t = flow.time_to(0.6)
    U = scipy.linalg.expm(-K * t) @ np.array([1.0, 0.0, 1.0])
    assert 0.5 * U @ U == pytest.approx(0.6, rel=1e-8)


@pytest.mark.parametrize("seed", range(6))  # round-off puts the zero eigenvalues on either side
def test_time_to_is_infinite_along_the_null_space_of_a_singular_kernel(seed):
    """K = Phi Phi^T of rank 2 on 4 points, U0 in its null space: U(t) = U0 for all t."""
    Phi = _features(jax.random.key(seed), 4, 2)
    K = Phi @ Phi.T
    V = np.linalg.eigh(K)[1]
    U0 = V[:, 0] + V[:, 1]  # the two (numerically) zero eigenvalues
    assert dyn.gradient_flow(K, U0).time_to(0.5) == np.inf


@pytest.mark.parametrize(("fraction", "error"), [
    (0.0, ValueError), (1.0, ValueError), (1.5, ValueError), (-0.2, ValueError),
    (np.nan, ValueError), (np.inf, ValueError), ("half", TypeError),
])
def test_time_to_refuses_a_fraction_outside_0_1(key, fraction, error):
    K, U0 = _problem(key)
    with pytest.raises(error, match="fraction"):
        dyn.gradient_flow(K, U0).time_to(fraction)


def _phase_problem():
    X = net.embed(np.linspace(-1, 1, 8)[:, None] + 0.01)
    return X, np.sin(3 * X[:, 0])


def test_learning_rate_phases_on_a_tiny_problem():
    """erf, n = 8, widths 64 and 256, 300 steps: eta_multiples 0.25 and 0.8 of 2 / lambda0
    converge, 3 diverges (beyond the catapult range, which ends near 2); lambda0 is the top
    eigenvalue of the autodiff NTK at net.init_nested(key, d, m)."""
    X, y = _phase_problem()
    key = jax.random.key(0)
    eta_multiples = [0.25, 0.8, 3.0]
    pd = dyn.learning_rate_phases(key, X, y, widths=(64, 256), eta_multiples=eta_multiples,
                                  steps=300, activation="erf")
    assert isinstance(pd, dyn.PhaseDiagram)
    np.testing.assert_array_equal(pd.widths, [64, 256])
    np.testing.assert_array_equal(pd.eta_multiples, eta_multiples)
    assert pd.regimes.shape == (2, 3) and pd.lambda0.shape == (2,)
    assert np.all(pd.regimes[:, :2] == "converging"), pd.regimes
    assert np.all(pd.regimes[:, 2] == "diverging"), pd.regimes
    for m, lam in zip((64, 256), pd.lambda0, strict=True):
        p0 = net.init_nested(key, 2, m)
        K = ntk.autodiff_ntk(train.network_model("erf"), p0, X)
        assert lam == pytest.approx(np.linalg.eigvalsh(np.asarray(K))[-1], rel=1e-10)
    np.testing.assert_array_equal(pd.boundary("converging"), [0.25, 0.25])
    np.testing.assert_array_equal(pd.boundary("diverging"), [3.0, 3.0])
    assert np.all(np.isnan(pd.boundary("catapult")))
    # the diverging cell really diverges when trained directly
    m, lam = 64, float(pd.lambda0[0])
    traj = train.train_network(net.init_nested(key, 2, m), X, y, eta=3.0 * 2 / lam, steps=300,
                               record_every=300, activation="erf")
    assert traj.diverged


def test_phase_diagram_boundary_is_the_first_multiple_per_width():
    regimes = np.array([["converging", "catapult", "catapult", "diverging"],
                        ["converging", "converging", "stalled", "catapult"],
                        ["diverging", "diverging", "diverging", "diverging"]])
    pd = dyn.PhaseDiagram(np.array([8, 64, 512]), np.array([0.5, 1.2, 1.8, 3.0]),
                          np.ones(3), regimes)
    np.testing.assert_array_equal(pd.boundary("catapult"), [1.2, 3.0, np.nan])
    np.testing.assert_array_equal(pd.boundary("diverging"), [3.0, np.nan, 0.5])
    np.testing.assert_array_equal(pd.boundary("stalled"), [np.nan, 1.8, np.nan])
    np.testing.assert_array_equal(pd.boundary("converging"), [0.5, 0.5, np.nan])
    for bad in ("divergent", "Converging", "", 1):
        with pytest.raises(ValueError, match="regime"):
            pd.boundary(bad)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    (dict(widths=(0, 64)), ValueError, "widths"),
    (dict(widths=(-8,)), ValueError, "widths"),
    (dict(widths=(64.5,)), TypeError, "widths"),
    (dict(eta_multiples=(-0.5, 1.0)), ValueError, "eta_multiples"),
    (dict(eta_multiples=(0.0, 1.0)), ValueError, "eta_multiples"),
    (dict(eta_multiples=(np.nan,)), ValueError, "eta_multiples"),
    (dict(activation="sigmoid"), ValueError, "activation"),
    (dict(steps=0), ValueError, "steps"),
    (dict(y=np.ones(5)), ValueError, "y"),
    (dict(key=0), TypeError, "key"),
])
def test_learning_rate_phases_refuses_bad_input(kwargs, error, match):
    X, y = _phase_problem()
    call = dict(key=jax.random.key(0), X=X, y=y, widths=(4,), eta_multiples=(0.5,), steps=3)
    with pytest.raises(error, match=match):
        dyn.learning_rate_phases(**(call | kwargs))


@pytest.mark.parametrize("name", dyn.REGIMES)
def test_every_regime_has_a_sentence_and_a_colour(name):
    from ntklib import plots
    from ntklib.panels.nb06_gradient_flow import describe_regime
    text = describe_regime(dyn.Regime(name, 1.5, 100.0, 0.5))
    assert text.startswith("η = 1.50 × 2/λ_max: ") and len(text) > 30
    assert ("DEAD" in text) == (name == "dead")
    assert plots.REGIME_ROLES[name] in plots.COLORS
