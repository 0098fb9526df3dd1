"""The point owns its arithmetic: ``as_point(p).backend()`` / ``.number(x)`` / ``.exact``."""

from types import SimpleNamespace

import mpmath
import numpy as np

from proofcheck.evaluate import as_point
from proofcheck.exact_backends import Rational


def test_exact_parameters_give_the_exact_backend_and_keep_rationals():
    p = SimpleNamespace(kind="local_min", digits=40,
                        theta_mp=np.array([Rational(1, 3), Rational(-2)], dtype=object))
    pt = as_point(p)
    assert pt.exact and pt.backend().name == "exact"
    third = Rational(1, 3)
    assert pt.number(third) is third
    with pt.backend().context():
        assert pt.backend().sum(np.array([third, third, third], dtype=object)) == 1


def test_high_precision_parameters_give_mpmath_at_the_points_digits():
    p = SimpleNamespace(kind="local_min", digits=40,
                        theta_mp=np.array([mpmath.mpf(1) / 3], dtype=object))
    pt = as_point(p)
    B = pt.backend()
    assert not pt.exact and B.name == "mpmath" and B.digits == 40
    with B.context():
        x = B.asarray(1).item() / 3
    assert x.bc > 53 and isinstance(pt.number(x), float)


def test_a_mixed_or_empty_parameter_vector_is_not_exact():
    mixed = SimpleNamespace(kind="local_min", digits=30,
                            theta_mp=np.array([Rational(1), mpmath.mpf(2)], dtype=object))
    empty = SimpleNamespace(kind="local_min", digits=30, theta_mp=np.array([], dtype=object))
    assert not as_point(mixed).exact and not as_point(empty).exact
    assert as_point(SimpleNamespace(kind="saddle")).backend().name == "numpy"
