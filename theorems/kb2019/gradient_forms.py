"""Kawaguchi & Bengio (2019): the vec forms of the first-order conditions (App. A.2, B.1).

The proofs of Lemma 2 and Theorem 1 write the chain rule with D = ∂ℓ/∂h (a 1 × d_y row) as

    D [z^T ⊗ W]            = vec(z D W)            (A.2, ∂L/∂vec(V), case rank(W) >= d_y)
    D [(x + Vz)^T ⊗ I]     = vec((x + Vz) D)       (A.2, ∂L/∂vec(W))
    D [φ_θ(x)^T ⊗ I]       = vec(φ_θ(x) D)         (B.1, ∂L^R/∂vec(R))

Read as the equality of the two (flattened) vectors, each is *false as printed* whenever both
matrix dimensions exceed 1: the left side is vec of the d_x × d_z (resp. d_y × d_x) gradient,
the right side vec of its transpose. The corrected identities carry the transposes:

    D [z^T ⊗ W] = vec(W^T D^T z^T)^T,  D [(x+Vz)^T ⊗ I] = vec(D^T (x+Vz)^T)^T,
    D [φ^T ⊗ I] = vec(D^T φ^T)^T.

The slip is harmless for the proofs: a matrix is zero iff its transpose is, so "= 0" and the
conclusions E[zD] = 0, E[xD] = 0 are unaffected.
"""

from proofcheck import Claim, Identity, Mutant, MutantKind
from proofcheck.symbolic import SizeSweep, kron, vec

from . import claim, printed_at
from ._declare import on_resnet

SWEEP = SizeSweep(d_x=(1, 3), d_y=(1, 3), d_z=(1, 3))
HARMLESS = ("as printed the two sides differ by a transpose (vec(A) vs vec(A^T)); the zero "
            "set is the same, so the proof's conclusion is unaffected")


def _row(v):
    return v.T  # compare the chain-rule row with the printed vec as a row


def vec_form(id, source, /, *, title, statement, name, lhs, printed, corrected, mutants):
    """A chain-rule row ``lhs(r)`` stated equal to ``vec(M)`` with ``printed = (text, M)``, and
    its corrected reading ``corrected = (text, M)``, a transpose away (:data:`HARMLESS`).

    ``M`` are functions of the ResNet's symbols ``r``; ``mutants`` are rows ``(name, kind,
    description, M)`` of the corrected claim, each replacing its ``vec`` side; the printed form
    itself is always the first mutant ("as_printed")."""
    def sides(M):
        return on_resnet(lambda r: (lhs(r), _row(vec(M(r)))))

    (printed_text, printed_M), (corrected_text, corrected_M) = printed, corrected
    rows = (("as_printed", MutantKind.TRANSPOSED,
             printed_text.split(" = ", 1)[1] + " (printed)", printed_M),) + tuple(mutants)
    return claim(
        id, source, title=title, statement=statement,
        identities=(Identity(name, printed_text, sides(printed_M), SWEEP),),
        erratum=HARMLESS,
        corrected=Claim(
            id=id, title=f"{title} (corrected)", source=source, statement=corrected_text,
            identities=(Identity(name, corrected_text, sides(corrected_M), SWEEP,
                                 as_printed=False),),
            mutants=tuple(Mutant.identity(n, kind, text, name, sides(M))
                          for n, kind, text, M in rows)))


# --- ∂L/∂vec(V) --------------------------------------------------------------------------------

grad_V_form = vec_form(
    "kb2019.lemma2.grad_V_form", printed_at("A.2", "proof of Lemma 2, case rank(W) >= d_y"),
    title="vec form of ∂L/∂vec(V)",
    statement="E[D[z^T ⊗ W]] = E[vec(zDW)]",
    name="grad_V_form",
    lhs=lambda r: r.D * kron(r.z.T, r.W),
    printed=("D[z^T ⊗ W] = vec(zDW)", lambda r: r.z * r.D * r.W),
    corrected=("D[z^T ⊗ W] = vec(W^T D^T z^T)^T", lambda r: r.W.T * r.D.T * r.z.T),
    mutants=(
        ("dropped_W", MutantKind.DROPPED_TERM, "vec(D^T z^T)", lambda r: r.D.T * r.z.T),
        ("doubled", MutantKind.PERTURBED_CONSTANT, "2 vec(W^T D^T z^T)^T",
         lambda r: 2 * r.W.T * r.D.T * r.z.T),
    ),
)


# --- ∂L/∂vec(W) --------------------------------------------------------------------------------

def _a(r):
    return r.x + r.V * r.z


grad_W_form = vec_form("kb2019.lemma2.grad_W_form", printed_at("A.2", "proof of Lemma 2"),
    title="vec form of ∂L/∂vec(W)",
    statement="E[D[(x + Vz)^T ⊗ I_{d_y}]] = E[vec((x + Vz)D)]",
    name="grad_W_form",
    lhs=lambda r: r.D * kron(_a(r).T, r.I_y),
    printed=("D[(x+Vz)^T ⊗ I] = vec((x+Vz)D)", lambda r: _a(r) * r.D),
    corrected=("D[(x+Vz)^T ⊗ I] = vec(D^T (x+Vz)^T)^T", lambda r: r.D.T * _a(r).T),
    mutants=(
        ("dropped_Vz", MutantKind.DROPPED_TERM, "vec(D^T x^T)^T", lambda r: r.D.T * r.x.T),
        ("halved", MutantKind.PERTURBED_CONSTANT, "½ vec(D^T (x+Vz)^T)^T",
         lambda r: r.D.T * _a(r).T / 2),
    ),
)


# --- ∂L^R/∂vec(R) (Theorem 1's proof) ------------------------------------------------------------

grad_R_form = vec_form("kb2019.theorem1.grad_R_form", printed_at("B.1", "proof of Theorem 1"),
    title="vec form of ∂L^R/∂vec(R)",
    statement="E[D[φ_θ(x)^T ⊗ I_{d_y}]] = vec(E[φ_θ(x) D])",
    name="grad_R_form",
    lhs=lambda r: r.D * kron(r.phi.T, r.I_y),
    printed=("D[φ^T ⊗ I] = vec(φ D)", lambda r: r.phi * r.D),
    corrected=("D[φ^T ⊗ I] = vec(D^T φ^T)^T", lambda r: r.D.T * r.phi.T),
    mutants=(
        ("dropped_z", MutantKind.DROPPED_TERM, "vec(D^T x^T)^T (z block dropped)",
         lambda r: r.D.T * r.x.T),
        ("negated", MutantKind.PERTURBED_CONSTANT, "-vec(D^T φ^T)^T",
         lambda r: -r.D.T * r.phi.T),
    ),
)
