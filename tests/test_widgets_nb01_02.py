"""ntklib.widgets, the panels of notebooks 01-02: they draw the right thing, and a readable
message where descent diverges or a value is out of range."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from ntklib import data, features, plots, widgets


def _texts(fig):
    return " ".join(t.get_text().replace("\n", " ") for ax in fig.axes for t in ax.texts)


def test_learning_rate_below_the_bound_converges_to_the_closed_form():
    fig = widgets.draw_learning_rate(0.9, p=3, steps=3000)
    ax_loss, ax_fit, _ = fig.axes
    assert "converges" in fig._suptitle.get_text()
    fits = {line.get_label(): line.get_ydata() for line in ax_fit.lines}
    # independent route: least squares with numpy on the explicit features
    tr, te = data.load("toy_1d", "train"), data.load("toy_1d", "test")
    w = np.linalg.lstsq(np.asarray(features.polynomial_features(tr.X, 3)), tr.y, rcond=None)[0]
    expected = np.asarray(features.polynomial_features(te.X, 3)) @ w
    np.testing.assert_allclose(fits["after 3000 steps"], expected, atol=1e-6)
    np.testing.assert_allclose(fits[r"closed form $w^*$"], expected, atol=1e-10)
    assert ax_loss.lines[0].get_color() == plots.COLORS["network"]
    plt.close(fig)


def test_learning_rate_above_the_bound_says_it_diverges():
    fig = widgets.draw_learning_rate(1.1, p=5, steps=2000)
    ax_loss, ax_fit, _ = fig.axes
    assert "diverges" in fig._suptitle.get_text()
    assert ax_loss.lines[0].get_color() == plots.COLORS["bound"]
    assert any("DIVERGED at step" in line.get_label() for line in ax_loss.lines)
    assert not ax_fit.lines and "Descent diverges" in _texts(fig)
    loss = ax_loss.lines[0].get_ydata()
    assert np.isnan(loss[-1]) and loss[30] > loss[0]
    plt.close(fig)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"eta_multiple": 0.0}, "eta_multiple must be a positive finite number"),
    ({"p": 13}, "p must be at most 12"),
    ({"steps": 0}, "steps must be an integer >= 1"),
])
def test_learning_rate_bad_values_give_a_message(kwargs, match):
    fig = widgets.safe_draw(widgets.draw_learning_rate, **kwargs)
    assert match in _texts(fig)
    plt.close(fig)


@pytest.mark.parametrize(("p", "c", "lam"), [(5, 1.0, 1e-4), (4, 0.5, 0.0), (2, 0.0, 1.0)])
def test_kernel_ridge_curve_is_the_primal_ridge_fit(p, c, lam):
    fig = widgets.draw_kernel_ridge(p=p, c=c, lam=lam)
    ax_fit, ax_eig = fig.axes
    (curve,) = [line for line in ax_fit.lines if line.get_label().startswith("kernel ridge")]
    tr, te = data.load("toy_1d", "train"), data.load("toy_1d", "test")
    Phi = np.asarray(features.polynomial_features(tr.X, p, c))
    w = (np.linalg.solve(Phi.T @ Phi + lam * np.eye(Phi.shape[1]), Phi.T @ tr.y) if lam > 0
         else np.linalg.lstsq(Phi, tr.y, rcond=None)[0])
    expected = np.asarray(features.polynomial_features(te.X, p, c)) @ w
    np.testing.assert_allclose(curve.get_ydata(), expected, atol=1e-6)
    rank = 1 if c == 0 else p + 1
    assert f"(exact rank {rank})" in ax_eig.get_title()
    assert any("ridge" in line.get_label() for line in ax_eig.lines) == (lam > 0)
    plt.close(fig)


def test_kernel_ridge_out_of_range_gives_a_message():
    fig = widgets.safe_draw(widgets.draw_kernel_ridge, p=16, c=1.0, lam=0.0)
    assert "p must be at most 15" in _texts(fig)
    plt.close(fig)
    fig = widgets.safe_draw(widgets.draw_kernel_ridge, p=3, c=-1.0, lam=0.0)
    assert "c must be a finite number >= 0" in _texts(fig)
    plt.close(fig)
