"""Tests of ntklib.data and of the shipped files in data/: checksums, reproducible generation,
shapes, and refusal of unknown, corrupted, truncated or missing files."""

import hashlib
import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest

from ntklib import data

REPO_DATA = Path(__file__).resolve().parents[1] / "data"


def _generator():
    spec = importlib.util.spec_from_file_location("make_toy", REPO_DATA / "make_toy.py")
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
    assert data.available() == ["toy_1d"]


def test_shipped_files_match_sha256sums():
    # independent of ntklib: parse the file as sha256sum -c would
    lines = (REPO_DATA / "SHA256SUMS").read_text().splitlines()
    assert lines
    for line in lines:
        digest, name = line.split("  ")
        assert hashlib.sha256((REPO_DATA / name).read_bytes()).hexdigest() == digest, name


def test_generator_reproduces_the_shipped_bytes(tmp_path):
    written = _generator().write_all(tmp_path)
    assert {p.name for p in written} == {"toy_1d.csv", "SHA256SUMS"}
    for path in written:
        assert path.read_bytes() == (REPO_DATA / path.name).read_bytes(), path.name


def test_toy_1d_shapes_and_content(monkeypatch):
    monkeypatch.delenv("NTKLIB_DATA_DIR", raising=False)
    train, test = data.load("toy_1d", "train"), data.load("toy_1d", split="test")
    assert train.X.shape == (24, 1) and train.y.shape == (24,)
    assert test.X.shape == (101, 1) and test.y.shape == (101,)
    assert train.X.dtype == test.y.dtype == np.float64
    assert data.load("toy_1d").X.shape == (125, 1)
    assert train.name == "toy_1d[train]" and "X (24, 1)" in repr(train)
    x = train.X[:, 0]
    assert np.all(np.abs(x) <= 1) and np.min(np.diff(x)) >= 0.025
    np.testing.assert_allclose(test.X[:, 0], np.linspace(-1, 1, 101), atol=1e-10)
    target = _generator().target
    np.testing.assert_allclose(test.y, target(test.X[:, 0]), atol=1e-10)  # noise-free
    noise = train.y - target(x)
    assert 0.01 < np.std(noise) < 0.15 and np.max(np.abs(noise)) < 0.25


def test_unknown_name_and_split_are_refused_with_the_choices(copy_dir):
    with pytest.raises(ValueError, match=r"name must be one of 'toy_1d'; got 'toy_2d'"):
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


def test_missing_files_are_reported(copy_dir):
    (copy_dir / "toy_1d.csv").unlink()
    with pytest.raises(FileNotFoundError, match=r"toy_1d\.csv.*missing.*available: toy_1d"):
        data.load("toy_1d")
    (copy_dir / "SHA256SUMS").unlink()
    with pytest.raises(FileNotFoundError, match="NTKLIB_DATA_DIR"):
        data.available()


def test_name_must_be_a_string(copy_dir):
    with pytest.raises(ValueError, match="name"):
        data.load(1)
