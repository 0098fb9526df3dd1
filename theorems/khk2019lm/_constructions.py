"""The paper's own constructions and definitions, computed: Assumption 2 for skip networks
(Example 3), Ω and Ω̃ for one-hidden-layer ReLU networks, the network of footnote 1 (Example 2),
the sets J_{n,t}[θ] of §4.2.3 (Theorem 4) and the proof of Theorem 3 at a ResNet point.

The engine's induced models (:mod:`proofcheck.induced`) stay paper-free; these helpers are the
paper-specific layer the claim modules of this package use.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Sequence

import numpy as np

from proofcheck.backends import get_backend
from proofcheck.induced import InducedFit, induced_infimum, range_residual
from proofcheck.linalg import rank_cutoff
from proofcheck.losses import UNIT_ROUNDOFF
from proofcheck.models import ResNetPoint, predict, predictor_jacobian

__all__ = ["ResNetPerturbation", "assumption2_defect", "assumption2_residual",
           "footnote1_network", "last_layer_g", "output_weights_g", "partial_linear_structure",
           "relu_omega", "resnet_theorem3", "separation_delta"]

u = UNIT_ROUNDOFF


def assumption2_defect(model, X, theta, g) -> tuple[float, float]:
    """max_i |f_{x_i}(theta) - sum_k g_k d_k f_{x_i}(theta)| and its float64 rounding bound.

    The bound: both sides are sums of n + depth products at the scale of the outputs,
    16 (n + depth) u (1 + max|f|) (1 + ||J||_max ||g||_1)."""
    theta = np.asarray(theta, float)
    F = model.outputs(X, theta)
    J = model.jacobian(X, theta)
    g = np.asarray(g, float)
    if g.shape != theta.shape:
        raise ValueError(f"g(theta) must have shape {theta.shape}, got {g.shape}")
    dev = float(np.max(np.abs(F - np.einsum("iak,k->ia", J, g))))
    scale = (1 + float(np.abs(F).max())) * (1 + float(np.abs(J).max()) * float(np.abs(g).sum()))
    return dev, 16 * (model.n_params + len(model.dims)) * u * scale


def output_weights_g(model, theta) -> np.ndarray:
    """g(theta) = (vec W_out^{(l+1)} for every output block, 0 elsewhere): Assumption 2 for
    f = sum_l W_out^{(l+1)} h^{(l)}(x; u) (Example 3, Theorem 3 and 4's proofs)."""
    theta = np.asarray(theta, float)
    g = np.zeros_like(theta)
    for b in model.blocks:
        if b.output:
            g[b.offset:b.offset + b.size] = theta[b.offset:b.offset + b.size]
    return g


def last_layer_g(model, theta) -> np.ndarray:
    """g(theta) = (vec W^{(H+1)}, 0): Example 3's printed reason (only the last skip block)."""
    theta = np.asarray(theta, float)
    b = model.block(f"Wout{model.H + 1}") if model.H in model.skip else None
    g = np.zeros_like(theta)
    if b is not None:
        g[b.offset:b.offset + b.size] = theta[b.offset:b.offset + b.size]
    return g


def assumption2_residual(f, params, g):
    """Symbolic check of Assumption 2: ``f - sum_k g_k df/dparams_k`` simplified (sympy).

    ``f`` is a sympy Matrix (the model's output), ``params`` a list of symbols, ``g`` a list of
    expressions of the same length.  Assumption 2 holds for this architecture and g exactly when
    the result is the zero matrix.

    >>> import sympy as sp
    >>> w, v, x = sp.symbols("w v x")
    >>> assumption2_residual(sp.Matrix([v * w * x]), [w, v], [w / 2, v / 2])
    Matrix([[0]])
    """
    import sympy as sp
    f = sp.Matrix(f)
    if len(params) != len(g):
        raise ValueError(f"g has {len(g)} entries for {len(params)} parameters")
    rhs = sp.zeros(*f.shape)
    for p, gk in zip(params, g):
        rhs += gk * f.diff(p)
    return (f - rhs).applyfunc(lambda e: sp.simplify(sp.expand(e)))


def relu_omega(X, W1, W2) -> tuple[bool, bool]:
    """(theta in Omega, theta in Omega-tilde) for f(x) = W2 relu(W1 x), decided exactly.

    Entries are taken as exact rationals (the doubles given).  f_{x_i} is smooth at theta unless
    some a = w_j . x_i = 0 with x_i != 0.  At such a kink the directional derivative of
    W2[:, j] relu(w_j . x_i) is W2[:, j] max(d_j . x_i, 0), linear in the direction d_j only when
    W2[:, j] = 0; kinks at different units involve independent d_j, so
    theta in Omega  <=>  some kink (i, j) has W2[:, j] != 0;
    theta in Omega-tilde (every ball meets Omega)  <=>  some kink (i, j) exists at all (move
    W2[:, j] off 0 keeping w_j . x_i = 0); without a kink a ball around theta has none.
    """
    from fractions import Fraction
    X = [[Fraction(float(a)) for a in row] for row in np.asarray(X, float)]
    W1 = [[Fraction(float(a)) for a in row] for row in np.asarray(W1, float)]
    W2 = np.asarray(W2, float)
    kinks = [(i, j) for i, x in enumerate(X) if any(x) for j, w in enumerate(W1)
             if sum(a * b for a, b in zip(w, x)) == 0]
    in_omega = any(np.any(W2[:, j] != 0) for _, j in kinks)
    return in_omega, bool(kinks)


def footnote1_network(X_raw, eps: float, diagonals: Sequence[Sequence[float]]):
    """The construction of footnote 1: a ReLU network on x_i = [x_raw_i; 1] whose first layer has
    rows [x_raw_i^T, eps - 1] (i <= m) and whose later layers are diagonal with the given
    diagonal entries.  Returns (Network, theta without the last layer u, Phi = [phi(x_i; u)]_i
    as an (m, n) array) where phi is the last hidden layer; the last layer W (d_y x n) is theta.
    The network width is n = m (rows i > m are not needed)."""
    X_raw = np.asarray(X_raw, float)
    m, d = X_raw.shape
    X = np.hstack([X_raw, np.ones((m, 1))])
    W1 = np.hstack([X_raw, np.full((m, 1), eps - 1.0)])
    mats = [W1] + [np.diag(np.asarray(dg, float)) for dg in diagonals]
    h = X
    for M in mats:
        a = h @ M.T
        h = np.where(a > 0, a, 0.0)
    return X, mats, h


def separation_delta(X_raw) -> float:
    """The largest delta with x_i^T x_i' < 1 - delta for i != i' is 1 - max_{i != i'} x_i^T x_i'."""
    X_raw = np.asarray(X_raw, float)
    G = X_raw @ X_raw.T
    np.fill_diagonal(G, -np.inf)
    return float(1 - G.max())


def partial_linear_structure(model, X, theta, n: int, t: int):
    """An element J = {J^{(t+1)}, ..., J^{(H+1)}} of J_{n,t}[theta] (§4.2.3), or None.

    For each layer l in t+1..H the candidate J^{(l)} is the set of units that are linear on a
    ball around theta at every sample: every unit for the identity activation; for ReLU the
    units whose pre-activation is > 0 at every x_i (then h = W h on a ball, condition 2; a unit
    with a pre-activation <= 0 somewhere is not linear on any ball, generically); none for tanh.
    J^{(H+1)} = all outputs (f = W^{(H+1)} h^{(H)}).  Condition 3 (W^{(l+1)}_{ij} = 0 for i not
    in J^{(l+1)}, j in J^{(l)}, l <= H - 1) is then checked exactly on theta; the maximal
    candidates are returned if conditions 1-3 hold.  (Maximal sets suffice for condition 2 but
    condition 3 can prefer smaller J^{(l)}; we do not search subsets, so None means "the maximal
    candidate fails", not "J_{n,t}[theta] is empty".)"""
    if model.skip != (model.H,):
        raise ValueError("J_{n,t} is defined for the standard network (4.3), without skips")
    if not 0 <= t <= model.H:
        raise ValueError(f"t must be in 0..H = 0..{model.H}, got {t}")
    pre, _ = model.hidden(X, np.asarray(theta, float))
    P = model.unpack(theta)
    J = {}
    for l in range(t + 1, model.H + 1):
        name = model.activation.name if model.activation is not None else None
        if name == "identity":
            J[l] = set(range(model.dims[l]))
        elif name == "relu":
            J[l] = set(np.flatnonzero(np.all(np.asarray(pre[l], float) > 0, axis=0)).tolist())
        else:
            J[l] = set()
    J[model.H + 1] = set(range(model.d_y))
    if any(len(J[l]) < n for l in J):
        return None
    for l in range(t + 1, model.H):
        Wn = P[f"W{l + 1}"]                    # (d_l, d_{l+1}): the paper's W^{(l+1)} transposed
        for i in set(range(model.dims[l + 1])) - J[l + 1]:
            for j in J[l]:
                if Wn[j, i] != 0:
                    return None
    return {l: sorted(v) for l, v in J.items()}


@dataclass(frozen=True)
class ResNetPerturbation:
    """The proof of Theorem 3 at a ResNet point: the set S' (as (W, R) perturbations), the
    worst membership deviation, the inclusion residual of {alpha_w x + alpha_r z} in the span of
    the perturbed gradient basis, and the infimum over [J~(S'), x-basis, z-basis]."""

    case: str
    S: tuple
    membership: float
    membership_tol: float
    inclusion: float
    inclusion_tol: float
    fit: InducedFit
    J: np.ndarray
    #: the float64 rounding part of ``membership_tol`` (without the allowance for W a ~ 0)
    membership_rounding: float = 0.0


def resnet_theorem3(problem, point, eps: float, *, case: str | None = None, sigma=None):
    """Build the proof's S' and the quantities of Theorem 3 at ``point`` (a ResNetPoint with
    Z given as data).  ``case``: "full_rank" (rank W >= d_y: S-bar = {0}) or "rank_deficient"
    (S-bar' = {0} and v_r = a e_c^T for c = 1..d_z, a a unit vector with W a ~ 0, the right
    singular vector of W's smallest singular value sigma); default from ``sigma`` / the rank."""
    W, R = np.asarray(point.W, float), np.asarray(point.V, float)
    d_y, d_x = W.shape
    d_z = R.shape[1]
    # the proof's construction needs W's full set of right singular vectors (its null directions);
    # the directions built from them are then checked by the membership test, so float64 is
    # the construction, not the decision
    # the backend's SVD is thin: W on top of d_x - d_y zero rows has W's singular values (then
    # zeros) and a full set of right singular vectors
    pad = np.zeros((max(d_x - d_y, 0), d_x))
    _, s_pad, Vt = get_backend("numpy").svd(np.vstack([W, pad]))
    s = s_pad[:min(d_y, d_x)]
    s_all = np.concatenate([s, np.zeros(d_x - len(s))])
    a, s_min = Vt[-1], float(s_all[d_y - 1]) if d_y <= d_x else 0.0
    if case is None:
        case = "rank_deficient" if s_min <= rank_cutoff(s, W.shape, "lapack") else "full_rank"
    Ss = [(np.zeros_like(W), np.zeros_like(R))]
    if case == "rank_deficient":
        a = Vt[d_y - 1] if d_y <= d_x else Vt[-1]
        for c in range(d_z):
            Ss.append((np.zeros_like(W), np.outer(a, np.eye(d_z)[c])))
    F0 = predict(problem, point)
    X, Z = problem.X, problem.Z
    zmax = float(np.abs(Z).max())
    scale = (1 + float(np.abs(X).max()) + zmax) * (1 + float(np.linalg.norm(W))) \
        * (1 + float(np.linalg.norm(R)) + eps)
    dev, Js = 0.0, []
    for dW, dR in Ss:
        p = ResNetPoint(W=W + eps * dW, V=R + eps * dR)
        dev = max(dev, float(np.abs(predict(problem, p) - F0).max()))
        Js.append(predictor_jacobian(problem, p))
    # W a is the smallest singular value s_min (the refined W is rank-deficient only to the
    # certificate's resolution): the perturbation moves f by <= eps s_min max|z|
    rounding = 16 * (d_x + d_z + 2) * u * scale
    mem_tol = rounding + (eps * s_min * zmax * np.sqrt(d_z) if case == "rank_deficient"
                          else 0.0)
    J = np.concatenate(Js, axis=2)
    m = X.shape[0]
    targets = []
    for Phi in (X, Z):
        for k in range(Phi.shape[1]):
            for b in range(d_y):
                T = np.zeros((m, d_y))
                T[:, b] = Phi[:, k]
                targets.append(T)
    inc, inc_tol = range_residual(J, np.stack(targets))
    if case == "rank_deficient":
        # the inclusion needs coefficients 1/eps on directions a b^T z, known to s_min / eps
        inc_tol += float(s_min / eps) * (1 + zmax)
    basis = np.concatenate([J, np.einsum("ab,ik->iabk", np.eye(d_y), np.hstack([X, Z]))
                            .reshape(m, d_y, -1)], axis=2)
    fit = induced_infimum(basis, problem.Y, _loss_of(problem), problem.weights)
    return ResNetPerturbation(case, tuple(Ss), dev, mem_tol, inc, inc_tol, fit, J, rounding)


def _loss_of(problem):
    return problem.loss
