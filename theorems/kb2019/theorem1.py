"""Kawaguchi & Bengio (2019), Theorem 1 (arbitrary loss and measure), its proof identity and
the remark that the improvement term is non-negative (§3.1, App. B.1).

Theorem 1. If Assumptions A1 and A2 hold, every local minimum (W, V, θ) of L satisfies

    L(W, V, θ) <= L*_{x} - (L*_{x} - L*_{x,z(x,θ)}).                                     (5)

Proof idea: h = R(W, V) φ_θ(x) with R = [W, W V], φ_θ(x) = [x; z(x, θ)]; by Lemma 2 the
gradient of the convex L^R vanishes at R(W, V), which is therefore a global minimum of L^R.

Checked: (5) at local minima the engine finds and certifies (second-order conditions at 50
digits), for every convex differentiable loss of A2 and both branches of Lemma 2's split
(rank W >= d_y and rank W < d_y); L*'s come from the convex solver with a certified bracket.
"""

from proofcheck import Identity, Margin, Mutant, MutantKind
from proofcheck.problems import (CONVEX_DIFFERENTIABLE, cases, instances_for,
                                 linear_objective, linear_objective_pairs, linear_value_pair,
                                 resnet_instances)
from proofcheck.problems import resnet_landscape_with_saddles

from . import claim, printed_at
from ._declare import AT_CERTIFIED_POINT, at_resnet_minima, every_critical_point, versus_linear
from .assumptions import A2
from proofcheck.symbolic import SizeSweep
from proofcheck.symbolic_models import resnet_symbols

SOURCE = printed_at("3.1", "Theorem 1", "(5)")



conclusion = versus_linear("at_most", lambda v: (v.L, v.L_x - (v.L_x - v.L_xz)))
doubled_improvement = versus_linear("at_most", lambda v: (v.L, v.L_x - 2 * (v.L_x - v.L_xz)))
no_better_than_linear = versus_linear("at_least", lambda v: (v.L, v.L_x))
dropped_first_term = versus_linear("at_most", lambda v: (v.L, -(v.L_x - v.L_xz)))


theorem1 = at_resnet_minima("kb2019.theorem1", SOURCE,
    title="local minima of ResNets are no worse than linear predictors, improved by z",
    statement="If A1 and A2 hold, every local minimum (W, V, θ) of L satisfies "
              "L(W, V, θ) <= L*_{x} - (L*_{x} - L*_{x, z(x,θ)})",
    conclusion=conclusion,
    landscape=resnet_landscape_with_saddles,
    notes="μ is the empirical measure of a generated data set (B2-type instances); z(x, θ) is "
          "given as data (θ fixed), so local minima are taken in (W, V) — the proof uses "
          "nothing else.",
    mutants=(
        every_critical_point(),
        Mutant.conclusion("doubled_improvement", MutantKind.PERTURBED_CONSTANT,
                          "L <= L*_x - 2 (L*_x - L*_{x,z})", doubled_improvement),
        Mutant.conclusion("flipped", MutantKind.FLIPPED_INEQUALITY,
                          "L >= L*_x (local minima no better than linear predictors)",
                          no_better_than_linear),
        Mutant.conclusion("dropped_first_term", MutantKind.DROPPED_TERM,
                          "L <= -(L*_x - L*_{x,z})", dropped_first_term),
        Mutant.drop("A1", "d_y > min(d_x, d_z): with d_y > d_x, R = [W, WV] has rank <= d_x "
                          "< d_y and cannot reach the best linear predictor on [x, z]"),
        Mutant.drop("A2", "a non-convex (tilted double-well) loss: local minima of L can sit "
                          "in the wrong well"),
    ),
)


# --- the induced linear predictor -----------------------------------------------------------------

SWEEP = SizeSweep(d_x=(1, 3), d_y=(1, 3), d_z=(1, 3))


def induced_predictor(s, R=None):
    r = resnet_symbols(**s)
    return r.h, (r.R if R is None else R(r)) * r.phi


induced = claim("kb2019.theorem1.induced_predictor", printed_at("B.1", "proof of Theorem 1"),
    title="h is the linear predictor R(W, V) φ_θ(x)",
    statement="h(x, W, V, θ) = R(W, V) φ_θ(x) with R(W, V) = [W, W V], φ_θ(x) = [x; z(x, θ)]",
    identities=(Identity("induced_predictor", "W(x + V z) = [W, WV] [x; z]", induced_predictor,
                         SWEEP),),
    mutants=(
        Mutant.identity("dropped_W", MutantKind.DROPPED_TERM, "R = [W, V]", "induced_predictor",
                        lambda s: induced_predictor(s, R=lambda r: r.W.row_join(r.V))),
        Mutant.identity("transposed_V", MutantKind.TRANSPOSED, "R = [W, W V^T]",
                        "induced_predictor",
                        lambda s: induced_predictor(s, R=lambda r: r.W.row_join(r.W * r.V.T))),
        Mutant.identity("doubled_residual", MutantKind.PERTURBED_CONSTANT, "R = [W, 2 W V]",
                        "induced_predictor",
                        lambda s: induced_predictor(s, R=lambda r: r.W.row_join(2 * r.W * r.V))),
    ),
)


# --- "(L*_x - L*_{x,z}) >= 0 always" (§3.1, after Remark 3) ---------------------------------------

def improvement_nonnegative_margin(inst, point, B, flip=False, factor=1.0):
    L_x, L_xz, width = linear_value_pair(inst)
    source = f"width of the convex solver's certified brackets ({width:.2g})"
    if flip:
        return Margin.at_most(L_x - L_xz, 0.0, tol=width, tol_source=source)
    return Margin.at_least(L_x - factor * L_xz, 0.0, tol=width, tol_source=source)


def zero_minus_L_xz(inst, point, B):
    L_x, L_xz, width = linear_value_pair(inst)
    return Margin.at_least(-L_xz, 0.0, tol=width, tol_source="solver brackets")


ALL_LOSSES = CONVEX_DIFFERENTIABLE + ("hinge", "double_well")
improvement_nonnegative = claim(
    "kb2019.theorem1.improvement_nonnegative", printed_at("3.1", "discussion after Remark 3"),
    title="the improvement term is non-negative",
    statement="(L*_{x} - L*_{x, z(x,θ)}) >= 0 always: restricting the coefficients of z to zero "
              "recovers the linear predictors on x",
    conclusion=improvement_nonnegative_margin,
    instances=lambda assumed: resnet_instances(losses=("squared", "cross_entropy", "logistic",
                                                       "smoothed_hinge2", "smoothed_hinge3"),
                                               relation=None, branches=("full_rank",)),
    high_precision=False,
    notes="true for any loss (the infimum over a superset); checked for the convex losses, "
          "whose infima the convex solver brackets (in float64: no mpmath re-check)",
    mutants=(
        Mutant.conclusion("flipped", MutantKind.FLIPPED_INEQUALITY, "L*_x - L*_{x,z} <= 0",
                          lambda i, p, B: improvement_nonnegative_margin(i, p, B, flip=True)),
        Mutant.conclusion("doubled", MutantKind.PERTURBED_CONSTANT, "L*_x - 2 L*_{x,z} >= 0",
                          lambda i, p, B: improvement_nonnegative_margin(i, p, B, factor=2.0)),
        Mutant.conclusion("dropped_L_x", MutantKind.DROPPED_TERM, "-L*_{x,z} >= 0",
                          zero_minus_L_xz),
    ),
)


# --- Theorem 1 with a trainable residual function z(x; θ) -----------------------------------------

TRAINABLE_LOSSES = ("squared", "logistic")

trainable_residual = theorem1.replace(
    id="kb2019.theorem1.trainable_residual",
    title="Theorem 1 with the residual function trained jointly: z(x; θ) = (A x)^2",
    instances=lambda assumed: instances_for(assumed, losses=TRAINABLE_LOSSES,
                                            residual="quadratic"),
    branches=cases(TRAINABLE_LOSSES, ("full_rank",)),
    notes="local minima in (W, V, θ) jointly, θ = A of learned quadratic features (a closed "
          "predictor set, so minimisers exist; tanh units saturate and their infimum is "
          "typically not attained, which the finder reports as 'unresolved'). L*_{x,z(x,θ)} is "
          "taken at the point's θ. " + AT_CERTIFIED_POINT,
    # no saddle starts exist for a trained z (zero_predictor_critical_point), so the mutant
    # "every critical point" could not be caught here: it is not claimed
    mutants=tuple(m for m in theorem1.mutants if m.name not in ("drop_A2",
                                                                "every_critical_point")),
)


# --- "L^R(R, θ) is convex in R" (proof of Theorem 1) ------------------------------------------

def midpoint_convexity(inst, point, B, weight=0.5, slack=1.0):
    """L^R((R1 + R2)/2) <= (L^R(R1) + L^R(R2))/2, batched over instances."""
    R1, R2 = B.asarray(inst.R1), B.asarray(inst.R2)
    mid = linear_objective(inst, weight * R1 + (1 - weight) * R2, B)
    chord = weight * linear_objective(inst, R1, B) + (1 - weight) * linear_objective(inst, R2, B)
    return Margin.at_most(mid, slack * chord, B, n_ops=inst.Phi.shape[-2] * inst.Phi.shape[-1])


convexity = claim("kb2019.theorem1.convexity", printed_at("B.1", "proof of Theorem 1"),
    title="L^R is convex in R",
    statement="Since h ↦ ℓ(h, y) is convex, L^R(R, θ) = E[ℓ(R φ_θ(x), y)] is convex in R",
    hypotheses=(A2,),
    conclusion=midpoint_convexity,
    instances=lambda assumed: linear_objective_pairs(
        losses=CONVEX_DIFFERENTIABLE if assumed["A2"] else ("double_well",)),
    mutants=(
        Mutant.drop("A2", "a non-convex (tilted double-well) loss"),
        Mutant.conclusion("chord_halved", MutantKind.PERTURBED_CONSTANT,
                          "L^R((R1 + R2)/2) <= (L^R(R1) + L^R(R2))/4",
                          lambda i, p, B: midpoint_convexity(i, p, B, slack=0.5)),
        Mutant.conclusion("flipped", MutantKind.FLIPPED_INEQUALITY,
                          "L^R((R1 + R2)/2) >= (L^R(R1) + L^R(R2))/2",
                          lambda i, p, B: Margin.at_least(
                              linear_objective(i, (B.asarray(i.R1) + B.asarray(i.R2)) / 2, B),
                              (linear_objective(i, B.asarray(i.R1), B)
                               + linear_objective(i, B.asarray(i.R2), B)) / 2, B)),
    ),
)
