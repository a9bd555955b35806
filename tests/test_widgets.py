"""ntklib.widgets: live() wires a panel's controls to its figure; prefetching is managed."""

from __future__ import annotations

import gc
import threading
import time
from typing import NamedTuple

import ipywidgets as w
import matplotlib.pyplot as plt
import pytest

from ntklib import widgets
from ntklib.panels import Choice, Panel, PanelError, Toggle


class Result(NamedTuple):
    a: int
    flag: bool


def _panel(calls, *, fail_at=None, bug_at=None, delay=0.0, name="toy"):
    def compute(a, flag):
        calls.append(a)
        time.sleep(delay)
        if a == bug_at:
            raise RuntimeError("a bug")
        return Result(a, flag)

    def draw(r):
        if r.a == fail_at:
            raise PanelError(f"diverged at a = {r.a}")
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, r.a])
        ax.set(xlabel="x", ylabel="y")
        return fig

    return Panel(name, compute, draw, {"a": Choice("a", (1, 2, 3, 4, 5), 1),
                                       "flag": Toggle("flag")}, prefetch=("a",))


def _slider(box):
    return box.children[0].children[0]


def test_controls_become_widgets_with_their_defaults():
    box = widgets.live(_panel([]))
    slider, check = box.children[0].children
    assert isinstance(slider, w.SelectionSlider) and slider.value == 1
    assert slider.index == 0 and slider.options[-1] == ("5", 5) and not slider.continuous_update
    assert isinstance(check, w.Checkbox) and check.value is False
    assert isinstance(box.children[-1], w.Output)
    box.prefetcher.stop()


def test_nothing_is_computed_ahead_before_a_control_moves():
    calls = []
    box = widgets.live(_panel(calls))
    time.sleep(0.05)
    assert calls == [1] and box.prefetcher.futures == {}
    box.prefetcher.stop()


def test_a_move_computes_the_neighbours_once_each():
    calls = []
    box = widgets.live(_panel(calls))
    _slider(box).value = 3
    for f in list(box.prefetcher.futures.values()):
        f.result(timeout=10)
    assert sorted(calls) == [1, 2, 3, 4]
    _slider(box).value = 4  # its result was computed ahead: not computed again
    for f in list(box.prefetcher.futures.values()):
        f.result(timeout=10)
    assert sorted(calls) == [1, 2, 3, 4, 5]
    assert plt.get_fignums() == []
    box.prefetcher.stop()


def test_pending_work_is_cancelled_and_a_rebuilt_panel_stops_the_old_worker():
    calls = []
    box = widgets.live(_panel(calls, delay=0.2))
    _slider(box).value = 2  # queues 3 and 1 behind a slow worker
    old = box.prefetcher
    box2 = widgets.live(_panel(calls, delay=0.2))
    with pytest.raises(RuntimeError):  # the old worker takes no more work
        old.pool.submit(print)
    workers = [t for t in threading.enumerate() if t.name.startswith("prefetch toy")]
    for t in workers:
        t.join(timeout=5)
    assert calls.count(1) <= 3 and 2 in calls
    box2.prefetcher.stop()


def test_a_panel_error_is_a_message_and_a_bug_is_a_traceback():
    box = widgets.live(_panel([], fail_at=2, bug_at=3))
    out = box.children[-1]
    (shown,) = out.outputs
    assert shown["output_type"] == "display_data" and "image/png" in shown["data"]
    _slider(box).value = 2
    (message,) = out.outputs
    assert message["data"]["image/png"] != shown["data"]["image/png"]
    assert plt.get_fignums() == []  # the message figure was shown and closed
    _slider(box).value = 3
    (error,) = out.outputs
    assert error["name"] == "stderr" and "RuntimeError: a bug" in error["text"]
    panel = _panel([], fail_at=2)
    fig = panel.figure(a=2)
    assert "diverged at a = 2" in fig.axes[0].texts[0].get_text()
    plt.close(fig)
    assert out.layout.height == "460px"
    box.prefetcher.stop()


def test_a_bug_at_the_defaults_fails_the_cell():
    with pytest.raises(RuntimeError, match="a bug"):
        widgets.live(_panel([], bug_at=1))


def test_the_figure_is_set_not_captured():
    """No output is captured while the cell runs: nbclient has nothing to send back."""
    box = widgets.live(_panel([]))
    out = box.children[-1]
    assert out.msg_id == "" and len(out.outputs) == 1
    box.prefetcher.stop()


def test_live_refuses_a_panel_without_controls_and_unknown_values():
    panel = _panel([])._replace(controls={})
    with pytest.raises(ValueError, match="at least one control"):
        widgets.live(panel)
    with pytest.raises(ValueError, match="no control named"):
        _panel([]).values(b=1)


def test_a_failed_draw_leaves_no_figure_open():
    def draw(r):
        plt.subplots()
        raise (PanelError("diverged") if r.a == 2 else RuntimeError("a bug"))

    panel = _panel([])._replace(draw=draw)
    with pytest.raises(RuntimeError):
        widgets.live(panel)  # fails at the defaults: the cell fails, nothing left open
    assert plt.get_fignums() == []
    box = widgets.live(panel._replace(draw=lambda r: draw(r) if r.a > 1 else _panel([]).draw(r)))
    _slider(box).value = 2
    _slider(box).value = 3
    assert plt.get_fignums() == []
    box.prefetcher.stop()


def test_work_ahead_waits_for_quiet_and_a_move_that_needs_it_wakes_it(monkeypatch):
    monkeypatch.setattr(widgets.Prefetcher, "QUIET", 30.0)  # longer than this test
    calls = []
    box = widgets.live(_panel(calls))
    _slider(box).value = 2  # queues 3 and 1, which wait for 30 s of quiet
    time.sleep(0.2)
    assert sorted(calls) == [1, 2], "nothing computed ahead while the learner is active"
    t0 = time.perf_counter()
    _slider(box).value = 3  # needs the queued 3: woken (or taken over), not 30 s later
    assert time.perf_counter() - t0 < 5 and calls.count(3) == 1
    box.prefetcher.stop()


def test_a_value_shown_before_is_shown_again_without_drawing_and_a_bug_is_not_kept():
    draws = []
    panel = _panel([], bug_at=3)
    panel = panel._replace(draw=lambda r: draws.append(r.a) or _panel([]).draw(r))
    box = widgets.live(panel)
    out, slider = box.children[-1], _slider(box)
    (first,) = out.outputs
    slider.value = 2
    (second,) = out.outputs
    slider.value = 1  # back: the figure shown before, not drawn again
    assert out.outputs == (first,) and first != second and draws == [1, 2]
    slider.value = 3  # a bug: its traceback, every time (not kept as a figure)
    slider.value = 2
    slider.value = 3
    assert out.outputs[0]["name"] == "stderr" and draws == [1, 2]
    assert plt.get_fignums() == []
    box.prefetcher.stop()


def test_live_keeps_what_the_notebook_holds_out_of_later_collections():
    """A full garbage collection over every object of a kernel took ~200 ms inside a slider
    move: live() collects once and freezes what is left, so later ones skip it."""
    before = gc.get_freeze_count()
    held = [[i] for i in range(5000)]  # tracked objects the notebook holds
    box = widgets.live(_panel([]))
    assert gc.get_freeze_count() >= before + len(held)
    box.prefetcher.stop()
