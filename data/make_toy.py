"""Write the toy data sets of the notebooks, byte for byte reproducibly, and SHA256SUMS.

    python data/make_toy.py            # rewrites the files next to this script

toy_1d.csv, columns split,x,y:
  train: 24 points, one drawn uniformly in the middle 70% of each of 24 equal cells of
         [-1, 1] (unevenly spaced, never closer than 0.025), y = g(x) + N(0, 0.05^2) noise;
  test:  101 points on the even grid -1, -0.98, ..., 1, y = g(x) without noise;
  g(x) = sin(3 x) + x^2 / 2 - 1/6, a smooth target with mean 0 over [-1, 1].
Numbers are written with 10 decimals, so the bytes do not depend on float printing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

SEED = 20240601
N_TRAIN = 24
N_TEST = 101
NOISE = 0.05


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


def write_all(out_dir: Path) -> list[Path]:
    """Write every data set and `SHA256SUMS` (sha256sum format) into `out_dir`."""
    out_dir = Path(out_dir)
    files = {"toy_1d.csv": toy_1d()}
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
