"""Theorem 3's quantities at an ε-SOPSP and the instances its claim draws (the paper's proof with
δ = sqrt(ε)); the second-order machinery itself is the engine's (:mod:`proofcheck.second_order`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from proofcheck.losses import UNIT_ROUNDOFF
from proofcheck.scalar_resnet import ScalarResNet, critical_V, scalar_instances
from proofcheck.second_order import (Enclosure, certify_sopsp, find_sopsp, hessian_rounding_bound,
                                     lambda_min_enclosure, sopsp_level)

__all__ = ["Theorem3Terms", "theorem3_instances", "theorem3_terms"]

u = UNIT_ROUNDOFF


@dataclass(frozen=True)
class Theorem3Terms:
    """F at an ε-SOPSP of F on M = {||w|| < b, ||V|| < b}, F_lin(w*) (||w*|| <= r), the
    Lipschitz bounds and ε, and the two explicit bounds of the proof with δ = sqrt(ε)."""

    F: float
    F_lin: float
    eps: float
    mu0: float
    mu1: float
    mu2: float
    b: float
    r: float
    grad_norm: float
    lam: Enclosure
    tol: float
    tol_source: str

    def bound(self, *, sqrt_2b: bool = True, first: bool = True, second: bool = True,
              delta_power: float = 0.5, r_factor: float = 1.0) -> float:
        """max{μ0 δ + r(ε + μ1 δ + c sqrt(μ1 sqrt(ε)(sqrt μ2 + μ2))), sqrt(2b²ε² + r²(2ε² + b²ε))}
        with δ = ε^(1/2) and c = sqrt(2b) as printed (``sqrt_2b``) or sqrt(2) b as derived from
        the general-δ bound; the flags drop terms for mutants."""
        e, b, r = self.eps, self.b, self.r * r_factor
        d = e ** delta_power
        c = math.sqrt(2 * b) if sqrt_2b else math.sqrt(2) * b
        t1 = self.mu0 * d + r * (e + self.mu1 * d + c * math.sqrt(
            self.mu1 * math.sqrt(e) * (math.sqrt(self.mu2) + self.mu2)))
        t2 = math.sqrt(2 * b * b * e * e + r * r * (2 * e * e + b * b * e))
        return max(t1 if first else 0.0, t2 if second else 0.0)


def theorem3_terms(inst) -> Theorem3Terms:
    """Evaluate Theorem 3's quantities at an instance with fields X, y, Fx, loss, w, V, w_star,
    b, r, eps (one instance, float64). ε must be >= the point's SOPSP level (the instance's
    hypothesis); the tolerance is the rounding of F and F_lin at their scale."""
    net = ScalarResNet(inst.X, inst.y, inst.Fx, inst.loss)
    w, V = np.asarray(inst.w, float), np.asarray(inst.V, float)
    lb = net.lipschitz_bounds(float(inst.b))
    cert = certify_sopsp(net, w, V, float(inst.eps), lb.mu2)
    F, F_lin = float(net.value(w, V)), float(net.linear_value(np.asarray(inst.w_star, float)))
    k = net.m * (net.n_params + 4) + 8
    tol = 16 * k * u * (abs(F) + abs(F_lin))
    return Theorem3Terms(F=F, F_lin=F_lin, eps=float(inst.eps), mu0=lb.mu0, mu1=lb.mu1,
                         mu2=lb.mu2, b=lb.b, r=float(inst.r), grad_norm=cert.grad_norm,
                         lam=cert.lam, tol=tol,
                         tol_source=f"16 (m (n + 4) + 8) u (|F| + |F_lin|) (Higham §3.1); "
                                    f"the bound's own rounding is relative {k}u, negligible")


def theorem3_instances(*, losses=("squared", "logistic", "smoothed_hinge3"), sopsp: bool = True):
    """Points of F in M = {||w|| < b, ||V|| < b} with ε their SOPSP level (times 1 to 1.5), so
    every point is an ε-SOPSP (Definition 1). A third of the points come from
    :func:`find_sopsp` (a second-order method stopped at the first certified 0.05-SOPSP), a
    third are at w = 0 (Theorem 2's case; half of those critical points with V r = -∇F_lin(0)),
    the rest arbitrary. ``sopsp=False`` (the
    hypothesis dropped) shrinks ε to 10^-3..10^-1 of the level: the point is then *not* an
    ε-SOPSP. r is drawn in [0.5, 4]; w* minimises F_lin over ||w|| <= r."""
    from hypothesis import strategies as st

    base = scalar_instances(losses=losses, w="any", w_star="drawn", max_m=5)

    @st.composite
    def draw(draw):
        inst = draw(base)
        rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
        net = ScalarResNet(inst.X, inst.y, inst.Fx, inst.loss)
        kind = draw(st.sampled_from(("arbitrary", "zero", "sopsp")))
        w, V = np.asarray(inst.w, float), np.asarray(inst.V, float)
        if kind == "zero":
            w = np.zeros_like(w)
            if draw(st.booleans()):          # a critical point (0, V): only curvature pays
                V = critical_V(net, rng)
                V = np.asarray(inst.V, float) if V is None else V
        b0 = max(float(np.linalg.norm(w)), float(np.linalg.norm(V, 2)), 0.1)
        b = b0 * (1 + rng.uniform(0.05, 1.0))
        if kind == "sopsp":
            mu2 = net.lipschitz_bounds(b).mu2
            res = find_sopsp(net, 0.05, mu2, w0=w, V0=V, max_iter=15)
            w, V = res.w, res.V
            b = max(b, 1.05 * float(np.linalg.norm(w)), 1.05 * float(np.linalg.norm(V, 2)))
        lb = net.lipschitz_bounds(b)
        g = float(np.linalg.norm(net.flat_gradient(w, V)))
        lam = lambda_min_enclosure(np.asarray(net.hessian(w, V), float),
                                   hessian_rounding_bound(net, w, V))
        level = sopsp_level(g, lam.lower, lb.mu2)
        # the level carries the gradient's rounding: scale up by a relative 1e-12 and add the
        # absolute floor so that the certificate (which adds the rounding bound) passes
        eps = level * (1 + 1e-9) + 1e-300
        if not sopsp:
            from hypothesis import assume
            assume(level > 1e-200)      # an exact second-order point is an ε-SOPSP for every ε
        eps = eps * (1 + rng.uniform(0, 0.5)) if sopsp else eps * 10.0 ** rng.uniform(-3, -1)
        r = float(rng.uniform(0.5, 4.0))
        ws = net.best_linear(radius=r) if inst.loss.convex else rng.normal(size=net.d_x)
        return inst.replace(w=w, V=V, w_star=ws, b=b, r=r, eps=eps, point_kind=kind)

    return draw()
