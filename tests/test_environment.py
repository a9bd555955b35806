"""The offline guard of the environments: pyproject.toml, requirements-lock.txt, environment.yml.

No conda solver can run here, so the files are compared: the lock pins every package that
ntklib[test] pulls in, at versions that pyproject's bounds accept, and is exactly what this
environment holds (CI installs from it, so CI tests the lock); environment.yml (Binder) is
conda-forge only, pins python exactly to the lock's minor version (repo2docker ignores a range
and falls back silently) and hands the lock to pip; postBuild installs ntklib itself.
"""

import importlib.util
import os
import re
import sys
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("lock", ROOT / "tools" / "lock.py")
lock = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lock)


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _environment():
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def _conda_and_pip():
    deps = _environment()["dependencies"]
    conda = [d.replace(" ", "") for d in deps if isinstance(d, str)]
    pip = [line for d in deps if isinstance(d, dict) for line in d.get("pip", [])]
    return conda, pip


def test_conda_forge_only():
    assert _environment()["channels"] == ["conda-forge"]


def test_python_is_pinned_to_the_locked_minor_version_that_pyproject_accepts():
    conda, _ = _conda_and_pip()
    pins = [d for d in conda if re.match(r"python\b", d)]
    assert len(pins) == 1, f"environment.yml must pin python once, found {pins}"
    match = re.fullmatch(r"python=(\d+\.\d+)", pins[0])
    assert match, f"pin python exactly as python=3.X (repo2docker ignores ranges), got {pins[0]}"
    assert match.group(1) == lock.python_of(), (
        f"environment.yml pins python {match.group(1)}, the lock was tested with "
        f"{lock.python_of()}")
    low = re.fullmatch(r">=(\d+)\.(\d+)", _pyproject()["requires-python"]).groups()
    assert tuple(map(int, match.group(1).split("."))) >= tuple(map(int, low))


def test_binder_installs_the_lock_and_nothing_else():
    conda, pip = _conda_and_pip()
    assert sorted(conda) == sorted([c for c in conda if c.startswith("python=")] + ["pip"]), (
        f"only python and pip come from conda (the rest is the lock's), got {conda}")
    assert pip == [f"-r {lock.LOCK.name}"], pip


def test_lock_pins_every_dependency_within_pyproject_bounds():
    pins = lock.read()
    project = _pyproject()
    declared = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    for text in declared:
        req = Requirement(text)
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} (pyproject.toml) is not in the lock: run `make lock`"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"the lock pins {name}=={pins[name]}, outside pyproject's {req.specifier}")
    assert "ntklib" not in pins, "the lock must not pin the project itself"
    # the tools to check notebooks in a Binder terminal
    assert {"pytest", "nbval"} <= set(pins)


def test_lock_is_written_by_the_tool():
    text = lock.LOCK.read_text()
    assert text.startswith(lock.header().splitlines()[0].split(":")[0])
    assert text == lock.render(lock.read()), "edit the lock only through `make lock`"


def test_this_environment_is_the_lock():
    """CI installs from the lock (make install): what it tests must be exactly the lock."""
    assert ".".join(map(str, sys.version_info[:2])) == lock.python_of()
    problems = lock.diff(lock.read(), lock.closure())
    assert not problems, ("requirements-lock.txt and this environment disagree (`make install` "
                          "installs the lock, `make lock` writes it):\n" + "\n".join(problems))


def test_every_install_takes_the_lock():
    make = (ROOT / "Makefile").read_text()
    assert re.search(r"^LOCK\s*\?=\s*requirements-lock\.txt$", make, re.M)
    assert re.search(r"^\$\(STAMP\): pyproject\.toml \$\(LOCK\)$", make, re.M)
    assert "$(CONSTRAINTS) -e '.[test]'" in make
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make install" in ci and "tools/lock.py --check" in ci


def test_postbuild_installs_ntklib_itself():
    post = ROOT / "postBuild"
    assert os.access(post, os.X_OK), "postBuild must be executable for repo2docker to run it"
    text = post.read_text()
    assert text.startswith("#!/bin/bash") and "set -euo pipefail" in text
    assert re.search(r"pip install --no-deps -e \.", text)
    assert not (ROOT / "binder").exists(), "a binder/ folder would make repo2docker ignore " \
                                           "the root configuration files"
