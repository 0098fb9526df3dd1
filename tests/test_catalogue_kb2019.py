"""The KB2019 catalogue, checked end to end at the quick profile (one shared run).

Nothing here states which verdict a claim should get: the tests read what the engine computed
and require that it is healthy (no tool errors, every mutant caught, every erratum backed by a
witness on the printed statement and a verified correction, no vacuous case).
"""

import json

import pytest

from proofcheck.catalog import load_claims
from proofcheck.claims import PointKind
from proofcheck.results import Verdict

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


@pytest.fixture(scope="module")
def registry():
    return load_claims()


@pytest.fixture(scope="module")
def run(registry, check_quick):
    return check_quick(registry.select(["kb2019"]), registry.origins)


def test_catalogue_loads_without_errors(registry):
    assert registry.errors == []
    ids = {c.id for c in registry.claims}
    assert set(REQUIRED) <= ids


def test_every_claim_names_its_source_and_has_three_mutants(registry):
    for claim in registry.select(["kb2019"]):
        assert claim.source.section and claim.source.label, claim.id
        mutants = (claim.corrected or claim).mutants
        assert len(mutants) >= 3, f"{claim.id} has {len(mutants)} mutants"


def test_no_claim_errors_and_nothing_is_left_undecided(run):
    bad = {c.claim_id: (c.verdict.value, c.error or c.summary()) for c in run.claims
           if c.verdict in (Verdict.ERROR, Verdict.INCONCLUSIVE, Verdict.REFUTED)}
    assert bad == {}


def test_every_mutant_is_caught(run):
    missed = {(c.claim_id, m.name): m.caught_by for c in run.claims for m in c.mutants
              if not m.caught}
    assert missed == {}
    assert sum(len(c.mutants) for c in run.claims) >= 3 * len(run.claims)


def test_errata_carry_a_witness_and_a_verified_correction(run):
    errata = [c for c in run.claims if c.verdict is Verdict.ERRATUM]
    assert errata, "the catalogue records the paper's errata"
    for c in errata:
        assert c.erratum
        assert any(ch.passed is False and ch.witness is not None for ch in c.checks), c.claim_id
        assert c.corrected is not None and c.corrected.verdict is Verdict.VERIFIED, c.claim_id
        assert all(w.certified for w in c.witnesses), c.claim_id   # exact (sympy) witnesses


def test_local_minimum_claims_cover_every_case_at_certified_points(run, registry):
    for c in run.claims:
        claim = registry.get(c.claim_id)
        if claim.point_kind is not PointKind.LOCAL_MIN:
            continue
        (numeric,) = [ch for ch in c.checks if ch.name == "conclusion"]
        assert numeric.points > 0 and "vacuous" not in numeric.summary, c.claim_id
        for case in claim.branches:
            assert f"{case}: 0" not in numeric.summary, (c.claim_id, case)


def test_evidence_is_honest_about_its_strength(run):
    for c in run.claims:
        for ch in c.checks:
            if ch.kind.value == "numeric-search" and ch.passed:
                assert ("no counterexample" in ch.summary
                        or "exhaustive" in ch.summary), ch.summary
                assert ch.tolerance is not None and ch.tolerance_source
            if ch.kind.value == "symbolic-proof" and ch.passed:
                assert ch.sizes, c.claim_id


def test_report_is_json_serialisable(run):
    d = json.loads(json.dumps(run.to_dict()))
    assert d["schema_version"] and len(d["claims"]) == len(run.claims)
