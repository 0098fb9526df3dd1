"""Shamir (2018), Theorem 1, Lemma 1, eq. (5), (6) and the Cauchy-Schwarz step (§3, §6.1).

Lemma 1. For w != 0 and any w*, with G = (w - w*; w (w*)^T V / ||w||^2),
    <vec G, ∇F_θ(w, V)> >= F(w, V, θ) - F_lin(w*).
Eq. (5): <vec G, ∇F_θ> = E[ℓ'(p) (w^T(x + V f_θ(x)) - (w*)^T x)]  (an identity per sample).
Theorem 1. At any (w, V, θ) with w != 0 and any w*,
    ||∇F_θ(w, V)|| >= (F(w, V, θ) - F_lin(w*)) / sqrt(2||w||^2 + ||w*||^2 (2 + ||V||^2/||w||^2)).
Eq. (6): the same with denominator sqrt(||w - w*||^2 + ||w (w*)^T V||_Fr^2 / ||w||^4).

These hold at *any* point with w != 0, so they are checked at arbitrary drawn points (finite
samples: F is the empirical mean; f_θ is a fixed tanh or random ReLU layer) for each scalar loss
of Assumption 1, with w* a best linear predictor in the ball ||w*|| <= 3 or a Gaussian vector.

The proof's Cauchy-Schwarz line is printed as ||G||_Fr ||∇F|| >= ||G|| ||∇F|| >= F - F_lin(w*)
with ||G|| the spectral norm (§2: "||.|| ... spectral norm for matrices"). The second inequality
does not follow from Cauchy-Schwarz (the dual of the spectral norm is the nuclear norm) and is
false: a witness (m = 3, d_x = d_z = 2, squared loss, data with one decimal) has
F - F_lin(w*) = 7.70 > ||G|| ||∇F|| = 6.37. The theorem is unaffected: ||G||_Fr ||∇F|| >=
<vec G, ∇F> >= F - F_lin(w*) is what the proof uses next.
"""

import numpy as np
from proofcheck.lazy import lazy_import
from hypothesis import strategies as st

from functools import partial

from proofcheck import Identity, Instance, Margin, Mutant, MutantKind
from proofcheck.losses import SquaredLoss
from proofcheck.scalar_resnet import scalar_instances
from proofcheck.symbolic import SizeSweep, symbol_matrix, symbol_vector

from . import claim, printed_at
from ._terms import gradient_bound, gradient_bound_flipped, point_terms
from .assumptions import A1, NONCONVEX, SCALAR_LOSSES, W_NONZERO
from .decidable import LEMMA1_FAST, lemma1_forms, theorem1_forms

sp = lazy_import("sympy")   # loaded on first use (startup cost)

LOSSES = tuple(SCALAR_LOSSES)


def instances(assumed, extra=None):
    """Points with w != 0 (w = 0 when that hypothesis is dropped), the scalar losses of
    Assumption 1 (the non-convex double well when A1 is dropped)."""
    losses = LOSSES if assumed["A1"] else tuple(NONCONVEX)
    w = "nonzero" if dict(assumed.flags).get("w_nonzero", True) else "zero"
    base = scalar_instances(losses=losses, w=w)
    return base if extra is None else st.one_of(base, extra)


def _terms(inst, B):
    return point_terms(inst, B)


# --- Lemma 1 ---------------------------------------------------------------------------------

#: The setting of Lemma 1 and Theorem 1: ℓ convex and twice differentiable (A1), w != 0, at
#: drawn points (any point, as stated).
at_w_nonzero = partial(claim, hypotheses=(A1, W_NONZERO), instances=instances)


def _lemma1_terms(inst, B):
    """The terms of Lemma 1, whose G = (w - w*; w w*^T V / ||w||^2) exists only for w != 0:
    at w = 0 the printed statement says nothing (1/||w||^2 is undefined; w w*^T V / ||w||^2
    has no limit as w -> 0), so evaluating it there is refused rather than given a value by
    a convention the paper does not print (such as the pseudo-inverse, G_V = 0)."""
    if np.any(np.all(np.asarray(inst.w) == 0, axis=-1)):
        raise ValueError("Lemma 1 is undefined at w = 0: G = (w - w*; w w*^T V / ||w||^2) "
                         "divides by ||w||^2 = 0")
    return _terms(inst, B)


def lemma1_conclusion(inst, point, B):
    q = _lemma1_terms(inst, B)
    return Margin.at_least(q.inner, q.gap, tol=q.tol, tol_source=q.tol_source)


def lemma1_flipped(inst, point, B):
    q = _lemma1_terms(inst, B)
    return Margin.at_most(q.inner, q.gap, tol=q.tol, tol_source=q.tol_source)


def lemma1_doubled_gap(inst, point, B):
    q = _lemma1_terms(inst, B)
    return Margin.at_least(q.inner, 2 * q.gap, tol=q.tol, tol_source=q.tol_source)


def _sample_symbols(s):
    d_x, d_z = s["d_x"], s["d_z"]
    return (symbol_vector("w", d_x), symbol_vector("ws", d_x), symbol_vector("x", d_x),
            symbol_matrix("V", d_x, d_z), symbol_vector("f", d_z), sp.Symbol("d", real=True))


def _G_inner(s, scale_V=1, drop_V=False):
    """Per sample: <vec G, d (x + V f; w f^T)> and d (w^T(x + V f) - w*^T x)."""
    w, ws, x, V, f, d = _sample_symbols(s)
    a = x + V * f
    w2 = (w.T * w)[0, 0]
    GV = w * (ws.T * V) / w2 * scale_V
    inner = ((w - ws).T * (d * a))[0, 0]
    if not drop_V:
        inner += sum(GV[i, j] * d * w[i, 0] * f[j, 0] for i in range(GV.rows)
                     for j in range(GV.cols))
    rhs = d * ((w.T * a)[0, 0] - (ws.T * x)[0, 0])
    return sp.Matrix([[inner]]), sp.Matrix([[rhs]])


SWEEP = SizeSweep(d_x=(1, 3), d_z=(1, 3))

lemma1 = at_w_nonzero("shamir2018.lemma1", printed_at("6.1", "Lemma 1", "(3)-(5)"),
    title="the gradient has a large inner product with G = (w - w*; w w*^T V / ||w||^2)",
    statement="Fix w != 0, V and w*. With G = (w - w*; (1/||w||^2) w (w*)^T V), "
              "<vec(G), ∇F_θ(w, V)> >= F(w, V, θ) - F_lin(w*)",
    conclusion=lemma1_conclusion,
    identities=(Identity("eq5", "<vec G, ℓ' ∂p/∂(w, V)> = ℓ' (w^T(x + V f) - w*^T x) per sample",
                         lambda s: _G_inner(s), SWEEP),),
    notes="Eq. (5) is proven per sample (the expectation is linear); the inequality then is "
          "convexity, checked on drawn instances.  w != 0 is what makes G defined "
          "(1/||w||^2): at w = 0 the statement says nothing, so the hypothesis is redundant "
          "(implied by the definedness of G, proven by the decision procedure) and has no drop "
          "mutant; the conclusion refuses w = 0 instead of reading w/||w||^2 as a "
          "pseudo-inverse.",
    decidable=lemma1_forms(sizes=LEMMA1_FAST),
    mutants=(
        Mutant.conclusion("flipped", MutantKind.FLIPPED_INEQUALITY,
                          "<vec G, ∇F_θ> <= F - F_lin(w*)", lemma1_flipped,
                          decidable=lemma1_forms(lambda i, g: i <= g, LEMMA1_FAST)),
        Mutant.conclusion("doubled_gap", MutantKind.PERTURBED_CONSTANT,
                          "<vec G, ∇F_θ> >= 2 (F - F_lin(w*))", lemma1_doubled_gap,
                          decidable=lemma1_forms(lambda i, g: i >= 2 * g, LEMMA1_FAST)),
        Mutant.identity("no_V_block", MutantKind.DROPPED_TERM,
                        "eq. (5) with G's V-block dropped", "eq5",
                        lambda s: _G_inner(s, drop_V=True)),
        Mutant.identity("V_block_doubled", MutantKind.PERTURBED_CONSTANT,
                        "eq. (5) with G's V-block 2 w w*^T V / ||w||^2", "eq5",
                        lambda s: _G_inner(s, scale_V=2)),
        Mutant.drop("A1", "without convexity (a smooth non-convex double-well loss), the "
                          "first-order bound ℓ'(p)(p - p̃) >= ℓ(p) - ℓ(p̃) fails"),
    ),
)


# --- Theorem 1 and eq. (6) -------------------------------------------------------------------

def _theorem1_denominator(q, B, c_w=2.0, c_star=2.0, with_V=True):
    ratio = q.V_spec ** 2 / q.w_norm ** 2 if with_V else 0 * q.w_norm
    return B.sqrt(c_w * q.w_norm ** 2 + q.w_star_norm ** 2 * (c_star + ratio))


def theorem1_conclusion(inst, point, B):
    q = _terms(inst, B)
    return gradient_bound(q, _theorem1_denominator(q, B))


def theorem1_no_V(inst, point, B):
    q = _terms(inst, B)
    return gradient_bound(q, _theorem1_denominator(q, B, with_V=False))


def theorem1_doubled_gap(inst, point, B):
    q = _terms(inst, B)
    return gradient_bound(q, _theorem1_denominator(q, B), factor=2)


def theorem1_flipped(inst, point, B):
    q = _terms(inst, B)
    return gradient_bound_flipped(q, _theorem1_denominator(q, B))


theorem1 = at_w_nonzero("shamir2018.theorem1", printed_at("3", "Theorem 1"),
    title="away from w = 0 the gradient is at least the suboptimality over a norm factor",
    statement="At any point (w, V, θ) with w != 0, and for any vector w* of the same dimension, "
              "||∇F_θ(w, V)|| >= (F(w, V, θ) - F_lin(w*)) / "
              "sqrt(2||w||^2 + ||w*||^2 (2 + ||V||^2/||w||^2))",
    conclusion=theorem1_conclusion,
    notes="Checked at arbitrary points (not only minima), as the statement says. Dropping w != 0 "
          "is not a mutant here: as w -> 0 the denominator grows like ||w*|| ||V|| / ||w|| and "
          "the bound tends to the trivial ||∇F|| >= 0. Dropping convexity is a mutant of Lemma 1 "
          "(where "
          "it is used); random points of a non-convex loss rarely violate the weaker Theorem 1.",
    mutants=(
        Mutant.conclusion("no_V_term", MutantKind.DROPPED_TERM,
                          "denominator sqrt(2||w||^2 + 2||w*||^2) without ||V||^2/||w||^2",
                          theorem1_no_V, decidable=theorem1_forms(with_V=False)),
        Mutant.conclusion("doubled_gap", MutantKind.PERTURBED_CONSTANT,
                          "||∇F_θ|| >= 2 (F - F_lin(w*)) / sqrt(...)", theorem1_doubled_gap,
                          decidable=theorem1_forms(factor=2)),
        Mutant.conclusion("flipped", MutantKind.FLIPPED_INEQUALITY,
                          "||∇F_θ|| <= (F - F_lin(w*)) / sqrt(...)", theorem1_flipped,
                          decidable=theorem1_forms(flipped=True)),
    ),
    decidable=theorem1_forms(),
)


def eq6_conclusion(inst, point, B):
    q = _terms(inst, B)
    return gradient_bound(q, q.denom6)


def eq6_without_V(inst, point, B):
    q = _terms(inst, B)
    return gradient_bound(q, _w_minus_wstar(inst, B))


def _w_minus_wstar(inst, B):
    w, ws = B.asarray(inst.w), B.asarray(inst.w_star)
    d = w - ws
    s = (d * d).sum(axis=-1)
    return B.sqrt(s)


def eq6_doubled_gap(inst, point, B):
    q = _terms(inst, B)
    return gradient_bound(q, q.denom6, factor=2)


eq6 = at_w_nonzero("shamir2018.theorem1.eq6", printed_at("6.1", "proof of Theorem 1", "(6)"),
    title="the unsimplified bound of Theorem 1",
    statement="||∇F_θ(w, V)|| >= (F(w, V, θ) - F_lin(w*)) / sqrt(||w - w*||^2 + "
              "||(1/||w||^2) w (w*)^T V||_Fr^2)",
    conclusion=eq6_conclusion,
    mutants=(
        Mutant.conclusion("no_V_block", MutantKind.DROPPED_TERM,
                          "denominator ||w - w*|| (G's V-block dropped)", eq6_without_V,
                          decidable=theorem1_forms(eq6=True, with_V=False)),
        Mutant.conclusion("doubled_gap", MutantKind.PERTURBED_CONSTANT,
                          "||∇F_θ|| >= 2 (F - F_lin(w*)) / ||G||_Fr", eq6_doubled_gap,
                          decidable=theorem1_forms(eq6=True, factor=2)),
    ),
    decidable=theorem1_forms(eq6=True),
)


# --- the Cauchy-Schwarz step ------------------------------------------------------------------

# Found by a Nelder-Mead search over all data of a size-(3, 2, 2) instance maximising
# F - F_lin(w*) - ||G|| ||∇F|| (squared loss), rounded to one decimal: still a witness.
_WITNESS = np.array([-0.4, 0.7, 2.2, -0.0, -4.2, -0.4, -6.0, 7.4, -2.2, -1.8, -2.3, -0.1, -1.6,
                     -0.9, -4.5, 0.1, -1.3, -0.0, -1.4, 0.4, -0.4, 0.5, -1.3])


def _witness_instance(jitter):
    z = _WITNESS + np.asarray(jitter)
    X, y, Fx = z[:6].reshape(3, 2), z[6:9], z[9:15].reshape(3, 2)
    w, V, ws = z[15:17], z[17:21].reshape(2, 2), z[21:23]
    return Instance(X=X, y=y, Fx=Fx, loss=SquaredLoss(), loss_name="squared", w=w, V=V,
                    w_star=ws)


def _near_witness():
    """The search's witness, jittered by at most 0.01 per entry (the witness margin is 1.3)."""
    return st.lists(st.floats(-0.01, 0.01), min_size=23, max_size=23).map(_witness_instance)


def cs_instances(assumed):
    return instances(assumed, extra=_near_witness())


def cs_printed(inst, point, B):
    q = _terms(inst, B)
    return Margin.at_least(q.G_spec * q.grad_norm, q.gap, tol=q.tol, tol_source=q.tol_source)


def cs_corrected(inst, point, B):
    q = _terms(inst, B)
    first = Margin.at_least(q.G_fro * q.grad_norm, q.inner, tol=q.tol, tol_source=q.tol_source)
    second = Margin.at_least(q.inner, q.gap, tol=q.tol, tol_source=q.tol_source)
    return first.both(second)


def cs_fro_below_gap(inst, point, B):
    q = _terms(inst, B)
    return Margin.at_most(q.G_fro * q.grad_norm, q.gap, tol=q.tol, tol_source=q.tol_source)


cauchy_schwarz_corrected = at_w_nonzero(
    "shamir2018.theorem1.cauchy_schwarz", printed_at("6.1", "proof of Theorem 1"),
    title="Cauchy-Schwarz with the Frobenius norm of G",
    statement="||G||_Fr ||∇F_θ(w, V)|| >= <vec G, ∇F_θ(w, V)> >= F(w, V, θ) - F_lin(w*)",
    conclusion=cs_corrected,
    instances=cs_instances,
    mutants=(
        Mutant.conclusion("spectral_norm", MutantKind.OTHER,
                          "||G|| ||∇F_θ|| >= F - F_lin(w*) (spectral norm: the printed line)",
                          cs_printed),
        Mutant.conclusion("flipped", MutantKind.FLIPPED_INEQUALITY,
                          "||G||_Fr ||∇F_θ|| <= F - F_lin(w*)", cs_fro_below_gap),
    ),
)

cauchy_schwarz = cauchy_schwarz_corrected.replace(
    title="the Cauchy-Schwarz step of Theorem 1's proof",
    statement="By Lemma 1 and Cauchy-Schwarz, ||G||_Fr ||∇F_θ(w, V)|| >= ||G|| ||∇F_θ(w, V)|| "
              ">= F(w, V, θ) - F_lin(w*)   (||G||: spectral norm)",
    conclusion=cs_printed,
    mutants=(),
    corrected=cauchy_schwarz_corrected,
    erratum="<vec G, ∇F> <= ||G||_Fr ||∇F|| is Cauchy-Schwarz; with the spectral norm ||G|| "
            "(< ||G||_Fr when G has rank 2) the middle inequality is false. Theorem 1 is "
            "unaffected: the proof then divides by ||G||_Fr.",
)
