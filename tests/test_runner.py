"""The runner: isolated worker processes, the same JSON for any --jobs, the result cache,
interrupts. Uses quick user claims (tests/fixtures/runner_claims), never the whole catalogue."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from proofcheck import engine
from proofcheck.cache import ResultCache, module_closure
from proofcheck.catalog import load_claims
from proofcheck.results import report_differences, without_timings
from proofcheck.runner import EXIT_INTERRUPTED, LineProgress, run_claims

FIXTURES = Path(__file__).parent / "fixtures" / "runner_claims"
GOOD = FIXTURES / "good"
FAULTY = FIXTURES / "faulty"


def _normalised(run) -> dict:
    """The run's JSON without what may differ between equal runs: durations and the cache
    marks (proofcheck.results.without_timings)."""
    return without_timings(json.loads(json.dumps(run.to_dict())), cache_marks=True)


def _run(paths, **kw):
    reg = load_claims([str(p) for p in paths])
    return reg, run_claims(reg.claims, origins=reg.origins, profile="quick", seed=3, **kw)


#: The claims of FAULTY that end on their own (lemma4 never returns): run without a time limit,
#: so a slow (loaded) machine cannot turn one of them into a timeout.
ENDING = ["faulty.lemma1", "faulty.lemma2", "faulty.lemma3", "faulty.lemma5"]


def _faulty(ids, **kw):
    reg = load_claims([str(FAULTY)])
    picked = [c for c in reg.claims if c.id in ids]
    return reg, run_claims(picked, origins=reg.origins, profile="quick", seed=3, **kw)


def test_a_claim_that_exits_raises_or_dies_takes_down_only_itself():
    reg, run = _faulty(ENDING, jobs=2, claim_timeout=0, cache=None)
    # the module that calls sys.exit at import is a load error, not a silent exit
    assert any("exits_at_import.py" in where and "SystemExit" in msg
               for where, msg in reg.errors)
    by_id = {c.claim_id: c for c in run.claims}
    assert [c.claim_id for c in run.claims] == ENDING
    assert by_id["faulty.lemma1"].verdict.value == "verified"
    assert all(by_id[k].verdict.value == "error" for k in ENDING[1:])
    assert by_id["faulty.lemma2"].error.endswith("called sys.exit(0)")
    assert "raised GeneratorExit" in by_id["faulty.lemma3"].error
    assert "worker died (signal 9" in by_id["faulty.lemma5"].error
    assert not run.partial


def test_a_claim_that_hangs_times_out_and_is_not_cached(tmp_path):
    """The hanging claim alone: it never returns, so it times out whatever the machine's load
    (the limit is short; no other claim runs under it). A timeout is an error, never cached."""
    cache = ResultCache(tmp_path / "cache")
    _, run = _faulty(["faulty.lemma4"], jobs=1, claim_timeout=1, cache=cache)
    (hung,) = run.claims
    assert hung.verdict.value == "error" and hung.error.endswith("timed out after 1 s")
    assert not run.partial and cache.stored == 0


@pytest.fixture
def all_workers_at_once(monkeypatch, tmp_path):
    """Pools start all their workers at once (quick claims would otherwise share one, see
    test_a_few_quick_claims_start_one_worker); returns a function giving how many workers
    the last pool ran."""
    import proofcheck.runner as runner

    monkeypatch.setattr(runner, "WORKER_START_SECONDS", 0.0)
    stats = tmp_path / "worker-stats.json"
    monkeypatch.setenv(runner.STATS_ENV, str(stats))
    return lambda: len(json.loads(stats.read_text())["workers"])


def test_same_json_for_any_jobs_and_in_process(all_workers_at_once):
    _, one = _run([GOOD], jobs=1)
    _, two = _run([GOOD], jobs=2)
    assert all_workers_at_once() == 2
    _, here = _run([GOOD], jobs=0)
    assert [c.verdict.value for c in one.claims] == ["verified", "refuted", "verified"]
    assert not report_differences(_normalised(one), _normalised(two))
    assert not report_differences(_normalised(one), _normalised(here))


def test_same_json_for_jobs_1_and_2_on_catalogue_claims(all_workers_at_once):
    reg = load_claims()
    claims = reg.select(["shamir2018.theorem1", "kb2019.lemma1"])[:3]
    runs = [run_claims(claims, origins=reg.origins, profile="quick", seed=1, jobs=j)
            for j in (1, 2)]
    assert all_workers_at_once() == 2
    assert not report_differences(_normalised(runs[0]), _normalised(runs[1]))


def test_a_few_quick_claims_start_one_worker(monkeypatch, tmp_path):
    """Without measured durations a pool starts one worker, and the others only when claims
    still wait a second after it began: three quick claims at --jobs 2 use one worker (a
    worker costs about a second of CPU to start), with the same results."""
    import proofcheck.runner as runner

    stats = tmp_path / "worker-stats.json"
    monkeypatch.setenv(runner.STATS_ENV, str(stats))
    monkeypatch.setattr(runner, "SPREAD_AFTER_SECONDS", 60.0)
    _, two = _run([GOOD], jobs=2)
    assert len(json.loads(stats.read_text())["workers"]) == 1
    _, here = _run([GOOD], jobs=0)
    assert not report_differences(_normalised(two), _normalised(here))
    # claims still waiting once the first worker began: the second worker starts
    monkeypatch.setattr(runner, "SPREAD_AFTER_SECONDS", 0.0)
    _, spread = _run([GOOD], jobs=2)
    assert len(json.loads(stats.read_text())["workers"]) == 2
    assert not report_differences(_normalised(spread), _normalised(here))


def test_largest_first_but_results_in_catalogue_order(tmp_path):
    cache = ResultCache(tmp_path / "cache")
    cache._timings = {"quick": {"runner.lemma3": 100.0}}     # the last run: lemma3 was slow
    order = []
    reg, run = _run([GOOD], jobs=1, cache=cache,
                    on_result=lambda i, r: order.append(r.claim_id))
    assert order[0] == "runner.lemma3"
    assert [c.claim_id for c in run.claims] == ["runner.lemma1", "runner.lemma2",
                                               "runner.lemma3"]


# ---------------------------------------------------------------------------------------------
# the cache

@pytest.fixture
def counted(monkeypatch):
    """Count the engine's check_claim calls (in this process: jobs=0)."""
    calls = []
    real = engine.check_claim

    def counting(claim, **kw):
        calls.append(claim.id)
        return real(claim, **kw)

    monkeypatch.setattr(engine, "check_claim", counting)
    return calls


def test_warm_run_reruns_nothing_and_the_json_is_the_same(tmp_path, counted):
    cache = ResultCache(tmp_path / "cache")
    _, cold = _run([GOOD], jobs=0, cache=cache)
    assert sorted(counted) == ["runner.lemma1", "runner.lemma2", "runner.lemma3"]
    assert cache.stored == 3 and not any(c.cached_at for c in cold.claims)
    counted.clear()
    warm_cache = ResultCache(tmp_path / "cache")
    _, warm = _run([GOOD], jobs=0, cache=warm_cache)
    assert counted == [] and warm_cache.hits == 3
    assert all(c.cached_at for c in warm.claims)
    doc = warm.to_dict()["claims"][0]
    assert doc["cached"] is True and doc["cached_at"]
    _, fresh = _run([GOOD], jobs=0, cache=None)
    assert not report_differences(_normalised(cold), _normalised(warm))
    assert not report_differences(_normalised(cold), _normalised(fresh))


def test_touching_one_module_reruns_only_its_claims(tmp_path, counted):
    users = tmp_path / "claims"
    shutil.copytree(GOOD, users)
    cache_dir = tmp_path / "cache"
    _run([users], jobs=0, cache=ResultCache(cache_dir))
    counted.clear()
    abs_py = users / "abs.py"
    abs_py.write_text(abs_py.read_text() + "\n# an edit\n")
    _, run = _run([users], jobs=0, cache=ResultCache(cache_dir))
    assert counted == ["runner.lemma3"]
    assert [bool(c.cached_at) for c in run.claims] == [True, True, False]


def test_a_copy_of_a_users_folder_finds_the_originals_results(tmp_path, counted):
    """The key names a user's files by their path relative to the claim's module, never by
    where they lie: a copy of the folder (another checkout, a CI workspace) is a cache hit,
    and an edit in the copy still re-runs its claims."""
    cache_dir = tmp_path / "cache"
    _run([GOOD], jobs=0, cache=ResultCache(cache_dir))
    copy = tmp_path / "elsewhere" / "claims"
    shutil.copytree(GOOD, copy, ignore=shutil.ignore_patterns("__pycache__"))
    counted.clear()
    cache = ResultCache(cache_dir)
    _, run = _run([copy], jobs=0, cache=cache)
    assert counted == [] and cache.hits == 3
    (copy / "abs.py").write_text((copy / "abs.py").read_text() + "\n# an edit\n")
    _, run = _run([copy], jobs=0, cache=ResultCache(cache_dir))
    assert counted == ["runner.lemma3"]


def test_a_corrupt_entry_is_ignored(tmp_path, counted):
    cache_dir = tmp_path / "cache"
    _run([GOOD], jobs=0, cache=ResultCache(cache_dir))
    for f in (cache_dir / "results").glob("*/*.json"):
        f.write_text(f.read_text()[:40])                     # truncated
    counted.clear()
    cache = ResultCache(cache_dir)
    _, run = _run([GOOD], jobs=0, cache=cache)
    assert len(counted) == 3 and cache.hits == 0
    assert [c.verdict.value for c in run.claims] == ["verified", "refuted", "verified"]


def test_the_key_covers_imported_project_modules():
    files = {p.name for p in module_closure("proofcheck.catalogue.shamir2018.theorem1")}
    assert {"theorem1.py", "assumptions.py", "claims.py", "__init__.py"} <= files
    reg = load_claims()
    claim = reg.get("shamir2018.theorem1")
    material = ResultCache("/nonexistent").key_material(
        claim, reg.origins[claim.id], engine.get_profile("quick"), 0)
    assert "proofcheck.engine" in material["engine"]
    assert "proofcheck.catalogue.shamir2018.assumptions" in material["module"]
    assert {"numpy", "scipy", "sympy", "mpmath", "python-flint", "hypothesis"} <= set(
        material["versions"])


def test_errors_are_not_cached(tmp_path):
    cache = ResultCache(tmp_path / "cache")
    _faulty(ENDING, jobs=1, claim_timeout=0, cache=cache)
    assert cache.stored == 1                                 # only the verified claim


# ---------------------------------------------------------------------------------------------
# the command line: progress lines, interrupts, cache commands

def _cli(*args, env=None, **kw):
    return subprocess.run([sys.executable, "-m", "proofcheck.cli", *args], capture_output=True,
                          text=True, timeout=300, env=env, **kw)


def _env(tmp_path):
    env = dict(os.environ, PROOFCHECK_CACHE_DIR=str(tmp_path / "cache"))
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


def test_cli_progress_lines_cache_marks_and_cache_commands(tmp_path):
    env = _env(tmp_path)
    args = ("check", "--path", str(GOOD), "--profile", "quick", "--jobs", "2")
    cold = _cli(*args, "--format", "json", env=env)
    assert cold.returncode == 1, cold.stderr               # runner.lemma2 is refuted
    assert re.search(r"^\[3/3\] runner\.lemma\d (verified|refuted) \(\d+\.\d s\)$",
                     cold.stderr, re.M), cold.stderr
    warm = _cli(*args, env=env)
    assert "cached: 3 of 3 results were not re-run" in warm.stdout
    assert "(cached, " in warm.stderr
    info = _cli("cache", "info", "--format", "json", env=env)
    assert json.loads(info.stdout)["entries"] == 3
    assert json.loads(info.stdout)["directory"] == str(tmp_path / "cache")
    cleared = _cli("cache", "clear", env=env)
    assert "removed 3 cached results" in cleared.stdout
    again = _cli(*args, "--no-cache", "--format", "json", env=env)
    assert not any(c["cached"] for c in json.loads(again.stdout)["claims"])


def test_a_run_that_stores_its_own_counterexample_is_cached_for_the_next(tmp_path):
    """The refuted claim stores its witness in the failure database, which is part of the cache
    key: the unchanged claim is still not re-run (and not reported weaker, from a replay)."""
    env = dict(_env(tmp_path), PROOFCHECK_WITNESS_DB=str(tmp_path / "db"))
    args = ("check", "--path", str(GOOD), "--profile", "quick", "--jobs", "1", "--format",
            "json")
    cold = json.loads(_cli(*args, env=env).stdout)
    assert any(tmp_path.joinpath("db").rglob("*.json"))          # the witness was stored
    warm = json.loads(_cli(*args, env=env).stdout)
    assert all(c["cached"] for c in warm["claims"])
    assert [c["verdict"] for c in warm["claims"]] == [c["verdict"] for c in cold["claims"]]


def test_cli_faulty_claims_are_errors_and_the_run_goes_on(tmp_path):
    """Every claim of FAULTY (the hanging one too) through the command line. The time limit
    is long enough for the others on a loaded machine; the verified claim's verdict is only
    required when it did not itself run out of time (a timeout is an error, exit 3 all the
    same), so the outcome does not depend on the load."""
    res = _cli("check", "--path", str(FAULTY), "--profile", "quick", "--format", "json",
               "--claim-timeout", "3", "--no-cache", "--jobs", "2", env=_env(tmp_path))
    assert res.returncode == 3, res.stderr
    doc = json.loads(res.stdout)
    verdicts = {c["id"]: (c["verdict"], c.get("error") or "") for c in doc["claims"]}
    assert list(verdicts) == [f"faulty.lemma{k}" for k in range(1, 6)]
    assert verdicts["faulty.lemma1"][0] == "verified" or \
        verdicts["faulty.lemma1"][1].endswith("timed out after 3 s")
    assert all(verdicts[f"faulty.lemma{k}"][0] == "error" for k in range(2, 6))
    assert verdicts["faulty.lemma4"][1].endswith("timed out after 3 s")
    assert doc["partial"] is False


HANGS = """
import time
from hypothesis import strategies as st
from proofcheck import Claim, Instance, Margin, Source

def _hangs(inst, point, B):
    while True:
        time.sleep(0.05)

hangs = Claim(id="slow.lemma1", title="never returns", source=Source("slow", "1", "Lemma 1"),
              statement="a >= a", conclusion=_hangs,
              instances=lambda assumed: st.floats(0, 1).map(lambda a: Instance(a=a)))
"""


def test_sigint_writes_a_partial_report_and_exits_130(tmp_path):
    users = tmp_path / "claims"
    shutil.copytree(GOOD, users)
    (users / "slow.py").write_text(HANGS)
    proc = subprocess.Popen(
        [sys.executable, "-m", "proofcheck.cli", "check", "--path", str(users), "--profile",
         "quick", "--format", "json", "--jobs", "1", "--no-cache", "--claim-timeout", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(tmp_path))
    lines = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        lines.append(line)
        if line.startswith("[3/4]") or not line:
            break
    assert lines[-1].startswith("[3/4]"), lines
    time.sleep(0.5)                         # the hanging claim is (most likely) running now
    proc.send_signal(signal.SIGINT)
    # the claim never returns and has no time limit: only the interrupt can end the run (the
    # 120 s are a guard against a hung test, not a speed requirement)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == EXIT_INTERRUPTED, err
    doc = json.loads(out)
    assert doc["partial"] is True
    assert [c["id"] for c in doc["claims"]] == ["runner.lemma1", "runner.lemma2",
                                                "runner.lemma3"]
    assert "interrupted" in err and "partial report: interrupted after 3 of 4 claims" in err


def test_line_progress_format():
    import io

    from proofcheck.results import ClaimResult, Verdict

    buf = io.StringIO()
    lp = LineProgress(128, buf)
    lp.done = 26
    lp.result(ClaimResult("kb2019.theorem2", "t", "s", Verdict.VERIFIED, seconds=12.34))
    assert buf.getvalue() == "[27/128] kb2019.theorem2 verified (12.3 s)\n"


# ---------------------------------------------------------------------------------------------
# dask.distributed

def test_scheduler_runs_claims_on_a_dask_cluster():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        _, on_dask = _run([GOOD], scheduler=cluster.scheduler_address)
    _, local = _run([GOOD], jobs=1)
    assert not report_differences(_normalised(on_dask), _normalised(local))


# ---------------------------------------------------------------------------------------------
# the necessity map on the runner

def test_necessity_map_on_workers_is_the_in_process_map():
    from proofcheck.runner import run_necessity
    from proofcheck.search import Budget

    reg = load_claims([str(FIXTURES / "necessity")])
    maps = [run_necessity(reg.claims, Budget(instances=40), seed=3, origins=reg.origins,
                          jobs=j) for j in (0, 1, 2)]

    def strip(m):
        return [{k: v for k, v in e.to_dict().items() if k != "spent"} for e in m.entries]

    assert [e.verdict for e in maps[1].entries] == ["necessary",
                                                   "no counterexample within budget"]
    assert strip(maps[0]) == strip(maps[1]) == strip(maps[2])
    assert not any(m.partial for m in maps)


def test_workers_stop_when_the_parent_is_killed(tmp_path):
    users = tmp_path / "claims"
    users.mkdir()
    (users / "slow.py").write_text(HANGS)
    proc = subprocess.Popen(
        [sys.executable, "-m", "proofcheck.cli", "check", "--path", str(users), "--jobs", "1",
         "--no-cache", "--claim-timeout", "0", "--profile", "quick"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(tmp_path))
    worker = None
    deadline = time.monotonic() + 60
    while worker is None and time.monotonic() < deadline:
        time.sleep(0.5)
        out = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True)
        worker = int(out.stdout.split()[0]) if out.stdout.split() else None
    assert worker is not None
    time.sleep(1.0)
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 120     # a guard against a hung test (the worker polls its
    while time.monotonic() < deadline:    # parent once a second), not a speed requirement
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            break
        time.sleep(0.25)
    else:
        os.kill(worker, signal.SIGKILL)
        pytest.fail("the worker outlived its killed parent")


def test_line_progress_heartbeat_names_the_running_claim():
    import io

    buf = io.StringIO()
    lp = LineProgress(3, buf, heartbeat=0.0)
    lp("kb2019.remark1", "numeric", 0, 1)
    assert buf.getvalue().startswith("[0/3] still running: kb2019.remark1 (")


def test_line_progress_counts_a_claim_done_with_its_last_task():
    """Necessity searches are tasks per (claim, hypothesis): each writes its line, the claim
    counts as done with its last task and then leaves the 'still running' line."""
    import io

    buf = io.StringIO()
    lp = LineProgress(2, buf, heartbeat=0.0)
    lp("a.claim", "necessity of h1", 0, 1)
    lp.task_done("a.claim", "without h1: necessary", last=False)
    lp.task_done("a.claim", "without h2: no counterexample within budget", last=True)
    lines = buf.getvalue().splitlines()
    assert lines[1] == "[0/2] a.claim without h1: necessary"
    assert lines[2] == "[1/2] a.claim without h2: no counterexample within budget"
    lp("b.claim", "necessity of h1", 0, 1)
    assert "a.claim" not in buf.getvalue().splitlines()[-1]
