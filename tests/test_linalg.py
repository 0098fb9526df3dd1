"""Tests for proofcheck.linalg: projections, null projections, rank cutoffs.

Tolerances come from NumpyBackend.tolerance (n_ops ~ size of the SVD, cond of the matrix).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proofcheck import linalg
from proofcheck.backends import NumpyBackend

B = NumpyBackend()
EPS = np.finfo(float).eps


def matrix_of_rank(rng, m, n, r, cond=10.0):
    """m x n matrix with exactly r nonzero singular values spread over [1/cond, 1]."""
    U, _ = np.linalg.qr(rng.standard_normal((m, max(r, 1))))
    V, _ = np.linalg.qr(rng.standard_normal((n, max(r, 1))))
    s = np.geomspace(1.0, 1.0 / cond, r) if r else np.zeros(0)
    return (U[:, :r] * s) @ V[:, :r].T


def tol_for(M, scale=1.0, extra_ops=0):
    m, n = M.shape[-2:]
    return B.tolerance(scale, cond=float(np.max(B.condition_number(M))),
                       n_ops=m * n + extra_ops)


@st.composite
def ranked_matrices(draw):
    """``(M, r)``: an m x n matrix (1 <= m, n <= 7) of rank exactly r."""
    m, n = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    r = min(draw(st.integers(0, 7)), m, n)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return matrix_of_rank(rng, m, n, r), r


@settings(max_examples=40, deadline=None)
@given(ranked_matrices())
def test_projection_is_the_orthogonal_projector_onto_the_range(M_r):
    M, r = M_r
    m = M.shape[0]
    P = linalg.projection(M)
    tol = tol_for(M)
    assert P.shape == (m, m)
    assert np.max(np.abs(P - P.T)) <= tol                    # symmetric
    assert np.max(np.abs(P @ P - P)) <= tol                  # idempotent
    assert np.max(np.abs(P @ M - M)) <= tol                  # fixes range(M)
    assert abs(np.trace(P) - r) <= tol * m                   # rank r
    assert int(linalg.numerical_rank(M)) == r
    # independent route: M M^+ with numpy's own pinv
    assert np.max(np.abs(P - M @ np.linalg.pinv(M))) <= tol


@settings(max_examples=30, deadline=None)
@given(ranked_matrices())
def test_null_projection_is_the_left_null_space(M_r):
    M, r = M_r
    m = M.shape[0]
    PN = linalg.null_projection(M)
    tol = tol_for(M)
    assert np.max(np.abs(M.T @ PN)) <= tol                   # range(P_N) in Null(M^T)
    assert abs(np.trace(PN) - (m - r)) <= tol * m            # dim Null(M^T) = m - r
    assert np.max(np.abs(PN + linalg.projection(M) - np.eye(m))) <= tol


def test_project_matches_dense_projector_batched_and_vector():
    rng = np.random.default_rng(1)
    M = rng.standard_normal((4, 30, 5))
    Y = rng.standard_normal((4, 30, 3))
    tol = tol_for(M, scale=np.max(np.abs(Y)), extra_ops=30 * 3)
    assert np.max(np.abs(linalg.project(M, Y) - linalg.projection(M) @ Y)) <= tol
    assert np.max(np.abs(linalg.null_project(M, Y) - linalg.null_projection(M) @ Y)) <= tol
    y = Y[0, :, 0]
    assert np.max(np.abs(linalg.project(M[0], y) - linalg.projection(M[0]) @ y)) <= tol
    # batched result equals the per-instance one
    for i in range(4):
        assert np.max(np.abs(linalg.projection(M)[i] - linalg.projection(M[i]))) <= tol


def test_rank_cutoff_methods_and_their_sources():
    s = np.array([[3.0, 1.0], [0.0, 0.0]])
    assert rank_equal(linalg.rank_cutoff(s, (100, 2)), [3.0 * 100 * EPS, 0.0])
    assert rank_equal(linalg.rank_cutoff(s, (100, 2), "press"),
                      [0.5 * np.sqrt(103.0) * 3.0 * EPS, 0.0])
    assert rank_equal(linalg.rank_cutoff(s, (100, 2), "golub_van_loan"),
                      linalg.rank_cutoff(s, (100, 2), "lapack"))
    assert rank_equal(linalg.rank_cutoff(s, (100, 2), 0.5), [0.5, 0.5])


def rank_equal(a, b):
    return np.array_equal(np.asarray(a), np.asarray(b))


def test_lapack_cutoff_agrees_with_numpy_matrix_rank():
    rng = np.random.default_rng(2)
    for _ in range(20):
        m, n = rng.integers(1, 9, size=2)
        r = int(rng.integers(0, min(m, n) + 1))
        M = matrix_of_rank(rng, m, n, r, cond=1e6)
        assert int(linalg.numerical_rank(M)) == np.linalg.matrix_rank(M) == r


def test_press_and_lapack_disagree_between_their_thresholds():
    # one singular value between the Press threshold (~5 eps) and the LAPACK one (100 eps)
    rng = np.random.default_rng(3)
    U, _ = np.linalg.qr(rng.standard_normal((100, 2)))
    V, _ = np.linalg.qr(rng.standard_normal((2, 2)))
    M = (U * [1.0, 30 * EPS]) @ V.T
    assert int(linalg.numerical_rank(M, "lapack")) == 1
    assert int(linalg.numerical_rank(M, "press")) == 2
    assert int(linalg.numerical_rank(M, 1e-3)) == 1
    assert np.trace(linalg.projection(M, "press")) == pytest.approx(2.0, abs=1e-12)


def test_svd_projection_survives_ill_conditioning_where_the_gram_route_fails():
    """P[M] via SVD keeps P M = M to roundoff at cond 1e7; M (M^T M)^{-1} M^T does not
    (it squares the condition number) -- so the tolerance below can fail."""
    rng = np.random.default_rng(4)
    M = matrix_of_rank(rng, 40, 4, 4, cond=1e7)
    tol = B.tolerance(1.0, n_ops=40 * 4)  # backward error of the SVD: cond plays no role
    P_svd = linalg.projection(M)
    P_gram = M @ np.linalg.inv(M.T @ M) @ M.T
    assert np.max(np.abs(P_svd @ M - M)) / np.max(np.abs(M)) <= tol
    assert np.max(np.abs(P_gram @ P_gram - P_gram)) > tol
    assert np.max(np.abs(P_svd @ P_svd - P_svd)) <= tol


def test_block_gram_schmidt_decomposes_the_projector():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((20, 3))
    Z = np.hstack([rng.standard_normal((20, 2)), X[:, :1] - 2 * X[:, 2:]])  # 1 col in span X
    W = rng.standard_normal((20, 2))
    Q1, Q2, Q3 = linalg.block_gram_schmidt([X, Z, W])
    assert [Q.shape[1] for Q in (Q1, Q2, Q3)] == [3, 2, 2]
    Q = np.hstack([Q1, Q2, Q3])
    tol = tol_for(np.hstack([X, Z, W]))
    assert np.max(np.abs(Q.T @ Q - np.eye(7))) <= tol
    assert np.max(np.abs(Q @ Q.T - linalg.projection(np.hstack([X, Z, W])))) <= tol
    # Q2 spans P_N[X] Z
    assert np.max(np.abs(Q2 @ Q2.T - linalg.projection(linalg.null_project(X, Z)))) <= tol


def test_block_gram_schmidt_block_inside_earlier_span_adds_nothing():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((10, 3))
    Z = X @ rng.standard_normal((3, 2))
    Q1, Q2 = linalg.block_gram_schmidt([X, Z])
    assert Q1.shape == (10, 3) and Q2.shape == (10, 0)


def test_block_gram_schmidt_batch_pads_with_zero_columns():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((2, 10, 2))
    Z = rng.standard_normal((2, 10, 2))
    Z[1] = X[1] @ [[1.0, 2.0], [3.0, 4.0]]  # instance 1: Z adds nothing
    Q1, Q2 = linalg.block_gram_schmidt([X, Z])
    assert Q2.shape == (2, 10, 2)
    assert np.all(Q2[1] == 0.0)
    tol = tol_for(np.concatenate([X, Z], -1))
    assert np.max(np.abs(Q2[0].T @ Q2[0] - np.eye(2))) <= tol


def test_relative_cutoff_on_a_derived_matrix_finds_a_spurious_range():
    """P_N[X] Z with Z in range(X) is round-off.  A cutoff relative to its own s_max sees
    a range there; the cutoff of [X Z] (absolute) and block_gram_schmidt do not."""
    rng = np.random.default_rng(8)
    X = rng.standard_normal((2, 2))       # spans R^2, so P_N[X] = 0 exactly
    Z = rng.standard_normal((2, 1))
    PNZ = linalg.null_project(X, Z)
    assert np.max(np.abs(PNZ)) > 0.0      # round-off, not an exact zero
    assert int(linalg.numerical_rank(PNZ)) == 1                      # spurious
    XZ = np.hstack([X, Z])
    cut = linalg.rank_cutoff(np.linalg.svd(XZ, compute_uv=False), XZ.shape)
    assert int(linalg.numerical_rank(PNZ, cut)) == 0
    assert np.all(linalg.projection(PNZ, cut) == 0.0)
    assert linalg.block_gram_schmidt([X, Z])[1].shape == (2, 0)
    # per-instance absolute cutoffs over a batch
    both = np.stack([PNZ, np.ones((2, 1))])
    assert linalg.numerical_rank(both, np.array([float(cut), 0.5])).tolist() == [0, 1]


@pytest.mark.parametrize("bad, exc", [
    (np.array([[1.0, np.nan]]), ValueError),
    (np.array([[1.0, np.inf]]), ValueError),
    (np.array([1.0, 2.0]), ValueError),
    ([["a", "b"]], TypeError),
])
def test_bad_matrices_are_rejected(bad, exc):
    with pytest.raises(exc):
        linalg.projection(bad)


def test_bad_arguments_are_rejected():
    M = np.eye(3)
    with pytest.raises(ValueError, match="cutoff method"):
        linalg.numerical_rank(M, "nonsense")
    with pytest.raises(ValueError, match=">= 0"):
        linalg.projection(M, -1.0)
    with pytest.raises(ValueError, match="rows"):
        linalg.project(M, np.ones((4, 1)))
    with pytest.raises(ValueError, match="same number of rows"):
        linalg.block_gram_schmidt([np.eye(3), np.eye(4)])
