"""Widget latency: from a new control value to a rendered figure, inside the kernel.

For each registered widget (`CASES`), calls its `draw_*` function from ntklib.widgets with a
sequence of new values of one control, renders the returned figure to PNG (what the inline
backend sends to the browser), and reports the median and max seconds per update, after
the first use of each shape (which may compile) reported separately. A panel's registered
warm-up (`widgets.WARM_UPS`) runs first, as `widgets.live` starts it when the panel is built.

    .venv/bin/python benchmarks/widget_latency.py            # all cases
    .venv/bin/python benchmarks/widget_latency.py --quick    # smoke: tiny sizes, 2 repeats
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
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
    ]
    return cases


def _render(fig) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)


def measure(case: Case, repeats: int) -> dict[str, Any]:
    """First-use seconds per value, then the median/max of `repeats` further rounds."""
    first, later = [], []
    # as the panel does when it is built: the registered warm-up (if any) fills the caches
    # in the background; first use is timed once it has finished
    from ntklib import widgets

    thread = widgets.warm_up(case.draw)
    if thread is not None:
        thread.join()
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
            "first_use_max_s": max(first), "median_s": statistics.median(later),
            "max_s": max(later)}


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 repeats")
    parser.add_argument("--json", type=Path, help="write the records to this file")
    args = parser.parse_args(argv)
    records = [measure(c, 2 if args.quick else 5) for c in _cases()]
    for r in records:
        print(f"{r['notebook']:<28} {r['widget']:<24} {r['control']:<6} "
              f"first use <= {r['first_use_max_s'] * 1e3:7.0f} ms   "
              f"median {r['median_s'] * 1e3:6.0f} ms   max {r['max_s'] * 1e3:6.0f} ms")
    if args.json:
        args.json.write_text(json.dumps(records, indent=1))
    return records


if __name__ == "__main__":
    main(sys.argv[1:])
