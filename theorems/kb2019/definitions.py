"""Kawaguchi & Bengio (2019), §3.2: the projections P[M] and P_N[M].

As printed: "Let P[M] be the orthogonal projection matrix onto the column space (or range space)
of a matrix M. Let P_N[M] be the orthogonal projection matrix onto the null space (or kernel
space) of a matrix M." Theorem 2 and its proof then use P_N[X] Y with X ∈ R^{m×d_x},
Y ∈ R^{m×d_y}, and ||Y - P[X]Y||_F = ||P_N[X]Y||_F.

The null space of X lies in R^{d_x}, so the printed P_N[X] is d_x × d_x and P_N[X] Y is not even
defined unless m = d_x; for square X it is still the wrong matrix. What the proofs use is
P_N[M] = I_m - P[M], the orthogonal projector onto Null(M^T) (the left null space).
"""

from proofcheck.lazy import lazy_import

from proofcheck import Identity, Mutant, MutantKind
from proofcheck.symbolic import (SizeSweep, exact_null_projection, exact_projection,
                                 random_rational_matrix, vec)
from proofcheck.symbolic_models import null_space_projection

from . import claim, printed_at

sp = lazy_import("sympy")   # loaded on first use (startup cost)

SOURCE = printed_at("3.2", "definition of P[M] and P_N[M]")
SWEEP = SizeSweep(m=(1, 4), d_x=(1, 3), d_y=(1, 2), rank_X=(0, 3), where="rank_X <= min(m, d_x)")
SQUARE = SizeSweep(m=(1, 4), d_y=(1, 2), rank_X=(0, 4), where="rank_X <= m")


def data(s, rng):
    X = random_rational_matrix(s["m"], s.get("d_x", s["m"]), rng, rank=s["rank_X"])
    Y = random_rational_matrix(s["m"], s["d_y"], rng)
    return X, Y


def printed_residual(s, rng):
    """||Y - P[X]Y|| = ||P_N[X]Y|| read with P_N[X] = projector onto Null(X) (as printed)."""
    X, Y = data(s, rng)
    return null_space_projection(X) * Y, Y - exact_projection(X) * Y, {"X": X, "Y": Y}


# --- as printed ---------------------------------------------------------------------------------

projection_definition_printed = claim("kb2019.definition1", SOURCE,
    title="P_N[M]: the projection used for the residual of linear predictors",
    statement="P_N[M] is the orthogonal projection onto the null space of M, and "
              "Y - P[X]Y = P_N[X]Y (used in the proof of Theorem 2)",
    identities=(
        Identity("residual_any_shape", "P_N[X] Y = Y - P[X] Y with P_N[X] onto Null(X)",
                 printed_residual, SWEEP, method="exact-random"),
        Identity("residual_square_X", "the same for square X (where the product is defined)",
                 printed_residual, SQUARE, method="exact-random"),
    ),
    erratum="'null space of M' must be the null space of M^T (the left null space): the printed "
            "P_N[X] is d_x × d_x, so P_N[X]Y is undefined unless m = d_x, and even for square X "
            "it differs from I - P[X]; the proofs use P_N[M] = I - P[M]",
)


# --- corrected: P_N[M] = I - P[M] is the orthogonal projector onto Null(M^T) --------------------

def projector_properties(s, rng, null=exact_null_projection):
    """Stack the defining properties into one matrix identity, each block should vanish."""
    X, _ = data(s, rng)
    N = null(X)
    m, r = X.rows, X.rank()
    lhs = sp.Matrix.vstack(vec(N - N.T), vec(N * N - N), vec(X.T * N), sp.Matrix([[N.trace()]]))
    rhs = sp.Matrix.vstack(sp.zeros(2 * m * m + X.cols * m, 1), sp.Matrix([[m - r]]))
    return lhs, rhs, {"X": X}


def wrong_null(f):
    return lambda s, rng: projector_properties(s, rng, null=f)


corrected = claim("kb2019.definition1", SOURCE,
    title="P_N[M] = I - P[M], the orthogonal projector onto Null(M^T)",
    statement="P_N[M] := I - P[M] is symmetric, idempotent, annihilates the columns of M "
              "(M^T P_N[M] = 0) and has rank m - rank(M) = dim Null(M^T)",
    identities=(Identity("left_null_projector", "P_N sym., idempotent, M^T P_N = 0, "
                         "tr P_N = m - rank M", projector_properties, SWEEP,
                         method="exact-random", as_printed=False),),
    mutants=(
        Mutant.identity("projection_itself", MutantKind.DROPPED_TERM, "P_N[M] := P[M]",
                        "left_null_projector", wrong_null(exact_projection)),
        Mutant.identity("unnormalised", MutantKind.OTHER, "P_N[M] := I - M M^T",
                        "left_null_projector",
                        wrong_null(lambda X: sp.eye(X.rows) - X * X.T)),
        Mutant.identity("half", MutantKind.PERTURBED_CONSTANT, "P_N[M] := I - ½ P[M]",
                        "left_null_projector",
                        wrong_null(lambda X: sp.eye(X.rows) - exact_projection(X) / 2)),
    ),
)

projection_definition_printed = projection_definition_printed.replace(corrected=corrected)
