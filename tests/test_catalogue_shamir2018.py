"""The Shamir (2018) catalogue (the whole ``shamir2018`` prefix, both helpers' modules), checked
end to end at the quick profile, one test per claim.

Nothing here states which verdict a claim should get beyond the errata listed: the tests read
what the engine computed and require that it is healthy (no tool errors, nothing refuted or
undecided, every mutant caught, every erratum backed by a witness and a verified correction).
Each claim is checked once per test run (tests/conftest.py: ``checked``, the shared result
cache).
"""

import pytest

from proofcheck.results import Verdict

PAPER = "shamir2018"

# the claims of this helper's modules (the other helper's land in the same prefix)
REQUIRED = [
    "shamir2018.lemma1", "shamir2018.theorem1", "shamir2018.theorem1.eq6",
    "shamir2018.theorem1.cauchy_schwarz",
    "shamir2018.theorem2", "shamir2018.theorem2.eq7_to_eq10", "shamir2018.theorem2.eq11",
    "shamir2018.theorem2.interlacing", "shamir2018.theorem2.eq12", "shamir2018.theorem2.eq13",
    "shamir2018.lemma2", "shamir2018.theorem3", "shamir2018.corollary1",
    "shamir2018.lemma3", "shamir2018.theorem6", "shamir2018.theorem6.eq19",
]

#: printed statements the run refutes (each with a verified correction)
ERRATA = {"shamir2018.lemma2", "shamir2018.theorem1.cauchy_schwarz"}


def test_catalogue_loads_without_errors(catalogue_registry):
    assert [e for e in catalogue_registry.errors if PAPER in str(e)] == []
    ids = {c.id for c in catalogue_registry.claims}
    assert set(REQUIRED) <= ids, sorted(set(REQUIRED) - ids)


def test_every_claim_names_its_source_and_has_mutants(catalogue_registry):
    for claim in catalogue_registry.select([PAPER]):
        assert claim.source.section and claim.source.label, claim.id
        assert (claim.corrected or claim).mutants, claim.id


def test_claim_is_healthy(catalogue_claim, checked):
    """One test per claim (its check is computed once): no error, nothing refuted or undecided,
    every mutant caught; an erratum carries a witness and a verified correction; Corollary 1
    (local minima) is checked at certified points."""
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
    if catalogue_claim.id == "shamir2018.corollary1":
        assert any((ch.points or 0) > 0 for ch in c.checks)


@pytest.mark.catalogue_summary
def test_runtime_is_reported(checked_paper):
    run = checked_paper(PAPER)
    print(f"shamir2018 quick catalogue: {sum(c.seconds for c in run.claims):.1f} s "
          f"of claim time")
