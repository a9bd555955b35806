"""Batch execution never waits on a widget cell (issue 16, part 1).

nbclient used to miss, now and then, the `execute_reply` of a cell that draws into an ipywidgets
`Output` (every `widgets.live` panel does) and sat idle until the cell timeout ran out, then went
on without an error (see tools/run_notebooks.py). So the symptom to catch is time, not an error:
every widget cell is run several times through the runner that `make notebooks` uses, each with
a short timeout, and each must finish well inside it. About one such cell in a hundred stalled
with plain nbclient here, so one run of the 35 widget cells below (7 notebooks x 5, one kernel,
about 30 s) catches a relapse of that rate about one time in three; a worse one at once.
"""

from __future__ import annotations

import importlib.util
import re
import time
import warnings
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("run_notebooks", ROOT / "tools" / "run_notebooks.py")
run_notebooks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_notebooks)

#: A widget cell: any code cell that builds a panel.
LIVE = re.compile(r"\bwidgets\.live\(")
#: Per-cell timeout of a widget cell, and the most one may take (a stall lasts the timeout).
LIVE_TIMEOUT, LIVE_BOUND = 20, 10.0
#: Each widget cell runs this many times (a fresh panel each time).
RUNS = 5
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: The cell that imports the panels (`from ntklib import ...`): all a widget cell needs.
IMPORT = re.compile(r"^\s*(from|import)\s+ntklib\b", re.M)


def _is_live(cell) -> bool:
    return cell.cell_type == "code" and bool(LIVE.search(cell.source))


def widget_notebook(paths: list[Path]):
    """One notebook holding, for each of `paths`, what its widget cells need (its code cells
    before the first widget cell that import ntklib: the notebooks wire a panel in one cell
    from imported names, e.g. `widgets.live(nb01.PANEL)`), then every widget cell RUNS
    times. One kernel for all: the imports are paid once."""
    cells = []
    for path in paths:
        with warnings.catch_warnings():  # a cell id missing is no concern here
            warnings.simplefilter("ignore")
            nb = nbformat.reads(path.read_text(), as_version=4)
        live = [c for c in nb.cells if _is_live(c)]
        assert live, f"{path.name} has no widget cell (no call of widgets.live)"
        first = nb.cells.index(live[0])
        setup = [c for c in nb.cells[:first] if c.cell_type == "code" and IMPORT.search(c.source)]
        cells += [new_code_cell(c.source, metadata={"from": path.name})
                  for c in setup + [c for c in live for _ in range(RUNS)]]
    return new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3",
                                                              "display_name": "Python 3"}})


def _execute(nb, folder: Path) -> list[tuple[str, float]]:
    """Run `nb` with the project's runner; (notebook, seconds) of every widget cell."""
    times, started = [], {}

    def on_start(cell, cell_index, **_):
        started[cell_index] = time.perf_counter()

    def on_end(cell, cell_index, **_):
        if _is_live(cell):
            times.append((cell.metadata["from"], time.perf_counter() - started[cell_index]))

    client = run_notebooks.client(
        nb, folder, timeout=300, on_cell_execute=on_start, on_cell_executed=on_end,
        timeout_func=lambda cell: LIVE_TIMEOUT if _is_live(cell) else 300)
    client.execute()
    return times


@pytest.fixture(autouse=True)
def _kernel_env(monkeypatch):
    # the kernel inherits the environment: give it the inline backend a learner gets
    monkeypatch.delenv("MPLBACKEND", raising=False)


def test_widget_cells_never_wait():
    nb = widget_notebook(NOTEBOOKS)
    expected = sum(_is_live(c) for c in nb.cells)
    times = _execute(nb, ROOT / "notebooks")
    assert len(times) == expected, f"ran {len(times)} widget cells, expected {expected}"
    slow = [(name, round(s, 1)) for name, s in times if s >= LIVE_BOUND]
    assert not slow, (f"widget cells that waited (notebook, seconds) with a {LIVE_TIMEOUT} s "
                      f"timeout: {slow}; a lost execute_reply is back (tools/run_notebooks.py)")


def test_make_notebooks_uses_the_runner():
    recipe = re.search(r"^notebooks:.*?(?=^\S|\Z)", (ROOT / "Makefile").read_text(), re.S | re.M)
    assert recipe, "no notebooks target in the Makefile"
    assert "tools/run_notebooks.py" in recipe.group(0)
    assert "nbconvert" not in recipe.group(0), "nbconvert --execute stalls on widget cells"


def test_sliced_poll_returns_a_message_that_a_poll_missed():
    # a channel whose poll never wakes up, only finds the message when its timeout ends
    import asyncio

    calls = []

    async def get_msg(timeout=None):
        calls.append(timeout)
        if len(calls) < 3:
            raise run_notebooks.Empty
        return {"msg": "reply"}

    t0 = time.perf_counter()
    msg = asyncio.run(run_notebooks._sliced(get_msg)(timeout=600))
    assert msg == {"msg": "reply"} and time.perf_counter() - t0 < 1
    assert all(0 <= t <= run_notebooks.POLL_SLICE for t in calls), calls

    async def never(timeout=None):
        await asyncio.sleep(timeout)
        raise run_notebooks.Empty

    with pytest.raises(run_notebooks.Empty):
        asyncio.run(run_notebooks._sliced(never)(timeout=1.2))
