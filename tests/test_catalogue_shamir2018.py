"""The shamir2018 catalogue at the quick profile: every claim has a verdict that is not an
error, and every mutant is caught."""
from proofcheck.catalog import load_claims
from proofcheck.engine import check_claims


def test_catalogue_quick():
    claims = [c for c in load_claims() if c.id.startswith("shamir2018.")]
    run = check_claims(claims, profile="quick")
    for r in run.results:
        assert r.verdict.value != "error", (r.claim_id, r.message if hasattr(r, "message") else r)
        for m in r.mutants:
            assert m.caught, (r.claim_id, m.name, m.caught_by)
