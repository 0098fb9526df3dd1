"""Benchmark: ``proofcheck check`` cold with 1 and 2 worker processes, and cold vs warm cache.

Run:  python3 bench/bench_check.py                          (the whole catalogue, default
                                                            profile: several minutes)
      python3 bench/bench_check.py shamir2018 --profile quick

Three runs of ``proofcheck check PATTERN ... --format json`` as a user runs it (a child
process; wall time, and CPU time of it and its workers from ``RUSAGE_CHILDREN``):

1. cold, ``--jobs 1``: an empty result cache;
2. cold, ``--jobs 2``: another empty result cache;
3. warm: run 2 again on its cache (nothing changed, so nothing is re-checked).

With ``--point-store`` a fourth run, cold with ``--jobs 2`` and the certified-point store
switched off (``PROOFCHECK_POINT_CACHE=off``: every worker finds and certifies its points
itself), prints what the store saves: cold without it / cold with it, in CPU and wall.
``--write-costs`` writes the per-claim seconds of the cold ``--jobs 1`` run to
``theorems/costs.json`` (the runner's largest-first order for a run with no timings).

Measured 2026-12-05 on the 2-core development machine shared with other jobs (load 4.5-7):
``khk2019lm.theorem3`` (2 claims, one panel): cold without / with the point store 1.75x CPU
(26.2 s / 15.0 s); the two ``khk2019dw.lemma1.derivative*`` claims: 1.41x CPU (77.9 / 55.2 s).
The whole catalogue, ``--jobs 2 --no-cache``: 307 s CPU before the store (load ~21), 241 s
with it (load ~6; the two loads differ, so the figure is indicative), same verdicts, evidence
and mutant counts for all 129 claims.

It prints cold(jobs=1)/cold(jobs=2) and cold/warm as ratios, with the core count and load
average (the parallel ratio is bounded by the cores that are actually idle), and whether the
three JSON reports agree once ``seconds`` and the cache marks are removed. Nothing is
asserted; exit 0.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

from proofcheck.results import report_differences, without_timings

def _normalised_doc(doc):
    """A report without timings and cache marks (the warm run's results come from the cache)."""
    return without_timings(doc, cache_marks=True)


_STATS: dict[str, dict] = {}


def timed(cmd: list[str], env: dict[str, str],
          name: str = "") -> tuple[float, float, dict | None, int]:
    """Wall seconds, CPU seconds (with children), the JSON report and the exit code; the
    runner's per-worker busy / idle seconds go to ``_STATS[name]``."""
    stats = os.path.join(tempfile.mkdtemp(prefix="pc-bench-stats-"), "workers.json")
    env = dict(env, PROOFCHECK_WORKER_STATS=stats)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    try:
        with open(stats, encoding="utf-8") as fh:
            _STATS[name] = json.load(fh)
    except (OSError, ValueError):
        pass
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError:
        doc = None
        sys.stderr.write(proc.stderr[-2000:])
    return wall, cpu, doc, proc.returncode


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("patterns", nargs="*", help="claim ids or prefixes (default: all)")
    ap.add_argument("--profile", default="default", choices=("quick", "default", "thorough"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--point-store", action="store_true",
                    help="also run cold without the certified-point store (4th run)")
    ap.add_argument("--write-costs", action="store_true",
                    help="write the cold jobs-1 per-claim seconds to theorems/costs.json")
    args = ap.parse_args(argv)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    base = [sys.executable, "-m", "proofcheck.cli", "check", *args.patterns, "--profile",
            args.profile, "--seed", str(args.seed), "--format", "json", "--no-progress"]
    # each cold run has its own empty result cache and failure database (a witness stored by
    # one run is replayed first by the next, which would make the runs differ); the warm run
    # re-runs the jobs-2 run on its cache and database, as a user re-running would
    cache1, cache2 = tempfile.mkdtemp(prefix="pc-bench-"), tempfile.mkdtemp(prefix="pc-bench-")
    db1, db2 = (tempfile.mkdtemp(prefix="pc-bench-db-") for _ in range(2))
    load0 = os.getloadavg()
    runs = {
        "cold, jobs 1": timed(base + ["--jobs", "1", "--cache-dir", cache1, "--witness-db", db1],
                              env, "cold, jobs 1"),
        "cold, jobs 2": timed(base + ["--jobs", "2", "--cache-dir", cache2, "--witness-db", db2],
                              env, "cold, jobs 2"),
        "warm, jobs 2": timed(base + ["--jobs", "2", "--cache-dir", cache2, "--witness-db", db2],
                              env, "warm, jobs 2"),
    }
    if args.point_store:
        cache3, db3 = tempfile.mkdtemp(prefix="pc-bench-"), tempfile.mkdtemp(prefix="pc-bench-db-")
        runs["cold, no store"] = timed(base + ["--jobs", "2", "--cache-dir", cache3,
                                               "--witness-db", db3],
                                       dict(env, PROOFCHECK_POINT_CACHE="off"))
    load1 = os.getloadavg()
    what = " ".join(args.patterns) or "the whole catalogue"
    n = len((runs["cold, jobs 1"][2] or {}).get("claims", []))
    print(f"proofcheck check {what} --profile {args.profile}: {n} claims; {os.cpu_count()} "
          f"cores, load average {load0[0]:.1f} before, {load1[0]:.1f} after")
    print(f"{'run':<14} {'wall s':>8} {'CPU s':>8} {'exit':>5} {'cached':>7}")
    for name, (wall, cpu, doc, rc) in runs.items():
        cached = sum(bool(c.get("cached")) for c in (doc or {}).get("claims", []))
        print(f"{name:<14} {wall:8.2f} {cpu:8.2f} {rc:5d} {cached:7d}")
    (w1, c1, d1, _), (w2, c2, d2, _), (w3, c3, d3, _) = list(runs.values())[:3]
    print(f"cold(jobs=1) / cold(jobs=2): {w1 / w2:.2f}x wall")
    print_worker_stats()
    print(f"cold(jobs=2) / warm:         {w2 / w3:.1f}x wall ({c2 / max(c3, 1e-9):.1f}x CPU)")
    same = (d1 is not None and d2 is not None and d3 is not None
            and _normalised_doc(d1) == _normalised_doc(d2) == _normalised_doc(d3))
    print(f"same JSON for jobs 1, jobs 2 and warm (seconds and cache marks aside): {same}")
    if not same and d1 is not None and d2 is not None and d3 is not None:
        for a, b, what in ((d1, d2, "jobs 1 vs jobs 2"), (d2, d3, "jobs 2 vs warm")):
            for line in report_differences(_normalised_doc(a), _normalised_doc(b))[:5]:
                print(f"  {what}: {line}")
    if args.point_store:
        w4, c4, d4, _ = runs["cold, no store"]
        print(f"cold without / with the point store: {c4 / max(c2, 1e-9):.2f}x CPU, "
              f"{w4 / w2:.2f}x wall; same JSON: "
              f"{d4 is not None and d2 is not None and _normalised_doc(d4) == _normalised_doc(d2)}")
    if args.write_costs and d1 is not None:
        write_costs(d1, args.profile)


def print_worker_stats() -> None:
    """Per run with a worker pool, each worker's claims, busy and idle seconds and ``tail``:
    idle from its last result to the end of the pool (largest-first keeps it short)."""
    for name, st in _STATS.items():
        parts = [f"w{k}: {w['claims']} claims, busy {w['busy']:.1f} s, idle {w['idle']:.1f} s, "
                 f"tail {w['tail']:.1f} s" for k, w in enumerate(st.get("workers", []))]
        if parts:
            print(f"  workers of {name} (pool {st.get('seconds', 0.0):.1f} s): "
                  + "; ".join(parts))


def write_costs(doc: dict, profile: str) -> None:
    """Record each claim's seconds of ``doc`` (a cold run) as the catalogue's costs."""
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "theorems" / "costs.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    data.setdefault(profile, {}).update(
        {c["id"]: round(float(c["seconds"]), 1) for c in doc.get("claims", [])})
    data["about"] = (data.get("about") or "").split(" Last written")[0] + (
        f" Last written by bench/bench_check.py ({profile}, {os.cpu_count()} cores, load "
        f"{os.getloadavg()[0]:.1f}).")
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
