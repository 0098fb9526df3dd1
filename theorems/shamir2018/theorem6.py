"""Shamir (2018), Appendix A: Theorem 6 and Lemma 3 (vector-valued outputs).

F(W, V, θ) = E ℓ(W(x + V f_θ(x)); y), ℓ differentiable and convex in its first argument.

Lemma 3. With G = (W - W*; W^T (W W^T)^{-1} W* V):  <vec G, ∇F_θ(W, V)> >= F(W, V, θ) - F_lin(W*).
Theorem 6. If W has full row rank (s_min(W) > 0):
    ||∇F_θ(W, V)|| >= (F - F_lin(W*)) / sqrt(2||W||_Fr² + ||W*||_Fr² (2 + ||V||²/s_min(W)²)).
Eq. (19): the same with denominator ||G||_Fr.

Checked at arbitrary drawn points (any point, as stated) with the squared loss and softmax
cross-entropy, d_y <= d_x. Dropping full row rank: W of rank d_y - 1, G read with the
pseudo-inverse W^+ (W W^T is singular): Lemma 3's step W W^+ = I fails. (For Theorem 6 the
dropped case is vacuous, s_min = 0 makes the bound 0.) The proof writes ||W (W W^T)^{-1}||
for ||W^T (W W^T)^{-1}|| and V S (SS)^{-1} U^T for V S^T (S S^T)^{-1} U^T (notation slips).

Half the instances sit near a critical point (0, V) of F_θ (E[∇ℓ(0; y)(x + V f)^T] = 0) with
W = 10^-3..10^-1 times a Gaussian matrix and W* a descent step from 0: there the gradient is
O(||W||) while F - F_lin(W*) stays O(1), the regime where the ||V||/s_min(W) term is needed and
the bound is tight to a few percent.
"""


from functools import partial

from proofcheck import Margin, Mutant, MutantKind

from . import claim, printed_at
from ._terms import gradient_bound, gradient_bound_flipped, vector_instances, vector_terms
from .assumptions import CONVEX_DIFF, FULL_ROW_RANK


def instances(assumed):
    return vector_instances(full_row_rank=assumed["full_row_rank"],
                            convex=assumed["convex_diff"])


#: The setting of Appendix A: vector outputs, ℓ differentiable and convex, W of full row rank,
#: at drawn points (any point, as stated).
in_appendix_a = partial(claim, hypotheses=(CONVEX_DIFF, FULL_ROW_RANK), instances=instances)


def lemma3_conclusion(inst, point, B, factor=1):
    q = vector_terms(inst, B)
    return Margin.at_least(q.inner, factor * q.gap, tol=q.tol, tol_source=q.tol_source)


def lemma3_flipped(inst, point, B):
    q = vector_terms(inst, B)
    return Margin.at_most(q.inner, q.gap, tol=q.tol, tol_source=q.tol_source)


lemma3 = in_appendix_a("shamir2018.lemma3", printed_at("A", "Lemma 3", "(21)-(22)"),
    title="vector outputs: the gradient's inner product with G bounds the suboptimality",
    statement="For W (full row rank), V, W* with G = (W - W*; W^T (W W^T)^{-1} W* V): "
              "<vec(G), ∇F_θ(W, V)> >= F(W, V, θ) - F_lin(W*)",
    conclusion=lemma3_conclusion,
    mutants=(
        Mutant.conclusion("flipped", MutantKind.FLIPPED_INEQUALITY,
                          "<vec G, ∇F_θ> <= F - F_lin(W*)", lemma3_flipped),
        Mutant.conclusion("doubled_gap", MutantKind.PERTURBED_CONSTANT,
                          "<vec G, ∇F_θ> >= 2 (F - F_lin(W*))",
                          lambda i, p, B: lemma3_conclusion(i, p, B, factor=2)),
        Mutant.drop("full_row_rank", "W of rank d_y - 1 with the pseudo-inverse in G"),
        Mutant.drop("convex_diff", "a smooth non-convex loss"),
    ),
)


def _theorem6(inst, B, c=2.0, with_V=True, use_G=False, factor=1):
    q = vector_terms(inst, B)
    if use_G:
        d = q.G_fro
    else:
        ratio = q.V_spec ** 2 / q.s_min ** 2 if with_V else 0 * q.V_spec
        d = B.sqrt(c * q.W_fro ** 2 + q.W_star_fro ** 2 * (c + ratio))
    return gradient_bound(q, d, factor)


def _theorem6_flipped(inst, point, B):
    q = vector_terms(inst, B)
    d = B.sqrt(2 * q.W_fro ** 2 + q.W_star_fro ** 2 * (2 + q.V_spec ** 2 / q.s_min ** 2))
    return gradient_bound_flipped(q, d)


theorem6 = in_appendix_a("shamir2018.theorem6", printed_at("A", "Theorem 6"),
    title="vector outputs: away from rank-deficient W the gradient bounds the suboptimality",
    statement="If ℓ is differentiable and convex, at any (W, V, θ) with W of full row rank, "
              "||∇F_θ(W, V)|| >= (F(W, V, θ) - F_lin(W*)) / sqrt(2||W||_Fr² + ||W*||_Fr² "
              "(2 + ||V||²/s_min(W)²))",
    conclusion=lambda inst, point, B: _theorem6(inst, B),
    mutants=(
        Mutant.conclusion("flipped", MutantKind.FLIPPED_INEQUALITY,
                          "||∇F_θ|| <= (F - F_lin(W*)) / sqrt(...)", _theorem6_flipped),
        Mutant.conclusion("no_V_term", MutantKind.DROPPED_TERM,
                          "denominator sqrt(2||W||² + 2||W*||²)",
                          lambda i, p, B: _theorem6(i, B, with_V=False)),
        Mutant.conclusion("doubled_gap", MutantKind.PERTURBED_CONSTANT,
                          "||∇F_θ|| >= 2 (F - F_lin(W*)) / sqrt(...)",
                          lambda i, p, B: _theorem6(i, B, factor=2)),
    ),
)


def _eq19_flipped(inst, point, B):
    q = vector_terms(inst, B)
    return Margin.at_most(q.grad_norm * q.G_fro, q.gap, tol=q.tol * (1 + q.G_fro),
                          tol_source=q.tol_source)


eq19 = in_appendix_a("shamir2018.theorem6.eq19", printed_at("A", "proof of Theorem 6", "(19)"),
    title="the unsimplified bound of Theorem 6",
    statement="||∇F_θ(W, V)|| >= (F - F_lin(W*)) / sqrt(||W - W*||_Fr² + "
              "||W^T (W W^T)^{-1} W* V||_Fr²)",
    conclusion=lambda inst, point, B: _theorem6(inst, B, use_G=True),
    mutants=(Mutant.conclusion("flipped", MutantKind.FLIPPED_INEQUALITY,
                               "||∇F_θ|| ||G||_Fr <= F - F_lin(W*)", _eq19_flipped),
             Mutant.conclusion("doubled_gap", MutantKind.PERTURBED_CONSTANT,
                               "||∇F_θ|| ||G||_Fr >= 2 (F - F_lin(W*))",
                               lambda i, p, B: _theorem6(i, B, use_G=True, factor=2)),
             Mutant.drop("convex_diff", "a smooth non-convex loss")),
)
