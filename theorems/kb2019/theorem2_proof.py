"""Kawaguchi & Bengio (2019), the identities of the proof of Theorem 2 (App. B.2).

Notation (§3.2): X ∈ R^{m×d_x}, Z = Z(X, θ) ∈ R^{m×d_z}, Y ∈ R^{m×d_y}; P[M] projects onto the
column space of M and P_N[M] = I - P[M] (onto Null(M^T); see ``definitions.py`` for the
printed wording). g(R) = (1/m)||[X Z] R - Y||_F^2 with R ∈ R^{(d_x+d_z)×d_y}.

The projection identities involve pseudo-inverses, so they are checked in exact rational
arithmetic at random instances of every size of the sweep, including rank-deficient X
(polynomial identity testing: an exact refutation when one fails, strong evidence — not a
proof for all matrices — when they hold). The derivative of g is proven symbolically.

Two slips of the printed proof are recorded as errata:
* ∂g/∂vec(R) = (2/m) vec([X Z]R - Y)^T [I_{d_y} ⊗ [X Z]] "= (2/m) vec([X Z]R - Y)^T [X Z]":
  the second expression is not even defined when d_y >= 2.
* L*_{x,z(x,θ)} = ||Y - (P[X] + P[P_N[X]Z])Y||_F^2 drops the factor 1/m of g.
"""

from proofcheck.lazy import lazy_import

from proofcheck import Claim, Identity, Mutant, MutantKind
from proofcheck.symbolic import (SizeSweep, exact_null_projection, exact_projection, kron,
                                 kron_jacobian, random_rational_matrix, symbol_matrix, vec)

from . import printed_at

sp = lazy_import("sympy")   # loaded on first use (startup cost)

P, P_N = exact_projection, exact_null_projection
SOURCE = printed_at("B.2", "proof of Theorem 2")

# every size with m <= 4, d_x, d_z, d_y <= 2 and every rank of X (0 = the zero matrix)
SWEEP = SizeSweep(m=(1, 4), d_x=(1, 2), d_z=(1, 2), d_y=(1, 2), rank_X=(0, 2),
                  where="rank_X <= min(m, d_x)")


def data(s, rng):
    """Exact rational X (of rank ``rank_X``), Z and Y of the sizes ``s``."""
    X = random_rational_matrix(s["m"], s["d_x"], rng, rank=s["rank_X"])
    Z = random_rational_matrix(s["m"], s["d_z"], rng)
    Y = random_rational_matrix(s["m"], s["d_y"], rng)
    return X, Z, Y


def fro2(M):
    return (M.T * M).trace()


def step(slug, statement, build, mutants, *, sweep=SWEEP, method="exact-random"):
    """One proof step as a claim ``kb2019.theorem2.<slug>``."""
    return Claim(id=f"kb2019.theorem2.{slug}", title=statement, source=SOURCE,
                 statement=statement,
                 identities=(Identity(slug, statement, build, sweep, method=method),),
                 mutants=tuple(Mutant.identity(name, kind, text, slug, b)
                               for name, kind, text, b in mutants))


# --- P[[X Z]] = P[X] + P[P_N[X] Z] ---------------------------------------------------------------

def projection_split_build(s, rng):
    X, Z, Y = data(s, rng)
    return P(X.row_join(Z)), P(X) + P(P_N(X) * Z), {"X": X, "Z": Z}


projection_split = step(
    "projection_split", "P[[X Z]] = P[X] + P[P_N[X] Z]", projection_split_build, [
        ("dropped_null_projection", MutantKind.DROPPED_TERM, "P[X] + P[Z]",
         lambda s, rng: (lambda X, Z, Y: (P(X.row_join(Z)), P(X) + P(Z)))(*data(s, rng))),
        ("flipped_sign", MutantKind.FLIPPED_INEQUALITY, "P[X] - P[P_N[X] Z]",
         lambda s, rng: (lambda X, Z, Y: (P(X.row_join(Z)), P(X) - P(P_N(X) * Z)))(*data(s, rng))),
        ("doubled", MutantKind.PERTURBED_CONSTANT, "P[X] + 2 P[P_N[X] Z]",
         lambda s, rng: (lambda X, Z, Y: (P(X.row_join(Z)),
                                          P(X) + 2 * P(P_N(X) * Z)))(*data(s, rng))),
    ])


# --- span[X Z] = span[X, P_N[X] Z] ----------------------------------------------------------------

span_equality = step(
    "span_equality", "P[[X Z]] = P[[X, P_N[X] Z]]",
    lambda s, rng: (lambda X, Z, Y: (P(X.row_join(Z)), P(X.row_join(P_N(X) * Z))))(*data(s, rng)), [
        ("projection_instead_of_null", MutantKind.OTHER, "P[[X, P[X] Z]]",
         lambda s, rng: (lambda X, Z, Y: (P(X.row_join(Z)),
                                          P(X.row_join(P(X) * Z))))(*data(s, rng))),
        ("dropped_X", MutantKind.DROPPED_TERM, "P[P_N[X] Z]",
         lambda s, rng: (lambda X, Z, Y: (P(X.row_join(Z)), P(P_N(X) * Z)))(*data(s, rng))),
        ("only_X", MutantKind.DROPPED_TERM, "P[X]",
         lambda s, rng: (lambda X, Z, Y: (P(X.row_join(Z)), P(X)))(*data(s, rng))),
    ])


# --- the block pseudo-inverse step ----------------------------------------------------------------

def block_pinv_build(s, rng, scale=1):
    X, Z, Y = data(s, rng)
    A = X.row_join(P_N(X) * Z)
    G = sp.diag(X.T * X, Z.T * P_N(X) * Z)
    return A * (scale * G).pinv() * A.T, P(X) + P(P_N(X) * Z)


def block_pinv_full_gram(s, rng):
    X, Z, Y = data(s, rng)
    A = X.row_join(Z)
    G = sp.diag(X.T * X, Z.T * Z)        # drops the cross terms: only right when X^T Z = 0
    return A * G.pinv() * A.T, P(X) + P(P_N(X) * Z)


block_pinv = step(
    "block_pinv",
    "[X  P_N[X]Z] diag(X^T X, Z^T P_N[X] Z)^† [X  P_N[X]Z]^T = P[X] + P[P_N[X] Z]",
    block_pinv_build, [
        ("halved_gram", MutantKind.PERTURBED_CONSTANT, "(2 G)^† instead of G^†",
         lambda s, rng: block_pinv_build(s, rng, scale=2)),
        ("unprojected_Z", MutantKind.DROPPED_TERM, "[X Z] diag(X^T X, Z^T Z)^† [X Z]^T",
         block_pinv_full_gram),
        ("without_pinv", MutantKind.OTHER, "[X P_N Z] diag(X^T X, Z^T P_N Z) [X P_N Z]^T",
         lambda s, rng: (lambda X, Z, Y: (
             X.row_join(P_N(X) * Z) * sp.diag(X.T * X, Z.T * P_N(X) * Z)
             * X.row_join(P_N(X) * Z).T, P(X) + P(P_N(X) * Z)))(*data(s, rng))),
    ])


# --- the trace step and the value of the residual -------------------------------------------------

def _parts(s, rng):
    X, Z, Y = data(s, rng)
    return P_N(X), P(P_N(X) * Z), Y


def trace_step_build(s, rng, rhs=lambda N, Q, Y: fro2(Q * Y)):
    N, Q, Y = _parts(s, rng)
    return sp.Matrix([[((N * Y).T * Q * Y).trace()]]), sp.Matrix([[rhs(N, Q, Y)]])


trace_step = step(
    "trace_step", "tr((P_N[X]Y)^T P[P_N[X]Z] Y) = ||P[P_N[X]Z] Y||_F^2", trace_step_build, [
        ("null_norm", MutantKind.OTHER, "... = ||P_N[X] Y||^2",
         lambda s, rng: trace_step_build(s, rng, rhs=lambda N, Q, Y: fro2(N * Y))),
        ("doubled", MutantKind.PERTURBED_CONSTANT, "... = 2||P[P_N Z] Y||^2",
         lambda s, rng: trace_step_build(s, rng, rhs=lambda N, Q, Y: 2 * fro2(Q * Y))),
        ("dropped_projection", MutantKind.DROPPED_TERM, "... = ||Y||^2",
         lambda s, rng: trace_step_build(s, rng, rhs=lambda N, Q, Y: fro2(Y))),
    ])


def residual_norm_build(s, rng, sign=-1):
    X, Z, Y = data(s, rng)
    lhs = fro2(Y - (P(X) + P(P_N(X) * Z)) * Y)
    return sp.Matrix([[lhs]]), sp.Matrix([[fro2(P_N(X) * Y) + sign * fro2(P(P_N(X) * Z) * Y)]])


residual_norm = step(
    "residual_norm", "||Y - (P[X] + P[P_N[X]Z])Y||_F^2 = ||P_N[X]Y||_F^2 - ||P[P_N[X]Z]Y||_F^2",
    residual_norm_build, [
        ("flipped_sign", MutantKind.FLIPPED_INEQUALITY, "... = ||P_N Y||^2 + ||P[P_N Z] Y||^2",
         lambda s, rng: residual_norm_build(s, rng, sign=+1)),
        ("dropped_improvement", MutantKind.DROPPED_TERM, "... = ||P_N Y||^2",
         lambda s, rng: residual_norm_build(s, rng, sign=0)),
        ("doubled_improvement", MutantKind.PERTURBED_CONSTANT,
         "... = ||P_N Y||^2 - 2||P[P_N Z] Y||^2",
         lambda s, rng: residual_norm_build(s, rng, sign=-2)),
    ])


def improvement_projected_build(s, rng, inner=None):
    X, Z, Y = data(s, rng)
    Q = P(P_N(X) * Z)
    inner = P_N(X) if inner is None else inner(X, Z)
    return sp.Matrix([[fro2(Q * Y)]]), sp.Matrix([[fro2(Q * inner * Y)]])


improvement_projected = step(
    "improvement_projected", "||P[P_N[X]Z] Y||_F^2 = ||P[P_N[X]Z] P_N[X] Y||_F^2",
    improvement_projected_build, [
        ("projection_instead_of_null", MutantKind.OTHER, "||P[P_N Z] P[X] Y||^2",
         lambda s, rng: improvement_projected_build(s, rng, inner=lambda X, Z: P(X))),
        ("unprojected_Z", MutantKind.DROPPED_TERM, "||P[P_N Z] P[Z] Y||^2",
         lambda s, rng: improvement_projected_build(s, rng, inner=lambda X, Z: P(Z))),
        ("halved", MutantKind.PERTURBED_CONSTANT, "½||P[P_N Z] P_N Y||^2",
         lambda s, rng: improvement_projected_build(s, rng,
                                                    inner=lambda X, Z: P_N(X) / sp.sqrt(2))),
    ])


# --- all minimisers of g satisfy [X Z] R = P[[X Z]] Y --------------------------------------------

def normal_equations_build(s, rng, rhs=None):
    X, Z, Y = data(s, rng)
    A = X.row_join(Z)
    K = random_rational_matrix(A.cols, Y.cols, rng)     # any element of the solution family
    R = A.pinv() * Y + (sp.eye(A.cols) - A.pinv() * A) * K
    return A * R, (P(A) * Y if rhs is None else rhs(A, Y))


normal_equations = step(
    "normal_equations", "every R with ∂g/∂vec(R) = 0 has [X Z] R = P[[X Z]] Y",
    normal_equations_build, [
        ("target_itself", MutantKind.DROPPED_TERM, "[X Z] R = Y",
         lambda s, rng: normal_equations_build(s, rng, rhs=lambda A, Y: Y)),
        ("null_projection", MutantKind.OTHER, "[X Z] R = P_N[[X Z]] Y",
         lambda s, rng: normal_equations_build(s, rng, rhs=lambda A, Y: P_N(A) * Y)),
        ("only_X", MutantKind.DROPPED_TERM, "[X Z] R = P[X] Y",
         lambda s, rng: normal_equations_build(s, rng, rhs=lambda A, Y: P(A[:, :s["d_x"]]) * Y)),
    ])


# --- the value L*_{x,z}: printed without 1/m ------------------------------------------------------

def lstar_xz(X, Z, Y):
    """min_R (1/m)||[X Z]R - Y||_F^2, computed from a minimiser R = [X Z]^† Y (not from P)."""
    A = X.row_join(Z)
    return fro2(A * A.pinv() * Y - Y) / X.rows


def proof_constant_build(s, rng, factor):
    X, Z, Y = data(s, rng)
    return (sp.Matrix([[lstar_xz(X, Z, Y)]]),
            sp.Matrix([[factor(s["m"]) * fro2(Y - (P(X) + P(P_N(X) * Z)) * Y)]]),
            {"X": X, "Z": Z, "Y": Y})


proof_constant = Claim(
    id="kb2019.theorem2.proof_constant", title="the value L*_{x,z} in the proof", source=SOURCE,
    statement="L*_{x,z(x,θ)} = ||Y - (P[X] + P[P_N[X]Z])Y||_F^2",
    identities=(Identity("proof_constant", "L*_{x,z} = ||Y - (P[X] + P[P_N[X]Z])Y||_F^2",
                         lambda s, rng: proof_constant_build(s, rng, lambda m: 1), SWEEP,
                         method="exact-random"),),
    erratum="the factor 1/m of g(R) is dropped: the printed value is m times L*_{x,z}; "
            "Theorem 2's statement has the 1/m and is unaffected",
    corrected=step("proof_constant", "L*_{x,z} = (1/m)||Y - (P[X] + P[P_N[X]Z])Y||_F^2",
                   lambda s, rng: proof_constant_build(s, rng, lambda m: sp.Rational(1, m)), [
                       ("as_printed", MutantKind.PERTURBED_CONSTANT, "without 1/m",
                        lambda s, rng: proof_constant_build(s, rng, lambda m: 1)),
                       ("over_m_squared", MutantKind.PERTURBED_CONSTANT, "1/m^2",
                        lambda s, rng: proof_constant_build(s, rng,
                                                            lambda m: sp.Rational(1, m * m))),
                       ("dropped_improvement", MutantKind.DROPPED_TERM, "(1/m)||Y - P[X] Y||^2",
                        lambda s, rng: (lambda X, Z, Y: (sp.Matrix([[lstar_xz(X, Z, Y)]]),
                                                         sp.Matrix([[fro2(Y - P(X) * Y)
                                                                     / s["m"]]])))(*data(s, rng))),
                   ]),
)


# --- the gradient of g --------------------------------------------------------------------------

G_SWEEP = SizeSweep(m=(1, 3), k=(1, 3), d_y=(1, 2))


def _g(s):
    A, R, Y = (symbol_matrix("A", s["m"], s["k"]), symbol_matrix("R", s["k"], s["d_y"]),
               symbol_matrix("Y", s["m"], s["d_y"]))
    E = A * R - Y
    return A, R, E, sp.Matrix([[fro2(E) / s["m"]]])


def gradient_first_form(s, factor=2, kron_order="I_A"):
    A, R, E, g = _g(s)
    K = kron(sp.eye(s["d_y"]), A) if kron_order == "I_A" else kron(A, sp.eye(s["d_y"]))
    return kron_jacobian(g, R), sp.Rational(factor, s["m"]) * vec(E).T * K


def gradient_second_form(s):
    A, R, E, g = _g(s)
    return kron_jacobian(g, R), sp.Rational(2, s["m"]) * vec(E).T * A


gradient_form = Claim(
    id="kb2019.theorem2.gradient_form", title="the gradient of g(R)", source=SOURCE,
    statement="∂g/∂vec(R) = (2/m) vec([X Z]R - Y)^T [I_{d_y} ⊗ [X Z]] "
              "= (2/m) vec([X Z]R - Y)^T [X Z]",
    identities=(
        Identity("first_form", "∂g/∂vec(R) = (2/m) vec(AR - Y)^T [I ⊗ A]", gradient_first_form,
                 G_SWEEP),
        Identity("second_form", "∂g/∂vec(R) = (2/m) vec(AR - Y)^T A", gradient_second_form,
                 G_SWEEP),
    ),
    erratum="the second expression drops the Kronecker factor I_{d_y}: it is undefined for "
            "d_y >= 2 (a 1 x m d_y row times an m x k matrix); the first form is right",
    corrected=Claim(
        id="kb2019.theorem2.gradient_form", title="the gradient of g(R) (corrected)",
        source=SOURCE, statement="∂g/∂vec(R) = (2/m) vec([X Z]R - Y)^T [I_{d_y} ⊗ [X Z]]",
        identities=(Identity("first_form", "∂g/∂vec(R) = (2/m) vec(AR - Y)^T [I ⊗ A]",
                             gradient_first_form, G_SWEEP, as_printed=False),),
        mutants=(
            Mutant.identity("second_form", MutantKind.DROPPED_TERM, "(2/m) vec(AR - Y)^T A",
                            "first_form", gradient_second_form),
            Mutant.identity("factor_one", MutantKind.PERTURBED_CONSTANT, "(1/m) instead of (2/m)",
                            "first_form", lambda s: gradient_first_form(s, factor=1)),
            Mutant.identity("kron_order", MutantKind.OTHER, "[A ⊗ I] instead of [I ⊗ A]",
                            "first_form", lambda s: gradient_first_form(s, kron_order="A_I")),
        )),
)
