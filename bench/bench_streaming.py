"""Benchmark: streaming (TSQR) Theorem 2 quantities vs dense m x m projectors.

Run:  python3 bench/bench_streaming.py            (m up to 10^6, about half a minute)
      OPENBLAS_NUM_THREADS=2 python3 bench/bench_streaming.py   (threaded BLAS)
      python3 bench/bench_streaming.py --quick    (m up to 10^5, a few seconds)

Prints two tables and exits 0:

1. streaming at m = 10^4, 10^5, 10^6 (d_x = d_z = 32, d_y = 10), data generated in
   chunks from a seeded rng and never materialised: wall time, time spent generating
   data, peak traced memory (tracemalloc, a separate run so tracing does not slow the
   timed one), and the Theorem 2 values.  Peak memory should be flat in m.
2. the dense route (explicit m x m P_N[X], P[P_N[X] Z], P[[X Z]]) against streaming at
   m = 4000: time ratio (goal >= 50x) and the agreement of the four values, measured
   against NumpyBackend.tolerance(||Y||^2/m, cond([X Z]), n_ops = m d).

These are ratios measured in one process, not timed tests: nothing here asserts.
"""

from __future__ import annotations

import os

from _timing import best_of, single_threaded_blas

single_threaded_blas()      # before numpy loads BLAS

import argparse  # noqa: E402
import sys  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

from proofcheck import linalg
from proofcheck.backends import NumpyBackend
from proofcheck.streaming import LeastSquaresGainAccumulator

D_X, D_Z, D_Y = 32, 32, 10
FIELDS = ("L_x", "L_xz", "improvement", "improvement_projected")


class Problem:
    """A fixed random 'network' (seeded); rows are drawn chunk by chunk.

    x ~ N(0, I); z = tanh(x A) (a residual representation); y = x B_x + sin(x) C + noise,
    so the part of y that is nonlinear in x is partly captured by z: improvement > 0.
    """

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self.seed = seed
        self.A = rng.standard_normal((D_X, D_Z)) / np.sqrt(D_X)
        self.Bx = rng.standard_normal((D_X, D_Y))
        self.C = rng.standard_normal((D_X, D_Y))

    def chunks(self, m, chunk_rows):
        rng = np.random.default_rng([self.seed, 1])
        for start in range(0, m, chunk_rows):
            n = min(chunk_rows, m - start)
            X = rng.standard_normal((n, D_X))
            Z = np.tanh(X @ self.A)
            Y = X @ self.Bx + np.sin(X) @ self.C + 0.1 * rng.standard_normal((n, D_Y))
            yield X, Z, Y


def streaming(problem, m, chunk_rows):
    return LeastSquaresGainAccumulator.from_chunks(problem.chunks(m, chunk_rows)).result()


def generate_only(problem, m, chunk_rows):
    for _ in problem.chunks(m, chunk_rows):
        pass


def dense(X, Z, Y):
    """The paper's formulas with explicit m x m projectors."""
    m = X.shape[0]
    PN = linalg.null_projection(X)
    PNZ = PN @ Z
    XZ = np.hstack([X, Z])
    # decide the range of P_N[X] Z at the scale of [X Z] (see linalg.rank_cutoff)
    cut = NumpyBackend().tolerance(np.linalg.svd(XZ, compute_uv=False)[0], n_ops=m * XZ.shape[1])
    Pimp = linalg.projection(PNZ, cut)
    PNY = PN @ Y
    return dict(
        L_x=np.sum(PNY**2) / m,
        L_xz=np.sum((Y - linalg.projection(XZ) @ Y) ** 2) / m,
        improvement=np.sum((Pimp @ Y) ** 2) / m,
        improvement_projected=np.sum((Pimp @ PNY) ** 2) / m,
    )


def peak_bytes(fn):
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="m up to 10^5 only")
    ap.add_argument("--chunk-rows", type=int, default=10_000)
    ap.add_argument("--dense-m", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    problem = Problem(args.seed)
    sizes = [10**4, 10**5] if args.quick else [10**4, 10**5, 10**6]

    print(f"Streaming Theorem 2 (TSQR), d_x={D_X} d_z={D_Z} d_y={D_Y}, "
          f"chunk_rows={args.chunk_rows}, "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    hdr = (f"{'m':>9} {'time s':>8} {'gen s':>7} {'peak MiB':>9} {'L_x':>10} "
           f"{'L_xz':>10} {'improv.':>10} {'L_x-imp-L_xz':>13}")
    print(hdr)
    print("-" * len(hdr))
    peaks = []
    for m in sizes:
        t_total, res = best_of(lambda: streaming(problem, m, args.chunk_rows), 1)
        t_gen, _ = best_of(lambda: generate_only(problem, m, args.chunk_rows), 1)
        peak = peak_bytes(lambda: streaming(problem, m, args.chunk_rows))
        peaks.append(peak)
        print(f"{m:>9} {t_total:>8.2f} {t_gen:>7.2f} {peak / 2**20:>9.2f} {res.L_x:>10.5f} "
              f"{res.L_xz:>10.5f} {res.improvement:>10.5f} "
              f"{res.L_x - res.improvement - res.L_xz:>13.2e}")
    print(f"peak memory ratio m={sizes[-1]:.0e} / m={sizes[0]:.0e}: "
          f"{peaks[-1] / peaks[0]:.3f} (flat = about 1; one chunk is "
          f"{args.chunk_rows * (D_X + D_Z + D_Y) * 8 / 2**20:.2f} MiB)")

    m = args.dense_m
    print(f"\nDense m x m projectors vs streaming at m = {m}")
    X, Z, Y = (np.vstack(parts) for parts in zip(*problem.chunks(m, args.chunk_rows)))
    t_dense, ref = best_of(lambda: dense(X, Z, Y), 2)
    t_stream, res = best_of(
        lambda: LeastSquaresGainAccumulator(D_X, D_Z, D_Y).update(X, Z, Y).result(), 5)
    tol = float(NumpyBackend().tolerance(res.y_norm2, cond=res.cond_xz,
                                         n_ops=m * (D_X + D_Z + D_Y)))
    print(f"{'quantity':>22} {'streaming':>20} {'dense':>20} {'|diff|':>10} {'tol':>10}")
    worst = 0.0
    for k in FIELDS:
        diff = abs(getattr(res, k) - ref[k])
        worst = max(worst, diff / tol)
        print(f"{k:>22} {getattr(res, k):>20.14f} {ref[k]:>20.14f} {diff:>10.2e} {tol:>10.2e}")
    print(f"time dense {t_dense:.3f} s, streaming {t_stream * 1e3:.2f} ms, "
          f"ratio {t_dense / t_stream:.0f}x (goal >= 50x); "
          f"worst |diff| / tol = {worst:.2e} (cond[X Z] = {res.cond_xz:.3g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
