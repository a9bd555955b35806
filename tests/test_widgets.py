"""ntklib.widgets: the panel pattern shared by every notebook's widgets."""

import threading

import ipywidgets as w
import matplotlib.pyplot as plt
import pytest

from ntklib import widgets


def _draw(a: float):
    if a < 0:
        raise ValueError(f"a must be >= 0, got {a}")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, a])
    return fig


def test_safe_draw_turns_an_error_into_a_message_figure():
    fig = widgets.safe_draw(_draw, a=-1.0)
    (ax,) = fig.axes
    assert not ax.lines
    assert "a must be >= 0, got -1.0" in ax.texts[0].get_text().replace("\n", " ")
    plt.close(fig)
    fig = widgets.safe_draw(_draw, a=2.0)
    assert fig.axes[0].lines
    plt.close(fig)


def test_live_redraws_on_a_new_value_and_closes_its_figures():
    calls = []

    def draw(a):
        calls.append(a)
        return _draw(a)

    slider = w.FloatSlider(value=1.0, min=-1.0, max=2.0, continuous_update=False)
    panel = widgets.live(draw, {"a": slider})
    assert isinstance(panel, w.VBox) and isinstance(panel.children[-1], w.Output)
    assert panel.children[0].children == (slider,)
    slider.value = 1.5
    slider.value = -0.5  # an error: a message, not a traceback
    assert calls == [1.0, 1.5, -0.5]
    assert plt.get_fignums() == []


def test_live_needs_controls():
    with pytest.raises(ValueError, match="controls"):
        widgets.live(_draw, {})


def test_live_starts_the_registered_warm_up_in_the_background(monkeypatch):
    done = []
    monkeypatch.setitem(widgets.WARM_UPS, _draw, lambda: done.append("warm"))
    thread = widgets.warm_up(_draw)
    thread.join(timeout=10)
    assert done == ["warm"] and thread.daemon
    widgets.live(_draw, {"a": w.FloatSlider(value=1.0)})  # live starts it too
    for t in [t for t in threading.enumerate() if t.name == "warm-up of _draw"]:
        t.join(timeout=10)
    assert done == ["warm", "warm"]
    assert widgets.warm_up(lambda a: None) is None  # nothing registered: no thread
    plt.close("all")


def test_the_width_panels_compute_every_width_up_to_4096_ahead(monkeypatch):
    """Notebooks 03-04: the first visit of a width must not wait for jax to compile."""
    seen = {"net": [], "lazy": []}
    monkeypatch.setattr(widgets, "_width_network", lambda m, seed: seen["net"].append(m))
    monkeypatch.setattr(widgets, "_lazy_run", lambda m, eta, seed: seen["lazy"].append(m))
    widgets.WARM_UPS[widgets.draw_width_network]()
    widgets.WARM_UPS[widgets.draw_lazy_training]()
    assert seen["net"] == [m for m in widgets.NET_WIDTHS if m <= 4096]
    assert seen["lazy"] == [m for m in widgets.NET_WIDTHS[2:] if m <= 4096]
