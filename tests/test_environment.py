"""The offline guard of the Binder environment: environment.yml must mirror pyproject.toml.

No conda solver can run here, so this compares the two files: the same packages, the same
version bounds, conda-forge only, and python pinned exactly to a minor version that
pyproject's requires-python accepts (repo2docker ignores a range and falls back silently).
"""

import os
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# pip names that conda-forge spells differently (none today; add here when one appears).
CONDA_NAME = {}


def _split(spec: str) -> tuple[str, str]:
    name, bound = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec).groups()
    return name.lower(), bound.replace(" ", "")


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _environment():
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def test_conda_forge_only():
    assert _environment()["channels"] == ["conda-forge"]


def test_python_is_pinned_to_a_minor_version_that_pyproject_accepts():
    deps = [d for d in _environment()["dependencies"] if isinstance(d, str)]
    pins = [d for d in deps if _split(d)[0] == "python"]
    assert len(pins) == 1, f"environment.yml must pin python once, found {pins}"
    match = re.fullmatch(r"python=(\d+)\.(\d+)", pins[0].replace(" ", ""))
    assert match, f"pin python exactly as python=3.X (repo2docker ignores ranges), got {pins[0]}"
    low = re.fullmatch(r">=(\d+)\.(\d+)", _pyproject()["requires-python"]).groups()
    assert tuple(map(int, match.groups())) >= tuple(map(int, low))


def test_same_packages_and_bounds_as_pyproject():
    runtime = dict(_split(s) for s in _pyproject()["dependencies"])
    conda = dict(_split(d.replace("=", "==", 1) if re.match(r"^[\w.\-]+=[^=]", d) else d)
                 for d in _environment()["dependencies"] if isinstance(d, str))
    conda.pop("python")
    conda.pop("pip")
    expected = {CONDA_NAME.get(n, n): b for n, b in runtime.items()}
    assert conda == expected, (
        "environment.yml and pyproject.toml disagree:\n"
        f"  only in environment.yml: {sorted(set(conda.items()) - set(expected.items()))}\n"
        f"  only in pyproject.toml:  {sorted(set(expected.items()) - set(conda.items()))}")


def test_postbuild_installs_ntklib_itself():
    post = ROOT / "postBuild"
    assert os.access(post, os.X_OK), "postBuild must be executable for repo2docker to run it"
    text = post.read_text()
    assert text.startswith("#!/bin/bash") and "set -euo pipefail" in text
    assert re.search(r"pip install --no-deps -e \.", text)
    assert not (ROOT / "binder").exists(), "a binder/ folder would make repo2docker ignore " \
                                           "the root configuration files"
