"""Strategies for scalar-output residual networks (:mod:`proofcheck.scalar_resnet`).

The model family is p(x) = w^T (x + V f_theta(x)) with a fixed feature map f_theta (a tanh
layer or a random ReLU layer), objective F(w, V) = (1/m) sum_i l(p(x_i); y_i), and its linear
baseline F_lin(w) = F(w, 0). :func:`scalar_resnets` draws the network with a point (w, V);
:func:`scalar_resnet_instances` is the instance strategy claims use (fields ``X, y, Fx, loss,
loss_name, w, V, w_star``), including points near the saddle w = 0.

>>> from hypothesis import find
>>> R = find(scalar_resnets(losses=("squared",), w="zero"), lambda R: True)
>>> sorted(R), float(abs(R["w"]).max())
(['V', 'net', 'w'], 0.0)
>>> R["net"].hessian(R["w"], R["V"]).shape[0] == R["w"].size * (1 + R["V"].shape[1])
True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from hypothesis import strategies as st

__all__ = ["SCALAR_LOSSES", "scalar_resnet_instances", "scalar_resnets"]

SCALAR_LOSSES = ("squared", "logistic", "smoothed_hinge3", "smoothed_hinge2", "double_well")


def scalar_resnet_instances(*, losses: Sequence[str] = ("squared", "logistic",
                                                        "smoothed_hinge3"),
                            w: str = "any", w_star: str = "mixed", max_m: int = 6,
                            max_d: int = 3, V_zero: bool = False) -> st.SearchStrategy:
    """Instances of F at a point (w, V) with a comparison vector w* (see
    :func:`proofcheck.scalar_resnet.scalar_instances`, which this is): ``w`` is ``"nonzero"``,
    ``"zero"`` or ``"any"`` (nonzero points include ones within 10^-4..10^-2 of a saddle at
    w = 0); ``w_star`` ``"best"`` (a best linear predictor in a ball), ``"drawn"`` or
    ``"mixed"``."""
    from proofcheck.scalar_resnet import scalar_instances
    return scalar_instances(losses=tuple(losses), w=w, w_star=w_star, max_m=max_m,
                            max_d=max_d, V_zero=V_zero)


def scalar_resnets(*, losses: Sequence[str] = ("squared", "logistic", "smoothed_hinge3"),
                   w: str = "any", max_m: int = 6, max_d: int = 3) -> st.SearchStrategy:
    """``dict(net=ScalarResNet, w, V)``: data (Gaussian inputs, tanh or ReLU features, targets
    suited to the loss: labels +-1 for margin losses) and a point. ``losses`` among
    :data:`SCALAR_LOSSES` (``double_well`` is non-convex)."""
    from proofcheck.scalar_resnet import ScalarResNet
    return scalar_resnet_instances(losses=losses, w=w, max_m=max_m, max_d=max_d).map(
        lambda i: {"net": ScalarResNet(i.X, i.y, i.Fx, i.loss), "w": np.asarray(i.w),
                   "V": np.asarray(i.V)})
