"""The cited propositions of KHK2019LM, as special cases.

Proposition 1 (Shamir, 2018), §4.1.1. Let f be the ResNet (4.1) with PA1 (d_y = 1), PA2
(l_y convex and twice differentiable) and PA3 (Lipschitz L_u, grad, Hessian on bounded sets).
Then every local minimum satisfies L(theta) <= inf_W sum_i lambda_i l_{y_i}(W x_i).

Proposition 2 (Laurent & Brecht, 2018), §4.2.2. Let f be a deep linear network (PA4) with PA5
(l_y convex and differentiable) and PA6 (min(d_x, d_y) <= min(d_1, ..., d_H)). Then every local
minimum is a global minimum.

Proposition 1 is checked at certified ResNet local minima (squared and logistic losses, both rank
branches); Proposition 2 at certified local minima of deep linear networks, including
d_x < d_y (d_x = 1, d_1 = 2, d_y = 3), a case Theorem 4's corollary (d_y <= min d_l) does not
cover: there KHK2019LM's results do not reproduce Proposition 2, as the paper says ("for a common
scenario of d_y <= d_x").
"""

from proofcheck import Hypothesis, Margin, Mutant, MutantKind, PointKind
from proofcheck.problems import resnet_instances, values_at_point
from proofcheck.strategies import Relation

from . import printed_at
from ._declare import at_network_points, at_resnet_minima, is_global
from .instances import PA4, PA6, panel

PA1_REL = Relation("d_y = 1", lambda d: d["d_y"] == 1)
PA1 = Hypothesis("PA1", "d_y = 1", lambda i: i.d_y == 1)
PA2 = Hypothesis("PA2", "l_y convex and twice differentiable",
                 lambda i: i.loss.convex and i.loss.twice_differentiable)
PA5 = Hypothesis("PA5", "l_y convex and differentiable",
                 lambda i: i.loss.convex and i.loss.differentiable)
P1_LOSSES = ("squared", "logistic")


def _p1_instances(assumed):
    loss, _, branch = (assumed.branch or "").partition("/")
    return resnet_instances(losses=(loss,) if loss else P1_LOSSES, relation=PA1_REL,
                            branches=(branch,) if branch else ("full_rank", "rank_deficient"))


def shamir(inst, point, B, factor=1.0, flip=False):
    L, L_x, tol, src = values_at_point(inst, point, "x")
    if flip:
        return Margin.at_least(L, L_x, tol=tol, tol_source=src)
    return Margin.at_most(L, factor * L_x, tol=tol, tol_source=src)


proposition1 = at_resnet_minima(
    "khk2019lm.proposition1", printed_at("4.1.1", "Proposition 1 (Shamir, 2018)"),
    title="(Shamir 2018) scalar-output ResNet local minima are no worse than linear "
          "predictors",
    statement="Let f be specified by (4.1) and PA1, PA2, PA3 hold. Then for any local minimum "
              "theta of L: L(theta) <= inf_{W in R^{d_y x d_x}} sum_i lambda_i l_{y_i}(W x_i)",
    hypotheses=(PA1, PA2),
    conclusion=shamir,
    instances=_p1_instances,
    losses=P1_LOSSES,
    notes="PA3 holds for both losses (C^3 with Lipschitz Hessian on bounded sets). z is data.",
    mutants=(
        Mutant.conclusion("flipped", MutantKind.FLIPPED_INEQUALITY,
                          "L(theta) >= inf_W sum lambda_i l(W x_i)",
                          lambda i, p, B: shamir(i, p, B, flip=True)),
        Mutant.conclusion("halved", MutantKind.PERTURBED_CONSTANT,
                          "L(theta) <= inf_W sum lambda_i l(W x_i) / 2",
                          lambda i, p, B: shamir(i, p, B, factor=0.5)),
    ),
)


proposition2 = at_network_points(
    "khk2019lm.proposition2", printed_at("4.2.2", "Proposition 2 (Laurent & Brecht, 2018)"),
    PointKind.LOCAL_MIN,
    title="(Laurent & Brecht 2018) local minima of deep linear networks are global when the "
          "thinnest layer is the input or the output",
    statement="Let f be specified by (4.3) with PA4, PA5, PA6. Then every local minimum theta "
              "of L is a global minimum",
    hypotheses=(PA4, PA5, PA6),
    conclusion=is_global,
    instances=lambda assumed: panel(kinds=("deep_linear", "thin_input"),
                                    violate=() if assumed["PA6"] else ("PA6",)),
    notes="Global minimum value of a deep linear network = inf over all d_y x d_x matrices A "
          "of sum lambda_i l(A x_i) when PA6 holds (the product of the layers reaches every A).",
    mutants=(Mutant.drop("PA6", "a bottleneck narrower than d_x and d_y"),),
)
