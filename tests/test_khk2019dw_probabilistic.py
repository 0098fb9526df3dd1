"""KHK 2019 (DW) Section 3.2 probabilistic claims: the settings, the exact laws behind them, and
one shared engine run at the quick profile (every mutant caught, errata backed by witnesses)."""

import math

import numpy as np
import pytest

from proofcheck import montecarlo as mc
from proofcheck.claims import claims_in
from proofcheck.catalog import CATALOGUE  # noqa: F401  (registers proofcheck.catalogue)
from proofcheck.catalogue.khk2019dw import section3_probabilistic as S
from proofcheck.results import Verdict

CLAIMS = claims_in(vars(S))


@pytest.fixture(scope="module")
def run(check_quick):
    # quick, seed 0: the run tests/test_catalogue_khk2019dw.py makes of these claims, computed
    # once per test run through the shared result cache (tests/conftest.py)
    from proofcheck.catalog import load_claims
    return check_quick(CLAIMS, load_claims().origins)


# --- the settings satisfy (or violate) exactly what they are meant to -------------------------

def _holds(name):
    s = S.SETTINGS[name]
    return {"pattern": S._pattern_ok(s), "size_i": S._size_i(s),
            "smin_i": S._smin_large_ok(name), "size_ii": S._size_ii(s),
            "smin_ii": S._smin_small_ok(name) if s.m <= 10 ** 6 else None, "d>=2": s.d >= 2}


@pytest.mark.parametrize("name", S.PROP2I_VALID)
def test_case_i_settings_meet_the_hypotheses(name):
    h = _holds(name)
    assert h["pattern"] and h["size_i"] and h["smin_i"]


@pytest.mark.parametrize("name", S.LEMMA6II_VALID)
def test_case_ii_settings_meet_the_hypotheses(name):
    h = _holds(name)
    assert h["pattern"] and h["size_ii"] and h["smin_ii"] and h["d>=2"]


@pytest.mark.parametrize("name,broken", [
    ("abs_d1_m1500_r1499", "size_i"), ("dead_d1_r1e7", "smin_i"),
    ("relu_d1_m2_dx3", "size_i"), ("relu_d1_m14000_one_active", "smin_i"),
])
def test_case_i_violators_break_exactly_one_hypothesis(name, broken):
    h = _holds(name)
    assert h[broken] is False
    assert all(h[k] for k in ("pattern", "size_i", "smin_i") if k != broken)


@pytest.mark.parametrize("name,broken", [
    ("abs_hadamard_d4_dead_row", "smin_ii"), ("abs_d2_m100", "size_ii"),
    ("relu_d1_dead_sample", "d>=2"),
])
def test_case_ii_violators_break_exactly_one_hypothesis(name, broken):
    h = _holds(name)
    assert h[broken] is False
    assert all(h[k] for k in ("pattern", "size_ii", "smin_ii", "d>=2") if k != broken)


def test_smin_certificate_is_tight_for_the_typed_pattern():
    # delta^2 = 109.41 passes, the exact minimum 109.612 is the limit: 109.62 must fail
    s = S.SETTINGS["relu_d2_types_m1500"]
    v, vertices, ty = mc.min_gram_large_subsets(np.array(s.types), np.array(s.counts), 750)
    assert 109.41 < v < 109.62
    assert not all(mc.certify_gram_at_least((ty.T * c) @ ty, 109.62) for c in vertices)


# --- Proposition 2 (i): the sqrt restoration -----------------------------------------------------

def test_unrestored_form_fails_within_the_hypotheses_by_simulation():
    # independent of betainc: sample R = chi2_{m-r} / (chi2_{m-r} + chi2_r) directly
    s = S.SETTINGS["relu_d1_r200"]
    m, r, t = s.m, s.d_x, s.t
    c = (1 + 6 * t / m) * (m - r) / m
    bound = S._rank_term(s) + 2 * math.exp(-t)

    def event(rng, n):
        a, b = rng.chisquare(m - r, n), rng.chisquare(r, n)
        return a / (a + b) > c
    est = mc.estimate_failure_probability(event, 4000, seed=1)
    assert est.verdict(bound) == "violated"
    assert est.lower <= float(mc.residual_ratio_sf(c, m, r)) <= est.upper


def test_sqrt_form_is_vacuous_below_the_threshold_and_not_at_r1e6():
    for name, vacuous in (("relu_d1_r200", True), ("relu_d1_r1e6", False)):
        s = S.SETTINGS[name]
        r = s.d_x
        t_crit = s.m * (r / (6 * (s.m - r))) ** 2     # loss bound >= 1/2 ||Y||^2 beyond it
        assert (t_crit <= math.log(2)) == vacuous
        assert float(S._prop2i_factor(s, t_crit * 1.0001, "sqrt")) >= 1
    s = S.SETTINGS["relu_d1_r1e6"]
    assert float(S._prop2i_factor(s, s.t, "sqrt")) < 1 and s.t > math.log(2)


def test_reconstruction_example_is_outside_the_hypotheses():
    # m = 1e6, r = 1e4: even the largest admissible delta^2 (<= ceil(m/2)) misses the size bound
    m, r = 10 ** 6, 10 ** 4
    assert 64 * math.log(r * m / math.ceil(m / 2)) ** 2 * r > m


def test_sqrt_form_margin_is_exact_and_nonnegative_for_every_t():
    for name in S.PROP2I_VALID:
        value, tol = S._prop2i_exact(name, "sqrt", False)
        assert value >= 0 and tol == mc.BETAINC_RTOL
    value, _ = S._prop2i_exact("relu_d1_r200", "linear", False)
    assert value < -0.05


# --- Lemma 6 (ii) / Proposition 2 (ii): the d = 1 counterexample --------------------------------

def test_d1_dead_sample_is_a_sure_failure_against_a_bound_below_one():
    s = S.SETTINGS["relu_d1_dead_sample"]
    assert mc.almost_sure_rank(s.Lambda, s.d_x).rank == 1 < s.m
    assert S._bound_ii(s) < 0.1
    ranks = mc.simulate_rank(s.Lambda, s.d_x, np.random.default_rng(0), 50)
    assert np.all(ranks < s.m)


@pytest.mark.parametrize("name", S.LEMMA6II_VALID)
def test_with_d_at_least_2_rank_m_holds_almost_surely(name):
    s = S.SETTINGS[name]
    assert s.rank.exact and s.rank.rank == s.m


# --- Monte Carlo planning: the simulated settings can decide ---------------------------------

def test_simulated_settings_are_decisive_by_plan():
    s = S.SETTINGS["abs_d1_m256"]
    assert S._simulate(s, S._bound_i(s), 0.0)
    s = S.SETTINGS["relu_d2_types_m1500"]
    assert not S._simulate(s, S._bound_i(s), 0.0)      # 100 draws cannot resolve 8.4e-4
    for name in S.LEMMA6II_VALID:
        s = S.SETTINGS[name]
        assert S._simulate(s, S._bound_ii(s), 0.0)


def test_lemma7_exact_tails_respect_the_bound_and_the_dropped_term_does_not():
    w = S.WEIGHTS["equal_n1_t8"]
    s4 = float(np.sum(w.a2 ** 2))
    thr = S._lm_threshold(w.t, s4, w.K ** 2, "upper", 2.0, 2.0, math.sqrt)
    assert float(mc.chi2_excess_tail(thr, 1)) <= math.exp(-w.t)
    thr0 = S._lm_threshold(w.t, s4, w.K ** 2, "upper", 2.0, 0.0, math.sqrt)
    assert float(mc.chi2_excess_tail(thr0, 1)) > math.exp(-w.t)


# --- the engine run ----------------------------------------------------------------------------

def test_no_claim_errors_or_is_left_undecided(run):
    bad = {c.claim_id: (c.verdict.value, c.error) for c in run.claims
           if c.verdict in (Verdict.ERROR, Verdict.INCONCLUSIVE)}
    assert bad == {}


def test_every_mutant_is_caught_and_every_claim_has_three(run):
    missed = {(c.claim_id, m.name): m.caught_by for c in run.claims for m in c.mutants
              if not m.caught}
    assert missed == {}
    assert all(len(c.mutants) >= 3 for c in run.claims)


def test_errata_carry_a_witness_and_a_verified_correction(run):
    for c in run.claims:
        if c.verdict is Verdict.ERRATUM:
            assert c.erratum and "d = 1" in c.erratum
            assert any(ch.passed is False and ch.witness is not None for ch in c.checks)
            w = next(ch.witness for ch in c.checks if ch.witness is not None)
            assert w.instance["setting"] == "relu_d1_dead_sample"
            assert c.corrected is not None and c.corrected.verdict is Verdict.VERIFIED


def test_refuted_printed_claims_are_exactly_those_with_a_correction(run):
    for c in run.claims:
        claim = next(k for k in CLAIMS if k.id == c.claim_id)
        failed = any(ch.passed is False for ch in c.checks)
        assert failed == (claim.corrected is not None), c.claim_id
