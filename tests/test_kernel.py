"""The kernel: one evaluator (proofcheck.evaluate), one judge (proofcheck.judge), honest grades
and counts. Every assertion is on what the engine computed for small hand-made claims."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
import sympy as sp
from hypothesis import strategies as st

from proofcheck import Claim, Hypothesis, Identity, Instance, Margin, Mutant, MutantKind, PointKind
from proofcheck import Source
from proofcheck.engine import check_claim
from proofcheck.errors import ClaimError, GeneratorError, ProofcheckError
from proofcheck.evaluate import (distinct_points, draw_instances, evaluate_batch, find_points,
                                 register_finder)
from proofcheck.judge import (BallRung, ExactRung, Float64Rung, MpmathRung, judge,
                              ball_outcome)
from proofcheck.results import Verdict

SRC = Source("demo", "1", "Lemma 1")


def claim(**kw):
    base = dict(id="demo.lemma1", title="t", source=SRC, statement="s",
                instances=lambda a: st.floats(0.5, 4).map(lambda x: Instance(x=x)),
                conclusion=lambda inst, point, B: Margin.at_least(inst.x * inst.x, inst.x, B))
    base.update(kw)
    return Claim(**base)


# --------------------------------------------------------------------------- errors

def test_old_error_names_are_the_hierarchy():
    import importlib

    from proofcheck import engine
    explore = importlib.import_module("proofcheck.search.explore")
    assert engine.ClaimError is ClaimError and engine.GeneratorError is GeneratorError
    assert issubclass(explore.ExploreError, ProofcheckError)
    assert issubclass(explore.ExploreError, ValueError)       # old `except ValueError` works


# --------------------------------------------------------------------------- evaluate

def test_draw_instances_counts_distinct_instances():
    # a generator that repeats itself (e.g. seeded repeats of a few settings)
    c = claim(instances=lambda a: st.integers(0, 10 ** 6).map(
        lambda k: Instance(x=float(1 + k % 2))))
    got = draw_instances(c, 50, seed=0)
    assert sorted(i.x for i in got) == [1.0, 2.0]            # 50 draws, 2 distinct instances
    assert len(draw_instances(c, 50, seed=0, distinct=False)) > 2


def test_evaluate_batch_evaluates_every_instance_once():
    calls = []

    def conclusion(inst, point, B):
        calls.append(inst)
        v = np.asarray(inst.x).sum(axis=-1)
        return Margin.at_least(v, 0.0, B)

    c = claim(conclusion=conclusion)
    # every instance its own shape: no stacking, one call each (never twice)
    insts = [Instance(x=np.ones(k)) for k in range(1, 6)]
    res = evaluate_batch(c, insts, _numpy())
    assert res.calls == len(calls) == 5 and np.all(res.values == np.arange(1, 6))
    # one shape: one stacked call
    calls.clear()
    res = evaluate_batch(c, [Instance(x=np.full(3, float(k))) for k in range(4)], _numpy())
    assert res.calls == len(calls) == 1


def test_evaluate_batch_stops_early():
    c = claim(conclusion=lambda inst, point, B: Margin.at_least(-np.asarray(inst.x), 0.0, B))
    insts = [Instance(x=float(k + 1)) for k in range(40)]
    res = evaluate_batch(c, insts, _numpy(), chunk=8, stop=lambda r: r.failing.size > 0)
    assert res.calls == 1 and np.isnan(res.values).sum() == 32


def _numpy():
    from proofcheck.backends import get_backend
    return get_backend("numpy")


def test_distinct_points_up_to_tolerance():
    P = SimpleNamespace
    pts = [P(theta=np.array([1.0, 2.0])), P(theta=np.array([1.0, 2.0 + 1e-12])),
           P(theta=np.array([-1.0, 2.0])), P(kind="no parameters")]
    assert len(distinct_points(pts)) == 3


class ToyLandscape:
    """f(t) = (t^2 - 1)^2: two minima, +-1 (no finder of its own)."""


def toy_finder(land, *, rng, starts, digits, branch=None):
    pts = [SimpleNamespace(theta=np.array([s]), kind="local_min", branch=branch)
           for s in (1.0, -1.0, 1.0)]          # the third: a start that found +1 again
    return pts[:max(1, starts)]


def test_registered_finder_and_branch_passed_through():
    register_finder(ToyLandscape, toy_finder)
    c = claim(point_kind=PointKind.LOCAL_MIN, landscape=lambda inst: ToyLandscape(),
              conclusion=lambda inst, point, B: Margin.at_least(point.theta[0] ** 2, 1.0, B))
    found = find_points(c, Instance(x=1.0, branch="anything"), rng=np.random.default_rng(0),
                        starts=3, digits=30)
    assert len(found.points) == 2 and found.duplicates == 1
    assert {p.branch for p in found.points} == {"anything"}
    res = check_claim(c, profile="quick", seed=0)
    assert res.verdict is Verdict.VERIFIED
    assert res.checks[0].points == 2 * res.checks[0].instances      # distinct points only


def test_a_landscape_without_finder_is_a_claim_error():
    class Bare:
        pass
    c = claim(point_kind=PointKind.LOCAL_MIN, landscape=lambda inst: Bare())
    with pytest.raises(ClaimError, match="no point finder"):
        find_points(c, Instance(x=1.0), rng=np.random.default_rng(0), starts=1, digits=30)


# --------------------------------------------------------------------------- judge

def test_judge_certifies_an_exact_failure():
    j = judge(claim(), Instance(x=0.5), digits=30)
    assert j.decided and j.certified and j.grade == "certified" and j.rung == "exact"
    assert j.enclosure == ("-1/4", "-1/4")
    assert "confirmed at mpmath 30 digits" in j.certification


def test_judge_float64_only_conclusion_is_sampled():
    j = judge(claim(high_precision=False), Instance(x=0.5))
    assert j.decided and not j.certified and j.grade == "sampled"
    assert "float64 witness, uncertified" in j.certification


def test_judge_exact_rung_overrides_a_rounding_artefact():
    # (x + big) - big >= x: false in float64 (big absorbs x), true exactly
    c = claim(conclusion=lambda inst, point, B: Margin.at_least((inst.x + inst.big) - inst.big,
                                                                 inst.x, tol=0.0, tol_source="t"))
    j = judge(c, Instance(x=0.5, big=1e17))
    assert j.fails is False and not j.decided and j.rung == "exact"
    assert "rounding artefact" in j.certification


def test_judge_until_stops_below_certification():
    j = judge(claim(), Instance(x=0.5), until="high-precision")
    assert j.decided and j.grade == "high-precision" and "exact" not in j.outcomes


def test_judge_custom_rungs():
    class Oracle:
        name, grade = "oracle", "proven"

        def run(self, claim, inst, point):
            from proofcheck.judge import RungOutcome
            return RungOutcome(True, -1.0, 0.0, "decided by an oracle")

    j = judge(claim(), Instance(x=0.5), rungs=[Float64Rung(), Oracle()])
    assert j.rung == "oracle" and j.grade == "proven" and j.certified


def test_an_infinite_ball_decides_nothing():
    from proofcheck.exact_backends import Ball
    import flint
    b = Ball(flint.arb("-inf"))
    assert ball_outcome(b, "ball", "arb").fails is None


def test_ball_and_exact_rungs_do_not_apply_at_points():
    from proofcheck.errors import NotApplicable
    c = claim(point_kind=PointKind.LOCAL_MIN, landscape=lambda inst: ToyLandscape())
    for rung in (ExactRung(), BallRung()):
        with pytest.raises(NotApplicable):
            rung.run(c, Instance(x=1.0), SimpleNamespace(theta=np.ones(1)))
    assert MpmathRung(20).grade == "high-precision"


# --------------------------------------------------------------------------- grades and counts

POS = Hypothesis("pos", "x > 1", holds=lambda i: i.x > 1)


def test_grades_of_checks_and_claims():
    ok = check_claim(claim(hypotheses=(POS,), instances=lambda a: st.floats(
        1.5, 4).map(lambda x: Instance(x=x)) if a["pos"] else st.floats(0.1, 0.9).map(
        lambda x: Instance(x=x))), profile="quick", seed=0)
    assert ok.verdict is Verdict.VERIFIED and ok.grade == "sampled"
    d = ok.to_dict()
    assert d["evidence"]["grade"] == "sampled"
    assert all(c["evidence"]["grade"] == "sampled" for c in d["checked"])
    bad = check_claim(claim(), profile="quick", seed=0)       # x in [0.5, 1) fails x^2 >= x
    assert bad.verdict is Verdict.REFUTED and bad.grade == "certified"
    assert bad.checks[0].witness.certified and bad.checks[0].witness.grade == "certified"

    x = sp.Symbol("x")
    ident = Identity("square", "(x+1)^2 = x^2+2x+1",
                     lambda s: (sp.Matrix([[(x + 1) ** 2]]), sp.Matrix([[x * x + 2 * x + 1]])),
                     [{"n": 1}])
    proven = check_claim(Claim(id="demo.lemma2", title="t", source=SRC, statement="s",
                               identities=(ident,)), profile="quick")
    assert proven.grade == "proven"
    assert "[" not in proven.checks[0].summary          # no timing text in summaries


def test_undecided_identity_mutant_is_not_caught():
    x = sp.Symbol("x")
    t = sp.Symbol("t", real=True)
    ident = Identity("square", "(x+1)^2 = x^2+2x+1",
                     lambda s: (sp.Matrix([[(x + 1) ** 2]]), sp.Matrix([[x * x + 2 * x + 1]])),
                     [{"n": 1}])
    # true, but outside sympy's simplification here and outside the decision procedure's
    # polynomial fragment (exp): undecided, so it must not count as caught
    opaque = (sp.sqrt(sp.exp(2 * t) + 2 * sp.exp(t) + 1), sp.exp(t) + 1)
    undecidable = Mutant.identity("opaque", MutantKind.OTHER, "an identity nothing decides",
                                  "square", lambda s: (sp.Matrix([[opaque[0]]]),
                                                       sp.Matrix([[opaque[1]]])))
    wrong = Mutant.identity("wrong", MutantKind.DROPPED_TERM, "drops 2x", "square",
                            lambda s: (sp.Matrix([[(x + 1) ** 2]]), sp.Matrix([[x * x + 1]])))
    res = check_claim(Claim(id="demo.lemma2", title="t", source=SRC, statement="s",
                            identities=(ident,), mutants=(undecidable, wrong)), profile="quick")
    by = {m.name: m for m in res.mutants}
    assert by["opaque"].outcome == "undecided" and not by["opaque"].caught
    assert by["wrong"].outcome == "caught" and by["wrong"].caught
    d = res.to_dict()["mutants"]
    assert d["caught"] == 1 and d["undecided"] == 1


def test_any_point_mutant_stops_at_its_first_decided_failure():
    calls = []

    def always_wrong(inst, point, B):
        calls.append(1)
        return Margin.at_least(inst.x, inst.x + 1.0, B)

    mut = Mutant.conclusion("shifted", MutantKind.PERTURBED_CONSTANT, "x >= x + 1", always_wrong)
    c = claim(instances=lambda a: st.floats(1, 4).map(lambda x: Instance(x=x)),
              conclusion=lambda inst, point, B: Margin.at_least(inst.x, inst.x, B),
              mutants=(mut,))
    calls.clear()
    res = check_claim(c, profile="quick", seed=0)
    assert res.mutants[0].caught
    # quick: 60 mutant instances; one chunk of 16 plus the judge's few re-evaluations
    assert len(calls) < 16


def test_readings_notes_narrowed_reach_the_json():
    from proofcheck.claims import Reading
    c = claim(hypotheses=(POS,), instances=lambda a: st.floats(1.5, 4).map(
        lambda x: Instance(x=x)), readings=(Reading("as printed", "x real", natural=True),),
        notes="a note", narrowed=("x > 1 only: the statement is about x > 1",))
    d = check_claim(c, profile="quick").to_dict()
    assert d["readings"] == [{"name": "as printed", "text": "x real", "natural": True}]
    assert d["notes"] == ["a note"] and d["narrowed"][0].startswith("x > 1")


# --------------------------------------------------------------------------- determinism

def test_same_seed_same_json_apart_from_seconds():
    def strip(d):
        if isinstance(d, dict):
            return {k: strip(v) for k, v in d.items() if k != "seconds"}
        if isinstance(d, list):
            return [strip(v) for v in d]
        return d
    c = claim()
    a = json.dumps(strip(check_claim(c, profile="quick", seed=5).to_dict()), sort_keys=True)
    b = json.dumps(strip(check_claim(c, profile="quick", seed=5).to_dict()), sort_keys=True)
    assert a == b


def test_an_overflow_inside_the_optimiser_fails_only_that_start(monkeypatch):
    from proofcheck.optimize import local_min

    def boom(*a, **k):
        raise OverflowError("Python int too large to convert to C long")

    monkeypatch.setattr(local_min, "trust_region_newton", boom)
    from proofcheck.losses import SquaredLoss
    from proofcheck.models import Landscape, ResNetProblem
    rng = np.random.default_rng(0)
    pb = ResNetProblem(X=rng.normal(size=(3, 1)), Y=rng.normal(size=(3, 1)), loss=SquaredLoss(),
                       Z=rng.normal(size=(3, 1)))
    pts = local_min.find_local_minima(Landscape(pb), rng=rng, starts=2, digits=30)
    assert [p.kind for p in pts] == ["unresolved", "unresolved"]
    assert "OverflowError" in pts[0].notes[-1]


def test_point_witness_climbs_to_the_certified_point_rung():
    from proofcheck.evaluate import find_points
    from proofcheck.losses import SquaredLoss
    from proofcheck.models import Landscape, ResNetProblem
    rng = np.random.default_rng(1)
    inst = Instance(X=rng.normal(size=(4, 1)), Y=rng.normal(size=(4, 1)),
                    Z=rng.normal(size=(4, 1)))
    c = Claim(id="demo.lemma3", title="t", source=SRC, statement="W^2 >= 10^6 at minima",
              point_kind=PointKind.LOCAL_MIN, instances=lambda a: st.just(inst),
              landscape=lambda i: Landscape(ResNetProblem(X=i.X, Y=i.Y, Z=i.Z,
                                                          loss=SquaredLoss())),
              conclusion=lambda i, p, B: Margin.at_least(p.point.W[0, 0] * p.point.W[0, 0],
                                                         1e6, B))
    found = find_points(c, inst, rng=np.random.default_rng(0), starts=2, digits=40)
    assert found.points
    j = judge(c, inst, found.points[0], digits=40)
    assert j.certified and j.rung == "certified point"
    assert any(t.startswith("mpmath: confirmed") for t in j.trail)
