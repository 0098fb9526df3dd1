"""The float64 trust-region Newton of the point finders and the fast high-precision paths of
models.Landscape (structured gradient, arb_mat Gauss-Newton product)."""

import mpmath
import numpy as np
import pytest

from proofcheck.losses import SquaredLoss
from proofcheck.models import Landscape, ResNetProblem, _mp_gram, to_mp
from proofcheck.optimize.trust_region import trust_region_newton, trust_region_step


def _model(H, g, s):
    return float(g @ s + 0.5 * s @ H @ s)


@pytest.mark.parametrize("seed", range(12))
def test_step_is_the_exact_subproblem_minimiser(seed):
    """The step beats (or ties) every feasible point of a dense sample of the ball, including
    the hard case (g orthogonal to the eigenvector of a negative lam_min)."""
    rng = np.random.default_rng(seed)
    n = 3
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    lam = np.sort(rng.normal(size=n) * 2)
    g = rng.normal(size=n)
    if seed % 3 == 0:                       # hard case
        g = g - (Q[:, 0] @ g) * Q[:, 0]
        lam[0] = -abs(lam[0]) - 0.5
    H = Q @ np.diag(lam) @ Q.T
    r = float(rng.uniform(0.1, 2.0))
    s, edge = trust_region_step(lam, Q, g, r)
    assert np.linalg.norm(s) <= r * (1 + 1e-9)
    best = _model(H, g, s)
    cand = rng.normal(size=(4000, n))
    cand *= (r * rng.uniform(0, 1, size=(4000, 1)) ** (1 / n)) / np.linalg.norm(cand, axis=1,
                                                                                keepdims=True)
    vals = np.einsum("ij,j->i", cand, g) + 0.5 * np.einsum("ij,jk,ik->i", cand, H, cand)
    assert best <= vals.min() + 1e-9
    if lam[0] < 0:
        assert edge


def test_newton_reaches_a_minimiser_and_escapes_a_saddle():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(5, 5))
    H = A @ A.T + np.eye(5)
    b = rng.normal(size=5)
    quad = lambda x: (float(0.5 * x @ H @ x - b @ x), H @ x - b, H)
    res = trust_region_newton(quad, np.zeros(5), gtol=1e-12)
    assert res.status == 0 and np.allclose(H @ res.x, b)
    # f = x^2 - y^2 + y^4 from near the saddle at 0: ends at a minimum y = +-1/sqrt(2)
    f = lambda x: (float(x[0] ** 2 - x[1] ** 2 + x[1] ** 4),
                   np.array([2 * x[0], -2 * x[1] + 4 * x[1] ** 3]),
                   np.diag([2.0, -2 + 12 * x[1] ** 2]))
    res = trust_region_newton(f, np.array([1e-3, 1e-9]), gtol=1e-10)
    assert abs(abs(res.x[1]) - 2 ** -0.5) < 1e-8 and abs(res.x[0]) < 1e-8


def test_high_precision_paths_agree_with_the_jacobian_formulas():
    """The mp gradient without the Jacobian equals the order-2 pass's (which contracts the
    Jacobian); the mp Hessian rounds to the float64 one."""
    rng = np.random.default_rng(3)
    pb = ResNetProblem(X=rng.normal(size=(7, 3)), Y=rng.normal(size=(7, 2)), loss=SquaredLoss(),
                       Z=rng.normal(size=(7, 2)))
    land = Landscape(pb)
    p = rng.normal(size=land.n_params)
    _, g2, H2 = land.derivatives_mp(p, 40, 2)
    g1 = land.derivatives_mp(p, 40, 1)[1]
    _, gf, Hf = land.derivatives(p, 2)
    with mpmath.workdps(40):
        assert max(abs(a - b) for a, b in zip(g1, g2)) < mpmath.mpf(10) ** -36
    assert np.allclose(np.array(g1, float), gf, rtol=1e-12, atol=1e-12)
    assert np.allclose(np.array(H2, float), Hf, rtol=1e-12, atol=1e-12)
    with mpmath.workdps(40):
        A = to_mp(rng.normal(size=(6, 4)))
        B = to_mp(rng.normal(size=(6, 3)))
        C = _mp_gram(A, B)
        ref = A.T @ B
        assert max(abs(C[i, j] - ref[i, j]) for i in range(4) for j in range(3)) \
            < mpmath.mpf(10) ** -36
