"""Test configuration: float64 everywhere exactness is claimed, reproducible hypothesis."""

import os
import time

os.environ.setdefault("MPLBACKEND", "Agg")  # no display in tests; set before matplotlib loads

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


def pytest_collection_modifyitems(items):
    """The browser test first: under `make test`'s two workers it is the longest file, and
    started first it runs beside everything else instead of after it."""
    items.sort(key=lambda item: "test_browser.py" not in item.nodeid)


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
