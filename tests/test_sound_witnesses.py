"""Errata witnesses certified on the exact backend; definedness hypotheses read as printed."""

from __future__ import annotations

import numpy as np
import pytest

from proofcheck.backends import get_backend
from proofcheck.catalog import load_claims
from proofcheck.errors import ClaimError
from proofcheck.evaluate import draw_instances, evaluate_conclusion, failures, find_points
from proofcheck.judge import judge


def _claim(cid):
    reg = load_claims()
    return reg.get(cid) if hasattr(reg, "get") else reg[cid]


@pytest.fixture(scope="module")
def stratum_case():
    """A ReLU unit with samples on its kink and slope 1 on the others: a point in
    Theta_{1,0} as printed (Definition 1 at the point), certified exactly on its stratum."""
    from theorems.khk2019dw.instances import build_stratum
    return build_stratum(1, [2, 1, 1], ["relu"], linear_unit=True).replace(
        t=0, theta_test="pointwise")


@pytest.mark.parametrize("cid", ["khk2019dw.remark1", "khk2019dw.lemma4"])
def test_theta_errata_witnesses_are_certified_exactly(cid, stratum_case):
    claim = _claim(cid)
    found = find_points(claim, stratum_case, rng=np.random.default_rng(0), starts=4, digits=40)
    B = get_backend("numpy")
    failing = [p for p in found.points
               if np.any(failures(evaluate_conclusion(claim, stratum_case, p, B))[2])]
    assert failing, "the stratum instance gives no failing point any more"
    j = judge(claim, stratum_case, failing[0], digits=40)
    assert j.decided and j.grade == "certified"
    assert any("certified exact: the margin is exactly" in line for line in j.trail)


def test_exact_and_float_margins_agree_at_the_stratum_point(stratum_case):
    from proofcheck.exact_backends import is_exact_value
    from proofcheck.search.certify_piecewise import exact_margin_at_stratum
    claim = _claim("khk2019dw.theorem2")
    found = find_points(claim, stratum_case, rng=np.random.default_rng(0), starts=4, digits=40)
    exact_points = [p for p in found.points if getattr(p, "stratum", None) is not None]
    assert exact_points
    B = get_backend("numpy")
    for p in exact_points:
        v, _, m = exact_margin_at_stratum(claim, stratum_case, p)
        assert is_exact_value(m.value)
        approx = float(np.min(failures(evaluate_conclusion(claim, stratum_case, p, B))[0]))
        assert abs(v.as_float() - approx) <= 1e-9 * (1 + abs(approx))


def test_shamir_lemma1_is_undefined_at_w_zero():
    claim = _claim("shamir2018.lemma1")
    names = [m.name for m in claim.mutants]
    assert "drop_A1" in names and "drop_w_nonzero" not in names
    from proofcheck.evaluate import claim_variant
    dropped = claim_variant(claim, drop=("w_nonzero",))
    inst = draw_instances(dropped, 3, seed=0)[0]
    assert np.all(np.asarray(inst.w) == 0)
    with pytest.raises(ClaimError, match="undefined at w = 0"):
        evaluate_conclusion(claim, inst, None, get_backend("numpy"))
    kept = draw_instances(claim, 5, seed=0)
    m = evaluate_conclusion(claim, kept[0], None, get_backend("numpy"))
    assert np.all(failures(m)[2] == 0)


def test_shamir_lemma1_w_nonzero_is_redundant_by_the_decision_procedure():
    from proofcheck.decide import decide_dropped
    assert decide_dropped(_claim("shamir2018.lemma1"), "w_nonzero")["status"] == "implied"


def test_omega_erratum_witness_is_certified_exactly():
    from proofcheck.claims import Instance
    claim = _claim("khk2019lm.definition1.omega")
    # f = W2 relu(W1 x) at W1 = 0, W2 = 0: a kink with silent outgoing weights, so theta is in
    # Omega-tilde but not in Omega (the printed 'Omega = Omega-tilde' fails)
    inst = Instance(X=np.array([[1.0, 2.0]]), W1=np.zeros((1, 2)), W2=np.zeros((1, 1)),
                    kinked=True)
    j = judge(claim, inst, None, digits=40)
    assert j.decided and j.grade == "certified"


def test_footnote1_erratum_witness_is_certified_exactly():
    claim = _claim("khk2019lm.example2.footnote1")
    B = get_backend("numpy")
    bad = [i for i in draw_instances(claim, 30, seed=0)
           if np.any(failures(evaluate_conclusion(claim, i, None, B))[2])]
    assert bad, "no negative-diagonal instance drops the rank any more"
    j = judge(claim, bad[0], None, digits=40)
    assert j.decided and j.grade == "certified"
    # and the exact rank agrees with the float rank where both decide
    from proofcheck.exact_backends import ExactBackend
    from proofcheck.exact_eval import exact_instance
    exact = evaluate_conclusion(claim, exact_instance(bad[0]), None, ExactBackend())
    approx = failures(evaluate_conclusion(claim, bad[0], None, B))[0]
    assert int(exact.value) == int(np.ravel(approx)[0])


def test_squared_hinge_erratum_witness_is_certified_exactly():
    from proofcheck.claims import Instance
    from proofcheck.exact_backends import ExactBackend
    from proofcheck.exact_eval import exact_instance
    from proofcheck.losses import SmoothedHinge, SquaredLoss
    claim = _claim("shamir2018.assumption1")
    # (1 - yp)_+^2 at its kink yp = 1: l'' jumps from 2 to 0, not twice differentiable
    inst = Instance(loss=SmoothedHinge(2), loss_name="smoothed_hinge", y=1.0, p=1.0)
    j = judge(claim, inst, None, digits=40)
    assert j.decided and j.grade == "certified"
    # the exact path agrees with float64 where the statement holds (no exact false alarm)
    for loss in (SquaredLoss(), SmoothedHinge(3)):
        for p in (-1.0, 0.5, 1.0, 2.0):
            i = Instance(loss=loss, loss_name="x", y=1.0, p=p)
            e = evaluate_conclusion(claim.corrected, exact_instance(i), None, ExactBackend())
            assert e.value >= 0
