"""Exact critical points of polynomial landscapes, classified with certificates.

A polynomial objective ``f`` with rational coefficients has finitely many isolated real
critical points, plus (possibly) curves of critical points. This module finds *all* of them
exactly and classifies each one:

1. **Solving** (:func:`real_solutions`). A zero-dimensional system over QQ is made radical
   (Seidenberg: add the square-free part of each variable's eliminant), a separating linear form
   ``t = sum c_i x_i`` is adjoined, and the lex Groebner basis then has *shape* form
   ``{x_i - p_i(t)} + {q(t)}`` (the shape lemma). Every real solution is ``x_i = p_i(t0)`` for a
   real root ``t0`` of an irreducible factor of ``q``, isolated by a rational interval
   (sympy ``Poly.intervals``). That is an :class:`AlgebraicPoint`.
2. **Signs** (:meth:`AlgebraicPoint.sign`). The sign of any rational polynomial at such a point
   is decided exactly: reduce it modulo the irreducible ``q_k`` (zero remainder <=> the value is
   0, because ``q_k`` is the minimal polynomial of ``t0``), else evaluate the remainder in exact
   rational interval arithmetic on the isolating interval, bisecting until the enclosure
   excludes 0 (guaranteed to happen, the value being nonzero).
3. **Classification**. The inertia (n+, n-, n0) of the Hessian comes from the signs of the
   coefficients of its characteristic polynomial (Descartes' rule of signs is exact for a
   polynomial whose roots are all real, as for a symmetric matrix). Isolated points are
   ``minimum`` / ``maximum`` / ``saddle``, or ``degenerate`` when the inertia does not decide.
4. **Curves** of critical points (two variables): the common factor ``g`` of the gradient
   components. ``f`` is constant on each connected arc; the arc is a (non-strict) Morse-Bott
   minimum when the curve is smooth and ``tr Hess f`` (the one nonzero eigenvalue) is positive
   along it, certified by: no real point of ``{g, g_w, g_v}``, no real point of
   ``{g, tr H}``, and ``tr H > 0`` at a sample point of every arc (a cylindrical decomposition
   of the plane over the critical values of the projection).
5. **A disc constraint** ``||x|| <= r`` (:func:`constrained_landscape`): interior critical
   points inside the disc, plus the KKT points of the Lagrange system
   ``grad f + 2 mu x = 0, ||x||^2 = r^2`` with a certified sign of ``mu`` and the inertia of the
   Hessian of the Lagrangian on the tangent space (from the bordered Hessian: its inertia is
   that of the projected Hessian plus (1, 1, 0)).

>>> import sympy as sp
>>> w, v = sp.symbols("w v", real=True)
>>> land = critical_points(w**2 - v**2, (w, v))
>>> [(p.kind, p.coordinates()) for p in land.points]
[('saddle', (0, 0))]
>>> land = critical_points((w * (1 + v) - 1)**2 / 2, (w, v))   # a 2-parameter toy landscape
>>> [(p.kind, p.coordinates()) for p in land.points], [c.kind for c in land.curves]
([('saddle', (0, -1))], ['minimum'])
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any
from collections.abc import Iterable, Sequence

from .lazy import lazy_import

if TYPE_CHECKING:  # pragma: no cover - mypy reads sympy's types through a plain import
    import sympy as sp
else:
    sp = lazy_import("sympy")   # loaded on first use (startup cost)

__all__ = [
    "PolynomialSystemError", "PositiveDimensionalError", "AlgebraicPoint", "real_solutions",
    "inertia", "CriticalPoint", "CriticalCurve", "Landscape", "critical_points", "KKTPoint",
    "ConstrainedLandscape", "kkt_points_on_sphere", "constrained_landscape", "value_enclosure",
    "derivative_entries", "derivative_norm_bounds", "scaled_box_bounds",
]



def _t():
    """The separating variable of the shape basis (a sympy Symbol; equal across calls)."""
    return sp.Symbol("_t")


def _width(width, digits: int):
    """The default enclosure width 10**-digits (exact), or the given one."""
    return sp.Rational(1, 10**digits) if width is None else width


class PolynomialSystemError(ValueError):
    """The input is not a system of polynomials with rational coefficients."""


class PositiveDimensionalError(PolynomialSystemError):
    """The system has infinitely many complex solutions (a curve or more)."""


# ---------------------------------------------------------------------------------- input

def _symbols(variables) -> tuple[sp.Symbol, ...]:
    if isinstance(variables, sp.Symbol):
        variables = (variables,)
    xs = tuple(variables)
    if not xs or not all(isinstance(x, sp.Symbol) for x in xs):
        raise TypeError(f"variables must be a non-empty sequence of sympy Symbols, "
                        f"got {variables!r}")
    if len(set(xs)) != len(xs):
        raise ValueError(f"variables repeat: {xs}")
    return xs


def _qq_poly(expr, xs, what="f") -> sp.Poly:
    expr = sp.sympify(expr)
    extra = expr.free_symbols - set(xs)
    if extra:
        raise PolynomialSystemError(f"{what} has symbols {sorted(map(str, extra))} that are not "
                                    f"variables {list(map(str, xs))}: substitute numbers first")
    if expr.has(sp.Float):
        raise PolynomialSystemError(f"{what} has floating-point coefficients ({expr}); use "
                                    "sympy.Rational so the computation stays exact")
    try:
        return sp.Poly(expr, *xs, domain="QQ")
    except (sp.PolynomialError, sp.polys.polyerrors.CoercionFailed) as exc:
        raise PolynomialSystemError(f"{what} = {expr} is not a polynomial with rational "
                                    f"coefficients in {xs}: {exc}") from None


# ---------------------------------------------------------------------------------- intervals

def _horner_interval(coeffs: Sequence[Fraction], lo: Fraction, hi: Fraction):
    """Exact interval enclosure of sum c_k t^k (coeffs highest first) for t in [lo, hi]."""
    a = b = Fraction(0)
    for c in coeffs:
        prods = (a * lo, a * hi, b * lo, b * hi)
        a, b = min(prods) + c, max(prods) + c
    return a, b


def _fractions(poly: sp.Poly) -> list[Fraction]:
    return [Fraction(int(c.p), int(c.q)) for c in poly.all_coeffs()]


# ---------------------------------------------------------------------------------- points

class AlgebraicPoint:
    """A real point with algebraic coordinates ``x_i = p_i(t0)``, exactly.

    ``t0`` is the unique root of the irreducible ``q`` in the rational interval ``[lo, hi]``
    (``lo == hi`` when ``t0`` is rational). Build them with :func:`real_solutions`.

    >>> import sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> [p] = [p for p in real_solutions([x**2 - 2, y - x], (x, y)) if p.sign(x) > 0]
    >>> p.coordinates(), p.sign(x * y - 2), p.sign(y - sp.Rational(7, 5))
    ((sqrt(2), sqrt(2)), 0, 1)
    """

    def __init__(self, variables, q: sp.Poly, coords: Sequence[sp.Poly], lo, hi, index: int):
        self.variables = tuple(variables)
        self.q = q                      # irreducible over QQ, in _t()
        self.coords = tuple(coords)     # polynomials in _t() of degree < deg q
        self.lo, self.hi = sp.Rational(lo), sp.Rational(hi)
        self.index = index              # which real root of q (0 = smallest)

    # -- exact values
    def root(self) -> sp.Expr:
        """t0 as an exact sympy number (a rational, or a CRootOf)."""
        if self.q.degree() == 1:
            return self.lo
        return sp.CRootOf(self.q.as_expr(), self.index)

    def exact(self, expr) -> sp.Expr:
        """The value of the polynomial ``expr`` at the point, as an exact sympy number."""
        r = self._reduce(expr)
        value = r.as_expr().subs(_t(), self.root())
        return sp.nsimplify(value) if self.q.degree() <= 2 else value

    def coordinates(self) -> tuple[sp.Expr, ...]:
        """The coordinates as exact sympy numbers (radicals up to degree 2, else CRootOf)."""
        return tuple(self.exact(x) for x in self.variables)

    def evalf(self, digits: int = 30) -> tuple[sp.Float, ...]:
        return tuple(sp.N(self.exact(x), digits) for x in self.variables)

    def to_float(self) -> tuple[float, ...]:
        """Coordinates as floats, from exact rational enclosures of width <= 1e-20 (so the
        float is the correctly rounded value up to that width)."""
        out = []
        for x in self.variables:
            lo, hi = self.enclosure(x, sp.Rational(1, 10**20))
            out.append(float((lo + hi) / 2))
        return tuple(out)

    # -- signs
    def _power(self, i: int, e: int) -> sp.Poly:
        """coords[i]^e modulo q (cached: Hessian entries reuse the same powers)."""
        cache = self.__dict__.setdefault("_powers", {})
        if (i, e) not in cache:
            base = self.coords[i] if e == 1 else (self._power(i, e - 1) * self.coords[i])
            cache[(i, e)] = base.rem(self.q)
        return cache[(i, e)]

    def _reduce(self, expr) -> sp.Poly:
        """The polynomial ``expr`` at the point, as a polynomial in t of degree < deg q."""
        p = _qq_poly(expr, self.variables, "expr")
        total = sp.Poly(0, _t(), domain="QQ")
        for monom, coeff in p.terms():
            term = sp.Poly(coeff, _t(), domain="QQ")
            for i, e in enumerate(monom):
                if e:
                    term = (term * self._power(i, e)).rem(self.q)
            total += term
        return total.rem(self.q)

    def is_zero(self, expr) -> bool:
        """Exactly: does the polynomial ``expr`` vanish at this point?"""
        return self._reduce(expr).is_zero

    def sign(self, expr) -> int:
        """The exact sign (-1, 0, 1) of the polynomial ``expr`` at the point.

        Zero is decided by reduction modulo the minimal polynomial; a nonzero sign by exact
        rational interval arithmetic on the isolating interval, refined until it excludes 0.
        """
        r = self._reduce(expr)
        if r.is_zero:
            return 0
        coeffs = _fractions(r)
        for _ in range(200):
            lo, hi = Fraction(int(self.lo.p), int(self.lo.q)), Fraction(int(self.hi.p),
                                                                        int(self.hi.q))
            a, b = _horner_interval(coeffs, lo, hi)
            if a > 0:
                return 1
            if b < 0:
                return -1
            self.refine()
        raise ArithmeticError("sign not decided after 200 refinements (cannot happen for a "
                              "nonzero value; report this)")  # pragma: no cover

    def refine(self, factor: int = 4) -> None:
        """Shrink the isolating interval by (at least) ``factor``."""
        if self.lo == self.hi:
            return
        width = self.hi - self.lo
        self.lo, self.hi = self.q.refine_root(self.lo, self.hi, eps=width / factor)

    def enclosure(self, expr, width=None) -> tuple[sp.Rational, sp.Rational]:
        """A rational interval certainly containing the value of ``expr`` at the point, refined
        until its width is below ``width`` (and at most 200 refinements)."""
        width = _width(width, 12)
        coeffs = _fractions(self._reduce(expr))
        for _ in range(200):
            a, b = _horner_interval(coeffs, Fraction(int(self.lo.p), int(self.lo.q)),
                                    Fraction(int(self.hi.p), int(self.hi.q)))
            if b - a <= width or self.lo == self.hi:
                break
            self.refine(2**20)          # enclosures need many digits: shrink fast
        return sp.Rational(a.numerator, a.denominator), sp.Rational(b.numerator, b.denominator)

    def __repr__(self) -> str:
        coords = ", ".join(f"{x}={c:.6g}" for x, c in zip(self.variables, self.to_float()))
        return f"AlgebraicPoint({coords}; root {self.index} of {self.q.as_expr()})"


def _eliminant(G: sp.GroebnerBasis, xs, k) -> sp.Poly:
    """The generator of I ∩ QQ[x_k] of a zero-dimensional ideal (via FGLM to lex, x_k last)."""
    order = [x for i, x in enumerate(xs) if i != k] + [xs[k]]
    H = sp.groebner(G.exprs, *order, order="lex")
    last = sp.Poly(H.exprs[-1], xs[k], domain="QQ")
    return last


def _shape_basis(polys, xs):
    """Lex Groebner basis in shape position ``[x_i - p_i(t)..., q(t)]`` of the radical of the
    ideal, for a separating linear form t; or None when the ideal is the unit ideal."""
    G = sp.groebner(polys, *xs, order="grevlex", domain="QQ")
    if G.exprs == [1]:
        return None
    if not G.is_zero_dimensional:
        raise PositiveDimensionalError(
            f"the system {[sp.sstr(p) for p in polys]} has infinitely many complex solutions "
            "(not zero-dimensional)")
    radical = list(G.exprs) + [sp.Poly(_eliminant(G, xs, k), xs[k]).sqf_part().as_expr()
                               for k in range(len(xs))]
    n = len(xs)
    # separating forms t = x_n + c x_{n-1} + c^2 x_{n-2} + ...: all but finitely many c work
    for c in itertools.chain([0], range(1, 40)):
        if n == 1 and c:
            break
        form = sum(sp.Integer(c) ** i * x for i, x in enumerate(reversed(xs)))
        H = sp.groebner(radical + [_t() - form], *xs, _t(), order="lex", domain="QQ")
        if H.exprs == [1]:
            return None
        exprs = H.exprs
        if len(exprs) != n + 1:
            continue
        q = sp.Poly(exprs[-1], _t(), domain="QQ")
        if exprs[-1].free_symbols - {_t()} or q.degree() < 1:
            continue
        coords = []
        for x, e in zip(xs, exprs[:-1]):
            p = sp.Poly(e, *xs, _t(), domain="QQ")
            rest = p - sp.Poly(x, *xs, _t(), domain="QQ") * p.coeff_monomial(x)
            if p.coeff_monomial(x) == 0 or rest.as_expr().free_symbols - {_t()}:
                break
            coords.append(sp.Poly(-rest.as_expr() / p.coeff_monomial(x), _t(), domain="QQ"))
        else:
            return q, coords
    raise PolynomialSystemError("no separating linear form found among 40 candidates")


def real_solutions(equations: Iterable, variables) -> list[AlgebraicPoint]:
    """All real solutions of a zero-dimensional polynomial system over QQ, exactly.

    Raises :class:`PositiveDimensionalError` when there are infinitely many complex
    solutions, :class:`PolynomialSystemError` for non-polynomial or inexact input.

    >>> import sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> sorted(p.coordinates() for p in real_solutions([x**2 + y**2 - 1, x - y], (x, y)))
    [(-sqrt(2)/2, -sqrt(2)/2), (sqrt(2)/2, sqrt(2)/2)]
    >>> real_solutions([x**2 + 1, y], (x, y))
    []
    """
    xs = _symbols(variables)
    polys = [_qq_poly(e, xs, f"equation {i + 1}").as_expr() for i, e in enumerate(equations)]
    polys = [p for p in polys if p != 0]
    if not polys:
        raise PositiveDimensionalError("no nonzero equation: every point is a solution")
    shape = _shape_basis(polys, xs)
    if shape is None:
        return []
    q, coords = shape
    points = []
    for factor, _mult in q.factor_list()[1]:
        factor = sp.Poly(factor.monic(), _t(), domain="QQ")
        reduced = [c.rem(factor) for c in coords]
        for k, ((lo, hi), _m) in enumerate(factor.intervals()):
            points.append(AlgebraicPoint(xs, factor, reduced, lo, hi, k))
    points.sort(key=lambda p: p.to_float())
    return points


# ---------------------------------------------------------------------------------- inertia

@lru_cache(maxsize=256)
def _charpoly_coeffs_cached(H: sp.ImmutableMatrix) -> tuple[sp.Expr, ...]:
    return tuple(sp.expand(c) for c in H.charpoly().all_coeffs())    # highest degree first


def _charpoly_coeffs(H: sp.Matrix) -> tuple[sp.Expr, ...]:
    return _charpoly_coeffs_cached(sp.ImmutableMatrix(H))


def _sign_changes(signs: Sequence[int]) -> int:
    nz = [s for s in signs if s != 0]
    return sum(1 for a, b in zip(nz, nz[1:]) if a != b)


def inertia(H: sp.Matrix, point: AlgebraicPoint | None = None) -> tuple[int, int, int]:
    """(n_plus, n_minus, n_zero) of a symmetric polynomial matrix at an algebraic point, exactly.

    Descartes' rule of signs counts the positive roots of a polynomial exactly when all its roots
    are real, as for the characteristic polynomial of a symmetric matrix.

    >>> import sympy as sp
    >>> inertia(sp.Matrix([[0, -1], [-1, 0]]))
    (1, 1, 0)
    """
    H = sp.Matrix(H)
    if H.rows != H.cols or H != H.T:
        raise ValueError(f"inertia needs a symmetric square matrix, got {H.shape}")
    coeffs = _charpoly_coeffs(H)
    if point is None:
        signs = [int(sp.sign(sp.nsimplify(c))) if sp.sympify(c).is_Rational
                 else _raise_symbolic(c) for c in coeffs]
    else:
        signs = [point.sign(c) for c in coeffs]
    n = H.rows
    zero = 0
    for s in reversed(signs):
        if s != 0:
            break
        zero += 1
    pos = _sign_changes(signs)
    alt = [s * (-1) ** (n - i) for i, s in enumerate(signs)]   # coefficients of p(-lam)
    neg = _sign_changes(alt)
    if pos + neg + zero != n:   # pragma: no cover - impossible for a symmetric matrix
        raise ArithmeticError(f"inertia count {pos}+{neg}+{zero} != {n}")
    return pos, neg, zero


def _raise_symbolic(c):
    raise ValueError(f"matrix entries are not numbers ({c}); pass the point")


def _kind(inert: tuple[int, int, int]) -> str:
    pos, neg, zero = inert
    if zero == 0 and neg == 0:
        return "minimum"
    if zero == 0 and pos == 0:
        return "maximum"
    if pos > 0 and neg > 0:
        return "saddle"
    return "degenerate"


# ---------------------------------------------------------------------------------- values

def value_enclosure(point: AlgebraicPoint, f, width=None):
    """A rational interval containing f at the point (see :meth:`AlgebraicPoint.enclosure`)."""
    return point.enclosure(f, _width(width, 30))


def _strictly_above_some(mine, others) -> bool:
    """Is the value enclosed by ``mine`` certainly above one of the ``others`` enclosures?
    Raises when it is not, yet overlaps one at width 1e-30 (equal values are not decided by
    enclosures; no such tie occurs in the catalogue's landscapes)."""
    if any(mine[0] > o[1] for o in others):
        return True
    ties = [o for o in others if not (mine[1] < o[0])]
    if ties:
        raise ArithmeticError(f"value {mine} overlaps {ties[0]} at width 1e-30: not separated "
                              "(equal values?)")
    return False


# ---------------------------------------------------------------------------------- landscapes

class _ExactValue:
    """A point of a landscape ``f`` whose exact value f(point) is computed on first use
    (CRootOf arithmetic is slow) and then kept."""

    point: AlgebraicPoint
    f: sp.Expr

    @cached_property
    def value(self) -> sp.Expr:
        """f at the point, exactly."""
        return self.point.exact(self.f)


@dataclass
class CriticalPoint(_ExactValue):
    """An isolated real critical point, its exact value and its certified kind.

    ``kind``: ``minimum`` / ``maximum`` (Hessian definite: strict local extremum), ``saddle``
    (indefinite Hessian: not an extremum), ``degenerate`` (singular semidefinite Hessian: the
    second-order test does not decide)."""

    point: AlgebraicPoint
    kind: str
    inertia: tuple[int, int, int]
    f: sp.Expr = field(repr=False, default=None)

    def coordinates(self):
        return self.point.coordinates()

    def to_float(self):
        return self.point.to_float()

    @property
    def certificate(self) -> str:
        return (f"Hessian inertia (n+, n-, n0) = {self.inertia} from exact signs of its "
                f"characteristic polynomial at the algebraic point (Descartes)")


@dataclass
class CriticalCurve:
    """A curve ``g = 0`` of (non-isolated) critical points in the plane.

    ``kind`` is ``minimum`` / ``maximum`` when certified Morse-Bott (smooth real curve, ``tr H``
    of one sign on every arc, so each point is a non-strict local extremum), else ``degenerate``.
    ``value`` is the constant value of ``f`` on the curve when ``f mod g`` is a constant."""

    g: sp.Expr
    kind: str
    value: sp.Expr | None
    certificate: str
    samples: list[AlgebraicPoint] = field(default_factory=list)


@dataclass
class Landscape:
    """Every real critical point of ``f``: isolated ``points`` and ``curves`` (2 variables)."""

    f: sp.Expr
    variables: tuple[sp.Symbol, ...]
    points: list[CriticalPoint]
    curves: list[CriticalCurve]

    def of_kind(self, kind: str) -> list[CriticalPoint]:
        return [p for p in self.points if p.kind == kind]

    def _values(self) -> list[tuple[tuple[Any, Any], CriticalPoint | CriticalCurve]]:
        """(enclosure, item) for every isolated point and every curve with a known value."""
        out: list[tuple[tuple[Any, Any], CriticalPoint | CriticalCurve]] = [
            (value_enclosure(p.point, self.f), p) for p in self.points]
        out += [((c.value, c.value), c) for c in self.curves
                if c.value is not None and c.samples]
        return out

    def global_minimum_value(self):
        """Enclosure of min f, *assuming f is coercive* (then the minimum is attained at a
        critical point); the smallest critical value, isolated or on a curve."""
        vals = self._values()
        if not vals:
            raise ValueError("no real critical point: f has no minimum (not coercive)")
        return min((v for v, _ in vals), key=lambda iv: iv[0])

    def spurious_minima(self) -> list[CriticalPoint]:
        """Strict local minima whose value is certainly above the global minimum value
        (f assumed coercive, as for f + (λ/2)||x||^2 with f >= 0)."""
        vals = self._values()
        return [p for v, p in vals if getattr(p, "kind", None) == "minimum"
                and isinstance(p, CriticalPoint)
                and _strictly_above_some(v, [o for o, q in vals if q is not p])]

    def describe(self) -> str:
        lines = [f"critical points of {self.f}:"]
        lines += [f"  {p.kind} at {tuple(round(c, 6) for c in p.to_float())}, value "
                  f"{float(p.value):.6g}, inertia {p.inertia}" for p in self.points]
        lines += [f"  curve {c.g} = 0: {c.kind}, value {c.value}" for c in self.curves]
        return "\n".join(lines)


def _classify_point(f, H, xs, pt) -> CriticalPoint:
    inert = inertia(H, pt)
    return CriticalPoint(pt, _kind(inert), inert, f)


def critical_points(f, variables) -> Landscape:
    """Every real critical point of the polynomial ``f`` over QQ, exactly and classified.

    Isolated points come from :func:`real_solutions` of the gradient with the gradient's common
    factor ``g`` removed; ``V(g)`` (two variables only) is a :class:`CriticalCurve`. Isolated
    solutions lying on such a curve belong to the curve and are not listed as points.

    >>> import sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> [(p.kind, p.coordinates()) for p in critical_points(x**3 - 3*x + y**2, (x, y)).points]
    [('saddle', (-1, 0)), ('minimum', (1, 0))]
    """
    xs = _symbols(variables)
    fp = _qq_poly(f, xs)
    f = fp.as_expr()
    grads = [fp.diff(x) for x in xs]
    nonzero = [g for g in grads if not g.is_zero]
    if not nonzero:
        raise PositiveDimensionalError("f is constant: every point is critical")
    common = nonzero[0]
    for g in nonzero[1:]:
        common = sp.gcd(common, g)
    H = sp.hessian(f, xs)
    curves: list[CriticalCurve] = []
    system = grads
    if common.total_degree() > 0:
        if len(xs) != 2:
            raise PositiveDimensionalError(
                f"the gradient has the common factor {common.as_expr()}: a hypersurface of "
                "critical points (curves are handled for two variables only)")
        system = [sp.Poly(g.as_expr(), *xs).quo(common) if not g.is_zero else g for g in grads]
        for factor, _m in common.factor_list()[1]:
            curves.append(_classify_curve(fp, H, xs, factor))
    try:
        sols = real_solutions([g.as_expr() for g in system], xs)
    except PositiveDimensionalError:  # pragma: no cover - coprime in 2 variables is 0-dim
        raise
    points = []
    for pt in sols:
        if any(pt.is_zero(c.g) for c in curves):
            continue
        points.append(_classify_point(f, H, xs, pt))
    return Landscape(f, xs, points, curves)


def _classify_curve(fp: sp.Poly, H: sp.Matrix, xs, factor: sp.Poly) -> CriticalCurve:
    g = factor.as_expr()
    w, v = xs
    rem = sp.reduced(fp.as_expr(), [g], *xs)[1]
    value = sp.nsimplify(rem) if not sp.sympify(rem).free_symbols else None
    trace = sp.expand(H.trace())
    singular = real_solutions([g, sp.diff(g, w), sp.diff(g, v)], xs)
    if singular:
        return CriticalCurve(g, "degenerate", value, f"the real curve {g} = 0 is singular at "
                             f"{[p.to_float() for p in singular]}")
    flat: list[AlgebraicPoint | None]      # [None]: a positive-dimensional solution set
    try:
        flat = list(real_solutions([g, trace], xs))
    except PositiveDimensionalError:
        flat = [None]
    if flat:
        return CriticalCurve(g, "degenerate", value,
                             f"tr Hess f vanishes on the curve {g} = 0 (no Morse-Bott "
                             "certificate)")
    samples = _arc_samples(g, xs)
    signs = {s.sign(trace) for s in samples}
    if not samples:
        return CriticalCurve(g, "empty", value, f"{g} = 0 has no real point")
    kind = "minimum" if signs == {1} else "maximum" if signs == {-1} else "degenerate"
    cert = (f"Morse-Bott: {g} = 0 is smooth (no real point of g = g_{w} = g_{v} = 0), tr Hess f "
            f"has no real zero on it, and tr Hess f {'> 0' if kind == 'minimum' else '< 0'} at "
            f"{len(samples)} sample points, one on every arc of a cylindrical decomposition "
            f"over {w}; f - ({value}) reduces to 0 modulo g" if kind != "degenerate" else
            "tr Hess f changes sign between arcs")
    return CriticalCurve(g, kind, value, cert, samples)


def _arc_samples(g: sp.Expr, xs) -> list[AlgebraicPoint]:
    """A point on every connected arc of the smooth real plane curve g = 0 (CAD over x_0).

    For an irreducible g without the second variable the curve is vertical lines: sample
    the second variable at 0."""
    w, v = xs
    P = sp.Poly(g, w, v, domain="QQ")
    if P.degree(v) == 0:            # vertical lines w = const
        return real_solutions([g, v], xs)
    if P.degree(w) == 0:            # horizontal lines v = const
        return real_solutions([g, w], xs)
    disc = sp.Poly(sp.resultant(g, sp.diff(g, v), v), w, domain="QQ")
    lead = sp.Poly(P.as_poly(v).LC(), w, domain="QQ")
    crit = (disc * lead).sqf_part() if (disc * lead).degree() > 0 else None
    samples_w: list[sp.Rational] = []
    if crit is None:
        samples_w = [sp.Integer(0)]
    else:
        ivs = [list(iv) for iv, _ in crit.intervals(eps=sp.Rational(1, 1000))]
        ivs.sort()
        samples_w.append(ivs[0][0] - 1)
        for (_a0, b0), (a1, _b1) in zip(ivs, ivs[1:]):
            mid = (b0 + a1) / 2
            if crit.eval(mid) == 0:     # a shared endpoint that is a root cannot happen
                raise ArithmeticError("sample point hits a critical value")  # pragma: no cover
            samples_w.append(mid)
        samples_w.append(ivs[-1][1] + 1)
    out = []
    for ws in samples_w:
        out += real_solutions([g, w - ws], xs)
    return out


# ---------------------------------------------------------------------------------- constraints

@dataclass
class KKTPoint(_ExactValue):
    """A KKT point of ``min f s.t. ||x||^2 <= r^2`` on the sphere ``||x|| = r``.

    ``multiplier_sign`` is the exact sign of mu in ``grad f + 2 mu x = 0``. ``kind``:
    ``constrained minimum`` (mu > 0 and the Lagrangian Hessian is positive definite on the
    tangent space: a strict local minimum of the constrained problem), ``not a minimum``
    (mu < 0: an inward descent direction; or mu > 0 with a negative tangent curvature),
    ``degenerate`` (the second-order test does not decide; mu = 0 points are resolved by the
    unconstrained classification in :func:`constrained_landscape`)."""

    point: AlgebraicPoint           # in (x..., mu)
    multiplier_sign: int
    tangent_inertia: tuple[int, int, int]
    kind: str
    f: sp.Expr = field(repr=False, default=None)

    def coordinates(self):
        return self.point.coordinates()[:-1]

    def to_float(self):
        return self.point.to_float()[:-1]

    def multiplier(self):
        return self.point.coordinates()[-1]


def kkt_points_on_sphere(f, variables, radius) -> list[KKTPoint]:
    """KKT points of ``min f s.t. ||x|| <= radius`` lying on the boundary, classified.

    >>> import sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> [(p.kind, p.coordinates()) for p in kkt_points_on_sphere(x + y, (x, y), 1)]
    [('constrained minimum', (-sqrt(2)/2, -sqrt(2)/2)), ('not a minimum', (sqrt(2)/2, sqrt(2)/2))]
    """
    xs = _symbols(variables)
    r = sp.nsimplify(radius)
    if not r.is_Rational or r <= 0:
        raise ValueError(f"radius must be a positive rational, got {radius!r}")
    f = _qq_poly(f, xs).as_expr()
    mu = sp.Symbol("_mu")
    norm2 = sum(x**2 for x in xs)
    eqs = [sp.diff(f, x) + 2 * mu * x for x in xs] + [norm2 - r**2]
    sols = real_solutions(eqs, xs + (mu,))
    HL = sp.hessian(f + mu * (norm2 - r**2), xs)
    border = sp.Matrix([[0] + list(xs)]).col_join(sp.Matrix(xs).row_join(HL))
    out = []
    for pt in sols:
        s = pt.sign(mu)
        b_pos, b_neg, b_zero = inertia(border, pt)
        tangent = (b_pos - 1, b_neg - 1, b_zero)    # x != 0 on the sphere (Haynsworth)
        if s < 0:
            kind = "not a minimum"
        elif s > 0:
            kind = ("constrained minimum" if tangent[1] == 0 and tangent[2] == 0 else
                    "not a minimum" if tangent[1] > 0 else "degenerate")
        else:
            kind = "degenerate"
        out.append(KKTPoint(pt, s, tangent, kind, f))
    return out


@dataclass
class ConstrainedLandscape:
    """Critical structure of ``min f s.t. ||x|| <= radius``.

    ``interior``: isolated critical points of f strictly inside the ball (a local minimum of f
    there is a constrained local minimum; a saddle or maximum is not). ``boundary``: the KKT
    points on the sphere; those with mu = 0 lying on a minimum curve of f are constrained minima.
    ``curves``: the unconstrained curves of critical points (they meet the ball or not)."""

    f: sp.Expr
    variables: tuple[sp.Symbol, ...]
    radius: sp.Rational
    interior: list[CriticalPoint]
    boundary: list[KKTPoint]
    curves: list[CriticalCurve]

    def local_minima(self):
        """Isolated constrained local minima: interior strict minima and boundary KKT minima."""
        return ([p for p in self.interior if p.kind == "minimum"]
                + [p for p in self.boundary if p.kind == "constrained minimum"])

    def global_minimum_value(self):
        """Enclosure of min f over the (compact) ball: the smallest value among interior
        critical points, boundary KKT points, and curves of critical points meeting the ball (a
        curve meets it iff a sample lies inside or it crosses the sphere, where it gives a KKT
        point with mu = 0)."""
        return min((v for v, _ in self._values()), key=lambda iv: iv[0])

    def _values(self) -> list[tuple[tuple[Any, Any], CriticalPoint | KKTPoint | CriticalCurve]]:
        norm2 = sum(x**2 for x in self.variables)
        vals: list[tuple[tuple[Any, Any], CriticalPoint | KKTPoint | CriticalCurve]] = [
            (value_enclosure(p.point, self.f), p) for p in self.interior]
        vals += [(value_enclosure(b.point, self.f), b) for b in self.boundary]
        for c in self.curves:
            meets = (any(s.sign(norm2 - self.radius**2) <= 0 for s in c.samples)
                     or any(b.multiplier_sign == 0 and b.point.is_zero(c.g)
                            for b in self.boundary))
            if meets and c.value is not None:
                vals.append(((c.value, c.value), c))
        return vals

    def spurious_minima(self):
        """Isolated constrained local minima with value certainly above another attained value
        (hence above the constrained global minimum)."""
        vals = self._values()
        mins = {id(p) for p in self.local_minima()}
        return [p for v, p in vals if id(p) in mins
                and _strictly_above_some(v, [o for o, q in vals if q is not p])]


def constrained_landscape(f, variables, radius) -> ConstrainedLandscape:
    """Interior critical points and boundary KKT points of ``f`` on the ball of ``radius``.

    A boundary point with mu = 0 is an unconstrained critical point: it is a constrained local
    minimum when it lies on a Morse-Bott minimum curve of f (then f is locally minimal in a full
    neighbourhood), and is reclassified so.

    >>> import sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> land = constrained_landscape(-(x**2 + y**2) + x / 2, (x, y), 1)
    >>> [(p.kind, p.coordinates()) for p in land.local_minima()]
    [('constrained minimum', (-1, 0))]
    """
    xs = _symbols(variables)
    r = sp.nsimplify(radius)
    land = critical_points(f, xs)
    norm2 = sum(x**2 for x in xs)
    interior = [p for p in land.points if p.point.sign(norm2 - r**2) < 0]
    boundary = kkt_points_on_sphere(land.f, xs, r)
    for b in boundary:
        if b.multiplier_sign == 0:
            on_min_curve = any(c.kind == "minimum" and b.point.is_zero(c.g) for c in land.curves)
            if on_min_curve:
                b.kind = "constrained minimum (on a curve of minima of f)"
    return ConstrainedLandscape(land.f, xs, r, interior, boundary, land.curves)


# ---------------------------------------------------------------------------------- box bounds

def derivative_entries(f, variables, order: int) -> list[tuple[sp.Expr, int]]:
    """The distinct order-``order`` partial derivatives of ``f`` with their multiplicities in
    the full (symmetric) derivative tensor, so that ||D^k f||_F^2 = sum mult * entry^2.

    >>> import sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> derivative_entries(x**2 * y, (x, y), 2)
    [(2*y, 1), (2*x, 2), (0, 1)]
    """
    xs = _symbols(variables)
    if int(order) != order or order < 1:
        raise ValueError(f"order must be a positive integer, got {order!r}")
    out = []
    for combo in itertools.combinations_with_replacement(range(len(xs)), int(order)):
        mult = len(set(itertools.permutations(combo)))
        out.append((sp.expand(sp.diff(f, *[xs[i] for i in combo])), mult))
    return out


def _power_range(lo: Fraction, hi: Fraction, k: int) -> tuple[Fraction, Fraction]:
    a, b = lo**k, hi**k
    if k % 2 == 0 and lo <= 0 <= hi:
        return Fraction(0), max(a, b)
    return min(a, b), max(a, b)


def _poly_range(poly: sp.Poly, box) -> tuple[Fraction, Fraction]:
    """Exact interval enclosure of a polynomial over a box (natural interval extension)."""
    lo_sum = hi_sum = Fraction(0)
    for monom, coeff in poly.terms():
        c = Fraction(int(coeff.p), int(coeff.q))
        lo, hi = Fraction(1), Fraction(1)
        for (a, b), k in zip(box, monom):
            if k:
                p, q = _power_range(a, b, k)
                prods = (lo * p, lo * q, hi * p, hi * q)
                lo, hi = min(prods), max(prods)
        lo, hi = (c * lo, c * hi) if c >= 0 else (c * hi, c * lo)
        lo_sum += lo
        hi_sum += hi
    return lo_sum, hi_sum


def derivative_norm_bounds(f, variables, box, order: int, cells: int = 8):
    """Certified bracket ``(lower^2, upper^2)`` (exact rationals) of sup_box ||D^k f||^2.

    ``box`` is a sequence of rational ``(lo, hi)`` per variable. ``order=1`` bounds the
    Lipschitz constant of f (the largest gradient norm on the convex box), ``order=2`` that of
    grad f (the spectral norm of the Hessian), ``order=3`` that of the Hessian (the operator norm
    sup_{|d| = 1} ||D^3 f[d]||_2). The upper bound is the Frobenius norm of the tensor (which
    dominates these operator norms) from exact interval arithmetic on ``cells^n`` sub-boxes; the
    lower bound is the largest norm ``||D^k f[e_i, ..., e_j, .]||`` of a tensor fibre (a lower
    bound of the operator norm) at the grid points, in exact arithmetic.

    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> lo2, hi2 = derivative_norm_bounds(x**2, (x,), [(-1, 1)], 1)
    >>> lo2 <= 4 <= hi2
    True
    """
    xs = _symbols(variables)
    fp = _qq_poly(f, xs)
    if len(box) != len(xs):
        raise ValueError(f"box has {len(box)} intervals for {len(xs)} variables")
    bx = []
    for lo, hi in box:
        lo, hi = Fraction(str(sp.nsimplify(lo))), Fraction(str(sp.nsimplify(hi)))
        if not lo < hi:
            raise ValueError(f"empty or degenerate box side ({lo}, {hi})")
        bx.append((lo, hi))
    if int(cells) != cells or cells < 1:
        raise ValueError(f"cells must be a positive integer, got {cells!r}")
    entries = [(sp.Poly(e, *xs, domain="QQ"), m) for e, m in
               derivative_entries(fp.as_expr(), xs, order)]
    # upper: Frobenius norm over each cell from exact interval enclosures
    upper = Fraction(0)
    steps = [[lo + (hi - lo) * Fraction(i, cells) for i in range(cells + 1)] for lo, hi in bx]
    for idx in itertools.product(range(cells), repeat=len(xs)):
        cell = [(s[i], s[i + 1]) for s, i in zip(steps, idx)]
        total = Fraction(0)
        for p, m in entries:
            a, b = _poly_range(p, cell)
            total += m * max(abs(a), abs(b)) ** 2
        upper = max(upper, total)
    # lower: fibres of the tensor along coordinate directions at grid points
    fibres = {}
    for combo in itertools.product(range(len(xs)), repeat=order - 1):
        fibres[combo] = [sp.Poly(sp.diff(fp.as_expr(), *[xs[i] for i in combo], x), *xs,
                                 domain="QQ") for x in xs]
    lower = Fraction(0)
    for point in itertools.product(*steps):
        vals = {x: sp.Rational(p.numerator, p.denominator) for x, p in zip(xs, point)}
        for polys in fibres.values():
            lower = max(lower, sum((Fraction(str(q.eval(vals))) ** 2 for q in polys),
                                   Fraction(0)))
    return lower, upper


def scaled_box_bounds(f, variables, param: sp.Symbol, half_width, order: int):
    """Symbolic bracket of sup ||D^k f||^2 over the box [-h, h]^n, h = ``half_width(param)``,
    valid for every ``param > 0``: returns ``(lowers, upper)`` as sympy expressions in ``param``.

    Substituting x = h s (|s_i| <= 1) makes every tensor entry a polynomial in s whose
    coefficients are Laurent polynomials in ``param``; the triangle inequality with |s_i| <= 1
    and the absolute values of the numeric coefficients gives ``upper`` (a Frobenius bound).
    ``lowers`` are exact fibre norms ||D^k f[e_i, ..., .]||^2 at the points s in {-1, 0, 1}^n
    (each a lower bound of the operator norm there). Limits of these decide boundedness.

    >>> import sympy as sp
    >>> x, e = sp.symbols("x e", positive=True)
    >>> lowers, upper = scaled_box_bounds(x**2, (x,), e, 1 / e, 1)
    >>> sp.limit(upper, e, 0, "+"), max(sp.limit(l, e, 0, "+") for l in lowers)
    (oo, oo)
    """
    xs = _symbols(variables)
    h = sp.sympify(half_width)
    ss = [sp.Dummy(f"s{i}") for i in range(len(xs))]
    upper = sp.Integer(0)
    for entry, mult in derivative_entries(f, xs, order):
        scaled = sp.expand(entry.subs(dict(zip(xs, [h * s for s in ss])), simultaneous=True))
        bound = sp.Integer(0)
        for _monom, coeff in sp.Poly(scaled, *ss).terms():
            bound += sum(abs(sp.Rational(c)) * m for c, m in
                         (t.as_coeff_Mul() for t in sp.Add.make_args(sp.expand(coeff))))
        upper += mult * bound**2
    lowers = []
    for corner in itertools.product((-1, 0, 1), repeat=len(xs)):
        at = dict(zip(xs, [h * c for c in corner]))
        for combo in itertools.product(range(len(xs)), repeat=order - 1):
            fibre = [sp.diff(f, *[xs[i] for i in combo], x).subs(at, simultaneous=True)
                     for x in xs]
            lowers.append(sp.expand(sum(c**2 for c in fibre)))
    return lowers, sp.expand(upper)
