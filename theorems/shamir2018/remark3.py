"""Shamir (2018), Remark 3 (§4): Lipschitz constants of Example 1's F.

"In the example above, F does not have gradients and Hessians with a uniformly bounded Lipschitz
constant (over all of Euclidean space). However, for any ε > 0, the Lipschitz constants are
bounded by a numerical constant over (w, v) in [-2/ε, 2/ε]^2 (which includes the stationary
point studied in the construction)."

*What "bounded by a numerical constant" means.* For one fixed ε every continuous quantity is
bounded on a compact box, so the sentence only says something if the constant does not depend on
ε: sup_{ε > 0} μ_k(ε) < ∞, with μ_0, μ_1, μ_2 the Lipschitz constants of F, ∇F, ∇²F on the box
(the μ's of Theorem 3). A finite sweep of ε cannot decide a supremum over (0, ∞), so the printed
claim is decided analytically: in scaled coordinates (w, v) = (2/ε)(s, u), |s|, |u| <= 1, every
derivative entry is a polynomial in (s, u) with Laurent-polynomial coefficients in ε, which gives
a certified upper bound U_k(ε) (triangle inequality, Frobenius norm) and exact lower bounds
(fibre norms at the box's corners and edge midpoints); U_k, L_k are continuous on (0, ∞), so
sup_ε μ_k < ∞ iff U_k has finite limits at ε -> 0+ and ε -> ∞, and sup = ∞ if some L_k -> ∞.

Findings: μ_0(ε) >= (6/ε - 1) sqrt(13) (unbounded as ε -> 0: F's own Lipschitz constant, which
Theorem 3 needs, is not bounded); μ_1(ε)^2 <= 2ε^2 + 48ε + 385 and μ_2(ε)^2 <= 156 ε^2 are
bounded for ε in (0, 1] (by sqrt 435 ≈ 20.86 and sqrt 156 ≈ 12.49) but grow like ε as ε -> ∞.
So the Remark holds for the derivatives ∇F, ∇²F in the small-ε regime the example is about, and
fails for F itself and, literally, "for any ε > 0". The corrected statement is checked with
certified brackets (exact rational interval arithmetic) on a sweep of ε values.
"""

from fractions import Fraction
from functools import cache

import numpy as np
from proofcheck.lazy import lazy_import

from proofcheck import Identity, Instance, Margin, Mutant, MutantKind
from proofcheck.polynomial import derivative_norm_bounds, scaled_box_bounds
from proofcheck.symbolic import SizeSweep

from . import claim, printed_at
from .example1 import objective, symbols

sp = lazy_import("sympy")   # loaded on first use (startup cost)

SCALAR = SizeSweep(d=1)
NAMES = {1: "F", 2: "∇F", 3: "∇²F"}        # order of the derivative tensor -> whose constant
REGIMES = {"eps->0+": (0, "+"), "eps->oo": ("oo", "-")}     # ε's limit point, its side


def radius():
    """R > 0, the half-width of the box [-R, R]^2 over the plane."""
    return sp.Symbol("R", positive=True)


@cache
def symbolic_bounds(order, f_key="example1"):
    w, v, eps = symbols()
    return scaled_box_bounds(function(f_key), (w, v), eps, 2 / eps, order)


def _limit(expr, regime):
    point, direction = REGIMES[regime]
    return sp.limit(expr, symbols()[2], sp.oo if point == "oo" else point, direction)


def bounded_flag(order, regime, f_key="example1"):
    """1 if μ_order stays bounded in the regime (certified upper bound with a finite limit),
    0 if it does not (a certified lower bound tends to infinity); raises if undecided."""
    lowers, upper = symbolic_bounds(order, f_key)
    if _limit(upper, regime).is_finite:
        return 1
    if any(_limit(lo, regime) is sp.oo for lo in lowers):
        return 0
    raise ArithmeticError(f"boundedness of the order-{order} constant as {regime} is not "
                          "decided by the certified bounds")


def boundedness_flags(s):
    """[bounded?] for (F, ∇F, ∇²F) x (ε -> 0+, ε -> ∞), against all ones (the printed claim)."""
    flags = [bounded_flag(k, r) for k in (1, 2, 3) for r in REGIMES]
    return sp.Matrix(flags), sp.ones(len(flags), 1)


def function(key):
    """Example 1's F (``example1``), or a quadratic for a mutant (``quadratic``: its Hessian is
    constant, so its Lipschitz constant is 0)."""
    w, v, eps = symbols()
    if key == "example1":
        return objective()
    if key == "quadratic":
        return sp.Rational(1, 2) * (w + eps * v - 1) ** 2
    raise KeyError(key)


# --- the corrected statement: certified brackets on a sweep of ε in (0, 1] ------------------------

EPS_SWEEP = (Fraction(1, 1000), Fraction(1, 100), Fraction(1, 10), Fraction(1, 2), Fraction(1))
C1_SQ, C2_SQ = 435, 156          # sqrt 435 ≈ 20.86, sqrt 156 ≈ 12.49 (the upper bounds at ε = 1)


@cache
def brackets(e):
    """Certified (lower^2, upper^2) of μ_0, μ_1, μ_2 on [-2/ε, 2/ε]^2 (4 x 4 cells)."""
    e = sp.nsimplify(e)
    box = [(-2 / e, 2 / e)] * 2
    return {k: derivative_norm_bounds(objective(e), symbols()[:2], box, k, cells=4)
            for k in (1, 2, 3)}


def corrected_margin(c1_sq=C1_SQ, c2_sq=C2_SQ, bounded=(2, 3)):
    def margin(inst, point, B):
        e = sp.Rational(inst.eps_num, inst.eps_den)
        br = brackets(e)
        caps = {2: Fraction(c1_sq), 3: Fraction(c2_sq), 1: Fraction(c1_sq)}
        terms = []
        for k, (lo, hi) in br.items():
            terms.append(hi - lo)                         # a bracket, not an empty interval
            if k in bounded:
                terms.append(caps[k] - hi)                # μ_k^2 <= upper <= C^2
        # F's own constant grows: μ_0^2 >= 13 (6/ε - 1)^2 (certified lower bound)
        if 1 not in bounded:
            terms.append(br[1][0] - 13 * (6 / Fraction(int(e.p), int(e.q)) - 1) ** 2)
        value = min(terms)
        return Margin(np.array([float(value) if value != 0 else 0.0]), 0.0,
                      lhs={NAMES[k]: (round(float(lo) ** 0.5, 4), round(float(hi) ** 0.5, 4))
                           for k, (lo, hi) in br.items()},
                      rhs=f"μ_1 <= sqrt({c1_sq}), μ_2 <= sqrt({c2_sq})",
                      tol_source="exact rational interval arithmetic (certified brackets)")
    return margin


SWEEP_INSTANCES = tuple(Instance(eps_num=e.numerator, eps_den=e.denominator)
                        for e in EPS_SWEEP)


def upper_formula(order, expected):
    """(U_order(ε)^2, ``expected(ε)``)."""
    return lambda s: (symbolic_bounds(order)[1], expected(symbols()[2]))


def increasing_on_unit(order):
    """[#negative coefficients of U^2 as a polynomial in ε]: 0 means U^2 increases on (0, 1],
    so sup_{ε <= 1} U = U(1)."""
    return lambda s: (sp.Matrix([sum(1 for c in sp.Poly(symbolic_bounds(order)[1],
                                                         symbols()[2]).coeffs()
                                     if c < 0)]), sp.Matrix([0]))


def corner_gradient_norm2():
    """(||∇F(2/ε, 2/ε)||^2, 13 (6/ε - 1)^2), expanded."""
    w, v, eps = symbols()
    return (sp.expand(sum(sp.diff(objective(), x).subs({w: 2 / eps, v: 2 / eps},
                                                       simultaneous=True) ** 2 for x in (w, v))),
            sp.expand(13 * (6 / eps - 1) ** 2))


def box_distance():
    """(max(0, |-1/ε| - 2/ε), 0): the point (0, -1/ε) is in the box."""
    eps = symbols()[2]
    return sp.Max(0, sp.Abs(-1 / eps) - 2 / eps), sp.Integer(0)


remark3_corrected = claim("shamir2018.remark3", printed_at("4", "Remark 3"),
    title="for ε in (0, 1], ∇F and ∇²F have Lipschitz constants <= sqrt 435 and sqrt 156 on the "
          "box; F's own grows like 1/ε",
    statement="For every ε in (0, 1], on [-2/ε, 2/ε]^2: μ_1(ε) <= sqrt(2ε^2 + 48ε + 385) <= "
              "sqrt 435 and μ_2(ε) <= sqrt(156) ε <= sqrt 156 (numerical constants), while "
              "μ_0(ε) >= (6/ε - 1) sqrt 13 is unbounded as ε -> 0",
    identities=(
        Identity("grad_lipschitz_bound", "U_1(ε)^2 = 2ε^2 + 48ε + 385",
                 upper_formula(2, lambda eps: 2 * eps**2 + 48 * eps + 385), SCALAR,
                 as_printed=False),
        Identity("hessian_lipschitz_bound", "U_2(ε)^2 = 156 ε^2",
                 upper_formula(3, lambda eps: 156 * eps**2), SCALAR, as_printed=False),
        Identity("monotone_grad", "U_1^2 has no negative coefficient in ε",
                 increasing_on_unit(2), SCALAR, as_printed=False),
        Identity("monotone_hessian", "U_2^2 has no negative coefficient in ε",
                 increasing_on_unit(3), SCALAR, as_printed=False),
        Identity("objective_lower", "||∇F(2/ε, 2/ε)||^2 = 13 (6/ε - 1)^2",
                 lambda s: corner_gradient_norm2(), SCALAR, as_printed=False),
    ),
    conclusion=corrected_margin(),
    instances=lambda assumed: SWEEP_INSTANCES,
    notes="the sweep brackets every μ_k(ε) with certified lower and upper bounds (exact rational "
          "interval arithmetic on 4 x 4 sub-boxes) at ε in {1/1000, 1/100, 1/10, 1/2, 1}; the "
          "identities make the bounds symbolic in ε",
    mutants=(
        Mutant.conclusion("grad_constant_15", MutantKind.PERTURBED_CONSTANT,
                          "μ_1 <= 15 (false: μ_1(1) >= 15.81)", corrected_margin(c1_sq=225)),
        Mutant.conclusion("hessian_constant_7", MutantKind.PERTURBED_CONSTANT,
                          "μ_2 <= 7 (false: μ_2(1) >= 7.21)", corrected_margin(c2_sq=49)),
        Mutant.conclusion("objective_bounded", MutantKind.DROPPED_HYPOTHESIS,
                          "μ_0 <= sqrt 435 as well", corrected_margin(bounded=(1, 2, 3))),
        Mutant(name="eps_up_to_10", kind=MutantKind.DROPPED_HYPOTHESIS,
               description="the same constants for ε up to 10",
               apply=lambda c: c.replace(instances=lambda a: SWEEP_INSTANCES + (
                   Instance(eps_num=10, eps_den=1),))),
    ),
)

remark3 = claim("shamir2018.remark3", printed_at("4", "Remark 3"),
    title="Remark 3: for any ε > 0 the Lipschitz constants on [-2/ε, 2/ε]^2 are bounded by a "
          "numerical constant",
    statement="For any ε > 0, the Lipschitz constants (of F, ∇F, ∇²F) are bounded by a "
              "numerical constant over (w, v) in [-2/ε, 2/ε]^2 (which includes the stationary "
              "point studied in the construction)",
    identities=(Identity("contains_point", "(0, -1/ε) is in the box: max(0, |-1/ε| - 2/ε) = 0",
                         lambda s: box_distance(), SCALAR),
                Identity("bounded", "[μ_k bounded as ε -> 0+, as ε -> ∞] for k = F, ∇F, ∇²F "
                         "(1 = a certified upper bound has a finite limit, 0 = a certified "
                         "lower bound tends to infinity) is all ones", boundedness_flags,
                         SCALAR)),
    corrected=remark3_corrected,
    erratum="'a numerical constant' (independent of ε) fails for F itself as ε -> 0 "
            "(μ_0 >= (6/ε - 1) sqrt 13) and, literally 'for any ε > 0', for ∇F and ∇²F as "
            "ε -> ∞ (μ_1 >= |∂²F/∂w∂v(-2/ε, 2/ε)| = 12 + ε, μ_2 >= sqrt(52) ε, a fibre norm "
            "at a corner); it holds for "
            "∇F and ∇²F on ε in (0, 1], the example's regime",
    notes="decided from certified symbolic bounds in each regime ε -> 0+ and ε -> ∞",
)


# --- unbounded over the plane --------------------------------------------------------------------

@cache
def plane_bounds(order, e, f_key):
    w, v, eps = symbols()
    f = function(f_key).subs(eps, sp.nsimplify(e))
    return scaled_box_bounds(f, (w, v), radius(), radius(), order)


def unbounded_margin(f_key="example1", flipped=False):
    """+1 when a certified lower bound of sup over [-R, R]^2 tends to infinity with R."""
    def margin(inst, point, B):
        e = sp.Rational(inst.eps_num, inst.eps_den)
        R = radius()
        lowers, upper = plane_bounds(inst.order, e, f_key)
        grows = any(sp.limit(lo, R, sp.oo) is sp.oo for lo in lowers)
        if flipped:     # mutant: "bounded" (the upper bound stays finite)
            ok = sp.limit(upper, R, sp.oo).is_finite
        else:
            ok = grows
        return Margin(np.array([1.0 if ok else -1.0]), 0.0,
                      lhs=f"largest lower bound {max(lowers, key=lambda l: sp.degree(l, R))}",
                      rhs="-> oo as R -> oo", tol_source="exact (symbolic limits)")
    return margin


PLANE_INSTANCES = tuple(Instance(eps_num=e.numerator, eps_den=e.denominator, order=k)
                        for e in (Fraction(1, 10), Fraction(1), Fraction(10))
                        for k in (2, 3))

unbounded = claim("shamir2018.remark3.unbounded", printed_at("4", "Remark 3"),
    title="over the whole plane, ∇F and ∇²F have no uniformly bounded Lipschitz constant",
    statement="F does not have gradients and Hessians with a uniformly bounded Lipschitz "
              "constant (over all of Euclidean space)",
    conclusion=unbounded_margin(),
    instances=lambda assumed: PLANE_INSTANCES,
    high_precision=False,
    notes="certified lower bounds of sup over [-R, R]^2 (fibre norms at exact points) tend to "
          "infinity with R, e.g. ∂²F/∂v² = ε^2 w^2 and ∂³F/∂w∂v² = 2ε^2 w.  Exact (sympy "
          "limits of rational bounds): no floating point whose precision a backend could "
          "raise, so no high-precision re-run.",
    mutants=(
        Mutant.conclusion("bounded", MutantKind.FLIPPED_INEQUALITY,
                          "the constants are bounded over the plane", unbounded_margin(
                              flipped=True)),
        Mutant.conclusion("quadratic", MutantKind.OTHER,
                          "the same for F = (w + εv - 1)^2 / 2 (a constant Hessian)",
                          unbounded_margin("quadratic")),
        Mutant(name="first_order_quadratic", kind=MutantKind.OTHER,
               description="F = (w + εv - 1)^2 / 2, ∇F unbounded Lipschitz (false: constant "
                           "Hessian)",
               apply=lambda c: c.replace(conclusion=unbounded_margin("quadratic"),
                                         instances=lambda a: tuple(
                                             i for i in PLANE_INSTANCES if i.order == 2))),
    ),
)
