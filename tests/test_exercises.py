"""ntklib.exercises.check: the verdicts a learner sees."""

import contextlib
import io

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ntklib.exercises import check


def verdict(answer, expected, **kw) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert check(answer, expected, **kw) is None  # nothing echoed under the printed line
    (line,) = out.getvalue().splitlines()
    return line.split(":")[0]


def test_verdicts():
    assert verdict(None, 1.0) == "missing"
    assert verdict(2.0, 2.0) == "right"
    assert verdict([1.0, 2.0], np.array([1.0, 2.0 + 1e-12])) == "right"
    assert verdict(1.001, 1.0) == "close"
    assert verdict(1.5, 1.0) == "wrong"
    assert verdict([1.0], [1.0, 2.0]) == "wrong"
    assert verdict(np.nan, 1.0) == "wrong"
    assert verdict("one", 1.0) == "wrong"


def test_messages(capsys):
    check(None, 1.0)
    check(1.001, 1.0)
    check([1.0], [1.0, 2.0])
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("missing: answer is still None")
    assert out[1] == "close: answer is off by a relative 1.00e-03; almost: look for a " \
                     "rounding or a small slip"
    assert "expected shape (2,)" in out[2]


@given(st.floats(-1e6, 1e6).filter(lambda x: abs(x) > 1e-3), st.floats(1e-6, 5e-3),
       st.floats(2e-2, 0.5))
def test_the_difference_is_relative_to_the_expected_size(x, small, large):
    assert verdict(x * (1 + 1e-10), x) == "right"
    assert verdict(x * (1 + small), x) == "close"
    assert verdict(x * (1 + large), x) == "wrong"


@pytest.mark.parametrize(("kwargs", "match"), [({"rtol": 0.0}, "rtol"), ({"close": -1.0}, "close"),
                                                ({"rtol": 0.1, "close": 0.01}, "close must be")])
def test_bad_tolerances(kwargs, match):
    with pytest.raises(ValueError, match=match):
        check(1.0, 1.0, **kwargs)


# ------------------------------------------------------------------------ notebooks 03 and 04

def test_nb03_unscaled_sd_against_monte_carlo():
    from ntklib import exercises as ex

    rng = np.random.default_rng(0)
    x, m, S = np.array([3.0, 4.0]), 64, 20_000
    f = np.sum(rng.standard_normal((S, m)) * np.maximum(rng.standard_normal((S, m, 2)) @ x, 0),
               axis=1)
    assert abs(f.std() / ex.nb03_unscaled_relu_sd(m, x) - 1) < 0.03
    assert ex.nb03_unscaled_relu_sd(64, [3.0, 4.0]) == pytest.approx(np.sqrt(800))


def test_nb03_variance_when_active_against_monte_carlo():
    from ntklib import exercises as ex

    rng = np.random.default_rng(1)
    x, S = np.array([0.5, 1.0]), 400_000
    f = rng.standard_normal(S) * np.maximum(rng.standard_normal((S, 2)) @ x, 0)
    active = f != 0
    assert abs(active.mean() - 0.5) < 0.005
    assert abs(np.mean(f[active] ** 2) / ex.nb03_variance_when_active(x) - 1) < 0.03


def test_nb04_lin_difference_is_four_steps_of_a_linear_model():
    from ntklib import exercises as ex

    rng = np.random.default_rng(2)
    Phi, w0, delta = rng.standard_normal((5, 7)), rng.standard_normal(7), rng.standard_normal(7)
    f_lin = lambda w, X: X @ Phi @ w + 1.5  # affine in w, like a Taylor model
    X = np.eye(5)
    got = ex.nb04_lin_difference(f_lin, lambda s: w0 + s * delta, X)
    assert np.allclose(got, 4 * Phi @ delta, rtol=1e-12)


def test_nb04_width_for_change():
    from ntklib import exercises as ex

    m = ex.nb04_width_for_change(2.4, -0.5, 0.01)
    assert 2.4 * m**-0.5 == pytest.approx(0.01)
    assert m == pytest.approx(57_600)
    with pytest.raises(ValueError, match="slope"):
        ex.nb04_width_for_change(2.4, 0.5)


# ---------------------------------------------------------------------------- notebook 07

def test_nb07_relu_circle_spectrum_against_quadrature():
    # the relu NTK without a constant input on the unit circle, as a function of the angle
    from ntklib.exercises import nb07_relu_circle_eigenvalue
    phi = np.linspace(0.0, np.pi, 200001)
    K_b = (np.sin(phi) + (np.pi - phi) * np.cos(phi)) / (2 * np.pi)
    K = K_b + np.cos(phi) * (np.pi - phi) / (2 * np.pi)  # K^b + K^a, x . x' = cos(phi)
    for k in range(9):
        numeric = np.trapezoid(K * np.cos(k * phi), phi) / np.pi
        assert abs(numeric - nb07_relu_circle_eigenvalue(k)) < 1e-8, k


def test_nb07_exercises():
    from ntklib.exercises import nb07_exercise1, nb07_exercise3, nb07_exercise4
    assert abs(nb07_exercise1() - 175 / 19) < 1e-12
    rng = np.random.default_rng(0)
    B = rng.normal(size=(6, 6))
    K = B @ B.T + 0.1 * np.eye(6)
    assert abs(nb07_exercise3(K) - 1 / np.linalg.eigvalsh(K)[-1]) < 1e-10
    y = rng.normal(size=6)
    t = nb07_exercise4(K, y)
    lam, V = np.linalg.eigh(K)
    U = V @ (np.exp(-lam * t) * (V.T @ y))
    assert abs(U @ U / (y @ y) - 0.01) < 1e-9


# ---------------------------------------------------------------------------------------------
# notebook 01: each expected value against an independent route


def test_nb01_monomials_of_degree_by_brute_force():
    import itertools

    from ntklib.exercises import nb01_monomials_of_degree
    for d, p in [(1, 3), (2, 2), (3, 4), (5, 3)]:
        brute = sum(1 for a in itertools.product(range(p + 1), repeat=d) if sum(a) == p)
        assert nb01_monomials_of_degree(d, p) == brute


def test_nb01_gradient_is_autodiff():
    import jax

    from ntklib import features
    from ntklib.exercises import nb01_gradient
    rng = np.random.default_rng(0)
    Phi, y, w = rng.normal(size=(7, 4)), rng.normal(size=7), rng.normal(size=4)
    auto = jax.grad(lambda w: features.linear_loss(Phi, y, w))(w)
    np.testing.assert_allclose(nb01_gradient(Phi, y, w), auto, rtol=1e-5)


def test_nb01_slowest_factor_is_the_measured_contraction():
    from ntklib.exercises import nb01_slowest_factor
    rng = np.random.default_rng(1)
    Phi = rng.normal(size=(12, 3)) * np.array([1.0, 0.5, 0.2])
    lam_max = np.linalg.eigvalsh(Phi.T @ Phi)[-1]
    for multiple in (0.3, 0.95):
        eta, w = multiple * 2 / lam_max, rng.normal(size=3)  # the error w - w* with y = 0
        for _ in range(400):
            w = w - eta * Phi.T @ (Phi @ w)
        measured = np.linalg.norm(w - eta * Phi.T @ (Phi @ w)) / np.linalg.norm(w)
        assert abs(measured - nb01_slowest_factor(Phi, multiple)) < 1e-6


# ---------------------------------------------------------------------------------------------
# notebook 02: each expected value against an independent route


def test_nb02_rbf_gram_is_the_library_kernel():
    from ntklib import features
    from ntklib.exercises import nb02_rbf_gram
    X = np.random.default_rng(2).uniform(-1, 1, size=(9, 2))
    np.testing.assert_allclose(nb02_rbf_gram(X, 0.5), features.rbf_kernel(X, lengthscale=0.5),
                               rtol=1e-5, atol=1e-6)


def _cubic_phi(X):
    x1, x2 = X[:, 0], X[:, 1]
    return np.stack([x1**3, np.sqrt(3) * x1**2 * x2, np.sqrt(3) * x1 * x2**2, x2**3], axis=1)


@pytest.mark.parametrize(("phi", "verdict"), [
    (None, "missing"),
    (_cubic_phi, "right"),
    (lambda X: _cubic_phi(X)[:, ::-1] @ np.diag([1, -1, 1, 1]), "right"),  # reordered, a sign
    (lambda X: _cubic_phi(X) * np.array([1, 3, 3, 1]) ** 0.5 / 3**0.25, "wrong"),  # wrong weights
    (lambda X: np.stack([X[:, 0] ** 3, X[:, 0] ** 2 * X[:, 1], X[:, 0] * X[:, 1] ** 2,
                         X[:, 1] ** 3], axis=1), "wrong"),  # no sqrt(3)
    (lambda X: np.hstack([_cubic_phi(X), np.zeros((len(X), 1))]), "wrong"),  # 5 features
    (lambda X: (X @ X.T) ** 3, "wrong"),  # the kernel itself, no feature map
    (lambda X: 1 / 0, "wrong"),
])
def test_nb02_check_cubic_features_needs_a_feature_map(capsys, phi, verdict):
    from ntklib.exercises import nb02_check_cubic_features
    X = np.random.default_rng(3).normal(size=(5, 2))
    nb02_check_cubic_features(phi, X)
    assert capsys.readouterr().out.startswith(verdict + ":")


def test_nb02_rbf_ridge_rmse_is_the_library_fit():
    from ntklib import features
    from ntklib.exercises import nb02_rbf_ridge_rmse
    rng = np.random.default_rng(4)
    X, X_test = rng.uniform(-1, 1, size=(15, 1)), rng.uniform(-1, 1, size=(20, 1))
    y, y_test = np.sin(3 * X[:, 0]), np.sin(3 * X_test[:, 0])
    alpha = features.kernel_ridge(features.rbf_kernel(X, lengthscale=0.3), y, 1e-3)
    pred = np.asarray(features.rbf_kernel(X_test, X, lengthscale=0.3) @ alpha)
    expected = float(np.sqrt(np.mean((pred - y_test) ** 2)))
    assert abs(nb02_rbf_ridge_rmse(X, y, X_test, y_test, lengthscale=0.3, lam=1e-3)
               - expected) < 1e-4 * max(expected, 1e-3)


# ------------------------------------------------------------------------ notebooks 05 and 06

def test_nb05_relu_Kb_against_monte_carlo_and_the_unit_circle():
    from ntklib import exercises as ex
    x, x2 = np.array([1.0, 0.0]), np.array([0.6, 0.8])
    a = np.random.default_rng(0).standard_normal((400_000, 2))
    mc = float(np.mean(np.maximum(a @ x, 0) * np.maximum(a @ x2, 0)))
    assert abs(ex.nb05_relu_Kb(x, x2) - mc) < 5e-3
    assert ex.nb05_relu_Kb(x, x) == pytest.approx(0.5)           # theta = 0: 1/2 on the circle
    assert ex.nb05_relu_Kb(2 * x, x2) == pytest.approx(2 * ex.nb05_relu_Kb(x, x2))


def test_nb05_tanh_ntk_against_autodiff():
    import jax
    import jax.numpy as jnp

    from ntklib import exercises as ex
    from ntklib import net
    p = net.init(jax.random.key(3), 2, 8, dtype=jnp.float32)
    x = jnp.array([0.7, 1.0])
    g = jax.grad(lambda w: net.apply(w, x[None, :], activation="tanh")[0])(p)
    by_autodiff = float(jnp.sum(g.A**2) + jnp.sum(g.b**2))
    assert ex.nb05_tanh_ntk(p.A, p.b, x) == pytest.approx(by_autodiff, rel=1e-5)


def test_nb06_rates_of_the_modes():
    from ntklib import exercises as ex
    lam = np.array([0.1, 20.0, 0.5, 2.0, 0.05, 1.0])
    assert ex.nb06_time_for_factor_e(lam) == pytest.approx(0.05)
    eta = 0.05                                   # 0.5 x 2/lambda_max; lambda_5 = 0.1
    k = ex.nb06_steps_to_shrink(lam, eta)
    assert (1 - eta * 0.1) ** k <= 0.01 < (1 - eta * 0.1) ** (k - 1)
    with pytest.raises(ValueError, match="eta"):
        ex.nb06_steps_to_shrink(lam, 1.0, index=0)


# notebook 08: the expected values of its exercises

def test_nb08_expected_values():
    import math
    from types import SimpleNamespace

    from ntklib import exercises

    runs = {(256, 100.0): SimpleNamespace(weight_change=np.array([0.0, 3e-4, 7e-4]),
                                          alignment=np.array([0.06, 0.07, 0.08])),
            (256, 1.0): SimpleNamespace(weight_change=np.array([0.0, 0.07]),
                                        alignment=np.array([0.0587, 0.0553]))}
    assert exercises.nb08_weight_change(runs) == 7e-4  # the last recorded time, T
    assert exercises.nb08_initial_alignment(runs) == 0.0587  # t = 0
    assert exercises.nb08_mean_field_alpha(1024) == 1 / 32
    # alpha / sqrt(m) = 1 / m: the mean-field normalisation, at every width
    for m in (1, 64, 1000):
        assert math.isclose(exercises.nb08_mean_field_alpha(m) / math.sqrt(m), 1 / m)
    with pytest.raises(ValueError, match="sweep"):
        exercises.nb08_weight_change(runs, 1024, 100.0)
    with pytest.raises(ValueError, match="m"):
        exercises.nb08_mean_field_alpha(0)
