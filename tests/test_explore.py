"""explore(): counterexamples for mutated and hypothesis-dropped KB2019 claims, found by the
search and checked against what the engine itself computes at the witness."""

import math

import numpy as np
import pytest

from proofcheck.backends import get_backend
from proofcheck.catalog import load_claims
from proofcheck.claims import Claim, Instance, Margin, Source
from proofcheck.engine import _evaluate, _failures
from proofcheck.search import Budget, explore
from proofcheck.search.edges import EDGE_KINDS, perturb
from proofcheck.search.explore import ContinuousView, ExploreError, admissible

REG = load_claims()
B = get_backend("numpy")


def engine_margin(claim, inst, point=None):
    v, t, _ = _failures(_evaluate(claim, inst, point, B))
    return float(np.min(v)), float(np.max(t))


def test_dropped_convexity_breaks_midpoint_convexity():
    """kb2019.theorem1.convexity without A2 (a non-convex loss): the engine's own margin at the
    witness is below minus its tolerance, and the witness really violates A2."""
    claim = REG.get("kb2019.theorem1.convexity")
    ex = explore(claim, drop=("A2",), budget=Budget(instances=100), seed=0)
    assert ex.found and ex.outcome == "counterexample"
    w = ex.witnesses[0]
    assert not claim.hypothesis("A2").holds(w.instance)
    v, t = engine_margin(w.claim, w.instance)
    assert v == w.margin and v < -t
    assert ex.best_margin <= w.margin


def test_mutant_of_improvement_identity_is_caught_and_shrunk_to_one_sample():
    claim = REG.get("kb2019.theorem2.improvement_identity")
    ex = explore(claim, mutate="doubled", budget=Budget(instances=100), seed=3)
    w = ex.witnesses[0]
    assert w.fails
    assert w.instance.X.shape[0] == 1                  # one sample left
    assert w.instance.m == 1                           # the size field followed the rows
    v, t = engine_margin(w.claim, w.instance)
    assert v < -t
    # the printed identity holds at the same (shrunk) instance: the mutant is what fails
    v0, t0 = engine_margin(claim, w.instance)
    assert v0 >= -t0


def test_a_true_claim_gives_no_counterexample_within_budget():
    claim = REG.get("kb2019.theorem1.convexity")
    ex = explore(claim, budget=Budget(instances=60), seed=1)
    assert not ex.found and ex.outcome == "none-within-budget"
    assert ex.instances <= 60 and ex.generated + ex.optimised == ex.instances
    assert ex.best_normalised is not None and ex.best_normalised >= 0
    assert "no counterexample within budget 60 instances" in ex.summary


def test_identity_claim_mutant_gives_smallest_failing_size():
    claim = REG.get("kb2019.lemma1")
    ex = explore(claim, mutate="doubled", seed=0)
    w = ex.witnesses[0]
    assert w.kind == "identity" and w.status == "certified-exact"
    # 2 z^T (x) W differs from z^T (x) W already at the smallest size
    assert w.sizes == {"d_x": 1, "d_y": 1, "d_z": 1}
    assert w.margin < 0


def test_local_minimum_claim_without_A1_is_broken_at_a_certified_point():
    """kb2019.theorem1 without A1 (d_y > d_x): at the certified local minimum the bound fails;
    the point is re-certified from its float64 parameters and the engine agrees."""
    claim = REG.get("kb2019.theorem1")
    ex = explore(claim, drop=("A1",), budget=Budget(instances=3), seed=0, starts=2)
    w = ex.witnesses[0]
    assert w.fails and w.point is not None and w.point.kind == "local_min"
    assert w.instance.d_y > min(w.instance.d_x, w.instance.d_z)
    v, t = engine_margin(w.claim, w.instance, w.point)
    assert v == w.margin and v < -t
    assert w.shrunk_from is not None and w.instance.X.shape[0] < int(
        w.shrunk_from["X"].split("x")[0])


def test_unknown_names_are_usage_errors():
    claim = REG.get("kb2019.theorem1")
    with pytest.raises(ExploreError, match="hypotheses: A1, A2"):
        explore(claim, drop=("A3",))
    with pytest.raises(ExploreError, match="doubled_improvement"):
        explore(claim, mutate="nope")
    with pytest.raises(ExploreError):
        Budget.parse("soon")


def test_generator_that_cannot_violate_a_hypothesis_is_reported():
    claim = REG.get("kb2019.theorem2")
    ex = explore(claim, drop=("B1",), budget=Budget(instances=5), seed=0)
    assert ex.outcome == "generator-cannot-violate" and not ex.found
    assert "B1" in ex.summary


def _needle_claim():
    """x^2 + y^2 >= 0.01 everywhere (false only in a disc of radius 0.1 off the origin):
    random draws from [-10, 10]^2 miss it, the optimiser walks into it."""
    from hypothesis import strategies as st

    def conclusion(inst, point, B):
        x, y = inst.p[..., 0] - 3.0, inst.p[..., 1] + 4.0
        return Margin.at_least(x * x + y * y, 0.01, B)

    pts = st.tuples(st.floats(-10, 10), st.floats(-10, 10)).filter(
        lambda p: (p[0] - 3) ** 2 + (p[1] + 4) ** 2 > 1)
    return Claim(id="demo.lemma1", title="needle", source=Source("demo", "1", "Lemma 1"),
                 statement="(x-3)^2 + (y+4)^2 >= 0.01", conclusion=conclusion,
                 instances=lambda a: pts.map(lambda p: Instance(p=np.array(p, float) + 0.37)))


def test_optimisation_finds_what_generation_misses():
    claim = _needle_claim()
    ex = explore(claim, budget=Budget(instances=300), seed=0, shrink=False)
    assert ex.found
    assert ex.optimised > 0          # found by the optimiser, not by a draw
    p = ex.witnesses[0].instance.p
    assert (p[0] - 3) ** 2 + (p[1] + 4) ** 2 < 0.01


def test_continuous_view_keeps_labels_and_integers_fixed():
    inst = Instance(X=np.array([[0.5, 1.5]]), Y=np.array([[1.0], [-1.0]]), m=2, s=0.25)
    v = ContinuousView(inst)
    assert v.names == ["X", "s"]
    back = v.build(v.x0 + 1)
    assert back.X.tolist() == [[1.5, 2.5]] and back.s == 1.25 and back.Y is inst.Y


def test_edge_cases_reach_exact_rank_deficiency_and_repeated_rows():
    from hypothesis import find

    base = Instance(X=np.array([[1.5, 2.5], [3.5, 4.25], [0.5, -1.0]]),
                    Y=np.array([[0.1], [0.2], [0.3]]))
    s = perturb(base)
    rank1 = find(s, lambda i: np.linalg.matrix_rank(i.X) == 1)
    assert np.linalg.matrix_rank(rank1.X) == 1
    rep = find(s, lambda i: len({tuple(r) for r in np.hstack([i.X, i.Y])}) == 2)
    # a repeated sample repeats the row of X *and* of Y
    rows = [tuple(r) for r in np.hstack([rep.X, rep.Y])]
    assert len(set(rows)) == 2
    assert len(EDGE_KINDS) >= 10


def test_admissible_checks_dropped_and_assumed_hypotheses():
    claim = REG.get("kb2019.theorem1.convexity")
    from proofcheck.problems import LOSSES
    inst = Instance(Phi=np.ones((1, 1)), Y=np.zeros((1, 1)), R1=np.zeros((1, 1)),
                    R2=np.ones((1, 1)), loss=LOSSES["squared"], loss_name="squared")
    assert admissible(claim, inst)
    assert not admissible(claim.dropping("A2"), inst)


def test_identity_mutant_of_a_claim_with_a_conclusion_is_explored_on_the_identity():
    """A mutant that replaces an identity is searched on that identity (exactly), not on the
    unchanged conclusion, which would find nothing."""
    from hypothesis import strategies as st

    from proofcheck.claims import Identity, Mutant, MutantKind
    from proofcheck.symbolic import SizeSweep, symbol_matrix

    def build(s, factor=1):
        A = symbol_matrix("A", s["n"], s["n"])
        return (A + A.T).T, factor * (A + A.T)

    claim = Claim(
        id="demo.lemma2", title="symmetric part", source=Source("demo", "1", "Lemma 2"),
        statement="(A + A^T)^T = A + A^T and x^2 >= 0",
        identities=(Identity("sym", "(A + A^T)^T = A + A^T", build, SizeSweep(n=(1, 3))),),
        conclusion=lambda inst, point, B: Margin.at_least(inst.x * inst.x, 0.0, B),
        instances=lambda a: st.floats(-5, 5).map(lambda x: Instance(x=x)),
        mutants=(Mutant.identity("doubled", MutantKind.PERTURBED_CONSTANT, "= 2 (A + A^T)",
                                 "sym", lambda s: build(s, 2)),))
    ex = explore(claim, mutate="doubled", seed=0)
    w = ex.witnesses[0]
    assert w.kind == "identity" and w.sizes == {"n": 1} and w.fails
    assert not explore(claim, budget=Budget(instances=20)).found


def test_dropped_hypothesis_where_the_conclusion_is_undefined_is_skipped_not_fatal():
    """Without `nonzero`, some instances make the conclusion undefined (x = 0: an infinite
    tolerance); they are skipped and counted, and the search goes on to a real failure."""
    from hypothesis import strategies as st

    from proofcheck.claims import Hypothesis

    def conclusion(inst, point, B):
        x = inst.x
        return Margin.at_least(abs(x), 0.5, tol=0.0 if x != 0 else math.inf, tol_source="t")

    NZ = Hypothesis("nonzero", "|x| >= 1/2", lambda i: abs(i.x) >= 0.5)
    claim = Claim(id="demo.lemma3", title="t", source=Source("demo", "1", "Lemma 3"),
                  statement="|x| >= 1/2", hypotheses=(NZ,), conclusion=conclusion,
                  instances=lambda a: (st.floats(0.5, 3) if a["nonzero"] else
                                       st.sampled_from([0.0, 0.0, 0.25])).map(
                      lambda x: Instance(x=x)))
    ex = explore(claim, drop=("nonzero",), budget=Budget(instances=30), seed=0)
    assert ex.found and ex.undefined >= 1
    assert 0 < ex.witnesses[0].instance.x < 0.5      # 0.25, shrunk to a simpler 1/3
    assert any("could not be evaluated" in n for n in ex.notes)


def test_time_budget_stops_and_says_so():
    import time
    claim = REG.get("kb2019.theorem1.convexity")
    t0 = time.perf_counter()
    ex = explore(claim, budget=Budget.parse("1s"), seed=0)
    # the clock is checked between evaluations: it stops, and long before its draw budget
    # (a generous bound: an overloaded CI machine must not fail it)
    assert time.perf_counter() - t0 < 30
    assert ex.budget.seconds == 1.0 and "budget 1 s" in ex.summary
    # generation stops at 60 % of the budget and leaves the rest to optimisation, unless the
    # machine was so slow that generation's evaluations alone used up the whole second
    assert ex.optimised > 0 or ex.timings["generation"] >= 1.0, ex.timings
    assert Budget.parse("2m").seconds == 120


def test_dropping_a_hypothesis_without_predicate_says_the_generator_is_trusted():
    """Admissibility cannot confirm that instances violate a predicate-less hypothesis; the
    exploration says whose word the drop rests on (and the note is absent otherwise)."""
    claim = REG.get("khk2019dw.lemma2")
    bare = [h.name for h in claim.hypotheses if h.holds is None]
    assert bare, "khk2019dw.lemma2 no longer has a predicate-less hypothesis"
    ex = explore(claim, drop=(bare[0],), budget=Budget(instances=5), seed=0, shrink=False,
                 certify=False)
    assert any("has no predicate" in n for n in ex.notes)
    kept = explore(REG.get("kb2019.theorem1.convexity"), drop=("A2",),
                   budget=Budget(instances=5), seed=0, shrink=False, certify=False)
    assert not any("has no predicate" in n for n in kept.notes)
