r"""Best linear predictor values  L*_{phi} = inf_R E_mu l(R phi(x), y)  with certified bounds.

Local minima of a model are compared with the global minimum value of linear predictors, e.g.
``L*_{x}`` (features ``Phi = X``) and ``L*_{x,z}`` (``Phi = [X Z]``).  For an empirical measure
with weights w_i this is the convex problem

    f(R) = sum_i w_i l(R phi_i, y_i),      R in R^{d_y x k}  (prediction R phi).

:func:`best_linear_predictor` returns a :class:`ConvexFit` whose ``value`` is always backed by
stated bounds ``lower_bound <= inf f <= upper_bound`` (or says it has none):

* squared loss: closed form by SVD least squares, ``(1/m) ||P_N[Phi] Y||_F^2`` for uniform
  weights, with a first-order rounding bound;
* smoothed hinge on separable data: a separating R scaled to margins >= 1 gives exactly 0;
  plain hinge (p = 1) otherwise: a linear program, lower bound from its dual;
* other differentiable convex losses: damped Newton with Levenberg regularisation.  The lower
  bound comes from *local strong convexity*: if the loss curvature on a ball of radius r around
  R gives f a modulus mu > 0 on the directions f is not invariant along, and
  ``r > 2 ||grad f|| / mu``, then a minimiser lies in that ball and
  ``inf f >= f(R) - ||grad f||^2 / (2 mu)`` (this also proves the infimum is attained);
* logistic and softmax cross-entropy: when that certificate fails after a short Newton run, a
  linear program looks for a recession direction D (f(R + tD) strictly decreasing as
  t -> inf), i.e. (quasi-)separable data.  If one exists the infimum is *not attained*; it
  equals the minimum of the restricted problem left when the separated samples / classes are
  pushed to zero loss (solved and certified as above), and is 0 on completely separable data.
  If none exists, f is coercive modulo its invariances and the infimum is attained.
* non-convex losses (experiments that drop Assumption A2): Newton finds a local minimum;
  only the upper bound f(R) is stated.

The same solver handles general per-sample linear maps, ``inf_alpha sum_i w_i l(J_i alpha,
y_i)`` (:func:`maps_infimum`: the induced problems of a model's gradient basis), with the same
objective (:class:`_MapObjective`), Newton iteration and strong-convexity certificate; squared
loss gets an a posteriori least-squares bracket there, and d_y > 1 without a certificate a
recession LP on the margins.  Both entry points return one result type, :class:`ConvexFit`.

Every bound includes a first-order bound on the float64 rounding of f (documented at
``_Objective.rounding``); rank decisions use :func:`proofcheck.linalg.rank_cutoff`.  With
``digits``, the computation is repeated in mpmath with the measure exactly 1/m (default weights)
and the data's doubles taken as exact.

>>> import numpy as np
>>> from proofcheck.losses import SquaredLoss, LogisticLoss
>>> Phi = np.array([[1.0], [1.0]]); Y = np.array([[0.0], [2.0]])
>>> fit = best_linear_predictor(Phi, Y, SquaredLoss())
>>> round(fit.value, 12), fit.attained   # R = 1, residuals -1, 1
(1.0, True)
>>> sep = best_linear_predictor(np.array([[1.0], [-2.0]]), np.array([[1.0], [-1.0]]),
...                             LogisticLoss())
>>> sep.value, sep.lower_bound, sep.attained
(0.0, 0.0, False)
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import mpmath
import numpy as np
import scipy

from proofcheck.lazy import lazy_function, lazy_import
from proofcheck.linalg import rank_cutoff
from proofcheck.losses import (UNIT_ROUNDOFF, Loss, RestrictedSoftmaxCrossEntropy, SmoothedHinge,
                               SquaredLoss)

# scipy.linalg, scipy.sparse and scipy.optimize (about 0.5 s of CPU together) are loaded on first
# use, so that listing or checking claims that never fit a convex model does not pay for them
lazy_import("scipy.linalg")
lazy_import("scipy.sparse")
linprog = lazy_function("scipy.optimize", "linprog")

__all__ = ["ConvexFit", "LinearFit", "best_linear_predictor", "recession_direction",
           "maps_infimum", "weights_or_uniform"]

u = UNIT_ROUNDOFF


@dataclass(frozen=True)
class ConvexFit:
    """Result of :func:`best_linear_predictor` and :func:`maps_infimum` (the one result type
    of the convex solver).

    ``value``: the best value found for ``inf_R f(R)``; when the infimum is not attained it is
    the (certified) infimum itself, approached along ``R + t * direction`` as t -> inf (for
    :func:`maps_infimum` with d_y > 1: the best value reached, an upper bound).
    ``R``: the minimiser found, (d_y, k) for a linear predictor, a vector (n,) for maps
    (:attr:`alpha` is the same array).
    ``lower_bound`` / ``upper_bound`` bracket the infimum (None where nothing is certified;
    ``-inf`` for a non-convex loss in :func:`maps_infimum`).
    ``grad_norm`` is ||grad f(R)||_F (for an unattained infimum: of the restricted problem).
    ``attained``: True (proved: a minimiser exists), False (proved not attained), None.
    ``certificate`` says which argument backs the bracket.
    With ``digits`` set, the numbers are mpmath ``mpf`` and ``R`` is an object array of mpf.
    """

    value: Any
    R: np.ndarray
    lower_bound: Any
    upper_bound: Any
    attained: bool | None
    certificate: str = ""
    grad_norm: Any = None
    status: str = ""
    iterations: int = 0
    direction: np.ndarray | None = None
    method: str = ""
    details: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def alpha(self) -> np.ndarray:
        """The minimiser's coefficients (the name used for induced models): :attr:`R`."""
        return self.R

    @property
    def width(self) -> float:
        """upper_bound - lower_bound as a float (inf when a bound is missing)."""
        if self.lower_bound is None or self.upper_bound is None:
            return float("inf")
        return float(self.upper_bound - self.lower_bound)

    @property
    def gap(self):
        """upper_bound - lower_bound, or None."""
        if self.lower_bound is None or self.upper_bound is None:
            return None
        return self.upper_bound - self.lower_bound


LinearFit = ConvexFit    # the name used before the merge with the induced-problem solver


# --------------------------------------------------------------------------------- input
def _prepare(Phi, Y, loss, weights):
    if not isinstance(loss, Loss):
        raise TypeError(f"loss must be a proofcheck.losses.Loss, got {type(loss).__name__}")
    try:
        Phi = np.asarray(Phi, dtype=np.float64)
        Y = np.asarray(Y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError("Phi and Y must be real numeric arrays") from exc
    if Phi.ndim != 2:
        raise ValueError(f"Phi must have shape (m, k), got {Phi.shape}")
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.ndim != 2 or Y.shape[0] != Phi.shape[0]:
        raise ValueError(f"Y must have shape (m, d_y) with m = {Phi.shape[0]}, got {Y.shape}")
    if Phi.shape[0] == 0 or Phi.shape[1] == 0 or Y.shape[1] == 0:
        raise ValueError(f"empty problem: Phi {Phi.shape}, Y {Y.shape}")
    if not (np.all(np.isfinite(Phi)) and np.all(np.isfinite(Y))):
        raise ValueError("Phi or Y contains NaN or inf")
    loss.validate_targets(Y)
    if loss.output_dim is not None and Y.shape[1] != loss.output_dim:
        raise ValueError(f"{loss!r} needs d_y = {loss.output_dim}, Y has {Y.shape[1]} columns")
    m = Phi.shape[0]
    if weights is None:
        w = np.full(m, 1.0 / m)
    else:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (m,):
            raise ValueError(f"weights must have shape ({m},), got {w.shape}")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or not np.any(w > 0):
            raise ValueError("weights must be finite, non-negative and not all zero")
    # zero-weight samples do not enter the measure (nor the separability LP)
    keep = w > 0
    return Phi[keep], Y[keep], w[keep], Phi.shape[1]


def _weights_mp(w, m_uniform):
    """The measure in mpmath: exactly 1/m_uniform each when the measure is the uniform one on
    m_uniform samples (1/m is not a double), else the given doubles (exact in mpmath)."""
    if m_uniform:
        return [mpmath.mpf(1) / m_uniform] * len(w)
    return [mpmath.mpf(x) for x in w]


# ------------------------------------------------------------------------- objective
def _kron_sum(WH, Phi):
    """sum_i kron(WH_i, phi_i phi_i^T) as an (d k, d k) matrix (row-major vec of R).

    WH has shape (m, d, d).  One BLAS product Phi^T [phi_i (x) WH_i]_i instead of an einsum.
    """
    m, k = Phi.shape
    d = WH.shape[1]
    Z = (Phi[:, :, None] * WH.reshape(m, 1, d * d)).reshape(m, k * d * d)
    S = (Phi.T @ Z).reshape(k, k, d, d)  # [j, l, a, b]
    return S.transpose(2, 0, 3, 1).reshape(d * k, d * k)


class _Objective:
    """f(R) = sum_i w_i l(R phi_i, y_i) with value / gradient / Hessian and rounding bounds.

    The argument has shape ``self.shape`` ((d, k) here); ``self.phinorm[i]`` bounds the norm of
    the linear map argument -> prediction of sample i and ``self.dot_len`` is the length of the
    dot products that form a prediction (for the rounding bounds).  ``rel_noise``: the maps are
    known to that relative accuracy only (directions below it count as invariant).
    :class:`_MapObjective` is the same objective for general per-sample maps J_i.
    """

    def __init__(self, Phi, Y, w, loss, rel_noise=0.0):
        self.Phi, self.Y, self.w, self.loss = Phi, Y, w, loss
        self.m, self.k = Phi.shape
        self.d = Y.shape[1]
        self.n = self.d * self.k
        self.shape: tuple[int, ...] = (self.d, self.k)
        self.dot_len = self.k
        self.rel_noise = rel_noise
        self.phinorm = np.linalg.norm(Phi, axis=1)
        self.ynorm = np.linalg.norm(Y, axis=1)

    def _gradient(self, WG):
        """sum_i WG_i^T (d prediction_i / d R) for WG (m, d): here sum_i WG_i phi_i^T."""
        return WG.T @ self.Phi

    def _gram(self, WH):
        """sum_i (d prediction_i / d R)^T WH_i (d prediction_i / d R) as an (n, n) matrix."""
        return _kron_sum(WH, self.Phi)

    def _curved_rows(self, Q):
        """[sqrt(w_i) Q_i (d prediction_i / d R)]_i as an (m d, n) matrix."""
        F = np.einsum("i,iab,ij->iabj", np.sqrt(self.w), Q, self.Phi)
        return F.reshape(self.m * self.d, self.n)

    def _cutoff(self, s, shape, method):
        return max(rank_cutoff(s, shape, method), self.rel_noise * float(s[0]))

    def predictions(self, R):
        return self.Phi @ R.T

    def value(self, R):
        return float(self.w @ self.loss.value(self.predictions(R), self.Y))

    def full(self, R, hessian=True):
        Hp = self.predictions(R)
        L = self.loss.value(Hp, self.Y)
        G = self.loss.grad(Hp, self.Y)
        f = float(self.w @ L)
        g = self._gradient(self.w[:, None] * G)  # (d, k): sum_i w_i grad_i phi_i^T
        Hs = self.loss.hess(Hp, self.Y) if hessian else None
        Hf = None
        if hessian:
            Hf = self._gram(self.w[:, None, None] * Hs)
        ferr, gerr = self.rounding(R, Hp, L, G, Hs)
        return f, g, Hf, ferr, gerr

    def rounding(self, R, Hp, L, G, Hs):
        """First-order bounds on the rounding errors of the computed f and grad f.

        h_i = R phi_i carries error <= (k+2) u ||R||_F ||phi_i|| (dot products of length k =
        ``dot_len``; for maps J_i: (n+2) u ||alpha|| ||J_i||_F); it moves l by
        ||grad l|| times that and grad l by ||hess l|| times that.  The loss evaluation itself
        adds 16 d u (|l| + (1 + ||grad l||)(||h|| + ||y||)) (see losses._value_rounding) and the
        gradient 16 d u (||grad l|| + ||y|| + ||hess l||(||h|| + ||y||)); the weighted sums over
        m samples add (m + 2) u times the sum of magnitudes.
        """
        d, k, m = self.d, self.dot_len, self.m
        Rn = np.linalg.norm(R)
        hn = np.linalg.norm(Hp, axis=1)
        Gn = np.linalg.norm(G, axis=1)
        dh = (k + 2) * u * Rn * self.phinorm
        c = 16 * d * u
        lerr = c * (np.abs(L) + (1 + Gn) * (hn + self.ynorm)) + Gn * dh
        ferr = float(self.w @ lerr + (m + 2) * u * (self.w @ np.abs(L)))
        if Hs is None:
            return ferr, float("nan")
        Hn = np.linalg.norm(Hs, axis=(1, 2))
        gl_err = c * (Gn + self.ynorm + Hn * (hn + self.ynorm)) + Hn * dh
        gerr = float(self.w @ (gl_err * self.phinorm)
                     + (m + 2) * u * (self.w @ (Gn * self.phinorm)))
        return ferr, gerr

    # ---- invariance and curvature ------------------------------------------------------
    def curved_basis(self, R, method):
        """Orthonormal basis (n, r) of the directions f is not invariant along.

        f(R + D) = f(R) exactly when Q_i D phi_i = 0 for all i (Q_i the loss's curved projector),
        i.e. D in the null space of F = [sqrt(w_i) kron(Q_i, phi_i^T)]_i.  The basis is the row
        space of F from its SVD, with the rank decided by ``linalg.rank_cutoff(method)``.
        """
        Q = self.loss.curved_projector(self.predictions(R), self.Y)  # (m, d, d)
        F = self._curved_rows(Q)
        _, s, Vt = np.linalg.svd(F, full_matrices=False)
        if s.size == 0 or s[0] == 0:
            return np.zeros((self.n, 0)), Q
        r = int(np.sum(s > self._cutoff(s, F.shape, method)))
        return Vt[:r].T, Q

    def modulus(self, R, Q, B, radius):
        """Strong convexity modulus of f on {R + B z : ||B z|| <= radius}, or None.

        hess f >= sum_i w_i c_i kron(Q_i, phi_i phi_i^T) on that ball, with c_i from the loss's
        ``curvature_bound`` at radius ||phi_i|| * radius in prediction space.  The smallest
        eigenvalue of its compression to B, minus eigvalsh's backward error
        (n u ||.||_F, with a factor 4 for forming the matrix), is the modulus.
        """
        c = self.loss.curvature_bound(self.predictions(R), self.Y, radius * self.phinorm)
        if c is None:
            return None
        Hlow = self._gram((self.w * c)[:, None, None] * Q)
        M = B.T @ Hlow @ B
        lam = np.linalg.eigvalsh(M)[0]
        return float(lam - 4 * (self.n + self.m) * u * np.linalg.norm(Hlow))


class _MapObjective(_Objective):
    """f(alpha) = sum_i w_i l(J_i alpha, y_i) for per-sample linear maps J (m, d, n).

    The linear predictor is the case J_i = I_d kron phi_i^T (row-major vec of R); the induced
    problems of a model's gradient basis are the general case.  Same bounds as
    :class:`_Objective`, with ||J_i||_F for ||phi_i|| and n for k."""

    def __init__(self, J, Y, w, loss, rel_noise=0.0):
        self.J, self.Y, self.w, self.loss = J, Y, w, loss
        self.m, self.d, self.n = J.shape
        self.k = self.n
        self.shape = (self.n,)
        self.dot_len = self.n
        self.rel_noise = rel_noise
        self.phinorm = np.linalg.norm(J, axis=(1, 2))
        self.ynorm = np.linalg.norm(Y, axis=1)

    def predictions(self, a):
        return np.einsum("iak,k->ia", self.J, a)

    def _gradient(self, WG):
        return np.einsum("ia,iak->k", WG, self.J)

    def _gram(self, WH):
        return np.einsum("iak,iab,ibl->kl", self.J, WH, self.J)

    def _curved_rows(self, Q):
        F = np.einsum("i,iab,ibk->iak", np.sqrt(self.w), Q, self.J)
        return F.reshape(self.m * self.d, self.n)


def _certify(obj: _Objective, R, f, ferr, gn, gerr, method):
    """Lower bound on inf f by local strong convexity (see module docstring), or None.

    Returns (lower_bound, mu, radius, text).  The radius is searched on a geometric grid
    starting at 2 ||g|| / mu(0) (the smallest that could work).
    """
    B, Q = obj.curved_basis(R, method)
    if B.shape[1] == 0:  # f is constant
        return f - ferr, float("inf"), float("inf"), "f is constant (no curved direction)"
    gup = gn + gerr
    mu0 = obj.modulus(R, Q, B, 0.0)
    if mu0 is None or not mu0 > 0:
        return None, mu0, None, "no positive curvature bound at R"
    r = 2.0 * gup / mu0
    for _ in range(12):
        r *= 2.0
        mu = obj.modulus(R, Q, B, r)
        if mu is not None and mu > 0 and 2.0 * gup / mu < r:
            lb = f - ferr - gup**2 / (2.0 * mu)
            return lb, mu, r, (
                f"local strong convexity: mu = {mu:.3e} on the ball of radius {r:.3e} "
                f"> 2||g||/mu = {2 * gup / mu:.3e}; inf >= f - ||g||^2/(2 mu)")
    return None, mu0, None, "curvature decays too fast for the gradient size"


# ---------------------------------------------------------------------------- Newton
def _newton(obj: _Objective, R0, max_iter):
    """Damped Newton with Levenberg regularisation lambda = min(||g||, ||H||_F) (at least the
    rounding level n u ||H||_F, which keeps Cholesky defined on singular Hessians), Armijo
    backtracking.  Stops when ||g|| <= its rounding bound, when no step decreases f, or at
    max_iter.  Returns R, iterations, status, norm history."""
    R = R0.copy()
    f, g, Hf, ferr, gerr = obj.full(R)
    norms = [float(np.linalg.norm(R))]
    status = "max_iter reached"
    it = 0
    for it in range(1, max_iter + 1):
        gn = float(np.linalg.norm(g))
        if gn <= gerr:
            status = "converged: ||grad|| at its rounding bound"
            it -= 1
            break
        Hn = float(np.linalg.norm(Hf))
        lam = max(obj.n * u * Hn, min(gn, Hn), np.finfo(float).tiny)
        gv = g.ravel()
        while True:
            try:
                cf = scipy.linalg.cho_factor(Hf + lam * np.eye(obj.n), check_finite=False)
                p = -scipy.linalg.cho_solve(cf, gv, check_finite=False)
                if np.all(np.isfinite(p)):
                    break
            except np.linalg.LinAlgError:
                pass
            lam *= 10.0
        slope = float(gv @ p)
        t, accepted = 1.0, False
        # When the predicted decrease is below f's rounding bound, f cannot rank the steps;
        # then ||grad|| is the merit function (its own rounding bound is far smaller).
        use_grad = -slope <= ferr
        for _ in range(60):
            Rn = R + t * p.reshape(obj.shape)
            if use_grad:
                new = obj.full(Rn)
                if np.isfinite(new[0]) and np.linalg.norm(new[1]) < gn:
                    accepted = True
                    break
            else:
                fn = obj.value(Rn)
                if np.isfinite(fn) and fn <= f + 1e-4 * t * slope:
                    accepted = True
                    break
            t *= 0.5
        if not accepted or np.array_equal(Rn, R):
            status = "stalled: no step decreases f (or ||grad||) beyond rounding"
            break
        R = Rn
        f, g, Hf, ferr, gerr = new if use_grad else obj.full(R)
        norms.append(float(np.linalg.norm(R)))
    return R, it, status, norms


def _diverging(norms, converged):
    """Heuristic, used only for the status text: the run did not converge and over its second
    half (at least 5 steps) ||R|| grew monotonically by a factor >= 1.5.  (On separable data
    Newton iterates grow like log(1/f), so geometric growth is not to be expected.)"""
    if converged or len(norms) < 10:
        return False
    tail = np.asarray(norms[len(norms) // 2:])
    return bool(tail[-1] >= 1.5 * max(tail[0], 1.0) and np.all(np.diff(tail) >= 0))


# ------------------------------------------------------------------- recession (LP)
def _linprog(*args, **kwargs):
    """HiGHS, choosing the solver automatically; on failure retry with the interior point
    method (with crossover), which copes better with the very degenerate separability LPs."""
    res = linprog(*args, method="highs", **kwargs)
    if res.status != 0:
        res = linprog(*args, method="highs-ipm", **kwargs)
    if res.status != 0:
        raise RuntimeError(f"separability LP failed: {res.message}")
    return res
def recession_direction(Phi, Y, loss, *, weights=None):
    """Direction D with f(R + tD) strictly decreasing towards a smaller limit, via an LP.

    For a margin loss (``loss.margin_kind``), such a D exists iff the data are (quasi-)
    separable.  Returns ``(D, restricted)``: D of shape (d_y, k) or None, and a description of
    the restricted problem: for "binary" a boolean mask of samples that keep a loss; for
    "softmax" the (m, d_y) mask of classes that keep a logit.  The LP maximises the number of
    strictly separated samples (or sample-class pairs), each slack capped at 1; by scale
    invariance an optimal vertex has slacks in {0, 1}, so the split at 1/2 is robust to the LP
    tolerance.  D is then projected so that the kept constraints hold with equality (up to
    rounding), and the separated ones are re-verified.
    """
    Phi, Y, w, k = _prepare(Phi, Y, loss, weights)
    return _recession(Phi, Y, loss.margin_kind)


def _recession(Phi, Y, kind):
    m, k = Phi.shape
    d = Y.shape[1]
    if kind == "binary":
        # variables [d (k), s (m)]; -y_i phi_i.d + s_i <= 0, 0 <= s_i <= 1; maximise sum s
        A = scipy.sparse.hstack([scipy.sparse.csr_matrix(-Y[:, :1] * Phi), scipy.sparse.eye(m)])
        c = np.concatenate([np.zeros(k), -np.ones(m)])
        bounds = [(None, None)] * k + [(0.0, 1.0)] * m
        res = _linprog(c, A_ub=A, b_ub=np.zeros(m), bounds=bounds)
        s = res.x[k:]
        sep = s > 0.5
        if not sep.any():
            return None, np.ones(m, dtype=bool)
        dvec = res.x[:k]
        rest = ~sep
        if rest.any():  # make the kept margins exactly zero: remove the row-space component
            _, sv, Vt = np.linalg.svd(Phi[rest], full_matrices=False)
            r = int(np.sum(sv > rank_cutoff(sv, Phi[rest].shape)))
            V = Vt[:r].T
            dvec = dvec - V @ (V.T @ dvec)
        margins = Y[:, 0] * (Phi @ dvec)
        tol = 4 * (k + 2) * u * np.linalg.norm(dvec) * np.linalg.norm(Phi, axis=1)
        if not np.all(margins[sep] > tol[sep]):
            return None, None  # inconclusive
        return dvec[None, :], rest
    if kind == "softmax":
        supp = Y > 0
        nD = d * k
        pairs = np.argwhere(~supp)  # (i, c) with y_ic = 0: candidates for separation
        ns = len(pairs)
        if ns == 0:
            return None, np.ones((m, d), dtype=bool)
        nvar = nD + m + ns

        def rows_for(idx_pairs):
            # row for (i, c): sum_j D[c, j] phi_ij - t_i
            rr, cc, vv = [], [], []
            for row, (i, cl) in enumerate(idx_pairs):
                rr.extend([row] * k)
                cc.extend(cl * k + np.arange(k))
                vv.extend(Phi[i])
                rr.append(row)
                cc.append(nD + i)
                vv.append(-1.0)
            return rr, cc, vv

        eq_pairs = np.argwhere(supp)
        rr, cc, vv = rows_for(eq_pairs)
        A_eq = scipy.sparse.csr_matrix((vv, (rr, cc)), shape=(len(eq_pairs), nvar))
        rr, cc, vv = rows_for(pairs)
        rr = rr + list(range(ns))
        cc = cc + list(nD + m + np.arange(ns))
        vv = vv + [1.0] * ns
        A_ub = scipy.sparse.csr_matrix((vv, (rr, cc)), shape=(ns, nvar))
        cost = np.concatenate([np.zeros(nD + m), -np.ones(ns)])
        bounds = [(None, None)] * (nD + m) + [(0.0, 1.0)] * ns
        res = _linprog(cost, A_ub=A_ub, b_ub=np.zeros(ns), A_eq=A_eq, b_eq=np.zeros(len(eq_pairs)),
                       bounds=bounds)
        s = res.x[nD + m:]
        sep = s > 0.5
        keep = np.ones((m, d), dtype=bool)
        keep[pairs[sep, 0], pairs[sep, 1]] = False
        if not sep.any():
            return None, keep
        z = res.x[: nD + m]
        # project [D, t] so every kept pair (support and unseparated) holds with equality
        kept_pairs = np.argwhere(keep)
        rr, cc, vv = rows_for(kept_pairs)
        C = scipy.sparse.csr_matrix((vv, (rr, cc)), shape=(len(kept_pairs), nvar)).toarray()
        C = C[:, : nD + m]
        _, sv, Vt = np.linalg.svd(C, full_matrices=False)
        r = int(np.sum(sv > rank_cutoff(sv, C.shape)))
        V = Vt[:r].T
        z = z - V @ (V.T @ z)
        D = z[:nD].reshape(d, k)
        t = z[nD:]
        gaps = t[:, None] - Phi @ D.T  # > 0 on separated pairs
        tol = 4 * (k + 2) * u * (np.linalg.norm(D) * np.linalg.norm(Phi, axis=1) + np.abs(t))
        if not np.all(gaps[~keep] > np.broadcast_to(tol[:, None], gaps.shape)[~keep]):
            return None, None
        return D, keep
    return None, None


# ---------------------------------------------------------------------- special cases
def _squared(Phi, Y, w, k, method, digits, m_uniform=None):
    """Closed form: R^T = argmin ||W^{1/2}(Phi R^T - Y)||_F by the SVD with ``method`` cutoff."""
    sw = np.sqrt(w)
    A, B = sw[:, None] * Phi, sw[:, None] * Y
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    r = int(np.sum(s > rank_cutoff(s, A.shape, method))) if s.size else 0
    Ur, Vr = U[:, :r], Vt[:r].T
    C = Ur.T @ B
    Rt = Vr @ (C / s[:r, None])  # (k, d)
    res = B - Ur @ C
    res = res - Ur @ (Ur.T @ res)  # one re-orthogonalisation ("twice is enough")
    value = float(np.sum(res**2))
    # Rounding: the SVD is backward stable (error (m+k) u ||A||); by Wedin's theorem the computed
    # range moves by <= (m+k) u sigma_1 / sigma_r, so the residual moves by eps_r below.
    Bn = float(np.linalg.norm(B))
    kappa = s[0] / s[r - 1] if r else 1.0
    eps_r = (A.shape[0] + k) * u * (1.0 + kappa) * Bn
    err = 2.0 * np.sqrt(value) * eps_r + eps_r**2
    R = Rt.T
    obj = _Objective(Phi, Y, w, SquaredLoss())
    f, g, _, ferr, gerr = obj.full(R)
    gn = float(np.linalg.norm(g))
    cert = (f"closed form (SVD least squares, rank {r} by the {method!r} cutoff); "
            f"rounding bound {err:.1e} (Wedin, kappa = {kappa:.2e})")
    if digits is None:
        return ConvexFit(value=value, R=R, grad_norm=gn, lower_bound=max(value - err, 0.0),
                         upper_bound=value + err, attained=True,
                         status="exact: least squares projection", iterations=0,
                         method="svd_lstsq", certificate=cert, details={"rank": r})
    # high precision: the same rank-r subspace, least squares in mpmath on A V_r (full rank)
    with mpmath.workdps(digits + 10):
        # the weights enter exactly: sqrt(w_i) in mpmath, not the float64 sqrt used above
        swm = [mpmath.sqrt(x) for x in _weights_mp(w, m_uniform)]
        Am = mpmath.matrix([[swm[i] * mpmath.mpf(x) for x in Phi[i]] for i in range(len(w))])
        AV = Am * mpmath.matrix(Vr.tolist()) if r else None
        total = mpmath.mpf(0)
        coef = np.zeros((r, Y.shape[1]), dtype=object)
        for j in range(Y.shape[1]):
            bj = mpmath.matrix([swm[i] * mpmath.mpf(Y[i, j]) for i in range(len(w))])
            if r:
                x, resn = mpmath.qr_solve(AV, bj)
                coef[:, j] = [x[i] for i in range(r)]
                total += resn**2
            else:
                total += mpmath.fsum(b * b for b in bj)
        Rmp = (Vr.astype(object) @ coef).T if r else np.zeros((Y.shape[1], k), dtype=object)
        # Householder least squares at digits + 10 digits: residual error of order
        # (m + k) kappa^2 eps_mp ||b||^2 (Higham, Accuracy and Stability, ch. 20)
        Bsq = mpmath.mpf(float(np.sum(B**2))) * 2  # ||W^1/2 Y||^2, with room for its rounding
        tol = (mpmath.mpf(10) ** (-(digits + 10)) * (A.shape[0] + k) * (1 + kappa) ** 2
               * (total + Bsq))
        # build the result inside the precision context (outside it, +x rounds to 53 bits)
        return ConvexFit(value=+total, R=Rmp, grad_norm=gn, lower_bound=total - tol,
                         upper_bound=total + tol, attained=True,
                         status=f"exact: least squares projection at {digits} digits", iterations=0,
                         method="svd_lstsq+mpmath", certificate=cert + "; rank decided in float64",
                         details={"rank": r})


def _plain_hinge(Phi, Y, w, k):
    """min sum_i w_i max(0, 1 - y_i r.phi_i) as an LP; lower bound from the dual."""
    m = Phi.shape[0]
    # variables [r (k), xi (m)]: -y_i phi_i.r - xi_i <= -1, xi >= 0
    A = scipy.sparse.hstack([scipy.sparse.csr_matrix(-Y[:, :1] * Phi), -scipy.sparse.eye(m)])
    c = np.concatenate([np.zeros(k), w])
    res = linprog(c, A_ub=A, b_ub=-np.ones(m), bounds=[(None, None)] * k + [(0, None)] * m,
                  method="highs")
    if res.status != 0:
        raise RuntimeError(f"hinge LP failed: {res.message}")
    r = res.x[:k]
    loss = SmoothedHinge(1)
    R = r[None, :]
    obj = _Objective(Phi, Y, w, loss)
    Hp = obj.predictions(R)
    L = loss.value(Hp, Y)
    f = float(w @ L)
    ferr, _ = obj.rounding(R, Hp, L, loss.grad(Hp, Y), None)
    # Dual: max sum alpha_i s.t. 0 <= alpha_i <= w_i, sum alpha_i y_i phi_i = 0.  By weak duality
    # (f(r) >= sum alpha_i - r.(sum alpha_i y_i phi_i)) any alpha with zero residual bounds inf f;
    # we accept HiGHS's alpha if its residual is at the level of its own rounding.
    alpha = np.clip(-res.ineqlin.marginals, 0.0, w)
    resid = float(np.linalg.norm((alpha * Y[:, 0]) @ Phi))
    level = (m + 2) * u * float(alpha @ np.linalg.norm(Phi, axis=1))
    if resid <= 16 * level:
        lb = max(float(alpha.sum()) * (1 - (m + 2) * u), 0.0)
        cert = f"LP dual objective (dual residual {resid:.1e} at rounding level {level:.1e})"
    else:
        lb = 0.0
        cert = f"dual residual {resid:.1e} too large; only l >= 0"
    return ConvexFit(value=f, R=R, grad_norm=None, lower_bound=min(lb, f),
                     upper_bound=f + ferr, attained=True,
                     status="solved as a linear program (HiGHS)", iterations=int(res.nit),
                     method="lp", certificate=cert)


# -------------------------------------------------------------------------- mpmath
def _refine_mp(obj: _Objective, R, digits, m_uniform, max_iter=40):
    """Levenberg-regularised Newton in mpmath from the float64 R, at digits + 10 digits.

    Step -(H + ||g|| I)^{-1} g in all d_y k coordinates: the invariant directions of f carry no
    gradient, so the regulariser only keeps the singular system solvable (and the convergence
    quadratic).  The merit function is ||grad||: we start at a float64 minimiser, where the
    decrease of f soon falls below f's own precision.
    Returns (f, R as an object array of mpf, ||grad||, steps).
    """
    d, k, m = obj.d, obj.k, obj.m
    n = d * k
    loss = obj.loss
    if isinstance(loss, RestrictedSoftmaxCrossEntropy):
        funcs = [loss.sample_mp(i) for i in range(m)]
    else:
        funcs = [(loss.value_mp, loss.grad_mp, loss.hess_mp)] * m
    mpf = mpmath.mpf

    def evaluate(Rv, Phi, Y, w):
        f = mpf(0)
        g = [mpf(0)] * n
        H = mpmath.zeros(n, n)
        for i in range(m):
            h = [mpmath.fsum(Rv[a * k + j] * Phi[i][j] for j in range(k)) for a in range(d)]
            fv, gv, hv = funcs[i]
            f += w[i] * fv(h, Y[i])
            gi = list(gv(h, Y[i]))
            hi = hv(h, Y[i])
            for a in range(d):
                if gi[a] != 0:
                    for j in range(k):
                        g[a * k + j] += w[i] * gi[a] * Phi[i][j]
                for b in range(d):
                    hab = hi[a][b]
                    if hab == 0:
                        continue
                    wab = w[i] * hab
                    for j in range(k):
                        for l in range(k):
                            H[a * k + j, b * k + l] += wab * Phi[i][j] * Phi[i][l]
        return f, mpmath.matrix(g), H

    with mpmath.workdps(digits + 10):
        Phi = [[mpf(x) for x in row] for row in obj.Phi]  # float64 data are exact in mpf
        Y = [[mpf(x) for x in row] for row in obj.Y]
        w = _weights_mp(obj.w, m_uniform)
        Rv = mpmath.matrix([mpf(x) for x in R.ravel()])
        f, g, H = evaluate(Rv, Phi, Y, w)
        target = mpf(10) ** (-(digits + 5))
        its = 0
        for its in range(1, max_iter + 1):
            gn = mpmath.norm(g)
            if gn <= target * (1 + abs(f)):
                its -= 1
                break
            step = mpmath.lu_solve(H + gn * mpmath.eye(n), -g)
            t = mpf(1)
            for _ in range(30):
                Rn = Rv + t * step
                fn, gn_, Hn = evaluate(Rn, Phi, Y, w)
                if mpmath.norm(gn_) < gn:
                    break
                t /= 2
            else:
                break
            Rv, f, g, H = Rn, fn, gn_, Hn
        Rmp = np.empty(n, dtype=object)
        Rmp[:] = [Rv[i] for i in range(n)]
        return +f, Rmp.reshape(d, k), +mpmath.norm(g), its


def _residual_minimiser_start(Phi, Y, loss):
    """R (d_y x k) with R phi_i - y_i as close (least squares) as possible to r*, the minimiser
    of r -> l(y + r, y) (found from a few starts: the loss may be non-convex)."""
    from scipy.optimize import minimize
    d_y = Y.shape[1]
    zero = np.zeros((1, 1, d_y))
    one = lambda r: float(loss.value(np.asarray(r)[None, None, :], zero)[0, 0])
    r_star = min((minimize(one, t * np.ones(d_y)).x for t in (-2.0, -1.0, 0.0, 1.0, 2.0)),
                 key=one)
    R, *_ = np.linalg.lstsq(Phi, Y + r_star, rcond=None)
    return R.T


# ---------------------------------------------------------------------------- main
_FITS: dict[tuple, tuple[Any, ConvexFit]] = {}     # best_linear_predictor results by input


def best_linear_predictor(
    Phi,
    Y,
    loss: Loss,
    *,
    weights=None,
    digits: int | None = None,
    max_iter: int = 200,
    rank_method="lapack",
    max_mp_size: int = 4000,
) -> ConvexFit:
    r"""``inf_R sum_i w_i l(R phi_i, y_i)`` over R in R^{d_y x k}, with certified bounds
    (computed once per process for the same data, loss object and options: every certified
    point of an instance, and every mutant evaluated there, asks for the same L*_x).

    ``Phi`` (m, k) are the features (X for L*_{x}, [X Z] for L*_{x,z}), ``Y`` (m, d_y) the
    targets, ``weights`` the empirical measure (default uniform 1/m; zero weights drop
    samples).  ``digits`` refines the result with mpmath Newton steps at that precision
    (problems with m * (d_y k)^2 <= ``max_mp_size`` * 100 only); the returned numbers are then
    mpf.  ``rank_method`` is the :func:`proofcheck.linalg.rank_cutoff` rule for rank decisions.

    See the module docstring for how each bound is obtained; ``certificate`` says which one was.

    >>> import numpy as np
    >>> from proofcheck.losses import LogisticLoss
    >>> Phi = np.array([[1.0], [1.0], [1.0]]); Y = np.array([[1.0], [1.0], [-1.0]])
    >>> fit = best_linear_predictor(Phi, Y, LogisticLoss())
    >>> fit.attained, fit.lower_bound <= fit.value <= fit.upper_bound
    (True, True)
    >>> bool(abs(float(fit.R[0, 0]) - np.log(2.0)) < 1e-12)   # sigma(r) = 2/3 at the optimum
    True
    """
    options = (digits, max_iter, rank_method, max_mp_size)
    try:
        arrays = [np.asarray(a, dtype=float) for a in (Phi, Y)]
        if weights is not None:
            arrays.append(np.asarray(weights, dtype=float))
        key = (tuple((a.shape, a.tobytes()) for a in arrays), weights is None, id(loss),
               repr(options))
    except (TypeError, ValueError):
        key = None
    if key is not None and key in _FITS and _FITS[key][0] is loss:
        fit = _FITS[key][1]
    else:
        fit = _best_linear_predictor(Phi, Y, loss, weights, *options)
        if key is not None:
            if len(_FITS) > 256:
                _FITS.clear()
            _FITS[key] = (loss, fit)     # the loss is kept alive: its id stays unique
    return replace(fit, R=fit.R.copy()) if isinstance(fit.R, np.ndarray) else fit


def _best_linear_predictor(Phi, Y, loss: Loss, weights, digits: int | None, max_iter: int,
                           rank_method, max_mp_size: int) -> ConvexFit:
    """The computation of :func:`best_linear_predictor` (its arguments, in order)."""
    Phi, Y, w, k = _prepare(Phi, Y, loss, weights)
    m_uniform = Phi.shape[0] if weights is None else None  # mpmath uses exactly 1/m then
    if digits is not None and (not isinstance(digits, int) or digits < 1):
        raise ValueError(f"digits must be a positive int, got {digits!r}")
    if not isinstance(max_iter, int) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive int, got {max_iter!r}")
    d = Y.shape[1]
    if digits is not None and Phi.shape[0] * (d * k) ** 2 > 100 * max_mp_size:
        raise ValueError(
            f"digits refinement is for small problems: m (d_y k)^2 = {Phi.shape[0] * (d * k) ** 2} "
            f"> {100 * max_mp_size}; raise max_mp_size or drop digits")

    if type(loss) is SquaredLoss:  # subclasses may redefine value: no closed form
        return _squared(Phi, Y, w, k, rank_method, digits, m_uniform)
    if type(loss) is SmoothedHinge and loss.convex:
        # separable data: a separating direction scaled to margins >= 1 gives exactly 0
        D, keep = _recession(Phi, Y, "binary")
        if D is not None and not keep.any():
            margins = Y[:, 0] * (Phi @ D[0])
            slack = (k + 2) * u * np.linalg.norm(D) * np.linalg.norm(Phi, axis=1)
            safe = np.maximum(margins, np.finfo(float).tiny)
            scale = float(np.max((1.0 + 2 * slack / safe) / margins))
            R = scale * D
            if np.all(Y[:, 0] * (Phi @ R[0]) >= 1.0 + scale * slack):
                return ConvexFit(value=0.0, R=R, grad_norm=0.0, lower_bound=0.0, upper_bound=0.0,
                                 attained=True, status="linearly separable: minimum 0 attained",
                                 iterations=0, method="lp",
                                 certificate="separating R with every margin >= 1 (+ rounding): "
                                             "f(R) = 0 = min l")
    if type(loss) is SmoothedHinge and loss.p == 1:
        return _plain_hinge(Phi, Y, w, k)
    if not loss.differentiable:
        raise ValueError(f"{loss!r} is not differentiable; only the plain hinge has a special "
                         f"solver")

    # ---- recession analysis for margin losses: is the infimum attained?
    direction, attained, notes = None, None, []
    rest_Phi, rest_Y, rest_w, rest_loss = Phi, Y, w, loss
    R0, its0 = np.zeros((d, k)), 0
    pre_certified = False
    if loss.convex and loss.margin_kind in ("binary", "softmax"):
        # First a short Newton run: if the local strong convexity certificate holds, a
        # minimiser provably exists (in the certified ball) and the LP is not needed.
        obj0 = _Objective(Phi, Y, w, loss)
        R1, its0, _, _ = _newton(obj0, R0, min(max_iter, 50))
        f1, g1, _, ferr1, gerr1 = obj0.full(R1)
        lb1 = _certify(obj0, R1, f1, ferr1, float(np.linalg.norm(g1)), gerr1, rank_method)[0]
        if lb1 is not None:
            pre_certified, attained, R0 = True, True, R1
            notes.append("attained: the strong convexity certificate places a minimiser in a "
                         "ball (separability LP not needed)")
    if loss.convex and loss.margin_kind in ("binary", "softmax") and not pre_certified:
        try:
            direction, keep = _recession(Phi, Y, loss.margin_kind)
        except RuntimeError as exc:
            direction, keep = None, None
            notes.append(str(exc))
        if keep is None:
            notes.append("separability LP inconclusive (direction failed re-verification)")
        elif direction is None:
            attained = True
            R0 = R1  # warm start from the first Newton pass
            notes.append("no recession direction (LP): f is coercive modulo its invariances, "
                         "so the infimum is attained")
        else:
            attained = False
            if loss.margin_kind == "binary":
                rest_Phi, rest_Y, rest_w = Phi[keep], Y[keep], w[keep]
                n_sep = int((~keep).sum())
                notes.append(f"{n_sep} of {len(keep)} samples linearly separated (LP): the "
                             "infimum is not attained")
            else:
                rest_loss = loss.restricted(keep)
                n_sep = int((~keep).sum())
                notes.append(f"{n_sep} sample-class pairs separated (LP): the infimum is not "
                             f"attained")
                if np.all(keep.sum(axis=1) == 1):
                    # one class left per sample, carrying all its target mass: every restricted
                    # loss is lse of one logit minus that logit, identically 0
                    return ConvexFit(value=0.0, R=np.zeros((d, k)), grad_norm=0.0, lower_bound=0.0,
                                     upper_bound=0.0, attained=False,
                                     status="linearly separable: infimum 0, not attained",
                                     iterations=0, direction=direction, method="lp",
                                     certificate="separating direction verified: f(tD) -> 0; "
                                                 "l >= 0",
                                     details={"notes": notes})
            if loss.margin_kind == "binary" and not keep.any():
                D = direction
                return ConvexFit(value=0.0, R=np.zeros((d, k)), grad_norm=0.0, lower_bound=0.0,
                                 upper_bound=0.0, attained=False,
                                 status="linearly separable: infimum 0, not attained", iterations=0,
                                 direction=D, method="lp",
                                 certificate="separating direction verified: f(tD) -> 0; l >= 0",
                                 details={"notes": notes})

    obj = _Objective(rest_Phi, rest_Y, rest_w, rest_loss)
    R, its, status, norms = _newton(obj, R0, max(max_iter - its0, 1))
    its += its0
    if not loss.convex:
        # a local method: also start where every residual R phi_i - y_i sits (as far as least
        # squares allows) at the loss's own minimiser; with an invertible square Phi that start
        # attains inf_R, and in general the better of the two runs is kept
        R2, its2, status2, norms2 = _newton(obj, _residual_minimiser_start(rest_Phi, rest_Y,
                                                                           loss), max_iter)
        its += its2
        if obj.full(R2)[0] < obj.full(R)[0]:
            R, status, norms = R2, status2 + "; from the residual-minimiser start", norms2
    f, g, _, ferr, gerr = obj.full(R)
    gn = float(np.linalg.norm(g))
    lb, cert, ub = None, "", f + ferr
    info: dict[str, Any] = {"notes": notes, "ferr": ferr, "gerr": gerr, "norms": norms}
    if loss.convex:
        lb, mu, radius, cert = _certify(obj, R, f, ferr, gn, gerr, rank_method)
        info.update(mu=mu, radius=radius)
        if lb is not None and attained is None and direction is None:
            attained = True  # the certificate puts a minimiser in the ball
        if lb is None and loss.minimum_value is not None:
            lb = float(loss.minimum_value * rest_w.sum())
            cert = cert + f"; fallback: l >= {loss.minimum_value}"
        if lb is not None:
            lb = min(lb, f)
            if loss.minimum_value is not None:
                lb = max(lb, float(loss.minimum_value * rest_w.sum()))
        if _diverging(norms, status.startswith("converged")) and attained is None:
            status = ("iterates diverge in norm while f decreases: the infimum is probably not "
                      "attained; " + status)
    else:
        cert = "loss not convex: the value is a local minimum at best; no lower bound"
        status = status + " (non-convex loss: local result only)"
        lb = None

    if attained is False:
        status = "infimum not attained (restricted problem: " + status + ")"

    if digits is not None:
        fmp, Rmp, gmp, its_mp = _refine_mp(obj, R, digits, m_uniform)
        with mpmath.workdps(digits + 10):
            tolmp = mpmath.mpf(10) ** (-(digits + 8)) * (obj.m + obj.n) * (1 + abs(fmp))
            lbmp = None
            if loss.convex:
                # certify afresh around the refined point (rounded to float64 for the curvature
                # bound; the rounding distance is subtracted from the radius)
                Rf = np.array(Rmp.tolist(), dtype=float)
                f2, g2, _, ferr2, gerr2 = obj.full(Rf)
                _, mu, rad, text = _certify(obj, Rf, f2, ferr2, float(np.linalg.norm(g2)), gerr2,
                                            rank_method)
                if rad == float("inf"):
                    lbmp = fmp - tolmp
                elif rad is not None:
                    dist = mpmath.sqrt(mpmath.fsum((a - mpmath.mpf(b)) ** 2
                                                   for a, b in zip(Rmp.ravel(), Rf.ravel())))
                    mu_mp, rad_mp = mpmath.mpf(mu), mpmath.mpf(rad)
                    if 2 * gmp / mu_mp < rad_mp - dist:
                        lbmp = fmp - tolmp - gmp**2 / (2 * mu_mp)
                        cert += f"; at {digits} digits: mu = {mu:.3e} on a ball of radius {rad:.2e}"
            if lbmp is None and lb is not None:
                lbmp = mpmath.mpf(lb)
            return ConvexFit(value=fmp, R=Rmp, grad_norm=gmp, lower_bound=lbmp,
                             upper_bound=fmp + tolmp, attained=attained,
                             status=status + f"; mpmath Newton {its_mp} steps at {digits} digits",
                             iterations=its + its_mp, direction=direction,
                             method="newton+mpmath", certificate=cert, details=info)
    return ConvexFit(value=f, R=R, grad_norm=gn, lower_bound=lb, upper_bound=ub, attained=attained,
                     status=status, iterations=its, direction=direction, method="newton",
                     certificate=cert, details=info)


# ------------------------------------------------------------------ general linear maps
def weights_or_uniform(weights, m: int) -> np.ndarray:
    """lambda_i: the given positive weights, or 1/m each.

    >>> weights_or_uniform(None, 4)
    array([0.25, 0.25, 0.25, 0.25])
    """
    if weights is None:
        return np.full(m, 1.0 / m)
    w = np.asarray(weights, dtype=float)
    if w.shape != (m,):
        raise ValueError(f"weights must have shape ({m},), got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ValueError("the weights lambda_i must be finite and > 0")
    return w


def _check_maps(J, Y, loss, weights):
    if not isinstance(loss, Loss):
        raise TypeError(f"loss must be a proofcheck.losses.Loss, got {type(loss).__name__}")
    J = np.asarray(J, dtype=float)
    Y = np.asarray(Y, dtype=float)
    if J.ndim != 3 or Y.ndim != 2 or J.shape[:2] != Y.shape:
        raise ValueError(f"J must be (m, d_y, n) and Y (m, d_y); got {J.shape} and {Y.shape}")
    if J.shape[2] == 0:
        raise ValueError("the basis is empty (n = 0)")
    if not (np.all(np.isfinite(J)) and np.all(np.isfinite(Y))):
        raise ValueError("J or Y contains NaN or inf")
    loss.validate_targets(Y)
    return J, Y, weights_or_uniform(weights, J.shape[0])


def _maps_cutoff(s, shape, rel_noise):
    """LAPACK's rank cutoff, raised to rel_noise * s_max when the columns are only known to that
    relative accuracy (e.g. difference quotients of Jacobians)."""
    return max(rank_cutoff(s, shape, "lapack"), rel_noise * float(s[0]))


def _squared_maps(J, Y, w, rel_noise=0.0) -> ConvexFit:
    """Weighted least squares: inf = ||P_N[A] b||^2 with A = [sqrt(lambda_i) J_i], b likewise."""
    m, d, n = J.shape
    sw = np.sqrt(w)
    A = (sw[:, None, None] * J).reshape(m * d, n)
    b = (sw[:, None] * Y).reshape(m * d)
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    r = int(np.sum(s > _maps_cutoff(s, A.shape, rel_noise))) if s.size and s[0] > 0 else 0
    alpha = Vt[:r].T @ ((U[:, :r].T @ b) / s[:r]) if r else np.zeros(n)
    # a posteriori bracket: r = b - A alpha is evaluated with error <= ev (dot products of
    # length n, Higham 3.5); over the kept column space the infimum is ||r||^2 - ||Q^T r||^2
    # (Q an orthonormal basis of it), so the bracket is second order in the solve's error
    res = b - A @ alpha
    ev = 16 * (n + 2) * u * (float(np.linalg.norm(b)) + float(np.linalg.norm(A, 2) if r else 0.0)
                             * float(np.linalg.norm(alpha)))
    rn = float(np.linalg.norm(res))
    gap = float(np.linalg.norm(U[:, :r].T @ res)) + ev if r else 0.0
    value = rn * rn
    lower = max(0.0, max(0.0, rn - ev) ** 2 - gap ** 2)
    upper = (rn + ev) ** 2
    text = (f"weighted least squares over the column space of numerical rank {r} of {n} "
            f"(LAPACK cutoff{', raised to the columns relative accuracy' if rel_noise else ''}); "
            "a posteriori bracket ||r||^2 - ||Q^T r||^2 with evaluation error")
    return ConvexFit(value=value, R=alpha, lower_bound=min(lower, value), upper_bound=upper,
                     attained=True, certificate=text, method="svd_lstsq", details={"rank": r})


def _recession_maps(J, Y, tol):
    """A direction d along which every l(J_i alpha + t J_i d, y_i) is non-increasing and one
    strictly decreasing (softmax cross-entropy): LP on the margins, or None."""
    m, d, n = J.shape
    A_ub, objective_row = [], np.zeros(n)
    for i in range(m):
        supp = np.flatnonzero(Y[i] > 0)
        for k in supp:
            for j in range(d):
                if j in supp and j == k:
                    continue
                row = J[i, j] - J[i, k]          # (J_i d)_j - (J_i d)_k <= 0
                A_ub.append(row)
                if j not in supp:
                    objective_row += row          # maximise the strict margins
    if not A_ub:
        return None
    res = linprog(objective_row, A_ub=np.array(A_ub), b_ub=np.zeros(len(A_ub)),
                  bounds=[(-1, 1)] * n, method="highs")
    if res.status != 0 or -res.fun <= tol:
        return None
    return res.x


def _nonconvex_maps(J, Y, w, loss) -> ConvexFit:
    """A non-convex loss (experiments outside convex losses): local descent (BFGS) from alpha = 0
    and from the least-squares fit of y_i + r* (r* minimises r -> l(y + r, y)); the best value
    found is an upper bound on the infimum and nothing bounds it below."""
    from scipy.optimize import minimize
    m, d, n = J.shape
    obj = _MapObjective(J, Y, w, loss)
    fun = lambda a: obj.full(a, hessian=False)[:2]
    one = lambda r: float(loss.value(np.asarray(r)[None, :], np.zeros((1, d)))[0])
    r_star = min((minimize(one, t * np.ones(d)).x for t in (-2.0, -1.0, 0.0, 1.0, 2.0)), key=one)
    A = J.reshape(m * d, n)
    starts = [np.zeros(n), np.linalg.lstsq(A, (Y + r_star).reshape(-1), rcond=None)[0]]
    best = min((minimize(fun, a0, jac=True, method="BFGS") for a0 in starts), key=lambda r: r.fun)
    ferr = obj.full(best.x, hessian=False)[3]
    return ConvexFit(value=float(best.fun), R=best.x, lower_bound=-float("inf"),
                     upper_bound=float(best.fun) + ferr, attained=None, method="bfgs",
                     certificate="non-convex loss: a local descent value (upper bound only)")


def maps_infimum(J, Y, loss: Loss, weights=None, *, rel_noise: float = 0.0,
                 max_iter: int = 200) -> ConvexFit:
    """inf_alpha sum_i lambda_i l(J_i alpha, y_i) for per-sample linear maps J (m, d_y, n).

    Squared loss: closed-form weighted least squares with an a posteriori bracket.  Otherwise
    the problem is solved in an orthonormal basis of the column space of J (the infimum depends
    on it only; columns known to relative accuracy ``rel_noise`` keep only the directions above
    it).  d_y = 1: :func:`best_linear_predictor` with features J_i^T.  d_y > 1 (softmax
    cross-entropy): damped Newton, a lower bound from local strong convexity (which proves the
    infimum attained) or, failing that, a recession direction found by a linear program (the
    infimum is then *not attained*; the value returned is the best value reached, an upper
    bound, and the lower bound is the loss's minimum value).  A non-convex loss gets local
    descent and an upper bound only (``lower_bound = -inf``): use it only to refute.

    >>> from proofcheck.losses import SquaredLoss
    >>> J = np.array([[[1.0, 0.0]], [[0.0, 1.0]], [[1.0, 1.0]]])
    >>> Y = np.array([[1.0], [1.0], [0.0]])
    >>> fit = maps_infimum(J, Y, SquaredLoss())
    >>> fit.attained, round(fit.value, 12)     # alpha = (1, 1) / 3, residuals (2, 2, -2) / 3
    (True, 0.444444444444)
    """
    J, Y, w = _check_maps(J, Y, loss, weights)
    if not loss.differentiable:
        raise ValueError(f"{loss!r} is not differentiable (the induced problem needs a "
                         f"differentiable loss)")
    if not loss.convex:
        return _nonconvex_maps(J, Y, w, loss)
    if not (0 <= rel_noise < 1):
        raise ValueError(f"rel_noise must be in [0, 1), got {rel_noise!r}")
    if type(loss) is SquaredLoss:
        return _squared_maps(J, Y, w, rel_noise)
    m, d, n = J.shape
    # the infimum depends on the column space only: solve in an orthonormal basis of it
    # (well conditioned for Newton); columns known to rel_noise only keep the numerically
    # independent directions above that noise
    A = J.reshape(m * d, n)
    U, s, _ = np.linalg.svd(A, full_matrices=False)
    r = int(np.sum(s > _maps_cutoff(s, A.shape, rel_noise))) if s.size and s[0] > 0 else 0
    if r == 0:      # the basis spans {0}: the only output is f = 0
        f0 = float(w @ loss.value(np.zeros_like(Y), Y))
        err = 16 * (m + 2) * u * (1 + abs(f0))
        return ConvexFit(value=f0, R=np.zeros(n), lower_bound=f0 - err, upper_bound=f0 + err,
                         attained=True, certificate="the basis is zero: the infimum is L at f = 0")
    J = U[:, :r].reshape(m, d, r)     # orthonormal: well conditioned
    n = r
    if d == 1:
        fit = best_linear_predictor(J[:, 0, :], Y, loss, weights=w)
        return ConvexFit(value=float(fit.value), R=np.asarray(fit.R, float)[0],
                         lower_bound=float(fit.lower_bound) if fit.lower_bound is not None
                         else float(loss.minimum_value or 0.0) * float(w.sum()),
                         upper_bound=float(fit.upper_bound), attained=fit.attained,
                         certificate="optimize.convex.best_linear_predictor: " + fit.certificate,
                         direction=None if fit.direction is None
                         else np.asarray(fit.direction)[0],
                         grad_norm=fit.grad_norm, status=fit.status, iterations=fit.iterations,
                         method=fit.method, details=fit.details)
    # Q_i J_i (the loss's curved projector applied to orthonormal columns) is formed with
    # error <= 16 max(m d, n) u: singular values below that are not distinguishable from 0
    obj = _MapObjective(J, Y, w, loss, max(rel_noise, 16 * max(m * d, n) * u))
    a, its, status, _ = _newton(obj, np.zeros(n), max_iter)
    f, g, _, ferr, gerr = obj.full(a)
    gn = float(np.linalg.norm(g))
    lb, mu, radius, text = _certify(obj, a, f, ferr, gn, gerr, "lapack")
    common = dict(grad_norm=gn, status=status, iterations=its, method="newton",
                  details={"mu": mu, "radius": radius, "ferr": ferr, "gerr": gerr})
    if lb is not None:
        return ConvexFit(value=f, R=a, lower_bound=min(lb, f), upper_bound=f + ferr,
                         attained=True, certificate=text, **common)
    scale = float(np.abs(J).max()) if J.size else 1.0
    direction = _recession_maps(J, Y, 16 * n * m * d * u * max(scale, 1.0))
    floor = float(loss.minimum_value or 0.0) * float(w.sum())
    return ConvexFit(value=f, R=a, lower_bound=floor, upper_bound=f + ferr,
                     attained=False if direction is not None else None,
                     certificate=("recession direction (LP): the infimum is not attained; "
                                  "bracket [min l, best value]") if direction is not None
                     else "undecided: " + text, direction=direction, **common)
