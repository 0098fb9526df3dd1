"""Tests for proofcheck.losses: values, derivatives, mpmath twins, validation, declarations."""
from __future__ import annotations

import dataclasses

import mpmath
import numpy as np
import pytest

from proofcheck.losses import (
    UNIT_ROUNDOFF,
    LogisticLoss,
    Loss,
    LossDeclarationError,
    SmoothedHinge,
    SoftmaxCrossEntropy,
    SquaredLoss,
    TiltedDoubleWell,
    check_declared_properties,
)

u = UNIT_ROUNDOFF
CONVEX = [SquaredLoss(), SoftmaxCrossEntropy(), LogisticLoss(), SmoothedHinge(1.5),
          SmoothedHinge(2), SmoothedHinge(3)]
ALL = CONVEX + [SmoothedHinge(1), TiltedDoubleWell(0.3)]


def _dy(loss):
    return loss.output_dim or 3


def _points(loss, rng, shape):
    Y = loss.sample_targets(rng, shape)
    return Y + rng.choice([0.1, 1.0, 5.0], size=shape[:-1] + (1,)) * rng.standard_normal(shape), Y


# ------------------------------------------------------------------------ shapes
@pytest.mark.parametrize("loss", ALL, ids=repr)
def test_batched_shapes(loss):
    rng = np.random.default_rng(0)
    d = _dy(loss)
    H, Y = _points(loss, rng, (2, 5, d))
    assert loss.value(H, Y).shape == (2, 5)
    assert loss.grad(H, Y).shape == (2, 5, d)
    assert loss.hess(H, Y).shape == (2, 5, d, d)
    # one sample without batch axes; equal to the batched computation
    assert np.shape(loss.value(H[1, 3], Y[1, 3])) == ()
    assert loss.value(H[1, 3], Y[1, 3]) == loss.value(H, Y)[1, 3]


# ------------------------------------------------------ float64 vs mpmath twins
@pytest.mark.parametrize("loss", ALL, ids=repr)
def test_float_matches_mpmath(loss):
    """The float64 and mpmath implementations agree to the float64 rounding level.

    Tolerance: the value rounding bound 16 d u (|l| + (1 + ||g||)(||h|| + ||y||)) used by the
    declared-property checker (the mp value is exact to 30 digits); the same with one more
    derivative for gradients and Hessians.
    """
    rng = np.random.default_rng(1)
    d = _dy(loss)
    H, Y = _points(loss, rng, (40, d))
    L, G, Hs = loss.value(H, Y), loss.grad(H, Y), loss.hess(H, Y)
    with mpmath.workdps(30):
        for i in range(len(H)):
            scale = 1 + np.linalg.norm(H[i]) + np.linalg.norm(Y[i])
            # p^(p-2)-type terms: allow one more factor of the scale for derivatives
            tol_v = 16 * d * u * (abs(L[i]) + (1 + np.linalg.norm(G[i])) * scale)
            tol_g = 16 * d * u * (np.linalg.norm(G[i]) + np.linalg.norm(Hs[i]) * scale + scale)
            tol_h = 16 * d * u * (np.linalg.norm(Hs[i]) * scale + scale) * 4
            vm = loss.value_mp(H[i], Y[i])
            gm = loss.grad_mp(H[i], Y[i])
            hm = loss.hess_mp(H[i], Y[i])
            assert isinstance(vm, mpmath.mpf)
            assert gm.shape == (d,) and hm.shape == (d, d)
            assert abs(float(vm) - L[i]) <= tol_v
            assert np.max(np.abs(gm.astype(float) - G[i])) <= tol_g
            # (the hinge Hessian may differ only exactly at the kink, where both return 0)
            assert np.max(np.abs(hm.astype(float) - Hs[i])) <= tol_h


def test_mp_accepts_object_arrays_of_mpf():
    with mpmath.workdps(50):
        h = np.array([mpmath.mpf(1) / 3, mpmath.mpf(2)], dtype=object)
        y = np.array([mpmath.mpf(0), mpmath.mpf(1)], dtype=object)
        v = SquaredLoss().value_mp(h, y)
        assert abs(v - (mpmath.mpf(1) / 9 + 1)) < mpmath.mpf(10) ** -49


# --------------------------------------------------------------- closed forms
def test_squared_has_no_half():
    assert SquaredLoss().value([3.0, 4.0], [0.0, 0.0]) == 25.0  # KB2019 B1: ||h - y||^2
    np.testing.assert_array_equal(SquaredLoss().hess([0.0, 0.0], [1.0, 1.0]), 2 * np.eye(2))


def test_softmax_ce_stable_for_huge_logits():
    loss = SoftmaxCrossEntropy()
    h = np.array([1000.0, 0.0, -1000.0])
    y = np.array([0.0, 1.0, 0.0])
    assert loss.value(h, y) == 1000.0  # -log softmax_2 = 1000 + log(1 + e^-1000 + e^-2000)
    g = loss.grad(h, y)
    assert np.all(np.isfinite(g)) and g[1] == -1.0
    # invariant under adding a constant to all logits
    assert loss.value(h + 7.0, y) == loss.value(h, y)


def test_softmax_ce_hessian_no_cancellation():
    """diag entries p_k(1 - p_k) keep their relative accuracy when p_k ~ 1.

    Formed naively, 1 - p_0 = 2 e^-40 / (1 + 2 e^-40) would carry relative error u e^40.  Here
    the bound is 8 u (1 + 2 ||h||_inf): exp(x) has condition number |x| <= 2 ||h||_inf.
    """
    loss = SoftmaxCrossEntropy()
    h = np.array([40.0, 0.0, 0.0])
    Hs = loss.hess(h, np.array([1.0, 0.0, 0.0]))
    with mpmath.workdps(40):
        exact = loss.hess_mp(h, [1, 0, 0])
    rel = abs(Hs[0, 0] - float(exact[0, 0])) / float(exact[0, 0])
    assert rel <= 8 * u * (1 + 2 * 40.0)


def test_logistic_stable_and_exact_at_zero():
    loss = LogisticLoss()
    assert loss.value([-800.0], [1.0]) == 800.0  # log(1 + e^800) = 800 + log1p(e^-800)
    assert loss.value([800.0], [1.0]) == 0.0
    assert loss.value([0.0], [-1.0]) == np.log(2.0)
    assert loss.grad([0.0], [1.0])[0] == -0.5 and loss.hess([0.0], [1.0])[0, 0] == 0.25


@pytest.mark.parametrize("p, conv, diff, twice", [
    (1, True, False, False), (1.5, True, True, False), (2, True, True, False),
    (3, True, True, True), (0.5, False, False, False)])
def test_smoothed_hinge_flags(p, conv, diff, twice):
    loss = SmoothedHinge(p)
    assert (loss.convex, loss.differentiable, loss.twice_differentiable) == (conv, diff, twice)


def test_hinge_p2_one_sided_hessian_at_kink():
    loss = SmoothedHinge(2)
    # at y h = 1 exactly the flat-side value 0 is returned; just inside, 2
    assert loss.hess([1.0], [1.0])[0, 0] == 0.0
    assert loss.hess([1.0 - 1e-12], [1.0])[0, 0] == 2.0
    assert loss.grad([1.0], [1.0])[0] == 0.0
    assert SmoothedHinge(1).grad([1.0], [1.0])[0] == 0.0
    assert SmoothedHinge(1).grad([0.0], [-1.0])[0] == 1.0


def test_tilted_double_well_is_not_convex_at_its_centre():
    loss = TiltedDoubleWell(0.5)
    np.testing.assert_array_equal(loss.hess([1.0, 2.0], [1.0, 2.0]), -4 * np.eye(2))
    assert loss.value([1.0, 2.0], [1.0, 2.0]) == 1.0


# --------------------------------------------------------------- validation
@pytest.mark.parametrize("H, Y, loss, match", [
    (np.zeros((2, 3)), np.zeros((2, 2)), SquaredLoss(), "shape"),
    (np.array([[np.nan]]), np.array([[1.0]]), LogisticLoss(), "NaN"),
    (np.zeros((2, 1)), np.array([[1.0], [0.5]]), LogisticLoss(), r"\{-1, \+1\}"),
    (np.zeros((2, 2)), np.ones((2, 2)), LogisticLoss(), "d_y = 1"),
    (np.zeros((1, 3)), np.array([[0.5, 0.6, 0.0]]), SoftmaxCrossEntropy(), "sum to 1"),
    (np.zeros((1, 2)), np.array([[1.5, -0.5]]), SoftmaxCrossEntropy(), "negative"),
    (np.zeros((1, 1)), np.array([[0.0]]), SmoothedHinge(2), r"\{-1, \+1\}"),
    (5.0, 5.0, SquaredLoss(), "scalar"),
])
def test_bad_input_is_rejected(H, Y, loss, match):
    with pytest.raises(ValueError, match=match):
        loss.value(H, Y)


def test_bad_parameters():
    with pytest.raises(ValueError):
        SmoothedHinge(-1)
    with pytest.raises(TypeError):
        SmoothedHinge("2")
    with pytest.raises(TypeError):
        TiltedDoubleWell(float("nan"))
    with pytest.raises(TypeError):
        SquaredLoss().value([["a"]], [[1.0]])


def test_immutable_equal_hashable_readable():
    assert SmoothedHinge(2) == SmoothedHinge(2.0) and hash(SmoothedHinge(2)) == hash(SmoothedHinge(2.0))
    assert SmoothedHinge(2) != SmoothedHinge(3)
    assert repr(TiltedDoubleWell(0.25)) == "TiltedDoubleWell(a=0.25)"
    with pytest.raises(dataclasses.FrozenInstanceError):
        SmoothedHinge(2).p = 3


# ------------------------------------------------------- curvature certificates
@pytest.mark.parametrize("loss", CONVEX, ids=repr)
def test_curvature_bound_holds_on_the_ball(loss):
    """hess l(h') >= c Q for random h' in the ball: the promise the solver's certificate uses.

    Tolerance: (8 + 4 d) u ||hess||_F, the eigenvalue rounding bound of the property checker.
    """
    rng = np.random.default_rng(2)
    d = _dy(loss)
    H, Y = _points(loss, rng, (60, d))
    Q = loss.curved_projector(H, Y)
    for radius in (0.0, 0.1, 1.0):
        c = loss.curvature_bound(H, Y, np.full(len(H), radius))
        assert np.all(c >= 0)
        for _ in range(5):
            step = rng.standard_normal(H.shape)
            step *= radius * rng.random((len(H), 1)) / np.linalg.norm(step, axis=1, keepdims=True)
            Hs = loss.hess(H + step, Y)
            M = Q @ Hs @ Q - c[:, None, None] * Q
            lam = np.linalg.eigvalsh(M)[:, 0]
            tol = (8 + 4 * d) * u * (np.linalg.norm(Hs, axis=(1, 2)) + c)
            assert np.all(lam >= -tol)


def test_restricted_cross_entropy_is_the_limit_of_pushing_logits_down():
    loss = SoftmaxCrossEntropy()
    mask = np.array([[True, True, False], [True, False, False]])
    rl = loss.restricted(mask)
    H = np.array([[0.3, -0.2, 5.0], [1.0, 2.0, 3.0]])
    Y = np.array([[0.4, 0.6, 0.0], [1.0, 0.0, 0.0]])
    pushed = H - 60.0 * ~mask  # excluded logits pushed down by 60: softmax mass e^-55 or less
    np.testing.assert_allclose(rl.value(H, Y), loss.value(pushed, Y), rtol=0, atol=1e-20 + 8 * u)
    assert rl.value(H, Y)[1] == 0.0  # one allowed class carrying all the mass
    with pytest.raises(ValueError, match="excluded class"):
        rl.value(H, np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]))


# ------------------------------------------------------- declared properties
@pytest.mark.parametrize("loss", ALL, ids=repr)
def test_declared_properties_hold_for_bundled_losses(loss):
    report = check_declared_properties(loss, np.random.default_rng(3), n=300)
    assert ("convex" in report["checked"]) == loss.convex
    assert ("differentiable" in report["checked"]) == loss.differentiable
    assert ("twice_differentiable" in report["checked"]) == loss.twice_differentiable
    for key in ("differentiable_worst_ratio", "twice_differentiable_worst_ratio"):
        if key in report:
            assert report[key] <= 1.0


class ConvexDeclaredDoubleWell(TiltedDoubleWell):
    """A user's non-convex loss mis-declared convex."""

    convex = True


def test_checker_catches_nonconvex_loss_declared_convex():
    with pytest.raises(LossDeclarationError) as info:
        check_declared_properties(ConvexDeclaredDoubleWell(0.3), np.random.default_rng(0))
    msg = str(info.value)
    assert "TiltedDoubleWell(a=0.3)" in msg and "declared convex" in msg and "witness h =" in msg


class ConcaveNoHessian(Loss):
    """Declared convex but concave; no derivatives declared, so only midpoints can catch it."""

    convex = True

    def _value(self, H, Y):
        return -np.sum((H - Y) ** 2, axis=-1)


def test_checker_catches_convexity_by_midpoints():
    with pytest.raises(LossDeclarationError, match="midpoint convexity"):
        check_declared_properties(ConcaveNoHessian(), 0)


class WrongGradient(SquaredLoss):
    """Forgot the factor 2 of d/dh ||h - y||^2."""

    def _grad(self, H, Y):
        return H - Y


class WrongHessian(SquaredLoss):
    def _hess(self, H, Y):
        return 1.999 * super()._hess(H, Y) / 2 * 2


def test_checker_catches_wrong_derivatives():
    with pytest.raises(LossDeclarationError, match="differentiable"):
        check_declared_properties(WrongGradient(), 0)
    with pytest.raises(LossDeclarationError, match="twice_differentiable"):
        check_declared_properties(WrongHessian(), 0)


def test_checker_input_errors():
    with pytest.raises(TypeError):
        check_declared_properties("squared")
    with pytest.raises(ValueError):
        check_declared_properties(LogisticLoss(), 0, d_y=3)
    with pytest.raises(ValueError):
        check_declared_properties(SquaredLoss(), 0, n=0)
