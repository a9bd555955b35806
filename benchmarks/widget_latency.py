"""Widget latency: from a new control value to a rendered figure, inside the kernel.

For every panel of the notebooks (`ntklib.panels.all_panels()`) and every slider of it, one
case: the values one step either side of the default and both ends of the slider. Each is
drawn with `panel.draw(panel.compute(**values))` and rendered to PNG by `plots.png` (what
`widgets.live` sends to the browser). Reported per case, after one draw at the defaults (the
static figure a notebook shows above its panel):

- `first_use_max_s`: the first use of each value as a learner who pauses meets it: the
  panel's prefetcher (as `widgets.live` runs it after a move) has computed the neighbours
  ahead (`prefetch_s`: how long that took);
- `cold_first_use_max_s`: in a fresh process, after the same static figure, nothing ahead: a
  value that needs a compilation pays it here;
- `median_s`, `max_s`: later updates to values already used (the panel's cache).

    .venv/bin/python benchmarks/widget_latency.py            # all cases
    .venv/bin/python benchmarks/widget_latency.py --quick    # smoke: 2 repeats, no cold runs
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, NamedTuple

import matplotlib

matplotlib.use("Agg")
import jax
import matplotlib.pyplot as plt

jax.config.update("jax_enable_x64", True)  # as in the notebooks


class Case(NamedTuple):
    """One slider of one panel: `panel` at its defaults with `control` set to each value."""

    notebook: str
    name: str
    panel: Any
    control: str
    values: list[Any]


def _cases() -> list[Case]:
    """Every slider of every panel: its default's neighbours, then its two ends."""
    from ntklib import panels
    from ntklib.panels import Choice

    cases = []
    for name, panel in sorted(panels.all_panels().items()):
        notebook = panel.compute.__module__.rsplit(".", 1)[-1]
        for control, spec in panel.controls.items():
            if not isinstance(spec, Choice):
                continue
            i, options = spec.options.index(spec.value), list(spec.options)
            picks = [options[j] for j in (i + 1, i - 1, len(options) - 1, 0)
                     if 0 <= j < len(options)]
            values = [v for v in dict.fromkeys(picks) if v != spec.value]
            if values:
                cases.append(Case(notebook, name, panel, control, values))
    return cases


def _render(fig) -> None:
    """To PNG as `widgets.live` does (`plots.png`: one renderer per figure size)."""
    from ntklib import plots

    plots.png(fig)
    plt.close(fig)


def _draw(case: Case, value: Any) -> float:
    panel = case.panel
    t0 = time.perf_counter()
    _render(panel.draw(panel.compute(**panel.values(**{case.control: value}))))
    return time.perf_counter() - t0


def measure(case: Case, repeats: int) -> dict[str, Any]:
    """First use of each value after the prefetcher has computed it ahead, then the
    median/max of `repeats` further rounds."""
    from ntklib.widgets import Prefetcher

    panel = case.panel
    _render(panel.figure())  # the static figure above the panel (defaults)
    prefetcher, ahead, first, later = Prefetcher(panel), 0.0, [], []
    previous = panel.values()
    for value in case.values:
        t0 = time.perf_counter()
        prefetcher.ahead(previous)  # what live() queues after the learner's last move
        for future in list(prefetcher.futures.values()):
            future.result()
        ahead += time.perf_counter() - t0
        first.append(_draw(case, value))
        previous = panel.values(**{case.control: value})
    prefetcher.stop()
    for _ in range(repeats):
        later += [_draw(case, value) for value in case.values]
    return {"notebook": case.notebook, "widget": case.name, "control": case.control,
            "values": [str(v) for v in case.values], "first_use_max_s": max(first),
            "prefetch_s": ahead, "median_s": statistics.median(later), "max_s": max(later)}


def cold_child(index: int) -> dict[str, Any]:
    """In this (fresh) process: one draw at the defaults (the notebook's static figure),
    then the first use of each value of case `index`, without warm-up."""
    case = _cases()[index]
    t0 = time.perf_counter()
    _render(case.panel.figure())
    static = time.perf_counter() - t0
    cold = {str(value): _draw(case, value) for value in case.values}
    return {"static_s": static, "cold_first_use_s": cold,
            "cold_first_use_max_s": max(cold.values(), default=None)}


def measure_cold(index: int, timeout: float = 600) -> dict[str, Any]:
    """`cold_child(index)` in a fresh process (imports excluded from every time)."""
    cmd = [sys.executable, __file__, "--cold-child", str(index)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"cold_error": f"no result after {timeout:.0f} s"}
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        return {"cold_error": f"child failed: {p.stderr.strip()[-300:]}"}
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 repeats")
    parser.add_argument("--json", type=Path, help="write the records to this file")
    parser.add_argument("--only", help="cases whose 'notebook:widget:control' contains this")
    parser.add_argument("--cold-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cold_child is not None:
        print(json.dumps(cold_child(args.cold_child)))
        return []
    records = []
    for i, case in enumerate(_cases()):
        if args.only and args.only not in f"{case.notebook}:{case.name}:{case.control}":
            continue
        cold = {} if args.quick else measure_cold(i)  # first: it is a fresh process anyway
        records.append({**measure(case, 2 if args.quick else 5), **cold})
    for r in records:
        cold = r.get("cold_first_use_max_s")
        print(f"{r['notebook']:<28} {r['widget']:<24} {r['control']:<12} "
              f"first use <= {r['first_use_max_s'] * 1e3:6.0f} ms (cold "
              f"{'-' if cold is None else f'{cold * 1e3:.0f}'} ms)   "
              f"median {r['median_s'] * 1e3:5.0f} ms   max {r['max_s'] * 1e3:5.0f} ms")
    if args.json:
        args.json.write_text(json.dumps(records, indent=1))
    return records


if __name__ == "__main__":
    main(sys.argv[1:])
