"""Regressions of the local-minimum certificate on points the finder once mis-certified."""

import numpy as np

from proofcheck.losses import SquaredLoss
from proofcheck.models import Landscape, ResNetPoint, ResNetProblem, objective
from proofcheck.optimize.convex import best_linear_predictor
from proofcheck.optimize.local_min import certify

# A 1-d instance and a point far out in the valley W -> 0, V -> oo (W V fixed): the gradient is
# ~2e-11, tiny only relative to a Hessian of norm ~1e10. A threshold scaled by ||H|| certified it
# as a local minimum although its value exceeds the best linear predictor's by ~0.92 (which
# would have been a false refutation of KB2019 Theorem 1).
X = np.array([[0.1257302210933933], [-0.1321048632913019], [0.6404226504432821], [0.10490011715303971], [-0.535669373161111], [0.36159505490948474]])
Y = np.array([[-1.200586446612954], [-0.2661992245218778], [-1.60716045927488], [-0.12518240960247806], [1.5876303025633534], [-0.32850472568545774]])
Z = np.array([[1.3040000451301372], [0.9470809631292422], [-0.7037352358069926], [-1.2654214710460525], [-0.6232744625373522], [0.0413259793472436]])
W = np.array([[3.0654409164259437e-06]])
V = np.array([[-98257.10367605356]])


def test_valley_point_is_not_certified_as_a_local_minimum():
    problem = ResNetProblem(X=X, Y=Y, Z=Z, loss=SquaredLoss())
    cp = certify(Landscape(problem), ResNetPoint(W=W, V=V), digits=40)
    L_star = float(best_linear_predictor(np.hstack([X, Z]), Y, SquaredLoss()).value)
    assert objective(problem, ResNetPoint(W=W, V=V)) - L_star > 0.5   # it is far from optimal
    assert cp.kind != "local_min"
