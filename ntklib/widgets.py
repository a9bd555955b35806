"""Panels made live: controls -> `compute` -> `draw`, and computing ahead what a slider needs.

`live(panel)`: a `ntklib.panels.Panel`'s controls above an `Output` of fixed height holding
its figure, redrawn on release. A `PanelError` (a state the learner reached on purpose) shows
as a message; any other exception as a traceback in the panel: it is a bug. After a learner
moves a control, one worker per panel (`Prefetcher`) computes the neighbouring options of the
`prefetch` controls; nothing before a move, so batch runs (nbval, nbconvert) start no thread.
"""

from __future__ import annotations

import base64
import functools
import gc
import threading
import time
import traceback
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import ipywidgets as w
import matplotlib.pyplot as plt

from . import plots
from .panels import Choice, Panel, PanelError, message_figure

_RUNNING: dict[str, Prefetcher] = {}  # per panel name; a rebuilt panel stops the old one
SHOWN = 32  # figures a panel keeps for values shown before (PNG, about 100 KB each)
_key = lambda values: tuple(sorted(values.items()))  # control values as a dictionary key


def control_widget(spec: Choice | Any) -> w.ValueWidget:
    """`Choice` -> SelectionSlider, `Toggle` -> Checkbox, at the default value."""
    if isinstance(spec, Choice):
        options = [(spec.fmt.format(o), o) for o in spec.options]
        return w.SelectionSlider(options=options, value=spec.value, description=spec.label,
                                 continuous_update=False,
                                 style={"description_width": "initial"})
    return w.Checkbox(value=spec.value, description=spec.label, indent=False)


class Prefetcher:
    """One worker thread computing `panel.compute` ahead (cached: a result computed ahead
    is found there once its future is dropped); one future per set of values. A queued
    computation starts only after QUIET seconds without a redraw, so it never slows the
    learner's next move; a move that needs it wakes it at once."""

    QUIET = 1.0

    def __init__(self, panel: Panel) -> None:
        self.panel, self.futures, self.done = panel, {}, set()  # done: in the panel's cache
        self.last_active, self.hurry = time.monotonic(), threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=1,
                                       thread_name_prefix=f"prefetch {panel.name}")

    def _when_quiet(self, values: Mapping[str, Any]) -> Any:
        while not self.hurry.is_set() and (
                left := self.QUIET - (time.monotonic() - self.last_active)) > 0:
            self.hurry.wait(left)
        return self.panel.compute(**values)

    def result(self, values: Mapping[str, Any]) -> Any:
        """`panel.compute(**values)`, from the computation ahead if any (its error too)."""
        self.last_active, key = time.monotonic(), _key(values)
        future = self.futures.get(key)
        if future is None or future.cancelled() or future.cancel():  # not started: here
            result = self.panel.compute(**values)
        else:  # under way (maybe waiting for quiet): wake it, wait for it
            self.hurry.set()
            result = future.result()
            self.hurry.clear()
        self.done.add(key)
        self.last_active = time.monotonic()
        return result

    def ahead(self, values: Mapping[str, Any]) -> None:
        """Cancel queued work that is no longer a neighbour of `values`; queue the neighbours."""
        self.last_active = time.monotonic()
        wanted = {_key(v): v for v in self.panel.neighbours(values)}
        for key, future in list(self.futures.items()):
            if future.done():  # its result is in the panel's cache now
                self.done.add(key)
            if key not in wanted and (future.done() or future.cancel()):
                del self.futures[key]
        for key, v in wanted.items():
            if key not in self.futures and key not in self.done:
                self.futures[key] = self.pool.submit(self._when_quiet, v)

    def stop(self) -> None:
        """Cancel every queued computation; the worker ends."""
        self.pool.shutdown(wait=False, cancel_futures=True)


def live(panel: Panel, *, height: str = "460px", columns: int = 3) -> w.VBox:
    """The panel with its controls, `columns` a row, above a figure of fixed `height`: a VBox
    to display as the last expression of a cell (`.prefetcher`: its `Prefetcher`)."""
    if not panel.controls:
        raise ValueError(f"panel {panel.name!r} must have at least one control, got none")
    if panel.name in _RUNNING:
        _RUNNING.pop(panel.name).stop()
    prefetcher = _RUNNING[panel.name] = Prefetcher(panel)
    gc.collect()  # what the notebook holds now stays out of later collections: a full one
    gc.freeze()   # over a kernel's ~400k objects took ~200 ms inside a slider move
    controls = {name: control_widget(spec) for name, spec in panel.controls.items()}
    out = w.Output()

    @functools.lru_cache(maxsize=SHOWN)  # a figure shown before is shown again, not redrawn
    def output(key: tuple) -> dict[str, Any]:
        before = set(plt.get_fignums())
        try:
            fig = panel.draw(prefetcher.result(dict(key)))
        except Exception as exc:  # close what the failed draw left open, and only that
            for number in set(plt.get_fignums()) - before:
                plt.close(number)
            if not isinstance(exc, PanelError):
                raise
            fig = message_figure(str(exc))
        try:
            png = base64.b64encode(plots.png(fig)).decode("ascii")
        finally:
            plt.close(fig)
        return {"output_type": "display_data", "metadata": {},
                "data": {"image/png": png, "text/plain": repr(fig)}}

    def show(values: dict[str, Any]) -> None:
        # set into the Output, never captured: a batch runner (nbclient) then has nothing to
        # send back to the kernel (sending captured outputs back made nbclient stall)
        out.outputs = (output(_key(values)),)

    def changed(_: Any) -> None:
        values = {name: c.value for name, c in controls.items()}
        try:
            show(values)
        except Exception:  # a bug: its traceback in the panel, seen by the learner (and tests)
            text = traceback.format_exc()
            out.outputs = ({"output_type": "stream", "name": "stderr", "text": text},)
            return
        prefetcher.ahead(values)  # nothing is computed ahead before a learner moves a control

    show({name: c.value for name, c in controls.items()})  # a bug here fails the cell
    for c in controls.values():
        c.observe(changed, names="value")
    out.layout = w.Layout(height=height, overflow="hidden")
    items = list(controls.values())
    rows = [w.HBox(items[i:i + columns]) for i in range(0, len(items), columns)]
    box = w.VBox([*rows, out])
    box.prefetcher = prefetcher
    return box
