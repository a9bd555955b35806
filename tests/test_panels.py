"""One contract for every panel of every notebook (ntklib.panels).

- compute is deterministic: two fresh computations at the defaults agree exactly;
- draw returns a Figure whose axes are labelled;
- at the defaults and at each end of each control, the panel gives a figure or raises a
  deliberate `PanelError` (a state the learner reached on purpose), never another exception;
- every control's default is one of its options, and every notebook's live panel is one of
  these panels.
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from ntklib import panels
from ntklib.panels import Choice, PanelError

PANELS = panels.all_panels()
NAMES = sorted(PANELS)
ROOT = Path(__file__).resolve().parents[1]


def _leaves(result):
    return [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(
        result, is_leaf=lambda x: isinstance(x, str | int | float | bool | type(None)))]


def _fresh(compute):
    """The computation itself, not its cache."""
    return getattr(compute, "__wrapped__", compute)


def _check_axes(fig: Figure, name: str) -> None:
    assert isinstance(fig, Figure), f"{name}: draw must return a Figure, got {type(fig)}"
    shown = [ax for ax in fig.axes if ax.axison and ax.get_label() != "<colorbar>"]
    assert shown, f"{name}: the figure has no visible axes"
    for ax in shown:
        if not (ax.lines or ax.images or ax.collections or ax.patches):
            continue
        assert ax.get_xlabel().strip(), f"{name}: an axes without an x label ({ax.get_title()!r})"
        assert ax.get_ylabel().strip() or ax.get_title().strip(), (
            f"{name}: an axes without a y label or title")


def test_there_are_panels():
    assert len(PANELS) >= 7, f"expected a panel per notebook with widgets, got {NAMES}"


@pytest.mark.parametrize("name", NAMES)
def test_controls_are_well_formed(name):
    panel = PANELS[name]
    assert panel.controls, f"{name} has no controls"
    for cname, c in panel.controls.items():
        assert c.label.strip(), f"{name}.{cname}: empty label"
        if isinstance(c, Choice):
            assert c.value in c.options, f"{name}.{cname}: default {c.value} not an option"
            assert len(set(c.options)) == len(c.options), f"{name}.{cname}: repeated options"
    assert set(panel.prefetch) <= {n for n, c in panel.controls.items()
                                   if isinstance(c, Choice)}, f"{name}: prefetch names"


@pytest.mark.parametrize("name", NAMES)
def test_compute_is_deterministic_and_draw_labels_its_axes(name):
    panel = PANELS[name]
    values = panel.values()
    a = _fresh(panel.compute)(**values)
    b = _fresh(panel.compute)(**values)
    assert type(a) is type(b) and isinstance(a, tuple), (
        f"{name}: compute must return a NamedTuple, got {type(a).__name__}")
    for x, y in zip(_leaves(a), _leaves(b), strict=True):
        assert np.array_equal(x, y, equal_nan=x.dtype.kind in "fc"), (
            f"{name}: compute differs between two runs")
    fig = panel.draw(a)
    _check_axes(fig, name)
    plt.close("all")


@pytest.mark.parametrize("name", NAMES)
def test_every_control_extreme_gives_a_figure_or_a_deliberate_panel_error(name):
    panel = PANELS[name]
    for values in panel.extremes():
        try:
            fig = panel.draw(panel.compute(**values))
        except PanelError as exc:
            assert str(exc).strip(), f"{name} at {values}: an empty PanelError"
        else:
            _check_axes(fig, f"{name} at {values}")
        plt.close("all")


def test_each_notebook_live_panel_is_a_registered_panel():
    used = set()
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(nb.read_text())["cells"]:
            src = "".join(cell["source"])
            if cell["cell_type"] == "code" and "widgets.live(" in src:
                used.add(nb.name)
                assert ".PANEL" in src, (
                    f"{nb.name}: widgets.live must be given a panel from ntklib.panels")
    assert used, "no notebook builds a live panel"
