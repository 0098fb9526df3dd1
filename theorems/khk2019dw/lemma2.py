"""KHK 2019 (DW), Lemma 2 (Section 4) and the projection facts its proofs use.

Lemma 2 (printed): "For any matrices A and B with A^T B = 0, P[[A B]] = P[A] + P[B]."  No rank
assumption is printed and none is needed (P[M] = M M^+).  Checked in exact rational arithmetic
at random matrices of every rank in the sweep (rank is a dimension of the sweep, so rank-deficient
A and B are covered on purpose); agreement at random points is randomized identity testing.

Facts used in the proofs of Lemma 3 / Theorem 2 (Appendix A.2):

* col[A B] = col[A  P_N[A] B], i.e. P[[A B]] = P[[A, P_N[A] B]] = P[A] + P[P_N[A] B];
* P_N[I_d (x) A] = I_d (x) P_N[A];
* min_R 1/2 ||M R - Y||_F^2 = 1/2 ||P_N[M] Y||_F^2 (the value of basis-function regression).
"""

import numpy as np
from proofcheck.lazy import lazy_import
from hypothesis import strategies as st

from proofcheck import Hypothesis, Identity, Instance, Margin, Mutant, MutantKind
from proofcheck.symbolic import (SizeSweep, exact_null_projection, exact_projection,
                                 random_rational_matrix)

from . import claim, printed_at

sp = lazy_import("sympy")   # loaded on first use (startup cost)

SWEEP = SizeSweep(m=(1, 4), a=(1, 2), b=(1, 2), ra=(0, 2), rb=(0, 2),
                  where="ra <= min(m, a) and rb <= min(m - ra, b)")


def _orthogonal_pair(s, rng, orthogonal=True):
    A = random_rational_matrix(s["m"], s["a"], rng, rank=s["ra"])
    C = random_rational_matrix(s["m"], s["b"], rng, rank=s["rb"])
    B = exact_null_projection(A) * C if orthogonal else C
    if orthogonal and B.rank() != s["rb"]:
        B = exact_null_projection(A) * random_rational_matrix(s["m"], s["b"], rng, rank=s["rb"])
    return A, B


def lemma2_build(s, rng):
    A, B = _orthogonal_pair(s, rng)
    return exact_projection(A.row_join(B)), exact_projection(A) + exact_projection(B), \
        {"A": A, "B": B}


def lemma2_not_orthogonal(s, rng):
    A, B = _orthogonal_pair(s, rng, orthogonal=False)
    return exact_projection(A.row_join(B)), exact_projection(A) + exact_projection(B), \
        {"A": A, "B": B}


def lemma2_dropped_B(s, rng):
    A, B = _orthogonal_pair(s, rng)
    return exact_projection(A.row_join(B)), exact_projection(A), {"A": A, "B": B}


def lemma2_doubled_B(s, rng):
    A, B = _orthogonal_pair(s, rng)
    return exact_projection(A.row_join(B)), exact_projection(A) + 2 * exact_projection(B), \
        {"A": A, "B": B}


def _low_rank(rng, m, n, r):
    return rng.normal(size=(m, r)) @ rng.normal(size=(r, n)) if r else np.zeros((m, n))


@st.composite
def _float_pairs(draw, orthogonal=True):
    m = draw(st.integers(1, 6))
    a, b = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    ra = draw(st.integers(0, min(m, a)))
    rb = draw(st.integers(0, min(m - ra, b))) if orthogonal else draw(st.integers(1, min(m, b)))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 31 - 1)))
    A = _low_rank(rng, m, a, ra)
    C = _low_rank(rng, m, b, rb)
    if orthogonal:
        from proofcheck.linalg import null_project
        C = null_project(A, C) if ra else C
    return Instance(A=A, B=C)


def _float_instances(assumed):
    return _float_pairs(assumed["A^T B = 0"])


def _float_split(inst, point, B, weight=1.0):
    A, Bm = B.asarray(inst.A), B.asarray(inst.B)
    lhs = B.projection(B.hstack([A, Bm]))
    rhs = B.projection(A) + weight * B.projection(Bm)
    # both sides are SVD projections; their error is cond times the rounding of the SVD
    # (Higham ch. 20); cond of [A B] restricted to its numerical range
    cond = B.condition_number(B.hstack([A, Bm]))
    n = int(np.prod(np.shape(inst.A)[-2:])) + int(np.prod(np.shape(inst.B)[-2:]))
    return Margin.equal_matrices(lhs, rhs, B, cond=cond, n_ops=max(1, n))


ORTHOGONAL = Hypothesis("A^T B = 0", "A^T B = 0 (B = P_N[A] C, up to rounding in float64)",
                        None)

lemma2 = claim("khk2019dw.lemma2", printed_at("4.1", "Lemma 2"),
    title="projection onto orthogonal blocks splits",
    statement="For any matrices A and B such that A^T B = 0, P[[A B]] = P[A] + P[B]",
    identities=(Identity("split", "A^T B = 0 => P[[A B]] = P[A] + P[B]", lemma2_build, SWEEP,
                         method="exact-random"),),
    hypotheses=(ORTHOGONAL,),
    conclusion=_float_split,
    instances=_float_instances,
    notes="Exact part: rational matrices at every rank of the sweep.  float64 part: Gaussian "
          "low-rank A and B = P_N[A] C; the hypothesis holds up to rounding, so it has no exact "
          "predicate here, and the float64 data are not re-evaluated at high precision (at 40 "
          "digits the O(eps) part of B in col(A) is a genuine component, A^T B != 0).",
    high_precision=False,
    mutants=(
        Mutant.drop("A^T B = 0", "float64: P[[A B]] = P[A] + P[B] for generic B"),
        Mutant.conclusion("float_doubled", MutantKind.PERTURBED_CONSTANT,
                          "float64: P[[A B]] = P[A] + 2 P[B]",
                          lambda inst, point, B: _float_split(inst, point, B, 2.0)),
        Mutant.identity("not_orthogonal", MutantKind.DROPPED_HYPOTHESIS,
                        "P[[A B]] = P[A] + P[B] without A^T B = 0", "split",
                        lemma2_not_orthogonal),
        Mutant.identity("dropped_B", MutantKind.DROPPED_TERM, "P[[A B]] = P[A]", "split",
                        lemma2_dropped_B),
        Mutant.identity("doubled_B", MutantKind.PERTURBED_CONSTANT,
                        "P[[A B]] = P[A] + 2 P[B]", "split", lemma2_doubled_B),
    ),
)


# --- col[A B] = col[A, P_N[A] B] ----------------------------------------------------------------

GEN = SizeSweep(m=(1, 3), a=(1, 2), b=(1, 2), ra=(0, 2), rb=(0, 2),
                where="ra <= min(m, a) and rb <= min(m, b)")


def _pair(s, rng):
    return (random_rational_matrix(s["m"], s["a"], rng, rank=s["ra"]),
            random_rational_matrix(s["m"], s["b"], rng, rank=s["rb"]))


def col_split_build(s, rng, inner=exact_null_projection):
    A, B = _pair(s, rng)
    lhs = exact_projection(A.row_join(B))
    return lhs, exact_projection(A.row_join(inner(A) * B)), {"A": A, "B": B}


def col_split_sum_build(s, rng, inner=exact_null_projection):
    A, B = _pair(s, rng)
    return exact_projection(A.row_join(B)), \
        exact_projection(A) + exact_projection(inner(A) * B), {"A": A, "B": B}


col_split = claim(
    "khk2019dw.lemma2.col_split", printed_at("A.2", "proofs of Lemma 3 and Theorem 2"),
    title="col[A B] = col[A, P_N[A] B] and the resulting split of P[[A B]]",
    statement="col[A B] = col[A  P_N[A] B], hence P[[A B]] = P[A] + P[P_N[A] B]",
    identities=(
        Identity("same_column_space", "P[[A B]] = P[[A, P_N[A] B]]", col_split_build, GEN,
                 method="exact-random"),
        Identity("split", "P[[A B]] = P[A] + P[P_N[A] B]", col_split_sum_build, GEN,
                 method="exact-random"),
    ),
    mutants=(
        Mutant.identity("projection_not_null", MutantKind.OTHER,
                        "P[[A B]] = P[A] + P[P[A] B]", "split",
                        lambda s, rng: col_split_sum_build(s, rng, exact_projection)),
        Mutant.identity("unprojected", MutantKind.DROPPED_TERM,
                        "P[[A B]] = P[A] + P[B] (B not projected)", "split",
                        lambda s, rng: col_split_sum_build(s, rng,
                                                           lambda A: sp.eye(A.rows))),
    ),
)


# --- P_N[I_d (x) A] = I_d (x) P_N[A] ------------------------------------------------------------

KRON = SizeSweep(d=(1, 3), m=(1, 3), a=(1, 2), r=(0, 2), where="r <= min(m, a)")


def _kron(A, B):
    return sp.Matrix(sp.BlockMatrix([[A[i, j] * B for j in range(A.cols)]
                                     for i in range(A.rows)]).as_explicit())


def kron_null_build(s, rng, swapped=False):
    A = random_rational_matrix(s["m"], s["a"], rng, rank=s["r"])
    I = sp.eye(s["d"])
    rhs = _kron(exact_null_projection(A), I) if swapped else _kron(I, exact_null_projection(A))
    return exact_null_projection(_kron(I, A)), rhs, {"A": A}


def kron_null_projection_only(s, rng):
    A = random_rational_matrix(s["m"], s["a"], rng, rank=s["r"])
    I = sp.eye(s["d"])
    return exact_null_projection(_kron(I, A)), _kron(I, exact_projection(A)), {"A": A}


kron_null = claim("khk2019dw.lemma2.kron_null", printed_at("A.2", "proof of Theorem 2"),
    title="the null projection of a block-diagonal Kronecker product",
    statement="P_N[I_d (x) A] = I_d (x) P_N[A]",
    identities=(Identity("kron_null", "P_N[I_d (x) A] = I_d (x) P_N[A]", kron_null_build, KRON,
                         method="exact-random"),),
    mutants=(
        Mutant.identity("swapped", MutantKind.TRANSPOSED, "P_N[I_d (x) A] = P_N[A] (x) I_d",
                        "kron_null", lambda s, rng: kron_null_build(s, rng, swapped=True)),
        Mutant.identity("projection", MutantKind.OTHER, "P_N[I_d (x) A] = I_d (x) P[A]",
                        "kron_null", kron_null_projection_only),
    ),
)


# --- min_R 1/2 ||M R - Y||^2 = 1/2 ||P_N[M] Y||^2 -----------------------------------------------

LSQ = SizeSweep(m=(1, 4), n=(1, 3), k=(1, 2), r=(0, 3), where="r <= min(m, n)")


def _lsq_value(M, Y):
    """min_R 1/2 ||M R - Y||^2 from one exact solution of the normal equations M^T M R = M^T Y
    (any solution: free parameters set to 0); independent of the projection formula."""
    sol, params = (M.T * M).gauss_jordan_solve(M.T * Y)
    R = sol.subs({p: 0 for p in params})
    E = M * R - Y
    return sp.Rational(1, 2) * sum(e ** 2 for e in E)


def lsq_build(s, rng, value=lambda M, Y: sp.Rational(1, 2) * sum(
        e ** 2 for e in exact_null_projection(M) * Y)):
    M = random_rational_matrix(s["m"], s["n"], rng, rank=s["r"])
    Y = random_rational_matrix(s["m"], s["k"], rng)
    return sp.Matrix([[_lsq_value(M, Y)]]), sp.Matrix([[value(M, Y)]]), {"M": M, "Y": Y}


least_squares = claim(
    "khk2019dw.lemma2.least_squares", printed_at("A.2", "proof of Theorem 2 (last step)"),
    title="the global minimum of basis-function regression",
    statement="min_R 1/2 ||M R - Y||_F^2 = 1/2 ||P_N[M] Y||_F^2",
    identities=(Identity("least_squares", "min_R 1/2||MR - Y||^2 = 1/2||P_N[M]Y||^2", lsq_build,
                         LSQ, method="exact-random"),),
    mutants=(
        Mutant.identity("projection", MutantKind.OTHER, "min = 1/2 ||P[M] Y||^2",
                        "least_squares", lambda s, rng: lsq_build(
                            s, rng, lambda M, Y: sp.Rational(1, 2) * sum(
                                e ** 2 for e in exact_projection(M) * Y))),
        Mutant.identity("no_half", MutantKind.PERTURBED_CONSTANT, "min = ||P_N[M] Y||^2",
                        "least_squares", lambda s, rng: lsq_build(
                            s, rng,
                            lambda M, Y: sum(e ** 2 for e in exact_null_projection(M) * Y))),
    ),
)
