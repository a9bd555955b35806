"""Write every data file of this folder, byte for byte reproducibly, and SHA256SUMS.

    python data/make_data.py           # rewrites the files next to this script

toy_1d.csv, columns split,x,y (synthetic, numpy default_rng(20240601)):
  train: 24 points, one drawn uniformly in the middle 70% of each of 24 equal cells of
         [-1, 1] (unevenly spaced, never closer than 0.025), y = g(x) + N(0, 0.05^2) noise;
  test:  101 points on the even grid -1, -0.98, ..., 1, y = g(x) without noise;
  g(x) = sin(3 x) + x^2 / 2 - 1/6, a smooth target with mean 0 over [-1, 1].
  Numbers are written with 10 decimals, so the bytes do not depend on float printing.

penguins.csv, columns split,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_kg
(Palmer penguins, CC0, from SOURCE: the file palmerpenguins/data/penguins.csv of the PyPI
wheel palmerpenguins==0.1.6, kept unmodified in data/sources/; its sha256 must be SOURCE_SHA256):
  the 342 source rows with all four measurements (the 2 rows with NA dropped), in source
  order; split `train` for the 2007 and 2008 seasons, `test` for 2009; the three inputs
  copied as text exactly as in the source; body_mass_g / 1000 written exactly as kg with
  3 decimals (3750 -> 3.750). Species, island, sex and year are not kept.
The last column of each file is the target (see ntklib.data).
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import numpy as np

SEED = 20240601
N_TRAIN = 24
N_TEST = 101
NOISE = 0.05

SOURCE = Path(__file__).resolve().parent / "sources" / "palmerpenguins-0.1.6-penguins.csv"
SOURCE_SHA256 = "f204db2c753b0937caac3cb35258562c14f073e4bbc76be24b4c51ce22767a93"
PENGUIN_INPUTS = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm")
PENGUIN_SPLITS = {"2007": "train", "2008": "train", "2009": "test"}


def target(x: np.ndarray) -> np.ndarray:
    """g(x) = sin(3x) + x^2/2 - 1/6 (the mean of x^2/2 over [-1, 1] is 1/6)."""
    return np.sin(3 * x) + 0.5 * x**2 - 1 / 6


def toy_1d(seed: int = SEED) -> str:
    """The CSV text of toy_1d: header `split,x,y`, train rows then test rows."""
    rng = np.random.default_rng(seed)
    cell = 2 / N_TRAIN
    x_train = -1 + cell * (np.arange(N_TRAIN) + rng.uniform(0.15, 0.85, N_TRAIN))
    y_train = target(x_train) + NOISE * rng.standard_normal(N_TRAIN)
    x_test = np.linspace(-1, 1, N_TEST)
    rows = ["split,x,y"]
    rows += [f"train,{x:.10f},{y:.10f}" for x, y in zip(x_train, y_train, strict=True)]
    rows += [f"test,{x:.10f},{y:.10f}" for x, y in zip(x_test, target(x_test), strict=True)]
    return "\n".join(rows) + "\n"


def penguins_source() -> Path:
    """The upstream file in data/sources/ (the wheel palmerpenguins 0.1.6's
    palmerpenguins/data/penguins.csv, unmodified), checked by its sha256."""
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()
    if digest != SOURCE_SHA256:
        raise RuntimeError(f"{SOURCE.name} has sha256 {digest}, expected {SOURCE_SHA256} "
                           f"(palmerpenguins 0.1.6's penguins.csv): review a new upstream file "
                           f"before changing SOURCE_SHA256")
    return SOURCE


def _grams_to_kg(text: str) -> str:
    """'3750' -> '3.750': exact decimal kilograms from integer grams, no float rounding."""
    grams = int(text)
    return f"{grams // 1000}.{grams % 1000:03d}"


def penguins(source: Path | None = None) -> str:
    """The CSV text of penguins.csv (see the module docstring), from the checked source."""
    text = (source or penguins_source()).read_text("ascii")
    rows = ["split," + ",".join(PENGUIN_INPUTS) + ",body_mass_kg"]
    for rec in csv.DictReader(io.StringIO(text)):
        values = [rec[c] for c in (*PENGUIN_INPUTS, "body_mass_g")]
        if "NA" in values:
            continue
        for value in values:
            float(value)  # a number, or ValueError
        rows.append(",".join([PENGUIN_SPLITS[rec["year"]], *values[:3],
                              _grams_to_kg(values[3])]))
    return "\n".join(rows) + "\n"


def write_all(out_dir: Path) -> list[Path]:
    """Write every data set and `SHA256SUMS` (sha256sum format) into `out_dir`."""
    out_dir = Path(out_dir)
    files = {"toy_1d.csv": toy_1d(), "penguins.csv": penguins()}
    sums = []
    for name, text in sorted(files.items()):
        data = text.encode("ascii")
        (out_dir / name).write_bytes(data)
        sums.append(f"{hashlib.sha256(data).hexdigest()}  {name}\n")
    (out_dir / "SHA256SUMS").write_bytes("".join(sums).encode("ascii"))
    return [out_dir / name for name in sorted(files)] + [out_dir / "SHA256SUMS"]


if __name__ == "__main__":
    for path in write_all(Path(__file__).resolve().parent):
        print(f"wrote {path}")
