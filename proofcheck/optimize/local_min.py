"""Find local minima of a ResNet landscape and certify second-order conditions at high precision.

Pipeline per start (see :func:`find_local_minima`):

1. **float64 descent**: trust-region Newton (:func:`proofcheck.optimize.trust_region.
   trust_region_newton`, the iteration of scipy's ``trust-exact`` with the subproblem solved by
   an eigendecomposition) with the exact gradient and Hessian of
   :class:`proofcheck.models.Landscape` from one pass per point.  Trust-region Newton escapes
   strict saddles and copes with the singular Hessians of this model.
2. **refinement at ``digits``**: mixed-precision Newton (iterative refinement, Higham, *Accuracy
   and Stability of Numerical Algorithms*, ch. 12): the gradient is evaluated in mpmath, the
   step is solved in float64 with a truncated eigendecomposition of the Hessian, damped as in
   Levenberg-Marquardt with mu_k = ||grad L(p_k)|| (Yamashita & Fukushima 2001, quadratic
   convergence to non-isolated solutions under a local error bound).  A pseudo-inverse is needed
   because the Hessian is singular along flat directions such as V -> V + u nu^T with W u = 0.
3. **certificate at ``digits``**: gradient norm and the smallest Hessian eigenvalue
   (``mpmath.eigsy``) at the refined point, compared with thresholds:

   - ``tau_grad = 10^(-digits/2) * max(1, |L|)``: a gradient of that size means the point is
     within about 10^(-digits/2) of a critical point along every direction of curvature >= 1
     (g = H (p - p*) + O(|p - p*|^2)).  The square root of the working precision leaves half
     the digits as margin for the refinement's own rounding.  (Scaling by ||H|| instead let
     points far out in a valley with no critical point, W -> 0 and V -> oo, pass.)
   - ``tau_hess = max(10^(-digits/2) * max(1, ||H||_2), M3 * delta + n * 10^(-digits) * ||H||_2)``
     where ``delta`` bounds the distance to the limit critical point (the last refinement step:
     the steps contract by at least 1/2, so the tail sum is at most the last step) and ``M3`` is
     a difference-quotient estimate of the third derivative (Weyl: eigenvalues move by at most
     ||H(p) - H(p*)||_2 <= M3 delta).  The first term is the certificate's resolution and
     dominates whenever the refinement converged.

A point is certified only if the refinement *converged*: its steps reached the rounding floor
10^(-(digits-3)) (1 + ||p||) and the last (up to three) steps above the floor shrank by at least
a half each.  A run whose steps keep a constant size (a drift towards an infimum at infinity,
e.g. logistic loss on separable data, where the gradient decays like e^-t and a small gradient
alone would wrongly pass) is ``"unresolved"``; if L also decreases strictly along a ray from the
final point (output scaling W -> t W first, t up to ~256) the note says "unresolved: infimum not
attained" with that numerical evidence (a finite grid: evidence, not proof).

The certificate is **second-order necessary conditions** (grad = 0, Hessian >= -tau): a point
of kind ``"local_min"`` is a *certified second-order stationary point*, not a proof of local
minimality (degenerate critical points can pass and still be saddles of higher order).  In this
model L = L^R(R(W, V)) with L^R convex, and a critical point whose R is stationary for L^R is a
global minimum; that argument is deliberately NOT used here, because it is what the claims
checked at these points assert, and using it would make checking them circular.

Numerical rank of W: LAPACK's rule (``proofcheck.linalg.cutoff_factor``), s > max(d_y, d_x) *
max(s_max, 1) * u, with u = 10^(-digits/2), the resolution of the certificate (the floor 1 on
the scale keeps W -> 0 from looking full rank; parameters are assumed O(1)-scaled).
Along every flat
direction of the model W itself is constant (R = [W, W V] contains W), so the refined W agrees
with the limit to the refinement accuracy; the singular values are recorded in the notes.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Sequence

import mpmath
import numpy as np

from ..evaluate import register_finder
from ..linalg import cutoff_factor
from ..models import Landscape, ResNetPoint, ResNetProblem, to_mp
from .trust_region import trust_region_newton

__all__ = [
    "CertifiedPoint",
    "CertifiedPoints",
    "find_local_minima",
    "certify",
    "planted_problem",
    "KINDS",
    "BRANCHES",
]

KINDS = ("local_min", "saddle", "unresolved")
BRANCHES = ("full_rank", "rank_deficient")
_EPS = np.finfo(float).eps


@dataclass(frozen=True, eq=False)
class CertifiedPoint:
    """A point with its certificate.

    ``kind``: ``"local_min"`` (grad_norm <= tau_grad and min_hess_eig >= -tau_hess at ``digits``:
    a certified second-order stationary point), ``"saddle"`` (certified critical point with
    min_hess_eig < -tau_hess) or ``"unresolved"`` (see ``notes``; includes "infimum not
    attained").  ``branch`` is the observed rank branch of W (``rank_W >= d_y`` is full rank).
    """

    point: ResNetPoint
    value: float
    grad_norm: float
    min_hess_eig: float
    tau_grad: float
    tau_hess: float
    digits: int
    kind: str
    rank_W: int
    branch: str
    notes: tuple[str, ...] = ()
    params_mp: np.ndarray | None = field(default=None, repr=False)
    singular_values_W: tuple[float, ...] = ()
    seconds: float = 0.0

    @property
    def certified(self) -> bool:
        return self.kind in ("local_min", "saddle")


class CertifiedPoints(list):
    """The list returned by :func:`find_local_minima`, with run-level ``notes``."""

    def __init__(self, items=(), notes=()):
        super().__init__(items)
        self.notes = list(notes)

    def of(self, kind: str | None = None, branch: str | None = None) -> list[CertifiedPoint]:
        """The points of a kind and/or branch."""
        return [p for p in self if (kind is None or p.kind == kind)
                and (branch is None or p.branch == branch)]

    def summary(self) -> str:
        counts: dict[tuple[str, str], int] = {}
        for p in self:
            counts[(p.kind, p.branch)] = counts.get((p.kind, p.branch), 0) + 1
        text = ", ".join(f"{k} [{b}]: {n}" for (k, b), n in sorted(counts.items()))
        return "; ".join([text or "no points"] + self.notes)


# --------------------------------------------------------------------------- helpers

def _norm_mp(v) -> mpmath.mpf:
    return mpmath.sqrt(mpmath.fsum(x * x for x in v))


def _rank(W_mp, digits):
    """(rank, singular values, cutoff) of W at the certificate's resolution (module docstring)."""
    d_y, d_x = W_mp.shape
    s = mpmath.svd_r(mpmath.matrix(W_mp.tolist()), compute_uv=False)
    s = sorted((s[i] for i in range(min(d_y, d_x))), reverse=True)
    # max(s_max, 1): a relative cutoff alone would call W = 1e-40 * I full rank at W -> 0
    scale = max(s[0] if s else 0, mpmath.mpf(1))
    cutoff = (cutoff_factor((d_y, d_x), "lapack") * scale
              * mpmath.mpf(10) ** (-mpmath.mpf(digits) / 2))
    rank = sum(1 for x in s if x > cutoff)
    return rank, [float(x) for x in s], float(cutoff)


def _branch(rank, d_y) -> str:
    return "full_rank" if rank >= d_y else "rank_deficient"


def _step(H, g, mu):
    """Levenberg-Marquardt step for grad L = 0 with the symmetric H:
    s = -sum lam/(lam^2+mu^2) (q.g) q.

    Eigenvalues below LAPACK's rank cutoff n * eps * ||H||_2 are numerically null and dropped.
    """
    lam, Q = np.linalg.eigh(H)
    gq = Q.T @ g
    cut = len(lam) * _EPS * max(np.abs(lam).max(initial=0.0), np.finfo(float).tiny)
    denom = lam * lam + mu * mu
    keep = (np.abs(lam) > cut) & (denom > 0)
    coef = np.zeros_like(lam)
    coef[keep] = lam[keep] / denom[keep]
    return -(Q @ (coef * gq))


def _ray_evidence(landscape, p_mp, directions, digits):
    """Evidence that L decreases without bound in scale along some ray from p
    (infimum not attained).

    For each direction d (unit d^ = d/||d||): L(p + s d^) at s = r * 2^k, k = -4..8,
    r = max(1, ||d||), must be strictly decreasing and below L(p).  Returns a note or None.
    This is evidence, not proof: a finite grid cannot show the decrease continues.
    """
    with mpmath.mp.workdps(digits):
        v0 = landscape.value_mp(p_mp, digits)
        for label, d in directions:
            d = np.asarray(d, dtype=float)
            nd = np.linalg.norm(d)
            if not np.isfinite(nd) or nd == 0:
                continue
            r = max(mpmath.mpf(1), mpmath.mpf(nd))
            d_mp = to_mp(d / nd)
            vals = [v0]
            for k in range(-4, 9):
                vals.append(landscape.value_mp(p_mp + (r * mpmath.mpf(2) ** k) * d_mp, digits))
            if all(b < a for a, b in zip(vals, vals[1:])):
                return (f"L decreases strictly along the ray p + s d ({label}) for s up to "
                        f"{mpmath.nstr(r * 256, 3)}: from {mpmath.nstr(v0, 5)} to "
                        f"{mpmath.nstr(vals[-1], 5)}")
    return None


# --------------------------------------------------------------------------- certification

@dataclass
class SecondOrderRefinement:
    """A point refined at ``digits`` by mixed-precision Newton steps, with what a second-order
    certificate needs: the mp value, gradient norm and Hessian spectrum there, the thresholds
    ``tau_grad`` / ``tau_hess`` and whether the steps converged
    (see :func:`refine_second_order`)."""

    p: np.ndarray                   # mpf parameters
    value: Any
    g_norm: Any
    eigs: list
    tau_grad: Any
    tau_hess: Any
    steps: list[float]
    converged: bool
    contracting: bool
    last_step: np.ndarray | None
    p_prev_f: np.ndarray | None
    notes: list[str]

    @property
    def lam_min(self):
        return min(self.eigs)

    @property
    def lam_max(self):
        return max(self.eigs)

    @property
    def delta(self) -> float:
        return self.steps[-1] if self.steps else 0.0

    @property
    def resolved(self) -> bool:
        """First-order part of the certificate: ||grad|| <= tau_grad after converged,
        contracting steps."""
        return bool(self.g_norm <= self.tau_grad and self.converged and self.contracting)


def refine_second_order(landscape, p_float, digits, *, max_refine=30, step=None,
                        notes=()) -> SecondOrderRefinement:
    """Refine ``p_float`` at ``digits`` (mp gradient, float64 Hessian, Levenberg-Marquardt
    ``step``) and compute the second-order certificate's ingredients. Shared by the
    local-minimum certificate here and the critical-point certificate of ``optimize.critical``
    (which passes its own ``step``: its Hessian is a finite difference). ``landscape`` needs
    ``grad_mp``, ``hess`` and ``derivatives_mp``; ``max_refine=0`` certifies the point as given.
    """
    step = _step if step is None else step
    notes = list(notes)
    n = len(p_float)
    with mpmath.mp.workdps(digits):
        p = to_mp(p_float)
        floor = mpmath.mpf(10) ** (-(digits - 3))
        steps: list[float] = []
        H_prev, p_prev_f, M3, s = None, None, None, None
        converged = False
        for _ in range(max_refine):
            g = landscape.grad_mp(p, digits)
            g_norm = _norm_mp(g)
            pf = p.astype(float)
            H = landscape.hess(pf)
            if not np.all(np.isfinite(H)):
                notes.append("Hessian overflowed in float64 during refinement")
                break
            if H_prev is not None and M3 is None:
                dp = np.linalg.norm(pf - p_prev_f)
                # a Hessian difference quotient resolves M3 only when the step is well above
                # the float64 rounding of p
                if dp > 1e3 * _EPS * (1 + np.linalg.norm(pf)):
                    M3 = np.linalg.norm(H - H_prev, 2) / dp
            H_prev, p_prev_f = H, pf
            gs = np.array([float(x) for x in g])
            s = step(H, gs, float(g_norm))
            s_norm = float(np.linalg.norm(s))
            if not np.isfinite(s_norm):
                notes.append("refinement step is not finite")
                break
            steps.append(s_norm)
            p = p + to_mp(s)
            if s_norm <= floor * (1 + float(_norm_mp(p))):
                converged = True
                break
        value, g, Hmp = landscape.derivatives_mp(p, digits, 2)
        g_norm = _norm_mp(g)
        eigs = mpmath.eigsy(mpmath.matrix(Hmp.tolist()), eigvals_only=True)
        eigs = [eigs[i] for i in range(n)]
        h_scale = max(abs(x) for x in eigs)
        one = mpmath.mpf(1)
        res = mpmath.mpf(10) ** (-mpmath.mpf(digits) / 2)
        # The gradient threshold is on the scale of the loss value, NOT of the Hessian: a
        # gradient small only relative to a huge Hessian is the signature of a valley running
        # off to infinity (e.g. W -> 0, V -> oo with W V fixed), which has no critical point;
        # scaling tau by ||H|| certified such points as local minima.  Genuine critical points
        # refine to the rounding floor (||grad|| ~ 10^-digits), far below this threshold.
        tau_grad = res * max(one, abs(value))
        # convergence: the steps reached the rounding floor, and the last (up to 3) steps above
        # the floor contracted by at least 1/2 each (the Newton phase); a drift towards an
        # infimum at infinity (e.g. steps of constant size) fails this.  Early steps may be
        # large moves along flat directions when the float64 stage ended far out.
        big = [x for x in steps if x > float(floor) * (1 + float(_norm_mp(p)))]
        tail = big[-3:]
        contracting = all(b <= 0.5 * a for a, b in zip(tail, tail[1:]))
        if max_refine == 0:
            converged = True   # certify as given (no refinement requested)
        delta = steps[-1] if steps else 0.0
        if M3 is None:
            # (ignore: numpy's stubs type norm() as floating, a float subclass at run time)
            M3 = float(h_scale)  # type: ignore[assignment]  # fallback scale estimate, documented: dominates only if delta is large
        tau_hess = max(res * max(one, h_scale),
                       mpmath.mpf(M3) * delta + n * mpmath.mpf(10) ** (-digits) * h_scale)
    return SecondOrderRefinement(p=p, value=value, g_norm=g_norm, eigs=eigs, tau_grad=tau_grad,
                                 tau_hess=tau_hess, steps=steps, converged=converged,
                                 contracting=contracting, last_step=s, p_prev_f=p_prev_f,
                                 notes=notes)


def _refine_and_certify(landscape: Landscape, p_float, digits, *, max_refine=30, history=None,
                        t0=None, extra_notes=(), start=None):
    t0 = time.perf_counter() if t0 is None else t0
    pb = landscape.problem
    n = landscape.n_params
    r = refine_second_order(landscape, p_float, digits, max_refine=max_refine,
                            notes=extra_notes)
    notes, p, steps, s, p_prev_f = r.notes, r.p, r.steps, r.last_step, r.p_prev_f
    value, g_norm, lam_min = r.value, r.g_norm, r.lam_min
    tau_grad, tau_hess, delta = r.tau_grad, r.tau_hess, r.delta
    converged, contracting = r.converged, r.contracting
    with mpmath.mp.workdps(digits):
        W_mp, V_mp, _ = landscape.split(p)
        rank, svals, rcut = _rank(W_mp, digits)
        branch = _branch(rank, pb.d_y)
        notes.append(f"rank(W) = {rank} (cutoff {rcut:.2e}; singular values "
                     + ", ".join(f"{x:.3e}" for x in svals) + ")")
        notes.append(f"refinement: {len(steps)} steps, last {delta:.2e}")
        ok_grad = g_norm <= tau_grad
        if ok_grad and converged and contracting:
            kind = "local_min" if lam_min >= -tau_hess else "saddle"
        else:
            kind = "unresolved"
            why = []
            if not ok_grad:
                why.append(f"||grad|| = {mpmath.nstr(g_norm, 3)} > "
                           f"tau_grad = {mpmath.nstr(tau_grad, 3)}")
            if not (converged and contracting):
                why.append("refinement steps did not contract to the rounding floor: "
                           + ", ".join(f"{x:.2e}" for x in steps[-8:]))
            # output scaling (W -> t W scales every h_i by t, h being linear in W) is the ray along
            # which margin losses on separable data decrease to their infimum
            pf_now = p.astype(float)
            w_dir = np.zeros(n)
            w_dir[:landscape.nW] = pf_now[:landscape.nW]
            directions: list[tuple[str, Any]] = [("output scaling W -> t W", w_dir)]
            if steps:
                directions.append(("last refinement step", (p.astype(float) - p_prev_f)
                                   if p_prev_f is not None else s))
            if start is not None:
                directions.append(("p - start", p.astype(float) - start))
            directions.append(("p itself", p.astype(float)))
            ev = _ray_evidence(landscape, p, directions, digits)
            if ev is not None:
                notes.insert(0, "unresolved: infimum not attained (numerical evidence: " + ev
                             + (f"; ||p|| grew {history}" if history else "") + ")")
            else:
                notes.insert(0, "unresolved: refinement did not converge (" + "; ".join(why) + ")")
        point = landscape.unflatten(p.astype(float))
        return CertifiedPoint(
            point=point, value=float(value), grad_norm=float(g_norm),
            min_hess_eig=float(lam_min), tau_grad=float(tau_grad), tau_hess=float(tau_hess),
            digits=digits, kind=kind, rank_W=rank, branch=branch, notes=tuple(notes),
            params_mp=p, singular_values_W=tuple(svals), seconds=time.perf_counter() - t0)


def certify(landscape: Landscape, point, *, digits: int = 50,
            refine: bool = True) -> CertifiedPoint:
    """Certify (and by default first refine at ``digits``) a given point.

    ``point`` is a :class:`ResNetPoint` or a flat parameter vector.  With ``refine=False`` the
    certificate is computed at the point as given (no Newton step), e.g. for exact critical
    points such as W = 0, V = 0.
    """
    if not isinstance(landscape, Landscape):
        raise TypeError(f"expected a Landscape, got {type(landscape).__name__}")
    p = landscape.flatten(point) if isinstance(point, ResNetPoint) else np.asarray(point, float)
    if p.shape != (landscape.n_params,) or not np.all(np.isfinite(p)):
        raise ValueError(f"point must be finite with {landscape.n_params} parameters")
    return _refine_and_certify(landscape, p, _digits(digits), max_refine=30 if refine else 0)


def _digits(digits):
    if not isinstance(digits, (int, np.integer)) or digits < 16:
        raise ValueError(f"digits must be an integer >= 16, got {digits!r}")
    return int(digits)


# --------------------------------------------------------------------------- starts

def _random_start(landscape: Landscape, rng, branch, k):
    pb = landscape.problem
    d_y, d_x = pb.d_y, pb.d_x
    if branch == "rank_deficient":
        # W = A B with inner dimension r < d_y, cycling r over 0..d_y-1 across starts
        r = k % d_y
        W = rng.normal(size=(d_y, r)) @ rng.normal(size=(r, d_x)) if r else np.zeros((d_y, d_x))
    else:
        W = rng.normal(size=(d_y, d_x))
    V = rng.normal(size=(d_x, pb.d_z))
    parts = [W.reshape(-1, order="F"), V.reshape(-1, order="F")]
    if landscape.n_theta:
        parts.append(rng.normal(size=landscape.n_theta))
    return np.concatenate(parts)


def find_local_minima(landscape: Landscape, *, rng: np.random.Generator, starts: int = 8,
                      branch: str | None = None, digits: int = 50, max_iter: int = 200,
                      initial_points: Sequence = (), max_refine: int = 30) -> CertifiedPoints:
    """Run descent + high-precision certification from ``initial_points`` and ``starts``
    random starts.

    ``branch``: None (random Gaussian starts, W full rank almost surely), ``"full_rank"`` (same)
    or ``"rank_deficient"`` (random W of rank r < d_y).  Every result is returned with its
    *observed* branch; when a branch was requested and no certified local minimum landed in it,
    ``result.notes`` says so and how the runs ended.  ``initial_points`` (ResNetPoints or flat
    vectors) are tried first, e.g. a planted point perturbed.
    """
    if not isinstance(landscape, Landscape):
        raise TypeError(f"expected a Landscape, got {type(landscape).__name__}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator (np.random.default_rng(seed))")
    if branch is not None and branch not in BRANCHES:
        raise ValueError(f"branch must be None or one of {BRANCHES}, got {branch!r}")
    if not isinstance(starts, (int, np.integer)) or starts < 0:
        raise ValueError(f"starts must be a non-negative integer, got {starts!r}")
    digits = _digits(digits)
    inits = [landscape.flatten(q) if isinstance(q, ResNetPoint) else np.asarray(q, float)
             for q in initial_points]
    for q in inits:
        if q.shape != (landscape.n_params,) or not np.all(np.isfinite(q)):
            raise ValueError(f"initial points must be finite with {landscape.n_params} parameters")
    from ..pointcache import cached_points

    # computed once per content, shared by claims, mutants and worker processes
    return cached_points(
        "local_min.find_local_minima", ("proofcheck.optimize.local_min",), landscape,
        lambda: _find_local_minima(landscape, rng, starts, branch, digits, max_iter, inits,
                                   max_refine),
        rng=rng, starts=int(starts), branch=branch, digits=digits, max_iter=max_iter,
        initial_points=inits, max_refine=max_refine)


def _find_local_minima(landscape: Landscape, rng: np.random.Generator, starts: int,
                       branch: str | None, digits: int, max_iter: int, inits: list,
                       max_refine: int) -> CertifiedPoints:
    inits = inits + [_random_start(landscape, rng, branch, k) for k in range(starts)]
    out = CertifiedPoints()
    for p0 in inits:
        t0 = time.perf_counter()
        norms = [float(np.linalg.norm(p0))]
        notes = []
        try:
            with np.errstate(over="raise", invalid="raise"):
                # value, gradient and exact Hessian from one pass per trial point
                res = trust_region_newton(lambda q: landscape.derivatives(q, 2), p0,
                                          callback=_norm_recorder(norms),
                                          # float stage is only a starting point for the
                                          # refinement; its gtol (1e-2 * sqrt(eps)) affects
                                          # run time, not the certificate
                                          max_iter=max_iter, gtol=1e-2 * math.sqrt(_EPS))
            p_f = res.x
            notes.append(f"float64 trust-region Newton: {res.nit} iterations, {res.message}")
        except (ArithmeticError, np.linalg.LinAlgError, ValueError) as exc:
            # FloatingPointError, OverflowError (e.g. inside scipy's trust region), ...: this
            # start fails, not the claim
            p_f = None
            notes.append(f"float64 stage failed: {type(exc).__name__}: {exc}")
        if p_f is None or not np.all(np.isfinite(p_f)):
            # the iterates overflowed: report the last finite iterate's growth
            out.append(CertifiedPoint(
                point=landscape.unflatten(p0), value=math.nan, grad_norm=math.nan,
                min_hess_eig=math.nan, tau_grad=math.nan, tau_hess=math.nan, digits=digits,
                kind="unresolved", rank_W=-1, branch="unknown",
                notes=tuple(["unresolved: float64 descent overflowed (||p|| grew to "
                             f"{max(norms):.3g}); possibly infimum not attained"] + notes),
                seconds=time.perf_counter() - t0))
            continue
        history = f"from {norms[0]:.3g} to {norms[-1]:.3g} over {len(norms) - 1} iterations"
        try:
            cp = _refine_and_certify(landscape, p_f, digits, max_refine=max_refine,
                                     history=history, t0=t0, extra_notes=notes, start=p0)
        except (ArithmeticError, np.linalg.LinAlgError) as exc:    # this start fails only
            out.append(CertifiedPoint(
                point=landscape.unflatten(p_f), value=math.nan, grad_norm=math.nan,
                min_hess_eig=math.nan, tau_grad=math.nan, tau_hess=math.nan, digits=digits,
                kind="unresolved", rank_W=-1, branch="unknown",
                notes=tuple(notes + [f"unresolved: refinement failed: {type(exc).__name__}: "
                                     f"{exc}"]), seconds=time.perf_counter() - t0))
            continue
        if branch is not None and cp.branch != branch:
            cp = _with_note(cp, f"requested branch {branch}, ended in {cp.branch} "
                                f"(rank(W) = {cp.rank_W})")
        out.append(cp)

    if branch is not None:
        hits = out.of("local_min", branch)
        if not hits:
            kinds: dict[tuple, int] = {}
            for p in out:
                kinds[(p.kind, p.branch)] = kinds.get((p.kind, p.branch), 0) + 1
            out.notes.append(
                f"no certified local minimum in branch {branch} among {len(out)} runs; outcomes: "
                + ", ".join(f"{k} [{b}]: {n}" for (k, b), n in kinds.items()))
    return out


def _norm_recorder(norms: list[float]):
    """A callback appending ||x|| of every iterate to ``norms``."""
    def record(xk: np.ndarray) -> None:
        norms.append(float(np.linalg.norm(xk)))
    return record


def _with_note(cp: CertifiedPoint, note: str) -> CertifiedPoint:
    from dataclasses import replace
    return replace(cp, notes=cp.notes + (note,))


# --------------------------------------------------------------------------- planted problems

def _dyadic(rng, shape, bits):
    """Gaussian entries rounded to multiples of 2^-bits (so products and sums stay exact)."""
    return np.round(rng.normal(size=shape) * 2.0 ** bits) / 2.0 ** bits


def _fmpq_mat(A):
    import flint
    from fractions import Fraction
    return flint.fmpq_mat([[flint.fmpq(*Fraction(float(x)).as_integer_ratio()) for x in row]
                           for row in np.atleast_2d(A)])


def planted_problem(d_x: int, d_y: int, d_z: int, m: int, rank_W: int, loss, rng,
                    noise: float = 0.0):
    """Data where a point (W0, V0) with rank(W0) = rank_W is a global minimum of the squared loss.

    Y = X W0^T + Z V0^T W0^T + N with N orthogonal to the columns of [X Z].  For the squared loss
    with uniform weights the planted point attains min_R (1/m)||[X Z] R^T - Y||_F^2 =
    (1/m)||N||_F^2, a lower bound of L, so it is a global minimum of L; R0 = [W0, W0 V0] is the
    unique minimiser in R because [X Z] has full column rank (needs m >= d_x + d_z).

    The construction is **exact in float64**, which matters at 50 digits: with Gaussian data the
    rounding of Y moves the exact minimiser of the stored data to a full-rank W (smallest
    singular value ~1e-17), so a "rank-deficient" planted minimum would not be one.  Hence X, Z
    have entries in 2^-3 Z, A, B (W0 = A B) and V0 in 2^-2 Z, so Y's clean part is computed
    without rounding; N = c * N_int with N_int an LLL-reduced integer basis of the integer null
    space of [X Z]^T (python-flint) times small integers, and c a 10-bit dyadic so that
    (1/m)||N||_F^2 = noise^2 to a relative 2^-9.  Rank, full column rank and
    [X Z]^T (Y - X W0^T - Z V0^T W0^T) = 0 are verified in exact rational arithmetic.
    The planted optimum value is objective(problem, point).  Returns (problem, point).

    >>> import numpy as np
    >>> from proofcheck.losses import SquaredLoss
    >>> from proofcheck.models import objective
    >>> pb, w0 = planted_problem(3, 2, 2, 8, 1, SquaredLoss(), np.random.default_rng(0), noise=0.5)
    >>> abs(objective(pb, w0) - 0.25) < 0.25 * 2.0 ** -8
    True
    """
    import flint

    for name, v in (("d_x", d_x), ("d_y", d_y), ("d_z", d_z), ("m", m)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if not isinstance(rank_W, (int, np.integer)) or not 0 <= rank_W <= min(d_y, d_x):
        raise ValueError(f"rank_W must be an integer in [0, min(d_y, d_x)] = [0, {min(d_y, d_x)}], "
                         f"got {rank_W!r}")
    if m < d_x + d_z:
        raise ValueError(f"m = {m} < d_x + d_z = {d_x + d_z}: [X Z] cannot have full column rank")
    if not (isinstance(noise, (int, float)) and math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite non-negative number, got {noise!r}")
    if noise > 0 and m == d_x + d_z:
        raise ValueError("noise > 0 needs m > d_x + d_z (room orthogonal to the columns of [X Z])")
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator")
    for _ in range(100):   # redraw the (probability ~0) degenerate draws of rounded data
        X, Z = _dyadic(rng, (m, d_x), 3), _dyadic(rng, (m, d_z), 3)
        A, B = _dyadic(rng, (d_y, rank_W), 2), _dyadic(rng, (rank_W, d_x), 2)
        W0 = A @ B if rank_W else np.zeros((d_y, d_x))
        V0 = _dyadic(rng, (d_x, d_z), 2)
        XZ = np.hstack([X, Z])
        if (_fmpq_mat(XZ).rank() == d_x + d_z and _fmpq_mat(W0).rank() == rank_W):
            break
    else:  # pragma: no cover - would need a broken rng
        raise RuntimeError("could not draw full-rank planted data")
    Y = X @ W0.T + Z @ V0.T @ W0.T
    if noise > 0:
        null, k = flint.fmpz_mat((XZ.T * 8).astype(np.int64).tolist()).nullspace()
        basis = flint.fmpz_mat([[null[i, j] for i in range(m)] for j in range(k)]).lll()
        N_int = np.array([[int(basis[j, i]) for j in range(k)] for i in range(m)], dtype=float)
        N_int = N_int @ rng.integers(-2, 3, size=(k, d_y)).astype(float)
        while not np.any(N_int):
            N_int = N_int + (np.array(basis.tolist(), dtype=float).T
                             @ rng.integers(-2, 3, size=(k, d_y)))
        c = noise * math.sqrt(m) / np.linalg.norm(N_int)
        e = math.frexp(c)[1]
        # (ignore: numpy's stubs type norm() as floating, a float subclass at run time)
        c = round(c * 2.0 ** (10 - e)) / 2.0 ** (10 - e)  # type: ignore[assignment]
        Y = Y + c * N_int
    # exact check: the residual of the planted point is orthogonal to [X Z]
    Q = _fmpq_mat
    resid = Q(Y) - Q(X) * Q(W0).transpose() - Q(Z) * Q(V0).transpose() * Q(W0).transpose()
    # not covered: the branch below guards the construction
    if any(x != 0 for x in (Q(XZ).transpose() * resid).entries()):  # pragma: no cover
        raise RuntimeError("planted data lost exactness in float64")
    return ResNetProblem(X=X, Y=Y, loss=loss, Z=Z), ResNetPoint(W=W0, V=V0)


def _finder(landscape: Landscape, *, rng: np.random.Generator, starts: int, digits: int,
            branch: str | None = None) -> CertifiedPoints:
    """The evaluator's finder for ResNet landscapes: an instance's branch that is not one of
    :data:`BRANCHES` is not a starting-point recipe here and is ignored."""
    return find_local_minima(landscape, rng=rng, starts=starts, digits=digits,
                             branch=branch if branch in BRANCHES else None)


def _recertify(landscape: Landscape, params: Any, *, digits: int) -> CertifiedPoint:
    return certify(landscape, params, digits=digits)


register_finder(Landscape, _finder, _recertify)
