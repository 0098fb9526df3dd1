"""Benchmark: CPU time of starting ``proofcheck`` (``--version``, ``list``, one small claim),
relative to ``python -c pass`` measured in the same run.

Run:  python3 bench/bench_startup.py [--repeat 3] [--claim kb2019.lemma1]

Each command runs as a child process; its CPU time (user + system, children included: the
worker process of ``check``) comes from ``resource.getrusage(RUSAGE_CHILDREN)``. The best of
``--repeat`` runs is shown, with the machine's load average (the ratios depend on it less than
wall times do, but a loaded machine still inflates them). Nothing is asserted; exit 0.

A second table names the heavy libraries each listing has imported when it is done (sympy,
scipy.optimize, ...): a library listed there is paid for by every start of that command.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile


def cpu_of(cmd: list[str], env: dict[str, str]) -> float:
    """CPU seconds (user + sys) of ``cmd`` and its children."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                   check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


#: libraries that cost a tenth of a second of CPU or more to import
HEAVY = ("sympy", "scipy.optimize", "scipy.linalg", "scipy.sparse", "scipy.stats", "hypothesis",
         "mpmath", "flint", "z3", "matplotlib")


def heavy_loaded(patterns: list[str], env: dict[str, str]) -> list[str]:
    """The :data:`HEAVY` libraries imported once the catalogue is loaded as ``proofcheck list
    PATTERN...`` loads it (a LazyLoader module not yet executed does not count)."""
    code = ("import sys\n"
            "from proofcheck.catalog import load_claims\n"
            f"load_claims(patterns={patterns!r})\n"
            f"for n in {HEAVY!r}:\n"
            "    m = sys.modules.get(n)\n"
            "    if m is not None and type(m).__name__ != '_LazyModule':\n"
            "        print(n)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=False)
    return out.stdout.split() if out.returncode == 0 else [f"(failed: {out.stderr[-200:]})"]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--claim", default="kb2019.lemma1",
                    help="the small claim of `check` (quick profile, no cache, --jobs 1)")
    args = ap.parse_args(argv)
    py = sys.executable
    env = dict(os.environ, PROOFCHECK_CACHE_DIR=tempfile.mkdtemp(prefix="pc-bench-cache-"))
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    commands = {
        "python -c pass": [py, "-c", "pass"],
        "import proofcheck": [py, "-c", "import proofcheck"],
        "proofcheck --version": [py, "-m", "proofcheck.cli", "--version"],
        "import sympy (reference)": [py, "-c", "import sympy"],
        "proofcheck list": [py, "-m", "proofcheck.cli", "list"],
        "proofcheck list khk2019lm": [py, "-m", "proofcheck.cli", "list", "khk2019lm"],
        "proofcheck list khk2019dw": [py, "-m", "proofcheck.cli", "list", "khk2019dw"],
        f"check {args.claim} (quick, jobs 1)": [
            py, "-m", "proofcheck.cli", "check", args.claim, "--profile", "quick", "--no-cache",
            "--jobs", "1", "--no-progress", "--format", "json"],
        f"check {args.claim} (quick, jobs 0)": [
            py, "-m", "proofcheck.cli", "check", args.claim, "--profile", "quick", "--no-cache",
            "--jobs", "0", "--no-progress", "--format", "json"],
    }
    best = {name: min(cpu_of(cmd, env) for _ in range(args.repeat))
            for name, cmd in commands.items()}
    base = best["python -c pass"]
    load = os.getloadavg()
    print(f"startup CPU (best of {args.repeat}); {os.cpu_count()} cores, load average "
          f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    print(f"{'command':<44} {'CPU s':>7} {'x baseline':>11} {'over baseline':>14}")
    for name, t in best.items():
        print(f"{name:<44} {t:7.2f} {t / base:11.1f} {t - base:13.2f}s")
    print("\nheavy libraries imported by loading the catalogue:")
    for patterns in ([], ["kb2019"], ["khk2019dw"], ["khk2019lm"], ["shamir2018"]):
        name = " ".join(patterns) or "(all papers)"
        print(f"  list {name:<14} {', '.join(heavy_loaded(patterns, env)) or '-'}")


if __name__ == "__main__":
    main()
