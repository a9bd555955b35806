"""Tests of ntklib.data and of the shipped files in data/: checksums, reproducible generation,
shapes, columns, values against the upstream source, and refusal of unknown, corrupted,
truncated or missing files."""

import csv
import fnmatch
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tomllib
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from ntklib import data

ROOT = Path(__file__).resolve().parents[1]
REPO_DATA = ROOT / "data"


def _generator():
    spec = importlib.util.spec_from_file_location("make_data", REPO_DATA / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def copy_dir(tmp_path, monkeypatch):
    """A copy of the shipped data folder, made the active one through NTKLIB_DATA_DIR."""
    folder = tmp_path / "data"
    shutil.copytree(REPO_DATA, folder)
    monkeypatch.setenv("NTKLIB_DATA_DIR", str(folder))
    return folder


def test_default_folder_is_the_repository_data_folder(monkeypatch):
    monkeypatch.delenv("NTKLIB_DATA_DIR", raising=False)
    assert data.DATA_DIR == REPO_DATA
    assert data.available() == ["penguins", "toy_1d"]


def _setuptools():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_the_wheel_ships_every_data_file_and_every_package():
    config = _setuptools()
    assert config["package-dir"]["ntklib._data"] == "data"
    patterns = config["package-data"]["ntklib._data"]
    shipped = [line.split("  ")[1] for line in (REPO_DATA / "SHA256SUMS").read_text().splitlines()]
    for name in [*shipped, "SHA256SUMS", "README.md"]:
        assert any(fnmatch.fnmatch(name, p) for p in patterns), f"{name} is not in the wheel"
    packages = {".".join(p.relative_to(ROOT).parts) for p in (ROOT / "ntklib").rglob("*")
                if p.is_dir() and any(p.glob("*.py"))} | {"ntklib"}
    missing = packages - set(config["packages"])
    assert not missing, f"subpackages missing from [tool.setuptools] packages: {missing}"


def test_a_plain_install_finds_its_data(tmp_path):
    """`pip install` (not editable, e.g. on Colab): no checkout, no NTKLIB_DATA_DIR."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "ntklib", "data"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, source / name)
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--disable-pip-version-check", "--target", str(site), str(source)],
                   check=True, capture_output=True)
    shutil.rmtree(source)
    env = {k: v for k, v in os.environ.items() if k != "NTKLIB_DATA_DIR"}
    env["PYTHONPATH"] = str(site)
    code = ("from ntklib import data; d = data.load('penguins', 'test'); "
            "print(data.DATA_DIR); print(d.X.shape, data.available())")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=True,
                         capture_output=True, text=True).stdout.splitlines()
    assert out == [str(site / "ntklib" / "_data"), "(119, 3) ['penguins', 'toy_1d']"]


def test_shipped_files_match_sha256sums():
    # independent of ntklib: parse the file as sha256sum -c would
    lines = (REPO_DATA / "SHA256SUMS").read_text().splitlines()
    assert lines
    for line in lines:
        digest, name = line.split("  ")
        assert hashlib.sha256((REPO_DATA / name).read_bytes()).hexdigest() == digest, name


def test_generator_reproduces_the_shipped_bytes(tmp_path):
    written = _generator().write_all(tmp_path)
    assert {p.name for p in written} == {"penguins.csv", "toy_1d.csv", "SHA256SUMS"}
    for path in written:
        assert path.read_bytes() == (REPO_DATA / path.name).read_bytes(), path.name


def test_generator_refuses_a_different_upstream_file():
    generator = _generator()
    generator.SOURCE_SHA256 = "0" * 64
    with pytest.raises(RuntimeError, match=r"penguins\.csv has sha256 [0-9a-f]{64}, expected 0+ "):
        generator.penguins()


def test_toy_1d_shapes_and_content(monkeypatch):
    monkeypatch.delenv("NTKLIB_DATA_DIR", raising=False)
    train, test = data.load("toy_1d", "train"), data.load("toy_1d", split="test")
    assert train.X.shape == (24, 1) and train.y.shape == (24,)
    assert test.X.shape == (101, 1) and test.y.shape == (101,)
    assert train.X.dtype == test.y.dtype == np.float64
    assert data.load("toy_1d").X.shape == (125, 1)
    assert train.name == "toy_1d[train]" and "X (24, 1)" in repr(train)
    assert train.columns == ("x",) and train.target == "y"
    x = train.X[:, 0]
    assert np.all(np.abs(x) <= 1) and np.min(np.diff(x)) >= 0.025
    np.testing.assert_allclose(test.X[:, 0], np.linspace(-1, 1, 101), atol=1e-10)
    target = _generator().target
    np.testing.assert_allclose(test.y, target(test.X[:, 0]), atol=1e-10)  # noise-free
    noise = train.y - target(x)
    assert 0.01 < np.std(noise) < 0.15 and np.max(np.abs(noise)) < 0.25


def _penguins_source_rows():
    """The upstream rows, read with the csv module from the file kept in data/sources/."""
    with (REPO_DATA / "sources" / "palmerpenguins-0.1.6-penguins.csv").open(newline="") as f:
        return list(csv.DictReader(f))


PENGUIN_INPUTS = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm")


def test_penguins_shapes_splits_columns(monkeypatch):
    monkeypatch.delenv("NTKLIB_DATA_DIR", raising=False)
    train, test = data.load("penguins", "train"), data.load("penguins", "test")
    every = data.load("penguins")
    assert train.X.shape == (223, 3) and train.y.shape == (223,)
    assert test.X.shape == (119, 3) and test.y.shape == (119,)
    assert every.X.shape == (342, 3) and every.X.dtype == every.y.dtype == np.float64
    for ds in (train, test, every):
        assert ds.columns == PENGUIN_INPUTS and ds.target == "body_mass_kg"
    assert test.name == "penguins[test]" and "body_mass_kg" in repr(test)
    assert np.all(np.isfinite(every.X)) and np.all(np.isfinite(every.y))
    assert 2.5 < every.y.min() and every.y.max() < 6.5  # kilograms, not grams
    header = (REPO_DATA / "penguins.csv").read_text().splitlines()[0]
    assert header == "split,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_kg"


def test_penguins_match_the_source_rows(monkeypatch):
    monkeypatch.delenv("NTKLIB_DATA_DIR", raising=False)
    source = _penguins_source_rows()
    kept = [r for r in source if "NA" not in [r[c] for c in (*PENGUIN_INPUTS, "body_mass_g")]]
    assert len(source) == 344 and len(kept) == 342
    for split, years in (("train", {"2007", "2008"}), ("test", {"2009"})):
        rows = [r for r in kept if r["year"] in years]
        ds = data.load("penguins", split)
        assert len(rows) == len(ds.y)
        for i in (0, 1, len(rows) // 2, len(rows) - 1):  # spot checks, in source order
            expected = [float(rows[i][c]) for c in PENGUIN_INPUTS]
            np.testing.assert_array_equal(ds.X[i], expected)
            assert ds.y[i] == float(rows[i]["body_mass_g"]) / 1000
        # every row: inputs exactly, target within one rounding of g / 1000
        X = np.array([[float(r[c]) for c in PENGUIN_INPUTS] for r in rows])
        grams = np.array([float(r["body_mass_g"]) for r in rows])
        np.testing.assert_array_equal(ds.X, X)
        np.testing.assert_allclose(ds.y * 1000, grams, rtol=1e-15)


def test_penguins_numbers_are_written_exactly():
    # the text of each number, not its float: inputs as in the source, kg = g / 1000 exactly
    source = [r for r in _penguins_source_rows() if r["bill_length_mm"] != "NA"]
    with (REPO_DATA / "penguins.csv").open(newline="") as f:
        shipped = list(csv.DictReader(f))
    assert len(shipped) == len(source) == 342
    for ours, theirs in zip(shipped, source, strict=True):
        assert [ours[c] for c in PENGUIN_INPUTS] == [theirs[c] for c in PENGUIN_INPUTS]
        assert Decimal(ours["body_mass_kg"]) * 1000 == Decimal(theirs["body_mass_g"])
        assert ours["split"] == ("test" if theirs["year"] == "2009" else "train")


def test_unknown_name_and_split_are_refused_with_the_choices(copy_dir):
    with pytest.raises(ValueError, match=r"name must be one of 'penguins', 'toy_1d'; got 'toy_2d'"):
        data.load("toy_2d")
    with pytest.raises(ValueError, match=r"split must be one of 'test', 'train'"):
        data.load("toy_1d", "validation")


def test_corrupted_file_is_refused_before_parsing(copy_dir):
    path = copy_dir / "toy_1d.csv"
    text = path.read_bytes()
    path.write_bytes(text.replace(b"0.1", b"0.2", 1))  # still a valid CSV
    expected = hashlib.sha256(text).hexdigest()
    with pytest.raises(ValueError, match=rf"toy_1d\.csv.*sha256 [0-9a-f]{{64}}.*{expected}"):
        data.load("toy_1d", "train")


def test_truncated_file_is_refused(copy_dir):
    path = copy_dir / "toy_1d.csv"
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(ValueError, match=r"toy_1d\.csv does not match SHA256SUMS"):
        data.load("toy_1d")


@pytest.mark.parametrize("damage", ["corrupt", "truncate"])
def test_damaged_penguins_file_is_refused(copy_dir, damage):
    path = copy_dir / "penguins.csv"
    text = path.read_bytes()
    if damage == "corrupt":
        path.write_bytes(text.replace(b"3.750", b"3.570", 1))  # still a valid CSV
    else:
        path.write_bytes(text[: len(text) // 2 + 3])
    with pytest.raises(ValueError, match=r"penguins\.csv does not match SHA256SUMS"):
        data.load("penguins", "train")


def test_missing_files_are_reported(copy_dir):
    (copy_dir / "toy_1d.csv").unlink()
    with pytest.raises(FileNotFoundError,
                       match=r"toy_1d\.csv.*missing.*available: penguins, toy_1d"):
        data.load("toy_1d")
    (copy_dir / "SHA256SUMS").unlink()
    with pytest.raises(FileNotFoundError, match="NTKLIB_DATA_DIR"):
        data.available()


def test_name_must_be_a_string(copy_dir):
    with pytest.raises(ValueError, match="name"):
        data.load(1)
