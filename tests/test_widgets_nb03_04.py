"""ntklib.widgets, notebooks 03-04: the width panel and the f-against-f_lin panel."""

import math

import jax
import matplotlib.pyplot as plt
import numpy as np
import pytest

from ntklib import net, train, widgets


def test_first_neurons_are_nested_normal_draws():
    small, wide = widgets._first_neurons(0, 8), widgets._first_neurons(0, 64)
    np.testing.assert_array_equal(small.A, wide.A[:8])
    np.testing.assert_array_equal(small.b, wide.b[:8])
    assert small.A.dtype == np.float32 and small.A.shape == (8, 2)
    b = np.asarray(widgets._first_neurons(0, widgets.NET_WIDTHS[-1]).b)
    assert abs(b.mean()) < 0.05 and abs(b.std() - 1) < 0.05  # N(0, 1): 16384 draws


def test_lambda_max_is_that_of_the_empirical_ntk():
    p = widgets._first_neurons(0, 32)
    X = widgets._toy_float32()["X"]
    p64 = net.Params(p.A.astype(np.float64), p.b.astype(np.float64))
    J = jax.jacrev(lambda q: net.apply(q, X.astype(np.float64)))(p64)
    J = np.concatenate([np.asarray(J.A).reshape(X.shape[0], -1), np.asarray(J.b)], axis=1)
    assert math.isclose(widgets._lambda_max(p, X), np.linalg.eigvalsh(J @ J.T)[-1],
                        rel_tol=1e-5)


@pytest.mark.parametrize("m", [1, 64])
def test_width_panel_draws_init_functions_and_the_trained_fit(m):
    fig = widgets.draw_width_network(m)
    ax1, ax2 = fig.axes
    init_lines = [ln for ln in ax1.lines if ln.get_color() == widgets.plots.COLORS["init"]]
    assert len(init_lines) == 6 and ax1.collections  # six draws and the GP band
    trained = [ln for ln in ax2.lines if ln.get_color() == widgets.plots.COLORS["network"]]
    assert len(trained) == 1 and np.all(np.isfinite(trained[0].get_ydata()))
    assert f"width m = {m}" in fig._suptitle.get_text()
    plt.close(fig)


def test_width_panel_trains_the_network_its_title_reports():
    r = widgets._width_network(16, 0)
    s = widgets._toy_float32()
    traj = train.train_network(widgets._first_neurons(0, 16), s["X"], s["y"], eta=r["eta"],
                               steps=widgets.NET_STEPS, record_every=widgets.NET_STEPS,
                               X_eval=s["Xt"])
    np.testing.assert_allclose(r["fT"], traj.predictions[-1], rtol=1e-6)
    assert r["loss"][1] < 0.1 * r["loss"][0]
    assert r["eta"] <= 1 / widgets._lambda_max(widgets._first_neurons(0, 16), s["X"]) + 1e-12


def test_lazy_panel_shows_both_models_below_the_bound():
    fig = widgets.draw_lazy_training(64, 0.5)
    ax1, ax2, ax3 = fig.axes
    assert ax2.get_xlabel().startswith("gradient-flow time")
    colors = {ln.get_color() for ln in ax1.lines}
    assert {widgets.plots.COLORS["network"], widgets.plots.COLORS["linearized"]} <= colors
    assert not any("diverged" in t.get_text() for t in ax1.texts)
    assert len(ax3.patches) == 2
    plt.close(fig)


def test_lazy_panel_notes_a_diverging_linearization():
    r = widgets._lazy_run(64, 1.5, 0)
    assert r["lin"]["diverged_step"] is not None and r["f"]["diverged_step"] is None
    fig = widgets.draw_lazy_training(64, 1.5)
    ax1, _, ax3 = fig.axes
    assert any("f_lin diverged at step" in t.get_text() for t in ax1.texts)
    assert any(t.get_text() == "diverged" for t in ax3.texts)
    plt.close(fig)


def test_lazy_panel_gives_a_readable_message_when_both_diverge():
    r = widgets._lazy_run(1024, 20.0, 0)
    assert r["lin"]["diverged_step"] is not None and r["f"]["diverged_step"] is not None
    with pytest.raises(ValueError, match="both the network"):
        widgets.draw_lazy_training(1024, 20.0)
    fig = widgets.safe_draw(widgets.draw_lazy_training, m=1024, eta_ratio=20.0)
    (ax,) = fig.axes
    assert "below 1" in ax.texts[0].get_text().replace("\n", " ")
    plt.close(fig)


def test_lazy_panel_rejects_a_bad_learning_rate():
    with pytest.raises(ValueError, match="eta_ratio"):
        widgets.draw_lazy_training(64, 0.0)
