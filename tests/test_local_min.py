"""Tests for proofcheck.optimize.local_min: certified second-order points in both rank branches.

Assertions are on computed certificates (gradient norms, Hessian eigenvalues, values, ranks),
compared with independently known facts: the planted optimum, an exact saddle, an unattained
infimum.  Thresholds come from the certificate itself (tau_grad, tau_hess, see the module
docstring) or from float64 rounding bounds.
"""

import math
import time

import mpmath
import numpy as np
import pytest

from proofcheck.models import Landscape, ResNetPoint, ResNetProblem, objective
from proofcheck.optimize.local_min import (
    CertifiedPoint,
    certify,
    find_local_minima,
    planted_problem,
)

losses = pytest.importorskip("proofcheck.losses")
DIGITS = 40


def _value_gap_tol(cp: CertifiedPoint):
    # |L(p) - L(p*)| <= ||g|| delta + ||H|| delta^2 / 2 at distance delta from the critical
    # point p*; a certified point has ||g|| <= tau_grad and delta ~ tau_grad / curvature, so
    # values agree to the certificate's resolution tau_grad (curvature scale >= 1 in tau_grad)
    return cp.tau_grad * max(1.0, abs(cp.value))


def _check_certificate_consistency(cp: CertifiedPoint):
    assert cp.digits == DIGITS
    if cp.kind == "local_min":
        assert cp.grad_norm <= cp.tau_grad and cp.min_hess_eig >= -cp.tau_hess
    if cp.kind == "saddle":
        assert cp.grad_norm <= cp.tau_grad and cp.min_hess_eig < -cp.tau_hess
    assert (cp.branch == "full_rank") == (cp.rank_W >= cp.point.W.shape[0])


@pytest.mark.parametrize("rank_W,branch", [(2, "full_rank"), (1, "rank_deficient")])
def test_planted_squared_loss_minima_are_certified_in_both_branches(rank_W, branch):
    rng = np.random.default_rng(10 + rank_W)
    pb, w0 = planted_problem(3, 2, 3, 10, rank_W, losses.SquaredLoss(), rng, noise=0.3)
    land = Landscape(pb)
    L_star = land.value_mp(land.flatten(w0), DIGITS)
    perturbed = ResNetPoint(W=w0.W + 1e-2 * rng.normal(size=w0.W.shape),
                            V=w0.V + 1e-2 * rng.normal(size=w0.V.shape))
    t0 = time.perf_counter()
    found = find_local_minima(land, rng=rng, starts=2, branch=branch, digits=DIGITS,
                              initial_points=[perturbed])
    elapsed = time.perf_counter() - t0
    assert len(found) == 3
    for cp in found:
        _check_certificate_consistency(cp)
    minima = found.of("local_min", branch)
    assert minima, found.summary()
    for cp in minima:
        assert cp.rank_W == rank_W
        # the value matches the planted optimum to the certificate's resolution
        with mpmath.mp.workdps(DIGITS):
            assert abs(land.value_mp(cp.params_mp, DIGITS) - L_star) <= _value_gap_tol(cp)
        # R = [W, W V] has a unique minimiser (m >= d_x + d_z), so W itself is the planted W0
        assert np.max(np.abs(cp.point.W - w0.W)) <= 8 * np.finfo(float).eps * max(1, np.abs(w0.W).max())
    print(f"\n[{branch}] {elapsed:.2f}s; grad norms "
          + ", ".join(f"{c.grad_norm:.1e}" for c in found)
          + "; min eigs " + ", ".join(f"{c.min_hess_eig:.1e}" for c in found)
          + f"; tau_grad {minima[0].tau_grad:.1e}; singular values of W {minima[0].singular_values_W}")


def test_float64_planted_data_are_exact():
    # the exactness that makes rank(W0) < d_y survive at 40+ digits
    rng = np.random.default_rng(3)
    pb, w0 = planted_problem(3, 2, 2, 9, 1, losses.SquaredLoss(), rng, noise=0.5)
    from fractions import Fraction
    XZ = np.hstack([pb.X, pb.Z])
    resid = [[Fraction(pb.Y[i, k]) - sum(Fraction(pb.X[i, a]) * Fraction(w0.W[k, a]) for a in range(3))
              - sum(Fraction(pb.Z[i, b]) * Fraction(w0.V[a, b]) * Fraction(w0.W[k, a])
                    for a in range(3) for b in range(2)) for k in range(2)] for i in range(9)]
    for j in range(XZ.shape[1]):
        for k in range(2):
            assert sum(Fraction(XZ[i, j]) * resid[i][k] for i in range(9)) == 0
    L = objective(pb, w0)
    assert abs(L - 0.25) <= 0.25 * 2.0 ** -9 + 1e3 * np.finfo(float).eps  # noise^2 to 2^-9
    assert np.linalg.matrix_rank(w0.W) == 1


def test_random_data_rank_deficient_request_is_reported_honestly():
    # generic data: the minimiser R* = [W, W V] has W of full rank, so starts with rank(W) < d_y
    # drift to full rank; the finder must say so rather than relabel
    rng = np.random.default_rng(20)
    X, Z, Y = rng.normal(size=(9, 3)), rng.normal(size=(9, 3)), rng.normal(size=(9, 2))
    land = Landscape(ResNetProblem(X=X, Y=Y, loss=losses.SquaredLoss(), Z=Z))
    found = find_local_minima(land, rng=rng, starts=2, branch="rank_deficient", digits=DIGITS)
    for cp in found:
        _check_certificate_consistency(cp)
        if cp.branch != "rank_deficient":
            assert any("requested branch rank_deficient" in n for n in cp.notes)
    if not found.of("local_min", "rank_deficient"):
        assert any("no certified local minimum in branch rank_deficient" in n for n in found.notes)
    # whatever was found has the least-squares value of the linear predictor with basis [x, z]
    # (normal equations at DIGITS digits: kappa(A^T A) ~ 1e2 here costs a few of 40 digits)
    with mpmath.mp.workdps(DIGITS):
        A = mpmath.matrix(np.hstack([X, Z]).tolist())
        L_lin = 0
        for k in range(2):
            y = mpmath.matrix(Y[:, k].tolist())
            e = y - A * mpmath.lu_solve(A.T * A, A.T * y)
            L_lin += mpmath.fsum(e[i] ** 2 for i in range(9)) / 9
        for cp in found.of("local_min"):
            assert abs(land.value_mp(cp.params_mp, DIGITS) - L_lin) <= _value_gap_tol(cp)


def _exact_saddle_problem():
    # integer data with X^T Y = 0 exactly and E[z D] != 0 at W = V = 0 (D = -2 y / m):
    # grad = 0, the V-block of the Hessian is 0 and the W-V block is E[zD]^T != 0, so the
    # Hessian [[A, C], [C^T, 0]] with C != 0 has a negative eigenvalue: a strict saddle
    X = np.array([[1, 0], [0, 1], [1, 0], [0, 1], [1, 1], [2, -1]], dtype=float)
    Y = np.array([[1, 0], [0, 1], [-1, 0], [0, -1], [0, 0], [0, 0]], dtype=float)
    Z = np.array([[1, 0], [0, 1], [0, 0], [0, 0], [1, 2], [3, 1]], dtype=float)
    assert not np.any(X.T @ Y)
    return ResNetProblem(X=X, Y=Y, loss=losses.SquaredLoss(), Z=Z)


def test_known_saddle_is_classified_saddle():
    pb = _exact_saddle_problem()
    land = Landscape(pb)
    zero = ResNetPoint(W=np.zeros((2, 2)), V=np.zeros((2, 2)))
    cp = certify(land, zero, digits=DIGITS, refine=False)
    _check_certificate_consistency(cp)
    assert cp.kind == "saddle"
    assert cp.grad_norm <= cp.tau_grad
    # independent: smallest eigenvalue of the float64 Hessian (Weyl: within ||E||_2 of exact)
    H = land.hess(land.flatten(zero))
    lam = np.linalg.eigvalsh(H)[0]
    assert abs(lam - cp.min_hess_eig) <= 64 * np.finfo(float).eps * np.abs(H).sum()
    assert cp.min_hess_eig < -cp.tau_hess
    # the finder, started there, keeps the saddle's label; random starts go lower
    found = find_local_minima(land, rng=np.random.default_rng(0), starts=2, digits=DIGITS,
                              initial_points=[zero])
    assert found[0].kind == "saddle"
    lows = found.of("local_min")
    assert lows and all(m.value < found[0].value for m in lows)


def test_logistic_on_separable_data_is_unresolved_infimum_not_attained():
    rng = np.random.default_rng(2)
    X, Z = rng.normal(size=(8, 2)), rng.normal(size=(8, 2))
    Y = np.sign(X @ np.array([1.0, -0.5]))[:, None]
    land = Landscape(ResNetProblem(X=X, Y=Y, loss=losses.LogisticLoss(), Z=Z))
    found = find_local_minima(land, rng=rng, starts=2, digits=DIGITS)
    assert found
    for cp in found:
        assert cp.kind == "unresolved"
        assert cp.notes[0].startswith("unresolved: infimum not attained"), cp.notes
        # logistic loss is > 0 everywhere and these runs drove it towards 0
        assert 0 < cp.value < math.log(2)


def test_logistic_with_attained_minimum_is_certified_rank_deficient():
    # each sample repeated with the opposite label: l(t) + l(-t) >= 2 log 2 with equality iff
    # t = 0, so L >= log 2 with equality iff h = 0 on the data, i.e. the minimiser is W = 0
    # (rank 0 < d_y = 1): attained, and in the rank-deficient branch
    rng = np.random.default_rng(3)
    X, Z = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    y = rng.choice([-1.0, 1.0], size=(5, 1))
    pb = ResNetProblem(X=np.vstack([X, X]), Y=np.vstack([y, -y]), loss=losses.LogisticLoss(),
                       Z=np.vstack([Z, Z]))
    land = Landscape(pb)
    found = find_local_minima(land, rng=rng, starts=2, digits=DIGITS)
    minima = found.of("local_min", "rank_deficient")
    assert minima, found.summary()
    with mpmath.mp.workdps(DIGITS):
        log2 = mpmath.log(2)
        for cp in minima:
            assert cp.rank_W == 0
            assert abs(land.value_mp(cp.params_mp, DIGITS) - log2) <= _value_gap_tol(cp)


def test_argument_validation():
    pb = _exact_saddle_problem()
    land = Landscape(pb)
    with pytest.raises(TypeError, match="Generator"):
        find_local_minima(land, rng=0)
    with pytest.raises(ValueError, match="branch"):
        find_local_minima(land, rng=np.random.default_rng(0), branch="low_rank")
    with pytest.raises(ValueError, match="digits"):
        find_local_minima(land, rng=np.random.default_rng(0), digits=10)
    with pytest.raises(TypeError, match="Landscape"):
        find_local_minima(pb, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="initial points"):
        find_local_minima(land, rng=np.random.default_rng(0), initial_points=[np.zeros(3)])
    with pytest.raises(ValueError, match="rank_W"):
        planted_problem(3, 2, 3, 10, 3, losses.SquaredLoss(), np.random.default_rng(0))
    with pytest.raises(ValueError, match="full column rank"):
        planted_problem(3, 2, 3, 5, 1, losses.SquaredLoss(), np.random.default_rng(0))
    with pytest.raises(ValueError, match="noise"):
        planted_problem(3, 2, 3, 6, 1, losses.SquaredLoss(), np.random.default_rng(0), noise=0.1)
