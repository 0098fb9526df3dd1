"""Instance families and quantities shared by theorem modules about ResNets (h = W(x + V z)).

Theorem modules describe *which* instances a claim is about (dimensions satisfying or violating
A1, a loss family, a branch of a proof's case split); this module turns that into data and
computes the quantities that several claims need (L, L*_{x}, L*_{x,z}, E[zD], E[xD]), so no
theorem module does numerical plumbing.

An instance is a :class:`~proofcheck.claims.Instance` with fields ``X, Y, Z`` (data; Z is the
residual representation given as data) or ``residual`` (a trainable z(x; θ)), ``loss``,
``branch`` (which rank case, ``rank W >= d_y`` or ``rank W < d_y``, the optimiser should try
to land in), the sizes, and
the ``seed`` that generated it.

>>> from hypothesis import find
>>> inst = find(resnet_instances(losses=("squared",)), lambda i: True)
>>> inst.loss, inst.X.shape[1] == inst.d_x
(SquaredLoss(), True)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from hypothesis import strategies as st

from .claims import Assumed, Instance
from .losses import (LogisticLoss, SmoothedHinge, SoftmaxCrossEntropy, SquaredLoss,
                     TiltedDoubleWell)
from .models import Landscape, QuadraticResidual, ResNetProblem, TanhResidual, to_mp
from .strategies import A1, Relation, dimensions
from .streaming import LeastSquaresGain, LeastSquaresGainAccumulator

if TYPE_CHECKING:
    from .backends import Backend
    from .optimize.convex import ConvexFit

__all__ = ["LOSSES", "CONVEX_DIFFERENTIABLE", "TWICE_DIFFERENTIABLE", "NONCONVEX", "A1",
           "resnet_instances", "resnet_problem", "resnet_landscape",
           "linear_value", "Relation", "at_point",
           "PointQuantities", "cases", "case_of", "instances_for", "point_tolerance",
           "z_in_span_of_x", "least_squares_gain", "regression_data", "with_bias_columns",
           "streamed_regression", "stream_chunks", "streamed_least_squares_gain",
           "values_at_point", "linear_value_pair", "with_feature_map", "linear_objective_pairs",
           "linear_objective",
           "zero_predictor_critical_point", "resnet_landscape_with_saddles"]

#: Convex and differentiable losses, by short name.
LOSSES = {
    "squared": SquaredLoss(),
    "cross_entropy": SoftmaxCrossEntropy(),
    "logistic": LogisticLoss(),
    "smoothed_hinge2": SmoothedHinge(2),
    "smoothed_hinge3": SmoothedHinge(3),
    "hinge": SmoothedHinge(1),                   # convex, not differentiable
    "double_well": TiltedDoubleWell(0.5),        # differentiable, not convex
}
CONVEX_DIFFERENTIABLE = ("squared", "cross_entropy", "logistic", "smoothed_hinge2",
                         "smoothed_hinge3")
TWICE_DIFFERENTIABLE = ("squared", "cross_entropy", "logistic", "smoothed_hinge3")
NONCONVEX = ("double_well",)

BINARY = ("logistic", "smoothed_hinge2", "smoothed_hinge3", "hinge")


def _targets(kind: str, m: int, d_y: int, rng) -> np.ndarray:
    if kind == "cross_entropy":
        return np.eye(d_y)[rng.integers(0, d_y, size=m)]
    if kind in BINARY:
        return rng.choice([-1.0, 1.0], size=(m, 1))
    return rng.normal(size=(m, d_y))


def _classification_data(kind, d_x, d_y, d_z, rng, balanced):
    """Features with every label present at a spanning set of points (the infimum of the linear
    problem is attained), or with *every* label at *every* point (``balanced``: then R = 0 is
    the unique minimiser of L^R, so every minimiser of L has W = 0, the rank-deficient case)."""
    k = d_x + d_z
    labels = np.eye(d_y) if kind == "cross_entropy" else np.array([[1.0], [-1.0]])
    n_base = k + 2
    X, Z = rng.normal(size=(n_base, d_x)), rng.normal(size=(n_base, d_z))
    reps = len(labels)
    Xs, Zs = np.repeat(X, reps, axis=0), np.repeat(Z, reps, axis=0)
    Ys = np.tile(labels, (n_base, 1))
    if not balanced:   # extra random points with random labels make the optimum nonzero
        n_extra = 2 * k + 2
        Xe, Ze = rng.normal(size=(n_extra, d_x)), rng.normal(size=(n_extra, d_z))
        Ye = _targets(kind, n_extra, d_y, rng)
        shift = 1.5 * Xe[:, :1]      # labels correlate with the data so the optimum is not 0
        if kind == "cross_entropy":
            Ye = np.eye(d_y)[(np.abs(shift[:, 0]) * d_y).astype(int) % d_y]
        else:
            Ye = np.where(shift > 0, 1.0, -1.0) * np.where(rng.random((n_extra, 1)) < 0.85, 1, -1)
        Xs, Zs, Ys = np.vstack([Xs, Xe]), np.vstack([Zs, Ze]), np.vstack([Ys, Ye])
    return Xs, Zs, Ys


def _tied_classification_data(d_x, d_y, d_z, rng):
    """Cross-entropy data (d_y >= 3) whose optimal predictors are rank-deficient but *not*
    zero: classes 1..d_y-1 are tied (each once at every point), class 0 appears 1 or 3 times
    at a point depending on the sign of a random linear function of (x, z).  Every label is at
    every point (the infimum is attained); the optimal logits have h_1 = ... = h_{d_y-1} and
    h_0 - h_1 a nonzero linear function, so every minimiser W has rank <= 2 < d_y, W != 0."""
    k = d_x + d_z
    n_base = 2 * k + 4
    X, Z = rng.normal(size=(n_base, d_x)), rng.normal(size=(n_base, d_z))
    a = rng.normal(size=k)
    Xs, Zs, Ys = [], [], []
    eye = np.eye(d_y)
    for i in range(n_base):
        reps = list(range(1, d_y)) + [0] * (3 if np.r_[X[i], Z[i]] @ a > 0 else 1)
        for c in reps:
            Xs.append(X[i])
            Zs.append(Z[i])
            Ys.append(eye[c])
    return np.array(Xs), np.array(Zs), np.array(Ys)


def make_resnet_data(loss_name: str, sizes: dict, branch: str, seed: int) -> dict:
    """Data for one instance: X, Y, Z as numpy arrays (see :func:`resnet_instances`).

    Rank-deficient branch: the squared loss plants a global minimum of rank d_y - 1 (nonzero
    for d_y >= 2); cross-entropy with d_y >= 3 ties all classes but one
    (:func:`_tied_classification_data`: optimal predictors rank-deficient and nonzero).  Only
    d_y = 1 (binary losses; cross-entropy with d_y = 2 is reduced to it) uses data on which the
    zero predictor is optimal -- there rank W < d_y = 1 *means* W = 0, so its local minima are
    those of a zero predictor by necessity."""
    rng = np.random.default_rng(seed)
    d_x, d_y, d_z = sizes["d_x"], sizes["d_y"], sizes["d_z"]
    loss = LOSSES[loss_name]
    if loss_name == "cross_entropy" and branch == "rank_deficient" and d_y >= 3:
        X, Z, Y = _tied_classification_data(d_x, d_y, d_z, rng)
        return dict(X=X, Y=Y, Z=Z)
    if loss_name in BINARY or loss_name == "cross_entropy":
        X, Z, Y = _classification_data(loss_name, d_x, d_y, d_z, rng,
                                       balanced=(branch == "rank_deficient"))
        return dict(X=X, Y=Y, Z=Z)
    if not loss.convex:
        # square, invertible [X Z]: linear predictors can put every residual h_i - y_i in either
        # well of the loss, so L*_{x,z} is the loss's own minimum and local minima with some
        # residuals in the upper well exist (they are what a dropped convexity exposes)
        m = d_x + d_z
        X, Z = rng.normal(size=(m, d_x)), rng.normal(size=(m, d_z))
        return dict(X=X, Y=rng.normal(size=(m, d_y)), Z=Z)
    m = d_x + d_z + 4
    if loss_name == "squared" and branch == "rank_deficient" and d_y <= d_x:
        # planted global minimum with rank(W0) = d_y - 1 (exact data: see planted_problem)
        from .optimize.local_min import planted_problem   # scipy.optimize: on first use
        problem, _ = planted_problem(d_x, d_y, d_z, m, d_y - 1, loss, rng, noise=0.5)
        return dict(X=problem.X, Y=problem.Y, Z=problem.Z)
    X, Z = rng.normal(size=(m, d_x)), rng.normal(size=(m, d_z))
    Y = X @ rng.normal(size=(d_x, d_y)) + Z @ rng.normal(size=(d_z, d_y)) \
        + 0.5 * rng.normal(size=(m, d_y))
    return dict(X=X, Y=Y, Z=Z)


def resnet_instances(*, losses: Sequence[str] = CONVEX_DIFFERENTIABLE,
                     relation: Relation | None = A1, violate: bool = False,
                     branches: Sequence[str] = ("full_rank", "rank_deficient"),
                     residual: str = "data", max_dim: int = 3,
                     rank_deficient_dy: int = 2) -> st.SearchStrategy[Instance]:
    """Instances of the ResNet objective h = W(x + V z) with the empirical measure.

    ``relation`` / ``violate``: the sizes satisfy the relation (A1 by default) or its negation;
    ``losses``: names from :data:`LOSSES` (binary losses force d_y = 1); ``branches``: the rank
    cases, ``"full_rank"`` (rank W >= d_y) or ``"rank_deficient"`` (rank W < d_y): the data
    are built so that the wanted branch has local minima (a planted rank-deficient global minimum
    for the squared loss, labels balanced at every point for classification losses) and the
    optimiser is started in that branch. ``residual="quadratic"`` (z = (A x)^2) or ``"tanh"``
    (z = B tanh(A x)): z(x; θ) is trained with (W, V) instead of Z being data (tanh units
    saturate, so their infimum is usually not attained and the finder reports that).
    ``rank_deficient_dy``: the smallest d_y drawn for the rank-deficient branch of a non-binary
    loss (2; cross-entropy one more), so that its local minima are not zero predictors.
    """
    loss_names = tuple(losses)
    for n in loss_names:
        if n not in LOSSES:
            raise ValueError(f"unknown loss {n!r}; known: {sorted(LOSSES)}")
    if violate and relation is not None:
        # binary losses have d_y = 1, which satisfies A1-type relations: they cannot violate it
        loss_names = tuple(n for n in loss_names if n not in BINARY)
        if not loss_names:
            raise ValueError(f"none of the losses {tuple(losses)} allows sizes violating "
                             f"{relation} (binary losses fix d_y = 1)")

    @st.composite
    def draw(draw):
        name = draw(st.sampled_from(loss_names))
        rel: Relation | None
        if name in BINARY:
            rel = Relation("d_y = 1", lambda d: d["d_y"] == 1)
            if relation is not None:
                rel = rel & (relation.negate() if violate else relation)
            sizes = draw(dimensions(max_value={"d_x": max_dim, "d_y": 1, "d_z": max_dim},
                                    relation=rel))
        else:
            rel = relation.negate() if (relation is not None and violate) else relation
            if name == "cross_entropy":     # one class would make the loss identically 0
                two = Relation("d_y >= 2", lambda d: d["d_y"] >= 2)
                rel = two if rel is None else rel & two
            branch = draw(st.sampled_from(tuple(branches)))
            if branch == "rank_deficient" and rank_deficient_dy > 1:
                # d_y = 1 would make rank W < d_y mean W = 0 (a zero predictor): ask for d_y
                # large enough that the branch has nonzero predictors (see make_resnet_data)
                need = rank_deficient_dy + (1 if name == "cross_entropy" else 0)
                more = Relation(f"d_y >= {need}", lambda d: d["d_y"] >= need)
                both = more if rel is None else rel & more
                try:                  # unless the claim's relation fixes d_y = 1 (e.g. PA1)
                    dimensions(max_value=max_dim, relation=both)
                    rel = both
                except ValueError:
                    pass
            sizes = draw(dimensions(max_value=max_dim, relation=rel))
        branch = draw(st.sampled_from(tuple(branches))) if name in BINARY else branch
        if sizes["d_y"] > sizes["d_x"]:
            branch = "rank_deficient"           # rank(W) <= d_x < d_y: no other case exists
        seed = draw(st.integers(0, 2 ** 32 - 1))
        data = make_resnet_data(name, sizes, branch, seed)
        fields = dict(loss=LOSSES[name], loss_name=name, branch=branch, seed=seed,
                      residual=residual, **sizes, **data)
        if residual == "tanh":
            fields["hidden"] = 2
        return Instance(**fields)

    return draw()


def cases(losses: Sequence[str] = CONVEX_DIFFERENTIABLE,
          branches: Sequence[str] = ("full_rank", "rank_deficient")) -> tuple[str, ...]:
    """One case per loss and rank branch, e.g. ``"logistic/rank_deficient"``."""
    return tuple(f"{loss}/{b}" for loss in losses for b in branches)


def case_of(inst: Instance, cp: Any) -> str:
    """The case a certified point falls in: the instance's loss and the point's rank branch."""
    return f"{inst.loss_name}/{cp.branch}"


def instances_for(assumed: Assumed, *, losses: Sequence[str] = CONVEX_DIFFERENTIABLE,
                  size_hypothesis: str | None = "A1", loss_hypothesis: str | None = "A2",
                  relation: Relation | None = A1, residual: str = "data",
                  nonconvex: Sequence[str] = NONCONVEX) -> st.SearchStrategy[Instance]:
    """The instance strategy of a claim whose hypotheses are a size relation (A1) and a loss
    assumption (A2), for the case ``assumed.branch`` (see :func:`cases`).

    Dropping the size hypothesis draws sizes violating it (binary losses, which fix d_y = 1,
    cannot, so the squared loss stands in for them); dropping the loss hypothesis draws the
    non-convex losses instead of the case's loss."""
    loss, _, branch = (assumed.branch or "").partition("/")
    names = (loss,) if loss else tuple(losses)
    if loss_hypothesis and not assumed[loss_hypothesis]:
        names = tuple(nonconvex)
    violate = bool(size_hypothesis) and not assumed[size_hypothesis or ""]
    if violate:
        names = tuple(n for n in names if n not in BINARY) or ("squared",)
    return resnet_instances(losses=names, relation=relation if size_hypothesis else None,
                            violate=violate, residual=residual,
                            branches=(branch,) if branch else ("full_rank", "rank_deficient"))


def z_in_span_of_x(inst: Instance) -> Instance:
    """The same instance with Z replaced by X C (C fixed): z is then negligible,
    L*_{x,z} = L*_{x}."""
    C = np.linspace(1.0, 2.0, inst.d_x * inst.d_z).reshape(inst.d_x, inst.d_z)
    return inst.replace(Z=np.asarray(inst.X, float) @ C)


# --------------------------------------------------------------------------------------------
# quantities

def resnet_problem(inst: Instance) -> ResNetProblem:
    kind = inst.fields().get("residual")
    if kind == "tanh":
        return ResNetProblem(X=inst.X, Y=inst.Y, loss=inst.loss,
                             residual=TanhResidual(inst.d_x, inst.d_z, inst.hidden))
    if kind == "quadratic":
        return ResNetProblem(X=inst.X, Y=inst.Y, loss=inst.loss,
                             residual=QuadraticResidual(inst.d_x, inst.d_z))
    return ResNetProblem(X=inst.X, Y=inst.Y, Z=inst.Z, loss=inst.loss)


def resnet_landscape(inst: Instance) -> Landscape:
    """The objective L(W, V, θ) of the instance, in the parameters the claim quantifies over."""
    problem = resnet_problem(inst)
    trainable = ("W", "V", "theta") if problem.residual is not None else ("W", "V")
    return Landscape(problem, trainable=trainable)


def _point(cp: Any) -> Any:
    return getattr(cp, "point", cp)


# --------------------------------------------------------------------------------------------
# quantities at a certified point, at the certificate's precision

@dataclass(frozen=True)
class PointQuantities:
    """L, E[zD], E[xD] at a certified point, evaluated at the point's working precision.

    ``resolution`` is how close to zero a quantity that vanishes at the exact critical point can
    be certified to be here: the certificate's gradient threshold τ_grad (the refined point lies
    within about τ_grad of a critical point along every curved direction) times a Lipschitz bound
    of the quantities in the parameters, ``(1 + max|x|, |z|)^2 (1 + ||W|| + ||V||)``.
    """

    L: float
    zD: np.ndarray
    xD: np.ndarray
    Z: np.ndarray
    resolution: float
    digits: int

    @property
    def resolution_source(self) -> str:
        return (f"certificate resolution: tau_grad x Lipschitz bound, at mpmath {self.digits} "
                "digits")


def at_point(inst: Instance, cp: Any) -> PointQuantities:
    """L, E[zD] and E[xD] at the certified point ``cp`` (:class:`PointQuantities`)."""
    import mpmath

    land = resnet_landscape(inst)
    digits = int(cp.digits)
    params = cp.params_mp if getattr(cp, "params_mp", None) is not None \
        else land.flatten(_point(cp))
    with mpmath.workdps(digits):
        W, V, theta = land.split(np.asarray(params, dtype=object))
        X, Y = to_mp(inst.X), to_mp(inst.Y)
        problem = land.problem
        if problem.residual is None:
            Z = to_mp(inst.Z)
        else:
            Z = problem.residual.z(X, theta if theta is not None else land.theta)
        H = (X + Z @ V.T) @ W.T
        m = X.shape[0]
        D = np.array([list(inst.loss.grad_mp(H[i], Y[i])) for i in range(m)], dtype=object)
        L = sum(inst.loss.value_mp(H[i], Y[i]) for i in range(m)) / m
        zD, xD = Z.T @ D / m, X.T @ D / m
    to_f = np.vectorize(float, otypes=[float])
    Wf, Vf, Zf = to_f(W), to_f(V), to_f(Z)
    lip = (1 + max(np.abs(inst.X).max(), np.abs(Zf).max())) ** 2 * \
        (1 + np.linalg.norm(Wf) + np.linalg.norm(Vf))
    tau = float(cp.tau_grad) if np.isfinite(cp.tau_grad) else 1.0
    return PointQuantities(L=float(L), zD=to_f(zD), xD=to_f(xD), Z=Zf,
                           resolution=tau * lip, digits=digits)


def linear_value(inst: Instance, cp: Any = None, basis: str = "x,z",
                 digits: int | None = None) -> ConvexFit:
    """L*_{x} (``basis="x"``) or L*_{x,z(x,θ)}: the convex solver's certified fit, with θ from
    the certified point ``cp`` when z is trainable."""
    Phi = np.asarray(inst.X, float) if basis == "x" else \
        np.hstack([np.asarray(inst.X, float), at_point_Z(inst, cp)])
    from .optimize.convex import best_linear_predictor   # scipy: on first use
    return best_linear_predictor(Phi, inst.Y, inst.loss, digits=digits)


def linear_value_pair(inst: Instance) -> tuple[float, float, float]:
    """(L*_{x}, L*_{x,z}, width) of an instance with z given as data: the convex solver's two
    values and the total width of their certified brackets (a comparison tolerance). For a
    non-convex loss the solver certifies no lower bound, so the width is ``inf``: nothing can
    be told apart from zero (a hypothesis built on it then rejects the instance)."""
    L_x, L_xz = linear_value(inst, basis="x"), linear_value(inst)
    if any(f.lower_bound is None for f in (L_x, L_xz)):
        return float(L_x.value), float(L_xz.value), float("inf")
    width = sum(float(f.upper_bound) - float(f.lower_bound) for f in (L_x, L_xz))
    return float(L_x.value), float(L_xz.value), width


def values_at_point(inst: Instance, cp: Any, *bases: str) -> tuple[Any, ...]:
    """(L, L*_{b} for each basis b, tol, tol_source) at a certified point: the value of the
    network and of the best linear predictors on the bases, with the tolerance of comparing
    them. ``bases`` are "x" and/or "x,z"."""
    q = at_point(inst, cp)
    fits = [linear_value(inst, cp, basis=b) for b in bases]
    tol, source = point_tolerance(q, *fits)
    return (q.L, *[float(f.value) for f in fits], tol, source)


def at_point_Z(inst: Instance, cp: Any = None) -> np.ndarray:
    """Z(X, θ): the data Z, or the trainable residual at the point's θ."""
    problem = resnet_problem(inst)
    if problem.residual is None:
        return np.asarray(inst.Z, float)
    if cp is None:
        raise ValueError("z is trainable here: L*_{x,z(x,θ)} needs the point's θ")
    return problem.features(_point(cp).theta)


def point_tolerance(q: PointQuantities, *fits: ConvexFit) -> tuple[float, str]:
    """Tolerance for comparing L at a certified point with convex-solver values L*.

    The certificate's resolution at the scale of L, plus the width of each fit's certified
    bracket [lower_bound, upper_bound] on the infimum (which includes the solver's rounding).
    """
    width, one_sided = 0.0, False
    for f in fits:
        lo, hi = f.lower_bound, f.upper_bound
        if hi is None or not np.isfinite(float(hi)):
            raise ValueError(f"the solver gave no achieved value ({f.status}); the comparison "
                             "would not be backed by a bound")
        if lo is None or not np.isfinite(float(lo)):
            # non-convex: the fit is an achieved value, an upper bound on L*, evaluated in
            # float64 as a sum over m samples: rounding <= m * u * (1 + |value|)
            one_sided = True
            width += q.Z.shape[0] * np.finfo(float).eps / 2 * (1 + abs(float(hi)))
            continue
        width += float(hi) - float(lo)
    tol = q.resolution * (1 + abs(q.L)) + width
    source = (f"certificate resolution at mpmath {q.digits} digits + width of the convex "
              f"solver's certified bracket on L* ({width:.2g})")
    if one_sided:
        source += ("; for a non-convex loss L* is only bounded above by an achieved value, so "
                   "only a failure (L above that value) is conclusive")
    return tol, source


# --------------------------------------------------------------------------------------------
# squared loss, empirical measure : the projection quantities

def least_squares_gain(X: Any, Z: Any, Y: Any, B: Backend) -> dict[str, Any]:
    """(L*_x, L*_{x,z}, improvement, improvement_projected) by projections, batched on ``B``:
    the least-squares values on x and on (x, z) and what the part of z outside the span of x
    adds to the fit on x.

    L*_x = (1/m)||P_N[X]Y||^2, L*_{x,z} = (1/m)||P_N[[X Z]]Y||^2, improvement =
    (1/m)||P[P_N[X]Z]Y||^2 and (1/m)||P[P_N[X]Z]P_N[X]Y||^2. Every range is decided against the
    scale of [X Z] (an absolute cutoff): P_N[X]Z is pure rounding noise when Z lies in the span
    of X, and a cutoff relative to its own size would count that noise as rank.
    Also returns cond([X Z]), the scale ||Y||^2/m, and ``tol`` / ``tol_source``: the
    backend's rounding tolerance for these quantities (:meth:`Backend.tolerance`).
    """
    X, Z, Y = B.asarray(X), B.asarray(Z), B.asarray(Y)
    m = X.shape[-2]
    XZ = B.hstack([X, Z])
    s = B.svdvals(XZ)
    from .linalg import cutoff_factor
    cut = s[..., 0] * B.eps * cutoff_factor(XZ.shape[-2:], "lapack")
    N_Y = B.null_project(X, Y, method=cut)
    N_Z = B.null_project(X, Z, method=cut)
    # P_N[X] Z carries rounding noise up to the backward-error bound of computing it,
    # ~ m d_x u cond(X) ||[X Z]|| (Higham, thm 20.1): its range is decided above that level
    # (the backend's documented tolerance), not at the plain rank cutoff
    cut_NZ = B.tolerance(s[..., 0], cond=B.condition_number(X, method=cut),
                         n_ops=X.shape[-2] * X.shape[-1])
    L_x = B.fro2(N_Y) / m
    L_xz = B.fro2(B.null_project(XZ, Y, method=cut)) / m
    improvement = B.fro2(B.project(N_Z, Y, method=cut_NZ)) / m
    improvement_projected = B.fro2(B.project(N_Z, N_Y, method=cut_NZ)) / m
    cond, scale, n_ops = B.condition_number(XZ, method=cut), B.fro2(Y) / m, m * XZ.shape[-1]
    return dict(L_x=L_x, L_xz=L_xz, improvement=improvement,
                improvement_projected=improvement_projected, cond=cond, scale=scale, m=m,
                n_ops=n_ops, tol=B.tolerance(scale, cond=cond, n_ops=n_ops),
                tol_source=f"backward-error tolerance of the projections on {B.name} "
                           f"(cond([X Z]) <= {float(np.max(B.to_float(cond))):.3g})")


@st.composite
def regression_data(draw: st.DrawFn, max_m: int = 8, max_d: int = 3,
                    loss: str | None = None) -> Instance:
    """X (m x d_x), Z (m x d_z), Y (m x d_y) with edge cases on purpose: rank-deficient X,
    Z inside the span of X, repeated rows, m smaller than d_x + d_z. ``loss`` (a name of
    :data:`LOSSES`) is attached to the instance when given."""
    d_x, d_z, d_y = (draw(st.integers(1, max_d)) for _ in range(3))
    m = draw(st.integers(1, max_m))
    rank_X = draw(st.integers(0, min(m, d_x)))
    structure = draw(st.sampled_from(("generic", "z_in_span_of_x", "repeated_rows")))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    # dyadic factors (multiples of 1/8): their products are exact in float64, so a planted
    # rank deficiency (or Z in the span of X) is exact, also at mpmath precision
    dy = lambda *shape: np.round(rng.normal(size=shape) * 8) / 8
    X = dy(m, rank_X) @ dy(rank_X, d_x) if rank_X else np.zeros((m, d_x))
    Z = X @ dy(d_x, d_z) if structure == "z_in_span_of_x" else rng.normal(size=(m, d_z))
    Y = rng.normal(size=(m, d_y))
    if structure == "repeated_rows" and m >= 2:
        X[-1], Z[-1] = X[0], Z[0]
    extra = dict(loss=LOSSES[loss], loss_name=loss) if loss else {}
    # the drawn structure (rank of X, Z in its span, repeated rows) is visible in the data and
    # deliberately not stored as a field: fields that differ split the engine's batches
    return Instance(X=X, Z=Z, Y=Y, m=m, d_x=d_x, d_y=d_y, d_z=d_z, **extra)


def with_bias_columns(inst: Instance) -> Instance:
    """Bias terms by augmentation: x -> [x; 1] and z -> [z; 1]."""
    m = np.asarray(inst.X).shape[0]
    one = np.ones((m, 1))
    return inst.replace(X=np.hstack([inst.X, one]), Z=np.hstack([inst.Z, one]),
                        d_x=inst.d_x + 1, d_z=inst.d_z + 1)


# --------------------------------------------------------------------------------------------
# large m: the least-squares gain streamed over row chunks (O(m d^2) time, O(d^2) memory)

@st.composite
def streamed_regression(draw: st.DrawFn, m_values: Sequence[int] = (10_000, 20_000),
                        max_d: int = 4, chunk_rows: int = 8192) -> Instance:
    """A data set too large to hold projections for, described by its sizes and seed; rows are
    generated chunk by chunk by :func:`stream_chunks` (never all at once)."""
    d_x, d_z, d_y = (draw(st.integers(1, max_d)) for _ in range(3))
    return Instance(m=draw(st.sampled_from(tuple(m_values))), d_x=d_x, d_z=d_z, d_y=d_y,
                    seed=draw(st.integers(0, 2 ** 32 - 1)), chunk_rows=chunk_rows,
                    z_in_span_of_x=draw(st.booleans()))


def stream_chunks(inst: Instance) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Yield (X, Z, Y) row chunks of the streamed data set."""
    rng = np.random.default_rng(inst.seed)
    C = np.round(rng.normal(size=(inst.d_x, inst.d_z)) * 8) / 8
    A, B = rng.normal(size=(inst.d_x, inst.d_y)), rng.normal(size=(inst.d_z, inst.d_y))
    left = inst.m
    while left:
        k = min(left, inst.chunk_rows)
        X = rng.normal(size=(k, inst.d_x))
        Z = X @ C if inst.z_in_span_of_x else rng.normal(size=(k, inst.d_z))
        Y = X @ A + np.tanh(Z) @ B + rng.normal(size=(k, inst.d_y))
        left -= k
        yield X, Z, Y


def streamed_least_squares_gain(inst: Instance) -> LeastSquaresGain:
    """:func:`least_squares_gain` of a streamed data set, in float64
    (:mod:`proofcheck.streaming`)."""
    return LeastSquaresGainAccumulator.from_chunks(stream_chunks(inst)).result()


def with_feature_map(inst: Instance) -> Instance:
    """A fixed feature map: x = φ(x_raw) for a fixed feature map; here φ(x) = [x, x^2, sin x]
    (entrywise), applied to the instance's inputs (d_x triples)."""
    X = np.asarray(inst.X, float)
    phi = np.hstack([X, X ** 2, np.sin(X)])
    return inst.replace(X=phi, d_x=phi.shape[1])


@st.composite
def linear_objective_pairs(draw: st.DrawFn, losses: Sequence[str] = CONVEX_DIFFERENTIABLE,
                           max_m: int = 8, max_k: int = 4) -> Instance:
    """(Phi, Y, loss, R1, R2): two linear predictors on the same data, for convexity checks of
    L^R(R) = (1/m) sum_i l(R phi_i, y_i)."""
    name = draw(st.sampled_from(tuple(losses)))
    k, m = draw(st.integers(1, max_k)), draw(st.integers(1, max_m))
    d_y = 1 if name in BINARY else draw(st.integers(2 if name == "cross_entropy" else 1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    loss = LOSSES[name]
    Y = _targets(name, m, d_y, rng)
    return Instance(Phi=rng.normal(size=(m, k)), Y=Y, R1=2 * rng.normal(size=(d_y, k)),
                    R2=2 * rng.normal(size=(d_y, k)), loss=loss, loss_name=name)


def linear_objective(inst: Instance, R: Any, B: Backend | None = None) -> Any:
    """L^R(R) = (1/m) sum_i l(R phi_i, y_i) on the backend ``B`` (numpy: batched over leading
    axes; mpmath: one instance, the loss evaluated sample by sample at B's precision)."""
    if B is None or B.name == "numpy":
        Phi = np.asarray(inst.Phi, float)
        H = Phi @ np.swapaxes(np.asarray(R, float), -1, -2)
        return np.mean(inst.loss.value(H, np.asarray(inst.Y, float)), axis=-1)
    Phi, Rm, Y = B.asarray(inst.Phi), B.asarray(R), B.asarray(inst.Y)
    H = B.matmul(Phi, B.T(Rm))
    m = Phi.shape[0]
    return sum(inst.loss.value_mp(H[i], Y[i]) for i in range(m)) / m


# --------------------------------------------------------------------------- saddles as starts

def zero_predictor_critical_point(inst: Instance) -> np.ndarray | None:
    """A critical point with W = 0: V solving E[D x^T] + E[D z^T] V^T = 0, D = dl(0, y)/dh
    (then dL/dW = E[D (x + V z)^T] = 0 and dL/dV = W^T (...) = 0).  Unless the zero predictor
    is optimal it is a saddle -- exactly where a statement read 'at every critical point'
    breaks.  None when the equation has no solution or z is trainable."""
    problem = resnet_problem(inst)
    if problem.residual is not None:
        return None
    X, Z, Y = (np.asarray(a, float) for a in (problem.X, problem.Z, problem.Y))
    D = np.asarray(problem.loss.grad(np.zeros_like(Y), Y), float)
    Exd, Ezd = D.T @ X / len(X), D.T @ Z / len(Z)          # E[D x^T], E[D z^T]
    Vt = -np.linalg.lstsq(Ezd, Exd, rcond=None)[0]           # d_z x d_x
    if np.linalg.norm(Exd + Ezd @ Vt) > 1e-12 * max(1.0, float(np.linalg.norm(Exd))):
        return None                  # E[D x^T] not in the range of E[D z^T]
    W = np.zeros((Y.shape[1], X.shape[1]))
    return np.concatenate([W.reshape(-1, order="F"), Vt.T.reshape(-1, order="F")])


class _WithStarts:
    """A landscape whose finder also starts from given points (duck-typed ``find_points``)."""

    def __init__(self, landscape: Landscape, branch: str | None,
                 initial_points: Iterable[np.ndarray]) -> None:
        self.landscape = landscape
        self.branch = branch
        self.initial_points = tuple(initial_points)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.landscape, name)

    def find_points(self, *, rng: np.random.Generator, starts: int = 8, digits: int = 50,
                    branch: str | None = None) -> list[Any]:
        from .optimize.local_min import find_local_minima
        return find_local_minima(self.landscape, rng=rng, starts=starts,
                                 branch=self.branch if branch is None else branch,
                                 digits=digits, initial_points=self.initial_points)


def resnet_landscape_with_saddles(inst: Instance) -> Landscape | _WithStarts:
    """:func:`resnet_landscape` whose finder also starts at
    :func:`zero_predictor_critical_point` (so saddles are visited and certified as such)."""
    land = resnet_landscape(inst)
    start = zero_predictor_critical_point(inst)
    if start is None or start.size != land.n_params:
        return land
    branch = inst.fields().get("branch")
    return _WithStarts(land, branch if branch in ("full_rank", "rank_deficient") else None,
                       [start])
