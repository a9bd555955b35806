"""Panels made live: controls -> `compute` -> `draw`, and computing ahead what a slider needs.

`live(panel)` turns a `ntklib.panels.Panel` into a row of controls above an `Output` of fixed
height that shows the panel's figure; controls redraw on release (`continuous_update=False`).
The figure is put into the `Output` directly (`figure_output`), never captured from a cell.
A `PanelError` (a state the learner reached on purpose) shows as a message; any other
exception shows as a traceback in the panel, because it is a bug.

Prefetching: after a learner moves a control, one worker thread per panel computes the
neighbouring options of the panel's `prefetch` controls (the next and previous width). Each
value has at most one computation (a future); one not started is cancelled when the learner
moves on; building the panel again shuts the previous worker down. Nothing is computed ahead until a
control moves: batch runs (nbval, nbconvert, papermill) start no thread at all.
"""

from __future__ import annotations

import base64
import io
import traceback
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import ipywidgets as w
import matplotlib.pyplot as plt

from .panels import Choice, Panel, PanelError, message_figure

_RUNNING: dict[str, Prefetcher] = {}  # per panel name; a rebuilt panel stops the old one


def figure_output(fig: Any) -> dict[str, Any]:
    """`fig` as a display_data output (a PNG, as the inline backend makes) for an `Output`
    widget. Set directly, never captured: a batch runner (nbclient) then has nothing to send
    back to the kernel, which is what made it wait out its timeout after a widget cell."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")  # the layout is the figure's own: no second pass
    png = base64.b64encode(buf.getvalue()).decode("ascii")
    return {"output_type": "display_data", "metadata": {},
            "data": {"image/png": png, "text/plain": repr(fig)}}


def control_widget(spec: Choice | Any) -> w.ValueWidget:
    """`Choice` -> SelectionSlider, `Toggle` -> Checkbox, at the default value."""
    if isinstance(spec, Choice):
        options = [(spec.fmt.format(o), o) for o in spec.options]
        return w.SelectionSlider(options=options, value=spec.value, description=spec.label,
                                 continuous_update=False,
                                 style={"description_width": "initial"})
    return w.Checkbox(value=spec.value, description=spec.label, indent=False)


class Prefetcher:
    """One worker thread computing `panel.compute` ahead; one future per set of values.
    `panel.compute` must be cached: a result computed ahead is found there once its future
    is dropped."""

    def __init__(self, panel: Panel) -> None:
        self.panel = panel
        self.futures: dict[tuple, Future] = {}
        self.done: set[tuple] = set()  # computed once already: in the panel's cache
        self.pool = ThreadPoolExecutor(max_workers=1,
                                       thread_name_prefix=f"prefetch {panel.name}")

    @staticmethod
    def _key(values: Mapping[str, Any]) -> tuple:
        return tuple(sorted(values.items()))

    def result(self, values: Mapping[str, Any]) -> Any:
        """`panel.compute(**values)`, from the computation ahead if any (its error too)."""
        key = self._key(values)
        future = self.futures.get(key)
        result = (future.result() if future is not None and not future.cancelled()
                  else self.panel.compute(**values))
        self.done.add(key)
        return result

    def ahead(self, values: Mapping[str, Any]) -> None:
        """Cancel queued work that is no longer a neighbour of `values`; queue the neighbours."""
        wanted = {self._key(v): v for v in self.panel.neighbours(values)}
        for key, future in list(self.futures.items()):
            if future.done():  # its result is in the panel's cache now
                self.done.add(key)
            if key not in wanted and (future.done() or future.cancel()):
                del self.futures[key]
        for key, v in wanted.items():
            if key not in self.futures and key not in self.done:
                self.futures[key] = self.pool.submit(self.panel.compute, **v)

    def stop(self) -> None:
        """Cancel every queued computation; the worker ends."""
        self.pool.shutdown(wait=False, cancel_futures=True)


def live(panel: Panel, *, height: str = "460px", columns: int = 3) -> w.VBox:
    """The panel with its controls: a VBox to display as the last expression of a cell.

    Args:
      panel: a `ntklib.panels.Panel`.  columns: controls per row.
      height: fixed height of the figure area (no page jumps while it redraws).
    Returns:
      the VBox; its `prefetcher` attribute is the panel's `Prefetcher`.
    """
    if not panel.controls:
        raise ValueError(f"panel {panel.name!r} must have at least one control, got none")
    if panel.name in _RUNNING:
        _RUNNING.pop(panel.name).stop()
    prefetcher = _RUNNING[panel.name] = Prefetcher(panel)
    controls = {name: control_widget(spec) for name, spec in panel.controls.items()}
    out = w.Output()

    def show(values: dict[str, Any]) -> None:
        before = set(plt.get_fignums())
        try:
            fig = panel.draw(prefetcher.result(values))
        except Exception as exc:  # close what the failed draw left open, and only that
            for number in set(plt.get_fignums()) - before:
                plt.close(number)
            if not isinstance(exc, PanelError):
                raise
            fig = message_figure(str(exc))
        try:
            out.outputs = (figure_output(fig),)
        finally:
            plt.close(fig)

    def current() -> dict[str, Any]:
        return {name: c.value for name, c in controls.items()}

    def changed(_: Any) -> None:
        values = current()
        try:
            show(values)
        except Exception:  # a bug: its traceback in the panel, seen by the learner (and tests)
            text = traceback.format_exc()
            out.outputs = ({"output_type": "stream", "name": "stderr", "text": text},)
            return
        prefetcher.ahead(values)  # nothing is computed ahead before a learner moves a control

    show(current())  # a bug here fails the cell
    for c in controls.values():
        c.observe(changed, names="value")
    out.layout = w.Layout(height=height, overflow="hidden")
    items = list(controls.values())
    rows = [w.HBox(items[i:i + columns]) for i in range(0, len(items), columns)]
    box = w.VBox([*rows, out])
    box.prefetcher = prefetcher
    return box
