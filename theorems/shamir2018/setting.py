"""Shamir (2018), §2 and footnote 2: Assumption 1's examples, Definition 1, Remark 1 (biases)
and the norm facts of footnote 2.

Assumption 1 ("for any y, ℓ(p, y) is twice differentiable and convex in p") "is satisfied for
standard losses such as the logistic loss, squared loss, smoothed hinge loss etc." The usual
smoothed hinge losses are only once differentiable: max(0, 1 - yp)^2 (the squared hinge, the
library's ``SmoothedHinge(2)``) has ℓ'' = 2 for yp < 1 and 0 for yp > 1, and the Rennie-Srebro
smooth hinge has the same kind of jump at yp = 0 and yp = 1. Checked on an exhaustive grid of
points including the kinks: one-sided difference quotients of ℓ' must agree up to their Taylor
error h sup|ℓ'''| (on each smooth piece) and rounding. The cubic (1 - yp)_+^3 does satisfy
Assumption 1 (ℓ'' = 6 (1 - yp)_+ is continuous), which is the correction.

Definition 1 remark: "any local minimum (w, V, θ) of F must be a 0-SOPSP": checked at local
minima certified by the engine's finder, recomputing ∇F_θ and a certified enclosure of
λ_min(∇²F_θ) with this catalogue's own analytic formulas (an independent code path).

Remark 1: the augmented model w̃^T(x̃ + Ṽ f̃) with x̃ = (x; 1), f̃ = (f; 1), w̃ = (w; a),
Ṽ = [[V, a_vec], [0, 0]] equals w^T(x + V f + a_vec) + a: proven symbolically at sizes 1..3.
(With only the constant input coordinate, the vector bias is still absorbed: w^T a_vec + a is
one scalar; the constant feature is what puts a_vec inside the residual unit.)

Footnote 2: ||AB|| <= ||A|| ||B||, ||AB||_Fr <= ||A||_Fr ||B||, ||AB||_Fr <= ||A|| ||B||_Fr
(used in App. A), ||A|| <= ||A||_Fr, and ||x - z||^2 <= 2||x||^2 + 2||z||^2 (§6.1).
"""

import numpy as np
from proofcheck.lazy import lazy_import
from hypothesis import strategies as st

from proofcheck import (Hypothesis, Identity, Instance, Margin, Mutant, MutantKind,
                        PointKind)
from proofcheck.losses import LogisticLoss, SmoothedHinge, SquaredLoss, TiltedDoubleWell
from proofcheck.problems import Relation, resnet_instances, resnet_landscape
from proofcheck.scalar_resnet import ScalarResNet, piecewise_third_bound
from proofcheck.second_order import hessian_rounding_bound, lambda_min_enclosure
from proofcheck.symbolic import SizeSweep, symbol_matrix, symbol_vector

from . import claim, printed_at
from .assumptions import A1
from .decidable import footnote2_forms

sp = lazy_import("sympy")   # loaded on first use (startup cost)

U = 2.0 ** -53


# --- Assumption 1's examples -----------------------------------------------------------------

PRINTED_LOSSES = {"logistic": LogisticLoss(), "squared": SquaredLoss(),
                  "smoothed_hinge": SmoothedHinge(2)}
CORRECTED_LOSSES = {"logistic": LogisticLoss(), "squared": SquaredLoss(),
                    "smoothed_hinge_cubic": SmoothedHinge(3)}
#: points p (with y = ±1): a grid plus the kinks yp = 1 of the hinge-type losses
GRID = sorted(set(np.round(np.linspace(-3, 3, 13), 6)) | {1.0, -1.0})
H_STEP = 2.0 ** -12


def loss_points(losses):
    return [Instance(loss=loss, loss_name=name, y=float(y), p=float(p))
            for name, loss in losses.items() for y in (-1.0, 1.0) for p in GRID]


def _d1(loss, p, y):
    return loss.grad(np.asarray(p, float)[..., None, None], np.full(np.shape(p) + (1, 1), y)
                     if np.ndim(y) == 0 else np.asarray(y, float)[..., None, None])[..., 0, 0]


def _quotients_B(inst, B):
    """ℓ'(p), ℓ'(p ± h) in ``B``'s arithmetic (mpmath digits, exact rationals, balls): the
    loss's per-sample formulas on B's numbers (one instance), with B's unit roundoff (0 in
    exact arithmetic: the quotients are then exact) and the Taylor bound at |p| + h rounded
    up."""
    loss, h = inst.loss, B.asarray([H_STEP])[0]
    p, y = B.asarray([inst.p])[0], B.asarray([inst.y])[0]

    def d1(q):
        return loss.grad_mp(np.array([q], dtype=object), np.array([y], dtype=object))[0]

    g0, gp, gm = d1(p), d1(p + h), d1(p - h)
    P = float(B.to_float(np.array([abs(p)], dtype=object))[0]) + H_STEP
    y_f = float(B.to_float(np.array([y], dtype=object))[0])
    plain = getattr(loss, "wrapped", loss)      # the loss itself under the exact rungs' proxy
    c3 = float(np.asarray(piecewise_third_bound(plain, np.array([P * (1 + 4 * U)]), y_f))
               .ravel()[0])
    return g0, gp, gm, h, B.asarray([c3])[0], B.unit_roundoff


def assumption1_conclusion(inst, point, B):
    """Convexity (one-sided quotients of ℓ' >= 0) and continuity of ℓ'' (the two quotients
    agree) at p, up to the Taylor error h sup|ℓ'''| of each piece plus the rounding of the
    quotients, 4 u (|ℓ'(p)| + |ℓ'(p ± h)|) / h (u = 0 in exact arithmetic)."""
    if B.name != "numpy":       # one instance at high precision / exactly (the judge's rungs)
        g0, gp, gm, h, c3, u = _quotients_B(inst, B)
        q_plus, q_minus = (gp - g0) / h, (g0 - gm) / h
        tol = h * c3 + 4 * u * (abs(g0) + abs(gp) + abs(gm)) / h
        src = ("Taylor: one-sided quotients of ℓ' differ from ℓ'' by <= h sup|ℓ'''|/2 each "
               f"(h = 2^-12); rounding 4u(|ℓ'|)/h in {B.name} arithmetic")
        smooth = Margin(value=tol - abs(q_plus - q_minus), tol=0, lhs=q_plus, rhs=q_minus,
                        tol_source=src)
        lo = q_plus if q_plus <= q_minus else q_minus
        convex = Margin(value=lo + tol, tol=0, lhs=lo, rhs=0, tol_source=src)
        return smooth.both(convex)
    loss, p, y, h = inst.loss, np.asarray(inst.p, float), np.asarray(inst.y, float), H_STEP
    g0, gp, gm = _d1(loss, p, y), _d1(loss, p + h, y), _d1(loss, p - h, y)
    q_plus, q_minus = (gp - g0) / h, (g0 - gm) / h
    c3 = piecewise_third_bound(loss, np.abs(p) + h, y)
    tol = h * c3 + 4 * U * (np.abs(g0) + np.abs(gp) + np.abs(gm)) / h
    smooth = Margin(value=tol - np.abs(q_plus - q_minus), tol=0 * tol, lhs=q_plus, rhs=q_minus,
                    tol_source="Taylor: one-sided quotients of ℓ' differ from ℓ'' by <= h "
                               "sup|ℓ'''|/2 each (h = 2^-12); rounding 4u(|ℓ'|)/h")
    convex = Margin(value=np.minimum(q_plus, q_minus) + tol, tol=0 * tol,
                    lhs=np.minimum(q_plus, q_minus), rhs=0 * tol,
                    tol_source=smooth.tol_source)
    return smooth.both(convex)


assumption1_corrected = claim("shamir2018.assumption1", printed_at("2", "Assumption 1"),
    title="Assumption 1 holds for the logistic, squared and cubic smoothed hinge losses",
    statement="ℓ(p, y) is twice differentiable and convex in p for the logistic loss, the "
              "squared loss and the cubic smoothed hinge (1 - yp)_+^3",
    conclusion=assumption1_conclusion,
    instances=lambda assumed: loss_points(CORRECTED_LOSSES),
    high_precision=True,        # mpmath / exact / ball paths (_quotients_B)
    mutants=(
        Mutant.conclusion("double_well_convex", MutantKind.OTHER,
                          "the smooth double well ((p - y)^2 - 1)^2 + p/2 also satisfies it",
                          lambda i, p, B: assumption1_conclusion(
                              i.replace(loss=TiltedDoubleWell(0.5)), p, B)),
        Mutant.conclusion("squared_hinge", MutantKind.OTHER,
                          "the squared hinge (1 - yp)_+^2 also satisfies it",
                          lambda i, p, B: assumption1_conclusion(
                              i.replace(loss=SmoothedHinge(2)), p, B)),
    ),
)

assumption1 = claim("shamir2018.assumption1", printed_at("2", "Assumption 1"),
    title="Assumption 1 and the losses said to satisfy it",
    statement="For any y, ℓ(p, y) is twice differentiable and convex in p; this is satisfied "
              "for standard losses such as the logistic loss, squared loss, smoothed hinge "
              "loss etc.",
    conclusion=assumption1_conclusion,
    instances=lambda assumed: loss_points(PRINTED_LOSSES),
    high_precision=True,        # mpmath / exact / ball paths (_quotients_B)
    corrected=assumption1_corrected,
    erratum="the smoothed hinge max(0, 1 - yp)^2 (and the Rennie-Srebro smooth hinge) is only "
            "once differentiable: ℓ'' jumps from 2 to 0 at yp = 1. The cubic (1 - yp)_+^3 is "
            "twice differentiable. Nothing else in the paper depends on the example.",
)


# --- Definition 1: local minima are 0-SOPSPs ----------------------------------------------------

D_Y_ONE = Relation("d_y = 1", lambda d: d["d_y"] == 1)


def _at_minimum(inst, point):
    net = ScalarResNet(np.asarray(inst.X, float), np.asarray(inst.Y, float)[:, 0],
                       np.asarray(inst.Z, float), inst.loss)
    P = point.point
    w, V = np.asarray(P.W, float)[0], np.asarray(P.V, float)
    g = float(np.linalg.norm(net.flat_gradient(w, V)))
    H = np.asarray(net.hessian(w, V), float)
    enc = lambda_min_enclosure(H, hessian_rounding_bound(net, w, V))
    # the certificate holds at the mpmath point; the float64 point is within u |p| of it, which
    # moves the gradient by <= ||H|| u ||p|| and λ_min by <= ||∇³F|| u ||p|| (absorbed: 16x)
    shift = 16 * U * (1 + float(np.linalg.norm(np.r_[w, V.ravel()]))) * (1 + np.abs(H).sum())
    tol_g = float(point.tau_grad) + shift + 16 * (net.m + 8) * U * (1 + g)
    tol_h = float(point.tau_hess) + shift
    return g, enc, tol_g, tol_h


def definition1_conclusion(inst, point, B):
    g, enc, tol_g, tol_h = _at_minimum(inst, point)
    src = ("certificate's τ at the profile's digits + float64 re-evaluation (u ||p|| ||H||) + "
           "exact-LDL enclosure of λ_min")
    grad = Margin.at_most(g, 0.0, tol=tol_g, tol_source=src)
    curv = Margin.at_least(enc.lower, 0.0, tol=tol_h, tol_source=src)
    return grad.both(curv)


def definition1_saddle(inst, point, B):
    g, enc, tol_g, tol_h = _at_minimum(inst, point)
    return Margin.at_most(enc.upper, 0.0, tol=0.0, tol_source="λ_min < 0 would be a saddle")


def definition1_large_gradient(inst, point, B):
    g, enc, tol_g, tol_h = _at_minimum(inst, point)
    return Margin.at_least(g, 1e-3, tol=0.0, tol_source="a 10^-3-gradient floor")


definition1 = claim("shamir2018.definition1", printed_at("2", "Definition 1"),
    title="every local minimum is a 0-SOPSP",
    statement="Any local minimum (w, V, θ) of F is a 0-SOPSP: ||∇F_θ(w, V)|| = 0 and "
              "λ_min(∇²F_θ(w, V)) >= 0",
    hypotheses=(Hypothesis("A1", A1.statement, A1.holds),),
    conclusion=definition1_conclusion,
    instances=lambda assumed: resnet_instances(losses=("squared", "logistic",
                                                       "smoothed_hinge3"),
                                               relation=D_Y_ONE, branches=("full_rank",)),
    point_kind=PointKind.LOCAL_MIN,
    landscape=resnet_landscape,
    high_precision=False,
    notes="Re-evaluated with proofcheck.scalar_resnet's analytic gradient and Hessian (not the "
          "landscape the finder used) and an exact LDL^T enclosure of λ_min; the tolerance is "
          "the certificate's own resolution plus the float64 re-evaluation.",
    mutants=(
        Mutant.conclusion("saddle", MutantKind.FLIPPED_INEQUALITY,
                          "local minima have λ_min(∇²F_θ) < 0", definition1_saddle),
        Mutant.conclusion("gradient_floor", MutantKind.FLIPPED_INEQUALITY,
                          "local minima have ||∇F_θ|| >= 10^-3", definition1_large_gradient),
    ),
)


# --- Remark 1: the bias trick --------------------------------------------------------------------

BIAS_SWEEP = SizeSweep(d_x=(1, 3), d_z=(1, 3))


def bias_trick(s, x_one=1, f_one=1):
    d_x, d_z = s["d_x"], s["d_z"]
    w, x, f = symbol_vector("w", d_x), symbol_vector("x", d_x), symbol_vector("f", d_z)
    V, a_vec, a = symbol_matrix("V", d_x, d_z), symbol_vector("c", d_x), sp.Symbol("a")
    x_t = x.col_join(sp.Matrix([[x_one]]))
    f_t = f.col_join(sp.Matrix([[f_one]]))
    w_t = w.col_join(sp.Matrix([[a]]))
    V_t = V.row_join(a_vec).col_join(sp.zeros(1, d_z + 1))
    lhs = w_t.T * (x_t + V_t * f_t)
    rhs = w.T * (x + V * f + a_vec) + sp.Matrix([[a]])
    return lhs, rhs


remark1 = claim("shamir2018.remark1", printed_at("2", "Remark 1"),
    title="biases by augmenting x and f_θ(x) with a constant 1",
    statement="x ↦ w^T(x + V f_θ(x) + a) + a_0 is the model on x̃ = (x; 1), f̃ = (f_θ(x); 1), "
              "with w̃ = (w; a_0), Ṽ = [[V, a], [0, 0]]",
    identities=(Identity("bias", "w̃^T(x̃ + Ṽ f̃) = w^T(x + V f + a) + a_0", bias_trick,
                         BIAS_SWEEP),),
    mutants=(
        Mutant.identity("f_not_augmented", MutantKind.DROPPED_TERM, "f̃ = (f; 0)", "bias",
                        lambda s: bias_trick(s, f_one=0)),
        Mutant.identity("x_not_augmented", MutantKind.DROPPED_TERM, "x̃ = (x; 0)", "bias",
                        lambda s: bias_trick(s, x_one=0)),
    ),
)


# --- Footnote 2 ----------------------------------------------------------------------------

@st.composite
def _matrices(draw):
    n, k, l = (draw(st.integers(1, 4)) for _ in range(3))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    kind = draw(st.sampled_from(("gaussian", "orthogonal", "rank_one")))
    A, Bm = rng.normal(size=(n, k)), rng.normal(size=(k, l))
    if kind == "orthogonal":              # equality cases: ||QR||, ||Q|| = 1
        A = np.linalg.qr(rng.normal(size=(max(n, k), max(n, k))))[0][:n, :k]
    elif kind == "rank_one":
        A = np.outer(rng.normal(size=n), rng.normal(size=k))
    x, z = rng.normal(size=n), rng.normal(size=n)
    return Instance(A=A * 10.0 ** rng.uniform(-2, 2), Bm=Bm, x=x, z=z)


def _norms(inst, B):
    A, Bm = B.asarray(inst.A), B.asarray(inst.Bm)
    AB = B.matmul(A, Bm)
    spec = lambda M: B.svdvals(M)[..., 0]
    fro = lambda M: B.sqrt(B.fro2(M))
    x, z = B.asarray(inst.x), B.asarray(inst.z)
    sq = lambda v: (v * v).sum(axis=-1)
    return dict(AB=spec(AB), A=spec(A), B=spec(Bm), ABF=fro(AB), AF=fro(A), BF=fro(Bm),
                xz=sq(x - z), x=sq(x), z=sq(z))


def footnote2_conclusion(inst, point, B, which=("prod", "fro_left", "fro_right", "spec_fro",
                                                "parallelogram")):
    q = _norms(inst, B)
    n_ops = 8 * (np.shape(inst.A)[-1] + np.shape(inst.A)[-2] + np.shape(inst.Bm)[-1])
    parts = {
        "prod": (q["AB"], q["A"] * q["B"]),
        "fro_left": (q["ABF"], q["AF"] * q["B"]),
        "fro_right": (q["ABF"], q["A"] * q["BF"]),
        "spec_fro": (q["A"], q["AF"]),
        "parallelogram": (q["xz"], 2 * q["x"] + 2 * q["z"]),
        # mutants
        "fro_both_spectral": (q["ABF"], q["A"] * q["B"]),
        "fro_below_spec": (q["AF"], q["A"]),
        "no_factor_two": (q["xz"], q["x"] + q["z"]),
    }
    margin = None
    for name in which:
        lhs, rhs = parts[name]
        m = Margin.at_most(lhs, rhs, B, n_ops=n_ops)
        margin = m if margin is None else margin.both(m)
    return margin


footnote2 = claim("shamir2018.footnote2", printed_at("6.1", "footnote 2"),
    title="norm facts: submultiplicativity and mixed Frobenius/spectral bounds",
    statement="||AB|| <= ||A|| ||B||; ||AB||_Fr <= ||A||_Fr ||B||; ||AB||_Fr <= ||A|| ||B||_Fr; "
              "||A|| <= ||A||_Fr; ||x - z||^2 <= 2||x||^2 + 2||z||^2",
    conclusion=footnote2_conclusion,
    instances=lambda assumed: _matrices(),
    mutants=(
        Mutant.conclusion("fro_both_spectral", MutantKind.OTHER, "||AB||_Fr <= ||A|| ||B||",
                          lambda i, p, B: footnote2_conclusion(i, p, B, ("fro_both_spectral",))),
        Mutant.conclusion("fro_below_spec", MutantKind.FLIPPED_INEQUALITY, "||A||_Fr <= ||A||",
                          lambda i, p, B: footnote2_conclusion(i, p, B, ("fro_below_spec",)),
                          decidable=footnote2_forms("fro_below_spec")),
        Mutant.conclusion("no_factor_two", MutantKind.PERTURBED_CONSTANT,
                          "||x - z||^2 <= ||x||^2 + ||z||^2",
                          lambda i, p, B: footnote2_conclusion(i, p, B, ("no_factor_two",)),
                          decidable=footnote2_forms("no_factor_two")),
    ),
    decidable=footnote2_forms(),
)
