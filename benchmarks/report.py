"""Merge the bench records into benchmarks/results.json and a readable benchmarks/RESULTS.md.

    python benchmarks/report.py build/bench/ntk.jsonl build/bench/ntk-learners.jsonl \
        --notebooks build/bench/notebooks.json

Records carry their stack (`run.stack`): "reference" (.venv-bench: jax 0.4.25 with
neural-tangents; every ratio comes from these) and "learners" (.venv, the project's current
jax: ntklib alone), shown side by side in one table.

Standard library only (runs in either environment). Ratios are `reference / ntklib` for
time and memory (above 1: ntklib is faster / smaller).
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET = {"activation": "relu", "n": 1024, "m": 4096, "d": 784, "dtype": "float32"}
LIMIT_ROUTES = ("gram_matmul", "memory_pass")  # part 2's measures of the limit, not kernels


def stack(r: dict) -> str:
    """The environment a record was measured in (records before stacks: the reference)."""
    return r.get("run", {}).get("stack", "reference")


def measurement_key(r: dict) -> tuple:
    """What a record measures (not when): two records with one key are two runs of it."""
    return (r.get("part"), r.get("name"), r.get("activation"), r.get("case"),
            r.get("control"), json.dumps(r.get("sizes"), sort_keys=True), r.get("dtype"),
            r.get("when", "start"), stack(r))


def latest(records: list[dict]) -> list[dict]:
    """One record per measurement: the latest run's (records are in the order written, and
    a rerun of one part, or a later staged run, comes later), so the tables show each
    measurement once. "Not run (deadline)" records of a cell measured later are dropped."""
    keep: dict[tuple, dict] = {}
    for r in records:
        keep.pop(measurement_key(r), None)  # re-insert: the order follows the latest run
        keep[measurement_key(r)] = r
    measured = {(r.get("activation"), json.dumps(r.get("sizes"), sort_keys=True), r.get("dtype"))
                for r in keep.values() if r.get("part") == "empirical_ntk"
                and r.get("name") == "ntklib" and stack(r) == "reference"}
    return [r for r in keep.values() if not (
        r.get("name") == "deadline" and (r["sizes"].get("activation"), json.dumps(
            {k: r["sizes"][k] for k in ("n", "m", "d")}, sort_keys=True),
            r["sizes"].get("dtype")) in measured)]


def load_records(ntk_paths: list[Path], nb_path: Path | None) -> tuple[list[dict], dict]:
    """Records of every JSON-lines file in order (then the notebooks' records), one per
    measurement (`latest`)."""
    records = [json.loads(line) for path in ntk_paths
               for line in path.read_text().splitlines() if line.strip()]
    nb = json.loads(nb_path.read_text()) if nb_path and nb_path.exists() else {}
    return latest(records + nb.get("records", [])), nb


def _ms(s: float | None) -> str:
    if s is None:
        return "-"
    return f"{s * 1e3:.1f} ms" if s < 10 else f"{s:.1f} s"


def _x(r: float | None) -> str:
    return "-" if r is None else f"{r:.2f}x" if r < 10 else f"{r:.0f}x"


def _rate(r: dict | None) -> str:
    return "-" if r is None else f"{r['gflops_per_s']:.0f}"


def _gib(b: float | None) -> str:
    return "-" if b is None else f"{b / 2**30:.2f} GiB" if b >= 2**28 else f"{b / 2**20:.0f} MiB"


def _cell_key(r: dict) -> tuple:
    s = r.get("sizes", {})
    return (r.get("activation"), s.get("n"), s.get("m"), s.get("d"), r.get("dtype"))


def best_rates(records: list[dict]) -> dict[str, float]:
    """Best measured matmul rate (flop/s) per dtype: the ceiling for lower bounds."""
    rates: dict[str, float] = {}
    for r in records:
        if r.get("part") == "ceiling" and r.get("name") == "matmul":
            rates[r["dtype"]] = max(rates.get(r["dtype"], 0.0), r["gflops_per_s"] * 1e9)
    return rates


def lower_bound_s(r: dict, rates: dict[str, float]) -> float | None:
    """Least time a Jacobian route can take: its J1 J2^T product alone, 2 n^2 P flops
    (P = m (d + 1)), at the best matmul rate measured in the run."""
    s = r.get("sizes", {})
    rate = rates.get(r.get("dtype"))
    if not rate or not all(k in s for k in ("n", "m", "d")):
        return None
    return 2 * s["n"] ** 2 * s["m"] * (s["d"] + 1) / rate


def ntk_table(records: list[dict]) -> tuple[list[str], dict]:
    rates = best_rates(records)
    cells: dict[tuple, dict[str, dict]] = {}
    for r in records:
        if r.get("part") == "empirical_ntk" and r.get("name") != "deadline":
            cells.setdefault(_cell_key(r), {})[r["name"]] = r
    for r in records:  # a later peak-memory run (--parts memory) replaces the in-run value
        if r.get("part") == "peak_memory" and r.get("peak_bytes") is not None:
            row = cells.get(_cell_key(r), {})
            if r["name"] in row:
                row[r["name"]] = {**row[r["name"]], "peak_bytes": r["peak_bytes"]}
    routes = ["jax_autodiff", "nt_jacobian_contraction", "nt_ntk_vector_products",
              "nt_structured_derivatives"]
    lines = ["| act | n | m | d | dtype | ntklib | x autodiff | x NT jacobian (default) | "
             "x NT ntk-vector | x NT structured | max rel diff | peak mem ntklib / NT default |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for key in sorted(cells, key=lambda k: (k[0], k[4], k[3], k[1], k[2])):
        row = cells[key]
        ours = row.get("ntklib", {})
        t0 = ours.get("median_s")
        cols = []
        for name in routes:
            r = row.get(name)
            if r is None:
                cols.append("n/a")
            elif "skipped" in r:
                lb = lower_bound_s(r, rates) if name != "nt_structured_derivatives" else None
                cols.append(f"skip (>= {_x(lb / t0)})" if lb and t0 else "skip")
            else:
                cols.append(_x(r["median_s"] / t0) if t0 else "-")
        diffs = [r.get("max_rel_diff") for r in row.values() if r.get("max_rel_diff")]
        mem = (f"{_gib(ours.get('peak_bytes'))} / "
               f"{_gib(row.get('nt_jacobian_contraction', {}).get('peak_bytes'))}"
               if ours.get("peak_bytes") is not None else "-")
        lines.append(f"| {key[0]} | {key[1]} | {key[2]} | {key[3]} | {key[4]} | "
                     f"{_ms(t0) if t0 else ours.get('skipped', '-')} | {' | '.join(cols)} | "
                     f"{max(diffs):.1e} | {mem} |" if diffs else
                     f"| {key[0]} | {key[1]} | {key[2]} | {key[3]} | {key[4]} | {_ms(t0)} | "
                     f"{' | '.join(cols)} | - | {mem} |")
    return lines, cells


def part_table(records: list[dict], part: str) -> list[str]:
    rows = [r for r in records if r.get("part") == part]
    groups: dict[tuple, dict[str, dict]] = {}
    for r in rows:
        key = (r.get("activation") or r.get("case"), json.dumps(r.get("sizes")), r["dtype"])
        groups.setdefault(key, {})[r["name"]] = r
    names = sorted({r["name"] for r in rows} - {"ntklib", *LIMIT_ROUTES})
    lines = ["| case | sizes | dtype | ntklib | " + " | ".join(f"x {n}" for n in names)
             + " | max rel diff |", "|---|---|---|---|" + "---|" * len(names) + "---|"]
    for (case, sizes, dtype), g in groups.items():
        t0 = g.get("ntklib", {}).get("median_s")
        cols = [_x(g[n]["median_s"] / t0) if n in g and t0 else "-" for n in names]
        diff = max((g[n].get("max_rel_diff") or 0) for n in g if n not in LIMIT_ROUTES)
        lines.append(f"| {case} | {sizes} | {dtype} | {_ms(t0)} | {' | '.join(cols)} | "
                     f"{diff:.1e} |")
    return lines


def limit_s(records: list[dict], act: str, n: int, d: int) -> float | None:
    """The least time of the infinite-width kernel: its Gram matrix X X^T (2 n^2 d flops) at
    the best float32 matmul rate of the run, plus one read and write of the (n, n) result
    (`memory_pass`, measured interleaved with the kernels)."""
    rate = best_rates(records).get("float32")
    mem = next((r["median_s"] for r in records if r.get("part") == "infinite_ntk"
                and r.get("name") == "memory_pass" and r.get("activation") == act
                and r.get("sizes") == {"n": n, "d": d} and "median_s" in r), None)
    return None if not rate or mem is None else 2 * n * n * d / rate + mem


def limit_table(records: list[dict]) -> list[str]:
    rows = {}
    for r in records:
        if r.get("part") == "infinite_ntk" and "median_s" in r:
            key = (r["activation"], r["sizes"]["n"], r["sizes"]["d"])
            rows.setdefault(key, {})[r["name"]] = r["median_s"]
    rate = best_rates(records).get("float32")
    lines = ["| act | n | d | ntklib | Gram X X^T (jitted, measured) | Gram at the ceiling | "
             "one memory pass | limit | ntklib reaches | measured Gram + pass / ntklib | "
             "x nt_kernel_fn_jit | best possible x nt_kernel_fn_jit (at the limit) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for (act, n, d), g in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][2], kv[0][1])):
        lim = limit_s(records, act, n, d)
        ours = g.get("ntklib")
        ceil = 2 * n * n * d / rate if rate else None
        nt_jit = g.get("nt_kernel_fn_jit")
        parts = (g["gram_matmul"] + g["memory_pass"]
                 if "gram_matmul" in g and "memory_pass" in g else None)
        lines.append(f"| {act} | {n} | {d} | {_ms(ours)} | {_ms(g.get('gram_matmul'))} | "
                     f"{_ms(ceil)} | {_ms(g.get('memory_pass'))} | {_ms(lim)} | "
                     f"{f'{lim / ours:.0%}' if lim and ours else '-'} | "
                     f"{f'{parts / ours:.0%}' if parts and ours else '-'} | "
                     f"{_x(nt_jit / ours) if nt_jit and ours else '-'} | "
                     f"{_x(nt_jit / lim) if nt_jit and lim else '-'} |")
    return lines


def stacks_table(records: list[dict]) -> list[str]:
    """Every ntklib time on both stacks, side by side."""
    def key(r: dict) -> tuple:
        return (r["part"], r.get("activation") or r.get("case"),
                json.dumps(r.get("sizes"), sort_keys=True), r.get("dtype"))

    both: dict[tuple, dict[str, dict]] = {}
    for r in records:
        if r.get("name") == "ntklib" and "median_s" in r and r.get("part") in (
                "empirical_ntk", "infinite_ntk", "flow"):
            both.setdefault(key(r), {})[stack(r)] = r
    jax_of = {stack(r): r["run"].get("jax") for r in records if "run" in r}
    ref_j, our_j = jax_of.get("reference", "?"), jax_of.get("learners", "?")
    lines = [f"| part | case | sizes | dtype | reference stack (jax {ref_j}) | "
             f"learners' stack (jax {our_j}) | learners / reference |",
             "|---|---|---|---|---|---|---|"]
    order = {"empirical_ntk": 0, "infinite_ntk": 1, "flow": 2}
    for k in sorted(both, key=lambda k: (order[k[0]], k[3] or "", k[1] or "", k[2])):
        a, b = both[k].get("reference"), both[k].get("learners")
        ratio = f"{b['median_s'] / a['median_s']:.2f}" if a and b else "-"
        lines.append(f"| {k[0]} | {k[1]} | {k[2]} | {k[3]} | "
                     f"{_ms(a['median_s']) if a else '-'} | "
                     f"{_ms(b['median_s']) if b else '-'} | {ratio} |")
    return lines


def targets(records: list[dict], cells: dict) -> list[str]:
    """One row per target: measured value, target, met?"""
    out = ["| target | measured | required | met |", "|---|---|---|---|"]

    def row(name: str, value: float | None, required: str, ok: bool | None,
            note: str = "") -> None:
        shown = "not measured" if value is None else (
            (">= " if "lower bound" in note else "") + _x(value)) if "x" in required else (
            f"{value:.0%}" if "%" in required else _ms(value))
        verdict = "-" if ok is None else "yes" if ok else "**no**"
        out.append(f"| {name} | {shown}{note} | {required} | {verdict} |")

    tkey = tuple(TARGET[k] for k in ("activation", "n", "m", "d", "dtype"))
    cell = cells.get(tkey, {})
    t0 = cell.get("ntklib", {}).get("median_s")

    def ratio(name: str) -> tuple[float | None, str]:
        r = cell.get(name)
        if not r or not t0:
            return None, ""
        if "skipped" in r:
            lb = lower_bound_s(r, best_rates(records))
            return (lb / t0 if lb else None), (
                f" as a lower bound: not run ({r['skipped']}); its J J^T product alone, "
                f"2 n^2 P flops, at the best matmul rate of the run takes {lb:.0f} s")
        return r["median_s"] / t0, ""

    nt_times = {k: v["median_s"] for k, v in cell.items()
                if k.startswith("nt_") and "median_s" in v}
    if t0 and nt_times:
        fastest = min(nt_times, key=nt_times.get)
        v = nt_times[fastest] / t0
        row(f"empirical NTK (target cell) vs NT fastest ({fastest})", v, ">= 1.2x", v >= 1.2)
    for name, label in (("nt_jacobian_contraction", "NT default (jacobian contraction)"),
                        ("jax_autodiff", "plain-jax autodiff")):
        v, note = ratio(name)
        row(f"empirical NTK (target cell) vs {label}", v, ">= 5x",
            None if v is None else v >= 5, note)
    mem_ours = cell.get("ntklib", {}).get("peak_bytes")
    mem_ref = cell.get("nt_jacobian_contraction", {})
    if mem_ref.get("peak_bytes") and mem_ours:
        v = mem_ref["peak_bytes"] / mem_ours
        row("empirical NTK (target cell) peak memory vs NT default", v, ">= 10x", v >= 10)
    elif mem_ours:
        est = mem_ref.get("estimated_bytes")
        v = est / mem_ours if est else None
        row("empirical NTK (target cell) peak memory vs NT default", v, ">= 10x",
            None if v is None else v >= 10,
            f" (ntklib measured {_gib(mem_ours)}; NT default estimated {_gib(est)}, "
            f"not run: over the cap)")
    diffs = [v.get("max_rel_diff") for v in cell.values() if v.get("max_rel_diff")]
    if diffs:
        out.append(f"| empirical NTK (target cell) values | max rel diff {max(diffs):.1e} | "
                   f"<= 1e-5 | {'yes' if max(diffs) <= 1e-5 else '**no**'} |")
    frac = [r for r in records if r.get("name") == "closed_form_fraction"
            and r.get("sizes", {}).get("m") == TARGET["m"]]
    if frac:
        f = frac[-1]
        out.append(f"| closed form / matmul ceiling (target cell, {f['rounds']} alternating "
                   f"rounds) | {f['fraction_median']:.0%} (best-of-rounds "
                   f"{f['fraction_best']:.0%}; {f['fraction_of_shape_matched']:.0%} of a "
                   f"(n,m)@(m,n) matmul) | >= 80% | "
                   f"{'yes' if f['fraction_median'] >= 0.8 else '**no**'} |")
    inf = {(r["activation"], r["sizes"]["d"], r["name"]): r for r in records
           if r.get("part") == "infinite_ntk" and r.get("sizes", {}).get("n") == 4096
           and "median_s" in r}
    for d in (784, 10):
        for act in ("relu", "erf"):
            ours = inf.get((act, d, "ntklib"))
            for name, req, lim in (("nt_kernel_fn_jit", ">= 2x", 2),
                                   ("nt_kernel_fn", ">= 3x", 3)):
                ref = inf.get((act, d, name))
                if ours and ref:
                    v = ref["median_s"] / ours["median_s"]
                    row(f"infinite NTK n=4096 d={d} {act} vs {name} (x64 off)", v, req,
                        v >= lim)
            lim_s = limit_s(records, act, 4096, d)
            if ours and lim_s:
                out.append(f"| infinite NTK n=4096 d={d} {act}: fraction of its limit (Gram "
                           f"matmul at the ceiling + one memory pass) | "
                           f"{lim_s / ours['median_s']:.0%} ({_ms(lim_s)} / "
                           f"{_ms(ours['median_s'])}) | as close as it goes | - |")
    flow = {(r["case"], r["sizes"]["n"], r["dtype"], r["name"]): r for r in records
            if r.get("part") == "flow"}
    for case, req, lim in (("from_scratch", ">= 1x", 1), ("new_t", ">= 8x", 8)):
        for n in (256, 1024):
            ours = flow.get((case, n, "float32", "ntklib"))
            ref = flow.get((case, n, "float32", "nt_gradient_descent_mse"))
            if ours and ref:
                v = ref["median_s"] / ours["median_s"]
                row(f"flow predictions n={n} {case} vs NT gradient_descent_mse", v, req,
                    v >= lim)
    widgets = [r for r in records if r.get("part") == "widget" and "median_s" in r]
    if widgets:
        worst = max(widgets, key=lambda r: r["median_s"])
        row(f"widget update, slowest ({worst['name']})", worst["median_s"], "< 300 ms",
            worst["median_s"] < 0.3)
        worst = max(widgets, key=lambda r: r["first_use_max_s"])
        row(f"widget first use after the panel's prefetch, slowest ({worst['name']} "
            f"{worst.get('control')})", worst["first_use_max_s"], "< 1 s",
            worst["first_use_max_s"] < 1)
        cold = [r for r in widgets if r.get("cold_first_use_max_s") is not None]
        if cold:
            worst = max(cold, key=lambda r: r["cold_first_use_max_s"])
            v = worst["cold_first_use_max_s"]
            row(f"widget first use cold (fresh kernel, nothing ahead), slowest ({worst['name']} "
                f"{worst.get('control')})", v, "< 1 s", v < 1)
    else:
        row("widget update / first use", None, "< 300 ms / < 1 s", None,
            " (no widget records in this run)")
    series = [r for r in records if r.get("part") == "nbval_series"]
    if series:
        s = series[-1]
        row(f"whole series under strict nbval ({s['notebooks']} notebooks, "
            f"{s['summary']})", s["seconds"], "< 300 s", s["seconds"] < 300)
    else:
        row("whole series under strict nbval", None, "< 300 s", None,
            " (no notebook records in this run)")
    return out


def _ratio(records: list[dict], part: str, case: str, n: int, dtype: str = "float32",
           ref: str = "nt_gradient_descent_mse") -> tuple[float, float, float] | None:
    """(reference / ntklib, ntklib seconds, reference seconds) of one flow measurement."""
    got = {r["name"]: r["median_s"] for r in records if r.get("part") == part
           and r.get("case") == case and r.get("sizes", {}).get("n") == n
           and r.get("dtype") == dtype and "median_s" in r}
    if "ntklib" not in got or ref not in got:
        return None
    return got[ref] / got["ntklib"], got["ntklib"], got[ref]


def notes(records: list[dict], cells: dict) -> list[str]:
    """The Notes section: each note from this run's numbers, or said only where it holds."""
    out = ["## Notes: why, where a target is missed or close", ""]
    for n in (1024, 256):
        got = _ratio(records, "flow", "new_t", n)
        if got is None:
            continue
        v, ours, ref = got
        mb = 4 * 2 * n * n / 1e6  # K(X*, X) V, (n + n*) x n float32 numbers, n* = n
        rate = mb / 1e3 / ours
        verdict = "meets" if v >= 8 else "misses"
        text = (f"- **Flow predictions, a new `t` at n={n}: {v:.1f}x, {verdict} the 8x "
                f"target.** ntklib's `KernelDynamics.predict(t)` is one compiled product "
                f"of the cached `K(X*, X) V` ({mb:.1f} MB in float32) with a vector: {_ms(ours)}, "
                f"{rate:.1f} GB/s; neural-tangents' `predict_fn(t)` reads `V` twice and "
                f"`k_test_train` once (about 5 n^2 numbers) in about ten eager operations: "
                f"{_ms(ref)}.")
        if n == 1024 and rate < 8:
            text += (" Not memory-bound: measured apart on this machine, one core streams "
                     "15-20 GB/s through jax 0.4.25 (a 64 MB `jnp.sum`), and a (2048, 1024) "
                     "float32 `A @ x` takes 0.37 ms there, but `x @ A.T`, the form of "
                     "`dynamics._predict`, 2.1 ms (jax 0.10: 0.46 ms either way): XLA:CPU's "
                     "transposed matrix-vector product. `KsV @ g` in `_predict` measured "
                     "0.63 ms against neural-tangents' 6.6 ms (10x); proposed to ntklib.")
        elif n == 256 and ours > 1e-4:
            text += (" At this size the call's Python side (validating `t` on the host, a "
                     "dtype conversion, the dispatch) costs more than the product itself.")
        out.append(text)
    got = _ratio(records, "flow", "from_scratch", 1024, "float64")
    if got and got[0] < 1:
        out.append(
            f"- **Flow from scratch in float64 at n = 1024 ({got[0]:.2f}x; not a target, "
            "float32 is).** `flow_predictor` precomputes `K(X*, X) V`, 2 n* n^2 flops "
            "(4.3 GFLOP for n* = 2n = 2048), as expensive as the float64 eigendecomposition "
            "itself; neural-tangents defers that work to each call. It is what makes each "
            "later `t` cheap.")
    widgets = [r for r in records if r.get("part") == "widget" and "first_use_max_s" in r]
    cold = [r for r in widgets if r.get("cold_first_use_max_s") is not None]
    if cold:
        worst = max(cold, key=lambda r: r["cold_first_use_max_s"])
        ahead = max((r.get("prefetch_s") or 0) for r in widgets)
        out.append(
            f"- **Widget first use of a new value.** Cold (fresh kernel, after the static "
            f"figure, nothing computed ahead) the slowest is {worst['name']} "
            f"({worst['control']}): {_ms(worst['cold_first_use_max_s'])}. After a learner "
            "moves a slider, the panel's prefetcher (`widgets.live`, one worker per panel) "
            "computes the neighbouring values of its prefetch controls (at most "
            f"{ahead:.1f} s per case here); a learner who pauses then meets at most "
            f"{_ms(max(r['first_use_max_s'] for r in widgets))}.")
    tkey = tuple(TARGET[k] for k in ("activation", "n", "m", "d", "dtype"))
    skipped = [name for name, r in cells.get(tkey, {}).items() if "skipped" in r]
    if skipped:
        out.append(
            f"- **Empirical NTK, Jacobian routes at the target cell ({', '.join(skipped)}).** "
            "They hold the Jacobian (n x P, P = m (d + 1) = 3.2 million) twice: over the "
            "20 GiB cap, so they were not run there; the memory model matches the measured "
            "peaks where they did run (lines below the table of part 1). Their ratios at the "
            "target cell are lower bounds: the J J^T product alone (2 n^2 P = 6.7 TFLOP) at "
            "the best matmul rate of the run.")
    out.append(
        "- **Where the truth is parity or a loss.** Every ratio in the tables is reference "
        "time / ntklib time from this run (x64 off for float32); a value below 1.2x is close "
        "to parity on this noisy machine, below 1x a loss. Ratios of earlier runs measured "
        "under process-wide x64 (e.g. 2.47x for the infinite-width relu kernel at n = 4096, "
        "d = 784, then parity on a fair run) are replaced, not kept.")
    inf_diff = [r for r in records if r.get("part") == "infinite_ntk"
                and r.get("activation") == "relu" and r.get("dtype") == "float32"
                and (r.get("max_rel_diff") or 0) > 1e-5]
    if inf_diff:
        out.append(
            f"- **Infinite-width relu, float32: max rel diff up to "
            f"{max(r['max_rel_diff'] for r in inf_diff):.1e} against neural-tangents.** The "
            "error is neural-tangents': with x64 off its float32 kernel is off by 2.6e-4 "
            "(relative to max |K|) on the diagonal (n = 1024, d = 784), where theta is the "
            "arccos of a cosine that rounds just below 1 (theta ~ sqrt(eps)); ntklib's float32 "
            "kernel is within 8.3e-7 of the float64 closed form there and everywhere (its "
            "cosine is exactly 1 on the diagonal; tests/test_ntk.py holds it to 2e-6). Under "
            "process-wide x64 neural-tangents computed in float64 and the difference hid.")
    got = _ratio(records, "flow", "from_scratch", 1024)
    if got and got[0] < 1:
        out.append(
            f"- **Flow from scratch in float32 at n = 1024: {got[0]:.2f}x, a loss** "
            f"(ntklib {_ms(got[1])}, neural-tangents {_ms(got[2])}; the run of 2026-11-29, "
            "under process-wide x64, had ntklib at 138 ms). The time is "
            "`dynamics.flow_predictor`'s (eigendecomposition and the precomputed "
            "`K(X*, X) V`), outside the infinite-width kernel; its cause is not established "
            "here and is left to the module's owner. A new `t`, the slider's case, stays "
            "far above 8x.")
    losses = sorted({f"{r.get('activation') or r.get('case')} {r.get('sizes')} "
                     f"{r.get('dtype')} ({r['name']})"
                     for r in records if r.get("part") in ("infinite_ntk", "flow")
                     and r.get("name", "").startswith("nt_") and "median_s" in r
                     and (t0 := _ntklib_time(records, r)) and r["median_s"] / t0 < 1})
    if losses:
        out.append("- **Losses (reference faster) in parts 2-3:** " + "; ".join(losses) + ".")
    return out


def _ntklib_time(records: list[dict], ref: dict) -> float | None:
    """ntklib's median time in the measurement that `ref` (a reference route) belongs to."""
    return next((r["median_s"] for r in records if r.get("name") == "ntklib"
                 and r.get("part") == ref.get("part") and r.get("case") == ref.get("case")
                 and r.get("activation") == ref.get("activation")
                 and r.get("sizes") == ref.get("sizes") and r.get("dtype") == ref.get("dtype")
                 and "median_s" in r), None)


METHOD = [
    "## Method: what makes a ratio fair",
    "",
    "- **x64 only where float64 is measured.** Each dtype runs in its own process: float32 "
    "with `jax_enable_x64` off, float64 with it on (records carry `run.x64`). Earlier runs "
    "switched x64 on for the whole process; under x64 neural-tangents computes parts of a "
    "float32 call in float64: its jitted `kernel_fn` on the same float32 inputs (n = 4096, "
    "d = 784, relu) returns a float64 kernel, and took 4.0-5.8 s against 1.6-2.1 s with x64 "
    "off (4 alternating rounds in one process, `jax.experimental.enable_x64` / "
    "`disable_x64`, load average 10 on the 2 cores; issue 13 measured 1.02 s against 0.42 s "
    "on a quieter machine, and 0.98 s against 0.27 s for its structured-derivatives "
    "empirical NTK). ntklib is unaffected, so every float32 ratio of those runs against "
    "neural-tangents was inflated. Every ratio below was measured again this way; both "
    "sides' results are float32 in float32 cells (`out_dtype` in results.json).",
    "- **Same process, same inputs, same threads.** Both sides of a ratio run in one process "
    "on the same arrays; the thread settings (XLA_FLAGS, OMP/MKL/OpenBLAS/TF thread "
    "variables) are recorded with every record (`run.threads`; unset here: XLA's defaults, "
    "both cores) and are the same for both sides by construction.",
    "- **Warm-up.** One call per route before timing (it compiles; `first_s`), then medians "
    "of repeated calls, each ended by `jax.block_until_ready`.",
    "- **Input scaling and `X2 = None`.** neural-tangents' Dense divides by sqrt(fan_in), so "
    "its inputs are `sqrt(d) X`, computed before the clock starts; both sides get "
    "`X2 = None` (ntklib `infinite_width_ntk(X)`, neural-tangents `kernel_fn(Xn, None, "
    "'ntk')`; empirical: `fn(Xn, None, params)`), and agree to the max rel diff shown.",
    "- **Noise.** Other engineers' tests and notebooks shared the 2 cores (load average "
    "above). Routes of similar cost are timed interleaved, call by call in rounds, so a change "
    "of load hits both sides alike, and each ratio is a ratio of medians over those rounds; "
    "absolute times of the smallest cells swing up to 2x between runs. The two stacks cannot "
    "share a process: their columns come from two runs minutes apart, each with its own "
    "matmul ceiling (part 4), so their ratio carries the load's drift too.",
    "",
]


def render(records: list[dict], nb: dict, binder: dict | None = None) -> str:
    learners = [r for r in records if stack(r) == "learners"]
    records = [r for r in records if stack(r) != "learners"]
    loads = [r["load"][0] for r in records if r.get("load")]
    run = next((r["run"] for r in records if "run" in r), {})
    lrun = next((r["run"] for r in learners), {})
    ntk_lines, cells = ntk_table(records)
    skipped = [r for row in cells.values() for r in row.values() if "skipped" in r]
    ceiling = sorted((r for r in records if r.get("part") == "ceiling"
                      and r.get("name") == "matmul"), key=lambda r: (r["dtype"], r["sizes"]["N"]))
    md = ["# Benchmarks: ntklib against the reference implementations", "",
          f"Written by `make bench` ({datetime.date.today().isoformat()}); raw records in "
          "`results.json`. Machine: "
          f"{run.get('cores', '?')} cores; bench env python {run.get('python')}, jax "
          f"{run.get('jax')}, numpy {run.get('numpy')}, neural-tangents "
          f"{run.get('neural_tangents')}. Other work shared the machine: 1-minute load "
          f"average during the run {min(loads, default=0):.1f}-{max(loads, default=0):.1f} "
          f"(median {statistics.median(loads) if loads else 0:.1f}) on 2 cores, so absolute "
          "times are noisy; every ratio compares both sides in the same process, same inputs, "
          "same dtype, x64 off for float32, medians of repeated calls after a compiling "
          "warm-up (method below). The learners' stack (ntklib alone): "
          f"python {lrun.get('python', '-')}, jax {lrun.get('jax', '-')}, numpy "
          f"{lrun.get('numpy', '-')}.", "",
          "## Targets (float32, relu unless said)", "", *targets(records, cells), "",
          *METHOD,
          "## Both stacks: every ntklib time in the reference environment and in the "
          "learners' own", "",
          "The reference stack is the bench environment (jax 0.4.25, numpy 1.26: the newest "
          "that neural-tangents 0.6.5 runs on), where every ratio is measured; the learners' "
          "stack is the project's .venv (pyproject's jax). Last column: learners' time / "
          "reference time (below 1: faster on the learners' stack).", "",
          *(stacks_table(records + learners) if learners else
            ["Not measured: no learners' stack records (run ntk_bench.py in .venv with "
             "--ntklib-only --cells-from)."]), "",
          "## 1. Empirical NTK of the notes' network", "",
          "ntklib's closed form (`ntk.empirical_ntk`, public call with validation) against "
          "plain-jax autodiff (jacrev + J J^T, jitted) and neural-tangents' "
          "`empirical_ntk_fn` (jitted, vmap_axes=0). Ratios are reference time / ntklib "
          "time. `skip`: the route would exceed 20 GiB or 60 s per call (estimated from its "
          "flops, calibrated on the cells it ran, and its Jacobian's size); the ratio shown "
          "then is a lower bound: the time of its J J^T product alone (2 n^2 P flops, "
          "P = m (d + 1)) at the best matmul rate measured in the run. Peak memory: a "
          "child process runs one call (compile + run); its peak resident memory "
          "(VmHWM, reset after the imports) minus its resident memory before the call.",
          "", *ntk_lines, ""]
    checks = [(k, name, r) for k, row in cells.items() for name, r in row.items()
              if r.get("peak_bytes") and r.get("estimated_bytes")
              and name != "ntklib" and r["peak_bytes"] > 2**26]
    if checks:
        md += ["The memory model used for skipping (Jacobian routes: 2 n P numbers, plus "
               "2 n^2 m for plain autodiff and n^2 m for NTK-vector products, their activations "
               "once per cotangent; closed form: 4 n m + 3 n^2), against measured peaks (it may "
               "overestimate: a skip must never be an out-of-memory kill):", ""]
        md += [f"- {name} {k}: measured {_gib(r['peak_bytes'])}, estimated "
               f"{_gib(r['estimated_bytes'])}" for k, name, r in checks]
        md.append("")
    if skipped:
        md += ["Skipped routes:", ""]
        md += [f"- {r['name']} {r.get('activation')} {r.get('sizes')} {r.get('dtype')}: "
               f"{r['skipped']}" for r in skipped]
        md.append("")
    deadline = [r for r in records if r.get("name") == "deadline"]
    if deadline:
        md += [f"Not run (the run's time budget was spent): {len(deadline)} cells, e.g. "
               f"{deadline[0]['sizes']}.", ""]
    md += ["## 2. Infinite-width NTK Gram matrix", "",
           "ntklib's closed forms against neural-tangents' `stax` `kernel_fn(x, None, 'ntk')` "
           "on inputs scaled by sqrt(d) (its Dense divides by sqrt(fan_in)), jitted and "
           "not jitted, x64 off. Ratios: reference time / ntklib time.", "",
           *part_table(records, "infinite_ntk"), "",
           "The limit: the Gram matrix X X^T (2 n^2 d flops) at the run's best float32 matmul "
           "rate (part 4) plus one read and write of the (n, n) result at memory speed "
           "(`G * 0.5`, jitted, timed interleaved with the kernels); any closed form needs "
           "both. 'ntklib reaches' is limit / ntklib time; the ceiling is the best matmul "
           "rate of the run, so under load this fraction understates (the next column uses "
           "the Gram matrix and the pass as measured in the same rounds; above 100%: the "
           "elementwise work costs less than a separate pass, as XLA writes it in place). "
           "The last column is the ratio neural-tangents would show against a kernel at the "
           "limit: where it is below 2x, the 2x target is out of reach. "
           "float32 ntklib evaluates arccos / "
           "arcsin by a vectorised polynomial (Cephes asinf, within 2 ulp) fused with the "
           "rest of the elementwise work into one pass; XLA's own are scalar loops (~9 ns an "
           "entry, as long as the whole Gram matrix at d = 784). Tried and dropped: the "
           "upper triangle only (2x2 and 4x4 blocks of the Gram matrix, 3/4 and 5/8 of its "
           "flops): assembling the blocks and transposes cost more than the flops saved; "
           "row blocks of 128-512 rows (`lax.map`, so each block of the Gram matrix stays "
           "in cache): no gain.", "",
           *limit_table(records), "",
           "## 3. Gradient-flow predictions (10 times, train and test points)", "",
           "`dynamics.flow_predictor` on X* = [X; X_test] (one eigendecomposition) against "
           "`neural_tangents.predict.gradient_descent_mse(K, y, learning_rate=1)` at times "
           "`n t` (its mean loss runs n times slower). `from_scratch`: build and evaluate 10 "
           "times; `new_t`: one new time with the eigendecomposition cached (a time slider).",
           "", *part_table(records, "flow"), "",
           "## 4. The ceiling", "",
           "| matmul | dtype | median | GFLOP/s | GFLOP/s again at the end of the run | "
           "load |", "|---|---|---|---|---|---|"]
    again = {(r["sizes"]["N"], r["dtype"]): r for r in ceiling if r.get("when") == "end"}
    for r in ceiling:
        if r.get("when") == "end":
            continue
        end = again.get((r["sizes"]["N"], r["dtype"]))
        md.append(f"| N={r['sizes']['N']} | {r['dtype']} | {_ms(r['median_s'])} | "
                  f"{r['gflops_per_s']:.0f} | {_rate(end)} | "
                  f"{r.get('load', ['-'])[0]} |")
    for r in records:
        if r.get("name") == "closed_form_fraction":
            g = r["gflops_per_s"]
            md += ["", f"Closed form on {r['sizes']} {r['dtype']}, "
                   f"{r['flops'] / 1e9:.1f} GFLOP per call (2nmd + 4n^2 m + 2n^2 d), in "
                   f"{r['rounds']} rounds alternating with the matmuls: median "
                   f"{g['closed_form']:.0f} GFLOP/s against {g['square']:.0f} for a square "
                   f"N={r['sizes']['N']} matmul and {g['shape_matched']:.0f} for (n,m)@(m,n): "
                   f"{r['fraction_median']:.0%} of the ceiling (median of per-round ratios; "
                   f"1-minute load average {r['load'][0]:.1f} at the end)."]
    md += ["", *notes(records, cells)]
    md += ["", "## 5. Widget latency (new slider value -> figure rendered to PNG)", ""]
    widgets = [r for r in records if r.get("part") == "widget"]
    if widgets:
        md += ["Median and max over repeated updates of visited values, each drawn again "
               "(`widgets.live` shows a figure it has shown before from its cache, without "
               "drawing; this column is the cost of a draw); first use of each "
               "value (max) as a learner who pauses meets it, after the static figure and the "
               "panel's prefetch of the neighbours (its time in the last column), and cold: "
               "in a fresh process after the static figure, nothing ahead.", "",
               "| widget | control | values | median | max | first use (max) | "
               "cold first use (max) | prefetch |", "|---|---|---|---|---|---|---|---|"]
        md += [f"| {r['name']} | {r.get('control')} | {', '.join(r.get('values', []))} | "
               f"{_ms(r.get('median_s'))} | {_ms(r.get('max_s'))} | "
               f"{_ms(r.get('first_use_max_s'))} | {_ms(r.get('cold_first_use_max_s'))} | "
               f"{_ms(r.get('prefetch_s'))} |" if "error" not in r else
               f"| {r['name']} | {r.get('control')} | error: {r['error']} | | | | | |"
               for r in widgets]
    elif not nb:
        md.append("Not measured in this run: no records from `benchmarks/notebook_bench.py` "
                  "(it did not run, or failed; `make bench` goes on to this report).")
    else:
        md.append("No widget case is registered in `widget_latency._cases()` yet.")
    md += ["", "## 6. Notebook execution time (fresh kernel)", ""]
    nbs = [r for r in records if r.get("part") == "notebook"]
    if nbs:
        md += ["| notebook | seconds | error |", "|---|---|---|"]
        md += [f"| {r['name']} | {r['seconds']:.1f} | {r['error'] or ''} |"
               if r.get("seconds") is not None else f"| {r['name']} | - | {r['error']} |"
               for r in nbs]
        for r in records:
            if r.get("part") == "nbval_series":
                md += ["", f"Whole series under strict nbval: {r['seconds']:.1f} s "
                       f"({r['summary']})."]
    elif not nb:
        md.append("Not measured in this run (no records from `benchmarks/notebook_bench.py`).")
    elif nb.get("notebooks_present"):
        md.append("Not measured in this run (`notebook_bench.py --no-notebooks`); section 7 "
                  "times every notebook top to bottom on one core.")
    else:
        md.append("No notebooks/*.ipynb present when the bench ran.")
    md += ["", *binder_section(binder)]
    return "\n".join(md) + "\n"


def binder_section(binder: dict | None) -> list[str]:
    """Section 7: peak memory and one-core times per notebook (benchmarks/binder_limits.py)."""
    md = ["## 7. Binder's limits: peak memory and one core", ""]
    if not binder:
        return [*md, "Not measured in this run (no `build/bench/binder_limits.json`)."]
    if str(HERE) not in sys.path:  # its neighbour module, however this one was loaded
        sys.path.insert(0, str(HERE))
    from binder_limits import LATENCY_TARGET_S, MEMORY_TARGET_GB, summarize

    done = [summarize(r) for r in binder["records"] if "peak_rss_run" in r]
    series = sum(r["top_to_bottom_s"] for r in done)
    md += [f"Each notebook in a fresh kernel pinned to core(s) {binder['cores']} "
           f"(`taskset`), top to bottom, then every control moved to a neighbour, back, to "
           f"both ends and back, {binder['think_s']:g} s apart (a learner reading; the "
           "panels compute ahead meanwhile). \"First use\": a value the control had not shown; "
           "\"after first use\": back to a value it had shown. Peak memory is the kernel's "
           f"VmHWM. Targets: < {MEMORY_TARGET_GB} GB, < {LATENCY_TARGET_S:g} s after first "
           f"use. The whole series top to bottom on one core: {series:.0f} s.", "",
           "| notebook | top to bottom (s) | peak memory run / after widgets (GB) | "
           "first use max (s) | after first use median / max (s) | errors |",
           "|---|---|---|---|---|---|"]
    md += [f"| {r['notebook']} | {r['top_to_bottom_s']} | {r['peak_run_gb']} / "
           f"{r['peak_widgets_gb']} | {r['first_use_max_s']} | {r['after_median_s']} / "
           f"{r['after_max_s']} | {r['move_errors'] + (1 if r['error'] else 0)} |"
           for r in done]
    return md


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ntk", type=Path, nargs="+", help="JSON lines from ntk_bench.py")
    parser.add_argument("--notebooks", type=Path, help="JSON from notebook_bench.py")
    parser.add_argument("--binder", type=Path, help="JSON from binder_limits.py")
    parser.add_argument("--outdir", type=Path, default=HERE)
    args = parser.parse_args(argv)
    records, nb = load_records(args.ntk, args.notebooks)
    binder = (json.loads(args.binder.read_text())
              if args.binder is not None and args.binder.exists() else None)
    text = render(records, nb, binder)
    args.outdir.mkdir(parents=True, exist_ok=True)
    (args.outdir / "results.json").write_text(json.dumps(records, indent=1) + "\n")
    (args.outdir / "RESULTS.md").write_text(text)
    return text


if __name__ == "__main__":
    print(main(sys.argv[1:]))
