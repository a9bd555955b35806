"""Colab, simulated offline as far as it goes: run notebooks as a fresh Colab runtime would.

1. a venv with only what Colab preinstalls that matters here (numpy, jax, matplotlib,
   ipywidgets 7.7.1 as Colab ships it, ipykernel) plus nbclient to execute: no ntklib;
2. a git repository holding a snapshot of this working tree (the "public repository");
3. for each notebook, a temporary copy whose first code cell is the Colab setup cell
   (tools/colab_cell.py) pointed at that repository, after a cell that imports a stand-in
   `google.colab` (Colab imports the real one when its kernel starts);
4. each copy executed top to bottom (tools/run_notebooks.py) in a folder without ntklib.

It prints what the setup cell installed, where ntklib found its data, and each notebook's
time; it fails on any error. The venv needs PyPI once (about 600 MB); later runs reuse it.

    python tools/colab_simulation.py 01_classic_kernels.ipynb 02_kernel_trick.ipynb
    python tools/colab_simulation.py --ipywidgets 8.1.9 01_classic_kernels.ipynb
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import colab_cell  # noqa: E402

COLAB_STANDIN = '''\
"""Stand-in for Colab's google.colab (simulation): records enable_custom_widget_manager."""
import os


class output:  # noqa: N801  (a module in Colab)
    @staticmethod
    def enable_custom_widget_manager():
        with open(os.environ["COLAB_SIM_LOG"], "a") as f:
            f.write("enable_custom_widget_manager\\n")
'''


def make_venv(folder: Path, ipywidgets: str) -> Path:
    python = folder / "bin" / "python"
    stamp = folder / f".colab-sim-{ipywidgets}"
    if not stamp.exists():
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", "numpy", "jax", "matplotlib",
                        f"ipywidgets=={ipywidgets}", "ipykernel<7", "nbclient", "nbformat"],
                       check=True)
        stamp.touch()
    return python


def snapshot_repository(target: Path) -> Path:
    """A git repository with this working tree's tracked and new files (not ignored ones)."""
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                           cwd=ROOT, check=True, capture_output=True, text=True).stdout
    for name in filter(None, files.split("\0")):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    git = ["git", "-c", "user.name=sim", "-c", "user.email=sim@localhost"]
    subprocess.run([*git, "init", "-q"], cwd=target, check=True)
    subprocess.run([*git, "add", "-A"], cwd=target, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "snapshot"], cwd=target, check=True)
    return target


def colab_copy(notebook: Path, url: str, target: Path) -> Path:
    nb = colab_cell.with_setup_cell(json.loads(notebook.read_text()), colab_cell.cell_source(url))
    nb["cells"].insert(0, {"cell_type": "code", "execution_count": None, "metadata": {},
                           "outputs": [], "source": ["import google.colab  # simulation"],
                           **({"id": "colab-sim"} if "id" in nb["cells"][0] else {})})
    path = target / notebook.name
    colab_cell.write(path, nb)
    return path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+")
    parser.add_argument("--ipywidgets", default="7.7.1", help="the version Colab has")
    parser.add_argument("--venv", type=Path, default=ROOT / "build" / "colab-sim")
    args = parser.parse_args(argv)
    python = make_venv(args.venv, args.ipywidgets)
    # a fresh runtime: no ntklib from an earlier simulation
    subprocess.run([str(python), "-m", "pip", "uninstall", "--quiet", "--yes", "ntklib"],
                   check=False, capture_output=True)
    with tempfile.TemporaryDirectory(prefix="colab-sim-") as tmp:
        tmp = Path(tmp)
        repo = snapshot_repository(tmp / "repo")
        standin = tmp / "standin" / "google" / "colab"
        standin.mkdir(parents=True)
        (standin / "__init__.py").write_text(COLAB_STANDIN)
        run = tmp / "run"
        run.mkdir()
        log = tmp / "colab.log"
        log.touch()
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "NTKLIB_DATA_DIR", "MPLBACKEND", "VIRTUAL_ENV")}
        env.update(PYTHONPATH=str(tmp / "standin"), COLAB_SIM_LOG=str(log))
        probe = ("import importlib.util as u; print('ntklib before:', "
                 "'installed' if u.find_spec('ntklib') else 'missing')")
        subprocess.run([str(python), "-c", probe], cwd=run, env=env, check=True)
        for name in args.notebooks:
            path = colab_copy(ROOT / "notebooks" / name, f"file://{repo}", run)
            done = subprocess.run([str(python), str(ROOT / "tools" / "run_notebooks.py"),
                                   "--no-write", "--timeout", "600", str(path)],
                                  cwd=run, env=env, capture_output=True, text=True)
            print(done.stdout.strip())
            if done.returncode:
                print(done.stderr[-3000:])
                return 1
        probe = ("from importlib import metadata; from ntklib import data; "
                 "d = metadata.distribution('ntklib'); "
                 "print('ntklib after:', d.version, (d.read_text('direct_url.json') or '')[:90]); "
                 "print('data folder:', data.DATA_DIR)")
        subprocess.run([str(python), "-c", probe], cwd=run, env=env, check=True)
        calls = log.read_text().split()
        print(f"ipywidgets {args.ipywidgets}: enable_custom_widget_manager called "
              f"{len(calls)} times")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
