"""Losses l(h, y) with value, gradient, Hessian and declared properties.

Losses are small immutable objects (like sympy expressions or Hypothesis strategies): two
losses with the same class and parameters are equal, and ``repr`` reads like the constructor.

Every numeric method works on numpy arrays batched on leading axes: ``H`` and ``Y`` have shape
``(..., m, d_y)`` (any number of leading axes, including none for a single sample ``(d_y,)``).

>>> import numpy as np
>>> loss = SquaredLoss()
>>> loss.value(np.array([[1.0, 2.0]]), np.array([[0.0, 0.0]]))
array([5.])
>>> loss.grad(np.array([[1.0, 2.0]]), np.array([[0.0, 0.0]]))
array([[2., 4.]])
>>> LogisticLoss().convex, SmoothedHinge(1).differentiable
(True, False)

The ``*_mp`` methods evaluate ONE sample with mpmath numbers at the current ``mpmath.mp``
precision; they are used when local minima are refined at 50+ digits.

Declared properties (``convex``, ``differentiable``, ``twice_differentiable``) are claims about
the map h -> l(h, y) for every valid y; :func:`check_declared_properties` tests them on random
points, so that a user's non-convex loss declared convex is caught rather than silently used
as a hypothesis of a theorem (e.g. "the loss is convex and differentiable").

Besides the numeric methods, a loss may describe its curvature for the convex solver
(:mod:`proofcheck.optimize.convex`):

* ``curved_projector(H, Y)``: per sample, the orthogonal projector onto the directions in which
  l(., y) is NOT invariant (identity for most losses; ``I - 11^T/d_y`` for softmax
  cross-entropy, which is invariant under adding a constant to all logits).
* ``curvature_bound(H, Y, radius)``: per sample a number c_i >= 0 such that
  ``hess l(h', y_i) >= c_i * Q_i`` (Loewner order, Q_i the curved projector) for every h' with
  ``||h' - h_i|| <= radius_i``; ``None`` if the loss cannot say.
* ``minimum_value``: a number every l(h, y) is >= to (0 for the standard losses), or None.
* ``margin_kind``: ``"binary"`` / ``"softmax"`` when the loss is a strictly decreasing function
  of classification margins with infimum approached only as the margins grow without bound,
  which lets the solver detect an infimum that is not attained (separable data).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
from .lazy import lazy_import

_special = lazy_import("scipy.special")   # loaded on first use (startup cost)

__all__ = [
    "Loss",
    "LossDeclarationError",
    "SquaredLoss",
    "SoftmaxCrossEntropy",
    "LogisticLoss",
    "SmoothedHinge",
    "TiltedDoubleWell",
    "check_declared_properties",
    "UNIT_ROUNDOFF",
]

#: Unit roundoff of IEEE double precision (half the machine epsilon), u = 2^-53.
UNIT_ROUNDOFF = float(np.finfo(np.float64).eps) / 2


class LossDeclarationError(ValueError):
    """A loss's declared property (convexity, differentiability) is contradicted numerically."""


def _as_float_array(A: Any, what: str) -> np.ndarray:
    try:
        arr = np.asarray(A, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} must be a real numeric array, got {type(A).__name__}") from exc
    if arr.ndim < 1:
        raise ValueError(f"{what} must have shape (..., d_y), got a scalar")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} contains NaN or inf")
    return arr


def _mp_vector(v: Any, what: str) -> list:
    try:
        out = [mpmath.mpf(x) for x in np.asarray(v, dtype=object).ravel()]
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} must be a sequence of real numbers") from exc
    if any(not mpmath.isfinite(x) for x in out):
        raise ValueError(f"{what} contains NaN or inf")
    return out


def _obj(values, shape=None) -> np.ndarray:
    """numpy object array of mpf (keeps mpf arithmetic under numpy operators)."""
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr if shape is None else arr.reshape(shape)


class Loss:
    """Base class: a loss l(h, y), h, y in R^{d_y}.

    Subclasses implement ``_value``, ``_grad``, ``_hess`` (arrays already validated, shape
    ``(..., d_y)``) and the one-sample mpmath versions ``_value_mp`` etc. on lists of mpf.
    Declared properties are class attributes (or properties for parametrised losses), so a
    subclass can (mis)declare them: ``class Bad(TiltedDoubleWell): convex = True``.
    """

    name: str = "loss"
    convex: bool = False
    differentiable: bool = False
    twice_differentiable: bool = False
    output_dim: int | None = None  # None: any d_y
    minimum_value: float | None = None  # l(h, y) >= minimum_value for all h and valid y
    margin_kind: str | None = None  # "binary" | "softmax" | None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def restricted(self, mask: Any) -> Loss:
        """The loss with the classes outside the boolean ``mask`` (m, d_y) dropped per sample:
        the convex solver asks for it when ``margin_kind == "softmax"`` and the data are
        separable."""
        raise NotImplementedError(f"{self!r} declares margin_kind {self.margin_kind!r} but "
                                  "defines no restricted(mask)")

    # -- validation ---------------------------------------------------------------------
    def _check(self, H: Any, Y: Any) -> tuple[np.ndarray, np.ndarray]:
        H = _as_float_array(H, "H (predictions)")
        Y = _as_float_array(Y, "Y (targets)")
        if H.shape != Y.shape:
            raise ValueError(f"{self!r}: H has shape {H.shape} but Y has shape {Y.shape}")
        if self.output_dim is not None and H.shape[-1] != self.output_dim:
            raise ValueError(
                f"{self!r} needs d_y = {self.output_dim}, got last axis of size {H.shape[-1]}"
            )
        self.validate_targets(Y)
        return H, Y

    def validate_targets(self, Y: Any) -> None:
        """Raise ValueError if some target row is not a valid y for this loss."""
        Y = _as_float_array(Y, "Y (targets)")
        if self.output_dim is not None and Y.shape[-1] != self.output_dim:
            raise ValueError(
                f"{self!r} needs d_y = {self.output_dim}, got last axis of size {Y.shape[-1]}"
            )

    def sample_targets(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        """Random valid targets of the given shape ``(..., d_y)`` (for property checks)."""
        return rng.standard_normal(shape)

    # -- float64, batched ----------------------------------------------------------------
    def value(self, H: Any, Y: Any) -> np.ndarray:
        """Per-sample loss, shape ``H.shape[:-1]``."""
        H, Y = self._check(H, Y)
        return self._value(H, Y)

    def grad(self, H: Any, Y: Any) -> np.ndarray:
        """d l / d h per sample, shape ``H.shape`` (the paper's D for each sample)."""
        H, Y = self._check(H, Y)
        return self._grad(H, Y)

    def hess(self, H: Any, Y: Any) -> np.ndarray:
        """d^2 l / d h^2 per sample, shape ``H.shape + (d_y,)``."""
        H, Y = self._check(H, Y)
        return self._hess(H, Y)

    def curved_projector(self, H: Any, Y: Any) -> np.ndarray:
        """Projector onto the directions in which l(., y) is not invariant (default: I)."""
        H, Y = self._check(H, Y)
        d = H.shape[-1]
        return np.broadcast_to(np.eye(d), H.shape + (d,)).copy()

    def curvature_bound(self, H: Any, Y: Any, radius: Any) -> np.ndarray | None:
        """Per-sample c >= 0 with hess l(h') >= c Q on the ball ||h' - h|| <= radius, or None."""
        return None

    # -- mpmath, one sample --------------------------------------------------------------
    def _check_mp(self, h: Any, y: Any) -> tuple[list, list]:
        h, y = _mp_vector(h, "h"), _mp_vector(y, "y")
        if len(h) != len(y):
            raise ValueError(f"{self!r}: h has {len(h)} entries but y has {len(y)}")
        if self.output_dim is not None and len(h) != self.output_dim:
            raise ValueError(f"{self!r} needs d_y = {self.output_dim}, got {len(h)}")
        self.validate_targets(np.array([float(t) for t in y]))
        return h, y

    def value_mp(self, h: Any, y: Any) -> mpmath.mpf:
        """l(h, y) for one sample at the current mpmath precision."""
        return self._value_mp(*self._check_mp(h, y))

    def grad_mp(self, h: Any, y: Any) -> np.ndarray:
        """Gradient for one sample: numpy object array of mpf, shape (d_y,)."""
        return _obj(self._grad_mp(*self._check_mp(h, y)))

    def hess_mp(self, h: Any, y: Any) -> np.ndarray:
        """Hessian for one sample: numpy object array of mpf, shape (d_y, d_y)."""
        h, y = self._check_mp(h, y)
        d = len(h)
        return _obj([x for row in self._hess_mp(h, y) for x in row], (d, d))

    # -- to implement --------------------------------------------------------------------
    def _value(self, H, Y):  # pragma: no cover - abstract
        raise NotImplementedError

    def _grad(self, H, Y):  # pragma: no cover - abstract
        raise NotImplementedError

    def _hess(self, H, Y):  # pragma: no cover - abstract
        raise NotImplementedError

    def _value_mp(self, h, y):  # pragma: no cover - abstract
        raise NotImplementedError

    def _grad_mp(self, h, y):  # pragma: no cover - abstract
        raise NotImplementedError

    def _hess_mp(self, h, y):  # pragma: no cover - abstract
        raise NotImplementedError


# ---------------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class SquaredLoss(Loss):
    """l(h, y) = ||h - y||_2^2 (no factor 1/2).

    >>> SquaredLoss()
    SquaredLoss()
    """

    name = "squared"
    convex = True
    differentiable = True
    twice_differentiable = True
    minimum_value = 0.0

    def __repr__(self) -> str:
        return "SquaredLoss()"

    def _value(self, H, Y):
        return np.sum((H - Y) ** 2, axis=-1)

    def _grad(self, H, Y):
        return 2.0 * (H - Y)

    def _hess(self, H, Y):
        d = H.shape[-1]
        return np.broadcast_to(2.0 * np.eye(d), H.shape + (d,)).copy()

    def curvature_bound(self, H, Y, radius):
        H, Y = self._check(H, Y)
        return np.full(H.shape[:-1], 2.0)

    def _value_mp(self, h, y):
        return mpmath.fsum((a - b) ** 2 for a, b in zip(h, y))

    def _grad_mp(self, h, y):
        return [2 * (a - b) for a, b in zip(h, y)]

    def _hess_mp(self, h, y):
        d = len(h)
        return [[mpmath.mpf(2) if i == j else mpmath.mpf(0) for j in range(d)] for i in range(d)]


# ---------------------------------------------------------------------------------------
def _ce_parts(H: np.ndarray, mask: np.ndarray | None):
    """log-sum-exp over the allowed classes and the softmax restricted to them."""
    b = None if mask is None else np.broadcast_to(mask, H.shape).astype(np.float64)
    lse = _special.logsumexp(H, axis=-1, b=b)
    P = np.exp(H - lse[..., None])
    if b is not None:
        P = P * b
    return lse, P, b


def _ce_value(H, Y, mask=None):
    lse, _, _ = _ce_parts(H, mask)
    # l = sum_k y_k (lse(h) - h_k) = sum(y) lse(h) - y.h.  sum(y) = 1 only up to rounding for
    # float targets; keeping it makes l exactly invariant under h -> h + c 1 (otherwise the
    # mpmath objective, which sees the exact float targets, would have a tiny linear drift).
    return np.sum(Y, axis=-1) * lse - np.sum(Y * H, axis=-1)


def _ce_grad(H, Y, mask=None):
    _, P, _ = _ce_parts(H, mask)
    return np.sum(Y, axis=-1, keepdims=True) * P - Y


def _ce_hess(H, Y, mask=None):
    lse, P, b = _ce_parts(H, mask)
    d = H.shape[-1]
    # diag(p) - p p^T, but the diagonal p_k (1 - p_k) is formed as p_k * sum_{j != k} p_j with
    # the complement sum from a log-sum-exp (no cancellation when p_k ~ 1), so every entry has
    # small relative error; the declared-property checker's tolerance relies on this.
    off = 1.0 - np.eye(d)
    bb = off if b is None else b[..., None, :] * off
    with np.errstate(divide="ignore"):
        lse_others = _special.logsumexp(H[..., None, :] + np.zeros((d, d)), axis=-1, b=bb)
    q = np.exp(lse_others - lse[..., None])
    if b is not None:
        q = q * b
    Hs = -P[..., :, None] * P[..., None, :]
    idx = np.arange(d)
    Hs[..., idx, idx] = P * q
    return np.sum(Y, axis=-1)[..., None, None] * Hs


def _ce_projector(shape, mask=None):
    d = shape[-1]
    if mask is None:
        return np.broadcast_to(np.eye(d) - 1.0 / d, shape + (d,)).copy()
    K = np.broadcast_to(mask, shape).astype(np.float64)
    n = K.sum(axis=-1)
    eye = np.broadcast_to(np.eye(d), shape + (d,))
    with np.errstate(invalid="ignore", divide="ignore"):
        avg = np.where(n[..., None, None] > 0, 1.0 / n[..., None, None], 0.0)
    # projector onto {v supported on K, v orthogonal to 1_K}
    return K[..., :, None] * (eye - avg) * K[..., None, :]


def _ce_curvature(H, mask, radius):
    # On 1^perp the softmax Hessian is the covariance of a categorical variable:
    # v^T (diag p - p p^T) v = Var_p(v) >= p_min ||v||^2 for v ⟂ 1.  Moving h by at most r in
    # the 2-norm moves each log p_k by at most 2r, so p_min(h') >= p_min(h) e^{-2r}.
    lse, P, b = _ce_parts(H, mask)
    logP = H - lse[..., None]
    if b is not None:
        logP = np.where(b > 0, logP, np.inf)
    pmin_log = np.min(logP, axis=-1)
    r = np.broadcast_to(np.asarray(radius, dtype=np.float64), pmin_log.shape)
    c = np.exp(pmin_log - 2.0 * r)
    if b is not None:  # a sample with a single allowed class has no curved direction
        c = np.where(b.sum(axis=-1) > 1, c, 0.0)
    return np.where(np.isfinite(c), c, 0.0)


def _ce_value_mp(h, y):
    mx = max(h)
    lse = mx + mpmath.log(mpmath.fsum(mpmath.exp(a - mx) for a in h))
    return mpmath.fsum(y) * lse - mpmath.fsum(a * b for a, b in zip(h, y))


def _ce_softmax_mp(h):
    mx = max(h)
    e = [mpmath.exp(a - mx) for a in h]
    s = mpmath.fsum(e)
    return [t / s for t in e]


@dataclass(frozen=True, repr=False)
class SoftmaxCrossEntropy(Loss):
    """l(h, y) = -sum_k y_k log softmax(h)_k, y one-hot or a probability row.

    Computed as sum(y) _special.logsumexp(h) - y.h (stable; sum(y) = 1 up to rounding).
    Invariant under h -> h + c 1, so its Hessian is
    singular along 1 (``curved_projector`` is I - 11^T/d_y).

    >>> import numpy as np
    >>> round(float(SoftmaxCrossEntropy().value(np.zeros(3), np.array([1.0, 0, 0]))), 6)
    1.098612
    """

    name = "softmax_cross_entropy"
    convex = True
    differentiable = True
    twice_differentiable = True
    minimum_value = 0.0
    margin_kind = "softmax"

    def __repr__(self) -> str:
        return "SoftmaxCrossEntropy()"

    def validate_targets(self, Y):
        super().validate_targets(Y)
        Y = np.asarray(Y, dtype=np.float64)
        if np.any(Y < 0):
            raise ValueError(f"{self!r} needs one-hot or probability rows: Y has negative entries")
        d = Y.shape[-1]
        # a row of d non-negative doubles summing to 1 has rounding error <= d u in its sum
        tol = 4 * d * UNIT_ROUNDOFF
        bad = np.abs(np.sum(Y, axis=-1) - 1.0) > tol
        if np.any(bad):
            raise ValueError(
                f"{self!r} needs one-hot or probability rows: some rows of Y do not sum to 1 "
                f"(first offending row index {tuple(int(i) for i in np.argwhere(bad)[0])})"
            )

    def sample_targets(self, rng, shape):
        d = shape[-1]
        lead = shape[:-1]
        onehot = np.eye(d)[rng.integers(0, d, size=lead)]
        soft = rng.dirichlet(np.ones(d), size=lead) if d > 1 else np.ones(shape)
        soft = soft / soft.sum(axis=-1, keepdims=True)
        pick = rng.random(lead)[..., None] < 0.5
        return np.where(pick, onehot, soft)

    def _value(self, H, Y):
        return _ce_value(H, Y)

    def _grad(self, H, Y):
        return _ce_grad(H, Y)

    def _hess(self, H, Y):
        return _ce_hess(H, Y)

    def curved_projector(self, H, Y):
        H, Y = self._check(H, Y)
        return _ce_projector(H.shape[:-1] + H.shape[-1:])

    def curvature_bound(self, H, Y, radius):
        H, Y = self._check(H, Y)
        return _ce_curvature(H, None, radius)

    def _value_mp(self, h, y):
        return _ce_value_mp(h, y)

    def _grad_mp(self, h, y):
        sy = mpmath.fsum(y)
        return [sy * p - t for p, t in zip(_ce_softmax_mp(h), y)]

    def _hess_mp(self, h, y):
        p = _ce_softmax_mp(h)
        d = len(h)
        sy = mpmath.fsum(y)
        return [[sy * ((p[i] if i == j else 0) - p[i] * p[j]) for j in range(d)] for i in range(d)]

    def restricted(self, mask: Any) -> RestrictedSoftmaxCrossEntropy:
        """Cross-entropy with the softmax taken over the allowed classes ``mask`` only."""
        return RestrictedSoftmaxCrossEntropy(np.asarray(mask, dtype=bool))


class RestrictedSoftmaxCrossEntropy(Loss):
    """Per-sample masked cross-entropy l_i(h) = logsumexp_{k in K_i}(h) - y_i.h.

    It is the limit of softmax cross-entropy along a recession direction that pushes the
    excluded logits to -inf (used by the convex solver on quasi-separable data).  ``mask`` has
    shape (m, d_y) and is bound to the samples, so H, Y must have shape (m, d_y).
    """

    name = "softmax_cross_entropy_restricted"
    mask: np.ndarray     # (m, d_y) booleans, set once in __init__
    convex = True
    differentiable = True
    twice_differentiable = True
    minimum_value = 0.0

    def __init__(self, mask: np.ndarray):
        if mask.ndim != 2 or not np.all(mask.any(axis=-1)):
            raise ValueError("mask must have shape (m, d_y) with at least one class per row")
        object.__setattr__(self, "mask", mask)

    def __repr__(self) -> str:
        return f"RestrictedSoftmaxCrossEntropy(<mask {self.mask.shape}>)"

    def _check(self, H, Y):
        H, Y = super()._check(H, Y)
        if H.shape != self.mask.shape:
            raise ValueError(f"{self!r}: H must have shape {self.mask.shape}, got {H.shape}")
        if np.any((Y > 0) & ~self.mask):
            raise ValueError(f"{self!r}: a target puts mass on an excluded class")
        return H, Y

    def validate_targets(self, Y):
        SoftmaxCrossEntropy().validate_targets(Y)

    def _value(self, H, Y):
        return _ce_value(H, Y, self.mask)

    def _grad(self, H, Y):
        return _ce_grad(H, Y, self.mask)

    def _hess(self, H, Y):
        return _ce_hess(H, Y, self.mask)

    def curved_projector(self, H, Y):
        H, Y = self._check(H, Y)
        return _ce_projector(H.shape, self.mask)

    def curvature_bound(self, H, Y, radius):
        H, Y = self._check(H, Y)
        return _ce_curvature(H, self.mask, radius)

    def sample_mp(self, i: int):
        """(value, grad, hess) callables on mpf lists for sample i (masked classes dropped)."""
        K = [k for k in range(self.mask.shape[1]) if self.mask[i, k]]
        d = self.mask.shape[1]

        def value(h, y):
            return _ce_value_mp([h[k] for k in K], [y[k] for k in K])

        def grad(h, y):
            p = _ce_softmax_mp([h[k] for k in K])
            sy = mpmath.fsum(y)
            g = [-t for t in y]
            for j, k in enumerate(K):
                g[k] += sy * p[j]
            return g

        def hess(h, y):
            p = _ce_softmax_mp([h[k] for k in K])
            sy = mpmath.fsum(y)
            out = [[mpmath.mpf(0)] * d for _ in range(d)]
            for a, ka in enumerate(K):
                for b, kb in enumerate(K):
                    out[ka][kb] = sy * ((p[a] if a == b else 0) - p[a] * p[b])
            return out

        return value, grad, hess


# ---------------------------------------------------------------------------------------
def _check_pm1(loss: Loss, Y) -> None:
    Y = np.asarray(Y, dtype=np.float64)
    if not np.all(np.abs(Y) == 1.0):
        raise ValueError(f"{loss!r} needs targets y in {{-1, +1}}; got values {np.unique(Y)[:5]}")


@dataclass(frozen=True, repr=False)
class LogisticLoss(Loss):
    """l(h, y) = log(1 + exp(-y h)), d_y = 1, y in {-1, +1} (computed with logaddexp).

    >>> import numpy as np
    >>> round(float(LogisticLoss().value(np.zeros(1), np.ones(1))), 6)
    0.693147
    """

    name = "logistic"
    convex = True
    differentiable = True
    twice_differentiable = True
    output_dim = 1
    minimum_value = 0.0
    margin_kind = "binary"

    def __repr__(self) -> str:
        return "LogisticLoss()"

    def validate_targets(self, Y):
        super().validate_targets(Y)
        _check_pm1(self, Y)

    def sample_targets(self, rng, shape):
        return rng.choice([-1.0, 1.0], size=shape)

    def _value(self, H, Y):
        return np.logaddexp(0.0, -Y * H)[..., 0]

    def _grad(self, H, Y):
        return -Y * _special.expit(-Y * H)

    def _hess(self, H, Y):
        t = Y * H
        return (_special.expit(t) * _special.expit(-t))[..., None]

    def curvature_bound(self, H, Y, radius):
        # l'' = sigma(t) sigma(-t) decreases in |t|, t = y h, and |y| = 1
        H, Y = self._check(H, Y)
        s = np.abs(Y * H)[..., 0] + np.asarray(radius, dtype=np.float64)
        return _special.expit(s) * _special.expit(-s)

    def _value_mp(self, h, y):
        return mpmath.log1p(mpmath.exp(-y[0] * h[0]))

    def _grad_mp(self, h, y):
        return [-y[0] / (1 + mpmath.exp(y[0] * h[0]))]

    def _hess_mp(self, h, y):
        t = y[0] * h[0]
        return [[1 / ((1 + mpmath.exp(t)) * (1 + mpmath.exp(-t)))]]


# ---------------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class SmoothedHinge(Loss):
    """l(h, y) = max(0, 1 - y h)^p, d_y = 1, y in {-1, +1}.

    Convex for p >= 1, differentiable iff p > 1, twice differentiable iff p > 2.  p = 1 is the
    plain hinge (convex, not differentiable).  Where the one-sided derivatives differ (at
    y h = 1) the value from the flat side y h > 1 is returned: gradient 0 for p = 1 and
    Hessian 0 for p <= 2 (for p = 2 the Hessian jumps from 2 to 0 there; the lower one-sided
    value keeps ``curvature_bound`` a valid lower bound).

    >>> (SmoothedHinge(2), SmoothedHinge(2).twice_differentiable,
    ...  SmoothedHinge(3).twice_differentiable)
    (SmoothedHinge(p=2), False, True)
    """

    p: float = 2

    name = "smoothed_hinge"
    output_dim = 1
    minimum_value = 0.0

    def __post_init__(self):
        if isinstance(self.p, bool) or not isinstance(self.p, (int, float)):
            raise TypeError(f"SmoothedHinge: p must be a real number, got {self.p!r}")
        if not (math.isfinite(self.p) and self.p > 0):
            raise ValueError(f"SmoothedHinge: p must be finite and > 0, got {self.p}")

    def __repr__(self) -> str:
        return f"SmoothedHinge(p={self.p:g})"

    @property
    def convex(self) -> bool:  # type: ignore[override]
        return self.p >= 1

    @property
    def differentiable(self) -> bool:  # type: ignore[override]
        return self.p > 1

    @property
    def twice_differentiable(self) -> bool:  # type: ignore[override]
        return self.p > 2

    def validate_targets(self, Y):
        super().validate_targets(Y)
        _check_pm1(self, Y)

    def sample_targets(self, rng, shape):
        return rng.choice([-1.0, 1.0], size=shape)

    def _slack(self, H, Y):
        return np.maximum(0.0, 1.0 - Y * H)

    def _value(self, H, Y):
        return (self._slack(H, Y) ** self.p)[..., 0]

    def _grad(self, H, Y):
        s = self._slack(H, Y)
        if self.p == 1:
            return np.where(s > 0, -Y, 0.0)
        return -self.p * Y * s ** (self.p - 1)

    def _hess(self, H, Y):
        s = self._slack(H, Y)
        p = self.p
        if p == 1:
            out = np.zeros_like(s)
        elif p == 2:
            out = np.where(s > 0, 2.0, 0.0)
        else:
            with np.errstate(divide="ignore"):
                out = np.where(s > 0, p * (p - 1) * s ** (p - 2), 0.0)
        return out[..., None]

    def curvature_bound(self, H, Y, radius):
        H, Y = self._check(H, Y)
        s = (1.0 - Y * H)[..., 0]
        r = np.asarray(radius, dtype=np.float64)
        p = self.p
        inside = s - r > 0  # the whole ball lies on the curved side
        if p == 1:
            return np.zeros(s.shape)
        if p >= 2:  # l'' = p(p-1) s^{p-2} is non-decreasing in s
            return np.where(inside, p * (p - 1) * np.maximum(s - r, 0.0) ** (p - 2), 0.0)
        # 1 < p < 2: l'' decreasing in s; smallest at the far side s + r
        far = np.maximum(s + r, np.finfo(float).tiny)  # only used where inside (s + r > 0)
        return np.where(inside, p * (p - 1) * far ** (p - 2), 0.0)

    def _value_mp(self, h, y):
        s = max(mpmath.mpf(0), 1 - y[0] * h[0])
        return s ** self.p if s > 0 else mpmath.mpf(0)

    def _grad_mp(self, h, y):
        s = 1 - y[0] * h[0]
        if s <= 0:
            return [mpmath.mpf(0)]
        return [-self.p * y[0] * s ** (self.p - 1)]

    def _hess_mp(self, h, y):
        s = 1 - y[0] * h[0]
        if s <= 0 or self.p == 1:
            return [[mpmath.mpf(0)]]
        return [[self.p * (self.p - 1) * s ** (self.p - 2)]]


# ---------------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class TiltedDoubleWell(Loss):
    """l(h, y) = (||h - y||^2 - 1)^2 + a * sum(h - y): smooth and NOT convex.

    For experiments that drop the convexity hypothesis (Assumption A2).  Its Hessian at h = y
    is -4 I.

    >>> TiltedDoubleWell(0.5).convex
    False
    """

    a: float = 0.1

    name = "tilted_double_well"
    convex = False
    differentiable = True
    twice_differentiable = True

    def __post_init__(self):
        if (isinstance(self.a, bool) or not isinstance(self.a, (int, float))
                or not math.isfinite(self.a)):
            raise TypeError(f"TiltedDoubleWell: a must be a finite real number, got {self.a!r}")

    def __repr__(self) -> str:
        return f"TiltedDoubleWell(a={self.a:g})"

    def _value(self, H, Y):
        R = H - Y
        return (np.sum(R**2, axis=-1) - 1.0) ** 2 + self.a * np.sum(R, axis=-1)

    def _grad(self, H, Y):
        R = H - Y
        s = np.sum(R**2, axis=-1, keepdims=True)
        return 4.0 * (s - 1.0) * R + self.a

    def _hess(self, H, Y):
        R = H - Y
        d = H.shape[-1]
        s = np.sum(R**2, axis=-1)[..., None, None]
        return 4.0 * (s - 1.0) * np.eye(d) + 8.0 * R[..., :, None] * R[..., None, :]

    def _value_mp(self, h, y):
        r = [a - b for a, b in zip(h, y)]
        return (mpmath.fsum(t * t for t in r) - 1) ** 2 + self.a * mpmath.fsum(r)

    def _grad_mp(self, h, y):
        r = [a - b for a, b in zip(h, y)]
        s = mpmath.fsum(t * t for t in r)
        return [4 * (s - 1) * t + self.a for t in r]

    def _hess_mp(self, h, y):
        r = [a - b for a, b in zip(h, y)]
        s = mpmath.fsum(t * t for t in r)
        d = len(r)
        return [[(4 * (s - 1) if i == j else 0) + 8 * r[i] * r[j] for j in range(d)]
                for i in range(d)]


# ---------------------------------------------------------------------------------------
def _value_rounding(loss: Loss, H, Y, L, G) -> np.ndarray:
    """Bound on the rounding error of a computed loss value, per sample.

    A backward-stable evaluation returns l(h + dh, y) (1 + e) with |dh_j| <= c u |h_j| and
    |e| <= c u; to first order the error is c u (|l| + ||grad|| ||h||).  Log-sum-exp style
    formulas (lse(h) - y.h) also lose c u ||h|| absolutely through cancellation, hence the
    (1 + ||grad||) factor.  c = 16 d_y covers the O(d_y) operations of every loss here.
    """
    d = H.shape[-1]
    c = 16.0 * d * UNIT_ROUNDOFF
    scale = np.linalg.norm(H, axis=-1) + np.linalg.norm(Y, axis=-1)
    return c * (np.abs(L) + (1.0 + np.linalg.norm(G, axis=-1)) * scale)


def check_declared_properties(
    loss: Loss,
    rng: np.random.Generator | int | None = None,
    n: int = 200,
    d_y: int | None = None,
) -> dict[str, Any]:
    """Test a loss's declared flags on ``n`` random points; raise on a contradiction.

    Checks (each only when the flag is declared):

    * ``convex``: (i) the smallest Hessian eigenvalue is >= -tol with
      tol = (8 + 4 d_y) u ||hess||_F kappa, kappa = 2 + 2 ||h||_inf + ||y||_inf: the Hessians
      here are formed entrywise with small relative error, c u kappa per entry (c <= 8;
      entries built from exp(x) inherit its condition number |x| <= 2 ||h||_inf + log d_y),
      and ``eigvalsh`` is backward stable with error <= d_y u ||hess||;
      (ii) midpoint convexity l((a+b)/2) <= (l(a)+l(b))/2 + tol_v, with
      tol_v the sum of the three value rounding bounds (see ``_value_rounding``).
    * ``differentiable``: the gradient matches central differences with step
      delta_j = u^{1/3} max(1, |h_j|) (which balances truncation O(delta^2) and rounding
      O(u/delta)).  Tolerance: 4 |D(delta) - D(2 delta)| (Richardson estimate of the
      truncation error, which is ~ D(delta) - D(2 delta) / 3) plus the value rounding bound
      divided by delta, times 4.
    * ``twice_differentiable``: the same test of the Hessian against differences of the
      gradient, with the gradient's rounding bound
      16 d_y u (||grad|| + ||y|| + ||hess|| (||h|| + ||y||)): input rounding through the
      Hessian, plus the cancellation of terms of size ||y|| (p - y, 2(h - y)).

    Points: h = y + s z with z standard normal and scales s in {0.1, 1, 10}, y from
    ``loss.sample_targets``.  Returns a small dict of what was checked (counts, worst ratio
    of error to tolerance) so callers can report coverage.

    Raises :class:`LossDeclarationError` naming the loss, the property and the witness.
    """
    if not isinstance(loss, Loss):
        raise TypeError(f"check_declared_properties needs a Loss, got {type(loss).__name__}")
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    rng = np.random.default_rng(rng)
    if d_y is None:
        d_y = loss.output_dim if loss.output_dim is not None else 3
    if loss.output_dim is not None and d_y != loss.output_dim:
        raise ValueError(f"{loss!r} has output_dim {loss.output_dim}, got d_y = {d_y}")
    u = UNIT_ROUNDOFF
    Y = loss.sample_targets(rng, (n, d_y))
    scales = rng.choice([0.1, 1.0, 10.0], size=(n, 1))
    H = Y + scales * rng.standard_normal((n, d_y))
    report: dict[str, Any] = {"loss": repr(loss), "points": n, "d_y": d_y, "checked": []}

    def fail(prop: str, i: int, detail: str):
        raise LossDeclarationError(
            f"{loss!r} is declared {prop} but this is contradicted at the witness "
            f"h = {H[i].tolist()}, y = {Y[i].tolist()}: {detail}"
        )

    L = loss.value(H, Y)
    if loss.convex:
        Hs = loss.hess(H, Y) if loss.twice_differentiable or loss.differentiable else None
        if Hs is not None and (loss.twice_differentiable or loss.differentiable):
            lam = np.linalg.eigvalsh(Hs)[:, 0]
            cond = 2.0 + 2.0 * np.max(np.abs(H), axis=-1) + np.max(np.abs(Y), axis=-1)
            tol = (8 + 4 * d_y) * u * np.linalg.norm(Hs, axis=(-2, -1)) * cond
            bad = np.flatnonzero(lam < -tol)
            if bad.size:
                i = bad[np.argmin(lam[bad] / np.maximum(tol[bad], np.finfo(float).tiny))]
                fail("convex", i,
                     f"Hessian eigenvalue {lam[i]:.3e} < -{tol[i]:.1e} (rounding bound)")
        # midpoint convexity between h and a second random point h2
        H2 = Y + scales * rng.standard_normal((n, d_y))
        M = 0.5 * (H + H2)
        L2, LM = loss.value(H2, Y), loss.value(M, Y)
        if loss.differentiable:
            G, G2, GM = loss.grad(H, Y), loss.grad(H2, Y), loss.grad(M, Y)
        else:  # no gradient to use in the rounding bound: bound ||grad|| by finite slopes
            G = G2 = GM = np.zeros_like(H)
        tol_v = (_value_rounding(loss, H, Y, L, G) + _value_rounding(loss, H2, Y, L2, G2)) / 2
        tol_v = tol_v + _value_rounding(loss, M, Y, LM, GM)
        gap = LM - 0.5 * (L + L2)
        bad = np.flatnonzero(gap > tol_v)
        if bad.size:
            i = bad[np.argmax(gap[bad])]
            fail("convex", i, f"midpoint convexity fails towards h2 = {H2[i].tolist()}: "
                 f"l(mid) - mean = {gap[i]:.3e} > {tol_v[i]:.1e}")
        report["checked"].append("convex")

    def fd_check(f, df, prop, rounding):
        """Compare df (..., n, d) [jacobian of f] with central differences of f."""
        base = df(H, Y)
        worst = 0.0
        for j in range(d_y):
            delta = u ** (1 / 3) * np.maximum(1.0, np.abs(H[:, j]))
            E = np.zeros_like(H)
            E[:, j] = 1.0
            n1 = f(H + delta[:, None] * E, Y) - f(H - delta[:, None] * E, Y)
            n2 = f(H + 2 * delta[:, None] * E, Y) - f(H - 2 * delta[:, None] * E, Y)
            d1, d2 = n1 / _bc(2 * delta, n1), n2 / _bc(4 * delta, n1)
            col = base[..., j] if base.ndim == 2 else base[..., j, :]
            tol = 4 * np.abs(d1 - d2) + 4 * _bc(rounding / delta, d1)
            err = np.abs(col - d1)
            ratio = err / np.maximum(tol, np.finfo(float).tiny)
            bad = np.argwhere(err > tol)
            if bad.size:
                i = int(bad[0][0])
                fail(prop, i, f"derivative along e_{j} is {col[i]} but central differences give "
                     f"{d1[i]} (tolerance {np.max(np.atleast_1d(tol[i])):.1e})")
            worst = max(worst, float(np.max(ratio)))
        report["checked"].append(prop)
        report[f"{prop}_worst_ratio"] = worst

    if loss.differentiable:
        G = loss.grad(H, Y)
        fd_check(loss.value, loss.grad, "differentiable", _value_rounding(loss, H, Y, L, G))
    if loss.twice_differentiable:
        G = loss.grad(H, Y)
        Hs = loss.hess(H, Y)
        grad_round = 16 * d_y * u * (
            np.linalg.norm(G, axis=-1)
            + np.linalg.norm(Y, axis=-1)
            + np.linalg.norm(Hs, axis=(-2, -1))
              * (np.linalg.norm(H, axis=-1) + np.linalg.norm(Y, axis=-1))
        )
        fd_check(loss.grad, loss.hess, "twice_differentiable", grad_round)
    return report


def _bc(v: np.ndarray, like: np.ndarray) -> np.ndarray:
    """Broadcast a per-sample vector against a (n,) or (n, d) array."""
    return v if like.ndim == 1 else v[:, None]
