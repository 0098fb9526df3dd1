r"""Failure probabilities: Monte Carlo with exact confidence intervals, and exact laws.

A probabilistic claim "E fails with probability at most p" is checked in one of two ways:

* **Exact law.**  Where the law of the quantity is known in closed form, the failure probability
  is *computed* (e.g. the Beta law of ``||P_N[D] Y||^2 / ||Y||^2``), and compared with ``p`` like
  any other number.  Ranks of random Gaussian matrices obey a **0/1 law**: the rank of a matrix
  whose entries are polynomials in Gaussian ``X`` equals its generic rank with probability one
  (the rank-deficient set is the zero set of a non-zero minor), so "rank is full with probability
  >= 1 - p" is decided exactly by :func:`almost_sure_rank`.
* **Monte Carlo.**  ``N`` independent draws give ``k`` failures; the Clopper–Pearson interval
  ``[lo, hi]`` covers the true probability with confidence ``1 - alpha``.  The claim is
  *consistent with the bound at confidence 1 - alpha in N draws* when ``hi <= p`` and *violated*
  when ``lo > p``; otherwise the experiment is *undecided*.  A Monte Carlo run never proves a
  probability bound: it can only fail to contradict it.  :func:`draws_needed` plans ``N`` so that
  the run is decisive.

>>> import numpy as np
>>> est = estimate_failure_probability(lambda rng, n: rng.random(n) < 0.01, 2000, seed=1)
>>> est.failures, est.draws, est.verdict(0.05), est.verdict(0.001)
(18, 2000, 'consistent', 'violated')
>>> float(residual_ratio_law(10, 3).mean())       # E ||P_N Y||^2/||Y||^2 = (m - r)/m
0.7
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from fractions import Fraction
from collections.abc import Callable

import numpy as np
from .lazy import lazy_import

special = lazy_import("scipy.special")   # loaded on first use (startup cost)
stats = lazy_import("scipy.stats")

__all__ = [
    "clopper_pearson", "FailureEstimate", "estimate_failure_probability", "draws_needed",
    "residual_ratio_law", "residual_ratio_sf", "chi2_excess_tail", "BETAINC_RTOL",
    "weighted_chi2_tail", "ruben_coefficients", "RubenMixture",
    "d_tilde", "simulate_residual_ratio", "simulate_rank",
    "RankBracket", "almost_sure_rank", "almost_sure_rank_types", "generic_rank_upper_bound",
    "min_smin_large_subsets", "min_gram_large_subsets", "min_smin_small_subsets",
    "certify_gram_at_least",
    "row_types", "UniformInT", "uniform_in_t",
]

#: The default confidence of a Monte Carlo verdict (two-sided Clopper–Pearson).
CONFIDENCE = 1 - 1e-4

#: Relative accuracy we allow for scipy's regularized incomplete beta / gamma (Boost ``ibeta`` /
#: ``gamma_p``): Boost's published error tables stay below ~1e3 eps for large parameters; 1e-10
#: (~4.5e5 eps) is a safe margin above that, and tests/test_montecarlo.py cross-checks against
#: mpmath at 40 digits.
BETAINC_RTOL = 1e-10


# ---------------------------------------------------------------------------------------------
# confidence intervals and sample-size planning

def _check_counts(failures, draws):
    if isinstance(failures, bool) or isinstance(draws, bool):
        raise TypeError("failures and draws must be integers, not bools")
    if int(failures) != failures or int(draws) != draws:
        raise TypeError(f"failures and draws must be integers, got {failures!r}, {draws!r}")
    if draws < 1 or not 0 <= failures <= draws:
        raise ValueError(f"need 0 <= failures <= draws and draws >= 1, got {failures}/{draws}")


def _check_confidence(confidence):
    if not (isinstance(confidence, (float, int)) and 0 < confidence < 1):
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")


def clopper_pearson(failures: int, draws: int, confidence: float = CONFIDENCE):
    """Exact two-sided Clopper–Pearson interval for a binomial proportion.

    ``lo = Beta(alpha/2; k, N-k+1)`` and ``hi = Beta(1-alpha/2; k+1, N-k)`` quantiles (0 and 1
    at the ends); each side errs with probability at most ``alpha/2``.

    >>> lo, hi = clopper_pearson(0, 100, 0.95)
    >>> lo, round(hi, 4)            # 1 - 0.025**(1/100)
    (0.0, 0.0362)
    """
    _check_counts(failures, draws)
    _check_confidence(confidence)
    a = (1 - confidence) / 2
    k, n = int(failures), int(draws)
    # Beta quantiles through betaincinv directly (scipy.stats.beta.ppf computes the same, slower)
    lo = 0.0 if k == 0 else float(special.betaincinv(k, n - k + 1, a))
    hi = 1.0 if k == n else float(special.betaincinv(k + 1, n - k, 1 - a))
    return lo, hi


@dataclass(frozen=True)
class FailureEstimate:
    """``failures`` of ``draws`` independent trials and their Clopper–Pearson interval."""

    failures: int
    draws: int
    confidence: float
    lower: float
    upper: float
    seed: int | None = None
    batch_size: int | None = None

    @classmethod
    def of(cls, failures: int, draws: int, confidence: float = CONFIDENCE, **kw):
        lo, hi = clopper_pearson(failures, draws, confidence)
        return cls(int(failures), int(draws), confidence, lo, hi, **kw)

    @property
    def estimate(self) -> float:
        return self.failures / self.draws

    def verdict(self, bound: float) -> str:
        """``consistent`` (upper limit <= bound), ``violated`` (lower limit > bound) or
        ``undecided`` for the claim "failure probability <= bound"."""
        if self.upper <= bound:
            return "consistent"
        if self.lower > bound:
            return "violated"
        return "undecided"

    def margin(self, bound: float) -> tuple[float, float]:
        """``(bound - upper, upper - lower)``: the margin is >= 0 when consistent and below minus
        the tolerance (the interval's width) exactly when violated; in between the run could
        not separate the bound from its violation."""
        return bound - self.upper, self.upper - self.lower

    def describe(self, bound: float | None = None) -> str:
        text = (f"{self.failures}/{self.draws} failures, Clopper-Pearson "
                f"[{self.lower:.3g}, {self.upper:.3g}] at confidence {self.confidence:g}")
        if self.seed is not None:
            text += f" (seed {self.seed})"
        if bound is not None:
            v = self.verdict(bound)
            text += f"; bound {bound:.3g}: {v}" + (
                " (Monte Carlo: consistent, not proven)" if v == "consistent" else "")
        return text


def estimate_failure_probability(event: Callable[[np.random.Generator, int], np.ndarray],
                                 draws: int, *, seed: int = 0, batch_size: int = 4096,
                                 confidence: float = CONFIDENCE) -> FailureEstimate:
    """Run ``event(rng, n) -> bool array (n,)`` (True = failure) for ``draws`` draws in batches.

    Reproducible: ``seed`` and ``batch_size`` fix the stream (one ``numpy`` Generator, batches in
    order). Vectorise ``event`` over its ``n`` draws; ``batch_size`` bounds the memory.
    """
    _check_counts(0, draws)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    rng = np.random.default_rng(seed)
    failures, done = 0, 0
    while done < draws:
        n = min(batch_size, draws - done)
        out = np.asarray(event(rng, n))
        if out.shape != (n,) or out.dtype != bool:
            raise ValueError(f"event must return a bool array of shape ({n},), got "
                             f"{out.dtype} {out.shape}")
        failures += int(out.sum())
        done += n
    return FailureEstimate.of(failures, draws, confidence, seed=seed, batch_size=batch_size)


def draws_needed(bound: float, p: float = 0.0, *, confidence: float = CONFIDENCE,
                 power: float = 0.99, max_draws: int = 10 ** 9) -> int:
    """Smallest ``N`` such that, if the true failure probability is ``p``, a run of ``N`` draws
    is decisive about "probability <= bound" with probability >= ``power``.

    ``p < bound``: the ``power``-quantile of the failure count must still give an upper limit
    <= bound. ``p > bound``: the ``(1-power)``-quantile must give a lower limit > bound. ``p ==
    bound`` can never be decided (ValueError). For ``p = 0`` this is the closed form
    ``N >= ln(alpha/2) / ln(1 - bound)``.

    >>> draws_needed(0.05, 0.0, confidence=0.95)     # ln(0.025)/ln(0.95) = 71.9
    72
    """
    _check_confidence(confidence)
    for name, v in (("bound", bound), ("p", p)):
        if not (0 <= v <= 1 and math.isfinite(v)):
            raise ValueError(f"{name} must be a probability, got {v!r}")
    if p == bound:
        raise ValueError("p == bound: no finite sample separates a probability from itself")
    if p == 0 and bound > 0:
        a = (1 - confidence) / 2
        n = math.ceil(math.log(a) / math.log1p(-bound)) if bound < 1 else 1
        return max(1, n)
    if bound == 1:
        raise ValueError("the bound 1 holds trivially; nothing to decide")
    return _search(bound, p, confidence, power, max_draws)


def _decisive(n, bound, p, confidence, power) -> bool:
    if p < bound:
        k = int(stats.binom.ppf(power, n, p))
        return clopper_pearson(min(k, n), n, confidence)[1] <= bound
    k = int(stats.binom.ppf(1 - power, n, p))
    return clopper_pearson(max(k, 0), n, confidence)[0] > bound


def _search(bound, p, confidence, power, max_draws) -> int:
    hi = 1
    while not _decisive(hi, bound, p, confidence, power):
        hi *= 2
        if hi > max_draws:
            raise ValueError(f"more than {max_draws} draws needed to tell p={p:g} from the "
                             f"bound {bound:g}")
    lo = hi // 2
    # the decision is monotone up to the lattice effects of binomial quantiles: bisect, then
    # step forward to the first decisive N of the last bracket
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if _decisive(mid, bound, p, confidence, power) else (mid, hi)
    return hi


# ---------------------------------------------------------------------------------------------
# exact laws

def residual_ratio_law(m: int, r: int):
    """Law of ``||P_N[S] Y||^2 / ||Y||^2`` for ``Y ~ N(0, I_m)`` independent of a rank-``r``
    subspace ``S``: ``Beta((m - r)/2, r/2)`` (rotate ``S`` onto the first ``r`` axes: the ratio
    is ``chi2_{m-r} / (chi2_{m-r} + chi2_r)`` with independent terms).  ``||P[S] Y||^2/||Y||^2``
    is ``Beta(r/2, (m - r)/2)``.  Needs ``0 < r < m`` (the ends are point masses 1 and 0: use
    :func:`residual_ratio_sf`)."""
    m, r = _check_mr(m, r)
    if not 0 < r < m:
        raise ValueError(f"the Beta law needs 0 < r < m, got m={m}, r={r} (point mass)")
    return stats.beta((m - r) / 2, r / 2)


def _check_mr(m, r):
    if int(m) != m or int(r) != r or m < 1 or not 0 <= r <= m:
        raise ValueError(f"need integers 0 <= r <= m, m >= 1; got m={m!r}, r={r!r}")
    return int(m), int(r)


def residual_ratio_sf(x, m: int, r: int, *, digits: int | None = None):
    """``P(||P_N[S] Y||^2 / ||Y||^2 > x)`` exactly (see :func:`residual_ratio_law`).

    float64 (scipy ``betainc``, relative accuracy :data:`BETAINC_RTOL`) or, with ``digits``,
    mpmath's regularized incomplete beta at that precision (its hypergeometric series stops
    converging somewhere above ``m ~ 10^6``: use float64 there). Handles ``r = 0`` (ratio 1) and
    ``r = m`` (ratio 0).

    >>> round(float(residual_ratio_sf(0.5, 2, 1)), 12)   # Beta(1/2, 1/2): arcsine law
    0.5
    """
    m, r = _check_mr(m, r)
    x = np.asarray(x, dtype=float)
    if r == 0:
        return (x < 1).astype(float)
    if r == m:
        return (x < 0).astype(float)
    if digits is None:
        xc = np.clip(x, 0.0, 1.0)
        # sf of Beta(a, b) at x = I_{1-x}(b, a): no cancellation for small tails
        return np.where(x < 0, 1.0, np.where(x >= 1, 0.0,
                                             special.betainc(r / 2, (m - r) / 2, 1 - xc)))
    import mpmath
    with mpmath.workdps(digits):
        def one(v):
            if v <= 0:
                return mpmath.mpf(1)
            if v >= 1:
                return mpmath.mpf(0)
            return mpmath.betainc(mpmath.mpf(r) / 2, mpmath.mpf(m - r) / 2, 0,
                                  1 - mpmath.mpf(v), regularized=True)
        return np.array([one(float(v)) for v in np.ravel(x)], dtype=object).reshape(x.shape)


def chi2_excess_tail(threshold, n: int, a2: float = 1.0, *, upper: bool = True):
    """Exact ``P(sum_i a^2 (g_i^2 - 1) >= threshold)`` (``upper``) or ``<= threshold`` for ``n``
    i.i.d. standard normals and equal weights ``a^2``: a scaled, shifted chi-square law.

    >>> round(float(chi2_excess_tail(4.0, 1)), 4)     # P(g^2 >= 5)
    0.0253
    """
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if not (a2 > 0 and math.isfinite(a2)):
        raise ValueError(f"the weight a^2 must be positive and finite, got {a2!r}")
    q = n + np.asarray(threshold, dtype=float) / a2
    return stats.chi2.sf(q, n) if upper else stats.chi2.cdf(q, n)


def _ruben_key(weights) -> tuple:
    w = tuple(float(v) for v in np.ravel(np.asarray(weights, dtype=float)))
    if not w or not all(v > 0 and math.isfinite(v) for v in w):
        raise ValueError(f"weights must be positive and finite, got {w!r}")
    return w


@dataclass(frozen=True)
class RubenMixture:
    """Lower bounds of Ruben's mixing probabilities (:func:`ruben_coefficients`):
    ``c_k >= numerators[k] / denominator`` for ``k < N``, and ``deficit = 1 - sum_k
    numerators[k] / denominator`` (exact, ``>= 0``) bounds the mass they miss."""

    weights: tuple
    beta: Fraction
    numerators: tuple
    denominator: int
    deficit: Fraction

    @property
    def terms(self) -> int:
        return len(self.numerators)


_RUBEN: dict = {}


def ruben_coefficients(weights, *, bits: int = 128, target: float = 1e-15,
                       max_terms: int = 2 ** 15) -> RubenMixture:
    r"""Ruben's mixture for ``Q = sum_i w_i g_i^2`` (``g_i`` i.i.d. N(0, 1), ``w_i > 0``): ``Q``
    has the law of ``beta chi^2_{n + 2K}`` with ``beta = min w`` and a random ``K >= 0``,
    ``P(K = k) = c_k``, ``sum_k c_k z^k = prod_i (beta/w_i)^{1/2} (1 - q_i z)^{-1/2}``, ``q_i =
    1 - beta/w_i`` in ``[0, 1)`` (Ruben 1962: the moment generating functions agree, since
    ``(1 - 2ws)^{-1/2} = (beta/w)^{1/2} (1 - 2 beta s)^{-1/2} (1 - q/(1 - 2 beta s))^{-1/2}``).

    Exact integer arithmetic, every rounding downwards, so each result is a *lower bound*:
    ``q_i`` and ``c_0`` are floored at ``bits`` binary digits (the weights, binary floats,
    are exact rationals), each factor's series ``C(2k, k) (q_i/4)^k`` by the floored recurrence
    ``v_k = floor(v_{k-1} q_i (2k - 1)/(2k))``, and the product is truncated to ``N`` terms
    (python-flint ``fmpz_poly.mul_low``) and floored after each factor.  Since ``sum_k c_k =
    1``, the exact ``deficit = 1 - sum_{k<N} c_k^-`` bounds everything left out (the terms
    beyond ``N`` and every rounding).  ``N`` doubles until ``deficit <= target`` (or
    ``max_terms``).  Cached per weight vector.

    >>> r = ruben_coefficients([1.0, 1.0])         # equal weights: K = 0 surely
    >>> r.terms, r.deficit
    (1, Fraction(0, 1))
    >>> r = ruben_coefficients([0.5, 1.0])
    >>> 0 <= r.deficit <= 1e-15 and r.terms > 1
    True
    """
    from flint import fmpz, fmpz_poly
    w = _ruben_key(weights)
    key = (w, int(bits), float(target), int(max_terms))
    if key in _RUBEN:
        return _RUBEN[key]
    lam = [Fraction(v) for v in w]
    beta = min(lam)
    one = 1 << int(bits)
    qs = [(q.numerator * one) // q.denominator for q in (1 - beta / v for v in lam)]
    qs = [q for q in qs if q > 0]
    c02 = math.prod((beta / v for v in lam), start=Fraction(1))
    c0 = math.isqrt((c02.numerator << (2 * int(bits))) // c02.denominator)   # floor(c0 2^bits)
    qmax = max((1 - min(w) / v for v in w), default=0.0)
    mean = sum(q / (2 * (1 - q)) for q in (1 - min(w) / v for v in w))
    n_terms = 1 if not qs else int(min(max_terms, max(64, mean + 35 / (1 - qmax))))
    while True:
        prod = fmpz_poly([one])
        for Q in qs:
            b, v = [one], one
            for k in range(1, n_terms):
                v = (v * Q * (2 * k - 1)) // (2 * k * one)
                if v == 0:
                    break
                b.append(v)
            prod = prod.mul_low(fmpz_poly(b), n_terms) // fmpz(one)
        nums = tuple(c0 * int(c) for c in prod.coeffs()[:n_terms])
        den = one * one
        deficit = 1 - Fraction(sum(nums), den)
        if deficit <= target or n_terms >= max_terms:
            break
        n_terms = min(max_terms, 2 * n_terms)
    _RUBEN[key] = RubenMixture(w, beta, nums, den, deficit)
    return _RUBEN[key]


def weighted_chi2_tail(threshold, weights, *, upper: bool = True, prec: int = 128):
    r"""A certified enclosure (python-flint ``arb`` ball) of ``P(sum_i w_i (g_i^2 - 1) >=
    threshold)`` (``upper``) or of ``P(... <= threshold)``, ``g_i`` i.i.d. N(0, 1), ``w_i > 0``.

    With Ruben's mixture (:func:`ruben_coefficients`), ``P(Q <= x) = sum_k c_k P(n/2 + k,
    x/(2 beta))`` (regularized lower incomplete gamma; ``Q = sum w_i g_i^2``, ``x = threshold +
    sum w``). The gamma values follow ``P(a + 1, z) = P(a, z) - z^a e^-z / Gamma(a + 1)`` from
    one arb evaluation (upper tail: ``Q(a + 1, z) = Q(a, z) + ...``), every step in ball
    arithmetic at ``prec`` bits. With the lower bounds ``c_k^-`` and the exact ``deficit``, the
    probability lies in ``[sum_k c_k^- F_k, sum_k c_k^- F_k + deficit]`` (each ``F_k`` in
    [0, 1]); the ball returned contains that interval. ``threshold`` is a float (taken exactly)
    or an arb ball. Equal weights reduce to one chi-square term.

    >>> p = weighted_chi2_tail(4.0, [1.0])                  # P(g^2 >= 5) = 0.025347...
    >>> bool(p > 0.025347) and bool(p < 0.025348)
    True
    """
    from flint import arb, ctx
    mix = ruben_coefficients(weights)
    old = ctx.prec
    try:
        ctx.prec = int(prec)
        n = len(mix.weights)
        x = arb(threshold) + sum((arb(v) for v in mix.weights), arb(0))
        if x <= 0:        # Q > 0 almost surely: P(Q <= x) = 0 for x <= 0
            return arb(1) if upper else arb(0)
        if not x > 0:
            raise ValueError(f"the threshold {threshold} straddles the lower end of the law")
        beta = arb(mix.beta.numerator) / mix.beta.denominator
        z = x / (2 * beta)
        a = arb(n) / 2
        up = z.gamma_upper(a, regularized=1)
        F = up if upper else z.gamma_lower(a, regularized=1).intersection(1 - up)
        T = z ** a * (-z).exp() * (a + 1).rgamma()      # z^a e^-z / Gamma(a + 1)
        total = arb(0)
        for num in mix.numerators:
            total += num * F
            F = F + T if upper else F - T
            a = a + 1
            T = T * z / a
        total = total / mix.denominator
        deficit = arb(mix.deficit.numerator) / mix.deficit.denominator
        out = total.union(total + deficit).intersection(arb(0).union(arb(1)))
    finally:
        ctx.prec = old
    # the gamma functions lost bits (far tails): retry at twice the precision, unless the
    # radius is the cut mass itself (which no precision shrinks)
    slack = 2 * float(mix.deficit) + 1e-9 * abs(float(out.mid()))
    if out.rad() > slack and prec < 1024:
        return weighted_chi2_tail(threshold, weights, upper=upper, prec=2 * prec)
    return out


# ---------------------------------------------------------------------------------------------
# the matrix D-tilde of an activation pattern and simulations with it

def d_tilde(Lambda, X) -> np.ndarray:
    r"""``D~ = [Lambda_1 X, ..., Lambda_d X]``, batched over leading axes of ``X``.

    ``Lambda`` is the ``(m, d)`` activation pattern matrix (column ``k`` = diagonal of
    ``Lambda_{1,k}``), ``X`` is ``(..., m, d_x)``; the result is ``(..., m, d * d_x)`` with block
    ``k`` in columns ``k d_x .. (k+1) d_x - 1``. Row ``i`` is ``Lambda_{i,.} (x) x_i``.

    >>> d_tilde(np.array([[1., 0.], [1., 1.]]), np.array([[2.], [3.]]))
    array([[2., 0.],
           [3., 3.]])
    """
    L = np.asarray(Lambda, dtype=float)
    X = np.asarray(X, dtype=float)
    if L.ndim != 2:
        raise ValueError(f"Lambda must be an (m, d) matrix, got shape {L.shape}")
    if X.ndim < 2 or X.shape[-2] != L.shape[0]:
        raise ValueError(f"X must be (..., m, d_x) with m = {L.shape[0]} rows, got {X.shape}")
    if not (np.all(np.isfinite(L)) and np.all(np.isfinite(X))):
        raise ValueError("Lambda and X must be finite (no NaN/inf)")
    out = L[:, :, None] * X[..., :, None, :]          # (..., m, d, d_x)
    return out.reshape(X.shape[:-2] + (L.shape[0], L.shape[1] * X.shape[-1]))


def simulate_residual_ratio(Lambda, d_x: int, rng: np.random.Generator, n: int,
                            *, method: str = "lapack"):
    """``n`` draws of ``(R, rank)``: ``R = ||P_N[D~] Y||^2 / ||Y||^2 = 2 L / ||Y||^2`` with the
    least-squares loss ``L`` of ``Y`` on ``D~`` for Gaussian ``[X Y]`` and fixed ``Lambda``,
    and the numerical rank of
    ``D~`` (cutoff ``method`` of :func:`proofcheck.linalg.rank_cutoff`)."""
    from .linalg import rank_cutoff
    L = np.asarray(Lambda, dtype=float)
    m = L.shape[0]
    X = rng.standard_normal((n, m, int(d_x)))
    Y = rng.standard_normal((n, m))
    D = d_tilde(L, X)
    # D~ = Q R (reduced): the singular values of D~ are those of the small factor R
    Q, Rf = np.linalg.qr(D)
    s = np.linalg.svd(Rf, compute_uv=False)
    rank = np.sum(s > rank_cutoff(s, D.shape[-2:], method)[..., None], axis=-1)
    yy = np.sum(Y ** 2, axis=-1)
    proj = np.empty(n)
    full_col = rank == D.shape[-1]              # P[D~] = Q Q^T
    full_row = (rank == m) & ~full_col          # col(D~) = R^m: P[D~] Y = Y
    if np.any(full_col):
        proj[full_col] = np.sum(np.einsum("nmk,nm->nk", Q[full_col], Y[full_col]) ** 2,
                                axis=-1)
    proj[full_row] = yy[full_row]
    for i in np.flatnonzero(~full_col & ~full_row):   # rank-deficient draws: an SVD basis
        U = np.linalg.svd(D[i], full_matrices=False)[0][:, :rank[i]]
        proj[i] = np.sum((U.T @ Y[i]) ** 2)
    # ||P_N Y||^2 = ||Y||^2 - ||P Y||^2 loses relative accuracy when R is tiny; clip at 0
    return np.clip(1 - proj / yy, 0.0, 1.0), rank


def simulate_rank(Lambda, d_x: int, rng: np.random.Generator, n: int, *, method="lapack"):
    """Numerical ranks of ``n`` draws of ``D~`` for Gaussian ``X``."""
    from .linalg import numerical_rank
    L = np.asarray(Lambda, dtype=float)
    X = rng.standard_normal((n, L.shape[0], int(d_x)))
    return np.asarray(numerical_rank(d_tilde(L, X), method))


# ---------------------------------------------------------------------------------------------
# the 0/1 law of ranks

@dataclass(frozen=True)
class RankBracket:
    """``lower <= generic rank <= upper``; when equal, rank D~ equals it with probability one."""

    lower: int
    upper: int
    how: str

    @property
    def exact(self) -> bool:
        return self.lower == self.upper

    @property
    def rank(self) -> int:
        if not self.exact:
            raise ValueError(f"the generic rank is only bracketed: {self.lower}..{self.upper}")
        return self.lower

    def probability_of_rank(self, k: int) -> float:
        """P(rank D~ = k) for Gaussian X: 1 or 0 (0/1 law)."""
        return float(k == self.rank)


def _rank_of(M) -> int:
    """The rank of a small matrix: exact (python-flint ``fmpz_mat``) for integer entries, so
    that the structural upper bounds below are exact; LAPACK's numerical rank otherwise."""
    A = np.asarray(M)
    if not np.size(A):
        return 0
    F = np.asarray(A, dtype=float)
    if np.all(np.isfinite(F)) and np.all(F == np.round(F)) and np.max(np.abs(F)) < 2 ** 52:
        import flint
        return int(flint.fmpz_mat([[int(v) for v in row] for row in F.reshape(len(F), -1)])
                   .rank())
    return int(np.linalg.matrix_rank(F))


def generic_rank_upper_bound(Lambda, d_x: int) -> tuple[int, str]:
    """Upper bound on the generic rank of ``D~``: ``min_T (m - |T| + d_x rank Lambda_T)``
    (every row outside ``T`` adds at most one, the rows in ``T`` lie in
    ``row(Lambda_T) (x) R^{d_x}``) over ``T`` in {none, all rows, the zero rows}, and ``d d_x``."""
    L = np.asarray(Lambda, dtype=float)
    m, d = L.shape
    zero = ~np.any(L != 0, axis=1)
    cands = {"m": m, "d d_x": d * d_x, "d_x rank Lambda": d_x * _rank_of(L),
             "nonzero rows": int(m - zero.sum())}
    name = min(cands, key=lambda k: cands[k])
    return cands[name], name


def almost_sure_rank(Lambda, d_x: int, *, rng: np.random.Generator | None = None,
                     prime: int = 2 ** 61 - 1, max_rows: int | None = None) -> RankBracket:
    """Bracket (usually: decide) the rank of ``D~`` for Gaussian ``X`` with probability one.

    Lower bound: the exact rank of ``D~`` at a random *integer* ``X``, computed modulo a large
    prime with python-flint (rank mod p <= rank over Q <= generic rank: a non-zero minor mod p
    is non-zero over Z, and a minor that is non-zero at one point is a non-zero polynomial).
    Upper bound: :func:`generic_rank_upper_bound`. When they meet, ``P(rank D~ = r) = 1`` exactly.
    ``max_rows`` limits the rows used for the lower bound (a row subset's rank is a lower bound
    too), for very tall ``D~``. ``Lambda`` must have integer entries.
    """
    import flint
    L = np.asarray(Lambda)
    if L.ndim != 2:
        raise ValueError(f"Lambda must be (m, d), got {L.shape}")
    if not np.all(np.asarray(L, dtype=float) == np.round(np.asarray(L, dtype=float))):
        raise ValueError("almost_sure_rank needs an integer pattern (entries in {-1, 0, 1} for "
                         "ReLU / absolute value)")
    rng = rng or np.random.default_rng(0)
    m, d = L.shape
    upper, why = generic_rank_upper_bound(L, d_x)
    rows = np.arange(m)
    if max_rows is not None and m > max_rows:
        rows = np.sort(rng.choice(m, size=max_rows, replace=False))
    Li = np.asarray(L[rows], dtype=np.int64)
    if np.max(np.abs(Li), initial=0) > 2 ** 20:
        raise ValueError("pattern entries too large for the int64 product")
    Xi = rng.integers(-2 ** 30, 2 ** 30, size=(len(rows), int(d_x)))
    D = (Li[:, :, None] * Xi[:, None, :]).reshape(len(rows), d * int(d_x))   # |.| < 2^51
    if D.size == 0:
        lower = 0
    else:
        M = flint.nmod_mat(D.shape[0], D.shape[1], [int(v) % prime for v in D.ravel()], prime)
        lower = int(M.rank())
    how = (f"rank mod p={prime} at a random integer X on {len(rows)} of {m} rows = {lower}; "
           f"upper bound {upper} ({why})")
    return RankBracket(lower, upper, how)


def almost_sure_rank_types(types, counts, d_x: int, *, rng: np.random.Generator | None = None,
                           prime: int = 2 ** 61 - 1) -> RankBracket:
    """:func:`almost_sure_rank` for the pattern with row ``types[t]`` repeated ``counts[t]``
    times, without forming its ``m`` rows.

    ``d = 1``: the ``n`` non-zero rows of ``D~ = diag(Lambda_1) X`` are non-zero multiples of
    independent Gaussian rows and the others vanish, so its rank is ``min(n, d_x)`` with
    probability one (a Gaussian matrix is full rank a.s.). ``d > 1``: the exact rank mod p
    of ``D~`` on at most ``d d_x`` rows of each type (a lower bound), against
    :func:`generic_rank_upper_bound` evaluated on the types."""
    types = np.asarray(types)
    counts = np.asarray(counts, dtype=np.int64)
    m, d = int(counts.sum()), types.shape[1]
    if d == 1:
        n = int(counts[np.any(types != 0, axis=1)].sum())
        r = min(n, int(d_x))
        return RankBracket(r, r, f"d = 1: D~ = diag(Lambda_1) X has {n} non-zero rows, multiples "
                                 f"of independent Gaussian rows; rank min({n}, d_x={d_x}) = {r} "
                                 "a.s.")
    take = np.minimum(counts, d * int(d_x))
    sample = np.repeat(types, take, axis=0)
    lower = almost_sure_rank(sample, d_x, rng=rng, prime=prime)
    nz = int(counts[np.any(types != 0, axis=1)].sum())
    cands = {"m": m, "d d_x": d * int(d_x), "d_x rank Lambda": int(d_x) * _rank_of(types),
             "nonzero rows": nz}
    name = min(cands, key=lambda k: cands[k])
    return RankBracket(lower.lower, cands[name],
                       f"rank mod p at a random integer X on {len(sample)} of {m} rows "
                       f"= {lower.lower}; upper bound {cands[name]} ({name})")


# ---------------------------------------------------------------------------------------------
# smallest singular values over index sets

def row_types(Lambda):
    """Distinct rows of ``Lambda`` and how often each occurs."""
    L = np.asarray(Lambda, dtype=float)
    types, counts = np.unique(L, axis=0, return_counts=True)
    return types, counts


def min_smin_large_subsets(Lambda, k: int, *, max_vertices: int = 200_000):
    """``min_{|I| >= k} s_min(Lambda_I)^2`` (``s_min`` = the ``d``-th singular value), exactly:
    :func:`min_gram_large_subsets` on the row types of ``Lambda``."""
    types, counts = row_types(Lambda)
    return min_gram_large_subsets(types, counts, k, max_vertices=max_vertices)


def min_gram_large_subsets(types, counts, k: int, *, max_vertices: int = 200_000):
    """``min lambda_min(Lambda_I^T Lambda_I)`` over index sets ``|I| >= k`` of the pattern with
    row ``types[t]`` repeated ``counts[t]`` times (``m = sum(counts)`` may be astronomically
    large: nothing of size ``m`` is formed).

    Adding rows adds a PSD term to ``Lambda_I^T Lambda_I``, so the minimum is over ``|I| = k``.
    ``lambda_min`` of ``sum_t c_t v_t v_t^T`` is concave in the type counts ``c`` (a minimum of
    linear functions), so over the polytope ``{0 <= c_t <= n_t, sum c_t = k}`` it is smallest
    at a vertex; the vertices are integer (one free coordinate), hence realised by index sets.
    Returns ``(value, vertices, types)``: the float eigenvalue and every vertex count vector
    (certify a threshold at all of them with :func:`certify_gram_at_least`).
    """
    types = np.asarray(types)
    counts = np.asarray(counts, dtype=np.int64)
    m = int(counts.sum())
    if types.ndim != 2 or types.shape[0] != counts.shape[0]:
        raise ValueError(f"types {types.shape} and counts {counts.shape} do not match")
    if not 1 <= k <= m:
        raise ValueError(f"need 1 <= k <= m = {m}, got {k}")
    vertices = _count_vertices(counts, k, max_vertices)
    best = math.inf
    tf = types.astype(float)
    for c in vertices:
        G = (tf.T * c) @ tf
        best = min(best, float(np.linalg.eigvalsh(G)[0]) if types.shape[1] else 0.0)
    return best, vertices, types


def _count_vertices(counts, k, cap):
    T = len(counts)
    if T * 2 ** max(T - 1, 0) > cap:
        raise ValueError(f"{T} distinct rows: too many vertices to enumerate; use a pattern with "
                         f"fewer row types")
    out = []
    for f in range(T):
        others = [t for t in range(T) if t != f]
        for bits in itertools.product((0, 1), repeat=len(others)):
            c = np.zeros(T, dtype=np.int64)
            for t, b in zip(others, bits):
                c[t] = counts[t] * b
            rest = k - int(c.sum())
            if 0 <= rest <= counts[f]:
                c[f] = rest
                out.append(c)
    return out


def min_smin_small_subsets(Lambda, s: int, *, max_subsets: int = 200_000):
    """``min_{1 <= |I| <= s} s_{|I|}(Lambda_I)^2`` (the ``|I|``-th singular value) by enumerating
    the index sets of size ``min(s, m)`` (by Cauchy interlacing a principal submatrix of
    ``Lambda_I Lambda_I^T`` has a larger smallest eigenvalue, so smaller sets cannot be worse).
    Returns ``(value, argmin index set)``; ``s < 1`` means no index set: ``(inf, ())``."""
    L = np.asarray(Lambda, dtype=float)
    m = L.shape[0]
    s = min(int(s), m)
    if s < 1:
        return math.inf, ()
    if math.comb(m, s) > max_subsets:
        raise ValueError(f"C({m}, {s}) index sets: too many to enumerate")
    best = math.inf
    arg: tuple[int, ...] = ()
    G = L @ L.T
    for I in itertools.combinations(range(m), s):
        v = float(np.linalg.eigvalsh(G[np.ix_(I, I)])[0])
        if v < best:
            best, arg = v, I
    return best, arg


def certify_gram_at_least(G, delta2) -> bool:
    """Exact check that the integer / rational symmetric matrix ``G`` satisfies
    ``G - delta2 I >= 0`` (positive semidefinite), by an LDL^T factorisation in rationals
    (``delta2`` a Fraction, int or float, taken exactly)."""
    A = [[Fraction(x) for x in row] for row in np.asarray(G, dtype=object).tolist()]
    n = len(A)
    d2 = Fraction(delta2)
    for i in range(n):
        A[i][i] -= d2
    # symmetric Gaussian elimination with the PSD test: a zero pivot needs a zero row/column
    for i in range(n):
        p = A[i][i]
        if p < 0:
            return False
        if p == 0:
            if any(A[i][j] != 0 for j in range(i + 1, n)):
                return False
            continue
        for j in range(i + 1, n):
            f = A[j][i] / p
            if f:
                for k2 in range(i + 1, n):
                    A[j][k2] -= f * A[i][k2]
    return True


# ---------------------------------------------------------------------------------------------
# "for every t > 0" by monotone bracketing

@dataclass(frozen=True)
class UniformInT:
    """Result of :func:`uniform_in_t`: the certified margin over ``[t_lo, t_hi]`` and the worst
    point-wise margin seen on the grid (negative means violated at that ``t``)."""

    margin: float
    worst_t: float
    pointwise: float
    pointwise_t: float
    grid: int
    t_lo: float
    t_hi: float
    notes: list[str] = field(default_factory=list)


def uniform_in_t(failure: Callable[[np.ndarray], np.ndarray],
                 bound: Callable[[np.ndarray], np.ndarray], t_lo: float, t_hi: float, *,
                 grid: int = 4000, relative: bool = False) -> UniformInT:
    """Check ``failure(t) <= bound(t)`` for *every* ``t`` in ``[t_lo, t_hi]``, where both are
    non-increasing in ``t``: on a cell ``[t_j, t_{j+1}]``, ``failure(t) <= failure(t_j)`` and
    ``bound(t) >= bound(t_{j+1})``, so ``margin = min_j bound(t_{j+1}) - failure(t_j) >= 0``
    proves the inequality on the whole interval (up to the accuracy of the two functions).
    The grid is geometric. Also returns the worst point-wise margin ``bound(t_j) -
    failure(t_j)``: if that is negative the inequality fails at ``t_j``. ``relative``: margins
    ``1 - failure / bound`` instead (same sign; readable when the bound spans many decades)."""
    if not (0 < t_lo < t_hi and math.isfinite(t_hi)):
        raise ValueError(f"need 0 < t_lo < t_hi < inf, got {t_lo}, {t_hi}")
    t = np.geomspace(t_lo, t_hi, int(grid))
    f, b = np.asarray(failure(t), dtype=float), np.asarray(bound(t), dtype=float)
    if relative:
        if np.any(b <= 0):
            raise ValueError("relative margins need a positive bound")
        cell, point = 1 - f[:-1] / b[1:], 1 - f / b
    else:
        cell, point = b[1:] - f[:-1], b - f
    j, i = int(np.argmin(cell)), int(np.argmin(point))
    return UniformInT(float(cell[j]), float(t[j]), float(point[i]), float(t[i]), int(grid),
                      float(t_lo), float(t_hi))
