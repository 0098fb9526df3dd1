"""Projected OGD / SGD simulations (proofcheck.stochastic): bounds, rates, bad input."""

import math

import numpy as np
import pytest

from proofcheck.stochastic import (average_regret_and_bound, azuma_deviation, binomial_tail,
                                   fitted_slope, linear_risk_lower_bound, ogd_linear,
                                   project_ball, sgd_skip, skip_data, summation_tolerance,
                                   zinkevich_bound)
from proofcheck.catalogue.shamir2018._runs import theorem4_runs


def test_projection_onto_the_ball():
    x = np.array([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0]])
    p = project_ball(x, 1.0)
    assert np.allclose(p, [[0.6, 0.8], [0.3, 0.4], [0.0, 0.0]])
    assert np.all(np.linalg.norm(p, axis=1) <= 1 + 1e-15)
    with pytest.raises(ValueError, match="NaN"):
        project_ball(np.array([[np.nan, 0.0]]), 1.0)


@pytest.mark.parametrize("adversary", ["random", "adaptive"])
def test_regret_never_exceeds_the_data_dependent_zinkevich_bound(adversary):
    T = 300
    run = ogd_linear(np.arange(40), T, 3, 1.5, 2.0, adversary=adversary)
    tol = summation_tolerance(T, 3, 3.0)
    data_dependent = run.start_dist_sq / (2 * run.eta) + run.eta * run.grad_sq / 2
    assert np.all(run.regret <= data_dependent + tol)
    assert np.all(run.regret <= zinkevich_bound(3.0, run.eta, 2.0, T) + tol)
    # the bound is nearly attained by some run: the check is not vacuous
    assert np.max(run.regret / data_dependent) > 0.5


def test_explicit_average_bound_and_its_violation_without_the_step_hypothesis():
    avg, bound, tol = average_regret_and_bound(np.arange(20), 512, 1, 1.0, 1.0, "adaptive", 1.0)
    assert np.all(avg <= bound + tol)
    # η = b / l (no 1/sqrt T): the adaptive adversary forces linear regret, far above the
    # (2/c + c/2) b l / sqrt(T) the theorem promises at η = c b/(l sqrt T)
    avg, _b, _t = average_regret_and_bound(np.arange(20), 512, 1, 1.0, 1.0, "adaptive", 1.0,
                                           root_T=False)
    assert np.min(avg) > 2.5 / math.sqrt(512)


def test_fitted_slope_recovers_a_power_law_and_refuses_bad_input():
    T = np.array([100, 200, 400, 800])
    rng = np.random.default_rng(0)
    vals = T[None, :] ** -0.5 * np.exp(0.01 * rng.standard_normal((30, 4)))
    fit = fitted_slope(T, vals)
    assert fit.ci_low < -0.5 < fit.ci_high and fit.ci_high - fit.ci_low < 0.05
    with pytest.raises(ValueError, match="positive"):
        fitted_slope(T, -vals)
    with pytest.raises(ValueError, match="seeds"):
        fitted_slope(T, vals[:, :3])


def test_binomial_tail_and_azuma():
    assert binomial_tail(3, 2, 0.5) == pytest.approx(0.5)
    assert binomial_tail(10, 0, 0.1) == 1.0
    assert azuma_deviation(1.0, 100, math.exp(-1)) == pytest.approx(math.sqrt(200))
    with pytest.raises(ValueError, match="delta"):
        azuma_deviation(1.0, 10, 1.5)


def test_sgd_skip_risks_and_the_eq18_bound():
    data = skip_data(0)
    run = sgd_skip(data, np.arange(5), 50, 2.0, 2.0)
    # (w, v) starts at 0: every prediction is 0 and F(w_1, v_1, Θ_1) = log 2 exactly
    assert np.allclose(run.risks[:, 0], math.log(2), rtol=0, atol=1e-15)
    r = theorem4_runs(np.arange(8), 0, 64, 2.0, 0.05)
    assert np.all(r["regret"] <= r["regret_bound"] + r["tol"])
    assert np.all(r["gap"] <= r["hp_bound"])
    with pytest.raises(ValueError, match="M1"):
        sgd_skip(data, [0], 10, 1.0, 1.0, comparator=np.full(3, 5.0))


def test_linear_lower_bound_is_below_every_feasible_value():
    data = skip_data(1)
    u, value, lower = linear_risk_lower_bound(data, 1.0)
    assert lower <= value and np.linalg.norm(u) <= 1 + 1e-12
    rng = np.random.default_rng(0)
    for z in project_ball(rng.standard_normal((50, 3)), 1.0):
        assert lower <= np.mean(np.logaddexp(0.0, -data.Y * (data.X @ z))) + 1e-12


def test_bad_input():
    with pytest.raises(ValueError, match="adversary"):
        ogd_linear([0], 10, 2, 1.0, 1.0, adversary="greedy")
    with pytest.raises(ValueError, match="radius"):
        ogd_linear([0], 10, 2, -1.0, 1.0)
    with pytest.raises(ValueError, match="positive integers"):
        ogd_linear([0], 0, 2, 1.0, 1.0)


def test_runs_are_reproducible_per_seed_and_chunked_runs_agree():
    from proofcheck.stochastic import _CHUNK
    seeds = np.arange(_CHUNK + 10)
    whole = ogd_linear(seeds, 32, 2, 1.0, 1.0)
    part = ogd_linear(seeds[_CHUNK - 5:_CHUNK + 5], 32, 2, 1.0, 1.0)
    assert np.array_equal(whole.regret[_CHUNK - 5:_CHUNK + 5], part.regret)
