"""The interactive panels of the notebooks: wiring only, the computing is in the modules below.

Every panel follows one pattern (`live`): a row of controls with `continuous_update=False`,
and an `Output` of fixed height that shows the figure returned by a `draw_*` function of this
module. A `draw_*` function takes the control values as keyword arguments, computes through
ntklib (caching what does not depend on the value that moved), and returns a matplotlib
`Figure`; it can be called without widgets, which is how notebooks show the figure once
statically (on GitHub and under nbval) and how `benchmarks/` time an update.

When a value makes the computation fail or training diverge, the panel shows a readable
message (`plots.message`) instead of a traceback or an empty figure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as w
import matplotlib.pyplot as plt
from IPython.display import display
from matplotlib.figure import Figure

from . import plots

Draw = Callable[..., Figure]


def safe_draw(draw: Draw, **values: Any) -> Figure:
    """`draw(**values)`, or a figure holding a readable message if it raises ValueError,
    TypeError or FloatingPointError (e.g. a learning rate that makes training diverge)."""
    try:
        return draw(**values)
    except (ValueError, TypeError, FloatingPointError) as exc:
        plt.close("all")
        fig, ax = plt.subplots(figsize=plots.STYLE["figure.figsize"])
        plots.message(ax, f"{exc}")
        return fig


def live(draw: Draw, controls: Mapping[str, w.ValueWidget], *, height: str = "460px",
         columns: int = 3) -> w.VBox:
    """A panel: `controls` (name -> widget) above the figure `draw(**values)`.

    The figure redraws when a control's value changes (on release for sliders with
    `continuous_update=False`). Figures are closed after display, so nothing accumulates.

    Args:
      draw: returns a Figure for keyword arguments named like `controls`.
      controls: ipywidgets value widgets, in display order.
      height: fixed height of the figure area (no page jumps while it redraws).
      columns: controls per row.
    Returns:
      the panel, a VBox; display it as the last expression of a cell.
    """
    if not controls:
        raise ValueError("controls must name at least one widget, got none")

    def show(**values: Any) -> None:
        fig = safe_draw(draw, **values)
        display(fig)
        plt.close(fig)

    out = w.interactive_output(show, dict(controls))
    out.layout = w.Layout(height=height, overflow="hidden")
    items = list(controls.values())
    rows = [w.HBox(items[i:i + columns]) for i in range(0, len(items), columns)]
    return w.VBox([*rows, out])
