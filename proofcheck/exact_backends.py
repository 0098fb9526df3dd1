r"""Backends for *certification*: exact rationals and ball arithmetic.

Both implement :class:`proofcheck.backends.Backend`, so a claim's own conclusion runs on them
unchanged; :mod:`proofcheck.search.certify` uses them to decide the sign of a failing margin
rigorously.

* :class:`ExactBackend` (``"exact"``): numpy object arrays of :class:`Rational` (a python-flint
  ``fmpq``). Matrix products, ``solve``, projections (through the exact pseudo-inverse of a
  full-rank factorisation), ranks and traces are exact. Operations whose results are irrational
  in general (SVD, eigenvalues, ``sqrt`` of a non-square, ``exp``/``log``) raise
  :class:`NotExact`, so an exact answer is never an approximation in disguise.
* :class:`ArbBackend` (``"arb"``): numpy object arrays of python-flint ``arb`` balls at ``prec``
  bits. Every result is a ball that *contains* the exact value; projections require a provably
  non-singular Gram matrix (full column rank), otherwise :class:`NotCertifiable` is raised (a rank
  cannot be decided in ball arithmetic; use the exact backend for rank-deficient data).

Both backends have unit roundoff 0: the tolerances a conclusion derives from ``B.tolerance`` are
0, so the margin they return is the mathematical one (ball arithmetic carries its own error).

>>> E = ExactBackend()
>>> X = E.asarray([[1, 2], [2, 4], [0, 0]])          # rank 1
>>> [str(x) for x in E.projection(X)[0]]
['1/5', '2/5', '0']
>>> A = ArbBackend(prec=128)
>>> v = A.sum(A.exp(A.asarray([0.0, 1.0])))
>>> bool(v > 3.718 and v < 3.719)         # 1 + e, enclosed
True

Float values (data and literals) enter as the exact binary rational they denote: ``0.1`` is
``3602879701896397/2**55``, which is what a float64 computation actually used.
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction
from typing import Any

import flint
import numpy as np

from .backends import Backend

__all__ = ["Rational", "Ball", "ExactBackend", "ArbBackend", "NotExact", "NotCertifiable",
           "is_exact_value", "is_ball_value", "to_arb", "mpf_to_fmpq", "margin_from_ball"]


class NotExact(TypeError):
    """An operation has no exact rational result (irrational in general, or a float crept in)."""


class NotCertifiable(ValueError):
    """Ball arithmetic cannot decide something (a rank, a sign of a ball containing 0, ...)."""


# ---------------------------------------------------------------------------------------------
# exact rationals

def _fmpq(x) -> flint.fmpq:
    """``x`` as an exact ``fmpq``; python floats convert to their exact binary value."""
    if isinstance(x, Rational):
        return x.q
    if isinstance(x, flint.fmpq):
        return x
    if isinstance(x, (bool, np.bool_)):
        raise TypeError("booleans are not numbers here")
    if isinstance(x, (numbers.Integral, np.integer, flint.fmpz)):
        return flint.fmpq(int(x))
    if isinstance(x, (float, np.floating)):
        if not math.isfinite(float(x)):
            raise ValueError(f"{x!r} is not a finite number")
        f = Fraction(float(x))
        return flint.fmpq(f.numerator, f.denominator)
    if isinstance(x, Fraction):
        return flint.fmpq(x.numerator, x.denominator)
    if type(x).__module__.startswith("sympy") and getattr(x, "is_Rational", False):
        return flint.fmpq(int(x.p), int(x.q))
    raise NotExact(f"{type(x).__name__} ({x!r}) has no exact rational value")


def _coerce(x):
    """Operand coercion inside arithmetic: python ints/floats (literals in a conclusion), fmpq,
    Fraction and sympy rationals; numpy floats are *computed* values, so they poison the result
    (NotImplemented lets numpy turn the result into a float, which certification detects)."""
    if isinstance(x, Rational):
        return x.q
    if isinstance(x, (int, float, Fraction, flint.fmpq, flint.fmpz, np.integer)) and \
            not isinstance(x, (bool, np.floating)):
        return _fmpq(x)
    if type(x).__module__.startswith("sympy") and getattr(x, "is_Rational", False):
        return _fmpq(x)
    return None


class _FlintNumber(numbers.Number):
    """The operators the exact number types share. A subclass wraps one python-flint value
    (:meth:`_flint`), builds itself around one (:meth:`_of`) and says which operands it takes in
    arithmetic (:meth:`_operand`) and in comparisons (:meth:`_comparand`); ``None`` means
    "not mine" and the operator returns ``NotImplemented``."""

    __slots__ = ()

    @classmethod
    def _of(cls, value):
        raise NotImplementedError

    def _flint(self):
        raise NotImplementedError

    @staticmethod
    def _operand(o):
        raise NotImplementedError

    @staticmethod
    def _comparand(o):
        raise NotImplementedError

    # arithmetic
    def _bin(self, o, op):
        v = self._operand(o)
        if v is None:
            return NotImplemented
        return self._of(op(self._flint(), v))

    def __add__(self, o): return self._bin(o, lambda a, b: a + b)
    def __radd__(self, o): return self._bin(o, lambda a, b: b + a)
    def __sub__(self, o): return self._bin(o, lambda a, b: a - b)
    def __rsub__(self, o): return self._bin(o, lambda a, b: b - a)
    def __mul__(self, o): return self._bin(o, lambda a, b: a * b)
    def __rmul__(self, o): return self._bin(o, lambda a, b: b * a)

    def __neg__(self): return self._of(-self._flint())
    def __pos__(self): return self
    def __abs__(self): return self._of(abs(self._flint()))

    # comparisons
    def _cmp(self, o, op):
        v = self._comparand(o)
        if v is None:
            return NotImplemented
        return op(self._flint(), v)

    def __eq__(self, o):
        r = self._cmp(o, lambda a, b: a == b)
        return False if r is NotImplemented else r

    def __lt__(self, o): return self._cmp(o, lambda a, b: a < b)
    def __le__(self, o): return self._cmp(o, lambda a, b: a <= b)
    def __gt__(self, o): return self._cmp(o, lambda a, b: a > b)
    def __ge__(self, o): return self._cmp(o, lambda a, b: a >= b)


class Rational(_FlintNumber):
    """An exact rational number (python-flint ``fmpq``) that mixes with python ints and floats.

    >>> Rational(1, 3) + 0.5
    Rational(5/6)
    >>> Rational(4, 9).sqrt()
    Rational(2/3)
    """

    __slots__ = ("q",)

    def __init__(self, num=0, den=None):
        if den is not None:
            self.q = flint.fmpq(int(num), int(den))
        else:
            self.q = _fmpq(num)

    @classmethod
    def _of(cls, q: flint.fmpq) -> Rational:
        r = cls.__new__(cls)
        r.q = q
        return r

    def _flint(self) -> flint.fmpq:
        return self.q

    _operand = staticmethod(_coerce)

    @staticmethod
    def _comparand(o):
        # a numpy float compares by its exact binary value (it may not enter arithmetic)
        return _fmpq(o) if isinstance(o, np.floating) else _coerce(o)

    def __truediv__(self, o):
        o2 = _coerce(o)
        if o2 is None:
            return NotImplemented
        if o2 == 0:
            raise ZeroDivisionError("exact division by zero")
        return Rational._of(self.q / o2)

    def __rtruediv__(self, o):
        o2 = _coerce(o)
        if o2 is None:
            return NotImplemented
        if self.q == 0:
            raise ZeroDivisionError("exact division by zero")
        return Rational._of(o2 / self.q)

    def __pow__(self, k):
        if isinstance(k, Rational) and k.q.q == 1:
            k = int(k.q.p)
        if isinstance(k, float) and k.is_integer():
            k = int(k)
        if not isinstance(k, (int, np.integer)):
            raise NotExact(f"a rational to the power {k!r} is irrational in general")
        return Rational._of(self.q ** int(k))

    def __hash__(self): return hash(Fraction(int(self.q.p), int(self.q.q)))
    def __bool__(self): return self.q != 0

    # conversions
    def __float__(self):
        # a silent float() would let a rounded value re-enter exact arithmetic (through the
        # python-float coercion) and come out looking exact: refuse, say why
        raise NotExact("an exact rational was converted to float64 (float()): the computation "
                       "leaves exact arithmetic; use as_float() where rounding is intended")

    def __int__(self):
        # truncation toward 0 is an exact operation
        p, q = int(self.q.p), int(self.q.q)
        return -((-p) // q) if p < 0 else p // q

    def as_float(self) -> float:
        return int(self.q.p) / int(self.q.q)

    def __repr__(self): return f"Rational({self.q})"
    def __str__(self): return str(self.q)

    def as_fraction(self) -> Fraction:
        return Fraction(int(self.q.p), int(self.q.q))

    # numpy calls these methods for ufuncs on object arrays
    def sqrt(self):
        if self.q < 0:
            raise NotExact(f"sqrt of the negative number {self}")
        p, q = int(self.q.p), int(self.q.q)
        rp, rq = math.isqrt(p), math.isqrt(q)
        if rp * rp == p and rq * rq == q:
            return Rational(rp, rq)
        raise NotExact(f"sqrt({self}) is irrational")

    def exp(self):
        if self.q == 0:
            return Rational(1)
        raise NotExact(f"exp({self}) is irrational")

    def log(self):
        if self.q == 1:
            return Rational(0)
        raise NotExact(f"log({self}) is irrational")

    def log1p(self):
        if self.q == 0:
            return Rational(0)
        raise NotExact(f"log1p({self}) is irrational")

    def isfinite(self):
        return True


# ---------------------------------------------------------------------------------------------
# balls

def _arb_of(x):
    """Operand coercion for :class:`Ball` arithmetic (python floats are exact binary values)."""
    if isinstance(x, Ball):
        return x.a
    if isinstance(x, flint.arb):
        return x
    if isinstance(x, Rational):
        return flint.arb(x.q)
    if isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)):
        return flint.arb(int(x))
    if isinstance(x, float) and not isinstance(x, np.floating):
        return flint.arb(x)
    if isinstance(x, (flint.fmpq, flint.fmpz)):
        return flint.arb(x)
    return None


class Ball(_FlintNumber):
    """A python-flint ``arb`` ball that refuses ``float()``.

    ``float(arb)`` silently returns the midpoint; a rounded midpoint mixed back into ball
    arithmetic would give a ball that no longer contains the exact value. A :class:`Ball` raises
    :class:`NotCertifiable` instead, so a computation that leaves ball arithmetic is noticed.
    Comparisons are certain: ``b < 0`` is True only when the whole ball lies below 0.

    >>> b = Ball(1) / 3
    >>> bool(b < 1), bool(b > 0.3333)
    (True, True)
    """

    __slots__ = ("a",)

    def __init__(self, x=0):
        a = _arb_of(x)
        if a is None:
            raise NotCertifiable(f"cannot make a ball of {type(x).__name__}")
        self.a = a

    @classmethod
    def _of(cls, a) -> Ball:
        b = cls.__new__(cls)
        b.a = a
        return b

    def _flint(self) -> flint.arb:
        return self.a

    _operand = staticmethod(_arb_of)

    @staticmethod
    def _comparand(o):
        # a numpy float compares as the exact binary value it is (it may not enter arithmetic)
        return flint.arb(float(o)) if isinstance(o, np.floating) else _arb_of(o)

    def __truediv__(self, o): return self._bin(o, lambda x, y: x / y)
    def __rtruediv__(self, o): return self._bin(o, lambda x, y: y / x)

    def __pow__(self, k):
        if isinstance(k, (int, np.integer)) and not isinstance(k, bool):
            return Ball._of(self.a ** int(k))
        a = _arb_of(k)
        if a is None:
            return NotImplemented
        return Ball._of(self.a ** a)


    # unhashable, as __eq__ compares values (typeshed's numbers.Number declares __hash__ a method)
    __hash__ = None  # type: ignore[assignment]

    def __bool__(self):
        return not self.a.is_zero()

    def __float__(self):
        raise NotCertifiable("a ball was converted to float64 (float()): the computation leaves "
                             "ball arithmetic, so its result would not be an enclosure")

    def __repr__(self):
        return f"Ball({self.a.str(radius=True)})"

    # numpy calls these for ufuncs on object arrays
    def exp(self): return Ball._of(self.a.exp())
    def log(self): return Ball._of(self.a.log())
    def log1p(self): return Ball._of(self.a.log1p())
    def sqrt(self): return Ball._of(self.a.sqrt())
    def tanh(self): return Ball._of(self.a.tanh())
    def expm1(self): return Ball._of(self.a.expm1())

    def max(self, o): return Ball._of(self.a.max(_arb_of(o)))
    def lower(self) -> float:
        """A float64 number <= every point of the ball (outward rounding)."""
        with _Prec(2048):       # the endpoint itself exactly, then one outward rounding step
            return math.nextafter(float(self.a.lower()), -math.inf)

    def upper(self) -> float:
        """A float64 number >= every point of the ball."""
        with _Prec(2048):
            return math.nextafter(float(self.a.upper()), math.inf)

    def mid(self) -> float: return float(self.a.mid())
    def abs_upper(self): return self.a.abs_upper()
    def is_finite(self): return self.a.is_finite()
    def nonnegative_sqrt(self): return Ball._of(self.a.nonnegative_part().sqrt())


def is_exact_value(v) -> bool:
    """True when ``v`` (a scalar or an array) consists of exact rationals only."""
    arr = np.asarray(v, dtype=object)
    return arr.size > 0 and all(isinstance(x, (Rational, int, np.integer)) and
                                not isinstance(x, bool) for x in arr.flat)


def is_ball_value(v) -> bool:
    arr = np.asarray(v, dtype=object)
    return arr.size > 0 and all(isinstance(x, Ball) for x in arr.flat)


def _objmap(f, a):
    a = np.asarray(a, dtype=object)
    out = np.empty(a.shape, dtype=object)
    for idx, v in np.ndenumerate(a):
        out[idx] = f(v)
    return out


def _exact_pinv(A: np.ndarray) -> np.ndarray:
    """Moore-Penrose pseudo-inverse of one exact matrix via a full-rank factorisation.

    A = C F with C the pivot columns (full column rank) and F the non-zero rows of rref(A)
    (full row rank); then A^+ = F^T (F F^T)^{-1} (C^T C)^{-1} C^T (Ben-Israel & Greville,
    *Generalized Inverses*, ch. 1, the MacDuffee formula)."""
    m, n = A.shape
    if m == 0 or n == 0:
        return np.full((n, m), Rational(0), dtype=object)
    M = flint.fmpq_mat(m, n, [_fmpq(x) for x in A.flat])
    R, r = M.rref()
    if r == 0:
        return np.full((n, m), Rational(0), dtype=object)
    pivots, row = [], 0
    for j in range(n):
        if row < r and R[row, j] == 1 and all(R[i, j] == 0 for i in range(r) if i != row):
            pivots.append(j)
            row += 1
    C = flint.fmpq_mat(m, r, [M[i, j] for i in range(m) for j in pivots])
    F = flint.fmpq_mat(r, n, [R[i, j] for i in range(r) for j in range(n)])
    Ft, Ct = F.transpose(), C.transpose()
    P = Ft * (F * Ft).inv() * (Ct * C).inv() * Ct
    return np.array([[Rational._of(P[i, j]) for j in range(m)] for i in range(n)], dtype=object)


def _exact_rank(A: np.ndarray) -> int:
    m, n = A.shape
    if m == 0 or n == 0:
        return 0
    return flint.fmpq_mat(m, n, [_fmpq(x) for x in A.flat]).rank()


class _ObjectBackend(Backend):
    """What the two backends of object arrays share: their numbers are of one class
    (``number``), they round nothing the numbers do not account for themselves (every
    tolerance is 0), and they project through the pseudo-inverse."""

    number: type[Rational | Ball]

    def __init__(self, rank_method="lapack"):
        super().__init__(rank_method)
        # plain 0: tolerances vanish, and reports may print float(unit_roundoff)
        self.unit_roundoff = 0
        self.tiny = 0

    def zeros(self, shape):
        return np.full(shape, self.number(0), dtype=object)

    def eye(self, n):
        out = self.zeros((n, n))
        np.fill_diagonal(out, self.number(1))
        return out

    def rank_cutoff(self, s, shape, method=None):
        return self.zeros(np.shape(s)[:-1])

    def projection(self, M, method=None):
        A = self._check_matrix(M)
        return self.matmul(A, self.pinv(A))

    def project(self, M, Y, method=None):
        return self.matmul(self.projection(M), Y)


class ExactBackend(_ObjectBackend):
    """Exact rational arithmetic (object arrays of :class:`Rational`); see the module doc.

    Rank decisions are exact, so the ``method`` (rank cutoff) arguments are ignored.

    >>> E = ExactBackend()
    >>> E.solve([[2, 0], [0, 4]], [1, 1]).tolist()
    [Rational(1/2), Rational(1/4)]
    """

    name = "exact"
    digits = math.inf
    number = Rational

    def __repr__(self):
        return "ExactBackend()"

    def asarray(self, a):
        if isinstance(a, np.ndarray) and a.dtype == object and all(
                isinstance(v, Rational) for v in a.flat):
            return a
        if hasattr(a, "tolist") and not isinstance(a, (np.ndarray, np.generic)):
            a = a.tolist()          # sympy / flint matrices
        arr = a if isinstance(a, np.ndarray) else np.asarray(a, dtype=object)
        try:
            return _objmap(lambda x: x if isinstance(x, Rational) else Rational(x), arr)
        except NotExact:
            raise
        except (TypeError, ValueError) as exc:
            raise NotExact(f"cannot convert to exact rationals: {exc}") from exc

    def to_float(self, a):
        return np.asarray(_objmap(lambda x: x.as_float() if isinstance(x, Rational)
                                  else float(x), a), dtype=np.float64)

    def _all_finite(self, A) -> bool:
        return True

    def _per_matrix(self, M, f, out_shape):
        A = self._check_matrix(M)
        batch = A.shape[:-2]
        first: Any = None
        results = {}
        for idx in np.ndindex(*batch):
            results[idx] = f(A[idx])
            first = results[idx]
        if not batch:
            return f(A)
        shape = batch + np.shape(first)
        out = np.empty(shape, dtype=object)
        for idx, r in results.items():
            out[idx] = r
        return out

    def svd(self, M):
        raise NotExact("singular vectors are irrational in general; the exact backend computes "
                       "projections and pseudo-inverses without an SVD")

    def svdvals(self, M):
        """Float64 estimates of the singular values, for rank *cutoffs* only (which the exact
        backend ignores: its ranks are exact). They are numpy floats, so a margin computed from
        them is not exact and certification notices."""
        return np.linalg.svd(self.to_float(self._check_matrix(M)), compute_uv=False)

    def eigvalsh(self, S):
        raise NotExact("eigenvalues are irrational in general")

    def solve(self, A, b):
        A, b = self._check_matrix(A, "A"), self.asarray(b)
        vector = b.ndim == 1
        if vector:
            b = b[:, None]
        if A.ndim != 2 or b.ndim != 2:
            raise NotExact("the exact backend solves one system at a time")
        n = A.shape[0]
        if A.shape != (n, n) or b.shape[0] != n:
            raise ValueError(f"solve needs A (n, n) and b (n, k); got {A.shape}, {b.shape}")
        Am = flint.fmpq_mat(n, n, [_fmpq(x) for x in A.flat])
        bm = flint.fmpq_mat(n, b.shape[1], [_fmpq(x) for x in b.flat])
        x = Am.solve(bm)
        out = np.array([[Rational._of(x[i, j]) for j in range(b.shape[1])] for i in range(n)],
                       dtype=object)
        return out[:, 0] if vector else out

    def _map(self, fname, a):
        return _objmap(lambda x: abs(x) if fname == "abs" else getattr(x, fname)(),
                       self.asarray(a))

    def maximum(self, a, b):
        a, b = np.broadcast_arrays(self.asarray(a), self.asarray(b))
        out = np.empty(a.shape, dtype=object)
        for idx in np.ndindex(*a.shape):
            out[idx] = a[idx] if a[idx] >= b[idx] else b[idx]
        return out

    # -- exact linear algebra (ranks are exact: ``method`` is ignored) -------------------------
    def pinv(self, M, method=None):
        return self._per_matrix(M, _exact_pinv, None)

    def range_basis(self, M, method=None):
        raise NotExact("an orthonormal basis needs square roots; use projection()")

    def numerical_rank(self, M, method=None):
        """The exact rank."""
        return self._per_matrix(M, _exact_rank, None)

    def condition_number(self, M, method=None):
        """1.0: with no rounding, conditioning does not enter a tolerance (every tolerance of
        this backend is 0)."""
        A = self._check_matrix(M)
        return np.ones(A.shape[:-2]) if A.ndim > 2 else 1.0

    def min_eigvalsh(self, S):
        raise NotExact("eigenvalues are irrational in general")


# ---------------------------------------------------------------------------------------------
# ball arithmetic

def mpf_to_fmpq(x) -> flint.fmpq:
    """The exact rational value of an mpmath ``mpf`` (or a float / Rational)."""
    mpf_ = getattr(x, "_mpf_", None)
    if mpf_ is None:
        return _fmpq(x)
    sign, man, exp, _ = mpf_
    if man == 0 and exp != 0:
        raise ValueError(f"{x} is not finite")
    n = (-1) ** sign * int(man)
    return flint.fmpq(n * 2 ** exp) if exp >= 0 else flint.fmpq(n, 2 ** (-exp))


def to_arb(x, rad=0) -> Ball:
    """A :class:`Ball` around ``x`` (float, int, Rational, fmpq, mpf, arb) of radius ``rad``.

    Floats and mpf midpoints are exact when the working precision holds their bits."""
    if isinstance(x, Ball):
        mid = x.a
    elif isinstance(x, flint.arb):
        mid = x
    elif isinstance(x, Rational):
        mid = flint.arb(x.q)
    elif isinstance(x, (float, np.floating, int, np.integer)) and not isinstance(x, bool):
        mid = flint.arb(float(x)) if isinstance(x, (float, np.floating)) else flint.arb(int(x))
    else:
        mid = flint.arb(mpf_to_fmpq(x))
    if rad:
        mid = mid + flint.arb(0, _fmpq(rad) if not isinstance(rad, flint.arb) else rad)
    return Ball._of(mid)


class ArbBackend(_ObjectBackend):
    """Ball arithmetic at ``prec`` bits (python-flint ``arb``); see the module doc.

    >>> A = ArbBackend(prec=100)
    >>> s = A.solve([[2, 1], [1, 2]], [1, 0])
    >>> [round(float(x.mid()), 12) for x in s]
    [0.666666666667, -0.333333333333]
    """

    name = "arb"
    number = Ball
    prec: int

    def __init__(self, prec: int = 256, rank_method="lapack"):
        if isinstance(prec, bool) or not isinstance(prec, numbers.Integral) or prec < 53:
            raise ValueError(f"prec must be an integer >= 53 bits, got {prec!r}")
        super().__init__(rank_method)     # tolerances 0: the balls carry their rounding error
        self.prec = int(prec)
        self.digits = self.prec * math.log10(2.0)

    def __repr__(self):
        return f"ArbBackend(prec={self.prec})"

    def _ctx(self):
        return _Prec(self.prec)

    def asarray(self, a):
        if isinstance(a, np.ndarray) and a.dtype == object and all(
                isinstance(v, Ball) for v in a.flat):
            return a
        if hasattr(a, "tolist") and not isinstance(a, (np.ndarray, np.generic)):
            a = a.tolist()
        arr = a if isinstance(a, np.ndarray) else np.asarray(a, dtype=object)
        with self._ctx():
            return _objmap(to_arb, arr)

    def to_float(self, a):
        return np.asarray(_objmap(lambda x: x.mid() if isinstance(x, Ball)
                              else x.as_float() if isinstance(x, Rational) else float(x), a),
                          dtype=np.float64)

    def _all_finite(self, A) -> bool:
        return all(x.is_finite() for x in np.asarray(A, dtype=object).flat)

    def _mat(self, A2) -> flint.arb_mat:
        return flint.arb_mat([[to_arb(x).a for x in row] for row in A2.tolist()])

    def _back(self, M, rows, cols):
        out = np.empty((rows, cols), dtype=object)
        for i in range(rows):
            for j in range(cols):
                out[i, j] = Ball._of(M[i, j])
        return out

    def svd(self, M):
        raise NotCertifiable("singular vectors are not available in ball arithmetic; "
                             "projections use the Gram matrix")

    def svdvals(self, M):
        """Enclosures of the singular values: square roots of the eigenvalues of M^T M
        (or M M^T, whichever is smaller), decreasing by midpoint."""
        A = self._check_matrix(M)
        if A.ndim != 2:
            return self._batched(A, self.svdvals)
        G = self.matmul(self.T(A), A) if A.shape[1] <= A.shape[0] else self.matmul(A, self.T(A))
        ev = self.eigvalsh(G)[::-1]
        with self._ctx():
            return _objmap(lambda x: x.nonnegative_sqrt(), ev)

    def _batched(self, A, f):
        outs = [f(A[idx]) for idx in np.ndindex(*A.shape[:-2])]
        return np.stack(outs).reshape(A.shape[:-2] + np.shape(outs[0]))

    def eigvalsh(self, S):
        A = self._check_matrix(S, "S")
        if A.ndim != 2:
            return self._batched(A, self.eigvalsh)
        n = A.shape[0]
        if n == 0:
            return self.zeros((0,))
        with self._ctx():
            try:
                ev = flint.acb_mat(self._mat(A)).eig()
            except Exception as exc:     # clustered eigenvalues: not isolated
                raise NotCertifiable(f"eigenvalues not isolated in ball arithmetic: {exc}") from exc
            reals = [Ball._of(e.real) for e in ev]
        return np.array(sorted(reals, key=lambda x: x.mid()), dtype=object)

    def solve(self, A, b):
        A, b = self._check_matrix(A, "A"), self.asarray(b)
        vector = b.ndim == 1
        if vector:
            b = b[:, None]
        if A.ndim != 2 or b.ndim != 2:
            raise NotCertifiable("the arb backend solves one system at a time")
        with self._ctx():
            try:
                x = self._mat(A).solve(self._mat(b))
            except ZeroDivisionError as exc:
                raise NotCertifiable(f"the matrix is not provably invertible: {exc}") from exc
        out = self._back(x, A.shape[1], b.shape[1])
        return out[:, 0] if vector else out

    def _map(self, fname, a):
        a = self.asarray(a)
        with self._ctx():
            if fname == "abs":
                return _objmap(abs, a)
            return _objmap(lambda x: getattr(x, fname)(), a)

    def maximum(self, a, b):
        a, b = np.broadcast_arrays(self.asarray(a), self.asarray(b))
        out = np.empty(a.shape, dtype=object)
        with self._ctx():
            for idx in np.ndindex(*a.shape):
                out[idx] = a[idx].max(b[idx])
        return out

    # -- linear algebra of full-column-rank matrices ---------------------------------------------
    def pinv(self, M, method=None):
        """(M^T M)^{-1} M^T for a provably full-column-rank M, else NotCertifiable."""
        A = self._check_matrix(M)
        if A.ndim != 2:
            return self._batched(A, self.pinv)
        if A.shape[1] == 0:
            return self.zeros((0, A.shape[0]))
        G = self.matmul(self.T(A), A)
        try:
            return self.solve(G, self.T(A))
        except NotCertifiable as exc:
            raise NotCertifiable("rank deficiency cannot be decided in ball arithmetic (the Gram "
                                 "matrix is not provably invertible); certify rational data "
                                 "with the exact backend") from exc

    def range_basis(self, M, method=None):
        raise NotCertifiable("no orthonormal basis in ball arithmetic; use projection()")

    def numerical_rank(self, M, method=None):
        A = self._check_matrix(M)
        self.pinv(A)            # raises unless the full column rank is proven
        return A.shape[-1]

    def condition_number(self, M, method=None):
        """An upper bound (a python float) of s_max / s_min: it only scales tolerances, which
        are 0 on this backend."""
        s = self.svdvals(M)
        with self._ctx():
            return max(1.0, (s[0] / s[-1]).upper()) if len(s) else 1.0


class _Prec:
    """Context manager setting python-flint's working precision (restored on exit)."""

    def __init__(self, prec):
        self.prec = prec

    def __enter__(self):
        self.saved = flint.ctx.prec
        flint.ctx.prec = self.prec

    def __exit__(self, *exc):
        flint.ctx.prec = self.saved
        return False


EXACT_BACKENDS = {"exact": ExactBackend, "arb": ArbBackend}


def margin_from_ball(ball: Any, backend: Any, *, tol_source: str, irrational: str,
                     size: int | None = None) -> Any:
    """The margin of a conclusion whose value is known as an arb ball, on whichever backend
    evaluates it: the ball itself on the judge's ball rung (``arb``), its midpoint and radius as
    value and tolerance on the others (``size`` equal copies for a batched instance). The
    exact backend raises :class:`NotExact` with ``irrational`` (why no rational value exists).

    >>> m = margin_from_ball(flint.arb(1) / 3, None, tol_source="a third", irrational="")
    >>> round(m.value, 6), m.tol < 1e-15
    (0.333333, True)
    >>> margin_from_ball(flint.arb(1), None, tol_source="", irrational="", size=2).value
    array([1., 1.])
    """
    from .claims import Margin
    name = getattr(backend, "name", "numpy")
    if name == "exact":
        raise NotExact(irrational)
    if name == "arb":
        return Margin(Ball(ball), 0.0, tol_source=tol_source)
    value, tol = float(ball.mid()), float(ball.rad())
    if size is None:
        return Margin(value, tol, tol_source=tol_source)
    return Margin(np.full(int(size), value), np.full(int(size), tol), tol_source=tol_source)
