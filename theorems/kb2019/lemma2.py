"""Kawaguchi & Bengio (2019), Lemma 2 (necessary condition of local minimum) and its proof.

Lemma 2 (§4). If (W, V, θ) is a local minimum of L,

    E_{x,y~μ}[z(x, θ) D] = 0   and   E_{x,y~μ}[x D] = 0,   D := ∂ℓ(h, y)/∂h at h(x, W, V, θ).

The proof (App. A.2) splits on rank(W). If rank(W) >= d_y (full row rank) the first-order
conditions in V and W give it directly. If rank(W) < d_y it uses a family of perturbations:
for u ∈ Null(W), Ṽ(ν) = V + u ν^T leaves h (hence L) unchanged, so every (W, Ṽ(ν)) near (W, V) is
again a local minimum, and its first-order condition in W adds u ν^T E[zD] = 0.

Checked here: the conclusion at local minima that the engine finds and certifies, in both
branches of the case split, for each convex differentiable loss of Assumption A2 (the lemma
uses A1 and A2 through its proof: differentiability, and d_y <= d_x for Null(W) ≠ {0});
and the perturbation family symbolically.
"""

from proofcheck.lazy import deferred
from proofcheck import (Identity, Margin, Mutant, MutantKind, PointKind)
from proofcheck.problems import (CONVEX_DIFFERENTIABLE, NONCONVEX, at_point,
                                 resnet_instances)
from proofcheck.problems import resnet_landscape_with_saddles

from . import claim, printed_at
from ._declare import AT_POINT_DIGITS, every_critical_point
from .assumptions import A1, A2
from proofcheck.symbolic import SizeSweep
from proofcheck.symbolic_models import resnet_symbols

SOURCE = printed_at("4", "Lemma 2")



def instances(assumed):
    return resnet_instances(
        losses=CONVEX_DIFFERENTIABLE if assumed["A2"] else NONCONVEX,
        violate=not assumed["A1"],
        branches=(assumed.branch,) if assumed.branch else ("full_rank", "rank_deficient"))


def vanishing(*terms):
    """The conclusion that every ``term(q)`` vanishes, ``q`` = Lemma 2's quantities at the
    point, to within the certificate's resolution."""
    def margin(inst, point, B):
        q = at_point(inst, point)
        return Margin.vanishes(*(t(q) for t in terms), tol=q.resolution,
                               tol_source=q.resolution_source)
    return margin


# E[zD] = 0 and E[xD] = 0
conclusion = vanishing(lambda q: q.zD, lambda q: q.xD)
# Mutant: E[zD] = E[z] 1^T / 2 (a perturbed constant instead of 0)
zD_equals_Z_mean = vanishing(lambda q: q.zD - q.Z.mean(axis=0)[:, None] / 2, lambda q: q.xD)
# Mutant: the gradient of L in V alone vanishing is replaced by E[zD] + E[z]E[D] = 0
first_order_only_in_W = vanishing(lambda q: q.zD + q.Z.mean(axis=0)[:, None])


def rank_deficient_means_zero_predictor(inst, point, B):
    """Mutant wrong only on the rank-deficient branch: there, in addition, W = 0 (true of
    generators whose rank-deficient minima are all zero predictors, false otherwise)."""
    import numpy as np
    if point.branch != "rank_deficient":
        return conclusion(inst, point, B)
    W = np.asarray(point.point.W, float)
    return vanishing(lambda q: q.zD, lambda q: q.xD, lambda q: W)(inst, point, B)


lemma2 = claim("kb2019.lemma2", SOURCE,
    title="necessary condition of local minimum: E[zD] = 0 and E[xD] = 0",
    statement="If (W, V, θ) is a local minimum of L, E[z(x,θ) D] = 0 and E[x D] = 0, "
              "where D = ∂ℓ(h, y)/∂h at h = h(x, W, V, θ)",
    hypotheses=(A1, A2),
    conclusion=conclusion,
    instances=instances,
    point_kind=PointKind.LOCAL_MIN,
    landscape=resnet_landscape_with_saddles,
    branches=("full_rank", "rank_deficient"),
    notes="checked at certified second-order stationary points of L in (W, V) with z given as "
          "data. The proof uses A2 only through differentiability (convexity is not needed for "
          "this lemma), so no dropped-A2 mutant is claimed to be caught here. " + AT_POINT_DIGITS,
    high_precision=False,
    mutants=(
        every_critical_point(),
        Mutant.conclusion("rank_deficient_zero_predictor", MutantKind.OTHER,
                          "(wrong only on branch rank_deficient) there W = 0 as well",
                          rank_deficient_means_zero_predictor),
        Mutant.conclusion("shifted_zD", MutantKind.PERTURBED_CONSTANT,
                          "E[zD] = E[z]/2 instead of 0", zD_equals_Z_mean),
        Mutant.conclusion("added_term", MutantKind.DROPPED_TERM,
                          "E[zD] + E[z] = 0 (an extra term)", first_order_only_in_W),
        Mutant.drop("A1", "d_y > min(d_x, d_z): for d_y > d_x, E[zD] W = 0 no longer forces "
                          "E[zD] = 0 and Null(W) may be {0}"),
    ),
)


# --- the perturbation family of the case rank(W) < d_y ----------------------------------------

SWEEP = SizeSweep(d_x=(1, 3), d_y=(1, 3), d_z=(1, 2))


def null_perturbation(s, null_W=True):
    r = resnet_symbols(**s)
    W = r.W_with_null_direction() if null_W else r.W
    V_tilde = r.V + r.u * r.nu.T
    return W * (r.x + V_tilde * r.z), W * (r.x + r.V * r.z)


def perturbation_transposed(s):
    r = resnet_symbols(**s)
    W = r.W_with_null_direction()
    return W * (r.x + (r.V + r.nu * r.u.T) * r.z), W * (r.x + r.V * r.z)


def _half_projector(u):
    import sympy as sp
    return sp.eye(u.rows) - u * u.T / (2 * (u.T * u)[0, 0])


def null_perturbation_half_removed(s):
    r = resnet_symbols(**s)
    W = r.W * _half_projector(r.u)
    return W * (r.x + (r.V + r.u * r.nu.T) * r.z), W * (r.x + r.V * r.z)


@deferred
def null_perturbation_forms(sizes=({"d_x": 1, "d_y": 1, "d_z": 1},
                                   {"d_x": 2, "d_y": 1, "d_z": 1},
                                   {"d_x": 2, "d_y": 1, "d_z": 2})):
    """For the decision procedure: W u = 0 => W(x + (V + u ν^T) z) = W(x + V z), all reals."""
    import sympy as sp

    from proofcheck.decide import Decidable
    out = []
    for s in sizes:
        r = resnet_symbols(**s)
        lhs, rhs = r.W * (r.x + (r.V + r.u * r.nu.T) * r.z), r.W * (r.x + r.V * r.z)
        variables = sorted((lhs.free_symbols | rhs.free_symbols), key=sp.default_sort_key)
        out.append(Decidable(variables, {"Wu_zero": sp.And(*[sp.Eq(e, 0) for e in r.W * r.u])},
                             sp.And(*[sp.Eq(a, b) for a, b in zip(lhs, rhs)]), size=s,
                             name="null perturbation"))
    return tuple(out)


perturbation_family = claim(
    "kb2019.lemma2.null_perturbation", printed_at("A.2", "proof of Lemma 2, case rank(W) < d_y"),
    title="V + u ν^T leaves h unchanged when W u = 0",
    statement="For u ∈ Null(W) and any ν: h(x, W, V + u ν^T, θ) = h(x, W, V, θ) "
              "(hence L(W, Ṽ(ν), θ) = L(W, V, θ))",
    identities=(Identity("null_perturbation", "W u = 0 ⇒ W(x + (V + u ν^T) z) = W(x + V z); "
                         "W = M(I - u u^T/u^T u) is the generic W with W u = 0",
                         null_perturbation, SWEEP),),
    mutants=(
        Mutant.identity("drop_null_condition", MutantKind.DROPPED_HYPOTHESIS,
                        "any W (W u ≠ 0 allowed)", "null_perturbation",
                        lambda s: null_perturbation(s, null_W=False)),
        Mutant.identity("half_projector", MutantKind.PERTURBED_CONSTANT,
                        "W = M(I - u u^T/(2 u^T u)) (u only half removed)", "null_perturbation",
                        null_perturbation_half_removed),
        Mutant.identity("u_times_nu_transposed", MutantKind.TRANSPOSED,
                        "V + ν u^T instead of V + u ν^T", "null_perturbation",
                        perturbation_transposed),
        Mutant.conclusion("decided_drop_null_condition", MutantKind.DROPPED_HYPOTHESIS,
                          "any W (decidable form without W u = 0)", None,
                          decidable=lambda D: D.dropping("Wu_zero")),
    ),
    decidable=null_perturbation_forms(),
)


def perturbed_first_order(s, sign=1, keep=True):
    r = resnet_symbols(**s)
    lhs = (r.x + (r.V + r.u * r.nu.T) * r.z) * r.D
    rhs = (r.x + r.V * r.z) * r.D + (sign * r.u * r.nu.T * r.z * r.D if keep else 0 * lhs)
    return lhs, rhs


first_order_split = claim(
    "kb2019.lemma2.perturbed_first_order",
    printed_at("A.2", "proof of Lemma 2, case rank(W) < d_y"),
    title="first-order condition at the perturbed point",
    statement="(x + Ṽ(ν) z) D = (x + V z) D + u ν^T z D",
    identities=(Identity("perturbed_first_order", "(x + (V + uν^T)z)D = (x + Vz)D + uν^T zD",
                         perturbed_first_order, SWEEP),),
    mutants=(
        Mutant.identity("dropped_term", MutantKind.DROPPED_TERM, "(x + Vz)D only",
                        "perturbed_first_order", lambda s: perturbed_first_order(s, keep=False)),
        Mutant.identity("flipped_sign", MutantKind.FLIPPED_INEQUALITY, "(x + Vz)D - uν^T zD",
                        "perturbed_first_order", lambda s: perturbed_first_order(s, sign=-1)),
        Mutant.identity("doubled", MutantKind.PERTURBED_CONSTANT, "(x + Vz)D + 2uν^T zD",
                        "perturbed_first_order", lambda s: perturbed_first_order(s, sign=2)),
    ),
)
