"""ntklib.widgets and ntklib.plots, notebook 07: the learning-rate phase panel, and the figures
of errors against width, mode decay and the phase diagram."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from ntklib import dynamics, ntk, plots, widgets


def _title(fig):
    return fig._suptitle.get_text().replace("\n", " ")


@pytest.mark.parametrize(("multiple", "word"), [
    (0.5, "converging"), (1.5, "CATAPULT"), (2.5, "DIVERGING")])
def test_draw_lr_phases_names_the_regime(multiple, word):
    fig = widgets.draw_lr_phases(m=1024, eta_multiple=multiple)
    assert word in _title(fig) and "m = 1024" in _title(fig)
    assert len(fig.axes) == 2
    plt.close(fig)


def test_draw_lr_phases_plots_lambda_max_of_the_trained_network_against_2_over_eta():
    fig = widgets.draw_lr_phases(m=256, eta_multiple=1.5)
    s = widgets._phase_setup(256, 0)
    ax = fig.axes[1]
    curve, bound, start = ax.get_lines()[:3]
    # independent route: the NTK of the panel's initial weights, from ntk.empirical_ntk
    lam0 = float(np.linalg.eigvalsh(np.asarray(ntk.empirical_ntk(
        s["params"], widgets._toy_float32()["X"], activation="erf")))[-1])
    assert start.get_ydata()[0] == pytest.approx(lam0, rel=1e-4)
    eta = 1.5 * 2 / s["lambda0"]
    assert bound.get_ydata()[0] == pytest.approx(2 / eta)
    lam = np.asarray(curve.get_ydata())
    assert lam[-1] < 2 / eta < lam[0]  # a catapult: lambda_max ends below 2/eta
    plt.close(fig)


def test_draw_lr_phases_refuses_bad_values_readably():
    with pytest.raises(ValueError, match="eta_multiple"):
        widgets.draw_lr_phases(m=64, eta_multiple=0.0)
    fig = widgets.safe_draw(widgets.draw_lr_phases, m=8192, eta_multiple=0.5)
    assert "m must be <= 4096" in fig.axes[0].texts[0].get_text().replace("\n", " ")
    plt.close(fig)


def test_lr_phases_has_a_warm_up():
    assert widgets.draw_lr_phases in widgets.WARM_UPS


def test_error_against_width_draws_seeds_mean_and_kernel():
    fig, ax = plt.subplots()
    errors = np.array([[0.5, 0.4, 0.3], [0.7, 0.4, 0.5]])
    plots.error_against_width(ax, [16, 64, 256], errors, 0.35)
    lines = ax.get_lines()
    assert len(lines) == 4  # two seeds, the mean, the kernel
    np.testing.assert_allclose(lines[2].get_ydata(), [0.6, 0.4, 0.4])
    assert lines[3].get_ydata()[0] == 0.35
    with pytest.raises(ValueError, match="errors must have shape"):
        plots.error_against_width(ax, [16, 64], errors, 0.35)
    plt.close(fig)


def test_mode_decay_draws_each_mode_and_its_prediction():
    fig, ax = plt.subplots()
    t = np.linspace(0, 2, 11)
    amps = np.stack([np.exp(-3 * t), 0.5 * np.exp(-0.5 * t)], axis=1)
    plots.mode_decay(ax, t, amps, [3.0, 0.5], ["k = 1", "k = 3"], ["C0", "C1"])
    solid, dashed = ax.get_lines()[2:4]
    np.testing.assert_allclose(solid.get_ydata(), dashed.get_ydata())  # exact decay
    with pytest.raises(ValueError, match="amplitudes must have shape"):
        plots.mode_decay(ax, t, amps[:, :1], [3.0, 0.5], ["a", "b"], ["C0", "C1"])
    plt.close(fig)


def test_phase_diagram_colours_each_cell_by_its_regime():
    diagram = dynamics.PhaseDiagram(
        np.array([64, 256]), np.array([0.5, 1.5, 2.5]), np.array([20.0, 21.0]),
        np.array([["converging", "catapult", "diverging"],
                  ["converging", "converging", "diverging"]]))
    fig, ax = plt.subplots()
    plots.phase_diagram(ax, diagram)
    codes = np.asarray(ax.collections[0].get_array()).reshape(2, 3)
    names = list(plots.REGIME_ROLES)
    assert [[names[int(c)] for c in row] for row in codes] == diagram.regimes.tolist()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "converging", "catapult", "diverging"]
    plt.close(fig)
