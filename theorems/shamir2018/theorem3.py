"""Shamir (2018), Theorem 3 (explicit bound of its proof, δ = sqrt(ε)) and Corollary 1 (§3, §6.3).

Theorem 3. On a convex open M with max{||w||, ||V||} <= b, F_θ, ∇F_θ, ∇²F_θ μ0-, μ1-,
μ2-Lipschitz and (0, V) in M with ||∇²F_θ(0, V)|| <= μ1, every ε-SOPSP satisfies
F(w, V, θ) <= min_{||w|| <= r} F_lin(w) + (ε + ε^(1/4)) poly(b, r, μ0, μ1, μ2). The poly(.) is
not checkable; the proof's explicit bound before "Simplifying the above" (δ = sqrt(ε)) is:

    F <= F_lin(w*) + max{ μ0 sqrt(ε) + r(ε + μ1 sqrt(ε) + sqrt(2b) sqrt(μ1 sqrt(ε)(sqrt(μ2) + μ2))),
                          sqrt(2b²ε² + r²(2ε² + b²ε)) }.

Substituting δ = sqrt(ε) into the general-δ bound gives sqrt(2)·b, not sqrt(2b): the printed
sqrt(2b) is a typo (smaller for b > 1). The printed form was not refuted on
our instances because the Lipschitz constants we can certify are upper bounds and the bound is
loose, so the typo is reported in the notes, not as an erratum.

How it is checked: M = {||w|| < b, ||V|| < b} (convex, contains (0, V)); μ0, μ1, μ2 are
certified upper bounds from the data (:meth:`ScalarResNet.lipschitz_bounds`); every point of M is
an ε-SOPSP for ε >= max(||∇F||, λ_-²/μ2), so points are arbitrary, at w = 0, or found by a
second-order method stopped at a certified 0.05-SOPSP, and ε is their level (times 1 to 1.5),
certified with an exact LDL^T enclosure of λ_min. w* minimises F_lin on ||w|| <= r (any w*
there is enough for the bound; the minimiser makes it strongest).

Corollary 1. Every local minimum satisfies F(w, V, θ) <= inf_w F_lin(w): checked at certified
local minima of F_θ (the engine's finder, second-order conditions at the profile's digits),
against the convex solver's certified inf F_lin.
"""

from proofcheck import Hypothesis, Margin, Mutant, MutantKind, PointKind
from proofcheck.problems import (Relation, case_of, cases, resnet_instances, resnet_landscape,
                                 values_at_point)
from proofcheck.second_order import certify_sopsp
from proofcheck.scalar_resnet import ScalarResNet

from . import claim, printed_at
from ._terms import theorem3_instances, theorem3_terms
from .assumptions import A1, LIPSCHITZ, SCALAR_LOSSES


def _is_sopsp(inst) -> bool:
    net = ScalarResNet(inst.X, inst.y, inst.Fx, inst.loss)
    mu2 = net.lipschitz_bounds(float(inst.b)).mu2
    return bool(certify_sopsp(net, inst.w, inst.V, float(inst.eps), mu2).holds)


def _in_M(inst) -> bool:
    import numpy as np
    return bool(np.linalg.norm(inst.w) < inst.b and np.linalg.norm(inst.V, 2) < inst.b
                and np.linalg.norm(inst.w_star) <= inst.r)


IN_M = Hypothesis("in_M", "(w, V) in M = {||w|| < b, ||V|| < b}, ||w*|| <= r", _in_M)
SOPSP = Hypothesis("sopsp", "(w, V, θ) is an ε-SOPSP of F on M (certified)", _is_sopsp)


def instances(assumed):
    return theorem3_instances(losses=tuple(SCALAR_LOSSES), sopsp=assumed["sopsp"])


def _margin(inst, **kw):
    q = theorem3_terms(inst)
    return Margin.at_most(q.F, q.F_lin + q.bound(**kw), tol=q.tol, tol_source=q.tol_source)


def _flipped(inst, point, B):
    q = theorem3_terms(inst)
    return Margin.at_least(q.F, q.F_lin + q.bound(), tol=q.tol, tol_source=q.tol_source)


theorem3 = claim("shamir2018.theorem3", printed_at("6.3", "proof of Theorem 3"),
    title="ε-SOPSPs are at most poly(ε) worse than linear predictors (explicit bound, δ = √ε)",
    statement="If (w, V, θ) in M is an ε-SOPSP of F on M, then F(w, V, θ) <= F_lin(w*) + "
              "max{μ0 √ε + r(ε + μ1 √ε + √(2b) √(μ1 √ε (√μ2 + μ2))), "
              "√(2b²ε² + r²(2ε² + b²ε))}, w* a minimiser of F_lin over ||w|| <= r",
    hypotheses=(A1, LIPSCHITZ, IN_M, SOPSP),
    conclusion=lambda inst, point, B: _margin(inst),
    instances=instances,
    high_precision=False,
    notes="float64 only: the Lipschitz bounds and the λ_min certificate are float64/exact "
          "rational, and the comparison is dominated by the bound's slack. The printed √(2b) "
          "should be √2·b (substituting δ = √ε into the general-δ bound); "
          "Theorem3Terms.bound(sqrt_2b=False) evaluates that form (checked at generated "
          "ε-SOPSPs in tests/test_second_order.py). Mutants that shrink the bound by a constant "
          "(r/100, one branch of the max dropped) are NOT caught: with certified (upper-bound) "
          "Lipschitz constants the bound is loose by orders of magnitude. The third hypothesis "
          "bullet of the "
          "theorem says 'For any (w, V, θ) ∈ 𝒲' where 𝒲 should be M (a notation slip).",
    mutants=(
        Mutant.conclusion("no_slack", MutantKind.DROPPED_TERM, "F <= F_lin(w*)",
                          lambda i, p, B: _margin(i, first=False, second=False)),
        Mutant.conclusion("flipped", MutantKind.FLIPPED_INEQUALITY,
                          "F >= F_lin(w*) + max{...}", _flipped),
        Mutant.drop("sopsp", "ε below the point's SOPSP level (10^-3 to 10^-1 of it)"),
    ),
)

# --- Corollary 1 -----------------------------------------------------------------------------

D_Y_ONE = Relation("d_y = 1", lambda d: d["d_y"] == 1)
COR_LOSSES = ("squared", "logistic", "smoothed_hinge3")
A1_KB = Hypothesis("A1", "for any y, ℓ(p, y) is twice differentiable and convex in p",
                   lambda i: bool(i.loss.convex and i.loss.twice_differentiable))


def corollary_instances(assumed):
    loss, _, branch = (assumed.branch or "").partition("/")
    names = (loss,) if loss else COR_LOSSES
    return resnet_instances(losses=names, relation=D_Y_ONE,
                            branches=(branch,) if branch else ("full_rank", "rank_deficient"))


def _corollary(inst, point, factor=1.0, offset=0.0, flip=False):
    L, L_x, tol, source = values_at_point(inst, point, "x")
    if flip:
        return Margin.at_least(L, L_x, tol=tol, tol_source=source)
    return Margin.at_most(L, factor * L_x - offset, tol=tol, tol_source=source)


corollary1 = claim("shamir2018.corollary1", printed_at("3", "Corollary 1"),
    title="no local minimum is worse than the best linear predictor",
    statement="If F_θ, ∇F_θ, ∇²F_θ are Lipschitz on bounded sets, every local minimum "
              "(w, V, θ) of F satisfies F(w, V, θ) <= inf_w F_lin(w)",
    hypotheses=(A1_KB,),
    conclusion=lambda inst, point, B: _corollary(inst, point),
    instances=corollary_instances,
    point_kind=PointKind.LOCAL_MIN,
    landscape=resnet_landscape,
    branches=cases(COR_LOSSES),
    case_of=case_of,
    high_precision=False,
    notes="Scalar output (d_y = 1, W = w^T); f_θ(x) given as data (θ fixed). Branches: local "
          "minima with w != 0 (full_rank) and with w = 0 (rank_deficient), each loss.  No "
          "high-precision re-run: the conclusion compares F at the point, computed by the "
          "point's certificate at the profile's digits, with the convex solver's certified "
          "bracket on inf F_lin; it takes nothing from the backend, so a re-run at mpmath "
          "digits would repeat the same numbers and confirm nothing.",
    mutants=(
        Mutant.conclusion("halved", MutantKind.PERTURBED_CONSTANT, "F <= inf F_lin / 2",
                          lambda i, p, B: _corollary(i, p, factor=0.5)),
        Mutant.conclusion("strictly_better", MutantKind.OTHER,
                          "F <= inf F_lin - 0.01 (strictly better than linear)",
                          lambda i, p, B: _corollary(i, p, offset=0.01)),
        Mutant.conclusion("flipped", MutantKind.FLIPPED_INEQUALITY,
                          "F >= inf F_lin (no local minimum better than linear)",
                          lambda i, p, B: _corollary(i, p, flip=True)),
    ),
)
