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

from proofcheck import Claim, Identity, Mutant, MutantKind, Source
from proofcheck.symbolic import SizeSweep, kron, vec

from ._declare import on_resnet

SWEEP = SizeSweep(d_x=(1, 3), d_y=(1, 3), d_z=(1, 3))
HARMLESS = ("as printed the two sides differ by a transpose (vec(A) vs vec(A^T)); the zero "
            "set is the same, so the proof's conclusion is unaffected")


def _row(v):
    return v.T  # compare the chain-rule row with the printed vec as a row


# --- ∂L/∂vec(V) --------------------------------------------------------------------------------

grad_V_printed = on_resnet(lambda r: (r.D * kron(r.z.T, r.W), _row(vec(r.z * r.D * r.W))))

grad_V_corrected = on_resnet(lambda r: (r.D * kron(r.z.T, r.W), _row(vec(r.W.T * r.D.T * r.z.T))))

grad_V_without_W = on_resnet(lambda r: (r.D * kron(r.z.T, r.W), _row(vec(r.D.T * r.z.T))))

grad_V_doubled = on_resnet(
    lambda r: (r.D * kron(r.z.T, r.W), 2 * _row(vec(r.W.T * r.D.T * r.z.T))))


def _grad_V(printed):
    build = grad_V_printed if printed else grad_V_corrected
    text = "D[z^T ⊗ W] = vec(zDW)" if printed else "D[z^T ⊗ W] = vec(W^T D^T z^T)^T"
    return Identity("grad_V_form", text, build, SWEEP, as_printed=printed)


grad_V_form = Claim(
    id="kb2019.lemma2.grad_V_form",
    title="vec form of ∂L/∂vec(V)",
    source=Source("kb2019", "A.2", "proof of Lemma 2, case rank(W) >= d_y"),
    statement="E[D[z^T ⊗ W]] = E[vec(zDW)]",
    identities=(_grad_V(True),),
    erratum=HARMLESS,
    corrected=Claim(
        id="kb2019.lemma2.grad_V_form", title="vec form of ∂L/∂vec(V) (corrected)",
        source=Source("kb2019", "A.2", "proof of Lemma 2, case rank(W) >= d_y"),
        statement="D[z^T ⊗ W] = vec(W^T D^T z^T)^T", identities=(_grad_V(False),),
        mutants=(
            Mutant.identity("as_printed", MutantKind.TRANSPOSED, "vec(zDW) (the printed form)",
                            "grad_V_form", grad_V_printed),
            Mutant.identity("dropped_W", MutantKind.DROPPED_TERM, "vec(D^T z^T)",
                            "grad_V_form", grad_V_without_W),
            Mutant.identity("doubled", MutantKind.PERTURBED_CONSTANT, "2 vec(W^T D^T z^T)^T",
                            "grad_V_form", grad_V_doubled),
        )),
)


# --- ∂L/∂vec(W) --------------------------------------------------------------------------------

def _a(r):
    return r.x + r.V * r.z


grad_W_printed = on_resnet(lambda r: (r.D * kron(_a(r).T, r.I_y), _row(vec(_a(r) * r.D))))

grad_W_corrected = on_resnet(lambda r: (r.D * kron(_a(r).T, r.I_y), _row(vec(r.D.T * _a(r).T))))

grad_W_without_Vz = on_resnet(lambda r: (r.D * kron(_a(r).T, r.I_y), _row(vec(r.D.T * r.x.T))))

grad_W_halved = on_resnet(lambda r: (r.D * kron(_a(r).T, r.I_y), _row(vec(r.D.T * _a(r).T)) / 2))


grad_W_form = Claim(
    id="kb2019.lemma2.grad_W_form",
    title="vec form of ∂L/∂vec(W)",
    source=Source("kb2019", "A.2", "proof of Lemma 2"),
    statement="E[D[(x + Vz)^T ⊗ I_{d_y}]] = E[vec((x + Vz)D)]",
    identities=(Identity("grad_W_form", "D[(x+Vz)^T ⊗ I] = vec((x+Vz)D)", grad_W_printed,
                         SWEEP),),
    erratum=HARMLESS,
    corrected=Claim(
        id="kb2019.lemma2.grad_W_form", title="vec form of ∂L/∂vec(W) (corrected)",
        source=Source("kb2019", "A.2", "proof of Lemma 2"),
        statement="D[(x+Vz)^T ⊗ I] = vec(D^T (x+Vz)^T)^T",
        identities=(Identity("grad_W_form", "D[(x+Vz)^T ⊗ I] = vec(D^T (x+Vz)^T)^T",
                             grad_W_corrected, SWEEP, as_printed=False),),
        mutants=(
            Mutant.identity("as_printed", MutantKind.TRANSPOSED, "vec((x+Vz)D) (printed)",
                            "grad_W_form", grad_W_printed),
            Mutant.identity("dropped_Vz", MutantKind.DROPPED_TERM, "vec(D^T x^T)^T",
                            "grad_W_form", grad_W_without_Vz),
            Mutant.identity("halved", MutantKind.PERTURBED_CONSTANT, "½ vec(D^T (x+Vz)^T)^T",
                            "grad_W_form", grad_W_halved),
        )),
)


# --- ∂L^R/∂vec(R) (Theorem 1's proof) ------------------------------------------------------------

grad_R_printed = on_resnet(lambda r: (r.D * kron(r.phi.T, r.I_y), _row(vec(r.phi * r.D))))

grad_R_corrected = on_resnet(lambda r: (r.D * kron(r.phi.T, r.I_y), _row(vec(r.D.T * r.phi.T))))

grad_R_only_x = on_resnet(lambda r: (r.D * kron(r.phi.T, r.I_y), _row(vec(r.D.T * r.x.T))))

grad_R_negated = on_resnet(lambda r: (r.D * kron(r.phi.T, r.I_y), -_row(vec(r.D.T * r.phi.T))))


grad_R_form = Claim(
    id="kb2019.theorem1.grad_R_form",
    title="vec form of ∂L^R/∂vec(R)",
    source=Source("kb2019", "B.1", "proof of Theorem 1"),
    statement="E[D[φ_θ(x)^T ⊗ I_{d_y}]] = vec(E[φ_θ(x) D])",
    identities=(Identity("grad_R_form", "D[φ^T ⊗ I] = vec(φ D)", grad_R_printed, SWEEP),),
    erratum=HARMLESS,
    corrected=Claim(
        id="kb2019.theorem1.grad_R_form", title="vec form of ∂L^R/∂vec(R) (corrected)",
        source=Source("kb2019", "B.1", "proof of Theorem 1"),
        statement="D[φ^T ⊗ I] = vec(D^T φ^T)^T",
        identities=(Identity("grad_R_form", "D[φ^T ⊗ I] = vec(D^T φ^T)^T", grad_R_corrected,
                             SWEEP, as_printed=False),),
        mutants=(
            Mutant.identity("as_printed", MutantKind.TRANSPOSED, "vec(φ D) (printed)",
                            "grad_R_form", grad_R_printed),
            Mutant.identity("dropped_z", MutantKind.DROPPED_TERM,
                            "vec(D^T x^T)^T (z block dropped)",
                            "grad_R_form", grad_R_only_x),
            Mutant.identity("negated", MutantKind.PERTURBED_CONSTANT, "-vec(D^T φ^T)^T",
                            "grad_R_form", grad_R_negated),
        )),
)
