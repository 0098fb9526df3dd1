"""Kawaguchi & Bengio (2019), Remark 3 (consequences of Theorem 1, §3.1).

If Assumptions A1 and A2 hold:
  (i)  every local minimum value is at most the global minimum value of linear predictors with
       the fixed basis x: L(W, V, θ) <= L*_{x};
  (ii) if z(x, θ) is non-negligible, L*_{x} - L*_{x,z(x,θ)} ≠ 0, every local minimum value is
       strictly less: L(W, V, θ) < L*_{x}.

Checked at certified local minima as for Theorem 1. The strict inequality of (ii) is checked
beyond the tolerance (L*_x - L must exceed it), on instances whose improvement term is above
the tolerance; "non-negligible" is a named hypothesis so that dropping it is a mutant.
"""

from proofcheck import Hypothesis, Mutant, MutantKind
from proofcheck.problems import (CONVEX_DIFFERENTIABLE, cases, instances_for,
                                 linear_value_pair, resnet_landscape, z_in_span_of_x)

from . import printed_at
from ._declare import at_resnet_minima, no_worse_than_L_x_mutants, versus_linear
from .assumptions import A1, A2


# Lemma 2's rank-deficient branch is built with balanced labels (R* = 0) for classification
# losses, where z is negligible; (ii) is checked in the full-rank branch for those.
CASES_II = tuple(c for c in cases(CONVEX_DIFFERENTIABLE)
                 if c.endswith("full_rank") or c.startswith("squared"))


part_i = versus_linear("at_most", lambda v: (v.L, v.L_x), "x")


remark3_i = at_resnet_minima("kb2019.remark3.i", printed_at("3.1", "Remark 3 (i)"),
    title="local minima are no worse than linear predictors on x",
    statement="If A1 and A2 hold, every local minimum satisfies L(W, V, θ) <= L*_{x}",
    conclusion=part_i,
    landscape=resnet_landscape,
    mutants=no_worse_than_L_x_mutants(),
    notes="no dropped-hypothesis mutant: dropping A1 or A2 did not produce a violation of (i) "
          "in our instance families (ResNets contain every linear predictor on x via V = 0), "
          "so none is claimed to be caught.",
)


# --- (ii) -----------------------------------------------------------------------------------------

def improvement(inst):
    """L*_x - L*_{x,z} and the width of the solver brackets."""
    L_x, L_xz, width = linear_value_pair(inst)
    return L_x - L_xz, width


def non_negligible(inst):
    gap, width = improvement(inst)
    return gap > 2 * width


NON_NEGLIGIBLE = Hypothesis(
    "z_non_negligible", "L*_{x} - L*_{x,z(x,θ)} ≠ 0 (beyond the solver's certified brackets)",
    non_negligible)


def instances_ii(assumed):
    strategy = instances_for(assumed)
    if assumed["z_non_negligible"]:
        return strategy.filter(non_negligible)
    return strategy.map(z_in_span_of_x)       # negligible z


part_ii = versus_linear("strictly_less", lambda v: (v.L, v.L_x), "x")
part_ii_flipped = versus_linear("strictly_less", lambda v: (v.L_x, v.L), "x")


def part_ii_doubled_gap(inst, point, B):
    gap, _ = improvement(inst)
    return versus_linear("strictly_less", lambda v: (v.L + 2 * gap, v.L_x), "x")(inst, point, B)


# Mutant: strictly below L*_{x,z} (the theorem gives equality, so this must fail).
part_ii_below_xz = versus_linear("strictly_less", lambda v: (v.L, v.L_xz), "x,z")


remark3_ii = at_resnet_minima("kb2019.remark3.ii", printed_at("3.1", "Remark 3 (ii)"),
    title="non-negligible z makes local minima strictly better than linear predictors",
    statement="If A1 and A2 hold and L*_{x} - L*_{x,z(x,θ)} ≠ 0, every local minimum satisfies "
              "L(W, V, θ) < L*_{x}",
    hypotheses=(A1, A2, NON_NEGLIGIBLE),
    conclusion=part_ii,
    instances=instances_ii,
    landscape=resnet_landscape,
    cases=CASES_II,
    mutants=(
        Mutant.drop("z_non_negligible", "z in the span of x: L = L*_x, not strictly less"),
        Mutant.conclusion("flipped", MutantKind.FLIPPED_INEQUALITY, "L*_x < L", part_ii_flipped),
        Mutant.conclusion("doubled_gap", MutantKind.PERTURBED_CONSTANT,
                          "L + 2 (L*_x - L*_{x,z}) < L*_x", part_ii_doubled_gap),
        Mutant.conclusion("below_xz", MutantKind.OTHER, "L < L*_{x,z}", part_ii_below_xz),
    ),
)
