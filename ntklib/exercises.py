"""Self-checks for the exercises: compare a learner's answer with the expected one.

Each notebook's exercises call `check(answer, expected)`, which prints one line that starts
with the verdict: right / close / wrong (with the largest relative difference), or missing
when no answer was given yet. It returns nothing, so a notebook cell shows only that line.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _validate as v

VERDICTS = ("right", "close", "wrong", "missing")


def check(answer: Any, expected: Any, *, name: str = "answer", rtol: float = 1e-8,
          close: float = 1e-2) -> None:
    """Compare `answer` with `expected` (numbers or arrays of the same shape) and say how near.

    Verdicts: 'right' when the largest relative difference is <= rtol, 'close' when it is
    <= close, 'wrong' otherwise or on a shape mismatch or non-finite values, 'missing' when
    the answer is still `None` (the stub of the exercise).

    Args:
      answer: the learner's value, a number or array-like; None means not answered yet.
      expected: the reference value, same shape as answer.
      name: what the answer is called in the printed line.
      rtol: relative tolerance for 'right'.  close: relative tolerance for 'close'.
    Prints:
      one line, `<verdict>: <details>`, the verdict one of VERDICTS.
    """
    rtol = v.positive_float(rtol, "rtol")
    close = v.positive_float(close, "close")
    if close < rtol:
        raise ValueError(f"close must be >= rtol, got close={close!r} < rtol={rtol!r}")
    print(_verdict(answer, expected, name, rtol, close))


def _verdict(answer: Any, expected: Any, name: str, rtol: float, close: float) -> str:
    if answer is None:
        return f"missing: {name} is still None; replace it with your code and run the cell"
    try:
        a = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return (f"wrong: {name} must be a number or an array of numbers, got "
                f"{type(answer).__name__}")
    e = np.asarray(expected, dtype=float)
    if a.shape != e.shape:
        return f"wrong: {name} has shape {a.shape}, expected shape {e.shape}"
    if not np.all(np.isfinite(a)):
        return f"wrong: {name} contains NaN or infinite values"
    scale = max(float(np.max(np.abs(e), initial=0.0)), np.finfo(float).tiny)
    diff = float(np.max(np.abs(a - e), initial=0.0)) / scale
    if diff <= rtol:
        return f"right: {name} matches (max relative difference {diff:.1e})"
    verdict = "close" if diff <= close else "wrong"
    hint = "almost: look for a rounding or a small slip" if verdict == "close" else "try again"
    return f"{verdict}: {name} is off by a relative {diff:.2e}; {hint}"
