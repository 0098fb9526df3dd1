"""Tests of proofcheck.fast_j: J(theta) without the dense Jacobian, against the dense SVD."""

import math
import tracemalloc

import numpy as np
import pytest

import proofcheck.fast_j as fj
import proofcheck.networks as nw
from proofcheck.fast_j import (DEFAULT_CRITERIA, KhatriRaoJacobian, dense_j, fast_j,
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


def _factors(widths, m, seed=0):
    """``_case`` and its Jacobian's factors: the forward pass's Phi and the backprop
    coefficients C, and the structured Jacobian K they make."""
    net, Ws, X, Y = _case(widths, nw.RELU, m, seed=seed)
    f = nw.forward(net, Ws, X)
    C = nw.backprop_coefficients(net, Ws, X, fwd=f)
    return net, Ws, X, Y, f.Phi, C, KhatriRaoJacobian(f.Phi, C)


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
    for crit in DEFAULT_CRITERIA:
        ref = dense_j(A, Y, crit)
        got = fast[crit]
        assert got.rank == ref.rank, (crit, got, ref)
        tol = got.error_bound + ref.error_bound
        assert abs(got.value - ref.value) <= tol, (crit, got.value, ref.value, tol)
        assert got.cutoff == pytest.approx(ref.cutoff, rel=1e-6)
        if got.path == "gram-cholesky":     # a certified lower bound on the margin
            assert got.margin_to_cutoff <= ref.margin_to_cutoff
            assert got.s_kept_min <= ref.s_kept_min


@pytest.mark.parametrize("path", ["qr-pivot-rows", "qr-svd-rows", "qr-svd-columns"])
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
    net, Ws, X, Y, Phi, C, K = _factors((10, 6, 6, 1), 16000, seed=3)
    dense_bytes = 8 * K.shape[0] * K.shape[1]
    big = j_from_factors(Phi, C, Y, ("press",))["press"]
    tracemalloc.start()
    small = j_from_factors(Phi, C, Y, ("press",), max_bytes=50_000)["press"]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert small.path == big.path == "qr-pivot-rows"
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
    net, Ws, X, Y, Phi, C, K = _factors((3, 5, 2), 9, seed=6)
    a = j_from_factors(Phi, C, Y, ("press",))["press"]
    b = fast_j(net, Ws, X, Y)
    assert (a.value, a.rank, a.path) == (b.value, b.rank, b.path)


def test_bad_input():
    net, Ws, X, Y, Phi, C, K = _factors((3, 5, 1), 9)
    Ybad = Y.copy()
    Ybad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        j_from_factors(Phi, C, Ybad)
    with pytest.raises(ValueError, match="shape"):
        j_from_factors(Phi, C, Y[:5])
    with pytest.raises(ValueError, match="criterion"):
        j_from_factors(Phi, C, Y, ("median",))
    with pytest.raises(ValueError, match="path"):
        j_from_factors(Phi, C, Y, path="magic")
    with pytest.raises(ValueError, match="max_bytes"):
        j_from_factors(Phi, C, Y, max_bytes=0)
    with pytest.raises(ValueError, match="H \\+ 1"):
        j_from_factors(Phi, C[:0], Y)
    with pytest.raises(ValueError, match="C\\^\\(1\\)"):
        j_from_factors(Phi, [C[0][:, :, :2]], Y)
    Cnan = [C[0].copy()]
    Cnan[0][0, 0, 0] = np.inf
    with pytest.raises(ValueError, match="NaN or inf"):
        j_from_factors(Phi, Cnan, Y)
    with pytest.raises(TypeError):
        j_from_factors([P.astype(complex) for P in Phi], C, Y)
    with pytest.raises(ValueError, match="finite"):
        fj.criterion_cutoff(-1.0, 1.0, (2, 2))


def test_criteria_are_the_papers():
    # Appendix C: Press 1/2 sqrt(M+N+1) s_max eps; GVL 1/2 ||K||_inf eps; Netlib s_max eps
    eps = np.finfo(float).eps
    assert fj.criterion_cutoff("press", 3.0, (10, 5)) == 0.5 * math.sqrt(16) * 3.0 * eps
    assert fj.criterion_cutoff("gvl_inf", 3.0, (10, 5), 7.0) == 0.5 * 7.0 * eps
    assert fj.criterion_cutoff("netlib", 3.0, (10, 5)) == 3.0 * eps


# ---------------------------------------------------------------------------------------------
# structured products, the blocked factorisations, the column certificate, the cutoff band

def _dead_unit_case():
    # unit 0 of layer 1 has only negative incoming weights and the inputs are >= 0: it is dead
    # on every sample, so its incoming and outgoing weights give exactly zero columns of K
    net, Ws, X, Y = _case((4, 6, 5, 1), nw.RELU, 50, seed=7)
    Ws[0][:, 0] = -np.abs(Ws[0][:, 0]) - 0.1
    return net, Ws, np.abs(X), Y


@pytest.mark.parametrize("case", list(range(len(CASES))) + ["dead"])
def test_structured_products_null_vectors_and_norm_bounds(case):
    if case == "dead":
        net, Ws, X, _ = _dead_unit_case()
    else:
        widths, act, m = CASES[case]
        net, Ws, X, _ = _case(widths, act, m)
    K = KhatriRaoJacobian.of_network(net, Ws, X)
    A = nw.jacobian(net, Ws, X)
    rng = np.random.default_rng(0)
    x, z = rng.normal(size=A.shape[1]), rng.normal(size=A.shape[0])
    scale = np.abs(A).max()
    assert np.allclose(K.matvec(x), A @ x, rtol=1e-12, atol=1e-12 * scale)
    assert np.allclose(K.rmatvec(z), A.T @ z, rtol=1e-12, atol=1e-12 * scale)
    assert np.allclose(K.matvec(np.abs(x), absolute=True), np.abs(A) @ np.abs(x), rtol=1e-12)
    assert np.allclose(K.rmatvec(np.abs(z), absolute=True), np.abs(A).T @ np.abs(z), rtol=1e-12)
    zc = K.zero_columns()
    assert np.array_equal(zc, np.all(A == 0, axis=0))
    if case == "dead":
        assert zc.sum() >= 4 + 1          # 4 incoming and 1 outgoing weight of the dead unit
    # the rescaling vectors: one per hidden unit, null for K up to rounding
    V = K.rescaling_null_vectors()
    assert V.shape == (A.shape[1], sum(net.widths[1:-1]))
    assert np.abs(A @ V).max() <= 1e-12 * scale * max(1.0, np.abs(V).max())
    # rigorous upper bounds are upper bounds
    frob2, s_hi, inf_hi = fj._norm_bounds(K)
    s = np.linalg.svd(A, compute_uv=False)
    assert s_hi >= s[0] and frob2 >= np.sum(A * A) and inf_hi >= np.abs(A).sum(1).max()
    assert K.s_max() == pytest.approx(s[0], rel=1e-8)


def test_panel_cholesky_is_a_cholesky_and_fails_when_indefinite():
    rng = np.random.default_rng(1)
    B = rng.normal(size=(300, 320))
    A = B @ B.T
    lam = np.linalg.eigvalsh(A)
    tau = 0.5 * lam[0]
    got = fj._panel_cholesky(lambda j0, j1: A[j0:, j0:j1].copy(), 300, tau, 64)
    L = np.linalg.cholesky(A - tau * np.eye(300))
    assert got is not None
    frob, max_diag = got
    assert frob == pytest.approx(np.sum(L * L), rel=1e-10)
    assert max_diag == pytest.approx(np.abs(np.diag(A)).max())
    assert fj._panel_cholesky(lambda j0, j1: A[j0:, j0:j1].copy(), 300, 1.01 * lam[0] +
                              1e-9 * lam[-1], 64) is None


def test_tsqr_folds_blocks_in_place():
    rng = np.random.default_rng(2)
    A = rng.normal(size=(500, 40))
    cuts = [0, 7, 57, 157, 500]                     # the first block shorter than R
    R = fj._tsqr((A[a:b] for a, b in zip(cuts, cuts[1:])), 40)
    assert R.shape == (40, 40) and np.array_equal(R, np.triu(R))
    assert np.allclose(R.T @ R, A.T @ A, rtol=1e-12, atol=1e-10)


TALL = [  # rank deficient beyond the rescalings, or only by them; d_y > 1; other units
    ((4, 8, 8, 1), nw.RELU, 200),
    ((3, 6, 6, 2), nw.leaky_relu(0.1), 150),
    ((3, 5, 4, 2), nw.ABS, 120),
    ((10,) + (10,) * 5 + (1,), nw.RELU, 700),      # deep, narrow: rank deficient, s_r ~ 2e-7
]


@pytest.mark.parametrize("widths,act,m", TALL)
@pytest.mark.parametrize("path", ["auto", "gram-columns"])
def test_tall_cells_same_rank_as_the_dense_svd(widths, act, m, path):
    net, Ws, X, Y = _case(widths, act, m, seed=8)
    A = nw.jacobian(net, Ws, X)
    fast = fast_j_all(net, Ws, X, Y, path=path)
    for crit in DEFAULT_CRITERIA:
        ref = dense_j(A, Y, crit)
        got = fast[crit]
        assert got.rank == ref.rank, (crit, got, ref)
        assert abs(got.value - ref.value) <= got.error_bound + ref.error_bound
        if got.path == "gram-columns":          # kept side certified: a lower bound
            assert got.s_kept_min <= ref.s_kept_min


def test_gram_columns_certifies_the_rescaling_rank():
    # tall ReLU cell whose only rank deficiency is the rescalings: certified, with rank
    # N' - p (non-zero columns minus live hidden units), and J from the refined normal
    # equations agrees with the dense SVD
    net, Ws, X, Y = _case((4, 8, 8, 1), nw.RELU, 200, seed=1)
    A = nw.jacobian(net, Ws, X)
    got = fast_j(net, Ws, X, Y, "press", path="gram-columns")
    ref = dense_j(A, Y, "press")
    assert got.path == "gram-columns" and got.fallback is None
    n_nonzero = int(np.any(A != 0, axis=0).sum())
    assert got.details["n_zero_columns"] == A.shape[1] - n_nonzero
    assert got.rank == ref.rank == n_nonzero - got.details["n_null"]
    assert 0 < got.details["n_null"] <= 16
    assert got.s_dropped_max < got.cutoff < got.s_kept_min <= ref.s_kept_min
    assert abs(got.value - ref.value) <= got.error_bound + ref.error_bound
    assert got.error_bound < 1e-6 * got.value


def _at_cutoff_cases():
    wide = _case((4, 8, 8, 1), nw.RELU, 20, seed=9)
    tall = _case((10,) + (10,) * 5 + (1,), nw.RELU, 700, seed=9)
    return [("wide", wide, [19, 10]), ("tall-rank-deficient", tall, [None, 5])]


@pytest.mark.parametrize("name,case,indices", _at_cutoff_cases())
def test_rank_decision_right_at_the_cutoff(name, case, indices):
    # an absolute cutoff equal to a singular value of K (the reference drops it: s > cut keeps)
    # or one float either side of it: the fast route must decide exactly as the dense SVD
    net, Ws, X, Y = case
    A = nw.jacobian(net, Ws, X)
    s = np.linalg.svd(A, compute_uv=False)
    ref_rank = dense_j(A, Y, "press").rank
    for k in indices:
        k = ref_rank - 1 if k is None else k       # the smallest kept singular value
        for cut in (s[k], np.nextafter(s[k], 0.0), np.nextafter(s[k], np.inf)):
            cut = float(cut)
            ref = dense_j(A, Y, cut)
            got = fast_j(net, Ws, X, Y, cut)
            assert got.rank == ref.rank, (name, k, cut, got, ref)
            assert got.value == ref.value if got.path == "dense-svd" else \
                abs(got.value - ref.value) <= got.error_bound + ref.error_bound
            assert got.path == "dense-svd"         # only the reference's computation decides


def test_near_cutoff_on_a_large_K_says_so():
    net, Ws, X, Y = _case((4, 8, 8, 1), nw.RELU, 200, seed=8)
    A = nw.jacobian(net, Ws, X)
    s = np.linalg.svd(A, compute_uv=False)
    got = fast_j(net, Ws, X, Y, float(s[40]), max_bytes=8 * A.size - 8)   # K does not fit
    assert got.path == "qr-pivot-rows" and "rounding band" in got.fallback


def test_row_gram_memory_is_half_the_gram():
    # the paper's route holds the Cholesky factor's lower trapezoids only: the traced peak is
    # well below the M x M Gram the previous version formed whole
    net, Ws, X, Y = _case((10, 50, 50, 50, 1), nw.RELU, 3000, seed=10)
    K = KhatriRaoJacobian.of_network(net, Ws, X)
    y = Y.ravel(order="F")
    tracemalloc.start()
    got = fj._solve(K, y, ("press",), "auto", fj._DEFAULT_MAX_BYTES)["press"]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    M = K.shape[0]
    assert got.path == "gram-cholesky" and got.rank == M
    assert peak < 0.7 * 8 * M * M, (peak / (8 * M * M))


@pytest.mark.parametrize("widths,act,m", TALL)
def test_lean_route_same_rank_and_value(widths, act, m):
    net, Ws, X, Y = _case(widths, act, m, seed=8)
    A = nw.jacobian(net, Ws, X)
    fast = fast_j_all(net, Ws, X, Y, path="qr-lean-rows", max_bytes=60_000)  # several chunks
    for crit in DEFAULT_CRITERIA:
        ref = dense_j(A, Y, crit)
        got = fast[crit]
        if got.fallback and "rounding band" in got.fallback:
            # K exceeds max_bytes, so no dense decision: the result says the decision is
            # rounding-dependent (here the noise-level 'gvl_inf' / 'netlib' cutoffs)
            assert crit != "press"
            continue
        assert got.rank == ref.rank, (crit, got, ref)
        assert abs(got.value - ref.value) <= got.error_bound + ref.error_bound
    assert fast["press"].path == "qr-lean-rows"


def test_lean_route_holds_one_factor():
    # the lean route's memory is R (N'^2 floats) plus a chunk, whatever m: no copy of R and
    # no singular vectors (the QR-SVD with vectors holds about three N'^2 matrices)
    net, Ws, X, Y, Phi, C, K = _factors((10, 20, 20, 1), 3000, seed=11)
    n2 = 8 * K.shape[1] ** 2
    tracemalloc.start()
    got = j_from_factors(Phi, C, Y, ("press",), path="qr-lean-rows", max_bytes=200_000)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    ref = j_from_factors(Phi, C, Y, ("press",), path="qr-svd-rows")["press"]
    assert got["press"].rank == ref.rank
    assert abs(got["press"].value - ref.value) <= got["press"].error_bound + ref.error_bound
    assert peak < 1.3 * n2 + 4 * 200_000, (peak / n2)


def test_columns_fallback_holds_one_factor_below_full_rank():
    # wide and rank deficient (repeated samples): the Gram certificate fails, the columns
    # fallback decides from singular values in place and gets J from a pivoted QR of R^T in
    # place: one M x M factor, no singular vectors (the previous version held about four)
    net, Ws, X, Y = _case((4, 40, 40, 1), nw.RELU, 800, seed=12)
    X[400:] = X[:400]
    A = nw.jacobian(net, Ws, X)
    ref = dense_j(A, Y, "press")
    tracemalloc.start()
    got = fast_j(net, Ws, X, Y, "press", max_bytes=200_000)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    M = A.shape[0]
    assert got.path == "qr-svd-columns" and got.rank == ref.rank < M
    assert abs(got.value - ref.value) <= got.error_bound + ref.error_bound
    # one factor plus a few column blocks of about 80 columns (the old route: four factors)
    assert peak < 1.3 * 8 * M * M + 4 * 8 * M * 80, peak / (8 * M * M)


# ---------------------------------------------------------------------------------------------
# the pivoted route: a rank decision from a column-pivoted QR with a checked gap


def test_pivoted_route_checks_the_gap_on_a_deep_narrow_cell():
    # deep and narrow (the benchmark's rank-deficient cell, smaller): rank far below N', the
    # kept singular values down to ~1e-7 s_max; the gap is checked without any SVD, and the
    # bounds are bounds: s_kept_min is below the reference's smallest kept singular value
    net, Ws, X, Y = _case((10,) + (10,) * 5 + (1,), nw.RELU, 700, seed=8)
    A = nw.jacobian(net, Ws, X)
    got = fast_j(net, Ws, X, Y, "press")
    ref = dense_j(A, Y, "press")
    assert got.path == "qr-pivot-rows" and got.details["gap"] == "checked"
    assert got.fallback is None
    assert got.rank == ref.rank < got.details["n_nonzero_columns"]
    assert got.s_dropped_max < got.cutoff < got.s_kept_min <= ref.s_kept_min
    assert got.margin_to_cutoff <= ref.margin_to_cutoff
    assert abs(got.value - ref.value) <= got.error_bound + ref.error_bound
    # the singular values of the dense K agree: the kept ones are all above the checked
    # lower bound, the dropped ones below the checked upper bound plus the rounding band
    s = np.linalg.svd(A, compute_uv=False)
    band = math.sqrt(min(A.shape)) * U * s[0]
    assert s[got.rank - 1] >= got.s_kept_min
    assert s[got.rank] <= got.s_dropped_max + band


def test_pivoted_route_streams_and_agrees_with_the_dense_svd():
    # the route that never forms K, in many chunks, at a size where the dense SVD is cheap
    for widths, act, m in TALL:
        net, Ws, X, Y = _case(widths, act, m, seed=13)
        A = nw.jacobian(net, Ws, X)
        fast = fast_j_all(net, Ws, X, Y, path="qr-pivot-rows", max_bytes=60_000)
        for crit in DEFAULT_CRITERIA:
            ref = dense_j(A, Y, crit)
            got = fast[crit]
            assert got.path == "qr-pivot-rows"
            if got.fallback and "rounding band" in got.fallback:
                assert crit != "press"         # noise-level cutoffs, K above max_bytes
                continue
            assert got.rank == ref.rank, (widths, crit, got, ref)
            assert abs(got.value - ref.value) <= got.error_bound + ref.error_bound


def test_pivoted_route_memory():
    # R' plus a chunk, plus the copy of R'_11 for the gap check: about two N'^2 matrices
    # (the QR-SVD with vectors holds about three), never K
    net, Ws, X, Y, Phi, C, K = _factors((10, 20, 20, 1), 3000, seed=11)
    n2 = 8 * K.shape[1] ** 2
    tracemalloc.start()
    got = j_from_factors(Phi, C, Y, ("press",), max_bytes=200_000)["press"]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    ref = dense_j(K.dense(), Y, "press")
    assert got.path == "qr-pivot-rows" and got.rank == ref.rank
    assert abs(got.value - ref.value) <= got.error_bound + ref.error_bound
    assert peak < 2.3 * n2 + 4 * 200_000, (peak / n2)


def test_pivoted_route_on_a_zero_jacobian():
    # every unit dead: K = 0 (no column survives), rank 0 and J = ||Y||^2 / 2 on every route
    net, Ws, X, Y = _case((3, 4, 1), nw.RELU, 50, seed=14)
    Ws[0] = -np.abs(Ws[0]) - 0.1
    X = np.abs(X)
    for max_bytes in (10**8, 100):                  # with and without the dense decision
        for crit, got in fast_j_all(net, Ws, X, Y, path="qr-pivot-rows",
                                    max_bytes=max_bytes).items():
            assert got.rank == 0, (crit, got)
            assert got.value == pytest.approx(0.5 * float(np.sum(Y * Y)), rel=1e-14)
