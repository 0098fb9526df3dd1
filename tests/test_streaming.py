"""Tests for proofcheck.streaming: the TSQR accumulator against dense m x m projector
formulas (float64 and 40-digit mpmath), rank deficiency, m < d, chunk invariance.

Every tolerance is NumpyBackend.tolerance at the scale ||Y||_F^2 / m with the condition
number of [X Z] and n_ops = m * (d_x + d_z + d_y): the Householder-QR backward error
bound gamma_{c m n} (Higham, thm 19.4) propagated through a projection (thm 20.1).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proofcheck.backends import MpmathBackend, NumpyBackend
from proofcheck.streaming import (LeastSquaresGain, LeastSquaresGainAccumulator,
                                  least_squares_gain_in_chunks)

N = NumpyBackend()
FIELDS = ("L_x", "L_xz", "improvement", "improvement_projected")


def dense_terms(X, Z, Y, B=N):
    """The paper's formulas with explicit m x m projectors (the slow route)."""
    X, Z, Y = (B.asarray(a) for a in (X, Z, Y))
    m = X.shape[0]
    PN = B.null_projection(X)
    PNZ = B.matmul(PN, Z)
    # The range of P_N[X] Z is decided at the scale of [X Z]: when Z is (nearly) inside
    # range(X), P_N[X] Z is round-off and a cutoff relative to itself finds a spurious
    # range in it (hypothesis found m=2, d_x=2: improvement 1.48 instead of 0).  The
    # round-off of this route is that of forming I - P[X] and multiplying by Z, so the
    # cutoff is the backend tolerance at ||[X Z]||_2 with n_ops = m (d_x + d_z).
    XZ = B.hstack([X, Z])
    cut = B.tolerance(B.svdvals(XZ)[..., 0], n_ops=m * XZ.shape[-1])
    Pimp = B.projection(PNZ, method=cut)
    resid_xz = Y - B.matmul(B.projection(B.hstack([X, Z])), Y)
    vals = dict(
        L_x=B.fro2(B.matmul(PN, Y)) / m,
        L_xz=B.fro2(resid_xz) / m,
        improvement=B.fro2(B.matmul(Pimp, Y)) / m,
        improvement_projected=B.fro2(B.matmul(Pimp, B.matmul(PN, Y))) / m,
    )
    return {k: float(B.to_float(v)) for k, v in vals.items()}


def tol_of(t: LeastSquaresGain, d):
    return float(N.tolerance(t.y_norm2, cond=t.cond_xz, n_ops=t.m * d))


def make_data(rng, m, d_x, d_z, d_y, noise=0.3):
    X = rng.standard_normal((m, d_x))
    Z = np.tanh(X @ rng.standard_normal((d_x, d_z))) + rng.standard_normal((m, d_z))
    Y = X @ rng.standard_normal((d_x, d_y)) + Z @ rng.standard_normal((d_z, d_y)) \
        + noise * rng.standard_normal((m, d_y))
    return X, Z, Y


def assert_matches(t, ref, tol):
    for k in FIELDS:
        assert abs(getattr(t, k) - ref[k]) <= tol, (k, getattr(t, k), ref[k], tol)


def assert_theorem2_identities(t, tol):
    assert abs(t.L_xz - (t.L_x - t.improvement)) <= tol
    assert abs(t.improvement - t.improvement_projected) <= tol


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 80), st.integers(1, 4), st.integers(1, 4), st.integers(1, 3),
       st.integers(1, 33), st.integers(0, 2**32 - 1))
def test_streaming_matches_dense_projectors(m, d_x, d_z, d_y, chunk, seed):
    X, Z, Y = make_data(np.random.default_rng(seed), m, d_x, d_z, d_y)
    t = least_squares_gain_in_chunks(X, Z, Y, chunk_rows=chunk)
    tol = tol_of(t, d_x + d_z + d_y)
    assert t.m == m
    assert t.rank_x == np.linalg.matrix_rank(X)
    assert t.rank_xz == np.linalg.matrix_rank(np.hstack([X, Z]))
    assert t.y_norm2 == pytest.approx(np.sum(Y * Y) / m, rel=1e-12)
    assert_matches(t, dense_terms(X, Z, Y), tol)
    assert_theorem2_identities(t, tol)


def test_streaming_matches_high_precision_reference():
    """40-digit dense projectors as the reference: float64 streaming is within its
    own float64 tolerance of the (nearly exact) values."""
    X, Z, Y = make_data(np.random.default_rng(11), 14, 3, 3, 2)
    t = least_squares_gain_in_chunks(X, Z, Y, chunk_rows=4)
    ref = dense_terms(X, Z, Y, B=MpmathBackend(40))
    assert_matches(t, ref, tol_of(t, 8))
    assert t.improvement > 0.01 * t.L_x  # the data make the improvement non-trivial


def test_rank_deficient_X_equals_X_without_its_dependent_column():
    rng = np.random.default_rng(1)
    X0, Z, Y = make_data(rng, 60, 3, 2, 2)
    X = np.hstack([X0, X0[:, :1] - 0.5 * X0[:, 2:]])  # 4th column in the span
    t = least_squares_gain_in_chunks(X, Z, Y, chunk_rows=7)
    t0 = least_squares_gain_in_chunks(X0, Z, Y, chunk_rows=60)
    tol = tol_of(t, 8)
    assert (t.rank_x, t.rank_xz) == (3, 5)
    assert_matches(t, {k: getattr(t0, k) for k in FIELDS}, tol)
    assert_matches(t, dense_terms(X, Z, Y), tol)
    assert_theorem2_identities(t, tol)


def test_Z_inside_span_of_X_gives_no_improvement():
    rng = np.random.default_rng(2)
    X, _, Y = make_data(rng, 50, 4, 1, 2)
    Z = X @ rng.standard_normal((4, 3))
    t = least_squares_gain_in_chunks(X, Z, Y, chunk_rows=9)
    tol = tol_of(t, 9)
    assert (t.rank_x, t.rank_xz) == (4, 4)
    assert abs(t.improvement) <= tol and abs(t.improvement_projected) <= tol
    assert abs(t.L_xz - t.L_x) <= tol
    assert t.L_x > 100 * tol  # not vacuous: there is a residual to improve on


def test_fewer_rows_than_columns():
    rng = np.random.default_rng(3)
    X, Z, Y = make_data(rng, 5, 3, 4, 2)
    t = least_squares_gain_in_chunks(X, Z, Y, chunk_rows=2)
    tol = tol_of(t, 9)
    assert (t.rank_x, t.rank_xz) == (3, 5)
    assert abs(t.L_xz) <= tol  # [X Z] spans R^5: perfect fit
    assert_matches(t, dense_terms(X, Z, Y), tol)
    assert_theorem2_identities(t, tol)


def test_chunk_size_invariance_and_generators():
    X, Z, Y = make_data(np.random.default_rng(4), 97, 3, 3, 2)
    ref = least_squares_gain_in_chunks(X, Z, Y, chunk_rows=97)
    tol = tol_of(ref, 8)
    for chunk in (1, 2, 10, 50, 1000):
        assert_matches(least_squares_gain_in_chunks(X, Z, Y, chunk_rows=chunk),
                       {k: getattr(ref, k) for k in FIELDS}, tol)
    gen = ((X[i:i + 13], Z[i:i + 13], Y[i:i + 13]) for i in range(0, 97, 13))
    acc = LeastSquaresGainAccumulator.from_chunks(gen)
    assert acc.m == 97
    assert_matches(acc.result(), {k: getattr(ref, k) for k in FIELDS}, tol)
    # merging two halves (a TSQR reduction) gives the same
    a = LeastSquaresGainAccumulator(3, 3, 2).update(X[:40], Z[:40], Y[:40])
    b = LeastSquaresGainAccumulator(3, 3, 2).update(X[40:], Z[40:], Y[40:])
    assert_matches(a.merge(b).result(), {k: getattr(ref, k) for k in FIELDS}, tol)


def test_accumulator_memory_is_d_by_d():
    X, Z, Y = make_data(np.random.default_rng(5), 500, 3, 2, 1)
    acc = LeastSquaresGainAccumulator(3, 2, 1)
    for i in range(0, 500, 100):
        acc.update(X[i:i + 100], Z[i:i + 100], Y[i:i + 100])
        assert acc.R.shape == (6, 6)
    assert np.allclose(np.tril(acc.R, -1), 0.0, atol=0.0)


def test_ill_conditioned_X_where_gram_matrices_lose_the_answer():
    """cond(X) = 1e8: the Gram route (normal equations, cond^2 u ~ 1) loses the
    residual; TSQR stays within the cond-scaled float64 tolerance of 40-digit truth."""
    rng = np.random.default_rng(6)
    m = 30
    U, _ = np.linalg.qr(rng.standard_normal((m, 5)))
    V, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    X = (U[:, :3] * [1.0, 1e-4, 1e-8]) @ V.T  # non-orthogonal columns, cond 1e8
    Z = U[:, 3:4] + 1e-3 * rng.standard_normal((m, 1))
    Y = U[:, :3] @ [[1.0], [1.0], [1.0]] + 1e-3 * U[:, 4:5]
    t = least_squares_gain_in_chunks(X, Z, Y, chunk_rows=7)
    ref = dense_terms(X, Z, Y, B=MpmathBackend(40))
    assert t.rank_x == 3
    assert_matches(t, ref, tol_of(t, 5))
    G = X.T @ X  # normal equations: residual Y - X (X^T X)^{-1} X^T Y
    L_gram = np.sum((Y - X @ np.linalg.solve(G, X.T @ Y)) ** 2) / m
    assert abs(L_gram - ref["L_x"]) > tol_of(t, 5)


@pytest.mark.parametrize("call, match", [
    (lambda a: a.update(np.full((2, 2), np.nan), np.ones((2, 1)), np.ones((2, 1))), "NaN"),
    (lambda a: a.update(np.ones((2, 3)), np.ones((2, 1)), np.ones((2, 1))), "columns"),
    (lambda a: a.update(np.ones((2, 2)), np.ones((3, 1)), np.ones((3, 1))), "row counts"),
    (lambda a: a.update(np.ones(2), np.ones((2, 1)), np.ones((2, 1))), "2-D"),
    (lambda a: a.result(), "no rows"),
])
def test_bad_chunks_are_rejected(call, match):
    with pytest.raises(ValueError, match=match):
        call(LeastSquaresGainAccumulator(2, 1, 1))


def test_bad_construction_is_rejected():
    with pytest.raises(ValueError):
        LeastSquaresGainAccumulator(0, 1, 1)
    with pytest.raises(ValueError):
        LeastSquaresGainAccumulator(1, 1, 1, method="bogus")
    with pytest.raises(ValueError):
        least_squares_gain_in_chunks(np.ones((3, 1)), np.ones((3, 1)), np.ones((3, 1)), chunk_rows=0)
    with pytest.raises(ValueError):
        LeastSquaresGainAccumulator.from_chunks(iter([]))
