"""Trust-region Newton in float64 with the subproblem solved exactly by an eigendecomposition.

The float64 stage of the point finders (:mod:`proofcheck.optimize.local_min`,
:mod:`proofcheck.optimize.critical`) only has to bring a start into the basin of the
high-precision refinement; it never decides a certificate.  It is the classical trust-region
iteration (Nocedal & Wright, *Numerical Optimization*, 2nd ed., Algorithm 4.1, with the update
constants of ``scipy.optimize.minimize(method="trust-exact")``: initial radius 1, maximal radius
1000, acceptance ratio 0.15), but

- value, gradient and Hessian come from **one** call per trial point (``derivatives(x)``), where
  scipy evaluates them separately;
- the subproblem min g.s + s.H.s / 2 over ||s|| <= radius is solved with one symmetric
  eigendecomposition H = Q diag(lam) Q^T (the models here have at most a few dozen parameters):
  the secular equation ||s(sigma)|| = radius, s(sigma) = -Q (Q^T g / (lam + sigma)), by Newton's
  method on 1/||s(sigma)|| - 1/radius (concave and increasing in sigma, so the iterates approach
  the root monotonically from the left; Nocedal & Wright §4.3), and the "hard case" (g orthogonal
  to the eigenspace of a negative lam_min) by a step along that eigenvector.  scipy's
  ``trust-exact`` solves the same subproblem with Cholesky factorisations and a Python-level
  singular value estimator, which dominated the finders' run time.

>>> import numpy as np
>>> f = lambda x: (float((x[0] - 1) ** 2 + 10 * (x[1] + 2) ** 2),
...                np.array([2 * (x[0] - 1), 20 * (x[1] + 2)]), np.diag([2.0, 20.0]))
>>> res = trust_region_newton(f, np.zeros(2), gtol=1e-10)
>>> np.round(res.x, 12).tolist(), res.status
([1.0, -2.0], 0)
>>> g = lambda x: (float(x[0] ** 2 - x[1] ** 2 + x[1] ** 4),     # a strict saddle at 0
...                np.array([2 * x[0], -2 * x[1] + 4 * x[1] ** 3]),
...                np.diag([2.0, -2 + 12 * x[1] ** 2]))
>>> res = trust_region_newton(g, np.zeros(2), gtol=1e-10)      # starts AT the saddle: g = 0
>>> res.nit
0
>>> res = trust_region_newton(g, np.array([1.0, 0.0]), gtol=1e-10)   # hard case at x2 = 0
>>> bool(abs(abs(res.x[1]) - 2 ** -0.5) < 1e-8), res.status
(True, 0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Callable

import numpy as np

__all__ = ["TrustRegionResult", "trust_region_newton", "trust_region_step",
           "levenberg_marquardt", "snap_dyadic"]

_EPS = np.finfo(float).eps

MESSAGES = (
    "Optimization terminated successfully.",
    "Maximum number of iterations has been exceeded.",
    "A bad approximation caused failure to predict improvement.",
    "A linalg error occurred, such as a non-psd Hessian.",
)


@dataclass
class TrustRegionResult:
    """The end of a run: ``status`` 0 (||g|| < gtol), 1 (``max_iter`` iterations), 2 (the model
    predicts no decrease: the rounding floor of L is reached) or 3 (eigh failed)."""

    x: np.ndarray
    fun: float
    jac: np.ndarray
    nit: int
    nfev: int
    status: int

    @property
    def message(self) -> str:
        return MESSAGES[self.status]

    @property
    def success(self) -> bool:
        return self.status == 0


def trust_region_step(lam: np.ndarray, Q: np.ndarray, g: np.ndarray,
                      radius: float) -> tuple[np.ndarray, bool]:
    """The exact minimiser of g.s + s.H.s / 2 over ||s|| <= radius for H = Q diag(lam) Q^T
    (``lam`` ascending, as ``numpy.linalg.eigh`` returns it), and whether it lies on the
    boundary.

    >>> lam, Q = np.array([-1.0, 2.0]), np.eye(2)
    >>> s, edge = trust_region_step(lam, Q, np.array([0.0, 1.0]), 1.0)   # hard case
    >>> np.round(s, 12).tolist(), edge
    ([0.942809041582, -0.333333333333], True)
    """
    gam = Q.T @ g
    scale = max(float(np.abs(lam).max(initial=0.0)), np.finfo(float).tiny)
    lmin = float(lam[0])
    gnorm = float(np.linalg.norm(gam))
    if lmin > 0:
        s = -(gam / lam)
        if float(np.linalg.norm(s)) <= radius:
            return Q @ s, False
        sigma = 0.0
    else:
        # eigenvalues within rounding of lam_min form its cluster; g's component there decides
        # between the easy case (a pole of ||s(sigma)|| at sigma = -lam_min) and the hard case
        cluster = lam <= lmin + 8 * len(lam) * _EPS * scale
        gc = float(np.linalg.norm(gam[cluster]))
        if gc <= 8 * len(lam) * _EPS * max(gnorm, np.finfo(float).tiny):
            rest = ~cluster
            s = np.zeros_like(gam)
            s[rest] = -gam[rest] / (lam[rest] - lmin)
            ns = float(np.linalg.norm(s))
            if ns <= radius:
                if lmin == 0 and ns < radius:
                    return Q @ s, False         # singular PSD H, g in its range: interior
                j = int(np.argmin(lam))
                s[j] += math.sqrt(max(radius * radius - ns * ns, 0.0))
                return Q @ s, True
            sigma = -lmin
        else:
            sigma = -lmin + 0.5 * gc / radius    # ||s(sigma)|| >= gc / (lam_c + sigma) = 2 r
    # Newton on psi(sigma) = 1/||s(sigma)|| - 1/radius from the left of the root
    for _ in range(100):
        d = lam + sigma
        with np.errstate(divide="ignore", invalid="ignore"):
            w = gam / d
        phi = float(np.linalg.norm(w))
        if not math.isfinite(phi) or phi == 0:
            break
        if abs(phi - radius) <= 1e-12 * radius:
            break
        dphi3 = float(np.sum(w * w / d))           # sum gam^2 / d^3
        if not (dphi3 > 0):
            break
        step = (1 / phi - 1 / radius) * phi ** 3 / dphi3
        if step >= 0 or not math.isfinite(step):  # at or right of the root
            break
        sigma -= step
    d = lam + sigma
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(d > 0, -gam / d, 0.0)
    ns = float(np.linalg.norm(s))
    if ns > radius and ns > 0:                      # never leave the region
        s *= radius / ns
    return Q @ s, True


def trust_region_newton(derivatives: Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]],
                        x0: np.ndarray, *, gtol: float, max_iter: int = 200,
                        callback: Callable[[np.ndarray], None] | None = None,
                        initial_radius: float = 1.0, max_radius: float = 1000.0,
                        eta: float = 0.15) -> TrustRegionResult:
    """Minimise f from ``x0``; ``derivatives(x)`` returns (f, grad f, Hess f) in float64.

    Stops when ||grad f|| < ``gtol`` (status 0), after ``max_iter`` iterations (1), when the
    quadratic model predicts no decrease or the step no longer moves x (2: the rounding floor),
    or when the Hessian's eigendecomposition fails (3).  Below the rounding level of f
    (predicted decrease <= 64 eps |f|) a step is judged by the gradient norm instead of the
    values, which rounding has made meaningless.  ``callback(x)`` after every iteration
    (accepted or not), as scipy's.  Floating-point exceptions raised by ``derivatives``
    propagate to the caller."""
    x = np.array(x0, dtype=float)
    f, g, H = derivatives(x)
    nfev, k, status = 1, 0, 0
    radius = float(initial_radius)
    while float(np.linalg.norm(g)) >= gtol:
        try:
            lam, Q = np.linalg.eigh(H)
        except np.linalg.LinAlgError:
            status = 3
            break
        if not np.all(np.isfinite(lam)):
            status = 3
            break
        s, on_boundary = trust_region_step(lam, Q, g, radius)
        predicted = -(float(g @ s) + 0.5 * float(s @ (H @ s)))
        if not predicted > 0:
            status = 2
            break
        x1 = x + s
        if float(np.linalg.norm(s)) <= _EPS * (1 + float(np.linalg.norm(x))):
            status = 2      # the step no longer moves x in float64
            break
        f1, g1, H1 = derivatives(x1)
        nfev += 1
        if predicted <= 64 * _EPS * abs(f) and f1 <= f + 64 * _EPS * abs(f):
            # below the rounding of f the values cannot judge the model: a step that does
            # not raise f beyond rounding and shrinks the gradient is accepted
            rho = 1.0 if float(np.linalg.norm(g1)) < float(np.linalg.norm(g)) else 0.0
        else:
            rho = (f - f1) / predicted
        if rho < 0.25:
            radius *= 0.25
        elif rho > 0.75 and on_boundary:
            radius = min(2 * radius, max_radius)
        if rho > eta:
            x, f, g, H = x1, f1, g1, H1
        k += 1
        if callback is not None:
            callback(x)
        if float(np.linalg.norm(g)) < gtol:
            break
        if k >= max_iter:
            status = 1
            break
    return TrustRegionResult(x=x, fun=float(f), jac=g, nit=k, nfev=nfev, status=status)


def snap_dyadic(theta, bits: int = 40) -> np.ndarray:
    """Round ``theta`` to the dyadic grid ``2^(e - bits)``, ``2^e > max|theta_j|``: a float
    point that differs from another in its last bits (rounding noise) lands on the same grid
    point, so what follows it (refinement, certificate) sees the same input.

    >>> snap_dyadic(np.array([1.0 + 2.0**-50, -0.75])).tolist()
    [1.0, -0.75]
    >>> snap_dyadic(np.zeros(2)).tolist()
    [0.0, 0.0]
    """
    theta = np.asarray(theta, float)
    top = float(np.max(np.abs(theta))) if theta.size else 0.0
    if top == 0.0 or not math.isfinite(top):
        return theta.copy()
    e = math.frexp(top)[1]
    return np.ldexp(np.round(np.ldexp(theta, bits - e)), e - bits)


def levenberg_marquardt(fun, jac, z0, *, max_nfev, xtol=1e-10, gtol=1e-13):
    """Levenberg-Marquardt with Nielsen's damping update (Madsen, Nielsen & Tingleff 2004,
    Alg. 3.16) on ``1/2 ||fun(z)||^2``; returns ``(z, nfev, reason)``.

    Deterministic: each step is a function of ``fun``/``jac`` values only (one symmetric
    eigendecomposition of ``J^T J`` per Jacobian, the damped solve on it), so the same start
    gives the same point in every process.  MINPACK's ``lmder`` (scipy's ``method="lm"``) does
    not: on rank-deficient Jacobians (flat directions of positively homogeneous units) its
    first step from bit-identical ``(x0, r0, J0)`` differed between processes.
    Stops when the step is below ``xtol (xtol + ||z||)`` (relative 1e-10: the float stage
    only has to land in the basin; the refinement at ``digits`` does the rest), when the
    gradient is below ``gtol max(1, ||r||)`` or after ``max_nfev`` residual evaluations."""
    z = np.asarray(z0, float).copy()
    r = fun(z)
    nfev = 1
    if not np.all(np.isfinite(r)):
        raise FloatingPointError("non-finite residual at the start")
    F = 0.5 * float(np.sum(r * r))
    J = jac(z)
    A = J.T @ J
    g = J.T @ r
    w, V = np.linalg.eigh(A)
    mu = 1e-3 * max(float(np.max(np.diag(A))) if A.size else 0.0, 1e-12)
    nu = 2.0
    while nfev < max_nfev:
        if float(np.max(np.abs(g), initial=0.0)) <= gtol * max(1.0, math.sqrt(2 * F)):
            return z, nfev, "gradient small"
        h = -(V @ ((V.T @ g) / (np.maximum(w, 0.0) + mu)))
        hn = float(np.sqrt(np.sum(h * h)))
        zn = float(np.sqrt(np.sum(z * z)))
        if hn <= xtol * (xtol + zn):
            return z, nfev, "step small"
        z_new = z + h
        r_new = fun(z_new)
        nfev += 1
        F_new = 0.5 * float(np.sum(r_new * r_new)) if np.all(np.isfinite(r_new)) else math.inf
        pred = 0.5 * float(np.sum(h * (mu * h - g)))
        rho = (F - F_new) / pred if pred > 0 else -1.0
        if rho > 0:
            z, r, F = z_new, r_new, F_new
            J = jac(z)
            A = J.T @ J
            g = J.T @ r
            w, V = np.linalg.eigh(A)
            mu *= max(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3)
            nu = 2.0
        else:
            mu *= nu
            nu *= 2.0
            if not math.isfinite(mu) or mu > 1e300:
                return z, nfev, "damping overflow"
    return z, nfev, "evaluation limit"
