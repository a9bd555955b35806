"""Does each notebook fit Binder's limits? Peak memory and one-core times (issue 16, part 3).

Binder gives a learner about 1-2 GB of memory and a share of one core. For every notebook, in
a fresh kernel pinned to ONE core (`taskset -c 0`; the kernel inherits the pinning):
  1. the notebook runs top to bottom (tools/run_notebooks.py): wall time, and the kernel's
     peak resident memory (VmHWM of /proc/<kernel>/status) when it ends;
  2. then, in the same kernel, every widget panel is used as a learner would: each control
     (slider, dropdown, checkbox, ... found generically among the kernel's ipywidgets
     instances: any box that holds an `Output` next to value controls) is moved to a
     neighbouring value, back, to both ends of its range and back, with a pause between moves
     (--think, a learner's reading time, during which a panel may compute ahead). Each move is
     timed from the new value until the panel has its new figure (PNG) — a move to a value
     the control has not shown before as "first use", a move back to one it has shown as
     "after first use"; and the peak resident memory again at the end.
Targets (issue 16): peak memory under 1.5 GB per notebook; an update after first use under
1 s on one core.

    .venv/bin/python benchmarks/binder_limits.py                  # every notebook
    .venv/bin/python benchmarks/binder_limits.py 03_one_hidden_layer_network.ipynb
    .venv/bin/python benchmarks/binder_limits.py --cores 0,1 --out build/binder_limits.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

MEMORY_TARGET_GB, LATENCY_TARGET_S = 1.5, 1.0

# Runs inside the kernel after the notebook: the peak resident memory so far, in bytes.
PEAK = """
def _binder_limits_peak():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
print("BINDER_LIMITS", __import__("json").dumps({"peak_rss": _binder_limits_peak()}))
"""

# Runs inside the kernel: every panel's controls moved, each move timed until its figure.
WIDGET_PASS = r"""
import json as _json
import time as _time

import ipywidgets as _w
from ipywidgets.widgets import widget as _widget_module


def _binder_limits_widgets(think):
    ip = get_ipython()
    published = []
    publish = ip.display_pub.publish

    def counting(data, *args, **kwargs):
        if "image/png" in data:
            published.append(_time.perf_counter())
        return publish(data, *args, **kwargs)

    ip.display_pub.publish = counting
    instances = getattr(_widget_module, "_instances", None) or _w.Widget.widgets
    live = [x for x in list(instances.values()) if getattr(x, "comm", None) is not None]

    def descendants(box):
        for child in getattr(box, "children", ()):
            yield child
            yield from descendants(child)

    panels = [b for b in live if isinstance(b, _w.Box)
              and any(isinstance(c, _w.Output) for c in b.children)]
    records = []
    for p, panel in enumerate(panels):
        controls = [c for c in descendants(panel) if isinstance(c, _w.ValueWidget)
                    and not isinstance(c, (_w.Output, _w.Label, _w.HTML, _w.HTMLMath))
                    and not getattr(c, "disabled", False)]
        for control in controls:
            start = control.value
            if hasattr(control, "options") and len(control.options) > 1:
                values = [o[1] if isinstance(o, tuple) else o for o in control.options]
                i = values.index(start) if start in values else 0
                near = values[i + 1] if i + 1 < len(values) else values[i - 1]
                targets = [near, start, values[0], values[-1], start]
            elif isinstance(control.value, bool):
                targets = [not start, start]
            elif hasattr(control, "min") and hasattr(control, "step"):
                step = control.step or (control.max - control.min) / 10
                near = start + step if start + step <= control.max else start - step
                targets = [near, start, control.min, control.max, start]
            else:
                continue
            moves, seen = [], [start]
            for target in targets:
                if target == control.value:
                    continue
                revisit = target in seen
                seen.append(target)
                before = len(published)
                t0 = _time.perf_counter()
                error = None
                try:
                    control.value = target
                except Exception as exc:  # a failing update is a result
                    error = f"{type(exc).__name__}: {exc}"[:200]
                figure = published[-1] - t0 if len(published) > before else None
                moves.append({"to": repr(target)[:40], "seconds": _time.perf_counter() - t0,
                              "figure_seconds": figure, "error": error, "revisit": revisit})
                _time.sleep(think)
            records.append({"panel": p, "control": control.description or type(control).__name__,
                            "kind": type(control).__name__, "moves": moves})
    ip.display_pub.publish = publish
    return records


print("BINDER_LIMITS", _json.dumps({"widgets": _binder_limits_widgets(THINK)}))
"""


def _kernel_json(cell) -> dict[str, Any]:
    for out in cell.get("outputs", []):
        for line in out.get("text", "").splitlines():
            if line.startswith("BINDER_LIMITS "):
                return json.loads(line.removeprefix("BINDER_LIMITS "))
    raise RuntimeError(f"no measurement printed: {cell.get('outputs')}")


def measure_one(path: Path, think: float, timeout: int) -> dict[str, Any]:
    """Run in the pinned process: the notebook, then its widgets, in one fresh kernel."""
    import nbformat
    import run_notebooks
    from nbformat.v4 import new_code_cell

    nb = nbformat.read(path, as_version=4)
    client = run_notebooks.client(nb, path.parent, timeout=timeout)
    record: dict[str, Any] = {"notebook": path.name, "error": None}
    with client.setup_kernel():
        t0 = time.perf_counter()
        try:
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
        except Exception as exc:
            record["error"] = f"{type(exc).__name__}: {str(exc)[-300:]}"
        record["top_to_bottom_s"] = time.perf_counter() - t0
        extra = [new_code_cell(PEAK),
                 new_code_cell(f"THINK = {think!r}\n" + WIDGET_PASS), new_code_cell(PEAK)]
        nb.cells += extra
        base = len(nb.cells) - len(extra)
        for i, cell in enumerate(extra):
            client.execute_cell(cell, base + i)
        record["peak_rss_run"] = _kernel_json(extra[0])["peak_rss"]
        record["widgets"] = _kernel_json(extra[1])["widgets"]
        record["peak_rss_widgets"] = _kernel_json(extra[2])["peak_rss"]
    return record


def summarize(r: dict[str, Any]) -> dict[str, Any]:
    first, after, errors = [], [], 0
    for control in r.get("widgets", []):
        for m in control["moves"]:  # a value shown before is "after first use"
            t = m["figure_seconds"] if m["figure_seconds"] is not None else m["seconds"]
            (after if m.get("revisit") else first).append(t)
        errors += sum(m["error"] is not None for m in control["moves"])
    return {"notebook": r["notebook"], "top_to_bottom_s": round(r["top_to_bottom_s"], 1),
            "peak_run_gb": round(r["peak_rss_run"] / 1e9, 2),
            "peak_widgets_gb": round(r["peak_rss_widgets"] / 1e9, 2),
            "controls": len(r.get("widgets", [])),
            "first_use_max_s": round(max(first), 2) if first else None,
            "after_median_s": round(statistics.median(after), 2) if after else None,
            "after_max_s": round(max(after), 2) if after else None,
            "move_errors": errors, "error": r["error"]}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*")
    parser.add_argument("--cores", default="0", help="taskset CPU list (default: one core)")
    parser.add_argument("--think", type=float, default=1.0, help="seconds between moves")
    parser.add_argument("--timeout", type=int, default=1200, help="seconds per cell")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "binder_limits.json")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print("RESULT " + json.dumps(measure_one(args.one, args.think, args.timeout)))
        return 0
    names = args.notebooks or sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    pin = ["taskset", "-c", args.cores] if shutil.which("taskset") else []
    if not pin:
        print("taskset not found: running unpinned", file=sys.stderr)
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    records = []
    for name in names:
        print(f"{name}: running on cores {args.cores} ...", flush=True)
        cmd = [*pin, sys.executable, __file__, "--one", str(ROOT / "notebooks" / name),
               "--think", str(args.think), "--timeout", str(args.timeout)]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
        if not lines:
            print(done.stderr[-2000:], file=sys.stderr)
            records.append({"notebook": name, "error": f"runner failed ({done.returncode})"})
            continue
        record = json.loads(lines[-1].removeprefix("RESULT "))
        records.append(record)
        print("  " + json.dumps(summarize(record)), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"cores": args.cores, "think_s": args.think,
                                    "records": records}, indent=1))
    done_ok = [r for r in records if "peak_rss_run" in r]
    series = sum(r["top_to_bottom_s"] for r in done_ok)
    print(f"\nwhole series top to bottom on cores {args.cores}: {series:.0f} s "
          f"({len(done_ok)} notebooks, each in a fresh kernel)")
    print("| notebook | top to bottom (s) | peak RSS run / after widgets (GB) | controls | "
          "first use max (s) | after first use median / max (s) | errors |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in done_ok:
        s = summarize(r)
        print(f"| {s['notebook']} | {s['top_to_bottom_s']} | {s['peak_run_gb']} / "
              f"{s['peak_widgets_gb']} | {s['controls']} | {s['first_use_max_s']} | "
              f"{s['after_median_s']} / {s['after_max_s']} | "
              f"{s['move_errors'] + (1 if s['error'] else 0)} |")
    misses = [r["notebook"] for r in done_ok
              if max(r["peak_rss_run"], r["peak_rss_widgets"]) > MEMORY_TARGET_GB * 1e9
              or (summarize(r)["after_max_s"] or 0) > LATENCY_TARGET_S]
    print(f"targets (< {MEMORY_TARGET_GB} GB, < {LATENCY_TARGET_S} s after first use) missed by: "
          + (", ".join(misses) or "none"))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
