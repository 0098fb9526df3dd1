"""Theorem 4's proof, simulated: projected SGD on the skip-to-output network of §5 with the
quantities the proof bounds (regret against the best linear predictor, Zinkevich's bound, the
Azuma term). The simulation itself is the engine's (:mod:`proofcheck.stochastic`)."""

from __future__ import annotations

import math

import numpy as np

from proofcheck.stochastic import (azuma_deviation, linear_risk_lower_bound, sgd_skip, skip_data,
                                   summation_tolerance, zinkevich_bound)

__all__ = ["theorem4_runs"]


def theorem4_runs(seeds, data_seed: int, T: int, radius: float, delta: float, *,
                  theta_radius: float = 2.0, step_constant: float = 1.0,
                  declared_scale: float = 1.0):
    """Projected SGD on the skip-to-output network; per run the quantities of Theorem 4's proof.

    Returns a dict of arrays (one entry per seed): ``regret`` = (1/T) sum_t (ℓ_t - ℓ_t^lin(u))
    (Eq. (18)'s left side with the comparator u), ``regret_bound`` = Zinkevich's bound / T with
    D = 2b, ``gap`` = min_t F(w_t, v_t, Θ_t) - (certified lower bound of min F_lin on the ball),
    ``avg_gap`` the same with the average over t, ``hp_bound`` = regret_bound + Azuma's
    4r sqrt(2 log(1/δ)/T), and ``tol`` (rounding). ``declared_scale`` < 1 declares l and r
    smaller than they are (to violate Theorem 4's hypothesis on purpose)."""
    data = skip_data(data_seed)
    u, _value, lower = linear_risk_lower_bound(data, radius)
    l = data.feature_bound * declared_scale
    eta = np.asarray(step_constant, dtype=float) * radius / (l * math.sqrt(T))
    run = sgd_skip(data, seeds, T, radius, theta_radius, eta=eta, comparator=u)
    r = run.loss_bound * declared_scale
    regret_bound = zinkevich_bound(2 * radius, eta, l, T) / T
    n = len(np.atleast_1d(seeds))
    return {
        "regret": run.linear_regret / T,
        "regret_bound": np.broadcast_to(regret_bound, (n,)),
        "gap": run.risks.min(axis=1) - lower,
        "avg_gap": run.risks.mean(axis=1) - lower,
        "hp_bound": np.broadcast_to(regret_bound + azuma_deviation(4 * r, T, delta) / T, (n,)),
        "tol": summation_tolerance(T, data.X.shape[1] + data.k, run.loss_bound) / T,
    }
