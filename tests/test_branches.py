"""Per-branch results: each case of a proof shows a mutant caught there, or says it cannot.

Small claims on x in R with two declared branches (``pos``: x > 0, ``neg``: x < 0); every
verdict and status asserted here is what the engine computed.
"""

import io
import json

import numpy as np
import pytest
from hypothesis import strategies as st
from rich.console import Console

from proofcheck import Claim, Instance, Margin, Mutant, MutantKind, Source
from proofcheck.engine import check_claim, check_claims
from proofcheck.report import branch_line, render_terminal
from proofcheck.results import (ALL_BRANCH, BranchResult, BranchStatus, ClaimResult, RunResult,
                                Verdict)

SRC = Source("demo", "2", "Lemma 2")


def signed(assumed):
    """x > 0 in branch ``pos``, x < 0 in branch ``neg`` (either when no branch is asked)."""
    signs = {"pos": (1.0,), "neg": (-1.0,)}.get(assumed.branch, (1.0, -1.0))
    return st.tuples(st.sampled_from(signs), st.floats(0.1, 10.0)).map(
        lambda t: Instance(x=np.array([t[0] * t[1]]), branch="pos" if t[0] > 0 else "neg"))


def _ge(lhs, rhs):
    return lambda inst, point, B: Margin.at_least(lhs(B.asarray(inst.x)),
                                                  rhs(B.asarray(inst.x)), B, n_ops=4)


def _sum(f):
    return lambda x: f(x)[..., 0]


SQUARE = _ge(_sum(lambda x: x * x), _sum(lambda x: 0 * x))        # x^2 >= 0: true
NONNEG = Mutant.conclusion("x_nonneg", MutantKind.OTHER, "x >= 0 (wrong only for x < 0)",
                           _ge(_sum(lambda x: x), _sum(lambda x: 0 * x)))
NONPOS = Mutant.conclusion("x_nonpos", MutantKind.OTHER, "x <= 0 (wrong only for x > 0)",
                           _ge(_sum(lambda x: -x), _sum(lambda x: 0 * x)))
NEGATIVE = Mutant.conclusion("square_negative", MutantKind.FLIPPED_INEQUALITY,
                             "x^2 <= -1 (wrong everywhere)",
                             _ge(_sum(lambda x: -x * x), _sum(lambda x: 0 * x + 1)))
HARMLESS = Mutant.conclusion("square_above_minus_one", MutantKind.PERTURBED_CONSTANT,
                             "x^2 >= -1 (true: no check can catch it)",
                             _ge(_sum(lambda x: x * x), _sum(lambda x: 0 * x - 1)))


def claim(mutants, **kw):
    base = dict(id="demo.lemma2", title="a square is nonnegative", source=SRC,
                statement="x^2 >= 0", conclusion=SQUARE, instances=signed,
                branches=("pos", "neg"), mutants=tuple(mutants))
    base.update(kw)
    return Claim(**base)


def by_name(res):
    return {b.name: b for b in res.branches}


@pytest.fixture(scope="module")
def both():
    return check_claim(claim([NONNEG, NONPOS, NEGATIVE]), profile="quick", seed=3)


def test_each_branch_names_the_mutant_caught_there(both):
    b = by_name(both)
    assert both.verdict is Verdict.VERIFIED
    assert b["neg"].status is BranchStatus.DISCRIMINATING and b["neg"].mutant == "x_nonneg"
    assert b["pos"].status is BranchStatus.DISCRIMINATING and b["pos"].mutant == "x_nonpos"
    assert b["pos"].mutant_grade and b["neg"].mutant_grade
    # distinct instances, split over the branches and adding up to the check's count
    assert b["pos"].instances > 0 and b["neg"].instances > 0
    assert b["pos"].instances + b["neg"].instances == both.instances
    assert not both.non_discriminating


def test_a_mutant_wrong_everywhere_is_caught_in_every_branch():
    res = check_claim(claim([NEGATIVE]), profile="quick", seed=4)
    assert {b.name: b.mutant for b in res.branches} == {"pos": "square_negative",
                                                        "neg": "square_negative"}
    assert res.verdict is Verdict.VERIFIED


def test_branch_where_every_mutant_passes_is_non_discriminating():
    res = check_claim(claim([NONNEG, HARMLESS]), profile="quick", seed=5)
    b = by_name(res)
    assert b["neg"].status is BranchStatus.DISCRIMINATING
    assert b["pos"].status is BranchStatus.NON_DISCRIMINATING and not b["pos"].mutant
    assert res.verdict is Verdict.VERIFIED          # the neg branch could fail, and did not
    assert res.non_discriminating == ["pos"]
    assert "non-discriminating in branch pos" in res.summary()


def test_claim_with_no_discriminating_branch_is_not_verified():
    res = check_claim(claim([HARMLESS]), profile="quick", seed=6)
    assert all(b.status is BranchStatus.NON_DISCRIMINATING for b in res.branches)
    assert res.verdict is Verdict.INCONCLUSIVE
    assert res.grade is None
    assert "no branch discriminates" in res.summary()


def test_claim_without_declared_branches_has_one():
    res = check_claim(claim([NONNEG], branches=()), profile="quick", seed=7)
    assert [b.name for b in res.branches] == [ALL_BRANCH]
    assert res.branches[0].status is BranchStatus.DISCRIMINATING
    assert res.branches[0].instances == res.instances
    assert branch_line(res) == ""                   # nothing to say beyond the verdict


def test_branches_round_trip_through_json(both):
    again = ClaimResult.from_dict(json.loads(json.dumps(both.to_dict())))
    assert again.branches == both.branches
    d = both.to_dict()["branches"]
    assert [x["status"] for x in d] == ["discriminating", "discriminating"]
    assert {x["name"]: x["mutant"]["name"] for x in d} == {"pos": "x_nonpos", "neg": "x_nonneg"}
    with pytest.raises(ValueError, match="unknown status"):
        BranchResult.from_dict({"name": "b", "status": "maybe"})


def test_terminal_shows_branches_within_80_columns(both):
    run = RunResult([both], "quick", 3)
    out = io.StringIO()
    render_terminal(run, Console(file=out, width=80, force_terminal=False, color_system=None))
    text = out.getvalue()
    flat = " ".join(text.split())
    assert "branches: pos" in flat and "(caught: x_nonneg)" in flat
    assert max(len(line) for line in text.splitlines()) <= 80


def test_run_json_carries_branches():
    run = check_claims([claim([HARMLESS])], profile="quick", seed=8)
    d = run.to_dict()
    assert d["claims"][0]["verdict"] == "inconclusive"
    assert {b["status"] for b in d["claims"][0]["branches"]} == {"non-discriminating"}
    assert RunResult.from_dict(d).claims[0].branches == run.claims[0].branches


def test_markdown_has_a_branch_table(both):
    from proofcheck.report import to_markdown
    text = to_markdown(RunResult([both], "quick", 3))
    assert "### Branches" in text and "| `neg` |" in text and "`x_nonneg`" in text


# --------------------------------------------------------------------------- at points

class TwoMinima:
    """f(t) = (t^2 - 1)^2: minima at t = +1 (branch ``plus``) and t = -1 (``minus``)."""


def two_minima_finder(land, *, rng, starts, digits, branch=None):
    from types import SimpleNamespace
    return [SimpleNamespace(theta=np.array([s]), kind="local_min", branch=None)
            for s in (1.0, -1.0)]


def _at_points(mutants):
    from proofcheck import PointKind
    from proofcheck.evaluate import register_finder
    register_finder(TwoMinima, two_minima_finder)
    return Claim(id="demo.minima", title="minima of (t^2 - 1)^2", source=SRC,
                 statement="t^2 >= 1 at every local minimum",
                 instances=lambda a: st.floats(0.5, 4).map(lambda x: Instance(x=x)),
                 point_kind=PointKind.LOCAL_MIN, landscape=lambda inst: TwoMinima(),
                 branches=("plus", "minus"),
                 case_of=lambda inst, p: "plus" if p.theta[0] > 0 else "minus",
                 conclusion=lambda inst, p, B: Margin.at_least(p.theta[0] ** 2, 1.0, B),
                 mutants=tuple(mutants))


POSITIVE = Mutant.conclusion("t_at_least_one", MutantKind.OTHER, "t >= 1 (wrong at t = -1)",
                             lambda inst, p, B: Margin.at_least(p.theta[0], 1.0, B))
DOUBLED = Mutant.conclusion("t2_at_least_two", MutantKind.PERTURBED_CONSTANT,
                            "t^2 >= 2 (wrong at both minima)",
                            lambda inst, p, B: Margin.at_least(p.theta[0] ** 2, 2.0, B))


def test_at_points_each_branch_gets_the_mutant_wrong_there():
    res = check_claim(_at_points([POSITIVE, DOUBLED]), profile="quick", seed=0)
    b = by_name(res)
    assert res.verdict is Verdict.VERIFIED
    assert b["minus"].mutant == "t_at_least_one"        # the first mutant caught there
    assert b["plus"].mutant == "t2_at_least_two"        # wrong everywhere: seen in plus too
    assert b["plus"].points == b["minus"].points == res.checks[0].instances


def test_at_points_branch_no_mutant_reaches_is_non_discriminating():
    res = check_claim(_at_points([POSITIVE]), profile="quick", seed=0)
    b = by_name(res)
    assert b["minus"].status is BranchStatus.DISCRIMINATING
    assert b["plus"].status is BranchStatus.NON_DISCRIMINATING
    assert res.verdict is Verdict.VERIFIED and res.non_discriminating == ["plus"]
