r"""Induced models of a model: gradient basis, perturbable gradient basis.

For a model f(x; theta) and data (x_i, y_i) with weights lambda_i > 0:

* the **gradient basis model** f_theta(x; alpha) = sum_k alpha_k d_k f_x(theta), whose objective
  L_theta(alpha) = sum_i lambda_i l(f_theta(x_i; alpha), y_i) is convex in alpha
  (:func:`gradient_basis`, :func:`induced_objective`, :func:`induced_infimum`);
* the **perturbable gradient basis model** over a finite S of directions,
  f~_theta(x; alpha, eps, S) = sum_k sum_j alpha_{k,j} d_k f_x(theta + eps S_j)
  (:func:`perturbable_basis`), and the set V[theta, eps] of directions v, ||v|| <= 1, with
  f_X(theta + eps v) = f_X(theta), with constructive generators of its elements
  (:func:`left_null_perturbations`, :func:`rescalings`, :func:`null_product_perturbations`) and a
  membership check (:func:`in_V`).

Models are :class:`proofcheck.networks.Network` objects (the one network class): bias-free
feedforward networks with skip connections to the output (f = sum_{l in skip} h^{(l)}
W_out^{(l+1)}), which include deep linear networks (activation ``identity``), ReLU and tanh
networks, and basis-function models (H = 0); their model interface (``outputs``, ``jacobian``,
``hidden``) is written once for float64 and mpmath object arrays.  Any model with ``outputs``
and ``jacobian`` works with the functions here.

A Jacobian ``J`` has shape (m, d_y, n): J[i] = d f_{x_i} / d theta.  The induced problems are
linear models in alpha with per-sample maps J_i, solved by :func:`induced_infimum`.

>>> import numpy as np
>>> from proofcheck.losses import SquaredLoss
>>> from proofcheck.networks import Network
>>> net = Network((2, 3, 1), "identity")
>>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]); Y = np.array([[1.0], [2.0], [0.0]])
>>> theta = np.arange(1.0, net.n_params + 1) / 10
>>> J = gradient_basis(net, X, theta)
>>> J.shape
(3, 1, 9)
>>> fit = induced_infimum(J, Y, SquaredLoss())
>>> # a deep linear network's gradient basis spans {A x}: the best linear predictor's value
>>> r = Y[:, 0] - X @ np.linalg.lstsq(X, Y[:, 0], rcond=None)[0]
>>> fit.attained, bool(abs(fit.value - r @ r / 3) < 1e-12)
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Sequence

import mpmath
import numpy as np

from .linalg import rank_cutoff
from .losses import UNIT_ROUNDOFF, Loss, SquaredLoss
from .models import to_mp
from .optimize.convex import ConvexFit, maps_infimum, weights_or_uniform

__all__ = [
    "gradient_basis", "induced_outputs", "induced_objective",
    "InducedFit", "induced_infimum", "perturbable_basis", "in_V", "Membership",
    "left_null_perturbations", "rescalings", "null_product_perturbations", "zero_direction",
    "perturbation_set", "range_residual", "objective", "weights_or_uniform", "AtPoint",
    "at_point", "at_certified", "point_theta", "stationarity_sums", "sums_tolerance",
    "linear_predictor_value", "pointwise_infimum",
]

u = UNIT_ROUNDOFF


# --------------------------------------------------------------------------- induced models

def gradient_basis(model, X, theta) -> np.ndarray:
    """J (m, d_y, d_theta) with J[i][:, k] = d_k f_{x_i}(theta): the gradient basis at theta."""
    return model.jacobian(X, np.asarray(theta))


def induced_outputs(J, alpha) -> np.ndarray:
    """f_theta(x_i; alpha) = sum_k alpha_k d_k f_{x_i}(theta) for every i: (m, d_y)."""
    J = np.asarray(J)
    alpha = np.asarray(alpha)
    if J.ndim != 3 or alpha.shape != (J.shape[2],):
        raise ValueError(f"J must be (m, d_y, n) and alpha (n,); got {J.shape}, {alpha.shape}")
    return np.einsum("iak,k->ia", J, alpha)


def objective(F, Y, loss: Loss, weights=None) -> float:
    """sum_i lambda_i l(F_i, y_i) for outputs F (m, d_y)."""
    F = np.asarray(F, dtype=float)
    w = weights_or_uniform(weights, F.shape[0])
    return float(w @ loss.value(F, np.asarray(Y, float)))


def induced_objective(J, Y, loss: Loss, alpha, weights=None) -> float:
    """L_theta(alpha) = sum_i lambda_i l(f_theta(x_i; alpha), y_i) (convex in alpha)."""
    return objective(induced_outputs(J, alpha), Y, loss, weights)


def perturbable_basis(model, X, theta, eps: float, S: Sequence, *, centered: bool = False):
    """J~ (m, d_y, d_theta |S|): the columns d_k f_{x_i}(theta + eps S_j), j = 1..|S|.

    The perturbable gradient basis model is f~_theta(x_i; alpha, eps, S) = J~[i] vec(alpha)
    (alpha in R^{d_theta x |S|}, column j for S_j).

    ``centered=True`` returns the same span in a better-scaled basis: J(theta + eps S_1) and the
    difference quotients (J(theta + eps S_j) - J(theta + eps S_1)) / eps, together with their
    relative accuracy 16 n u / eps (rounding of the difference, divided by eps): pass it as
    ``rel_noise`` to :func:`induced_infimum`.  Returns (J~, rel_noise) then."""
    theta = np.asarray(theta, dtype=float)
    S = [np.asarray(s, dtype=float) for s in S]
    if not S:
        raise ValueError("S must be a non-empty finite set of directions")
    for s in S:
        if s.shape != theta.shape:
            raise ValueError(f"each S_j must have shape {theta.shape}, got {s.shape}")
    Js = [model.jacobian(X, theta + eps * s) for s in S]
    if not centered:
        return np.concatenate(Js, axis=2)
    if eps <= 0:
        return Js[0], 0.0
    cols = [Js[0]] + [(Jj - Js[0]) / eps for Jj in Js[1:]]
    n = theta.shape[0]
    return np.concatenate(cols, axis=2), 16 * n * u / eps


def range_residual(J, F) -> tuple[float, float]:
    """How far the outputs F (m, d_y) (or a stack (r, m, d_y)) are from span of J's columns.

    Returns (max over the stack of ||P_N[J] vec F|| / max(||vec F||, tiny), tolerance) where the
    tolerance is n * u * cond(J restricted to its numerical range) (first-order perturbation
    bound of a least-squares residual, Golub & Van Loan 5.3.8), times a safety factor 16."""
    J = np.asarray(J, dtype=float)
    A = J.reshape(-1, J.shape[2])
    F = np.asarray(F, dtype=float)
    Fs = F.reshape(-1, A.shape[0]) if F.ndim == 3 else F.reshape(1, -1)
    U, s, _ = np.linalg.svd(A, full_matrices=False)
    r = int(np.sum(s > rank_cutoff(s, A.shape, "lapack"))) if s.size else 0
    Q = U[:, :r]
    worst = 0.0
    for f in Fs:
        res = f - Q @ (Q.T @ f)
        worst = max(worst, float(np.linalg.norm(res)
                                 / max(np.linalg.norm(f), np.finfo(float).tiny)))
    cond = float(s[0] / s[r - 1]) if r else 1.0
    return worst, 16 * max(A.shape) * u * cond


# --------------------------------------------------------------------------- the convex solve

InducedFit = ConvexFit      # the solver's one result type (R = alpha: the coefficients)


def induced_infimum(J, Y, loss: Loss, weights=None, *, rel_noise: float = 0.0) -> ConvexFit:
    """inf_alpha sum_i lambda_i l(J_i alpha, y_i), the value of an induced convex problem: the
    convex solver :func:`proofcheck.optimize.convex.maps_infimum` (see there for the bracket
    each loss gets; ``rel_noise`` is the relative accuracy of J's columns, e.g. from
    ``perturbable_basis(..., centered=True)``)."""
    return maps_infimum(J, Y, loss, weights, rel_noise=rel_noise)


# --------------------------------------------------------------------------- V[theta, eps]

@dataclass(frozen=True)
class Membership:
    """Whether v is in V[theta, eps]: ||v|| <= 1 and f_X(theta + eps v) = f_X(theta)."""

    norm: float
    deviation: float        # max_i |f_{x_i}(theta + eps v) - f_{x_i}(theta)|
    tolerance: float        # rounding bound of that difference in float64
    member: bool


def in_V(model, X, theta, eps: float, v) -> Membership:
    """Check v in V[theta, eps] in float64.

    The tolerance is the forward-error bound of the network's outputs: 16 (depth + 1) (max width
    + 1) u times the scale prod_l (1 + ||W_l||_F) (1 + max|x|) of the outputs (Higham 3.5)."""
    theta = np.asarray(theta, float)
    v = np.asarray(v, float)
    if v.shape != theta.shape:
        raise ValueError(f"v must have shape {theta.shape}, got {v.shape}")
    if not (np.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be finite and >= 0, got {eps!r}")
    F0 = model.outputs(X, theta)
    F1 = model.outputs(X, theta + eps * v)
    dev = float(np.max(np.abs(F1 - F0)))
    scale = (1 + float(np.abs(X).max()))
    for t in (theta, theta + eps * v):
        for M in model.unpack(t).values():
            scale *= 1 + float(np.linalg.norm(M))
    depth = len(model.dims)
    tol = 16 * depth * (max(model.dims) + 1) * u * scale
    norm = float(np.linalg.norm(v))
    return Membership(norm=norm, deviation=dev, tolerance=tol,
                      member=bool(norm <= 1 + 4 * u and dev <= tol))


def zero_direction(model) -> np.ndarray:
    """The direction 0, always in V[theta, eps] (the proofs' S-bar = {0})."""
    return np.zeros(model.n_params)


def _unit(v):
    n = np.linalg.norm(v)
    return v / n if n > 0 else v


def left_null_perturbations(model, X, theta, *, limit: int = 8) -> list[np.ndarray]:
    """Directions perturbing one weight matrix W^{(l)} by A with h^{(l-1)}(X) A = 0 (§3.3).

    f depends on W^{(l)} only through h^{(l-1)}(x_i) W^{(l)}, so columns of A in the null
    space of [h^{(l-1)}(x_i)]_i leave f_X unchanged exactly, whatever comes after.  Returns unit
    vectors (||v|| = 1) for every block whose input representation has a nontrivial left null
    space (rank decided by the LAPACK cutoff), at most ``limit`` of them."""
    out: list[np.ndarray] = []
    _, hs = model.hidden(X, np.asarray(theta, float))
    n = model.n_params
    for b in model.blocks:
        Hin = np.asarray(hs[b.layer - 1], float)          # (m, d_{l-1}) rows h^{(l-1)}(x_i)
        _, s, Vt = np.linalg.svd(Hin, full_matrices=True)
        r = int(np.sum(s > rank_cutoff(s, Hin.shape, "lapack"))) if s.size else 0
        null = Vt[r:]                                      # rows: a with Hin a = 0
        for a in null:
            for unit in range(b.shape[1]):                 # the column of one unit
                A = np.zeros(b.shape)
                A[:, unit] = a
                out.append(_unit(b.embed(A, n)))
                if len(out) >= limit:
                    return out
    return out


def rescalings(model, theta, eps: float, *, limit: int = 8) -> list[np.ndarray]:
    """Unit rescalings of positively homogeneous hidden units: incoming column times c > 0,
    outgoing rows divided by c (positive homogeneity), with c chosen so that ||v|| = 1 exactly in
    exact arithmetic, v = (theta' - theta) / eps.  Empty for tanh (not homogeneous)."""
    if (any(not unit.homogeneous for layer in model.activations for unit in layer)
            or model.H == 0 or eps <= 0):
        return []
    theta = np.asarray(theta, float)
    out = []
    for l in range(1, model.H + 1):
        for j in range(model.dims[l]):
            def moved(c, l=l, j=j):
                P = {k: v.copy() for k, v in model.unpack(theta).items()}
                P[f"W{l}"][:, j] *= c
                if l < model.H:
                    P[f"W{l + 1}"][j, :] /= c
                if l in model.skip:
                    P[f"Wout{l + 1}"][j, :] /= c
                return model.pack(P)
            # ||theta(c) - theta|| is increasing in c >= 1 from 0: bisect for eps * 0.99
            lo, hi = 1.0, 2.0
            while np.linalg.norm(moved(hi) - theta) < 0.99 * eps and hi < 1e6:
                hi *= 2
            for _ in range(60):
                mid = 0.5 * (lo + hi)
                if np.linalg.norm(moved(mid) - theta) < 0.99 * eps:
                    lo = mid
                else:
                    hi = mid
            v = (moved(lo) - theta) / eps
            if np.linalg.norm(v) > 0:
                out.append(v)
            if len(out) >= limit:
                return out
    return out


def null_product_perturbations(model, theta, *, limit: int = 8) -> list[np.ndarray]:
    """Directions of V[theta, eps] through a null space: for a layer l whose output is seen by
    f only through a linear map M_l (the product of the weight matrices above it, linear
    activations), perturb W^{(l)} (shape (d_{l-1}, d_l)) by b a^T with M_l a = 0, ||a|| = 1.

    For the standard network with identity activation, M_l = (W^{(l+1)} ... W^{(H+1)})^T.
    Unit vectors; empty when every M_l has a trivial null space or the activation is not the
    identity."""
    if not model.is_linear or model.skip != (model.H,) or model.H == 0:
        return []
    theta = np.asarray(theta, float)
    P = model.unpack(theta)
    n = model.n_params
    out = []
    M = P[f"Wout{model.H + 1}"].T          # M_l acts on the column h^{(l)}: (d_y, d_l)
    for l in range(model.H, 0, -1):
        _, s, Vt = np.linalg.svd(M, full_matrices=True)
        r = int(np.sum(s > rank_cutoff(s, M.shape, "lapack"))) if s.size else 0
        for a in Vt[r:]:
            for c in range(model.dims[l - 1]):
                bvec = np.zeros(model.dims[l - 1])
                bvec[c] = 1.0
                out.append(_unit(model.block(f"W{l}").embed(np.outer(bvec, a), n)))
                if len(out) >= limit:
                    return out
        M = M @ P[f"W{l}"].T
    return out


def perturbation_set(model, X, theta, eps: float, *, limit: int = 24) -> list[np.ndarray]:
    """{0} and every generator's directions, each verified to be in V[theta, eps] (a generated
    direction that fails :func:`in_V` is a bug and raises)."""
    S = [zero_direction(model)]
    S += left_null_perturbations(model, X, theta, limit=limit)
    S += rescalings(model, theta, eps, limit=limit)
    S += null_product_perturbations(model, theta, limit=limit)
    for v in S:
        mem = in_V(model, X, theta, eps, v)
        if not mem.member:
            raise RuntimeError(f"a generated direction is not in V[theta, eps]: ||v|| = "
                               f"{mem.norm}, deviation {mem.deviation:.3g} > {mem.tolerance:.3g}")
    return S[:limit]


# --------------------------------------------------------------------------- free outputs

def pointwise_infimum(Y, loss: Loss, weights=None) -> float:
    """inf over free outputs f_1..f_m of sum_i lambda_i l(f_i, y_i): 0 for the squared loss,
    sum_i lambda_i H(y_i) (entropy, attained at f_i = log y_i) for cross-entropy with
    positive targets."""
    Y = np.asarray(Y, float)
    w = weights_or_uniform(weights, Y.shape[0])
    if type(loss) is SquaredLoss:
        return 0.0
    if loss.name == "softmax_cross_entropy":
        P = np.where(Y > 0, Y, 1.0)
        return float(w @ (-(Y * np.log(P)).sum(axis=1)))
    raise ValueError(f"no closed form pointwise infimum for {loss!r}")


# --------------------------------------------------------------------------- quantities at points

@dataclass(frozen=True)
class AtPoint:
    """The objective's pieces at theta: outputs F, Jacobian J, loss gradients D, L(theta) (float64,
    rounded from the high-precision values when the point carries them), the mpmath versions
    (``mp``: dict with F, J, D, w, or None) and the comparison scales: ``rounding`` (float64
    arithmetic at the scale of the problem) and ``resolution`` (the certificate's tau_grad at the
    scale of L)."""

    theta: np.ndarray
    F: np.ndarray
    J: np.ndarray
    D: np.ndarray
    L: float
    weights: np.ndarray
    rounding: float
    resolution: float
    mp: dict | None = None
    digits: int | None = None

    @property
    def source(self) -> str:
        return ("float64 rounding 16 (m d_y + n) u (1 + |L| + max|f| + max|y|)(1 + max|J|) + the "
                "certificate's tau_grad (1 + |L|) + the convex solver's certified bracket")


def at_point(model, X, Y, loss: Loss, weights, theta, tau_grad: float = 0.0, *,
             theta_mp=None, digits: int | None = None) -> AtPoint:
    """Evaluate f_X, d f_X, the loss gradients and L at theta; with ``theta_mp`` and ``digits``
    (a certified point's refined parameters) everything is computed in mpmath at ``digits`` and
    rounded once, so the float64 values are those of the refined point, not of its rounding."""
    X, Y = np.asarray(X, float), np.asarray(Y, float)
    w = weights_or_uniform(weights, X.shape[0])
    mp = None
    if theta_mp is not None and digits is not None:
        with mpmath.workdps(digits):
            th = np.array([mpmath.mpf(x) for x in np.asarray(theta_mp, dtype=object)], dtype=object)
            Xm, Ym = to_mp(X), to_mp(Y)
            Fm = model.outputs(Xm, th)
            Jm = model.jacobian(Xm, th)
            Dm = np.stack([np.asarray(loss.grad_mp(Fm[i], Ym[i]), dtype=object)
                           for i in range(X.shape[0])])
            wm = to_mp(w)
            Lm = mpmath.fsum(wm[i] * loss.value_mp(Fm[i], Ym[i]) for i in range(X.shape[0]))
        to_f = np.vectorize(float, otypes=[float])
        F, J, D, L = to_f(Fm), to_f(Jm), to_f(Dm), float(Lm)
        theta = to_f(th)
        mp = {"F": Fm, "J": Jm, "D": Dm, "w": wm, "theta": th}
    else:
        theta = np.asarray(theta, float)
        F = model.outputs(X, theta)
        J = model.jacobian(X, theta)
        D = loss.grad(F, Y)
        L = float(w @ loss.value(F, Y))
    m, d, n = J.shape
    scale = 1 + abs(L) + float(np.abs(F).max()) + float(np.abs(Y).max())
    rounding = 16 * (m * d + n) * u * scale * (1 + float(np.abs(J).max()))
    return AtPoint(theta, F, J, D, L, w, rounding, float(tau_grad) * (1 + abs(L)), mp, digits)


def at_certified(model, X, Y, loss: Loss, weights, cp) -> AtPoint:
    """:func:`at_point` at a certified point (``optimize.critical.CriticalPoint``)."""
    return at_point(model, X, Y, loss, weights, point_theta(cp), getattr(cp, "tau_grad", 0.0),
                    theta_mp=getattr(cp, "theta_mp", None), digits=getattr(cp, "digits", None))


def point_theta(cp) -> np.ndarray:
    """theta of a certified point (optimize.critical) as a float64 vector."""
    p = getattr(cp, "point", cp)
    return np.asarray(getattr(p, "theta", p), float)


def stationarity_sums(q: AtPoint, J=None, weighted: bool = True) -> np.ndarray:
    """sum_i lambda_i dl_{y_i}(f_{x_i}(theta)) d_k f_{x_i}(theta') for every k (with
    J = d f_X(theta) by default, or J = d f_X(theta + eps v) given).  In mpmath at the point's
    precision when ``q`` carries its mp values (then J may be an mp array too)."""
    if q.mp is not None:
        Jm = q.mp["J"] if J is None else J
        wm = q.mp["w"] if weighted else np.array([mpmath.mpf(1)] * len(q.weights), dtype=object)
        with mpmath.workdps(q.digits):
            sums = np.einsum("i,ia,iak->k", wm, q.mp["D"], Jm)
        return np.vectorize(float, otypes=[float])(sums)
    J = q.J if J is None else J
    w = q.weights if weighted else np.ones_like(q.weights)
    return np.einsum("i,ia,iak->k", w, q.D, J)


def sums_tolerance(q: AtPoint, J=None) -> float:
    """Bound for :func:`stationarity_sums` at a certified point: the rounding of the sums (at
    the working precision: 10^-digits, or u in float64) at their magnitude, plus the
    certificate's resolution (the point is within tau_grad of a critical point)."""
    J = q.J if J is None else np.asarray(np.vectorize(float, otypes=[float])(J)
                                         if np.asarray(J).dtype == object else J)
    mag = (float(np.einsum("i,ia,iak->k", q.weights, np.abs(q.D), np.abs(J)).max())
           if J.size else 0.0)
    if q.mp is not None:
        assert q.digits is not None         # set together with mp
        unit = 10.0 ** (-q.digits)
    else:
        unit = u
    return 16 * (J.shape[0] * J.shape[1] + 2) * unit * mag + 2 * q.resolution * (1 + mag)


def linear_predictor_value(Phi, Y, loss: Loss, weights=None):
    """inf_A sum_i lambda_i l(A phi_i, y_i) (the best linear predictor on features Phi) as an
    InducedFit, through :func:`induced_infimum` with J_i = I kron phi_i^T."""
    Phi = np.asarray(Phi, float)
    d = np.asarray(Y).shape[1]
    J = np.einsum("ab,ik->iabk", np.eye(d), Phi).reshape(Phi.shape[0], d, d * Phi.shape[1])
    return induced_infimum(J, Y, loss, weights)


def float_point_tolerance(q: AtPoint, cp, model) -> float:
    """Extra tolerance for quantities evaluated at the float64 rounding theta_f of a certified
    point theta*: grad L(theta_f) ~ H (theta_f - theta*) with |theta_f - theta*| <= u ||theta||,
    so sums that vanish at theta* are off by <= ||H|| u ||theta|| (||H|| from the certificate's
    extreme Hessian eigenvalues), times 16 n for the float64 arithmetic around it."""
    hs = max(abs(getattr(cp, "min_hess_eig", 0.0)), abs(getattr(cp, "max_hess_eig", 0.0)), 1.0)
    n = q.J.shape[2]
    return 16 * n * u * hs * (1 + float(np.linalg.norm(q.theta)))


DEFAULT_EPS = 2.0 ** -10    # the perturbation size eps of V[theta, eps] used by the checks
