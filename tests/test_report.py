"""The report renderers on hand-built runs (no engine involved)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from rich.console import Console

from proofcheck import report
from proofcheck.results import (SCHEMA_VERSION, CheckRecord, ClaimResult, EvidenceKind,
                                MutantResult, RunResult, Verdict, Witness)

SIZES = [{"d_x": dx, "d_y": dy} for dx in (1, 2, 3) for dy in (1, 2)]


def _witness(margin=-0.25, tol=1e-13, certified=False, instance=None):
    return Witness(check="conclusion", margin=margin, tolerance=tol, certified=certified,
                   certification="confirmed at mpmath 50 digits; not interval-certified",
                   instance=instance if instance is not None else {"a": 0.5, "X": [[1, 2]]},
                   detail="lhs=0.25 rhs=0.5")


def _numeric(passed=True, instances=200, min_margin=1e-3, tol=2e-13, witness=None, **kw):
    return CheckRecord(name="conclusion", kind=EvidenceKind.NUMERIC_SEARCH, passed=passed,
                       summary="engine summary", instances=instances, precision="float64",
                       min_margin=min_margin, tolerance=tol,
                       tolerance_source="numpy: n_ops * cond * u * scale", witness=witness,
                       seconds=0.5, **kw)


def _symbolic(sizes=SIZES, passed=True):
    return CheckRecord(name="vec_kron", kind=EvidenceKind.SYMBOLIC_PROOF, passed=passed,
                       summary="", sizes=sizes, precision="exact", min_margin=0.0,
                       tolerance=0.0, tolerance_source="exact arithmetic", seconds=0.25)


def make_run() -> RunResult:
    verified = ClaimResult(
        "kb2019.theorem1", "no bad local minima", "KB2019 §3.1, Theorem 1, eq. (5)",
        Verdict.VERIFIED, statement="L(W,V,θ) <= L*_{x} | at every local minimum",
        point_kind="local minimum",
        checks=[_symbolic(), _numeric(points=12, min_margin=0.125, tol=3e-12)],
        mutants=[MutantResult("flip", "flipped inequality", "<= becomes >=", True,
                              "conclusion", _witness(-1.0)),
                 MutantResult("drop_A1", "dropped hypothesis", "without A1", False)],
        seconds=1.5)
    refuted = ClaimResult(
        "mine.lemma2", "a square dominates its base", "MINE §1, Lemma 2", Verdict.REFUTED,
        statement="a^2 >= a", checks=[_numeric(passed=False, min_margin=-0.25, tol=1.8e-13,
                                               witness=_witness())], seconds=0.25)
    corrected = ClaimResult("kb2019.theorem2", "corrected", "KB2019 §3.2, Theorem 2",
                            Verdict.VERIFIED, statement="the corrected bound",
                            checks=[_numeric(instances=150)])
    erratum = ClaimResult(
        "kb2019.theorem2", "Theorem 2 as printed", "KB2019 §3.2, Theorem 2", Verdict.ERRATUM,
        statement="the printed bound", erratum="P_N[M] is applied on the wrong side",
        checks=[_numeric(passed=False, min_margin=-2.0, witness=_witness(-2.0, certified=True))],
        corrected=corrected, seconds=2.0)
    vacuous = ClaimResult(
        "kb2019.corollary1", "at local minima", "KB2019 §3.3, Corollary 1",
        Verdict.INCONCLUSIVE, point_kind="local minimum",
        checks=[_numeric(passed=None, instances=6, vacuous_instances=6, min_margin=None,
                         tol=None)])
    broken = ClaimResult("mine.lemma3", "broken", "MINE §2, Lemma 3", Verdict.ERROR,
                         error="mine.lemma3: ValueError: shapes (2,3) and (2,3) not aligned")
    return RunResult([verified, refuted, erratum, vacuous, broken], profile="quick", seed=7,
                     seconds=4.25, proofcheck_version="0.1.0")


# ---------------------------------------------------------------------------------------------
# wording


def test_numeric_evidence_never_says_proven():
    phrase = report.evidence_phrase(_numeric(instances=137))
    assert phrase == "no counterexample in 137 instances"
    assert "proven" not in phrase


def test_symbolic_sweep_counts_its_sizes():
    assert report.evidence_phrase(_symbolic()) == \
        f"proven at {len(SIZES)} sizes with d_x in 1..3, d_y in 1..2"
    two = report.evidence_phrase(_symbolic(sizes=SIZES[:2]))
    assert two == "proven at sizes (d_x=1, d_y=1), (d_x=1, d_y=2)"


def test_vacuous_local_minimum_claim_is_called_vacuous():
    check = _numeric(passed=None, instances=6, vacuous_instances=6)
    assert report.evidence_phrase(check, "local minimum") == \
        "vacuous here: no local minimum found in 6 instances"
    partial = _numeric(instances=6, vacuous_instances=2, points=5)
    assert report.evidence_phrase(partial, "local minimum") == \
        "no counterexample at 5 certified local minima of 4 instances; 2 more vacuous " \
        "(no local minimum found)"
    assert report.evidence_phrase(partial, "critical point").startswith(
        "no counterexample at 5 certified critical points of 4 instances")


def test_witness_phrase_says_whether_certified():
    assert "not certified" in report.witness_phrase(
        Witness("c", -1.0, 1e-12, False, "float64 only"))
    assert "(certified: exact rational)" in report.witness_phrase(
        Witness("c", -1.0, 1e-12, True, "exact rational"))


def test_margin_phrase_uses_the_tolerance_of_the_worst_check():
    r = make_run().claims[0]
    # the symbolic check has margin 0 (tol 0), the numeric one 0.125 (tol 3e-12)
    assert report.margin_phrase(r) == "0 / 0"
    assert report.margin_phrase(make_run().claims[3]) == "-"


# ---------------------------------------------------------------------------------------------
# JSON


def test_json_is_strict_versioned_and_stable():
    run = make_run()
    text = report.to_json(run)

    def reject(constant):
        raise AssertionError(f"non-standard JSON constant {constant}")

    data = json.loads(text, parse_constant=reject)
    assert next(iter(data)) == "schema_version"
    assert data["schema_version"] == SCHEMA_VERSION
    assert text == report.to_json(make_run())                  # stable
    assert [c["id"] for c in data["claims"]] == [c.claim_id for c in run.claims]
    for c in data["claims"]:
        assert list(c) == sorted(c)
    assert data["counts"] == run.counts()


def test_json_evidence_block_aggregates_the_checks():
    run = make_run()
    data = json.loads(report.to_json(run))
    first, err = data["claims"][0], data["claims"][4]
    ev = first["evidence"]
    assert ev["instances"] == sum(c.instances for c in run.claims[0].checks)
    assert ev["sizes_proven"] == SIZES
    assert ev["min_margin"] == run.claims[0].min_margin
    assert ev["tolerance_source"] == "exact arithmetic"
    assert first["mutants"]["total"] == 2 and first["mutants"]["caught"] == 1
    assert err["verdict"] == "error" and "not aligned" in err["error"]
    erratum = data["claims"][2]
    assert erratum["corrected"]["evidence"]["instances"] == 150
    assert erratum["witnesses"][0]["margin"] == -2.0


def test_json_writes_non_finite_numbers_as_strings():
    run = make_run()
    run.claims[0].checks[1].min_margin = float("-inf")
    data = json.loads(report.to_json(run))
    assert data["claims"][0]["evidence"]["min_margin"] == "-inf"


# ---------------------------------------------------------------------------------------------
# Markdown


def test_markdown_table_and_sections():
    run = make_run()
    md = report.to_markdown(run)
    rows = [line for line in md.splitlines() if line.startswith("| `")]
    # the verdict table plus the mutant table of the first claim
    assert len(rows) == len(run.claims) + len(run.claims[0].mutants)
    for r in run.claims:
        assert f"## `{r.claim_id}`" in md
        assert f"**{r.verdict.value}**" in md
    # pipes inside a cell are escaped, so every table row keeps 6 cells
    verified_row = next(line for line in rows if "kb2019.theorem1" in line)
    assert verified_row.replace("\\|", "").count("|") == 7
    assert "### Erratum" in md and "P_N[M] is applied on the wrong side" in md
    assert "### Corrected statement (verified)" in md and "the corrected bound" in md
    assert '"a": 0.5' in md                                    # the witness instance
    assert "### Mutants (1/2 caught)" in md and "| **no** |" in md
    assert "vacuous here: no local minimum found in 6 instances" in md


# ---------------------------------------------------------------------------------------------
# JUnit


def test_junit_outcomes():
    run = make_run()
    root = ET.fromstring(report.to_junit(run))
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert len(cases) == len(run.claims)                  # one case per claim, errata too
    assert cases["kb2019.theorem1"].find("failure") is None
    assert cases["kb2019.theorem1"].find("skipped") is None
    failure = cases["mine.lemma2"].find("failure")
    assert "margin -0.25" in failure.get("message") and '"a": 0.5' in failure.text
    # an erratum whose correction is verified passes; the printed refutation is kept
    erratum = cases["kb2019.theorem2"]
    assert erratum.find("failure") is None and erratum.find("error") is None
    props = {p.get("name"): p.get("value") for p in erratum.iter("property")}
    assert props["verdict"] == "erratum"
    assert props["as_printed"].startswith("refuted: ")
    assert props["corrected"].startswith("verified")
    assert "ERRATUM" in erratum.find("system-out").text
    skipped = cases["kb2019.corollary1"].find("skipped")
    assert "no local minimum found" in skipped.get("message")
    assert "not aligned" in cases["mine.lemma3"].find("error").get("message")
    assert root.get("tests") == str(len(cases))
    assert (root.get("failures"), root.get("errors"), root.get("skipped")) == ("1", "1", "1")
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"kb2019", "mine"}
    assert sum(int(s.get("tests")) for s in suites.values()) == len(cases)


@pytest.mark.parametrize("verdicts", [("verified", "erratum"), ("verified", "inconclusive"),
                                      ("erratum", "refuted"), ("verified", "error")])
def test_junit_agrees_with_the_exit_code(verdicts):
    """A run that exits 0 has no JUnit failure or error; one that exits 1 has a failure and
    no error; one that exits 3 has an error."""
    from proofcheck.cli import EXIT_ERROR, EXIT_OK, EXIT_REFUTED, exit_code
    from proofcheck.results import ClaimResult, RunResult, Verdict
    claims = [ClaimResult(f"demo.lemma{k}", "t", "s", Verdict(v), error="boom"
                          if v == "error" else None) for k, v in enumerate(verdicts)]
    run = RunResult(claims, "quick", 0)
    root = ET.fromstring(report.to_junit(run))
    failures, errors = int(root.get("failures")), int(root.get("errors"))
    code = exit_code(run)
    assert (code == EXIT_OK) == (failures == 0 and errors == 0)
    assert (code == EXIT_REFUTED) == (failures > 0 and errors == 0)
    assert (code == EXIT_ERROR) == (errors > 0)


# ---------------------------------------------------------------------------------------------
# terminal


def test_terminal_table_and_details():
    console = Console(record=True, width=220, color_system=None)
    report.render_terminal(make_run(), console)
    text = console.export_text()
    for verdict in ("verified", "refuted", "erratum", "inconclusive", "error"):
        assert verdict in text
    assert f"proven at {len(SIZES)} sizes" in text
    assert "no counterexample at 12 certified local minima of 200 instances" in text
    assert "vacuous here: no local minimum found" in text
    assert "mine.lemma2 witness" in text and '"a": 0.5' in text
    assert "kb2019.theorem2 erratum:" in text and "the corrected bound" in text
    assert "mutants not caught: drop_A1" in text
    assert "1 verified, 1 refuted, 1 erratum, 1 inconclusive, 1 error" in text


def test_render_rejects_unknown_format():
    with pytest.raises(ValueError, match="unknown report format 'pdf'"):
        report.render(make_run(), "pdf")


def test_exact_random_evidence_is_called_a_randomized_test():
    check = CheckRecord("trace_step", EvidenceKind.EXACT_RANDOM, True, "", sizes=SIZES,
                        precision="exact")
    phrase = report.evidence_phrase(check)
    assert phrase == ("exact at random rational points at 6 sizes with d_x in 1..3, "
                      "d_y in 1..2 (randomized identity test)")
    assert "proven" not in phrase


def test_identical_phrases_are_counted_once_and_identities_are_exact():
    r = ClaimResult("kb2019.lemma1", "t", "s", Verdict.VERIFIED,
                    checks=[_symbolic(), _symbolic()])
    for c in r.checks:
        c.min_margin = None
    assert report.claim_evidence(r) == \
        f"proven at {len(SIZES)} sizes with d_x in 1..3, d_y in 1..2 (2 checks)"
    assert report.margin_phrase(r) == "exact"


def test_terminal_truncates_big_witness_instances_but_json_keeps_them():
    run = make_run()
    big = [[float(i + j) for j in range(40)] for i in range(40)]
    run.claims[1].checks[0].witness = _witness(instance={"X": big})
    console = Console(record=True, width=200, color_system=None)
    report.render_terminal(run, console)
    assert "(truncated; --format json has the full instance)" in console.export_text()
    data = json.loads(report.to_json(run))
    assert data["claims"][1]["witnesses"][0]["instance"]["X"] == big


def test_load_errors_appear_in_every_format():
    errors = [("theirs/broken.py", "ImportError: no module named foo")]
    run = make_run()
    assert json.loads(report.to_json(run))["load_errors"] == []
    assert json.loads(report.render(run, "json", load_errors=errors))["load_errors"] == \
        [{"module": "theirs/broken.py", "message": "ImportError: no module named foo"}]
    assert "- `theirs/broken.py`: ImportError" in report.to_markdown(run, load_errors=errors)
    root = ET.fromstring(report.to_junit(run, load_errors=errors))
    case = next(c for c in root.iter("testcase") if c.get("name") == "theirs/broken.py")
    assert "no module named foo" in case.find("error").get("message")
    assert root.get("errors") == "2"                   # the broken claim and the module
    console = Console(record=True, width=200, color_system=None)
    report.render_terminal(run, console, load_errors=errors)
    assert "could not load theirs/broken.py: ImportError" in console.export_text()
