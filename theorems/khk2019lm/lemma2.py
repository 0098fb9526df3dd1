"""KHK2019LM Lemma 2 (App. A.1): at a differentiable critical point the loss gradients are
orthogonal to every partial derivative of f_X.

    If every l_{y_i} is differentiable, every critical point theta not in Omega satisfies
    sum_i lambda_i dl_{y_i}(f_{x_i}(theta)) d_k f_{x_i}(theta) = 0 for all k.

Checked at every certified critical point (saddles and degenerate points included: theta = 0 of
two- and three-layer linear networks, Newton's zeros of grad L) of deep linear and tanh networks,
squared and cross-entropy losses, non-uniform weights lambda_i.  The sums are recomputed from the
model's Jacobian and the loss gradients, independently of the landscape's gradient code path.
"""

import numpy as np

from proofcheck import Margin, Mutant, MutantKind, PointKind
from proofcheck.induced import stationarity_sums, sums_tolerance

from . import printed_at
from ._declare import at_network_points, certified
from .instances import A1, panel

SOURCE = printed_at("A.1", "Lemma 2")


def vanishing(sums):
    """The conclusion that ``sums(q)`` vanishes, ``q`` the quantities at the certified point."""
    def margin(inst, point, B):
        q = certified(inst, point)
        return Margin.vanishes(sums(q), tol=sums_tolerance(q),
                               tol_source="the sums at the point's mpmath precision: their "
                                          "rounding + the certificate's resolution tau_grad")
    return margin


conclusion = vanishing(stationarity_sums)
unweighted = vanishing(lambda q: stationarity_sums(q, weighted=False))
loss_gradients_sum = vanishing(lambda q: np.einsum("i,ia->a", q.weights, q.D))


def _instances(assumed):
    return panel(kinds=("deep_linear", "deep_linear3", "tanh"))


lemma2 = at_network_points("khk2019lm.lemma2", SOURCE,
    PointKind.CRITICAL,
    title="at differentiable critical points, the loss gradients annihilate every d_k f_X",
    statement="If every l_{y_i} is differentiable, then for any critical point theta not in "
              "Omega: sum_i lambda_i dl_{y_i}(f_{x_i}(theta)) d_k f_{x_i}(theta) = 0 for all k",
    hypotheses=(A1,),
    conclusion=conclusion,
    instances=_instances,
    notes="A1 is stronger than the lemma needs (differentiability only); the panel's losses "
          "are convex and differentiable.",
    mutants=(
        Mutant.conclusion("unweighted", MutantKind.DROPPED_TERM,
                          "sum_i dl_{y_i} d_k f_{x_i} = 0 (weights lambda_i dropped)",
                          unweighted),
        Mutant.conclusion("no_jacobian", MutantKind.DROPPED_TERM,
                          "sum_i lambda_i dl_{y_i}(f_{x_i}(theta)) = 0 (d_k f dropped)",
                          loss_gradients_sum),
    ),
)
