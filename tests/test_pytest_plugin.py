"""The pytest plugin (``pytest --proofcheck``), run through pytest's own ``pytester``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from _pytester_guard import import_everything_first

import proofcheck.engine
from proofcheck.catalog import load_claims
from proofcheck.results import CheckRecord, ClaimResult, EvidenceKind, Verdict, Witness

pytest_plugins = ["pytester"]


@pytest.fixture(scope="module", autouse=True)
def _nothing_first_imported_inside_pytester():
    """In-process pytester runs drop the modules first imported inside them
    (tests/_pytester_guard.py): import them all before the first run."""
    import_everything_first()

USER = Path(__file__).parent / "fixtures" / "user_claims"
RAISING = Path(__file__).parent / "fixtures" / "raising_claim" / "raising.py"


@pytest.fixture
def user_claims(pytester: pytest.Pytester) -> Path:
    folder = pytester.path / "my_theorems"
    shutil.copytree(USER, folder)
    return folder


def test_without_the_option_the_plugin_adds_nothing(pytester: pytest.Pytester, user_claims):
    pytester.makepyfile(test_plain="def test_one():\n    assert 1 + 1 == 2\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("*proofcheck (*")
    assert "mine.lemma" not in result.stdout.str()


def test_importing_the_plugin_stays_light():
    """Every pytest run in an environment with proofcheck installed imports the plugin."""
    code = ("import sys, proofcheck.pytest_plugin; "
            "heavy = [m for m in ('numpy', 'sympy', 'mpmath', 'proofcheck.engine') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_refuted_user_claim_fails_with_its_witness(pytester: pytest.Pytester, user_claims):
    pytester.makepyfile(test_plain="def test_one():\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "--proofcheck", str(user_claims),
                                "--proofcheck-profile", "quick")
    result.assert_outcomes(passed=2, failed=1)       # ordinary tests still run
    out = result.stdout.str()
    result.stdout.fnmatch_lines([
        "*mine.lemma2 is refuted (MINE §1, Lemma 2)*",
        "*witness from conclusion: margin -* < -tol *",
        '*instance: {"a": *}*',
    ])
    # the printed witness is a real counterexample to a^2 >= a
    line = next(x for x in out.splitlines() if 'instance: {"a":' in x)
    a = float(line.split('"a":')[1].strip(" }"))
    assert a * a < a
    result.stdout.fnmatch_lines(["*proofcheck (quick profile, seed 0): 1 verified, 1 refuted*"])


def test_node_ids_are_claim_ids_and_k_selects(pytester: pytest.Pytester, user_claims):
    pytester.makepyfile(test_plain="def test_one():\n    pass\n")
    collected = pytester.runpytest("--collect-only", "-q", "-p", "no:cacheprovider",
                                   "--proofcheck", str(user_claims))
    collected.stdout.fnmatch_lines(["mine.lemma1", "mine.lemma2"])
    only = pytester.runpytest("-p", "no:cacheprovider", "-k", "lemma1", "-m", "proofcheck",
                              "--proofcheck", str(user_claims), "--proofcheck-profile", "quick")
    only.assert_outcomes(passed=1, deselected=2)     # lemma2 (by -k) and test_one (by -m)


def test_broken_module_and_raising_claim_are_errors(pytester: pytest.Pytester, user_claims):
    (user_claims / "broken.py").write_text("raise ImportError('no module named foo')\n")
    shutil.copy(RAISING, user_claims)
    result = pytester.runpytest("--proofcheck", str(user_claims), "--proofcheck-profile",
                                "quick", "-p", "no:cacheprovider", "-k", "not lemma2")
    result.assert_outcomes(passed=1, errors=2, deselected=1)
    result.stdout.fnmatch_lines([
        "*proofcheck could not load *broken.py: ImportError: no module named foo*",
        "*proofcheck error in mine.lemma3: mine.lemma3: *not aligned*",
    ])


def _fake_result(claim, verdict: Verdict) -> ClaimResult:
    witness = Witness("conclusion", -0.5, 1e-13, False, "float64 only", {"a": 0.5})
    check = {
        Verdict.VERIFIED: CheckRecord("conclusion", EvidenceKind.NUMERIC_SEARCH, True, "",
                                      instances=42),
        Verdict.INCONCLUSIVE: CheckRecord("conclusion", EvidenceKind.NUMERIC_SEARCH, None, "",
                                          instances=3, vacuous_instances=3),
        Verdict.ERRATUM: CheckRecord("conclusion", EvidenceKind.NUMERIC_SEARCH, False, "",
                                     instances=9, witness=witness),
    }[verdict]
    corrected = ClaimResult(claim.id, "c", "s", Verdict.VERIFIED, checks=[
        CheckRecord("conclusion", EvidenceKind.NUMERIC_SEARCH, True, "", instances=7)])
    return ClaimResult(claim.id, claim.title, str(claim.source), verdict,
                       point_kind="local minimum", checks=[check],
                       corrected=corrected if verdict is Verdict.ERRATUM else None)


def test_verdicts_map_to_outcomes(pytester: pytest.Pytester, user_claims, monkeypatch):
    """Inconclusive is skipped with its reason and an erratum xfails: neither is a pass."""
    calls = []
    verdicts = {"mine.lemma1": Verdict.INCONCLUSIVE, "mine.lemma2": Verdict.ERRATUM}

    def fake_check_claim(claim, *, profile, seed, **kw):
        calls.append((claim.id, getattr(profile, "name", profile), seed))
        return _fake_result(claim, verdicts[claim.id])

    monkeypatch.setattr(proofcheck.engine, "check_claim", fake_check_claim)
    result = pytester.runpytest("--proofcheck", str(user_claims), "-p", "no:cacheprovider",
                                "--proofcheck-profile", "thorough", "--proofcheck-seed", "5",
                                "--proofcheck-jobs", "0", "-rsx")   # in-process: the fake runs
    result.assert_outcomes(skipped=1, xfailed=1)
    result.stdout.fnmatch_lines([
        "*SKIPPED*inconclusive: vacuous here: no local minimum found in 3 instances*",
        "*XFAIL*erratum: the printed statement is refuted (margin -0.5 < -tol 1e-13);"
        " corrected statement verified: no counterexample in 7 instances*",
    ])
    assert sorted(calls) == [("mine.lemma1", "thorough", 5), ("mine.lemma2", "thorough", 5)]


def test_bad_profile_is_a_usage_error(pytester: pytest.Pytester):
    result = pytester.runpytest("--proofcheck", "--proofcheck-profile", "fast")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*invalid choice: 'fast'*"])


def test_without_paths_the_bundled_catalogue_is_collected(pytester: pytest.Pytester):
    expected = [c.id for c in load_claims().claims]
    result = pytester.runpytest("--proofcheck", "--collect-only", "-q", "-p", "no:cacheprovider")
    collected = [line for line in result.stdout.lines if line.startswith(tuple(
        {i.split(".")[0] + "." for i in expected}))]
    assert collected == expected
    header = pytester.runpytest("--proofcheck", "--collect-only", "-p", "no:cacheprovider")
    header.stdout.fnmatch_lines(["proofcheck: the bundled catalogue (profile default, seed 0)"])


def test_engine_profiles_are_hypothesis_profiles(pytester):
    """--proofcheck-profile also loads the matching Hypothesis settings profile, so a user's own
    @given tests in the same run get the same example budget."""
    from proofcheck.engine import PROFILES
    pytester.makepyfile(test_budget=(
        "from hypothesis import settings\n"
        "def test_budget():\n"
        "    assert settings().max_examples == %d\n" % PROFILES["quick"].instances))
    empty = pytester.mkdir("no_claims")
    from hypothesis import settings
    before = settings._current_profile      # the in-process run loads a profile globally
    try:
        result = pytester.runpytest_inprocess("test_budget.py", "--proofcheck-profile", "quick",
                                              "--proofcheck", str(empty))
    finally:
        settings.load_profile(before)
    result.assert_outcomes(passed=1)
