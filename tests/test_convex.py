"""Tests for proofcheck.optimize.convex.best_linear_predictor.

Every check compares the solver with an independent computation: the projection formula of
KB2019 Theorem 2 (proofcheck.linalg), scipy.optimize.minimize on the same objective, a
high-precision mpmath re-solve, or a closed form.  The key property of a lower bound is that
no R found by anyone does better; the key property of an unattained infimum is that f(R + tD)
approaches it.
"""
from __future__ import annotations

import mpmath
import numpy as np
import pytest
from scipy.optimize import minimize

from proofcheck.linalg import null_project, project
from proofcheck.losses import (
    UNIT_ROUNDOFF,
    Loss,
    LogisticLoss,
    SmoothedHinge,
    SoftmaxCrossEntropy,
    SquaredLoss,
    TiltedDoubleWell,
)
from proofcheck.optimize.convex import LinearFit, best_linear_predictor, recession_direction

u = UNIT_ROUNDOFF


def objective(Phi, Y, loss, R, w=None):
    w = np.full(len(Phi), 1 / len(Phi)) if w is None else w
    return float(w @ loss.value(Phi @ np.asarray(R, dtype=float).T, Y))


def scipy_min(Phi, Y, loss, rng, starts=3):
    """Independent reference: best of a few BFGS runs on the same objective."""
    d, k = Y.shape[1], Phi.shape[1]
    f = lambda r: objective(Phi, Y, loss, r.reshape(d, k))
    return min(minimize(f, 0.3 * rng.standard_normal(d * k), method="BFGS",
                        options={"gtol": 1e-12, "maxiter": 5000}).fun for _ in range(starts))


def check_bracket(fit: LinearFit):
    assert fit.lower_bound <= fit.value <= fit.upper_bound


# ------------------------------------------------------------------ squared loss
def test_squared_matches_theorem2_projection_formula():
    """L*_{x} = (1/m)||P_N[X] Y||^2 and L*_{x} - L*_{x,z} = (1/m)||P[P_N[X] Z] Y||^2."""
    rng = np.random.default_rng(0)
    m, dx, dz, dy = 30, 4, 3, 2
    X, Z, Y = rng.standard_normal((m, dx)), rng.standard_normal((m, dz)), rng.standard_normal((m, dy))
    fx = best_linear_predictor(X, Y, SquaredLoss())
    fxz = best_linear_predictor(np.hstack([X, Z]), Y, SquaredLoss())
    formula_x = np.sum(null_project(X, Y) ** 2) / m
    gain = np.sum(project(null_project(X, Z), Y) ** 2) / m
    # the formula's own rounding: (m + dx) u ||Y||^2 / m per projection (backward stable SVD)
    e = 4 * (m + dx + dz) * u * np.sum(Y**2) / m
    assert fx.lower_bound - e <= formula_x <= fx.upper_bound + e
    assert abs((fx.value - fxz.value) - gain) <= fx.gap + fxz.gap + 2 * e
    assert fx.attained is True and fx.iterations == 0
    # optimality: the normal equations hold at R (gradient at rounding level)
    assert fx.grad_norm <= 8 * (m + dx) * u * np.linalg.norm(X) * np.linalg.norm(Y) / m


def test_squared_rank_deficient_and_weighted():
    rng = np.random.default_rng(1)
    m = 12
    X = rng.standard_normal((m, 2))
    Phi = np.hstack([X, X[:, :1] + X[:, 1:]])  # rank 2 in 3 columns
    Y = rng.standard_normal((m, 1))
    w = rng.random(m)
    w /= w.sum()
    fit = best_linear_predictor(Phi, Y, SquaredLoss(), weights=w)
    assert fit.details["rank"] == 2
    sw = np.sqrt(w)[:, None]
    ref = np.sum(null_project(sw * X, sw * Y) ** 2)
    e = 8 * (m + 3) * u * float(w @ Y[:, 0] ** 2)
    assert fit.lower_bound - e <= ref <= fit.upper_bound + e
    assert abs(objective(Phi, Y, SquaredLoss(), fit.R, w) - fit.value) <= fit.gap + e


def test_squared_high_precision():
    rng = np.random.default_rng(2)
    X, Y = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    fit = best_linear_predictor(X, Y, SquaredLoss(), digits=40)
    assert isinstance(fit.value, mpmath.mpf)
    # the exact value of the float data, from the normal equations in mpmath (full rank)
    with mpmath.workdps(60):
        A = mpmath.matrix(X.tolist())
        total = mpmath.mpf(0)
        for j in range(2):
            b = mpmath.matrix(Y[:, j].tolist())
            x = mpmath.lu_solve(A.T * A, A.T * b)
            r = A * x - b
            total += mpmath.fsum(t * t for t in r)
        exact = total / 10
    assert abs(fit.value - exact) < mpmath.mpf(10) ** -38
    assert fit.lower_bound <= exact <= fit.upper_bound


# ---------------------------------------------------------------------- logistic
def _binary_data(rng, m, k, noise):
    X = rng.standard_normal((m, k))
    y = np.sign(X[:, :1] + noise * rng.standard_normal((m, 1)))
    y[y == 0] = 1.0
    return X, y


def test_logistic_separable_infimum_zero_not_attained():
    rng = np.random.default_rng(3)
    X, y = _binary_data(rng, 25, 3, 0.0)
    fit = best_linear_predictor(X, y, LogisticLoss())
    assert fit.attained is False
    assert fit.value == 0.0 and fit.lower_bound == 0.0 and fit.upper_bound == 0.0
    D = fit.direction
    assert np.all(y[:, 0] * (X @ D[0]) > 0)  # a separating direction
    vals = [objective(X, y, LogisticLoss(), t * D) for t in (1, 10, 100)]
    assert vals[0] > vals[1] > vals[2] > 0  # decreasing to the infimum, never reaching it


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_logistic_non_separable_attained(seed):
    rng = np.random.default_rng(seed)
    X, y = _binary_data(rng, 40, 3, 1.0)
    fit = best_linear_predictor(X, y, LogisticLoss())
    assert fit.attained is True and fit.direction is None
    check_bracket(fit)
    assert fit.status.startswith("converged")
    assert fit.grad_norm <= fit.details["gerr"]  # first-order optimal to rounding
    # no independent optimiser goes below the certified lower bound
    ref = scipy_min(X, y, LogisticLoss(), rng)
    assert ref >= fit.lower_bound
    assert abs(objective(X, y, LogisticLoss(), fit.R) - fit.value) <= fit.details["ferr"]


def test_logistic_quasi_separable_not_attained():
    """A feature separating 8 samples and vanishing on the others: the infimum is the minimum
    over the other samples (weights kept), approached along R + tD."""
    rng = np.random.default_rng(7)
    m = 30
    X, y = _binary_data(rng, m, 3, 1.0)
    extra = np.where(np.arange(m) < 8, y[:, 0], 0.0)[:, None]
    Phi = np.hstack([X, extra])
    fit = best_linear_predictor(Phi, y, LogisticLoss())
    assert fit.attained is False
    check_bracket(fit)
    D, keep = recession_direction(Phi, y, LogisticLoss())
    assert np.array_equal(np.flatnonzero(~keep), np.arange(8))
    rest = best_linear_predictor(X[8:], y[8:], LogisticLoss(), weights=np.full(m - 8, 1 / m))
    assert rest.attained is True
    assert abs(rest.value - fit.value) <= rest.gap + fit.gap
    # f(R + tD) decreases towards the infimum from above
    vals = [objective(Phi, y, LogisticLoss(), fit.R + t * fit.direction) for t in (1, 10, 40)]
    assert vals[0] > vals[1] > vals[2] >= fit.lower_bound
    # the excess is the separated samples' loss: log(1 + e^-s) <= e^-s at margin s
    Rt = fit.R + 40 * fit.direction
    excess = np.sum(np.exp(-y[:8, 0] * (Phi[:8] @ Rt[0]))) / m
    assert vals[2] - fit.value <= excess + fit.gap + 8 * m * u


def test_logistic_high_precision_refinement():
    rng = np.random.default_rng(8)
    X, y = _binary_data(rng, 15, 2, 1.0)
    f64 = best_linear_predictor(X, y, LogisticLoss())
    fmp = best_linear_predictor(X, y, LogisticLoss(), digits=40)
    assert isinstance(fmp.value, mpmath.mpf)
    assert fmp.grad_norm < mpmath.mpf(10) ** -40
    assert fmp.upper_bound - fmp.lower_bound < mpmath.mpf(10) ** -35
    # the float64 bracket contains the 40-digit value
    assert f64.lower_bound <= fmp.value <= f64.upper_bound


# -------------------------------------------------------------- softmax cross-entropy
def test_softmax_separable_not_attained():
    rng = np.random.default_rng(9)
    X = rng.standard_normal((30, 3))
    Y = np.eye(3)[np.argmax(X, axis=1)]
    fit = best_linear_predictor(X, Y, SoftmaxCrossEntropy())
    assert fit.attained is False and fit.value == 0.0 and fit.lower_bound == 0.0
    # (small t: for large t the float64 value rounds to 0 once e^-margin < u)
    vals = [objective(X, Y, SoftmaxCrossEntropy(), t * fit.direction) for t in (1, 2, 4)]
    assert vals[0] > vals[1] > vals[2] > 0


def test_softmax_non_separable_attained():
    rng = np.random.default_rng(10)
    X = rng.standard_normal((40, 3))
    Y = np.eye(3)[np.argmax(X + rng.standard_normal((40, 3)), axis=1)]
    fit = best_linear_predictor(X, Y, SoftmaxCrossEntropy())
    assert fit.attained is True
    check_bracket(fit)
    assert fit.grad_norm <= fit.details["gerr"]
    assert scipy_min(X, Y, SoftmaxCrossEntropy(), rng) >= fit.lower_bound


def test_softmax_probability_targets_with_unused_class():
    """Targets never put mass on class 2; with a bias feature its logit can be pushed to -inf:
    not attained, infimum = the two-class problem."""
    rng = np.random.default_rng(11)
    m = 20
    X = np.hstack([rng.standard_normal((m, 2)), np.ones((m, 1))])
    P = rng.dirichlet([1.0, 1.0], size=m)
    Y = np.hstack([P, np.zeros((m, 1))])
    fit = best_linear_predictor(X, Y, SoftmaxCrossEntropy())
    assert fit.attained is False
    two = best_linear_predictor(X, P, SoftmaxCrossEntropy())
    assert two.attained is True
    assert abs(fit.value - two.value) <= fit.gap + two.gap
    # without the bias (and data in no half-space) the same targets give an attained minimum
    fit_nb = best_linear_predictor(rng.standard_normal((m, 2)), Y, SoftmaxCrossEntropy())
    assert fit_nb.attained is True


# ------------------------------------------------------------------ smoothed hinge
@pytest.mark.parametrize("p", [2, 3])
def test_smoothed_hinge_attained_and_certified(p):
    rng = np.random.default_rng(12 + p)
    X, y = _binary_data(rng, 40, 3, 1.0)
    loss = SmoothedHinge(p)
    fit = best_linear_predictor(X, y, loss)
    assert fit.attained is True
    check_bracket(fit)
    assert fit.grad_norm <= fit.details["gerr"]
    assert scipy_min(X, y, loss, rng) >= fit.lower_bound


def test_smoothed_hinge_separable_is_exactly_zero():
    rng = np.random.default_rng(15)
    X, y = _binary_data(rng, 20, 2, 0.0)
    for p in (1, 2, 3):
        fit = best_linear_predictor(X, y, SmoothedHinge(p))
        assert fit.attained is True and fit.value == 0.0
        assert np.all(y[:, 0] * (X @ fit.R[0]) >= 1.0)
        assert objective(X, y, SmoothedHinge(p), fit.R) == 0.0


def test_plain_hinge_lp_closed_form():
    # f(r) = (max(0, 1 - r) + max(0, 1 + r)) / 2 = 1 on [-1, 1]
    fit = best_linear_predictor(np.array([[1.0], [1.0]]), np.array([[1.0], [-1.0]]), SmoothedHinge(1))
    assert fit.lower_bound <= 1.0 <= fit.upper_bound and abs(fit.value - 1.0) <= 4 * u
    assert fit.grad_norm is None  # no gradient: p = 1 is not differentiable


# --------------------------------------------------------------- honesty elsewhere
def test_nonconvex_loss_has_no_lower_bound():
    rng = np.random.default_rng(16)
    X, Y = rng.standard_normal((15, 2)), rng.standard_normal((15, 2))
    fit = best_linear_predictor(X, Y, TiltedDoubleWell(0.3))
    assert fit.lower_bound is None and fit.attained is None
    assert "not convex" in fit.certificate
    assert objective(X, Y, TiltedDoubleWell(0.3), fit.R) <= fit.upper_bound


class ExpLoss(Loss):
    """A user's convex loss with no curvature bound and no margin_kind."""

    name, convex, differentiable, twice_differentiable = "exp", True, True, True
    output_dim, minimum_value = 1, 0.0

    def _value(self, H, Y):
        return np.exp(-Y * H)[..., 0]

    def _grad(self, H, Y):
        return -Y * np.exp(-Y * H)

    def _hess(self, H, Y):
        return np.exp(-Y * H)[..., None]


def test_divergence_is_reported_for_unknown_losses():
    rng = np.random.default_rng(17)
    X, y = _binary_data(rng, 20, 2, 0.0)
    fit = best_linear_predictor(X, y, ExpLoss(), max_iter=60)
    assert fit.attained is None
    assert "diverge" in fit.status
    assert fit.lower_bound == 0.0 and fit.value <= fit.upper_bound


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(Phi=np.zeros((3, 2)), Y=np.zeros((4, 1))), ValueError, "m = 3"),
    (dict(Phi=np.full((3, 2), np.nan), Y=np.ones((3, 1))), ValueError, "NaN"),
    (dict(Phi=np.ones((3, 2)), Y=np.ones((3, 1)), weights=[1, -1, 1]), ValueError, "non-negative"),
    (dict(Phi=np.ones((3, 2)), Y=np.ones((3, 1)), weights=[1, 1]), ValueError, "shape"),
    (dict(Phi=np.ones((3, 2)), Y=np.ones((3, 1)), digits=0), ValueError, "digits"),
    (dict(Phi=np.ones(3), Y=np.ones((3, 1))), ValueError, r"\(m, k\)"),
])
def test_bad_input(kwargs, exc, match):
    kwargs.setdefault("loss", SquaredLoss())
    with pytest.raises(exc, match=match):
        best_linear_predictor(**kwargs)


def test_bad_targets_and_losses():
    with pytest.raises(ValueError, match=r"\{-1, \+1\}"):
        best_linear_predictor(np.ones((2, 1)), np.array([[0.0], [1.0]]), LogisticLoss())
    with pytest.raises(TypeError):
        best_linear_predictor(np.ones((2, 1)), np.ones((2, 1)), "squared")

    class Kink(Loss):
        convex = True

        def _value(self, H, Y):
            return np.abs(H - Y).sum(-1)

    with pytest.raises(ValueError, match="not differentiable"):
        best_linear_predictor(np.ones((2, 1)), np.ones((2, 1)), Kink())
    with pytest.raises(ValueError, match="small problems"):
        best_linear_predictor(np.ones((500, 30)), np.ones((500, 1)), LogisticLoss(), digits=30)


def test_zero_weights_drop_samples():
    rng = np.random.default_rng(18)
    X, y = _binary_data(rng, 20, 2, 1.0)
    w = np.full(20, 1 / 10)
    w[10:] = 0.0
    a = best_linear_predictor(X, y, LogisticLoss(), weights=w)
    b = best_linear_predictor(X[:10], y[:10], LogisticLoss())
    assert abs(a.value - b.value) <= a.gap + b.gap


def test_nonconvex_loss_reaches_the_loss_minimum_with_square_features():
    """With an invertible square Phi every residual pattern is reachable, so inf_R is the
    loss's own minimum; the residual-minimiser start finds it even where Newton from R = 0
    stops in the upper well. Only an achieved value is claimed (no lower bound)."""
    from scipy.optimize import minimize_scalar
    loss = TiltedDoubleWell(0.5)
    rng = np.random.default_rng(3)
    Phi, Y = rng.normal(size=(4, 4)), rng.normal(size=(4, 1))
    fit = best_linear_predictor(Phi, Y, loss)
    r_min = minimize_scalar(lambda r: (r * r - 1) ** 2 + 0.5 * r, bounds=(-2, 0),
                            method="bounded").fun
    assert fit.lower_bound is None
    # the reference minimize_scalar (xatol 1e-5) is itself only ~1e-10 accurate in value;
    # the upper well is ~1.0 higher
    assert abs(float(fit.value) - r_min) < 1e-9


# ------------------------------------------------------------ one solver: per-sample maps
def _kron_maps(Phi, d):
    """J_i = I_d kron phi_i^T: the linear predictor as per-sample maps (row-major vec of R)."""
    return np.einsum("ab,ik->iabk", np.eye(d), Phi).reshape(len(Phi), d, d * Phi.shape[1])


@pytest.mark.parametrize("loss,d", [(SquaredLoss(), 2), (LogisticLoss(), 1),
                                    (SoftmaxCrossEntropy(), 3)])
def test_maps_infimum_agrees_with_best_linear_predictor(loss, d):
    """The induced-problem entry point and the linear-predictor entry point solve the same
    problem when J_i = I kron phi_i^T: their certified brackets overlap and both are ConvexFit."""
    from proofcheck.optimize.convex import ConvexFit, maps_infimum
    rng = np.random.default_rng(7)
    m, k = 12, 3
    Phi = rng.standard_normal((m, k))
    if isinstance(loss, SquaredLoss):
        Y = rng.standard_normal((m, d))
    elif isinstance(loss, LogisticLoss):
        Y = np.where(rng.standard_normal((m, 1)) > 0, 1.0, -1.0)
        Y[:2] = -Y[2:4]       # overlapping classes: not separable, minimiser exists
        Phi[:2] = Phi[2:4]
    else:
        Y = rng.dirichlet(np.ones(d), size=m)
    lin = best_linear_predictor(Phi, Y, loss)
    maps = maps_infimum(_kron_maps(Phi, d), Y, loss)
    assert isinstance(lin, ConvexFit) and isinstance(maps, ConvexFit)
    assert LinearFit is ConvexFit
    assert maps.attained is True and lin.attained is True
    assert maps.lower_bound <= lin.upper_bound and lin.lower_bound <= maps.upper_bound
    assert abs(float(maps.value) - float(lin.value)) < 1e-9
    assert maps.alpha is maps.R
