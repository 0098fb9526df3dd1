"""ScalarResNet derivatives against finite differences and the engine's Landscape."""
import numpy as np
import pytest

from proofcheck.losses import LogisticLoss, SmoothedHinge, SquaredLoss
from proofcheck.models import Landscape, ResNetProblem
from proofcheck.scalar_resnet import ScalarResNet, flat_params, split_params


@pytest.mark.parametrize("loss,kind", [(SquaredLoss(), "real"), (LogisticLoss(), "pm1"),
                                       (SmoothedHinge(3), "pm1")])
def test_hessian_matches_landscape_and_differences(loss, kind):
    rng = np.random.default_rng(0)
    X, F = rng.normal(size=(5, 3)), np.tanh(rng.normal(size=(5, 2)))
    y = rng.normal(size=5) if kind == "real" else rng.choice([-1.0, 1.0], 5)
    net = ScalarResNet(X, y, F, loss)
    w, V = rng.normal(size=3), rng.normal(size=(3, 2))
    p = flat_params(w, V)
    land = Landscape(ResNetProblem(X=X, Y=y[:, None], Z=F, loss=loss))
    H = net.hessian(w, V)
    scale = np.abs(H).max()
    assert np.abs(land.hess(p) - H).max() <= 64 * 5 * np.finfo(float).eps * scale
    h = 1e-6
    fd = np.array([(net.flat_gradient(*split_params(p + h * e, 3, 2))
                    - net.flat_gradient(*split_params(p - h * e, 3, 2))) / (2 * h)
                   for e in np.eye(len(p))])
    # central differences: error O(h^2 |F'''|) + O(eps/h)
    assert np.abs(fd - H).max() <= 1e-6 * (1 + scale)


def test_bad_input():
    with pytest.raises(ValueError):
        ScalarResNet(np.ones((2, 2)), np.ones(3), np.ones((2, 1)), SquaredLoss())
    with pytest.raises(ValueError):
        ScalarResNet(np.full((2, 2), np.nan), np.ones(2), np.ones((2, 1)), SquaredLoss())
