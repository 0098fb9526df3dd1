"""proofcheck.induced: gradient basis / perturbable basis models, the induced infimum,
V[theta, eps]; and the KHK2019LM constructions built on them."""

import numpy as np
import pytest
import sympy as sp

from proofcheck.networks import Network
from proofcheck.induced import (at_point, in_V, induced_infimum, induced_objective,
                                left_null_perturbations, linear_predictor_value,
                                null_product_perturbations, perturbable_basis, perturbation_set,
                                pointwise_infimum, range_residual, rescalings, stationarity_sums)
from proofcheck.losses import SoftmaxCrossEntropy, SquaredLoss, TiltedDoubleWell
from proofcheck.catalogue.khk2019lm._constructions import (assumption2_defect, assumption2_residual,
                                               footnote1_network, last_layer_g, output_weights_g,
                                               partial_linear_structure, relu_omega,
                                               separation_delta)

rng = np.random.default_rng(0)


@pytest.mark.parametrize("act", ["identity", "tanh", "relu"])
@pytest.mark.parametrize("skip", [None, (1, 2), (0, 2)])
def test_jacobian_matches_central_differences(act, skip):
    net = Network((3, 4, 2, 2), act, skip)
    X, th = rng.normal(size=(5, 3)), rng.normal(size=net.n_params)
    h = 1e-6
    fd = np.stack([(net.outputs(X, th + h * e) - net.outputs(X, th - h * e)) / (2 * h)
                   for e in np.eye(net.n_params)], axis=2)
    assert np.abs(net.jacobian(X, th) - fd).max() < 1e-7


def test_assumption2_with_output_weights_and_its_failure_with_an_offset():
    net = Network((3, 4, 2, 2), "tanh", (1, 2))
    X, th = rng.normal(size=(5, 3)), rng.normal(size=net.n_params)
    dev, tol = assumption2_defect(net, X, th, output_weights_g(net, th))
    assert dev <= tol
    dev, tol = assumption2_defect(net, X, th, last_layer_g(net, th))   # Example 3 as printed
    assert dev > 1e3 * tol
    off = Network((3, 4, 2), "tanh", offset=(1.0, -2.0))
    th = rng.normal(size=off.n_params)
    dev, tol = assumption2_defect(off, X, th, output_weights_g(off, th))
    assert abs(dev - 2.0) < 1e-12


def test_symbolic_assumption2_checker():
    w, v, x = sp.symbols("w v x")
    assert assumption2_residual(sp.Matrix([v * w * x]), [w, v], [w / 2, v / 2]) == sp.zeros(1, 1)
    assert assumption2_residual(sp.Matrix([v * w * x]), [w, v], [w, v]) != sp.zeros(1, 1)


def test_induced_infimum_squared_is_weighted_least_squares():
    J, Y = rng.normal(size=(6, 2, 4)), rng.normal(size=(6, 2))
    w = rng.uniform(0.5, 2, 6)
    fit = induced_infimum(J, Y, SquaredLoss(), w)
    A = (np.sqrt(w)[:, None, None] * J).reshape(12, 4)
    b = (np.sqrt(w)[:, None] * Y).reshape(12)
    r = b - A @ np.linalg.lstsq(A, b, rcond=None)[0]
    assert fit.lower_bound <= r @ r <= fit.upper_bound
    assert fit.width < 1e-12
    assert abs(induced_objective(J, Y, SquaredLoss(), fit.alpha, w) - fit.value) < 1e-12


def test_induced_infimum_cross_entropy_attained_and_not_attained():
    J, Y = rng.normal(size=(5, 3, 4)), rng.dirichlet(np.ones(3), size=5)
    fit = induced_infimum(J, Y, SoftmaxCrossEntropy())
    assert fit.attained is True and fit.width < 1e-9
    # one-hot targets and a basis that can push every true logit up: separable
    Yh = np.eye(3)[[0, 1, 2, 0, 1]]
    Jsep = np.zeros((5, 3, 1))
    Jsep[np.arange(5), Yh.argmax(1), 0] = 1.0
    fit = induced_infimum(Jsep, Yh, SoftmaxCrossEntropy())
    assert fit.attained is False and fit.direction is not None
    # zero basis: the only output is 0
    fit = induced_infimum(np.zeros((5, 3, 2)), Y, SoftmaxCrossEntropy())
    assert abs(fit.value - np.mean(np.full(5, np.log(3.0)))) < 1e-12


def test_nonconvex_loss_gives_an_upper_bound_only():
    J, Y = rng.normal(size=(4, 1, 3)), rng.normal(size=(4, 1))
    fit = induced_infimum(J, Y, TiltedDoubleWell(0.5))
    assert fit.lower_bound == -np.inf and np.isfinite(fit.upper_bound)


def test_linear_predictor_value_matches_lstsq():
    X, Y = rng.normal(size=(7, 3)), rng.normal(size=(7, 2))
    fit = linear_predictor_value(X, Y, SquaredLoss())
    R = np.linalg.lstsq(X, Y, rcond=None)[0]
    assert abs(fit.value - np.mean(np.sum((X @ R - Y) ** 2, 1))) < 1e-12


def test_generated_directions_are_in_V():
    for act in ("identity", "relu"):
        net = Network((3, 4, 2), act)
        X, th = rng.normal(size=(2, 3)), rng.normal(size=net.n_params)
        for v in (left_null_perturbations(net, X, th) + rescalings(net, th, 0.1)
                  + null_product_perturbations(net, th)):
            mem = in_V(net, X, th, 0.1, v)
            assert mem.member and mem.norm <= 1 + 1e-15
    net = Network((3, 4, 2), "identity")
    assert len(left_null_perturbations(net, X, th)) > 0          # m = 2 < d_x = 3
    assert len(null_product_perturbations(net, th)) > 0          # d_1 = 4 > d_y = 2
    # a random direction is not in V
    assert not in_V(net, X, th, 0.1, rng.normal(size=net.n_params) / 10).member


def test_perturbable_basis_centered_has_the_same_span():
    net = Network((2, 2, 2, 2), "identity")          # W1 = W2 = 0: J(theta) = 0
    X, th = rng.normal(size=(4, 2)), np.zeros(net.n_params)
    th[-4:] = rng.normal(size=4)
    S = perturbation_set(net, X, th, 2.0 ** -4, limit=6)
    raw = perturbable_basis(net, X, th, 2.0 ** -4, S)
    cen, noise = perturbable_basis(net, X, th, 2.0 ** -4, S, centered=True)
    r1, t1 = range_residual(cen, np.moveaxis(raw, 2, 0))
    r2, t2 = range_residual(raw, np.moveaxis(cen, 2, 0))
    assert r1 <= t1 and r2 <= 1e-8
    # at theta with zero hidden layers the perturbations open directions the plain basis lacks
    J0 = net.jacobian(X, th)
    assert np.linalg.matrix_rank(raw.reshape(-1, raw.shape[2])) > \
        np.linalg.matrix_rank(J0.reshape(-1, J0.shape[2]))


def test_stationarity_sums_are_the_gradient():
    net = Network((2, 3, 2), "tanh")
    X, Y, th = rng.normal(size=(4, 2)), rng.normal(size=(4, 2)), rng.normal(size=9 + 3)
    th = rng.normal(size=net.n_params)
    q = at_point(net, X, Y, SquaredLoss(), None, th)
    h = 1e-6
    L = lambda t: float(np.mean(np.sum((net.outputs(X, t) - Y) ** 2, 1)))
    fd = np.array([(L(th + h * e) - L(th - h * e)) / (2 * h) for e in np.eye(net.n_params)])
    assert np.abs(stationarity_sums(q) - fd).max() < 1e-7


def test_relu_omega_witness():
    X = np.array([[1.0, 0.0]])
    assert relu_omega(X, np.array([[0.0, 1.0]]), np.array([[0.0]])) == (False, True)
    assert relu_omega(X, np.array([[0.0, 1.0]]), np.array([[2.0]])) == (True, True)
    assert relu_omega(X, np.array([[1.0, 1.0]]), np.array([[2.0]])) == (False, False)


def test_footnote1_positive_diagonal_has_rank_m_and_negative_does_not():
    Xr = rng.normal(size=(3, 2))
    Xr /= np.linalg.norm(Xr, axis=1, keepdims=True)
    eps = separation_delta(Xr) / 2
    _, _, Phi = footnote1_network(Xr, eps, [[1.0, 2.0, 0.5]])
    assert np.linalg.matrix_rank(Phi) == 3
    _, _, Phi = footnote1_network(Xr, eps, [[1.0, -2.0, 0.5]])
    assert np.linalg.matrix_rank(Phi) == 2


def test_pointwise_infimum_and_partial_linear_structure():
    Y = np.array([[0.5, 0.5], [0.25, 0.75]])
    assert abs(pointwise_infimum(Y, SoftmaxCrossEntropy()) -
               np.mean([np.log(2), -(0.25 * np.log(0.25) + 0.75 * np.log(0.75))])) < 1e-15
    net = Network((2, 3, 2), "identity")
    assert partial_linear_structure(net, rng.normal(size=(3, 2)), rng.normal(size=12), 2, 0)
    narrow = Network((2, 1, 2), "identity")
    assert partial_linear_structure(narrow, rng.normal(size=(3, 2)), rng.normal(size=4),
                                    2, 0) is None


def test_bad_input():
    with pytest.raises(ValueError, match="activation"):
        Network((2, 2), "sigmoid")
    with pytest.raises(ValueError, match="skip"):
        Network((2, 3, 1), skip=(5,))
    net = Network((2, 2, 1))
    with pytest.raises(ValueError, match="theta"):
        net.outputs(np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="X must"):
        net.outputs(np.zeros((3, 5)), np.zeros(net.n_params))
    with pytest.raises(ValueError, match="NaN"):
        induced_infimum(np.full((2, 1, 2), np.nan), np.zeros((2, 1)), SquaredLoss())
    with pytest.raises(ValueError, match="weights"):
        induced_infimum(np.zeros((2, 1, 2)), np.zeros((2, 1)), SquaredLoss(), [1.0, -1.0])
    with pytest.raises(ValueError, match="eps"):
        in_V(net, np.zeros((3, 2)), np.zeros(net.n_params), -1.0, np.zeros(net.n_params))
    with pytest.raises(TypeError):
        induced_infimum(np.zeros((2, 1, 2)), np.zeros((2, 1)), "squared")
