r"""Fast ``J(theta)`` (KHK 2019, DW): the projection form without the dense Jacobian.

``J(theta) = 1/2 ||(I - P[K]) vec Y||^2`` with ``K = [D, D^(H+1)_1]`` of shape
``(M, N) = (m d_y, d_theta)`` (right-hand side of Theorem 1, eq. 4.2; reconstruction
``shared/papers/khk-statements.md`` section I.2).  The naive route forms ``K`` (``M N`` floats:
620 MB for the synthetic cell of Figure 1) and takes its SVD.  Here ``K`` is never formed whole:
it is the row-wise Kronecker (Khatri-Rao) product of the back-propagation coefficients and the
features, ``(D^(l)_k)_{(c-1)m+i, p} = C^(l)_{i,c,k} Phi^(l-1)_{i,p}``, so

* its **row Gram** is a sum of Hadamard products (``(M, M)``, block ``(c, c')``)::

      K K^T = I (x) Phi^(H) Phi^(H)T + sum_l (C^(l)_c C^(l)T_c') o (Phi^(l-1) Phi^(l-1)T);

* its rows (a chunk of samples) and its columns (a block of units) are cheap to form on demand.

Paths (``JResult.path`` says which one decided):

``"gram-cholesky"`` (``M <= N``)
    Form ``G~ = K K^T`` from the Hadamard sums, then try a Cholesky factorisation of
    ``G~ - tau I``.  Success certifies ``lambda_min(K K^T) > cutoff^2`` with every rounding
    error accounted for (below), so every singular value is above the cutoff for the reference
    too: rank ``M``, ``P[K] = I`` and ``J = 0`` exactly.  Cost ``O(M^2 sum d_l + M^3 / 3)``.
``"qr-svd-rows"`` (``M > N``; and the fallback when ``M <= N`` is not certified)
    Streaming TSQR of ``[K | vec Y]`` over chunks of samples (memory ``O(chunk N + N^2)``),
    then the SVD of the ``N x N`` triangular factor: the singular values of ``K`` to the same
    backward error as an SVD of ``K`` (no squared condition number), and
    ``J = 1/2 (rho^2 + ||(I - U_r U_r^T) r||^2)`` from the last column ``[r; rho]`` of R.
``"qr-svd-columns"`` (the fallback when ``M <= N``)
    TSQR of ``K^T`` over blocks of units (memory ``O(block M + M^2)``), SVD of the ``M x M``
    factor, whose right singular vectors are the left singular vectors of ``K``.

Why the Gram route only ever certifies full row rank.  The computed Gram differs from
``K K^T`` by ``delta <= gamma_n ||K||_F^2`` (below), about ``n u s_max^2`` with the unit
round-off ``u = 2^-53``, while the rank cutoffs are ``c u s_max`` with ``c`` of order
``sqrt(M + N)``: ``cutoff^2 ~ c^2 u^2 s_max^2`` is ``1e-13`` times smaller than ``delta``.
An eigenvalue of the Gram therefore never shows that a singular value is *below* the cutoff
(that needs ``lambda + delta < cutoff^2``), only that it is above.  So the eigenvalues add
nothing over a Cholesky test of ``G~ - tau I``, which is 10x cheaper than an
eigendecomposition; when the test fails (rank deficient, or ill conditioned beyond
``kappa(K) ~ 1 / sqrt(n u)``) we fall back to the QR-SVD of ``K`` formed in chunks.  For
``M > N`` the column Gram ``K^T K`` is never tried: with positively homogeneous activations
every live hidden unit gives ``K`` an exact null vector (scale its incoming weights by
``alpha``, its outgoing ones by ``1/alpha``), so ``K`` never has full column rank.

Error bounds used for the certificate (Higham, *Accuracy and Stability of Numerical Algorithms*,
2nd ed., section 3.5 for products, Theorem 10.3 for Cholesky; ``gamma_n = n u / (1 - n u)``):

* forming: ``|G~ - K K^T| <= gamma_{n_G} |K| |K|^T`` entrywise with
  ``n_G = max_l (d_{l-1} + d_l) + 1 + (H + 1)`` (two inner products, the Hadamard product, the
  sum over layers), hence ``||G~ - K K^T||_2 <= gamma_{n_G} ||K||_F^2 =: delta_form``;
* Cholesky: success on ``A = G~ - tau I`` means ``A + dA = R^T R`` (positive definite) with
  ``||dA||_2 <= gamma_{M+1} ||R||_F^2`` (from ``|dA| <= gamma_{M+1} |R^T||R|``);
* the reference: its SVD moves singular values by at most
  ``delta_ref = (max(M, N) + sqrt(min(M, N))) u s_max`` (backward stability with
  ``c(M, N) = max(M, N)``, Golub & Van Loan section 5.4.1, plus one rounding per entry when
  the dense ``K`` is formed: ``u ||K||_F <= u sqrt(min(M, N)) s_max``).

Certified when ``tau - ||dA||_2 - delta_form >= (cutoff_hi + delta_ref)^2`` with ``cutoff_hi``
computed from the upper bound ``s_max^2 <= ||G~||_1 + delta_form``.

Rank-cutoff criteria (:data:`CRITERIA`): the three of the paper's Appendix C, for ``K`` of shape
``(M, N)`` and ``u`` = float64 machine precision ``2^-52`` as the paper writes it,

``"press"``
    ``1/2 sqrt(M + N + 1) s_max eps`` (Press et al. 2007, section 2.6; = ``linalg``'s "press");
``"gvl_inf"``
    ``1/2 ||K||_inf eps`` with ``||K||_inf = max_i sum_j |K_ij|`` (the paper's criterion "based
    on Golub & Van Loan 1996"; the extracted text reads ``12M x (machine precision of M)``, read
    as ``1/2 ||M||_inf eps``);
``"netlib"``
    ``s_max eps`` (the paper's criterion "based on Netlib Repository LAPACK documentation");

and ``linalg``'s ``"lapack"`` / ``"golub_van_loan"`` (``max(M, N) s_max eps``) or an absolute
float.  Appendix C's "netlib" differs from ``linalg``'s "lapack" (no ``max(M, N)`` factor).

>>> import numpy as np
>>> from proofcheck.networks import Network, RELU
>>> rng = np.random.default_rng(0)
>>> net = Network((3, 16, 1), RELU)
>>> Ws, X = net.random_weights(rng), rng.normal(size=(5, 3))
>>> res = fast_j(net, Ws, X, rng.normal(size=(5, 1)))
>>> res.path, res.rank, res.value            # 5 samples, 64 parameters: full row rank
('gram-cholesky', 5, 0.0)
>>> res = fast_j(net, Ws, rng.normal(size=(80, 3)), rng.normal(size=(80, 1)))
>>> res.path, res.rank                       # 80 samples: rank 64 - 16 (rescaling)
('qr-svd-rows', 48)
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Iterator, Sequence

import numpy as np

from . import linalg
from ._lazy import lazy_import

_sla = lazy_import("scipy.linalg")   # loaded on first use (startup cost)

__all__ = ["CRITERIA", "APPENDIX_C_CRITERIA", "JResult", "KhatriRaoJacobian", "fast_j",
           "fast_j_all", "j_from_factors", "dense_j", "criterion_cutoff"]

_EPS = float(np.finfo(np.float64).eps)     # 2^-52, "machine precision" as the paper uses it
_U = _EPS / 2                               # unit round-off, for error bounds

#: The rank-cutoff criteria of the paper's Appendix C (the first is the one the figure uses).
APPENDIX_C_CRITERIA = ("press", "gvl_inf", "netlib")
#: Every named criterion :func:`criterion_cutoff` accepts (a float is an absolute cutoff).
CRITERIA = APPENDIX_C_CRITERIA + ("lapack", "golub_van_loan")

_DEFAULT_MAX_BYTES = 128 * 2**20


def _gamma(n: int) -> float:
    nu = n * _U
    if nu >= 1:
        raise ValueError(f"gamma_{n} undefined: n u >= 1")
    return nu / (1 - nu)


def criterion_cutoff(criterion, s_max: float, shape: Sequence[int], inf_norm: float | None = None):
    """The cutoff (singular values ``<=`` it count as zero) of ``criterion`` for a matrix of
    ``shape`` with largest singular value ``s_max`` and ``||K||_inf = inf_norm``.

    >>> criterion_cutoff("netlib", 2.0, (3, 4)) == 2 * 2.0**-52
    True
    >>> criterion_cutoff("press", 1.0, (3, 4)) == float(linalg.rank_cutoff([1.0], (3, 4), "press"))
    True
    """
    if isinstance(criterion, numbers.Real) and not isinstance(criterion, bool):
        if not (math.isfinite(criterion) and criterion >= 0):
            raise ValueError(f"an absolute cutoff must be finite and >= 0, got {criterion!r}")
        return float(criterion)
    if criterion not in CRITERIA:
        raise ValueError(f"unknown rank-cutoff criterion {criterion!r}; use one of {CRITERIA} "
                         "or a float")
    M, N = int(shape[-2]), int(shape[-1])
    if criterion == "gvl_inf":
        if inf_norm is None:
            raise ValueError("criterion 'gvl_inf' needs ||K||_inf")
        return 0.5 * float(inf_norm) * _EPS
    if criterion == "netlib":
        return float(s_max) * _EPS
    return float(s_max) * _EPS * linalg.cutoff_factor((M, N), criterion)


@dataclass(frozen=True)
class JResult:
    """``J(theta)`` and how its rank decision was made.

    ``value``: J; ``rank``: numerical rank of ``K = [D, D^(H+1)_1]``; ``path``: which route
    decided (module docstring); ``criterion``, ``cutoff``: the rule and its value;
    ``margin_to_cutoff``: decades between the cutoff and the nearest singular value,
    ``min(log10(s_kept_min / cutoff), log10(cutoff / s_dropped_max))`` (a *lower bound* on the
    Gram path, ``inf`` when there is nothing on one side); ``s_max``, ``s_kept_min``,
    ``s_dropped_max``: the singular values around the decision (``s_dropped_max = 0`` if none
    dropped; on the Gram path ``s_kept_min`` is the certified lower bound); ``error_bound``: a
    first-order bound on ``|value - J|`` from rounding for this rank decision (Wedin:
    ``||y||^2 (max(M,N)+1) u s_max / s_kept_min``); ``fallback``: why the fast path was left
    (``None`` if it was not); ``shape``: ``(M, N)``.
    """

    value: float
    rank: int
    path: str
    criterion: object
    cutoff: float
    margin_to_cutoff: float
    s_max: float
    s_kept_min: float
    s_dropped_max: float
    error_bound: float
    shape: tuple[int, int]
    fallback: str | None = None
    details: dict = field(default_factory=dict, compare=False, repr=False)


# ---------------------------------------------------------------------------------------------
# the Jacobian as a Khatri-Rao product, never formed whole


class KhatriRaoJacobian:
    r"""``K = [D^(1), ..., D^(H), I_{d_y} (x) Phi^(H)]`` from its factors.

    ``phis = [Phi^(0), ..., Phi^(H)]`` (``Phi^(0) = X``, shapes ``(m, d_l)``) and
    ``Cs = [C^(1), ..., C^(H)]`` (shapes ``(m, d_y, d_l)``), as
    :func:`proofcheck.networks.forward` and :func:`~proofcheck.networks.backprop_coefficients`
    return them.  Row ``(c-1) m + i`` is output ``c`` of sample ``i`` (``vec Yhat``); column
    ``(k-1) d_{l-1} + p`` of layer ``l`` is ``W^(l)_{p,k}`` (``vec W^(l)``), as in
    :func:`proofcheck.networks.jacobian`.

    >>> rng = np.random.default_rng(0)
    >>> phis = [rng.normal(size=(4, 2)), rng.normal(size=(4, 3))]
    >>> K = KhatriRaoJacobian(phis, [rng.normal(size=(4, 1, 3))])
    >>> K.shape, np.allclose(K.gram_rows(), K.dense() @ K.dense().T)
    ((4, 9), True)
    """

    def __init__(self, phis, Cs):
        phis = [self._finite(P, f"Phi^({l})") for l, P in enumerate(phis)]
        Cs = [self._finite(C, f"C^({l})") for l, C in enumerate(Cs, start=1)]
        if len(phis) != len(Cs) + 1 or not Cs:
            raise ValueError(f"need H + 1 feature matrices and H >= 1 coefficient arrays, got "
                             f"{len(phis)} and {len(Cs)}")
        m = phis[0].shape[0]
        if any(P.ndim != 2 or P.shape[0] != m for P in phis):
            raise ValueError(f"every Phi^(l) must be 2-D with m = {m} rows, got "
                             f"{[P.shape for P in phis]}")
        d_y = Cs[0].shape[1] if Cs[0].ndim == 3 else -1
        for l, C in enumerate(Cs, start=1):
            if C.shape != (m, d_y, phis[l].shape[1]):
                raise ValueError(f"C^({l}) must have shape (m, d_y, d_{l}) = "
                                 f"{(m, d_y, phis[l].shape[1])}, got {C.shape}")
        self.phis, self.Cs = phis, Cs
        self.m, self.d_y, self.H = m, d_y, len(Cs)
        self.widths = [P.shape[1] for P in phis] + [d_y]
        self.shape = (m * d_y, sum(self.widths[l - 1] * self.widths[l]
                                   for l in range(1, self.H + 2)))

    @staticmethod
    def _finite(A, name):
        A = np.asarray(A)
        if A.dtype.kind not in "fiu":
            raise TypeError(f"{name} must be a real float array, got dtype {A.dtype}")
        A = A.astype(np.float64, copy=False)
        if not np.all(np.isfinite(A)):
            raise ValueError(f"{name} contains NaN or inf")
        return A

    @classmethod
    def of_network(cls, net, Ws, X) -> "KhatriRaoJacobian":
        """From :mod:`proofcheck.networks` (one forward and one backward pass)."""
        from . import networks as nw
        Ws = net.check_weights(Ws)
        f = nw.forward(net, Ws, X)
        return cls(f.Phi, nw.backprop_coefficients(net, Ws, X, fwd=f))

    # -- cheap summaries -----------------------------------------------------------------
    def frobenius_sq(self) -> float:
        """``||K||_F^2 = trace(K K^T)``."""
        tot = self.d_y * float(np.sum(self.phis[-1] ** 2))
        for l, C in enumerate(self.Cs, start=1):
            tot += float(np.sum(np.sum(C ** 2, axis=2) * np.sum(self.phis[l - 1] ** 2, 1)[:, None]))
        return tot

    def inf_norm(self) -> float:
        """``||K||_inf``, the largest absolute row sum: row ``(c, i)`` of layer ``l`` sums to
        ``||C^(l)_{i,c,:}||_1 ||Phi^(l-1)_{i,:}||_1``."""
        rows = np.broadcast_to(np.abs(self.phis[-1]).sum(1)[:, None], (self.m, self.d_y)).copy()
        for l, C in enumerate(self.Cs, start=1):
            rows += np.abs(C).sum(2) * np.abs(self.phis[l - 1]).sum(1)[:, None]
        return float(rows.max(initial=0.0))

    # -- the Gram of the rows ------------------------------------------------------------
    def gram_rows(self, *, upper_only: bool = False, block_rows: int = 512) -> np.ndarray:
        """``K K^T`` (``(M, M)``) from Hadamard products.

        Accumulated in strips of ``block_rows`` rows of the upper triangle, so the memory is
        ``M^2`` floats for the result plus ``O(block_rows M)``.  ``upper_only``: leave the
        strict lower triangle zero (Cholesky reads only the upper one)."""
        m, dy = self.m, self.d_y
        M = m * dy
        G = np.zeros((M, M), order="F")
        # every factor as (M_rows, width) with rows ordered (c, i): output c of sample i
        feats = [np.tile(P, (dy, 1)) if dy > 1 else P for P in self.phis]
        coefs = [C.transpose(1, 0, 2).reshape(M, C.shape[2]) for C in self.Cs]
        same_c = None
        if dy > 1:                       # the output block I (x) Phi^(H) couples c = c' only
            c_of = np.repeat(np.arange(dy), m)
        for i0 in range(0, M, block_rows):
            i1 = min(M, i0 + block_rows)
            strip = G[i0:i1, i0:]                  # a view: updated in place
            Pf = feats[-1][i0:i1] @ feats[-1][i0:].T
            if dy > 1:
                same_c = c_of[i0:i1, None] == c_of[None, i0:]
                Pf *= same_c
            strip += Pf
            for l in range(1, self.H + 1):
                A = coefs[l - 1][i0:i1] @ coefs[l - 1][i0:].T
                A *= feats[l - 1][i0:i1] @ feats[l - 1][i0:].T
                strip += A
            # the strip's diagonal block is a full square: clear its strict lower part
            strip[:, :i1 - i0][np.tril_indices(i1 - i0, -1)] = 0.0
        if not upper_only:
            G += np.triu(G, 1).T
        return G

    def gram_inner_size(self) -> int:
        """``n_G``: the inner-product length that bounds the rounding of :meth:`gram_rows`."""
        w = self.widths
        return max(w[l - 1] + w[l] for l in range(1, self.H + 1)) + 1 + self.H + 1

    # -- rows and columns on demand --------------------------------------------------------
    def rows(self, i0: int, i1: int) -> np.ndarray:
        """The rows of samples ``i0:i1`` (every output), ordered ``(c, i)``: shape
        ``(d_y (i1 - i0), N)``."""
        b, dy = i1 - i0, self.d_y
        out = np.empty((dy, b, self.shape[1]))
        off = 0
        for l, C in enumerate(self.Cs, start=1):
            n = self.widths[l - 1] * self.widths[l]
            blk = C[i0:i1, :, :, None] * self.phis[l - 1][i0:i1, None, None, :]
            out[:, :, off:off + n] = blk.transpose(1, 0, 2, 3).reshape(dy, b, n)
            off += n
        dH = self.widths[self.H]
        out[:, :, off:] = 0.0
        for c in range(dy):
            out[c, :, off + c * dH:off + (c + 1) * dH] = self.phis[-1][i0:i1]
        return out.reshape(dy * b, self.shape[1])

    def column_blocks(self, max_cols: int) -> Iterator[np.ndarray]:
        """Consecutive column blocks of ``K`` (at most ``max_cols`` wide, at least one unit)."""
        m, dy = self.m, self.d_y
        for l, C in enumerate(self.Cs, start=1):
            dprev = self.widths[l - 1]
            step = max(1, max_cols // dprev)
            Ct = C.transpose(1, 0, 2)                       # (d_y, m, d_l)
            for k0 in range(0, self.widths[l], step):
                k1 = min(self.widths[l], k0 + step)
                blk = Ct[:, :, k0:k1, None] * self.phis[l - 1][None, :, None, :]
                yield blk.reshape(dy * m, (k1 - k0) * dprev)
        dH = self.widths[self.H]
        for c in range(dy):
            blk = np.zeros((dy * m, dH))
            blk[c * m:(c + 1) * m] = self.phis[-1]
            yield blk

    def dense(self) -> np.ndarray:
        """The whole ``K`` (tests and the reference only: ``M N`` floats)."""
        return np.concatenate(list(self.column_blocks(self.shape[1])), axis=1)


# ---------------------------------------------------------------------------------------------
# the paths

def _vec_y(Y, m: int, d_y: int) -> np.ndarray:
    Y = np.asarray(Y)
    if Y.ndim == 1 and d_y == 1:
        Y = Y[:, None]
    if Y.shape != (m, d_y):
        raise ValueError(f"Y must have shape (m, d_y) = {(m, d_y)}, got {Y.shape}")
    if Y.dtype.kind not in "fiu":
        raise TypeError(f"Y must be a real float array, got dtype {Y.dtype}")
    Y = Y.astype(np.float64)
    if not np.all(np.isfinite(Y)):
        raise ValueError("Y contains NaN or inf")
    return Y.ravel(order="F")


def _check_criteria(criteria):
    crit = tuple(criteria)
    if not crit:
        raise ValueError("need at least one criterion")
    for c in crit:
        criterion_cutoff(c, 1.0, (1, 1), 1.0)   # validates the name
    return crit


def _wedin_bound(y2, shape, s_max, s_kept_min):
    """First-order bound on ``|J~ - J|`` for a fixed rank decision: a backward error
    ``||E|| <= (max(M,N)+1) u s_max`` turns the projector by at most
    ``||E|| / (s_r - ||E||)`` (Wedin), and ``|dJ| <= ||y||^2 ||dP|| / 2`` doubled for the
    projector's two factors."""
    if s_kept_min == 0.0 or s_max == 0.0:
        return 0.0
    E = (max(shape) + 1) * _U * s_max
    if E >= s_kept_min:
        return math.inf
    return y2 * E / (s_kept_min - E)


def _decide(s, criterion, shape, inf_norm, y2):
    s_max = float(s.max(initial=0.0))
    cut = criterion_cutoff(criterion, s_max, shape, inf_norm)
    keep = s > cut
    kept, dropped = s[keep], s[~keep]
    s_kept_min = float(kept.min(initial=math.inf)) if kept.size else 0.0
    s_dropped_max = float(dropped.max(initial=0.0))
    up = math.log10(s_kept_min / cut) if kept.size and cut > 0 else math.inf
    down = math.log10(cut / s_dropped_max) if s_dropped_max > 0 else math.inf
    return keep, dict(cutoff=cut, s_max=s_max, s_kept_min=s_kept_min, s_dropped_max=s_dropped_max,
                      margin_to_cutoff=min(up, down),
                      error_bound=_wedin_bound(y2, shape, s_max, s_kept_min))


def _tsqr(blocks: Iterator[np.ndarray]) -> np.ndarray:
    """R factor of the rows stacked from ``blocks`` (TSQR, one block at a time)."""
    R = None
    for B in blocks:
        A = B if R is None else np.vstack([R, B])
        R = np.linalg.qr(A, mode="r")
    return R


def _chunk(n_cols: int, max_bytes: int, minimum: int) -> int:
    return max(minimum, int(max_bytes // (8 * max(n_cols, 1))))


def _qr_svd_rows(K: KhatriRaoJacobian, y, criteria, max_bytes):
    """TSQR of ``[K | y]`` over chunks of samples; SVD of the N x N factor."""
    M, N = K.shape
    b = max(1, _chunk(K.d_y * (N + 1), max_bytes, 1))
    b = max(b, (N + 1) // K.d_y + 1)        # stacked blocks at least as tall as R: QR stays cheap
    yy = y.reshape(K.d_y, K.m)

    def blocks():
        for i0 in range(0, K.m, b):
            i1 = min(K.m, i0 + b)
            yield np.hstack([K.rows(i0, i1), yy[:, i0:i1].reshape(-1, 1)])

    R = _tsqr(blocks())
    R = np.vstack([R, np.zeros((max(0, N + 1 - R.shape[0]), N + 1))])
    R11, r, rho = R[:N, :N], R[:N, N], float(R[N, N])
    U, s, _ = _sla.svd(R11, full_matrices=False, lapack_driver="gesdd", check_finite=False)
    return s, lambda keep: _residual_sq(U[:, keep], r) + rho * rho


def _qr_svd_columns(K: KhatriRaoJacobian, y, criteria, max_bytes):
    """TSQR of ``K^T`` over blocks of units; the right singular vectors of the M x M factor."""
    M, N = K.shape
    cols = max(_chunk(M, max_bytes, 1), M)   # each stacked block at least M rows of K^T
    R = _tsqr(B.T for B in _merge_blocks(K.column_blocks(cols), cols))
    _, s, Vt = _sla.svd(R, full_matrices=False, lapack_driver="gesdd", check_finite=False)
    V = Vt.T
    s = np.concatenate([s, np.zeros(M - s.size)]) if s.size < M else s
    return s, lambda keep: _residual_sq(V[:, keep[:V.shape[1]]], y)


def _merge_blocks(blocks, cols):
    """Concatenate small column blocks until about ``cols`` wide (fewer, bigger QRs)."""
    buf, width = [], 0
    for B in blocks:
        buf.append(B)
        width += B.shape[1]
        if width >= cols:
            yield np.hstack(buf)
            buf, width = [], 0
    if buf:
        yield np.hstack(buf)


def _residual_sq(U, y):
    """``||(I - U U^T) y||^2`` with one re-orthogonalisation ("twice is enough")."""
    r = y - U @ (U.T @ y)
    r = r - U @ (U.T @ r)
    return float(r @ r)


def _gram_certificate(K: KhatriRaoJacobian, criteria):
    """Try to certify ``s_min(K) > cutoff`` for every criterion from a Cholesky test.

    Returns ``(s_lo, info)`` with ``s_lo`` a lower bound on the smallest singular value the
    *reference* computes (its own backward error included), or ``(None, info)``."""
    M, N = K.shape
    G = K.gram_rows(upper_only=True)
    # sums of up to M + N + H + 2 rounded terms: relative error <= gamma_{M+N+H+2}
    frob2 = K.frobenius_sq() * (1 + _gamma(M + N + K.H + 2))
    delta_form = _gamma(K.gram_inner_size()) * frob2
    # ||G||_1 >= lambda_max from the upper triangle, a strip at a time (no M^2 temporary)
    col = np.zeros(M)
    for i0 in range(0, M, 512):
        strip = np.abs(G[i0:min(M, i0 + 512)])
        col += strip.sum(axis=0)
        col[i0:i0 + strip.shape[0]] += strip.sum(axis=1)
    diag = np.abs(np.diag(G))
    col -= diag
    lam_hi = float(col.max()) * (1 + _gamma(2 * M)) + delta_form
    max_diag = float(diag.max(initial=0.0))
    del col, diag
    # the reference's SVD: entries of K rounded once (<= u ||K||_F <= u sqrt(min(M,N)) s_max),
    # then a backward error c(M, N) u s_max with c = max(M, N) (Golub & Van Loan 5.4.1)
    s_hi = math.sqrt(lam_hi)
    delta_ref = (max(M, N) + math.sqrt(min(M, N))) * _U * s_hi
    inf_norm = K.inf_norm()
    cut_hi = max(criterion_cutoff(c, s_hi + delta_ref, (M, N),
                                  inf_norm * (1 + _gamma(2 * N + K.H + 2)))
                 for c in criteria)
    need = (cut_hi + delta_ref) ** 2
    s_max = _s_max_estimate(G)
    tau = need + delta_form + 2 * _gamma(M + 1) * frob2
    G[np.diag_indices_from(G)] -= tau
    try:
        R = _sla.cholesky(G, lower=False, overwrite_a=True, check_finite=False)
    except np.linalg.LinAlgError:
        return None, dict(delta_form=delta_form, tau=tau, s_max=s_max)
    # Higham Thm 10.3: R^T R = A + dA, |dA| <= gamma_{M+1} |R^T||R|, so
    # ||dA||_2 <= gamma_{M+1} ||R||_F^2; plus the rounding of the diagonal shift
    flat = R.ravel(order="K")                  # a view: no M^2 temporary
    dA = _gamma(M + 1) * float(flat @ flat) * (1 + _gamma(M * M)) + _U * (max_diag + tau)
    lam_lo = tau - dA - delta_form
    if lam_lo < need:
        return None, dict(delta_form=delta_form, tau=tau, dA=dA, s_max=s_max)
    return math.sqrt(lam_lo) - delta_ref, dict(delta_form=delta_form, tau=tau, dA=dA,
                                               inf_norm=inf_norm, s_max=s_max)


def _s_max_estimate(G) -> float:
    """``s_max(K) = sqrt(lambda_max(K K^T))`` by Lanczos, from the upper triangle ``G`` (for
    reporting the cutoff only; the certificate uses the upper bound ``||G||_1``)."""
    from scipy.sparse.linalg import LinearOperator, eigsh
    M = G.shape[0]
    if M <= 64:
        return math.sqrt(max(float(np.linalg.eigvalsh(G, UPLO="U")[-1]), 0.0))
    d = np.diag(G).copy()
    op = LinearOperator((M, M), dtype=np.float64,
                        matvec=lambda v: G @ v + G.T @ v - d * np.ravel(v))
    lam = eigsh(op, k=1, which="LA", tol=1e-10, return_eigenvectors=False)[0]
    return math.sqrt(max(float(lam), 0.0))


def j_from_factors(phis, Cs, Y, criteria=APPENDIX_C_CRITERIA, *, path="auto",
                   max_bytes: int = _DEFAULT_MAX_BYTES) -> dict:
    """``J`` for each rank-cutoff criterion, from ``Phi^(l)`` and ``C^(l)`` (one factorisation
    shared by all criteria).  Returns ``{criterion: JResult}``.

    ``path``: ``"auto"`` (the Gram certificate when ``M <= N``, else the row QR-SVD),
    ``"qr-svd-rows"`` or ``"qr-svd-columns"`` to force a streaming SVD route.
    ``max_bytes`` bounds the streamed chunks (the Gram and R factors come on top).
    """
    K = KhatriRaoJacobian(phis, Cs)
    return _solve(K, _vec_y(Y, K.m, K.d_y), _check_criteria(criteria), path, max_bytes)


def _solve(K, y, criteria, path, max_bytes):
    if path not in ("auto", "qr-svd-rows", "qr-svd-columns"):
        raise ValueError(f"unknown path {path!r}; use 'auto', 'qr-svd-rows' or 'qr-svd-columns'")
    if not (isinstance(max_bytes, numbers.Integral) and max_bytes > 0):
        raise ValueError(f"max_bytes must be a positive integer, got {max_bytes!r}")
    M, N = K.shape
    y2 = float(y @ y)
    fallback = None
    if path == "auto" and M <= N:
        s_lo, info = _gram_certificate(K, criteria)
        if s_lo is not None:
            s_max = info["s_max"]
            inf_norm = info["inf_norm"]
            out = {}
            for c in criteria:
                cut = criterion_cutoff(c, s_max, (M, N), inf_norm)
                out[c] = JResult(0.0, M, "gram-cholesky", c, cut, math.log10(s_lo / cut)
                                 if cut > 0 else math.inf, s_max, s_lo, 0.0, 0.0, (M, N),
                                 None, info)
            return out
        fallback = ("Gram not certified: Cholesky of K K^T - tau I failed (rank deficient or "
                    "kappa(K) beyond 1/sqrt(n u))")
    if path == "qr-svd-rows" or (path == "auto" and M > N):
        route, (s, jsq) = "qr-svd-rows", _qr_svd_rows(K, y, criteria, max_bytes)
    else:
        route, (s, jsq) = "qr-svd-columns", _qr_svd_columns(K, y, criteria, max_bytes)
    inf_norm = K.inf_norm() if "gvl_inf" in criteria else None
    out = {}
    for c in criteria:
        keep, info = _decide(s, c, (M, N), inf_norm, y2)
        out[c] = JResult(0.5 * jsq(keep), int(keep.sum()), route, c, info["cutoff"],
                         info["margin_to_cutoff"], info["s_max"], info["s_kept_min"],
                         info["s_dropped_max"], info["error_bound"], (M, N), fallback,
                         {"n_singular_values": int(s.size)})
    return out


def fast_j_all(net, Ws, X, Y, criteria=APPENDIX_C_CRITERIA, *, path="auto",
               max_bytes: int = _DEFAULT_MAX_BYTES) -> dict:
    """:func:`j_from_factors` for a :class:`proofcheck.networks.Network` at weights ``Ws``:
    ``{criterion: JResult}``."""
    K = KhatriRaoJacobian.of_network(net, Ws, X)
    return _solve(K, _vec_y(Y, K.m, K.d_y), _check_criteria(criteria), path, max_bytes)


def fast_j(net, Ws, X, Y, criterion="press", *, path="auto",
           max_bytes: int = _DEFAULT_MAX_BYTES) -> JResult:
    """``J(theta)`` for one criterion (see the module docstring for the paths)."""
    return fast_j_all(net, Ws, X, Y, (criterion,), path=path, max_bytes=max_bytes)[criterion]


def dense_j(K, Y, criterion="press") -> JResult:
    """The naive reference: thin SVD of the dense ``K`` (``(M, N)``), rank by ``criterion``,
    ``J = 1/2 ||(I - U_r U_r^T) vec Y||^2``.  ``Y`` is ``vec Y`` (length ``M``) or ``(m, d_y)``."""
    K = np.asarray(K, dtype=np.float64)
    if K.ndim != 2 or not np.all(np.isfinite(K)):
        raise ValueError("K must be a finite 2-D array")
    y = np.asarray(Y, dtype=np.float64)
    y = y.ravel(order="F") if y.ndim == 2 else y
    if y.shape != (K.shape[0],):
        raise ValueError(f"vec Y must have length {K.shape[0]}, got shape {np.shape(Y)}")
    U, s, _ = np.linalg.svd(K, full_matrices=False)
    inf_norm = float(np.abs(K).sum(axis=1).max(initial=0.0))
    keep, info = _decide(s, criterion, K.shape, inf_norm, float(y @ y))
    return JResult(0.5 * _residual_sq(U[:, keep], y), int(keep.sum()), "dense-svd", criterion,
                   info["cutoff"], info["margin_to_cutoff"], info["s_max"], info["s_kept_min"],
                   info["s_dropped_max"], info["error_bound"], K.shape)
