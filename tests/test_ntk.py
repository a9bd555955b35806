"""ntklib.ntk: closed-form NTK vs autodiff, limits vs quadrature and Monte Carlo, exact facts."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ntklib import net, ntk

ACTS = sorted(net.ACTIVATIONS)
CLOSED = ntk.CLOSED_FORMS


def _inputs(key, n1=5, n2=4, d=3, dtype=jnp.float64):
    k1, k2 = jax.random.split(key)
    return jax.random.normal(k1, (n1, d), dtype), jax.random.normal(k2, (n2, d), dtype)


def _rel(a, b):
    return float(jnp.max(jnp.abs(a - b)) / jnp.max(jnp.abs(b)))


# ---------------------------------------------------------------- finite width

@pytest.mark.parametrize("activation", ACTS)
@pytest.mark.parametrize("parameterization", net.PARAMETERIZATIONS)
@pytest.mark.parametrize("same", [True, False], ids=["X2=None", "X2"])
def test_closed_form_equals_autodiff(key, activation, parameterization, same):
    """Ka = J_A J_A^T, Kb = J_b J_b^T and K = J J^T with J from jax.jacrev of net.apply."""
    k1, k2 = jax.random.split(key)
    X1, X2 = _inputs(k1)
    X2 = None if same else X2
    params = net.init(k2, 3, 7, parameterization)

    def f(w, X):
        return net.apply(w, X, activation=activation, parameterization=parameterization)

    # One block at a time: the other block's gradient is stopped (a closure over the concrete
    # array would do the same, but net's finiteness checks cannot run on it under jit).
    def f_A(w, X):
        return f(net.Params(w.A, jax.lax.stop_gradient(w.b)), X)

    def f_b(w, X):
        return f(net.Params(jax.lax.stop_gradient(w.A), w.b), X)

    parts = ntk.empirical_ntk_parts(params, X1, X2, activation=activation,
                                    parameterization=parameterization)
    K = ntk.empirical_ntk(params, X1, X2, activation=activation,
                          parameterization=parameterization)
    assert parts.Ka.shape == parts.Kb.shape == K.shape == (5, 5 if same else 4)
    assert _rel(parts.Ka, ntk.autodiff_ntk(f_A, params, X1, X2)) < 1e-10
    assert _rel(parts.Kb, ntk.autodiff_ntk(f_b, params, X1, X2)) < 1e-10
    assert _rel(K, ntk.autodiff_ntk(f, params, X1, X2)) < 1e-10
    assert _rel(K, parts.K) < 1e-14


def test_x2_none_means_x1(key):
    X, _ = _inputs(key)
    params = net.init(key, 3, 9)
    np.testing.assert_allclose(ntk.empirical_ntk(params, X), ntk.empirical_ntk(params, X, X),
                               rtol=1e-13)
    np.testing.assert_allclose(ntk.infinite_width_ntk(X), ntk.infinite_width_ntk(X, X),
                               rtol=1e-7)  # the diagonal: arccos of 1 - ulp vs of exactly 1


def test_autodiff_ntk_sums_over_a_pytree(key):
    """A linear model f(w, x) = x . v + c has the kernel K = X1 X2^T + 1, whatever w."""
    X1, X2 = _inputs(key)
    w = {"v": jnp.arange(3.0), "c": jnp.array(0.5)}
    K = ntk.autodiff_ntk(lambda w, X: X @ w["v"] + w["c"], w, X1, X2)
    np.testing.assert_allclose(K, X1 @ X2.T + 1, rtol=1e-13)


def test_ntk_parts_object(key):
    X, _ = _inputs(key)
    parts = ntk.empirical_ntk_parts(net.init(key, 3, 4), X)
    np.testing.assert_array_equal(parts.K, parts.Ka + parts.Kb)
    assert repr(parts) == "NTKParts(Ka, Kb: shape (5, 5), dtype float64; K = Ka + Kb)"


# ---------------------------------------------------------------- infinite width

def _ball(key, n, d, radius):
    """n random points with norms spread over (radius/2, radius)."""
    k1, k2 = jax.random.split(key)
    X = jax.random.normal(k1, (n, d))
    r = radius * jax.random.uniform(k2, (n, 1), minval=0.5, maxval=1.0)
    return r * X / jnp.linalg.norm(X, axis=1, keepdims=True)


def test_erf_closed_form_equals_quadrature(key):
    """erf is smooth: with |x| <= 1.2 and q = 128 nodes the quadrature error is ~1e-12."""
    X1, X2 = _ball(key, 6, 3, 1.2), _ball(jax.random.key(1), 5, 3, 1.2)
    exact = ntk.infinite_width_ntk_parts(X1, X2, activation="erf")
    quad = ntk.infinite_width_ntk_parts(X1, X2, activation="erf", method="quadrature",
                                        quadrature_points=128)
    assert _rel(quad.Ka, exact.Ka) < 1e-9
    assert _rel(quad.Kb, exact.Kb) < 1e-9


def test_relu_closed_form_equals_quadrature_slowly(key):
    """relu' is a step: Gauss-Hermite converges only like q^(-1/2) on Ka and 1/q on Kb.

    Measured here (relative to max |K|): q = 16, 64, 256 give 9e-2, 5e-2, 2.4e-2 on Ka and
    2e-2, 4e-3, 1e-3 on Kb. So the tolerances are loose (4e-2, 2e-3), and the test also asks
    that the error falls with q by the expected factors (16x more nodes: > 3x on Ka, > 10x on
    Kb).
    """
    X1, X2 = _ball(key, 6, 3, 1.0), _ball(jax.random.key(1), 5, 3, 1.0)
    exact = ntk.infinite_width_ntk_parts(X1, X2)
    coarse, fine = (ntk.infinite_width_ntk_parts(X1, X2, method="quadrature",
                                                 quadrature_points=q) for q in (16, 256))
    assert _rel(fine.Ka, exact.Ka) < 4e-2
    assert _rel(fine.Kb, exact.Kb) < 2e-3
    assert _rel(fine.Ka, exact.Ka) < _rel(coarse.Ka, exact.Ka) / 3
    assert _rel(fine.Kb, exact.Kb) < _rel(coarse.Kb, exact.Kb) / 10


def test_unit_sphere_diagonal_is_one_half(key):
    """MATH.md: on the unit sphere Ka(x, x) = Kb(x, x) = 1/2 for relu."""
    X = _ball(key, 6, 5, 1.0)
    X = X / jnp.linalg.norm(X, axis=1, keepdims=True)
    parts = ntk.infinite_width_ntk_parts(X)
    np.testing.assert_allclose(jnp.diag(parts.Ka), 0.5, rtol=1e-14)
    np.testing.assert_allclose(jnp.diag(parts.Kb), 0.5, rtol=1e-14)


def _circle_coefficients(X):
    """(1/pi) int_0^pi K(phi) cos(k phi) dphi from N equally spaced circle points.

    The Gram matrix is circulant; its eigenvalues are the FFT of its first row, and
    eigenvalue_k / N is the trapezoidal rule for the coefficient (error O(N^-2) from the
    kink of K at phi = 0, aliasing from k + N, k + 2N, ...).
    """
    return np.fft.rfft(np.asarray(ntk.infinite_width_ntk(X[:1], X))[0]).real / X.shape[0]


def test_relu_ntk_spectrum_on_the_circle():
    """MATH.md: 3/pi^2 (k = 0), 1/4 (k = 1), (k^2 + 3)/(pi^2 (k^2 - 1)^2) (even k), 0 (odd k)."""
    N = 4096
    phi = 2 * np.pi * np.arange(N) / N
    X = np.stack([np.cos(phi), np.sin(phi)], axis=1)
    c = _circle_coefficients(X)[:16]
    k = np.arange(16)
    with np.errstate(divide="ignore"):
        expected = np.where(k % 2 == 0, (k**2 + 3) / (np.pi**2 * (k**2 - 1.0) ** 2), 0.0)
    expected[:2] = 3 / np.pi**2, 1 / 4
    np.testing.assert_allclose(c, expected, atol=1e-7)
    # With the constant coordinate the odd frequencies come back (and nothing is negative).
    c_embedded = _circle_coefficients(net.embed(X))[:16]
    assert np.all(c_embedded[3::2] > 1e-4), c_embedded
    assert np.all(c_embedded > 0)


def test_monte_carlo_tends_to_the_limit_like_one_over_sqrt_m(key):
    """Mean (over 4 keys) of max |K_m - K|: falls with m, by ~10 per factor 100 in width."""
    X1, X2 = _inputs(key, 4, 3)
    limit = ntk.infinite_width_ntk_parts(X1, X2)
    keys = jax.random.split(key, 4)
    errors = []
    for m in (10**2, 10**4, 10**6):
        runs = [ntk.monte_carlo_ntk(k, X1, X2, m=m) for k in keys]
        errors.append(np.mean([max(float(jnp.max(jnp.abs(r.Ka - limit.Ka))),
                                    float(jnp.max(jnp.abs(r.Kb - limit.Kb)))) for r in runs]))
    assert errors[0] > errors[1] > errors[2], errors
    assert 3 < errors[0] / errors[1] < 30, errors
    assert 3 < errors[1] / errors[2] < 30, errors
    assert 30 < errors[0] / errors[2] < 300, errors


def test_monte_carlo_is_the_empirical_ntk_of_the_documented_weights(key):
    """m <= chunk: net.init(key, d, m); else chunk k is net.init(keys[k], d, size_k)."""
    X1, X2 = _inputs(key)
    one = ntk.monte_carlo_ntk(key, X1, X2, m=50, activation="tanh")
    direct = ntk.empirical_ntk_parts(net.init(key, 3, 50), X1, X2, activation="tanh")
    assert _rel(one.Ka, direct.Ka) < 1e-12 and _rel(one.Kb, direct.Kb) < 1e-12
    chunked = ntk.monte_carlo_ntk(key, X1, X2, m=50, chunk=16, activation="tanh")
    drawn = [net.init(k, 3, size) for k, size in zip(jax.random.split(key, 4), (16, 16, 16, 2),
                                                    strict=True)]
    params = net.Params(*(jnp.concatenate(leaves) for leaves in zip(*drawn, strict=True)))
    direct = ntk.empirical_ntk_parts(params, X1, X2, activation="tanh")
    assert _rel(chunked.Ka, direct.Ka) < 1e-12 and _rel(chunked.Kb, direct.Kb) < 1e-12


# ---------------------------------------------------------------- properties

def _points(n):
    """(n, 2) inputs; fixed shapes keep jit from recompiling for every example."""
    return arrays(np.float64, (n, 2), elements=st.floats(-1.5, 1.5, width=32))


@given(X=_points(6), activation=st.sampled_from(ACTS))
def test_infinite_width_gram_is_symmetric_psd(X, activation):
    """Exact symmetry; PSD to round-off for the closed forms, to quadrature error for tanh."""
    q = 64  # tanh: |x| <= 2.2 here, quadrature error < 1e-2 relative
    K = np.asarray(ntk.infinite_width_ntk(X, activation=activation, quadrature_points=q))
    assert np.all(np.isfinite(K))
    np.testing.assert_allclose(K, K.T, rtol=0, atol=1e-13 * max(1.0, np.abs(K).max()))
    tol = 1e-3 if activation == "tanh" else 1e-10
    assert np.linalg.eigvalsh(K).min() >= -tol * max(1.0, np.abs(K).max())


@given(X1=_points(5), X2=_points(3), activation=st.sampled_from(ACTS))
def test_infinite_width_kernel_is_symmetric_in_its_arguments(X1, X2, activation):
    K12 = ntk.infinite_width_ntk(X1, X2, activation=activation)
    K21 = ntk.infinite_width_ntk(X2, X1, activation=activation)
    np.testing.assert_allclose(K12, K21.T, rtol=1e-12, atol=1e-14)


def test_zero_and_repeated_inputs_give_no_nan():
    X = jnp.array([[0.0, 0.0], [1.0, 2.0], [1.0, 2.0], [-1.0, -2.0]])
    for activation in ACTS:
        parts = ntk.infinite_width_ntk_parts(X, activation=activation)
        assert np.all(np.isfinite(parts.Ka)) and np.all(np.isfinite(parts.Kb))
        np.testing.assert_array_equal(parts.K[0], 0.0)  # sigma(0) = 0 and x . x' = 0
    np.testing.assert_allclose(ntk.infinite_width_ntk(X)[1, 2], 5.0, rtol=1e-14)  # |x|^2


# ---------------------------------------------------------------- dtypes and bad input

def test_float32_stays_float32(key):
    X1, X2 = _inputs(key, dtype=jnp.float32)
    params = net.init(key, 3, 6, dtype=jnp.float32)
    outs = {
        "empirical": ntk.empirical_ntk(params, X1, X2),
        "parts": ntk.empirical_ntk_parts(params, X1, X2).Ka,
        "autodiff": ntk.autodiff_ntk(lambda w, X: net.apply(w, X), params, X1, X2),
        "relu": ntk.infinite_width_ntk(X1, X2),
        "erf": ntk.infinite_width_ntk(X1, X2, activation="erf"),
        "tanh": ntk.infinite_width_ntk(X1, X2, activation="tanh"),
        "monte_carlo": ntk.monte_carlo_ntk(key, X1, X2, m=20, chunk=8).Kb,
    }
    for name, out in outs.items():
        assert out.dtype == jnp.float32, name
    X1, X2 = X1.astype(jnp.float64), X2.astype(jnp.float64)
    assert _rel(outs["relu"], ntk.infinite_width_ntk(X1, X2)) < 1e-5
    assert _rel(outs["empirical"], ntk.empirical_ntk(
        jax.tree.map(lambda a: a.astype(jnp.float64), params), X1, X2)) < 1e-5


def test_float32_arccos_and_arcsin_polynomials_are_within_two_ulp():
    """The float32 closed forms use a vectorised polynomial (Cephes asinf) instead of XLA's
    scalar arccos/arcsin: within 2 ulp of the largest value (pi, pi/2) of numpy's float64 on a
    dense grid of [-1, 1] (jnp.arccos: 1 ulp), exact at the ends and at 0."""
    c = jnp.linspace(-1, 1, 400_001, dtype=jnp.float32)
    c64 = np.asarray(c, np.float64)
    acos, asin = ntk.fast_arccos(c), ntk.fast_arcsin(c)
    assert acos.dtype == asin.dtype == jnp.float32
    ulp = np.spacing(np.float32(np.pi / 2))  # pi/2 <= x < pi: ulp(pi) = 2 ulp(pi/2)
    assert np.max(np.abs(np.asarray(acos, np.float64) - np.arccos(c64))) <= 4 * ulp
    assert np.max(np.abs(np.asarray(asin, np.float64) - np.arcsin(c64))) <= 2 * ulp
    ends = jnp.array([-1.0, 0.0, 1.0], jnp.float32)
    np.testing.assert_array_equal(ntk.fast_arccos(ends), np.float32([np.pi, np.pi / 2, 0.0]))
    np.testing.assert_array_equal(ntk.fast_arcsin(ends), np.float32([-np.pi / 2, 0.0, np.pi / 2]))


@pytest.mark.parametrize("activation", ["relu", "erf"])
@pytest.mark.parametrize("d", [3, 10, 784])
def test_float32_closed_forms_agree_with_float64_to_round_off(key, activation, d):
    """float32 Ka and Kb within float32 round-off (a few eps times the size of the kernel)
    of the float64 closed form on the same inputs, for norms spread over (0.25, 2.5), with
    and without X2; the diagonal of a unit-sphere Gram matrix is 1/2 (relu) to round-off."""
    X1 = _ball(key, 300, d, 2.5).astype(jnp.float32)
    X2 = _ball(jax.random.key(1), 40, d, 2.5).astype(jnp.float32)
    for a, b in ((X1, None), (X1, X2)):
        f32 = ntk.infinite_width_ntk_parts(a, b, activation=activation)
        f64 = ntk.infinite_width_ntk_parts(a.astype(jnp.float64),
                                           None if b is None else b.astype(jnp.float64),
                                           activation=activation)
        for got, ref in zip(f32, f64, strict=True):
            assert got.dtype == jnp.float32
            assert _rel(got.astype(jnp.float64), ref) < 2e-6
    U = X1 / jnp.linalg.norm(X1, axis=1, keepdims=True)
    if activation == "relu":
        parts = ntk.infinite_width_ntk_parts(U)
        np.testing.assert_allclose(jnp.diag(parts.Ka), 0.5, rtol=1e-6)
        np.testing.assert_allclose(jnp.diag(parts.Kb), 0.5, rtol=1e-6)


def test_float32_zero_and_repeated_inputs_give_no_nan():
    X = jnp.array([[0.0, 0.0], [1.0, 2.0], [1.0, 2.0], [-1.0, -2.0]], jnp.float32)
    for activation in CLOSED:
        parts = ntk.infinite_width_ntk_parts(X, activation=activation)
        assert np.all(np.isfinite(parts.Ka)) and np.all(np.isfinite(parts.Kb))
        np.testing.assert_array_equal(parts.K[0], 0.0)
    np.testing.assert_allclose(ntk.infinite_width_ntk(X)[1, 2], 5.0, rtol=1e-6)
    np.testing.assert_allclose(ntk.infinite_width_ntk(X)[1, 3], -0.0, atol=1e-6)


def _bad_calls(key):
    X = jnp.ones((3, 2))
    params = net.init(key, 2, 4)
    f = net.apply
    yield lambda: ntk.empirical_ntk(params, jnp.ones((3, 5))), ValueError, "X1"
    yield lambda: ntk.empirical_ntk_parts(params, X, jnp.ones((3, 5))), ValueError, "X2"
    yield lambda: ntk.empirical_ntk(params, X, activation="gelu"), ValueError, "activation"
    yield (lambda: ntk.empirical_ntk(params, X, parameterization="mup"), ValueError,
           "parameterization")
    yield lambda: ntk.empirical_ntk((params.A, params.b), X), TypeError, "params"
    yield lambda: ntk.empirical_ntk(params, X.at[0, 0].set(jnp.nan)), ValueError, "X1"
    yield lambda: ntk.autodiff_ntk("f", params, X), TypeError, "f"
    yield lambda: ntk.autodiff_ntk(lambda w, X: f(w, X)[:, None], params, X), ValueError, "f"
    yield lambda: ntk.autodiff_ntk(f, params, X, jnp.ones((3, 5))), ValueError, "X2"
    yield lambda: ntk.autodiff_ntk(f, {}, X), TypeError, "params"
    yield lambda: ntk.infinite_width_ntk(X, method="exact"), ValueError, "method"
    yield (lambda: ntk.infinite_width_ntk(X, activation="tanh", method="closed_form"),
           ValueError, "method")
    yield lambda: ntk.infinite_width_ntk_parts(X, activation="sin"), ValueError, "activation"
    yield (lambda: ntk.infinite_width_ntk(X, quadrature_points=0), ValueError,
           "quadrature_points")
    yield (lambda: ntk.infinite_width_ntk(X, quadrature_points=1000), ValueError,
           "quadrature_points")
    yield lambda: ntk.infinite_width_ntk(X, X.at[1, 1].set(jnp.inf)), ValueError, "X2"
    yield lambda: ntk.infinite_width_ntk(jnp.ones(3)), ValueError, "X1"
    yield lambda: ntk.monte_carlo_ntk(key, X, m=0), ValueError, "m"
    yield lambda: ntk.monte_carlo_ntk(key, X, m=1.5), TypeError, "m"
    yield lambda: ntk.monte_carlo_ntk(key, X, m=10, chunk=0), ValueError, "chunk"
    yield lambda: ntk.monte_carlo_ntk(0, X, m=10), TypeError, "key"
    yield lambda: ntk.monte_carlo_ntk(key, X, jnp.ones((2, 3)), m=10), ValueError, "X2"
    yield lambda: ntk.monte_carlo_ntk(key, X, m=10, activation="elu"), ValueError, "activation"


def test_bad_input_is_rejected_with_the_argument_named(key):
    for call, error, name in _bad_calls(key):
        with pytest.raises(error, match=name):
            call()


# ---------------------------------------------------------------- convergence and drift (nb 05)

def test_relative_error_of_a_scaled_kernel_and_bad_inputs(key):
    K = ntk.infinite_width_ntk(_inputs(key)[0])
    assert ntk.relative_error(3 * K, K) == pytest.approx(2.0, rel=1e-12)
    assert ntk.relative_error(K, K) == 0.0
    with pytest.raises(ValueError, match="same shape"):
        ntk.relative_error(K[:2], K)
    with pytest.raises(ValueError, match="zero matrix"):
        ntk.relative_error(K, jnp.zeros_like(K))


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_width_errors_fall_like_one_over_sqrt_m(key, activation):
    X = _inputs(key, n1=12, d=2)[0]
    widths = [16, 256, 4096]
    err = ntk.width_errors(key, X, widths, draws=6, activation=activation)
    assert err.shape == (3,) and np.all(np.diff(err) < 0)
    scaled = err * np.sqrt(widths)  # about constant if the rate is 1/sqrt(m)
    assert scaled.max() / scaled.min() < 3


def test_kernel_drift_is_zero_at_rest_and_follows_a_known_rescaling(key):
    """Scaling b by c multiplies K^a by c^2 and leaves K^b: an independent route to the drift."""
    X = _inputs(key)[0]
    p0 = net.init(key, 3, 64)
    assert ntk.kernel_drift(p0, p0, X, activation="tanh") == 0.0
    c = 1.3
    parts = ntk.empirical_ntk_parts(p0, X, activation="tanh")
    expected = float(jnp.linalg.norm((c**2 - 1) * parts.Ka) / jnp.linalg.norm(parts.K))
    moved = net.Params(p0.A, c * p0.b)
    assert ntk.kernel_drift(p0, moved, X, activation="tanh") == pytest.approx(expected, rel=1e-10)
    with pytest.raises(ValueError, match="shapes of params0"):
        ntk.kernel_drift(p0, net.init(key, 3, 32), X)
