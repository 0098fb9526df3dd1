"""Kawaguchi & Bengio (2019), Theorem 2 (squared loss, empirical measure, §3.2) and the values
stated after it.

Theorem 2. If Assumptions A1, B1 and B2 hold, every local minimum (W, V, θ) of L satisfies

    L(W, V, θ) <= (1/m)||P_N[X]Y||_F^2 - (1/m)||P[P_N[X]Z(X,θ)]Y||_F^2.                     (6)

After the theorem: L*_{x} = (1/m)||P_N[X]Y||_F^2 and
L*_{x} - L*_{x,z} = (1/m)||P[P_N[X]Z]Y||_F^2 = (1/m)||P[P_N[X]Z]P_N[X]Y||_F^2.

B1: ℓ(h, y) = ||h - y||_2^2. B2: μ is the empirical measure of (x_i, y_i), i = 1..m.
P_N[M] = I - P[M] (the printed definition is an erratum, see ``definitions.py``).
The proof identities are in ``theorem2_proof.py``.
"""

from proofcheck import Margin, Mutant, MutantKind
from proofcheck.problems import (at_point, at_point_Z, instances_for, least_squares_gain,
                                 linear_value, regression_data, resnet_landscape,
                                 streamed_least_squares_gain, streamed_regression)

from . import claim, printed_at
from ._declare import at_resnet_minima
from .assumptions import A1, B1, B2

SOURCE = printed_at("3.2", "Theorem 2", "(6)")



def bound_terms(inst, point, B):
    """L at the point, the two terms of (6) and the comparison tolerance."""
    q = at_point(inst, point)
    t = least_squares_gain(inst.X, at_point_Z(inst, point), inst.Y, B)
    tol = q.resolution * (1 + abs(q.L)) + t["tol"]
    source = f"{q.resolution_source} + {t['tol_source']}"
    # the terms stay in the backend's arithmetic (exact / ball backends certify witnesses)
    return q.L, t["L_x"], t["improvement"], tol, source


def conclusion(inst, point, B):
    L, L_x, imp, tol, source = bound_terms(inst, point, B)
    return Margin.at_most(L, L_x - imp, tol=tol, tol_source=source)


def doubled_improvement(inst, point, B):
    L, L_x, imp, tol, source = bound_terms(inst, point, B)
    return Margin.at_most(L, L_x - 2 * imp, tol=tol, tol_source=source)


def without_one_over_m(inst, point, B):
    L, L_x, imp, tol, source = bound_terms(inst, point, B)
    m = inst.X.shape[0]
    return Margin.at_most(L, (L_x - imp) / m, tol=tol, tol_source=source)


def flipped(inst, point, B):
    L, L_x, imp, tol, source = bound_terms(inst, point, B)
    return Margin.at_least(L, L_x, tol=tol, tol_source=source)


theorem2 = at_resnet_minima("kb2019.theorem2", SOURCE,
    title="squared loss: local minima beat linear predictors by the projected residual",
    statement="If A1, B1 and B2 hold, every local minimum satisfies L(W, V, θ) <= "
              "(1/m)||P_N[X]Y||_F^2 - (1/m)||P[P_N[X]Z(X,θ)]Y||_F^2",
    hypotheses=(A1, B1, B2),
    conclusion=conclusion,
    instances=lambda assumed: instances_for(assumed, losses=("squared",), loss_hypothesis=None),
    landscape=resnet_landscape,
    cases=("squared/full_rank", "squared/rank_deficient"),
    precision=None,     # the terms of (6) are computed by the backend
    notes="z(x, θ) given as data, local minima in (W, V); the rank-deficient branch uses data "
          "with a planted global minimum of rank d_y - 1 (exact in float64)",
    mutants=(
        Mutant.conclusion("doubled_improvement", MutantKind.PERTURBED_CONSTANT,
                          "L <= (1/m)||P_N Y||^2 - (2/m)||P[P_N Z] Y||^2", doubled_improvement),
        Mutant.conclusion("without_1_over_m", MutantKind.PERTURBED_CONSTANT,
                          "the right side divided by m once more", without_one_over_m),
        Mutant.conclusion("flipped", MutantKind.FLIPPED_INEQUALITY, "L >= (1/m)||P_N[X]Y||^2",
                          flipped),
        Mutant.drop("A1", "d_y > min(d_x, d_z)"),
    ),
)


# --- the values stated after Theorem 2 (any data; batched numpy) ---------------------------------

def improvement_identity(inst, point, B, factor=1.0, projected=True):
    t = least_squares_gain(inst.X, inst.Z, inst.Y, B)
    kw = dict(cond=t["cond"], n_ops=int(t["n_ops"]), scale=t["scale"])
    first = Margin.equal(t["L_x"] - t["L_xz"], factor * t["improvement"], B, **kw)
    if not projected:
        return first
    return first.both(Margin.equal(t["improvement"], t["improvement_projected"], B, **kw))


def improvement_unprojected_Z(inst, point, B):
    t = least_squares_gain(inst.X, inst.Z, inst.Y, B)
    m = inst.X.shape[-2]
    wrong = B.fro2(B.project(B.asarray(inst.Z), B.asarray(inst.Y))) / m
    return Margin.equal(t["L_x"] - t["L_xz"], wrong, B, cond=t["cond"], n_ops=int(t["n_ops"]),
                        scale=t["scale"])


def improvement_is_L_x(inst, point, B):
    t = least_squares_gain(inst.X, inst.Z, inst.Y, B)
    return Margin.equal(t["L_x"] - t["L_xz"], t["L_x"], B, cond=t["cond"], n_ops=int(t["n_ops"]),
                        scale=t["scale"])


improvement = claim(
    "kb2019.theorem2.improvement_identity", printed_at("3.2", "text after Theorem 2"),
    title="the improvement term as a projected residual",
    statement="L*_{x} - L*_{x,z(x,θ)} = (1/m)||P[P_N[X]Z]Y||_F^2 = (1/m)||P[P_N[X]Z]P_N[X]Y||_F^2",
    conclusion=improvement_identity,
    instances=lambda assumed: regression_data(),
    notes="L*'s evaluated as (1/m)||P_N[·]Y||^2 (their values are checked against the convex "
          "solver in kb2019.theorem2.linear_value); edge cases generated on purpose: "
          "rank-deficient X, Z in the span of X, repeated rows, m < d_x + d_z",
    mutants=(
        Mutant.conclusion("doubled", MutantKind.PERTURBED_CONSTANT, "= (2/m)||P[P_N Z] Y||^2",
                          lambda i, p, B: improvement_identity(i, p, B, factor=2.0,
                                                               projected=False)),
        Mutant.conclusion("unprojected_Z", MutantKind.DROPPED_TERM, "= (1/m)||P[Z] Y||^2",
                          improvement_unprojected_Z),
        Mutant.conclusion("whole_residual", MutantKind.OTHER, "= L*_x", improvement_is_L_x),
    ),
)


def linear_values(inst, point, B, transform=None):
    """The convex solver's L*_x and L*_{x,z} against the closed forms of §3.2."""
    t = least_squares_gain(inst.X, inst.Z, inst.Y, B)
    fx, fxz = linear_value(inst, basis="x"), linear_value(inst)
    closed_x, closed_xz = (t["L_x"], t["L_xz"]) if transform is None else transform(t, inst)
    width = max(float(f.upper_bound) - float(f.lower_bound) for f in (fx, fxz))
    source = f"width of the solver's certified bracket ({width:.2g}) + {t['tol_source']}"
    tol = width + float(t["tol"])
    a = Margin.at_most(abs(float(fx.value) - float(closed_x)), 0.0, tol=tol, tol_source=source)
    b = Margin.at_most(abs(float(fxz.value) - float(closed_xz)), 0.0, tol=tol, tol_source=source)
    return a.both(b)


linear_value_claim = claim(
    "kb2019.theorem2.linear_value", printed_at("3.2", "text after Theorem 2; proof of Theorem 2"),
    title="the global minimum value of linear predictors",
    statement="L*_{x} = (1/m)||P_N[X]Y||_F^2 (and L*_{x,z} = (1/m)||P_N[[X Z]]Y||_F^2)",
    conclusion=linear_values,
    instances=lambda assumed: regression_data(loss="squared"),
    notes="the convex solver (least squares with its rounding bracket) is an independent route "
          "to L*; the closed forms use SVD projections",
    mutants=(
        Mutant.conclusion("projection_not_null", MutantKind.OTHER, "L*_x = (1/m)||P[X]Y||^2",
                          lambda i, p, B: linear_values(
                              i, p, B, lambda t, inst: (t["scale"] - t["L_x"], t["L_xz"]))),
        Mutant.conclusion("missing_1_over_m", MutantKind.PERTURBED_CONSTANT,
                          "L*_x = ||P_N[X]Y||^2 (as in the proof's last display)",
                          lambda i, p, B: linear_values(
                              i, p, B, lambda t, inst: (t["L_x"] * t["m"], t["L_xz"] * t["m"]))),
        Mutant.conclusion("dropped_z_block", MutantKind.DROPPED_TERM,
                          "L*_{x,z} = (1/m)||P_N[X]Y||^2",
                          lambda i, p, B: linear_values(
                              i, p, B, lambda t, inst: (t["L_x"], t["L_x"]))),
    ),
)



# --- the same identity at large m, streamed ----------------------------------------------------

def streamed_identity(inst, point, B, factor=1.0, projected=True):
    t = streamed_least_squares_gain(inst)
    kw = dict(cond=t.cond_xz, n_ops=inst.m * (inst.d_x + inst.d_z), scale=t.y_norm2)
    first = Margin.equal(t.L_x - t.L_xz, factor * t.improvement, B, **kw)
    if not projected:
        return first
    return first.both(Margin.equal(t.improvement, t.improvement_projected, B, **kw))


improvement_streamed = claim(
    "kb2019.theorem2.improvement_streamed", printed_at("3.2", "text after Theorem 2"),
    title="the improvement identity at large m (streamed)",
    statement="L*_{x} - L*_{x,z} = (1/m)||P[P_N[X]Z]Y||_F^2 = (1/m)||P[P_N[X]Z]P_N[X]Y||_F^2 "
              "for data sets with m in the tens of thousands",
    conclusion=streamed_identity,
    instances=lambda assumed: streamed_regression(),
    high_precision=False,
    notes="float64 only (the streaming QR has no mpmath path); rows generated in chunks and "
          "reduced by a streaming QR of [X Z Y] (O(m d^2) time, "
          "O(d^2) memory); L*_{x,z} is read off a different block of R than L*_x - improvement, "
          "so the identity is not true by construction",
    mutants=(
        Mutant.conclusion("doubled", MutantKind.PERTURBED_CONSTANT, "= (2/m)||P[P_N Z] Y||^2",
                          lambda i, p, B: streamed_identity(i, p, B, 2.0, projected=False)),
        Mutant.conclusion("halved", MutantKind.PERTURBED_CONSTANT, "= (1/2m)||P[P_N Z] Y||^2",
                          lambda i, p, B: streamed_identity(i, p, B, 0.5, projected=False)),
        Mutant.conclusion("dropped_improvement", MutantKind.DROPPED_TERM, "L*_x - L*_{x,z} = 0",
                          lambda i, p, B: streamed_identity(i, p, B, 0.0, projected=False)),
    ),
)
