"""Shamir (2018), Example 1 (§4): a bad approximate stationary point far from the origin.

x, w, V, w* scalars, w* = 1, f_θ(x) = εx, ℓ(p; y) = (p - y)^2 / 2, x = y = 1 w.p. 1:

    F(w, v) = (w(1 + εv) - 1)^2 / 2,
    ∇F = ((w - 1 + εwv)(1 + εv), (w - 1 + εwv) εw),
    ∇²F = [[(1 + εv)^2, ε(2w + 2εwv - 1)], [ε(2w + 2εwv - 1), ε^2 w^2]];

at (0, -1/ε) the gradient is 0, the Hessian is [[0, -ε], [-ε, 0]] and F = 1/2 > 0 = F_lin(1).

The formulas are proven symbolically for a symbol ε > 0. §4 then describes all stationary points
of F: "either global minima (along two valleys, w(1 + εv) = 1) or a saddle point (at
(w, v) = (1, -1/ε))". The saddle is at (0, -1/ε) (the point of Example 1 itself); at (1, -1/ε)
the gradient is (0, -ε). The corrected description is proven for symbolic ε (∇F = r ∇r with
r = w(1 + εv) - 1, and ∇r = 0 only at (0, -1/ε)) and re-derived, independently, by exact
critical-point enumeration (:mod:`proofcheck.polynomial`) on a sweep of ε values.

The symbols w, v, ε are made on first use (:func:`symbols`): listing the catalogue does not
import sympy.
"""

from fractions import Fraction
from functools import cache

import numpy as np
from proofcheck.lazy import lazy_import

from proofcheck import Identity, Instance, Margin, Mutant, MutantKind
from proofcheck.polynomial import critical_points
from proofcheck.symbolic import SizeSweep

from . import claim, printed_at
from .decidable import example1_point_forms, example1_stationary_forms

sp = lazy_import("sympy")   # loaded on first use (startup cost)


@cache
def symbols():
    """Example 1's variables (w, v, ε): w, v real, ε > 0."""
    w, v = sp.symbols("w v", real=True)
    return w, v, sp.Symbol("epsilon", positive=True)


def half():
    return sp.Rational(1, 2)


#: Example 1 is scalar: x, w, V, w* are numbers (the sweep has the single size d = 1)
SCALAR = SizeSweep(d=1)
#: ε = 1/k for the exact instances of the errata (a witness names its k)
EPS_SWEEP = SizeSweep(k=[1, 2, 10])
#: ε values of the enumeration sweep (exact rationals; small ε is the example's regime)
EPS_VALUES = (Fraction(1, 100), Fraction(1, 10), Fraction(1, 2), Fraction(1), Fraction(2),
              Fraction(10))


def objective(e=None, half=None):
    """F(w, v) of Example 1 at ε = ``e`` (default: the symbol ε); ``half`` is the 1/2 of the
    squared loss."""
    w, v, eps = symbols()
    e = eps if e is None else e
    half = sp.Rational(1, 2) if half is None else half
    return half * (w * (1 + e * v) - 1) ** 2


def model_objective(e=None):
    """E ℓ(w (x + V f_θ(x)); y) with x = y = 1, f_θ(x) = εx, ℓ = (p - y)^2 / 2 (§2, eq. (2))."""
    w, v, eps = symbols()
    e = eps if e is None else e
    x = y = sp.Integer(1)
    p = w * (x + v * (e * x))
    return sp.Rational(1, 2) * (p - y) ** 2


def printed_gradient(e=None):
    w, v, eps = symbols()
    e = eps if e is None else e
    r = w - 1 + e * w * v
    return sp.Matrix([r * (1 + e * v), r * e * w])


def printed_hessian(e=None, sign=-1):
    w, v, eps = symbols()
    e = eps if e is None else e
    off = e * (2 * w + 2 * e * w * v + sign)
    return sp.Matrix([[(1 + e * v) ** 2, off], [off, e**2 * w**2]])


def gradient(f):
    w, v, _ = symbols()
    return sp.Matrix([sp.diff(f, w), sp.diff(f, v)])


def hessian(f):
    w, v, _ = symbols()
    return sp.hessian(f, (w, v))


def gradient_without_eps():
    """The mutant's ∂F/∂v = (w - 1 + εwv) w (its ε dropped)."""
    w, v, eps = symbols()
    return sp.Matrix([printed_gradient()[0], (w - 1 + eps * w * v) * w])


# --- the formulas -------------------------------------------------------------------------------

formulas = claim("shamir2018.example1", printed_at("4", "Example 1"),
    title="Example 1: the objective, its gradient and its Hessian",
    statement="With x = y = 1, w* = 1, f_θ(x) = εx and the squared loss, F(w, v) = "
              "(w(1 + εv) - 1)^2 / 2, with gradient ((w - 1 + εwv)(1 + εv), (w - 1 + εwv)εw) "
              "and Hessian [[(1 + εv)^2, ε(2w + 2εwv - 1)], [ε(2w + 2εwv - 1), ε^2 w^2]]",
    identities=(
        Identity("objective", "E ℓ(w(x + V f(x)); y) = (w(1 + εv) - 1)^2 / 2",
                 lambda s: (model_objective(), objective()), SCALAR),
        Identity("gradient", "∇F = ((w - 1 + εwv)(1 + εv), (w - 1 + εwv)εw)",
                 lambda s: (gradient(objective()), printed_gradient()), SCALAR),
        Identity("hessian", "∇²F as printed", lambda s: (hessian(objective()), printed_hessian()),
                 SCALAR),
    ),
    notes="proven for a real symbol ε > 0 and real w, v (exact expansion)",
    mutants=(
        Mutant.identity("hessian_plus_one", MutantKind.PERTURBED_CONSTANT,
                        "off-diagonal ε(2w + 2εwv + 1)", "hessian",
                        lambda s: (hessian(objective()), printed_hessian(sign=+1))),
        Mutant.identity("gradient_without_eps", MutantKind.DROPPED_TERM,
                        "∂F/∂v = (w - 1 + εwv) w", "gradient",
                        lambda s: (gradient(objective()), gradient_without_eps())),
        Mutant.identity("objective_without_half", MutantKind.PERTURBED_CONSTANT,
                        "F = (w(1 + εv) - 1)^2 (the loss's 1/2 dropped)", "objective",
                        lambda s: (model_objective(), objective(half=1))),
        Mutant.identity("f_without_eps", MutantKind.DROPPED_TERM,
                        "f_θ(x) = x instead of εx", "objective",
                        lambda s: (model_objective(e=1), objective())),
    ),
)


# --- the point (0, -1/ε) ------------------------------------------------------------------------

def at(expr, point):
    w, v, _ = symbols()
    return sp.simplify(sp.Matrix(expr).subs({w: point[0], v: point[1]}, simultaneous=True)) \
        if isinstance(expr, sp.MatrixBase) else sp.simplify(expr.subs(
            {w: point[0], v: point[1]}, simultaneous=True))


def saddle(w0=0):
    """The point (w0, -1/ε): Example 1's saddle for w0 = 0, the printed one for w0 = 1."""
    return (sp.Integer(w0), -1 / symbols()[2])


def lam():
    return sp.Symbol("lambda")


def eps_matrix(sign):
    """[[0, sign ε], [sign ε, 0]]."""
    eps = symbols()[2]
    return sp.Matrix([[0, sign * eps], [sign * eps, 0]])


def f_lin(u):
    """F_lin(u) = E ℓ(u x; y) = (u - 1)^2 / 2 with x = y = 1."""
    return sp.Rational(1, 2) * (u - 1) ** 2


stationary_point = claim("shamir2018.example1.stationary_point", printed_at("4", "Example 1"),
    title="Example 1: at (0, -1/ε) the gradient vanishes, the Hessian is O(ε), F = 1/2 > F_lin(1)",
    statement="At (w, v) = (0, -1/ε) the gradient is 0 and the Hessian equals [[0, -ε], [-ε, 0]], "
              "which is arbitrarily close to 0 if ε is small; F(0, -1/ε) = 1/2 > 0 = F_lin(1)",
    identities=(
        Identity("gradient_zero", "∇F(0, -1/ε) = 0",
                 lambda s: (at(gradient(objective()), saddle()), sp.zeros(2, 1)), SCALAR),
        Identity("hessian", "∇²F(0, -1/ε) = [[0, -ε], [-ε, 0]]",
                 lambda s: (at(hessian(objective()), saddle()), eps_matrix(-1)), SCALAR),
        Identity("small_hessian", "det(λI - ∇²F(0, -1/ε)) = λ^2 - ε^2: eigenvalues ±ε, "
                 "so ||∇²F|| = ε -> 0 and λ_min = -ε (a strict saddle of curvature ε)",
                 lambda s: (at(hessian(objective()), saddle()).charpoly(lam()).as_expr(),
                            lam()**2 - symbols()[2]**2), SCALAR),
        Identity("value", "F(0, -1/ε) = 1/2", lambda s: (at(objective(), saddle()), half()),
                 SCALAR),
        Identity("linear_value", "F_lin(1) = 0 (w* = 1)", lambda s: (f_lin(1), 0), SCALAR),
    ),
    notes="F(0, -1/ε) - F_lin(1) = 1/2 for every ε > 0, while ||∇F|| = 0 and λ_min = -ε: the "
          "point is an ε'-SOPSP (Definition 1) whenever sqrt(μ2 ε') >= ε, yet 1/2 worse than "
          "the linear predictor w* = 1",
    mutants=(
        Mutant.identity("point_1", MutantKind.PERTURBED_CONSTANT, "∇F(1, -1/ε) = 0",
                        "gradient_zero",
                        lambda s: (at(gradient(objective()), saddle(1)), sp.zeros(2, 1))),
        Mutant.identity("hessian_sign", MutantKind.FLIPPED_INEQUALITY,
                        "∇²F(0, -1/ε) = [[0, ε], [ε, 0]]", "hessian",
                        lambda s: (at(hessian(objective()), saddle()), eps_matrix(+1))),
        Mutant.identity("value_one", MutantKind.PERTURBED_CONSTANT, "F(0, -1/ε) = 1", "value",
                        lambda s: (at(objective(), saddle()), 1)),
        Mutant.identity("eigen_eps_squared", MutantKind.PERTURBED_CONSTANT,
                        "eigenvalues ±ε^2", "small_hessian",
                        lambda s: (at(hessian(objective()), saddle()).charpoly(lam()).as_expr(),
                                   lam()**2 - symbols()[2]**4)),
        Mutant.conclusion("decided_value_one", MutantKind.PERTURBED_CONSTANT,
                          "F(0, -1/ε) = 1 (decidable form)", None,
                          decidable=example1_point_forms(value=1)),
        Mutant.conclusion("decided_hessian_sign", MutantKind.FLIPPED_INEQUALITY,
                          "∇²F(0, -1/ε) = [[0, ε], [ε, 0]] (decidable form)", None,
                          decidable=example1_point_forms(off=1)),
    ),
    decidable=example1_point_forms(),
)


# --- every stationary point (stated in §4 after Figure 1) ---------------------------------------

def residual():
    """r = w(1 + εv) - 1, so that F = r^2 / 2."""
    w, v, eps = symbols()
    return w * (1 + eps * v) - 1


@cache
def landscape(e):
    """Exact critical points of Example 1's F at ε = e (cached: the engine may ask twice)."""
    return critical_points(objective(sp.nsimplify(e)), symbols()[:2])


def _structure_matches(e, saddle_w):
    """Does the exact enumeration at ε = e give exactly: one isolated critical point, a saddle at
    (saddle_w, -1/ε) with F = 1/2, and one curve w(1 + εv) = 1 of minima with F = 0 on two
    arcs ("two valleys")?"""
    w, v, _ = symbols()
    land = landscape(e)
    found = [(p.kind, p.coordinates(), p.value) for p in land.points]
    want = [("saddle", (sp.nsimplify(saddle_w), -1 / e), half())]
    curves = [(c.kind, c.value, len(c.samples)) for c in land.curves]
    valley = sp.Poly(w * (1 + e * v) - 1, w, v)
    same_curve = len(land.curves) == 1 and sp.Poly(land.curves[0].g, w, v).monic() == valley.monic()
    ok = found == want and same_curve and curves == [("minimum", 0, 2)]
    return ok, f"points {found}, curves {[(str(c.g), *k) for c, k in zip(land.curves, curves)]}"


def enumeration_margin(saddle_w):
    def margin(inst, point, B):
        e = sp.Rational(inst.eps_num, inst.eps_den)
        ok, found = _structure_matches(e, saddle_w)
        return Margin(np.array([1.0 if ok else -1.0]), 0.0, lhs=found,
                      rhs=f"saddle at ({saddle_w}, -1/ε) and the valley of minima",
                      tol_source="exact (algebraic numbers; Descartes inertia; Morse-Bott curve)")
    return margin


EPS_INSTANCES = tuple(Instance(eps_num=e.numerator, eps_den=e.denominator) for e in EPS_VALUES)


def _eps_of(s):
    return sp.Rational(1, s["k"])


def critical_basis_of_r():
    """The lex Groebner basis of ∇r = (1 + εv, εw) over QQ(ε), as a column."""
    w, v, eps = symbols()
    return sp.Matrix(sp.groebner(list(gradient(residual())), w, v, order="lex",
                                 domain=sp.QQ.frac_field(eps)).exprs)


corrected_stationary = claim(
    "shamir2018.example1.stationary_points", printed_at("4", "discussion of Figure 1"),
    title="Example 1: the stationary points are the valley of global minima and the saddle "
          "(0, -1/ε)",
    statement="The stationary points of F(w, v) are either global minima (along two valleys "
              "w(1 + εv) = 1) or a saddle point at (w, v) = (0, -1/ε)",
    identities=(
        Identity("factorisation", "∇F = r ∇r with r = w(1 + εv) - 1, so ∇F = 0 iff r = 0 or ∇r = 0",
                 lambda s: (gradient(objective()), residual() * gradient(residual())), SCALAR,
                 as_printed=False),
        Identity("critical_of_r", "∇r = (1 + εv, εw) = 0 only at (0, -1/ε): its Groebner basis "
                 "over QQ(ε) is {w, v + 1/ε}",
                 lambda s: (critical_basis_of_r(), sp.Matrix([symbols()[0],
                                                              symbols()[1] + 1 / symbols()[2]])),
                 SCALAR, as_printed=False),
        Identity("saddle", "∇F(0, -1/ε) = 0", lambda s: (at(gradient(objective()), saddle()),
                                                         sp.zeros(2, 1)), SCALAR,
                 as_printed=False),
        Identity("minima", "F = r^2 / 2 >= 0 = F on the valley r = 0 (global minima)",
                 lambda s: (objective(), residual()**2 / 2), SCALAR, as_printed=False),
    ),
    conclusion=enumeration_margin(0),
    instances=lambda assumed: EPS_INSTANCES,
    notes="symbolic in ε > 0 (identities); the exact enumeration at ε in "
          f"{[str(e) for e in EPS_VALUES]} finds exactly the saddle (0, -1/ε) (inertia (1, 1, 0), "
          "F = 1/2) and the curve w(1 + εv) = 1 of Morse-Bott minima with F = 0 and two arcs",
    decidable=example1_stationary_forms(0),
    mutants=(
        Mutant.conclusion("saddle_at_1", MutantKind.PERTURBED_CONSTANT,
                          "the enumeration finds the saddle at (1, -1/ε)", enumeration_margin(1),
                          decidable=example1_stationary_forms(1)),
        Mutant.identity("factor_without_eps", MutantKind.DROPPED_TERM,
                        "∇F = r (1 + εv, w)", "factorisation",
                        lambda s: (gradient(objective()), residual() * sp.Matrix(
                            [1 + symbols()[2] * symbols()[1], symbols()[0]]))),
        Mutant.identity("saddle_at_1", MutantKind.PERTURBED_CONSTANT, "∇F(1, -1/ε) = 0", "saddle",
                        lambda s: (at(gradient(objective()), saddle(1)), sp.zeros(2, 1))),
    ),
)

stationary_points = claim(
    "shamir2018.example1.stationary_points", printed_at("4", "discussion of Figure 1"),
    title="Example 1: the stationary points are global minima or a saddle at (1, -1/ε)",
    statement="Whereas the stationary points of F(w, v) are either global minima (along two "
              "valleys, corresponding to {(w, v) : w(1 + εv) = 1}) or a saddle point "
              "(at (w, v) = (1, -1/ε))",
    identities=(
        Identity("saddle", "∇F(1, -1/ε) = 0 at ε = 1/k",
                 lambda s: (at(gradient(objective(_eps_of(s))), (1, -1 / _eps_of(s))),
                            sp.zeros(2, 1)), EPS_SWEEP),
    ),
    corrected=corrected_stationary,
    decidable=example1_stationary_forms(1),
    notes="refuted exactly at ε = 1 (∇F(1, -1) = (0, -1)); the corrected statement's exact "
          "enumeration also shows F has no other isolated stationary point",
    erratum="the saddle point is at (0, -1/ε) (Example 1's own point), not at (1, -1/ε): there "
            "the gradient is (0, -ε) != 0, and F has no other isolated stationary point",
)
