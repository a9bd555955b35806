"""ntklib against the reference implementations, side by side (parts 1-4 of `make bench`).

Runs in the bench environment (.venv-bench: jax 0.4.25 + neural-tangents 0.6.5, made by
`make bench`); without neural-tangents (the learners' .venv) only ntklib and plain jax run.

1. empirical NTK of the notes' network: ntklib's closed form, plain-jax autodiff (Jacobian
   contraction) and neural-tangents' `empirical_ntk_fn` with each implementation;
2. infinite-width NTK: ntklib's closed forms against neural-tangents' `stax` `kernel_fn`,
   jitted and as usually called (not jitted);
3. gradient-flow predictions: `dynamics.flow_predictor` against
   `neural_tangents.predict.gradient_descent_mse`, from scratch and for a new time `t`;
4. the ceiling: matmul throughput, and the fraction of it that the closed form reaches.

Fairness. Each dtype runs in its own process: float32 with `jax_enable_x64` off, float64
with it on (under x64, neural-tangents computes parts of a float32 call in float64: the
reference would be handicapped). Within a process every comparison runs both sides on the
same inputs, same dtype, same thread settings (recorded in each record's `run`), `X2 = None`
on both sides, inputs scaled for neural-tangents before the clock starts, one warm-up call
(that compiles) each, `jax.block_until_ready` on every result, and routes of similar cost
interleaved call by call (the load changes by the second). Without neural-tangents (the
learners' .venv, current jax) the same script times ntklib alone, `--ntklib-only
--cells-from` the reference run's records, so every ntklib time has a twin on the
learners' stack. One JSON record per measurement is appended to `--out` (JSON lines) as soon
as it is measured, so a run cut short keeps what it measured; `benchmarks/report.py` turns
them into results.json and RESULTS.md.

Parameter mapping (checked in tests/test_bench_smoke.py without neural-tangents):
neural-tangents' `Dense(parameterization='ntk')` computes `x @ W / sqrt(fan_in)`, so the
notes' network `f(x) = b . sigma(A x) / sqrt(m)` is
`serial(Dense(m, b_std=None), sigma, Dense(1, b_std=None))` with `W1 = A^T`, `W2 = b[:, None]`
applied to inputs scaled by `sqrt(d)`; its gradient wrt W1 at `sqrt(d) x` is the gradient
wrt A at x, so both empirical and infinite-width NTKs agree exactly. Its mean loss makes its
time `t_nt = n t / lr` for our gradient-flow time `t` (see ntklib/dynamics.py).

    .venv-bench/bin/python benchmarks/ntk_bench.py --out build/bench/ntk.jsonl
    .venv/bin/python benchmarks/ntk_bench.py --out build/bench/ntk-learners.jsonl \
        --ntklib-only --cells-from build/bench/ntk.jsonl
    .venv-bench/bin/python benchmarks/ntk_bench.py --quick      # tiny sizes, seconds
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # tensorflow (via tf2jax) is noisy

import jax
import jax.numpy as jnp
import numpy as np

from ntklib import dynamics, net, ntk

try:  # only in .venv-bench
    import neural_tangents as nt
    from neural_tangents import stax
except ImportError:
    nt = stax = None

GIB = 2.0**30
MAX_BYTES = 20 * GIB          # skip a route whose estimated memory exceeds this
MAX_SECONDS = 60.0            # ... or whose estimated time for one call exceeds this
TARGET = {"activation": "relu", "n": 1024, "m": 4096, "d": 784, "dtype": "float32"}
NT_IMPLEMENTATIONS = ("jacobian_contraction", "ntk_vector_products", "structured_derivatives")
NTK_ROUTES = ("ntklib", "jax_autodiff", *(f"nt_{i}" for i in NT_IMPLEMENTATIONS))
DTYPES = ("float32", "float64")
#: Environment variables that set threads; recorded with every record (both sides of a
#: comparison share one process, hence the same settings).
THREAD_ENV = ("XLA_FLAGS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
              "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
NTKLIB_ONLY = False  # --ntklib-only: time ntklib's routes alone (the learners' stack)


def set_x64(dtype: str) -> None:
    """x64 on exactly for float64 processes; before any array exists."""
    jax.config.update("jax_enable_x64", dtype == "float64")


# ---------------------------------------------------------------- timing and comparison

def block(x: Any) -> Any:
    return jax.block_until_ready(x)


def timed(fn: Callable[[], Any], *, repeats: int = 5, budget_s: float = 20.0) -> dict[str, Any]:
    """Warm-up call (compiles; its time is `first_s`), then up to `repeats` timed calls.

    At least 2 timed calls; stops early once the timed calls took `budget_s` together.
    """
    t0 = time.perf_counter()
    out = block(fn())
    first = time.perf_counter() - t0
    times: list[float] = []
    while len(times) < repeats and (len(times) < 2 or sum(times) < budget_s):
        t0 = time.perf_counter()
        block(fn())
        times.append(time.perf_counter() - t0)
    return {"first_s": first, "median_s": statistics.median(times), "min_s": min(times),
            "runs": len(times), "out": out}


def timed_together(fns: dict[str, Callable[[], Any]], *, rounds: int = 7,
                   budget_s: float = 30.0) -> dict[str, dict[str, Any]]:
    """`timed` for routes of similar cost, interleaved: one warm-up call each, then rounds
    that call every route once, so a change of the machine's load hits all of them alike.
    At least 2 rounds; stops early once the rounds took `budget_s` together."""
    res: dict[str, dict[str, Any]] = {}
    for name, fn in fns.items():
        t0 = time.perf_counter()
        res[name] = {"out": block(fn())}
        res[name]["first_s"] = time.perf_counter() - t0
    times: dict[str, list[float]] = {name: [] for name in fns}
    spent, k = 0.0, 0
    while k < rounds and (k < 2 or spent < budget_s):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            block(fn())
            times[name].append(time.perf_counter() - t0)
            spent += times[name][-1]
        k += 1
    for name, ts in times.items():
        res[name].update(median_s=statistics.median(ts), min_s=min(ts), runs=len(ts))
    return res


def max_rel_diff(a: Any, ref: Any) -> float:
    """max |a - ref| / max |ref| over all entries (entrywise relative error is undefined
    where the reference is near 0)."""
    a = np.asarray(a, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64).reshape(a.shape)
    return float(np.max(np.abs(a - ref)) / max(np.max(np.abs(ref)), 1e-300))


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ---------------------------------------------------------------- the network, three ways

def make_inputs(key: jax.Array, n: int, d: int, dtype: Any) -> jax.Array:
    """n points of norm 1 in R^d (rows of a Gaussian matrix, normalised): non-degenerate."""
    X = jax.random.normal(key, (n, d), dtype=dtype)
    return X / jnp.linalg.norm(X, axis=1, keepdims=True)


def jax_net(activation: str) -> Callable[[Any, jax.Array], jax.Array]:
    """The notes' network in plain jax, params a tuple (A, b): the autodiff route's model."""
    sigma = net.activation(activation).fn

    def f(params: tuple[jax.Array, jax.Array], X: jax.Array) -> jax.Array:
        A, b = params
        return sigma(X @ A.T) @ b / math.sqrt(A.shape[0])

    return f


def jacobian_contraction(f: Callable, params: Any, X: jax.Array) -> jax.Array:
    """Generic empirical NTK by autodiff: K = sum over leaves of J J^T, J = df(params, X)/dp."""
    J = jax.tree_util.tree_leaves(jax.jacrev(f)(params, X))
    return sum(j.reshape(X.shape[0], -1) @ j.reshape(X.shape[0], -1).T for j in J)


def nt_inputs(X: jax.Array) -> jax.Array:
    """Inputs for neural-tangents' Dense(parameterization='ntk'), which divides by sqrt(d)."""
    return X * math.sqrt(X.shape[1])


def nt_params(params: net.Params) -> list[Any]:
    """`net.Params` as the parameters of `nt_network`: [(W1, None), (), (W2, None)]."""
    return [(params.A.T, None), (), (params.b[:, None], None)]


def nt_style_apply(params_nt: list[Any], X_nt: jax.Array, activation: str) -> jax.Array:
    """neural-tangents' forward pass of `nt_network` written out (for the mapping check):
    Dense(ntk): x @ W / sqrt(fan_in), no bias."""
    (W1, _), _, (W2, _) = params_nt
    H = net.activation(activation).fn(X_nt @ W1 / math.sqrt(W1.shape[0]))
    return (H @ W2 / math.sqrt(W2.shape[0]))[:, 0]


def nt_time(t: Any, n: int, learning_rate: float = 1.0) -> Any:
    """neural-tangents' time (mean loss, in steps) for our gradient-flow time t (sum loss)."""
    return np.asarray(t) * n / learning_rate


def nt_network(m: int, activation: str) -> tuple[Callable, Callable, Callable]:
    """The notes' network as a neural-tangents stax model: (init_fn, apply_fn, kernel_fn)."""
    sigma = {"relu": stax.Relu(), "erf": stax.Erf()}[activation]
    return stax.serial(stax.Dense(m, W_std=1.0, b_std=None, parameterization="ntk"), sigma,
                       stax.Dense(1, W_std=1.0, b_std=None, parameterization="ntk"))


# ---------------------------------------------------------------- cost models (for skipping)

def ntk_flops(route: str, n: int, m: int, d: int) -> float:
    """Floating-point operations of one call, as each route computes (matmul flops)."""
    P = m * (d + 1)
    closed = 2 * n * m * d + 4 * n * n * m + 2 * n * n * d
    if route == "ntklib" or route == "nt_structured_derivatives":
        return closed
    # Jacobian by jacrev: the n cotangents make a batched (n, m, d) product, then J J^T.
    return 2 * n * m * d + 2 * n * n * m * d + 2 * n * n * P


#: Numbers per n^2 m of the routes that hold the hidden activations once per cotangent (one
#: per output): measured peaks at n = 256, d = 10, m = 512 and 2048 (0.27 / 1.08 GB for plain
#: autodiff, 0.16 / 0.59 GB for NTK-vector products) grow like 2 n^2 m and n^2 m numbers.
PER_COTANGENT = {"jax_autodiff": 2, "nt_ntk_vector_products": 1}


def ntk_bytes(route: str, n: int, m: int, d: int, itemsize: int) -> float:
    """Peak extra memory of one call: the (n, m) activations, or the Jacobian (n, P) twice
    (the jacrev result and its reshaped copy / the vmapped cotangent batch) plus, for
    some routes, the activations once per cotangent (`PER_COTANGENT`)."""
    if route in ("ntklib", "nt_structured_derivatives"):
        return itemsize * (4 * n * m + 3 * n * n)
    return itemsize * (2 * n * m * (d + 1) + PER_COTANGENT.get(route, 0) * n * n * m
                       + 4 * n * m + 3 * n * n)


class Calibration:
    """Seconds per flop per (route, dtype), from the last measurement (else the ceiling)."""

    def __init__(self, ceiling: dict[str, float]):
        self.ceiling = ceiling
        self.rate: dict[tuple[str, str], float] = {}

    def seconds(self, route: str, dtype: str, flops: float) -> float:
        return flops * self.rate.get((route, dtype), 1.0 / self.ceiling[dtype])

    def update(self, route: str, dtype: str, flops: float, seconds: float) -> None:
        self.rate[(route, dtype)] = seconds / flops


# ---------------------------------------------------------------- part 4: the ceiling

def matmul_ceiling(dtypes: list[str], sizes: list[int], emit: Callable,
                   when: str = "start") -> dict[str, float]:
    """Best median flop rate of square matmuls (2 N^3 flops), per dtype; `when` tells the
    run's first measurement from its repeat at the end (the load may have changed)."""
    best = {}
    for dtype in dtypes:
        for N in sizes:
            a = jax.random.normal(jax.random.key(1), (N, N), dtype=dtype)
            b = jax.random.normal(jax.random.key(2), (N, N), dtype=dtype)
            mm = jax.jit(jnp.matmul)
            r = timed(lambda a=a, b=b, mm=mm: mm(a, b), repeats=7, budget_s=10)
            rate = 2 * N**3 / r["median_s"]
            best[dtype] = max(best.get(dtype, 0.0), rate)
            emit({"part": "ceiling", "name": "matmul", "sizes": {"N": N}, "dtype": dtype,
                  "when": when, "median_s": r["median_s"], "min_s": r["min_s"], "runs": r["runs"],
                  "flops": 2 * N**3, "gflops_per_s": rate / 1e9, "load": load()})
    return best


def ceiling_fraction(cell: dict[str, Any], rounds: int, emit: Callable, N: int = 1024) -> None:
    """The closed form's flop rate against matmul's, measured in alternating rounds (the
    machine's load changes by the second, so each round compares like with like): a square
    N matmul, the closed form on `cell`, and a matmul of the closed form's dominant
    shape, (n, m) @ (m, n)."""
    n, m, d, dtype = cell["n"], cell["m"], cell["d"], cell["dtype"]
    a = jax.random.normal(jax.random.key(1), (N, N), dtype=dtype)
    S = jax.random.normal(jax.random.key(2), (n, m), dtype=dtype)
    mm = jax.jit(jnp.matmul)
    gram = jax.jit(lambda S: S @ S.T)
    ours = ntk_setup(cell)["ntklib"]
    flops = ntk_flops("ntklib", n, m, d)
    fns = {"square": (lambda: mm(a, a), 2 * N**3), "closed_form": (ours, flops),
           "shape_matched": (lambda: gram(S), 2 * n * n * m)}
    for fn, _ in fns.values():
        block(fn())
    rates: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for k, (fn, fl) in fns.items():
            t0 = time.perf_counter()
            block(fn())
            rates[k].append(fl / (time.perf_counter() - t0))
    ratio = [c / s for c, s in zip(rates["closed_form"], rates["square"], strict=True)]
    emit({"part": "ceiling", "name": "closed_form_fraction", "activation": cell["activation"],
          "sizes": {"n": n, "m": m, "d": d, "N": N}, "dtype": dtype, "rounds": rounds,
          "flops": flops,
          "gflops_per_s": {k: statistics.median(v) / 1e9 for k, v in rates.items()},
          "best_gflops_per_s": {k: max(v) / 1e9 for k, v in rates.items()},
          "fraction_median": statistics.median(ratio),
          "fraction_best": max(rates["closed_form"]) / max(rates["square"]),
          "fraction_of_shape_matched": statistics.median(
              c / s for c, s in zip(rates["closed_form"], rates["shape_matched"],
                                     strict=True)),
          "load": load()})


# ---------------------------------------------------------------- part 1: empirical NTK

def ntk_setup(cell: dict[str, Any]) -> dict[str, Callable[[], Any]]:
    """The routes of one cell, each a thunk on the same inputs."""
    act, n, m, d, dtype = (cell[k] for k in ("activation", "n", "m", "d", "dtype"))
    kx, kp = jax.random.split(jax.random.key(n * 7919 + m * 31 + d))
    X = make_inputs(kx, n, d, dtype)
    params = net.init(kp, d, m, dtype=dtype)
    routes: dict[str, Callable[[], Any]] = {
        "ntklib": lambda: ntk.empirical_ntk(params, X, activation=act)}
    if NTKLIB_ONLY:
        return routes
    f = jax_net(act)
    autodiff = jax.jit(lambda p, X: jacobian_contraction(f, p, X))
    pa = (params.A, params.b)
    routes["jax_autodiff"] = lambda: autodiff(pa, X)
    if nt is not None and not NTKLIB_ONLY:
        _, apply_fn, _ = nt_network(m, act)
        Xn, pn = nt_inputs(X), nt_params(params)
        for name in NT_IMPLEMENTATIONS:
            impl = getattr(nt.NtkImplementation, name.upper())
            fn = jax.jit(nt.empirical_ntk_fn(apply_fn, trace_axes=(-1,), vmap_axes=0,
                                             implementation=impl))
            routes[f"nt_{name}"] = lambda fn=fn: fn(Xn, None, pn)
    return routes


def peak_memory_child(cell: dict[str, Any], route: str, timeout: float = 180) -> dict[str, Any]:
    """Peak resident memory of one call of `route` (compile + run), in a fresh process:
    ru_maxrss after the call minus ru_maxrss once the inputs exist (imports excluded)."""
    cmd = [sys.executable, __file__, "--child", json.dumps({**cell, "route": route})]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"peak_bytes": None, "peak_note": f"child timed out after {timeout:.0f} s"}
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        return {"peak_bytes": None, "peak_note": f"child failed: {p.stderr.strip()[-300:]}"}
    return json.loads(lines[-1])


def _status_bytes(field: str) -> int | None:
    """VmRSS / VmHWM of this process from /proc (Linux), in bytes."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def child(spec: dict[str, Any]) -> None:
    """One call of one route; prints its peak memory above the resident set before it.

    The imports (tensorflow's among them) raise the high-water mark above what a kernel
    needs, so it is reset first (`5 > /proc/self/clear_refs`, Linux); without that reset
    ru_maxrss after the call minus the resident set before it is reported instead."""
    route = spec.pop("route")
    set_x64(spec["dtype"])
    fn = ntk_setup(spec)[route]
    reset = True
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        reset = False
    before = _status_bytes("VmRSS") or 0
    block(fn())
    after = (_status_bytes("VmHWM") if reset else None) or (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    print(json.dumps({"peak_bytes": after - before, "rss_before_bytes": before,
                      "peak_note": "peak resident memory of a child process during one "
                                   "call (compile + run) minus its resident memory before "
                                   "the call (inputs built, imports done)"}))


def ntk_cells(quick: bool) -> list[dict[str, Any]]:
    if quick:  # each activation and each dtype once
        grid = [("relu", 16, 32, 3, "float32"), ("erf", 16, 32, 3, "float64")]
    else:
        grid = itertools.product(("relu", "erf"), (256, 1024, 4096), (512, 4096, 16384),
                                 (10, 784), ("float32", "float64"))
    cells = [dict(zip(("activation", "n", "m", "d", "dtype"), c, strict=True)) for c in grid]
    # the target first (it is what the targets are about), then cheapest first
    return sorted(cells, key=lambda c: (c != TARGET, ntk_flops("ntklib", c["n"], c["m"],
                                                                c["d"])))


def bench_ntk(cells: list[dict[str, Any]], calib: Calibration, emit: Callable, *,
              memory_cells: list[dict[str, Any]], deadline: float) -> None:
    for cell in cells:
        if time.time() > deadline:
            emit({"part": "empirical_ntk", "name": "deadline", "sizes": cell,
                  "skipped": "the run's time budget (--budget-min) was spent"})
            continue
        n, m, d, dtype = cell["n"], cell["m"], cell["d"], cell["dtype"]
        itemsize = np.dtype(dtype).itemsize
        routes = ntk_setup(cell)
        results = {}
        # the two closed-form routes cost about the same: time them interleaved (the load
        # changes by the second); the Jacobian routes, 10-1000x slower, one after the other
        close = {k: routes[k] for k in ("ntklib", "nt_structured_derivatives") if k in routes}
        try:
            together = timed_together(close, rounds=7, budget_s=min(
                40.0, 8 * calib.seconds("ntklib", dtype, ntk_flops("ntklib", n, m, d)) + 2))
        except Exception:  # then each alone below, where a failure is recorded
            together = {}
        for route in NTK_ROUTES:
            if route not in routes:
                continue
            flops = ntk_flops(route, n, m, d)
            est_s = calib.seconds(route, dtype, flops)
            est_b = ntk_bytes(route, n, m, d, itemsize)
            rec = {"part": "empirical_ntk", "name": route, "activation": cell["activation"],
                   "sizes": {"n": n, "m": m, "d": d}, "dtype": dtype, "flops": flops,
                   "estimated_s": est_s, "estimated_bytes": est_b, "load": load()}
            if est_b > MAX_BYTES or est_s > MAX_SECONDS:
                why = []
                if est_b > MAX_BYTES:
                    why.append(f"estimated {est_b / GIB:.1f} GiB > 20 GiB")
                if est_s > MAX_SECONDS:
                    why.append(f"estimated {est_s:.0f} s per call > 60 s")
                emit({**rec, "skipped": "; ".join(why)})
                continue
            try:
                r = together.get(route) or timed(routes[route], repeats=5,
                                                 budget_s=min(20.0, 4 * est_s + 2))
            except Exception as exc:  # a reference that breaks is a result, not a crash
                emit({**rec, "skipped": f"{type(exc).__name__}: {str(exc)[:200]}"})
                continue
            calib.update(route, dtype, flops, r["median_s"])
            results[route] = r.pop("out")
            rec["out_dtype"] = str(results[route].dtype)
            rec.update(r)
            rec["gflops_per_s"] = flops / r["median_s"] / 1e9
            if cell in memory_cells:
                rec.update(peak_memory_child(cell, route))
            emit(rec, pending=True)
        # max relative difference of ntklib's kernel to each reference's
        ref = results.get("ntklib")
        for route, out in results.items():
            diff = None if ref is None else max_rel_diff(ref, out)
            emit({"route": route, "max_rel_diff": diff}, finish=True)
        emit(None, flush=True)


# ---------------------------------------------------------------- part 2: infinite width

#: Routes of part 2 that are not implementations of the kernel: the parts of its limit.
LIMIT_ROUTES = ("gram_matmul", "memory_pass")


def bench_infinite(quick: bool, emit: Callable) -> None:
    """float32 only. Besides the kernels, two routes interleaved with them measure the limit
    of the call: `gram_matmul`, the jitted X X^T alone, and `memory_pass`, one jitted read
    and write of the (n, n) result (`G * 0.5`), the least any elementwise work can take."""
    sizes = [(64, 3)] if quick else [(1024, 10), (1024, 784), (4096, 10), (4096, 784)]
    gram = jax.jit(lambda X: X @ X.T)
    one_pass = jax.jit(lambda G: G * 0.5)
    for act, (n, d) in itertools.product(("relu", "erf"), sizes):
        dtype = "float32"
        X = make_inputs(jax.random.key(n + d), n, d, dtype)
        G = block(gram(X))
        routes = {"ntklib": lambda X=X, act=act: ntk.infinite_width_ntk(X, activation=act)}
        if nt is not None and not NTKLIB_ONLY:
            _, _, kernel_fn = nt_network(1, act)
            Xn = block(nt_inputs(X))  # scaled before the clock starts, as X2 = None on both
            jitted = jax.jit(kernel_fn, static_argnames="get")
            routes["nt_kernel_fn_jit"] = lambda Xn=Xn, f=jitted: f(Xn, None, "ntk")
            routes["nt_kernel_fn"] = lambda Xn=Xn, f=kernel_fn: f(Xn, None, "ntk")
        routes["gram_matmul"] = lambda X=X: gram(X)
        routes["memory_pass"] = lambda G=G: one_pass(G)
        ref = None
        for name, r in timed_together(routes, rounds=5, budget_s=40).items():
            out = r.pop("out")
            ref = out if ref is None else ref
            emit({"part": "infinite_ntk", "name": name, "activation": act,
                  "sizes": {"n": n, "d": d}, "dtype": dtype, "out_dtype": str(out.dtype), **r,
                  "flops": 2 * n * n * d if name == "gram_matmul" else None,
                  "max_rel_diff": (0.0 if name == "ntklib" else None if name in LIMIT_ROUTES
                                   else max_rel_diff(ref, out)),
                  "load": load()})


# ---------------------------------------------------------------- part 3: gradient flow

def flow_routes(K: jax.Array, Ks: jax.Array, f0: jax.Array, f0t: jax.Array, y: jax.Array,
                ts: np.ndarray, t_new: float) -> tuple[dict, dict]:
    """Routes `from_scratch` (build, then 10 times) and `new_t` (one new time, cached).

    Outputs (T, n + n*) / (n + n*,): train predictions, then test predictions."""
    n = K.shape[0]

    def ours() -> Any:
        # train and test points together: one eigendecomposition, X* = [X; X_test]
        p = dynamics.flow_predictor(K, jnp.concatenate([K, Ks]), f0,
                                    jnp.concatenate([f0, f0t]), y)
        return p, p(ts)

    predictor = ours()[0]
    scratch = {"ntklib": lambda: ours()[1]}
    new = {"ntklib": lambda: predictor(t_new)}
    if nt is not None and not NTKLIB_ONLY:
        def theirs() -> Any:
            fn = nt.predict.gradient_descent_mse(K, y[:, None], learning_rate=1.0)
            return fn, fn(nt_time(ts, n), f0[:, None], f0t[:, None], Ks)

        predict_fn = theirs()[0]
        scratch["nt_gradient_descent_mse"] = lambda: jnp.concatenate(
            [a[..., 0] for a in theirs()[1]], axis=1)
        new["nt_gradient_descent_mse"] = lambda: jnp.concatenate(
            [a[..., 0] for a in predict_fn(nt_time(t_new, n), f0[:, None], f0t[:, None], Ks)],
            axis=0)
    return scratch, new


def bench_flow(quick: bool, emit: Callable, dtype: str) -> None:
    if quick and dtype != "float64":
        return
    for n in [32] if quick else [256, 1024]:
        kx, kt, ky, kf = jax.random.split(jax.random.key(n), 4)
        X, Xt = make_inputs(kx, n, 10, dtype), make_inputs(kt, n, 10, dtype)
        K = ntk.infinite_width_ntk(X)
        Ks = ntk.infinite_width_ntk(Xt, X)
        y = jax.random.normal(ky, (n,), dtype)
        f0, f0t = (0.3 * jax.random.normal(k, (n,), dtype) for k in jax.random.split(kf))
        scratch, new = flow_routes(K, Ks, f0, f0t, y, np.geomspace(1e-3, 10.0, 10), 0.37)
        for what, group in (("from_scratch", scratch), ("new_t", new)):
            ref = None
            rounds = 20 if what == "new_t" else 7
            for name, r in timed_together(group, rounds=rounds, budget_s=20).items():
                out = r.pop("out")
                ref = out if ref is None else ref
                emit({"part": "flow", "name": name, "case": what, "out_dtype": str(out.dtype),
                      "sizes": {"n": n, "n_test": n, "times": 10 if what == "from_scratch"
                                else 1}, "dtype": dtype, **r,
                      "max_rel_diff": 0.0 if name == "ntklib" else max_rel_diff(ref, out),
                      "load": load()})


# ---------------------------------------------------------------- main

class Writer:
    """Appends records to a JSON-lines file; NTK records wait until their diffs are known."""

    def __init__(self, path: Path | None):
        self.path = path
        # one id per run: report.py keeps the latest run's record of each measurement
        self.started = time.strftime("%Y-%m-%dT%H:%M:%S")
        self.pending: dict[str, dict[str, Any]] = {}
        self.records: list[dict[str, Any]] = []

    def __call__(self, rec: dict[str, Any] | None, *, pending: bool = False,
                 finish: bool = False, flush: bool = False) -> None:
        if pending:
            self.pending[rec["name"]] = rec
            return
        if finish:
            self.pending[rec["route"]]["max_rel_diff"] = rec["max_rel_diff"]
            return
        if flush:
            for r in self.pending.values():
                self._write(r)
            self.pending = {}
            return
        self._write(rec)

    def _write(self, rec: dict[str, Any]) -> None:
        rec = {"run": {"python": platform.python_version(), "jax": jax.__version__,
                       "numpy": np.__version__,
                       "neural_tangents": getattr(nt, "__version__", None),
                       "stack": "learners" if NTKLIB_ONLY else "reference",
                       "x64": bool(jax.config.jax_enable_x64),
                       "threads": {k: os.environ.get(k) for k in THREAD_ENV},
                       "cores": os.cpu_count(), "started": self.started}, **rec}
        self.records.append(rec)
        line = {k: v for k, v in rec.items() if k != "run"}
        print(json.dumps(line, default=str)[:300], flush=True)
        if self.path:
            with self.path.open("a") as fh:
                fh.write(json.dumps(rec, default=str) + "\n")


def cells_from(path: Path) -> list[dict[str, Any]]:
    """The empirical-NTK cells that an earlier run timed ntklib on, in its order."""
    cells = []
    for line in path.read_text().splitlines():
        r = json.loads(line) if line.strip() else {}
        if r.get("part") == "empirical_ntk" and r.get("name") == "ntklib" and r.get("median_s"):
            cell = {"activation": r["activation"], **r["sizes"], "dtype": r["dtype"]}
            if cell not in cells:
                cells.append(cell)
    return cells


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: the smoke version")
    parser.add_argument("--out", type=Path, help="append JSON-lines records here")
    parser.add_argument("--parts", default="ceiling,ntk,infinite,flow")
    parser.add_argument("--dtypes", default=",".join(DTYPES),
                        help="several: one process per dtype (x64 only for float64), run "
                             "one after the other; one: run it in this process")
    parser.add_argument("--budget-min", type=float, default=60.0,
                        help="stop starting new empirical-NTK cells after this many minutes "
                             "(shared by the dtypes' processes, an equal share each)")
    parser.add_argument("--no-memory", action="store_true", help="skip peak-memory children")
    parser.add_argument("--ntklib-only", action="store_true",
                        help="time ntklib's routes only (the learners' stack, no reference)")
    parser.add_argument("--cells-from", type=Path,
                        help="JSON lines of an earlier run: time the empirical-NTK cells it "
                             "timed ntklib on (all of them, no budget), instead of the grid")
    parser.add_argument("--from-cell", type=int, default=0,
                        help="continue the empirical-NTK grid at this cell index (0: the "
                             "target cell, then cheapest first); for a run that was cut short")
    parser.add_argument("--calibrate-from", type=Path,
                        help="JSON lines of an earlier run: its measured seconds per flop "
                             "seed the time estimates (with --from-cell)")
    parser.add_argument("--append", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


_OWN = ("--out", "--dtypes", "--budget-min")  # set per process by `main`


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Several dtypes: one child process each (x64 set per dtype before any array exists),
    appending to the same --out; returns every record written. One dtype: the run itself."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse(argv)
    if args.child:
        child(json.loads(args.child))
        return []
    dtypes = [d for d in args.dtypes.split(",") if d]
    if any(d not in DTYPES for d in dtypes):
        raise SystemExit(f"--dtypes must be among {DTYPES}, got {args.dtypes!r}")
    if len(dtypes) == 1:
        return run(args, dtypes[0])
    out = args.out or Path(os.environ.get("TMPDIR", "/tmp")) / f"ntk_bench_{os.getpid()}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("")
    rest = [a for i, a in enumerate(argv) if a not in _OWN and not a.startswith(
        tuple(f"{o}=" for o in _OWN)) and (i == 0 or argv[i - 1] not in _OWN)]
    for dtype in dtypes:
        cmd = [sys.executable, str(Path(__file__).resolve()), *rest, "--out", str(out),
               "--append", "--dtypes", dtype,
               "--budget-min", str(args.budget_min / len(dtypes))]
        p = subprocess.run(cmd, check=False)
        if p.returncode != 0:
            raise SystemExit(f"ntk_bench: the {dtype} process failed ({p.returncode}): {cmd}")
    records = [json.loads(ln) for ln in out.read_text().splitlines() if ln.strip()]
    if args.out is None:
        out.unlink()
    return records


def run(args: argparse.Namespace, dtype: str) -> list[dict[str, Any]]:
    """Every part for one dtype, in this process."""
    global NTKLIB_ONLY
    NTKLIB_ONLY = args.ntklib_only
    set_x64(dtype)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        if not args.append:
            args.out.write_text("")
    emit = Writer(args.out)
    parts = set(args.parts.split(","))
    start = time.time()
    sizes = [64] if args.quick else [1024, 2048, 4096]
    ceiling = {"float32": 5e10, "float64": 2.5e10}  # a guess, replaced when measured
    measure_ceiling = "ceiling" in parts and not (args.quick and dtype == "float64")
    if measure_ceiling:
        ceiling.update(matmul_ceiling([dtype], sizes, emit))
    if measure_ceiling and dtype == TARGET["dtype"] and not NTKLIB_ONLY:
        ceiling_fraction({**TARGET, "n": 16, "m": 32, "d": 3} if args.quick else TARGET,
                         2 if args.quick else 15, emit, N=64 if args.quick else 1024)
    deadline = start + 60 * args.budget_min
    cells: list[dict[str, Any]] = []
    first = 0
    if "ntk" in parts:
        if args.cells_from:
            cells = [c for c in cells_from(args.cells_from) if c["dtype"] == dtype]
            deadline = math.inf
        else:
            cells = [c for c in ntk_cells(args.quick) if c["dtype"] == dtype]
        mem = [] if args.no_memory or NTKLIB_ONLY else [
            c for c in cells if c["activation"] == "relu" and c["dtype"] == "float32"
            and c["d"] == 784 and c["n"] <= 1024 and c["m"] <= 4096]
        if args.quick and not (args.no_memory or NTKLIB_ONLY):
            mem = cells[:1]
        calib = Calibration(ceiling)
        if args.calibrate_from:
            for line in args.calibrate_from.read_text().splitlines():
                r = json.loads(line)
                if r.get("part") == "empirical_ntk" and r.get("median_s"):
                    calib.update(r["name"], r["dtype"], r["flops"], r["median_s"])
        # the target cell first, then parts 2-3, then the rest of the grid, cheapest first
        first = 1 if cells and cells[0] == TARGET else 0
        if args.from_cell == 0 and first:
            bench_ntk(cells[:1], calib, emit, memory_cells=mem, deadline=math.inf)
    if "infinite" in parts and dtype == "float32":
        bench_infinite(args.quick, emit)
    if "flow" in parts:
        bench_flow(args.quick, emit, dtype)
    if "ntk" in parts:
        bench_ntk(cells[max(first, args.from_cell):], calib, emit, memory_cells=mem,
                  deadline=deadline)
    if "memory" in parts and dtype == TARGET["dtype"]:  # the target cell's peak memory alone
        cell = {**TARGET, "n": 16, "m": 32, "d": 3} if args.quick else TARGET
        for route in NTK_ROUTES:
            est = ntk_bytes(route, cell["n"], cell["m"], cell["d"],
                            np.dtype(cell["dtype"]).itemsize)
            if est > MAX_BYTES or ((nt is None or NTKLIB_ONLY) and route != "ntklib"):
                continue
            emit({"part": "peak_memory", "name": route, "activation": cell["activation"],
                  "sizes": {k: cell[k] for k in ("n", "m", "d")}, "dtype": cell["dtype"],
                  **peak_memory_child(cell, route), "load": load()})
    if measure_ceiling and not args.quick:  # again at the end: the load may have changed
        matmul_ceiling([dtype], [2048], emit, when="end")
    return emit.records


if __name__ == "__main__":
    main(sys.argv[1:])
