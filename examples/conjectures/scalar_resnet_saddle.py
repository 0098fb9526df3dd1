"""A user's conjectures about scalar-output residual networks (the model family of Shamir
2018: p(x) = w^T (x + V f(x)), F(w, V) = E l(p(x); y), F_lin(w) = F(w, 0)).

* ``user.scalar.flat_in_V`` (true): at w = 0 the objective does not depend on V and its
  V-gradient vanishes: F(0, V) = F_lin(0) and dF/dV (0, V) = E[l' w f^T] = 0.
* ``user.scalar.critical_at_zero`` (false): "every point with w = 0 is a critical point". The
  w-gradient E[l'(0; y) (x + V f)] is not zero for generic data.
"""

from functools import partial

import numpy as np

from proofcheck import Claim, Margin, Source
from proofcheck.scalar_resnet import ScalarResNet
from proofcheck.strategies import scalar_resnet_instances


def instances(assumed):
    return scalar_resnet_instances(w="zero")


def flat_in_V(inst, point, B):
    net = ScalarResNet(inst.X, inst.y, inst.Fx, inst.loss)      # batched over leading axes
    gw, gV = net.gradient(inst.w, inst.V)
    change = np.abs(net.value(inst.w, inst.V) - net.linear_value(inst.w))
    worst = np.maximum(change, np.max(np.abs(gV), axis=(-2, -1)))
    return Margin.at_most(worst, 0.0, tol=0.0, tol_source="exact: w = 0 makes p = 0 and "
                          "E[l' w f^T] = 0 in any arithmetic")


def critical(inst, point, B):
    net = ScalarResNet(inst.X, inst.y, inst.Fx, inst.loss)
    gw, _ = net.gradient(inst.w, inst.V)
    size = np.linalg.norm(gw, axis=-1)
    return Margin.at_most(size, 0.0, tol=1e-9 * (1 + np.abs(net.value(inst.w, inst.V))),
                          tol_source="1e-9 relative: far above float64 rounding of a mean")


SOURCE = Source("user", "3", "Conjectures on scalar residual networks")

#: What these conjectures share: where they are stated, the points (w = 0), float64 only.
at_w_zero = partial(Claim, source=SOURCE, instances=instances, high_precision=False,
                    notes="float64 only: ScalarResNet computes in float64 here.")

flat = at_w_zero(
    id="user.scalar.flat_in_V",
    title="at w = 0 the residual branch is invisible to F and to its V-gradient",
    statement="F(0, V) = F_lin(0) and dF/dV(0, V) = 0 for every V",
    conclusion=flat_in_V,
)

critical_at_zero = at_w_zero(
    id="user.scalar.critical_at_zero",
    title="every point with w = 0 is critical",
    statement="grad F(0, V) = 0 for every V",
    conclusion=critical,
    notes="float64 only. False for generic data.",
)
