"""Test configuration: float64 everywhere exactness is claimed, reproducible hypothesis."""

import os

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


def pytest_terminal_summary(terminalreporter):
    """The browser test's slider-to-figure latencies, at the end of the report."""
    import sys

    browser = sys.modules.get("test_browser")
    lines = browser.latency_report_lines() if browser else []
    if lines:
        terminalreporter.section("browser latency (slider change -> new figure in the DOM)")
        for line in lines:
            terminalreporter.line(line)
