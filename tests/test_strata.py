"""Exact certificates at points with zero pre-activations (proofcheck.optimize.strata).

Every example is built by hand with exact numbers; the comments give the argument that fixes
the right answer independently of the code (a smooth reparametrisation, a sign argument, or an
explicit descent path)."""

from fractions import Fraction as F

import numpy as np
import pytest

from proofcheck import networks as nw
from proofcheck.networks import ABS, RELU, Network, leaky_relu
from proofcheck.optimize.strata import certify_stratum, snap


def _cancel(a):
    """yhat = v sigma(w . x) with slope ``a`` on the negative side; x1 = (0, 1), x2 = (0, -1) lie
    on the unit's hyperplane at w = (1, 0); x3 = (1, 0), x4 = (1, 1) are active.

    With u = v w_a, t = v w_b (v near 1 > 0, positive homogeneity):
    L = 1/2 [(sigma(t) - 1)^2 + (sigma(-t) + 1)^2 + (u - y3)^2 + (u + t - y4)^2] and the first two
    terms are (t - 1)^2 + (1 - a t)^2 on *both* sides of t = 0: the samples' kinks cancel, L is
    C^infinity and convex in (u, t); y3, y4 are chosen so that (u, t) = (1, 0) is its minimum:
    r4 = 1 + a, r3 = -r4."""
    net = Network((2, 1, 1), RELU if a == 0 else leaky_relu(a))
    r4 = 1 + F(a)
    X = [[0, 1], [0, -1], [1, 0], [1, 1]]
    Y = [[1], [-1], [1 + r4], [1 - r4]]
    return net, X, Y, [1, 0, 1]


@pytest.mark.parametrize("a", [0, 0.5, 0.25])
def test_differentiable_minimum_where_samples_cancel(a):
    net, X, Y, theta = _cancel(a)
    c = certify_stratum(net, X, Y, theta)
    assert c.n_zero == 2 and c.n_strict == 2
    assert c.kind == "local_min" and c.differentiable and c.local_min and c.level == "exact"
    assert all(v == 0 for v in c.gradient)
    # the outputs of the kink samples are not differentiable (yhat_1 = relu(t) for a = 0)
    assert c.outputs_differentiable[0] is False and c.outputs_differentiable[2] is True
    # the paper's Lambda-convention gradient is not the derivative here
    assert c.lambda_gradient != c.gradient


def test_lambda_convention_J_differs_from_L_at_that_minimum():
    # L = 2; J = 1/2 ||P_N[D] vec Y||^2 with Lambda = 0 at the kinks: rows 1, 2 of D vanish
    net, X, Y, theta = _cancel(0)
    c = certify_stratum(net, X, Y, theta)
    A = np.concatenate(nw.d_blocks(net, net.unflatten(np.array(theta, float)),
                                   np.array(X, float), pattern=[np.array(
                                       c.lambda_pattern[0], float)]), axis=1)
    y = np.array(Y, float).ravel()
    U = np.linalg.svd(A, full_matrices=False)[0][:, :np.linalg.matrix_rank(A)]
    J = 0.5 * float(np.sum((y - U @ (U.T @ y)) ** 2))
    assert c.value == 2 and abs(J - 1.0) < 1e-12


def test_dead_unit_with_zero_outgoing_weight_is_a_differentiable_minimum():
    # unit 1 w1 = (1, 0) active, output weight 1; unit 2 w2 = (0, -1): pre-activation 0 at
    # x = (1, 0) only, output weight 0.  Residual r = (0, 1, -2, 1) is orthogonal to both
    # features and to e_1 (the only thing unit 2 can add), so a convex least-squares argument
    # makes theta a local minimum with L = 3.
    net = Network((2, 2, 1), RELU)
    X = [[1, 0], [1, 1], [1, 2], [1, 3]]
    Y = [[1], [2], [-1], [2]]
    c = certify_stratum(net, X, Y, [1, 0, 0, -1, 1, 0])
    assert c.n_zero == 1 and c.kind == "local_min" and c.differentiable
    assert c.outputs_all_differentiable and c.value == 3
    assert {p.certificate for p in c.pieces} == {"path_model"}


def test_kink_of_abs_at_a_minimum_is_not_differentiable_but_a_minimum():
    # yhat1 = v |w_b|, yhat2 = v w_a, y = (-1, 1), theta = (w_a, w_b, v) = (1, 0, 1):
    # L = 1/2 (v |w_b| + 1)^2 + 1/2 (v w_a - 1)^2 >= 1/2 = L(theta) for v > 0; dL/dw_b = +-1.
    net = Network((2, 1, 1), ABS)
    c = certify_stratum(net, [[0, 1], [1, 0]], [[-1], [1]], [1, 0, 1])
    assert c.kind == "at_kink" and c.differentiable is False and c.local_min is True
    assert c.gradient is None and c.value == F(1, 2)


def test_saddle_at_zero_pre_activations():
    # yhat = v relu(w x), x = (1, -1), y = (1, 1), theta = 0: L = 1 at theta, differentiable
    # (every piece has gradient 0), and along w = v = t > 0: L = 1/2 ((t^2 - 1)^2 + 1) < 1.
    net = Network((1, 1, 1), RELU)
    c = certify_stratum(net, [[1], [-1]], [[1], [1]], [0, 0])
    assert c.kind == "saddle" and c.differentiable and c.local_min is False
    d = [float(v) for v in c.descent]
    t = 1e-3
    th = np.array(d) * t
    assert nw.loss(net, net.unflatten(th), np.array([[1.0], [-1.0]]), np.ones((2, 1))) < 1.0


def test_leaky_kink_that_is_not_a_minimum():
    # leaky slope 1/2, yhat = v sigma(w x), x = 1, y = 1, theta = (0, 1): L = 1/2 at theta;
    # dL/dw = -1 on w > 0 and -1/2 on w < 0: not differentiable, w > 0 descends.
    net = Network((1, 1, 1), leaky_relu(0.5))
    c = certify_stratum(net, [[1]], [[1]], [0, 1])
    assert c.kind == "at_kink" and c.differentiable is False and c.local_min is False
    assert c.descent is not None and c.descent[0] > 0


def test_second_layer_kink_minimum():
    # yhat = v relu(u relu(w x)), x = 1, w = 1, u = 0, v = 1, y = -1: the layer-2
    # pre-activation is 0; L = 1/2 (v relu(u relu(w)) + 1)^2 >= 1/2, not differentiable in u.
    net = Network((1, 1, 1, 1), RELU)
    c = certify_stratum(net, [[1]], [[-1]], [1, 0, 1])
    assert c.n_zero == 1 and c.kind == "at_kink" and c.local_min is True


def test_enumeration_cap_is_reported_not_dropped():
    net = Network((1, 1, 1), RELU)
    X = [[1], [-1], [2], [-2]]
    c = certify_stratum(net, X, [[1]] * 4, [0, 0], max_pieces=1)
    assert c.kind == "unresolved" and "max_pieces" in c.notes[0]


def test_snap_gives_exact_rationals():
    s = snap([1e-12, 0.5000000001, -0.25])
    assert list(s) == [0, F(1, 2), F(-1, 4)]


def test_minimum_targets_make_a_differentiable_minimum_on_the_stratum():
    from proofcheck.optimize.strata import minimum_targets
    net, X, _, theta = _cancel(0)
    X = X + [[2, 1], [1, -1], [3, 1]]
    Y = minimum_targets(net, X, theta, rng=np.random.default_rng(3), against_lambda=True)
    c = certify_stratum(net, X, Y, theta)
    assert c.kind == "local_min" and c.differentiable and c.value > 0
    assert {p.certificate for p in c.pieces} == {"path_model"}
    # against_lambda: the residual is not orthogonal to the Lambda-convention Jacobian
    assert any(v != 0 for v in c.lambda_gradient)


def test_piecewise_finder_certifies_the_start_on_its_stratum():
    from proofcheck.optimize.piecewise import find_points
    net, X, Y, theta = _cancel(0)
    pts = find_points(net, np.array(X, float), np.array(Y, float), rng=np.random.default_rng(0),
                      starts=0, digits=30, initial_points=[np.array(theta, float)])
    first = pts[0]
    assert first.kind == "local_min" and first.level == "exact" and first.branch == "stratum"
    assert first.stratum.differentiable and not first.stratum.outputs_all_differentiable


def test_zero_predictor_critical_point_is_critical():
    from hypothesis import find
    from proofcheck.models import Landscape
    from proofcheck.problems import (resnet_instances, resnet_problem,
                                     zero_predictor_critical_point)
    inst = find(resnet_instances(losses=("squared", "logistic"), branches=("full_rank",)),
                lambda i: zero_predictor_critical_point(i) is not None)
    start = zero_predictor_critical_point(inst)
    land = Landscape(resnet_problem(inst))
    assert np.linalg.norm(land.grad(start)) < 1e-10
