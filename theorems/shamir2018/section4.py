"""Shamir (2018), §4 and Figure 1: regularisation and constraints create spurious local minima.

The text: Figure 1 "plots F(w, v) from Example 1 (when ε = 1), with and without regularization
of the form R(w, v) = (λ/2)(w^2 + v^2) where λ = 1/2 ... the regularization created a new
spurious local minimum around (w, v) ≈ (-1, -1.6)"; "a similar issue can also occur if we impose
a hard constraint ... as Figure 1 illustrates". The caption: "(a) F(w, v) = (w(1 + v) - 1)^2,
(b) F(w, v) + (1/4)(w^2 + v^2), and (c) F(w, v) superimposed with the constraint ||(w, v)|| <= 2.
Both (b) and (c) exhibit a spurious local minima in the bottom left quadrant."

Everything here is decided by exact enumeration (:mod:`proofcheck.polynomial`): every real
critical point (and KKT point on the circle) as an algebraic number, its kind from the exact
inertia of the Hessian, values compared by certified rational enclosures. Findings:

* The caption's (a) drops Example 1's factor 1/2: the caption's F is 2 x Example 1's F.
* With Example 1's F (the text's reading) and λ = 1/2 there is **no** spurious minimum: the only
  critical point of F + (1/4)(w^2 + v^2) is the global minimum ≈ (0.59859, 0.27994). A spurious
  minimum exists iff 0 < λ < λ* ≈ 0.39042 (λ* the positive root of the discriminant factor
  256λ^6 + 768λ^5 + 3040λ^3 + 864λ^2 - 96λ - 283). The caption's (b), (w(1 + v) - 1)^2 +
  (1/4)(w^2 + v^2) = 2 (F + (1/8)(w^2 + v^2)), is λ = 1/4 for Example 1's F: its spurious strict
  local minimum is at ≈ (-0.98281, -1.60268), the "(-1, -1.6)" of the text.
* The constrained problem has exactly one spurious local minimum, on the circle (not in the open
  disc) at (-sqrt((15 - sqrt 33)/8), -(1 + sqrt 33)/4) ≈ (-1.07561, -1.68614), a KKT point with
  multiplier ≈ 0.0836 > 0 and F ≈ 0.0343 (Example 1's scaling) > 0 = min.
"""

from functools import cache

from proofcheck.lazy import lazy_import

from proofcheck import Identity, Mutant, MutantKind
from proofcheck.polynomial import constrained_landscape, critical_points
from proofcheck.symbolic import SizeSweep

from . import claim, printed_at
from .example1 import objective, symbols

sp = lazy_import("sympy")   # loaded on first use (startup cost)

SCALAR = SizeSweep(d=1)


def f1():
    """Example 1's F at ε = 1 (with the 1/2)."""
    return objective(sp.Integer(1))


def caption_f():
    """Figure 1 (a) as printed: (w(1 + v) - 1)^2."""
    w, v, _ = symbols()
    return (w * (1 + v) - 1) ** 2


def norm2():
    w, v, _ = symbols()
    return w**2 + v**2


def regularised(lam, f=None):
    """f + (λ/2)(w^2 + v^2) (f: Example 1's F at ε = 1 by default)."""
    return (f1() if f is None else f) + sp.nsimplify(lam) / 2 * norm2()


@cache
def _landscape(f):
    return critical_points(f, symbols()[:2])


@cache
def _constrained(f, radius):
    return constrained_landscape(f, symbols()[:2], radius)


def _near(p):
    """Is the point within the printed precision of (-1, -1.6): |w + 1| <= 1/2 (an integer
    printed), |v + 1.6| <= 1/20 (one decimal printed)? Decided exactly."""
    target = (-1, sp.Rational(-8, 5))                       # (-1, -1.6)
    slack = (sp.Rational(1, 2), sp.Rational(1, 20))
    pt = p.point
    return all(pt.sign(x - t - s) <= 0 and pt.sign(x - t + s) >= 0
               for x, t, s in zip(symbols()[:2], target, slack))


def _bottom_left(p):
    w, v, _ = symbols()
    return p.point.sign(w) < 0 and p.point.sign(v) < 0


def count_spurious(f, where=_near):
    """Number of spurious strict local minima of the coercive f satisfying ``where``."""
    return sum(1 for p in _landscape(f).spurious_minima() if where(p))


def spurious_anywhere(lam) -> int:
    """#spurious strict local minima of Example 1's F + (λ/2)(w^2 + v^2) anywhere (exact)."""
    return count_spurious(regularised(lam), lambda p: True)


def count_constrained_spurious(f, radius, where=_bottom_left):
    return sum(1 for p in _constrained(f, radius).spurious_minima() if where(p))


# --- the caption's objective ----------------------------------------------------------------------

caption_objective_corrected = claim("shamir2018.figure1.objective", printed_at("4", "Figure 1 (a)"),
    title="Figure 1 (a) is twice Example 1's F",
    statement="The caption's F(w, v) = (w(1 + v) - 1)^2 equals 2 x Example 1's F at ε = 1; "
              "critical points and constrained minima are the same for both, only the "
              "regularised panel (b) depends on the factor",
    identities=(Identity("factor_two", "(w(1 + v) - 1)^2 = 2 F(w, v)",
                         lambda s: (caption_f(), 2 * f1()), SCALAR, as_printed=False),),
    mutants=(Mutant.identity("factor_four", MutantKind.PERTURBED_CONSTANT,
                             "(w(1 + v) - 1)^2 = 4 F", "factor_two",
                             lambda s: (caption_f(), 4 * f1())),
             Mutant.identity("factor_one", MutantKind.PERTURBED_CONSTANT,
                             "(w(1 + v) - 1)^2 = F", "factor_two",
                             lambda s: (caption_f(), f1())),
             Mutant.identity("eps_two", MutantKind.PERTURBED_CONSTANT,
                             "(w(1 + v) - 1)^2 = 2 F at ε = 2", "factor_two",
                             lambda s: (caption_f(), 2 * objective(sp.Integer(2))))),
)

caption_objective = claim(
    "shamir2018.figure1.objective",
    printed_at("4", "Figure 1 and the text before Example 1's figure"),
    title="Figure 1 plots Example 1's F (ε = 1), printed as F = (w(1 + v) - 1)^2",
    statement="Figure 1 plots F(w, v) from Example 1 (when ε = 1); caption (a): "
              "F(w, v) = (w(1 + v) - 1)^2",
    identities=(Identity("same_objective", "Example 1's F at ε = 1 = (w(1 + v) - 1)^2",
                         lambda s: (f1(), caption_f()), SCALAR),),
    corrected=caption_objective_corrected,
    erratum="Example 1's F has the squared loss's 1/2: F = (w(1 + εv) - 1)^2 / 2, so the caption's "
            "(w(1 + v) - 1)^2 is 2F. With the regulariser (1/4)(w^2 + v^2) fixed, the factor "
            "changes the effective λ (see shamir2018.figure1.regularised)",
)


# --- the regularised problem ----------------------------------------------------------------------

def lambda_star_poly():
    """256λ^6 + 768λ^5 + 3040λ^3 + 864λ^2 - 96λ - 283, as printed in the corrected statement."""
    lam = sp.Symbol("lam")
    return sp.Poly(256 * lam**6 + 768 * lam**5 + 3040 * lam**3 + 864 * lam**2 - 96 * lam - 283,
                   lam)


def discriminant_factor():
    """The λ-polynomial whose positive root separates 1 and 3 real critical points of
    F + (λ/2)(w^2 + v^2): eliminate w (resultant), then the discriminant in v."""
    w, v, _ = symbols()
    lam = sp.Symbol("lam")
    f = f1() + lam / 2 * norm2()
    res = sp.factor_list(sp.resultant(sp.diff(f, w), sp.diff(f, v), w))[1]
    quintic = max((q for q, _ in res), key=lambda q: sp.Poly(q, v).degree())
    disc = sp.factor_list(sp.discriminant(sp.Poly(quintic, v)))[1]
    big = max((q for q, _ in disc), key=lambda q: sp.Poly(q, lam).degree())
    return sp.Poly(big, lam).monic()


def _root_counts(poly):
    """[#positive real roots, #real roots in (39/100, 41/100)] (exact, Sturm)."""
    return [poly.count_roots(0, sp.oo) - (1 if poly.eval(0) == 0 else 0),
            poly.count_roots(sp.Rational(39, 100), sp.Rational(41, 100))]


def spurious_location(f, poly_v=None, poly_w=None, box=None):
    """[#spurious minima, sign q(v), sign(w - p(v)), sign(v - lo), sign(v - hi)] at the unique
    spurious minimum: [1, 0, 0, 1, -1] when it is where the corrected statement says. By
    default q(v) = 16v^5 + 64v^4 + 104v^3 + 80v^2 + 9v - 16, p(v) = v^3 + 2v^2 + 5v/4 and
    v in (-1.61, -1.60)."""
    w, v, _ = symbols()
    if poly_v is None:
        poly_v = 16 * v**5 + 64 * v**4 + 104 * v**3 + 80 * v**2 + 9 * v - 16
    if poly_w is None:
        poly_w = v**3 + 2 * v**2 + sp.Rational(5, 4) * v
    if box is None:
        box = (sp.Rational(-161, 100), sp.Rational(-8, 5))
    sp_min = _landscape(f).spurious_minima()
    if len(sp_min) != 1:
        return sp.Matrix([len(sp_min), 9, 9, 9, 9])
    pt = sp_min[0].point
    return sp.Matrix([1, pt.sign(poly_v), pt.sign(w - poly_w), pt.sign(v - box[0]),
                      pt.sign(v - box[1])])


def corrected_location():
    """The corrected statement's [#, sign q(v), sign(w - p(v)), v > lo, v < hi] (a function,
    like the other constants here, so that sympy loads on first use)."""
    return sp.Matrix([1, 0, 0, 1, -1])

regularised_corrected = claim(
    "shamir2018.figure1.regularised", printed_at("4", "discussion of Figure 1 (b)"),
    title="the regulariser creates a spurious minimum for λ < λ* ≈ 0.3904 (e.g. the caption's "
          "(b), λ = 1/4 for Example 1's F), not for λ = 1/2",
    statement="For Example 1's F at ε = 1, F + (λ/2)(w^2 + v^2) has a spurious strict local "
              "minimum iff λ < λ* ≈ 0.39042 (positive root of 256λ^6 + 768λ^5 + 3040λ^3 + "
              "864λ^2 - 96λ - 283). At λ = 1/2 its only critical point is the global minimum "
              "≈ (0.59859, 0.27994). At λ = 1/4 (the caption's (b), (w(1 + v) - 1)^2 + "
              "(1/4)(w^2 + v^2) = 2(F + (1/8)(w^2 + v^2))) the spurious minimum is at "
              "≈ (-0.98281, -1.60268): v the root of 16v^5 + 64v^4 + 104v^3 + 80v^2 + 9v - 16 "
              "in (-1.61, -1.60), w = v^3 + 2v^2 + 5v/4",
    identities=(
        Identity("printed_lambda", "λ = 1/2: [#critical points, #spurious minima] = [1, 0]",
                 lambda s: (sp.Matrix([len(_landscape(regularised(sp.Rational(1, 2)))
                                           .points),
                                       spurious_anywhere(sp.Rational(1, 2))]),
                            sp.Matrix([1, 0])), SCALAR, as_printed=False),
        Identity("caption_lambda", "the caption's (b): the spurious minimum, exactly located",
                 lambda s: (spurious_location(regularised(sp.Rational(1, 2), caption_f())),
                            corrected_location()),
                 SCALAR, as_printed=False),
        Identity("same_as_lambda_quarter", "Example 1's F with λ = 1/4: the same point",
                 lambda s: (spurious_location(regularised(sp.Rational(1, 4))),
                            corrected_location()), SCALAR, as_printed=False),
        Identity("threshold", "the discriminant factor is 256λ^6 + 768λ^5 + 3040λ^3 + 864λ^2 - "
                 "96λ - 283 (monic), with one positive root λ* in (0.39, 0.41)",
                 lambda s: (sp.Matrix(discriminant_factor().all_coeffs()
                                      + _root_counts(discriminant_factor())),
                            sp.Matrix(lambda_star_poly().monic().all_coeffs() + [1, 1])), SCALAR,
                 as_printed=False),
        Identity("threshold_sides", "[#spurious minima at λ = 39/100, at λ = 41/100] = [1, 0]",
                 lambda s: (sp.Matrix([spurious_anywhere(sp.Rational(39, 100)),
                                       spurious_anywhere(sp.Rational(41, 100))]),
                            sp.Matrix([1, 0])), SCALAR, as_printed=False),
    ),
    notes="λ* ≈ 0.390418303494582; the threshold_sides identity brackets it by exact counts, "
          "the threshold identity re-derives its polynomial (resultant, then discriminant)",
    mutants=(
        Mutant.identity("spurious_at_half", MutantKind.PERTURBED_CONSTANT,
                        "λ = 1/2 also has a spurious minimum", "printed_lambda",
                        lambda s: (sp.Matrix([spurious_anywhere(sp.Rational(1, 2))]),
                                   sp.Matrix([1]))),
        Mutant.identity("shifted_box", MutantKind.PERTURBED_CONSTANT,
                        "v in (-1.70, -1.69) (the constrained minimum's v)", "caption_lambda",
                        lambda s: (spurious_location(regularised(sp.Rational(1, 2), caption_f()),
                                                     box=(sp.Rational(-170, 100),
                                                          sp.Rational(-169, 100))),
                                   corrected_location())),
        Mutant.identity("wrong_w_formula", MutantKind.DROPPED_TERM,
                        "w = v^3 + 2v^2 (dropped 5v/4)", "same_as_lambda_quarter",
                        lambda s: (spurious_location(regularised(sp.Rational(1, 4)),
                                                     poly_w=symbols()[1]**3
                                                     + 2 * symbols()[1]**2),
                                   corrected_location())),
        Mutant.identity("threshold_at_half", MutantKind.PERTURBED_CONSTANT,
                        "spurious minima for λ up to 0.5: [#] at λ = 41/100 is 1",
                        "threshold_sides",
                        lambda s: (sp.Matrix([spurious_anywhere(sp.Rational(41, 100))]),
                                   sp.Matrix([1]))),
    ),
)

regularised_printed = claim(
    "shamir2018.figure1.regularised", printed_at("4", "discussion of Figure 1 (b)"),
    title="regularisation λ = 1/2 of Example 1's F (ε = 1) creates a spurious local minimum "
          "≈ (-1, -1.6)",
    statement="Figure 1 plots F(w, v) from Example 1 (ε = 1) with regularization R(w, v) = "
              "(λ/2)(w^2 + v^2), λ = 1/2: the regularization created a new spurious local "
              "minimum around (w, v) ≈ (-1, -1.6)",
    identities=(Identity("spurious_minimum", "#spurious strict local minima of F + (1/4)(w^2 + "
                         "v^2) with |w + 1| <= 1/2, |v + 1.6| <= 1/20 is 1",
                         lambda s: (sp.Matrix([count_spurious(regularised(sp.Rational(1, 2)))]),
                                    sp.Matrix([1])), SCALAR),),
    corrected=regularised_corrected,
    erratum="with Example 1's F = (w(1 + v) - 1)^2 / 2 and λ = 1/2 the regularised objective has "
            "a single critical point, its global minimum ≈ (0.59859, 0.27994): no spurious "
            "minimum. The minimum ≈ (-0.98281, -1.60268) belongs to the caption's "
            "(w(1 + v) - 1)^2 + (1/4)(w^2 + v^2), i.e. λ = 1/4 for Example 1's F; spurious "
            "minima exist exactly for λ < λ* ≈ 0.39042",
)


# --- the constrained problem ----------------------------------------------------------------------

def constrained_location(f=None, radius=2):
    """[#spurious constrained minima, sign w, sign v, sign mu, (2v^2 + v - 4 = 0), (on circle)]
    for the unique spurious constrained minimum: [1, -1, -1, 1, 0, 0] when as stated (f:
    Example 1's F at ε = 1 by default)."""
    w, v, _ = symbols()
    f = f1() if f is None else f
    mins = _constrained(f, sp.nsimplify(radius)).spurious_minima()
    if len(mins) != 1:
        return sp.Matrix([len(mins), 9, 9, 9, 9, 9])
    b = mins[0]
    pt = b.point
    return sp.Matrix([1, pt.sign(w), pt.sign(v), b.multiplier_sign, pt.sign(2 * v**2 + v - 4),
                      pt.sign(norm2() - sp.nsimplify(radius)**2)])


def as_stated():
    """The constrained statement's [1, sign w < 0, sign v < 0, mu > 0, 0, on the circle]."""
    return sp.Matrix([1, -1, -1, 1, 0, 0])

constrained = claim("shamir2018.figure1.constrained", printed_at("4", "discussion of Figure 1 (c)"),
    title="the constraint ||(w, v)|| <= 2 creates a spurious local minimum (on the circle, "
          "bottom left)",
    statement="Optimising F of Example 1 (ε = 1) under the hard constraint ||(w, v)|| <= 2 can "
              "have "
              "spurious local minima inside its constrained domain: there is one, in the bottom "
              "left quadrant",
    identities=(
        Identity("spurious_constrained_minimum",
                 "exactly one spurious constrained local minimum: w < 0, v < 0, a KKT point with "
                 "mu > 0 at 2v^2 + v - 4 = 0 on the circle w^2 + v^2 = 4, i.e. "
                 "(-sqrt((15 - sqrt 33)/8), -(1 + sqrt 33)/4) ≈ (-1.07561, -1.68614)",
                 lambda s: (constrained_location(), as_stated()), SCALAR),
        Identity("scale_free", "the caption's 2F has the same spurious constrained minimum",
                 lambda s: (constrained_location(caption_f()), as_stated()), SCALAR),
    ),
    notes="the minimum is on the boundary circle (a KKT point with multiplier ≈ 0.0836 > 0 and a "
          "positive-definite tangent Hessian of the Lagrangian), not in the open disc; "
          "F ≈ 0.0343 there (Example 1's scaling) > 0 = the constrained minimum (the valley "
          "w(1 + v) = 1 crosses the disc). It is ≈ 0.12 from (-1, -1.6), the regularised one's "
          "location. Radius 3 has none (mutant)",
    mutants=(
        Mutant.identity("radius_three", MutantKind.PERTURBED_CONSTANT, "||(w, v)|| <= 3",
                        "spurious_constrained_minimum",
                        lambda s: (constrained_location(radius=3), as_stated())),
        Mutant.identity("interior", MutantKind.OTHER,
                        "the minimum is in the open disc (w^2 + v^2 < 4)",
                        "spurious_constrained_minimum",
                        lambda s: (constrained_location(), sp.Matrix([1, -1, -1, 1, 0, -1]))),
        Mutant.identity("top_left", MutantKind.FLIPPED_INEQUALITY, "v > 0 (top left quadrant)",
                        "spurious_constrained_minimum",
                        lambda s: (constrained_location(), sp.Matrix([1, -1, 1, 1, 0, 0]))),
    ),
)


# --- the caption ----------------------------------------------------------------------------------

def caption_counts(reg_f=None, radius=2, where=_bottom_left):
    reg_f = regularised(sp.Rational(1, 2), caption_f()) if reg_f is None else reg_f
    return sp.Matrix([count_spurious(reg_f, where),
                      count_constrained_spurious(caption_f(), radius, where)])


figure1 = claim("shamir2018.figure1", printed_at("4", "Figure 1 (caption)"),
    title="Figure 1: (b) and (c) have a spurious local minimum in the bottom left quadrant",
    statement="(a) F(w, v) = (w(1 + v) - 1)^2, (b) F(w, v) + (1/4)(w^2 + v^2), (c) F(w, v) with "
              "the constraint ||(w, v)|| <= 2. Both (b) and (c) exhibit a spurious local minima "
              "in the bottom left quadrant of the domain",
    identities=(
        Identity("panels_b_c", "[#spurious minima of (b), of (c)] in the bottom left = [1, 1]",
                 lambda s: (caption_counts(), sp.Matrix([1, 1])), SCALAR),
        Identity("panel_a", "(a) has no local minimum other than its valley: its only isolated "
                 "critical point is a saddle, [#isolated minima] = [0]",
                 lambda s: (sp.Matrix([len(_landscape(caption_f()).of_kind("minimum"))]),
                            sp.Matrix([0])), SCALAR),
    ),
    notes="with the caption's own F (twice Example 1's): (b)'s spurious minimum ≈ (-0.98281, "
          "-1.60268), (c)'s on the circle ≈ (-1.07561, -1.68614)",
    mutants=(
        Mutant.identity("top_right", MutantKind.FLIPPED_INEQUALITY,
                        "the spurious minima are in the top right quadrant", "panels_b_c",
                        lambda s: (caption_counts(where=lambda p: p.point.sign(symbols()[0]) > 0
                                                  and p.point.sign(symbols()[1]) > 0),
                                   sp.Matrix([1, 1]))),
        Mutant.identity("example1_scaling", MutantKind.PERTURBED_CONSTANT,
                        "(b) with Example 1's F (the 1/2 kept)", "panels_b_c",
                        lambda s: (caption_counts(reg_f=regularised(sp.Rational(1, 2))),
                                   sp.Matrix([1, 1]))),
        Mutant.identity("radius_three", MutantKind.PERTURBED_CONSTANT,
                        "(c) with ||(w, v)|| <= 3", "panels_b_c",
                        lambda s: (caption_counts(radius=3), sp.Matrix([1, 1]))),
    ),
)


# --- "making λ sufficiently small (or M sufficiently large)" fixes it -----------------------------

LARGE_RADII = (3, 6)


def small_lambdas():
    """λ = 1/10, 1/100, 1/1000."""
    return (sp.Rational(1, 10), sp.Rational(1, 100), sp.Rational(1, 1000))


def _small_lambda_counts(s=None):
    return sp.Matrix([spurious_anywhere(lam) for lam in small_lambdas()])


def _gap_within(factor):
    """[1 if the spurious minimum's excess value over the global minimum is <= factor * λ,
    from certified enclosures] at each small λ."""
    flags = []
    for lam in small_lambdas():
        land = _landscape(regularised(lam))
        [spur] = land.spurious_minima()
        best_lo = land.global_minimum_value()[0]
        hi = spur.point.enclosure(land.f, sp.Rational(1, 10**30))[1]
        flags.append(1 if hi - best_lo <= factor * lam else 0)
    return sp.Matrix(flags), sp.ones(len(flags), 1)


def _radius_counts(radii=LARGE_RADII):
    return sp.Matrix([count_constrained_spurious(f1(), r, lambda p: True) for r in radii])


fix_corrected = claim("shamir2018.figure1.fix", printed_at("4", "discussion after Figure 1"),
    title="a small λ does not remove the spurious minimum (it only makes it nearly optimal); a "
          "large constraint radius does remove it",
    statement="For Example 1's F (ε = 1): F + (λ/2)(w^2 + v^2) keeps a spurious local minimum for "
              "every small λ (one at λ = 1/10, 1/100, 1/1000: a perturbed minimum of the far "
              "valley), whose excess value over the global minimum is at most 5λ/2 (≈ 2.06λ), "
              "so it tends to 0 with λ; the constraint ||(w, v)|| <= r has no spurious local "
              "minimum for r = 3 or 6",
    identities=(
        Identity("small_lambda", "[#spurious minima at λ = 1/10, 1/100, 1/1000] = [1, 1, 1]",
                 lambda s: (_small_lambda_counts(), sp.ones(3, 1)), SCALAR, as_printed=False),
        Identity("gap", "the spurious value exceeds the global minimum by <= 5λ/2",
                 lambda s: _gap_within(sp.Rational(5, 2)), SCALAR, as_printed=False),
        Identity("large_radius", "[#spurious constrained minima at r = 3, 6] = [0, 0]",
                 lambda s: (_radius_counts(), sp.zeros(2, 1)), SCALAR, as_printed=False),
    ),
    notes="the excess value divided by λ is ≈ 1.96, 2.06, 2.06 at λ = 1/10, 1/100, 1/1000: "
          "half the difference of the squared distances from the origin to the two branches "
          "of the valley w(1 + v) = 1 (≈ 4.80 and ≈ 0.67)",
    mutants=(
        Mutant.identity("gap_lambda", MutantKind.PERTURBED_CONSTANT,
                        "the excess value is <= λ", "gap", lambda s: _gap_within(1)),
        Mutant.identity("radius_two", MutantKind.PERTURBED_CONSTANT,
                        "no spurious constrained minimum at r = 2 either", "large_radius",
                        lambda s: (_radius_counts((2,)), sp.zeros(1, 1))),
        Mutant.identity("gone_at_tenth", MutantKind.FLIPPED_INEQUALITY,
                        "no spurious minimum at λ = 1/10", "small_lambda",
                        lambda s: (sp.Matrix([spurious_anywhere(small_lambdas()[0])]),
                                   sp.zeros(1, 1))),
    ),
)

fix = claim("shamir2018.figure1.fix", printed_at("4", "discussion after Figure 1"),
    title="making λ sufficiently small (or M sufficiently large) fixes the spurious minima",
    statement="Of course, one way to fix this issue is by making the regularization parameter λ "
              "sufficiently small (or the domain M sufficiently large), so that the "
              "regularization only comes into effect when ||(w, v)|| is sufficiently large",
    identities=(
        Identity("small_lambda", "[#spurious minima at λ = 1/10, 1/100, 1/1000] = [0, 0, 0]",
                 lambda s: (_small_lambda_counts(), sp.zeros(3, 1)), SCALAR),
        Identity("large_radius", "[#spurious constrained minima at r = 3, 6] = [0, 0]",
                 lambda s: (_radius_counts(), sp.zeros(2, 1)), SCALAR),
    ),
    corrected=fix_corrected,
    erratum="for Example 1's F a small λ does not remove the spurious minimum: one exists for "
            "every 0 < λ < λ* ≈ 0.39 (near the far branch of the valley, where F + (λ/2)||.||^2 "
            "is minimised along the branch); only its excess value, ≈ 2.06λ, vanishes as λ -> 0. "
            "A large constraint radius does remove it (none at r = 3, 6)",
)
