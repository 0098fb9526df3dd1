"""Determinism: the same seed and profile give byte-identical JSON apart from timings.

One cheap claim of each paper (one of them a depth-and-width claim about certified local minima
of a piecewise-linear network, whose float64 descent used to depend on the process's memory
state) is checked twice, in two processes with different ``PYTHONHASHSEED`` values, without
the result cache or the failure database; the reports must agree byte for byte once the
``seconds`` and ``cached_at`` keys are dropped, and no timing text (``[0.29 s]``) may appear
inside a summary or ``caught_by`` string.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from proofcheck.results import report_differences, without_timings

# leaf ids (an id also selects the claims below it); one erratum among them, so a witness is
# in the comparison too
CLAIMS = (
    "kb2019.lemma2.perturbed_first_order",
    "khk2019dw.corollary2",      # certified local minima of a ReLU network (piecewise finder)
    "khk2019lm.theorem1.tangent_space",
    "shamir2018.figure1.objective",
)
TIMING_TEXT = re.compile(r"\[\s*[0-9.eE+-]+\s*s\]")


def _strings_under(obj: Any, keys: tuple[str, ...]) -> list[str]:
    """Every string (also inside lists) stored under one of ``keys`` anywhere in ``obj``."""
    out: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in keys:
                stack = [v]
                while stack:
                    x = stack.pop()
                    if isinstance(x, str):
                        out.append(x)
                    elif isinstance(x, list):
                        stack.extend(x)
            out += _strings_under(v, keys)
    elif isinstance(obj, list):
        for v in obj:
            out += _strings_under(v, keys)
    return out


def _run(tmp: Path, hash_seed: str, name: str) -> str:
    out = tmp / f"{name}.json"
    env = dict(os.environ, PYTHONHASHSEED=hash_seed, PROOFCHECK_WITNESS_DB="none")
    proc = subprocess.run(
        [sys.executable, "-m", "proofcheck.cli", "check", *CLAIMS, "--profile", "quick",
         "--seed", "0", "--no-cache", "--witness-db", "none", "-j", "0", "--format", "json",
         "-o", str(out)],
        cwd=tmp, env=env, capture_output=True, text=True, timeout=300)
    assert out.exists(), f"no report (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return out.read_text()


def test_same_seed_gives_identical_json_across_hash_seeds(tmp_path: Path) -> None:
    a = json.loads(_run(tmp_path, "1", "a"))
    b = json.loads(_run(tmp_path, "2", "b"))
    assert sorted(c["id"] for c in a["claims"]) == sorted(CLAIMS)
    assert not [c["id"] for c in a["claims"] if c["verdict"] == "error"]
    sa = json.dumps(without_timings(a), sort_keys=True, indent=1)
    sb = json.dumps(without_timings(b), sort_keys=True, indent=1)
    if sa != sb:
        import difflib
        diff = "\n".join(list(difflib.unified_diff(sa.splitlines(), sb.splitlines(),
                                                   lineterm="", n=1))[:60])
        raise AssertionError("reports differ between PYTHONHASHSEED=1 and 2:\n" + diff)
    # the depth-and-width claim did certify points (the comparison is not vacuous)
    dw = next(c for c in a["claims"] if c["id"] == "khk2019dw.corollary2")
    assert "certified local minim" in json.dumps(dw)
    for text in _strings_under(a, ("summary", "caught_by")):
        assert not TIMING_TEXT.search(text), f"timing text in {text!r}"


# ---------------------------------------------------------------------------------------------
# a claim's result does not depend on what ran before it in its worker

LEAKY = '''"""Claims that change process-global state, and claims whose result would show it."""

import mpmath
import numpy as np
from hypothesis import strategies as st

from proofcheck import Claim, Instance, Margin, Source

SEEN = []          # module state: a claim appends to it


def _claim(n, conclusion):
    return Claim(id=f"leaky.lemma{n}", title=f"lemma {n}", source=Source("leaky", "1", str(n)),
                 statement="a^2 + 1 >= 1", conclusion=conclusion,
                 instances=lambda assumed: st.integers(0, 3).map(lambda a: Instance(a=a)))


def _leaks(inst, point, B):
    mpmath.mp.dps = 60                 # never restored
    np.random.seed(12345)              # the global generator, reseeded
    SEEN.append(inst.a)                # module state
    return Margin.at_least(inst.a * inst.a + 1.0, 1.0, B)


def _reads(inst, point, B):
    # at least 1, more by what earlier claims left behind: the precision mpmath is at, the
    # global generator's next draw, the module state
    rounding = float(abs(mpmath.sqrt(2) ** 2 - 2))
    extra = rounding + 1e-3 * float(np.random.random()) + 1e-6 * len(SEEN)
    return Margin.at_least(inst.a * inst.a + 1.0 + extra, 1.0, B)


leaks = _claim(1, _leaks)
reads = _claim(2, _reads)
'''


def _leaky(tmp_path: Path) -> Path:
    folder = tmp_path / "leaky"
    folder.mkdir(exist_ok=True)
    (folder / "leaky.py").write_text(LEAKY)
    return folder


def _claim_json(run: Any, claim_id: str) -> str:
    doc = next(c for c in run.to_dict()["claims"] if c["id"] == claim_id)
    return json.dumps(without_timings(doc), sort_keys=True)


def test_a_claims_result_does_not_depend_on_what_ran_before_it_in_its_worker(tmp_path):
    """``leaky.lemma1`` changes mpmath's precision, reseeds numpy's global generator and
    appends to its module's state; ``leaky.lemma2``'s margin shows all three. Checked after
    lemma1 in the same worker (``jobs=1``), alone, in another worker (``jobs=2``) and in this
    process (``jobs=0``: no fork, the runner restores what it can), lemma2's JSON is the
    same; and a claim that draws from the global generators gets the same draws every run."""
    from proofcheck.catalog import load_claims
    from proofcheck.runner import run_claims

    reg = load_claims([str(_leaky(tmp_path))])
    assert [c.id for c in reg.claims] == ["leaky.lemma1", "leaky.lemma2"]
    both = reg.claims
    alone = [c for c in reg.claims if c.id == "leaky.lemma2"]

    def run(claims, jobs):
        return run_claims(claims, origins=reg.origins, profile="quick", seed=0, jobs=jobs,
                          cache=None)

    after = run(both, 1)                # one worker: lemma1 runs first (catalogue order)
    assert [c.verdict.value for c in after.claims] == ["verified", "verified"]
    reference = _claim_json(run(alone, 1), "leaky.lemma2")
    assert _claim_json(after, "leaky.lemma2") == reference
    assert _claim_json(run(both, 2), "leaky.lemma2") == reference
    assert _claim_json(run(alone, 1), "leaky.lemma2") == reference      # a new worker
    # in this process the runner seeds and restores the globals around each claim
    import mpmath

    here = run(both, 0)
    assert mpmath.mp.dps == 15
    assert _claim_json(here, "leaky.lemma2") == _claim_json(run(alone, 0), "leaky.lemma2")


# ---------------------------------------------------------------------------------------------
# the whole catalogue, --jobs 1 against --jobs 2 (opt-in: several minutes on two cores)

@pytest.mark.slow
def test_whole_catalogue_same_json_for_jobs_1_and_2(tmp_path: Path) -> None:
    """``proofcheck check`` (every claim, default profile, seed 0) with one worker and with
    two gives the same JSON once timings are dropped."""
    docs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"j{jobs}.json"
        env = dict(os.environ, PROOFCHECK_WITNESS_DB="none")
        proc = subprocess.run(
            [sys.executable, "-m", "proofcheck.cli", "check", "--format", "json", "--no-cache",
             "--witness-db", "none", "--no-progress", "--jobs", jobs, "-o", str(out)],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=3600)
        assert out.exists(), f"no report (exit {proc.returncode}):\n{proc.stderr[-2000:]}"
        docs.append(without_timings(json.loads(out.read_text())))
    assert len(docs[0]["claims"]) > 100
    assert not report_differences(docs[0], docs[1])
