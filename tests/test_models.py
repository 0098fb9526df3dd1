"""Tests for proofcheck.models: the ResNet of KB2019 eq. (1)-(4), Lemma 1, the landscape.

Tolerances (every one derived, none guessed):

* float64 vs an exact/high-precision reference: the standard bound for a computed sum of
  products, |fl(s) - s| <= gamma_k * sum|terms| with gamma_k = k u / (1 - k u), u = 2^-53
  (Higham, Accuracy and Stability, section 3.1).  ``sum|terms|`` is obtained by running the same
  (generic) formula on absolute values; k bounds the number of sequential roundings
  (dot-product lengths d_x + d_z + d_y, the sum over m samples, a few loss operations).
* central differences: (f(p + h u) - f(p - h u)) / 2h - f'(p) u = (h^2 / 6) phi'''(xi) plus the
  rounding of the two evaluations divided by 2h.  phi''' is computed at 30 digits with
  mpmath.diff on the high-precision landscape (doubled to cover xi in [-h, h], where the
  relative change of phi''' is O(h) ~ 1e-5 for these O(1) data).
* mpmath vs mpmath.diff at 30 digits: mpmath.diff raises its working precision so that the
  derivative of an analytic function is accurate to about the working precision; we allow 10
  of the 30 digits for cancellation, i.e. 1e-20 relative to the scale of the gradient.
"""

import math

import mpmath
import numpy as np
import pytest

from proofcheck import models as M
from proofcheck.models import (
    D_matrix,
    Landscape,
    ResNetPoint,
    ResNetProblem,
    TanhResidual,
    expected_xD,
    expected_zD,
    gradient,
    hessian_WV,
    induced_linear_predictor,
    objective,
    predict,
    predictor_jacobian,
    to_mp,
)

losses = pytest.importorskip("proofcheck.losses")
U = 2.0 ** -53


def _problem(loss, rng, m=6, d_x=3, d_y=2, d_z=2, residual=False, hidden=2):
    X = rng.normal(size=(m, d_x))
    Y = loss.sample_targets(rng, (m, d_y))
    if residual:
        return ResNetProblem(X=X, Y=Y, loss=loss, residual=TanhResidual(d_x, d_z, hidden))
    return ResNetProblem(X=X, Y=Y, loss=loss, Z=rng.normal(size=(m, d_z)))


def _point(problem, rng):
    theta = rng.normal(size=problem.n_theta) if problem.residual is not None else None
    return ResNetPoint(W=rng.normal(size=(problem.d_y, problem.d_x)),
                       V=rng.normal(size=(problem.d_x, problem.d_z)), theta=theta)


LOSSES = [
    ("squared", lambda: losses.SquaredLoss(), 2),
    ("softmax_ce", lambda: losses.SoftmaxCrossEntropy(), 3),
    ("logistic", lambda: losses.LogisticLoss(), 1),
    ("double_well", lambda: losses.TiltedDoubleWell(0.5), 2),
]


# ------------------------------------------------------------------ validation

def test_problem_validation_errors():
    sq = losses.SquaredLoss()
    X, Y, Z = np.ones((3, 2)), np.ones((3, 1)), np.ones((3, 2))
    with pytest.raises(ValueError, match="samples"):
        ResNetProblem(X=X, Y=np.ones((4, 1)), loss=sq, Z=Z)
    with pytest.raises(ValueError, match="NaN or inf"):
        ResNetProblem(X=np.array([[np.nan, 1.0]] * 3), Y=Y, loss=sq, Z=Z)
    with pytest.raises(ValueError, match="m = 0"):
        ResNetProblem(X=np.ones((0, 2)), Y=np.ones((0, 1)), loss=sq, Z=np.ones((0, 2)))
    with pytest.raises(ValueError, match="exactly one"):
        ResNetProblem(X=X, Y=Y, loss=sq)
    with pytest.raises(ValueError, match="exactly one"):
        ResNetProblem(X=X, Y=Y, loss=sq, Z=Z, residual=TanhResidual(2, 2, 1))
    with pytest.raises(ValueError, match="2-dimensional"):
        ResNetProblem(X=np.ones(3), Y=Y, loss=sq, Z=Z)
    with pytest.raises(ValueError, match="sum to 1"):
        ResNetProblem(X=X, Y=Y, loss=sq, Z=Z, weights=[0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="non-negative"):
        ResNetProblem(X=X, Y=Y, loss=sq, Z=Z, weights=[1.5, -0.5, 0.0])
    with pytest.raises(TypeError, match="loss"):
        ResNetProblem(X=X, Y=Y, loss="squared", Z=Z)
    with pytest.raises(ValueError, match="d_x"):
        ResNetProblem(X=X, Y=Y, loss=sq, residual=TanhResidual(3, 2, 1))
    pb = ResNetProblem(X=X, Y=Y, loss=sq, Z=Z)
    assert (pb.m, pb.d_x, pb.d_y, pb.d_z) == (3, 2, 1, 2)
    with pytest.raises(ValueError, match="W must have shape"):
        predict(pb, ResNetPoint(W=np.ones((2, 2)), V=np.ones((2, 2))))
    with pytest.raises(ValueError, match="theta must be None"):
        predict(pb, ResNetPoint(W=np.ones((1, 2)), V=np.ones((2, 2)), theta=np.ones(1)))
    with pytest.raises(ValueError, match="columns"):
        ResNetPoint(W=np.ones((1, 2)), V=np.ones((3, 2)))
    with pytest.raises(ValueError, match="trainable"):
        Landscape(pb, ("W", "V", "theta"))
    with pytest.raises(ValueError, match="trainable must be"):
        Landscape(pb, ("W",))
    pr = ResNetProblem(X=X, Y=Y, loss=sq, residual=TanhResidual(2, 2, 1))
    with pytest.raises(ValueError, match="fixed theta"):
        Landscape(pr, ("W", "V"))
    with pytest.raises(ValueError, match="digits"):
        Landscape(pb).value_mp(np.zeros(Landscape(pb).n_params), 5)


# ------------------------------------------------------------------ eq. (1) and Lemma 1

@pytest.mark.parametrize("residual", [False, True])
def test_predict_objective_and_R_match_samplewise_formulas(residual):
    rng = np.random.default_rng(1)
    pb = _problem(losses.SquaredLoss(), rng, residual=residual)
    pt = _point(pb, rng)
    Z = pb.features(pt.theta)
    H = predict(pb, pt)
    R = induced_linear_predictor(pt)
    for i in range(pb.m):
        h = pt.W @ (pb.X[i] + pt.V @ Z[i])
        # one d_x-term dot product after a d_z-term one: k = d_x + d_z + 2 roundings
        bound = (pb.d_x + pb.d_z + 2) * U * (np.abs(pt.W) @ (np.abs(pb.X[i]) + np.abs(pt.V) @ np.abs(Z[i])))
        assert np.all(np.abs(H[i] - h) <= 2 * bound)
        assert np.all(np.abs(R @ np.concatenate([pb.X[i], Z[i]]) - h) <= 2 * bound)
    direct = np.mean([np.sum((H[i] - pb.Y[i]) ** 2) for i in range(pb.m)])
    assert abs(objective(pb, pt) - direct) <= 4 * (pb.m + pb.d_y) * U * direct


def test_jacobian_is_lemma1_kron_with_column_major_vec():
    rng = np.random.default_rng(2)
    pb = _problem(losses.SquaredLoss(), rng)
    pt = _point(pb, rng)
    J = predictor_jacobian(pb, pt)
    nW = pb.d_y * pb.d_x
    Umat = pb.X + pb.Z @ pt.V.T   # rows x_i + V z_i, rounded as in the model
    for i in range(pb.m):
        u = Umat[i]
        assert np.array_equal(J[i, :, :nW], np.kron(u[None, :], np.eye(pb.d_y)))
        assert np.array_equal(J[i, :, nW:], np.kron(pb.Z[i][None, :], pt.W))
        # and h = (u^T kron I) vec(W) = W x + (z^T kron W) vec(V), column-major vec
        vecW, vecV = pt.W.reshape(-1, order="F"), pt.V.reshape(-1, order="F")
        h = predict(pb, pt)[i]
        scale = (pb.d_x + pb.d_z + 2) * U * np.abs(pt.W) @ (np.abs(pb.X[i]) + np.abs(pt.V) @ np.abs(pb.Z[i]))
        assert np.all(np.abs(J[i, :, :nW] @ vecW - h) <= 4 * scale)
        assert np.all(np.abs(pt.W @ pb.X[i] + J[i, :, nW:] @ vecV - h) <= 4 * scale)


@pytest.mark.parametrize("name,make,d_y", LOSSES)
def test_gradient_matrix_forms_and_lemma2_quantities(name, make, d_y):
    rng = np.random.default_rng(3)
    pb = _problem(make(), rng, d_y=d_y)
    pt = _point(pb, rng)
    G = gradient(pb, pt)
    D = D_matrix(pb, pt)
    w = pb.weights
    zD = sum(w[i] * np.outer(pb.Z[i], D[i]) for i in range(pb.m))
    xD = sum(w[i] * np.outer(pb.X[i], D[i]) for i in range(pb.m))
    uD = sum(w[i] * np.outer(pb.X[i] + pt.V @ pb.Z[i], D[i]) for i in range(pb.m))
    assert expected_zD(pb, pt).shape == (pb.d_z, pb.d_y)
    assert expected_xD(pb, pt).shape == (pb.d_x, pb.d_y)
    absU = np.abs(pb.X) + np.abs(pb.Z) @ np.abs(pt.V).T
    k = pb.m + pb.d_x + pb.d_z + pb.d_y
    bz = k * U * np.abs(pb.Z).T @ (w[:, None] * np.abs(D))
    bx = k * U * np.abs(pb.X).T @ (w[:, None] * np.abs(D))
    bu = k * U * absU.T @ (w[:, None] * np.abs(D))
    assert np.all(np.abs(expected_zD(pb, pt) - zD) <= 2 * bz)
    assert np.all(np.abs(expected_xD(pb, pt) - xD) <= 2 * bx)
    # dL/dW = E[(x + V z) D]^T and dL/dV = W^T E[z D]^T (the paper's vec forms, transposed)
    assert np.all(np.abs(G.W - uD.T) <= 2 * bu.T)
    assert np.all(np.abs(G.V - pt.W.T @ zD.T) <= 2 * (np.abs(pt.W).T @ bz.T + k * U * np.abs(pt.W).T @ np.abs(zD).T))


# ------------------------------------------------------------------ finite differences

def _roundoff_scale(land, p):
    """sum of |terms| of L, grad and Hessian at p (generic formulas run on absolute values)."""
    pb = land.problem
    W, V, theta = land.split(p)
    Z = pb.features(None if pb.residual is None else theta)
    Uabs = np.abs(pb.X) + np.abs(Z) @ np.abs(V).T
    Habs = Uabs @ np.abs(W).T
    H = (pb.X + Z @ V.T) @ W.T
    vals = np.abs(pb.loss.value(H, pb.Y))
    D = np.abs(pb.loss.grad(H, pb.Y))
    Hl = np.abs(pb.loss.hess(H, pb.Y))
    # error of h propagates into l and D through D and the loss Hessian
    Dabs = D + np.einsum("ikl,il->ik", Hl, Habs)
    Jz = np.abs(pb.residual.jacobian(pb.X, theta)) if land.n_theta else None
    Hz = np.abs(pb.residual.hessian(pb.X, theta)) if land.n_theta else None
    J = M._jacobian(Uabs, np.abs(Z), np.abs(W), np.abs(V), Jz)
    w = pb.weights
    val = w @ (vals + np.sum(D * Habs, axis=1))
    g = np.einsum("ik,ikn->n", w[:, None] * Dabs, J)
    hess = (np.einsum("i,ikn,ikl,ilq->nq", w, J, Hl, J)
            + np.abs(M._second_order_term(w[:, None] * Dabs, np.abs(Z), np.abs(W), np.abs(V), Jz, Hz)))
    k = pb.m + pb.d_x + pb.d_z + pb.d_y + 10 + (land.n_theta and 4 * pb.d_x)
    return k * U * val, k * U * g, k * U * hess


def _third(f_mp, digits=30):
    with mpmath.mp.workdps(digits):
        return abs(float(mpmath.diff(f_mp, 0, 3)))


CASES = [(name, make, d_y, False) for name, make, d_y in LOSSES] + [
    ("squared+theta", lambda: losses.SquaredLoss(), 2, True),
    ("logistic+theta", lambda: losses.LogisticLoss(), 1, True),
]


@pytest.mark.parametrize("name,make,d_y,residual", CASES)
def test_gradient_and_hessian_match_central_differences(name, make, d_y, residual):
    rng = np.random.default_rng(4)
    pb = _problem(make(), rng, d_y=d_y, residual=residual)
    land = Landscape(pb, ("W", "V", "theta") if residual else ("W", "V"))
    p = land.flatten(_point(pb, rng)) * 0.5
    g, H = land.grad(p), land.hess(p)
    assert np.array_equal(H, H.T) or np.max(np.abs(H - H.T)) <= 2 * np.max(_roundoff_scale(land, p)[2])
    h = U ** (1 / 3) * max(1.0, np.max(np.abs(p)))
    e_val, e_grad, _ = _roundoff_scale(land, p)
    for _ in range(3):
        u = rng.normal(size=land.n_params)
        u /= np.linalg.norm(u)
        v = rng.normal(size=land.n_params)
        v /= np.linalg.norm(v)
        # gradient: phi(t) = L(p + t u)
        fd = (land.value(p + h * u) - land.value(p - h * u)) / (2 * h)
        up = to_mp(p)
        phi3 = _third(lambda t: land.value_mp(up + t * to_mp(u), mpmath.mp.dps))
        tol = h ** 2 / 6 * 2 * phi3 + 2 * e_val / (2 * h) + np.abs(u) @ e_grad
        assert abs(fd - g @ u) <= tol, (fd, g @ u, tol)
        # Hessian: psi(t) = grad L(p + t u) . v
        fdH = (land.grad(p + h * u) - land.grad(p - h * u)) @ v / (2 * h)
        psi3 = _third(lambda t: land.grad_mp(up + t * to_mp(u), mpmath.mp.dps) @ to_mp(v))
        tolH = h ** 2 / 6 * 2 * psi3 + 2 * (np.abs(v) @ e_grad) / (2 * h) + np.abs(v) @ _roundoff_scale(land, p)[2] @ np.abs(u)
        assert abs(fdH - v @ H @ u) <= tolH, (fdH, v @ H @ u, tolH)


@pytest.mark.parametrize("name,make,d_y,residual", [CASES[0], CASES[2], CASES[4]])
def test_mp_landscape_agrees_with_float_and_with_mpmath_diff(name, make, d_y, residual):
    rng = np.random.default_rng(5)
    pb = _problem(make(), rng, d_y=d_y, residual=residual)
    land = Landscape(pb, ("W", "V", "theta") if residual else ("W", "V"))
    p = land.flatten(_point(pb, rng)) * 0.5
    v, g, H = land.derivatives(p)
    vm, gm, Hm = land.derivatives_mp(p, 30)
    e_val, e_grad, e_hess = _roundoff_scale(land, p)
    assert abs(float(vm) - v) <= e_val
    assert np.all(np.abs(gm.astype(float) - g) <= e_grad)
    assert np.all(np.abs(Hm.astype(float) - H) <= e_hess)
    # mp derivatives vs mpmath.diff of the mp value / gradient along random directions
    up = to_mp(p)
    with mpmath.mp.workdps(30):
        for _ in range(2):
            u = to_mp(rng.normal(size=land.n_params))
            w = to_mp(rng.normal(size=land.n_params))
            d1 = mpmath.diff(lambda t: land.value_mp(up + t * u, mpmath.mp.dps), 0)
            assert abs(d1 - gm @ u) <= mpmath.mpf(10) ** -20 * (1 + _norm(gm) * _norm(u))
            d2 = mpmath.diff(lambda t: land.grad_mp(up + t * u, mpmath.mp.dps) @ w, 0)
            assert abs(d2 - w @ Hm @ u) <= mpmath.mpf(10) ** -20 * (1 + _fro(Hm) * _norm(u) * _norm(w))


def _norm(a):
    return mpmath.sqrt(mpmath.fsum(x * x for x in a))


def _fro(A):
    return mpmath.sqrt(mpmath.fsum(x * x for x in A.ravel()))


def test_hessian_WV_cross_term_is_the_bilinear_E_zD_block():
    # H - J^T H_l J is exactly the W-V cross term: d_x copies of M = E[zD]^T, nothing else
    rng = np.random.default_rng(6)
    pb = _problem(losses.SquaredLoss(), rng)
    pt = _point(pb, rng)
    H = hessian_WV(pb, pt)
    J = predictor_jacobian(pb, pt)
    Hl = pb.loss.hess(predict(pb, pt), pb.Y)
    S = H - np.einsum("i,ikn,ikl,ilq->nq", pb.weights, J, Hl, J)
    nW = pb.d_y * pb.d_x
    Mz = expected_zD(pb, pt).T
    # fl(GN + S) - GN differs from S by <= 2u|H| per entry; S and Mz are the same sums in
    # different orders: k u sum|terms| with k = m + 2
    D = D_matrix(pb, pt)
    bound_M = (pb.m + 2) * U * (np.abs(pb.Z).T @ (pb.weights[:, None] * np.abs(D))).T
    tol = 2 * U * np.abs(H)
    for a in range(pb.d_x):
        for k in range(pb.d_y):
            for a2 in range(pb.d_x):
                for b in range(pb.d_z):
                    r, c = a * pb.d_y + k, nW + b * pb.d_x + a2
                    want = Mz[k, b] if a == a2 else 0.0
                    assert abs(S[r, c] - want) <= tol[r, c] + 2 * bound_M[k, b]
                    assert abs(S[c, r] - want) <= tol[c, r] + 2 * bound_M[k, b]
    assert np.all(np.abs(S[:nW, :nW]) <= tol[:nW, :nW])
    assert np.all(np.abs(S[nW:, nW:]) <= tol[nW:, nW:])
    # not zero away from E[zD] = 0
    assert np.linalg.norm(S) > 0.5 * math.sqrt(2 * pb.d_x) * np.linalg.norm(Mz) > 0


def test_landscape_flatten_roundtrip_and_fixed_theta():
    rng = np.random.default_rng(7)
    pb = _problem(losses.SquaredLoss(), rng, residual=True)
    pt = _point(pb, rng)
    full = Landscape(pb, ("W", "V", "theta"))
    p = full.flatten(pt)
    assert full.n_params == pb.d_y * pb.d_x + pb.d_x * pb.d_z + pb.n_theta == p.size
    q = full.unflatten(p)
    assert np.array_equal(q.W, pt.W) and np.array_equal(q.V, pt.V) and np.array_equal(q.theta, pt.theta)
    fixed = Landscape(pb, ("W", "V"), theta=pt.theta)
    pf = fixed.flatten(pt)
    assert pf.size == full.n_params - pb.n_theta
    # the same objective by three routes; BLAS may sum in another order on each (one ulp)
    ref = objective(pb, pt)
    assert abs(fixed.value(pf) - ref) <= 4 * np.finfo(float).eps * abs(ref)
    assert abs(full.value(p) - ref) <= 4 * np.finfo(float).eps * abs(ref)
    nWV = fixed.n_params
    assert np.array_equal(fixed.hess(pf), full.hess(p)[:nWV, :nWV])
    assert np.array_equal(hessian_WV(pb, pt), fixed.hess(pf))
