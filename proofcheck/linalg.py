r"""Projections, null projections and numerical rank, in float64 and batched.

Notation: for ``M`` of shape ``(m, n)``,

* ``P[M]`` is the orthogonal projector onto the column space (range) of ``M``,
  an ``m x m`` matrix;
* ``P_N[M] = I - P[M]`` is the orthogonal projector onto ``Null(M^T)``, the left
  null space (the orthogonal complement of the range).

Every function accepts a stack of matrices: leading axes ``...`` are batch axes and
the last two are the matrix axes, as in :mod:`numpy.linalg`.

Rank decisions are made by comparing singular values with a cutoff from
:func:`rank_cutoff`; every projection takes the same ``method`` argument so the
caller states which rule decided the rank.  Projections are built from an SVD
(never from ``inv(M^T M)``, which squares the condition number).

>>> import numpy as np
>>> X = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
>>> projection(X).round(12)
array([[1., 0., 0.],
       [0., 1., 0.],
       [0., 0., 0.]])
>>> null_project(X, np.array([[1.0], [2.0], [3.0]])).ravel().tolist()
[0.0, 0.0, 3.0]
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

__all__ = [
    "CUTOFF_METHODS",
    "cutoff_factor",
    "rank_cutoff",
    "numerical_rank",
    "range_basis",
    "projection",
    "null_projection",
    "project",
    "null_project",
    "block_gram_schmidt",
    "vec",
    "unvec",
]

#: Names accepted by ``method`` (a float is accepted too: an absolute cutoff).
CUTOFF_METHODS = ("lapack", "press", "golub_van_loan")

_EPS64 = float(np.finfo(np.float64).eps)  # 2**-52, the spacing of float64 at 1


# ---------------------------------------------------------------------------
# vec / unvec (the one numeric vectorisation; proofcheck.symbolic has the sympy one)
# ---------------------------------------------------------------------------

def vec(M) -> np.ndarray:
    """Column-major vec over the last two axes, batched: ``(..., r, c) -> (..., r c)``; a
    vector (or scalar) is returned flattened. Works on float and object (mpmath) arrays.

    >>> vec(np.array([[1, 2], [3, 4]])).tolist()
    [1, 3, 2, 4]
    >>> vec(np.arange(8).reshape(2, 2, 2)).tolist()
    [[0, 2, 1, 3], [4, 6, 5, 7]]
    """
    M = np.asarray(M)
    if M.ndim < 2:
        return M.reshape(-1)
    return np.swapaxes(M, -1, -2).reshape(M.shape[:-2] + (M.shape[-1] * M.shape[-2],))


def unvec(v, shape) -> np.ndarray:
    """Inverse of :func:`vec`: ``(..., r c) -> (..., r, c)`` for ``shape = (r, c)``.

    >>> unvec(vec(np.array([[1, 2], [3, 4]])), (2, 2)).tolist()
    [[1, 2], [3, 4]]
    """
    v = np.asarray(v)
    r, c = shape
    return np.swapaxes(v.reshape(v.shape[:-1] + (c, r)), -1, -2)


# ---------------------------------------------------------------------------
# input checking
# ---------------------------------------------------------------------------

def _as_matrix(M, name: str = "M") -> np.ndarray:
    """``M`` as a finite float64 array with at least two axes, or a clear error."""
    try:
        A = np.asarray(M, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be convertible to a float64 array: {exc}") from exc
    if A.ndim < 2:
        raise ValueError(
            f"{name} must have at least 2 axes (..., rows, cols); got shape {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name} contains NaN or inf")
    return A


def _check_method(method: object) -> None:
    if isinstance(method, str):
        if method not in CUTOFF_METHODS:
            raise ValueError(
                f"unknown cutoff method {method!r}; use one of {CUTOFF_METHODS} or a float")
    elif isinstance(method, numbers.Real) and not isinstance(method, bool):
        if not (math.isfinite(float(method)) and float(method) >= 0):
            raise ValueError(f"an absolute cutoff must be finite and >= 0, got {method!r}")
    elif isinstance(method, np.ndarray) and method.dtype.kind in "fiuO":
        vals = np.asarray(method, dtype=np.float64)
        if not (np.all(np.isfinite(vals)) and np.all(vals >= 0)):
            raise ValueError("absolute cutoffs must be finite and >= 0")
    else:
        raise TypeError(f"method must be a cutoff name, a float or an array of floats "
                        f"(one per batch instance), got {method!r}")


# ---------------------------------------------------------------------------
# rank cutoffs
# ---------------------------------------------------------------------------

def cutoff_factor(shape: Sequence[int], method: str) -> float:
    """The factor ``f`` in ``cutoff = f * s_max * eps`` for a named method.

    Split out so that other precisions (the mpmath backend) apply the same rule
    with their own ``eps``.

    >>> cutoff_factor((10, 3), "lapack")
    10.0
    """
    _check_method(method)
    if not isinstance(method, str):
        raise TypeError("an absolute cutoff has no relative factor")
    m, n = int(shape[-2]), int(shape[-1])
    if method in ("lapack", "golub_van_loan"):
        return float(max(m, n))
    return 0.5 * float(np.sqrt(m + n + 1.0))  # "press"


def rank_cutoff(singular_values, shape: Sequence[int], method="lapack", *, eps=None):
    r"""Threshold below which singular values count as zero.

    ``singular_values`` has shape ``(..., k)`` (any order); ``shape`` is the shape
    ``(..., m, n)`` of the matrix they came from (only the last two entries are
    used).  Returns an array of shape ``(...)``.  ``eps`` defaults to float64
    machine epsilon ``2**-52``.

    Methods:

    ``"lapack"``
        ``s_max * max(m, n) * eps``: the default of ``numpy.linalg.matrix_rank``
        and MATLAB's ``rank``/``pinv``, also quoted in Numerical Recipes'
        discussion of SVD least squares.  It budgets the rounding error of a
        backward-stable SVD, whose perturbation grows at most linearly in the
        dimension.
    ``"press"``
        ``0.5 * sqrt(m + n + 1) * s_max * eps``: Press, Teukolsky, Vetterling &
        Flannery, *Numerical Recipes* (3rd ed., 2007, section 2.6, p. 71),
        described as the "expected roundoff error": random-walk (square-root)
        accumulation instead of the worst-case linear one, hence smaller.
    ``"golub_van_loan"``
        ``s_max * eps * max(m, n)``: Golub & Van Loan, *Matrix Computations*
        (4th ed., section 5.4.1), numerical (delta-)rank.  Their reasoning: the
        computed SVD is the exact SVD of ``M + E`` with
        ``||E||_2 <= c(m, n) * u * ||M||_2`` (backward stability of the
        Golub-Kahan SVD, section 8.6),
        and by Weyl's inequality every singular value moves by at most
        ``||E||_2``; singular values below that are indistinguishable from 0.
        Taking ``c(m, n) = max(m, n)`` gives the same number as ``"lapack"`` in
        float64; the name is kept so that reports cite the reasoning they rely on.
    a float ``t`` (or an array of them, one per batch instance)
        Absolute cutoff: singular values ``<= t`` count as zero.  Use it when the
        matrix is derived from a larger one whose scale decides what is round-off:
        ``P_N[X] Z`` with ``Z`` in ``range(X)`` is pure round-off, and a cutoff
        relative to its own ``s_max`` would find a spurious range in it (pass the
        cutoff of ``[X Z]`` instead, as :func:`block_gram_schmidt` does).

    >>> float(rank_cutoff([2.0, 1.0], (3, 2)))  # 2 * 3 * 2**-52
    1.3322676295501878e-15
    >>> float(rank_cutoff([2.0, 1.0], (3, 2), 0.5))
    0.5
    """
    _check_method(method)
    s = np.asarray(singular_values, dtype=np.float64)
    if s.ndim < 1:
        raise ValueError("singular_values must have at least one axis (..., k)")
    if not isinstance(method, str):
        return np.broadcast_to(np.asarray(method, dtype=np.float64), s.shape[:-1]).copy()
    if len(shape) < 2:
        raise ValueError(f"shape must be (..., m, n), got {tuple(shape)!r}")
    eps = _EPS64 if eps is None else float(eps)
    s_max = s.max(axis=-1, initial=0.0)
    return s_max * eps * cutoff_factor(shape, method)


def _svd(A: np.ndarray):
    """Thin SVD that also copes with empty matrices (numpy does, but be explicit)."""
    return np.linalg.svd(A, full_matrices=False)


def numerical_rank(M, method="lapack"):
    """Number of singular values above :func:`rank_cutoff`, as an int array over the batch.

    >>> import numpy as np
    >>> int(numerical_rank(np.array([[1.0, 2.0], [2.0, 4.0]])))
    1
    >>> numerical_rank(np.stack([np.eye(3), np.zeros((3, 3))])).tolist()
    [3, 0]
    """
    A = _as_matrix(M)
    _check_method(method)
    s = np.linalg.svd(A, compute_uv=False)
    tol = rank_cutoff(s, A.shape, method)
    return np.sum(s > tol[..., None], axis=-1)


def range_basis(M, method="lapack", *, m=None, scale=None):
    """Orthonormal basis of the column space of ``M``, shape ``(..., rows, r)``.

    ``r`` is the largest numerical rank over the batch; instances of smaller rank
    get zero columns in the surplus places, so ``Q @ Q^T`` is still their
    projector (this keeps batches rectangular).

    ``m`` overrides the row count used by the cutoff (pass the original number of
    rows when ``M`` is a block of a triangular factor R standing in for the data);
    ``scale`` overrides ``s_max`` (the largest singular value of a larger matrix
    that ``M`` was derived from, so that round-off residue of that matrix counts
    as zero).
    """
    A = _as_matrix(M)
    _check_method(method)
    U, s, _ = _svd(A)
    tol = _cutoff(s, A.shape, method, m=m, scale=scale)
    keep = s > tol[..., None]
    r = int(keep.sum(axis=-1).max(initial=0))
    # Singular values are sorted in decreasing order, so the kept ones come first.
    return (U * keep[..., None, :])[..., :r]


def _cutoff(s, shape, method, *, m=None, scale=None):
    if isinstance(method, str):
        rows = shape[-2] if m is None else int(m)
        s_ref = s if scale is None else np.asarray(scale, dtype=np.float64)[..., None]
        return rank_cutoff(s_ref, (rows, shape[-1]), method)
    return rank_cutoff(s, shape, method)


def projection(M, method="lapack"):
    r"""``P[M]``: orthogonal projector onto the column space of ``M``, shape ``(..., m, m)``.

    Computed as ``U_r U_r^T`` from the thin SVD ``M = U S V^T`` keeping the
    singular values above the cutoff.  This equals ``M (M^T M)^+ M^T`` in exact
    arithmetic without forming ``M^T M`` (which would square the condition number).

    >>> import numpy as np
    >>> P = projection(np.array([[1.0], [1.0]]))
    >>> np.allclose(P, [[0.5, 0.5], [0.5, 0.5]], rtol=0, atol=4 * 2.0**-52)
    True
    """
    Q = range_basis(M, method)
    return Q @ np.swapaxes(Q, -1, -2)


def null_projection(M, method="lapack"):
    r"""``P_N[M] = I - P[M]``: projector onto ``Null(M^T)``, the *left* null space of ``M``.

    For ``X`` of shape ``(m, d_x)`` the null space ``Null(X)`` lives in ``R^{d_x}``,
    but ``P_N[X] Y`` with ``Y`` of shape ``(m, d_y)`` needs an ``m x m`` matrix: the
    projector onto ``Null(X^T) = range(X)^perp``, ``P_N[X] = I - P[X]``, is the
    reading that type-checks (a catalogue records where a paper prints otherwise).

    >>> import numpy as np
    >>> null_projection(np.array([[1.0], [0.0]])).tolist()
    [[0.0, 0.0], [0.0, 1.0]]
    """
    P = projection(M, method)
    return np.eye(P.shape[-1]) - P


def _as_rhs(M: np.ndarray, Y, name="Y"):
    """Y as (..., m, k); a 1-D Y is a single column (only with a single matrix M)."""
    B = _as_matrix(np.asarray(Y, dtype=np.float64)[:, None], name) if np.ndim(Y) == 1 \
        else _as_matrix(Y, name)
    vector = np.ndim(Y) == 1
    if vector and M.ndim != 2:
        raise ValueError("a 1-D Y is only accepted with a single (2-D) matrix M")
    if B.shape[-2] != M.shape[-2]:
        raise ValueError(
            f"Y has {B.shape[-2]} rows but M has {M.shape[-2]}; P[M] Y needs equal row counts")
    return B, vector


def _reproject(Q, B):
    """``Q Q^T B`` applied twice: one re-orthogonalisation ("twice is enough",
    Giraud, Langou & Rozloznik 2005) so the residual is orthogonal to working accuracy."""
    QT = np.swapaxes(Q, -1, -2)
    C = QT @ B
    R = B - Q @ C
    C2 = QT @ R
    return Q @ (C + C2), R - Q @ C2


def _split(M, Y, method):
    """``(P[M] Y, P_N[M] Y)``, each shaped like ``Y`` (a vector or a matrix)."""
    A = _as_matrix(M)
    B, vector = _as_rhs(A, Y)
    PY, NY = _reproject(range_basis(A, method), B)
    return (PY[..., 0], NY[..., 0]) if vector else (PY, NY)


def project(M, Y, method="lapack"):
    """``P[M] Y`` without forming the ``m x m`` projector (thin SVD of ``M``).

    Costs ``O(m n^2 + m n k)`` instead of ``O(m^2 (n + k))`` time and ``O(m^2)`` memory.

    >>> import numpy as np
    >>> project(np.array([[1.0], [0.0]]), np.array([3.0, 4.0])).tolist()
    [3.0, 0.0]
    """
    return _split(M, Y, method)[0]


def null_project(M, Y, method="lapack"):
    """``P_N[M] Y = Y - P[M] Y`` without forming the ``m x m`` projector.

    >>> import numpy as np
    >>> null_project(np.array([[1.0], [0.0]]), np.array([3.0, 4.0])).tolist()
    [0.0, 4.0]
    """
    return _split(M, Y, method)[1]


def block_gram_schmidt(blocks, method="lapack", *, m=None):
    r"""Orthonormal bases of the sequential projections of ``blocks = [B_1, ..., B_K]``.

    ``Q_1`` spans ``range(B_1)`` and ``Q_k`` spans
    ``range(P_N[[B_1 ... B_{k-1}]] B_k)``, the new directions block ``k`` adds.
    Hence ``[Q_1 ... Q_k]`` is an orthonormal basis of ``range([B_1 ... B_k])`` and
    ``P[[B_1 ... B_k]] = sum_j Q_j Q_j^T``: the decomposition
    ``P[[X Z]] = P[X] + P[P_N[X] Z]``, for any ``K``.

    The rank of block ``k``'s residual is decided against the scale of the whole
    ``[B_1 ... B_k]`` (its largest singular value, its shape): a residual that is
    round-off of earlier blocks counts as zero, exactly when
    ``numerical_rank([B_1 ... B_k])`` would not count it.

    Each ``Q_k`` has shape ``(..., rows, r_k)``; in a batch, instances with a
    smaller rank get zero columns (see :func:`range_basis`).  ``m`` overrides
    the row count used by the cutoff (see :func:`range_basis`).

    >>> import numpy as np
    >>> X = np.array([[1.0], [0.0], [0.0]])
    >>> Z = np.array([[1.0, 2.0], [1.0, 0.0], [0.0, 0.0]])
    >>> [Q.shape for Q in block_gram_schmidt([X, Z])]
    [(3, 1), (3, 1)]
    """
    mats = [_as_matrix(B, f"blocks[{i}]") for i, B in enumerate(blocks)]
    if not mats:
        raise ValueError("block_gram_schmidt needs at least one block")
    rows = {B.shape[-2] for B in mats}
    if len(rows) != 1:
        raise ValueError(f"all blocks need the same number of rows, got {sorted(rows)}")
    try:
        batch = np.broadcast_shapes(*(B.shape[:-2] for B in mats))
    except ValueError as exc:
        raise ValueError(f"block batch shapes do not broadcast: {exc}") from exc
    _check_method(method)
    bases: list[np.ndarray] = []
    seen = []
    for B in mats:
        B = np.broadcast_to(B, batch + B.shape[-2:])
        seen.append(B)
        scale = np.linalg.svd(np.concatenate(seen, axis=-1), compute_uv=False).max(
            axis=-1, initial=0.0)
        if bases:
            Q_prev = np.concatenate(bases, axis=-1)
            _, B = _reproject(Q_prev, B)
        width = sum(S.shape[-1] for S in seen)
        U, s, _ = _svd(B)
        if isinstance(method, str):
            n_rows = B.shape[-2] if m is None else int(m)
            tol = scale * _EPS64 * cutoff_factor((n_rows, width), method)
        else:
            tol = rank_cutoff(s, B.shape, method)
        keep = s > tol[..., None]
        r = int(keep.sum(axis=-1).max(initial=0))
        bases.append((U * keep[..., None, :])[..., :r])
    return bases
