"""Smoke version of `make bench` (benchmarks/): tiny sizes, every route available here agrees.

Runs in the learners' .venv, where neural-tangents is absent: ntklib's closed form against
the plain-jax autodiff route of the bench, ntklib's flow predictor against a direct expm
route, and the formulas that map the notes' network, kernels and time onto
neural-tangents' conventions (its Dense divides by sqrt(fan_in); its mean loss runs time n
times slower), each checked without neural-tangents. Also renders RESULTS.md from the
records, so the benchmark code cannot rot.
"""

import importlib.util
import json
import math
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.linalg import expm

from ntklib import dynamics, net, ntk

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bench = _load("ntk_bench")
report = _load("report")
TOL = {"float32": 1e-5, "float64": 1e-12}


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    """One quick run of every part of ntk_bench (no peak-memory children: they are slow):
    one process per dtype, records in the file."""
    out = tmp_path_factory.mktemp("bench") / "ntk.jsonl"
    recs = bench.main(["--quick", "--no-memory", "--out", str(out)])
    assert recs == [json.loads(line) for line in out.read_text().splitlines()]
    return recs


@pytest.fixture(scope="module")
def learners(records, tmp_path_factory):
    """The learners' stack: ntklib alone on the cells that the reference run timed."""
    ref = tmp_path_factory.mktemp("ref") / "ntk.jsonl"
    ref.write_text("".join(json.dumps(r) + "\n" for r in records))
    return bench.main(["--quick", "--ntklib-only", "--cells-from", str(ref)])


def test_float32_runs_without_x64_and_float64_with_it(records):
    """x64 for the whole process would make neural-tangents compute parts of float32 calls
    in float64: each dtype has its own process, and every route returns the cell's dtype."""
    for r in records:
        if r.get("dtype"):
            assert r["run"]["x64"] == (r["dtype"] == "float64"), r
        if r.get("out_dtype"):
            assert r["out_dtype"] == r["dtype"], r
        assert set(r["run"]["threads"]) == set(bench.THREAD_ENV)
    assert {r["run"]["x64"] for r in records} == {True, False}


def test_learners_stack_times_ntklib_on_the_same_cells(records, learners):
    assert {r["run"]["stack"] for r in learners} == {"learners"}
    assert {r["name"] for r in learners} <= {"ntklib", "matmul", *bench.LIMIT_ROUTES}
    def cells(recs):
        return {(r["part"], r.get("activation"), r.get("case"), json.dumps(r["sizes"]),
                 r["dtype"]) for r in recs if r["name"] == "ntklib"}
    assert cells(learners) == cells(records)


def test_every_empirical_ntk_route_agrees_with_the_closed_form(records):
    ntk_recs = [r for r in records if r["part"] == "empirical_ntk"]
    routes = {r["name"] for r in ntk_recs}
    assert {"ntklib", "jax_autodiff"} <= routes, routes
    assert {(r["activation"], r["dtype"]) for r in ntk_recs} == {("relu", "float32"),
                                                                   ("erf", "float64")}
    for r in ntk_recs:
        assert "skipped" not in r, r
        assert r["max_rel_diff"] <= TOL[r["dtype"]], r
        assert r["median_s"] > 0 and r["min_s"] <= r["median_s"], r


def test_infinite_width_and_flow_parts_run(records):
    inf = [r for r in records if r["part"] == "infinite_ntk"]
    flow = [r for r in records if r["part"] == "flow"]
    assert {r["activation"] for r in inf} == {"relu", "erf"}
    assert {(r["case"], r["dtype"]) for r in flow} == {("from_scratch", "float64"),
                                                       ("new_t", "float64")}
    assert {r["name"] for r in inf} >= {"ntklib", *bench.LIMIT_ROUTES}
    for r in inf + flow:
        if r["name"] not in bench.LIMIT_ROUTES:
            assert r["max_rel_diff"] <= TOL[r["dtype"]], r


def test_ceiling_records(records):
    mm = [r for r in records if r["name"] == "matmul"]
    assert {r["dtype"] for r in mm} == {"float32"}
    frac = [r for r in records if r["name"] == "closed_form_fraction"]
    assert len(frac) == 1 and frac[0]["fraction_median"] > 0


def test_report_renders_every_part(records, learners, tmp_path):
    ntk_path = tmp_path / "ntk.jsonl"
    ntk_path.write_text("".join(json.dumps(r) + "\n" for r in records))
    learners_path = tmp_path / "ntk-learners.jsonl"
    learners_path.write_text("".join(json.dumps(r) + "\n" for r in learners))
    nb_path = tmp_path / "nb.json"
    nb_path.write_text(json.dumps({"notebooks_present": ["x.ipynb"], "records": [
        {"part": "widget", "name": "x:panel", "control": "m", "values": ["64"],
         "median_s": 0.05, "max_s": 0.06, "first_use_max_s": 0.5},
        {"part": "notebook", "name": "x.ipynb", "seconds": 3.0, "error": None},
        {"part": "nbval_series", "name": "notebooks", "notebooks": 1, "seconds": 9.0,
         "returncode": 0, "summary": "1 passed"}]}))
    text = report.main([str(ntk_path), str(learners_path), "--notebooks", str(nb_path),
                        "--outdir", str(tmp_path)])
    assert (tmp_path / "results.json").exists()
    assert (tmp_path / "RESULTS.md").read_text() == text
    for heading in ("## Targets", "## Method", "## Both stacks", "## 1.", "## 2.", "## 3.",
                    "## 4.", "## 5.", "## 6."):
        assert heading in text
    jax_versions = {r["run"]["jax"] for r in records + learners}
    assert all(f"jax {v})" in text for v in jax_versions), jax_versions
    both = text.split("## Both stacks")[1].split("## 1.")[0]
    assert both.count("| infinite_ntk |") == 2 and both.count("| flow |") == 2
    assert "| gram_matmul" not in text and "x gram_matmul" not in text
    assert "| jax_autodiff" not in text  # routes are columns, not rows
    assert "x:panel" in text and "Whole series under strict nbval: 9.0 s" in text


# ---------------------------------------------------------------- neural-tangents mapping

@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_nt_mapping_gives_the_same_network_and_empirical_ntk(key, activation):
    """Dense(ntk) on sqrt(d) x with W1 = A^T, W2 = b[:, None] is the notes' network, and its
    Jacobian wrt (W1, W2) gives ntklib's NTK (the gradient wrt W1 at sqrt(d) x is the
    gradient wrt A at x)."""
    kx, kp = jax.random.split(key)
    X = bench.make_inputs(kx, 6, 4, "float64")
    params = net.init(kp, 4, 9, dtype="float64")
    Xn, pn = bench.nt_inputs(X), bench.nt_params(params)
    f_nt = bench.nt_style_apply(pn, Xn, activation)
    np.testing.assert_allclose(f_nt, net.apply(params, X, activation=activation), rtol=1e-12)
    trainable = (pn[0][0], pn[2][0])

    def f(w, X):
        return bench.nt_style_apply([(w[0], None), (), (w[1], None)], X, activation)

    K_nt = jax.jit(bench.jacobian_contraction, static_argnums=0)(f, trainable, Xn)
    K = ntk.empirical_ntk(params, X, activation=activation)
    np.testing.assert_allclose(K_nt, K, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_nt_mapping_of_the_infinite_width_kernel(key, activation):
    """neural-tangents' layer-1 covariance for Dense(ntk) is x_nt . x_nt' / d = x . x'; its
    NTK is then E[s s] + (x . x') E[s' s'] = Kb + Ka, ntklib's infinite-width NTK: checked
    here against a Monte Carlo estimate in numpy (a ~ N(0, I), m = 40000 neurons)."""
    X = np.asarray(bench.make_inputs(key, 5, 3, "float64"))
    Xn = np.asarray(bench.nt_inputs(X))
    np.testing.assert_allclose(Xn @ Xn.T / X.shape[1], X @ X.T, rtol=1e-12)
    act = net.activation(activation)
    Z = X @ np.random.default_rng(0).standard_normal((40_000, 3)).T
    S, D = np.asarray(act.fn(Z)), np.asarray(act.deriv(Z))
    mc = (D @ D.T) * (Xn @ Xn.T / X.shape[1]) / Z.shape[1] + S @ S.T / Z.shape[1]
    exact = np.asarray(ntk.infinite_width_ntk(X, activation=activation))
    assert np.linalg.norm(mc - exact) / np.linalg.norm(exact) < 0.03


def test_nt_time_mapping_and_flow_against_expm(key):
    """Mean loss: dU/ds = -(lr / n) K U in neural-tangents' time s, so s = n t / lr gives our
    exp(-K t); and ntklib's predictor equals the direct expm route at train and test points."""
    n, n_test = 12, 7
    kx, kt, ky, kf = jax.random.split(key, 4)
    X, Xt = bench.make_inputs(kx, n, 3, "float64"), bench.make_inputs(kt, n_test, 3, "float64")
    K, Ks = ntk.infinite_width_ntk(X), ntk.infinite_width_ntk(Xt, X)
    y = jax.random.normal(ky, (n,), "float64")
    f0, f0t = (0.3 * jax.random.normal(k, (m,), "float64")
               for k, m in zip(jax.random.split(kf), (n, n_test), strict=True))
    lr = 0.5
    p = dynamics.flow_predictor(K, jnp.concatenate([K, Ks]), f0, jnp.concatenate([f0, f0t]), y)
    for t in (0.0, 0.03, 0.7, 5.0):
        E = expm(-np.asarray(K) * t)
        np.testing.assert_allclose(expm(-(lr / n) * np.asarray(K) * bench.nt_time(t, n, lr)), E,
                                   rtol=1e-12, atol=1e-14)
        train = y + E @ (f0 - y)
        test = f0t - Ks @ np.linalg.solve(K, (np.eye(n) - E) @ (f0 - y))
        np.testing.assert_allclose(p(t), jnp.concatenate([train, test]), rtol=1e-8,
                                   atol=1e-10)


def test_cost_models_put_the_target_reference_over_the_caps():
    """The default (Jacobian) routes at the target size are skipped as over 20 GiB; the
    closed form's count is 2nmd + 4n^2 m + 2n^2 d."""
    n, m, d = 1024, 4096, 784
    assert bench.ntk_flops("ntklib", n, m, d) == 2 * n * m * d + 4 * n * n * m + 2 * n * n * d
    assert bench.ntk_bytes("nt_jacobian_contraction", n, m, d, 4) > bench.MAX_BYTES
    assert bench.ntk_bytes("ntklib", n, m, d, 4) < 2**30
    assert math.isclose(bench.max_rel_diff([1.0, 2.0], [1.0, 4.0]), 0.5)


def test_report_keeps_one_record_per_measurement():
    """Staged or repeated runs: the latest record of a measurement replaces earlier ones, the
    ceiling's repeat at the end of a run is its own column, and a cell measured later is no
    longer listed as not run."""
    cell = {"n": 8, "m": 4, "d": 2}
    mm = {"part": "ceiling", "name": "matmul", "sizes": {"N": 64}, "dtype": "float32"}
    recs = [{**mm, "gflops_per_s": 1.0, "median_s": 1.0},
            {"part": "empirical_ntk", "name": "deadline", "sizes": {
                "activation": "relu", **cell, "dtype": "float32"}, "skipped": "budget"},
            {**mm, "gflops_per_s": 2.0, "median_s": 0.5},
            {**mm, "gflops_per_s": 3.0, "median_s": 0.3, "when": "end"},
            {"part": "empirical_ntk", "name": "ntklib", "activation": "relu", "sizes": cell,
             "dtype": "float32", "median_s": 0.1}]
    kept = report.latest(recs)
    assert [r.get("gflops_per_s") for r in kept if r["part"] == "ceiling"] == [2.0, 3.0]
    assert not [r for r in kept if r["name"] == "deadline"]
    text = report.render(kept, {})
    assert text.count("| N=64 | float32 |") == 1 and "| 2 | 3 |" in text


def test_report_renders_the_binder_limits():
    record = {"notebook": "x.ipynb", "top_to_bottom_s": 12.34, "peak_rss_run": 6.1e8,
              "peak_rss_widgets": 7.2e8, "error": None,
              "widgets": [{"control": "m", "moves": [
                  {"seconds": 0.8, "figure_seconds": None, "error": None, "revisit": False},
                  {"seconds": 0.2, "figure_seconds": None, "error": None, "revisit": True}]}]}
    text = "\n".join(report.binder_section({"cores": "0", "think_s": 1.0,
                                            "records": [record]}))
    assert "| x.ipynb | 12.3 | 0.61 / 0.72 | 0.8 | 0.2 / 0.2 | 0 |" in text
    assert "on one core: 12 s" in text
    assert "Not measured" in "\n".join(report.binder_section(None))
