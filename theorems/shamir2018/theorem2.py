"""Shamir (2018), Theorem 2, Lemma 2 and eq. (7)-(13) (§3, §6.2): the case w = 0.

Theorem 2. For any V, θ, w*:  λ_min(∇²F_θ(0, V)) <= 0  and
    ||∇F_θ(0, V)|| + ||V|| sqrt(|λ_min| ||∂²F_θ/∂w²(0, V)|| + λ_min^2)
        >= (F(0, V, θ) - F_lin(w*)) / ||w*||.
Lemma 2. M = [[b, u^T], [u, 0]] has λ_min <= 0 and ||u||^2 = |b λ_min| + λ_min^2.

Lemma 2 as printed is false when b < 0: λ_min solves λ^2 - bλ - ||u||^2 = 0, so
||u||^2 = λ_min^2 - b λ_min, which equals |b λ_min| + λ_min^2 only if b >= 0 (λ_min <= 0).
Exact witness: b = -1, u = (1): λ_min = -(1 + √5)/2 and |bλ| + λ^2 = 2 + √5 != 1 = ||u||^2.
Theorem 2 is unaffected: there b = E[ℓ''(0; y) (x + V f)_1^2] >= 0 by convexity, and (11) is
checked in that setting. Also, Theorem 2's right-hand side needs w* != 0 (at w* = 0 it is 0/0,
F(0, V, θ) = F_lin(0)); the claim carries that hypothesis.

Checked at drawn points (0, V), half of them critical points (V r = -∇F_lin(0)) where only the
curvature term can pay for the suboptimality (the tight case).
"""

import numpy as np
from proofcheck.lazy import lazy_import

from functools import partial

from proofcheck import Identity, Margin, Mutant, MutantKind
from proofcheck.symbolic import SizeSweep, symbol_matrix, symbol_vector

from . import claim, printed_at
from ._terms import zero_instances, zero_terms
from .assumptions import A1, NONCONVEX, SCALAR_LOSSES, W_STAR_NONZERO
from .decidable import lemma2_forms

sp = lazy_import("sympy")   # loaded on first use (startup cost)

SOURCE = "6.2"


def instances(assumed):
    losses = tuple(SCALAR_LOSSES) if assumed["A1"] else tuple(NONCONVEX)
    return zero_instances(losses=losses)


#: The setting of Theorem 2's proof: points (0, V) with ℓ convex and twice differentiable (A1)
#: (dropping A1: non-convex losses).
at_zero = partial(claim, hypotheses=(A1,), instances=instances)
at_zero_w_star_nonzero = partial(at_zero, hypotheses=(A1, W_STAR_NONZERO))


def _abs(a):
    return abs(a) if not isinstance(a, np.ndarray) else np.abs(a)


# --- Theorem 2 -------------------------------------------------------------------------------

def _curvature_term(q, B, square=True, lam_scale=1):
    lam = q.lam * lam_scale
    inner = _abs(lam) * q.H_ww_norm + (lam * lam if square else 0 * lam)
    return q.V_spec * B.sqrt(inner)


def _part2(q, B, lhs_extra=None, factor=1):
    extra = _curvature_term(q, B) if lhs_extra is None else lhs_extra
    lhs = (q.grad_norm + extra) * q.w_star_norm
    return Margin.at_least(lhs, factor * q.gap, tol=q.tol * (1 + q.w_star_norm),
                           tol_source=q.tol_source)


def theorem2_conclusion(inst, point, B):
    q = zero_terms(inst, B)
    first = Margin.at_most(q.lam, 0 * q.lam, tol=q.tol, tol_source=q.tol_source)
    return first.both(_part2(q, B))


def theorem2_lam_positive(inst, point, B):
    q = zero_terms(inst, B)
    return Margin.at_least(q.lam, 0 * q.lam, tol=q.tol, tol_source=q.tol_source)


def theorem2_no_curvature(inst, point, B):
    q = zero_terms(inst, B)
    return _part2(q, B, lhs_extra=0 * q.lam)


def theorem2_quarter_curvature(inst, point, B):
    q = zero_terms(inst, B)
    return _part2(q, B, lhs_extra=_curvature_term(q, B) / 4)


def theorem2_doubled_gap(inst, point, B):
    q = zero_terms(inst, B)
    return _part2(q, B, factor=2)


theorem2 = at_zero_w_star_nonzero("shamir2018.theorem2", printed_at("3", "Theorem 2"),
    title="at w = 0, suboptimality forces a gradient or a negative curvature",
    statement="For any V, θ, w*: λ_min(∇²F_θ(0, V)) <= 0 and ||∇F_θ(0, V)|| + ||V|| "
              "sqrt(|λ_min(∇²F_θ(0, V))| ||∂²F_θ(0, V)/∂w²|| + λ_min(∇²F_θ(0, V))^2) "
              ">= (F(0, V, θ) - F_lin(w*)) / ||w*||",
    conclusion=theorem2_conclusion,
    notes="Compared as (||∇F|| + ||V|| sqrt(...)) ||w*|| >= F(0, V) - F_lin(w*). w* != 0 is "
          "needed for the printed right-hand side to be defined (at w* = 0 it is 0/0).",
    mutants=(
        Mutant.conclusion("lam_nonnegative", MutantKind.FLIPPED_INEQUALITY,
                          "λ_min(∇²F_θ(0, V)) >= 0", theorem2_lam_positive),
        Mutant.conclusion("no_curvature_term", MutantKind.DROPPED_TERM,
                          "||∇F_θ(0, V)|| >= (F(0, V) - F_lin(w*)) / ||w*||",
                          theorem2_no_curvature),
        Mutant.conclusion("quarter_curvature", MutantKind.PERTURBED_CONSTANT,
                          "curvature term divided by 4", theorem2_quarter_curvature),
        Mutant.conclusion("doubled_gap", MutantKind.PERTURBED_CONSTANT,
                          "... >= 2 (F(0, V) - F_lin(w*)) / ||w*||", theorem2_doubled_gap),
    ),
)


# --- eq. (7)-(10): derivatives, symbolically ----------------------------------------------------

SWEEP = SizeSweep(d_x=(1, 3), d_z=(1, 3))
# second derivatives of a generic ℓ through sympy's Subs objects are slow: sizes 1..2 there
HESS_SWEEP = SizeSweep(d_x=(1, 2), d_z=(1, 2))


def _sample(s):
    d_x, d_z = s["d_x"], s["d_z"]
    w, x, f = symbol_vector("w", d_x), symbol_vector("x", d_x), symbol_vector("f", d_z)
    V = symbol_matrix("V", d_x, d_z)
    a = x + V * f
    p = (w.T * a)[0, 0]
    ell, t = sp.Function("l"), sp.Symbol("t")
    d1 = sp.diff(ell(t), t).subs(t, p)
    d2 = sp.diff(ell(t), t, 2).subs(t, p)
    return w, x, f, V, a, ell(p), d1, d2


def _vecV(V):
    return [V[i, j] for j in range(V.cols) for i in range(V.rows)]       # column-major


def eq7_w(s, drop_Vf=False):
    w, x, f, V, a, L, d1, d2 = _sample(s)
    lhs = sp.Matrix([sp.diff(L, wi) for wi in w])
    return lhs, d1 * (x if drop_Vf else a)


def eq7_V(s, transpose=False):
    w, x, f, V, a, L, d1, d2 = _sample(s)
    lhs = sp.Matrix(V.rows, V.cols, lambda i, j: sp.diff(L, V[i, j]))
    rhs = d1 * w * f.T
    if not transpose:
        return lhs, rhs
    return lhs, d1 * sp.Matrix(V.rows, V.cols, lambda i, j: w[j % w.rows] * f[i % f.rows])


def _hessian_blocks(s):
    w, x, f, V, a, L, d1, d2 = _sample(s)
    zero = {wi: 0 for wi in w}
    vV = _vecV(V)
    HVV = sp.Matrix(len(vV), len(vV), lambda i, j: sp.diff(L, vV[i], vV[j])).subs(zero)
    HwV = sp.Matrix(len(w), len(vV), lambda i, j: sp.diff(L, w[i], vV[j])).subs(zero)
    return w, f, V, HVV, HwV, d1.subs(zero)


def eq8(s):
    w, f, V, HVV, HwV, d1 = _hessian_blocks(s)
    return HVV, sp.zeros(*HVV.shape)


def eq9(s, scale=1):
    """∂²F/∂w_i ∂V (0, V) = ℓ'(0) e_i f^T, i.e. the block (i, vec V) is ℓ'(0) (f^T ⊗ e_i^T)."""
    w, f, V, HVV, HwV, d1 = _hessian_blocks(s)
    d_x = w.rows
    rhs = sp.Matrix(d_x, HwV.cols, lambda i, k: scale * d1 * (f[k // d_x] if k % d_x == i else 0))
    return HwV, rhs


def eq9_wrong_index(s):
    w, f, V, HVV, HwV, d1 = _hessian_blocks(s)
    d_x = w.rows
    # row-major reading of vec V: (i, j) at i d_z + j
    d_z = f.rows
    rhs = sp.Matrix(d_x, HwV.cols, lambda i, k: d1 * (f[k % d_z] if k // d_z == i else 0))
    return HwV, rhs


derivatives = claim(
    "shamir2018.theorem2.eq7_to_eq10", printed_at(SOURCE, "proof of Theorem 2", "(7)-(10)"),
    title="gradient (7) and the Hessian blocks at w = 0 (8)-(10)",
    statement="∂F/∂w = E[ℓ'(p) (x + V f)], ∂F/∂V = E[ℓ'(p) w f^T] (7); ∂²F/∂V²(0, V) = 0 (8); "
              "∂²F/∂w_i∂V (0, V) = E[ℓ'(0; y) e_i f^T] = e_i r^T (9), r = E[ℓ'(0; y) f] (10)",
    identities=(
        Identity("eq7_w", "∂ℓ(p)/∂w = ℓ'(p)(x + V f)", eq7_w, SWEEP),
        Identity("eq7_V", "∂ℓ(p)/∂V = ℓ'(p) w f^T", eq7_V, SWEEP),
        Identity("eq8", "∂²ℓ(p)/∂vecV² = 0 at w = 0", eq8, HESS_SWEEP),
        Identity("eq9", "∂²ℓ(p)/∂w_i∂V = ℓ'(0) e_i f^T at w = 0", eq9, HESS_SWEEP),
    ),
    notes="Per sample with a generic twice-differentiable ℓ (a sympy Function); E is linear, so "
          "the expectations follow (r collects E[ℓ'(0; y) f]).",
    mutants=(
        Mutant.identity("dropped_Vf", MutantKind.DROPPED_TERM, "∂F/∂w = E[ℓ' x]", "eq7_w",
                        lambda s: eq7_w(s, drop_Vf=True)),
        Mutant.identity("transposed", MutantKind.TRANSPOSED, "∂F/∂V = E[ℓ' f w^T]", "eq7_V",
                        lambda s: eq7_V(s, transpose=True)),
        Mutant.identity("doubled", MutantKind.PERTURBED_CONSTANT, "∂²F/∂w_i∂V = 2 e_i r^T",
                        "eq9", lambda s: eq9(s, scale=2)),
        Mutant.identity("row_major", MutantKind.OTHER, "the block read with a row-major vec V",
                        "eq9", eq9_wrong_index),
    ),
)


# --- eq. (11)-(13) and the interlacing step -----------------------------------------------------

def eq11_conclusion(inst, point, B, printed=True):
    q = zero_terms(inst, B)
    rhs = _abs(q.b * q.lam_M) + q.lam_M ** 2
    return Margin.equal(q.r_norm ** 2, rhs, B, scale=q.b ** 2 + q.r_norm ** 2 + q.lam_M ** 2,
                        n_ops=8 * q.r.shape[-1] + 16)


def eq11_without_b(inst, point, B):
    q = zero_terms(inst, B)
    return Margin.equal(q.r_norm ** 2, q.lam_M ** 2, B,
                        scale=q.b ** 2 + q.r_norm ** 2 + q.lam_M ** 2, n_ops=8 * q.r.shape[-1] + 16)


eq11 = at_zero("shamir2018.theorem2.eq11", printed_at(SOURCE, "proof of Theorem 2", "(11)"),
    title="Lemma 2 applied to M = [[b, r^T], [r, 0]] (b >= 0 here)",
    statement="||r||^2 = |b λ_min(M)| + λ_min(M)^2, b the first diagonal entry of ∂²F/∂w²(0, V)",
    conclusion=eq11_conclusion,
    mutants=(Mutant.conclusion("dropped_b_term", MutantKind.DROPPED_TERM,
                               "||r||^2 = λ_min(M)^2", eq11_without_b),),
)


def interlacing_conclusion(inst, point, B):
    q = zero_terms(inst, B)
    a = Margin.at_most(q.lam, q.lam_M, tol=q.tol, tol_source=q.tol_source)
    return a.both(Margin.at_most(q.lam_M, 0 * q.lam_M, tol=q.tol, tol_source=q.tol_source))


def interlacing_flipped(inst, point, B):
    q = zero_terms(inst, B)
    return Margin.at_least(q.lam, q.lam_M, tol=q.tol, tol_source=q.tol_source)


interlacing = at_zero("shamir2018.theorem2.interlacing", printed_at(SOURCE, "proof of Theorem 2"),
    title="M is a principal submatrix of ∇²F_θ(0, V): interlacing",
    statement="λ_min(∇²F_θ(0, V)) <= λ_min(M) <= 0",
    conclusion=interlacing_conclusion,
    mutants=(Mutant.conclusion("flipped", MutantKind.FLIPPED_INEQUALITY,
                               "λ_min(∇²F_θ(0, V)) >= λ_min(M)", interlacing_flipped),),
)


def eq12_conclusion(inst, point, B, factor=1, square=True):
    q = zero_terms(inst, B)
    rhs = _abs(q.lam) * q.H_ww_norm + (q.lam ** 2 if square else 0 * q.lam)
    return Margin.at_most(factor * q.r_norm ** 2, rhs, tol=q.tol, tol_source=q.tol_source)


eq12 = at_zero("shamir2018.theorem2.eq12", printed_at(SOURCE, "proof of Theorem 2", "(12)"),
    title="||r||^2 is bounded by the curvature at (0, V)",
    statement="||r||^2 <= |λ_min(∇²F_θ(0, V))| ||∂²F_θ(0, V)/∂w²|| + λ_min(∇²F_θ(0, V))^2",
    conclusion=eq12_conclusion,
    mutants=(
        Mutant.conclusion("no_square", MutantKind.DROPPED_TERM,
                          "||r||^2 <= |λ_min| ||∂²F/∂w²||",
                          lambda i, p, B: eq12_conclusion(i, p, B, square=False)),
        Mutant.conclusion("doubled", MutantKind.PERTURBED_CONSTANT,
                          "2 ||r||^2 <= |λ_min| ||∂²F/∂w²|| + λ_min^2",
                          lambda i, p, B: eq12_conclusion(i, p, B, factor=2)),
    ),
)


def eq13_conclusion(inst, point, B, with_V=True, split_sign=1):
    q = zero_terms(inst, B)
    split = q.grad_w - (q.grad_lin0 + split_sign * np.einsum("...ij,...j->...i", q.V, q.r))
    split_norm = B.sqrt((split * split).sum(axis=-1))
    glin = B.sqrt((q.grad_lin0 * q.grad_lin0).sum(axis=-1))
    m_split = Margin.at_most(split_norm, 0 * split_norm, tol=q.tol, tol_source=q.tol_source)
    lhs = q.grad_norm + (q.V_spec * q.r_norm if with_V else 0 * q.r_norm)
    m13 = Margin.at_least(lhs, glin, tol=q.tol, tol_source=q.tol_source)
    m_conv = Margin.at_least(glin * q.w_star_norm, q.lin_gap, tol=q.tol * (1 + q.w_star_norm),
                             tol_source=q.tol_source)
    return m_split.both(m13).both(m_conv)


eq13 = at_zero_w_star_nonzero(
    "shamir2018.theorem2.eq13", printed_at(SOURCE, "proof of Theorem 2", "(13)"),
    title="the w-gradient at (0, V) splits as ∇F_lin(0) + V r",
    statement="∂F/∂w(0, V) = ∇F_lin(0) + V r; ||∇F_θ(0, V)|| + ||V|| ||r|| >= ||∇F_lin(0)||; "
              "||∇F_lin(0)|| >= (F_lin(0) - F_lin(w*)) / ||w*||",
    conclusion=eq13_conclusion,
    mutants=(
        Mutant.conclusion("dropped_Vr", MutantKind.DROPPED_TERM,
                          "||∇F_θ(0, V)|| >= ||∇F_lin(0)||",
                          lambda i, p, B: eq13_conclusion(i, p, B, with_V=False)),
        Mutant.conclusion("minus_Vr", MutantKind.FLIPPED_INEQUALITY,
                          "∂F/∂w(0, V) = ∇F_lin(0) - V r",
                          lambda i, p, B: eq13_conclusion(i, p, B, split_sign=-1)),
        Mutant.drop("A1", "a non-convex loss: ∇F_lin(0)^T(0 - w*) >= F_lin(0) - F_lin(w*) fails"),
    ),
)


# --- Lemma 2 ---------------------------------------------------------------------------------

LEMMA2_SWEEP = SizeSweep(k=(1, 4))


def _arrow(k, b=None, u=None):
    b = sp.Symbol("b", real=True) if b is None else b
    u = symbol_vector("u", k) if u is None else u
    M = sp.zeros(k + 1, k + 1)
    M[0, 0] = b
    for i in range(k):
        M[0, i + 1] = M[i + 1, 0] = u[i]
    return M, b, u


def charpoly(s, c=1):
    """det(t I - M) = t^(k-1) (t^2 - b t - ||u||^2): the eigenvalues are 0 (k - 1 times) and
    the two roots (b ± sqrt(b^2 + 4||u||^2))/2, so λ_min = (b - sqrt(b^2 + 4||u||^2))/2 <= 0."""
    k = s["k"]
    M, b, u = _arrow(k)
    t = sp.Symbol("t")
    lhs = (t * sp.eye(k + 1) - M).det()
    rhs = t ** (k - 1) * (t ** 2 - b * t - c * (u.T * u)[0, 0])
    return sp.Matrix([[lhs]]), sp.Matrix([[rhs]])


def _random_arrow(s, rng, b_sign):
    k = s["k"]
    u = sp.Matrix([sp.Rational(int(rng.integers(-6, 7)), int(rng.integers(1, 4)))
                   for _ in range(k)])
    if all(v == 0 for v in u):
        u[0] = 1
    b = sp.Rational(int(rng.integers(1, 7)), int(rng.integers(1, 4))) * b_sign
    n2 = (u.T * u)[0, 0]
    lam = (b - sp.sqrt(b ** 2 + 4 * n2)) / 2
    return b, u, n2, lam


def printed_identity(b_signs=(-1, 1)):
    def build(s, rng):
        b, u, n2, lam = _random_arrow(s, rng, b_signs[int(rng.integers(0, len(b_signs)))])
        return (sp.Matrix([[n2]]), sp.Matrix([[sp.Abs(b * lam) + lam ** 2]]),
                {"b": b, "u": list(u)})
    return build


def corrected_identity(s, rng):
    b, u, n2, lam = _random_arrow(s, rng, (-1, 1)[int(rng.integers(0, 2))])
    return sp.Matrix([[n2]]), sp.Matrix([[lam ** 2 - b * lam]]), {"b": b, "u": list(u)}


def corrected_doubled(s, rng):
    b, u, n2, lam = _random_arrow(s, rng, 1)
    return sp.Matrix([[n2]]), sp.Matrix([[2 * (lam ** 2 - b * lam)]]), {"b": b}


SIGN_SWEEP = SizeSweep(k=(1, 4))


def arrow_instances(assumed):
    """Arrow matrices with b of either sign and scale, u in R^k, k = 1..5 (numeric check)."""
    from hypothesis import strategies as st
    from proofcheck import Instance

    @st.composite
    def draw(draw):
        k = draw(st.integers(1, 5))
        rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
        b = float(rng.normal() * 10.0 ** rng.uniform(-2, 2))
        u = rng.normal(size=k) * 10.0 ** rng.uniform(-2, 2)
        return Instance(b=b, u=u)

    return draw()


def _arrow_numeric(inst, B):
    b, u = B.asarray(inst.b), B.asarray(inst.u)
    k = u.shape[-1]
    M = B.zeros(np.shape(u)[:-1] + (k + 1, k + 1))
    M[..., 0, 0] = b
    M[..., 0, 1:] = u
    M[..., 1:, 0] = u
    lam = B.eigvalsh(M)[..., 0]
    n2 = (u * u).sum(axis=-1)
    return b, n2, lam


def arrow_signed(inst, point, B, printed=False):
    b, n2, lam = _arrow_numeric(inst, B)
    rhs = (_abs(b * lam) if printed else -b * lam) + lam * lam
    scale = b * b + n2 + lam * lam
    eq = Margin.equal(n2, rhs, B, scale=scale, n_ops=16 * (np.shape(inst.u)[-1] + 1))
    nonpos = Margin.at_most(lam, 0 * lam, tol=B.tolerance(B.sqrt(scale), n_ops=16),
                            tol_source="Weyl: eigenvalues move by <= ||dM||_2")
    return eq.both(nonpos)

lemma2_corrected = claim("shamir2018.lemma2", printed_at(SOURCE, "Lemma 2"),
    title="the arrow matrix [[b, u^T], [u, 0]]: λ_min <= 0 and ||u||^2 = λ_min^2 - b λ_min",
    statement="λ_min(M) <= 0 and ||u||^2 = λ_min^2 - b λ_min for every real b; this equals "
              "|b λ_min| + λ_min^2 when b >= 0",
    conclusion=arrow_signed,
    instances=arrow_instances,
    identities=(
        Identity("charpoly", "det(tI - M) = t^(k-1) (t^2 - b t - ||u||^2)", charpoly,
                 LEMMA2_SWEEP),
        Identity("signed", "||u||^2 = λ_min^2 - b λ_min, λ_min = (b - sqrt(b^2 + 4||u||^2))/2",
                 corrected_identity, SIGN_SWEEP, method="exact-random", as_printed=False),
        Identity("nonneg_b", "||u||^2 = |b λ_min| + λ_min^2 for b > 0",
                 printed_identity((1,)), SIGN_SWEEP, method="exact-random", as_printed=False),
    ),
    mutants=(
        Mutant.identity("charpoly_doubled", MutantKind.PERTURBED_CONSTANT,
                        "det(tI - M) = t^(k-1)(t^2 - bt - 2||u||^2)", "charpoly",
                        lambda s: charpoly(s, c=2)),
        Mutant.identity("signed_doubled", MutantKind.PERTURBED_CONSTANT,
                        "||u||^2 = 2(λ^2 - bλ)", "signed", corrected_doubled),
        Mutant.identity("drop_b_sign", MutantKind.DROPPED_HYPOTHESIS,
                        "||u||^2 = |bλ| + λ^2 without b >= 0", "nonneg_b", printed_identity()),
        Mutant.conclusion("numeric_printed", MutantKind.DROPPED_HYPOTHESIS,
                          "numerically: ||u||^2 = |bλ| + λ^2 for b of either sign",
                          lambda i, p, B: arrow_signed(i, p, B, printed=True),
                          decidable=lemma2_forms("printed")),
        Mutant.conclusion("decided_doubled", MutantKind.PERTURBED_CONSTANT,
                          "||u||^2 = 2(λ^2 - bλ) (decidable form only)", None,
                          decidable=lemma2_forms("doubled")),
    ),
    decidable=lemma2_forms("corrected"),
)

lemma2 = claim("shamir2018.lemma2", printed_at(SOURCE, "Lemma 2"),
    title="the arrow matrix [[b, u^T], [u, 0]]",
    statement="Let M = [[b, u^T], [u, 0]] be symmetric, b a scalar, u a vector. Then λ_min(M) <= 0 "
              "and ||u||^2 = |b λ_min| + λ_min^2",
    conclusion=lambda inst, point, B: arrow_signed(inst, point, B, printed=True),
    instances=arrow_instances,
    identities=(
        Identity("charpoly", "det(tI - M) = t^(k-1) (t^2 - b t - ||u||^2) (so λ_min <= 0)",
                 charpoly, LEMMA2_SWEEP),
        Identity("printed", "||u||^2 = |b λ_min| + λ_min^2 for every scalar b",
                 printed_identity(), SIGN_SWEEP, method="exact-random"),
    ),
    corrected=lemma2_corrected,
    decidable=lemma2_forms("printed"),
    erratum="λ_min solves λ^2 - bλ - ||u||^2 = 0, so ||u||^2 = λ_min^2 - b λ_min; this is "
            "|b λ_min| + λ_min^2 only when b >= 0. For b < 0 (e.g. b = -1, u = (1)) the printed "
            "identity fails. Theorem 2 uses it with b = E[ℓ''(0) (x + V f)_1^2] >= 0, so it "
            "stands.",
)
