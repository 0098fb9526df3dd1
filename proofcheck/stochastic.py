"""Projected online / stochastic gradient descent, simulated over many seeds at once.

Shamir (2018) §5: SGD on the skip-to-output network x -> w^T x + v^T f_θ(x) is, in (w, v),
*online* gradient descent (OGD) on the convex functions g_t(w, v) = ℓ(w^T x_t + v^T f_θt(x_t); y_t)
(Theorem 4's proof), so Zinkevich's regret bound (Theorem 5) applies:

    sum_t g_t(x_t) - sum_t g_t(x)  <=  D^2 / (2 η) + η l^2 T / 2     for every x in X,

with D the diameter of X (D = 2b for the ball of radius b), l the Lipschitz constant and η the
step. The O(b l / sqrt(T)) of the paper is this bound with η = c b / (l sqrt(T)). Theorem 4 adds
Azuma's inequality for the martingale differences Z_t = (F_t - F_lin(u)) - (ℓ_t - ℓ_t^lin), which
satisfy |Z_t| <= 4r when |ℓ| <= r: with probability >= 1 - δ,
sum_t Z_t <= 4 r sqrt(2 T log(1/δ)).

Everything is vectorised over a leading *seed* axis: one call simulates a whole ensemble.

>>> import numpy as np
>>> run = ogd_linear(seeds=np.arange(4), T=100, dim=2, radius=1.0, lipschitz=1.0)
>>> bool(np.all(run.regret <= zinkevich_bound(2.0, run.eta, 1.0, 100)))
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["project_ball", "zinkevich_bound", "azuma_deviation", "OGDRun", "ogd_linear",
           "SkipData", "skip_data", "SGDRun", "sgd_skip", "linear_risk_lower_bound",
           "fitted_slope", "SlopeFit", "binomial_tail"]


def _check_positive(**values):
    for name, v in values.items():
        if not (isinstance(v, (int, float, np.floating, np.integer)) and math.isfinite(v)
                and v > 0):
            raise ValueError(f"{name} must be a finite positive number, got {v!r}")


def project_ball(x: np.ndarray, radius: float) -> np.ndarray:
    """Euclidean projection of each row (last axis) of ``x`` onto {||z|| <= radius}.

    >>> np.round(project_ball(np.array([[3.0, 4.0], [0.3, 0.4]]), 1.0), 12).tolist()
    [[0.6, 0.8], [0.3, 0.4]]
    """
    x = np.asarray(x, dtype=float)
    if not np.all(np.isfinite(x)):
        raise ValueError("project_ball: x contains NaN or inf")
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    scale = np.minimum(1.0, radius / np.maximum(norms, np.finfo(float).tiny))
    return x * scale


def zinkevich_bound(diameter, eta, lipschitz, T):
    """Zinkevich (2003), Thm 1: regret <= D^2 / (2 η) + η l^2 T / 2 (D the diameter of X)."""
    return diameter**2 / (2 * eta) + eta * lipschitz**2 * T / 2


def azuma_deviation(increment_bound, T, delta):
    """Azuma-Hoeffding: P(sum of T martingale differences with |Z_t| <= c exceeds
    c sqrt(2 T log(1/δ))) <= δ."""
    if not 0 < delta < 1:
        raise ValueError(f"delta must be in (0, 1), got {delta!r}")
    return increment_bound * np.sqrt(2 * T * np.log(1 / delta))


@dataclass
class OGDRun:
    """One ensemble of OGD runs (a row per seed).

    ``regret``: sum_t g_t(x_t) - sum_t g_t(x_best), x_best the best fixed point in hindsight
    on the ball (exact for linear losses); ``grad_sq``: sum_t ||grad g_t(x_t)||^2;
    ``start_dist_sq``: ||x_1 - x_best||^2 (the data-dependent form of the bound)."""

    T: int
    eta: float
    radius: float
    lipschitz: float
    regret: np.ndarray
    grad_sq: np.ndarray
    start_dist_sq: np.ndarray


def ogd_linear(seeds, T: int, dim: int, radius: float, lipschitz: float, *,
               adversary: str = "random", eta: float | None = None) -> OGDRun:
    """OGD on linear losses g_t(x) = c_t^T x over the ball of ``radius``, ||c_t|| = lipschitz.

    ``adversary``: ``random`` (c_t uniform on the sphere, from the seed) or ``adaptive``
    (c_t = l x_t/||x_t||, the direction that costs OGD most at x_t; a fixed random direction
    at x_t = 0). The step defaults to η = b / (l sqrt(T)), Theorem 5's choice with constant 1.
    The best fixed point in hindsight is exact: x* = -b C/||C||, C = sum_t c_t."""
    seeds = np.atleast_1d(np.asarray(seeds, dtype=np.int64))
    _check_positive(radius=radius, lipschitz=lipschitz)
    if int(T) != T or T < 1 or int(dim) != dim or dim < 1:
        raise ValueError(f"T and dim must be positive integers, got T={T!r}, dim={dim!r}")
    if adversary not in ("random", "adaptive"):
        raise ValueError(f"adversary must be 'random' or 'adaptive', got {adversary!r}")
    T, dim = int(T), int(dim)
    eta = radius / (lipschitz * math.sqrt(T)) if eta is None else float(eta)
    _check_positive(eta=eta)
    rngs = [np.random.default_rng([int(s), T, dim]) for s in seeds]
    n = len(seeds)
    x = np.zeros((n, dim))
    total = np.zeros(n)
    C = np.zeros((n, dim))
    fallback = np.stack([r.standard_normal(dim) for r in rngs])
    fallback /= np.linalg.norm(fallback, axis=1, keepdims=True)
    if adversary == "random":
        G = np.stack([r.standard_normal((T, dim)) for r in rngs], axis=1)     # (T, n, dim)
        G *= lipschitz / np.linalg.norm(G, axis=2, keepdims=True)
    for t in range(T):
        if adversary == "random":
            c = G[t]
        else:
            nx = np.linalg.norm(x, axis=1, keepdims=True)
            c = lipschitz * np.where(nx > 0, x / np.maximum(nx, np.finfo(float).tiny), fallback)
        total += np.einsum("nd,nd->n", c, x)
        C += c
        x = project_ball(x - eta * c, radius)
    nC = np.linalg.norm(C, axis=1)
    best = -radius * nC                               # min_x C^T x over the ball
    x_best = -radius * C / np.maximum(nC, np.finfo(float).tiny)[:, None]
    return OGDRun(T, eta, radius, lipschitz, total - best,
                  np.full(n, T * lipschitz**2), np.sum(x_best**2, axis=1))


# ------------------------------------------------------------------------------ Theorem 4

@dataclass
class SkipData:
    """A finite data distribution (uniform over rows) for the skip-to-output network.

    ``X`` (n, d) inputs, ``Y`` (n,) labels in {-1, +1}; ``k`` hidden features
    f_θ(x) = tanh(Θ x), Θ in R^{k x d}."""

    X: np.ndarray
    Y: np.ndarray
    k: int

    @property
    def feature_bound(self) -> float:
        """sup over the data and every Θ of ||(x, f_θ(x))||: tanh is in (-1, 1)."""
        return float(np.sqrt(np.max(np.sum(self.X**2, axis=1)) + self.k))


def skip_data(seed: int, n: int = 200, d: int = 3, k: int = 4) -> SkipData:
    """Labels from a nonlinear teacher (a linear predictor is not enough), inputs in a ball."""
    rng = np.random.default_rng([int(seed), n, d, k])
    X = rng.standard_normal((n, d))
    X /= np.maximum(1.0, np.linalg.norm(X, axis=1, keepdims=True))
    teacher = np.tanh(3 * X[:, 0] * X[:, 1]) + 0.3 * X[:, 2 % d]
    Y = np.where(teacher + 0.2 * rng.standard_normal(n) > 0, 1.0, -1.0)
    return SkipData(X, Y, k)


def _logistic(z):
    return np.logaddexp(0.0, -z)


def _logistic_grad(z):      # d/dz log(1 + e^{-z}) = -1 / (1 + e^{z})
    return -0.5 * (1 - np.tanh(z / 2))


@dataclass
class SGDRun:
    """Projected SGD on the skip-to-output network, one row per seed.

    ``risks[:, t]`` = F(w_t, v_t, Θ_t) (exact: an average over the finite distribution);
    ``regret_vs[name]`` = sum_t g_t((w_t, v_t)) - sum_t g_t(comparator) with g_t as in the proof
    (Θ_t frozen in g_t); ``sampled_gap`` = sum_t (ℓ_t - ℓ_t^lin(u)) for the linear comparator u."""

    T: int
    eta: float
    radius: float
    lipschitz: float
    loss_bound: float
    risks: np.ndarray
    linear_regret: np.ndarray
    sampled_gap: np.ndarray


def linear_risk_lower_bound(data: SkipData, radius: float, iters: int = 500):
    """(u, F_lin(u), certified lower bound on min_{||u|| <= b} F_lin) for the logistic loss.

    u comes from projected gradient descent; the lower bound is the Frank-Wolfe bound
    F(u) + min_{||z|| <= b} grad F(u)^T (z - u) = F(u) - b ||g|| - g^T u, valid for convex F."""
    X, Y = data.X, data.Y
    u = np.zeros(X.shape[1])
    # F_lin is (max ||x||^2 / 4)-smooth: step 1 / smoothness is safe for projected GD
    step = 4.0 / max(np.max(np.sum(X**2, axis=1)), 1e-12)
    for _ in range(iters):
        g = X.T @ (_logistic_grad(Y * (X @ u)) * Y) / len(Y)
        u = project_ball((u - step * g)[None, :], radius)[0]
    g = X.T @ (_logistic_grad(Y * (X @ u)) * Y) / len(Y)
    value = float(np.mean(_logistic(Y * (X @ u))))
    return u, value, value - radius * float(np.linalg.norm(g)) - float(g @ u)


def sgd_skip(data: SkipData, seeds, T: int, radius: float, theta_radius: float, *,
             eta: float | None = None, comparator=None) -> SGDRun:
    """Projected SGD (§5) on F(w, v, Θ) = E ℓ(w^T x + v^T tanh(Θ x); y), logistic ℓ.

    M1 = {||(w, v)|| <= radius}, M2 = {||Θ||_F <= theta_radius} (a product of closed convex
    sets, as Theorem 4 requires). Then ℓ is l-Lipschitz in (w, v) with l = sup ||(x, f_θ(x))||
    (|ℓ'| <= 1) and |ℓ| <= r = log(1 + exp(radius l)). η defaults to b / (l sqrt(T)).
    ``comparator`` u (with (u, 0) in M1) defaults to the near-minimiser of F_lin on the ball."""
    seeds = np.atleast_1d(np.asarray(seeds, dtype=np.int64))
    _check_positive(radius=radius, theta_radius=theta_radius)
    if int(T) != T or T < 1:
        raise ValueError(f"T must be a positive integer, got {T!r}")
    T = int(T)
    X, Y, k = data.X, data.Y, data.k
    n_data, d = X.shape
    l = data.feature_bound
    r = float(np.logaddexp(0.0, radius * l))
    eta = radius / (l * math.sqrt(T)) if eta is None else float(eta)
    if comparator is None:
        comparator = linear_risk_lower_bound(data, radius)[0]
    u = np.asarray(comparator, dtype=float)
    if np.linalg.norm(u) > radius * (1 + 1e-12):
        raise ValueError("the comparator (u, 0) must lie in M1")
    n = len(seeds)
    rngs = [np.random.default_rng([int(s), T, 7]) for s in seeds]
    idx = np.stack([r_.integers(0, n_data, size=T) for r_ in rngs], axis=1)   # (T, n)
    theta = np.stack([r_.standard_normal((k, d)) for r_ in rngs])
    theta = project_ball(theta.reshape(n, -1), theta_radius).reshape(n, k, d)
    wv = np.zeros((n, d + k))
    risks = np.empty((n, T))
    lin_regret = np.zeros(n)
    gap = np.zeros(n)
    lin_losses = _logistic(Y * (X @ u))              # ℓ(u^T x; y) for every data point
    for t in range(T):
        feats_all = np.tanh(np.einsum("nkd,md->nmk", theta, X))              # (n, m, k)
        p_all = X @ wv[:, :d].T + np.einsum("nmk,nk->nm", feats_all, wv[:, d:]).T
        risks[:, t] = np.mean(_logistic(Y[:, None] * p_all), axis=0)
        i = idx[t]
        x_t, y_t = X[i], Y[i]                                                 # (n, d), (n,)
        pre = np.einsum("nkd,nd->nk", theta, x_t)
        f_t = np.tanh(pre)
        z = np.concatenate([x_t, f_t], axis=1)                                # (n, d + k)
        p = np.einsum("nj,nj->n", wv, z)
        loss_t = _logistic(y_t * p)
        dl = _logistic_grad(y_t * p) * y_t                                    # ℓ'(p; y)
        lin_regret += loss_t - lin_losses[i]
        gap += loss_t - lin_losses[i]
        grad_wv = dl[:, None] * z
        grad_theta = (dl[:, None] * wv[:, d:] * (1 - f_t**2))[:, :, None] * x_t[:, None, :]
        wv = project_ball(wv - eta * grad_wv, radius)
        theta = project_ball((theta - eta * grad_theta).reshape(n, -1),
                             theta_radius).reshape(n, k, d)
    return SGDRun(T, eta, radius, l, r, risks, lin_regret, gap)


# ------------------------------------------------------------------------------ rates

def binomial_tail(n: int, k: int, p: float) -> float:
    """P(Binomial(n, p) >= k): how surprising k failures of a 1 - p guarantee are in n runs.

    >>> round(binomial_tail(100, 0, 0.05), 6), round(binomial_tail(100, 20, 0.05), 8)
    (1.0, 1.1e-07)
    """
    from scipy import stats
    return float(stats.binom.sf(k - 1, n, p)) if k > 0 else 1.0


@dataclass
class SlopeFit:
    """A log-log slope over horizons with a t-confidence interval over seeds."""

    slope: float
    ci_low: float
    ci_high: float
    seeds: int
    confidence: float


def fitted_slope(horizons, values, confidence: float = 0.95) -> SlopeFit:
    """Per-seed least-squares slope of log(values) on log(horizons); mean and t-interval.

    ``values`` has one row per seed and one column per horizon, all positive.

    >>> T = np.array([100, 400, 1600])
    >>> fit = fitted_slope(T, np.array([[1.0, 0.5, 0.25], [1.0, 0.5, 0.25]]))
    >>> round(fit.slope, 6), round(fit.ci_high - fit.ci_low, 6)
    (-0.5, 0.0)
    """
    from scipy import stats
    h = np.log(np.asarray(horizons, dtype=float))
    vals = np.asarray(values, dtype=float)
    if vals.ndim != 2 or vals.shape[1] != h.size or h.size < 2:
        raise ValueError(f"values must be (seeds, {h.size}) with >= 2 horizons, got {vals.shape}")
    if not np.all(np.isfinite(vals)) or np.any(vals <= 0):
        raise ValueError("values must be finite and positive for a log-log fit")
    hc = h - h.mean()
    slopes = (np.log(vals) @ hc) / (hc @ hc)
    m = slopes.size
    mean = float(slopes.mean())
    if m < 2:
        return SlopeFit(mean, -math.inf, math.inf, m, confidence)
    half = float(stats.t.ppf(0.5 + confidence / 2, m - 1) * slopes.std(ddof=1) / math.sqrt(m))
    return SlopeFit(mean, mean - half, mean + half, m, confidence)
