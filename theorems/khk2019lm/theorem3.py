"""KHK2019LM Theorem 3 (§4.1-4.2, proof in App. A.4): ResNets f(x; theta) = W(x + R z(x; u)).

Theorem 3. Let assumption 1 hold and d_y <= min(d_x, d_z). Then for any local minimum theta not
in Omega-tilde there is eps_0 > 0 such that for any eps in (0, eps_0),
    L(theta) = inf_{S, alpha, alpha_w, alpha_r} sum_i lambda_i l_{y_i}(alpha_w x_i
               + alpha_r z(x_i; u) + f~_theta(x_i; alpha, eps, S)).                        (4.2)
Consequence: L(theta) <= inf_{alpha_w, alpha_r} sum lambda_i l(alpha_w x_i + alpha_r z_i)
             <= inf_W sum lambda_i l(W x_i)   (Shamir's Proposition 1, with d_y > 1 allowed).

Checked at certified local minima of the ResNet (z(x; u) given as data, u fixed) in both cases
of the proof, with the proof's explicit sets: rank W >= d_y: S-bar = {0}; rank W < d_y:
S-bar' = {0} and v_r = a b_j^T (W a = 0, ||a|| = 1, b_j = e_j, j = 1..d_z; the proof's d_y d_z
copies are not needed: sum_j q_j e_j^T already reaches every d_y x d_z matrix).  For each: every
S_j is in V[theta, eps]; the span of the perturbed gradient basis contains every alpha_w x_i +
alpha_r z_i; and L(theta) equals the infimum (4.2) over S', computed by the convex solver.
Squared and cross-entropy losses; eps = 2^-4.
"""

from proofcheck import Hypothesis, Margin, Mutant, MutantKind
from proofcheck.evaluate import as_point
from proofcheck.problems import (A1 as DIMS_RELATION, instances_for,
                                 resnet_problem, values_at_point)

from . import printed_at
from ._constructions import resnet_theorem3
from ._declare import at_resnet_minima

FLOAT_CONSTRUCTION = (
    "Precision: the proof's construction (memberships, span inclusion, the infimum (4.2)) is "
    "evaluated in float64 at the certified point with explicit error bounds; the conclusion "
    "does not compute through the backend, so no higher-precision re-evaluation is claimed "
    "(high_precision=False).")

SOURCE = printed_at("4.2", "Theorem 3", "(4.2)")
LOSSES = ("squared", "cross_entropy")
EPS = 2.0 ** -4

A1 = Hypothesis("A1", "every l_{y_i} is differentiable and convex",
                lambda i: i.loss.convex and i.loss.differentiable)
DIMS = Hypothesis("dims", "d_y <= min(d_x, d_z)", lambda i: DIMS_RELATION(i.fields()))


MULTI_OUTPUT = ("squared/full_rank: instances with d_y >= 2 only (with d_y = 1, 'rank W >= d_y' "
                "only says W != 0); cross-entropy has d_y >= 2 throughout")


def _instances(assumed):
    drawn = instances_for(assumed, losses=LOSSES, size_hypothesis="dims", loss_hypothesis="A1")
    if assumed.branch == "squared/full_rank" and assumed["dims"]:
        # multi-output: with d_y = 1 "rank W >= d_y" only says W != 0 (cross-entropy has
        # d_y >= 2 already)
        return drawn.filter(lambda inst: inst.d_y >= 2)
    return drawn


def _quantities(inst, point):
    problem = resnet_problem(inst)
    return resnet_theorem3(problem, point.point, EPS, case=point.branch)


def conclusion(inst, point, B, value=True):
    t = _quantities(inst, point)
    src = "float64 forward error of f_X; s_min(W) for the rank-deficient a"
    m = Margin(-t.membership, t.membership_tol, t.membership, 0.0,
               "membership of S' in V[theta, eps]: " + src)
    m = m.both(Margin(-t.inclusion, t.inclusion_tol, t.inclusion, 0.0,
                      "inclusion {alpha_w x + alpha_r z} in span J~(S'): least-squares residual "
                      "bound + s_min(W)/eps"))
    if value:
        tol = t.fit.width + 16 * t.J.size * 1.2e-16 * (1 + abs(point.value)) \
            + float(point.tau_grad) * (1 + abs(point.value))
        m = m.both(Margin(-abs(point.value - t.fit.value), tol, point.value, t.fit.value,
                          "solver's certified bracket + float64 rounding + certificate "
                          "resolution"))
    return m


def value_only_S0(inst, point, B):
    """Mutant: S = {0} in both cases (no perturbation): the inclusion fails when rank W < d_y."""
    problem = resnet_problem(inst)
    t = resnet_theorem3(problem, point.point, EPS, case="full_rank")
    return Margin(-t.inclusion, t.inclusion_tol, t.inclusion, 0.0,
                  "inclusion with S-bar = {0} only")


def perturbed_at_every_rank(inst, point, B):
    """Mutant: the rank-deficient case's S-bar' = {0, a e_c^T} lies in V[theta, eps] at every
    local minimum, whatever rank W (the proof's W a = 0 dropped: a is the right singular
    vector of W's d_y-th singular value): membership within float64 rounding only."""
    problem = resnet_problem(inst)
    t = resnet_theorem3(problem, point.point, EPS, case="rank_deficient")
    return Margin(-t.membership, t.membership_rounding, t.membership, 0.0,
                  "membership of S-bar' in V[theta, eps]: float64 forward error of f_X only")


def linear_on_x_only(inst, point, B):
    """Mutant: (4.2) with f~ and alpha_r z dropped, L(theta) = inf_{alpha_w} sum_i lambda_i
    l(alpha_w x_i) = L*_x. L is computed at the certified point's own precision (its backend),
    L*_x is the convex solver's certified bracket, so a failure is confirmed at high precision."""
    L, L_x, tol, src = values_at_point(inst, point, "x")
    pt = as_point(point)
    P = pt.backend()
    with P.context():
        gap = abs(P.asarray(L) - P.asarray(L_x))
    return Margin(-pt.number(gap), tol, L, L_x, src)


theorem3 = at_resnet_minima("khk2019lm.theorem3", SOURCE,
    title="ResNet local minima attain the best value of the perturbable basis plus linear "
          "predictors on x and z",
    statement="Let f be specified by (4.1) and assumption 1 hold, d_y <= min(d_x, d_z). For any "
              "local minimum theta not in Omega-tilde there is eps_0 > 0 such that for any eps in "
              "(0, eps_0): L(theta) = inf_{S, alpha, alpha_w, alpha_r} sum_i lambda_i "
              "l_{y_i}(alpha_w x_i + alpha_r z(x_i; u) + f~_theta(x_i; alpha, eps, S))",
    hypotheses=(A1, DIMS),
    conclusion=conclusion,
    instances=_instances,
    notes="z(x; u) is data (u fixed): local minima in (W, R). lambda_i = 1/m (any positive "
          "common factor scales both sides). Both rank cases of the proof are required hits. "
          "On */full_rank, W(x + R z) is linear in (x, z) and a full-rank W reaches every such "
          "map locally, so L = inf (4.2) = L*_{x,z} there: a variant of (4.2) whose family "
          "still spans every linear map of (x, z) (S = {0}; no f~; no alpha_w x; no alpha_r "
          "z; d_z < d_y <= d_x) has the same infimum and cannot fail there. A variant whose "
          "family misses the z directions can: linear_on_x_only (L = L*_x) is caught on both "
          "full-rank branches, because their data make z informative beyond x (squared: Y = "
          "X A + Z B + noise; cross-entropy: labels not linear in x), confirmed at the "
          "certified point's precision. The proof step wrong only there is caught there too: "
          "perturbed_at_every_rank (the rank-deficient case's a b^T perturbations taken in "
          "V[theta, eps] at a full-rank W, where W a != 0 moves f_X), the mirror of "
          "no_perturbation, which fails only on */rank_deficient.",
    narrowed=(MULTI_OUTPUT,),
    losses=LOSSES,
    precision=FLOAT_CONSTRUCTION,
    mutants=(
        Mutant.conclusion("no_perturbation", MutantKind.DROPPED_TERM,
                          "S = {0} suffices in both cases (the rank-deficient case's a b^T "
                          "perturbations dropped)", value_only_S0),
        Mutant.drop("dims", "d_y > min(d_x, d_z): W cannot reach every alpha_w x + alpha_r z"),
        Mutant("linear_on_x_only", MutantKind.DROPPED_TERM,
               "L(theta) = inf_{alpha_w} sum_i lambda_i l_{y_i}(alpha_w x_i): (4.2) with f~ and "
               "alpha_r z dropped, i.e. the residual branch adds nothing over linear predictors "
               "on x (Shamir's bound L <= L*_x read as an equality)",
               lambda c: c.replace(conclusion=linear_on_x_only, high_precision=True)),
        Mutant.conclusion("perturbed_at_every_rank", MutantKind.DROPPED_HYPOTHESIS,
                          "S-bar' = {0, a b_j^T} is in V[theta, eps] at every local minimum, "
                          "whatever rank W (the rank-deficient case's W a = 0 dropped)",
                          perturbed_at_every_rank),
    ),
)


# --- the consequence: L <= L*_{x,z} <= L*_x -------------------------------------------------------

def consequence(inst, point, B, flip=False):
    """L <= L*_{x,z} <= L*_x (or, flipped, L >= L*_x) at the certified point."""
    L, L_x, L_xz, tol, src = values_at_point(inst, point, "x", "x,z")
    first = Margin.at_most(L, L_xz, tol=tol, tol_source=src)
    second = Margin.at_most(L_xz, L_x, tol=tol, tol_source=src)
    if flip:
        return Margin.at_least(L, L_x, tol=tol, tol_source=src)
    return first.both(second)


consequence_claim = at_resnet_minima(
    "khk2019lm.theorem3.consequence", printed_at("4.2", "after Theorem 3"),
    title="ResNet local minima are no worse than linear predictors on (x, z) and on x "
          "(Shamir's bound with d_y > 1)",
    statement="L(theta) <= inf_{alpha_w, alpha_r} sum_i lambda_i l_{y_i}(alpha_w x_i + alpha_r "
              "z(x_i; u)) <= inf_W sum_i lambda_i l_{y_i}(W x_i)",
    hypotheses=(A1, DIMS),
    conclusion=consequence,
    instances=_instances,
    narrowed=(MULTI_OUTPUT,),
    losses=LOSSES,
    mutants=(
        # L at the certified point's precision, L*_x a certified bracket: a failure of the
        # flipped comparison is confirmed at that precision (high_precision=True)
        Mutant("flipped", MutantKind.FLIPPED_INEQUALITY,
               "L(theta) >= inf_W sum lambda_i l(W x_i)",
               lambda c: c.replace(conclusion=lambda inst, p, B: consequence(inst, p, B,
                                                                              flip=True),
                                   high_precision=True)),
        Mutant.drop("dims", "d_y > min(d_x, d_z)"),
    ),
)
