"""The KB2019 catalogue, checked end to end at the quick profile, one test per claim.

Nothing here states which verdict a claim should get: the tests read what the engine computed
and require that it is healthy (no tool errors, every mutant caught, every erratum backed by a
witness on the printed statement and a verified correction, no vacuous case). Each claim is
checked once per test run (tests/conftest.py: ``checked``, the shared result cache); the
summary test reads the whole paper's run from that cache.
"""

import json

import pytest

from proofcheck.catalog import load_claims
from proofcheck.claims import PointKind
from proofcheck.results import RunResult, Verdict

PAPER = "kb2019"

REQUIRED = [
    "kb2019.definition1",                       # P_N[M]
    "kb2019.lemma1", "kb2019.lemma1.vec_kron", "kb2019.lemma1.kron_forms",
    "kb2019.lemma2", "kb2019.lemma2.null_perturbation", "kb2019.lemma2.perturbed_first_order",
    "kb2019.theorem1", "kb2019.theorem1.trainable_residual", "kb2019.theorem1.induced_predictor",
    "kb2019.theorem1.improvement_nonnegative", "kb2019.theorem1.convexity",
    "kb2019.remark1", "kb2019.remark2", "kb2019.remark3.i", "kb2019.remark3.ii",
    "kb2019.remark3.weaker_assumptions", "kb2019.remark3.weaker_assumptions.strict",
    "kb2019.theorem2", "kb2019.theorem2.projection_split", "kb2019.theorem2.trace_step",
    "kb2019.theorem2.improvement_identity", "kb2019.theorem2.improvement_projected",
    "kb2019.theorem2.linear_value", "kb2019.proposition1",
]


def test_catalogue_loads_without_errors(catalogue_registry):
    assert load_claims().errors == []           # the whole bundled catalogue
    ids = {c.id for c in catalogue_registry.claims}
    assert set(REQUIRED) <= ids


def test_every_claim_names_its_source_and_has_three_mutants(catalogue_registry):
    for claim in catalogue_registry.select([PAPER]):
        assert claim.source.section and claim.source.label, claim.id
        mutants = (claim.corrected or claim).mutants
        assert len(mutants) >= 3, f"{claim.id} has {len(mutants)} mutants"


def test_claim_is_healthy(catalogue_claim, checked):
    """One test per claim (its check is computed once): no error, nothing refuted or undecided;
    every mutant caught (at least three); an erratum carries a certified witness against the
    printed statement and a verified correction; a local-minimum claim is checked at certified
    points in every case; the evidence says how strong it is."""
    c = checked
    assert c.verdict not in (Verdict.ERROR, Verdict.INCONCLUSIVE, Verdict.REFUTED), \
        (c.verdict.value, c.error or c.summary())
    missed = {m.name: m.caught_by for m in c.mutants if not m.caught}
    assert missed == {}
    assert len(c.mutants) >= 3
    if c.verdict is Verdict.ERRATUM:
        assert c.erratum
        assert any(ch.passed is False and ch.witness is not None for ch in c.checks)
        assert c.corrected is not None and c.corrected.verdict is Verdict.VERIFIED
        assert all(w.certified for w in c.witnesses)      # exact (sympy) witnesses
    # local-minimum claims cover every case at certified points
    if catalogue_claim.point_kind is PointKind.LOCAL_MIN:
        (numeric,) = [ch for ch in c.checks if ch.name == "conclusion"]
        assert numeric.points > 0 and "vacuous" not in numeric.summary
        for case in catalogue_claim.branches:
            assert f"{case}: 0" not in numeric.summary, case
    # the evidence is honest about its strength
    for ch in c.checks:
        if ch.kind.value == "numeric-search" and ch.passed:
            assert "no counterexample" in ch.summary or "exhaustive" in ch.summary, ch.summary
            assert ch.tolerance is not None and ch.tolerance_source
        if ch.kind.value == "symbolic-proof" and ch.passed:
            assert ch.sizes


@pytest.mark.catalogue_summary
def test_the_run_records_errata_and_is_json_serialisable(checked_paper):
    run: RunResult = checked_paper(PAPER)
    assert any(c.verdict is Verdict.ERRATUM for c in run.claims), \
        "the catalogue records the paper's errata"
    d = json.loads(json.dumps(run.to_dict()))
    assert d["schema_version"] and len(d["claims"]) == len(run.claims)
