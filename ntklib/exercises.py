"""Self-checks for the exercises: compare a learner's answer with the expected one.

Each notebook's exercises call `check(answer, expected)`, which prints one line:
right / close / wrong (with the largest relative difference), or that no answer was given
yet, and returns that verdict as a string.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _validate as v

VERDICTS = ("right", "close", "wrong", "missing")


def check(answer: Any, expected: Any, *, name: str = "answer", rtol: float = 1e-8,
          close: float = 1e-2) -> str:
    """Compare `answer` with `expected` (numbers or arrays of the same shape) and say how near.

    Verdicts: 'right' when the largest relative difference is <= rtol, 'close' when it is
    <= close, 'wrong' otherwise or on a shape mismatch or non-finite values, 'missing' when
    the answer is still `None` (the stub of the exercise).

    Args:
      answer: the learner's value, a number or array-like; None means not answered yet.
      expected: the reference value, same shape as answer.
      name: what the answer is called in the printed line.
      rtol: relative tolerance for 'right'.  close: relative tolerance for 'close'.
    Returns:
      the verdict, one of VERDICTS; the same verdict is printed with details.
    """
    rtol = v.positive_float(rtol, "rtol")
    close = v.positive_float(close, "close")
    if close < rtol:
        raise ValueError(f"close must be >= rtol, got close={close!r} < rtol={rtol!r}")
    if answer is None:
        print(f"missing: {name} is still None; replace it with your code and run the cell")
        return "missing"
    try:
        a = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        print(f"wrong: {name} must be a number or an array of numbers, got "
              f"{type(answer).__name__}")
        return "wrong"
    e = np.asarray(expected, dtype=float)
    if a.shape != e.shape:
        print(f"wrong: {name} has shape {a.shape}, expected shape {e.shape}")
        return "wrong"
    if not np.all(np.isfinite(a)):
        print(f"wrong: {name} contains NaN or infinite values")
        return "wrong"
    scale = max(float(np.max(np.abs(e), initial=0.0)), np.finfo(float).tiny)
    diff = float(np.max(np.abs(a - e), initial=0.0)) / scale
    if diff <= rtol:
        print(f"right: {name} matches (max relative difference {diff:.1e})")
        return "right"
    verdict = "close" if diff <= close else "wrong"
    hint = "almost: look for a rounding or a small slip" if verdict == "close" else "try again"
    print(f"{verdict}: {name} is off by a relative {diff:.2e}; {hint}")
    return verdict
