"""Shamir (2018): the assumptions and standing hypotheses, as named hypotheses shared by claims.

§2   A1        Assumption 1: for any y, the loss ℓ(p, y) is twice differentiable and convex in p.
§2   SCALAR    The network has a scalar output p = w^T(x + V f_θ(x)) (d_y = 1).
§6.1 W_NONZERO Theorem 1 / Lemma 1: the point has w != 0.
§3   W_STAR    Theorem 2: w* != 0 (the right-hand side divides by ||w*||; at w* = 0 it is 0/0,
               since F(0, V, θ) = F_lin(0) for every V).
§3   LIPSCHITZ Theorem 3 / Corollary 1: F_θ, ∇F_θ, ∇²F_θ are Lipschitz in (w, V) on bounded
               sets (true for losses with a Lipschitz second derivative on bounded intervals).
App. A  CONVEX_DIFF  Theorem 6: ℓ is differentiable and convex in its first argument.
App. A  FULL_ROW_RANK Theorem 6 / Lemma 3: W has full row rank (s_min(W) > 0).

Instances carry ``loss`` (a :mod:`proofcheck.losses` object) and ``loss_name``; the predicates
read the loss's *declared* properties, which the engine verifies numerically on every loss it
meets (:func:`proofcheck.losses.check_declared_properties`), so a mis-declared loss is caught.

>>> from proofcheck import Instance
>>> from proofcheck.losses import LogisticLoss, SmoothedHinge
>>> A1.holds(Instance(loss=LogisticLoss(), loss_name="logistic"))
True
>>> A1.holds(Instance(loss=SmoothedHinge(2), loss_name="smoothed_hinge2"))   # l'' jumps at yp = 1
False
"""

import numpy as np

from proofcheck import Hypothesis
from proofcheck.linalg import numerical_rank
from proofcheck.losses import LogisticLoss, SmoothedHinge, SquaredLoss, TiltedDoubleWell

#: Scalar-output losses of Assumption 1 (convex, twice differentiable), by short name.
SCALAR_LOSSES = {
    "squared": SquaredLoss(),
    "logistic": LogisticLoss(),
    "smoothed_hinge3": SmoothedHinge(3),
}
#: Losses that violate Assumption 1 (used when a mutant drops it): differentiable but not
#: twice differentiable, or not convex.
NOT_ASSUMPTION1 = {
    "smoothed_hinge2": SmoothedHinge(2),       # convex, l'' jumps from 2 to 0 at yp = 1
    "double_well": TiltedDoubleWell(0.5),      # smooth, not convex
}
#: Losses that are differentiable and convex but violate convexity-free variants: the
#: non-convex one is what dropping convexity exposes.
NONCONVEX = {"double_well": TiltedDoubleWell(0.5)}


def _scalar_output(loss) -> bool:
    return getattr(loss, "output_dim", None) in (None, 1)


A1 = Hypothesis("A1", "for any y, ℓ(p, y) is twice differentiable and convex in p (Assumption 1)",
                lambda i: bool(i.loss.convex and i.loss.twice_differentiable))
CONVEX = Hypothesis("convex", "for any y, ℓ(p, y) is convex in p",
                    lambda i: bool(i.loss.convex))
CONVEX_DIFF = Hypothesis("convex_diff", "ℓ is differentiable and convex in its first argument",
                         lambda i: bool(i.loss.convex and i.loss.differentiable))
SCALAR = Hypothesis("scalar", "scalar output: x ↦ w^T(x + V f_θ(x))",
                    lambda i: _scalar_output(i.loss))
W_NONZERO = Hypothesis("w_nonzero", "w != 0", lambda i: bool(abs(i.w).max() > 0))
W_STAR_NONZERO = Hypothesis("w_star_nonzero", "w* != 0",
                            lambda i: bool(abs(i.w_star).max() > 0))
# Losses whose second derivative is Lipschitz on bounded intervals (so that ∇²F_θ is Lipschitz
# on bounded sets): C^3 losses, and (1 - yp)_+^3 whose l'' = 6 (1 - yp)_+ is 6-Lipschitz.
LIPSCHITZ_HESSIAN_LOSSES = frozenset(SCALAR_LOSSES)
LIPSCHITZ = Hypothesis("lipschitz", "F_θ, ∇F_θ, ∇²F_θ are Lipschitz in (w, V) on bounded sets",
                       lambda i: i.loss_name in LIPSCHITZ_HESSIAN_LOSSES)


def _full_row_rank(i) -> bool:
    W = np.asarray(i.W, dtype=float)
    # LAPACK cutoff: singular values below max(shape) * eps * s_max count as zero
    return bool(W.shape[0] <= W.shape[1] and int(numerical_rank(W, "lapack")) == W.shape[0])


FULL_ROW_RANK = Hypothesis("full_row_rank", "W has full row rank, s_min(W) > 0", _full_row_rank)
