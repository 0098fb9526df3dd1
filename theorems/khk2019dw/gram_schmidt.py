"""KHK 2019 (DW), Theorem 1's block Gram-Schmidt and the two forms of J(theta).

Blocks in the order b = (1,1), ..., (1,d_1), ..., (H,d_H), (H+1,1); N_b = P_N[[Q_1 ... Q_{b-1}]]
(N_1 = I), Q_b = N_b D_b.  The facts the proofs rely on, at *every* theta:

1. col [Q_1 ... Q_b] = col [D_1 ... D_b];
2. P[Q_b] P[Q_b'] = 0 for b != b';
3. sum_b P[Q_b] = P[[D, D^(H+1)_1]];

hence J(theta) := 1/2 ||Y||^2 - sum_b 1/2 ||P[N_b D_b] vec Y||^2
               = 1/2 ||P_N[[D, D^(H+1)_1]] vec Y||^2.

Exact checks: networks with dyadic data and weights (multiples of 1/2) and activations with
dyadic slopes, whose D^(l)_k are exact rationals in float64; Gram-Schmidt and projections in
rational arithmetic (sympy).  Float64 check: the two forms computed by
:func:`proofcheck.networks.J_gram_schmidt` and :func:`~proofcheck.networks.J_projection` on
Gaussian instances, kinks and dead units included.

Printed detail: Theorem 1 sets N^(1)_1 := I_m, but D^(1)_1 has m d_y rows; for d_y > 1 the
product N^(1)_1 D^(1)_1 is undefined (Proposition 1, where d_y = 1, is fine).  Corrected: I_{m d_y}.
"""

import numpy as np
from proofcheck.lazy import lazy_import

from proofcheck import Identity, Margin, Mutant, MutantKind
from proofcheck import networks as nw
from proofcheck.claims import tolerance_source
from proofcheck.symbolic import (SizeSweep, exact_null_projection, exact_projection,
                                 symbol_matrix)

from . import claim, printed_at
from .assumptions import per_instance
from .instances import build, data_for, network_instances

sp = lazy_import("sympy")   # loaded on first use (startup cost)

SWEEP = SizeSweep(H=(1, 2), w=(1, 2), d_x=(1, 2), d_y=(1, 2), m=(1, 3),
                  where="H * w + d_x + d_y + m <= 8")
DYADIC_ACTS = ("relu", "abs", "leaky:-0.5", "identity")


def exact_blocks(s, rng):
    """The blocks D_b of a dyadic network instance as exact rational matrices, and vec Y."""
    seed = int(rng.integers(2 ** 31))
    r = np.random.default_rng(seed)
    acts = [DYADIC_ACTS[int(r.integers(len(DYADIC_ACTS)))] for _ in range(s["H"])]
    inst = build(seed, (s["d_x"],) + (s["w"],) * s["H"] + (s["d_y"],), acts, s["m"], "dyadic")
    net, Ws, X, Y = data_for(inst)
    blocks = [sp.Matrix(B.shape[0], B.shape[1], [sp.Rational(float(v)) for v in B.ravel()])
              for B in nw.d_block_list(net, Ws, X)]
    y = sp.Matrix([sp.Rational(float(v)) for v in nw.vec(Y)])
    return blocks, y, {"acts": "|".join(acts), "seed": seed}


def exact_gram_schmidt(blocks, null=exact_null_projection):
    """Q_b = N_b D_b with N_b = P_N[[Q_1 ... Q_{b-1}]] (N_1 = I), exactly."""
    Qs, prev = [], None
    for D in blocks:
        N = sp.eye(D.rows) if prev is None else null(prev)
        Q = N * D
        Qs.append(Q)
        prev = Q if prev is None else prev.row_join(Q)
    return Qs


def _no_orthogonalisation(prev):
    return sp.eye(prev.rows)


def _hstack(ms):
    out = ms[0]
    for M in ms[1:]:
        out = out.row_join(M)
    return out


def _vstack(ms):
    out = ms[0]
    for M in ms[1:]:
        out = out.col_join(M)
    return out


def fact1_build(s, rng, null=exact_null_projection):
    blocks, _, info = exact_blocks(s, rng)
    Qs = exact_gram_schmidt(blocks, null)
    lhs = _vstack([exact_projection(_hstack(Qs[:b + 1])) for b in range(len(Qs))])
    rhs = _vstack([exact_projection(_hstack(blocks[:b + 1])) for b in range(len(blocks))])
    return lhs, rhs, info


def fact2_build(s, rng, null=exact_null_projection):
    blocks, _, info = exact_blocks(s, rng)
    P = [exact_projection(Q) for Q in exact_gram_schmidt(blocks, null)]
    prods = [P[a] * P[b] for a in range(len(P)) for b in range(len(P)) if a != b]
    lhs = _vstack(prods) if prods else sp.zeros(1, 1)
    return lhs, sp.zeros(lhs.rows, lhs.cols), info


def fact3_build(s, rng, null=exact_null_projection):
    blocks, _, info = exact_blocks(s, rng)
    P = [exact_projection(Q) for Q in exact_gram_schmidt(blocks, null)]
    return sum(P[1:], P[0]), exact_projection(_hstack(blocks)), info


def _fact(name, statement, build_fn):
    return Identity(name, statement, build_fn, SWEEP, method="exact-random")


gram_schmidt = claim(
    "khk2019dw.theorem1.gram_schmidt",
    printed_at("4.1", "Theorem 1 (definition of N, Q) and Lemma 3's proof"),
    title="the block Gram-Schmidt of Theorem 1: span, orthogonality, sum of projections",
    statement="col[Q_1..Q_b] = col[D_1..D_b]; P[Q_b] P[Q_b'] = 0 (b != b'); "
              "sum_b P[Q_b] = P[[D, D^(H+1)_1]]",
    identities=(
        _fact("span", "P[[Q_1..Q_b]] = P[[D_1..D_b]] for every b", fact1_build),
        _fact("orthogonal", "P[Q_b] P[Q_b'] = 0 for b != b'", fact2_build),
        _fact("sum", "sum_b P[Q_b] = P[[D, D^(H+1)_1]]", fact3_build),
    ),
    mutants=(
        Mutant.identity("no_orthogonalisation", MutantKind.DROPPED_TERM,
                        "N_b = I (blocks not orthogonalised): orthogonality",
                        "orthogonal",
                        lambda s, rng: fact2_build(s, rng, _no_orthogonalisation)),
        Mutant.identity("no_orthogonalisation_sum", MutantKind.DROPPED_TERM,
                        "N_b = I: sum of projections", "sum",
                        lambda s, rng: fact3_build(s, rng, _no_orthogonalisation)),
        Mutant.identity("projection_not_null", MutantKind.OTHER,
                        "N_b = P[[Q_1..Q_{b-1}]] instead of P_N", "span",
                        lambda s, rng: fact1_build(s, rng, exact_projection)),
    ),
)


# --- the two forms of J -----------------------------------------------------------------------

def j_forms_build(s, rng, null=exact_null_projection, drop_output=False):
    blocks, y, info = exact_blocks(s, rng)
    Qs = exact_gram_schmidt(blocks, null)
    if drop_output:
        Qs = Qs[:-1]
    half = sp.Rational(1, 2)
    gs = half * (y.T * y)[0, 0] - sum(half * ((exact_projection(Q) * y).T *
                                               (exact_projection(Q) * y))[0, 0] for Q in Qs)
    r = exact_null_projection(_hstack(blocks)) * y
    return sp.Matrix([[gs]]), sp.Matrix([[half * (r.T * r)[0, 0]]]), info


def j_forms_numeric(inst, point, B, variant=None):
    return per_instance(lambda i, p, b: _j_forms_numeric(i, p, b, variant))(inst, point, B)


def _j_forms_numeric(inst, point, B, variant=None):
    net, Ws, X, Y = data_for(inst)
    A = nw.jacobian(net, Ws, X)
    a = nw.J_gram_schmidt(net, Ws, X, Y, "press")
    b = nw.J_projection(net, Ws, X, Y, "press")
    lhs = a.value if variant is None else variant(net, Ws, X, Y)
    scale = 0.5 * float(np.sum(Y * Y))
    cond = float(B.condition_number(B.asarray(A), "press")) if A.size else 1.0
    n_ops = max(1, A.shape[0] * A.shape[1])
    return Margin(-abs(lhs - b.value), B.tolerance(scale, cond=cond, n_ops=n_ops), lhs, b.value,
                  tolerance_source(B, cond, n_ops) + "; Press cutoff for both rank decisions")


def _j_without_output(net, Ws, X, Y):
    blocks = nw.d_block_list(net, Ws, X)[:-1]
    y = nw.vec(Y)
    bases = nw.gram_schmidt_bases(blocks, "press")
    return 0.5 * float(y @ y) - 0.5 * sum(float(np.sum((U.T @ y) ** 2)) for U in bases)


j_forms = claim("khk2019dw.theorem1.j_forms", printed_at("4.1", "Theorem 1", "4.2"),
    title="J(theta): Gram-Schmidt sum = projection form, at every theta",
    statement="1/2||Y||^2 - sum_{l=1}^{H+1} sum_k 1/2 ||P[N^(l)_k D^(l)_k] vec Y||^2 = "
              "1/2 ||P_N[[D, D^(H+1)_1]] vec Y||^2 (the right-hand side of eq. 4.2)",
    identities=(Identity("j_forms", "Gram-Schmidt form of J = projection form", j_forms_build,
                         SWEEP, method="exact-random"),),
    conclusion=j_forms_numeric,
    instances=lambda assumed: network_instances(m=(2, 8)),
    high_precision=False,
    notes="float64 part: both forms with the Press cutoff; tolerance 16 n_ops cond(A) u "
          "scale with A = [D, D^(H+1)_1] (the conclusion uses scipy/numpy linear algebra, "
          "so no mpmath re-evaluation; the exact part is the identity).",
    mutants=(
        Mutant.identity("without_output_block", MutantKind.DROPPED_TERM,
                        "J without the (H+1) term", "j_forms",
                        lambda s, rng: j_forms_build(s, rng, drop_output=True)),
        Mutant.identity("no_orthogonalisation", MutantKind.DROPPED_TERM,
                        "N_b = I", "j_forms",
                        lambda s, rng: j_forms_build(s, rng, _no_orthogonalisation)),
        Mutant.conclusion("float_without_output", MutantKind.DROPPED_TERM,
                          "float64: J without the (H+1) term",
                          lambda inst, point, B: j_forms_numeric(
                              inst, point, B, variant=_j_without_output)),
    ),
)


# --- N^(1)_1 := I_m as printed ----------------------------------------------------------------

N11 = SizeSweep(m=(1, 3), d_y=(1, 3), d_x=(1, 2))


def n11_build(s, rows=lambda s: s["m"]):
    D = symbol_matrix("D", s["m"] * s["d_y"], s["d_x"])
    return sp.eye(rows(s)) * D, D


n11_corrected = claim(
    "khk2019dw.theorem1.n11", printed_at("4.1", "Theorem 1 (definition of N^(1)_1)"),
    title="N^(1)_1 is the identity of size m d_y",
    statement="N^(1)_1 := I_{m d_y}, so that Q^(1)_1 = N^(1)_1 D^(1)_1 = D^(1)_1",
    identities=(Identity("n11", "I_{m d_y} D^(1)_1 = D^(1)_1",
                         lambda s: n11_build(s, lambda s: s["m"] * s["d_y"]), N11,
                         as_printed=False),),
    mutants=(Mutant.identity("size_m_plus_1", MutantKind.PERTURBED_CONSTANT,
                             "I_{m d_y + 1}", "n11",
                             lambda s: n11_build(s, lambda s: s["m"] * s["d_y"] + 1)),),
)

n11 = claim("khk2019dw.theorem1.n11", printed_at("4.1", "Theorem 1 (definition of N^(1)_1)"),
    title="N^(1)_1 := I_m (as printed in Theorem 1)",
    statement="N^(1)_1 := I_m, and Q^(1)_1 = N^(1)_1 D^(1)_1 with D^(1)_1 in R^{m d_y x d_0}",
    identities=(Identity("n11", "I_m D^(1)_1 = D^(1)_1", n11_build, N11),),
    corrected=n11_corrected,
    erratum="D^(1)_1 has m d_y rows, so I_m D^(1)_1 is undefined for d_y > 1: the identity must "
            "be I_{m d_{H+1}} (a typo from Proposition 1, where d_y = 1; the same I_m appears in "
            "Theorem 2 and Corollary 1)",
)
