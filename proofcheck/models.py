"""The residual model h = W(x + V z) (a ResNet block with a linear read-out).

The pre-activation output of the last layer is

    h(x; W, V, theta) = W (x + V z(x, theta)),    W in R^{d_y x d_x}, V in R^{d_x x d_z},

and the objective is the expected loss under an (empirical) measure,

    L(W, V, theta) = sum_i w_i l(h(x_i; W, V, theta), y_i).

Matrices follow the paper: X (m, d_x) and Y (m, d_y) hold samples as rows, Z (m, d_z) holds the
residual representation z(x_i, theta) as rows, so that the rows of

    H = (X + Z V^T) W^T

are the outputs h_i.  Parameters are flattened as ``[vec(W), vec(V), theta]`` with the paper's
column-major ``vec`` (Lemma 1).

Every array routine here is written once and works both on float64 arrays and on numpy object
arrays of ``mpmath.mpf`` (numpy's ``einsum`` and ``@`` accept object dtype), so the float64
landscape and its high-precision twin share one implementation of Lemma 1.

>>> import numpy as np
>>> from proofcheck.models import ResNetProblem, ResNetPoint, objective, induced_linear_predictor
>>> class Sq:  # any object with the loss contract works; see proofcheck.losses
...     name, convex, differentiable, twice_differentiable = "sq", True, True, True
...     def value(self, H, Y): return ((H - Y) ** 2).sum(-1)
...     def grad(self, H, Y): return 2 * (H - Y)
...     def hess(self, H, Y):
...         return np.broadcast_to(2 * np.eye(H.shape[-1]), H.shape + H.shape[-1:])
>>> X = np.eye(2); Z = np.array([[1.0], [2.0]]); Y = np.array([[0.0], [1.0]])
>>> problem = ResNetProblem(X=X, Y=Y, loss=Sq(), Z=Z)
>>> point = ResNetPoint(W=np.array([[1.0, 0.0]]), V=np.array([[0.0], [1.0]]))
>>> float(objective(problem, point))  # h_i = W(x_i + V z_i) = 1, 0: losses 1 and 1
1.0
>>> induced_linear_predictor(point)   # R = [W, W V]
array([[1., 0., 0.]])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable
from collections.abc import Sequence

import mpmath
import numpy as np

from .linalg import unvec as _unvec, vec as _vec  # H2: the one numeric vec/unvec

__all__ = [
    "ResidualFunction",
    "TanhResidual",
    "ResNetProblem",
    "ResNetPoint",
    "ResNetGradient",
    "Landscape",
    "predict",
    "objective",
    "D_matrix",
    "predictor_jacobian",
    "gradient",
    "hessian_WV",
    "expected_zD",
    "expected_xD",
    "induced_linear_predictor",
    "to_mp",
]


# --------------------------------------------------------------------------- array helpers

def _is_object(a) -> bool:
    return isinstance(a, np.ndarray) and a.dtype == object


_mp_tanh = np.vectorize(mpmath.tanh, otypes=[object])
_mpf = np.vectorize(mpmath.mpf, otypes=[object])


def _tanh(a):
    """tanh that dispatches on dtype: numpy for float64, mpmath for object arrays."""
    return _mp_tanh(a) if _is_object(a) else np.tanh(a)


def to_mp(a) -> np.ndarray:
    """Object array of ``mpmath.mpf`` at the current ``mpmath.mp`` precision.

    A float64 entry converts exactly whenever the precision has at least 53 bits (15+ digits).

    >>> import mpmath
    >>> with mpmath.mp.workdps(30):
    ...     to_mp([0.5, 2.0])
    array([mpf('0.5'), mpf('2.0')], dtype=object)
    """
    a = np.asarray(a)
    if a.dtype == object:
        return _mpf(a) if a.size else a
    return _mpf(a.astype(float)) if a.size else a.astype(object)


def _as_float_array(name: str, a, ndim: int) -> np.ndarray:
    try:
        arr = np.asarray(a, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a real numeric array, got {type(a).__name__}") from exc
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def _identity(n: int, like) -> np.ndarray:
    """Identity matrix in the dtype family of ``like`` (int entries mix exactly with mpf)."""
    return np.eye(n, dtype=int).astype(object) if _is_object(like) else np.eye(n)


# --------------------------------------------------------------------------- residual functions

@runtime_checkable
class ResidualFunction(Protocol):
    """A residual representation z(x, theta) in R^{d_z} with theta in R^{n_params}.

    ``z``, ``jacobian`` and ``hessian`` take X (m, d_x) and a flat theta and must accept both
    float64 arrays and object arrays of mpf (compute in the dtype they are given).
    """

    # read-only in the protocol: implementations may compute them (properties)
    @property
    def d_x(self) -> int: ...

    @property
    def d_z(self) -> int: ...

    @property
    def n_params(self) -> int: ...

    def z(self, X, theta):
        """Z (m, d_z) with rows z(x_i, theta)."""

    def jacobian(self, X, theta):
        """dz_i/dtheta, shape (m, d_z, n_params)."""

    def hessian(self, X, theta):
        """d^2 z_i/dtheta^2, shape (m, d_z, n_params, n_params)."""


@dataclass(frozen=True)
class TanhResidual:
    """One hidden tanh layer: z(x; theta) = B tanh(A x), i.e. Z = tanh(X A^T) B^T.

    theta = [vec(A), vec(B)] with A (hidden, d_x), B (d_z, hidden), column-major vec.

    >>> r = TanhResidual(d_x=2, d_z=1, hidden=1)
    >>> r.n_params
    3
    >>> r.z(np.array([[0.0, 0.0]]), np.array([1.0, 1.0, 5.0]))
    array([[0.]])
    """

    d_x: int
    d_z: int
    hidden: int

    def __post_init__(self):
        for name in ("d_x", "d_z", "hidden"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"TanhResidual.{name} must be a positive integer, got {v!r}")

    @property
    def n_params(self) -> int:
        return self.hidden * self.d_x + self.d_z * self.hidden

    def split(self, theta):
        """(A, B) from the flat theta."""
        theta = np.asarray(theta)
        if theta.shape != (self.n_params,):
            raise ValueError(f"theta must have shape ({self.n_params},), got {theta.shape}")
        k = self.hidden * self.d_x
        return (_unvec(theta[:k], (self.hidden, self.d_x)),
                _unvec(theta[k:], (self.d_z, self.hidden)))

    def _check_X(self, X):
        if np.ndim(X) != 2 or np.shape(X)[1] != self.d_x:
            raise ValueError(f"X must have shape (m, {self.d_x}), got {np.shape(X)}")

    def z(self, X, theta):
        self._check_X(X)
        A, B = self.split(theta)
        return _tanh(X @ A.T) @ B.T

    def jacobian(self, X, theta):
        # dz_ik/dA_jl = B_kj tanh'(s_ij) x_il ;  dz_ik/dB_k'j = delta_kk' tanh(s_ij)
        self._check_X(X)
        A, B = self.split(theta)
        T = _tanh(X @ A.T)
        dT = 1 - T * T
        m = X.shape[0]
        JA = np.einsum("kj,ij,il->ikjl", B, dT, X)               # (m, d_z, hidden, d_x)
        JA = JA.transpose(0, 1, 3, 2).reshape(m, self.d_z, -1)   # vec(A): index l*hidden + j
        JB = np.einsum("kc,ij->ikjc", _identity(self.d_z, X), T)  # (m, d_z, hidden, d_z)
        JB = JB.reshape(m, self.d_z, -1)                          # vec(B): index j*d_z + c
        return np.concatenate([JA, JB], axis=2)

    def hessian(self, X, theta):
        # d2z_ik/dA_jl dA_j'l' = delta_jj' B_kj tanh''(s_ij) x_il x_il'
        # d2z_ik/dA_jl dB_cj'  = delta_kc delta_jj' tanh'(s_ij) x_il ;  dB dB = 0
        self._check_X(X)
        A, B = self.split(theta)
        T = _tanh(X @ A.T)
        dT = 1 - T * T
        d2T = -2 * T * dT
        m, h, dx, dz = X.shape[0], self.hidden, self.d_x, self.d_z
        Ih, Iz = _identity(h, X), _identity(dz, X)
        nA, nB = h * dx, dz * h
        HAA = np.einsum("kj,ij,il,jJ,iL->ikljLJ", B, d2T, X, Ih, X).reshape(m, dz, nA, nA)
        HAB = np.einsum("kc,jJ,ij,il->ikljJc", Iz, Ih, dT, X).reshape(m, dz, nA, nB)
        zero = np.zeros((m, dz, nB, nB), dtype=HAA.dtype)
        top = np.concatenate([HAA, HAB], axis=3)
        bottom = np.concatenate([HAB.transpose(0, 1, 3, 2), zero], axis=3)
        return np.concatenate([top, bottom], axis=2)


@dataclass(frozen=True)
class QuadraticResidual:
    """Learned quadratic features: z(x; theta) = (A x)^2 entrywise, i.e. Z = (X A^T)^2.

    theta = vec(A) with A (d_z, d_x), column-major. The set of predictors V z(x; theta) is the
    quadratic forms of rank <= d_z, a closed set, so (unlike saturating tanh units, whose
    infimum is typically approached at infinity) the objective has minimisers.

    >>> r = QuadraticResidual(d_x=2, d_z=1)
    >>> r.z(np.array([[1.0, 2.0]]), np.array([1.0, 1.0]))
    array([[9.]])
    """

    d_x: int
    d_z: int

    def __post_init__(self):
        for name in ("d_x", "d_z"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"QuadraticResidual.{name} must be a positive integer, got {v!r}")

    @property
    def n_params(self) -> int:
        return self.d_z * self.d_x

    def _A(self, theta):
        theta = np.asarray(theta)
        if theta.shape != (self.n_params,):
            raise ValueError(f"theta must have shape ({self.n_params},), got {theta.shape}")
        return _unvec(theta, (self.d_z, self.d_x))

    def _check_X(self, X):
        if np.ndim(X) != 2 or np.shape(X)[1] != self.d_x:
            raise ValueError(f"X must have shape (m, {self.d_x}), got {np.shape(X)}")

    def z(self, X, theta):
        self._check_X(X)
        S = X @ self._A(theta).T
        return S * S

    def jacobian(self, X, theta):
        # dz_ik/dA_jl = delta_kj 2 s_ik x_il, vec(A) index l * d_z + j
        self._check_X(X)
        S = X @ self._A(theta).T
        I = _identity(self.d_z, X)
        J = np.einsum("kj,ik,il->iklj", I, 2 * S, X)
        return J.reshape(X.shape[0], self.d_z, -1)

    def hessian(self, X, theta):
        # d2z_ik/dA_jl dA_JL = 2 delta_kj delta_kJ x_il x_iL
        self._check_X(X)
        I = _identity(self.d_z, X)
        n = self.n_params
        H = np.einsum("kj,kJ,il,iL->ikljLJ", I, I, X, X) * 2
        return H.reshape(X.shape[0], self.d_z, n, n)


# --------------------------------------------------------------------------- problem and points

@dataclass(frozen=True, eq=False)
class ResNetProblem:
    """Data of the ResNet training problem (empirical or weighted measure).

    Exactly one of ``Z`` (the residual representation given as data, theta fixed) and
    ``residual`` (a :class:`ResidualFunction`) must be given.  ``weights`` is the empirical
    measure mu = sum_i w_i delta_(x_i, y_i): non-negative, summing to one; default uniform 1/m.
    """

    X: np.ndarray
    Y: np.ndarray
    loss: Any
    Z: np.ndarray | None = None
    residual: ResidualFunction | None = None
    weights: np.ndarray | None = None
    uniform: bool = field(init=False, default=True)

    def __post_init__(self):
        X = _as_float_array("X", self.X, 2)
        Y = _as_float_array("Y", self.Y, 2)
        m = X.shape[0]
        if m == 0:
            raise ValueError("the data set is empty (m = 0)")
        if Y.shape[0] != m:
            raise ValueError(f"X has {m} samples but Y has {Y.shape[0]}")
        if X.shape[1] == 0 or Y.shape[1] == 0:
            raise ValueError(f"d_x and d_y must be positive, got X {X.shape}, Y {Y.shape}")
        for attr in ("value", "grad", "hess"):
            if not callable(getattr(self.loss, attr, None)):
                raise TypeError(f"loss must provide a callable .{attr}(H, Y); got {self.loss!r}")
        if (self.Z is None) == (self.residual is None):
            raise ValueError("give exactly one of Z (data) and residual (a ResidualFunction)")
        Z = None
        if self.Z is not None:
            Z = _as_float_array("Z", self.Z, 2)
            if Z.shape[0] != m:
                raise ValueError(f"X has {m} samples but Z has {Z.shape[0]}")
            if Z.shape[1] == 0:
                raise ValueError("d_z must be positive")
        else:
            if not isinstance(self.residual, ResidualFunction):
                raise TypeError("residual must implement ResidualFunction (d_x, d_z, n_params, z, "
                                "jacobian, hessian)")
            if self.residual.d_x != X.shape[1]:
                raise ValueError(f"residual.d_x = {self.residual.d_x} but X has d_x = {X.shape[1]}")
        uniform = self.weights is None
        if uniform:
            w = np.full(m, 1.0 / m)
        else:
            w = _as_float_array("weights", self.weights, 1)
            if w.shape != (m,):
                raise ValueError(f"weights must have shape ({m},), got {w.shape}")
            if np.any(w < 0):
                raise ValueError("weights must be non-negative (a probability measure)")
            # a sum of m float64 numbers is exact to about m * eps relative
            if abs(w.sum() - 1.0) > 4 * m * np.finfo(float).eps:
                raise ValueError("weights must sum to 1 (a probability measure), "
                                 f"sum = {w.sum()!r}")
        for name, arr in (("X", X), ("Y", Y), ("Z", Z), ("weights", w)):
            if arr is not None:
                arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "uniform", uniform)

    @property
    def m(self) -> int:
        return self.X.shape[0]

    @property
    def d_x(self) -> int:
        return self.X.shape[1]

    @property
    def d_y(self) -> int:
        return self.Y.shape[1]

    @property
    def d_z(self) -> int:
        if self.Z is not None:
            return self.Z.shape[1]
        assert self.residual is not None     # exactly one of Z and residual (__post_init__)
        return self.residual.d_z

    @property
    def n_theta(self) -> int:
        return 0 if self.residual is None else self.residual.n_params

    def features(self, theta=None) -> np.ndarray:
        """Z(X, theta): the data Z, or the residual function evaluated at theta."""
        if self.residual is None:
            if theta is not None:
                raise ValueError("this problem has Z given as data; theta must be None")
            assert self.Z is not None        # exactly one of Z and residual (__post_init__)
            return self.Z
        if theta is None:
            raise ValueError("this problem has a residual function; a theta is required")
        return self.residual.z(self.X, np.asarray(theta, dtype=float))


@dataclass(frozen=True, eq=False)
class ResNetPoint:
    """A parameter point (W, V[, theta]) of the ResNet (float64)."""

    W: np.ndarray
    V: np.ndarray
    theta: np.ndarray | None = None

    def __post_init__(self):
        object.__setattr__(self, "W", _as_float_array("W", self.W, 2))
        object.__setattr__(self, "V", _as_float_array("V", self.V, 2))
        if self.theta is not None:
            object.__setattr__(self, "theta", _as_float_array("theta", self.theta, 1))
        if self.W.shape[1] != self.V.shape[0]:
            raise ValueError(f"W is {self.W.shape} and V is {self.V.shape}: W's columns must "
                             "equal V's rows (d_x)")


@dataclass(frozen=True, eq=False)
class ResNetGradient:
    """dL/dW, dL/dV (same shapes as W, V) and dL/dtheta (None when theta is not a variable)."""

    W: np.ndarray
    V: np.ndarray
    theta: np.ndarray | None = None


def _check_point(problem: ResNetProblem, point: ResNetPoint):
    if not isinstance(point, ResNetPoint):
        raise TypeError(f"expected a ResNetPoint, got {type(point).__name__}")
    if point.W.shape != (problem.d_y, problem.d_x):
        raise ValueError(f"W must have shape (d_y, d_x) = {(problem.d_y, problem.d_x)}, "
                         f"got {point.W.shape}")
    if point.V.shape != (problem.d_x, problem.d_z):
        raise ValueError(f"V must have shape (d_x, d_z) = {(problem.d_x, problem.d_z)}, "
                         f"got {point.V.shape}")
    if problem.residual is not None:
        if point.theta is None:
            raise ValueError("the problem has a residual function: the point needs a theta")
        if point.theta.shape != (problem.n_theta,):
            raise ValueError(f"theta must have shape ({problem.n_theta},), got {point.theta.shape}")
    elif point.theta is not None:
        raise ValueError("the problem has Z given as data (theta fixed): point.theta must be None")


# --------------------------------------------------------------------------- Lemma 1 (generic)

def _outputs(X, Z, W, V):
    """U = X + Z V^T (rows x_i + V z_i) and H = U W^T (rows h_i)."""
    U = X + Z @ V.T
    return U, U @ W.T


def _mp_to_arb(x):
    """An mpf (or int) as a python-flint ``arb`` with the same value (exact: (man, exp) pair)."""
    import flint
    if not isinstance(x, mpmath.mpf):
        x = mpmath.mpf(x)
    sign, man, exp, _ = x._mpf_
    if not man:
        if exp or sign:   # +-inf or nan
            raise ArithmeticError(f"non-finite value {x} in a high-precision product")
        return flint.arb(0)
    # int(): the mantissa is a gmpy2 mpz when mpmath runs on gmpy, which flint does not take
    man = int(man)
    return flint.arb((flint.fmpz(-man if sign else man), flint.fmpz(int(exp))))


def _mp_gram(A, B) -> np.ndarray:
    """A^T B for object arrays (M, n), (M, q) of mpf, as mpf at the current mpmath precision.

    The products and sums run in python-flint's ``arb_mat`` (C) at the working precision plus
    32 guard bits and the midpoints are rounded to mpmath's precision: a rounding error of the
    same order as mpmath's own summation, about 30x faster than numpy's object-dtype loops.

    >>> with mpmath.workdps(30):
    ...     A = to_mp(np.array([[1.0, 2.0], [3.0, 4.0]]))
    ...     _mp_gram(A, A).tolist() == [[10, 14], [14, 20]]
    True
    """
    import flint
    M, n = A.shape
    q = B.shape[1]
    if M == 0:
        return np.full((n, q), mpmath.mpf(0), dtype=object)
    old = flint.ctx.prec
    flint.ctx.prec = mpmath.mp.prec + 32
    try:
        Aa = flint.arb_mat([[_mp_to_arb(x) for x in row] for row in A.T.tolist()])
        Ba = flint.arb_mat([[_mp_to_arb(x) for x in row] for row in B.tolist()])
        C = Aa * Ba
        out = np.empty((n, q), dtype=object)
        for i in range(n):
            for j in range(q):
                man, exp = C[i, j].mid().man_exp()
                out[i, j] = +mpmath.mpf((int(man), int(exp)))
    finally:
        flint.ctx.prec = old
    return out


def _gradient_WV_mp(U, Z, W, wD) -> np.ndarray:
    """[vec dL/dW, vec dL/dV] from Lemma 1 without forming the Jacobian (mpf arrays):
    dL/dW = (wD)^T U and dL/dV = W^T (wD)^T Z (the contractions of :func:`_jacobian` with wD)."""
    gW = wD.T @ U                       # (d_y, d_x)
    gV = W.T @ (wD.T @ Z)               # (d_x, d_z)
    return np.concatenate([gW.reshape(-1, order="F"), gV.reshape(-1, order="F")])


def _jacobian(U, Z, W, V, Jz=None):
    """Per-sample dh_i/d[vec W, vec V, theta], shape (m, d_y, n), via Lemma 1.

    dh/dvec(W) = (x + V z)^T kron I_{d_y} and dh/dvec(V) = z^T kron W; written with einsum so the
    same line serves float64 and mpf arrays (the kron layout is asserted in the tests).
    With theta: dh/dtheta = W V dz/dtheta.
    """
    m, d_x = U.shape
    d_y, d_z = W.shape[0], Z.shape[1]
    if _is_object(U):    # placed, not multiplied by 0 and 1 (mpf products are slow)
        JW4 = np.full((m, d_y, d_x, d_y), mpmath.mpf(0), dtype=object)
        for k in range(d_y):
            JW4[:, k, :, k] = U
        JW = JW4.reshape(m, d_y, d_x * d_y)
    else:
        JW = np.einsum("ia,kl->ikal", U, _identity(d_y, U)).reshape(m, d_y, d_x * d_y)
    JV = np.einsum("ib,ka->ikba", Z, W).reshape(m, d_y, d_z * d_x)
    parts = [JW, JV]
    if Jz is not None:
        parts.append(np.einsum("kb,ibp->ikp", W @ V, Jz))
    return np.concatenate(parts, axis=2)


def _second_order_term(wD, Z, W, V, Jz=None, Hz=None):
    """S = sum_i w_i sum_k D_ik d^2 h_ik / dparams^2 (the non-Gauss-Newton part of the Hessian).

    h is linear in W and affine in V, so the only (W, V) second derivatives are the bilinear
    cross terms d^2 h_ik / dW_ka dV_ab = z_ib, giving S_WV[(k,a),(a,b)] = M_kb with
    M = sum_i w_i D_i^T z_i^T = E[zD]^T.  This block is not zero away from E[zD] = 0.
    """
    d_y, d_x = W.shape
    d_z = Z.shape[1]
    M = np.einsum("ik,ib->kb", wD, Z)
    SWV = np.einsum("kb,ac->akbc", M, _identity(d_x, Z)).reshape(d_x * d_y, d_z * d_x)
    nW, nV = d_x * d_y, d_z * d_x
    if Jz is None:
        zW = np.zeros((nW, nW), dtype=SWV.dtype)
        zV = np.zeros((nV, nV), dtype=SWV.dtype)
        return np.block([[zW, SWV], [SWV.T, zV]])
    p = Jz.shape[2]
    SWt = np.einsum("ik,ab,ibp->akp", wD, V, Jz).reshape(nW, p)
    SVt = np.einsum("ik,ka,ibp->bap", wD, W, Jz).reshape(nV, p)
    Stt = np.einsum("ik,kb,ibpq->pq", wD, W @ V, Hz)
    zW = np.zeros((nW, nW), dtype=SWV.dtype)
    zV = np.zeros((nV, nV), dtype=SWV.dtype)
    return np.block([[zW, SWV, SWt], [SWV.T, zV, SVt], [SWt.T, SVt.T, Stt]])


def _as_mp_array(x, shape) -> np.ndarray:
    """Adapt the output of a loss's *_mp method (mpf, list, mpmath.matrix, ndarray) to ndarray."""
    if isinstance(x, mpmath.matrix):
        x = x.tolist()
    arr = np.array(x, dtype=object).reshape(shape)
    return arr


# --------------------------------------------------------------------------- public functions

def predict(problem: ResNetProblem, point: ResNetPoint) -> np.ndarray:
    """H (m, d_y) with rows h_i = W (x_i + V z_i) (eq. (1))."""
    _check_point(problem, point)
    return _outputs(problem.X, problem.features(point.theta), point.W, point.V)[1]


def objective(problem: ResNetProblem, point: ResNetPoint) -> float:
    """L = sum_i w_i l(h_i, y_i) (eq. (2)/(4))."""
    H = predict(problem, point)
    return float(problem.weights @ np.asarray(problem.loss.value(H, problem.Y), dtype=float))


def D_matrix(problem: ResNetProblem, point: ResNetPoint) -> np.ndarray:
    """D (m, d_y): row i is d l(h, y_i)/dh at h = h_i (Lemma 2's D, one row per sample)."""
    H = predict(problem, point)
    return np.asarray(problem.loss.grad(H, problem.Y), dtype=float)


def expected_zD(problem: ResNetProblem, point: ResNetPoint) -> np.ndarray:
    """E[z D] = sum_i w_i z_i D_i (d_z x d_y); zero at every local minimum (Lemma 2)."""
    Z = problem.features(point.theta)
    assert problem.weights is not None     # set by ResNetProblem.__post_init__
    return Z.T @ (problem.weights[:, None] * D_matrix(problem, point))


def expected_xD(problem: ResNetProblem, point: ResNetPoint) -> np.ndarray:
    """E[x D] = sum_i w_i x_i D_i (d_x x d_y); zero at every local minimum (Lemma 2)."""
    assert problem.weights is not None     # set by ResNetProblem.__post_init__
    return problem.X.T @ (problem.weights[:, None] * D_matrix(problem, point))


def induced_linear_predictor(point: ResNetPoint) -> np.ndarray:
    """R(W, V) = [W, W V] in R^{d_y x (d_x + d_z)}, so h = R [x; z] (proof of Theorem 1)."""
    return np.hstack([point.W, point.W @ point.V])


def predictor_jacobian(problem: ResNetProblem, point: ResNetPoint, with_theta: bool = False):
    """Per-sample dh_i/d[vec W, vec V(, theta)], shape (m, d_y, n), by Lemma 1's kron forms."""
    _check_point(problem, point)
    Z = problem.features(point.theta)
    U, _ = _outputs(problem.X, Z, point.W, point.V)
    Jz = None
    if with_theta:
        if problem.residual is None:
            raise ValueError("with_theta=True needs a problem with a residual function")
        Jz = problem.residual.jacobian(problem.X, point.theta)
    return _jacobian(U, Z, point.W, point.V, Jz)


def gradient(problem: ResNetProblem, point: ResNetPoint) -> ResNetGradient:
    """dL/d(W, V[, theta]) = sum_i w_i (dh_i/dparams)^T D_i^T, with Lemma 1's Jacobians.

    Reshaped into matrices: dL/dW = E[(x + V z) D]^T and dL/dV = W^T E[z D]^T.  (The paper writes
    vec(E[(x + Vz) D]) and vec(E[z D W]); those are the transposes, a harmless index slip since
    only their vanishing is used.)
    """
    with_theta = problem.residual is not None
    J = predictor_jacobian(problem, point, with_theta=with_theta)
    assert problem.weights is not None     # set by ResNetProblem.__post_init__
    g = np.einsum("i,ikn,ik->n", problem.weights, J, D_matrix(problem, point))
    nW, nV = problem.d_y * problem.d_x, problem.d_x * problem.d_z
    return ResNetGradient(
        W=_unvec(g[:nW], point.W.shape),
        V=_unvec(g[nW:nW + nV], point.V.shape),
        theta=g[nW + nV:] if with_theta else None,
    )


def hessian_WV(problem: ResNetProblem, point: ResNetPoint) -> np.ndarray:
    """Exact Hessian of L in (vec W, vec V) at fixed theta: J^T H_l J plus the W-V cross term."""
    _check_point(problem, point)
    land = Landscape(problem, ("W", "V"), theta=point.theta)
    return land.hess(land.flatten(point))


# --------------------------------------------------------------------------- landscape

_TRAINABLE = (("W", "V"), ("W", "V", "theta"))


class Landscape:
    """L as a function of a flat parameter vector p = [vec W, vec V(, theta)], for optimisers.

    ``value/grad/hess`` work in float64; ``value_mp/grad_mp/hess_mp(p, digits)`` evaluate the same
    formulas in mpmath at ``digits`` significant digits and return mpf (object arrays).  With
    trainable=("W", "V") and a residual function, theta is held at the given ``theta``.

    >>> import numpy as np
    >>> class Sq:
    ...     name, convex, differentiable, twice_differentiable = "sq", True, True, True
    ...     def value(self, H, Y): return ((H - Y) ** 2).sum(-1)
    ...     def grad(self, H, Y): return 2 * (H - Y)
    ...     def hess(self, H, Y):
    ...         return np.broadcast_to(2 * np.eye(H.shape[-1]), H.shape + H.shape[-1:])
    >>> problem = ResNetProblem(X=np.eye(2), Y=np.ones((2, 1)), loss=Sq(), Z=np.ones((2, 1)))
    >>> land = Landscape(problem)
    >>> land.n_params          # vec W (1*2) + vec V (2*1)
    4
    >>> float(land.value(np.zeros(4)))   # h = 0: mean of ||0 - 1||^2
    1.0
    """

    def __init__(self, problem: ResNetProblem, trainable: Sequence[str] = ("W", "V"), theta=None):
        if not isinstance(problem, ResNetProblem):
            raise TypeError(f"expected a ResNetProblem, got {type(problem).__name__}")
        trainable = tuple(trainable)
        if trainable not in _TRAINABLE:
            raise ValueError(f"trainable must be one of {_TRAINABLE}, got {trainable}")
        if "theta" in trainable and problem.residual is None:
            raise ValueError("theta cannot be trainable: the problem gives Z as data")
        if problem.residual is not None and "theta" not in trainable:
            if theta is None:
                raise ValueError("theta is not trainable: pass the fixed theta")
            theta = _as_float_array("theta", theta, 1)
            if theta.shape != (problem.n_theta,):
                raise ValueError(f"theta must have shape ({problem.n_theta},), got {theta.shape}")
        elif theta is not None and problem.residual is None:
            raise ValueError("the problem gives Z as data: theta must be None")
        self.problem = problem
        self.trainable = trainable
        self.theta = theta
        self.nW = problem.d_y * problem.d_x
        self.nV = problem.d_x * problem.d_z
        self.n_theta = problem.n_theta if "theta" in trainable else 0
        self._mp_cache: dict[int, tuple] = {}

    @property
    def n_params(self) -> int:
        return self.nW + self.nV + self.n_theta

    def __repr__(self):
        pb = self.problem
        return (f"Landscape(m={pb.m}, d_x={pb.d_x}, d_y={pb.d_y}, d_z={pb.d_z}, "
                f"trainable={self.trainable}, n_params={self.n_params})")

    # ---- parameter layout
    def flatten(self, point: ResNetPoint) -> np.ndarray:
        """p = [vec W, vec V(, theta)] (column-major vec)."""
        if not isinstance(point, ResNetPoint):
            raise TypeError(f"expected a ResNetPoint, got {type(point).__name__}")
        pb = self.problem
        if point.W.shape != (pb.d_y, pb.d_x) or point.V.shape != (pb.d_x, pb.d_z):
            raise ValueError(f"point has W {point.W.shape}, V {point.V.shape}; expected "
                             f"{(pb.d_y, pb.d_x)} and {(pb.d_x, pb.d_z)}")
        parts = [_vec(point.W), _vec(point.V)]
        if self.n_theta:
            if point.theta is None or point.theta.shape != (self.n_theta,):
                raise ValueError(f"point.theta must have shape ({self.n_theta},)")
            parts.append(point.theta)
        return np.concatenate(parts)

    def split(self, p):
        """(W, V, theta) views of a flat p (float or mpf object array); theta may be fixed."""
        p = np.asarray(p)
        if p.shape != (self.n_params,):
            raise ValueError(f"p must have shape ({self.n_params},), got {p.shape}")
        pb = self.problem
        W = _unvec(p[:self.nW], (pb.d_y, pb.d_x))
        V = _unvec(p[self.nW:self.nW + self.nV], (pb.d_x, pb.d_z))
        theta = p[self.nW + self.nV:] if self.n_theta else self.theta
        return W, V, theta

    def unflatten(self, p) -> ResNetPoint:
        W, V, theta = self.split(np.asarray(p, dtype=float))
        return ResNetPoint(W=W.copy(), V=V.copy(), theta=None if theta is None else np.array(theta))

    # ---- evaluation
    def _data(self, digits):
        pb = self.problem
        if digits is None:
            return pb.X, pb.Y, pb.Z, pb.weights
        if digits not in self._mp_cache:
            w = (np.array([mpmath.mpf(1) / pb.m] * pb.m, dtype=object) if pb.uniform
                 else to_mp(pb.weights))
            self._mp_cache[digits] = (to_mp(pb.X), to_mp(pb.Y),
                                      None if pb.Z is None else to_mp(pb.Z), w)
        return self._mp_cache[digits]

    def _loss_terms(self, H, Y, order, mp_mode, with_value=True):
        loss = self.problem.loss
        m, d_y = H.shape
        vals: np.ndarray | None
        if not mp_mode:
            vals = np.asarray(loss.value(H, Y), dtype=float)
            D = np.asarray(loss.grad(H, Y), dtype=float) if order >= 1 else None
            Hl = np.asarray(loss.hess(H, Y), dtype=float) if order >= 2 else None
            return vals, D, Hl
        vals = None
        if with_value:
            vals = np.array([mpmath.mpf(loss.value_mp(H[i], Y[i])) for i in range(m)],
                            dtype=object)
        D = Hl = None
        if order >= 1:
            D = np.stack([_as_mp_array(loss.grad_mp(H[i], Y[i]), (d_y,)) for i in range(m)])
        if order >= 2:
            Hl = np.stack([_as_mp_array(loss.hess_mp(H[i], Y[i]), (d_y, d_y)) for i in range(m)])
        return vals, D, Hl

    def _evaluate(self, p, order, digits=None, with_value=True):
        mp_mode = digits is not None
        with_value = with_value or not mp_mode or order == 0
        X, Y, Zdata, w = self._data(digits)
        p = to_mp(p) if mp_mode else np.asarray(p, dtype=float)
        W, V, theta = self.split(p)
        pb = self.problem
        if pb.residual is not None:
            th = theta if (self.n_theta or not mp_mode) else to_mp(theta)
            Z = pb.residual.z(X, th)
        else:
            Z = Zdata
        U, H = _outputs(X, Z, W, V)
        vals, D, Hl = self._loss_terms(H, Y, order, mp_mode, with_value)
        value = (w * vals).sum() if with_value else None
        if order == 0:
            return value, None, None
        Jz = (pb.residual.jacobian(X, theta)
              if self.n_theta and pb.residual is not None else None)
        wD = w[:, None] * D
        if mp_mode and order == 1 and Jz is None:
            return value, _gradient_WV_mp(U, Z, W, wD), None
        J = _jacobian(U, Z, W, V, Jz)
        g = np.einsum("ik,ikn->n", wD, J)
        if order == 1:
            return value, g, None
        Hz = (pb.residual.hessian(X, theta)
              if self.n_theta and pb.residual is not None else None)
        HJ = np.einsum("ikl,iln->ikn", Hl, J)
        if mp_mode:     # sum_i w_i J_i^T Hl_i J_i as one (m d_y x n)^T (m d_y x n) product
            n = J.shape[2]
            gauss_newton = _mp_gram(J.reshape(-1, n), (w[:, None, None] * HJ).reshape(-1, n))
            gauss_newton = (gauss_newton + gauss_newton.T) * mpmath.mpf(0.5)
        else:
            gauss_newton = np.einsum("i,ikn,ikq->nq", w, J, HJ)
        hess = gauss_newton + _second_order_term(wD, Z, W, V, Jz, Hz)
        return value, g, hess

    def value(self, p) -> float:
        return float(self._evaluate(p, 0)[0])

    def grad(self, p) -> np.ndarray:
        return self._evaluate(p, 1)[1]

    def hess(self, p) -> np.ndarray:
        return self._evaluate(p, 2)[2]

    def derivatives(self, p, order: int = 2):
        """(value, grad, hess) in float64 from one pass; entries beyond ``order`` are None."""
        return self._evaluate(p, order)

    def derivatives_mp(self, p, digits: int, order: int = 2):
        """(value, grad, hess) as mpf at ``digits`` digits from one pass."""
        digits = _check_digits(digits)
        with mpmath.mp.workdps(digits):
            return self._evaluate(p, order, digits)

    def value_mp(self, p, digits: int):
        return self.derivatives_mp(p, digits, 0)[0]

    def grad_mp(self, p, digits: int) -> np.ndarray:
        """The gradient at ``digits`` (the loss value, not needed, is not computed)."""
        digits = _check_digits(digits)
        with mpmath.mp.workdps(digits):
            return self._evaluate(p, 1, digits, with_value=False)[1]

    def hess_mp(self, p, digits: int) -> np.ndarray:
        return self.derivatives_mp(p, digits, 2)[2]


def _check_digits(digits) -> int:
    if not isinstance(digits, (int, np.integer)) or digits < 15:
        raise ValueError("digits must be an integer >= 15 (float64 converts exactly), "
                         f"got {digits!r}")
    return int(digits)
