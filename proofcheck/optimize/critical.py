r"""Critical points of any kind (minima, saddles, maxima, degenerate) of a model's objective,
refined and certified at high precision.

``find_local_minima`` (:mod:`proofcheck.optimize.local_min`) descends, so it finds minima; the
claims about *every* critical point, saddles included.
This module:

1. **finds** critical points with Newton's method on grad L = 0 (Levenberg-Marquardt on the
   residual grad L with Jacobian Hess L, deterministic, in float64): it
   converges to the zero of the gradient nearest the start whatever its kind; descent starts
   (trust-region Newton, :mod:`proofcheck.optimize.trust_region`) are added for minima;
   constructed points (e.g. theta = 0 of a deep linear network, an exact critical point) are
   certified as given;
2. **refines** each point at ``digits`` with the same mixed-precision Levenberg-Marquardt step as
   ``local_min`` (the gradient in mpmath, the step in float64);
3. **certifies** it with the same standard as ``local_min``'s certificate:
   ``tau_grad = 10^(-digits/2) max(1, |L|)``, the refinement's steps must contract to the rounding
   floor, and ``tau_hess = max(10^(-digits/2) max(1, ||H||), M3 delta + n 10^-digits ||H||)``.
   The kind is read from the extreme Hessian eigenvalues lam_min, lam_max:

   - ``local_min``: lam_min >= -tau_hess and lam_max > tau_hess (second-order necessary
     conditions of a minimum; as in ``local_min``, not a proof of minimality);
   - ``local_max``: lam_max <= tau_hess and lam_min < -tau_hess;
   - ``saddle``: lam_min < -tau_hess < tau_hess < lam_max (certified: neither a min nor a max);
   - ``degenerate``: |lam| <= tau_hess for every eigenvalue (the second-order test says nothing,
     e.g. theta = 0 of a deep linear network with three or more layers);
   - ``unresolved``: the refinement did not converge or the gradient is too large.

The Hessian at ``digits`` is the forward difference of the exact (analytic) gradient computed
at 2 digits + 10 digits of precision with step h = 10^-(digits + 5) (n + 1 gradients): truncation
h M3 / 2 and rounding 10^-(2 digits + 10) / h are both below 10^-(digits + 4) times the scale of
the third and second derivatives, far under tau_hess >= 10^-(digits/2)
(:meth:`ModelLandscape.derivatives_mp`).

ReLU networks are differentiable only off the kinks; a point whose smallest |pre-activation| is
below 10^(-digits/4) is ``unresolved`` (it may lie in Omega-tilde).

>>> import numpy as np
>>> from proofcheck.networks import Network
>>> from proofcheck.losses import SquaredLoss
>>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]); Y = np.array([[1.0], [2.0], [0.5]])
>>> land = ModelLandscape(Network((2, 2, 1), "identity"), X, Y, SquaredLoss())
>>> cp = certify_critical(land, np.zeros(land.n_params), digits=30)
>>> cp.kind                       # theta = 0 of a two-layer linear network: a strict saddle
'saddle'
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from collections.abc import Sequence

import mpmath
import numpy as np

from ..induced import weights_or_uniform
from ..models import to_mp
from .local_min import refine_second_order
from .trust_region import levenberg_marquardt, snap_dyadic, trust_region_newton

__all__ = ["ModelLandscape", "CriticalPoint", "ModelPoint", "certify_critical",
           "find_critical_points", "KINDS", "CRITICAL_KINDS"]

KINDS = ("local_min", "saddle", "local_max", "degenerate", "unresolved")
CRITICAL_KINDS = ("local_min", "saddle", "local_max", "degenerate")
_EPS = np.finfo(float).eps
_FOUND: dict = {}       # find_points results by (landscape digest, starts, digits)


@dataclass(frozen=True, eq=False)
class ModelPoint:
    """A parameter point of a model: the full theta (fixed blocks included)."""

    theta: np.ndarray


class ModelLandscape:
    """L(theta) = sum_i lambda_i l(f(x_i; theta), y_i) for a model with ``outputs`` / ``jacobian``
    (e.g. :class:`proofcheck.networks.Network`), as a function of the free parameters.

    ``chart``: a permutation of theta's indices, the coordinates the landscape is written in
    (``theta[chart]``, default theta itself: e.g. ``net.transposed_order()`` for a paper that
    stores every weight matrix transposed); ``free``, the random starts of :meth:`find_points`
    and its cache key are in chart coordinates.
    ``free``: indices (of the chart) that vary (default all); the others stay at ``base``.
    ``constructed``: points (full theta) the finder certifies as given, e.g. theta = 0.
    ``method`` / ``max_starts`` / ``scale``: how :meth:`find_points` searches (see there);
    ``initial``: extra starts (full theta) tried before the random ones.
    """

    def __init__(self, model, X, Y, loss, weights=None, *, free=None, base=None,
                 constructed: Sequence = (), method: str = "both", max_starts: int = 4,
                 scale: float = 1.0, initial: Sequence = (), chart=None):
        self.model = model
        self.X = np.asarray(X, dtype=float)
        self.Y = np.asarray(Y, dtype=float)
        if self.X.ndim != 2 or self.Y.ndim != 2 or self.X.shape[0] != self.Y.shape[0]:
            raise ValueError(f"X (m, d_x) and Y (m, d_y) must share m; got {self.X.shape}, "
                             f"{self.Y.shape}")
        if not (np.all(np.isfinite(self.X)) and np.all(np.isfinite(self.Y))):
            raise ValueError("X or Y contains NaN or inf")
        if self.Y.shape[1] != model.d_y:
            raise ValueError(f"Y has {self.Y.shape[1]} columns, the model outputs {model.d_y}")
        loss.validate_targets(self.Y)
        self.loss = loss
        self.m = self.X.shape[0]
        self.uniform = weights is None
        self.weights = weights_or_uniform(weights, self.m)
        n = model.n_params
        self.chart = np.arange(n) if chart is None else np.asarray(chart, dtype=int)
        if self.chart.shape != (n,) or not np.array_equal(np.sort(self.chart), np.arange(n)):
            raise ValueError(f"chart must be a permutation of 0..{n - 1}")
        self.free = np.arange(n) if free is None else np.asarray(free, dtype=int)
        self._idx = self.chart[self.free]       # theta indices of the free parameters
        self.base = np.zeros(n) if base is None else np.asarray(base, dtype=float)
        if self.base.shape != (n,):
            raise ValueError(f"base must have shape ({n},)")
        self.constructed = [np.asarray(c, float) for c in constructed]
        self.initial = [np.asarray(c, float) for c in initial]     # full theta, extra starts
        if method not in ("newton", "descent", "both"):
            raise ValueError(f"method must be 'newton', 'descent' or 'both', got {method!r}")
        self.method, self.max_starts, self.scale = method, int(max_starts), float(scale)
        self._mp_cache: dict[int, tuple] = {}

    @property
    def n_params(self) -> int:
        return len(self.free)

    def __repr__(self):
        return (f"ModelLandscape({self.model!r}, m={self.m}, loss={self.loss!r}, "
                f"free={self.n_params}/{self.model.n_params})")

    def full(self, p) -> np.ndarray:
        """The full theta for free parameters p (float or mpf)."""
        p = np.asarray(p)
        if p.shape != (self.n_params,):
            raise ValueError(f"p must have shape ({self.n_params},), got {p.shape}")
        if p.dtype == object:
            th = to_mp(self.base)
        else:
            th = self.base.astype(float).copy()
        th[self._idx] = p
        return th

    def restrict(self, theta) -> np.ndarray:
        return np.asarray(theta)[self._idx]

    def unflatten(self, p) -> ModelPoint:
        return ModelPoint(theta=np.asarray(self.full(np.asarray(p, float)), float))

    # ---- float64
    def _parts(self, p):
        th = self.full(np.asarray(p, float))
        F = self.model.outputs(self.X, th)
        J = self.model.jacobian(self.X, th)[:, :, self._idx]
        return F, J

    def value(self, p) -> float:
        th = self.full(np.asarray(p, float))
        F = self.model.outputs(self.X, th)
        return float(self.weights @ self.loss.value(F, self.Y))

    def grad(self, p) -> np.ndarray:
        F, J = self._parts(p)
        D = self.loss.grad(F, self.Y)
        return np.einsum("i,ia,iak->k", self.weights, D, J)

    def derivatives(self, p) -> tuple[float, np.ndarray, np.ndarray]:
        """(value, grad, hess) in float64 for the descent stage: value and gradient from one
        forward pass; the Hessian by *forward* differences of the analytic gradient,
        h = sqrt(eps) (1 + |p_k|) (n gradients instead of the 2 n of :meth:`hess`; an error of
        about sqrt(eps) ||H|| only steers the descent, which never decides a certificate)."""
        p = np.asarray(p, float)
        F, J = self._parts(p)
        value = float(self.weights @ self.loss.value(F, self.Y))
        g = np.einsum("i,ia,iak->k", self.weights, self.loss.grad(F, self.Y), J)
        return value, g, self.hess_forward(p, g)

    def hess_forward(self, p, g=None) -> np.ndarray:
        """Forward differences of the analytic gradient (``g``: the gradient at p, if known),
        h = sqrt(eps) (1 + |p_k|): n gradients; for the float64 searches, which only steer."""
        p = np.asarray(p, float)
        g = self.grad(p) if g is None else g
        n = len(p)
        H = np.empty((n, n))
        for k in range(n):
            h = math.sqrt(_EPS) * (1 + abs(p[k]))
            e = np.zeros(n)
            e[k] = h
            H[:, k] = (self.grad(p + e) - g) / h
        return 0.5 * (H + H.T)

    def hess(self, p) -> np.ndarray:
        """Central differences of the analytic gradient, h = eps^(1/3) (1 + |p_k|) (float64 stage
        only: it steers the optimiser, never the certificate)."""
        p = np.asarray(p, float)
        n = len(p)
        H = np.empty((n, n))
        for k in range(n):
            h = _EPS ** (1 / 3) * (1 + abs(p[k]))
            e = np.zeros(n)
            e[k] = h
            H[:, k] = (self.grad(p + e) - self.grad(p - e)) / (2 * h)
        return 0.5 * (H + H.T)

    # ---- mpmath
    def _data(self, digits):
        if digits not in self._mp_cache:
            w = ([mpmath.mpf(1) / self.m] * self.m if self.uniform
                 else [mpmath.mpf(x) for x in self.weights])
            self._mp_cache[digits] = (to_mp(self.X), to_mp(self.Y), w)
        return self._mp_cache[digits]

    def _grad_mp(self, p, order, with_value=True):
        X, Y, w = self._data(mpmath.mp.dps)
        th = self.full(to_mp(p))
        F = self.model.outputs(X, th)
        value = (mpmath.fsum(w[i] * self.loss.value_mp(F[i], Y[i]) for i in range(self.m))
                 if with_value or order == 0 else None)
        if order == 0:
            return value, None
        J = self.model.jacobian(X, th)[:, :, self._idx]
        D = np.stack([np.asarray(self.loss.grad_mp(F[i], Y[i]), dtype=object)
                      for i in range(self.m)])
        g = np.einsum("i,ia,iak->k", np.array(w, dtype=object), D, J)
        return value, g

    def derivatives_mp(self, p, digits: int, order: int = 2):
        """(value, grad, hess) as mpf at ``digits``.  The Hessian: forward differences of the
        analytic gradient at 2 digits + 10 with h = 10^-(digits + 5) (module docstring)."""
        with mpmath.workdps(digits):
            value, g = self._grad_mp(p, min(order, 1))
        if order < 2:
            return value, g, None
        n = self.n_params
        with mpmath.workdps(2 * digits + 10):
            pm = to_mp(np.asarray(p, dtype=object)) if np.asarray(p).dtype == object else to_mp(p)
            pm = np.array([mpmath.mpf(x) for x in pm], dtype=object)
            h = mpmath.mpf(10) ** (-(digits + 5))
            H = np.empty((n, n), dtype=object)
            g0 = self._grad_mp(pm, 1, with_value=False)[1]
            for k in range(n):
                e = np.array([mpmath.mpf(0)] * n, dtype=object)
                e[k] = h
                H[:, k] = (self._grad_mp(pm + e, 1, with_value=False)[1] - g0) / h
            H = (H + H.T) / 2
        with mpmath.workdps(digits):
            H = np.array([[+x for x in row] for row in H], dtype=object)
        return value, g, H

    def value_mp(self, p, digits):
        return self.derivatives_mp(p, digits, 0)[0]

    def grad_mp(self, p, digits):
        with mpmath.workdps(digits):
            return self._grad_mp(p, 1, with_value=False)[1]

    def kink_distance(self, p) -> float:
        """Smallest |pre-activation| over kinked units (ReLU, abs, leaky ReLU) and samples (inf
        for a model without kinked units)."""
        acts = getattr(self.model, "activations", None)
        if not acts or not any(unit.kinks for layer in acts for unit in layer):
            return math.inf
        blocks = getattr(self.model, "blocks", ())
        hidden = [b for b in blocks if not b.output]
        if not any(np.any((self._idx >= b.offset) & (self._idx < b.offset + b.size))
                   for b in hidden):
            return math.inf     # only output weights vary: f is linear in them, no kink
        pre, _ = self.model.hidden(self.X, self.full(np.asarray(p, float)))
        vals = []
        for layer, a in zip(acts, pre[1:]):
            kinked = np.array([bool(unit.kinks) for unit in layer], dtype=bool)
            if np.size(a) and kinked.any():
                vals.append(np.abs(np.asarray(a, float)[:, kinked]).min())
        return float(min(vals)) if vals else math.inf

    # ---- the engine's hook: find and certify points of the requested kind
    def find_points(self, *, rng, starts, digits):
        """The engine's hook: certified points from ``starts`` starts.  ``self.method`` (set at
        construction: ``"descent"`` for claims about local minima, ``"both"`` or ``"newton"``
        for claims about every critical point) chooses the runs; ``self.max_starts`` caps the
        starts (each is certified at ``digits``, which dominates the run time)."""
        key = self.cache_key(min(starts, self.max_starts), digits)
        if key not in _FOUND:
            if len(_FOUND) > 512:
                _FOUND.clear()
            # the starts come from a generator seeded by the data, not from the engine's rng:
            # the same landscape then gives the same points in every claim and mutant that
            # checks it, and they are computed once per process
            from ..pointcache import cached_points   # shared by workers, on disk
            own = np.random.default_rng(int.from_bytes(key[0][:8], "little"))
            _FOUND[key] = cached_points(
                "critical.find_critical_points", ("proofcheck.optimize.critical",), self,
                lambda: find_critical_points(
                    self, rng=own, starts=key[1], digits=digits, method=self.method,
                    scale=self.scale, initial_points=[self.restrict(c) for c in self.initial]),
                starts=key[1], digits=digits)
        return _FOUND[key]

    def cache_key(self, starts, digits):
        import hashlib
        h = hashlib.sha256()
        for part in (repr(self.model), repr(self.loss), self.method, repr(self.scale)):
            h.update(part.encode())
        for arr in (self.X, self.Y, self.weights, self.free, self.base[self.chart],
                    *(c[self.chart] for c in self.constructed),
                    *(c[self.chart] for c in self.initial)):
            h.update(np.ascontiguousarray(arr).tobytes())
        return (h.digest(), int(starts), int(digits))


@dataclass(frozen=True, eq=False)
class CriticalPoint:
    """A refined point with its certificate (see the module docstring for ``kind``)."""

    point: ModelPoint
    value: float
    grad_norm: float
    min_hess_eig: float
    max_hess_eig: float
    tau_grad: float
    tau_hess: float
    digits: int
    kind: str
    notes: tuple[str, ...] = ()
    params_mp: np.ndarray | None = field(default=None, repr=False)
    theta_mp: np.ndarray | None = field(default=None, repr=False)   # full theta, mpf
    branch: str | None = None
    seconds: float = 0.0

    @property
    def certified(self) -> bool:
        return self.kind in CRITICAL_KINDS

    @property
    def theta(self) -> np.ndarray:
        return self.point.theta


def _step(H, g, mu):
    """Levenberg-Marquardt step for grad L = 0 (as ``local_min._step``), dropping eigenvalues
    below the float64 finite-difference Hessian's error, 16 eps^(2/3) ||H||: below it an
    eigenvalue is noise, and dividing a tiny gradient component by it would make a step that
    never reaches the rounding floor."""
    lam, Q = np.linalg.eigh(H)
    gq = Q.T @ g
    cut = 16 * _EPS ** (2 / 3) * max(np.abs(lam).max(initial=0.0), np.finfo(float).tiny)
    denom = lam * lam + mu * mu
    keep = (np.abs(lam) > cut) & (denom > 0)
    coef = np.zeros_like(lam)
    coef[keep] = lam[keep] / denom[keep]
    return -(Q @ (coef * gq))


def certify_critical(landscape: ModelLandscape, p, *, digits: int = 40, refine: bool = True,
                     max_refine: int = 30, notes=()) -> CriticalPoint:
    """Refine (optional) and certify the point ``p`` (free parameters) at ``digits``."""
    if not isinstance(digits, (int, np.integer)) or digits < 16:
        raise ValueError(f"digits must be an integer >= 16, got {digits!r}")
    p = np.asarray(p, dtype=float)
    if p.shape != (landscape.n_params,) or not np.all(np.isfinite(p)):
        raise ValueError(f"p must be finite with {landscape.n_params} entries")
    t0 = time.perf_counter()
    r = refine_second_order(landscape, p, digits, max_refine=max_refine if refine else 0,
                            step=_step, notes=notes)
    notes, pm, steps, delta = r.notes, r.p, r.steps, r.delta
    value, g_norm, lam_min, lam_max = r.value, r.g_norm, r.lam_min, r.lam_max
    tau_grad, tau_hess = r.tau_grad, r.tau_hess
    converged, contracting = r.converged, r.contracting
    with mpmath.workdps(digits):
        kink = landscape.kink_distance(pm.astype(float))
        ok = g_norm <= tau_grad and converged and contracting
        if ok and kink <= float(mpmath.mpf(10) ** (-mpmath.mpf(digits) / 4)):
            ok = False
            notes.insert(0, f"unresolved: a ReLU pre-activation is {kink:.2e} from its kink "
                            "(the point may be in Omega-tilde)")
        if ok:
            if lam_min >= -tau_hess:
                kind = "local_min" if lam_max > tau_hess else "degenerate"
            else:
                kind = "saddle" if lam_max > tau_hess else "local_max"
        else:
            kind = "unresolved"
            if g_norm > tau_grad or not (converged and contracting):
                notes.insert(0, "unresolved: refinement did not converge (||grad|| = "
                             f"{mpmath.nstr(g_norm, 3)}, tau_grad = {mpmath.nstr(tau_grad, 3)}; "
                             "steps " + ", ".join(f"{x:.1e}" for x in steps[-6:]) + ")")
        notes.append(f"refinement: {len(steps)} steps, last {delta:.2e}; eigenvalues in "
                     f"[{mpmath.nstr(lam_min, 3)}, {mpmath.nstr(lam_max, 3)}]")
        return CriticalPoint(
            point=landscape.unflatten(pm.astype(float)), value=float(value),
            grad_norm=float(g_norm), min_hess_eig=float(lam_min), max_hess_eig=float(lam_max),
            tau_grad=float(tau_grad), tau_hess=float(tau_hess), digits=int(digits), kind=kind,
            notes=tuple(notes), params_mp=pm, theta_mp=landscape.full(pm),
            seconds=time.perf_counter() - t0)


class CriticalPoints(list):
    """The list returned by :func:`find_critical_points`, with run-level ``notes``."""

    def __init__(self, items=(), notes=()):
        super().__init__(items)
        self.notes = list(notes)

    def of(self, *kinds: str) -> list[CriticalPoint]:
        return [p for p in self if p.kind in kinds]


def _distinct(points, scale):
    """Drop repeats (points within 1e-8 (1 + scale) of an earlier one of the same kind)."""
    out: list[CriticalPoint] = []
    for p in points:
        if not any(q.kind == p.kind and np.linalg.norm(q.theta - p.theta) <= 1e-8 * (1 + scale)
                   for q in out):
            out.append(p)
    return out


def find_critical_points(landscape: ModelLandscape, *, rng: np.random.Generator, starts: int = 4,
                         digits: int = 40, method: str = "both", initial_points: Sequence = (),
                         scale: float = 1.0, max_iter: int = 100) -> CriticalPoints:
    """Critical points from ``starts`` random starts (N(0, scale^2) entries), the landscape's
    constructed points and ``initial_points`` (free parameters), each refined and certified.

    ``method``: ``"newton"`` (Levenberg-Marquardt on grad L = 0: any kind), ``"descent"``
    (trust-region Newton on L: minima) or ``"both"`` (each start is run both ways)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator (np.random.default_rng(seed))")
    if method not in ("newton", "descent", "both"):
        raise ValueError(f"method must be 'newton', 'descent' or 'both', got {method!r}")
    if not isinstance(starts, (int, np.integer)) or starts < 0:
        raise ValueError(f"starts must be a non-negative integer, got {starts!r}")
    out = CriticalPoints()
    for c in landscape.constructed:
        out.append(certify_critical(landscape, landscape.restrict(c), digits=digits,
                                    notes=("constructed point",)))
    inits = [np.asarray(q, float) for q in initial_points]
    inits += [scale * rng.normal(size=landscape.n_params) for _ in range(starts)]
    runs = ("newton", "descent") if method == "both" else (method,)
    for p0 in inits:
        for run in runs:
            try:
                with np.errstate(over="raise", invalid="raise"):
                    if run == "newton":
                        # the float stage only has to land in Newton's basin: the refinement
                        # at `digits` does the rest, so the budget is small
                        # deterministic LM (MINPACK's steps differed between processes from
                        # bit-identical inputs on singular Hessians), snapped to a dyadic grid
                        z, nfev, why = levenberg_marquardt(landscape.grad, landscape.hess_forward,
                                                           p0, max_nfev=max_iter, xtol=1e-12,
                                                           gtol=1e-12)
                        pf, note = snap_dyadic(z), ("float64 Levenberg-Marquardt on grad L = 0: "
                                                    f"{nfev} evaluations, {why}")
                    else:
                        res = trust_region_newton(landscape.derivatives, p0, max_iter=max_iter,
                                                  gtol=1e-2 * math.sqrt(_EPS))
                        pf, note = res.x, f"float64 trust-region Newton: {res.nit} iterations"
            except (FloatingPointError, np.linalg.LinAlgError, ValueError) as exc:
                out.notes.append(f"{run} start failed: {type(exc).__name__}: {exc}")
                continue
            if not np.all(np.isfinite(pf)) or np.linalg.norm(pf) > 1e6 * (1 + np.linalg.norm(p0)):
                out.notes.append(f"{run} start diverged (||p|| = {np.linalg.norm(pf):.3g})")
                continue
            out.append(certify_critical(landscape, pf, digits=digits, notes=(note,)))
    return CriticalPoints(_distinct(out, scale), out.notes)
