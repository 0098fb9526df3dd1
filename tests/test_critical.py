"""optimize.critical: critical points of every kind, certified like local_min's certificate."""

import numpy as np
import pytest

from proofcheck.networks import Network
from proofcheck.losses import SoftmaxCrossEntropy, SquaredLoss
from proofcheck.optimize.critical import (CRITICAL_KINDS, ModelLandscape, certify_critical,
                                          find_critical_points)

X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, -1.0]])
Y = np.array([[1.0, 0.0], [2.0, 1.0], [0.5, 0.5], [-1.0, 0.3]])


def test_two_layer_linear_origin_is_a_strict_saddle():
    land = ModelLandscape(Network((2, 2, 2), "identity"), X, Y, SquaredLoss())
    cp = certify_critical(land, np.zeros(land.n_params), digits=30)
    assert cp.kind == "saddle"
    assert cp.grad_norm == 0.0
    assert cp.min_hess_eig < -cp.tau_hess < cp.tau_hess < cp.max_hess_eig
    # the Hessian at 0 is [[0, B], [B^T, 0]]: its spectrum is symmetric
    assert abs(cp.min_hess_eig + cp.max_hess_eig) < 1e-20


def test_three_layer_linear_origin_is_degenerate():
    land = ModelLandscape(Network((2, 2, 2, 2), "identity"), X, Y, SquaredLoss())
    cp = certify_critical(land, np.zeros(land.n_params), digits=30)
    assert cp.kind == "degenerate"
    assert max(abs(cp.min_hess_eig), abs(cp.max_hess_eig)) <= cp.tau_hess


def test_newton_finds_saddles_and_descent_minima():
    land = ModelLandscape(Network((2, 2, 2), "identity"), X, Y, SquaredLoss())
    pts = find_critical_points(land, rng=np.random.default_rng(0), starts=3, digits=30)
    kinds = {p.kind for p in pts}
    assert "local_min" in kinds and "saddle" in kinds
    for p in pts:
        if p.kind in CRITICAL_KINDS:
            assert p.grad_norm <= p.tau_grad
    # every certified minimum of a linear network with d_y <= d_1 has the least-squares value
    lsq = np.linalg.lstsq(X, Y, rcond=None)[0]
    best = float(np.mean(np.sum((X @ lsq - Y) ** 2, axis=1)))
    for p in pts:
        if p.kind == "local_min":
            assert abs(p.value - best) < 1e-12


def test_mp_hessian_matches_float_hessian():
    land = ModelLandscape(Network((2, 3, 2), "tanh"), X, np.full((4, 2), 0.5),
                          SoftmaxCrossEntropy())
    p = np.random.default_rng(1).normal(size=land.n_params)
    _, g, H = land.derivatives_mp(p, 30, 2)
    assert np.abs(np.array(g, float) - land.grad(p)).max() < 1e-13
    assert np.abs(np.array(H, float) - land.hess(p)).max() < 1e-7


def test_find_points_is_cached_and_deterministic():
    land = ModelLandscape(Network((2, 2, 2), "identity"), X, Y, SquaredLoss(), max_starts=1)
    a = land.find_points(rng=None, starts=5, digits=20)
    b = ModelLandscape(Network((2, 2, 2), "identity"), X, Y, SquaredLoss(),
                       max_starts=1).find_points(rng=None, starts=5, digits=20)
    assert a is b


def test_bad_input():
    land = ModelLandscape(Network((2, 2, 2), "identity"), X, Y, SquaredLoss())
    with pytest.raises(ValueError, match="digits"):
        certify_critical(land, np.zeros(land.n_params), digits=5)
    with pytest.raises(ValueError, match="finite"):
        certify_critical(land, np.full(land.n_params, np.nan))
    with pytest.raises(ValueError, match="method"):
        find_critical_points(land, rng=np.random.default_rng(0), method="sideways")
    with pytest.raises(ValueError, match="share m"):
        ModelLandscape(Network((2, 2, 2), "identity"), X, Y[:2], SquaredLoss())
    with pytest.raises(ValueError, match="NaN"):
        ModelLandscape(Network((2, 2, 2), "identity"), X * np.nan, Y, SquaredLoss())


def test_a_local_maximum_is_classified_as_such():
    # f = w x with x = 1, y = 0 and the tilted double well: L(w) = (w^2 - 1)^2 + w / 2 has a
    # local maximum between its two minima (4 w (w^2 - 1) + 1/2 = 0 near w = 0.126)
    from proofcheck.losses import TiltedDoubleWell
    land = ModelLandscape(Network((1, 1), "identity"), np.ones((1, 1)), np.zeros((1, 1)),
                          TiltedDoubleWell(0.5))
    roots = np.roots([4.0, 0.0, -4.0, 0.5]).real
    kinds = sorted(certify_critical(land, np.array([r]), digits=30).kind for r in roots)
    assert kinds == ["local_max", "local_min", "local_min"]


def test_a_chart_reorders_the_coordinates_and_nothing_else():
    """``chart``: the landscape in other coordinates of the same theta (here the transposed
    blocks of a paper that writes W h): values agree, free indices and starts are in the chart,
    certified points carry the network's own theta."""
    net = Network((2, 3, 2), "tanh")
    chart = net.transposed_order()
    plain = ModelLandscape(net, X, Y, SquaredLoss())
    charted = ModelLandscape(net, X, Y, SquaredLoss(), chart=chart)
    theta = np.random.default_rng(4).normal(size=net.n_params)
    p = charted.restrict(theta)
    assert np.array_equal(p, net.to_transposed(theta))
    assert np.array_equal(charted.full(p), theta)
    assert charted.value(p) == plain.value(theta)
    assert np.allclose(charted.grad(p), net.to_transposed(plain.grad(theta)), atol=1e-15)
    # free indices count in the chart: the output block sits at the same offset there
    b = net.block("Wout2")
    last = ModelLandscape(net, X, Y, SquaredLoss(), chart=chart,
                          free=np.arange(b.offset, b.offset + b.size), base=theta)
    assert np.array_equal(last.restrict(theta), net.unpack(theta)["Wout2"].T.ravel(order="F"))
    with pytest.raises(ValueError, match="permutation"):
        ModelLandscape(net, X, Y, SquaredLoss(), chart=np.zeros(net.n_params))
