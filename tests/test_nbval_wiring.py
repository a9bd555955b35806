"""nbval is wired strictly: a notebook whose stored output no longer matches fails.

Runs pytest with the project's own configuration on a throwaway notebook in a temporary
folder, once with the right stored output, once with a wrong one.
"""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _notebook(stored: str) -> dict:
    def code(n, source, text):
        return {"cell_type": "code", "execution_count": n, "id": f"c{n}", "metadata": {},
                "source": source,
                "outputs": [{"name": "stdout", "output_type": "stream", "text": text}]}
    return {
        "cells": [code(1, "print(f'{2 / 3:.4f}')", stored),
                  code(2, "print(object())", "<object object at 0x7f0012345678>\n")],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }


def _run_nbval(tmp_path: Path, stored: str) -> subprocess.CompletedProcess:
    nb = tmp_path / "probe.ipynb"
    nb.write_text(json.dumps(_notebook(stored)))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT), str(nb)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_matching_outputs_pass_and_memory_addresses_are_sanitized(tmp_path):
    run = _run_nbval(tmp_path, "0.6667\n")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout


def test_a_changed_output_fails(tmp_path):
    run = _run_nbval(tmp_path, "0.6666\n")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 failed, 1 passed" in run.stdout
