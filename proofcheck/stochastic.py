"""Projected online / stochastic gradient descent, simulated over many seeds at once.

SGD on the skip-to-output network x -> w^T x + v^T f_θ(x) is, in (w, v), *online* gradient
descent (OGD) on the convex functions g_t(w, v) = ℓ(w^T x_t + v^T f_θt(x_t); y_t), so
Zinkevich's regret bound applies:

    sum_t g_t(x_t) - sum_t g_t(x)  <=  D^2 / (2 η) + η l^2 T / 2     for every x in X,

with D the diameter of X (D = 2b for the ball of radius b), l the Lipschitz constant and η the
step. The O(b l / sqrt(T)) rate is this bound with η = c b / (l sqrt(T)). A high-probability
version adds Azuma's inequality for the martingale differences
Z_t = (F_t - F_lin(u)) - (ℓ_t - ℓ_t^lin), which
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
           "fitted_slope", "SlopeFit", "binomial_tail", "summation_tolerance",
           "average_regret_and_bound", "regret_rate"]


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
    """One ensemble of OGD runs (a row per seed; η, radius, lipschitz per seed).

    ``regret``: sum_t g_t(x_t) - sum_t g_t(x_best), x_best the best fixed point in hindsight
    on the ball (exact for linear losses); ``grad_sq``: sum_t ||grad g_t(x_t)||^2;
    ``start_dist_sq``: ||x_1 - x_best||^2 (the data-dependent form of the bound)."""

    T: int
    eta: np.ndarray
    radius: np.ndarray
    lipschitz: np.ndarray
    regret: np.ndarray
    grad_sq: np.ndarray
    start_dist_sq: np.ndarray


_CHUNK = 1024           # seeds simulated together (memory: T * _CHUNK * dim floats)


def _per_seed(value, n: int, name: str) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(value, dtype=float), (n,)).copy()
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"{name} must be finite and positive, got {value!r}")
    return arr


def ogd_linear(seeds, T: int, dim: int, radius, lipschitz, *,
               adversary: str = "random", eta=None) -> OGDRun:
    """OGD on linear losses g_t(x) = c_t^T x over the ball of ``radius``, ||c_t|| = lipschitz.

    ``adversary``: ``random`` (c_t uniform on the sphere, from the seed) or ``adaptive``
    (c_t = l x_t/||x_t||, the direction that costs OGD most at x_t; a fixed random direction
    at x_t = 0). The step defaults to η = b / (l sqrt(T)), Zinkevich's choice with constant 1.
    The best fixed point in hindsight is exact: x* = -b C/||C||, C = sum_t c_t. ``radius``,
    ``lipschitz`` and ``eta`` may be scalars or one value per seed."""
    seeds = np.atleast_1d(np.asarray(seeds, dtype=np.int64))
    n = len(seeds)
    if int(T) != T or T < 1 or int(dim) != dim or dim < 1:
        raise ValueError(f"T and dim must be positive integers, got T={T!r}, dim={dim!r}")
    if adversary not in ("random", "adaptive"):
        raise ValueError(f"adversary must be 'random' or 'adaptive', got {adversary!r}")
    T, dim = int(T), int(dim)
    b = _per_seed(radius, n, "radius")
    l = _per_seed(lipschitz, n, "lipschitz")
    eta = b / (l * math.sqrt(T)) if eta is None else _per_seed(eta, n, "eta")
    if n > _CHUNK:      # the random losses take T * n * dim floats: bound the memory
        parts = [ogd_linear(seeds[i:i + _CHUNK], T, dim, b[i:i + _CHUNK], l[i:i + _CHUNK],
                            adversary=adversary, eta=eta[i:i + _CHUNK])
                 for i in range(0, n, _CHUNK)]
        return OGDRun(T, eta, b, l, *(np.concatenate([getattr(p, f) for p in parts])
                                      for f in ("regret", "grad_sq", "start_dist_sq")))
    rngs = [np.random.default_rng([int(s), T, dim]) for s in seeds]
    x = np.zeros((n, dim))
    total = np.zeros(n)
    C = np.zeros((n, dim))
    fallback = np.stack([r.standard_normal(dim) for r in rngs])
    fallback /= np.linalg.norm(fallback, axis=1, keepdims=True)
    if adversary == "random":
        G = np.stack([r.standard_normal((T, dim)) for r in rngs], axis=1)     # (T, n, dim)
        G *= l[None, :, None] / np.linalg.norm(G, axis=2, keepdims=True)
    bcol, lcol, ecol = b[:, None], l[:, None], eta[:, None]
    tiny = np.finfo(float).tiny
    for t in range(T):
        if adversary == "random":
            c = G[t]
        else:
            nx = np.sqrt(np.einsum("nd,nd->n", x, x))[:, None]
            c = lcol * np.where(nx > 0, x / np.maximum(nx, tiny), fallback)
        total += np.einsum("nd,nd->n", c, x)
        C += c
        y = x - ecol * c
        ny = np.sqrt(np.einsum("nd,nd->n", y, y))[:, None]
        x = y * np.minimum(1.0, bcol / np.maximum(ny, tiny))     # projection on the ball
    nC = np.linalg.norm(C, axis=1)
    best = -b * nC                                    # min_x C^T x over the ball
    x_best = -bcol * C / np.maximum(nC, tiny)[:, None]
    return OGDRun(T, eta, b, l, total - best, T * l**2, np.sum(x_best**2, axis=1))


# ----------------------------------------------------------------------- SGD on a skip network

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


def skip_data(seed: int, n: int = 60, d: int = 3, k: int = 4) -> SkipData:
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
    eta: np.ndarray
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
             eta: float | np.ndarray | None = None, comparator=None) -> SGDRun:
    """Projected SGD on F(w, v, Θ) = E ℓ(w^T x + v^T tanh(Θ x); y), logistic ℓ.

    M1 = {||(w, v)|| <= radius}, M2 = {||Θ||_F <= theta_radius} (a product of closed convex
    sets). Then ℓ is l-Lipschitz in (w, v) with l = sup ||(x, f_θ(x))||
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
    n = len(seeds)
    eta = radius / (l * math.sqrt(T)) if eta is None else eta
    eta = _per_seed(eta, n, "eta")
    ecol = eta[:, None]
    if comparator is None:
        comparator = linear_risk_lower_bound(data, radius)[0]
    u = np.asarray(comparator, dtype=float)
    if np.linalg.norm(u) > radius * (1 + 1e-12):
        raise ValueError("the comparator (u, 0) must lie in M1")
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
        wv = project_ball(wv - ecol * grad_wv, radius)
        theta = project_ball((theta - ecol[:, :, None] * grad_theta).reshape(n, -1),
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


# ------------------------------------------------------------------------------ checks

UNIT_ROUNDOFF = float(np.finfo(float).eps) / 2


def summation_tolerance(T: int, dim: int, term_bound) -> float:
    """Rounding bound for a regret of T terms, each at most ``term_bound`` in magnitude, in
    float64: recursive summation errs by at most (T - 1) u sum |terms| (Higham, Thm 4.4),
    dot products and norms of length ``dim`` by dim u |.|; a factor 2 covers the two sums."""
    return 2 * (T + dim + 2) * UNIT_ROUNDOFF * T * term_bound


def average_regret_and_bound(seeds, T: int, dim: int, radius: float | np.ndarray,
                             lipschitz: float | np.ndarray, adversary: str,
                             step_constant: float | np.ndarray, *, root_T: bool = True,
                             gradient_scale: float = 1.0):
    """OGD with η = c b / (l sqrt(T)) (or c b / l when ``root_T`` is False); returns
    (average regret, Zinkevich's bound / T with D = 2b, tolerance), one entry per seed.

    ``gradient_scale`` > 1 makes the true gradients that much larger than the declared l
    (to violate the Lipschitz hypothesis on purpose)."""
    radius, lipschitz = np.asarray(radius, float), np.asarray(lipschitz, float)
    step_constant = np.asarray(step_constant, float)
    eta = step_constant * radius / (lipschitz * (math.sqrt(T) if root_T else 1.0))
    run = ogd_linear(seeds, T, dim, radius, gradient_scale * lipschitz, adversary=adversary,
                     eta=eta)
    bound = zinkevich_bound(2 * radius, eta, lipschitz, T) / T
    tol = summation_tolerance(T, dim, gradient_scale * lipschitz * radius) / T
    shape = run.regret.shape
    return run.regret / T, np.broadcast_to(bound, shape), np.broadcast_to(tol, shape)


def regret_rate(seeds, horizons=(64, 128, 256, 512, 1024), dim: int = 5, *,
                total: bool = False, confidence: float = 0.95) -> SlopeFit:
    """Fitted log-log slope of OGD's average regret against T (random linear losses on the
    unit ball, l = 1, η = 1/sqrt(T)), with a t-interval over the seeds (``total``: the slope
    of the regret itself, T times the average)."""
    per_T = []
    for T in horizons:
        avg, _b, _t = average_regret_and_bound(seeds, T, dim, 1.0, 1.0, "random", 1.0)
        per_T.append(avg * T if total else avg)
    vals = np.array(per_T).T
    if np.any(vals <= 0):
        raise ValueError("a non-positive average regret: the log-log fit is undefined for "
                         f"{int(np.sum(vals <= 0))} (seed, T) pairs")
    return fitted_slope(horizons, vals, confidence)


