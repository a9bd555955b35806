"""ntklib.exercises.check: the verdicts a learner sees."""

import contextlib
import io

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ntklib.exercises import check


def verdict(answer, expected, **kw) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert check(answer, expected, **kw) is None  # nothing echoed under the printed line
    (line,) = out.getvalue().splitlines()
    return line.split(":")[0]


def test_verdicts():
    assert verdict(None, 1.0) == "missing"
    assert verdict(2.0, 2.0) == "right"
    assert verdict([1.0, 2.0], np.array([1.0, 2.0 + 1e-12])) == "right"
    assert verdict(1.001, 1.0) == "close"
    assert verdict(1.5, 1.0) == "wrong"
    assert verdict([1.0], [1.0, 2.0]) == "wrong"
    assert verdict(np.nan, 1.0) == "wrong"
    assert verdict("one", 1.0) == "wrong"


def test_messages(capsys):
    check(None, 1.0)
    check(1.001, 1.0)
    check([1.0], [1.0, 2.0])
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("missing: answer is still None")
    assert out[1] == "close: answer is off by a relative 1.00e-03; almost: look for a " \
                     "rounding or a small slip"
    assert "expected shape (2,)" in out[2]


@given(st.floats(-1e6, 1e6).filter(lambda x: abs(x) > 1e-3), st.floats(1e-6, 5e-3),
       st.floats(2e-2, 0.5))
def test_the_difference_is_relative_to_the_expected_size(x, small, large):
    assert verdict(x * (1 + 1e-10), x) == "right"
    assert verdict(x * (1 + small), x) == "close"
    assert verdict(x * (1 + large), x) == "wrong"


@pytest.mark.parametrize(("kwargs", "match"), [({"rtol": 0.0}, "rtol"), ({"close": -1.0}, "close"),
                                                ({"rtol": 0.1, "close": 0.01}, "close must be")])
def test_bad_tolerances(kwargs, match):
    with pytest.raises(ValueError, match=match):
        check(1.0, 1.0, **kwargs)
