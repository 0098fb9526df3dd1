"""Shamir (2018), Theorem 4 (§5, proof in §6.4): SGD on the skip-to-output architecture.

x -> w^T x + v^T f_θ(x); projected SGD on M = M1 x M2 (closed convex), ℓ l-Lipschitz in (w, v)
and |ℓ| <= r, ||(w, v)|| <= b on M1, η = Θ(b/(l sqrt T)). "Then with probability at least 1 - δ,
one of the iterates satisfies F(w_t, v_t, θ_t) <= min_{u: (u, 0) in M1} F_lin(u) +
O((b l + r sqrt(log(1/δ)))/sqrt(T))."

*Explicit constants (from the proof).* Eq. (18) is Zinkevich's bound on the functions
g_t(w, v) = ℓ(w^T x_t + v^T f_θt(x_t); y_t): (1/T) sum_t (ℓ_t - ℓ(u^T x_t; y_t)) <=
(D^2/(2η) + η l^2 T/2)/T with D = 2b, deterministically for every run. Azuma's inequality for the
martingale differences Z_t (|Z_t| <= 4r since |ℓ| <= r) adds 4r sqrt(2 log(1/δ)/T) with
probability >= 1 - δ. The O(.) of the statement is checked with these constants; that the
statement's rate is T^{-1/2} is shown on Theorem 5 (shamir2018.theorem5.rate), to which the proof
reduces it.

*Simulation.* A finite data distribution (60 points, labels from a nonlinear teacher), logistic
loss (|ℓ'| <= 1, so l = sup ||(x, f_θ(x))|| <= sqrt(max ||x||^2 + k), r = log(1 + e^{b l})),
f_θ(x) = tanh(Θ x) with Θ in a Frobenius ball (M2), M1 the ball of radius b. F and F_lin are
exact averages over the distribution; min F_lin on the ball is replaced by a certified lower
bound (Frank-Wolfe gap), which only makes the check stricter.

*What "with probability >= 1 - δ" becomes.* Each run may fail with probability <= δ; every
instance is 6 independent runs whose number of failures k is checked against Binomial(6, δ):
the instance fails only if P(Binomial(6, δ) >= k) < α = 10^-3 (k >= 4).
"""

from fractions import Fraction

import numpy as np
from hypothesis import strategies as st

from functools import partial

from proofcheck import Hypothesis, Instance, Margin, Mutant, MutantKind
from proofcheck.stochastic import binomial_tail

from . import claim, printed_at
from ._runs import theorem4_runs

DELTA = 0.05
ALPHA = 1e-3

BOUNDS = Hypothesis("lipschitz_bounded", "ℓ is l-Lipschitz in (w, v) over M1 and |ℓ| <= r, with "
                    "l, r as declared", lambda i: i.declared_scale == 1)
STEP = Hypothesis("step", "η = c b/(l sqrt T), c in [1/2, 2]",
                  lambda i: bool(0.5 <= float(i.step_constant) <= 2))


def instances(assumed):
    """Seeds and step constants are floats (one stacked batch per horizon, so the binomial test
    sees every run of a horizon); b = 2, one data distribution."""
    return st.builds(
        lambda seed, T, c: Instance(
            seed=float(seed), T=T, data_seed=0, radius=Fraction(2), step_constant=float(c),
            declared_scale=Fraction(1) if assumed["lipschitz_bounded"] else Fraction(1, 100)),
        st.integers(0, 10**6), st.sampled_from([64, 128]),
        st.floats(0.5, 2.0) if assumed["step"] else st.floats(8.0, 16.0))


RUNS = 6               # independent SGD runs per instance (the binomial test's n)


def _runs(inst, runs=1):
    """Every instance of the (stacked) batch is ``runs`` independent SGD runs: rows
    [i * runs, (i + 1) * runs) belong to instance i."""
    base = np.atleast_1d(np.asarray(inst.seed)).astype(np.int64)
    seeds = (base[:, None] * runs + np.arange(runs)).ravel()
    c = np.repeat(np.atleast_1d(np.asarray(inst.step_constant, dtype=float)), runs)
    return theorem4_runs(seeds, inst.data_seed, inst.T, float(inst.radius), DELTA,
                         step_constant=c, declared_scale=float(inst.declared_scale))


#: The setting of Theorem 4: projected SGD within the bounds b, r, l with step size η, simulated
#: in float64 (no high-precision re-run: the runs are the evidence).
sgd_claim = partial(claim, hypotheses=(BOUNDS, STEP), instances=instances, high_precision=False)


def eq18_margin(scale=lambda i: 1.0, flipped=False):
    def margin(inst, point, B):
        r = _runs(inst)
        bound = r["regret_bound"] * scale(inst)
        if flipped:
            return Margin.at_least(r["regret"], bound, tol=r["tol"],
                                   tol_source="float64 summation (Higham Thm 4.4)")
        return Margin.at_most(r["regret"], bound, tol=r["tol"],
                              tol_source="float64 summation (Higham Thm 4.4)")
    return margin


regret = sgd_claim("shamir2018.theorem4.regret", printed_at("6.4", "proof of Theorem 4", "(18)"),
    title="Eq. (18): SGD's running loss is within Zinkevich's bound of any linear predictor",
    statement="For any u with (u, 0) in M1, deterministically: (1/T) sum_t (ℓ(w_t^T x_t + "
              "v_t^T f_θt(x_t); y_t) - ℓ(u^T x_t; y_t)) <= O(b l / sqrt T), explicitly "
              "(D^2/(2η) + η l^2 T/2)/T with D = 2b",
    conclusion=eq18_margin(),
    notes="per run; the comparator u is the (near-)minimiser of F_lin on the ball; the bound "
          "holds for any feasible u, so its optimality is not needed. Float64 simulation",
    mutants=(
        Mutant.conclusion("no_regret", MutantKind.DROPPED_TERM, "the running loss is at most "
                          "the linear predictor's (bound 0)", eq18_margin(scale=lambda i: 0.0)),
        Mutant.conclusion("flipped", MutantKind.FLIPPED_INEQUALITY,
                          "the running loss exceeds the linear one by at least the bound",
                          eq18_margin(flipped=True)),
        Mutant.conclusion("divided_by_T_twice", MutantKind.PERTURBED_CONSTANT,
                          "O(b l / T^{3/2}): the average bound divided by T once more",
                          eq18_margin(scale=lambda i: 1 / i.T)),
    ),
)


def hp_margin(scale=1.0, sign=1.0):
    """Runs whose best iterate exceeds min F_lin + sign * scale * bound count as failures; per
    instance (RUNS runs) the margin is P(Binomial(RUNS, δ) >= failures) - α."""
    def margin(inst, point, B):
        r = _runs(inst, RUNS)
        fails = (r["gap"] > sign * scale * r["hp_bound"] + r["tol"]).reshape(-1, RUNS)
        ks = fails.sum(axis=1)
        p = np.array([binomial_tail(RUNS, int(k), DELTA) for k in ks])
        return Margin(p - ALPHA, 0.0,
                      lhs=f"{int(ks.max())} of {RUNS} runs above the bound (P(Bin(n, δ) >= k) "
                          f"= {p.min():.3g})",
                      rhs=f"at most a fraction δ = {DELTA} (test level α = {ALPHA})",
                      tol_source="statistical (binomial test of the 1 - δ guarantee)")
    return margin


theorem4 = sgd_claim("shamir2018.theorem4", printed_at("5", "Theorem 4"),
    title="projected SGD with a skip connection to the output competes with linear predictors",
    statement="With probability at least 1 - δ, one of the iterates satisfies F(w_t, v_t, θ_t) "
              "<= min_{u: (u, 0) in M1} F_lin(u) + O((b l + r sqrt(log(1/δ)))/sqrt T)",
    conclusion=hp_margin(),
    notes=f"δ = {DELTA}; the O(.) with the proof's constants: (D^2/(2η) + η l^2 T/2)/T + 4r "
          "sqrt(2 log(1/δ)/T), D = 2b; these explicit constants are loose here (the bound is "
          "tens of times the observed gap), so only gross errors are caught; the rate itself is "
          "shown on Theorem 5",
    mutants=(
        Mutant.conclusion("dropped_bound", MutantKind.DROPPED_TERM,
                          "one iterate satisfies F <= min F_lin (the O term dropped)",
                          hp_margin(scale=0.0)),
        Mutant.conclusion("negated_bound", MutantKind.FLIPPED_INEQUALITY,
                          "one iterate satisfies F <= min F_lin - bound", hp_margin(sign=-1.0)),
        Mutant.conclusion("tiny_constant", MutantKind.PERTURBED_CONSTANT,
                          "the O term with constant 1/10000 (the explicit constants have "
                          "slack of ~100x here, so only such gross changes are caught)",
                          hp_margin(scale=1e-4)),
    ),
)
