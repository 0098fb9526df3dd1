"""Exact critical-point enumeration (proofcheck.polynomial): known landscapes, bad input."""

import sympy as sp
import pytest

from proofcheck.polynomial import (PolynomialSystemError, PositiveDimensionalError,
                                   constrained_landscape, critical_points, inertia,
                                   kkt_points_on_sphere, real_solutions)

x, y, z = sp.symbols("x y z", real=True)
w, v = sp.symbols("w v", real=True)


def test_real_solutions_are_exact_and_complete():
    pts = real_solutions([x**2 + y**2 - 1, y - x**2], (x, y))
    # y = x^2, y^2 + y - 1 = 0: y = (sqrt 5 - 1)/2 (two x), the other y is negative (no real x)
    assert len(pts) == 2
    for p in pts:
        assert p.is_zero(x**2 + y**2 - 1) and p.is_zero(y - x**2)
        assert p.sign(y) == 1
        assert sp.simplify(p.exact(y) - (sp.sqrt(5) - 1) / 2) == 0


def test_signs_are_decided_at_irrational_points():
    [p] = [p for p in real_solutions([x**3 - 2, y], (x, y))]
    assert p.sign(x - sp.Rational(126, 100)) == -1      # 2^(1/3) = 1.2599...
    assert p.sign(x - sp.Rational(125, 100)) == 1
    assert p.sign(x**3 - 2) == 0
    lo, hi = p.enclosure(x, width=sp.Rational(1, 10**20))
    assert lo <= sp.cbrt(2) <= hi and hi - lo <= sp.Rational(1, 10**20)


def test_three_variables_and_a_rational_point():
    pts = real_solutions([x - 1, y**2 - 2, z - x * y], (x, y, z))
    assert sorted(round(c, 9) for p in pts for c in p.to_float()[2:]) == [round(-2**0.5, 9),
                                                                       round(2**0.5, 9)]


def test_inertia_counts_by_descartes():
    assert inertia(sp.Matrix([[2, 0], [0, 3]])) == (2, 0, 0)
    assert inertia(sp.Matrix([[0, 1], [1, 0]])) == (1, 1, 0)
    assert inertia(sp.Matrix([[0, 0], [0, -1]])) == (0, 1, 1)
    with pytest.raises(ValueError, match="symmetric"):
        inertia(sp.Matrix([[0, 1], [0, 0]]))


@pytest.mark.parametrize("f, kinds", [
    (x**2 + y**2, ["minimum"]),
    (-(x**2) - y**2, ["maximum"]),
    (x**2 - y**2, ["saddle"]),
    (x**4 + y**2, ["degenerate"]),           # singular Hessian: the test does not decide
    (x**3 - 3 * x + y**2, ["saddle", "minimum"]),
])
def test_classification(f, kinds):
    assert [p.kind for p in critical_points(f, (x, y)).points] == kinds


def test_monkey_saddle_is_degenerate_and_values_are_exact():
    land = critical_points(x**3 - 3 * x * y**2 + 5, (x, y))
    [p] = land.points
    assert p.kind == "degenerate" and p.inertia == (0, 0, 2) and p.value == 5


def test_curve_of_minima_example1():
    land = critical_points((w * (1 + v) - 1)**2 / 2, (w, v))
    assert [(p.kind, p.coordinates()) for p in land.points] == [("saddle", (0, -1))]
    [c] = land.curves
    assert c.kind == "minimum" and c.value == 0
    assert len(c.samples) == 2                 # two valleys: the two branches of the hyperbola


def test_curve_of_maxima_and_degenerate_curve():
    [c] = critical_points(-(x**2 + y**2 - 1)**2, (x, y)).curves
    assert c.kind == "maximum" and c.value == 0
    # (x y)^2: both axes are critical, and tr Hess = 2(x^2 + y^2) vanishes where they cross,
    # so neither axis gets a Morse-Bott certificate
    land = critical_points((x * y)**2, (x, y))
    assert sorted(str(c.g) for c in land.curves) == ["x", "y"]
    assert {c.kind for c in land.curves} == {"degenerate"} and land.points == []


def test_kkt_on_the_disc():
    pts = kkt_points_on_sphere(x + y, (x, y), 1)
    assert [p.kind for p in pts] == ["constrained minimum", "not a minimum"]
    assert pts[0].multiplier_sign == 1 and pts[1].multiplier_sign == -1
    # a concave f: the interior maximum is not a minimum, the farthest boundary point is
    land = constrained_landscape(-(x**2 + y**2) + x / 2, (x, y), 1)
    assert [p.kind for p in land.interior] == ["maximum"]
    assert [p.coordinates() for p in land.local_minima()] == [(-1, 0)]


def test_bad_input():
    with pytest.raises(PolynomialSystemError, match="floating-point"):
        critical_points(0.5 * x**2, (x,))
    with pytest.raises(PolynomialSystemError, match="not variables"):
        critical_points(x**2 + z, (x, y))
    with pytest.raises(PolynomialSystemError, match="not a polynomial"):
        critical_points(sp.sin(x), (x,))
    with pytest.raises(PositiveDimensionalError):
        real_solutions([x - y], (x, y))
    with pytest.raises(PositiveDimensionalError, match="constant"):
        critical_points(sp.Integer(3), (x, y))
    with pytest.raises(TypeError):
        critical_points(x**2, ("x",))
    with pytest.raises(ValueError, match="radius"):
        kkt_points_on_sphere(x, (x, y), -1)


def test_spurious_minima_of_a_tilted_double_well():
    # x^4/4 - x^2/2 + x/4 + y^2: two minima, the right one is higher (spurious), a saddle between
    land = critical_points(x**4 / 4 - x**2 / 2 + x / 4 + y**2, (x, y))
    assert [p.kind for p in land.points] == ["minimum", "saddle", "minimum"]
    [spurious] = land.spurious_minima()
    assert spurious.point.sign(x) == 1
    lo, hi = land.global_minimum_value()
    # the enclosure has width <= 1e-30: compare at 60 digits
    assert lo <= land.points[0].value.evalf(60) <= hi


def test_regularised_example1_has_a_spurious_minimum_only_below_the_threshold():
    F = (w * (1 + v) - 1)**2 / 2
    below = critical_points(F + sp.Rational(1, 8) * (w**2 + v**2), (w, v))
    above = critical_points(F + sp.Rational(1, 4) * (w**2 + v**2), (w, v))
    assert len(below.spurious_minima()) == 1 and above.spurious_minima() == []
    cons = constrained_landscape(F, (w, v), 2)
    [b] = cons.spurious_minima()
    assert b.multiplier_sign == 1 and b.point.is_zero(2 * v**2 + v - 4)


def test_derivative_bounds_bracket_the_true_suprema():
    from proofcheck.polynomial import derivative_norm_bounds, scaled_box_bounds
    # f = x^3 on [-1, 2]: sup |f'| = 12, sup |f''| = 12, |f'''| = 6
    for order, exact in ((1, 12), (2, 12), (3, 6)):
        lo2, hi2 = derivative_norm_bounds(x**3 + 0 * y, (x, y), [(-1, 2), (0, 1)], order)
        assert lo2 <= exact**2 <= hi2
    e = sp.Symbol("e", positive=True)
    lowers, upper = scaled_box_bounds(x**2 * y, (x, y), e, 1 / e, 1)
    # the gradient (2xy, x^2) at (1/e, 1/e) has squared norm 5/e^4: among the lower bounds
    assert any(sp.simplify(l - 5 / e**4) == 0 for l in lowers)
    assert sp.limit(upper, e, sp.oo) == 0
    with pytest.raises(ValueError, match="box"):
        derivative_norm_bounds(x, (x, y), [(0, 1)], 1)


def test_three_variable_gradient_with_a_common_factor_is_refused():
    with pytest.raises(PositiveDimensionalError, match="two variables"):
        critical_points((x + y + z)**2, (x, y, z))
