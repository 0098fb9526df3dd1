"""The KHK2019LM catalogue, checked end to end at the quick profile, one test per claim.

The tests read what the engine computed and require that it is healthy: no tool errors, no
refuted or undecided claim, every mutant caught, every erratum backed by a witness against the
printed statement and a verified correction, every claim about critical points / local minima
checked at certified points (with every case of its proof hit), and the critical-point claims
checked at saddles or degenerate points too, not only at minima. Each claim is checked once per
test run (tests/conftest.py: ``checked``, the shared result cache).
"""

import json

import pytest

from proofcheck.claims import PointKind
from proofcheck.results import Verdict

PAPER = "khk2019lm"

REQUIRED = [
    "khk2019lm.assumption1", "khk2019lm.assumption2", "khk2019lm.definition1.omega",
    "khk2019lm.lemma1", "khk2019lm.lemma2", "khk2019lm.lemma3",
    "khk2019lm.theorem1", "khk2019lm.theorem1.tangent_space",
    "khk2019lm.theorem2", "khk2019lm.theorem2.chain",
    "khk2019lm.theorem3", "khk2019lm.theorem3.consequence",
    "khk2019lm.theorem4", "khk2019lm.theorem4.deep_linear", "khk2019lm.theorem4.membership",
    "khk2019lm.example1", "khk2019lm.example2", "khk2019lm.example2.footnote1",
    "khk2019lm.example3", "khk2019lm.example3.assumption2",
    "khk2019lm.proposition1", "khk2019lm.proposition2",
]

#: the printed statements this run refutes (each with a verified correction)
ERRATA = {"khk2019lm.definition1.omega", "khk2019lm.example2.footnote1",
          "khk2019lm.example3.assumption2"}

#: convex in theta: every critical point is a minimum (no saddle to meet)
CONVEX = {"khk2019lm.example1", "khk2019lm.example2"}


def test_catalogue_loads_without_errors(catalogue_registry):
    assert [e for e in catalogue_registry.errors if PAPER in str(e)] == []
    assert set(REQUIRED) <= {c.id for c in catalogue_registry.claims}


def test_every_claim_names_its_source_and_has_mutants(catalogue_registry):
    for claim in catalogue_registry.select([PAPER]):
        assert claim.source.section and claim.source.label, claim.id
        assert (claim.corrected or claim).mutants, claim.id


def test_claim_is_healthy(catalogue_claim, checked):
    """One test per claim (its check is computed once): no error, nothing refuted or undecided,
    every mutant caught; an erratum carries a witness against the printed statement and a
    verified correction; a point claim is checked at certified points in every case, and a
    critical-point claim meets saddles or degenerate points too; the result is JSON."""
    c = checked
    assert c.verdict not in (Verdict.ERROR, Verdict.INCONCLUSIVE, Verdict.REFUTED), \
        (c.verdict.value, c.error or c.summary())
    missed = {m.name: m.caught_by for m in c.mutants if not m.caught}
    assert missed == {}
    if catalogue_claim.id in ERRATA:
        assert c.verdict is Verdict.ERRATUM
    if c.verdict is Verdict.ERRATUM:
        assert c.erratum
        assert any(ch.passed is False and ch.witness is not None for ch in c.checks)
        assert c.corrected is not None and c.corrected.verdict is Verdict.VERIFIED
    assert json.loads(json.dumps(c.to_dict()))["id"] == c.claim_id
    if catalogue_claim.point_kind is PointKind.ANY:
        return
    # point claims: checked at certified points, in every case of the proof
    (numeric,) = [ch for ch in c.checks if ch.name == "conclusion"]
    assert numeric.points > 0 and "vacuous" not in numeric.summary
    for case in catalogue_claim.branches:
        assert f"{case}: 0" not in numeric.summary, case
    # critical-point claims meet saddles or degenerate points, not only minima
    if catalogue_claim.point_kind is PointKind.CRITICAL and catalogue_claim.id not in CONVEX:
        kinds = " ".join(numeric.notes)
        assert "saddle" in kinds or "degenerate" in kinds, kinds


@pytest.mark.catalogue_summary
def test_report_is_json_serialisable(checked_paper):
    run = checked_paper(PAPER)
    d = json.loads(json.dumps(run.to_dict()))
    assert len(d["claims"]) == len(run.claims)


@pytest.mark.catalogue_summary
def test_theorem3_full_rank_branches_discriminate(checked_paper):
    """Both rank cases of Theorem 3 (and its consequence) rest on evidence a mutant fails on."""
    for c in checked_paper(PAPER).claims:
        if c.claim_id in ("khk2019lm.theorem3", "khk2019lm.theorem3.consequence"):
            assert c.non_discriminating == [], (c.claim_id, c.non_discriminating)
