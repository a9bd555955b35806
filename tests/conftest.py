"""Test configuration: float64 everywhere exactness is claimed, reproducible hypothesis."""

import os
import time
from collections import Counter

os.environ.setdefault("MPLBACKEND", "Agg")  # no display in tests; set before matplotlib loads

# One JAX compilation cache on disk for the whole test session (set before jax loads; the
# notebooks' kernels, nbval's and the browser test's, inherit it): every notebook runs twice
# (strict nbval and the browser), and the second run loads its compiled programs instead of
# compiling them again (notebook 07: 22 s -> 11 s). Most programs compile in well under a
# second, so every one is kept. `JAX_ENABLE_COMPILATION_CACHE=false` turns it off, e.g. to
# measure a learner's first-use latency in the browser, as a fresh kernel meets it.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build", "jax-cache"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
# Two processes may meet at one entry, one still writing it: jax then warns and compiles
# again (a correct result, only slower): the warning is no failure, in tests (pyproject's
# filterwarnings) or in kernels.
os.environ["PYTHONWARNINGS"] = ",".join(dict.fromkeys(filter(None, (  # once, though each
    *os.environ.get("PYTHONWARNINGS", "").split(","),  # xdist worker loads this file again
    "ignore:Error reading persistent compilation cache entry"))))

import jax
import pytest
from hypothesis import settings

# x64 before any array exists: tests that claim 1e-10 agreement need float64.
# Tests that are about float32 ask for it explicitly through dtype arguments.
jax.config.update("jax_enable_x64", True)

# jit compilation makes the first example slow: no per-example deadline.
settings.register_profile("default", deadline=None, max_examples=30)
settings.register_profile("ci", deadline=None, max_examples=30, derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture
def key():
    """A fixed jax.random key: every random test input comes from an explicit key."""
    return jax.random.key(0)


STARTED = time.time()  # this test session's start: older browser reports are not reported


#: Started right after the browser test, on its worker (xdist hands each worker two files at
#: the start): a file of static checks that takes a fraction of a second, so that no long file
#: waits behind the browser test.
BROWSER_COMPANION = "tests/test_readme.py"


def pytest_collection_modifyitems(items):
    """The browser test first, then the notebooks, then the unit-test files, most tests first.

    Under `make test` (xdist `--dist loadfile --no-loadscope-reorder`, which keeps this order)
    the longest files start first: the browser test, the longest, runs beside everything
    else instead of after it, and the short unit-test files fill the workers at the end.
    (xdist's own order, files with the most tests first, started the browser test last.)
    The notebooks go in reverse: the browser test runs 01 first and nbval 08 first, so each
    notebook's second run finds its programs in the shared compilation cache.
    """
    def path(item) -> str:
        return item.nodeid.split("::")[0]

    tests_in = Counter(path(item) for item in items)
    notebooks = sorted(p for p in tests_in if p.endswith(".ipynb"))

    def rank(item) -> tuple[int, int]:
        p = path(item)
        if p.endswith("test_browser.py"):
            return 0, 0
        if p == BROWSER_COMPANION:
            return 1, 0
        if p in notebooks:
            return 2, -notebooks.index(p)
        return 3, -tests_in[p]

    items.sort(key=rank)


def pytest_terminal_summary(terminalreporter):
    """The browser test's slider-to-figure latencies, at the end of the report (read from the
    JSON it writes, so that it works when the test ran in an xdist worker)."""
    from test_browser import REPORT, latency_report_lines

    if not REPORT.exists() or REPORT.stat().st_mtime < STARTED:
        return
    lines = latency_report_lines()
    if lines:
        terminalreporter.section("browser latency (slider change -> new figure in the DOM)")
        for line in lines:
            terminalreporter.line(line)
