"""KHK2019LM §4.2.3: locally induced partial linear structures, Theorem 4 and its deep linear
corollary (proof in App. A.5).

J_{n,t}[theta]: sets J = {J^{(t+1)}, ..., J^{(H+1)}} with, for some eps > 0 and every l:
(1) |J^{(l)}| >= n; (2) h^{(l)}_k = (W^{(l)} h^{(l-1)})_k on B(theta, eps) for k in J^{(l)};
(3) W^{(l+1)}_{ij} = 0 for i not in J^{(l+1)}, j in J^{(l)} when l <= H - 1.
Theta_{n,t} = {theta : J_{n,t}[theta] nonempty}.

Theorem 4 (as printed). Assume A1. For any t in {1, ..., H}, at every local minimum theta in
Theta_{d_y,t} \\ Omega-hat, there is eps_0 > 0 such that for eps in (0, eps_0)
    L(theta) = inf_{S, alpha, alpha_h} sum_i lambda_i l_{y_i}(sum_{l=t}^H alpha_h^{(l+1)}
               h^{(l)}(x_i) + f~_theta(x_i; alpha, eps, S)).
Corollary: for deep linear networks with d_y <= min_l d_l every local minimum is in
Theta_{d_y,0} and L(theta) = inf_A sum_i lambda_i l_{y_i}(A x_i): it is global.

Inconsistencies of the text (reported, not "corrected" because each reading is checked):
Omega-hat is never defined (the proof uses Omega-tilde); the theorem says t in {1..H} but the
proof fixes t in {0..H} and the corollary uses t = 0; the corollary writes alpha_x in R^{d_x}
for a d_y x d_x matrix.  The checks use Omega-tilde and t in {0..H}.
"""

import numpy as np

from proofcheck import Margin, Mutant, MutantKind, PointKind
from proofcheck.induced import (DEFAULT_EPS, float_point_tolerance, induced_infimum,
                                perturbable_basis, perturbation_set, point_theta)

from . import claim, printed_at
from ._constructions import partial_linear_structure
from ._declare import (at_network_points, best_linear, bracket_tol, equality, evaluated,
                       is_global)
from .instances import A1, WIDE, network, panel, random_points

SOURCE = printed_at("4.2.3", "Theorem 4")


# --- the deep linear corollary ----------------------------------------------------------------

def corollary(inst, point, B, factor=1.0):
    net = network(inst)
    theta = point_theta(point)
    q = evaluated(inst, theta)
    lin = best_linear(inst)
    if factor != 1.0:
        from dataclasses import replace
        lin = replace(lin, value=factor * lin.value, lower_bound=factor * lin.lower_bound,
                      upper_bound=factor * lin.upper_bound)
    tol = bracket_tol(q, lin) + float_point_tolerance(q, point, net)
    member = partial_linear_structure(net, inst.X, theta, net.d_y, 0) is not None
    m = equality(q.L, lin, tol)
    return m.both(Margin(1.0 if member else -1.0, 0.0, member, True,
                         "theta in Theta_{d_y,0} (exact decision)"))


def _corollary_instances(assumed):
    return panel(kinds=("deep_linear", "deep_linear3"),
                 violate=() if assumed["wide"] else ("wide",))


deep_linear = at_network_points(
    "khk2019lm.theorem4.deep_linear", printed_at("4.2.3", "after Theorem 4"),
    PointKind.LOCAL_MIN,
    title="every local minimum of a deep linear network with d_y <= min d_l is global",
    statement="Consider any deep linear network with d_y <= min{d_1, ..., d_H}. Then every local "
              "minimum theta is in Theta_{d_y,0} \\ Omega-tilde = Theta_{d_y,0} and L(theta) = "
              "inf_{alpha_x} sum_i lambda_i l_{y_i}(alpha_x x_i), the global minimum value",
    hypotheses=(A1, WIDE),
    conclusion=corollary,
    instances=_corollary_instances,
    notes="alpha_x is a d_y x d_x matrix (the text writes R^{d_x}).",
    mutants=(
        Mutant.drop("wide", "a bottleneck d_1 < d_y: local minima are only rank-constrained "
                            "optima"),
        Mutant.conclusion("halved", MutantKind.PERTURBED_CONSTANT,
                          "L(theta) = inf_A sum lambda_i l(A x_i) / 2",
                          lambda i, p, B: corollary(i, p, B, factor=0.5)),
    ),
)


# --- membership in Theta_{d_y,0} for deep linear networks (any point) -------------------------

def membership(inst, point, B, t=0):
    net = network(inst)
    J = partial_linear_structure(net, inst.X, inst.theta, net.d_y, t)
    return Margin(1.0 if J is not None else -1.0, 0.0, J is not None, True, "exact decision")


membership_claim = claim("khk2019lm.theorem4.membership", printed_at("4.2.3", "after Theorem 4"),
    title="deep linear networks with d_y <= min d_l have the partial linear structure "
          "everywhere",
    statement="For a deep linear network with d_y <= min{d_1, ..., d_H}, every theta is in "
              "Theta_{d_y,0} (J^{(l)} = {1..d_l} satisfies conditions 1-3)",
    hypotheses=(WIDE,),
    conclusion=membership,
    instances=lambda assumed: random_points(kinds=("deep_linear", "deep_linear3"),
                                            violate=() if assumed["wide"] else ("wide",)),
    high_precision=False,
    notes="An exact (combinatorial) decision from the weights; no floating-point comparison "
          "beyond the signs of ReLU pre-activations (none here).",
    mutants=(Mutant.drop("wide", "d_1 < d_y: |J^{(1)}| <= d_1 < d_y violates condition 1"),),
)


# --- Theorem 4 at ReLU local minima -----------------------------------------------------------

def theorem4_margin(inst, point, B):
    net = network(inst)
    theta = point_theta(point)
    q = evaluated(inst, theta)
    _, hs = net.hidden(inst.X, theta)
    S = perturbation_set(net, inst.X, theta, DEFAULT_EPS, limit=8)
    Jt, noise = perturbable_basis(net, inst.X, theta, DEFAULT_EPS, S, centered=True)
    d = net.d_y
    m = None
    for t in range(0, net.H + 1):
        if partial_linear_structure(net, inst.X, theta, d, t) is None:
            continue
        Phi = np.hstack([np.asarray(hs[l], float) for l in range(t, net.H + 1)])
        feats = np.einsum("ab,ik->iabk", np.eye(d), Phi).reshape(Phi.shape[0], d, -1)
        basis = np.concatenate([feats / max(1.0, float(np.abs(Phi).max())), Jt], axis=2)
        fit = induced_infimum(basis, inst.Y, inst.loss, inst.weights, rel_noise=noise)
        tol = bracket_tol(q, fit) + float_point_tolerance(q, point, net) \
            * (1 + float(np.abs(fit.alpha).sum()))
        mt = equality(q.L, fit, tol)
        m = mt if m is None else m.both(mt)
    return m


theorem4 = at_network_points("khk2019lm.theorem4", SOURCE,
    PointKind.LOCAL_MIN,
    title="local minima with a locally induced partial linear structure attain the best "
          "value of linear predictors on the linear layers' representations (plus the "
          "perturbable basis)",
    statement="Let f be specified by (4.3) and assumption 1 hold. Then for any t in {1, ..., H}, "
              "at every local minimum theta in Theta_{d_y,t} \\ Omega-hat of L there is eps_0 > 0 "
              "such that for any eps in (0, eps_0): L(theta) = inf_{S, alpha, alpha_h} sum_i "
              "lambda_i l_{y_i}(sum_{l=t}^H alpha_h^{(l+1)} h^{(l)}(x_i) + f~_theta(x_i; alpha, "
              "eps, S))",
    hypotheses=(A1,),
    conclusion=theorem4_margin,
    instances=lambda assumed: panel(kinds=("relu",) if assumed.branch != "t=H only"
                                    else ("deep_linear3",)),
    branches=("t=0", "t=H only"),
    case_of=lambda inst, p: _case(inst, p),
    notes="The ReLU local minima found so far sit at the linear predictor's optimum (their "
          "active units act linearly), so the checks do not separate the t = 0 and t = H "
          "conclusions from the plain linear bound. Checked for every t in {0..H} (the proof's "
          "range, which contains the printed "
          "{1..H}) with theta in Theta_{d_y,t} by the maximal-candidate test of "
          "induced.partial_linear_structure; Omega-hat read as Omega-tilde (ReLU points are "
          "certified away from every kink). S = {0} and the generated directions of "
          "V[theta, 2^-10].",
    mutants=(
        Mutant.conclusion("strict_gap", MutantKind.FLIPPED_INEQUALITY,
                          "L(theta) > the infimum (strictly)",
                          lambda inst, p, B: _strict(inst, p)),
    ),
)


def _strict(inst, point):
    m = theorem4_margin(inst, point, None)
    # the printed equality is L = inf; the mutant claims a strict gap L - inf > tol
    return Margin(-m.value - 2 * m.tol if m.value <= 0 else -2 * m.tol, m.tol, m.lhs, m.rhs,
                  "strict: the gap must exceed the tolerance")


def _case(inst, point):
    """"t=0" when theta is in Theta_{d_y,0} (the strongest conclusion, linear predictors on x
    included), else "t=H only" (only the last hidden representation is linear)."""
    net = network(inst)
    return ("t=0" if partial_linear_structure(net, inst.X, point_theta(point), net.d_y, 0)
            is not None else "t=H only")


def _input_only(inst, point):
    return is_global(inst, point)
