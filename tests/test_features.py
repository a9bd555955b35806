"""ntklib.features: polynomial features, classic kernels, Gram checks, kernel ridge regression."""

import itertools
import math
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.spatial
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ntklib import features as F


def _X(seed, n, d, dtype=jnp.float64):
    return jax.random.normal(jax.random.key(seed), (n, d), dtype)


def _roundoff_scale(X1, X2, p, c):
    """(c + |x||x'|)^p >= (c + sum_i |x_i x'_i|)^p: the size of the terms that phi(x).phi(x')
    adds up (of both signs), hence the scale of its round-off."""
    return (c + np.linalg.norm(X1, axis=1)[:, None] * np.linalg.norm(X2, axis=1)) ** p


def _exponents(name, d):
    """'x1^2 x3' -> (2, 0, 1), parsed from the printed name (independent of the table)."""
    e = [0] * d
    for var, power in re.findall(r"x(\d+)(?:\^(\d+))?", name):
        e[int(var) - 1] += int(power or 1)
    return tuple(e)


# --------------------------------------------------------------------------- explicit features

@pytest.mark.parametrize(("d", "p"), list(itertools.product([1, 2, 3, 4], [1, 2, 3, 4])))
def test_feature_count_is_the_number_of_monomials(d, p):
    """D = C(d + p, p) = #{alpha in N^d : |alpha| <= p}, counted by brute force."""
    brute = sum(1 for a in itertools.product(range(p + 1), repeat=d) if sum(a) <= p)
    names = F.polynomial_feature_names(d, p)
    assert F.n_polynomial_features(d, p) == math.comb(d + p, p) == brute == len(names)
    assert F.polynomial_features(_X(0, 2, d), p).shape == (2, brute)
    exps = [_exponents(s, d) for s in names]
    assert len(set(exps)) == brute
    assert [sum(e) for e in exps] == sorted(sum(e) for e in exps)  # ordered by degree


def test_feature_names_for_the_notes_example():
    """The notes' d = 3 example: x1, x2, x3, x1 x2, x2 x3, ... (plus 1 and the squares)."""
    names = F.polynomial_feature_names(3, 2)
    assert names == ["1", "x1", "x2", "x3", "x1^2", "x1 x2", "x1 x3", "x2^2", "x2 x3", "x3^2"]
    notes = ["x1", "x2", "x3", "x1 x2", "x2 x3"]
    assert [n for n in names if n in notes] == notes
    assert F.polynomial_feature_names(2, 3)[-4:] == ["x1^3", "x1^2 x2", "x1 x2^2", "x2^3"]


@pytest.mark.parametrize("c", [0.7, 0.0])
def test_columns_are_the_named_monomials_with_multinomial_weights(c):
    """Column alpha = sqrt(p! / ((p-k)! alpha!) c^(p-k)) x^alpha, rebuilt from the names."""
    d, p = 3, 3
    X = np.asarray(_X(1, 4, d))
    Phi = np.asarray(F.polynomial_features(X, p, c))
    for j, name in enumerate(F.polynomial_feature_names(d, p)):
        e = _exponents(name, d)
        k = sum(e)
        coef = math.factorial(p) / math.factorial(p - k) / math.prod(map(math.factorial, e))
        expected = math.sqrt(coef * c ** (p - k)) * np.prod(X**e, axis=1)
        np.testing.assert_allclose(Phi[:, j], expected, rtol=1e-13, atol=0, err_msg=name)


@given(d=st.integers(1, 5), p=st.integers(1, 5), c=st.floats(0.0, 3.0),
       seed=st.integers(0, 2**16))
def test_kernel_trick_equals_explicit_features(d, p, c, seed):
    """(c + x.x')^p == phi(x).phi(x') to 1e-12, relative to the size of the summed terms."""
    X = _X(seed, 5, d)
    Phi = F.polynomial_features(X, p, c)
    assert np.all(np.abs(Phi @ Phi[:2].T - F.polynomial_kernel(X, X[:2], p=p, c=c))
                  <= 1e-12 * _roundoff_scale(X, X[:2], p, c))


def test_zero_offset_keeps_only_degree_p():
    X = _X(2, 5, 3)
    Phi = F.polynomial_features(X, 3, c=0.0)
    degree = [sum(_exponents(s, 3)) for s in F.polynomial_feature_names(3, 3)]
    low = np.array(degree) < 3
    assert np.all(Phi[:, low] == 0) and np.all(Phi[:, ~low] != 0)
    assert int((~low).sum()) == math.comb(3 + 3 - 1, 3)
    np.testing.assert_allclose(Phi @ Phi.T, (X @ X.T) ** 3, rtol=1e-12)


# --------------------------------------------------------------------------- kernels

def test_kernels_match_direct_formulas():
    X1, X2 = np.asarray(_X(3, 6, 2)), np.asarray(_X(4, 5, 2))
    np.testing.assert_allclose(F.linear_kernel(X1, X2),
                               [[a @ b for b in X2] for a in X1], rtol=1e-13)
    np.testing.assert_allclose(F.polynomial_kernel(X1, X2, p=3, c=0.5),
                               [[(0.5 + a @ b) ** 3 for b in X2] for a in X1], rtol=1e-12)
    sq = scipy.spatial.distance.cdist(X1, X2, "sqeuclidean")
    np.testing.assert_allclose(F.rbf_kernel(X1, X2, lengthscale=0.8),
                               np.exp(-sq / (2 * 0.8**2)), rtol=1e-12)
    for kern in (F.linear_kernel, lambda A, B=None: F.rbf_kernel(A, B, lengthscale=0.3),
                 lambda A, B=None: F.polynomial_kernel(A, B, p=2)):
        np.testing.assert_array_equal(kern(X1), kern(X1, X1))


def test_rbf_is_stable_far_from_the_origin():
    """float32 data at distance 1e3 from the origin: the naive |x|^2 + |x'|^2 - 2 x.x' loses
    everything (|x|^2 ~ 1e6, float32 eps ~ 1e-7); centring keeps the distances accurate."""
    X = np.asarray(_X(5, 8, 3)) * 0.5 + 1e3
    exact = np.exp(-scipy.spatial.distance.cdist(X, X, "sqeuclidean") / 2)
    K = F.rbf_kernel(jnp.asarray(X, jnp.float32))
    assert K.dtype == jnp.float32
    np.testing.assert_allclose(K, exact, rtol=0, atol=2e-4)


_points = st.tuples(st.sampled_from([1, 4, 9]), st.sampled_from([1, 3])).flatmap(
    lambda nd: hnp.arrays(np.float64, nd, elements=st.floats(-3, 3)))

_KERNELS = {
    "linear": F.linear_kernel,
    "polynomial p=2": lambda X: F.polynomial_kernel(X, p=2, c=1.0),
    "polynomial p=5": lambda X: F.polynomial_kernel(X, p=5, c=0.3),
    "rbf": lambda X: F.rbf_kernel(X, lengthscale=0.7),
}


@pytest.mark.parametrize("name", _KERNELS)
@given(X=_points)
def test_gram_matrices_are_symmetric_psd(name, X):
    K = _KERNELS[name](X)
    report = F.check_gram(K)
    assert K.shape == (X.shape[0],) * 2
    assert report.symmetric and report.psd, (report, X)
    # independent route: numpy's eigenvalues agree on the smallest one
    np.testing.assert_allclose(report.min_eigenvalue, np.linalg.eigvalsh(np.asarray(K))[0],
                               atol=1e-10 * float(np.abs(K).max()))


@given(X=_points, lengthscale=st.floats(0.3, 3.0))
def test_rbf_diagonal_is_one_and_values_in_unit_interval(X, lengthscale):
    K = np.asarray(F.rbf_kernel(X, lengthscale=lengthscale))
    np.testing.assert_array_equal(np.diag(K), 1.0)
    assert np.all((K > 0) & (K <= 1))
    K12 = np.asarray(F.rbf_kernel(X, X[::-1], lengthscale=lengthscale))
    assert np.all((K12 > 0) & (K12 <= 1))


def test_rbf_diagonal_is_exactly_one_despite_cancellation():
    """Spread-out points and a short lengthscale: round-off in |x|^2 + |x|^2 - 2 x.x would
    give exp(-tiny / l^2) < 1 on the diagonal."""
    X = _X(13, 20, 3) * 300
    np.testing.assert_array_equal(jnp.diag(F.rbf_kernel(X, lengthscale=0.01)), 1.0)


# --------------------------------------------------------------------------- check_gram

def _with_eigenvalues(eigs, seed=6):
    Q, _ = np.linalg.qr(np.asarray(_X(seed, len(eigs), len(eigs))))
    return Q @ np.diag(eigs) @ Q.T


def test_non_psd_matrices_are_flagged():
    x = np.asarray(_X(7, 6, 1))
    not_a_kernel = -np.abs(x - x.T)  # zero trace, not all zero: a negative eigenvalue
    r = F.check_gram(not_a_kernel)
    assert r.symmetric and not r.psd and r.min_eigenvalue < -0.1
    assert "NOT PSD" in repr(r) and "not a valid Gram matrix" in repr(r)

    r = F.check_gram(_with_eigenvalues([3.0, 1.0, -1e-3]))
    assert not r.psd and r.min_eigenvalue == pytest.approx(-1e-3, rel=1e-9)
    assert F.check_gram(_with_eigenvalues([3.0, 1.0, -1e-3]), tol=1e-3).psd  # 1e-3 < 3e-3
    assert not F.check_gram(_with_eigenvalues([3.0, 1.0, -3e-11])).psd  # far above round-off


def test_roundoff_negative_eigenvalues_count_as_zero():
    r = F.check_gram(_with_eigenvalues([3.0, 1.0, -1e-15]))
    assert r.psd and r.min_eigenvalue < 0
    assert "PSD" in repr(r) and "zero up to round-off" in repr(r)
    assert not F.check_gram(_with_eigenvalues([3.0, 1.0, -1e-15]), tol=0).psd


def test_asymmetric_matrix_is_not_a_gram_matrix():
    K = np.array([[2.0, 0.5], [0.0, 2.0]])
    r = F.check_gram(K)
    assert (r.symmetric, r.max_asymmetry, r.psd) == (False, 0.5, False)
    assert r.min_eigenvalue == pytest.approx(1.75)  # of (K + K^T) / 2
    assert repr(r).startswith("GramReport: NOT symmetric (max |K - K^T| = 0.5)")
    assert repr(F.check_gram(np.eye(2))) == ("GramReport: symmetric (max |K - K^T| = 0), "
                                             "PSD (smallest eigenvalue 1): a valid Gram matrix")


# --------------------------------------------------------------------------- ridge regression

@pytest.mark.parametrize(("n", "lam"), [(7, 0.3), (30, 1e-2), (7, 0.0), (30, 0.0)])
def test_dual_kernel_ridge_equals_primal_least_squares(n, lam):
    """d = 2, p = 3: D = 10. n = 7 < D (interpolation), n = 30 > D (least-squares fit)."""
    X, Xs = _X(8, n, 2), _X(9, 5, 2)
    y = jnp.sin(3 * X[:, 0]) + X[:, 1]
    Phi, Phis = F.polynomial_features(X, 3), F.polynomial_features(Xs, 3)
    alpha = F.kernel_ridge(F.polynomial_kernel(X, p=3), y, lam)
    w = F.least_squares(Phi, y, lam)
    dual = F.polynomial_kernel(Xs, X, p=3) @ alpha
    np.testing.assert_allclose(dual, Phis @ w, rtol=1e-7, atol=1e-8 * float(jnp.abs(y).max()))
    np.testing.assert_allclose(Phi @ w, F.polynomial_kernel(X, p=3) @ alpha, rtol=1e-7,
                               atol=1e-8)
    # each side solves its own defining equations
    if lam > 0:
        np.testing.assert_allclose((Phi.T @ Phi + lam * jnp.eye(10)) @ w, Phi.T @ y,
                                   atol=1e-9 * float(jnp.abs(Phi.T @ y).max()))
    elif n < 10:
        np.testing.assert_allclose(Phi @ w, y, atol=1e-8)  # interpolates
        np.testing.assert_allclose(w, np.linalg.pinv(np.asarray(Phi)) @ np.asarray(y),
                                   rtol=1e-6, atol=1e-9)  # minimum norm
    else:
        np.testing.assert_allclose(Phi.T @ (Phi @ w - y), 0, atol=1e-8)  # normal equations


def test_kernel_ridge_solves_the_regularised_system():
    X = _X(10, 12, 3)
    K, y = F.rbf_kernel(X, lengthscale=0.9), X[:, 0] - X[:, 2] ** 2
    alpha = F.kernel_ridge(K, y, 0.05)
    np.testing.assert_allclose((K + 0.05 * jnp.eye(12)) @ alpha, y, atol=1e-12)
    np.testing.assert_allclose(jax.jit(lambda K, y: F.kernel_ridge(K, y, 0.05))(K, y), alpha,
                               rtol=1e-10)


def test_kernel_ridge_with_singular_gram_matrix():
    """Repeated points make K singular: lam = 0 still gives a finite, sensible fit."""
    X = jnp.concatenate([_X(11, 4, 2)] * 2)
    y = jnp.concatenate([jnp.arange(4.0)] * 2)
    K = F.linear_kernel(X)  # rank 2
    alpha = F.kernel_ridge(K, y, 0.0)
    w = F.least_squares(X, y)
    np.testing.assert_allclose(K @ alpha, X @ w, atol=1e-10)
    np.testing.assert_allclose(alpha, np.linalg.pinv(np.asarray(K)) @ np.asarray(y), atol=1e-8)


def test_kernel_ridge_rejects_non_psd_gram_matrix():
    with pytest.raises(ValueError, match=r"^K \+ lam I is not positive definite"):
        F.kernel_ridge(np.diag([1.0, -1.0]), np.ones(2), 0.5)


def _truncated_primal(Phi, y, Phi_test, lam, cutoff):
    """Independent route: ridge on explicit features by numpy's SVD of Phi (float64), keeping
    the directions whose squared singular value (an eigenvalue of K = Phi Phi^T) is above
    `cutoff` when lam is below it, all of them otherwise."""
    U, s, Vt = np.linalg.svd(Phi, full_matrices=False)
    keep = (s**2 > cutoff) | (lam > cutoff)
    gain = np.where(keep, s / np.where(keep, s**2 + lam, 1), 0)
    return Phi_test @ (Vt.T @ (gain * (U.T @ y)))


@pytest.mark.parametrize(("p", "c", "lam"), [(15, 5.0, 0.0), (15, 5.0, 1e-8), (8, 5.0, 1e-4),
                                             (15, 5.0, 1e-4), (12, 2.0, 1e-6), (15, 0.0, 0.0)])
def test_kernel_ridge_is_stable_where_the_gram_matrix_is_ill_conditioned(p, c, lam):
    """The toy data of notebook 02 at the panel's hard settings: K = (c + x x')^p spans about
    24 decades, so a Cholesky factorisation of K + lam I fails from round-off. The dual must
    stay finite and agree with the primal on the directions K can resolve, and fit the
    training data about as well as the exact primal least squares."""
    from ntklib import data

    tr, te = data.load("toy_1d", "train"), data.load("toy_1d", "test")
    K = F.polynomial_kernel(tr.X, p=p, c=c)
    alpha = np.asarray(F.kernel_ridge(K, tr.y, lam))
    assert np.all(np.isfinite(alpha))
    dual = np.asarray(F.polynomial_kernel(te.X, tr.X, p=p, c=c)) @ alpha
    Phi = np.asarray(F.polynomial_features(tr.X, p, c))
    Phi_test = np.asarray(F.polynomial_features(te.X, p, c))
    mu_max = np.linalg.norm(Phi, 2) ** 2
    cutoff = F.gram_roundoff(len(tr.y), np.float64) * mu_max
    expected = _truncated_primal(Phi, tr.y, Phi_test, lam, cutoff)
    np.testing.assert_allclose(dual, expected, atol=1e-3 * np.abs(tr.y).max())
    # on the training points: as good a fit as the exact primal ridge / least squares
    w = (np.linalg.lstsq(Phi, tr.y, rcond=None)[0] if lam == 0 else
         np.linalg.solve(Phi.T @ Phi + lam * np.eye(Phi.shape[1]), Phi.T @ tr.y))
    fit_dual = np.linalg.norm(np.asarray(K) @ alpha - tr.y)
    fit_primal = np.linalg.norm(Phi @ w - tr.y)
    assert fit_dual <= 1.5 * fit_primal + 1e-9 * np.linalg.norm(tr.y)


# --------------------------------------------------------------------------- dtypes

def test_float32_stays_float32():
    X, y = _X(12, 6, 2, jnp.float32), jnp.ones(6, jnp.float32)
    Phi = F.polynomial_features(X, 2, 0.5)
    outs = [Phi, F.linear_kernel(X), F.polynomial_kernel(X, p=2, c=0.5),
            F.rbf_kernel(X, lengthscale=2.0), F.least_squares(Phi, y, 0.1),
            F.kernel_ridge(F.rbf_kernel(X), y, 0.1), F.kernel_ridge(F.rbf_kernel(X), y)]
    assert [o.dtype for o in outs] == [jnp.float32] * len(outs)
    assert np.all(np.abs(Phi @ Phi.T - F.polynomial_kernel(X, p=2, c=0.5))
                  <= 1e-5 * _roundoff_scale(X, X, 2, 0.5))
    assert F.check_gram(F.rbf_kernel(X)).psd


# --------------------------------------------------------------------------- bad inputs

_X2, _K, _y = np.ones((3, 2)), np.eye(3), np.ones(3)


@pytest.mark.parametrize(("call", "error", "argname"), [
    (lambda: F.polynomial_features(_X2, 0), ValueError, "p"),
    (lambda: F.polynomial_features(_X2, 2.0), TypeError, "p"),
    (lambda: F.polynomial_features(_X2, 2, c=-1.0), ValueError, "c"),
    (lambda: F.polynomial_features(np.ones(3), 2), ValueError, "X"),
    (lambda: F.polynomial_features(np.array([[np.nan, 1.0]]), 2), ValueError, "X"),
    (lambda: F.n_polynomial_features(0, 2), ValueError, "d"),
    (lambda: F.n_polynomial_features(2, True), TypeError, "p"),
    (lambda: F.polynomial_feature_names(2, 0), ValueError, "p"),
    (lambda: F.linear_kernel(np.ones(3)), ValueError, "X1"),
    (lambda: F.linear_kernel(_X2, np.ones((2, 3))), ValueError, "X2"),
    (lambda: F.polynomial_kernel(_X2, p=0), ValueError, "p"),
    (lambda: F.polynomial_kernel(_X2, p=1.5), TypeError, "p"),
    (lambda: F.polynomial_kernel(_X2, p=2, c=-0.1), ValueError, "c"),
    (lambda: F.polynomial_kernel(_X2, np.ones((1, 1)), p=2), ValueError, "X2"),
    (lambda: F.rbf_kernel(_X2, lengthscale=0.0), ValueError, "lengthscale"),
    (lambda: F.rbf_kernel(_X2, lengthscale=-1.0), ValueError, "lengthscale"),
    (lambda: F.rbf_kernel(_X2, np.ones((2, 1, 2))), ValueError, "X2"),
    (lambda: F.check_gram(np.ones((2, 3))), ValueError, "K"),
    (lambda: F.check_gram(_K, tol=-1.0), ValueError, "tol"),
    (lambda: F.kernel_ridge(np.ones((3, 2)), _y), ValueError, "K"),
    (lambda: F.kernel_ridge(np.triu(np.ones((3, 3))), _y), ValueError, "K"),
    (lambda: F.kernel_ridge(_K, np.ones(4)), ValueError, "y"),
    (lambda: F.kernel_ridge(_K, _y, -0.1), ValueError, "lam"),
    (lambda: F.kernel_ridge(_K, _y, float("nan")), ValueError, "lam"),
    (lambda: F.least_squares(np.ones(3), _y), ValueError, "Phi"),
    (lambda: F.least_squares(_X2, np.ones(2)), ValueError, "y"),
    (lambda: F.least_squares(_X2, _y, -1.0), ValueError, "lam"),
])
def test_bad_inputs_are_rejected_naming_the_argument(call, error, argname):
    with pytest.raises(error, match=rf"^{argname}\b"):
        call()


# --------------------------------------------------------------------------- notebooks 01-02:
# the loss of a linear model, its gradient, a slice of it, the RBF feature map, the two routes

def _regression(seed=7, n=9, D=4):
    Phi = np.asarray(_X(seed, n, D))
    y = np.asarray(jax.random.normal(jax.random.key(seed + 1), (n,), jnp.float64))
    w = np.asarray(jax.random.normal(jax.random.key(seed + 2), (D,), jnp.float64))
    return Phi, y, w


def test_linear_loss_is_half_the_sum_of_squared_residuals():
    Phi, y, w = _regression()
    by_hand = 0.5 * sum((float(Phi[j] @ w) - y[j]) ** 2 for j in range(len(y)))
    assert float(F.linear_loss(Phi, y, w)) == pytest.approx(by_hand, rel=1e-13)
    batch = np.stack([w, 2 * w, -w])
    np.testing.assert_allclose(F.linear_loss(Phi, y, batch),
                               [float(F.linear_loss(Phi, y, u)) for u in batch], rtol=1e-13)
    with pytest.raises(ValueError, match="w must have shape"):
        F.linear_loss(Phi, y, w[:-1])


def test_linear_loss_gradient_is_autodiff_and_descends():
    """Phi^T (f - y) equals jax.grad of L; a small step against it lowers L, a step along the
    notes' sign (y - f) raises it."""
    Phi, y, w = _regression()
    auto = jax.grad(lambda u: 0.5 * jnp.sum((jnp.asarray(Phi) @ u - y) ** 2))(jnp.asarray(w))
    g = F.linear_loss_gradient(Phi, y, w)
    np.testing.assert_allclose(g, auto, rtol=1e-12)
    L0 = float(F.linear_loss(Phi, y, w))
    assert float(F.linear_loss(Phi, y, w - 1e-3 * g)) < L0
    notes = Phi.T @ (y - Phi @ w)  # (y - f) phi: the slip
    assert float(F.linear_loss(Phi, y, w - 1e-3 * notes)) > L0


def test_loss_slice_entries_and_minimum_at_the_least_squares_weights():
    Phi, y, _ = _regression(n=12, D=3)
    w_star = np.asarray(F.least_squares(Phi, y))
    wi = np.linspace(w_star[0] - 1, w_star[0] + 1, 21)  # w_star at index 10 of each grid
    wj = np.linspace(w_star[2] - 2, w_star[2] + 2, 11)
    L = np.asarray(F.loss_slice(Phi, y, w_star, 0, 2, wi, wj))
    assert L.shape == (11, 21)
    u = w_star.copy()
    u[0], u[2] = wi[3], wj[7]
    assert L[7, 3] == pytest.approx(float(F.linear_loss(Phi, y, u)), rel=1e-12)
    assert np.unravel_index(np.argmin(L), L.shape) == (5, 10)
    with pytest.raises(ValueError, match="two different weights"):
        F.loss_slice(Phi, y, w_star, 1, 1, wi, wj)
    with pytest.raises(ValueError, match="j must be a weight index"):
        F.loss_slice(Phi, y, w_star, 0, 3, wi, wj)


@pytest.mark.parametrize("lengthscale", [0.5, 1.0, 2.0])
def test_rbf_taylor_features_approach_the_rbf_kernel(lengthscale):
    X = np.linspace(-1.0, 1.0, 9)[:, None]
    exact = np.asarray(F.rbf_kernel(X, lengthscale=lengthscale))
    Phi = np.asarray(F.rbf_taylor_features(X, 60, lengthscale=lengthscale))
    assert Phi.shape == (9, 60)
    np.testing.assert_allclose(Phi @ Phi.T, exact, atol=1e-14)
    errors = [np.max(np.abs(Phi[:, :n] @ Phi[:, :n].T - exact)) for n in (1, 2, 4, 8)]
    assert all(a > b > 0 for a, b in itertools.pairwise(errors))  # better, never exact
    # first coordinates by hand: exp(-z^2/2) (1, z, z^2/sqrt 2)
    z = X[:, 0] / lengthscale
    np.testing.assert_allclose(Phi[:, :3], np.exp(-z**2 / 2)[:, None] *
                               np.stack([np.ones_like(z), z, z**2 / math.sqrt(2)], 1),
                               rtol=1e-13)
    with pytest.raises(ValueError, match="X must have 1 columns"):
        F.rbf_taylor_features(_X(0, 3, 2), 4)


@pytest.mark.parametrize(("p", "c", "lam"), [(3, 1.0, 0.1), (5, 0.5, 0.0), (2, 0.0, 1e-3)])
def test_ridge_routes_agree_with_a_numpy_solve(p, c, lam):
    X, Xt = np.asarray(_X(3, 15, 2)), np.asarray(_X(4, 6, 2))
    y = np.sin(X[:, 0]) + X[:, 1]
    Phi = np.asarray(F.polynomial_features(X, p, c))
    Phit = np.asarray(F.polynomial_features(Xt, p, c))
    if lam > 0:
        w = np.linalg.solve(Phi.T @ Phi + lam * np.eye(Phi.shape[1]), Phi.T @ y)
    else:
        w = np.linalg.lstsq(Phi, y, rcond=None)[0]
    expected = Phit @ w
    for route in F.ROUTES:
        got = np.asarray(F.polynomial_ridge_predict(X, y, Xt, p=p, c=c, lam=lam, route=route))
        np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-7 * np.abs(expected).max())
    with pytest.raises(ValueError, match="route must be one of"):
        F.polynomial_ridge_predict(X, y, Xt, p=p, route="both")


def test_ridge_flops_leading_terms():
    assert F.ridge_flops(100, 2, 3, "primal") == 100 * 10**2 + 10**3 // 3  # D = C(5, 3) = 10
    assert F.ridge_flops(100, 2, 3, "dual") == 100**2 * 2 + 100**3 // 3
    # the dual does not care about p, the primal explodes with it
    assert F.ridge_flops(50, 10, 2, "dual") == F.ridge_flops(50, 10, 6, "dual")
    assert F.ridge_flops(50, 10, 6, "primal") > 1e4 * F.ridge_flops(50, 10, 2, "primal")
