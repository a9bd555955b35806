"""ntklib.plots, the helpers of notebooks 01-02: what they draw, checked on the artists."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from ntklib import features, plots


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def test_regression_1d_draws_data_truth_and_each_prediction(ax):
    X = np.linspace(-1, 1, 5)[:, None]
    plots.regression_1d(ax, X[::2], X[::2, 0] ** 2, X, X[:, 0] ** 2,
                        {"a": X[:, 0], "b": -X[:, 0]}, colors={"a": "#123456"})
    labels = [line.get_label() for line in ax.lines]
    assert labels == ["true function", "a", "b", "training data"]
    assert ax.lines[1].get_color() == "#123456"
    assert ax.lines[2].get_color() == plots.COLORS["kernel"]
    np.testing.assert_array_equal(ax.lines[2].get_ydata(), -X[:, 0])


def test_feature_curves_one_line_per_column_and_shape_check(ax):
    X = np.linspace(-1, 1, 7)[:, None]
    names = features.polynomial_feature_names(1, 3)
    Phi = np.asarray(features.polynomial_features(X, 3))
    plots.feature_curves(ax, X, Phi, names)
    assert len(ax.lines) == 4
    np.testing.assert_allclose(ax.lines[2].get_ydata(), Phi[:, 2])
    with pytest.raises(ValueError, match="Phi must have shape"):
        plots.feature_curves(ax, X, Phi[:, :3], names)


def test_loss_contour_marks_the_minimum(ax):
    wi, wj = np.linspace(-1, 1, 11), np.linspace(-2, 2, 9)
    L = (wi[None, :] - 0.2) ** 2 + (wj[:, None] + 0.5) ** 2
    plots.loss_contour(ax, wi, wj, L, minimum=(0.2, -0.5), marks={"GD": (0.2, -0.5)})
    star, cross = ax.lines
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (0.2, -0.5)
    assert cross.get_label() == "GD"


def test_contraction_factor_top_line_crosses_one_at_the_bound(ax):
    lam = np.array([10.0, 1.0, 0.1])
    plots.contraction_factor(ax, lam, eta_multiple=1.2)
    top = ax.lines[0]  # |1 - s * 2 lam_max / lam_max| = |1 - 2 s|
    s, r = top.get_xdata(), top.get_ydata()
    assert r[np.argmin(np.abs(s - 1.0))] == pytest.approx(1.0, abs=1e-2)
    assert r[np.argmin(np.abs(s - 0.5))] == pytest.approx(0.0, abs=1e-2)
    dot = ax.lines[-1]
    assert dot.get_ydata()[0] == pytest.approx(1.4) and dot.get_color() == plots.COLORS["bound"]


def test_feature_count_is_the_binomial(ax):
    plots.feature_count(ax, [1, 3, 10], [2, 4])
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), [5, 35, 1001])


def test_seconds_against_size_in_milliseconds_with_scaled_counts(ax):
    plots.seconds_against_size(ax, [10, 100], {"explicit": [0.001, 0.01]}, xlabel="D",
                               flops={"explicit": [50, 5000]})
    measured, counted = ax.lines
    np.testing.assert_allclose(measured.get_ydata(), [1.0, 10.0])
    np.testing.assert_allclose(counted.get_ydata(), [0.1, 10.0])  # through the last point


def test_gram_heatmap_diverging_only_with_negative_entries(ax):
    plots.gram_heatmap(ax, np.eye(3), title="I")
    assert ax.images[0].get_cmap().name == "viridis"
    plots.gram_heatmap(ax, -np.eye(3), title="-I")
    assert ax.images[-1].get_cmap().name == "RdBu_r"


def test_eigenvalues_split_positive_zero_negative(ax):
    plots.eigenvalues(ax, [4.0, 1.0, 1e-17, -1e-17, -0.5], label="K", zero_tol=1e-12)
    pos, zero, neg = ax.lines
    np.testing.assert_array_equal(pos.get_ydata(), [4.0, 1.0])
    np.testing.assert_array_equal(zero.get_ydata(), [1e-12, 1e-12])
    np.testing.assert_array_equal(neg.get_ydata(), [0.5])


def test_rbf_truncation_error_falls_to_round_off():
    fig, (a, b) = plt.subplots(1, 2)
    plots.rbf_truncation(a, b, np.linspace(-1, 1, 21)[:, None], 0.5, [2, 4])
    assert [line.get_label() for line in a.lines] == ["exact RBF", "$D = 2$", "$D = 4$"]
    err = b.lines[0].get_ydata()
    assert err[0] > 0.1 and err[-1] < 1e-14
    plt.close(fig)
