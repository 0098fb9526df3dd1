"""The Shamir (2018) catalogue (the whole ``shamir2018`` prefix, both helpers' modules), checked
end to end at the quick profile in one shared run.

Nothing here states which verdict a claim should get: the tests read what the engine computed
and require that it is healthy (no tool errors, nothing refuted or undecided, every mutant
caught, every erratum backed by a witness and a verified correction).
"""

import time

import pytest

from proofcheck.catalog import load_claims
from proofcheck.results import Verdict

# the claims of this helper's modules (the other helper's land in the same prefix)
REQUIRED = [
    "shamir2018.lemma1", "shamir2018.theorem1", "shamir2018.theorem1.eq6",
    "shamir2018.theorem1.cauchy_schwarz",
    "shamir2018.theorem2", "shamir2018.theorem2.eq7_to_eq10", "shamir2018.theorem2.eq11",
    "shamir2018.theorem2.interlacing", "shamir2018.theorem2.eq12", "shamir2018.theorem2.eq13",
    "shamir2018.lemma2", "shamir2018.theorem3", "shamir2018.corollary1",
    "shamir2018.lemma3", "shamir2018.theorem6", "shamir2018.theorem6.eq19",
]


@pytest.fixture(scope="module")
def registry():
    return load_claims()


@pytest.fixture(scope="module")
def run(registry, check_quick):
    t0 = time.perf_counter()
    result = check_quick(registry.select(["shamir2018"]), registry.origins)
    return result, time.perf_counter() - t0


def test_catalogue_loads_without_errors(registry):
    assert [e for e in registry.errors if "shamir2018" in str(e)] == []
    ids = {c.id for c in registry.claims}
    assert set(REQUIRED) <= ids, sorted(set(REQUIRED) - ids)


def test_every_claim_names_its_source_and_has_mutants(registry):
    for claim in registry.select(["shamir2018"]):
        assert claim.source.section and claim.source.label, claim.id
        assert (claim.corrected or claim).mutants, claim.id


def test_no_claim_errors_and_nothing_is_left_undecided(run):
    result, _ = run
    bad = {c.claim_id: (c.verdict.value, c.error or c.summary()) for c in result.claims
           if c.verdict in (Verdict.ERROR, Verdict.INCONCLUSIVE, Verdict.REFUTED)}
    assert bad == {}


def test_every_mutant_is_caught(run):
    result, _ = run
    missed = {(c.claim_id, m.name): m.caught_by for c in result.claims for m in c.mutants
              if not m.caught}
    assert missed == {}


def test_errata_carry_a_witness_and_a_verified_correction(run):
    result, _ = run
    errata = [c for c in result.claims if c.verdict is Verdict.ERRATUM]
    assert {"shamir2018.lemma2", "shamir2018.theorem1.cauchy_schwarz"} <= {
        c.claim_id for c in errata}
    for c in errata:
        assert c.erratum
        assert any(ch.passed is False and ch.witness is not None for ch in c.checks), c.claim_id
        assert c.corrected is not None and c.corrected.verdict is Verdict.VERIFIED, c.claim_id


def test_local_minimum_claims_certified_points(run):
    result, _ = run
    cor = next(c for c in result.claims if c.claim_id == "shamir2018.corollary1")
    assert any((ch.points or 0) > 0 for ch in cor.checks)


def test_runtime_is_reported(run):
    _, seconds = run
    print(f"shamir2018 quick catalogue: {seconds:.1f} s")
