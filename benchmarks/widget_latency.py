"""Widget latency: from a new control value to a rendered figure, inside the kernel.

For each registered widget (`_cases()`), calls its `draw_*` function from ntklib.widgets
with a sequence of new values of one control, renders the returned figure to PNG (what the
inline backend sends to the browser), and reports the median and max seconds per update
after the first use of each value, and the first use of each value twice:

- as a learner meets it (`first_use_max_s`): after one draw at the draw function's
  defaults (the static figure a notebook shows above its panel), the panel's registered warm-up
  (`widgets.WARM_UPS`) is started the way `widgets.live` starts it, in a background thread,
  and has finished (its duration: `warm_up_s`);
- cold (`cold_first_use_max_s`): in a fresh process, after the same static figure, without
  the warm-up: a new width pays its jax compilations here.

    .venv/bin/python benchmarks/widget_latency.py            # all cases
    .venv/bin/python benchmarks/widget_latency.py --quick    # smoke: 2 repeats, no cold runs
"""

from __future__ import annotations

import argparse
import inspect
import io
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import matplotlib

matplotlib.use("Agg")
import jax
import matplotlib.pyplot as plt

jax.config.update("jax_enable_x64", True)  # as in the notebooks


class Case(NamedTuple):
    """One widget: `draw(**fixed, control=value)` for each value in `values`."""

    notebook: str
    name: str
    draw: Callable[..., Any]
    fixed: dict[str, Any]
    control: str
    values: list[Any]


def _cases() -> list[Case]:
    """The widgets of the notebooks; each notebook issue registers its own here."""
    cases: list[Case] = []
    # notebooks 01-02: learning rate of descent in feature space; kernel ridge p, c, lambda
    from ntklib import widgets

    cases += [
        Case("01_classic_kernels", "draw_learning_rate", widgets.draw_learning_rate, {"p": 5},
             "eta_multiple", [0.5, 0.99, 1.01, 1.5]),
        Case("02_kernel_trick", "draw_kernel_ridge", widgets.draw_kernel_ridge,
             {"c": 1.0, "lam": 1e-4}, "p", [3, 5, 8, 15]),
        Case("02_kernel_trick", "draw_kernel_ridge", widgets.draw_kernel_ridge,
             {"p": 5, "c": 1.0}, "lam", [0.0, 1e-6, 1e-2, 100.0]),
    ]
    # notebooks 03-04: width m of the network; f against f_lin with m and eta live. A new
    # width compiles once (first use); a visited width, or eta at a visited width, does not.
    cases += [
        Case("03_one_hidden_layer_network", "draw_width_network", widgets.draw_width_network,
             {}, "m", [64, 1024, 4096]),
        Case("04_taylor_linearization", "draw_lazy_training", widgets.draw_lazy_training,
             {"eta_ratio": 0.5}, "m", [64, 1024, 4096]),
        Case("04_taylor_linearization", "draw_lazy_training", widgets.draw_lazy_training,
             {"m": 4096}, "eta_ratio", [0.3, 0.6, 0.9, 1.5]),
    ]
    # notebooks 05-06: width m against the infinite-width NTK; the gradient-flow panel (width,
    # eta as a multiple of 2/lambda_max, steps shown). First use of a width compiles; the
    # first use of an eta trains network (1000 steps, float32) + kernel models; repeats of a
    # visited value are cached and time the drawing only.
    cases += [
        Case("05_neural_tangent_kernel", "draw_ntk_width", widgets.draw_ntk_width,
             {}, "m", [64, 1024, 4096, 16384]),
        Case("05_neural_tangent_kernel", "draw_ntk_width", widgets.draw_ntk_width,
             {"m": 4096}, "show_Ka", [True, False]),
        Case("06_gradient_flow", "draw_gradient_flow", widgets.draw_gradient_flow,
             {"eta_multiple": 0.5}, "m", [256, 1024, 4096]),
        Case("06_gradient_flow", "draw_gradient_flow", widgets.draw_gradient_flow,
             {"m": 4096}, "eta_multiple", [0.3, 0.9, 1.5, 2.5]),
        Case("06_gradient_flow", "draw_gradient_flow", widgets.draw_gradient_flow,
             {"m": 4096, "eta_multiple": 1.5}, "steps", [100, 500, 1000]),
        # notebook 07
        Case("07_ntk_in_practice", "draw_lr_phases", widgets.draw_lr_phases,
             {"eta_multiple": 1.5}, "m", [64, 1024, 4096]),
        Case("07_ntk_in_practice", "draw_lr_phases", widgets.draw_lr_phases,
             {"m": 4096}, "eta_multiple", [0.3, 0.9, 1.5, 2.5]),
    ]
    return cases


def _render(fig) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)


def measure(case: Case, repeats: int) -> dict[str, Any]:
    """First-use seconds per value after the panel's warm-up, then the median/max of
    `repeats` further rounds."""
    first, later = [], []
    # as `widgets.live` does when it builds the panel: the registered warm-up (if any) fills
    # the caches in a background thread; first use is timed once it has finished
    from ntklib import widgets

    _render(case.draw(**case.fixed))  # the static figure above the panel (defaults)
    t0 = time.perf_counter()
    thread = widgets.warm_up(case.draw)
    if thread is not None:
        thread.join()
    warm = time.perf_counter() - t0 if thread is not None else None
    for value in case.values:
        t0 = time.perf_counter()
        _render(case.draw(**case.fixed, **{case.control: value}))
        first.append(time.perf_counter() - t0)
    for _ in range(repeats):
        for value in case.values:
            t0 = time.perf_counter()
            _render(case.draw(**case.fixed, **{case.control: value}))
            later.append(time.perf_counter() - t0)
    return {"notebook": case.notebook, "widget": case.name, "control": case.control,
            "values": [str(v) for v in case.values], "fixed": {k: str(v) for k, v in
                                                                 case.fixed.items()},
            "first_use_max_s": max(first), "warm_up_s": warm,
            "median_s": statistics.median(later), "max_s": max(later)}


def _defaults(draw: Callable[..., Any]) -> dict[str, Any]:
    return {k: p.default for k, p in inspect.signature(draw).parameters.items()
            if p.default is not inspect.Parameter.empty}


def cold_child(index: int) -> dict[str, Any]:
    """In this (fresh) process: one draw at the defaults (the notebook's static figure),
    then the first use of each value of case `index`, without warm-up."""
    case = _cases()[index]
    t0 = time.perf_counter()
    _render(case.draw(**case.fixed))
    static = time.perf_counter() - t0
    default = {**_defaults(case.draw), **case.fixed}.get(case.control)
    cold = {}
    for value in case.values:
        if value == default:  # drawn already: not a first use
            continue
        t0 = time.perf_counter()
        _render(case.draw(**case.fixed, **{case.control: value}))
        cold[str(value)] = time.perf_counter() - t0
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
