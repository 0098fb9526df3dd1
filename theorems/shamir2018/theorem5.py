"""Shamir (2018), Theorem 5 (§6.4; Zinkevich 2003): the regret of projected online gradient descent.

"Let g_1, ..., g_T be convex, differentiable, l-Lipschitz functions over a closed convex X in
{||x|| <= b}. If x_1 in X, x_{t+1} = Π_X(x_t - η ∇g_t(x_t)) and η = Θ(b/(l sqrt(T))), then for
all x in X: (1/T) sum_t g_t(x_t) - (1/T) sum_t g_t(x) <= O(b l / sqrt(T))."

*What is O(.) here, and what is checked.* The O hides the constant of Zinkevich's bound
regret <= D^2/(2η) + η l^2 T/2 (D = diam X <= 2b). With η = c b/(l sqrt(T)) that is, exactly,
average regret <= (2/c + c/2) b l / sqrt(T): this explicit bound is checked on every simulated
run (deterministic: it must never fail), with linear losses g_t(x) = c_t^T x, ||c_t|| = l, from a
random and from an adaptive adversary (c_t along x_t), against the exact best fixed point in
hindsight. The *rate* T^{-1/2} is shown separately (``shamir2018.theorem5.rate``) by a fitted
log-log slope over T with a confidence interval over seeds; as an O(.) statement it is only
checked as a rate: the fitted decay must not be significantly slower than T^{-1/2}.
"""

import numpy as np
from hypothesis import strategies as st

from proofcheck import Hypothesis, Instance, Margin, Mutant, MutantKind
from proofcheck.stochastic import average_regret_and_bound, regret_rate

from . import claim, printed_at

LIPSCHITZ = Hypothesis("lipschitz", "each g_t is convex, differentiable and l-Lipschitz (l as "
                       "declared)", lambda i: i.gradient_scale <= 1)
STEP = Hypothesis("step", "η = c b/(l sqrt(T)) with c in [1/2, 2] (η = Θ(b/(l sqrt T)))",
                  lambda i: bool(i.root_T and 0.5 <= i.step_constant <= 2))


def instances(assumed):
    """Seeds, radii, Lipschitz constants and step constants are floats (stacked: one batch per
    horizon, dimension, adversary); b in [1/2, 2], l in [1/2, 3], c in [1/2, 2]."""
    return st.builds(
        lambda seed, T, dim, adv, b, l, c: Instance(
            seed=float(seed), T=T, dim=dim, adversary=adv, radius=float(b), lipschitz=float(l),
            step_constant=float(c), root_T=assumed["step"],
            gradient_scale=1 if assumed["lipschitz"] else 4),
        st.integers(0, 10**6), st.sampled_from([64, 512]), st.sampled_from([1, 5]),
        st.sampled_from(["random", "adaptive"]), st.floats(0.5, 2.0), st.floats(0.5, 3.0),
        st.floats(0.5, 2.0))


def _runs(inst):
    seeds = np.atleast_1d(np.asarray(inst.seed)).astype(np.int64)
    return average_regret_and_bound(seeds, inst.T, inst.dim, inst.radius, inst.lipschitz,
                                    inst.adversary, inst.step_constant, root_T=inst.root_T,
                                    gradient_scale=float(inst.gradient_scale))


def explicit_bound(scale=lambda i: 1.0, first_term=1.0, second_term=1.0):
    """average regret <= (first * 2/c + second * c/2) b l / sqrt(T) (Zinkevich, D = 2b)."""
    def margin(inst, point, B):
        avg, bound, tol = _runs(inst)
        c = np.asarray(inst.step_constant, float)
        b, l = np.asarray(inst.radius, float), np.asarray(inst.lipschitz, float)
        # Zinkevich's bound at the step the theorem prescribes, η = c b/(l sqrt T): the two terms
        # are D^2/(2η) = 2 b l sqrt(T)/c and η l^2 T/2 = c b l sqrt(T)/2 (D = 2b)
        T = inst.T
        eta = c * b / (l * np.sqrt(T))
        rhs = (first_term * (2 * b) ** 2 / (2 * eta) + second_term * eta * l**2 * T / 2) / T
        rhs = rhs * scale(inst)
        return Margin.at_most(avg, np.broadcast_to(rhs, avg.shape), tol=tol,
                              tol_source="float64 summation of T terms (Higham Thm 4.4: "
                                         "2 (T + d + 2) u T l b, per step)")
    return margin


theorem5 = claim("shamir2018.theorem5", printed_at("6.4", "Theorem 5"),
    title="online gradient descent has average regret O(b l / sqrt(T)) (Zinkevich)",
    statement="If g_1..g_T are convex, differentiable, l-Lipschitz over a closed convex X in "
              "{||x|| <= b}, x_1 in X, x_{t+1} = Π_X(x_t - η ∇g_t(x_t)) and η = Θ(b/(l sqrt T)), "
              "then for all x in X, (1/T) sum g_t(x_t) - (1/T) sum g_t(x) <= O(b l / sqrt T)",
    hypotheses=(LIPSCHITZ, STEP),
    conclusion=explicit_bound(),
    instances=instances,
    high_precision=False,
    notes="checked with the proof's explicit constants: regret <= D^2/(2η) + η l^2 T/2, D = 2b, "
          "i.e. (2/c + c/2) b l / sqrt(T) on average, per run, against the exact best fixed point "
          "in hindsight; X is the ball of radius b, x_1 = 0, linear losses (random and adaptive "
          "adversaries); float64 simulation, hence no mpmath re-evaluation",
    mutants=(
        Mutant.drop("step", "a constant step η = c b / l (no 1/sqrt T): the adaptive adversary "
                    "then forces linear regret"),
        Mutant.drop("lipschitz", "gradients 4 times the declared l"),
        Mutant.conclusion("rate_one_over_T", MutantKind.PERTURBED_CONSTANT,
                          "O(b l / T): the explicit bound divided by sqrt(T)",
                          explicit_bound(scale=lambda i: 1 / np.sqrt(i.T))),
        Mutant.conclusion("dropped_distance_term", MutantKind.DROPPED_TERM,
                          "regret <= η l^2 T / 2 (the D^2 / (2η) term dropped)",
                          explicit_bound(first_term=0.0)),
    ),
)


# --- the rate ------------------------------------------------------------------------------

SUB_SEEDS = 8           # runs per drawn instance: the ensemble is every instance's runs


def rate_margin(exponent=-0.5, total=False):
    """The fitted slope's lower confidence end must not exceed the claimed exponent: the
    decay is then not significantly slower than T^{exponent} (95% t-interval over seeds)."""
    def margin(inst, point, B):
        base = np.atleast_1d(np.asarray(inst.seed)).astype(np.int64)
        seeds = (base[:, None] * SUB_SEEDS + np.arange(SUB_SEEDS)).ravel()
        fit = regret_rate(seeds, total=total)
        value = exponent - fit.ci_low
        return Margin(np.full(base.shape, value), 0.0,
                      lhs=f"slope {fit.slope:.4f}, 95% CI [{fit.ci_low:.4f}, {fit.ci_high:.4f}] "
                          f"over {fit.seeds} seeds",
                      rhs=f"claimed exponent {exponent}",
                      tol_source="statistical: a 95% t-interval over seeds (no rounding term: "
                                 "float64 errors are ~1e-13 of the regrets)")
    return margin


rate = claim("shamir2018.theorem5.rate", printed_at("6.4", "Theorem 5"),
    title="the average regret of OGD decays like T^{-1/2} (fitted slope with a CI over seeds)",
    statement="(1/T) sum g_t(x_t) - min_x (1/T) sum g_t(x) = O(T^{-1/2}) for η ∝ 1/sqrt(T)",
    conclusion=rate_margin(),
    instances=lambda assumed: st.integers(0, 10**6).map(lambda s: Instance(seed=float(s))),
    high_precision=False,
    notes="random linear losses on the unit ball in R^5, l = b = 1, η = 1/sqrt(T), "
          f"T in 64..1024; {SUB_SEEDS} runs per drawn seed; per-run least-squares slopes of "
          "log(average regret) on log(T), mean and 95% t-interval over runs. An O(.) is only "
          "checked as a rate: the margin is -1/2 minus the interval's lower end",
    mutants=(
        Mutant.conclusion("rate_one_over_T", MutantKind.PERTURBED_CONSTANT, "O(T^{-1})",
                          rate_margin(-1.0)),
        Mutant.conclusion("rate_0_6", MutantKind.PERTURBED_CONSTANT, "O(T^{-0.6})",
                          rate_margin(-0.6)),
        Mutant.conclusion("total_regret", MutantKind.OTHER,
                          "the total (not average) regret decays like T^{-1/2}",
                          rate_margin(-0.5, total=True)),
    ),
)
