"""KHK2019LM Theorem 2 (§3.3) and the inequality chain that follows it.

Theorem 2. Let assumptions 1 and 2 hold. Then for any local minimum theta not in Omega-tilde there
is eps_0 > 0 such that for any eps in [0, eps_0),
    L(theta) = inf_{S finite subset of V[theta, eps], alpha in R^{d_theta x |S|}}
               L~_theta(alpha, eps, S).   (3.2)

The chain: for any theta not in Omega-tilde and eps >= 0 small,
    L(theta) >= inf_alpha L_theta(alpha) >= inf_{S, alpha} L~_theta(alpha, eps, S).

The infimum over all finite S is not computable; the checks use the finite S = {0} plus every
direction the generators of :mod:`proofcheck.induced` produce (verified members of V[theta, eps]).
For Theorem 2 this is the nontrivial direction: L(theta) <= inf over that S (the other direction
is S = {0} and Assumption 2); an S of generated directions reaching below L(theta) would refute
it.  eps = 2^-10.
"""

import numpy as np

from proofcheck import Margin, Mutant, MutantKind, PointKind
from proofcheck.induced import (DEFAULT_EPS, float_point_tolerance, induced_infimum,
                                perturbable_basis, perturbation_set, point_theta)

from . import claim, printed_at
from ._declare import at_network_points, at_saddles, bracket_tol, equality, evaluated
from .instances import A1, A2, network, panel, random_points

SOURCE = printed_at("3.3", "Theorem 2", "(3.2)")
KINDS = ("deep_linear", "deep_linear3", "relu")


def perturbable_value(inst, theta, eps=DEFAULT_EPS):
    net = network(inst)
    S = perturbation_set(net, inst.X, theta, eps, limit=8)
    # the same span, with the perturbations as difference quotients (well scaled)
    Jt, noise = perturbable_basis(net, inst.X, theta, eps, S, centered=True)
    return induced_infimum(Jt, inst.Y, inst.loss, inst.weights, rel_noise=noise), len(S)


def conclusion(inst, point, B):
    theta = point_theta(point)
    q = evaluated(inst, theta)
    fit, _ = perturbable_value(inst, theta)
    tol = bracket_tol(q, fit) \
        + float_point_tolerance(q, point, network(inst)) * (1 + float(np.abs(fit.alpha).sum()))
    return equality(q.L, fit, tol)


def _instances(assumed):
    if not assumed["A2"]:
        return panel(kinds=("deep_linear",), violate=("A2",))
    if not assumed["A1"]:
        return panel(kinds=("deep_linear",), violate=("A1",))
    return panel(kinds=KINDS)


theorem2 = at_network_points("khk2019lm.theorem2", SOURCE,
    PointKind.LOCAL_MIN,
    title="every differentiable local minimum attains the global minimum value of the "
          "perturbable gradient basis model",
    statement="Let assumptions 1 and 2 hold. Then for any local minimum theta in R^{d_theta} \\ "
              "Omega-tilde of L there exists eps_0 > 0 such that for any eps in [0, eps_0): "
              "L(theta) = inf_{S subset_fin V[theta, eps], alpha in R^{d_theta x |S|}} "
              "L~_theta(alpha, eps, S)",
    hypotheses=(A1, A2),
    conclusion=conclusion,
    instances=_instances,
    notes="S = {0} and the generated directions of V[theta, 2^-10] (left-null-space "
          "perturbations, unit rescalings, the proofs' null-product constructions).",
    mutants=(
        at_saddles("the same at every critical point: at the saddle theta = 0 of a linear "
                   "network the perturbable basis reaches every linear predictor, below L(0)"),
        Mutant.drop("A2", "a fixed output offset: the perturbable basis cannot represent it"),
    ),
)


# --- the chain L >= inf L_theta >= inf L~_theta at any differentiable theta ---------------------

def chain(inst, point, B, flip_first=False):
    q = evaluated(inst, inst.theta)
    fit1 = induced_infimum(q.J, inst.Y, inst.loss, inst.weights)
    fit2, _ = perturbable_value(inst, inst.theta)
    tol1, tol2 = bracket_tol(q, fit1), bracket_tol(q, fit1) + bracket_tol(q, fit2)
    src = "the solvers' certified brackets + float64 rounding"
    first = (Margin.at_most(q.L, fit1.value, tol=tol1, tol_source=src) if flip_first
             else Margin.at_least(q.L, fit1.value, tol=tol1, tol_source=src))
    second = Margin.at_least(fit1.value, fit2.value, tol=tol2, tol_source=src)
    return first.both(second)


chain_claim = claim("khk2019lm.theorem2.chain", printed_at("3.3", "after Theorem 2"),
    title="L(theta) >= inf L_theta >= inf L~_theta at every differentiable theta",
    statement="For any theta in R^{d_theta} \\ Omega-tilde with eps >= 0 sufficiently small: "
              "L(theta) >= inf_alpha L_theta(alpha) >= inf_{S subset_fin V[theta, eps], alpha} "
              "L~_theta(alpha, eps, S)",
    hypotheses=(A2,),
    conclusion=chain,
    instances=lambda assumed: random_points(kinds=("deep_linear", "deep_linear3", "relu"),
                                            violate=() if assumed["A2"] else ("A2",)),
    high_precision=False,
    notes="At random theta (not critical points); ReLU draws are differentiable almost surely. "
          "The first step uses Assumption 2 (f_X(theta) = L_theta at alpha = g(theta)), the "
          "second S = {0}. Float64 only: the solvers are float64 with certified brackets.",
    mutants=(
        Mutant.conclusion("flipped_first", MutantKind.FLIPPED_INEQUALITY,
                          "L(theta) <= inf_alpha L_theta(alpha) at every theta",
                          lambda inst, p, B: chain(inst, p, B, flip_first=True)),
    ),
)
