"""Scalar matrix factorisation: L(u, v) = mean_i (u v x_i - y_i)^2, a model not in the catalogue.

The model predicts y from x through a product of two scalar weights (a two-layer linear network
of width one). Its critical points are the curve u v = b / a (global minima) and the origin (a
saddle when sum x_i y_i != 0). Two statements about it, from "my notes":

- Proposition 1 (true): every local minimum of L is a global minimum;
- Conjecture 1 (false): every critical point of L is a global minimum (the origin is a saddle).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
from hypothesis import strategies as st
from scipy.optimize import minimize, root

from proofcheck import Claim, Hypothesis, Instance, Margin, Mutant, MutantKind, PointKind, Source
from proofcheck.backends import get_backend
from proofcheck.evaluate import register_finder

# ---------------------------------------------------------------------------------------------
# the landscape: parameters theta = (u, v); value, gradient and Hessian against the backend B


class FactorisationLandscape:
    """L(u, v) = mean_i (u v x_i - y_i)^2 for data x, y (one number per sample)."""

    n_params = 2

    def __init__(self, x: Any, y: Any) -> None:
        self.x = np.asarray(x, dtype=float)
        self.y = np.asarray(y, dtype=float)

    def moments(self, B: Any) -> tuple[Any, Any, Any]:
        """a = mean x^2, b = mean x y, c = mean y^2, in B's arithmetic."""
        x, y, m = B.asarray(self.x), B.asarray(self.y), len(self.x)
        return B.sum(x * x) / m, B.sum(x * y) / m, B.sum(y * y) / m

    def value(self, theta: Any, B: Any) -> Any:
        u, v = B.asarray(theta)
        r = u * v * B.asarray(self.x) - B.asarray(self.y)
        return B.sum(r * r) / len(self.x)

    def gradient(self, theta: Any, B: Any) -> Any:
        u, v = B.asarray(theta)
        x = B.asarray(self.x)
        s = 2 * B.sum((u * v * x - B.asarray(self.y)) * x) / len(self.x)   # dL/d(uv)
        return B.asarray([s * v, s * u])

    def hessian(self, theta: Any, B: Any) -> Any:
        u, v = B.asarray(theta)
        a, b, _ = self.moments(B)
        s = 2 * (a * u * v - b)                 # dL/d(uv)
        q = 2 * a                               # d^2 L / d(uv)^2
        return B.asarray([[q * v * v, q * u * v + s], [q * u * v + s, q * u * u]])

    def global_minimum(self, B: Any) -> Any:
        """min L = c - b^2 / a (for a > 0): the best fit y ~ w x with w = b / a."""
        a, b, c = self.moments(B)
        return c - b * b / a


# ---------------------------------------------------------------------------------------------
# the point finder: Newton on grad L = 0 in float64, refined and classified at `digits`


@dataclass(frozen=True, eq=False)
class FactorisationPoint:
    """A point (u, v) with its second-order certificate at ``digits`` digits."""

    theta: np.ndarray           # float64 parameters (what reports and distinct counts use)
    theta_mp: np.ndarray        # the refined parameters at `digits` (what conclusions use)
    kind: str                   # local_min, saddle, local_max, degenerate or unresolved
    digits: int
    value: float
    grad_norm: float
    min_hess_eig: float
    resolution: float           # 10^(-digits/2): how close to a critical point it is known
    level: str = "second-order"


NUMPY = get_backend("numpy")


def certify(landscape: FactorisationLandscape, theta: Any, *, digits: int,
            refine: bool = True) -> FactorisationPoint:
    """Refine ``theta`` at ``digits`` (Newton steps with the Hessian's pseudo-inverse, which
    converge to critical points that are not isolated) and classify it by the Hessian's
    extreme eigenvalues against the resolution tau = 10^(-digits/2) (second-order necessary
    conditions, not a proof)."""
    B = get_backend("mpmath", digits=digits)
    with mpmath.workdps(digits):        # mpf operators compute at the global precision
        t = B.asarray(np.asarray(theta, dtype=float))
        floor = mpmath.mpf(10) ** (3 - digits)
        cut = mpmath.mpf(10) ** (-mpmath.mpf(digits) / 2)
        converged = not refine
        for _ in range(60 if refine else 0):
            g = mpmath.matrix(list(landscape.gradient(t, B)))
            if mpmath.norm(g) == 0:
                converged = True
                break
            lam, Q = mpmath.eigsy(mpmath.matrix(landscape.hessian(t, B).tolist()))
            big = max(abs(x) for x in lam)
            step = mpmath.matrix(2, 1)
            for i in range(2):          # minimum-norm Newton step on the resolved directions
                if abs(lam[i]) > cut * big:
                    q = Q[:, i]
                    step -= (q.T * g)[0] / lam[i] * q
            if big == 0 or mpmath.norm(step) == 0:
                break                   # no curvature to step with: left unresolved
            t = t + B.asarray([step[0], step[1]])
            if mpmath.norm(step) <= floor * (1 + mpmath.norm(mpmath.matrix(list(t)))):
                converged = True
                break
        value = landscape.value(t, B)
        g_norm = mpmath.norm(mpmath.matrix(list(landscape.gradient(t, B))))
        eigs = mpmath.eigsy(mpmath.matrix(landscape.hessian(t, B).tolist()), eigvals_only=True)
        lo, hi = min(eigs), max(eigs)
        res = mpmath.mpf(10) ** (-mpmath.mpf(digits) / 2)
        tau_grad = res * max(1, abs(value))
        tau_hess = res * max(1, abs(lo), abs(hi))
        if not (converged and g_norm <= tau_grad):
            kind = "unresolved"
        elif lo < -tau_hess and hi > tau_hess:
            kind = "saddle"
        elif lo >= -tau_hess and hi > tau_hess:
            kind = "local_min"
        elif hi <= tau_hess and lo < -tau_hess:
            kind = "local_max"
        else:
            kind = "degenerate"
        return FactorisationPoint(B.to_float(t), t, kind, digits, float(value), float(g_norm),
                                  float(lo), float(res))


def find_points(landscape: FactorisationLandscape, *, rng: np.random.Generator, starts: int,
                digits: int) -> list[FactorisationPoint]:
    """Critical points of every kind. Even starts: Newton's method on grad L = 0, which
    converges to the critical point nearest its start whatever its kind (so it finds saddles);
    odd starts: trust-region descent, which finds minima. Every end point is then certified."""
    out = []
    for k in range(starts):
        start = rng.standard_normal(2)
        if k % 2 == 0:
            end = root(lambda t: landscape.gradient(t, NUMPY), 0.1 * start, method="lm",
                       jac=lambda t: landscape.hessian(t, NUMPY)).x
        else:
            end = minimize(lambda t: landscape.value(t, NUMPY), 2.0 * start, method="trust-exact",
                           jac=lambda t: landscape.gradient(t, NUMPY),
                           hess=lambda t: landscape.hessian(t, NUMPY)).x
        out.append(certify(landscape, end, digits=digits))
    return out


register_finder(FactorisationLandscape, find_points,
                certify=lambda land, params, *, digits: certify(land, params, digits=digits))


# ---------------------------------------------------------------------------------------------
# the claims

NONZERO = Hypothesis("x_nonzero", "some x_i != 0", lambda inst: bool(np.any(inst.x != 0)))


def instances(assumed: Any) -> Any:
    """Data sets of 2..5 samples with entries on a grid of quarters in [-2, 2]."""
    entries = st.integers(-8, 8).map(lambda k: k / 4)
    data = st.integers(2, 5).flatmap(lambda m: st.tuples(
        st.lists(entries, min_size=m, max_size=m), st.lists(entries, min_size=m, max_size=m)))
    pairs = data.map(lambda d: Instance(x=np.array(d[0]), y=np.array(d[1])))
    if assumed["x_nonzero"]:
        return pairs.filter(lambda inst: np.any(inst.x != 0))
    return pairs.map(lambda inst: Instance(x=0 * inst.x, y=inst.y))


def landscape(inst: Instance) -> FactorisationLandscape:
    return FactorisationLandscape(inst.x, inst.y)


def is_global_minimum(inst: Instance, point: FactorisationPoint, B: Any) -> Margin:
    """L(u, v) <= min L, up to the point's resolution and the rounding of min L = c - b^2 / a
    (which cancels, so its rounding is taken at the scale of c = mean y^2)."""
    land = landscape(inst)
    _, _, c = land.moments(B)
    L = land.value(point.theta_mp, B)
    tol = B.tolerance(c, n_ops=4 * len(inst.x)) + point.resolution * (1 + abs(L))
    return Margin.at_most(L, land.global_minimum(B), tol=tol,
                          tol_source=f"certificate resolution at {point.digits} digits + "
                                     "backend rounding at the scale of mean y^2")


def fits_exactly(inst: Instance, point: FactorisationPoint, B: Any) -> Margin:
    land = landscape(inst)
    _, _, c = land.moments(B)
    return Margin.equal(land.value(point.theta_mp, B), 0, B, n_ops=4 * len(inst.x), scale=c)


def balanced(inst: Instance, point: FactorisationPoint, B: Any) -> Margin:
    u, v = B.asarray(point.theta_mp)
    return Margin.equal(B.abs(u), B.abs(v), B)


local_minima_are_global = Claim(
    id="mynotes.proposition1",
    title="every local minimum of the scalar factorisation is global",
    source=Source("mynotes", "2", "Proposition 1"),
    statement="If some x_i != 0, every local minimum of L(u, v) = mean (u v x_i - y_i)^2 "
              "is a global minimum",
    hypotheses=(NONZERO,),
    conclusion=is_global_minimum,
    instances=instances,
    point_kind=PointKind.LOCAL_MIN,
    landscape=landscape,
    mutants=(
        Mutant.conclusion("fits_exactly", MutantKind.DROPPED_TERM,
                          "every local minimum fits the data: L = 0", fits_exactly),
        Mutant.conclusion("balanced", MutantKind.PERTURBED_CONSTANT,
                          "every local minimum is balanced: |u| = |v|", balanced),
    ),
)

critical_points_are_global = Claim(
    id="mynotes.conjecture1",
    title="every critical point of the scalar factorisation is a global minimum",
    source=Source("mynotes", "2", "Conjecture 1"),
    statement="If some x_i != 0, every critical point of L(u, v) = mean (u v x_i - y_i)^2 "
              "is a global minimum",
    hypotheses=(NONZERO,),
    conclusion=is_global_minimum,
    instances=instances,
    point_kind=PointKind.CRITICAL,
    landscape=landscape,
)
