"""The KHK 2019 (DW) catalogue at the quick profile, one test per claim: every claim gets a
verdict that is not ``error`` and every mutant is caught (H8's Section 3 probabilistic claims
included). Each claim is checked once per test run (tests/conftest.py: ``checked``, the shared
result cache, which tests/test_khk2019dw_probabilistic.py reads too)."""

import pytest

from proofcheck.results import Verdict

PAPER = "khk2019dw"


def _probabilistic(registry, claim_id: str) -> bool:
    return "section3_probabilistic" in registry.origins.get(claim_id, "")


def test_catalogue_loads_without_errors(catalogue_registry):
    assert not [e for e in catalogue_registry.errors if PAPER in e[0]], \
        catalogue_registry.errors
    assert len(catalogue_registry.select([PAPER])) >= 25


def test_every_claim_has_mutants_or_is_an_observation(catalogue_registry):
    claims = catalogue_registry.select([PAPER])
    base = [c.corrected if c.corrected is not None else c for c in claims]
    no_mutants = [c.id for c in base if not c.mutants
                  and not _probabilistic(catalogue_registry, c.id)]
    assert not no_mutants, no_mutants


def test_claim_has_a_verdict_and_every_mutant_is_caught(catalogue_claim, checked,
                                                        catalogue_registry):
    """One test per claim (its check is computed once): not an error, every mutant caught; and
    what the engine computed is verified or erratum (never refuted/inconclusive for the claims
    of this paper at the quick profile), the erratum being the N^(1)_1 typo. The Section 3
    probabilistic claims' verdicts are tests/test_khk2019dw_probabilistic.py's business."""
    assert checked.claim_id == catalogue_claim.id
    assert checked.verdict is not Verdict.ERROR, checked.error
    missed = [m.name for m in checked.mutants if not m.caught]
    assert not missed, missed
    if _probabilistic(catalogue_registry, catalogue_claim.id):
        return
    if catalogue_claim.id == "khk2019dw.theorem1.n11":
        assert checked.verdict is Verdict.ERRATUM
    assert checked.verdict in (Verdict.VERIFIED, Verdict.ERRATUM), checked.verdict.value


@pytest.mark.catalogue_summary
def test_runtime_is_reported(checked_paper):
    """The paper's time is printed, not asserted: performance is measured by bench/ scripts
    (a timed assertion fails on a loaded machine and proves nothing about the claims)."""
    run = checked_paper(PAPER)
    print(f"khk2019dw quick catalogue: {sum(c.seconds for c in run.claims):.1f} s "
          f"of claim time")
