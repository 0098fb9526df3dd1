"""The KHK2019LM catalogue, checked end to end at the quick profile (one shared run).

The tests read what the engine computed and require that it is healthy: no tool errors, no
refuted or undecided claim, every mutant caught, every erratum backed by a witness against the
printed statement and a verified correction, every claim about critical points / local minima
checked at certified points (with every case of its proof hit), and the critical-point claims
checked at saddles or degenerate points too, not only at minima.
"""

import json

import pytest

from proofcheck.catalog import load_claims
from proofcheck.claims import PointKind
from proofcheck.results import Verdict

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


@pytest.fixture(scope="module")
def registry():
    return load_claims()


@pytest.fixture(scope="module")
def run(registry, check_quick):
    return check_quick(registry.select(["khk2019lm"]), registry.origins)


def test_catalogue_loads_without_errors(registry):
    assert [e for e in registry.errors if "khk2019lm" in str(e)] == []
    assert set(REQUIRED) <= {c.id for c in registry.claims}


def test_every_claim_names_its_source_and_has_mutants(registry):
    for claim in registry.select(["khk2019lm"]):
        assert claim.source.section and claim.source.label, claim.id
        assert (claim.corrected or claim).mutants, claim.id


def test_no_claim_errors_and_nothing_is_left_undecided(run):
    bad = {c.claim_id: (c.verdict.value, c.error or c.summary()) for c in run.claims
           if c.verdict in (Verdict.ERROR, Verdict.INCONCLUSIVE, Verdict.REFUTED)}
    assert bad == {}


def test_every_mutant_is_caught(run):
    missed = {(c.claim_id, m.name): m.caught_by for c in run.claims for m in c.mutants
              if not m.caught}
    assert missed == {}


def test_errata_carry_a_witness_and_a_verified_correction(run):
    errata = {c.claim_id: c for c in run.claims if c.verdict is Verdict.ERRATUM}
    # the printed statements this run refutes (each with a verified correction)
    assert set(errata) >= {"khk2019lm.definition1.omega", "khk2019lm.example2.footnote1",
                           "khk2019lm.example3.assumption2"}
    for c in errata.values():
        assert c.erratum
        assert any(ch.passed is False and ch.witness is not None for ch in c.checks), c.claim_id
        assert c.corrected is not None and c.corrected.verdict is Verdict.VERIFIED, c.claim_id


def test_point_claims_are_checked_at_certified_points_in_every_case(run, registry):
    for c in run.claims:
        claim = registry.get(c.claim_id)
        if claim.point_kind is PointKind.ANY:
            continue
        (numeric,) = [ch for ch in c.checks if ch.name == "conclusion"]
        assert numeric.points > 0 and "vacuous" not in numeric.summary, c.claim_id
        for case in claim.branches:
            assert f"{case}: 0" not in numeric.summary, (c.claim_id, case)


def test_critical_point_claims_meet_saddles_or_degenerate_points(run, registry):
    for c in run.claims:
        if registry.get(c.claim_id).point_kind is not PointKind.CRITICAL:
            continue
        (numeric,) = [ch for ch in c.checks if ch.name == "conclusion"]
        kinds = " ".join(numeric.notes)
        if c.claim_id in ("khk2019lm.example1", "khk2019lm.example2"):
            continue            # convex in theta: every critical point is a minimum
        assert "saddle" in kinds or "degenerate" in kinds, (c.claim_id, kinds)


def test_report_is_json_serialisable(run):
    d = json.loads(json.dumps(run.to_dict()))
    assert len(d["claims"]) == len(run.claims)


def test_theorem3_full_rank_branches_discriminate(run):
    """Both rank cases of Theorem 3 (and its consequence) rest on evidence a mutant fails on."""
    for c in run.claims:
        if c.claim_id in ("khk2019lm.theorem3", "khk2019lm.theorem3.consequence"):
            assert c.non_discriminating == [], (c.claim_id, c.non_discriminating)
