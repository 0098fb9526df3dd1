"""A run read back from its JSON is the same run: the runner's workers, the result cache and
``report --run`` all pass results through JSON, so nothing (grades, point certification,
readings, witnesses' enclosures, outcomes of mutants) may be lost on the way."""

from proofcheck.catalog import load_claims
from proofcheck.engine import check_claims
from proofcheck.results import RunResult


def test_run_json_round_trip_is_lossless():
    reg = load_claims()
    claims = [reg.get("kb2019.lemma1"), reg.get("shamir2018.lemma2")]
    run = check_claims(claims, profile="quick", seed=0)
    d = run.to_dict()
    back = RunResult.from_dict(d)
    assert back.to_dict() == d
    # the fields that were lost before: the claim grade, the checks' grades, the witness grade
    lemma2 = next(c for c in back.claims if c.claim_id == "shamir2018.lemma2")
    assert lemma2.grade is not None and lemma2.grade == run.claims[1].grade
    assert [c.grade for c in lemma2.checks] == [c.grade for c in run.claims[1].checks]
    assert lemma2.witnesses and lemma2.witnesses[0].grade == run.claims[1].witnesses[0].grade
