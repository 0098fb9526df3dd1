"""Tightness of inequality claims (proofcheck.search.tightness)."""

import pytest
from hypothesis import strategies as st

from proofcheck import Claim, Hypothesis, Identity, Instance, Margin, Source
from proofcheck.search.tightness import tightness
from proofcheck.symbolic import SizeSweep, symbol_matrix

SRC = Source("demo", "1", "Lemma 1")


def claim(conclusion, lo=-1.0, hi=1.0):
    # the range is a named hypothesis: the descent keeps hypotheses, not a generator's bounds
    rng = Hypothesis("range", f"{lo} <= x <= {hi}", lambda i: lo <= i.x <= hi)
    return Claim(id="demo.lemma1", title="t", source=SRC, statement="s", conclusion=conclusion,
                 hypotheses=(rng,),
                 instances=lambda a: st.floats(lo, hi).map(lambda x: Instance(x=x)))


def test_attained_bound():
    # x^2 <= |x| on [-1, 1] is attained at x in {-1, 0, 1}
    t = tightness(claim(lambda i, p, B: Margin.at_most(i.x * i.x, abs(i.x), B)),
                  instances=40, seed=0)
    assert t.verdict == "attained"
    assert abs(t.normalised) <= t.tolerance


def test_factor_of_a_loose_bound():
    # x^2 <= 2|x| on [-1, 1]: tightest at |x| = 1, where the bound is twice the left side
    t = tightness(claim(lambda i, p, B: Margin.at_most(i.x * i.x, 2 * abs(i.x), B)),
                  instances=60, seed=0)
    assert t.verdict == "tight up to factor c"
    assert t.factor == pytest.approx(2.0, rel=1e-6)
    assert t.normalised == pytest.approx(0.5, rel=1e-6)      # (2 - 1) / 2 at |x| = 1


def test_optimisation_moves_towards_the_tight_instance():
    # x^4 + 1 <= 3 + x^2 for 0.5 <= x <= 1.2 (a named hypothesis, so the descent stays in it):
    # the ratio (3 + x^2) / (x^4 + 1) decreases on the range, tightest at x = 1.2 where it is
    # 4.44 / 3.0736; 10 draws rarely hit 1.2 itself, Nelder-Mead walks there
    box = Hypothesis("box", "0.5 <= x <= 1.2", lambda i: 0.5 <= i.x <= 1.2)
    c = Claim(id="demo.lemma1", title="t", source=SRC, statement="s", hypotheses=(box,),
              conclusion=lambda i, p, B: Margin.at_most(i.x ** 4 + 1, 3 + i.x ** 2, B),
              instances=lambda a: st.floats(0.5, 1.1).map(lambda x: Instance(x=x)))
    t = tightness(c, instances=10, seed=1)
    assert t.verdict == "tight up to factor c"
    assert t.factor == pytest.approx(4.44 / 3.0736, rel=1e-6)


def test_equality_and_identities_are_not_inequalities():
    eq = tightness(claim(lambda i, p, B: Margin.equal(i.x * 2, i.x + i.x, B)), instances=20)
    assert eq.verdict == "equality"
    ident = Claim(id="demo.lemma2", title="t", source=SRC, statement="s",
                  identities=(Identity("t", "A = A", lambda s: (symbol_matrix("A", 1, 1),) * 2,
                                       SizeSweep(n=(1, 1))),))
    assert tightness(ident).verdict == "not applicable"


def test_violated_claim_is_reported_as_such():
    t = tightness(claim(lambda i, p, B: Margin.at_most(i.x * i.x, abs(i.x), B), -2.0, 2.0),
                  instances=30, seed=0)
    assert t.verdict == "violated"
