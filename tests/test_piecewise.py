"""Tests of proofcheck.optimize.piecewise: finder and certificate for piecewise-linear networks."""

import math

import numpy as np
import pytest

from proofcheck import networks as nw
from proofcheck.networks import ABS, IDENTITY, RELU, Network
from proofcheck.optimize.piecewise import (KINDS, PiecewiseLandscape, certify, find_points,
                                           value_at_point)

DIGITS = 30


def _data(m=5, d_x=2, d_y=1, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(m, d_x)), rng.normal(size=(m, d_y))


def test_finder_certifies_differentiable_local_minima_with_L_equal_J():
    net = Network((2, 3, 1), [ABS])
    X, Y = _data()
    pts = find_points(net, X, Y, rng=np.random.default_rng(1), starts=3, digits=DIGITS)
    assert len(pts) == 3 and all(p.kind in KINDS for p in pts)
    mins = [p for p in pts if p.kind == "local_min"]
    assert mins, [p.notes for p in pts]
    for p in mins:
        assert p.kink_margin > p.kink_tol > 0
        assert p.grad_norm <= p.tau_grad and p.min_hess_eig >= -p.tau_hess
        v = value_at_point(net, X, Y, p)
        assert abs(float(v.L - v.value)) <= v.tol


def test_exact_kink_is_never_a_local_minimum():
    # one ReLU unit with w1 = 0: G = 0 on samples with x != 0, a live kink
    net = Network((1, 1, 1), [RELU])
    X = np.array([[1.0], [-2.0], [0.5]])
    Y = np.array([[0.3], [-0.1], [0.2]])
    p = certify(net, X, Y, np.array([0.0, 1.0]), digits=DIGITS)
    assert p.kind == "at_kink" and p.kink_margin == 0.0
    assert not p.certified and not p.differentiable


def test_near_kink_when_the_margin_is_below_the_distance_to_the_limit():
    net = Network((1, 1, 1), [RELU])
    X = np.array([[1.0], [2.0]])
    Y = np.array([[0.3], [0.1]])
    theta = np.array([1e-3, 1.0])              # G = 1e-3, 2e-3 > 0: differentiable here
    assert certify(net, X, Y, theta, digits=DIGITS, last_step=0.0).kind != "near_kink"
    p = certify(net, X, Y, theta, digits=DIGITS, last_step=1.0)   # limit could be across
    assert p.kind == "near_kink" and p.kink_floor < p.kink_margin <= p.kink_tol


def test_zero_input_row_is_a_kink_that_is_never_crossed():
    # x_1 = 0: G_{1,k} = 0 at every theta, but L stays differentiable
    net = Network((2, 2, 1), [RELU])
    X, Y = _data(m=4)
    X[0] = 0.0
    assert nw.pre_activation_margin(net, net.random_weights(np.random.default_rng(3)), X) > 0
    pts = find_points(net, X, Y, rng=np.random.default_rng(2), starts=2, digits=DIGITS)
    assert any(p.kind == "local_min" for p in pts)


def test_dead_unit_start_gives_a_dead_unit_local_minimum():
    net = Network((2, 2, 1), [RELU])
    X, Y = _data(m=4)
    X[:, 0] = np.abs(X[:, 0]) + 0.5
    start = np.array([-1.0, 0.0, 0.3, 0.2, 0.5, 0.7])    # unit 1: G = -x_1 < 0 on every sample
    pts = find_points(net, X, Y, rng=np.random.default_rng(0), starts=0, digits=DIGITS,
                      initial_points=[start])
    assert pts[0].kind == "local_min" and pts[0].branch == "dead_unit"


def test_saddle_of_a_linear_network_is_certified_as_saddle():
    net = Network((2, 2, 1), [IDENTITY])
    X, Y = _data(m=4)
    p = certify(net, X, Y, np.zeros(net.d_theta), digits=DIGITS)
    assert p.kind == "saddle" and p.min_hess_eig < -p.tau_hess


def test_non_critical_point_is_unresolved():
    net = Network((2, 2, 1), [IDENTITY])
    X, Y = _data(m=4)
    p = certify(net, X, Y, np.ones(net.d_theta), digits=DIGITS)
    assert p.kind == "unresolved" and p.grad_norm > p.tau_grad


def test_landscape_protocol_and_cache():
    net = Network((2, 2, 1), [ABS])
    X, Y = _data(m=4)
    land = PiecewiseLandscape(net, X, Y)
    a = land.find_points(rng=np.random.default_rng(5), starts=1, digits=DIGITS)
    b = land.find_points(rng=np.random.default_rng(5), starts=1, digits=DIGITS)
    assert a is b and land.n_params == net.d_theta
    assert math.isclose(land.value(a[0].theta), a[0].value, rel_tol=1e-12, abs_tol=1e-300)


def test_bad_input():
    net = Network((2, 2, 1), [RELU])
    X, Y = _data(m=4)
    with pytest.raises(TypeError, match="Generator"):
        find_points(net, X, Y, rng=0)
    with pytest.raises(ValueError, match="initial points"):
        find_points(net, X, Y, rng=np.random.default_rng(0), starts=0,
                    initial_points=[np.zeros(3)])


def test_kink_local_minimum_of_the_catalogue_is_classified_at_kink():
    """khk2019dw.theorem1.kink_example: a genuine local minimum at a kink (L = 2.25, J = 2);
    the certificate must not hand it to Theorem 1."""
    net = Network((2, 1, 1), [RELU])
    X = np.array([[1.0, 1.0], [0.0, 1.0], [1.0, -1.0]])
    Y = np.array([[1.5], [-2.0], [0.5]])
    p = certify(net, X, Y, np.array([1.0, 0.0, 1.0]), digits=DIGITS)
    assert p.kind == "at_kink"


def test_restricted_landscape_keeps_fixed_entries_at_zero():
    net = Network((2, 2, 2, 1), [[IDENTITY, RELU], [IDENTITY, RELU]])
    X, Y = _data(m=6)
    free = np.ones(net.d_theta, bool)
    off = net.offsets[1]                       # W^(2)_{0,1} (linear unit -> ReLU unit) fixed
    free[off + 1 * 2 + 0] = False
    pts = find_points(net, X, Y, rng=np.random.default_rng(4), starts=3, digits=DIGITS, free=free)
    assert all(p.theta[~free].tolist() == [0.0] for p in pts)
    assert any(p.kind == "local_min" for p in pts)


def test_doctests():
    import doctest

    import proofcheck.optimize.piecewise as pw
    assert doctest.testmod(pw).failed == 0
