"""Kawaguchi & Bengio (2019), Proposition 1 (Shamir, 2018) and the comparison of assumptions
(§2.3, §3.1).

Proposition 1. If PA1 (d_y = 1), PA2 (h ↦ ℓ(h, y) convex and twice differentiable) and PA3
(L_θ, ∇L_θ, ∇²L_θ Lipschitz on bounded sets) hold, every local minimum satisfies
L(W, V, θ) <= L*_{x}. KB2019 obtain it as the d_y = 1 case of Theorem 1 and state that A1, A2 are
strictly weaker than PA1–PA3 ("the latter implies the former but not vice versa").
"""

from proofcheck import Hypothesis, Instance, Mutant, MutantKind
from proofcheck.problems import LOSSES, Relation, cases, instances_for
from proofcheck.problems import resnet_landscape_with_saddles

from . import claim, printed_at
from ._declare import (EXACT_LOGIC, at_resnet_minima, every_critical_point,
                       no_worse_than_L_x_mutants, truth, versus_linear)
from .assumptions import A1, A2, PA1, PA2, PA3

D_Y_IS_ONE = Relation("d_y = 1", lambda d: d["d_y"] == 1)


SCALAR_LOSSES = ("squared", "logistic", "smoothed_hinge3")   # twice differentiable, d_y = 1


def instances(assumed):
    return instances_for(assumed, losses=SCALAR_LOSSES, size_hypothesis="PA1",
                         loss_hypothesis="PA2", relation=D_Y_IS_ONE)


conclusion = versus_linear("at_most", lambda v: (v.L, v.L_x), "x")


proposition1 = at_resnet_minima(
    "kb2019.proposition1", printed_at("2.3", "Proposition 1 (Shamir, 2018)"),
    title="Shamir (2018): for d_y = 1 local minima are no worse than linear predictors",
    statement="If PA1, PA2 and PA3 hold, every local minimum (W, V, θ) of L satisfies "
              "L(W, V, θ) <= L*_{x}",
    hypotheses=(PA1, PA2, PA3),
    conclusion=conclusion,
    instances=instances,
    landscape=resnet_landscape_with_saddles,
    cases=cases(SCALAR_LOSSES),
    notes="checked as KB2019 obtain it, as the d_y = 1 case of Theorem 1, at certified local "
          "minima for every twice-differentiable convex loss here.",
    mutants=(every_critical_point(),) + no_worse_than_L_x_mutants(),
)


# --- "A1 and A2 are strictly weaker than PA1-PA3" -------------------------------------------------

# a finite domain: every size in 1..3 and every loss here, checked exhaustively
ASSUMPTION_CASES = tuple(Instance(loss=LOSSES[name], loss_name=name, d_x=a, d_y=b, d_z=c)
                         for name in sorted(LOSSES) for a in (1, 2, 3) for b in (1, 2, 3)
                         for c in (1, 2, 3))


def _holds(hyps, inst):
    return all(h.holds(inst) for h in hyps)


def implication(premises, consequences):
    def margin(inst, point, B):
        return truth((not _holds(premises, inst)) or _holds(consequences, inst),
                     "exact (a logical implication)")
    return margin


A1_SHIFTED = Hypothesis("A1+1", "d_y + 1 <= min(d_x, d_z)",
                        lambda i: i.d_y + 1 <= min(i.d_x, i.d_z))
NO_PA2 = (PA1, PA3)

weaker_assumptions = claim(
    "kb2019.remark3.weaker_assumptions", printed_at("3.1", "discussion after Remark 3"),
    title="A1, A2 are implied by PA1-PA3",
    statement="the set of our assumptions is strictly weaker than the set used to prove "
              "Proposition 1: PA1-PA3 imply A1, A2 (but not vice versa)",
    conclusion=implication((PA1, PA2, PA3), (A1, A2)),
    instances=lambda assumed: ASSUMPTION_CASES,
    notes="checked over every size in 1..3 and every loss here; 'not vice versa' is the "
          "companion claim kb2019.remark3.weaker_assumptions.strict. " + EXACT_LOGIC,
    high_precision=False,
    mutants=(
        Mutant.conclusion("flipped", MutantKind.FLIPPED_INEQUALITY, "A1, A2 imply PA1-PA3",
                          implication((A1, A2), (PA1, PA2, PA3))),
        Mutant.conclusion("shifted_A1", MutantKind.PERTURBED_CONSTANT,
                          "PA1-PA3 imply d_y + 1 <= min(d_x, d_z)",
                          implication((PA1, PA2, PA3), (A1_SHIFTED,))),
        Mutant.conclusion("dropped_PA2", MutantKind.DROPPED_HYPOTHESIS, "PA1, PA3 imply A2",
                          implication(NO_PA2, (A2,))),
    ),
)


def strict_witness(inst, point, B):
    return truth(_holds((A1, A2), inst) and not _holds((PA1, PA2, PA3), inst))


def squared(d_x, d_y, d_z):
    return Instance(loss=LOSSES["squared"], loss_name="squared", d_x=d_x, d_y=d_y, d_z=d_z)


def witness_mutant(name, kind, description, instance):
    """Mutant: the claim's witnesses replaced by ``instance``."""
    return Mutant(name, kind, description, lambda c: c.replace(instances=lambda a: (instance,)))


WITNESSES = (squared(2, 2, 2),
             Instance(loss=LOSSES["smoothed_hinge2"], loss_name="smoothed_hinge2",
                      d_x=1, d_y=1, d_z=1))

strictly_weaker = claim(
    "kb2019.remark3.weaker_assumptions.strict", printed_at("3.1", "discussion after Remark 3"),
    title="A1, A2 do not imply PA1-PA3",
    statement="there are settings satisfying A1 and A2 but not PA1-PA3 (e.g. d_y = 2, and the "
              "squared hinge, convex and differentiable but not twice differentiable)",
    conclusion=strict_witness,
    instances=lambda assumed: WITNESSES,
    notes=EXACT_LOGIC,
    high_precision=False,
    mutants=(
        witness_mutant("scalar_witness", MutantKind.PERTURBED_CONSTANT,
                       "witness with d_y = 1 and the squared loss (satisfies PA1-PA3)",
                       squared(2, 1, 2)),
        Mutant("flipped", MutantKind.FLIPPED_INEQUALITY,
               "the witnesses satisfy PA1-PA3 (flipped)",
               lambda c: c.replace(conclusion=lambda i, p, B: truth(
                   _holds((PA1, PA2, PA3), i)))),
        witness_mutant("violates_A1", MutantKind.DROPPED_HYPOTHESIS,
                       "a witness violating A1 (d_y = 3 > d_x = 2)", squared(2, 3, 3)),
    ),
)
