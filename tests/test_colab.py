"""The Colab setup cell (tools/colab_cell.py): what it does on Colab, and that it does nothing
anywhere else. The whole notebook on a simulated Colab runtime is tools/colab_simulation.py
(it builds a venv from PyPI, so it is not part of this suite)."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("colab_cell", ROOT / "tools" / "colab_cell.py")
colab_cell = importlib.util.module_from_spec(spec)
spec.loader.exec_module(colab_cell)

def _run(source: str) -> str:
    """Execute the cell's source as a kernel would; what it printed."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        exec(compile(source, "<setup cell>", "exec"), {"__name__": "__main__"})
    return printed.getvalue()


@pytest.fixture
def colab(monkeypatch):
    """A simulated Colab runtime: google.colab imported, pip and the widget manager recorded."""
    calls = []
    google, colab_mod, output = (types.ModuleType(n) for n in
                                 ("google", "google.colab", "google.colab.output"))
    output.enable_custom_widget_manager = lambda: calls.append("enable_custom_widget_manager")
    colab_mod.output, google.colab = output, colab_mod
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab_mod)
    monkeypatch.setitem(sys.modules, "google.colab.output", output)
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append(cmd))
    return calls


def test_outside_colab_it_does_nothing_and_prints_nothing(monkeypatch):
    assert "google.colab" not in sys.modules
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("ran a command"))
    assert _run(colab_cell.cell_source()) == ""


def test_on_colab_it_installs_ntklib_from_the_repository_only_when_missing(colab, monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "ntklib" else find_spec(name, *a))
    assert _run(colab_cell.cell_source()) == ""
    url = colab_cell.repository_url()
    assert colab[0] == [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                        f"git+{url}"]
    colab.clear()
    monkeypatch.setattr(importlib.util, "find_spec", find_spec)  # ntklib importable here
    _run(colab_cell.cell_source())
    assert not [c for c in colab if isinstance(c, list)], "installed although present"


@pytest.mark.parametrize(("version", "enabled"), [("7.7.1", False), ("8.1.9", True)])
def test_on_colab_ipywidgets_8_gets_the_custom_widget_manager(colab, monkeypatch, version,
                                                              enabled):
    import ipywidgets

    monkeypatch.setattr(ipywidgets, "__version__", version)
    _run(colab_cell.cell_source())
    assert ("enable_custom_widget_manager" in colab) == enabled


def test_the_cell_is_short_and_starts_with_its_marker():
    source = colab_cell.cell_source()
    assert source.startswith(colab_cell.MARKER)
    assert len(source.splitlines()) <= 16
    assert colab_cell.repository_url().startswith("https://github.com/")


def test_the_tool_inserts_once_then_updates_in_place(tmp_path):
    path = tmp_path / "nb.ipynb"
    before = json.loads((ROOT / "notebooks" / "01_classic_kernels.ipynb").read_text())
    before["cells"] = [c for c in before["cells"]  # the notebook as it was without the cell
                       if not "".join(c["source"]).startswith(colab_cell.MARKER)]
    path.write_text(json.dumps(before))
    assert colab_cell.main([str(path)]) == 0
    once = path.read_text()
    nb = json.loads(once)
    assert len(nb["cells"]) == len(before["cells"]) + 1
    assert colab_cell.first_code_source(nb) == colab_cell.cell_source()
    first_md = next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code")
    assert nb["cells"][:first_md] == before["cells"][:first_md]  # the title stays first
    assert colab_cell.main([str(path)]) == 0 and path.read_text() == once  # idempotent
    assert colab_cell.main(["--check", str(path)]) == 0
    assert colab_cell.main(["--url", "file:///elsewhere", str(path)]) == 0
    moved = json.loads(path.read_text())
    assert len(moved["cells"]) == len(nb["cells"])
    assert "git+file:///elsewhere" in colab_cell.first_code_source(moved)
    assert colab_cell.main(["--check", str(path)]) == 1


def test_the_cell_passes_ruff(tmp_path):
    path = tmp_path / "cell.ipynb"
    shutil.copy(ROOT / "notebooks" / "01_classic_kernels.ipynb", path)
    nb = json.loads(path.read_text())
    nb["cells"] = [c for c in nb["cells"] if c["cell_type"] == "markdown"][:1]
    colab_cell.write(path, colab_cell.with_setup_cell(nb, colab_cell.cell_source()))
    ruff = Path(sys.executable).parent / "ruff"
    done = subprocess.run([str(ruff), "check", "--config", str(ROOT / "pyproject.toml"),
                           str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_every_notebook_starts_with_the_setup_cell():
    assert colab_cell.main(["--check"]) == 0
