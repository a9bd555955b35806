"""Widget latency and notebook execution time (parts 5-6 of `make bench`), in the learners' .venv.

5. every widget case registered in `widget_latency._cases()` (by the notebook issues): new
   control value -> figure rendered to PNG, median over repeated updates; first use
   separately, cold (fresh process, nothing ahead) and after the panel's prefetch;
6. every notebooks/*.ipynb executed top to bottom in a fresh kernel (nbclient), then the
   whole series under strict nbval (`pytest notebooks`, the project's nbval options), timed.

    .venv/bin/python benchmarks/notebook_bench.py --out build/bench/notebooks.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def widget_records(repeats: int) -> list[dict[str, Any]]:
    import widget_latency

    records = []
    for i, case in enumerate(widget_latency._cases()):
        try:  # cold first use in a fresh process, then as a learner meets it (prefetch)
            cold = widget_latency.measure_cold(i)
            r = {**widget_latency.measure(case, repeats), **cold}
        except Exception as exc:  # a broken widget is a result, not a crash of the bench
            r = {"notebook": case.notebook, "widget": case.name, "control": case.control,
                 "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
        records.append({"part": "widget", "name": f"{case.notebook}:{case.name}",
                        "load": [round(x, 2) for x in os.getloadavg()], **r})
    return records


def execute_one(path: Path, timeout: int) -> dict[str, Any]:
    """Execute one notebook top to bottom in a fresh kernel (nbclient, through
    tools/run_notebooks.py: never a stall on a lost reply); seconds and error."""
    import nbformat

    sys.path.insert(0, str(ROOT / "tools"))
    import run_notebooks

    nb = nbformat.read(path, as_version=4)
    t0 = time.perf_counter()
    error = None
    try:
        run_notebooks.client(nb, path.parent, timeout=timeout).execute()
    except Exception as exc:
        error = f"{type(exc).__name__}: {str(exc)[-300:]}"
    return {"part": "notebook", "name": path.name, "seconds": time.perf_counter() - t0,
            "cells": len(nb.cells), "error": error}


def notebook_records(notebooks: list[Path], timeout: int) -> list[dict[str, Any]]:
    """Each notebook in its own process (a hung kernel cannot stall the others), timed."""
    records = []
    for path in notebooks:
        print(f"executing {path.name} (fresh kernel)", flush=True)
        cmd = [sys.executable, __file__, "--one", str(path), "--timeout", str(timeout)]
        t0 = time.perf_counter()
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=3 * timeout,
                               check=False)
            lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
            rec = json.loads(lines[-1]) if lines else {
                "part": "notebook", "name": path.name, "seconds": None,
                "error": f"runner failed: {p.stderr.strip()[-300:]}"}
        except subprocess.TimeoutExpired:
            rec = {"part": "notebook", "name": path.name, "seconds": None,
                   "error": f"no result after {3 * timeout} s"}
        rec["wall_s"] = time.perf_counter() - t0
        rec["load"] = [round(x, 2) for x in os.getloadavg()]
        records.append(rec)
    return records


def nbval_series(notebooks: list[Path], timeout: int) -> dict[str, Any]:
    """The whole series under strict nbval, as `make test` runs it (pyproject's options)."""
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
           *(str(p.relative_to(ROOT)) for p in notebooks)]
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                           check=False)
        rc, tail = p.returncode, p.stdout.strip().splitlines()[-1:] or [""]
    except subprocess.TimeoutExpired:
        rc, tail = None, [f"timed out after {timeout} s"]
    return {"part": "nbval_series", "name": "notebooks", "notebooks": len(notebooks),
            "seconds": time.perf_counter() - t0, "returncode": rc, "summary": tail[0],
            "load": [round(x, 2) for x in os.getloadavg()]}


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the records here (JSON)")
    parser.add_argument("--repeats", type=int, default=5, help="widget update rounds")
    parser.add_argument("--no-notebooks", action="store_true")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=int, default=300,
                        help="seconds per cell (nbclient), and per notebook for nbval x 3")
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(execute_one(args.one, args.timeout)))
        return []
    records = widget_records(args.repeats)
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not args.no_notebooks and notebooks:
        records += notebook_records(notebooks, args.timeout)
        records.append(nbval_series(notebooks, 3 * args.timeout))
    for r in records:
        print(json.dumps(r, default=str)[:300], flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"notebooks_present": [p.name for p in notebooks],
                                        "records": records}, indent=1, default=str))
    return records


if __name__ == "__main__":
    main(sys.argv[1:])
