"""Benchmark: where the test suite's time goes, per file and per pytest-xdist worker.

Run:  python3 bench/bench_tests.py [--log FILE] [-- PYTEST ARGS...]

Runs ``python -m pytest -n 2 -p no:cacheprovider -q`` (the default suite as ``.ci/run`` runs
it, on two workers) with ``PROOFCHECK_TEST_TIMES=FILE``, under which tests/conftest.py logs one
line per test: its worker, wall seconds and CPU seconds (the process and its finished
children). With ``--log FILE`` and no pytest arguments an existing log is only analysed.

Printed: the suite's wall time and the machine's load average before and after; per worker the
sum of wall and CPU seconds (the critical path: the suite's wall time is about the busiest
worker's sum); the costliest files and tests by CPU; and the makespan that greedy list
scheduling on two workers predicts from the CPU figures for two ways of cutting the suite into
units: one unit per file (plain ``--dist loadfile``) and the units tests/conftest.py makes
(SPREAD files test by test). CPU seconds depend on the load far less than wall seconds, so the
predicted makespans compare schedules on a shared machine; wall figures are the ones a user
sees on this machine now. Nothing is asserted; exit 0.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_suite(log: Path, pytest_args: list[str]) -> tuple[float, int]:
    """Run the suite with the per-test log; (wall seconds, pytest's exit code)."""
    env = dict(os.environ, PROOFCHECK_TEST_TIMES=str(log))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    cmd = [sys.executable, "-m", "pytest", "-n", "2", "-p", "no:cacheprovider", "-q",
           *pytest_args]
    t0 = time.perf_counter()
    code = subprocess.run(cmd, cwd=ROOT, env=env, check=False).returncode
    return time.perf_counter() - t0, code


def read_log(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]


def makespan(units: list[float], workers: int = 2) -> float:
    """Greedy list scheduling in the given order (what pytest-xdist does with whole units)."""
    free = [0.0] * workers
    for cost in units:
        heapq.heapreplace(free, free[0] + cost)
    return max(free)


def units_of(rows: list[dict], spread: frozenset[str]) -> list[float]:
    """CPU seconds per scheduling unit in the order the tests ran: a file, or one test of a
    ``spread`` file."""
    order: dict[str, float] = {}
    for r in sorted(rows, key=lambda r: r["end"]):
        file = r["test"].split("::", 1)[0]
        unit = r["test"] if file in spread else file
        order[unit] = order.get(unit, 0.0) + r["cpu"]
    return list(order.values())


def spread_files() -> frozenset[str]:
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        import conftest
        return frozenset(conftest.SPREAD)
    except ImportError:
        return frozenset()
    finally:
        sys.path.pop(0)


def report(rows: list[dict]) -> None:
    per_worker: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    per_file: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for r in rows:
        for table, key in ((per_worker, r["worker"]), (per_file, r["test"].split("::")[0])):
            table[key][0] += r["wall"]
            table[key][1] += r["cpu"]
            table[key][2] += 1
    print(f"{len(rows)} tests; CPU {sum(r['cpu'] for r in rows):.0f} s, "
          f"wall summed over tests {sum(r['wall'] for r in rows):.0f} s")
    print(f"{'worker':<10} {'tests':>6} {'wall s':>8} {'CPU s':>8}")
    for w, (wall, cpu, n) in sorted(per_worker.items()):
        print(f"{w:<10} {n:>6} {wall:8.1f} {cpu:8.1f}")
    print(f"\n{'file (costliest 15 by CPU)':<44} {'tests':>6} {'wall s':>8} {'CPU s':>8}")
    for f, (wall, cpu, n) in sorted(per_file.items(), key=lambda kv: -kv[1][1])[:15]:
        print(f"{f:<44} {n:>6} {wall:8.1f} {cpu:8.1f}")
    print(f"\n{'test (costliest 15 by CPU)':<70} {'wall s':>7} {'CPU s':>7}")
    for r in sorted(rows, key=lambda r: -r["cpu"])[:15]:
        name = r["test"] if len(r["test"]) <= 70 else "..." + r["test"][-67:]
        print(f"{name:<70} {r['wall']:7.1f} {r['cpu']:7.1f}")
    by_file = units_of(rows, frozenset())
    spread = units_of(rows, spread_files())
    print("\npredicted makespan on 2 workers from CPU seconds (greedy, in run order):")
    print(f"  one unit per file ({len(by_file)} units), largest first: "
          f"{makespan(sorted(by_file, reverse=True)):6.1f} s   (largest unit "
          f"{max(by_file):.1f} s)")
    print(f"  conftest's units ({len(spread)} units), in run order:    "
          f"{makespan(spread):6.1f} s   (largest unit {max(spread):.1f} s)")
    print(f"  lower bound (CPU / 2):                           {sum(spread) / 2:6.1f} s")


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    pytest_args = argv[argv.index("--") + 1:] if "--" in argv else []
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log", type=Path, default=None,
                    help="the per-test log to write (or, without pytest arguments after --, "
                         "an existing one to analyse)")
    args = ap.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    if args.log is not None and args.log.exists() and "--" not in argv:
        report(read_log(args.log))
        return
    log = args.log or Path(tempfile.mkdtemp(prefix="pc-bench-tests-")) / "times.jsonl"
    load0 = os.getloadavg()
    wall, code = run_suite(log, pytest_args)
    load1 = os.getloadavg()
    print(f"\nsuite: {wall:.0f} s wall, pytest exit {code}; {os.cpu_count()} cores, load average "
          f"{load0[0]:.1f} before, {load1[0]:.1f} / {load1[1]:.1f} / {load1[2]:.1f} after; "
          f"log {log}")
    report(read_log(log))


if __name__ == "__main__":
    main()
