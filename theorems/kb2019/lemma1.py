"""Kawaguchi & Bengio (2019), Lemma 1 (derivatives of the predictor) and its proof (App. A.1).

Lemma 1 (§4). h(x, W, V, θ) = W(x + V z(x, θ)) is differentiable in (W, V) and

    ∂h/∂vec(W) = (x + V z)^T ⊗ I_{d_y}   ∈ R^{d_y × d_y d_x},
    ∂h/∂vec(V) = z^T ⊗ W                 ∈ R^{d_y × d_x d_z}.

The proof (App. A.1) rests on vec(M1 M2 M3) = (M3^T ⊗ M1) vec(M2) and rewrites h as
h = [(x + Vz)^T ⊗ I_{d_y}] vec(W) = W x + [z^T ⊗ W] vec(V). vec is column-major (§4).
Differentiability is immediate (h is polynomial in the entries of W, V), so the checks are the
derivative forms, proven exactly at every size of the sweep.
"""

from proofcheck import Identity, Mutant, MutantKind
from proofcheck.symbolic import SizeSweep, kron, kron_jacobian, symbol_matrix, vec

from . import claim, printed_at
from ._declare import on_resnet

SWEEP = SizeSweep(d_x=(1, 3), d_y=(1, 3), d_z=(1, 3))


# --- Lemma 1 --------------------------------------------------------------------------------

dh_dvecW = on_resnet(lambda r: (kron_jacobian(r.h, r.W), kron((r.x + r.V * r.z).T, r.I_y)))

dh_dvecV = on_resnet(lambda r: (kron_jacobian(r.h, r.V), kron(r.z.T, r.W)))

dh_dvecV_transposed = on_resnet(lambda r: (kron_jacobian(r.h, r.V), kron(r.z.T, r.W.T)))

dh_dvecV_swapped = on_resnet(lambda r: (kron_jacobian(r.h, r.V), kron(r.W, r.z.T)))

dh_dvecW_without_Vz = on_resnet(lambda r: (kron_jacobian(r.h, r.W), kron(r.x.T, r.I_y)))

dh_dvecV_doubled = on_resnet(lambda r: (kron_jacobian(r.h, r.V), 2 * kron(r.z.T, r.W)))


lemma1 = claim("kb2019.lemma1", printed_at("4", "Lemma 1"),
    title="derivatives of the predictor (Kronecker forms)",
    statement="∂h/∂vec(W) = [(x + V z(x,θ))^T ⊗ I_{d_y}] and ∂h/∂vec(V) = [z(x,θ)^T ⊗ W]",
    identities=(
        Identity("dh_dvecW", "∂h/∂vec(W) = (x + Vz)^T ⊗ I_{d_y}", dh_dvecW, SWEEP),
        Identity("dh_dvecV", "∂h/∂vec(V) = z^T ⊗ W", dh_dvecV, SWEEP),
    ),
    mutants=(
        Mutant.identity("transposed_W", MutantKind.TRANSPOSED, "∂h/∂vec(V) = z^T ⊗ W^T",
                        "dh_dvecV", dh_dvecV_transposed),
        Mutant.identity("swapped_factors", MutantKind.OTHER, "∂h/∂vec(V) = W ⊗ z^T",
                        "dh_dvecV", dh_dvecV_swapped),
        Mutant.identity("dropped_Vz", MutantKind.DROPPED_TERM, "∂h/∂vec(W) = x^T ⊗ I_{d_y}",
                        "dh_dvecW", dh_dvecW_without_Vz),
        Mutant.identity("doubled", MutantKind.PERTURBED_CONSTANT, "∂h/∂vec(V) = 2 z^T ⊗ W",
                        "dh_dvecV", dh_dvecV_doubled),
    ),
)


# --- the vec-Kronecker identity of the proof --------------------------------------------------

VEC_SWEEP = SizeSweep(a=(1, 3), b=(1, 3), c=(1, 3), d=(1, 3))


def _factors(s):
    return (symbol_matrix("A", s["a"], s["b"]), symbol_matrix("B", s["b"], s["c"]),
            symbol_matrix("C", s["c"], s["d"]))


def vec_of_product(s):
    M1, M2, M3 = _factors(s)
    return vec(M1 * M2 * M3), kron(M3.T, M1) * vec(M2)


def vec_without_transpose(s):
    M1, M2, M3 = _factors(s)
    return vec(M1 * M2 * M3), kron(M3, M1) * vec(M2)


def vec_swapped(s):
    M1, M2, M3 = _factors(s)
    return vec(M1 * M2 * M3), kron(M1, M3.T) * vec(M2)


def vec_both_transposed(s):
    M1, M2, M3 = _factors(s)
    return vec(M1 * M2 * M3), kron(M3.T, M1.T) * vec(M2)


vec_kron = claim("kb2019.lemma1.vec_kron", printed_at("A.1", "proof of Lemma 1"),
    title="vec of a triple product",
    statement="vec(M1 M2 M3) = (M3^T ⊗ M1) vec(M2) for matrices of conforming sizes",
    identities=(Identity("vec_kron", "vec(M1 M2 M3) = (M3^T ⊗ M1) vec(M2)", vec_of_product,
                         VEC_SWEEP),),
    mutants=(
        Mutant.identity("no_transpose", MutantKind.TRANSPOSED, "(M3 ⊗ M1) vec(M2)",
                        "vec_kron", vec_without_transpose),
        Mutant.identity("swapped", MutantKind.OTHER, "(M1 ⊗ M3^T) vec(M2)",
                        "vec_kron", vec_swapped),
        Mutant.identity("both_transposed", MutantKind.TRANSPOSED, "(M3^T ⊗ M1^T) vec(M2)",
                        "vec_kron", vec_both_transposed),
    ),
)


# --- the two rewritten forms of h --------------------------------------------------------------

h_linear_in_W = on_resnet(lambda r: (r.h, kron((r.x + r.V * r.z).T, r.I_y) * vec(r.W)))

h_affine_in_V = on_resnet(lambda r: (r.h, r.W * r.x + kron(r.z.T, r.W) * vec(r.V)))

h_affine_without_Wx = on_resnet(lambda r: (r.h, kron(r.z.T, r.W) * vec(r.V)))

h_linear_in_W_wrong_order = on_resnet(lambda r: (r.h, kron(r.I_y, (r.x + r.V * r.z).T) * vec(r.W)))

h_affine_in_V_halved = on_resnet(lambda r: (r.h, r.W * r.x + kron(r.z.T, r.W) * vec(r.V) / 2))


kron_forms = claim("kb2019.lemma1.kron_forms", printed_at("A.1", "proof of Lemma 1"),
    title="h written linearly in vec(W) and affinely in vec(V)",
    statement="h = [(x + Vz)^T ⊗ I_{d_y}] vec(W) and h = W x + [z^T ⊗ W] vec(V)",
    identities=(
        Identity("h_linear_in_W", "h = [(x + Vz)^T ⊗ I] vec(W)", h_linear_in_W, SWEEP),
        Identity("h_affine_in_V", "h = W x + [z^T ⊗ W] vec(V)", h_affine_in_V, SWEEP),
    ),
    mutants=(
        Mutant.identity("dropped_Wx", MutantKind.DROPPED_TERM, "h = [z^T ⊗ W] vec(V)",
                        "h_affine_in_V", h_affine_without_Wx),
        Mutant.identity("kron_order", MutantKind.OTHER, "h = [I ⊗ (x + Vz)^T] vec(W)",
                        "h_linear_in_W", h_linear_in_W_wrong_order),
        Mutant.identity("halved", MutantKind.PERTURBED_CONSTANT, "h = W x + ½[z^T ⊗ W] vec(V)",
                        "h_affine_in_V", h_affine_in_V_halved),
    ),
)
