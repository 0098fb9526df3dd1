r"""Numeric backends: one interface, two precisions.

Theorem modules never do raw arithmetic; they call a backend ``B`` so that the same
check runs in float64 (fast, batched over instances) or at any number of decimal
digits (mpmath), and so that every tolerance comes from the precision actually used.

* :class:`NumpyBackend`: float64 arrays; every matrix operation is batched over
  leading axes (``(..., m, n)``), so a leading instance axis checks many instances
  at once.
* :class:`MpmathBackend`: numpy object arrays of :class:`mpmath.mpf`, so ``@``,
  ``.T``, slicing and ``sum`` work as usual.  Each backend method runs inside a
  local ``mpmath.workdps(digits)`` context and never changes the global precision.
  Raw operators (``a @ b`` outside the backend) run at whatever the global mpmath
  precision is, so use ``B.matmul`` etc. for precision-controlled arithmetic.

>>> B = get_backend("numpy")
>>> B.numerical_rank(B.asarray([[1, 2], [2, 4]])).item()
1
>>> H = get_backend("mpmath", digits=30)
>>> H.to_float(H.trace(H.projection(H.asarray([[1, 0], [1, 0], [0, 1]])))).item()
2.0
"""

from __future__ import annotations

import abc
import contextlib
import importlib
import math
import numbers
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np

from . import linalg

__all__ = ["Backend", "NumpyBackend", "MpmathBackend", "get_backend", "BACKENDS"]


class Backend(abc.ABC):
    """The arithmetic a theorem check may use.  Names are a contract; see the module doc.

    Subclasses provide the primitives (conversion, matmul, SVD, eigenvalues, solve,
    elementwise functions); the structural operations and the error model are shared.

    Attributes: ``name``; ``digits`` (decimal digits carried); ``unit_roundoff``
    (``u``, the relative error bound of one rounded operation); ``safety`` (constant
    factor of :meth:`tolerance`); ``tiny`` (floor for the scale in :meth:`tolerance`);
    ``rank_method`` (the :func:`proofcheck.linalg.rank_cutoff` rule used for rank
    decisions).
    """

    name: str = "abstract"
    digits: float
    # a number of the backend's own type (float, mpf, Rational, Ball): arithmetic with it is
    # the backend's, so it is typed Any rather than object
    unit_roundoff: Any
    tiny: Any
    #: Constant factor on top of ``n_ops * cond * u``; see :meth:`tolerance`.
    safety: int = 16

    def __init__(self, rank_method="lapack"):
        linalg._check_method(rank_method)
        self.rank_method = rank_method

    # -- identity ---------------------------------------------------------------
    def __repr__(self):
        return f"{type(self).__name__}(digits={self.digits:g})"

    def __eq__(self, other):
        return (type(self) is type(other) and self.digits == other.digits
                and self.rank_method == other.rank_method)

    def __hash__(self):
        return hash((type(self).__name__, self.digits, str(self.rank_method)))

    def _ctx(self):
        """Context in which arithmetic runs at this backend's precision."""
        return contextlib.nullcontext()

    def context(self):
        """A context in which raw operators on this backend's numbers (``x - y``, ``a @ b``
        on mpf object arrays, code that knows no backend) run at its precision; a no-op
        for backends of fixed precision.

        >>> H = get_backend("mpmath", digits=30)
        >>> with H.context():
        ...     third = H.asarray(1).item() / 3
        >>> third.bc > 53                  # bits of the mantissa: more than a float64's
        True
        """
        return self._ctx()

    @property
    def eps(self):
        """Machine epsilon ``2 u`` (spacing of numbers at 1), used by rank cutoffs."""
        return 2 * self.unit_roundoff

    # -- primitives ---------------------------------------------------------------
    @abc.abstractmethod
    def asarray(self, a):
        """``a`` (numpy array, nested lists, float, int, Fraction, sympy number or matrix)
        as this backend's array type, exactly where the precision allows."""

    @abc.abstractmethod
    def to_float(self, a) -> np.ndarray:
        """``a`` as a numpy float64 array (rounded to nearest)."""

    @abc.abstractmethod
    def zeros(self, shape):
        """An array of zeros of the given shape."""

    @abc.abstractmethod
    def eye(self, n):
        """The ``n x n`` identity."""

    @abc.abstractmethod
    def svd(self, M):
        """Thin SVD ``(U, s, Vt)`` of ``M (..., m, n)``; ``s`` decreasing."""

    @abc.abstractmethod
    def svdvals(self, M):
        """Singular values of ``M (..., m, n)``, shape ``(..., min(m, n))``, decreasing."""

    @abc.abstractmethod
    def eigvalsh(self, S):
        """Eigenvalues of the symmetric ``S (..., n, n)``, ascending."""

    @abc.abstractmethod
    def solve(self, A, b):
        """Solution ``x`` of ``A x = b``; ``b`` is ``(..., n, k)`` or a 1-D vector."""

    @abc.abstractmethod
    def _map(self, fname, a):
        """Apply the elementwise function named ``fname`` (exp, log, ...)."""

    # -- elementwise ---------------------------------------------------------------
    def exp(self, a):
        return self._map("exp", a)

    def log(self, a):
        return self._map("log", a)

    def log1p(self, a):
        return self._map("log1p", a)

    def sqrt(self, a):
        return self._map("sqrt", a)

    def abs(self, a):
        return self._map("abs", a)

    @abc.abstractmethod
    def maximum(self, a, b):
        """Elementwise maximum, broadcasting."""

    # -- structure ---------------------------------------------------------------
    def matmul(self, a, b):
        """``a @ b`` (batched over leading axes) at this precision."""
        with self._ctx():
            return np.matmul(self.asarray(a), self.asarray(b))

    def T(self, a):
        """Transpose of the last two axes."""
        return np.swapaxes(self.asarray(a), -1, -2)

    def hstack(self, arrays):
        """Concatenate along the last axis (``[X Z]`` in the paper's notation)."""
        return np.concatenate([self.asarray(a) for a in arrays], axis=-1)

    def kron(self, a, b):
        """Kronecker product of the last two axes, batched: ``(..., p, q) x (..., r, s)
        -> (..., p r, q s)`` (``numpy.kron`` would also multiply the batch axes).

        >>> get_backend("numpy").kron([[1, 2]], [[1], [10]]).tolist()
        [[1.0, 2.0], [10.0, 20.0]]
        """
        a, b = self.asarray(a), self.asarray(b)
        if a.ndim < 2 or b.ndim < 2:
            raise ValueError(f"kron needs matrices, got shapes {a.shape} and {b.shape}")
        with self._ctx():
            out = a[..., :, None, :, None] * b[..., None, :, None, :]
        p, r, q, s = out.shape[-4:]
        return out.reshape(out.shape[:-4] + (p * r, q * s))

    def trace(self, a):
        """Trace over the last two axes."""
        a = self.asarray(a)
        with self._ctx():
            return np.diagonal(a, axis1=-2, axis2=-1).sum(axis=-1)

    def fro2(self, a):
        """Squared Frobenius norm over the last two axes."""
        a = self.asarray(a)
        if a.ndim < 2:
            raise ValueError(f"fro2 needs (..., m, n), got shape {a.shape}")
        with self._ctx():
            return (a * a).sum(axis=(-2, -1))

    def norm(self, a):
        """Frobenius norm over the last two axes; the 2-norm of a 1-D vector."""
        a = self.asarray(a)
        if a.ndim == 1:
            with self._ctx():
                return self.sqrt((a * a).sum())
        return self.sqrt(self.fro2(a))

    def sum(self, a, axis=None):
        with self._ctx():
            return np.sum(self.asarray(a), axis=axis)

    def mean(self, a, axis=None):
        a = self.asarray(a)
        count = a.size if axis is None else math.prod(
            a.shape[ax] for ax in np.atleast_1d(axis))
        if count == 0:
            raise ValueError("mean of an empty selection")
        with self._ctx():
            return np.sum(a, axis=axis) / count

    # -- linear algebra built on svd -----------------------------------------------
    def _check_matrix(self, M, name="M"):
        A = self.asarray(M)
        if A.ndim < 2:
            raise ValueError(f"{name} must have shape (..., m, n), got {A.shape}")
        if not self._all_finite(A):
            raise ValueError(f"{name} contains NaN or inf")
        return A

    def _all_finite(self, A) -> bool:
        return bool(np.all(np.isfinite(self.to_float(A))))

    def rank_cutoff(self, s, shape, method=None):
        """Rank cutoff per matrix of the batch for singular values ``s`` (decreasing) of a
        matrix of ``shape``, by :func:`proofcheck.linalg.rank_cutoff`'s rules at this
        backend's epsilon (``method=None``: the backend's ``rank_method``)."""
        method = self.rank_method if method is None else method
        linalg._check_method(method)
        with self._ctx():
            if s.shape[-1] == 0:
                s_max = self.zeros(s.shape[:-1])
            else:
                s_max = s[..., 0]  # s is sorted decreasing
            if isinstance(method, str):
                return s_max * self.eps * linalg.cutoff_factor(shape, method)
            return s_max * 0 + self.asarray(method)

    def _kept(self, s, shape, method):
        tol = self.rank_cutoff(s, shape, method)
        with self._ctx():
            return np.asarray(s > np.asarray(tol)[..., None], dtype=bool)

    def range_basis(self, M, method=None):
        """Orthonormal basis of the column space, zero-padded across a batch
        (see :func:`proofcheck.linalg.range_basis`)."""
        A = self._check_matrix(M)
        U, s, _ = self.svd(A)
        keep = self._kept(s, A.shape, method)
        r = int(keep.sum(axis=-1).max(initial=0))
        with self._ctx():
            return (U * keep[..., None, :].astype(U.dtype) if U.dtype != object
                    else np.where(keep[..., None, :], U, self.asarray(0)))[..., :r]

    def projection(self, M, method=None):
        """``P[M]``, projector onto the column space of ``M`` (SVD with the rank cutoff)."""
        Q = self.range_basis(M, method)
        return self.matmul(Q, self.T(Q))

    def null_projection(self, M, method=None):
        """``P_N[M] = I - P[M]``, projector onto ``Null(M^T)`` (see
        :func:`proofcheck.linalg.null_projection` for the paper's wording)."""
        P = self.projection(M, method)
        with self._ctx():
            return self.eye(P.shape[-1]) - P

    def project(self, M, Y, method=None):
        """``P[M] Y`` without forming the ``m x m`` projector: ``Q (Q^T Y)``."""
        Q = self.range_basis(M, method)
        return self.matmul(Q, self.matmul(self.T(Q), Y))

    def null_project(self, M, Y, method=None):
        """``P_N[M] Y = Y - P[M] Y`` without forming the ``m x m`` projector."""
        Y = self.asarray(Y)
        PY = self.project(M, Y, method)
        with self._ctx():
            return Y - PY

    def numerical_rank(self, M, method=None):
        """Number of singular values above the cutoff (int array over the batch)."""
        A = self._check_matrix(M)
        s = self.svdvals(A)
        return self._kept(s, A.shape, method).sum(axis=-1)

    def pinv(self, M, method=None):
        """Moore-Penrose pseudo-inverse ``V_r S_r^{-1} U_r^T`` with the rank cutoff."""
        A = self._check_matrix(M)
        U, s, Vt = self.svd(A)
        keep = self._kept(s, A.shape, method)
        with self._ctx():
            one, zero = self.asarray(1), self.asarray(0)
            safe = np.where(keep, s, one)
            inv_s = np.where(keep, one / safe, zero)
            return self.matmul(self.T(Vt) * inv_s[..., None, :], self.T(U))

    def min_eigvalsh(self, S):
        """Smallest eigenvalue of the symmetric ``S``."""
        return self.eigvalsh(S)[..., 0]

    def condition_number(self, M, method=None):
        """``s_max / s_r``: largest over smallest singular value above the rank cutoff.

        This is the condition number of ``M`` restricted to its numerical range, the
        factor by which relative perturbations of ``M`` can grow in projections and
        least-squares residuals.  A matrix of rank 0 gets 1 (nothing to amplify).
        """
        A = self._check_matrix(M)
        s = self.svdvals(A)
        keep = self._kept(s, A.shape, method)
        r = keep.sum(axis=-1)
        with self._ctx():
            one = self.asarray(1)
            if s.shape[-1] == 0:
                return np.broadcast_to(one, s.shape[:-1]).copy()
            idx = np.maximum(r - 1, 0)[..., None]
            s_r = np.take_along_axis(s, idx, axis=-1)[..., 0]
            ok = r > 0
            return np.where(ok, s[..., 0] / np.where(ok, s_r, one), one)

    # -- error model -------------------------------------------------------------
    def tolerance(self, scale, *, cond=1.0, n_ops=1):
        r"""Tolerance for comparing two computed quantities of magnitude ``scale``.

        ``tol = safety * n_ops * cond * u * max(|scale|, tiny)`` with ``safety = 16``.

        Where it comes from (Higham, *Accuracy and Stability of Numerical Algorithms*,
        2nd ed.): a sum or dot product of ``n`` terms has relative error at most
        ``gamma_n = n u / (1 - n u)`` (ch. 3, lemma 3.1 and section 3.1); matrix products inherit it
        entrywise; Householder QR and SVD-based least squares are backward stable with
        ``||dA|| <= gamma_{c m n} ||A||`` (ch. 19, thm 19.4), and the residual and
        projection ``P[A] b`` then move by about ``cond(A)`` times that relative
        perturbation (ch. 20, thm 20.1; for residuals the factor is ``cond``, not
        ``cond**2``).  So ``n_ops`` is the length of the longest chain of
        accumulated roundings (e.g. ``m * n`` for a projection of an ``m x n``
        matrix), ``cond`` the condition number of the matrix whose range is
        projected on, and ``safety`` absorbs the small constants (``c``, the factor 2
        between errors of a norm and of its square, ``1/(1 - n u)``) that the
        bounds leave unspecified.  ``tiny`` keeps the tolerance positive when both
        quantities are exactly zero.

        >>> B = NumpyBackend()
        >>> float(B.tolerance(1.0)) == 16 * 2.0**-53
        True
        """
        if isinstance(n_ops, bool) or not isinstance(n_ops, numbers.Integral) or n_ops < 1:
            raise ValueError(f"n_ops must be an integer >= 1, got {n_ops!r}")
        cond_f = self.to_float(cond)
        if np.any(~(cond_f >= 1.0)):
            raise ValueError(f"cond must be >= 1 (a condition number), got {cond!r}")
        if np.any(np.isnan(self.to_float(scale))):
            raise ValueError("scale is NaN")
        with self._ctx():
            mag = self.maximum(self.abs(self.asarray(scale)), self.tiny)
            return self.safety * int(n_ops) * self.asarray(cond) * self.unit_roundoff * mag


# ---------------------------------------------------------------------------
# float64
# ---------------------------------------------------------------------------

class NumpyBackend(Backend):
    """float64 arithmetic with numpy/LAPACK, batched over leading axes.

    >>> B = NumpyBackend()
    >>> B.name, round(B.digits, 2), B.unit_roundoff == 2.0**-53
    ('numpy', 15.95, True)
    """

    name = "numpy"
    digits = 53 * math.log10(2.0)  # 15.95...
    unit_roundoff = 2.0 ** -53
    tiny = float(np.finfo(np.float64).tiny)  # smallest normal float64

    def asarray(self, a):
        if isinstance(a, np.ndarray) and a.dtype == np.float64:
            return a
        if hasattr(a, "tolist") and not isinstance(a, np.ndarray):  # sympy Matrix
            a = a.tolist()
        try:
            # float() of a Fraction / sympy Rational is correctly rounded.
            return np.asarray(a, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"cannot convert {type(a).__name__} to float64: {exc}") from exc

    def to_float(self, a):
        return self.asarray(a)

    def zeros(self, shape):
        return np.zeros(shape)

    def eye(self, n):
        return np.eye(n)

    def svd(self, M):
        return np.linalg.svd(self._check_matrix(M), full_matrices=False)

    def svdvals(self, M):
        return np.linalg.svd(self._check_matrix(M), compute_uv=False)

    def eigvalsh(self, S):
        S = self._check_matrix(S, "S")
        if S.shape[-1] != S.shape[-2]:
            raise ValueError(f"eigvalsh needs square matrices, got {S.shape}")
        return np.linalg.eigvalsh(S)

    def solve(self, A, b):
        A, b = self._check_matrix(A, "A"), self.asarray(b)
        if b.ndim == 1:
            return np.linalg.solve(A, b[:, None])[..., 0]
        return np.linalg.solve(A, b)

    _FUNCS = {"exp": np.exp, "log": np.log, "log1p": np.log1p, "sqrt": np.sqrt,
              "abs": np.abs}

    def _map(self, fname, a):
        return self._FUNCS[fname](self.asarray(a))

    def maximum(self, a, b):
        return np.maximum(self.asarray(a), self.asarray(b))

    def projection(self, M, method=None):
        # linalg adds a re-orthogonalisation-free U_r U_r^T; identical rule, batched LAPACK.
        return linalg.projection(M, self.rank_method if method is None else method)


# ---------------------------------------------------------------------------
# arbitrary precision
# ---------------------------------------------------------------------------

def _is_sympy(x) -> bool:
    return type(x).__module__.startswith("sympy")


class MpmathBackend(Backend):
    """``digits`` decimal digits with mpmath; arrays are numpy object arrays of ``mpf``.

    The unit roundoff is taken as ``10**-digits`` (mpmath actually carries a few more
    bits, ``prec = 3.33 digits + 3``, so this is a slight overestimate: safe).

    >>> H = MpmathBackend(digits=40)
    >>> x = H.asarray([[1, 2], [3, 4]])
    >>> H.to_float(H.matmul(x, H.T(x))).tolist()
    [[5.0, 11.0], [11.0, 25.0]]
    """

    name = "mpmath"

    def __init__(self, digits=50, rank_method="lapack"):
        if isinstance(digits, bool) or not isinstance(digits, numbers.Integral) or digits < 5:
            raise ValueError(f"digits must be an integer >= 5, got {digits!r}")
        super().__init__(rank_method)
        self.digits = int(digits)
        with self._ctx():
            self.unit_roundoff = mpmath.mpf(10) ** (-self.digits)
            # No underflow threshold in mpmath; u**2 is far below any magnitude a
            # comparison at this precision can resolve.
            self.tiny = self.unit_roundoff ** 2

    def _ctx(self):
        return mpmath.workdps(self.digits)

    def _all_finite(self, A) -> bool:
        # not via float64: an mpf beyond 1e308 is finite here
        return all(mpmath.isfinite(v) for v in A.flat)

    # -- conversion ----------------------------------------------------------------
    def _to_mpf(self, x):
        if isinstance(x, mpmath.mpf):
            return x
        if isinstance(x, (bool, np.bool_)):
            raise TypeError("booleans are not numbers here")
        if isinstance(x, (numbers.Integral, np.integer)):
            return mpmath.mpf(int(x))
        if isinstance(x, (float, np.floating)):
            return mpmath.mpf(float(x))  # exact: a float64 has 53 bits
        if isinstance(x, Fraction):
            return mpmath.mpf(x.numerator) / x.denominator
        if _is_sympy(x):
            if getattr(x, "is_Rational", False):
                return mpmath.mpf(int(x.p)) / int(x.q)
            if getattr(x, "is_Float", False):
                return mpmath.mpf(x._mpf_)
            if getattr(x, "is_real", False) and getattr(x, "is_number", False):
                return mpmath.mpf(x.evalf(self.digits + 5)._mpf_)
            raise TypeError(f"cannot convert the sympy expression {x} to a real number")
        if isinstance(x, str):
            return mpmath.mpf(x)
        if isinstance(x, (numbers.Real,)):
            return mpmath.mpf(float(x))
        raise TypeError(f"cannot convert {type(x).__name__} ({x!r}) to mpf")

    def asarray(self, a):
        if isinstance(a, np.ndarray) and a.dtype == object and all(
                isinstance(v, mpmath.mpf) for v in a.flat):
            return a
        if hasattr(a, "tolist") and not isinstance(a, np.ndarray):  # sympy / mpmath matrix
            a = a.tolist()
        with self._ctx():
            arr = np.asarray(a, dtype=object) if not isinstance(a, np.ndarray) else a
            if arr.ndim == 0:
                return np.asarray(self._to_mpf(arr.item()), dtype=object)
            out = np.empty(arr.shape, dtype=object)
            for idx, v in np.ndenumerate(arr):
                out[idx] = self._to_mpf(v)
            return out

    def to_float(self, a):
        if isinstance(a, np.ndarray) and a.dtype != object:
            return a.astype(np.float64)
        arr = np.asarray(a, dtype=object)
        return np.vectorize(float, otypes=[np.float64])(arr) if arr.size else \
            np.zeros(arr.shape)

    def zeros(self, shape):
        return np.full(shape, mpmath.mpf(0), dtype=object)

    def matmul(self, a, b):
        out = super().matmul(a, b)
        if np.shape(a)[-1] == 0:  # numpy's empty object sum is the int 0
            out = self.zeros(np.shape(out))
        return out

    def eye(self, n):
        out = self.zeros((n, n))
        for i in range(n):
            out[i, i] = mpmath.mpf(1)
        return out

    # -- per-matrix loops ----------------------------------------------------------
    @staticmethod
    def _to_mp(A2):
        return mpmath.matrix(A2.tolist())

    @staticmethod
    def _from_mp(Mx, rows, cols):
        out = np.empty((rows, cols), dtype=object)
        for i in range(rows):
            for j in range(cols):
                out[i, j] = Mx[i, j]
        return out

    def _svd2(self, A2, compute_uv):
        m, n = A2.shape
        k = min(m, n)
        if k == 0:
            s = np.empty((0,), dtype=object)
            if not compute_uv:
                return s
            return self.zeros((m, 0)), s, self.zeros((0, n))
        if not compute_uv:
            S = mpmath.svd_r(self._to_mp(A2), compute_uv=False)
            return np.array([S[i] for i in range(k)], dtype=object)
        U, S, V = mpmath.svd_r(self._to_mp(A2), full_matrices=False)
        return (self._from_mp(U, m, k), np.array([S[i] for i in range(k)], dtype=object),
                self._from_mp(V, k, n))

    def svd(self, M):
        A = self._check_matrix(M)
        m, n = A.shape[-2:]
        k = min(m, n)
        batch = A.shape[:-2]
        U = np.empty(batch + (m, k), dtype=object)
        s = np.empty(batch + (k,), dtype=object)
        Vt = np.empty(batch + (k, n), dtype=object)
        with self._ctx():
            for idx in np.ndindex(*batch):
                U[idx], s[idx], Vt[idx] = self._svd2(A[idx], True)
        return U, s, Vt

    def svdvals(self, M):
        A = self._check_matrix(M)
        m, n = A.shape[-2:]
        batch = A.shape[:-2]
        s = np.empty(batch + (min(m, n),), dtype=object)
        with self._ctx():
            for idx in np.ndindex(*batch):
                s[idx] = self._svd2(A[idx], False)
        return s

    def eigvalsh(self, S):
        A = self._check_matrix(S, "S")
        n = A.shape[-1]
        if A.shape[-2] != n:
            raise ValueError(f"eigvalsh needs square matrices, got {A.shape}")
        out = np.empty(A.shape[:-1], dtype=object)
        with self._ctx():
            for idx in np.ndindex(*A.shape[:-2]):
                if n == 0:
                    continue
                E = mpmath.eigsy(self._to_mp(A[idx]), eigvals_only=True)
                out[idx] = np.array(sorted(E[i] for i in range(n)), dtype=object)
        return out

    def solve(self, A, b):
        A, b = self._check_matrix(A, "A"), self.asarray(b)
        vector = b.ndim == 1
        if vector:
            b = b[:, None]
        n = A.shape[-1]
        if A.shape[-2] != n or b.shape[-2] != n:
            raise ValueError(f"solve needs A (..., n, n) and b (..., n, k); got {A.shape}, "
                             f"{b.shape}")
        batch = np.broadcast_shapes(A.shape[:-2], b.shape[:-2])
        A = np.broadcast_to(A, batch + A.shape[-2:])
        b = np.broadcast_to(b, batch + b.shape[-2:])
        out = np.empty(b.shape, dtype=object)
        with self._ctx():
            for idx in np.ndindex(*batch):
                Am = self._to_mp(A[idx])
                for j in range(b.shape[-1]):
                    x = mpmath.lu_solve(Am, mpmath.matrix(list(b[idx][:, j])))
                    out[idx][:, j] = [x[i] for i in range(n)]
        return out[..., 0] if vector else out

    _FUNCS = {"exp": mpmath.exp, "log": mpmath.log, "log1p": mpmath.log1p,
              "sqrt": mpmath.sqrt, "abs": mpmath.fabs}

    def _map(self, fname, a):
        f = self._FUNCS[fname]
        with self._ctx():
            return np.frompyfunc(f, 1, 1)(self.asarray(a))

    def maximum(self, a, b):
        with self._ctx():
            return np.frompyfunc(lambda x, y: x if x >= y else y, 2, 1)(
                self.asarray(a), self.asarray(b))


BACKENDS = {"numpy": NumpyBackend, "mpmath": MpmathBackend}


def get_backend(name="numpy", digits=None) -> Backend:
    """A backend by name: ``"numpy"`` (float64) or ``"mpmath"`` (``digits``, default 50).

    A :class:`Backend` instance is returned as is.

    >>> get_backend("mpmath", 30)
    MpmathBackend(digits=30)
    """
    if isinstance(name, Backend):
        return name
    if name == "numpy":
        if digits is not None and digits > NumpyBackend.digits:
            raise ValueError(f"float64 carries {NumpyBackend.digits:.2f} digits; "
                             f"use 'mpmath' for {digits}")
        return NumpyBackend()
    if name == "mpmath":
        return MpmathBackend(50 if digits is None else digits)
    if name in ("exact", "arb"):    # certification backends (proofcheck.exact_backends)
        # resolved by name: exact_backends builds on this module, never the other way round
        exact = importlib.import_module("proofcheck.exact_backends")
        ArbBackend, ExactBackend = exact.ArbBackend, exact.ExactBackend
        if name == "exact":
            return ExactBackend()
        # ``digits`` decimal digits as bits (default 256 bits, about 77 digits)
        return ArbBackend(256 if digits is None else max(53, math.ceil(digits * 3.33)))
    raise ValueError(f"unknown backend {name!r}; use one of "
                     f"{sorted(BACKENDS) + ['arb', 'exact']}")
