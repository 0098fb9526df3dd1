"""The engine on small hand-made claims: every verdict comes from what the engine computed."""

import numpy as np
import pytest
from hypothesis import strategies as st

from proofcheck import (Claim, Hypothesis, Identity, Instance, Margin, Mutant, MutantKind,
                        PointKind, Source)
from proofcheck.claims import ClaimDefinitionError
from proofcheck.engine import check_claim, check_claims
from proofcheck.results import Verdict
from proofcheck.symbolic import SizeSweep, symbol_matrix

SRC = Source("demo", "1", "Lemma 1")


def vectors(assumed):
    """Instances x in R^n; hypothesis 'pos' asks for positive entries (dropped: the first
    entry is made negative, the others are free)."""
    lo = 0.5 if assumed["pos"] else -10.0
    lists = st.integers(1, 4).flatmap(
        lambda n: st.lists(st.floats(lo, 10.0), min_size=n, max_size=n))
    if not assumed["pos"]:
        lists = lists.map(lambda xs: [-abs(xs[0]) - 0.5] + xs[1:])
    return lists.map(lambda xs: Instance(x=np.array(xs)))


POS = Hypothesis("pos", "every entry of x is positive", holds=lambda i: bool(np.all(i.x > 0)))


def sum_sq_vs_sq_sum(inst, point, B):
    # (sum x)^2 >= sum x^2 for positive x (cross terms are positive)
    x = B.asarray(inst.x)
    s = B.sum(x, axis=-1)
    return Margin.at_least(s * s, B.sum(x * x, axis=-1), B, n_ops=8)


def square_claim(**kw):
    base = dict(id="demo.lemma1", title="square of a sum", source=SRC,
                statement="(sum x)^2 >= sum x^2 when x > 0", hypotheses=(POS,),
                conclusion=sum_sq_vs_sq_sum, instances=vectors)
    base.update(kw)
    return Claim(**base)


def test_true_claim_is_verified_with_honest_evidence():
    res = check_claim(square_claim(), profile="quick", seed=1)
    assert res.verdict is Verdict.VERIFIED
    rec, hp = res.checks
    assert hp.kind.value == "high-precision" and hp.passed and hp.precision.startswith("mpmath")
    assert hp.tolerance < 1e-30 < rec.tolerance      # the re-check is far tighter
    assert rec.passed is True
    assert rec.instances > 10
    assert "no counterexample in" in rec.summary      # never "proven" for sampling
    assert rec.min_margin >= -rec.tolerance


def test_dropped_hypothesis_is_refuted_with_a_confirmed_witness():
    res = check_claim(square_claim().dropping("pos"), profile="quick", seed=1)
    assert res.verdict is Verdict.REFUTED
    w = res.checks[0].witness
    assert w.margin < -w.tolerance
    assert "confirmed at mpmath" in w.certification
    x = np.array(w.instance["x"])
    assert np.any(x < 0) and (x.sum() ** 2 < (x * x).sum())   # the witness really fails


def test_shrinking_gives_a_small_witness():
    res = check_claim(square_claim().dropping("pos"), profile="quick", seed=3)
    x = np.array(res.checks[0].witness.instance["x"])
    assert len(x) == 2          # the smallest dimension where cross terms can be negative


def test_mutants_are_run_and_reported():
    flipped = Mutant.conclusion(
        "flipped", MutantKind.FLIPPED_INEQUALITY, "(sum x)^2 <= sum x^2",
        lambda i, p, B: Margin.at_most(B.sum(B.asarray(i.x), axis=-1) ** 2,
                                       B.sum(B.asarray(i.x) ** 2, axis=-1), B))
    harmless = Mutant.conclusion(
        "weaker", MutantKind.OTHER, "(sum x)^2 >= 0 (true: must NOT be counted as caught)",
        lambda i, p, B: Margin.at_least(B.sum(B.asarray(i.x), axis=-1) ** 2, 0.0, B))
    res = check_claim(square_claim(mutants=(flipped, Mutant.drop("pos"), harmless)),
                      profile="quick", seed=0)
    caught = {m.name: m.caught for m in res.mutants}
    assert caught == {"flipped": True, "drop_pos": True, "weaker": False}
    assert res.mutants_caught == 2


def test_generator_that_breaks_its_hypothesis_is_an_error_naming_the_claim():
    bad = square_claim(instances=lambda a: st.just(Instance(x=np.array([-1.0, 2.0]))))
    res = check_claim(bad, profile="quick")
    assert res.verdict is Verdict.ERROR
    assert "demo.lemma1" in res.error and "violates hypothesis pos" in res.error


def test_exception_inside_a_margin_is_an_error_not_a_pass():
    def boom(inst, point, B):
        raise ZeroDivisionError("division by zero in my margin")
    res = check_claim(square_claim(conclusion=boom), profile="quick")
    assert res.verdict is Verdict.ERROR
    assert "ZeroDivisionError" in res.error and "demo.lemma1" in res.error


def test_nan_in_data_is_an_error():
    nan = square_claim(hypotheses=(), instances=lambda a: st.just(Instance(x=np.array([np.nan]))))
    res = check_claim(nan, profile="quick")
    assert res.verdict is Verdict.ERROR and "NaN" in res.error


def test_unsatisfiable_generator_is_an_error():
    never = square_claim(instances=lambda a: st.floats(0, 1).filter(lambda v: v > 2).map(
        lambda v: Instance(x=np.array([v]))))
    res = check_claim(never, profile="quick")
    assert res.verdict is Verdict.ERROR and "cannot produce instances" in res.error


def test_a_claim_that_checks_nothing_is_rejected_at_definition():
    with pytest.raises(ClaimDefinitionError, match="check nothing"):
        Claim(id="demo.lemma2", title="t", source=SRC, statement="s")
    with pytest.raises(ClaimDefinitionError, match="not of the form"):
        square_claim(id="Bad Id")
    with pytest.raises(ClaimDefinitionError, match="landscape"):
        square_claim(point_kind=PointKind.LOCAL_MIN)


def transpose_identity(printed: bool):
    def build(s):
        A = symbol_matrix("A", s["m"], s["n"])
        B = symbol_matrix("B", s["n"], s["m"])
        return (A * B).T, (A.T * B.T if printed else B.T * A.T)
    return Identity("transpose_of_product", "(AB)^T = B^T A^T", build,
                    SizeSweep(m=(1, 2), n=(1, 2)))


def test_identity_proven_and_erratum_flow():
    corrected = Claim(id="demo.lemma3", title="transpose", source=SRC,
                      statement="(AB)^T = B^T A^T", identities=(transpose_identity(False),))
    printed = Claim(id="demo.lemma3", title="transpose", source=SRC,
                    statement="(AB)^T = A^T B^T", identities=(transpose_identity(True),),
                    corrected=corrected, erratum="factors in the wrong order")
    res = check_claim(printed, profile="quick")
    assert res.verdict is Verdict.ERRATUM
    w = res.checks[0].witness
    assert w.certified and "exact" in w.certification
    assert res.corrected.verdict is Verdict.VERIFIED
    assert res.corrected.checks[0].sizes            # the sizes it was proven at are listed


def test_run_result_json_is_complete():
    run = check_claims([square_claim()], profile="quick", seed=5)
    d = run.to_dict()
    assert d["schema_version"] and d["seed"] == 5
    (c,) = d["claims"]
    assert c["id"] == "demo.lemma1" and c["verdict"] in {v.value for v in Verdict}
    assert c["checked"][0]["instances"] > 0


def test_same_seed_same_result():
    a = check_claim(square_claim().dropping("pos"), profile="quick", seed=7)
    b = check_claim(square_claim().dropping("pos"), profile="quick", seed=7)
    assert a.checks[0].witness.instance == b.checks[0].witness.instance
    assert a.checks[0].min_margin == b.checks[0].min_margin


def test_conclusion_arithmetic_runs_at_the_backends_precision():
    """A conclusion's own arithmetic on mpmath numbers (here a division by 3) must run at the
    backend's digits, not mpmath's global 15: otherwise the 1e-48 tolerance of the
    high-precision re-check would refute this true identity."""
    def thirds(inst, point, B):
        x = B.asarray(inst.x)
        third = B.sum(x, axis=-1) / 3
        return Margin.equal(third * 3, B.sum(x, axis=-1), B)
    claim = square_claim(id="demo.lemma4", conclusion=thirds, hypotheses=(),
                         instances=lambda a: st.floats(0.1, 10).map(
                             lambda v: Instance(x=np.array([v, 1.0 / 7]))))
    res = check_claim(claim, profile="quick")
    hp = [c for c in res.checks if c.kind.value == "high-precision"][0]
    assert res.verdict is Verdict.VERIFIED and hp.tolerance < 1e-35
