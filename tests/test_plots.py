"""ntklib.plots: the house style, the message panel, and every shared helper checked on the artists
it draws (the panels of ntklib.panels are checked by tests/test_panels.py)."""

import io
import math

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from ntklib import dynamics, features, plots


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def test_use_style_sets_the_house_rcparams():
    with matplotlib.rc_context():
        plots.use_style()
        for key, value in plots.STYLE.items():
            got = matplotlib.rcParams[key]
            assert (list(got) if isinstance(value, tuple) else got) == (
                list(value) if isinstance(value, tuple) else value), key


def _pixels(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)))


def test_png_has_the_pixels_of_savefig_and_nothing_of_the_figure_before():
    """One renderer serves every figure of a size: each PNG must still be that figure alone."""
    def figure(k: int):
        fig, (a, b) = plt.subplots(1, 2, figsize=(6, 3))
        fig.patch.set_facecolor("none")  # see-through: what the renderer held would show
        a.semilogy(np.arange(1, 50), np.arange(1.0, 50.0) ** -k, label=rf"$t^{{-{k}}}$")
        a.legend()
        b.imshow(np.outer(np.arange(5), np.arange(k + 1)))
        fig.suptitle(rf"$\eta = {k} \times 2/\lambda_{{\max}}$")
        return fig

    figs = [figure(1), figure(3)]
    ours = [plots.png(fig) for fig in figs]  # the second drawn on the renderer of the first
    for fig, png in zip(figs, ours, strict=True):
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        assert np.array_equal(_pixels(png), _pixels(buf.getvalue()))
    assert not np.array_equal(_pixels(ours[0]), _pixels(ours[1]))
    assert np.array_equal(_pixels(plots.png(figs[0])), _pixels(ours[0]))
    for fig in figs:
        plt.close(fig)


def test_message_replaces_the_axes_content():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    plots.message(ax, "training diverged at step 12: lower the learning rate")
    assert not ax.lines and not ax.axison
    (text,) = ax.texts
    assert "training diverged at step 12" in text.get_text().replace("\n", " ")
    plt.close(fig)


def test_message_rejects_an_unknown_kind():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="kind"):
        plots.message(ax, "x", kind="error")
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
    top = next(line for line in ax.lines if line.get_label() == r"$\lambda_{\max}$")
    s, r = top.get_xdata(), top.get_ydata()  # |1 - s * 2 lam_max / lam_max| = |1 - 2 s|
    assert r[np.argmin(np.abs(s - 1.0))] == pytest.approx(1.0, abs=1e-2)
    assert r[np.argmin(np.abs(s - 0.5))] == pytest.approx(0.0, abs=1e-2)
    dot = ax.lines[-1]  # the rate max_i |1 - eta lam_i| = |1 - 2.4| at eta = 1.2 x 2/lam_max
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


def test_rbf_truncation_draws_what_it_is_given():
    X = np.linspace(-1, 1, 21)[:, None]
    exact = np.asarray(features.rbf_kernel(X, np.array([[0.5]]), lengthscale=0.5))[:, 0]
    phi, phi0 = (np.asarray(features.rbf_taylor_features(x, 12, lengthscale=0.5))
                 for x in (X, np.array([[0.5]])))
    partial = np.cumsum(phi * phi0, axis=1)
    errors = np.max(np.abs(partial - exact[:, None]), axis=0)
    fig, (a, b) = plt.subplots(1, 2)
    plots.rbf_truncation(a, b, X, exact, partial, errors, [2, 4], x0=0.5, lengthscale=0.5)
    assert [line.get_label() for line in a.lines] == ["exact RBF", "$D = 2$", "$D = 4$"]
    np.testing.assert_array_equal(a.lines[2].get_ydata(), partial[:, 3])
    err = b.lines[0].get_ydata()
    assert err[0] > 0.1 and err[-1] < 1e-6 and b.get_yscale() == "log"
    plt.close(fig)


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


def test_kernel_heatmap_shares_a_colour_scale_when_given_one(ax):
    plots.kernel_heatmap(ax, np.eye(4), np.linspace(0, 1, 4), title="K", vmin=0.0, vmax=2.0)
    assert ax.images[0].get_clim() == (0.0, 2.0)
