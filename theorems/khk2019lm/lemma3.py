"""KHK2019LM Lemma 3 (App. A.2).

    If every l_{y_i} is differentiable, then for any local minimum theta not in Omega-tilde there
    is eps_0 > 0 such that for any eps in [0, eps_0), any v in V[theta, eps] and any k,
        sum_i lambda_i dl_{y_i}(f_{x_i}(theta)) d_k f_{x_i}(theta + eps v) = 0,
    and theta + eps v is itself a differentiable local minimum (from the proof).

Checked at certified local minima of deep linear (two and three layers) and ReLU networks
(differentiable points: every pre-activation away from its kink), squared and cross-entropy
losses, with eps = 2^-10 and every direction the generators produce: left-null-space
perturbations of a weight matrix, unit rescalings (ReLU / linear units), the proofs' null-product
constructions W^{(l)} + eps a b^T with (W^{(H+1)} ... W^{(l+1)}) a = 0, each verified to leave
f_X unchanged.  "theta + eps v is a local minimum" is checked by certifying theta + eps v (one
nonzero direction per point).
"""

import numpy as np

from proofcheck import Margin, PointKind
from proofcheck.induced import (DEFAULT_EPS, float_point_tolerance, point_theta,
                                perturbation_set, stationarity_sums, sums_tolerance)
from proofcheck.optimize.critical import certify_critical

from . import claim, printed_at
from ._declare import at_saddles, evaluated
from .instances import A1, critical_landscape, minimum_landscape, network, panel

SOURCE = printed_at("A.2", "Lemma 3")
KINDS = ("deep_linear", "deep_linear3", "relu")


def _setup(inst, point, eps=DEFAULT_EPS):
    net = network(inst)
    theta = point_theta(point)
    q = evaluated(inst, theta)
    S = perturbation_set(net, inst.X, theta, eps)
    return net, theta, q, S, eps


def sums_margin(inst, point, B):
    net, theta, q, S, eps = _setup(inst, point)
    extra = float_point_tolerance(q, point, net)
    worst = None
    for v in S:
        Jv = net.jacobian(inst.X, theta + eps * v)
        sums = stationarity_sums(q, Jv)
        m = Margin.vanishes(sums, tol=sums_tolerance(q, Jv) + extra,
                            tol_source="float64 sums at the rounded point: rounding + "
                                       "||H|| u ||theta|| (certificate's Hessian scale)")
        worst = m if worst is None else worst.both(m)
    return worst


def conclusion(inst, point, B):
    m = sums_margin(inst, point, B)
    # the proof's "moreover": theta + eps v is a local minimum; certify it (one direction per
    # point: each certificate costs ~1 s)
    net, theta, q, S, eps = _setup(inst, point)
    land = minimum_landscape(inst)
    for v in [v for v in S if np.any(v)][:1]:
        cp = certify_critical(land, land.restrict(theta + eps * v), digits=point.digits)
        ok = 1.0 if cp.kind == "local_min" else -1.0
        m = m.both(Margin(ok, 0.0, cp.kind, "local_min",
                          "certificate kind of theta + eps v (exact decision)"))
    return m


def _instances(assumed):
    return panel(kinds=KINDS)


def at_critical(claim):
    return claim.replace(point_kind=PointKind.CRITICAL, landscape=critical_landscape)


lemma3 = claim("khk2019lm.lemma3", SOURCE,
    title="at a local minimum the loss gradients annihilate the partial derivatives at every "
          "perturbation theta + eps v that keeps f_X",
    statement="If every l_{y_i} is differentiable, then for any local minimum theta in "
              "R^{d_theta} \\ Omega-tilde there is eps_0 > 0 such that for any eps in [0, eps_0), "
              "any v in V[theta, eps] and any k: sum_i lambda_i dl_{y_i}(f_{x_i}(theta)) "
              "d_k f_{x_i}(theta + eps v) = 0 (and theta + eps v is a differentiable local "
              "minimum)",
    hypotheses=(A1,),
    conclusion=conclusion,
    instances=_instances,
    point_kind=PointKind.LOCAL_MIN,
    landscape=minimum_landscape,
    notes="eps = 2^-10 is fixed: for the deep linear networks every local minimum is global "
          "(eps_0 = oo); for ReLU networks a failure at this eps would only show eps_0 <= 2^-10. "
          "V[theta, eps] is represented by the generators' directions (never all of it).",
    mutants=(
        at_saddles("the same at every critical point (saddles included): at theta = 0 of a "
                   "linear network, perturbing W^{(1)} alone keeps f_X = 0 but opens the last "
                   "layer's gradient", lambda c: at_critical(c).replace(conclusion=sums_margin)),
    ),
)
