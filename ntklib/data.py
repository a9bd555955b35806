"""The small data sets in the repository's `data/` folder, checked before they are read.

Each data set is a CSV file listed in `data/SHA256SUMS`; `load` compares the file's SHA-256
with that list before parsing it, so a corrupted or truncated file is never used silently.
Columns: an optional `split` column names the part (e.g. train / test); the last column is the
target `y`; all other columns, in file order, are the input coordinates `X`. The header names
them all: `Dataset.columns` holds the input names (for axis labels), `Dataset.target` the
target's name, e.g. `toy_1d` (`split,x,y`) and `penguins`
(`split,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_kg`). Provenance and
licence: `data/README.md`.

The folder: `NTKLIB_DATA_DIR` if that environment variable is set; else the copy of `data/`
shipped inside an installed ntklib (`ntklib/_data`, a plain `pip install`, e.g. on Colab);
else `data/` next to the `ntklib` package (a checkout or an editable install).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import _validate as v

CHECKSUMS = "SHA256SUMS"

_PACKAGED = Path(__file__).resolve().parent / "_data"
_CHECKOUT = Path(__file__).resolve().parent.parent / "data"
DATA_DIR = _PACKAGED if (_PACKAGED / CHECKSUMS).is_file() else _CHECKOUT
"""The default data folder: the copy inside an installed ntklib, else `data/` of the checkout."""


class Dataset(NamedTuple):
    """A loaded data set: inputs `X` (n, d) and targets `y` (n,), float64 numpy arrays.

    `columns`: the names of the d input columns, in the order of `X`'s columns; `target`: the
    name of the target column. numpy, not jax: `jnp.asarray(ds.X)` converts (float64 when
    x64 is enabled).
    """

    X: np.ndarray
    y: np.ndarray
    name: str
    columns: tuple[str, ...]
    target: str

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}: X {self.X.shape} {', '.join(self.columns)}; "
                f"y {self.y.shape} {self.target})")


def _data_dir() -> Path:
    return Path(os.environ.get("NTKLIB_DATA_DIR") or DATA_DIR)


def _checksums(folder: Path) -> dict[str, str]:
    """{file name: sha256 hex} from the folder's SHA256SUMS."""
    path = folder / CHECKSUMS
    if not path.is_file():
        raise FileNotFoundError(f"no {CHECKSUMS} in the data folder {folder} (set "
                                f"NTKLIB_DATA_DIR to the repository's data/ folder)")
    sums = {}
    for line in path.read_text("ascii").splitlines():
        digest, _, name = line.partition(" ")
        sums[name.lstrip(" *")] = digest.lower()
    return sums


def available() -> list[str]:
    """Names of the data sets listed in the data folder's SHA256SUMS, sorted."""
    return sorted(name.removesuffix(".csv") for name in _checksums(_data_dir())
                  if name.endswith(".csv"))


def load(name: str, split: str | None = None) -> Dataset:
    """Load a data set after checking its SHA-256 against SHA256SUMS.

    Args:
      name: a name from `available()`, e.g. 'toy_1d'.
      split: rows whose `split` column equals this (e.g. 'train' or 'test'); None: all rows.
    Returns:
      `Dataset(X, y, name, columns, target)`: `X` shape (n, d) (also for d = 1), `y` shape
      (n,), float64; `columns` the d input names, `target` the name of `y`'s column.
    Raises:
      ValueError: unknown name or split, or a file whose checksum does not match.
      FileNotFoundError: a listed file is missing.
    """
    folder = _data_dir()
    names = available()
    name = v.choice(name, "name", names)
    path = folder / f"{name}.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path.name} is listed in {CHECKSUMS} but missing from "
                                f"{folder}; available: {', '.join(names)}")
    data = path.read_bytes()
    expected = _checksums(folder)[path.name]
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ValueError(f"{path.name} does not match {CHECKSUMS} (corrupted or modified): "
                         f"sha256 {actual}, expected {expected}")
    header, *rows = list(csv.reader(io.StringIO(data.decode("ascii"))))
    if split is not None:
        if "split" not in header:
            raise ValueError(f"split must be None for {name}: it has no split column")
        col = header.index("split")
        split = v.choice(split, "split", sorted({row[col] for row in rows}))
        rows = [row for row in rows if row[col] == split]
    inputs = [i for i, h in enumerate(header[:-1]) if h != "split"]
    X = np.array([[float(row[i]) for i in inputs] for row in rows], dtype=np.float64)
    y = np.array([float(row[-1]) for row in rows], dtype=np.float64)
    label = name if split is None else f"{name}[{split}]"
    return Dataset(X.reshape(len(rows), len(inputs)), y, label,
                   tuple(header[i] for i in inputs), header[-1])
