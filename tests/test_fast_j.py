"""Tests of proofcheck.fast_j: J(theta) without the dense Jacobian, against the dense SVD."""

import math
import tracemalloc

import numpy as np
import pytest

import proofcheck.fast_j as fj
import proofcheck.networks as nw
from proofcheck.fast_j import (APPENDIX_C_CRITERIA, KhatriRaoJacobian, dense_j, fast_j,
                               fast_j_all, j_from_factors)

U = np.finfo(float).eps / 2


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    # On a loaded 2-core machine threaded OpenBLAS busy-waits: a 622 x 311 QR took 1.3 s
    # instead of 20 ms.  One thread keeps this file fast; results do not depend on it.
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(1):
        yield


def gamma(n):
    return n * U / (1 - n * U)


def _case(widths, act=nw.RELU, m=30, seed=0):
    rng = np.random.default_rng(seed)
    net = nw.Network(widths, act)
    return (net, net.random_weights(rng), rng.normal(size=(m, widths[0])),
            rng.normal(size=(m, widths[-1])))


CASES = [  # (widths, activation, m): wide, tall, square-ish, d_y > 1, every activation
    ((4, 8, 8, 1), nw.RELU, 20),
    ((4, 8, 8, 1), nw.RELU, 200),
    ((3, 6, 6, 6, 2), nw.leaky_relu(0.1), 25),
    ((3, 6, 6, 6, 2), nw.ABS, 60),
    ((5, 7, 3), nw.IDENTITY, 40),
    ((4, 20, 20, 3), nw.RELU, 40),
    ((10,) + (10,) * 7 + (1,), nw.RELU, 300),      # deep and narrow: ill-conditioned
]


@pytest.mark.parametrize("widths,act,m", CASES)
def test_factors_match_the_dense_jacobian(widths, act, m):
    net, Ws, X, _ = _case(widths, act, m)
    K = KhatriRaoJacobian.of_network(net, Ws, X)
    A = nw.jacobian(net, Ws, X)
    assert K.shape == A.shape
    # same products in the same order: bitwise equal
    assert np.array_equal(K.dense(), A)
    # rows(i0, i1) are the rows (c, i) of the sample range
    d_y = net.d_y
    idx = [c * m + i for c in range(d_y) for i in range(3, 9)]
    assert np.array_equal(K.rows(3, 9), A[idx])
    # Gram: entrywise |G~ - K K^T| <= gamma_{n_G} |K||K|^T (plus the reference product's own)
    G = K.gram_rows()
    absK = np.abs(A)
    bound = (gamma(K.gram_inner_size()) + gamma(A.shape[1])) * (absK @ absK.T)
    assert np.all(np.abs(G - A @ A.T) <= bound)
    assert np.array_equal(G, G.T)
    n = A.shape[1]
    assert abs(K.frobenius_sq() - np.sum(A * A)) <= gamma(n + 4) * np.sum(A * A)
    inf_ref = np.abs(A).sum(axis=1).max()
    assert abs(K.inf_norm() - inf_ref) <= gamma(n + 4) * inf_ref


@pytest.mark.parametrize("widths,act,m", CASES)
def test_same_rank_and_value_as_the_dense_svd(widths, act, m):
    net, Ws, X, Y = _case(widths, act, m, seed=1)
    A = nw.jacobian(net, Ws, X)
    fast = fast_j_all(net, Ws, X, Y)
    for crit in APPENDIX_C_CRITERIA:
        ref = dense_j(A, Y, crit)
        got = fast[crit]
        assert got.rank == ref.rank, (crit, got, ref)
        tol = got.error_bound + ref.error_bound
        assert abs(got.value - ref.value) <= tol, (crit, got.value, ref.value, tol)
        assert got.cutoff == pytest.approx(ref.cutoff, rel=1e-6)
        if got.path == "gram-cholesky":     # a certified lower bound on the margin
            assert got.margin_to_cutoff <= ref.margin_to_cutoff
            assert got.s_kept_min <= ref.s_kept_min


@pytest.mark.parametrize("path", ["qr-svd-rows", "qr-svd-columns"])
def test_forced_streaming_paths_agree(path):
    net, Ws, X, Y = _case((4, 8, 8, 2), nw.RELU, 35, seed=2)
    A = nw.jacobian(net, Ws, X)
    got = fast_j(net, Ws, X, Y, "press", path=path)
    ref = dense_j(A, Y, "press")
    assert got.path == path and got.rank == ref.rank
    assert abs(got.value - ref.value) <= got.error_bound + ref.error_bound


def test_small_chunks_give_the_same_answer_and_stream():
    # tall: m = 16000 samples, N = 102 parameters: the dense K is 13 MB; the streamed route
    # holds chunks of max(50 kB, N + 1 rows), R and the SVD of the N x N factor (a few N^2
    # floats), whatever m is
    net, Ws, X, Y = _case((10, 6, 6, 1), nw.RELU, 16000, seed=3)
    f = nw.forward(net, Ws, X)
    C = nw.backprop_coefficients(net, Ws, X, fwd=f)
    K = KhatriRaoJacobian(f.Phi, C)
    dense_bytes = 8 * K.shape[0] * K.shape[1]
    big = j_from_factors(f.Phi, C, Y, ("press",))["press"]
    tracemalloc.start()
    small = j_from_factors(f.Phi, C, Y, ("press",), max_bytes=50_000)["press"]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert small.path == big.path == "qr-svd-rows"
    assert small.rank == big.rank
    assert abs(small.value - big.value) <= 2 * big.error_bound
    # the streamed route never holds K: peak well below the dense Jacobian's size
    assert peak < dense_bytes / 4, (peak, dense_bytes)


def test_rank_deficient_wide_case_falls_back():
    # a repeated sample makes K K^T exactly singular: the Cholesky certificate must fail
    net, Ws, X, Y = _case((4, 16, 16, 1), nw.RELU, 20, seed=4)
    X[7] = X[3]
    got = fast_j(net, Ws, X, Y)
    ref = dense_j(nw.jacobian(net, Ws, X), Y)
    assert got.path == "qr-svd-columns" and got.fallback is not None
    assert got.rank == ref.rank == 19
    assert abs(got.value - ref.value) <= got.error_bound + ref.error_bound


def test_ill_conditioned_wide_case_falls_back_and_matches():
    # two samples 1e-7 apart: s_min/s_max ~ 1e-8, far above every cutoff but far below what
    # the Gram resolves (sqrt(n u) ~ 1e-7): the fast path must not decide it
    net, Ws, X, Y = _case((4, 16, 16, 1), nw.RELU, 20, seed=5)
    X[7] = X[3] + 1e-8 * np.random.default_rng(0).normal(size=4)
    A = nw.jacobian(net, Ws, X)
    s = np.linalg.svd(A, compute_uv=False)
    assert s[-1] / s[0] < 1e-6             # the case is what it claims to be
    got = fast_j(net, Ws, X, Y)
    ref = dense_j(A, Y)
    assert got.path == "qr-svd-columns" and got.fallback is not None
    assert got.rank == ref.rank == 20
    assert abs(got.value - ref.value) <= got.error_bound + ref.error_bound


def test_agrees_with_gram_schmidt_form():
    # Theorem 1's sum over blocks (H3's J_gram_schmidt) against the projection form; the
    # Gram-Schmidt sum has one projection per block, so its rounding is at most n_blocks
    # times the single projection's bound
    for seed, (widths, m) in enumerate([((3, 5, 5, 1), 40), ((3, 6, 4, 2), 12),
                                        ((4, 6, 6, 6, 1), 50)]):
        net, Ws, X, Y = _case(widths, nw.RELU, m, seed=10 + seed)
        got = fast_j(net, Ws, X, Y, "lapack")
        gs = nw.J_gram_schmidt(net, Ws, X, Y, "lapack")
        n_blocks = len(nw.block_order(net))
        assert gs.rank == got.rank
        assert abs(gs.value - got.value) <= n_blocks * max(got.error_bound, 1e-300) + \
            n_blocks * gamma(got.shape[0]) * float(np.sum(Y * Y))


def test_j_from_factors_and_raw_arrays():
    net, Ws, X, Y = _case((3, 5, 2), nw.RELU, 9, seed=6)
    f = nw.forward(net, Ws, X)
    C = nw.backprop_coefficients(net, Ws, X, fwd=f)
    a = j_from_factors(f.Phi, C, Y, ("press",))["press"]
    b = fast_j(net, Ws, X, Y)
    assert (a.value, a.rank, a.path) == (b.value, b.rank, b.path)


def test_bad_input():
    net, Ws, X, Y = _case((3, 5, 1), nw.RELU, 9)
    f = nw.forward(net, Ws, X)
    C = nw.backprop_coefficients(net, Ws, X, fwd=f)
    Ybad = Y.copy()
    Ybad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        j_from_factors(f.Phi, C, Ybad)
    with pytest.raises(ValueError, match="shape"):
        j_from_factors(f.Phi, C, Y[:5])
    with pytest.raises(ValueError, match="criterion"):
        j_from_factors(f.Phi, C, Y, ("median",))
    with pytest.raises(ValueError, match="path"):
        j_from_factors(f.Phi, C, Y, path="magic")
    with pytest.raises(ValueError, match="max_bytes"):
        j_from_factors(f.Phi, C, Y, max_bytes=0)
    with pytest.raises(ValueError, match="H \\+ 1"):
        j_from_factors(f.Phi, C[:0], Y)
    with pytest.raises(ValueError, match="C\\^\\(1\\)"):
        j_from_factors(f.Phi, [C[0][:, :, :2]], Y)
    Cnan = [C[0].copy()]
    Cnan[0][0, 0, 0] = np.inf
    with pytest.raises(ValueError, match="NaN or inf"):
        j_from_factors(f.Phi, Cnan, Y)
    with pytest.raises(TypeError):
        j_from_factors([P.astype(complex) for P in f.Phi], C, Y)
    with pytest.raises(ValueError, match="finite"):
        fj.criterion_cutoff(-1.0, 1.0, (2, 2))


def test_criteria_are_the_papers():
    # Appendix C: Press 1/2 sqrt(M+N+1) s_max eps; GVL 1/2 ||K||_inf eps; Netlib s_max eps
    eps = np.finfo(float).eps
    assert fj.criterion_cutoff("press", 3.0, (10, 5)) == 0.5 * math.sqrt(16) * 3.0 * eps
    assert fj.criterion_cutoff("gvl_inf", 3.0, (10, 5), 7.0) == 0.5 * 7.0 * eps
    assert fj.criterion_cutoff("netlib", 3.0, (10, 5)) == 3.0 * eps
