"""explore runs the decision procedure on the explored statement's polynomial forms."""

from proofcheck.catalog import load_claims
from proofcheck.search.explore import Budget, explore


def test_explore_decides_the_printed_lemma_and_its_correction():
    reg = load_claims(patterns=["shamir2018"])
    printed = reg.get("shamir2018.lemma2")
    ex = explore(printed, budget=Budget(instances=20), seed=0)
    assert ex.decision is not None and ex.decision["status"] == "counterexample"
    assert ex.decision["grade"] == "certified" and ex.outcome == "counterexample"
    corrected = explore(printed.corrected, budget=Budget(instances=20), seed=0)
    assert corrected.decision is not None and corrected.decision["status"] == "proven"
    assert not corrected.found and "proves it" in corrected.summary
