"""KHK2019LM Theorem 1 (§3.2) and its geometric form (eq. 3.1).

Theorem 1. Let Assumptions 1 and 2 hold. Then for any critical point theta not in Omega of L,
    L(theta) = inf_{alpha in R^{d_theta}} L_theta(alpha),
where L_theta(alpha) = sum_i lambda_i l(f_theta(x_i; alpha), y_i) is the objective of the
gradient basis model f_theta(x; alpha) = sum_k alpha_k d_k f_x(theta), convex in alpha.

Eq. (3.1): by Assumption 2, f_X(theta) = sum_k g(theta)_k d_k f_X(theta) lies in the span
T of the partial derivatives, so the affine tangent space span{d_k f_X(theta)} + {f_X(theta)} is
the span itself, the output set of the gradient basis model.

Checked at every certified critical point (strict saddles, degenerate critical points, local
minima) of deep linear and tanh networks, squared and cross-entropy losses, non-uniform lambda_i;
the infimum comes from the convex solver (weighted least squares in closed form; for
cross-entropy damped Newton with a local strong convexity certificate that also proves the
infimum attained), at the Jacobian evaluated at the certificate's precision.
"""

import numpy as np

from proofcheck import Margin, Mutant, MutantKind, PointKind
from proofcheck.induced import induced_infimum, range_residual

from . import claim, printed_at
from ._declare import (SOURCE_TEXT, at_network_points, best_linear, bracket_tol, certified,
                       equality)
from .instances import A1, A2, network, panel, random_points

SOURCE = printed_at("3.2", "Theorem 1")


def values(inst, point):
    q = certified(inst, point)
    fit = induced_infimum(q.J, inst.Y, inst.loss, inst.weights)
    return q, fit, bracket_tol(q, fit)


def conclusion(inst, point, B):
    q, fit, tol = values(inst, point)
    return equality(q.L, fit, tol)


def global_linear(inst, point, B):
    """Mutant: the value of the best linear predictor inf_A sum lambda_i l(A x_i, y_i)."""
    q, _, tol = values(inst, point)
    lin = best_linear(inst)
    return Margin(-abs(q.L - lin.value), tol + lin.width, q.L, lin.value, SOURCE_TEXT)


def strict_gap(inst, point, B):
    q, fit, tol = values(inst, point)
    return Margin.strictly_less(fit.value, q.L, tol=tol, tol_source=SOURCE_TEXT)


def _instances(assumed):
    violate = () if assumed["A2"] else ("A2",)
    if not assumed["A1"]:
        return panel(kinds=("deep_linear",), violate=("A1",))
    return panel(kinds=("deep_linear", "deep_linear3", "tanh"), violate=violate)


theorem1 = at_network_points("khk2019lm.theorem1", SOURCE,
    PointKind.CRITICAL,
    title="every differentiable critical point attains the global minimum value of the "
          "gradient basis model",
    statement="Let assumptions 1 and 2 hold. Then for any critical point theta in "
              "R^{d_theta} \\ Omega of L: L(theta) = inf_{alpha in R^{d_theta}} L_theta(alpha)",
    hypotheses=(A1, A2),
    conclusion=conclusion,
    instances=_instances,
    notes="Critical points include theta = 0 (a strict saddle of two-layer and a degenerate "
          "critical point of three-layer linear networks) and Newton's zeros of grad L. "
          "Omega is empty for these smooth networks. The geometric form "
          "f_X(theta) in argmin_{f in T} dist(f, y) is the same statement in output space.",
    mutants=(
        Mutant.conclusion("global_linear", MutantKind.OTHER,
                          "L(theta) = inf_A sum lambda_i l(A x_i, y_i) (every critical point "
                          "global): false at saddles", global_linear),
        Mutant.conclusion("strict_gap", MutantKind.FLIPPED_INEQUALITY,
                          "L(theta) > inf_alpha L_theta(alpha)", strict_gap),
        Mutant.drop("A2", "a fixed output offset c (f + c is not in span{d_k f}): the gradient "
                          "basis misses c"),
        Mutant.drop("A1", "a non-convex (tilted double-well) loss: the first-order argument "
                          "of the proof fails"),
    ),
)


# --- eq. (3.1): f_X(theta) lies in span{d_k f_X(theta)} ----------------------------------------

def in_span(inst, point, B, blocks=None):
    net = network(inst)
    J = net.jacobian(inst.X, inst.theta)
    if blocks == "hidden":
        keep = np.concatenate([np.arange(b.offset, b.offset + b.size) for b in net.blocks
                               if not b.output])
        J = J[:, :, keep]
    res, tol = range_residual(J, net.outputs(inst.X, inst.theta))
    return Margin(-res, tol, res, 0.0, "16 max(m d_y, n) u cond(J) (least-squares residual "
                                       "perturbation bound, Golub & Van Loan 5.3.8)")


tangent_space = claim(
    "khk2019lm.theorem1.tangent_space", printed_at("3.2.1", "Theorem 1, geometric view", "(3.1)"),
    title="the affine tangent space through f_X(theta) is the span of the partial derivatives",
    statement="By assumption 2, T_{f_X(theta)} = span{d_1 f_X(theta), ..., d_{d_theta} "
              "f_X(theta)} + {f_X(theta)} = {sum_k alpha_k d_k f_X(theta) : alpha}",
    hypotheses=(A2,),
    conclusion=in_span,
    instances=lambda assumed: random_points(violate=() if assumed["A2"] else ("A2",)),
    high_precision=False,
    notes="Equivalent to f_X(theta) in span{d_k f_X(theta)}: checked as a vanishing "
          "least-squares residual at random theta (float64 only: a residual, no mpmath path).",
    mutants=(
        Mutant.drop("A2", "a fixed output offset: f_X(theta) leaves the span"),
        Mutant.conclusion("hidden_only", MutantKind.DROPPED_TERM,
                          "f_X(theta) in the span of the hidden layers' partial derivatives "
                          "only (the g of the last layer dropped)",
                          lambda inst, p, B: in_span(inst, p, B, blocks="hidden")),
    ),
)
