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


def _random_in_M(rng, d_x, d_z, b):
    w = rng.normal(size=d_x)
    w *= rng.uniform(0, b) / np.linalg.norm(w)
    V = rng.normal(size=(d_x, d_z))
    V *= rng.uniform(0, b) / np.linalg.norm(V, 2)
    return w, V


@pytest.mark.parametrize("loss,kind", [(SquaredLoss(), "real"), (LogisticLoss(), "pm1"),
                                       (SmoothedHinge(3), "pm1")])
def test_lipschitz_bounds_hold_on_random_pairs(loss, kind):
    """|F(p) - F(q)| <= μ0 |p - q|, |∇F(p) - ∇F(q)| <= μ1 |p - q|, ||∇²F(p) - ∇²F(q)|| <=
    μ2 |p - q| for random pairs in M = {||w|| < b, ||V|| < b} (near pairs probe the local
    constant; the bounds must hold everywhere)."""
    rng = np.random.default_rng(3)
    X, F = rng.normal(size=(6, 2)), np.tanh(rng.normal(size=(6, 2)))
    y = rng.normal(size=6) if kind == "real" else rng.choice([-1.0, 1.0], 6)
    net = ScalarResNet(X, y, F, loss)
    b = 2.0
    lb = net.lipschitz_bounds(b)
    worst = [0.0, 0.0, 0.0]
    for _ in range(200):
        w1, V1 = _random_in_M(rng, 2, 2, b)
        t = 10.0 ** rng.uniform(-4, 0)
        w2, V2 = _random_in_M(rng, 2, 2, b)
        w2, V2 = w1 + t * (w2 - w1), V1 + t * (V2 - V1)       # M is convex
        dist = np.linalg.norm(flat_params(w1, V1) - flat_params(w2, V2))
        worst[0] = max(worst[0], abs(float(net.value(w1, V1) - net.value(w2, V2))) / dist)
        worst[1] = max(worst[1], np.linalg.norm(net.flat_gradient(w1, V1)
                                                - net.flat_gradient(w2, V2)) / dist)
        worst[2] = max(worst[2], np.linalg.norm(net.hessian(w1, V1) - net.hessian(w2, V2), 2)
                       / dist)
    assert worst[0] <= lb.mu0 and worst[1] <= lb.mu1 and worst[2] <= lb.mu2, (worst, lb)


def test_vector_gradient_matches_differences():
    from proofcheck.losses import SoftmaxCrossEntropy
    from proofcheck.scalar_resnet import VectorResNet
    rng = np.random.default_rng(4)
    X, F = rng.normal(size=(5, 3)), np.tanh(rng.normal(size=(5, 2)))
    Y = np.eye(2)[rng.integers(0, 2, 5)]
    net = VectorResNet(X, Y, F, SoftmaxCrossEntropy())
    W, V = rng.normal(size=(2, 3)), rng.normal(size=(3, 2))
    gW, gV = net.gradient(W, V)
    h = 1e-6
    for M, g, which in ((W, gW, 0), (V, gV, 1)):
        fd = np.zeros_like(M)
        for idx in np.ndindex(*M.shape):
            E = np.zeros_like(M)
            E[idx] = h
            args_p = (W + E, V) if which == 0 else (W, V + E)
            args_m = (W - E, V) if which == 0 else (W, V - E)
            fd[idx] = (net.value(*args_p) - net.value(*args_m)) / (2 * h)
        assert np.abs(fd - g).max() <= 1e-7 * (1 + np.abs(g).max())


def test_mpmath_path_agrees_with_float64():
    import mpmath
    from proofcheck.backends import get_backend
    rng = np.random.default_rng(5)
    X, F, y = rng.normal(size=(4, 2)), np.tanh(rng.normal(size=(4, 1))), rng.choice([-1.0, 1.0], 4)
    w, V = rng.normal(size=2), rng.normal(size=(2, 1))
    B = get_backend("mpmath", digits=30)
    net = ScalarResNet(X, y, F, LogisticLoss())
    netm = ScalarResNet(B.asarray(X), B.asarray(y), B.asarray(F), LogisticLoss())
    with mpmath.workdps(30):
        Hm = netm.hessian(B.asarray(w), B.asarray(V))
    H = net.hessian(w, V)
    assert np.abs(B.to_float(Hm) - H).max() <= 64 * 4 * np.finfo(float).eps * np.abs(H).max()


def test_ball_minimiser_is_feasible_and_not_worse_than_zero():
    rng = np.random.default_rng(6)
    X, F, y = rng.normal(size=(6, 3)), np.tanh(rng.normal(size=(6, 2))), rng.normal(size=6)
    net = ScalarResNet(X, y, F, SquaredLoss())
    for r in (0.1, 1.0, 10.0):
        w = net.best_linear(radius=r)
        assert np.linalg.norm(w) <= r
        assert net.linear_value(w) <= net.linear_value(np.zeros(3))
