"""KHK 2019 (DW): the branches that could not fail now can, and the certificates behind them.

Every status, grade and mutant asserted here is what the engine (or the certificate) computed:
Lemma 7's mixed-weight branches (a certified weighted chi-square tail instead of Monte Carlo),
Theorem 2's zero-loss branch rank_m (the rank premise without Theta), the output-term
observation's stratum branch (live strata) and the certified errata witnesses of Lemma 6 (ii)
and Proposition 2 (ii) (the exact 0/1 law on the ball backend).
"""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from proofcheck import Instance
from proofcheck import montecarlo as mc
from proofcheck.judge import judge
from proofcheck.results import BranchStatus, Verdict

from theorems.khk2019dw import section3_probabilistic as S
from theorems.khk2019dw import theorem1 as T1
from theorems.khk2019dw import theorem2 as T2

MIXED = np.linspace(0.1, 1.0, 20) ** 2


# --- the certified weighted chi-square tail ---------------------------------------------------

def _imhof_sf(x, w):
    """P(sum w_i g_i^2 > x) by Imhof's inversion formula (scipy quad): an independent
    numerical cross-check of Ruben's series."""
    w = np.asarray(w, float)

    def f(u):
        theta = 0.5 * np.sum(np.arctan(w * u)) - 0.5 * x * u
        rho = np.prod((1 + (w * u) ** 2) ** 0.25)
        return math.sin(theta) / (u * rho)
    val, _ = integrate.quad(f, 0, np.inf, limit=500, epsabs=1e-12)
    return 0.5 + val / math.pi


def test_ruben_coefficients_are_lower_bounds_with_an_exact_deficit():
    r = mc.ruben_coefficients(MIXED)
    assert r.terms > 100 and 0 <= r.deficit <= 1e-15
    assert sum(r.numerators) <= r.denominator             # lower bounds of weights summing to 1
    assert mc.ruben_coefficients([2.0] * 5).terms == 1      # equal weights: one chi-square


@pytest.mark.parametrize("x", [2.0, 6.0, 12.0])
def test_weighted_tail_encloses_an_independent_computation(x):
    ball = mc.weighted_chi2_tail(x - MIXED.sum(), MIXED)    # P(sum w g^2 >= x)
    ref = _imhof_sf(x, MIXED)
    assert ball.rad() < 1e-12
    assert abs(float(ball.mid()) - ref) < 1e-7


def test_weighted_tail_equal_weights_is_the_chi_square_law():
    for thr, n, a2, upper in [(4.0, 1, 1.0, True), (3.0, 1000, 0.25, True),
                              (-3.0, 1000, 0.25, False), (-0.5, 1, 1.0, False)]:
        ball = mc.weighted_chi2_tail(thr, [a2] * n, upper=upper)
        q = n + thr / a2
        ref = stats.chi2.sf(q, n) if upper else stats.chi2.cdf(q, n)
        assert ball.lower() - 1e-13 <= ref <= ball.upper() + 1e-13


def test_weighted_tail_below_the_least_value_is_exactly_zero():
    assert mc.weighted_chi2_tail(-MIXED.sum() - 1.0, MIXED, upper=False) == 0
    assert mc.weighted_chi2_tail(-MIXED.sum() - 1.0, MIXED, upper=True) == 1


# --- the engine: every branch discriminates ---------------------------------------------------

def _branches(result):
    return {b.name: b for b in result.branches}


@pytest.fixture(scope="module")
def quick(check_quick):
    """A catalogue claim's result at the quick profile, seed 0, through the test run's shared
    result cache (tests/conftest.py): the catalogue tests check the same claims."""
    from proofcheck.catalog import load_claims

    reg = load_claims(patterns=["khk2019dw"])

    def result(claim_id):
        (res,) = check_quick([reg.get(claim_id)], reg.origins).claims
        return res
    return result


@pytest.fixture(scope="module")
def lemma7(quick):
    return {i: quick(i) for i in ("khk2019dw.lemma7.upper", "khk2019dw.lemma7.lower")}


def test_lemma7_mixed_branches_discriminate(lemma7):
    up = _branches(lemma7["khk2019dw.lemma7.upper"])
    lo = _branches(lemma7["khk2019dw.lemma7.lower"])
    for res in lemma7.values():
        assert res.verdict is Verdict.VERIFIED
        assert all(b.status is BranchStatus.DISCRIMINATING for b in res.branches), \
            [(b.name, b.status) for b in res.branches]
    for name in ("mixed_n20_t6", "mixed_n20_t8"):
        assert up[name].mutant in ("no_linear_term", "rate_2t")
        assert up[name].mutant_grade == "high-precision"
    for name in ("mixed_n20_t2", "mixed_n20_t4"):
        assert lo[name].mutant == "half_deviation"
        assert lo[name].mutant_grade == "high-precision"


def test_lemma7_mixed_failure_is_certified_on_the_ball_rung():
    # the half deviation at t = 2: P = 0.1423 > e^-2 = 0.1353, decided in ball arithmetic
    mutant = next(m for m in S.lemma7_lower.mutants if m.name == "half_deviation")
    c = mutant.apply(S.lemma7_lower)
    w = S.WEIGHTS["mixed_n20_t2"]
    j = judge(c, Instance(setting=w.name, n=len(w.a), K=w.K, t=w.t))
    assert j.decided and j.certified and j.rung == "ball"
    # and the statement itself holds there, certified
    j0 = judge(S.lemma7_lower, Instance(setting=w.name, n=len(w.a), K=w.K, t=w.t))
    assert j0.fails is False


def test_zero_loss_rank_m_branch_is_caught_by_the_premise_without_theta(quick):
    res = quick(T2.zero_loss.id)
    b = _branches(res)
    assert res.verdict is Verdict.VERIFIED
    assert b["rank_m"].status is BranchStatus.DISCRIMINATING
    assert b["rank_m"].mutant == "drop_theta in Theta_{d_y,t}"
    assert b["rank_m"].mutant_grade == "high-precision"


def test_live_strata_have_differentiable_outputs_and_live_units():
    inst = T1.live_stratum(0, (2, 2, 1), ["relu"])
    from theorems.khk2019dw.assumptions import network_of
    net = network_of(inst)
    Ws = net.unflatten(np.asarray(inst.start, float))
    live = np.flatnonzero(np.any(Ws[1] != 0, axis=1))
    assert live.size >= 1
    assert np.all(np.asarray(inst.X) @ Ws[0][:, live] != 0)


def test_output_term_stratum_branch_discriminates(quick):
    res = quick(T1.output_term.id)
    assert res.verdict is Verdict.ERRATUM
    b = _branches(res)          # an erratum: the branches of its corrected statement
    assert b["stratum"].status is BranchStatus.DISCRIMINATING, b["stratum"]
    assert b["stratum"].points >= 1
    assert b["stratum"].mutant in ("layer_H_dropped", "without_pattern")


# --- the errata of case (ii): certified witnesses ---------------------------------------------

@pytest.mark.parametrize("claim", [S.lemma6_ii, S.proposition2_ii], ids=lambda c: c.id)
def test_case_ii_erratum_witness_is_certified_by_the_exact_law(claim):
    s = S.SETTINGS["relu_d1_dead_sample"]
    inst = Instance(setting=s.name, m=s.m, d=s.d, d_x=s.d_x, delta=float(s.delta),
                    t=float(s.t), draws=int(s.draws), seed=0.0)
    j = judge(claim, inst)
    assert j.decided and j.certified and j.rung == "ball"
    lo, hi = (float(v) for v in j.enclosure)
    assert hi < 0 and abs(lo - (2 * math.exp(-3) - 1)) < 1e-12
    # on a valid setting the corrected statement holds, certified the same way
    s = S.SETTINGS["abs_hadamard_d4_m4"]
    ok = Instance(setting=s.name, m=s.m, d=s.d, d_x=s.d_x, delta=float(s.delta), t=float(s.t),
                  draws=int(s.draws), seed=0.0)
    assert judge(claim.corrected, ok).fails is False


def test_structural_rank_bound_is_exact_for_integer_patterns():
    assert mc._rank_of(np.array([[1, 1], [1, -1], [0, 0]])) == 2
    assert mc._rank_of(np.array([[1, 0, 1], [0, 1, 1], [1, 1, 2]])) == 2


@pytest.mark.parametrize("side, setting", [("upper", "sparse_n1_t8"), ("lower", "sparse_n1_t0.2")])
def test_lemma7_gaussian_is_necessary_with_a_certified_witness(side, setting):
    """Without 'gaussian' (a mean-0, variance-1 law with mass 1/25 at +-5) each tail bound fails
    at a certified witness; the witness names the setting whose law was computed."""
    from proofcheck.catalog import load_claims
    from proofcheck.search import Budget, explore
    claim = load_claims().get(f"khk2019dw.lemma7.{side}")
    ex = explore(claim, drop=("gaussian",), budget=Budget(instances=20), seed=0)
    assert ex.found and ex.outcome == "counterexample"
    w = ex.witnesses[0]
    assert w.instance.setting == setting
    assert not claim.hypothesis("gaussian").holds(w.instance)
    assert w.status.startswith("certified")


def test_edited_copies_of_a_setting_are_refused():
    """An instance whose copy of t was edited (an explorer's edge case) is not silently
    evaluated at the setting's t."""
    inst = Instance(setting="equal_n1_t8", n=1, K=1.0, t=0.0)
    with pytest.raises(ValueError, match="t = 0.0, not 8.0"):
        S.weights(inst)
