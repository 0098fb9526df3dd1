"""Benchmark: fast J(theta) (proofcheck.fast_j) vs the naive dense SVD with the Press cutoff.

Run:  python3 bench/bench_fast_j.py            (the paper's cell, m = 5000: minutes, the
                                                 reference SVD of a 5000 x 15550 matrix dominates)
      python3 bench/bench_fast_j.py --quick    (m = 1500 for the synthetic cell, seconds)

Two cells of KHK 2019's Figure 1 (ReLU networks without biases, initial weights, Appendix C's
synthetic data: tanh teacher with H = 7, width 50, x in R^10):

1. the paper's synthetic cell: m = 5000, d_x = 10, H = 7, width 50 (K is 5000 x 15550);
2. a deep, narrow, ill-conditioned cell: H = 7, width 10, m = 2000 (K is 2000 x 710, rank
   deficient, s_r / s_max ~ 1e-7: the Gram K K^T cannot resolve it and the fast path must fall
   back).

For each: the reference (proofcheck.networks.J_projection: dense Jacobian, thin SVD, Press
cutoff) and fast_j (criterion "press"), timed in this process; the time ratio; the ranks; the
values, their difference and the tolerance (sum of both routes' first-order rounding bounds,
JResult.error_bound); the path fast_j took, its margin to the cutoff; the peak memory of the
fast route (tracemalloc, separate run) against the dense Jacobian's size.  For the second cell
also the rank an *uncertified* Gram route would report (eigenvalues of K K^T against cutoff^2),
to show why the fallback exists.  Nothing asserts; exits 0.
"""

from __future__ import annotations

import os

# Single-threaded BLAS by default (set the variables to override): both routes alike, and
# threaded OpenBLAS busy-waiting on a loaded 2-core machine distorts ratios (bench/README.md).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

from proofcheck import fast_j as fj  # noqa: E402
from proofcheck import networks as nw  # noqa: E402
from theorems.khk2019dw.figures import synthetic_data  # noqa: E402


def run_cell(name, m, depth, width, seed, show_gram=False):
    X, Y = synthetic_data(m, seed)
    net = nw.Network((10,) + (width,) * depth + (1,), nw.RELU)
    Ws = net.random_weights(np.random.default_rng([seed, depth, width]))
    M, N = m, net.d_theta
    print(f"\n== {name}: m = {m}, H = {depth}, width = {width}; K is {M} x {N} "
          f"({8 * M * N / 2**20:.0f} MiB dense)")

    t0, c0 = time.perf_counter(), time.process_time()
    fast = fj.fast_j(net, Ws, X, Y, "press")
    t_fast, c_fast = time.perf_counter() - t0, time.process_time() - c0

    t0, c0 = time.perf_counter(), time.process_time()
    ref = nw.J_projection(net, Ws, X, Y, "press")
    t_ref, c_ref = time.perf_counter() - t0, time.process_time() - c0
    # the reference's singular values, for its margin and rounding bound (not timed)
    K = nw.jacobian(net, Ws, X)
    dref = fj.dense_j(K, Y, "press")
    del K

    tracemalloc.start()
    fj.fast_j(net, Ws, X, Y, "press")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    diff = abs(fast.value - ref.value)
    tol = fast.error_bound + dref.error_bound
    print(f"reference (dense SVD, Press): {t_ref:9.2f} s wall {c_ref:9.2f} s CPU   rank {ref.rank}"
          f"   J = {ref.value:.12g}")
    print(f"fast_j ({fast.path}): {t_fast:9.2f} s wall {c_fast:9.2f} s CPU   rank {fast.rank}"
          f"   J = {fast.value:.12g}")
    if fast.fallback:
        print(f"  fallback: {fast.fallback}")
    print(f"ratio time(reference) / time(fast): {t_ref / t_fast:.1f}x wall, "
          f"{c_ref / c_fast:.1f}x CPU (single-threaded BLAS: CPU time is the work, "
          "whatever the load)")
    print(f"same rank decision: {'yes' if fast.rank == ref.rank == dref.rank else 'NO'}   "
          f"|J_fast - J_ref| = {diff:.3g}   tolerance {tol:.3g}   "
          f"agree: {'yes' if diff <= tol else 'NO'}")
    print(f"margin to the cutoff (decades): fast {fast.margin_to_cutoff:.2f}"
          f"{' (certified lower bound)' if fast.path == 'gram-cholesky' else ''}, "
          f"reference {dref.margin_to_cutoff:.2f}; s_kept_min / s_max = "
          f"{dref.s_kept_min / dref.s_max:.3g}")
    print(f"fast route peak traced memory: {peak / 2**20:.1f} MiB "
          f"(dense K alone: {8 * M * N / 2**20:.0f} MiB)")
    if show_gram:
        Kf = fj.KhatriRaoJacobian.of_network(net, Ws, X)
        lam = np.linalg.eigvalsh(Kf.gram_rows())
        cut = fj.criterion_cutoff("press", np.sqrt(lam[-1]), (M, N))
        print(f"uncertified Gram route (eigenvalues of K K^T > cutoff^2): rank "
              f"{int(np.sum(lam > cut ** 2))} (the reference: {ref.rank})")
    return t_ref / t_fast, c_ref / c_fast, fast.rank == ref.rank, diff <= tol


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="m = 1500 for the synthetic cell")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    m = 1500 if args.quick else 5000
    r1 = run_cell("synthetic cell (paper)", m, 7, 50, args.seed)
    r2 = run_cell("ill-conditioned cell", 2000, 7, 10, args.seed, show_gram=True)
    print("\nsummary: synthetic cell {:.1f}x wall / {:.1f}x CPU (goal >= 25x), same rank: {}, "
          "values agree: {}; ill-conditioned cell {:.1f}x wall / {:.1f}x CPU, same rank: {}, "
          "values agree: {}".format(*r1, *r2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
