"""proofcheck.montecarlo: confidence intervals, planning, exact laws, 0/1 rank law, s_min."""

import itertools
import math

import mpmath
import numpy as np
import pytest
from scipy import stats

from proofcheck import montecarlo as mc


# --- Clopper-Pearson and planning ------------------------------------------------------------

@pytest.mark.parametrize("k,n", [(0, 1), (0, 50), (3, 100), (50, 100), (100, 100), (7, 13)])
def test_clopper_pearson_matches_scipy_binomtest(k, n):
    ci = stats.binomtest(k, n).proportion_ci(0.99, method="exact")
    lo, hi = mc.clopper_pearson(k, n, 0.99)
    assert lo == pytest.approx(ci.low, abs=1e-12) and hi == pytest.approx(ci.high, abs=1e-12)


def test_estimate_is_reproducible_and_counts_every_draw():
    event = lambda rng, n: rng.random(n) < 0.3
    a = mc.estimate_failure_probability(event, 1000, seed=5, batch_size=128)
    b = mc.estimate_failure_probability(event, 1000, seed=5, batch_size=128)
    assert (a.failures, a.draws) == (b.failures, b.draws) and a.draws == 1000
    assert a.lower <= 0.3 <= a.upper
    assert a.verdict(0.9) == "consistent" and a.verdict(0.05) == "violated"
    v, tol = a.margin(0.9)
    assert v == pytest.approx(0.9 - a.upper) and tol == pytest.approx(a.upper - a.lower)
    assert "not proven" in a.describe(0.9)


def test_undecided_when_the_interval_straddles_the_bound():
    est = mc.FailureEstimate.of(10, 100, 0.99)
    assert est.verdict(0.1) == "undecided"
    v, tol = est.margin(0.1)
    assert -tol <= v < 0


@pytest.mark.parametrize("bad", [lambda rng, n: np.zeros(n), lambda rng, n: np.zeros(n + 1, bool)])
def test_event_must_return_one_bool_per_draw(bad):
    with pytest.raises(ValueError, match="bool array"):
        mc.estimate_failure_probability(bad, 10)


def test_bad_counts_and_confidence_are_refused():
    with pytest.raises(ValueError):
        mc.clopper_pearson(5, 3)
    with pytest.raises(TypeError):
        mc.clopper_pearson(1.5, 3)
    with pytest.raises(ValueError, match="confidence"):
        mc.clopper_pearson(1, 3, 1.0)
    with pytest.raises(ValueError, match="separates"):
        mc.draws_needed(0.1, 0.1)


def test_draws_needed_zero_failures_closed_form_and_minimality():
    n = mc.draws_needed(0.01, 0.0, confidence=0.999)
    assert mc.clopper_pearson(0, n, 0.999)[1] <= 0.01 < mc.clopper_pearson(0, n - 1, 0.999)[1]


@pytest.mark.parametrize("bound,p", [(0.27, 0.337), (0.1, 0.02), (0.05, 0.5)])
def test_draws_needed_is_decisive_at_the_planned_size(bound, p):
    n = mc.draws_needed(bound, p, confidence=0.999, power=0.95)
    # at the planned size, the power-quantile of the failure count decides
    k = int(stats.binom.ppf(0.95 if p < bound else 0.05, n, p))
    est = mc.FailureEstimate.of(k, n, 0.999)
    assert est.verdict(bound) == ("consistent" if p < bound else "violated")
    # and a simulation at that size decides too (seeded)
    run = mc.estimate_failure_probability(lambda rng, m: rng.random(m) < p, n, seed=2,
                                          confidence=0.999)
    assert run.verdict(bound) == ("consistent" if p < bound else "violated")


# --- exact laws --------------------------------------------------------------------------------

@pytest.mark.parametrize("m,r,x", [(10, 3, 0.6), (50, 49, 0.01), (1000, 10, 0.995),
                                   (10 ** 5, 1000, 0.99)])
def test_residual_ratio_sf_agrees_with_mpmath_to_the_stated_accuracy(m, r, x):
    f = float(mc.residual_ratio_sf(x, m, r))
    g = mc.residual_ratio_sf(x, m, r, digits=40)
    with mpmath.workdps(40):
        ref = float(g.item())
    assert abs(f - ref) <= mc.BETAINC_RTOL * max(abs(ref), 1e-300)


def test_residual_ratio_point_masses_and_mean():
    assert float(mc.residual_ratio_sf(0.5, 7, 0)) == 1.0 and float(mc.residual_ratio_sf(0.0, 7, 7)) == 0.0
    assert float(mc.residual_ratio_law(10, 4).mean()) == pytest.approx(0.6)
    with pytest.raises(ValueError, match="point mass"):
        mc.residual_ratio_law(5, 5)
    with pytest.raises(ValueError):
        mc.residual_ratio_sf(0.5, 3, 4)


def test_residual_ratio_law_matches_simulation_through_d_tilde():
    # Gaussian X, Y, a fixed ReLU pattern with a.s. rank r: 2L/||Y||^2 ~ Beta((m-r)/2, r/2)
    rng = np.random.default_rng(3)
    Lam = (rng.random((12, 2)) < 0.6).astype(float)
    r = mc.almost_sure_rank(Lam.astype(int), 3).rank
    R, ranks = mc.simulate_residual_ratio(Lam, 3, rng, 4000)
    assert np.all(ranks == r)
    law = mc.residual_ratio_law(12, r)
    for q in (0.1, 0.5, 0.9):
        x = law.ppf(q)
        lo, hi = mc.clopper_pearson(int(np.sum(R <= x)), len(R), 1 - 1e-4)
        assert lo <= q <= hi


def test_chi2_excess_tail_equal_weights():
    assert float(mc.chi2_excess_tail(4.0, 1)) == pytest.approx(stats.chi2.sf(5, 1))
    assert float(mc.chi2_excess_tail(-2.0, 3, 0.5, upper=False)) == pytest.approx(
        stats.chi2.cdf(3 - 4, 3))


# --- D-tilde, ranks ---------------------------------------------------------------------------

def test_d_tilde_is_the_block_matrix_of_eq_b2():
    rng = np.random.default_rng(0)
    Lam, X = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    ref = np.hstack([np.diag(Lam[:, k]) @ X for k in range(3)])
    assert np.array_equal(mc.d_tilde(Lam, X), ref)
    Xb = rng.normal(size=(4, 5, 2))
    assert np.array_equal(mc.d_tilde(Lam, Xb)[2], mc.d_tilde(Lam, Xb[2]))


def test_d_tilde_rejects_bad_input():
    with pytest.raises(ValueError, match="rows"):
        mc.d_tilde(np.ones((3, 2)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="finite"):
        mc.d_tilde(np.ones((2, 1)), np.array([[np.nan], [1.0]]))


@pytest.mark.parametrize("Lam,d_x,want", [
    (np.ones((6, 1), int), 2, 2),
    (np.array([[0], [1], [1]]), 5, 2),                 # a dead sample: rank <= 2 < m
    (np.array([[1, 1], [1, 1], [1, 1]]), 2, 2),        # identical units: rank d_x
    (np.array([[1, 0], [0, 1], [1, 1], [1, -1]]), 1, 2),
    (np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1]]), 2, 3),
])
def test_almost_sure_rank_is_exact_and_matches_a_gaussian_draw(Lam, d_x, want):
    br = mc.almost_sure_rank(Lam, d_x)
    assert br.exact and br.rank == want
    assert br.probability_of_rank(want) == 1.0 and br.probability_of_rank(want - 1) == 0.0
    ranks = mc.simulate_rank(Lam, d_x, np.random.default_rng(1), 20)
    assert np.all(ranks == want)


def test_almost_sure_rank_types_agrees_with_the_full_pattern():
    types, counts = np.array([[1, 0], [0, 1], [1, 1]]), np.array([3, 2, 4])
    full = np.repeat(types, counts, axis=0)
    for d_x in (1, 2, 4):
        assert mc.almost_sure_rank_types(types, counts, d_x).rank == \
            mc.almost_sure_rank(full, d_x).rank


def test_almost_sure_rank_needs_integer_patterns():
    with pytest.raises(ValueError, match="integer"):
        mc.almost_sure_rank(np.array([[0.5]]), 1)


# --- smallest singular values over index sets -------------------------------------------------

def _brute_large(L, k):
    m = L.shape[0]
    return min(np.linalg.eigvalsh(L[list(I)].T @ L[list(I)])[0]
               for s in range(k, m + 1) for I in itertools.combinations(range(m), s))


def _brute_small(L, s):
    m = L.shape[0]
    return min(np.linalg.eigvalsh(L[list(I)] @ L[list(I)].T)[0]
               for j in range(1, s + 1) for I in itertools.combinations(range(m), j))


@pytest.mark.parametrize("seed", range(6))
def test_vertex_enumeration_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    L = rng.choice([-1, 0, 1], size=(9, 2))
    k = math.ceil(9 / 2)
    v, vertices, _ = mc.min_smin_large_subsets(L, k)
    assert v == pytest.approx(_brute_large(L.astype(float), k), abs=1e-9)
    s_val, _ = mc.min_smin_small_subsets(L, 2)
    assert s_val == pytest.approx(_brute_small(L.astype(float), 2), abs=1e-9)


def test_certify_gram_at_least_is_exact():
    G = np.array([[2, 1], [1, 2]])                        # eigenvalues 1 and 3
    assert mc.certify_gram_at_least(G, 1) and not mc.certify_gram_at_least(G, 1.0000001)
    assert mc.certify_gram_at_least(np.array([[1, 1], [1, 1]]), 0)
    assert not mc.certify_gram_at_least(np.array([[0, 1], [1, 0]]), 0)


def test_uniform_in_t_certifies_and_detects():
    ok = mc.uniform_in_t(lambda t: np.exp(-2 * t), lambda t: np.exp(-t), 0.1, 50)
    assert ok.margin >= 0 and ok.pointwise >= 0
    bad = mc.uniform_in_t(lambda t: np.exp(-t / 2), lambda t: np.exp(-t), 0.1, 50)
    assert bad.pointwise < 0
