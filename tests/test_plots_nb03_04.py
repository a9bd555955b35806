"""ntklib.plots, notebooks 03-04: histograms at init, data, power laws, gauges."""

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest

from ntklib import plots


def test_init_histogram_overlays_a_normalised_gaussian():
    fig, ax = plt.subplots()
    samples = np.random.default_rng(0).normal(0, 2, 500)
    plots.init_histogram(ax, samples, 4.0, title="t")
    (pdf,) = ax.lines
    z, p = pdf.get_xydata().T
    assert math.isclose(np.trapezoid(p, z), 1.0, abs_tol=1e-3)  # +-4 sd hold 0.99994
    assert math.isclose(p.max(), 1 / (2 * math.sqrt(2 * math.pi)), rel_tol=1e-3)
    heights = np.array([patch.get_height() for patch in ax.patches])
    widths = np.array([patch.get_width() for patch in ax.patches])
    assert math.isclose(float(np.sum(heights * widths)), 1.0, rel_tol=1e-9)  # a density
    with pytest.raises(ValueError, match="variance"):
        plots.init_histogram(ax, samples, 0.0, title="t")
    plt.close(fig)


def test_power_law_seeds_draws_the_fit_through_c_m_to_the_slope():
    fig, ax = plt.subplots()
    m = np.array([10, 100, 1000])
    Y = np.stack([m**-0.5, 2 * m**-0.5], axis=1)
    plots.power_law_seeds(ax, m, Y, -0.5, math.sqrt(2), label="change", color="C0")
    dots, means, fit = ax.lines
    assert len(dots.get_xdata()) == 6
    np.testing.assert_allclose(means.get_ydata(), math.sqrt(2) * m**-0.5, rtol=1e-12)
    x, y = fit.get_xydata().T
    np.testing.assert_allclose(y, math.sqrt(2) * x**-0.5, rtol=1e-12)
    assert "slope -0.50" in ax.get_legend().get_texts()[1].get_text()
    plt.close(fig)


def test_gauge_writes_values_clips_and_marks_divergence():
    fig, ax = plt.subplots()
    plots.gauge(ax, {"f": 0.25, "g": 3.0, "h": float("nan")}, {"f": "C0", "g": "C1", "h": "C2"})
    widths = [patch.get_width() for patch in ax.patches]
    assert widths == [0.25, 1.0, 1.0]
    assert [t.get_text() for t in ax.texts] == ["0.250", "> 1", "diverged"]
    plt.close(fig)


def test_data_and_target_draws_points_and_curve():
    fig, ax = plt.subplots()
    plots.data_and_target(ax, [0.0, 1.0], [1.0, 2.0], [0.0, 0.5, 1.0], [1.0, 1.5, 2.0])
    curve, points = ax.lines
    assert curve.get_linestyle() == "-" and points.get_marker() == "o"
    plt.close(fig)


def test_network_and_linearized_draws_both_roles_on_both_axes():
    import jax

    from ntklib import linearize, net, train

    X = net.embed(jax.numpy.linspace(-1, 1, 6)[:, None])
    y = jax.numpy.sin(3 * X[:, 0])
    p0 = net.init(jax.random.key(0), 2, 8)
    kw = dict(eta=0.05, steps=20, record_every=10)
    f, lin = train.train_network(p0, X, y, **kw), linearize.train_linearized(p0, X, y, **kw)
    fig, (a, b) = plt.subplots(1, 2)
    plots.network_and_linearized(a, b, X[:, 0], f, lin, title="m = 8")
    assert [ln.get_color() for ln in a.lines] == [plots.COLORS["network"],
                                                  plots.COLORS["linearized"]]
    np.testing.assert_allclose(a.lines[1].get_ydata(), lin.predictions[-1])
    np.testing.assert_allclose(b.lines[0].get_xdata(), f.times)
    assert b.get_yscale() == "log" and a.get_title() == "m = 8"
    plt.close(fig)
