r"""Fast ``J(theta)``: the projection form without the dense Jacobian.

``J(theta) = 1/2 ||(I - P[K]) vec Y||^2`` with ``K = [D, D^(H+1)_1]`` of shape
``(M, N) = (m d_y, d_theta)``: half the squared residual of the targets after projection on the
range of the network's Jacobian in its weights (the first layer's block included), the quantity
a squared-loss bound at a differentiable point compares with.  The naive route forms ``K``
(``M N`` floats: hundreds of MB at a few thousand samples) and takes its SVD.  Here ``K`` is
never formed whole: it is the row-wise Kronecker (Khatri-Rao) product of the back-propagation
coefficients and the features, ``(D^(l)_k)_{(c-1)m+i, p} = C^(l)_{i,c,k} Phi^(l-1)_{i,p}``, so

* its **row Gram** is a sum of Hadamard products (``(M, M)``, block ``(c, c')``)::

      K K^T = I (x) Phi^(H) Phi^(H)T + sum_l (C^(l)_c C^(l)T_c') o (Phi^(l-1) Phi^(l-1)T);

* its rows (a chunk of samples) and its columns (a block of units) are cheap to form on demand.

Paths (``JResult.path`` says which one decided):

``"gram-cholesky"`` (``M <= N``)
    Form ``G~ = K K^T`` from the Hadamard sums a column panel at a time and factor it with a
    left-looking blocked Cholesky of ``G~ - tau I`` that holds only the lower trapezoids of the
    factor (``M^2 / 2`` floats, never ``G~`` whole; ``tau`` is chosen from rigorous upper bounds
    on ``||K||_2``, ``||K||_F`` and ``||K||_inf`` computed from the factors).  Success certifies
    ``lambda_min(K K^T) > cutoff^2`` with every rounding error accounted for (below), so every
    singular value is above the cutoff for the reference too: rank ``M``, ``P[K] = I`` and
    ``J = 0`` exactly.  Cost ``O(M^2 sum d_l + M^3 / 3)``.  ``s_max`` (for the reported
    cutoff) comes from Lanczos on :meth:`KhatriRaoJacobian.matvec` / ``rmatvec``.
``"gram-columns"`` (opt-in, ``path="gram-columns"``; ``M > N``)
    With positively homogeneous units every hidden unit gives an exact null vector ``v`` of
    ``K`` (:meth:`KhatriRaoJacobian.rescaling_null_vectors`) and a dead unit or feature gives
    exactly zero columns.  Drop the zero columns (``N'`` remain), accumulate
    ``G~ = K^T K + a V V^T`` over chunks of about ``sqrt(M)`` samples (blocked summation:
    entrywise error ``gamma_(b + chunks) |K|^T |K|``, memory ``N'^2`` floats plus one chunk)
    and try the Cholesky test of ``G~ - tau I``.  Success certifies, for every ``x``
    orthogonal to the ``p`` vectors ``V``, ``||K x||^2 >= lambda_lo ||x||^2``: by
    Courant-Fischer ``N' - p`` singular values are at least ``sqrt(lambda_lo)``, above the
    reference's cutoff plus its backward error (the *kept* side, rigorous).  The ``p`` known
    null directions have ``sigma <= ||K V||_2 / s_min(V)`` (computed, ``s_dropped_max``); the
    reference sees them as rounding noise, which no float64 bound can place below an
    ``eps``-level cutoff (its worst case, ``max(M, N) u s_max``, exceeds every cutoff), so
    the path is taken only when ``||K V|| + sqrt(min(M, N)) u s_max`` (the expected noise of an
    SVD) is below the cutoff of every criterion asked for; otherwise, and when the Cholesky
    test fails (a null space beyond the rescalings, or ``kappa`` beyond ``1 / sqrt(n u)``), it
    falls back.  ``J = 1/2 min ||K x - y||^2`` over ``x`` orthogonal to ``V`` by refinement on
    the normal equations preconditioned by the same factor, with the a-posteriori bound
    ``1/2 (||K^T r|| / s_lo)^2`` plus rounding in ``JResult.error_bound``.
``"qr-pivot-rows"`` (``M > N``, the default there)
    One streaming TSQR pass of ``K`` (exact zero columns dropped) carrying ``Q^T vec Y``
    (LAPACK ``tpqrt`` / ``tpmqrt``), then a column-pivoted QR of the ``N' x N'`` factor in
    place, ``R P = Q' R'``, and ``c = Q'^T Q^T vec Y``.  For the rank ``k`` the pivots
    suggest (``|R'_kk|`` above the cutoff) two bounds that hold in exact arithmetic on
    ``R'``: ``sigma_k >= sigma_min(R'_11) >= 1 / ||R'_11^-1||_F`` (the leading columns
    interlace; the inverse by LAPACK ``trtri``, its relative rounding
    ``2 gamma_(k+2) ||X||_F ||R'_11||_F`` taken off) and ``sigma_(k+1) <= ||R'_22||_F``
    (``R'`` without its last rows has rank ``k``).  When both clear the cutoff by the
    rounding band of ``"dense-svd"`` below (``sqrt(min(M, N)) u s_max``, ``s_max`` by Lanczos
    on triangular products) the rank is decided without any SVD, as a QR-SVD would decide
    it (``JResult.details["gap"] == "checked"``); otherwise the singular values of ``R'`` are
    computed in place and decide as on ``"qr-lean-rows"``.  ``J = 1/2 (rho^2 +
    ||c_(k:)||^2)`` for every rank from tails of ``c``, the pivots' subspace error
    ``||R'_22||_F / s_k`` in the bound.  Memory: ``R'`` plus one chunk, plus a copy of
    ``R'_11`` for the gap check when that copy is below 512 MiB (else straight to the
    singular values in place); one pass over ``K`` where ``"qr-lean-rows"`` takes two.
``"qr-lean-rows"`` (opt-in, ``M > N``)
    The same decision in ``N'^2`` floats plus one chunk: TSQR of ``K`` carrying ``Q^T vec Y``
    (LAPACK ``tpqrt`` / ``tpmqrt``), the singular values of R by an SVD in place (no vectors),
    then, below full rank, a second TSQR pass and a column-pivoted QR of R in place for ``J``
    (its leading ``rank`` columns span the kept singular subspace up to ``||R'_22|| / s_r``,
    added to the error bound).  Two passes over ``K`` instead of the singular vectors (the
    route of large tall ``K`` before ``"qr-pivot-rows"``, which needs one).
``"qr-svd-rows"`` (opt-in, ``M > N``)
    Streaming TSQR of ``[K | vec Y]`` over chunks of samples (memory ``O(chunk N + N^2)``),
    then the SVD of the ``N x N`` triangular factor: the singular values of ``K`` to the same
    backward error as an SVD of ``K`` (no squared condition number), and
    ``J = 1/2 (rho^2 + ||(I - U_r U_r^T) r||^2)`` from the last column ``[r; rho]`` of R.
``"qr-svd-columns"`` (the fallback when ``M <= N``)
    TSQR of ``K^T`` over blocks of units (memory ``O(block M + M^2)``), singular values of the
    ``M x M`` factor by an SVD in place; at full rank ``J = 0``, below it a second pass and a
    column-pivoted QR of ``R^T`` in place (``range(K) = range(R^T)``), its subspace error
    ``||R'_22|| / s_r`` in the bound.  One ``M x M`` factor in memory, never singular vectors.
``"dense-svd"`` (after a QR-SVD, for one criterion)
    When a singular value from a QR-SVD lies within ``sqrt(min(M, N)) u s_max`` of the cutoff
    (two backward-stable SVDs may then decide differently) and ``K`` fits in ``max_bytes``, the
    decision is taken by the reference's own computation (:func:`dense_j` on ``K``); a larger
    ``K`` keeps its QR-SVD decision and says so in ``JResult.fallback``.

Why the Gram route only ever certifies full row rank.  The computed Gram differs from
``K K^T`` by ``delta <= gamma_n ||K||_F^2`` (below), about ``n u s_max^2`` with the unit
round-off ``u = 2^-53``, while the rank cutoffs are ``c u s_max`` with ``c`` of order
``sqrt(M + N)``: ``cutoff^2 ~ c^2 u^2 s_max^2`` is ``1e-13`` times smaller than ``delta``.
An eigenvalue of the Gram therefore never shows that a singular value is *below* the cutoff
(that needs ``lambda + delta < cutoff^2``), only that it is above.  So the eigenvalues add
nothing over a Cholesky test of ``G~ - tau I``, which is 10x cheaper than an
eigendecomposition; when the test fails (rank deficient, or ill conditioned beyond
``kappa(K) ~ 1 / sqrt(n u)``) we fall back to the QR-SVD of ``K`` formed in chunks.  For
``M > N`` the plain column Gram ``K^T K`` would never pass: with positively homogeneous
activations every live hidden unit gives ``K`` an exact null vector (scale its incoming weights
by ``alpha``, its outgoing ones by ``1/alpha``), so ``K`` never has full column rank; the
``"gram-columns"`` route therefore tests ``K^T K + a V V^T`` with those vectors ``V``.

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
computed from the upper bound ``s_max^2 <= min(||K||_F^2, ||K||_1 ||K||_inf)`` (each a sum of
non-negative terms from the factors, inflated by its own rounding).  The column route uses the
same bounds with ``n_G`` replaced by the blocked-summation length ``b + chunks`` and
``||K||_F^2`` by ``||K||_F^2 + a p``.

Rank-cutoff criteria (:data:`CRITERIA`): the three float64 cutoffs compared by default
(:data:`DEFAULT_CRITERIA`), for ``K`` of shape ``(M, N)`` and ``eps`` = float64 machine
precision ``2^-52``,

``"press"``
    ``1/2 sqrt(M + N + 1) s_max eps`` (Press et al. 2007, section 2.6; = ``linalg``'s "press");
``"gvl_inf"``
    ``1/2 ||K||_inf eps`` with ``||K||_inf = max_i sum_j |K_ij|`` (after Golub & Van Loan 1996);
``"netlib"``
    ``s_max eps`` (after the Netlib LAPACK documentation);

and ``linalg``'s ``"lapack"`` / ``"golub_van_loan"`` (``max(M, N) s_max eps``) or an absolute
float.  "netlib" differs from ``linalg``'s "lapack" (no ``max(M, N)`` factor).

>>> import numpy as np
>>> from proofcheck.networks import Network, RELU
>>> rng = np.random.default_rng(0)
>>> net = Network((3, 16, 1), RELU)
>>> Ws, X = net.random_weights(rng), rng.normal(size=(5, 3))
>>> res = fast_j(net, Ws, X, rng.normal(size=(5, 1)))
>>> res.path, res.rank, res.value            # 5 samples, 64 parameters: full row rank
('gram-cholesky', 5, 0.0)
>>> X2, Y2 = rng.normal(size=(80, 3)), rng.normal(size=(80, 1))
>>> res = fast_j(net, Ws, X2, Y2)
>>> res.path, res.rank, res.details["gap"]    # 80 samples: rank 64 - 16 (rescaling)
('qr-pivot-rows', 48, 'checked')
>>> res2 = fast_j(net, Ws, X2, Y2, path="gram-columns")   # what a large tall K takes
>>> res2.path, res2.rank, abs(res2.value - res.value) <= res.error_bound + res2.error_bound
('gram-columns', 48, True)
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from collections.abc import Iterator, Sequence

import numpy as np

from . import linalg
from .lazy import lazy_import

_sla = lazy_import("scipy.linalg")   # loaded on first use (startup cost)

__all__ = ["CRITERIA", "DEFAULT_CRITERIA", "JResult", "KhatriRaoJacobian", "fast_j",
           "fast_j_all", "j_from_factors", "dense_j", "criterion_cutoff"]

_EPS = float(np.finfo(np.float64).eps)     # 2^-52, float64 machine precision
_U = _EPS / 2                               # unit round-off, for error bounds

#: The three float64 cutoffs compared by default (the first is the reference's).
DEFAULT_CRITERIA = ("press", "gvl_inf", "netlib")
#: Every named criterion :func:`criterion_cutoff` accepts (a float is an absolute cutoff).
CRITERIA = DEFAULT_CRITERIA + ("lapack", "golub_van_loan")

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
        value = float(criterion)
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"an absolute cutoff must be finite and >= 0, got {criterion!r}")
        return value
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
        self.weights = None
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
    def of_network(cls, net, Ws, X) -> KhatriRaoJacobian:
        """From :mod:`proofcheck.networks` (one forward and one backward pass)."""
        from . import networks as nw
        Ws = net.check_weights(Ws)
        f = nw.forward(net, Ws, X)
        K = cls(f.Phi, nw.backprop_coefficients(net, Ws, X, fwd=f))
        K.weights = [np.asarray(W, dtype=np.float64) for W in Ws]
        return K

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
    def _row_factors(self):
        """Every factor as ``(M, width)`` with rows ordered ``(c, i)`` (cached)."""
        if getattr(self, "_rf", None) is None:
            dy, M = self.d_y, self.shape[0]
            feats = [np.tile(P, (dy, 1)) if dy > 1 else P for P in self.phis]
            coefs = [C.transpose(1, 0, 2).reshape(M, C.shape[2]) for C in self.Cs]
            c_of = np.repeat(np.arange(dy), self.m) if dy > 1 else None
            self._rf = (feats, coefs, c_of)
        return self._rf

    def gram_strip(self, i0: int, i1: int) -> np.ndarray:
        """Rows ``i0:i1`` of ``K K^T`` from column ``i0`` on: ``G[i0:i1, i0:]``, shape
        ``(i1 - i0, M - i0)``, from Hadamard products (memory ``O((i1 - i0) M)``).

        >>> rng = np.random.default_rng(1)
        >>> K = KhatriRaoJacobian([rng.normal(size=(6, 2)), rng.normal(size=(6, 3))],
        ...                       [rng.normal(size=(6, 2, 3))])
        >>> A = K.dense()
        >>> np.allclose(K.gram_strip(4, 9), (A @ A.T)[4:9, 4:])
        True
        """
        feats, coefs, c_of = self._row_factors()
        S = feats[-1][i0:i1] @ feats[-1][i0:].T
        if c_of is not None:            # the output block I (x) Phi^(H) couples c = c' only
            S *= c_of[i0:i1, None] == c_of[None, i0:]
        for l in range(1, self.H + 1):
            A = coefs[l - 1][i0:i1] @ coefs[l - 1][i0:].T
            A *= feats[l - 1][i0:i1] @ feats[l - 1][i0:].T
            S += A
        return S

    def gram_rows(self, *, upper_only: bool = False, block_rows: int = 512) -> np.ndarray:
        """``K K^T`` (``(M, M)``) from Hadamard products.

        Accumulated in strips of ``block_rows`` rows of the upper triangle, so the memory is
        ``M^2`` floats for the result plus ``O(block_rows M)``.  ``upper_only``: leave the
        strict lower triangle zero (Cholesky reads only the upper one)."""
        M = self.shape[0]
        G = np.zeros((M, M), order="F")
        for i0 in range(0, M, block_rows):
            i1 = min(M, i0 + block_rows)
            strip = G[i0:i1, i0:]                  # a view: updated in place
            strip += self.gram_strip(i0, i1)
            # the strip's diagonal block is a full square: clear its strict lower part
            strip[:, :i1 - i0][np.tril_indices(i1 - i0, -1)] = 0.0
        if not upper_only:
            G += np.triu(G, 1).T
        return G

    # -- products with K and |K| without forming it ----------------------------------------
    def matvec(self, x, *, absolute: bool = False) -> np.ndarray:
        """``K x`` (or ``|K| x`` with ``absolute``) in ``O(m sum_l d_(l-1) d_l)`` operations.

        >>> rng = np.random.default_rng(2)
        >>> K = KhatriRaoJacobian([rng.normal(size=(5, 2)), rng.normal(size=(5, 3))],
        ...                       [rng.normal(size=(5, 2, 3))])
        >>> x, z = rng.normal(size=K.shape[1]), rng.normal(size=K.shape[0])
        >>> A = K.dense()
        >>> np.allclose(K.matvec(x), A @ x), np.allclose(K.rmatvec(z), A.T @ z)
        (True, True)
        >>> np.allclose(K.matvec(np.abs(x), absolute=True), np.abs(A) @ np.abs(x))
        True
        """
        f = np.abs if absolute else (lambda A: A)      # |.| one layer at a time
        x = np.asarray(x, dtype=np.float64)
        out = np.zeros((self.m, self.d_y))
        off = 0
        for l, C in enumerate(self.Cs, start=1):
            dp, dl = self.widths[l - 1], self.widths[l]
            W = x[off:off + dp * dl].reshape(dp, dl, order="F")
            off += dp * dl
            out += np.einsum("ick,ik->ic", f(C), f(self.phis[l - 1]) @ W)
        out += f(self.phis[-1]) @ x[off:].reshape(self.widths[self.H], self.d_y, order="F")
        return out.ravel(order="F")

    def rmatvec(self, z, *, absolute: bool = False) -> np.ndarray:
        """``K^T z`` (or ``|K|^T z`` with ``absolute``), without forming ``K``."""
        f = np.abs if absolute else (lambda A: A)
        Z = np.asarray(z, dtype=np.float64).reshape(self.m, self.d_y, order="F")
        parts = [(f(self.phis[l - 1]).T @ np.einsum("ic,ick->ik", Z, f(C))).ravel(order="F")
                 for l, C in enumerate(self.Cs, start=1)]
        parts.append((f(self.phis[-1]).T @ Z).ravel(order="F"))
        return np.concatenate(parts)

    def matvec_inner_size(self) -> int:
        """Terms per entry of :meth:`matvec` / :meth:`rmatvec` (for rounding bounds)."""
        return 2 * max(max(self.widths), self.m) + self.H + 3

    def s_max(self, *, tol: float = 1e-10) -> float:
        """The largest singular value of ``K`` by Lanczos on :meth:`matvec` / :meth:`rmatvec`
        (an estimate for reporting; certificates use rigorous upper bounds)."""
        from scipy.sparse.linalg import LinearOperator, svds
        M, N = self.shape
        if min(M, N) <= 64:
            return float(np.linalg.norm(self.dense(), 2))
        op = LinearOperator((M, N), dtype=np.float64, matvec=self.matvec,
                            rmatvec=self.rmatvec)
        v0 = np.random.default_rng(0).normal(size=min(M, N))
        s = svds(op, k=1, tol=tol, return_singular_vectors=False, v0=v0)
        return float(s[0])

    def norm_1(self) -> float:
        """``||K||_1``, the largest absolute column sum (``||K||_2^2 <= ||K||_1 ||K||_inf``)."""
        return float(self.rmatvec(np.ones(self.shape[0]), absolute=True).max(initial=0.0))

    def zero_columns(self) -> np.ndarray:
        """Boolean mask of the columns of ``K`` that are exactly zero (for instance a unit dead
        on every sample): ``|K|^T 1`` is a sum of non-negative floats, zero exactly when every
        entry of the column (the same rounded products ``C Phi`` the dense ``K`` holds) is."""
        return self.rmatvec(np.ones(self.shape[0]), absolute=True) == 0

    def rescaling_null_vectors(self) -> np.ndarray:
        """``(N, p)``: one vector per hidden unit from the positive homogeneity of the units
        (scale a unit's incoming weights by ``a`` and its outgoing ones by ``1/a``: the outputs
        do not change), so ``K v = 0`` in exact arithmetic.  Needs the weights
        (:meth:`of_network`); empty without them.

        >>> from proofcheck.networks import Network, RELU
        >>> rng = np.random.default_rng(3)
        >>> net = Network((2, 4, 3, 1), RELU)
        >>> Ws = net.random_weights(rng)
        >>> K = KhatriRaoJacobian.of_network(net, Ws, rng.normal(size=(9, 2)))
        >>> V = K.rescaling_null_vectors()
        >>> V.shape, bool(np.abs(K.dense() @ V).max() < 1e-14)
        ((23, 7), True)
        """
        Ws = getattr(self, "weights", None)
        N = self.shape[1]
        if Ws is None:
            return np.zeros((N, 0))
        offs = np.cumsum([0] + [self.widths[l - 1] * self.widths[l]
                                for l in range(1, self.H + 2)])
        cols = []
        for l in range(1, self.H + 1):
            dp, dl, dn = self.widths[l - 1], self.widths[l], self.widths[l + 1]
            for k in range(dl):
                v = np.zeros(N)
                v[offs[l - 1] + k * dp + np.arange(dp)] = Ws[l - 1][:, k]
                v[offs[l] + np.arange(dn) * dl + k] = -Ws[l][k, :]
                cols.append(v)
        return np.stack(cols, axis=1) if cols else np.zeros((N, 0))

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


def _tsqr(blocks: Iterator[np.ndarray], n: int) -> np.ndarray:
    """R factor (``(n, n)``, upper triangular, Fortran order) of the rows stacked from
    ``blocks`` (each ``(rows, n)``): a QR of the first block, then LAPACK's ``tpqrt`` folds
    each further block into R in place, so the memory is R plus one block."""
    lapack = _sla.lapack
    R = None
    for B in blocks:
        if R is None:
            qr, _, _, info = lapack.dgeqrf(np.asfortranarray(B, dtype=np.float64), overwrite_a=1,
                                            lwork=64 * max(1, B.shape[1]))
            R = np.zeros((n, n), order="F")
            k = min(n, qr.shape[0])
            R[:k] = np.triu(qr[:k])
            del qr
            continue
        R, _, _, info = lapack.dtpqrt(0, min(n, 64), R, np.asfortranarray(B, dtype=np.float64),
                                      overwrite_a=1, overwrite_b=1)
        if info != 0:
            raise np.linalg.LinAlgError(f"tpqrt failed (info = {info})")
    if R is None:
        R = np.zeros((n, n), order="F")
    return R


def _chunk(n_cols: int, max_bytes: int, minimum: int) -> int:
    return max(minimum, int(max_bytes // (8 * max(n_cols, 1))))


def _qr_svd_rows(K: KhatriRaoJacobian, y, criteria, max_bytes):
    """TSQR of ``[K | y]`` (exactly zero columns dropped) over chunks of samples; SVD of the
    ``N' x N'`` factor.  The zero columns add ``N - N'`` zero singular values."""
    M, N = K.shape
    nz = ~K.zero_columns()
    Np = int(nz.sum())
    b = max(1, _chunk(K.d_y * (Np + 1), max_bytes, 1))
    b = max(b, (Np + 1) // K.d_y + 1)      # blocks at least as tall as R: QR stays efficient
    yy = y.reshape(K.d_y, K.m)

    def blocks():
        for i0 in range(0, K.m, b):
            i1 = min(K.m, i0 + b)
            B = np.empty((K.d_y * (i1 - i0), Np + 1), order="F")
            B[:, :Np] = K.rows(i0, i1)[:, nz]
            B[:, Np] = yy[:, i0:i1].ravel()
            yield B

    R = _tsqr(blocks(), Np + 1)
    R11, r, rho = R[:Np, :Np], R[:Np, Np].copy(), float(R[Np, Np])
    U, s, _ = _sla.svd(R11, full_matrices=False, lapack_driver="gesdd", check_finite=False)
    del R, R11
    s = np.concatenate([s, np.zeros(N - Np)])
    return s, lambda keep: _residual_sq(U[:, keep[:Np]], r) + rho * rho


def _tsqr_with_rhs(blocks: Iterator[tuple[np.ndarray, np.ndarray]], n: int):
    """R (``(n, n)``, Fortran order) of the stacked rows and ``Q^T y``: ``(R, r, rho^2)`` with
    ``r`` the first ``n`` entries of ``Q^T y`` and ``rho^2`` the squared norm of the rest.
    Memory: R plus one block (LAPACK ``geqrf`` / ``ormqr`` for the first block, ``tpqrt`` /
    ``tpmqrt`` for each further one)."""
    lapack = _sla.lapack
    R, r, rho2 = None, np.zeros((n, 1), order="F"), 0.0
    nb = min(n, 64)
    for B, yb in blocks:
        B = np.asfortranarray(B, dtype=np.float64)
        yb = np.array(yb, dtype=np.float64).reshape(-1, 1)      # a copy: overwritten below
        if R is None:
            qr, tau, _, _ = lapack.dgeqrf(B, overwrite_a=1, lwork=64 * max(1, B.shape[1]))
            k = min(n, qr.shape[0])
            c, _, info = lapack.dormqr("L", "T", qr[:, :k], tau, yb, 64)
            R = np.zeros((n, n), order="F")
            R[:k] = np.triu(qr[:k])
            r[:k, 0] = c[:k, 0]
            rho2 += float(c[k:, 0] @ c[k:, 0])
            del qr
            continue
        R, V, T, info = lapack.dtpqrt(0, nb, R, B, overwrite_a=1, overwrite_b=1)
        r, yb, info2 = lapack.dtpmqrt(0, V, T, r, yb, side="L", trans="T", overwrite_a=1,
                                      overwrite_b=1)
        if info or info2:
            raise np.linalg.LinAlgError(f"tpqrt/tpmqrt failed (info = {info}, {info2})")
        rho2 += float(yb[:, 0] @ yb[:, 0])
    if R is None:
        R = np.zeros((n, n), order="F")
    return R, r[:, 0], rho2


def _qr_lean_rows(K: KhatriRaoJacobian, y, criteria, max_bytes):
    """The QR route in ``N'^2`` floats (plus one chunk): TSQR of ``K`` (zero columns dropped)
    carrying ``Q^T y``; singular values of R by an SVD *in place* (no vectors); for ``J`` a
    second TSQR pass and a column-pivoted QR of R in place, ``J = 1/2 (rho^2 +
    ||(Q'^T r)_(rank:)||^2)``.  The pivoted QR's leading ``rank`` columns span the kept
    singular subspace up to ``||R'_22|| / s_rank``, which goes into the error bound."""
    M, N = K.shape
    nz = ~K.zero_columns()
    Np = int(nz.sum())
    blocks = _row_blocks(K, nz, y, max_bytes)

    R, _, _ = _tsqr_with_rhs(blocks(), Np)
    s = _sla.svd(R, compute_uv=False, overwrite_a=True, check_finite=False)
    del R
    s = np.concatenate([s, np.zeros(N - Np)])
    extra = {}

    memo: dict = {}

    def jsq(keep):
        rank = int(keep[:Np].sum())
        if rank not in memo:                 # one pass per distinct rank, not per criterion
            R, r, rho2 = _tsqr_with_rhs(blocks(), Np)
            if rank == Np:
                memo[rank] = (rho2, 0.0)
            else:
                qr, _, tau, _, _ = _sla.lapack.dgeqp3(R, overwrite_a=1,
                                                            lwork=66 * (Np + 1))
                del R
                c, _, _ = _sla.lapack.dormqr("L", "T", qr, tau, r.reshape(-1, 1), 64)
                r22 = float(np.linalg.norm(np.triu(qr[rank:, rank:])))
                memo[rank] = (rho2 + float(c[rank:, 0] @ c[rank:, 0]), r22)
        extra["r22"] = memo[rank][1]
        return memo[rank][0]

    return s, jsq, extra


def _row_blocks(K: KhatriRaoJacobian, nz, y, max_bytes):
    """A generator function of chunks ``(rows of K on the columns nz, their entries of
    vec Y)`` of about ``max_bytes`` each (every call streams ``K`` again)."""
    Np = int(nz.sum())
    full = Np == K.shape[1]
    b = max(1, _chunk(K.d_y * Np, max_bytes, 8))   # tpqrt is efficient for any block height
    yy = y.reshape(K.d_y, K.m)

    def blocks():
        for i0 in range(0, K.m, b):
            i1 = min(K.m, i0 + b)
            rows = K.rows(i0, i1)
            # one copy into column-major order (rows.T[nz] is C-ordered, its .T Fortran)
            B = np.asfortranarray(rows) if full else rows.T[nz].T
            del rows
            yield B, yy[:, i0:i1].ravel()

    return blocks


def _triangular_s_max(T: np.ndarray) -> float:
    """``||triu(T)||_2`` of the square Fortran-ordered ``T`` by Lanczos on triangular products
    (BLAS ``trmv`` reads only the upper triangle: the strict lower part may hold anything, and
    nothing is copied)."""
    n = T.shape[0]
    if n == 0:
        return 0.0
    if n <= 64:
        return float(np.linalg.norm(np.triu(T), 2))
    from scipy.sparse.linalg import LinearOperator, eigsh
    trmv = _sla.blas.dtrmv
    # Lanczos on T^T T (svds on T holds an n x n workspace; this holds a few vectors)
    op = LinearOperator((n, n), dtype=np.float64,
                        matvec=lambda x: trmv(T, trmv(T, np.ravel(x).astype(np.float64)),
                                              trans=1))
    v0 = np.random.default_rng(0).normal(size=n)
    lam = eigsh(op, k=1, which="LA", tol=1e-12, v0=v0, return_eigenvectors=False)
    return math.sqrt(max(float(lam[0]), 0.0))


def _zero_strict_lower(A: np.ndarray, block: int = 512) -> None:
    """Set the strict lower triangle of the square ``A`` to zero, a column block at a time."""
    n = A.shape[0]
    for j0 in range(0, n, block):
        j1 = min(n, j0 + block)
        for j in range(j0, j1):                 # the diagonal block, a column at a time
            A[j + 1:j1, j] = 0.0
        A[j1:, j0:j1] = 0.0


@dataclass
class _Pivoted:
    """What :func:`_qr_pivot_rows` leaves: the per-criterion decisions whose gap was checked
    (``certified[c] = (rank, kept_lo, dropped_hi, cutoff)``), the factor ``R'`` (upper
    triangle; consumed by :meth:`singular_values`) and the tails for ``J`` at any rank."""

    certified: dict
    R: np.ndarray | None
    n_nonzero: int
    n_cols: int
    s_max: float
    rho2: float
    tail_c: np.ndarray
    tail_r: np.ndarray
    extra: dict = field(default_factory=dict)

    def singular_values(self) -> np.ndarray:
        """Singular values of ``K`` (``R'``'s in place, then the zero columns' zeros)."""
        R, self.R = self.R, None
        if R is None:
            raise RuntimeError("the pivoted factor was already consumed")
        _zero_strict_lower(R)
        s = _sla.svd(R, compute_uv=False, overwrite_a=True, check_finite=False) \
            if R.size else np.zeros(0)
        return np.concatenate([s, np.zeros(self.n_cols - self.n_nonzero)])

    def jsq(self, keep) -> float:
        """``||(I - P) vec Y||^2`` for the leading ``sum(keep)`` pivot columns (their
        subspace vs the singular one: ``||R'_22||_F``, recorded in ``extra["r22"]``)."""
        k = int(np.count_nonzero(keep[:self.n_nonzero]))
        self.extra["r22"] = math.sqrt(self.tail_r[k])
        return self.rho2 + float(self.tail_c[k])


def _qr_pivot_rows(K: KhatriRaoJacobian, y, criteria, max_bytes) -> _Pivoted:
    """One streaming pass and a column-pivoted QR with a checked gap (module docstring,
    ``"qr-pivot-rows"``).

    TSQR of ``K`` (exactly zero columns dropped) carrying ``Q^T y``; a column-pivoted QR of
    the ``N' x N'`` factor in place, ``R P = Q' R'``; ``c = Q'^T Q^T y``.  For a rank ``k``:
    ``sigma_k(K) >= sigma_min(R'_11) >= 1 / ||R'_11^-1||_F`` (the leading ``k`` columns of
    ``R'`` interlace) and ``sigma_(k+1)(K) <= ||R'_22||_F`` (``R'`` minus its last
    ``N' - k`` rows has rank ``k``); ``J = 1/2 (rho^2 + ||c_(k:)||^2)``.  A criterion's rank
    is decided here only if both bounds clear its cutoff by the rounding band of
    :func:`_near_cutoff`; the others go to the singular values of ``R'``."""
    M, N = K.shape
    nz = ~K.zero_columns()
    Np = int(nz.sum())
    if Np:
        R, r, rho2 = _tsqr_with_rhs(_row_blocks(K, nz, y, max_bytes)(), Np)
    else:                                       # K = 0: nothing to factor
        R, r, rho2 = np.zeros((0, 0), order="F"), np.zeros(0), float(y @ y)
    if Np:
        R, _, tau, _, info = _sla.lapack.dgeqp3(R, overwrite_a=1, lwork=66 * (Np + 1))
        if info:
            raise np.linalg.LinAlgError(f"geqp3 failed (info = {info})")
        c = _sla.lapack.dormqr("L", "T", R, tau, r.reshape(-1, 1), 64)[0][:, 0]
    else:
        c = r
    # tails for every rank k: ||c_(k:)||^2 and ||triu(R')_(k:, k:)||_F^2 (row i of the upper
    # triangle is R'_(i, i:)), summed from the end
    tail_c = np.concatenate([np.cumsum((c * c)[::-1])[::-1], [0.0]])
    rowsq = np.empty(Np)
    for i0 in range(0, Np, 512):
        i1 = min(Np, i0 + 512)
        A = np.triu(R[i0:i1, i0:])
        rowsq[i0:i1] = np.einsum("ij,ij->i", A, A)
    tail_r = np.concatenate([np.cumsum(rowsq[::-1])[::-1], [0.0]])
    diag = np.abs(np.diagonal(R)).copy()
    s_max = _triangular_s_max(R)
    inf_norm = K.inf_norm() if "gvl_inf" in criteria else None
    band = math.sqrt(min(M, N)) * _U * s_max
    kept_lo: dict[int, float] = {}

    def smallest_kept(k: int) -> float:
        # sigma_min(R'_11) >= 1 / ||X||_F for the computed inverse X; triangular inversion
        # is accurate to a relative c k u ||X||_F ||R'_11||_F (Higham, 2nd ed., ch. 8 and
        # 14): required below 1/2 (else no certificate) and taken off the bound
        if k not in kept_lo:
            if k == 0:
                kept_lo[k] = math.inf
            elif 8 * k * k > _LEAN_BYTES // 2:
                kept_lo[k] = 0.0                # no room for a copy of R'_11: no certificate
            else:
                T = np.array(R[:k, :k], order="F")      # Fortran: trtri works in place
                _zero_strict_lower(T)
                fro_t = float(np.linalg.norm(T))
                X, info = _sla.lapack.dtrtri(T, lower=0, overwrite_c=1)
                fro_x = float(np.linalg.norm(X)) if info == 0 else math.inf
                rel = 2 * _gamma(k + 2) * fro_x * fro_t
                kept_lo[k] = (1 - rel) / fro_x if rel <= 0.5 else 0.0
        return kept_lo[k]

    certified = {}
    for crit in criteria:
        cut = criterion_cutoff(crit, s_max, (M, N), inf_norm)
        # s_max is a Lanczos estimate: the cutoff is checked on both sides of it
        cut_hi = criterion_cutoff(crit, s_max * (1 + 1e-6), (M, N), inf_norm)
        cut_lo = criterion_cutoff(crit, s_max * (1 - 1e-6), (M, N), inf_norm)
        k = int(np.count_nonzero(diag > cut))
        dropped_hi = math.sqrt(tail_r[k])
        if k < N and dropped_hi + band >= cut_lo:     # (k = N: nothing is dropped)
            continue
        lo = smallest_kept(k)
        if lo - band > cut_hi and lo > dropped_hi:
            certified[crit] = (k, lo, dropped_hi, cut)
    return _Pivoted(certified, R, Np, N, s_max, rho2, tail_c, tail_r)


def _qr_svd_columns(K: KhatriRaoJacobian, y, criteria, max_bytes):
    """TSQR of ``K^T`` over blocks of units (``K^T = Q R``, so ``range(K) = range(R^T)``);
    singular values of the ``M x M`` factor by an SVD in place.  At full rank ``J = 0``;
    below it, a second pass, ``R`` transposed in place and a column-pivoted QR of ``R^T`` in
    place give ``J = 1/2 ||(Q'^T y)_(rank:)||^2``.  Memory: one ``M x M`` factor plus a block
    (no singular vectors, no copies)."""
    M, N = K.shape
    cols = max(_chunk(M, max_bytes, 1), 64)

    def factor():
        return _tsqr((B.T for B in _merge_blocks(K.column_blocks(cols), cols)), M)

    s = _sla.svd(factor(), compute_uv=False, overwrite_a=True, check_finite=False)
    extra: dict = {}
    memo: dict = {}

    def jsq(keep):
        rank = int(keep.sum())
        if rank not in memo:
            if rank == M:
                memo[rank] = (0.0, 0.0)
            else:
                R = factor()
                _transpose_in_place(R)
                qr, _, tau, _, _ = _sla.lapack.dgeqp3(R, overwrite_a=1,
                                                              lwork=66 * (M + 1))
                del R
                c, _, _ = _sla.lapack.dormqr("L", "T", qr, tau, y.reshape(-1, 1), 64)
                r22 = float(np.linalg.norm(np.triu(qr[rank:, rank:])))
                memo[rank] = (float(c[rank:, 0] @ c[rank:, 0]), r22)
        extra["r22"] = memo[rank][1]
        return memo[rank][0]

    return s, jsq, extra


def _transpose_in_place(A: np.ndarray, block: int = 512) -> None:
    """Transpose the square array ``A`` in place, a block pair at a time (memory ``block^2``).

    >>> A = np.arange(49.0).reshape(7, 7, order="F"); B = A.T.copy()
    >>> _transpose_in_place(A, block=3); bool(np.array_equal(A, B))
    True
    """
    n = A.shape[0]
    for i0 in range(0, n, block):
        i1 = min(n, i0 + block)
        A[i0:i1, i0:i1] = A[i0:i1, i0:i1].T.copy()
        for j0 in range(i1, n, block):
            j1 = min(n, j0 + block)
            tmp = A[i0:i1, j0:j1].copy()
            A[i0:i1, j0:j1] = A[j0:j1, i0:i1].T
            A[j0:j1, i0:i1] = tmp.T


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


def _norm_bounds(K: KhatriRaoJacobian):
    """Rigorous upper bounds ``(frob2, s_hi, inf_norm_hi)`` on ``||K||_F^2``, ``||K||_2`` and
    ``||K||_inf`` (sums of non-negative rounded terms; ``||K||_2^2 <= ||K||_1 ||K||_inf``)."""
    M, N = K.shape
    frob2 = K.frobenius_sq() * (1 + _gamma(M + N + K.H + 2))
    g = 1 + _gamma(K.matvec_inner_size() + 2)
    inf_hi = K.inf_norm() * g
    s_hi2 = min(frob2, K.norm_1() * g * inf_hi * (1 + _U))
    return frob2, math.sqrt(s_hi2) * (1 + _U), inf_hi


def _cut_requirement(K: KhatriRaoJacobian, criteria, s_hi, inf_hi):
    """``(need, delta_ref)``: a singular value ``s`` of ``K`` with ``s^2 >= need`` is kept by the
    reference under every criterion, whatever its rounding (``delta_ref``, module docstring)."""
    M, N = K.shape
    delta_ref = (max(M, N) + math.sqrt(min(M, N))) * _U * s_hi
    cut_hi = max(criterion_cutoff(c, s_hi + delta_ref, (M, N), inf_hi) for c in criteria)
    return ((cut_hi + delta_ref) * (1 + 4 * _U)) ** 2, delta_ref


def _panel_cholesky(panel, M: int, tau: float, block: int):
    """Left-looking blocked Cholesky ``A - tau I = L L^T`` of the symmetric ``(M, M)`` matrix
    whose column panels ``A[j0:, j0:j1]`` come from ``panel(j0, j1)`` (lower part only).

    Only the lower trapezoids of ``L`` are held (``M^2 / 2`` floats plus one panel), never
    ``A`` whole.  Returns ``(||L||_F^2, max_i |A_ii|)`` or ``None`` if ``A - tau I`` is not
    numerically positive definite.  Every entry of ``L`` is ``(a_ij - sum_k l_ik l_jk) / l_jj``
    with the sum taken in some order, so Higham's Theorem 10.3 applies as to LAPACK's blocked
    ``potrf``."""
    panels: list[tuple[int, np.ndarray]] = []
    frob, max_diag = 0.0, 0.0
    for j0 in range(0, M, block):
        j1 = min(M, j0 + block)
        bj = j1 - j0
        A = panel(j0, j1)                                  # (M - j0, bj)
        d = np.diagonal(A[:bj]).copy()
        max_diag = max(max_diag, float(np.abs(d).max(initial=0.0)))
        A[np.arange(bj), np.arange(bj)] = d - tau
        for k0, P in panels:
            Pk = P[j0 - k0:]
            A -= Pk @ Pk[:bj].T
        try:
            Ljj = _sla.cholesky(A[:bj], lower=True, check_finite=False)
        except np.linalg.LinAlgError:
            return None
        A[:bj] = Ljj
        if bj < A.shape[0]:
            A[bj:] = _sla.solve_triangular(Ljj, A[bj:].T, lower=True,
                                                   check_finite=False).T
        flat = A.ravel(order="K")
        frob += float(flat @ flat)
        panels.append((j0, A))
    return frob, max_diag


def _gram_certificate(K: KhatriRaoJacobian, criteria, block: int = 128):
    """Try to certify ``s_min(K) > cutoff`` for every criterion from a Cholesky test of the
    row Gram, formed and factored a panel at a time (memory ``M^2 / 2`` floats).

    Returns ``(s_lo, info)`` with ``s_lo`` a lower bound on the smallest singular value the
    *reference* computes (its own backward error included), or ``(None, info)``."""
    M, N = K.shape
    frob2, s_hi, inf_hi = _norm_bounds(K)
    delta_form = _gamma(K.gram_inner_size()) * frob2
    need, delta_ref = _cut_requirement(K, criteria, s_hi, inf_hi)
    tau = need + delta_form + 2 * _gamma(M + 1) * frob2
    out = _panel_cholesky(lambda j0, j1: K.gram_strip(j0, j1).T, M, tau, block)
    info = dict(delta_form=delta_form, tau=tau, s_hi=s_hi, memory="M^2/2 floats (panels)")
    if out is None:
        return None, info
    frobR, max_diag = out
    # Higham Thm 10.3: R^T R = A + dA, |dA| <= gamma_{M+1} |R^T||R|, so
    # ||dA||_2 <= gamma_{M+1} ||R||_F^2; plus the rounding of the diagonal shift
    dA = _gamma(M + 1) * frobR * (1 + _gamma(M * M)) + _U * (max_diag + tau)
    lam_lo = tau - dA - delta_form
    info.update(dA=dA)
    if lam_lo < need:
        return None, info
    info.update(inf_norm=K.inf_norm(), s_max=K.s_max())
    return math.sqrt(lam_lo) - delta_ref, info


def _column_certificate(K: KhatriRaoJacobian, y, criteria, max_bytes: int):
    """Tall ``K`` (``M > N``): certify its rank as ``N' - p`` and compute ``J`` from the Gram of
    its columns, never forming ``K`` whole (module docstring, ``"gram-columns"``).

    Returns a dict (rank, value, bounds) or ``(None, reason)``."""
    M, N = K.shape
    nz = ~K.zero_columns()
    Np = int(nz.sum())
    V = K.rescaling_null_vectors()[nz]
    V = V[:, np.any(V != 0, axis=0)]
    V = V / np.linalg.norm(V, axis=0)
    p = V.shape[1]
    if Np - p <= 0:
        return None, "no column survives the known null space"
    frob2, s_hi, inf_hi = _norm_bounds(K)
    need, delta_ref = _cut_requirement(K, criteria, s_hi, inf_hi)
    # the Gram of the non-zero columns, summed over chunks of about sqrt(M) rows (blocked
    # summation: every entry is within gamma_{b + chunks} of the exact sum)
    b = max(1, min(math.isqrt(K.m) + 1, max_bytes // (8 * K.d_y * max(Np, 1))))
    G = np.zeros((Np, Np), order="F")
    KV2 = np.zeros((p, p))
    n_chunks = 0
    syrk = _sla.blas.dsyrk
    for i0 in range(0, K.m, b):
        R = np.ascontiguousarray(K.rows(i0, min(K.m, i0 + b))[:, nz])
        G = syrk(1.0, R.T, beta=1.0, c=G, trans=0, lower=0, overwrite_c=1)
        if p:
            KV = R @ V
            KV2 += KV.T @ KV
        n_chunks += 1
        del R
    alpha = frob2 / Np
    for j in range(p):
        sup = np.flatnonzero(V[:, j])
        G[np.ix_(sup, sup)] += alpha * np.outer(V[sup, j], V[sup, j])
    n_sum = K.d_y * b + n_chunks + 8
    aug2 = alpha * p * (1 + _gamma(Np + 4))
    delta_form = _gamma(n_sum) * (frob2 + aug2)
    tau = need + delta_form + 2 * _gamma(Np + 1) * (frob2 + aug2)
    max_diag = float(np.abs(np.diag(G)).max(initial=0.0))
    G[np.diag_indices_from(G)] -= tau
    try:
        G = _sla.cholesky(G, lower=False, overwrite_a=True, check_finite=False)
    except np.linalg.LinAlgError:
        return None, ("Gram of the columns not certified: Cholesky of K^T K + a V V^T - tau I "
                      "failed (a null space beyond the rescalings, or kappa beyond 1/sqrt(n u))")
    flat = G.ravel(order="K")
    dA = _gamma(Np + 1) * float(flat @ flat) * (1 + _gamma(Np * Np)) + _U * (max_diag + tau)
    lam_lo = tau - dA - delta_form
    if lam_lo < need:
        return None, "Gram of the columns: Cholesky succeeded but the margin is too small"
    s_lo = math.sqrt(lam_lo) - delta_ref
    # the p known null directions: sigma_(N'-p+1)(K) <= ||K V||_2 / s_min(V) (computed)
    if p:
        lamV = np.linalg.eigvalsh(V.T @ V)[0]
        s_drop = math.sqrt(max(float(np.linalg.eigvalsh(KV2)[-1]), 0.0) / lamV) \
            if lamV > 0 else math.inf
    else:
        s_drop = 0.0
    s_max = K.s_max()
    inf_norm = K.inf_norm()
    cuts = {c: criterion_cutoff(c, s_max, (M, N), inf_norm) for c in criteria}
    # the reference computes these p singular values as rounding noise; they are dropped by
    # it only if the cutoff is above that noise: expected size sqrt(min(M, N)) u s_max (the
    # random-walk model, as _near_cutoff; the worst case (max(M, N) + ...) u s_max exceeds
    # every cutoff)
    noise = math.sqrt(min(M, N)) * _U * s_max
    if p and s_drop + noise >= min(cuts.values()):
        return None, (f"the cutoff {min(cuts.values()):.3g} is within the rounding noise of the "
                      f"known null directions (||K V|| = {s_drop:.3g}, expected noise of an SVD "
                      f"{noise:.3g}): left to a rank-revealing factorisation")
    # J = 1/2 min_x ||K x - y||^2 over x orthogonal to V: the Cholesky factor of the shifted,
    # augmented Gram preconditions a refinement on the normal equations
    yn = y
    x = np.zeros(N)
    r = yn.copy()
    for _ in range(4):
        g = K.rmatvec(r)[nz]
        dx = _sla.cho_solve((G, False), g, check_finite=False)
        x[nz] += dx
        r = yn - K.matvec(x)
    g = K.rmatvec(r)[nz]
    nmv = K.matvec_inner_size()
    e_r = _gamma(nmv + 1) * (np.abs(yn) + K.matvec(np.abs(x), absolute=True))
    g_hi = float(np.linalg.norm(g)) + _gamma(nmv) * float(
        np.linalg.norm(K.rmatvec(np.abs(r), absolute=True)))
    rr = float(r @ r)
    ne = float(np.linalg.norm(e_r))
    y2 = float(yn @ yn)
    err = (0.5 * (g_hi / s_lo) ** 2 + math.sqrt(rr) * ne + 0.5 * ne * ne + _gamma(M) * rr
           + (y2 * s_drop / (s_lo - s_drop) if s_drop else 0.0))
    return dict(rank=Np - p, value=0.5 * rr, s_lo=s_lo, s_drop=s_drop, s_max=s_max,
                cuts=cuts, error_bound=err, inf_norm=inf_norm,
                info=dict(delta_form=delta_form, tau=tau, dA=dA, n_null=p,
                          n_zero_columns=int(N - Np), chunk_rows=b,
                          gradient_norm=float(np.linalg.norm(g)))), None


def j_from_factors(phis, Cs, Y, criteria=DEFAULT_CRITERIA, *, path="auto",
                   max_bytes: int = _DEFAULT_MAX_BYTES) -> dict:
    """``J`` for each rank-cutoff criterion, from ``Phi^(l)`` and ``C^(l)`` (one factorisation
    shared by all criteria).  Returns ``{criterion: JResult}``.

    ``path``: ``"auto"`` (the row Gram certificate when ``M <= N``, falling back to a
    streaming QR-SVD; one streaming pass and a pivoted QR with a checked gap when
    ``M > N``), ``"gram-cholesky"`` / ``"gram-columns"`` to try one certificate first
    whatever the shape, or ``"qr-pivot-rows"`` / ``"qr-svd-rows"`` / ``"qr-lean-rows"`` /
    ``"qr-svd-columns"`` to force a streaming route.
    ``max_bytes`` bounds the streamed chunks (the Gram and R factors come on top).
    """
    K = KhatriRaoJacobian(phis, Cs)
    return _solve(K, _vec_y(Y, K.m, K.d_y), _check_criteria(criteria), path, max_bytes)


_PATHS = ("auto", "gram-cholesky", "gram-columns", "qr-pivot-rows", "qr-svd-rows",
          "qr-lean-rows", "qr-svd-columns")
#: Memory scale of the tall routes: the pivoted route copies ``R'_11`` for its gap check only
#: below half of it (a larger ``K`` goes straight to the singular values in place).
_LEAN_BYTES = 2**30


def _solve(K, y, criteria, path, max_bytes):
    if path not in _PATHS:
        raise ValueError(f"unknown path {path!r}; use one of {_PATHS}")
    if not (isinstance(max_bytes, numbers.Integral) and int(max_bytes) > 0):
        raise ValueError(f"max_bytes must be a positive integer, got {max_bytes!r}")
    max_bytes = int(max_bytes)
    M, N = K.shape
    y2 = float(y @ y)
    fallback = None
    if path == "gram-cholesky" or (path == "auto" and M <= N):
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
    elif path == "gram-columns":
        # opt-in: deep ReLU networks at their initial weights have null directions beyond the
        # rescalings (measured: rank 2143 < N' - p = 2240 for width 20, H = 7, m = 4000), so
        # "auto" does not spend a Gram on a certificate that would fail
        res, why = _column_certificate(K, y, criteria, max_bytes)
        if res is not None:
            out = {}
            for c in criteria:
                cut = res["cuts"][c]
                up = math.log10(res["s_lo"] / cut) if cut > 0 else math.inf
                down = math.log10(cut / res["s_drop"]) if res["s_drop"] > 0 else math.inf
                out[c] = JResult(res["value"], res["rank"], "gram-columns", c, cut,
                                 min(up, down), res["s_max"], res["s_lo"], res["s_drop"],
                                 res["error_bound"], (M, N), None, res["info"])
            return out
        fallback = why
    extra = {}
    out = {}
    if path == "qr-pivot-rows" or (path in ("auto", "gram-columns") and M > N):
        route = "qr-pivot-rows"
        piv = _qr_pivot_rows(K, y, criteria, max_bytes)
        for c, (k, lo, hi, cut) in piv.certified.items():
            up = math.log10(lo / cut) if cut > 0 else math.inf
            down = math.log10(cut / hi) if hi > 0 else math.inf
            err = _wedin_bound(y2, (M, N), piv.s_max, lo) + (y2 * hi / (lo - hi) if hi else 0.0)
            out[c] = JResult(0.5 * (piv.rho2 + float(piv.tail_c[k])), k, route, c, cut,
                             min(up, down), piv.s_max, lo, hi, err, (M, N), fallback,
                             {"n_nonzero_columns": piv.n_nonzero, "gap": "checked"})
        if len(out) == len(criteria):
            return out
        s, jsq, extra = piv.singular_values(), piv.jsq, piv.extra
        extra["gap"] = "singular values of R'"
    elif path == "qr-lean-rows":
        route, (s, jsq, extra) = "qr-lean-rows", _qr_lean_rows(K, y, criteria, max_bytes)
    elif path == "qr-svd-rows":
        route, (s, jsq) = "qr-svd-rows", _qr_svd_rows(K, y, criteria, max_bytes)
    else:
        route, (s, jsq, extra) = "qr-svd-columns", _qr_svd_columns(K, y, criteria, max_bytes)
    inf_norm = K.inf_norm() if "gvl_inf" in criteria else None
    dense = None
    for c in criteria:
        if c in out:
            continue
        keep, info = _decide(s, c, (M, N), inf_norm, y2)
        if _near_cutoff(s, info["cutoff"], (M, N)):
            # a singular value inside the rounding band around the cutoff: only the
            # reference's own computation reproduces its decision
            if 8 * M * N <= max_bytes:
                if dense is None:
                    dense = K.dense()
                ref = dense_j(dense, y, c)
                out[c] = JResult(ref.value, ref.rank, "dense-svd", c, ref.cutoff,
                                 ref.margin_to_cutoff, ref.s_max, ref.s_kept_min,
                                 ref.s_dropped_max, ref.error_bound, (M, N),
                                 f"{route}: a singular value within the rounding band of the "
                                 "cutoff; decided by the dense SVD (the reference's computation)",
                                 {"n_singular_values": int(M if M < N else N)})
                continue
            fallback = ((fallback + "; ") if fallback else "") + (
                "a singular value lies within the rounding band of the cutoff: this rank "
                "decision depends on rounding and may differ from a dense SVD's")
        value = 0.5 * jsq(keep)
        err = info["error_bound"]
        if extra.get("r22"):         # pivoted QR's subspace vs the singular one (Wedin)
            e = extra["r22"]
            err += y2 * e / (info["s_kept_min"] - e) if info["s_kept_min"] > e else math.inf
        out[c] = JResult(value, int(keep.sum()), route, c, info["cutoff"],
                         info["margin_to_cutoff"], info["s_max"], info["s_kept_min"],
                         info["s_dropped_max"], err, (M, N), fallback,
                         {"n_singular_values": int(s.size), **extra})
    return out


def _near_cutoff(s, cut: float, shape) -> bool:
    """Whether a computed singular value lies within ``sqrt(min(M, N)) u s_max`` (the expected
    rounding of an SVD, random-walk model over its ``min(M, N)`` reflections; observed noise of
    exactly-null directions is 0.5-5 ``u s_max``) of the cutoff, where two backward-stable SVDs
    may decide differently."""
    band = math.sqrt(min(shape)) * _U * float(np.max(s, initial=0.0))
    return bool(np.any(np.abs(s - cut) <= band))


def fast_j_all(net, Ws, X, Y, criteria=DEFAULT_CRITERIA, *, path="auto",
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
