"""Benchmark: fast J(theta) (proofcheck.fast_j) vs the naive dense SVD with the Press cutoff.

Run:  python3 bench/bench_fast_j.py            (both cells, paper cell at m = 5000: minutes, the
                                                 reference SVD of a 5000 x 15550 matrix dominates)
      python3 bench/bench_fast_j.py --quick    (m = 1500 for the paper's cell)
      python3 bench/bench_fast_j.py --with-memory 8000 20000   (after the cells, fast_j's
                                                 peak memory at those m; default 8000)
      python3 bench/bench_fast_j.py --memory 8000 20000   (peak memory of fast_j alone at
                                                 those m on the paper's cell; no reference)

Two cells of KHK 2019's Figure 1 (ReLU networks without biases, initial weights, Appendix C's
synthetic data: tanh teacher with H = 7, width 50, x in R^10):

1. the paper's synthetic cell: m = 5000, d_x = 10, H = 7, width 50 (K is 5000 x 15550);
2. the deep, narrow, rank-deficient and ill-conditioned cell: H = 7, width 10, m = 2000 (K is
   2000 x 710, rank 516, s_r / s_max ~ 2e-8: the Gram cannot resolve it; fast_j takes
   qr-pivot-rows: one TSQR pass and a pivoted QR with a checked gap).

Every variant is timed after its one-time costs (scipy's lazy imports, 0.3-0.6 s of CPU, and a
warm-up call on 40 samples), as the per-call cost a sweep pays; a call under 3 s is repeated
(at most 5 times) and the best time kept.  Every variant (reference, fast) runs in its own
subprocess, so that each one's peak resident
memory (resource.getrusage maxrss, minus the interpreter's and the data's before the call) and
traced peak (tracemalloc) are its own.  For each cell it prints the CPU and wall time of both,
their ratios, both ranks, both values, their difference against the sum of the two routes'
rounding bounds (JResult.error_bound), the path fast_j took and its margin to the cutoff, and
the machine's load average before and after (ratios depend on the load: with one BLAS thread the
CPU-time ratio is the work ratio, the wall ratio is what a user waits).  Nothing asserts; exits 0.
"""

from __future__ import annotations

import os

# Single-threaded BLAS by default (set the variables to override): both routes alike, and
# threaded OpenBLAS busy-waiting on a loaded 2-core machine distorts ratios (bench/README.md).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

CELLS = {"paper": (7, 50), "rank-deficient": (7, 10)}


def _one(variant: str, cell: str, m: int, seed: int, trace: bool) -> dict:
    """Run one variant in this process and return its measurements (the subprocess side)."""
    import resource
    import time
    import tracemalloc

    import numpy as np

    from proofcheck import fast_j as fj
    from proofcheck import networks as nw
    from proofcheck.catalogue.khk2019dw.figures import synthetic_data

    depth, width = CELLS[cell]
    X, Y = synthetic_data(m, seed)
    net = nw.Network((10,) + (width,) * depth + (1,), nw.RELU)
    Ws = net.random_weights(np.random.default_rng([seed, depth, width]))

    def run(X, Y):
        if variant == "fast":
            res = fj.fast_j(net, Ws, X, Y, "press")
            return dict(value=res.value, rank=res.rank, path=res.path, fallback=res.fallback,
                        margin=res.margin_to_cutoff, error_bound=res.error_bound)
        res = fj.dense_j(nw.jacobian(net, Ws, X), Y, "press")
        return dict(value=res.value, rank=res.rank, path=res.path, fallback=None,
                    margin=res.margin_to_cutoff, error_bound=res.error_bound)

    # one-time costs outside the timing, for both variants alike: the lazy imports (scipy's
    # linalg and sparse.linalg: 0.3-0.6 s of CPU, more than the whole rank-deficient cell)
    # and a warm-up call on the first samples
    import scipy.linalg  # noqa: F401
    import scipy.sparse.linalg  # noqa: F401
    run(X[:40], Y[:40])
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if trace:
        tracemalloc.start()
    t0, c0 = time.perf_counter(), time.process_time()
    out = run(X, Y)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    repeats = 1
    while wall * repeats < 3.0 and repeats < 5 and not trace:     # short cells: best of several
        t0, c0 = time.perf_counter(), time.process_time()
        run(X, Y)
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
        repeats += 1
    out.update(wall=wall, cpu=cpu, repeats=repeats, shape=[m, net.d_theta])
    if trace:
        out["traced_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out.update(maxrss_mib=rss1 / 1024, maxrss_before_mib=rss0 / 1024)   # kB on Linux
    return out


def _spawn(variant: str, cell: str, m: int, seed: int, trace: bool) -> dict:
    cmd = [sys.executable, __file__, "--one", variant, cell, str(m), "--seed", str(seed)]
    if trace:
        cmd.append("--trace")
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return dict(error=(p.stderr.strip().splitlines() or ["?"])[-1])
    return json.loads(p.stdout.strip().splitlines()[-1])


def _load() -> str:
    try:
        return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        return "load average unavailable"


def _mem(r: dict) -> str:
    extra = f", traced peak {r['traced_mib']:.0f} MiB" if "traced_mib" in r else ""
    return (f"peak RSS {r['maxrss_mib']:.0f} MiB ({r['maxrss_mib'] - r['maxrss_before_mib']:.0f}"
            f" MiB above the data){extra}")


def run_cell(cell: str, m: int, seed: int) -> tuple:
    depth, width = CELLS[cell]
    print(f"\n== {cell} cell: m = {m}, H = {depth}, width = {width}   [{_load()}]")
    fast = _spawn("fast", cell, m, seed, trace=False)
    ref = _spawn("reference", cell, m, seed, trace=False)
    for name, r in (("reference (dense K, SVD)", ref), ("fast_j", fast)):
        if "error" in r:
            print(f"{name}: FAILED: {r['error']}")
    if "error" in fast or "error" in ref:
        return None
    M, N = fast["shape"]
    print(f"K is {M} x {N} ({8 * M * N / 2**20:.0f} MiB dense)")
    for name, r in (("reference (dense K, SVD)", ref), (f"fast_j [{fast['path']}]", fast)):
        print(f"{name:28s} {r['wall']:8.2f} s wall {r['cpu']:8.2f} s CPU  rank {r['rank']:5d}"
              f"  J = {r['value']:.12g}   {_mem(r)}")
    if fast["fallback"]:
        print(f"  fallback: {fast['fallback']}")
    diff = abs(fast["value"] - ref["value"])
    tol = fast["error_bound"] + ref["error_bound"]
    rw, rc = ref["wall"] / fast["wall"], ref["cpu"] / fast["cpu"]
    same = fast["rank"] == ref["rank"]
    print(f"ratio reference / fast: {rw:.1f}x wall, {rc:.1f}x CPU   ranks identical: "
          f"{'yes' if same else 'NO'}   |dJ| = {diff:.3g} (tolerance {tol:.3g}): "
          f"{'agree' if diff <= tol else 'DISAGREE'}")
    above = {k: r["maxrss_mib"] - r["maxrss_before_mib"] for k, r in (("ref", ref), ("fast", fast))}
    print(f"peak memory above the data: reference {above['ref']:.0f} MiB, fast "
          f"{above['fast']:.0f} MiB")
    print(f"margin to the cutoff (decades): fast {fast['margin']:.2f}, reference "
          f"{ref['margin']:.2f}   [{_load()}]")
    return rw, rc, same, diff <= tol


def run_memory(ms: list[int], seed: int) -> None:
    print(f"\n== peak memory of fast_j on the paper's cell (one subprocess per m)   [{_load()}]")
    for m in ms:
        r = _spawn("fast", "paper", m, seed, trace=True)
        if "error" in r:
            print(f"m = {m}: FAILED: {r['error']}")
            continue
        M, N = r["shape"]
        print(f"m = {m:6d}: K {M} x {N} ({8 * M * N / 2**30:.2f} GiB dense)  [{r['path']}] "
              f"rank {r['rank']}  J = {r['value']:.6g}  {r['wall']:.1f} s wall "
              f"{r['cpu']:.1f} s CPU  {_mem(r)}   [{_load()}]")
        if r["fallback"]:
            print(f"  fallback: {r['fallback']}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="m = 1500 for the paper's cell")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--memory", type=int, nargs="+", metavar="M",
                    help="only the peak memory of fast_j on the paper's cell at these m")
    ap.add_argument("--with-memory", type=int, nargs="*", default=[8000], metavar="M",
                    help="after the cells, the peak memory of fast_j on the paper's cell at "
                         "these m (default 8000; none with an empty list)")
    ap.add_argument("--one", nargs=3, metavar=("VARIANT", "CELL", "M"), help=argparse.SUPPRESS)
    ap.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        variant, cell, m = args.one
        print(json.dumps(_one(variant, cell, int(m), args.seed, args.trace)))
        return 0
    print(f"machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
          f"Python {platform.python_version()}, BLAS threads "
          f"{os.environ.get('OPENBLAS_NUM_THREADS')}; ratios depend on the load: compare CPU "
          "ratios under load")
    if args.memory:
        run_memory(args.memory, args.seed)
        return 0
    m = 1500 if args.quick else 5000
    r1 = run_cell("paper", m, args.seed)
    r2 = run_cell("rank-deficient", 2000, args.seed)
    fmt = lambda r: ("failed" if r is None else  # noqa: E731
                     "{:.1f}x wall / {:.1f}x CPU, ranks identical: {}, values agree: {}".format(
                         r[0], r[1], "yes" if r[2] else "NO", "yes" if r[3] else "NO"))
    print(f"\nsummary: paper cell (m = {m}) {fmt(r1)} (goal >= 25x); rank-deficient cell "
          f"{fmt(r2)} (goal >= 10x)   [{_load()}]")
    if args.with_memory:
        run_memory(args.with_memory, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
