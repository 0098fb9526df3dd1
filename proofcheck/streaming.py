r"""Least squares on X and on [X Z] over row streams: O(m d^2) time, O(d^2) memory.

For data ``X (m x d_x)``, ``Z (m x d_z)``, ``Y (m x d_y)`` the quantities are

* ``L_x = (1/m) ||P_N[X] Y||_F^2`` (best linear predictor on ``x``),
* ``L_xz = (1/m) ||Y - P[[X Z]] Y||_F^2`` (best linear predictor on ``(x, z)``),
* ``improvement = (1/m) ||P[P_N[X] Z] Y||_F^2``, and
* ``improvement_projected = (1/m) ||P[P_N[X] Z] P_N[X] Y||_F^2``,

with the claims ``L_xz = L_x - improvement`` and ``improvement = improvement_projected``.
Forming the ``m x m`` projectors costs ``O(m^2)`` memory; here the rows are streamed.

How: keep only the triangular factor ``R`` of ``A = [X Z Y] = Q R`` (TSQR: after each
chunk, ``R <- qr([R; chunk]).R``).  Since ``Q`` has orthonormal columns,
``P[Q M] = Q P[M] Q^T`` and ``||Q M||_F = ||M||_F``, so every quantity above equals the
same expression with ``X, Z, Y`` replaced by the column blocks ``R_X, R_Z, R_Y`` of ``R``
(``k = min(m, d)`` rows instead of ``m``).  A QR factor is used rather than the Gram
matrix ``A^T A`` because forming the Gram matrix squares the condition number
(Higham, *Accuracy and Stability*, ch. 20.4): the normal equations lose twice the digits.

Rank deficiency of ``X`` or ``[X Z]`` is decided on the small blocks by SVD with a
:func:`proofcheck.linalg.rank_cutoff` rule, using the original row count ``m`` (the
singular values of ``R_X`` are those of ``X``).  ``L_xz`` is computed by a route
independent of ``L_x`` and ``improvement`` (a basis of ``[R_X R_Z]`` vs the block
Gram-Schmidt bases), so ``L_xz = L_x - improvement`` is a genuine check, not an identity
of the code.

Performance: each update is one LAPACK QR of a tall-skinny ``(chunk + d) x d`` matrix,
``O(chunk d^2)``.  Such QRs gain little from BLAS threads, and on a machine shared with
other CPU-heavy processes threaded OpenBLAS was 10-30x slower than single-threaded in our
measurements: set ``OPENBLAS_NUM_THREADS=1`` for long streams (``bench/bench_streaming.py``
does).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X, Z = rng.standard_normal((100, 3)), rng.standard_normal((100, 2))
>>> Y = X @ rng.standard_normal((3, 2)) + Z @ rng.standard_normal((2, 2))
>>> t = least_squares_gain_in_chunks(X, Z, Y, chunk_rows=16)
>>> t.m, t.rank_x, t.rank_xz, t.L_xz < 1e-25
(100, 3, 5, True)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from . import linalg

__all__ = ["LeastSquaresGain", "LeastSquaresGainAccumulator", "least_squares_gain_in_chunks"]


@dataclass(frozen=True)
class LeastSquaresGain:
    """The least-squares values on ``x`` and on ``(x, z)`` and what ``z`` adds to ``x`` (the
    improvement), of one data set (all averaged over the ``m`` rows; module doc).

    ``y_norm2 = ||Y||_F^2 / m`` is the natural scale of all four quantities (each lies in
    ``[0, y_norm2]``) and ``cond_xz`` the condition number of ``[X Z]`` on its numerical
    range; pass both to :meth:`proofcheck.backends.Backend.tolerance`.
    """

    m: int
    L_x: float
    L_xz: float
    improvement: float
    improvement_projected: float
    rank_x: int
    rank_xz: int
    y_norm2: float
    cond_xz: float
    method: object = "lapack"

    @property
    def L_x_minus_improvement(self) -> float:
        """``L_x - improvement``: the value on ``x`` lowered by what ``z`` adds (which should
        equal ``L_xz``, computed by an independent route)."""
        return self.L_x - self.improvement


def _finite_2d(a: ArrayLike, name: str, cols: int) -> np.ndarray:
    A = np.asarray(a, dtype=np.float64)
    if A.ndim != 2:
        raise ValueError(f"{name} chunk must be 2-D (rows, {cols}), got shape {A.shape}")
    if A.shape[1] != cols:
        raise ValueError(f"{name} chunk has {A.shape[1]} columns, expected {cols}")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name} chunk contains NaN or inf")
    return A


class LeastSquaresGainAccumulator:
    """Streaming (TSQR) accumulator of ``[X Z Y]``; see the module docstring.

    >>> import numpy as np
    >>> acc = LeastSquaresGainAccumulator(d_x=1, d_z=1, d_y=1)
    >>> _ = acc.update([[1.0], [0.0]], [[0.0], [1.0]], [[2.0], [3.0]])
    >>> r = acc.result()
    >>> (r.L_x, r.improvement, r.L_xz)  # ||(0,3)||^2/2, the same, 0
    (4.5, 4.5, 0.0)
    """

    def __init__(self, d_x: int, d_z: int, d_y: int, *, method: object = "lapack") -> None:
        for name, d in (("d_x", d_x), ("d_z", d_z), ("d_y", d_y)):
            if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {d!r}")
        linalg._check_method(method)
        self.d_x, self.d_z, self.d_y = int(d_x), int(d_z), int(d_y)
        self.method = method
        self.m = 0
        self._R = np.zeros((0, self.d_x + self.d_z + self.d_y))

    @property
    def R(self) -> np.ndarray:
        """The current triangular factor of ``[X Z Y]`` (a copy), ``min(m, d) x d``."""
        return self._R.copy()

    def update(self, X_chunk: ArrayLike, Z_chunk: ArrayLike,
               Y_chunk: ArrayLike) -> LeastSquaresGainAccumulator:
        """Absorb a chunk of rows (all three with the same number of rows); returns self."""
        X = _finite_2d(X_chunk, "X", self.d_x)
        Z = _finite_2d(Z_chunk, "Z", self.d_z)
        Y = _finite_2d(Y_chunk, "Y", self.d_y)
        if not (X.shape[0] == Z.shape[0] == Y.shape[0]):
            raise ValueError(f"chunk row counts differ: X {X.shape[0]}, Z {Z.shape[0]}, "
                             f"Y {Y.shape[0]}")
        if X.shape[0] == 0:
            return self
        stacked = np.concatenate([self._R, np.hstack([X, Z, Y])], axis=0)
        # numpy's stubs type every qr() as QRResult; mode="r" returns the array R
        self._R = np.linalg.qr(stacked, mode="r")  # type: ignore[assignment]
        self.m += X.shape[0]
        return self

    def merge(self, other: LeastSquaresGainAccumulator) -> LeastSquaresGainAccumulator:
        """Absorb another accumulator's rows (TSQR reduction step, e.g. across workers)."""
        if (other.d_x, other.d_z, other.d_y) != (self.d_x, self.d_z, self.d_y):
            raise ValueError("cannot merge accumulators of different dimensions")
        if other.m:
            self._R = np.linalg.qr(  # type: ignore[assignment]  # see update()
                np.concatenate([self._R, other._R], axis=0), mode="r")
            self.m += other.m
        return self

    @classmethod
    def from_chunks(cls, chunks: Iterable, *,
                    method: object = "lapack") -> LeastSquaresGainAccumulator:
        """Accumulate an iterable (e.g. a generator) of ``(X, Z, Y)`` row chunks; the
        dimensions are read from the first chunk."""
        acc = None
        for chunk in chunks:
            try:
                X, Z, Y = chunk
            except (TypeError, ValueError) as exc:
                raise ValueError("each chunk must be a triple (X, Z, Y)") from exc
            if acc is None:
                dims = [np.shape(a)[1] if np.ndim(a) == 2 else -1 for a in (X, Z, Y)]
                if min(dims) < 1:
                    raise ValueError("chunks must be 2-D arrays with at least one column")
                acc = cls(*dims, method=method)
            acc.update(X, Z, Y)
        if acc is None:
            raise ValueError("from_chunks got no chunks")
        return acc

    def result(self) -> LeastSquaresGain:
        """The quantities of all rows seen so far (:class:`LeastSquaresGain`)."""
        if self.m == 0:
            raise ValueError("no rows accumulated yet")
        m, R, dx, dz = self.m, self._R, self.d_x, self.d_z
        RX, RZ, RY = R[:, :dx], R[:, dx:dx + dz], R[:, dx + dz:]
        RXZ = R[:, :dx + dz]
        # Route 1: sequential projections P[X] and P[P_N[X] Z] (block Gram-Schmidt).
        QX, QZp = linalg.block_gram_schmidt([RX, RZ], self.method, m=m)
        _, resid = linalg._reproject(QX, RY)  # P_N[X] Y, in R-coordinates
        L_x = _fro2(resid) / m
        improvement = _fro2(QZp.T @ RY) / m
        improvement_projected = _fro2(QZp.T @ resid) / m
        # Route 2: one basis of [X Z], independent of route 1.
        QXZ = linalg.range_basis(RXZ, self.method, m=m)
        _, resid_xz = linalg._reproject(QXZ, RY)
        L_xz = _fro2(resid_xz) / m
        s = np.linalg.svd(RXZ, compute_uv=False)
        r_xz = QXZ.shape[1]
        cond = float(s[0] / s[r_xz - 1]) if r_xz else 1.0
        return LeastSquaresGain(m=m, L_x=L_x, L_xz=L_xz, improvement=improvement,
                             improvement_projected=improvement_projected,
                             rank_x=QX.shape[1], rank_xz=r_xz, y_norm2=_fro2(RY) / m,
                             cond_xz=cond, method=self.method)


def _fro2(A: np.ndarray) -> float:
    return float(np.sum(A * A))


def least_squares_gain_in_chunks(X: ArrayLike, Z: ArrayLike, Y: ArrayLike, *,
                                 chunk_rows: int = 65536,
                                 method: object = "lapack") -> LeastSquaresGain:
    """The :class:`LeastSquaresGain` of in-memory ``X, Z, Y`` fed through the streaming
    accumulator in chunks of ``chunk_rows`` rows (the result does not depend on it
    beyond rounding)."""
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, (int, np.integer)) \
            or chunk_rows < 1:
        raise ValueError(f"chunk_rows must be an integer >= 1, got {chunk_rows!r}")
    arrays = []
    for name, a in (("X", X), ("Z", Z), ("Y", Y)):
        A = np.asarray(a, dtype=np.float64)
        if A.ndim != 2:
            raise ValueError(f"{name} must be 2-D (m, d), got shape {A.shape}")
        arrays.append(A)
    X, Z, Y = arrays
    if not (X.shape[0] == Z.shape[0] == Y.shape[0]):
        raise ValueError(f"row counts differ: X {X.shape[0]}, Z {Z.shape[0]}, Y {Y.shape[0]}")
    acc = LeastSquaresGainAccumulator(X.shape[1], Z.shape[1], Y.shape[1], method=method)
    for start in range(0, X.shape[0], chunk_rows):
        stop = start + chunk_rows
        acc.update(X[start:stop], Z[start:stop], Y[start:stop])
    return acc.result()
