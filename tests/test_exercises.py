"""ntklib.exercises.check: the verdicts a learner sees."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ntklib.exercises import check


def test_verdicts(capsys):
    assert check(None, 1.0) == "missing"
    assert check(2.0, 2.0) == "right"
    assert check([1.0, 2.0], np.array([1.0, 2.0 + 1e-12])) == "right"
    assert check(1.001, 1.0) == "close"
    assert check(1.5, 1.0) == "wrong"
    assert check([1.0], [1.0, 2.0]) == "wrong"
    assert check(np.nan, 1.0) == "wrong"
    assert check("one", 1.0) == "wrong"
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("missing: answer is still None")
    assert out[3] == "close: answer is off by a relative 1.00e-03; almost: look for a " \
                     "rounding or a small slip"
    assert "expected shape (2,)" in out[5]


@given(st.floats(-1e6, 1e6).filter(lambda x: abs(x) > 1e-3), st.floats(1e-6, 5e-3),
       st.floats(2e-2, 0.5))
def test_the_difference_is_relative_to_the_expected_size(x, small, large):
    assert check(x * (1 + 1e-10), x) == "right"
    assert check(x * (1 + small), x) == "close"
    assert check(x * (1 + large), x) == "wrong"


@pytest.mark.parametrize(("kwargs", "match"), [({"rtol": 0.0}, "rtol"), ({"close": -1.0}, "close"),
                                                ({"rtol": 0.1, "close": 0.01}, "close must be")])
def test_bad_tolerances(kwargs, match):
    with pytest.raises(ValueError, match=match):
        check(1.0, 1.0, **kwargs)
