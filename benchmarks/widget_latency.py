"""Widget latency: from a new control value to a rendered figure, inside the kernel.

For each registered widget (`CASES`), calls its `draw_*` function from ntklib.widgets with a
sequence of new values of one control, renders the returned figure to PNG (what the inline
backend sends to the browser), and reports the median and max seconds per update, after
the first use of each shape (which may compile) reported separately.

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
    return cases


def _render(fig) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)


def measure(case: Case, repeats: int) -> dict[str, Any]:
    """First-use seconds per value, then the median/max of `repeats` further rounds."""
    first, later = [], []
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
