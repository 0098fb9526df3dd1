"""Kawaguchi & Bengio (2019): the assumptions, as named hypotheses shared by the claims.

§3.1  A1  The output dimension satisfies d_y <= min(d_x, d_z).
      A2  For any y, the map h ↦ ℓ(h, y) is convex and differentiable.
§3.2  B1  The map h ↦ ℓ(h, y) represents the squared loss ℓ(h, y) = ||h - y||_2^2.
      B2  μ is the empirical measure (1/m) Σ_i δ_(x_i, y_i).
§2.3  PA1 The output dimension is one: d_y = 1.            (Shamir, 2018)
      PA2 For any y, h ↦ ℓ(h, y) is convex and twice differentiable.
      PA3 On bounded sets, L_θ, ∇L_θ and ∇²L_θ are Lipschitz in (W, V).

Each hypothesis is checked on every generated instance; dropping one makes a claim's generator
draw instances that violate it.
"""

from proofcheck import Hypothesis
from proofcheck.problems import A1 as A1_SIZES
from proofcheck.problems import TWICE_DIFFERENTIABLE

A1 = Hypothesis("A1", "d_y <= min(d_x, d_z)", lambda i: A1_SIZES(i.fields()))
A2 = Hypothesis("A2", "for any y, h ↦ ℓ(h, y) is convex and differentiable",
                lambda i: i.loss.convex and i.loss.differentiable)
B1 = Hypothesis("B1", "ℓ(h, y) = ||h - y||_2^2", lambda i: i.loss_name == "squared")
# the generated data sets carry no weights: μ is their empirical (uniform) measure
B2 = Hypothesis("B2", "μ is the empirical measure (1/m) Σ δ_(x_i, y_i)",
                lambda i: i.fields().get("weights") is None)
PA1 = Hypothesis("PA1", "d_y = 1", lambda i: i.d_y == 1)
PA2 = Hypothesis("PA2", "for any y, h ↦ ℓ(h, y) is convex and twice differentiable",
                 lambda i: i.loss.convex and i.loss.twice_differentiable)
# PA3 holds for losses whose Hessian is locally Lipschitz: every twice-differentiable loss here
# is C^3 or piecewise C^3 with a Lipschitz Hessian ((1 - yq)_+^3 has Hessian 6(1 - yq)_+)
LIPSCHITZ_HESSIAN = frozenset(TWICE_DIFFERENTIABLE) | {"double_well"}
PA3 = Hypothesis("PA3", "L_θ, ∇L_θ, ∇²L_θ are Lipschitz on bounded sets",
                 lambda i: i.loss_name in LIPSCHITZ_HESSIAN)
