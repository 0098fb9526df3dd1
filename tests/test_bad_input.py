"""Broken user claims, end to end: the engine, ``proofcheck check`` and ``pytest --proofcheck``.

The folder tests/fixtures/bad_claims holds one good claim next to claims that are each broken
one way (wrong shapes, NaN data, a non-convex loss declared convex, an unsatisfiable generator,
a margin that raises) and two modules that fail to import. Through every entry point: each
broken claim is an ``error`` whose message names the claim and the cause, the import failures
are reported, the good claim in the same run is still verified, nothing broken counts as
passed, and the CLI exits with 3 (tool/claim error), not 1 (refuted).
"""

from __future__ import annotations

import json
import math
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import strategies as st

from _pytester_guard import import_everything_first

from proofcheck import Claim, Instance, Margin, Source
from proofcheck.catalog import load_claims
from proofcheck.cli import EXIT_ERROR, EXIT_REFUTED, main
from proofcheck.engine import PROFILES, check_claim, check_claims
from proofcheck.results import Verdict


@pytest.fixture(scope="module", autouse=True)
def _nothing_first_imported_inside_pytester():
    """In-process pytester runs drop the modules first imported inside them
    (tests/_pytester_guard.py): import them all before the first run."""
    import_everything_first()


pytest_plugins = ["pytester"]

BAD = Path(__file__).parent / "fixtures" / "bad_claims"
GOOD_ID = "bad.lemma0.cauchy_schwarz"
# claim id -> fragments of the cause its error message must contain
BROKEN = {
    "bad.lemma1.wrong_shapes": ("conclusion of bad.lemma1.wrong_shapes raised ValueError",
                                "matmul", "mismatch"),
    "bad.lemma2.nan_data": ("instance field x of bad.lemma2.nan_data contains NaN",),
    "bad.lemma3.nonconvex_loss": ("used by bad.lemma3.nonconvex_loss does not have the "
                                  "properties it declares", "declared convex",
                                  "Hessian eigenvalue"),
    "bad.lemma4.unsatisfiable": ("instance generator of bad.lemma4.unsatisfiable cannot "
                                 "produce instances with hypotheses H1",),
    "bad.lemma5.raising_margin": ("conclusion of bad.lemma5.raising_margin raised ValueError",
                                  "cond must be >= 1"),
}
# module file -> fragment of its load error
UNLOADABLE = {"broken_import.py": "ModuleNotFoundError: No module named "
                                  "'proofcheck_no_such_module'",
              "broken_syntax.py": "SyntaxError"}
QUICK = PROFILES["quick"]


@pytest.fixture(scope="module")
def registry():
    return load_claims([BAD])


@pytest.fixture(scope="module")
def run(registry):
    return check_claims(registry.claims, profile="quick", seed=0)


def _assert_error_names_claim_and_cause(claim_id: str, message: str) -> None:
    assert message.startswith(f"{claim_id}: "), message
    for fragment in BROKEN[claim_id]:
        assert fragment in message, f"{fragment!r} not in {message!r}"


# ---------------------------------------------------------------------------------------------
# the engine


def test_the_folder_loads_every_claim_and_reports_both_import_failures(registry):
    assert sorted(c.id for c in registry.claims) == sorted([GOOD_ID, *BROKEN])
    reported = {Path(where).name: message for where, message in registry.errors}
    assert set(reported) == set(UNLOADABLE)
    for name, fragment in UNLOADABLE.items():
        assert fragment in reported[name]


@pytest.mark.parametrize("claim_id", sorted(BROKEN))
def test_each_broken_claim_is_an_error_naming_claim_and_cause(run, claim_id):
    (r,) = [r for r in run.claims if r.claim_id == claim_id]
    assert r.verdict is Verdict.ERROR
    _assert_error_names_claim_and_cause(claim_id, r.error)
    # an error is never evidence: no check recorded as passed, no witness, no mutant verdicts
    assert not any(c.passed for c in r.checks)
    assert r.witnesses == [] and r.mutants == []


def test_the_good_claim_in_the_same_run_is_verified_on_its_full_budget(run):
    (r,) = [r for r in run.claims if r.claim_id == GOOD_ID]
    assert r.verdict is Verdict.VERIFIED and r.error == ""
    assert r.checks and all(c.passed is True for c in r.checks)
    (check,) = [c for c in r.checks if c.name == "conclusion"]
    assert check.instances == QUICK.instances
    assert check.min_margin >= -check.tolerance     # the margins it saw really hold
    assert run.counts() == {"verified": 1, "refuted": 0, "erratum": 0, "inconclusive": 0,
                            "error": len(BROKEN)}


def test_an_error_does_not_leak_into_the_claims_checked_after_it(registry, run):
    later_good = check_claims(sorted(registry.claims, key=lambda c: c.id != GOOD_ID)[::-1],
                              profile="quick", seed=0)
    assert later_good.claims[-1].claim_id == GOOD_ID
    assert {r.claim_id: r.verdict for r in later_good.claims} == \
        {r.claim_id: r.verdict for r in run.claims}


@pytest.mark.parametrize("x", [
    float("nan"), [1.0, float("nan")],
    np.float64("inf"),
], ids=["float-nan", "list-nan", "numpy-inf"])
def test_non_finite_scalar_and_list_fields_are_errors_too(x):
    """The NaN fixture uses an ndarray field; plain floats and lists take another path.
    The claim is false for x = inf (x <= 0), so a verdict other than error would be wrong."""
    claim = Claim(id="bad.lemma8.scalar_nan", title="t", source=Source("bad", "8", "Lemma 8"),
                  statement="max x <= 0",
                  conclusion=lambda i, p, B: Margin.at_most(np.max(B.asarray(i.x)), 0.0, B),
                  instances=lambda assumed: st.just(Instance(x=x)))
    r = check_claim(claim, profile="quick")
    assert r.verdict is Verdict.ERROR
    assert r.error.startswith("bad.lemma8.scalar_nan: ") and ("NaN" in r.error
                                                              or "inf" in r.error)


def test_an_overflowing_margin_is_not_verified():
    """Finite data, a false conclusion (10^309 x <= 0 for x in [1, 2]) whose left side
    overflows to inf in float64: the tolerance, proportional to the scale, is inf too, and
    -inf >= -inf passes. Either verdict error or refuted is defensible, verified is not; and
    no check may count as passed on an infinite tolerance (a check that cannot fail), even
    if another check (e.g. a re-evaluation at high precision) refutes the claim."""
    claim = Claim(id="bad.lemma9.overflow", title="t", source=Source("bad", "9", "Lemma 9"),
                  statement="10^309 x <= 0 for x in [1, 2] (false)",
                  conclusion=lambda i, p, B: Margin.at_most(B.asarray(i.x) * 1e308 * 10, 0.0, B),
                  instances=lambda assumed: st.floats(1, 2).map(lambda x: Instance(x=x)))
    with np.errstate(over="ignore"):
        r = check_claim(claim, profile="quick")
    assert r.verdict in (Verdict.ERROR, Verdict.REFUTED), r.summary()
    assert all(math.isfinite(c.tolerance) for c in r.checks if c.passed), r.summary()


# ---------------------------------------------------------------------------------------------
# the CLI


def _cli(*extra: str):
    return CliRunner().invoke(main, ["check", "--path", str(BAD), "--profile", "quick",
                                     *extra], catch_exceptions=False)


def test_cli_json_reports_errors_and_load_failures_and_exits_3():
    res = _cli("--format", "json")
    assert res.exit_code == EXIT_ERROR and res.exit_code != EXIT_REFUTED
    data = json.loads(res.stdout)              # progress went to stderr: stdout is clean JSON
    verdicts = {c["id"]: c["verdict"] for c in data["claims"]}
    assert verdicts == {GOOD_ID: "verified", **{i: "error" for i in BROKEN}}
    assert data["counts"]["verified"] == 1 and data["counts"]["error"] == len(BROKEN)
    assert data["counts"]["refuted"] == 0
    for c in data["claims"]:
        if c["id"] in BROKEN:
            _assert_error_names_claim_and_cause(c["id"], c["error"])
            assert c["witnesses"] == [] and c["mutants"]["total"] == 0
    loads = {Path(e["module"]).name: e["message"] for e in data["load_errors"]}
    assert set(loads) == set(UNLOADABLE)
    assert all(UNLOADABLE[n] in m for n, m in loads.items())


def test_cli_junit_counts_nothing_broken_as_passed():
    res = _cli("--format", "junit", "--no-progress")
    assert res.exit_code == EXIT_ERROR
    cases = {c.get("name"): c for c in ET.fromstring(res.stdout).iter("testcase")}
    passing = [n for n, c in cases.items() if len(c.findall("error")) == 0
               and len(c.findall("failure")) == 0 and len(c.findall("skipped")) == 0]
    assert passing == [GOOD_ID]
    assert {Path(n).name for n, c in cases.items()
            if c.get("classname") == "load-errors"} == set(UNLOADABLE)


# ---------------------------------------------------------------------------------------------
# the pytest plugin


def test_pytest_plugin_errors_each_broken_claim_and_passes_only_the_good_one(
        pytester: pytest.Pytester):
    folder = pytester.path / "bad_claims"
    shutil.copytree(BAD, folder)
    result = pytester.runpytest("-p", "no:cacheprovider", "--proofcheck", str(folder),
                                "--proofcheck-profile", "quick")
    result.assert_outcomes(passed=1, errors=len(BROKEN) + len(UNLOADABLE))
    out = result.stdout.str()
    for claim_id in BROKEN:
        line = next((x for x in out.splitlines()
                     if f"proofcheck error in {claim_id}: " in x), "")
        _assert_error_names_claim_and_cause(claim_id, line.split(
            f"proofcheck error in {claim_id}: ", 1)[-1])
    for name, fragment in UNLOADABLE.items():
        result.stdout.fnmatch_lines([f"*proofcheck could not load *{name}: *{fragment}*"])
    result.stdout.fnmatch_lines(
        [f"*proofcheck (quick profile, seed 0): 1 verified, {len(BROKEN)} error*"])
