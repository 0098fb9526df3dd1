r"""Differentiable critical points and local minima of piecewise-linear networks.

Statements such as "every *differentiable* local minimum satisfies L = J" are about points
where the loss is differentiable.  A bias-free network with ReLU / leaky ReLU /
absolute-value units is piecewise polynomial in theta: inside a fixed activation pattern
``Lambda`` it is a polynomial, and the pieces meet where a pre-activation of a kinked unit is 0.

Pipeline (:func:`find_points`):

1. **float64 Levenberg-Marquardt** (:func:`descend`: deterministic, stopped at relative step
   1e-10 and snapped to a dyadic grid, so every process gets the same point) on the residual
   ``vec(Yhat - Y)`` with the Jacobian ``[D, D^(H+1)_1]`` of
   :mod:`proofcheck.networks`, from several random starts (and any given initial points).
2. **refinement at ``digits``** inside the activation pattern of the float64 point
   (:func:`refine`): mixed-precision Newton with Levenberg-Marquardt damping ``mu = ||g||``
   (Yamashita & Fukushima 2001): the gradient in mpmath, the Hessian (complex step, exact for a
   polynomial) in float64, a truncated eigendecomposition for the singular directions (positive
   homogeneity makes ``W^(l) -> c W^(l), W^(l+1) -> W^(l+1)/c`` flat for ReLU-type units).
3. **certificate at ``digits``** (:func:`certify`), which sorts the point into

   ``"local_min"`` / ``"saddle"``
       *differentiable*: every pre-activation of a kinked unit whose input row is not locally
       zero (see :func:`proofcheck.networks.locally_zero_rows`) is away from 0 by more than
       ``kink_tol = floor + 2 L_G delta`` (``delta``: distance to the limit point, bounded by
       the last refinement step since the steps contract; ``L_G``: the largest gradient norm of
       a pre-activation in theta; ``floor = 10^(5-digits) max(1, max|G|)``: rounding).  The
       limit point then has the same strict signs, L is a polynomial on a ball around it, and
       the first/second-order test is a test on L itself:
       ``||grad L|| <= tau_grad = 10^(-digits/2) max(1, L)`` and the smallest Hessian eigenvalue
       (mpmath, complex step at ``digits``) ``>= -tau_hess = -10^(-digits/2) max(1, ||Hess||)``.
       As in :mod:`proofcheck.optimize.local_min`, this certifies a *second-order stationary
       point*; degenerate higher-order saddles can pass.
   ``"near_kink"``
       the margin is positive but not above ``kink_tol``: the point may or may not be
       differentiable at the limit; never used as a local minimum;
   ``"at_kink"``
       some live kinked pre-activation is 0 up to rounding (``<= floor``): L is not
       differentiable there (or this precision cannot tell); never used as a local minimum;
   ``"unresolved"``
       the refinement did not converge, left the pattern, or the gradient test failed.

Points **on a stratum** (some live kinked pre-activation exactly 0): the float certificate above
cannot tell, so :mod:`proofcheck.optimize.strata` decides them *exactly* at a rational point --
the instance's own start when it has exact zero pre-activations (the generators aim there:
data on a unit's hyperplane, samples whose contributions cancel, zero outgoing weights, dead
units, leaky slopes), and the snapped refined point (:func:`proofcheck.optimize.strata.snap`)
when the refinement ends ``at_kink``.  The exact certificate decides whether L is
differentiable there (all adjacent pieces' gradients agree) and classifies the point:
``local_min`` / ``saddle`` / ``degenerate`` / ``not_critical`` when L is differentiable,
``at_kink`` when it is not (``point.stratum.local_min`` says whether it is a certified
minimum), ``unresolved`` with the reason otherwise.  Such points carry ``level="exact"``,
``branch="stratum"``, ``last_step=0``, the paper's ``Lambda`` pattern (slope 0 at a kink) as
``pattern`` and the certificate as ``stratum``.

Only ``local_min`` (and ``saddle`` for critical-point statements) are ever handed to a
conclusion: the checks never treat an uncertified point as a local minimum.

Restricted landscapes (``L|_I``, a coordinate subspace): ``free`` (a boolean mask over theta) keeps
the other coordinates at 0; descent, refinement and certificate use the free coordinates only,
and a kink whose pre-activation is identically 0 within the restricted set (its only nonzero
inputs come through fixed-zero weights) is not counted
(:func:`proofcheck.networks.locally_zero_entries`).

Quantities at a certified point: :func:`value_at_point` (L and ``1/2 ||P_N[[blocks]] y||^2`` at
the point's precision with Wedin-type tolerances), used by the DW claims.

>>> from proofcheck.networks import Network, ABS
>>> net = Network((2, 2, 1), ABS)
>>> X = np.array([[1.0, 0.5], [-0.3, 2.0], [0.7, -1.1]]); Y = np.array([[0.2], [-1.0], [0.4]])
>>> pts = find_points(net, X, Y, rng=np.random.default_rng(0), starts=2, digits=30)
>>> {p.kind for p in pts} <= set(KINDS)
True
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import mpmath
import numpy as np

from .. import networks as nw
from .trust_region import levenberg_marquardt, snap_dyadic

__all__ = ["PiecewisePoint", "PiecewiseLandscape", "PointValue", "KINDS", "certify", "refine",
           "landscape_for", "value_at_point", "jacobian_drift", "certify_exactly",
           "find_points", "descend", "snap_dyadic"]

KINDS = ("local_min", "saddle", "degenerate", "not_critical", "near_kink", "at_kink",
         "unresolved")
_EPS = float(np.finfo(float).eps)


@dataclass(frozen=True, eq=False)
class PiecewisePoint:
    """A point of a piecewise-linear network's landscape with its certificate (module doc)."""

    theta: np.ndarray
    value: float
    kind: str
    digits: int
    kink_margin: float
    kink_tol: float
    kink_floor: float
    grad_norm: float = math.nan
    min_hess_eig: float = math.nan
    tau_grad: float = math.nan
    tau_hess: float = math.nan
    last_step: float = math.nan
    notes: tuple[str, ...] = ()
    theta_mp: np.ndarray | None = field(default=None, repr=False)
    pattern: tuple | None = field(default=None, repr=False)
    branch: str | None = None
    seconds: float = 0.0
    level: str = "mp-second-order"
    stratum: object | None = field(default=None, repr=False)

    @property
    def certified(self) -> bool:
        return self.kind in ("local_min", "saddle")

    @property
    def differentiable(self) -> bool | None:
        """L certified differentiable (``local_min`` / ``saddle``, or the exact stratum
        certificate); False when the exact certificate decided it is not; None: not decided."""
        if self.stratum is not None:
            # (ignore: stratum is a strata.StratumCertificate typed object: strata loads lazily)
            return self.stratum.differentiable  # type: ignore[attr-defined]
        return True if self.kind in ("local_min", "saddle") else None


# --------------------------------------------------------------------------- mp helpers

def _mp(a, digits):
    with mpmath.workdps(digits):
        return np.vectorize(lambda v: mpmath.mpf(v) if not isinstance(v, mpmath.mpf) else +v,
                            otypes=[object])(np.asarray(a))


def _imag(a):
    return np.vectorize(lambda z: z.imag if isinstance(z, (mpmath.mpc, complex)) else 0,
                        otypes=[object])(a)


def _norm(v):
    return mpmath.sqrt(mpmath.fsum(x * x for x in np.ravel(v)))


def _mp_grad(net, theta_mp, Xm, Ym, pattern):
    Ws = net.unflatten(theta_mp)
    return nw.gradient(net, Ws, Xm, Ym, pattern=pattern)


def _free_index(net, free):
    return np.arange(net.d_theta) if free is None else np.flatnonzero(np.asarray(free, bool))


def _mp_hessian(net, theta_mp, Xm, Ym, pattern, digits, free=None):
    """Complex step in mpc: exact up to O(h^2) for the pattern polynomial, h = 10^-digits.
    ``free``: restrict to the free coordinates (a restricted landscape)."""
    idx = _free_index(net, free)
    n = idx.size
    h = mpmath.mpf(10) ** (-digits)
    Hm = mpmath.matrix(n, n)
    Xc = np.vectorize(mpmath.mpc, otypes=[object])(Xm)
    for jj, j in enumerate(idx):
        t = np.vectorize(mpmath.mpc, otypes=[object])(theta_mp)
        t[j] = t[j] + mpmath.mpc(0, h)
        g = _imag(nw.gradient(net, net.unflatten(t), Xc, Ym, pattern=pattern)) / h
        for ii, i in enumerate(idx):
            Hm[ii, jj] = g[i]
    for i in range(n):
        for j in range(i + 1, n):
            s = (Hm[i, j] + Hm[j, i]) / 2
            Hm[i, j] = Hm[j, i] = s
    return Hm


def _pre_activation_gradients(net, theta, X, pattern):
    """``max_{l,i,k} ||d G^(l)_{ik} / d theta||`` in the fixed pattern (complex step)."""
    h = 1e-100
    n = theta.size
    rows = None
    for j in range(n):
        t = theta.astype(complex)
        t[j] += 1j * h
        f = nw.forward(net, net.unflatten(t), X.astype(complex), pattern=pattern)
        col = np.concatenate([np.imag(g).ravel() for g in f.G]) / h
        rows = col[:, None] if rows is None else np.hstack([rows, col[:, None]])
    return float(np.max(np.linalg.norm(rows, axis=1))) if rows.size else 0.0


# --------------------------------------------------------------------------- certificate

def _kink_margin(net, Ws_mp, Xm, digits, free=None):
    """(margin, max|G|, pattern) at mp precision, over live kinked pre-activations (those not
    identically 0 near theta within the free coordinates)."""
    with mpmath.workdps(digits):
        f = nw.forward(net, Ws_mp, Xm)
        fixed = None if free is None else ~np.asarray(free, bool)
        zero = nw.locally_zero_entries(net, Ws_mp, Xm, fixed=fixed, fwd=f)
        margin, scale = mpmath.inf, mpmath.mpf(0)
        for l, g in enumerate(f.G):
            a = np.vectorize(abs, otypes=[object])(g)
            if a.size:
                scale = max(scale, max(a.ravel()))
            sub = a[~zero[l] & ~net._linear[l][None, :]]
            if sub.size:
                margin = min(margin, min(sub.ravel()))
    return margin, scale, f.Lam


def certify(net: nw.Network, X, Y, theta, *, digits: int = 40, last_step=0.0,
            pattern=None, notes=(), t0=None, free=None) -> PiecewisePoint:
    """Classify ``theta`` (float64 or an mpmath object array) as in the module doc.

    ``last_step`` bounds the distance from ``theta`` to the limit point the refinement
    converges to (0 for a point taken as exact).  ``pattern``: the pattern the refinement
    used; a point whose own pattern differs left that piece and is ``"unresolved"``.
    """
    t0 = time.perf_counter() if t0 is None else t0
    X = np.asarray(X, float)
    Y = np.asarray(Y, float).reshape(X.shape[0], net.d_y)
    theta_mp = theta if np.asarray(theta).dtype == object else _mp(theta, digits)
    theta_f = np.array([float(v) for v in theta_mp])
    notes = list(notes)
    with mpmath.workdps(digits):
        Xm, Ym = _mp(X, digits), _mp(Y, digits)
        Ws_mp = net.unflatten(theta_mp)
        margin, scale, own = _kink_margin(net, Ws_mp, Xm, digits, free)
        floor = mpmath.mpf(10) ** (5 - digits) * max(1, scale)
        L_G = _pre_activation_gradients(net, theta_f, X, own)
        kink_tol = floor + 2 * L_G * mpmath.mpf(last_step)
        r = nw.residual(net, Ws_mp, Xm, Ym, pattern=own)
        value = mpmath.fsum(v * v for v in r) / 2
        common = dict(theta=theta_f, value=float(value), digits=digits,
                      kink_margin=float(margin), kink_tol=float(kink_tol),
                      kink_floor=float(floor), last_step=float(last_step), theta_mp=theta_mp,
                      pattern=tuple(own), branch=_branch(net, own))
        if pattern is not None and any(np.any(a != b) for a, b in zip(own, pattern)):
            notes.append("left the activation pattern of the refinement")
            return PiecewisePoint(kind="unresolved", notes=tuple(notes),
                                  seconds=time.perf_counter() - t0, **common)
        if margin <= floor:
            notes.append(f"a live kinked pre-activation is 0 up to rounding ({float(margin):.3g}"
                         f" <= {float(floor):.3g}): not differentiable")
            return PiecewisePoint(kind="at_kink", notes=tuple(notes),
                                  seconds=time.perf_counter() - t0, **common)
        if margin <= kink_tol:
            notes.append(f"kink margin {float(margin):.3g} <= {float(kink_tol):.3g}: "
                         "differentiability not certified")
            return PiecewisePoint(kind="near_kink", notes=tuple(notes),
                                  seconds=time.perf_counter() - t0, **common)
        g = _mp_grad(net, theta_mp, Xm, Ym, own)[_free_index(net, free)]
        gn = _norm(g)
        tau_g = mpmath.mpf(10) ** (-digits / 2) * max(1, value)
        if gn > tau_g:
            notes.append(f"not critical: ||grad|| {float(gn):.3g} > {float(tau_g):.3g}")
            return PiecewisePoint(kind="unresolved", grad_norm=float(gn), tau_grad=float(tau_g),
                                  notes=tuple(notes), seconds=time.perf_counter() - t0,
                                  **common)
        Hm = _mp_hessian(net, theta_mp, Xm, Ym, own, digits, free)
        ev = mpmath.eigsy(Hm, eigvals_only=True)
        lam_min = min(ev)
        norm_H = max(abs(v) for v in ev)
        tau_h = mpmath.mpf(10) ** (-digits / 2) * max(1, norm_H)
        kind = "local_min" if lam_min >= -tau_h else "saddle"
    return PiecewisePoint(kind=kind, grad_norm=float(gn), tau_grad=float(tau_g),
                          min_hess_eig=float(lam_min), tau_hess=float(tau_h),
                          notes=tuple(notes), seconds=time.perf_counter() - t0, **common)


def _branch(net, pattern) -> str:
    """``"dead_unit"`` if some kinked hidden unit has derivative 0 on every sample, ``"all_active"``
    otherwise (a case split the proofs treat differently: dead units make D^(l)_k = 0)."""
    for l, lam in enumerate(pattern):
        cols = np.all(np.asarray(lam) == 0, axis=0) & ~net._linear[l]
        if np.any(cols):
            return "dead_unit"
    return "all_active"


# --------------------------------------------------------------------------- refinement

def refine(net, X, Y, theta, pattern, *, digits=40, max_iter=40, free=None):
    """Mixed-precision damped Newton inside ``pattern`` (module doc, step 2).

    Returns ``(theta_mp, last_step, converged, notes)``; converged means the step reached the
    rounding floor ``10^(3-digits) (1 + ||theta||)`` with the last steps contracting."""
    X = np.asarray(X, float)
    Y = np.asarray(Y, float).reshape(X.shape[0], net.d_y)
    notes = []
    with mpmath.workdps(digits):
        Xm, Ym = _mp(X, digits), _mp(Y, digits)
        th = _mp(theta, digits)
        steps = []
        idx = _free_index(net, free)
        for _ in range(max_iter):
            g = _mp_grad(net, th, Xm, Ym, pattern)[idx]
            gf = np.array([float(v) for v in g])
            tf = np.array([float(v) for v in th])
            Hf = nw.hessian_in_pattern(net, net.unflatten(tf), X, Y, pattern=pattern)
            Hf = Hf[np.ix_(idx, idx)]
            w, V = np.linalg.eigh(Hf)
            keep = np.abs(w) > Hf.shape[0] * _EPS * max(1.0, np.abs(w).max())
            mu = float(_norm(g))
            # damped Newton on the kept eigen-directions; |w| makes it a descent step at saddles
            coef = (V.T @ gf)[keep] / (np.abs(w[keep]) + mu)
            step = np.zeros(net.d_theta)
            step[idx] = -(V[:, keep] @ coef)
            s = float(np.linalg.norm(step))
            steps.append(s)
            th = th + _mp(step, digits)
            floor = 10.0 ** (3 - digits) * (1 + float(np.linalg.norm(tf)))
            if s <= floor:
                return th, s, True, notes
            if not np.isfinite(s) or s > 1e6:
                notes.append(f"refinement diverged (step {s:.3g})")
                return th, s, False, notes
        tail = steps[-4:]
        ok = all(b <= a / 2 for a, b in zip(tail, tail[1:]))
        notes.append(f"refinement stopped after {max_iter} steps (last {steps[-1]:.3g})")
        notes.append("contracting" if ok else "not contracting")
        return th, steps[-1], False, notes


def descend(net, X, Y, theta0, *, max_nfev=3000, free=None):
    """float64 Levenberg-Marquardt (:func:`~proofcheck.optimize.trust_region.levenberg_marquardt`,
    deterministic) on
    ``vec(Yhat - Y)`` from ``theta0``, over the ``free`` coordinates only (the others keep their
    values in ``theta0``); the result is snapped to a dyadic grid (:func:`snap_dyadic`)."""
    X = np.asarray(X, float)
    Y = np.asarray(Y, float).reshape(X.shape[0], net.d_y)
    idx = _free_index(net, free)
    base = np.asarray(theta0, float).copy()

    def embed(z):
        t = base.copy()
        t[idx] = z
        return t

    def fun(z):
        return nw.residual(net, net.unflatten(embed(z)), X, Y)

    def jac(z):
        return nw.jacobian(net, net.unflatten(embed(z)), X)[:, idx]

    z, nfev, reason = levenberg_marquardt(fun, jac, base[idx], max_nfev=max_nfev)
    return embed(snap_dyadic(z)), f"float64 LM: {nfev} evaluations, {reason}"


def find_points(net, X, Y, *, rng, starts=4, digits=40, initial_points=(),
                scale=1.0, free=None) -> list[PiecewisePoint]:
    """Descend from ``initial_points`` and ``starts`` random starts, refine, certify.

    ``free`` (boolean mask over theta): the landscape of L restricted to the affine set where
    the other coordinates are 0 (``L|_I``); starts are projected onto it."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator")
    from ..pointcache import cached_points

    X = np.asarray(X, float)
    Y = np.asarray(Y, float).reshape(X.shape[0], net.d_y)
    initial = [np.asarray(p, float) for p in initial_points]
    # computed once per content, shared by claims, mutants and worker processes
    return cached_points(
        "piecewise.find_points", ("proofcheck.optimize.piecewise",), (net, X, Y),
        lambda: _find_points(net, X, Y, rng, starts, digits, initial, scale, free),
        rng=rng, starts=int(starts), digits=int(digits), initial_points=initial,
        scale=scale, free=None if free is None else np.asarray(free, bool))


def _find_points(net, X, Y, rng, starts, digits, initial_points, scale, free):
    inits = list(initial_points)
    inits += [net.flatten(net.random_weights(rng, scale)) for _ in range(starts)]
    out = []
    for j0, p0 in enumerate(inits):
        t0 = time.perf_counter()
        if p0.shape != (net.d_theta,) or not np.all(np.isfinite(p0)):
            raise ValueError(f"initial points must be finite with {net.d_theta} entries")
        if free is not None:
            p0 = np.where(np.asarray(free, bool), p0, 0.0)
        if free is None and j0 < len(initial_points):
            exact_pt = certify_exactly(net, X, Y, p0, digits=digits,
                                       notes=("the instance's start, exactly",))
            if exact_pt is not None:
                out.append(exact_pt)
        try:
            x, note = descend(net, X, Y, p0, free=free)
        except (ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
            out.append(PiecewisePoint(theta=p0, value=math.nan, kind="unresolved",
                                      digits=digits, kink_margin=math.nan, kink_tol=math.nan,
                                      kink_floor=math.nan,
                                      notes=(f"float64 stage failed: {exc}",)))
            continue
        out.append(certify_after_refinement(net, X, Y, x, digits=digits, notes=(note,), t0=t0,
                                            free=free))
    return out


def certify_after_refinement(net, X, Y, theta, *, digits=40, notes=(), t0=None, free=None):
    """Refine ``theta`` inside its own pattern (if it is away from kinks) and certify."""
    pattern = nw.activation_pattern(net, net.unflatten(np.asarray(theta, float)), X)
    th, s, ok, more = refine(net, X, Y, theta, pattern, digits=digits, free=free)
    notes = tuple(notes) + tuple(more)
    if not ok:
        return certify(net, X, Y, theta, digits=digits, last_step=math.inf, pattern=pattern,
                       notes=notes + ("refinement did not converge",), t0=t0,
                       free=free)._as_unresolved()
    pt = certify(net, X, Y, th, digits=digits, last_step=s, pattern=pattern, notes=notes,
                 t0=t0, free=free)
    if pt.kind == "at_kink" and free is None:
        from .strata import snap
        exact_pt = certify_exactly(net, X, Y, snap(pt.theta), digits=digits,
                                   notes=notes + ("snapped to a rational point from the "
                                                  "refined one; the certificate is about it",))
        if exact_pt is not None and exact_pt.kind != "unresolved":
            return exact_pt
    return pt


def certify_exactly(net, X, Y, theta, *, digits=40, notes=()) -> PiecewisePoint | None:
    """The exact stratum certificate (:func:`proofcheck.optimize.strata.certify_stratum`) of a
    rational point with some live kinked pre-activation exactly 0, as a
    :class:`PiecewisePoint`; None if no such pre-activation is exactly 0 there."""
    from fractions import Fraction

    from .strata import certify_stratum, exact
    t0 = time.perf_counter()
    th = exact(theta)
    Ws = net.unflatten(th)
    Xe = exact(np.asarray(X, float))
    if nw.pre_activation_margin(net, [np.asarray(W, float) for W in Ws],
                                np.asarray(X, float)) != 0.0:
        return None
    c = certify_stratum(net, Xe, exact(np.asarray(Y, float)), th, nlsat_ms=1500,
                        nlsat_boxes=(Fraction(1, 8),), max_pieces=32)
    if c.n_zero == 0:
        return None
    kind = c.kind if c.kind in KINDS else "unresolved"
    with mpmath.workdps(digits):
        theta_mp = np.array([mpmath.mpf(v.numerator) / v.denominator for v in th],
                            dtype=object)
    gn = 0.0 if c.gradient is not None and not any(c.gradient) else math.nan
    # (ignore: certify_stratum sets lambda_pattern and value when n_zero > 0, checked above)
    pattern = tuple(np.asarray(p, float) for p in c.lambda_pattern)  # type: ignore[union-attr]
    return PiecewisePoint(theta=np.array([float(v) for v in th]), value=float(c.value),  # type: ignore[arg-type]
                          kind=kind, digits=digits, kink_margin=0.0, kink_tol=0.0,
                          kink_floor=0.0, grad_norm=gn, last_step=0.0,
                          tau_grad=0.0 if gn == 0.0 else math.nan,
                          tau_hess=0.0 if gn == 0.0 else math.nan,
                          notes=tuple(notes) + (c.describe(),), theta_mp=theta_mp,
                          pattern=pattern, branch="stratum", level=c.level, stratum=c,
                          seconds=time.perf_counter() - t0)


def _as_unresolved(self: PiecewisePoint) -> PiecewisePoint:
    import dataclasses
    if self.kind in ("local_min", "saddle", "near_kink") and self.level != "exact":
        return dataclasses.replace(self, kind="unresolved")
    return self


# (ignore: a method attached after the class, as the helper is defined below it)
PiecewisePoint._as_unresolved = _as_unresolved  # type: ignore[attr-defined]


class PiecewiseLandscape:
    """The loss of one network on one data set, with its own finder and certificate.

    The engine calls ``find_points(rng=..., starts=..., digits=...)`` (duck-typed landscape
    protocol) and uses only the points whose ``kind`` is ``"local_min"`` (or ``"saddle"`` for
    critical-point claims).
    """

    def __init__(self, net, X, Y, *, initial_points=(), scale=1.0, free=None):
        self.net = net
        self.free = None if free is None else np.asarray(free, bool)
        self.X = np.asarray(X, float)
        self.Y = np.asarray(Y, float).reshape(self.X.shape[0], net.d_y)
        self.initial_points = tuple(initial_points)
        self.scale = scale
        self._cache = {}

    @property
    def n_params(self):
        return self.net.d_theta

    def value(self, theta):
        return float(nw.loss(self.net, self.net.unflatten(theta), self.X, self.Y))

    def find_points(self, *, rng, starts=4, digits=40):
        key = (starts, digits, repr(rng.bit_generator.state))
        if key not in self._cache:
            pts = find_points(self.net, self.X, self.Y, rng=rng, starts=starts, digits=digits,
                              initial_points=self.initial_points, scale=self.scale,
                              free=self.free)
            self._cache[key] = (pts, rng.bit_generator.state)
        pts, after = self._cache[key]
        rng.bit_generator.state = after      # a cache hit leaves rng where a run would
        return pts


_LANDSCAPES: dict = {}


def landscape_for(net, X, Y, *, initial_points=(), free=None) -> PiecewiseLandscape:
    """A cached :class:`PiecewiseLandscape`: claims that share instances share the points
    found (the finder is deterministic in the engine's seeded rng)."""
    X = np.asarray(X, float)
    Y = np.asarray(Y, float)
    key = (net.widths, tuple(tuple(a.name for a in layer) for layer in net.activations),
           X.tobytes(), X.shape, Y.tobytes(),
           tuple(np.asarray(p, float).tobytes() for p in initial_points),
           None if free is None else np.asarray(free, bool).tobytes())
    if key not in _LANDSCAPES:
        if len(_LANDSCAPES) > 256:
            _LANDSCAPES.clear()
        _LANDSCAPES[key] = PiecewiseLandscape(net, X, Y, initial_points=initial_points,
                                              free=free)
    return _LANDSCAPES[key]


# --------------------------------------------------------------------------- J at a point

@dataclass(frozen=True)
class PointValue:
    """A quantity at a certified point with the tolerance of comparing it with L."""

    L: object
    value: object
    tol: float
    tol_source: str
    rank: int
    cutoff: float
    drift: float


def jacobian_drift(blocks_of, net, X, point, *, directions=3):
    """Estimate of ``||A(theta_mp) - A(theta*)||_F`` for the matrix ``A = [blocks_of(...)]``:
    ``2 sqrt(d_theta) s max_u ||A(theta + h u) - A(theta)||_F / h`` over ``directions`` random
    unit ``u`` (a difference-quotient estimate of the Lipschitz constant, not a bound; the
    factor ``2 sqrt(d_theta)`` covers unsampled directions), ``s`` = the last refinement step
    (distance to the limit point), ``h = 10^(-digits/3)``."""
    digits = point.digits
    s = point.last_step
    if not np.isfinite(s):
        return math.inf
    with mpmath.workdps(digits):
        Xm = _mp(X, digits)
        base = _flat(blocks_of(net, net.unflatten(point.theta_mp), Xm, point.pattern))
        h = mpmath.mpf(10) ** (-digits // 3)
        rng = np.random.default_rng(0)
        worst = 0.0
        for _ in range(directions):
            u = rng.normal(size=net.d_theta)
            u /= np.linalg.norm(u)
            t = point.theta_mp + _mp(u, digits) * h
            A = _flat(blocks_of(net, net.unflatten(t), Xm, point.pattern))
            worst = max(worst, float(_norm(A - base) / h)) if A.size else worst
    return 2 * math.sqrt(net.d_theta) * worst * s


def _flat(blocks):
    parts = [np.ravel(np.asarray(b, dtype=object)) for b in blocks]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=object)


def _default_blocks(net, Ws, X, pattern):
    return nw.d_block_list(net, Ws, X, pattern=pattern)


def value_at_point(net, X, Y, point, *, blocks_of=None, form="projection", y_of=None):
    """``L`` and ``J`` (or a J-like quantity from other blocks) at a certified point, at its
    precision, with the tolerance of comparing them.

    ``blocks_of(net, Ws, X, pattern)`` gives the blocks (default: the Jacobian blocks ``D_b``);
    ``form`` is ``"projection"`` (``1/2 ||P_N[[blocks]] y||^2``) or ``"gram_schmidt"``;
    ``y_of(net, Ws, X, Y, pattern)`` replaces ``vec Y`` (default).

    Rank cutoff (absolute): ``4 drift + 10^(5-digits) s_max``: a singular value of ``A`` at the
    limit point differs from the one computed here by at most ``drift`` (Weyl), see
    :func:`jacobian_drift`.  Tolerance: ``||y||^2 2 drift / sigma_r`` (Wedin: the projector
    moves by at most ``2 ||dA|| / sigma_r``) ``+ 16 n 10^(-digits) ||y||^2`` (rounding)
    ``+ ||grad L|| s`` (L at the computed point vs the limit).
    """
    from .strata import is_exact_point
    if is_exact_point(point):       # an exact stratum point: L and J exactly, tolerance 0
        return exact_value_at_point(net, X, Y, point, blocks_of=blocks_of, form=form,
                                    y_of=y_of)
    blocks_of = blocks_of or _default_blocks
    digits = point.digits
    X = np.asarray(X, float)
    Y = np.asarray(Y, float).reshape(X.shape[0], net.d_y)
    drift = jacobian_drift(blocks_of, net, X, point)
    with mpmath.workdps(digits):
        Xm, Ym = _mp(X, digits), _mp(Y, digits)
        Ws = net.unflatten(point.theta_mp)
        blocks = blocks_of(net, Ws, Xm, point.pattern)
        y = nw.vec(Ym) if y_of is None else y_of(net, Ws, Xm, Ym, point.pattern)
        A = np.concatenate(blocks, axis=1) if blocks else \
            np.zeros((X.shape[0] * net.d_y, 0), dtype=object)
        svd = nw._mp_svd(A, digits)
        s_all = svd[1]
        s_max = max(s_all) if s_all else mpmath.mpf(0)
        cutoff = 4 * mpmath.mpf(drift) + mpmath.mpf(10) ** (5 - digits) * max(1, s_max)
        J, rank, s_r, _ = nw.J_projection_mp(A, y, cutoff, digits, svd=svd)
        if form == "gram_schmidt":
            J, _ = nw.J_gram_schmidt_mp(blocks, y, cutoff, digits)
        y2 = float(mpmath.fsum(v * v for v in y))
        n = A.shape[0] * max(1, A.shape[1])
        tol = 16 * n * 10.0 ** (-digits) * max(1.0, y2)
        if s_r is not None:
            tol += y2 * 2 * drift / float(s_r)
        tol += (point.grad_norm if np.isfinite(point.grad_norm) else 0.0) * point.last_step
        r = nw.residual(net, Ws, Xm, Ym, pattern=point.pattern)
        L = mpmath.fsum(v * v for v in r) / 2
    src = (f"certified point at {digits} digits: Wedin ||y||^2 2 drift / sigma_r "
           f"(drift {drift:.2g}, sigma_r {float(s_r) if s_r is not None else float('nan'):.3g})"
           f" + rounding 16 n 10^-{digits} ||y||^2; rank cutoff {float(cutoff):.2g}")
    return PointValue(L, J, tol, src, rank, float(cutoff), drift)


def exact_value_at_point(net, X, Y, point, *, blocks_of=None, form="projection", y_of=None):
    """:func:`proofcheck.optimize.piecewise.value_at_point` at an :func:`exact_point`, in exact
    rational arithmetic (python-flint ``fmpq``): ``L`` and ``J`` are exact, the tolerance is 0
    and ranks are exact.  Raises :class:`~proofcheck.exact_backends.NotExact` when a block
    formula leaves the rationals."""
    from ..exact_backends import ExactBackend, _exact_rank
    from .strata import _proj, _rational
    E = ExactBackend()
    blocks_of = blocks_of or _default_blocks
    X = np.asarray(X, float)
    Xe = E.asarray(X)
    Ye = E.asarray(np.asarray(Y, float).reshape(X.shape[0], net.d_y))
    Ws = net.unflatten(point.theta_mp)
    blocks = [E.asarray(np.asarray(b, dtype=object)) for b in
              blocks_of(net, Ws, Xe, point.pattern)]
    y = E.asarray(nw.vec(Ye) if y_of is None else y_of(net, Ws, Xe, Ye, point.pattern))
    rows = X.shape[0] * net.d_y
    A = np.concatenate(blocks, axis=1) if blocks else np.zeros((rows, 0), dtype=object)
    y2 = sum(v * v for v in y)
    if form == "gram_schmidt":      # N_b = P_N[D_1..D_{b-1}], sum of ||P[N_b D_b] y||^2
        total, cols = 0, 0
        for Bk in blocks:
            prev = A[:, :cols]
            Nb = Bk - _proj(prev, Bk) if cols else Bk
            total = total + sum(v * v for v in _proj(Nb, y))
            cols += Bk.shape[1]
        J = y2 / 2 - total / 2
    else:
        r = y - _proj(A, y)
        J = sum(v * v for v in r) / 2
    res = E.asarray(nw.residual(net, Ws, Xe, Ye, pattern=point.pattern))
    L = sum(v * v for v in res) / 2
    rank = _exact_rank(A)
    return PointValue(_rational(L), _rational(J), 0.0,
                      "exact rational arithmetic (python-flint fmpq) at the exact point: "
                      "tolerance 0, ranks exact", rank, 0.0, 0.0)
