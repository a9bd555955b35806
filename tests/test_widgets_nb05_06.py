"""ntklib.widgets, notebooks 05-06: the width panel of the NTK and the gradient-flow panel."""

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import pytest

from ntklib import net, ntk, plots, widgets


def _title(fig):
    return fig._suptitle.get_text().replace("\n", " ")


def test_nested_widths_are_the_first_neurons_of_one_draw():
    wide = widgets._nb56_params(0, 2, 64, 64, jnp.float64)
    narrow = widgets._nb56_params(0, 2, 8, 64, jnp.float64)
    assert jnp.array_equal(narrow.A, wide.A[:8]) and jnp.array_equal(narrow.b, wide.b[:8])
    with pytest.raises(ValueError, match="m must be <= 64"):
        widgets._nb56_params(0, 2, 65, 64, jnp.float64)


def test_draw_ntk_width_draws_the_slice_and_the_parts():
    fig = widgets.draw_ntk_width(m=16)
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 3  # K, K_m and the x0 marker
    x, _, inf = widgets._ntk_grid("relu")
    i0 = int(np.argmin(np.abs(x - 0.5)))
    assert np.allclose(ax.get_lines()[0].get_ydata(), np.asarray(inf.K)[i0])
    plt.close(fig)
    fig = widgets.draw_ntk_width(m=16, show_Ka=True, show_Kb=True)
    assert len(fig.axes[0].get_lines()) == 7
    plt.close(fig)


def test_draw_ntk_width_error_shrinks_with_m():
    errors = []
    for m in (4, 4096):
        fig = widgets.draw_ntk_width(m=m)
        errors.append(float(fig.axes[1].get_title().split()[-1]))
        plt.close(fig)
    assert errors[1] < errors[0] / 10


def test_draw_ntk_width_refuses_bad_values_readably():
    with pytest.raises(ValueError, match="m must be"):
        widgets.draw_ntk_width(m=0)
    fig = widgets.safe_draw(widgets.draw_ntk_width, m=64, x0=3.0)
    assert "x0 must lie in [-1, 1]" in fig.axes[0].texts[0].get_text().replace("\n", " ")
    plt.close(fig)


@pytest.mark.parametrize(("m", "multiple", "word"), [
    (256, 0.5, "converging"), (1024, 1.5, "CATAPULT"), (16, 3.0, "DIVERGING")])
def test_draw_gradient_flow_names_the_regime(m, multiple, word):
    fig = widgets.draw_gradient_flow(m=m, eta_multiple=multiple)
    assert word in _title(fig)
    assert f"m = {m}" in _title(fig)
    plt.close(fig)


def test_draw_gradient_flow_kernel_curve_is_the_flow_of_the_initial_ntk():
    """The green curve against an independent route: K(w0) recomputed and expm by eigh."""
    fig = widgets.draw_gradient_flow(m=64, eta_multiple=0.5, steps=200)
    s = widgets._flow_setup(64, "erf", 0)
    p = net.Params(s["params"].A.astype(jnp.float64), s["params"].b.astype(jnp.float64))
    K = np.asarray(ntk.empirical_ntk(p, s["X"], activation="erf"))
    U0 = np.asarray(net.apply(p, s["X"], activation="erf") - s["y"])
    lam, V = np.linalg.eigh(K)
    lam = np.maximum(lam, 0)
    kernel_line = fig.axes[0].get_lines()[2]
    t = np.asarray(kernel_line.get_xdata())
    expected = [0.5 * np.sum((V @ (np.exp(-lam * ti) * (V.T @ U0))) ** 2) for ti in t]
    assert len(t) == 201
    assert np.allclose(kernel_line.get_ydata(), expected, rtol=1e-8)
    plt.close(fig)


def test_draw_gradient_flow_refuses_bad_values():
    with pytest.raises(ValueError, match="steps must be <="):
        widgets.draw_gradient_flow(m=16, steps=widgets.FLOW_STEPS + 1)
    with pytest.raises(ValueError, match="eta_multiple"):
        widgets.draw_gradient_flow(m=16, eta_multiple=0.0)


def test_training_curves_clip_a_diverging_curve_and_need_one_curve():
    fig, ax = plt.subplots()
    t = np.arange(4.0)
    plots.training_curves(ax, t, network=np.array([1.0, 0.5, 0.2, 0.1]),
                          linearized=np.array([1.0, 10.0, np.inf, np.nan]), top=100.0)
    lin = ax.get_lines()[1].get_ydata()
    assert lin[2] == 1000.0 and np.isnan(lin[3]) and ax.get_ylim()[1] == 100.0
    with pytest.raises(ValueError, match="at least one"):
        plots.training_curves(ax, t)
    with pytest.raises(ValueError, match="shape of t"):
        plots.training_curves(ax, t, kernel=np.ones(3))
    plt.close(fig)


def test_kernel_heatmap_checks_the_grid():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="shape"):
        plots.kernel_heatmap(ax, np.eye(3), np.linspace(0, 1, 4), title="x")
    plots.kernel_heatmap(ax, np.eye(4), np.linspace(0, 1, 4), title="K", diverging=True)
    assert ax.images[0].get_clim() == (-1.0, 1.0)
    plt.close(fig)
