r"""A ResNet with a scalar output and a skip to the input, its derivatives in (w, V), and its
vector twin.

The network is  p(x) = w^T (x + V f_θ(x)),  w in R^{d_x}, V in R^{d_x x d_z}, and

    F(w, V, θ) = E ℓ(w^T (x + V f_θ(x)); y),        F_lin(w) = F(w, 0, θ) = E ℓ(w^T x; y).

θ is held fixed: the data carry the features ``Fx`` (rows f_θ(x_i)), so F_θ(w, V) is a function
of (w, vec V) only, with ``vec`` column-major (V_{ij} sits at i + d_x j). With a_i = x_i + V f_i
and J_i = (a_i, f_i ⊗ w) = ∂p_i/∂(w, vec V), the derivatives are

    ∇F_θ   = E[ℓ'  J],
    ∇²F_θ  = E[ℓ'' J J^T] + [[0, r^T ⊗ I], [r ⊗ I, 0]],     r = E[ℓ' f]   (the block ∂²/∂w∂vec V),

which at w = 0 is an arrow structure (only r couples w and V). Every routine is batched over
leading axes (the engine stacks instances of one shape) and runs on float64 arrays or numpy
object arrays of ``mpmath.mpf`` (pass the backend ``B`` of the conclusion).

>>> import numpy as np
>>> from proofcheck.losses import SquaredLoss
>>> net = ScalarResNet(X=np.eye(2), y=np.array([1.0, 0.0]), Fx=np.ones((2, 1)), loss=SquaredLoss())
>>> w, V = np.array([1.0, 0.0]), np.zeros((2, 1))
>>> float(net.value(w, V)), float(net.linear_value(w))   # p = (1, 0) = y
(0.0, 0.0)
>>> net.hessian(w, V).shape                                # d_x + d_x d_z = 4 parameters
(4, 4)

:class:`VectorResNet` is the vector-output F(W, V, θ) = E ℓ(W(x + V f_θ(x)); y) (value and
gradient).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np

from .linalg import unvec, vec
from .losses import LogisticLoss, SmoothedHinge, SquaredLoss, UNIT_ROUNDOFF

__all__ = ["ScalarResNet", "VectorResNet", "vec", "unvec", "flat_params", "split_params",
           "loss_terms", "vector_loss_terms", "tanh_features", "relu_features",
           "loss_derivative_bounds", "LipschitzBounds", "scalar_instances", "scalar_data",
           "piecewise_third_bound", "critical_V"]


# ------------------------------------------------------------------------------- helpers

def _is_mp(a) -> bool:
    return isinstance(a, np.ndarray) and a.dtype == object


def flat_params(w, V):
    """(w, vec V) as one vector, the order of ∇F_θ and ∇²F_θ."""
    return np.concatenate([np.asarray(w), vec(V)], axis=-1)


def split_params(p, d_x: int, d_z: int):
    """Inverse of :func:`flat_params`."""
    p = np.asarray(p)
    if p.shape[-1] != d_x + d_x * d_z:
        raise ValueError(f"p has {p.shape[-1]} entries; expected d_x + d_x d_z = "
                         f"{d_x + d_x * d_z}")
    return p[..., :d_x], unvec(p[..., d_x:], (d_x, d_z))


def _sqrt(a):
    return np.frompyfunc(mpmath.sqrt, 1, 1)(a) if _is_mp(a) else np.sqrt(a)


def _mp_array(values, shape):
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out.reshape(shape)


def loss_terms(loss, p, y, order: int = 2):
    """(ℓ, ℓ', ℓ'') of a scalar loss at predictions ``p`` (..., m) and targets ``y`` (..., m).

    float64 arrays use the loss's batched methods; mpf object arrays its one-sample mpmath
    methods at the current precision. Entries beyond ``order`` are None.
    """
    if _is_mp(p) or _is_mp(y):
        P, Y = np.asarray(p, dtype=object), np.asarray(y, dtype=object)
        idx = list(np.ndindex(*P.shape))
        vals = _mp_array([loss.value_mp([P[i]], [Y[i]]) for i in idx], P.shape)
        d1 = d2 = None
        if order >= 1:
            d1 = _mp_array([loss.grad_mp([P[i]], [Y[i]])[0] for i in idx], P.shape)
        if order >= 2:
            d2 = _mp_array([loss.hess_mp([P[i]], [Y[i]])[0, 0] for i in idx], P.shape)
        return vals, d1, d2
    P, Y = np.asarray(p, float)[..., None], np.asarray(y, float)[..., None]
    vals = loss.value(P, Y)
    d1 = loss.grad(P, Y)[..., 0] if order >= 1 else None
    d2 = loss.hess(P, Y)[..., 0, 0] if order >= 2 else None
    return vals, d1, d2


def vector_loss_terms(loss, H, Y, order: int = 1):
    """(ℓ, ∇ℓ) of a vector loss at outputs ``H`` (..., m, d_y); mpf object arrays supported."""
    if _is_mp(H) or _is_mp(Y):
        H, Y = np.asarray(H, dtype=object), np.asarray(Y, dtype=object)
        idx = list(np.ndindex(*H.shape[:-1]))
        vals = _mp_array([loss.value_mp(list(H[i]), list(Y[i])) for i in idx], H.shape[:-1])
        D = None
        if order >= 1:
            D = np.empty(H.shape, dtype=object)
            for i in idx:
                D[i] = loss.grad_mp(list(H[i]), list(Y[i]))
        return vals, D
    vals = loss.value(H, Y)
    return vals, (loss.grad(H, Y) if order >= 1 else None)


def tanh_features(X, A):
    """f_θ(x) = tanh(A x) for each row x of X; θ = A (d_z, d_x)."""
    return np.tanh(np.asarray(X, float) @ np.asarray(A, float).T)


def relu_features(X, A, c):
    """f_θ(x) = max(0, A x + c): a random ReLU layer (not differentiable in θ; only (w, V) are
    differentiated)."""
    return np.maximum(0.0, np.asarray(X, float) @ np.asarray(A, float).T + np.asarray(c, float))


def _check_finite(name, a):
    arr = np.asarray(a)
    if arr.dtype != object:
        if not np.issubdtype(arr.dtype, np.number):
            raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or inf")
    return arr


# ------------------------------------------------------------------------------- the model

@dataclass(frozen=True, eq=False)
class ScalarResNet:
    """F_θ(w, V) = (1/m) Σ_i ℓ(w^T(x_i + V f_i); y_i) for data X (..., m, d_x), targets
    y (..., m) and features Fx (..., m, d_z) (rows f_θ(x_i), θ fixed). Leading axes batch."""

    X: Any
    y: Any
    Fx: Any
    loss: Any

    def __post_init__(self):
        X, y, Fx = (_check_finite(n, a) for n, a in (("X", self.X), ("y", self.y),
                                                      ("Fx", self.Fx)))
        if X.ndim < 2 or Fx.ndim < 2 or y.ndim < 1:
            raise ValueError(f"X (..., m, d_x), y (..., m), Fx (..., m, d_z) expected; got "
                             f"{X.shape}, {y.shape}, {Fx.shape}")
        if X.shape[:-1] != y.shape or Fx.shape[:-1] != y.shape:
            raise ValueError(f"sample axes disagree: X {X.shape}, y {y.shape}, Fx {Fx.shape}")
        if X.shape[-2] == 0 or X.shape[-1] == 0 or Fx.shape[-1] == 0:
            raise ValueError("m, d_x and d_z must be positive")
        for attr in ("value", "grad", "hess"):
            if not callable(getattr(self.loss, attr, None)):
                raise TypeError(f"loss must provide .{attr}; got {self.loss!r}")
        if getattr(self.loss, "output_dim", None) not in (None, 1):
            raise ValueError(f"{self.loss!r} has vector outputs; use VectorResNet")
        for n, a in (("X", X), ("y", y), ("Fx", Fx)):
            object.__setattr__(self, n, a)

    @classmethod
    def from_instance(cls, inst, B=None) -> ScalarResNet:
        """The model of an instance with fields X, y, Fx, loss, converted by backend ``B``."""
        conv = (lambda a: a) if B is None else B.asarray
        return cls(conv(inst.X), conv(inst.y), conv(inst.Fx), inst.loss)

    @property
    def m(self) -> int:
        return self.X.shape[-2]

    @property
    def d_x(self) -> int:
        return self.X.shape[-1]

    @property
    def d_z(self) -> int:
        return self.Fx.shape[-1]

    @property
    def n_params(self) -> int:
        return self.d_x + self.d_x * self.d_z

    def _check_point(self, w, V):
        w, V = np.asarray(w), np.asarray(V)
        if w.shape[-1:] != (self.d_x,) or V.shape[-2:] != (self.d_x, self.d_z):
            raise ValueError(f"w must be (..., {self.d_x}) and V (..., {self.d_x}, {self.d_z}); "
                             f"got {w.shape}, {V.shape}")
        return _check_finite("w", w), _check_finite("V", V)

    def _mean(self, a):
        return a.sum(axis=-1) / self.m

    # ---- forward
    def residual_inputs(self, V):
        """a_i = x_i + V f_i as rows: (..., m, d_x)."""
        return self.X + np.einsum("...ij,...mj->...mi", V, self.Fx)

    def outputs(self, w, V):
        """(A, p): rows a_i = x_i + V f_i and predictions p_i = w^T a_i."""
        w, V = self._check_point(w, V)
        A = self.residual_inputs(V)
        return A, np.einsum("...mi,...i->...m", A, w)

    def value(self, w, V):
        """F_θ(w, V)."""
        _, p = self.outputs(w, V)
        return self._mean(loss_terms(self.loss, p, self.y, 0)[0])

    def linear_value(self, w):
        """F_lin(w) = E ℓ(w^T x; y)."""
        w = _check_finite("w", w)
        if w.shape[-1:] != (self.d_x,):
            raise ValueError(f"w must be (..., {self.d_x}), got {w.shape}")
        p = np.einsum("...mi,...i->...m", self.X, w)
        return self._mean(loss_terms(self.loss, p, self.y, 0)[0])

    def linear_gradient(self, w):
        """∇F_lin(w) = E[ℓ'(w^T x; y) x]."""
        w = _check_finite("w", w)
        p = np.einsum("...mi,...i->...m", self.X, w)
        d1 = loss_terms(self.loss, p, self.y, 1)[1]
        return np.einsum("...m,...mi->...i", d1, self.X) / self.m

    # ---- derivatives in (w, vec V)
    def _jacobian(self, w, A):
        """J_i = ∂p_i/∂(w, vec V) = (a_i, f_i ⊗ w): (..., m, d_x + d_x d_z)."""
        fw = self.Fx[..., :, :, None] * w[..., None, None, :]          # (..., m, d_z, d_x)
        return np.concatenate([A, fw.reshape(fw.shape[:-2] + (self.d_x * self.d_z,))], axis=-1)

    def gradient(self, w, V):
        """(∂F/∂w, ∂F/∂V) = (E[ℓ' (x + V f)], E[ℓ' w f^T])."""
        w, V = self._check_point(w, V)
        A, p = self.outputs(w, V)
        d1 = loss_terms(self.loss, p, self.y, 1)[1]
        gw = np.einsum("...m,...mi->...i", d1, A) / self.m
        gV = np.einsum("...m,...i,...mj->...ij", d1, w, self.Fx) / self.m
        return gw, gV

    def flat_gradient(self, w, V):
        """∇F_θ(w, V) as one vector (w, vec V)."""
        gw, gV = self.gradient(w, V)
        return flat_params(gw, gV)

    def r_vector(self, w, V):
        """r = E[ℓ'(p; y) f]: the off-diagonal block of ∇²F_θ at w = 0 (where p = 0)."""
        _, p = self.outputs(w, V)
        d1 = loss_terms(self.loss, p, self.y, 1)[1]
        return np.einsum("...m,...mj->...j", d1, self.Fx) / self.m

    def hessian(self, w, V):
        """∇²F_θ(w, V) in (w, vec V): E[ℓ'' J J^T] plus the ℓ'-weighted cross block r^T ⊗ I."""
        w, V = self._check_point(w, V)
        A, p = self.outputs(w, V)
        _, d1, d2 = loss_terms(self.loss, p, self.y, 2)
        J = self._jacobian(w, A)
        H = np.einsum("...m,...mk,...ml->...kl", d2, J, J) / self.m
        r = np.einsum("...m,...mj->...j", d1, self.Fx) / self.m
        dx = self.d_x
        eye = np.eye(dx) if not _is_mp(r) else _mp_eye(dx)
        # ∂²p/∂w_i ∂V_kj = δ_ik f_j: the block (i, k + d_x j) is δ_ik r_j = (r^T ⊗ I)[i, k + d_x j]
        cross = (r[..., None, :, None] * eye[:, None, :])
        cross = cross.reshape(r.shape[:-1] + (dx, dx * self.d_z))
        H = H.copy() if not _is_mp(H) else H
        H[..., :dx, dx:] = H[..., :dx, dx:] + cross
        H[..., dx:, :dx] = H[..., dx:, :dx] + np.swapaxes(cross, -1, -2)
        return H

    def hessian_ww(self, w, V):
        """∂²F/∂w² = E[ℓ'' a a^T]."""
        A, p = self.outputs(w, V)
        d2 = loss_terms(self.loss, p, self.y, 2)[2]
        return np.einsum("...m,...mk,...ml->...kl", d2, A, A) / self.m

    def hessian_abs_bound(self, w, V):
        """Entrywise bound E[|ℓ''| |J| |J|^T] + |cross block| on the terms summed in
        :meth:`hessian`: its rounding error is at most γ_{m+4} times this (Higham §3.1)."""
        A, p = self.outputs(w, V)
        _, d1, d2 = loss_terms(self.loss, p, self.y, 2)
        J = np.abs(self._jacobian(w, A))
        H = np.einsum("...m,...mk,...ml->...kl", np.abs(d2), J, J) / self.m
        r = np.einsum("...m,...mj->...j", np.abs(d1), np.abs(self.Fx)) / self.m
        dx = self.d_x
        cross = (r[..., None, :, None] * np.eye(dx)[:, None, :]).reshape(
            r.shape[:-1] + (dx, dx * self.d_z))
        H[..., :dx, dx:] += cross
        H[..., dx:, :dx] += np.swapaxes(cross, -1, -2)
        return H

    # ---- baselines
    def best_linear(self, radius: float | None = None):
        """A best linear predictor w* (float64, one instance): argmin F_lin, or argmin over
        {||w|| <= radius} (damped Newton on the convex F_lin, pulled into the ball; the result is
        feasible by construction, which is all a bound 'for any ||w*|| <= r' needs).

        Unconstrained problems go to :func:`proofcheck.optimize.convex.best_linear_predictor`
        (certified bracket); its ``R`` may be far out on a recession direction when the
        infimum is not attained (separable data)."""
        if np.ndim(self.X) != 2:
            raise ValueError("best_linear works on one instance (X of shape (m, d_x))")
        if radius is None:
            from .optimize.convex import best_linear_predictor
            fit = best_linear_predictor(np.asarray(self.X, float),
                                        np.asarray(self.y, float)[:, None], self.loss)
            return np.asarray(fit.R, float)[0]
        if not (radius >= 0 and math.isfinite(radius)):
            raise ValueError(f"radius must be finite and >= 0, got {radius}")
        return _ball_minimiser(self, float(radius))

    # ---- Lipschitz constants on M = {||w|| < b, ||V|| < b}
    def lipschitz_bounds(self, b: float) -> LipschitzBounds:
        """Upper bounds μ0, μ1, μ2 on the Lipschitz constants of F_θ, ∇F_θ, ∇²F_θ on the convex
        set M = {(w, V): ||w|| < b, ||V|| < b} (one instance, float64, rounded up).

        Per sample, on M: |p| <= P = b(||x|| + b||f||), ||J|| <= g with
        g^2 = (||x|| + b||f||)^2 + b^2 ||f||^2, the second derivative of p is the bilinear
        form 2 dw^T dV f of norm <= ||f||, its third derivative is 0. With c_k = sup_{|p|<=P}
        |ℓ^(k)(p; y)| (ℓ''' read as the Lipschitz constant of ℓ''):
        μ0 = E c1 g, μ1 = E[c2 g^2 + c1 ||f||], μ2 = E[c3 g^3 + 3 c2 g ||f||]
        (chain rule: D^3 F = E[ℓ''' (Jh)^3 + 3 ℓ'' (Jh)(h^T S h)]).
        """
        X, y, Fx = (np.asarray(a, float) for a in (self.X, self.y, self.Fx))
        if X.ndim != 2:
            raise ValueError("lipschitz_bounds works on one instance")
        if not (b > 0 and math.isfinite(b)):
            raise ValueError(f"b must be positive and finite, got {b}")
        nx, nf = np.linalg.norm(X, axis=1), np.linalg.norm(Fx, axis=1)
        g = np.sqrt((nx + b * nf) ** 2 + (b * nf) ** 2)
        P = b * (nx + b * nf)
        c1, c2, c3 = loss_derivative_bounds(self.loss, P, y)
        mu0 = np.mean(c1 * g)
        mu1 = np.mean(c2 * g ** 2 + c1 * nf)
        mu2 = np.mean(c3 * g ** 3 + 3 * c2 * g * nf)
        up = 1 + 8 * (self.m + 8) * UNIT_ROUNDOFF      # round the float64 sums up
        # Lipschitz constants are *positive*; any larger constant stays a Lipschitz bound,
        # so a vanishing one (e.g. f = 0, or a constant Hessian) is floored at 2^-20
        floor = 2.0 ** -20
        return LipschitzBounds(b=float(b), mu0=max(float(mu0 * up), floor),
                               mu1=max(float(mu1 * up), floor), mu2=max(float(mu2 * up), floor))


@dataclass(frozen=True)
class LipschitzBounds:
    """Lipschitz constants of F_θ, ∇F_θ, ∇²F_θ on {||w|| < b, ||V|| < b} (upper bounds)."""

    b: float
    mu0: float
    mu1: float
    mu2: float


def loss_derivative_bounds(loss, P, y):
    """(c1, c2, c3): sup over |p| <= P of |ℓ'|, |ℓ''| and the Lipschitz constant of ℓ''.

    Known for the scalar losses of Assumption 1; raises ValueError for others (their Hessian
    need not be Lipschitz, e.g. (1 - yp)_+^2, whose ℓ'' jumps).
    """
    P, y = np.asarray(P, float), np.asarray(y, float)
    if type(loss) is SquaredLoss:                    # ℓ = (p - y)^2
        return 2 * (P + np.abs(y)), np.full(P.shape, 2.0), np.zeros(P.shape)
    if type(loss) is LogisticLoss:                   # ℓ' = -y σ(-yp): |ℓ'| < 1, ℓ'' <= 1/4,
        # |ℓ'''| = |σ(1-σ)(1-2σ)| <= 1/(6 sqrt 3) (maximised where σ = 1/2 ± 1/(2 sqrt 3))
        return np.ones(P.shape), np.full(P.shape, 0.25), np.full(P.shape, 1 / (6 * math.sqrt(3)))
    if type(loss) is SmoothedHinge and loss.p >= 3:  # ℓ = s^p, s = (1 - yp)_+ <= 1 + P
        p, s = float(loss.p), 1 + P
        return p * s ** (p - 1), p * (p - 1) * s ** (p - 2), p * (p - 1) * (p - 2) * s ** (p - 3)
    from .losses import TiltedDoubleWell
    if type(loss) is TiltedDoubleWell:               # ℓ = (t^2 - 1)^2 + a t, t = p - y
        T = P + np.abs(y)
        return 4 * (T ** 3 + T) + abs(loss.a), 12 * T ** 2 + 4, 24 * T
    raise ValueError(f"no Lipschitz bound for the second derivative of {loss!r}")


def _mp_eye(n):
    out = np.full((n, n), mpmath.mpf(0), dtype=object)
    for i in range(n):
        out[i, i] = mpmath.mpf(1)
    return out


def _ball_minimiser(net: ScalarResNet, radius: float) -> np.ndarray:
    """A low-F_lin point of the ball {||w|| <= radius}: damped Newton on the convex F_lin,
    each iterate pulled back into the ball (radial projection), with Armijo backtracking.

    This is cheap (the instance generators call it for every draw) and feasible by
    construction; it is near, not exactly at, the constrained minimiser when the constraint is
    active. The bounds that use it hold for *every* w* in the ball, so only their tightness,
    never their validity, depends on how good it is."""
    X, y = np.asarray(net.X, float), np.asarray(net.y, float)
    w = np.zeros(net.d_x)
    if radius == 0:
        return w

    def proj(v):
        n = np.linalg.norm(v)
        return v if n <= radius else v * (radius / n) * (1 - 4 * UNIT_ROUNDOFF)

    f = lambda v: float(net.linear_value(v))
    fw = f(w)
    for _ in range(30):
        p = X @ w
        _, d1, d2 = loss_terms(net.loss, p, y, 2)
        g = X.T @ d1 / net.m
        H = (X.T * d2) @ X / net.m
        lam = 1e-10 * (1 + np.trace(H))
        step = -np.linalg.solve(H + lam * np.eye(net.d_x), g)
        t = 1.0
        while t > 1e-8:
            cand = proj(w + t * step)
            fc = f(cand)
            if fc <= fw - 1e-4 * t * max(-(g @ step), 0.0):
                break
            t /= 2
        if t <= 1e-8 or fw - fc <= 1e-15 * (1 + abs(fw)):
            if fc < fw:
                w, fw = cand, fc
            break
        w, fw = cand, fc
    if np.linalg.norm(w) >= radius * (1 - 1e-6):
        # constraint active: projected gradient steps (radial projection is the Euclidean one
        # onto the ball), backtracking from the inverse of the local curvature
        for _ in range(200):
            p = X @ w
            _, d1, d2 = loss_terms(net.loss, p, y, 2)
            g = X.T @ d1 / net.m
            L = max(float(np.linalg.eigvalsh((X.T * d2) @ X / net.m)[-1]), 1e-12)
            t = 2.0 / L
            while t > 1e-12:
                cand = proj(w - t * g)
                fc = f(cand)
                if fc <= fw - 0.25 * float((w - cand) @ (w - cand)) / t:
                    break
                t /= 2
            if t <= 1e-12 or fw - fc <= 1e-14 * (1 + abs(fw)):
                break
            w, fw = cand, fc
    return w


# ------------------------------------------------------------------------------- vector output

@dataclass(frozen=True, eq=False)
class VectorResNet:
    """F_θ(W, V) = (1/m) Σ ℓ(W(x_i + V f_i); y_i), W (..., d_y, d_x), targets Y (..., m, d_y)."""

    X: Any
    Y: Any
    Fx: Any
    loss: Any

    def __post_init__(self):
        X, Y, Fx = (_check_finite(n, a) for n, a in (("X", self.X), ("Y", self.Y),
                                                      ("Fx", self.Fx)))
        if X.ndim < 2 or Y.ndim < 2 or Fx.ndim < 2:
            raise ValueError(f"X, Y, Fx must be (..., m, d); got {X.shape}, {Y.shape}, {Fx.shape}")
        if X.shape[:-1] != Y.shape[:-1] or Fx.shape[:-1] != Y.shape[:-1]:
            raise ValueError(f"sample axes disagree: X {X.shape}, Y {Y.shape}, Fx {Fx.shape}")
        for n, a in (("X", X), ("Y", Y), ("Fx", Fx)):
            object.__setattr__(self, n, a)

    @classmethod
    def from_instance(cls, inst, B=None) -> VectorResNet:
        conv = (lambda a: a) if B is None else B.asarray
        return cls(conv(inst.X), conv(inst.Y), conv(inst.Fx), inst.loss)

    @property
    def m(self) -> int:
        return self.X.shape[-2]

    def _check(self, W, V):
        W, V = _check_finite("W", W), _check_finite("V", V)
        d_y, d_x, d_z = self.Y.shape[-1], self.X.shape[-1], self.Fx.shape[-1]
        if W.shape[-2:] != (d_y, d_x) or V.shape[-2:] != (d_x, d_z):
            raise ValueError(f"W must be (..., {d_y}, {d_x}) and V (..., {d_x}, {d_z}); got "
                             f"{W.shape}, {V.shape}")
        return W, V

    def outputs(self, W, V):
        """(A, H): rows a_i = x_i + V f_i and outputs h_i = W a_i."""
        W, V = self._check(W, V)
        A = self.X + np.einsum("...ij,...mj->...mi", V, self.Fx)
        return A, np.einsum("...mi,...ki->...mk", A, W)

    def value(self, W, V):
        _, H = self.outputs(W, V)
        return vector_loss_terms(self.loss, H, self.Y, 0)[0].sum(axis=-1) / self.m

    def linear_value(self, W):
        """F_lin(W) = E ℓ(W x; y)."""
        H = np.einsum("...mi,...ki->...mk", self.X, W)
        return vector_loss_terms(self.loss, H, self.Y, 0)[0].sum(axis=-1) / self.m

    def gradient(self, W, V):
        """(∂F/∂W, ∂F/∂V) = (E[d (x + V f)^T], E[W^T d f^T])."""
        A, H = self.outputs(W, V)
        D = vector_loss_terms(self.loss, H, self.Y, 1)[1]
        gW = np.einsum("...mk,...mi->...ki", D, A) / self.m
        gV = np.einsum("...ki,...mk,...mj->...ij", W, D, self.Fx) / self.m
        return gW, gV


# ------------------------------------------------------------------------------- instances

#: Scalar losses of Assumption 1 by name (convex, twice differentiable), and two that violate it.
def _losses():
    from .losses import TiltedDoubleWell
    return {"squared": SquaredLoss(), "logistic": LogisticLoss(),
            "smoothed_hinge3": SmoothedHinge(3), "smoothed_hinge2": SmoothedHinge(2),
            "double_well": TiltedDoubleWell(0.5)}


def scalar_data(loss_name: str, m: int, d_x: int, d_z: int, feature: str, rng):
    """Data (X, y, Fx) for one instance: Gaussian inputs, features f_θ(x) = tanh(A x) or a
    random ReLU layer max(0, A x + c) (θ = (A, c) fixed), targets suited to the loss (±1 labels
    correlated with the data for margin losses, noisy linear-plus-feature targets otherwise)."""
    X = rng.normal(size=(m, d_x))
    A = rng.normal(size=(d_z, d_x))
    Fx = tanh_features(X, A) if feature == "tanh" else relu_features(X, A, rng.normal(size=d_z))
    signal = X @ rng.normal(size=d_x) + Fx @ rng.normal(size=d_z)
    if loss_name in ("logistic", "smoothed_hinge3", "smoothed_hinge2"):
        flip = rng.random(m) < 0.2
        y = np.where((signal > 0) ^ flip, 1.0, -1.0)
    else:
        y = signal + 0.5 * rng.normal(size=m)
    return X, y, Fx


def scalar_instances(*, losses=("squared", "logistic", "smoothed_hinge3"), w: str = "any",
                     w_star: str = "mixed", max_m: int = 6, max_d: int = 3,
                     V_zero: bool = False):
    """Hypothesis strategy of instances of F_θ at a point (w, V) with a comparison vector w*.

    Fields: X, y, Fx, loss, loss_name, w, V, w_star. ``w``: "nonzero" (scaled by 10^U(-2, 1) so
    that small ||w||, where bounds with a ||V||/||w|| term are tight, is covered), "zero", or "any";
    ``w_star``: "best" (a best linear predictor), "drawn" (Gaussian, may be 0 never), "mixed".
    """
    from hypothesis import strategies as st
    from .claims import Instance
    table = _losses()
    for n in losses:
        if n not in table:
            raise ValueError(f"unknown loss {n!r}; known {sorted(table)}")

    @st.composite
    def draw(draw):
        name = draw(st.sampled_from(tuple(losses)))
        m = draw(st.integers(1, max_m))
        d_x = draw(st.integers(1, max_d))
        d_z = draw(st.integers(1, max_d))
        feature = draw(st.sampled_from(("tanh", "relu")))
        rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
        X, y, Fx = scalar_data(name, m, d_x, d_z, feature, rng)
        kind = w if w != "any" else draw(st.sampled_from(("nonzero", "nonzero", "zero")))
        if kind == "nonzero" and not V_zero and draw(st.integers(0, 2)) == 0:
            kind = "near_saddle"
        if kind == "zero":
            wv = np.zeros(d_x)
        else:
            wv = rng.normal(size=d_x) * 10.0 ** rng.uniform(-2, 1)
        V = (np.zeros((d_x, d_z)) if V_zero
             else rng.normal(size=(d_x, d_z)) * 10.0 ** rng.uniform(-1, 1))
        if kind == "near_saddle":
            # (0, V) with V r = -∇F_lin(0) is a critical point with F(0, V) = F_lin(0); near it
            # (||w|| = 10^-4..10^-2) ||∇F|| = O(||w||) while F - F_lin(w*) stays O(1): the
            # regime where a ||V||/||w|| term matters (its tight case)
            net0 = ScalarResNet(X, y, Fx, table[name])
            z = np.zeros(d_x)
            r = net0.r_vector(z, np.zeros((d_x, d_z)))
            rr = float(r @ r)
            if rr > 1e-8:
                V = -np.outer(net0.linear_gradient(z), r) / rr \
                    + rng.normal(size=(d_x, d_z)) @ (np.eye(d_z) - np.outer(r, r) / rr)
                wv = rng.normal(size=d_x) * 10.0 ** rng.uniform(-4, -2)
        ws_kind = w_star if w_star != "mixed" else draw(st.sampled_from(("best", "drawn")))
        loss = table[name]
        if ws_kind == "best" and loss.convex:
            ws = ScalarResNet(X, y, Fx, loss).best_linear(radius=3.0)
        else:
            ws = rng.normal(size=d_x) * 2.0
        if not np.any(ws):
            ws = np.ones(d_x)
        return Instance(X=X, y=y, Fx=Fx, loss=loss, loss_name=name, w=wv, V=V, w_star=ws)

    return draw()


# ------------------------------------------------------------------------------- quantities

def critical_V(net: ScalarResNet, rng):
    """A V with ∇F_θ(0, V) = 0: V r = -∇F_lin(0) (r = E[ℓ'(0; y) f] does not depend on V),
    V = -∇F_lin(0) r^T/||r||^2 + N (I - r r^T/||r||^2), N Gaussian; None when r = 0."""
    z = np.zeros(net.d_x)
    r = net.r_vector(z, np.zeros((net.d_x, net.d_z)))
    rr = float(r @ r)
    if rr <= 1e-8:
        return None
    N = rng.normal(size=(net.d_x, net.d_z))
    return -np.outer(net.linear_gradient(z), r) / rr + N @ (np.eye(net.d_z) - np.outer(r, r) / rr)


# ------------------------------------------------------------------------------- loss bounds

def piecewise_third_bound(loss, P, y):
    """sup |ℓ'''| over |p| <= P on the pieces where ℓ is C^3 (one-sided at a kink): what a
    one-sided difference quotient of ℓ' may deviate from ℓ'' by (Taylor). Unlike
    :func:`loss_derivative_bounds` this exists for (1 - yp)_+^2 too: 0 on both pieces."""
    P = np.asarray(P, float)
    if type(loss) is SmoothedHinge and loss.p >= 2 and float(loss.p).is_integer():
        p = float(loss.p)
        return p * (p - 1) * (p - 2) * (1 + P) ** max(p - 3, 0.0) if p > 2 else np.zeros(P.shape)
    return loss_derivative_bounds(loss, P, y)[2]
