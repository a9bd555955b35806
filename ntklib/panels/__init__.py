"""The course layer: one module per notebook, each holding that notebook's panels.

A panel is a `Panel`: a pure, cached `compute(**values)` that returns a typed result (a
NamedTuple of numbers and arrays, no figure), a `draw(result) -> Figure`, and the controls a
learner moves (`Choice`, `Toggle`: plain data, turned into sliders by `ntklib.widgets.live`).
The sentences a learner reads live in the panel modules; the numbers come from the modules
below (net, train, linearize, ntk, dynamics, features) and the figures from `plots`.

A panel raises `PanelError` for a state the learner can reach on purpose (training that
diverges, a dead network); the widget shows its text as a message. Any other exception is a
bug and propagates as a traceback.

To change a panel, open the module of its notebook (`nb06_gradient_flow.py` for notebook 06);
`tests/test_panels.py` checks every panel the same way (deterministic compute, labelled axes,
a figure or a deliberate `PanelError` at every control's extremes).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .. import plots

#: The key of every panel's network: with `net.init_nested(NETWORK_KEY, d, m)` the width-m
#: network is the same in every notebook (and the width-2m network contains it).
NETWORK_KEY = jax.random.key(0)


class PanelError(Exception):
    """A state the learner reached on purpose (divergence, a dead network), said in words.

    `Panel.figure` draws the text as a message instead of a figure. Raise it only for such
    states, never for a bug or a round-off failure.
    """


class Choice(NamedTuple):
    """A slider over fixed options (a log scale of widths, a grid of learning rates)."""

    label: str
    """Shown left of the slider (plain text or unicode: it is not rendered as math)."""
    options: tuple
    """The values, in slider order."""
    value: Any
    """The default; one of `options`."""
    fmt: str = "{:g}"
    """How an option is shown on the slider, e.g. "{:.2f}"."""


class Toggle(NamedTuple):
    """A checkbox."""

    label: str
    value: bool = False


Control = Choice | Toggle


class Panel(NamedTuple):
    """One interactive figure of a notebook: controls -> `compute` -> `draw`.

    `compute(**values)` takes one keyword per control and returns the panel's result; it is
    pure (randomness from fixed `jax.random` keys of the panel module) and cached.
    `draw(result)` returns a matplotlib Figure and raises `PanelError` for a state the
    learner reached on purpose.
    """

    name: str
    compute: Callable[..., Any]
    draw: Callable[[Any], Figure]
    controls: Mapping[str, Control]
    prefetch: tuple[str, ...] = ()
    """Controls whose neighbouring options `widgets.live` computes ahead, after a learner
    has moved a control (those whose new value costs a compilation, e.g. the width)."""

    def values(self, **values: Any) -> dict[str, Any]:
        """The control defaults, updated by `values`; unknown names are a ValueError."""
        unknown = sorted(set(values) - set(self.controls))
        if unknown:
            raise ValueError(f"{self.name} has no control named {unknown}; its controls are "
                             f"{sorted(self.controls)}")
        return {name: c.value for name, c in self.controls.items()} | values

    def figure(self, **values: Any) -> Figure:
        """The figure at these control values (defaults for the others), as a learner sees
        it: a `PanelError` becomes a figure holding its message."""
        try:
            return self.draw(self.compute(**self.values(**values)))
        except PanelError as exc:
            return message_figure(str(exc))

    def extremes(self) -> list[dict[str, Any]]:
        """Control values to test: the defaults, then each control at each of its ends."""
        cases = [self.values()]
        for name, c in self.controls.items():
            ends = (c.options[0], c.options[-1]) if isinstance(c, Choice) else (False, True)
            cases += [self.values(**{name: end}) for end in ends]
        return cases

    def neighbours(self, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The values one step away along each control of `prefetch`, nearest first."""
        out = []
        for name in self.prefetch:
            options = list(self.controls[name].options)
            i = options.index(values[name])
            out += [{**values, name: options[j]} for j in (i + 1, i - 1)
                    if 0 <= j < len(options)]
        return out


def message_figure(text: str) -> Figure:
    """A figure that holds only `text`, for a state the learner reached on purpose."""
    fig, ax = plt.subplots(figsize=(11, 4.2))
    plots.message(ax, text)
    return fig


def all_panels() -> dict[str, Panel]:
    """Every panel of every notebook module of this package, by name."""
    found: dict[str, Panel] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, Panel):
                found[value.name] = value
    return found
