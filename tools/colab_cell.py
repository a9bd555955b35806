"""The Colab setup cell: the first code cell of every notebook, written by this script.

On Colab (and only there) it installs ntklib, with the data sets it ships, from the
repository address of pyproject.toml's [project.urls] Repository, unless ntklib is already
importable. In JupyterLab, on Binder and in CI it does nothing and prints nothing, so the
stored notebooks keep no output for it and strict nbval passes.

Why `--no-deps`: Colab already has numpy, jax, matplotlib and ipywidgets; pip resolving
ntklib's own requirements would pull in JupyterLab and an ipykernel < 7 over Colab's runtime,
and upgrade ipywidgets 7 (which Colab ships and imports when the kernel starts) to 8, which
needs a restart of the runtime before anything works. ipywidgets 7 is drawn by Colab itself;
ipywidgets 8 only through Colab's custom widget manager (loaded from a CDN), which the cell
switches on when it finds 8 or later (a runtime where someone upgraded it).

    python tools/colab_cell.py                 # insert or update the cell in notebooks/*.ipynb
    python tools/colab_cell.py --check         # exit 1 if a notebook lacks the current cell
    python tools/colab_cell.py --url URL NB..  # another address (tests: a local clone)
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = "# Colab only:"

TEMPLATE = '''\
# Colab only: install ntklib (with its data) and let Colab draw the widgets. Elsewhere: nothing.
import sys

if "google.colab" in sys.modules:
    import importlib.util
    import subprocess

    if importlib.util.find_spec("ntklib") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                        "git+{url}"], check=True)
    import ipywidgets
    from google.colab import output

    if not ipywidgets.__version__.startswith("7"):
        output.enable_custom_widget_manager()'''


def repository_url() -> str:
    """The repository's public address, [project.urls] Repository of pyproject.toml."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]


def cell_source(url: str | None = None) -> str:
    """The setup cell's source for the repository at `url` (default: the public address)."""
    return TEMPLATE.format(url=url or repository_url())


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def with_setup_cell(nb: dict, source: str) -> dict:
    """`nb` (notebook JSON) with `source` as its first code cell: the existing setup cell (the
    first code cell, if it starts with MARKER) updated, else a new cell inserted before the
    first code cell. Idempotent."""
    cells = nb["cells"]
    first = next((i for i, c in enumerate(cells) if c["cell_type"] == "code"), len(cells))
    if first < len(cells) and "".join(cells[first]["source"]).startswith(MARKER):
        cells[first]["source"] = _lines(source)
        cells[first]["outputs"] = []
        return nb
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": _lines(source)}
    if nb.get("nbformat", 4) > 4 or nb.get("nbformat_minor", 0) >= 5:
        cell["id"] = "colab-setup-" + uuid.uuid5(uuid.NAMESPACE_URL, "colab-setup").hex[:8]
    cells.insert(first, cell)
    return nb


def first_code_source(nb: dict) -> str | None:
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    return "".join(code[0]["source"]) if code else None


def write(path: Path, nb: dict) -> None:
    # the layout nbformat writes: sorted keys, indent 1, non-ASCII kept, a final newline
    path.write_text(json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--url", help="repository address (default: pyproject's Repository)")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    source = cell_source(args.url)
    stale = []
    for path in paths:
        nb = json.loads(path.read_text())
        if first_code_source(nb) == source:
            continue
        if args.check:
            stale.append(path.name)
        else:
            write(path, with_setup_cell(nb, source))
            print(f"{path}: setup cell written")
    if stale:
        print("no current Colab setup cell first in: " + ", ".join(stale)
              + " (run `python tools/colab_cell.py`)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
