r"""Second-order machinery for F_θ(w, V): λ_min with a certified enclosure, ε-SOPSP certificates
(second-order partial stationary points) and a finder of ε-SOPSP points.

A point is an ε-SOPSP of F on M if ||∇F_θ|| <= ε and
λ_min(∇²F_θ) >= -sqrt(μ2 ε), μ2 the Lipschitz constant of ∇²F_θ on M. Every point is an
ε-SOPSP for ε >= :func:`sopsp_level` = max(||∇F_θ||, λ_-^2 / μ2), λ_- = max(0, -λ_min).

Certificates. :func:`is_positive_definite` decides H ≻ 0 *exactly* for a matrix of doubles or
mpf numbers (every such number is a binary rational): LDL^T without pivoting in python-flint
``fmpq`` arithmetic, positive definite iff every pivot is > 0 (Sylvester's criterion through
the leading principal minors; Golub & Van Loan §4.2). :func:`lambda_min_enclosure` brackets
λ_min of the *computed* matrix by two such tests around LAPACK's estimate, and widens the
bracket by a bound ``eta`` on ||H_computed - H_true||_2 supplied by the caller (for F_θ:
:func:`hessian_rounding_bound`).

>>> import numpy as np
>>> H = np.array([[2.0, 1.0], [1.0, 2.0]])          # eigenvalues 1 and 3
>>> enc = lambda_min_enclosure(H)
>>> enc.lower <= 1.0 <= enc.upper, enc.upper - enc.lower < 1e-12
(True, True)
>>> is_positive_definite(H - 1.0 * np.eye(2)), is_positive_definite(H - 0.999 * np.eye(2))
(False, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import mpmath
import numpy as np

from .losses import UNIT_ROUNDOFF
from .scalar_resnet import ScalarResNet, flat_params, split_params

__all__ = ["lambda_min", "is_positive_definite", "lambda_min_enclosure", "Enclosure",
           "hessian_rounding_bound", "SOPSPCertificate", "certify_sopsp", "sopsp_level",
           "find_sopsp", "SOPSPResult", "scalar_resnet_landscape"]

u = UNIT_ROUNDOFF


def lambda_min(H):
    """Smallest eigenvalue of the symmetric H (..., n, n): LAPACK for float64, mpmath for mpf."""
    H = np.asarray(H)
    if H.ndim < 2 or H.shape[-1] != H.shape[-2]:
        raise ValueError(f"lambda_min needs square matrices, got shape {H.shape}")
    if H.dtype == object:
        out = np.empty(H.shape[:-2], dtype=object)
        for idx in np.ndindex(*H.shape[:-2]):
            E = mpmath.eigsy(mpmath.matrix(H[idx].tolist()), eigvals_only=True)
            out[idx] = min(E[i] for i in range(H.shape[-1]))
        return out if out.ndim else out[()]
    if not np.all(np.isfinite(H)):
        raise ValueError("H contains NaN or inf")
    return np.linalg.eigvalsh(H)[..., 0]


def _fmpq(x):
    """The exact rational value of a double or a finite mpf (both are binary rationals)."""
    from flint import fmpq
    if isinstance(x, mpmath.mpf):
        sign, man, exp, _ = x._mpf_
        if not man and exp:                 # inf / nan: refused as before
            man, exp = x.man_exp
            f = Fraction(int(man)) * (Fraction(2) ** int(exp))
            return fmpq(f.numerator, f.denominator)
        m = -int(man) if sign else int(man)
        return fmpq(m << int(exp)) if exp >= 0 else fmpq(m, 1 << -int(exp))
    num, den = float(x).as_integer_ratio()  # exact: a double is a binary rational
    return fmpq(num, den)


def is_positive_definite(H) -> bool:
    """Exact test of H ≻ 0 for one symmetric matrix of doubles / mpf (see module doc).

    The matrix is taken as the exact rational numbers it stores; asymmetric input is refused.
    """
    H = np.asarray(H)
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise ValueError(f"is_positive_definite needs one square matrix, got {H.shape}")
    n = H.shape[0]
    A = [[_fmpq(H[i, j]) for j in range(n)] for i in range(n)]
    if any(A[i][j] != A[j][i] for i in range(n) for j in range(i)):
        raise ValueError("is_positive_definite needs an exactly symmetric matrix "
                         "(symmetrise it first: (H + H^T)/2 is exact in binary up to overflow)")
    for k in range(n):                       # Gaussian elimination = LDL^T, pivots d_k
        piv = A[k][k]
        if piv <= 0:
            return False
        for i in range(k + 1, n):
            if A[i][k] == 0:
                continue
            f = A[i][k] / piv
            for j in range(k + 1, n):
                A[i][j] -= f * A[k][j]
    return True


@dataclass(frozen=True)
class Enclosure:
    """lower <= λ_min(H_true) <= upper, and how the bracket was obtained."""

    lower: float
    upper: float
    estimate: float
    eta: float
    certificate: str


def _symmetrise(H):
    H = np.asarray(H)
    return (H + H.T) / 2 if H.dtype != object else (H + H.T) * mpmath.mpf(0.5)


def lambda_min_enclosure(H, eta: float = 0.0) -> Enclosure:
    """A certified bracket of λ_min of the symmetric H (one matrix), widened by ``eta``, a bound
    on the distance ||H - H_true||_2 to the matrix the caller actually means.

    The bracket around LAPACK's estimate λ̂ starts at δ = 8 n u max|H| (Weyl: LAPACK's symmetric
    eigensolver is backward stable with error O(n u ||H||), Golub & Van Loan §8.3) and doubles
    until H - (λ̂ - δ) I ≻ 0 and H - (λ̂ + δ) I ⊁ 0 are both proven exactly."""
    H = _symmetrise(H)
    n = H.shape[0]
    Hf = np.array(H, dtype=float)
    est = float(np.linalg.eigvalsh(Hf)[0])
    scale = max(float(np.max(np.abs(Hf))), np.finfo(float).tiny)
    delta = 8 * n * u * scale
    I = np.eye(n)
    for _ in range(60):
        lo, hi = est - delta, est + delta
        if H.dtype == object:
            ok_lo = is_positive_definite(H - mpmath.mpf(lo) * _mp_eye(n))
            ok_hi = not is_positive_definite(H - mpmath.mpf(hi) * _mp_eye(n))
        else:
            ok_lo = is_positive_definite(H - lo * I)
            ok_hi = not is_positive_definite(H - hi * I)
        if ok_lo and ok_hi:
            # H - lo I is computed in floating point: the test proved it PD for the *rounded*
            # matrix; rounding moved each diagonal entry by <= u |H_ii - lo|, so widen by that
            slack = u * (scale + abs(lo)) if H.dtype != object else 0.0
            return Enclosure(lower=lo - slack - eta, upper=hi + slack + eta, estimate=est,
                             eta=float(eta),
                             certificate=f"exact LDL^T (fmpq) of H - t I at t = λ̂ ± {delta:.2g}; "
                                         f"widened by {eta:.2g} (||H - H_true||_2 bound)")
        delta *= 2
    raise ArithmeticError("could not bracket λ_min (matrix too ill-scaled)")


def _mp_eye(n):
    out = np.full((n, n), mpmath.mpf(0), dtype=object)
    for i in range(n):
        out[i, i] = mpmath.mpf(1)
    return out


def hessian_rounding_bound(net: ScalarResNet, w, V) -> float:
    """A bound on ||Ĥ - ∇²F_θ||_2 for the float64 Hessian Ĥ of ``net.hessian`` (one instance):
    each entry is a sum of m + 2 products of loss derivatives (few-ulp accurate) and data, so
    its error is <= γ_{m+8} times the sum of the absolute terms (Higham §3.1, Lemma 3.4 with
    8 extra roundings for the loss derivatives and the products), and ||E||_2 <= ||E||_F."""
    A = net.hessian_abs_bound(w, V)
    k = net.m + 8
    gamma = k * u / (1 - k * u)
    return float(gamma * np.linalg.norm(A) * (1 + 4 * u))


def sopsp_level(grad_norm, lam_min, mu2):
    """The smallest ε for which a point with this gradient norm and λ_min is an ε-SOPSP:
    max(||∇F||, λ_-^2/μ2) (μ2 = 0 requires λ_min >= 0; then the level is ||∇F||)."""
    lam_minus = max(0.0, -float(lam_min))
    if mu2 <= 0:
        return float(grad_norm) if lam_minus == 0 else math.inf
    return max(float(grad_norm), lam_minus ** 2 / float(mu2))


@dataclass(frozen=True)
class SOPSPCertificate:
    """Whether (w, V) is an ε-SOPSP, with the certified numbers behind it."""

    eps: float
    mu2: float
    grad_norm: float
    grad_error: float
    lam: Enclosure
    holds: bool | None           # True: certified; False: certified not; None: undecided

    def __str__(self):
        verdict = {True: "certified", False: "certified NOT", None: "undecided"}[self.holds]
        return (f"{verdict} {self.eps:.3g}-SOPSP: ||∇F|| = {self.grad_norm:.3g} "
                f"(± {self.grad_error:.2g}), λ_min in [{self.lam.lower:.3g}, {self.lam.upper:.3g}]"
                f" vs -sqrt(μ2 ε) = {-math.sqrt(self.mu2 * self.eps):.3g}")


def certify_sopsp(net: ScalarResNet, w, V, eps: float, mu2: float) -> SOPSPCertificate:
    """Certify that (w, V) is (or is not) an ε-SOPSP of F_θ with Hessian-Lipschitz constant μ2.

    The gradient norm carries a rounding bound of the same kind as the Hessian's; λ_min carries
    the enclosure of :func:`lambda_min_enclosure`."""
    if not (eps >= 0 and math.isfinite(eps)) or not (mu2 >= 0 and math.isfinite(mu2)):
        raise ValueError(f"eps and mu2 must be finite and >= 0, got {eps}, {mu2}")
    g = np.asarray(net.flat_gradient(w, V), float)
    gn = float(np.linalg.norm(g))
    H = np.asarray(net.hessian(w, V), float)
    eta = hessian_rounding_bound(net, w, V)
    # gradient entries are sums of m products, bounded like the Hessian's first-order terms
    _, p = net.outputs(w, V)
    from .scalar_resnet import loss_terms
    d1 = np.abs(loss_terms(net.loss, p, net.y, 1)[1])
    J = np.abs(net._jacobian(np.asarray(w, float), net.residual_inputs(np.asarray(V, float))))
    k = net.m + 8
    g_err = float(k * u / (1 - k * u) * np.linalg.norm(d1 @ J / net.m))
    lam = lambda_min_enclosure(H, eta)
    thr = -math.sqrt(mu2 * eps)
    if gn + g_err <= eps and lam.lower >= thr:
        holds = True
    elif gn - g_err > eps or lam.upper < thr:
        holds = False
    else:
        holds = None
    return SOPSPCertificate(eps=float(eps), mu2=float(mu2), grad_norm=gn, grad_error=g_err,
                            lam=lam, holds=holds)


@dataclass(frozen=True)
class SOPSPResult:
    """A point found by :func:`find_sopsp` and its certificate (``certificate.holds``)."""

    w: np.ndarray
    V: np.ndarray
    iterations: int
    certificate: SOPSPCertificate


def find_sopsp(net: ScalarResNet, eps: float, mu2: float, *, w0, V0,
               max_iter: int = 200) -> SOPSPResult:
    """Run a second-order method on F_θ from (w0, V0) until the iterate is a certified
    ε-SOPSP (or ``max_iter`` is reached; then the certificate says what holds).

    Each step is a regularised Newton step (H + σI) s = -g with σ = max(0, -λ_min) + ||g||^(1/2)
    (a Levenberg-Marquardt / cubic-regularisation-style shift that makes H + σI ≻ 0), plus a
    unit negative-curvature direction when λ_min < -sqrt(μ2 ε) / 2, with Armijo backtracking.
    Stopping early at the first certified ε-SOPSP gives points that are approximately, not
    exactly, stationary.
    """
    d_x, d_z = net.d_x, net.d_z
    p = flat_params(np.asarray(w0, float), np.asarray(V0, float))
    f = lambda q: float(net.value(*split_params(q, d_x, d_z)))
    it = 0
    for it in range(max_iter):
        w, V = split_params(p, d_x, d_z)
        g = np.asarray(net.flat_gradient(w, V), float)
        H = np.asarray(net.hessian(w, V), float)
        evals, evecs = np.linalg.eigh(H)
        gn = float(np.linalg.norm(g))
        if gn <= eps and evals[0] >= -math.sqrt(mu2 * eps):
            cert = certify_sopsp(net, w, V, eps, mu2)
            if cert.holds:
                return SOPSPResult(w.copy(), V.copy(), it, cert)
        sigma = max(0.0, -evals[0]) + math.sqrt(gn) + 1e-12
        step = -np.linalg.solve(H + sigma * np.eye(len(p)), g)
        if evals[0] < -0.5 * math.sqrt(mu2 * eps):
            v = evecs[:, 0] * (-1.0 if evecs[:, 0] @ g > 0 else 1.0)
            step = step + v * (-evals[0]) / max(1.0, math.sqrt(mu2))
        f0, t = f(p), 1.0
        slope = float(g @ step)
        while t > 1e-12:
            # Armijo on the first-order part; a pure negative-curvature step (slope >= 0)
            # must still decrease F
            if f(p + t * step) < f0 + 1e-4 * t * min(slope, 0.0):
                break
            t /= 2
        if t <= 1e-12:
            break
        p = p + t * step
    w, V = split_params(p, d_x, d_z)
    return SOPSPResult(w.copy(), V.copy(), it, certify_sopsp(net, w, V, eps, mu2))


def scalar_resnet_landscape(inst):
    """The engine's :class:`proofcheck.models.Landscape` of F_θ(w, V) for an instance with fields
    X, y, Fx, loss (d_y = 1: W = w^T, so vec W = w and the parameter order matches)."""
    from .models import Landscape, ResNetProblem
    problem = ResNetProblem(X=np.asarray(inst.X, float), Y=np.asarray(inst.y, float)[:, None],
                            Z=np.asarray(inst.Fx, float), loss=inst.loss)
    return Landscape(problem, ("W", "V"))
