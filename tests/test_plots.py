"""ntklib.plots: the house style applies and the message panel replaces a figure's content."""

import matplotlib
import matplotlib.pyplot as plt
import pytest

from ntklib import plots


def test_use_style_sets_the_house_rcparams():
    with matplotlib.rc_context():
        plots.use_style()
        for key, value in plots.STYLE.items():
            got = matplotlib.rcParams[key]
            assert (list(got) if isinstance(value, tuple) else got) == (
                list(value) if isinstance(value, tuple) else value), key


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
