"""KHK 2019 (DW), Theorem 1, Proposition 1, Lemma 5 (deterministic part), eq. 3.3 and the
identities of the proof of Theorem 1 (Appendix A.1).

Theorem 1: every differentiable local minimum theta of L satisfies L(theta) = J(theta) with
J(theta) = 1/2 ||Y||^2 - sum_{l=1}^{H+1} sum_k 1/2 ||P[N^(l)_k D^(l)_k] vec Y||^2
        = 1/2 ||P_N[[D, D^(H+1)_1]] vec Y||^2 (the two forms agree: ``gram_schmidt.py``).

The points come from :mod:`proofcheck.optimize.piecewise`: Levenberg-Marquardt from several
starts (the first start is the instance's boundary construction: an exact kink, a zero sample,
a dead unit, a unit without outgoing weights), refinement at the profile's digits inside the
activation pattern, and a certificate that accepts only *differentiable* second-order
stationary points (every live kinked pre-activation away from 0 beyond the distance to the
limit point).  Points near or at a kink are counted in the evidence and never used.
"""

import math
from functools import partial

import numpy as np

from proofcheck import Instance, Margin, Mutant, MutantKind, PointKind
from proofcheck import networks as nw
from proofcheck.evaluate import as_point
from proofcheck.linalg import numerical_rank
from proofcheck.optimize.piecewise import value_at_point

from . import claim, printed_at
from .assumptions import ADMISSIBLE, ONE_HIDDEN, SCALAR_OUTPUT, per_instance
from hypothesis import strategies as st

from .instances import READINGS, STRATUM_ACTS, arrays, build_stratum, close, landscape, \
    landscape_reading, network_instances, point_arrays, problem_data, problem_instances, \
    stratified

BRANCHES = ("all_active", "dead_unit", "stratum")


def _case_of(inst, point):
    return point.branch


#: The setting of Theorem 1 and the statements sharing its proof: certified differentiable
#: local minima of the piecewise landscape, one branch per kind of certificate.
at_local_minima = partial(claim, hypotheses=(ADMISSIBLE,), point_kind=PointKind.LOCAL_MIN,
                          landscape=landscape, branches=BRANCHES, case_of=_case_of)

#: Section 3.1's setting: one hidden layer, scalar output, a few samples.
one_hidden_layer = partial(at_local_minima, hypotheses=(ADMISSIBLE, ONE_HIDDEN, SCALAR_OUTPUT),
                           instances=stratified(H=(1, 1), d_y=(1, 1), m=(2, 7)))


def _compare(inst, point, **kw):
    net, X, Y = problem_data(inst)
    v = value_at_point(net, X, Y, point, **kw)
    pt = as_point(point)
    with pt.backend().context():    # mpmath's global precision is 15 digits
        diff = abs(v.L - v.value)
    return Margin(-pt.number(diff), v.tol, pt.number(v.L), pt.number(v.value), v.tol_source)


def _blocks_without_output(net, Ws, X, pattern):
    return nw.d_block_list(net, Ws, X, pattern=pattern)[:-1]


def _blocks_without_pattern(net, Ws, X, pattern):
    ones = [np.ones_like(np.asarray(p, float)) for p in pattern]
    return nw.d_block_list(net, Ws, X, pattern=ones)


def _output_only(net, Ws, X, pattern):
    return nw.d_block_list(net, Ws, X, pattern=pattern)[-1:]


def _output_raw(inst, point, B):
    # mutant: the last Gram-Schmidt block not orthogonalised against D:
    # 1/2||y||^2 - sum_{b <= H} 1/2||P[Q_b] y||^2 - 1/2||P[D^(H+1)_1] y||^2
    net, X, Y = problem_data(inst)
    v1 = value_at_point(net, X, Y, point, blocks_of=_blocks_without_output)
    v2 = value_at_point(net, X, Y, point, blocks_of=_output_only)
    P = as_point(point).backend()
    with P.context():
        wrong = v1.value + v2.value - P.asarray(float(np.sum(Y * Y))).item() / 2
        gap = abs(v1.L - wrong)
    return Margin(-float(gap), v1.tol + v2.tol, float(v1.L), float(wrong),
                  v1.tol_source)


def _j_halved_sum(inst, point, B):
    # mutant: J with the sum of projections not halved: 1/2||y||^2 - sum ||P y||^2
    net, X, Y = problem_data(inst)
    v = value_at_point(net, X, Y, point)
    P = as_point(point).backend()
    with P.context():
        wrong = 2 * v.value - P.asarray(float(np.sum(Y * Y))).item() / 2  # 1/2 y2 - 2 (1/2 y2 - J)
        gap = abs(v.L - wrong)
    return Margin(-float(gap), v.tol * 2, float(v.L), wrong, v.tol_source)


_T1_MUTANTS = (
        Mutant.conclusion("output_not_orthogonalised", MutantKind.DROPPED_TERM,
                          "N^(H+1)_1 = I: the output term 1/2||P[D^(H+1)_1] vec Y||^2 raw",
                          _output_raw),
        Mutant.conclusion("without_pattern", MutantKind.DROPPED_TERM,
                          "D^(l)_k built without Lambda (every unit linear)",
                          lambda inst, point, B: _compare(inst, point,
                                                          blocks_of=_blocks_without_pattern)),
        Mutant.conclusion("sum_not_halved", MutantKind.PERTURBED_CONSTANT,
                          "J = 1/2||Y||^2 - sum ||P[N D] vec Y||^2", _j_halved_sum),
    )


_THEOREM1_WITNESS = (
    "witness (exact, certified): d = (2, 1, 1) ReLU, yhat = v relu(w . x), X rows (0, 1), "
    "(0, -1), (1, 0), (1, 1), Y = (1, -1, 2, 0), theta = (w, v) = ((1, 0), 1).  The first two "
    "samples lie on the unit's hyperplane; their kinks cancel: with u = v w_1, t = v w_2, "
    "L = 1/2 [(t - 1)^2 + 1 + (u - 2)^2 + (u + t)^2] on both sides, C^infinity and convex, "
    "minimal at (u, t) = (1, 0).  So theta is a differentiable local minimum with L = 2, while "
    "J = 1 with the paper's Lambda (0 at the kinks) and 1.8 with slope 1 there: the outputs "
    "yhat_1 = relu(t), yhat_2 = relu(-t) are not differentiable, and the proof's step "
    "'D^T vec(Yhat - Y) = 0' (Lemma 1 + first order) fails: D^T r = (0, 1, 0) != grad L = 0")


theorem1 = at_local_minima("khk2019dw.theorem1", printed_at("4.1", "Theorem 1", "4.2"),
    title="every differentiable local minimum has L = J(theta)",
    statement="Every differentiable local minimum theta of L satisfies L(theta) = "
              "1/2||Y||_F^2 - sum_{l=1}^{H+1} sum_{k_l=1}^{d'_l} 1/2 "
              "||P[N^(l)_{k_l} D^(l)_{k_l}] vec(Y)||_2^2",
    conclusion=lambda inst, point, B: _compare(inst, point),
    instances=stratified(),
    notes="J in its projection form at the point's precision (equal to the Gram-Schmidt form at "
          "every theta, khk2019dw.theorem1.j_forms); branch dead_unit: some ReLU unit has "
          "derivative 0 on every sample (D^(l)_k = 0); branch stratum: points with "
          "pre-activations exactly 0, certified exactly (optimize.strata), J with the "
          "paper's Lambda (0 at a kink).",
    mutants=_T1_MUTANTS,
)


# --- Proposition 1 (H = 1, d_y = 1), in the paper's Gram-Schmidt order -----------------------

def _prop1_blocks(net, Ws, X, pattern):
    return nw.d_block_list(net, Ws, X, pattern=pattern)     # D^(1)_1..D^(1)_d, then Phi^(1)


def _prop1_blocks_without_phi(net, Ws, X, pattern):
    return nw.d_block_list(net, Ws, X, pattern=pattern)[:-1]


def _prop1_no_orthogonalisation(inst, point, B):
    # mutant: N^(1)_k = I (no Gram-Schmidt): 1/2||Y||^2 - sum_b 1/2||P[D_b] Y||^2
    net, X, Y = problem_data(inst)
    v = value_at_point(net, X, Y, point, form="gram_schmidt")
    P, net, Ws, Xm, Ym = point_arrays(inst, point)
    with P.context():
        y = nw.vec(Ym)
        blocks = nw.d_block_list(net, Ws, Xm, pattern=point.pattern)
        half_y2 = P.sum(y * y) / 2
        total = 0
        for Bk in blocks:
            Jb, _, _, _ = nw.J_projection_mp(Bk, y, v.cutoff, P.digits)
            total += half_y2 - Jb
        wrong = half_y2 - total
        gap = abs(v.L - wrong)
    return Margin(-float(gap), v.tol * len(blocks), float(v.L), float(wrong),
                  v.tol_source)


proposition1 = one_hidden_layer("khk2019dw.proposition1", printed_at("3.1", "Proposition 1", "3.2"),
    title="one hidden layer, scalar output: L at differentiable local minima",
    statement="Every differentiable local minimum theta of L (H = 1, d_y = 1) satisfies "
              "L(theta) = 1/2||Y||^2 - 1/2||P[N^(2)_1 Phi^(1)] Y||^2 - sum_{k=1}^d 1/2 "
              "||P[N^(1)_k D^(1)_k] Y||^2, N^(1)_1 = I_m, N^(1)_k = P_N[Qbar^(1)_{k-1}], "
              "N^(2)_1 = P_N[Qbar^(1)_d], Q^(1)_k = N^(1)_k D^(1)_k, D^(1)_k = W^(2)_k "
              "Lambda_{1,k} X",
    conclusion=lambda inst, point, B: _compare(inst, point, blocks_of=_prop1_blocks,
                                               form="gram_schmidt"),
    notes="The Gram-Schmidt form at the point's precision (mpmath SVDs), ranks decided with the "
          "same absolute cutoff as the projection form.",
    mutants=(
        Mutant.conclusion("phi_not_orthogonalised", MutantKind.DROPPED_TERM,
                          "N^(2)_1 = I: the term 1/2||P[Phi^(1)] Y||^2 raw", _output_raw),
        Mutant.conclusion("no_orthogonalisation", MutantKind.DROPPED_TERM,
                          "N^(l)_k = I (projections of the raw blocks summed)",
                          _prop1_no_orthogonalisation),
        Mutant.conclusion("without_pattern", MutantKind.DROPPED_TERM,
                          "D^(1)_k = W^(2)_k X and Phi^(1) = X W^(1) (Lambda dropped: every unit "
                          "linear)",
                          lambda inst, point, B: _compare(inst, point,
                                                          blocks_of=_blocks_without_pattern,
                                                          form="gram_schmidt")),
    ),
)


# --- Lemma 5, deterministic part -------------------------------------------------------------

def _dtilde(net, Ws, X, pattern):
    lam = np.asarray(pattern[0])
    return [lam[:, [k]] * X for k in range(net.widths[1])]


def _x_only(net, Ws, X, pattern):
    return [X]


lemma5 = one_hidden_layer("khk2019dw.lemma5.deterministic", printed_at("3.2", "Lemma 5"),
    title="one hidden layer: L = 1/2||Y||^2 - 1/2||P[Dtilde] Y||^2 at differentiable local minima",
    statement="(H = 1, d_y = 1) every differentiable local minimum satisfies L(theta) = "
              "1/2||Y||^2 - 1/2||P[Dtilde] Y||^2 with Dtilde = [Lambda_{1,1} X, ..., "
              "Lambda_{1,d} X]",
    conclusion=lambda inst, point, B: _compare(inst, point, blocks_of=_dtilde),
    notes="Needs second-order conditions where W^(2)_j = 0 (the proof's 2x2 Hessian block); "
          "the probabilistic bounds on this quantity (Proposition 2, Lemmas 6-7) are in "
          "section3_probabilistic.py.",
    mutants=(
        Mutant.conclusion("linear_features", MutantKind.DROPPED_TERM,
                          "Dtilde = X (the pattern dropped: linear regression value)",
                          lambda inst, point, B: _compare(inst, point, blocks_of=_x_only)),
    ),
)


# --- eq. 3.3: critical points and overparameterisation ----------------------------------------

def _critical(inst, point, B, *, require_rank=True, factor=1.0):
    P, net, Ws, Xm, Ym = point_arrays(inst, point)
    Y = problem_data(inst)[2]
    digits = P.digits
    with P.context():
        A = np.concatenate(nw.d_blocks(net, Ws, Xm, pattern=point.pattern), axis=1)
        f = nw.forward(net, Ws, Xm, pattern=point.pattern)
        r = nw.vec(f.Yhat) - factor * nw.vec(Ym)
        s = list(P.svd(A)[1])
        # relative cutoff 10^(5 - digits); 0 at an exact point (infinite digits)
        rel = P.asarray(10).item() ** (5 - digits) if math.isfinite(digits) else 0
        cutoff = rel * max([1] + s)
        rank = sum(1 for v in s if v > cutoff)
        m = A.shape[0]
    if require_rank and rank < m:
        return Margin(0.0, 0.0, None, None, f"premise fails (rank {rank} < m d_y = {m}): "
                      "nothing to check at this point")
    # at a critical point ||A^T r|| <= tau_grad, so ||r|| <= tau_grad / s_min(A) when rank = m
    s_min = float(min(s)) if s else 0.0
    tol = point.tau_grad / s_min if (rank == m and s_min > 0) else point.tau_grad
    tol += 16 * m * 10.0 ** (-digits) * max(1.0, float(np.max(np.abs(Y))))
    return Margin(-float(max(abs(v) for v in r)), tol, None, None,
                  f"tau_grad / s_min(d Yhat) (tau_grad {point.tau_grad:.2g}, s_min {s_min:.3g})")


FULL_ROW_RANK = ("full_row_rank", "rank_deficient")


def _rank_case(inst, point):
    net, X, Y = problem_data(inst)
    A = nw.jacobian(net, net.unflatten(point.theta), X, pattern=list(point.pattern))
    return "full_row_rank" if numerical_rank(A) == A.shape[0] else "rank_deficient"


overparameterisation = claim(
    "khk2019dw.proposition1.overparameterisation",
    printed_at("3.1", "proof sketch of Proposition 1", "3.3"),
    title="a differentiable critical point with rank(d Yhat / d theta) = m fits the data",
    statement="At a differentiable critical point, (d Yhat/d theta)^T (Yhat - Y) = 0; if the "
              "d_theta x m matrix (d Yhat/d theta)^T has rank m, then Yhat = Y",
    hypotheses=(ADMISSIBLE,),
    conclusion=_critical,
    instances=lambda assumed: problem_instances(assumed, H=(1, 2), width=(2, 4), m=(2, 5)),
    point_kind=PointKind.CRITICAL,
    landscape=landscape,
    branches=FULL_ROW_RANK,
    case_of=_rank_case,
    notes="Points where the rank premise fails count in branch rank_deficient and are "
          "vacuous (margin 0); the branch full_row_rank must be hit.",
    mutants=(
        Mutant.conclusion("without_rank_premise", MutantKind.DROPPED_HYPOTHESIS,
                          "Yhat = Y at every differentiable critical point",
                          lambda inst, point, B: _critical(inst, point, B, require_rank=False)),
        Mutant.conclusion("half_Y", MutantKind.PERTURBED_CONSTANT, "Yhat = Y / 2",
                          lambda inst, point, B: _critical(inst, point, B, factor=0.5)),
    ),
)


def _normal_equations(inst, point, B, factor=1.0, blocks_of=nw.d_block_list):
    P, net, Ws, Xm, Ym = point_arrays(inst, point)
    digits = P.digits
    with P.context():
        A = np.concatenate(blocks_of(net, Ws, Xm, pattern=point.pattern), axis=1)
        f = nw.forward(net, Ws, Xm, pattern=point.pattern)
        lhs = A.T @ nw.vec(f.Yhat)
        rhs = A.T @ (factor * nw.vec(Ym))
        dev = max([abs(v) for v in lhs - rhs] + [0])
        scale = max([abs(v) for v in lhs] + [1])
    pt = as_point(point)
    tol = point.tau_grad + 16 * A.size * 10.0 ** (-digits) * pt.number(scale)
    return Margin(-pt.number(dev), tol, None, None,
                  "the certificate's gradient threshold tau_grad plus rounding at the point's "
                  "digits")


normal_equations = at_local_minima(
    "khk2019dw.theorem1.normal_equations", printed_at("A.1", "proof of Theorem 1"),
    title="normal equations at differentiable critical points",
    statement="At a differentiable critical point, [D, D^(H+1)_1]^T vec(Yhat) = "
              "[D, D^(H+1)_1]^T vec(Y) (first-order condition, with Lemma 1)",
    conclusion=_normal_equations,
    instances=lambda assumed: problem_instances(assumed),
    point_kind=PointKind.CRITICAL,
    notes="Away from strata this is the first-order condition the float certificate tests "
          "(grad L = [D, D^(H+1)_1]^T vec(Yhat - Y)); on strata the exact certificate tests "
          "the true gradient, and D uses the paper's Lambda (0 at a kink).",
    mutants=(
        Mutant.conclusion("half_Y", MutantKind.PERTURBED_CONSTANT,
                          "[D, D^(H+1)_1]^T vec(Yhat) = [D, D^(H+1)_1]^T vec(Y) / 2",
                          lambda inst, point, B: _normal_equations(inst, point, B, 0.5)),
        Mutant.conclusion("without_pattern", MutantKind.DROPPED_TERM,
                          "the normal equations with D^(l)_k built without Lambda (every unit "
                          "linear)",
                          lambda inst, point, B: _normal_equations(
                              inst, point, B, blocks_of=_blocks_without_pattern)),
    ),
)


# --- Euler identities of the proof (every theta) -----------------------------------------------

def _euler(inst, point, B, factor=None):
    return per_instance(lambda i, p, b: _euler_one(i, p, b, factor))(inst, point, B)


def _euler_one(inst, point, B, factor=None):
    net, Ws, X, _ = arrays(inst, B)
    blocks = nw.d_blocks(net, Ws, X)
    theta = nw.vec(np.concatenate([nw.vec(W) for W in Ws]))
    f = nw.forward(net, Ws, X)
    y = nw.vec(f.Yhat)
    A = np.concatenate(blocks, axis=1)
    D = np.concatenate(blocks[:-1], axis=1)
    th_h = theta[:D.shape[1]]
    c1 = B.asarray(1) / net.H if factor is None else B.asarray(factor)
    c2 = B.asarray(1) / (net.H + 1) if factor is None else B.asarray(factor)
    scale1 = float(np.max(np.abs(B.to_float(D)) @ np.abs(B.to_float(th_h)))) if D.size else 0.0
    scale2 = float(np.max(np.abs(B.to_float(A)) @ np.abs(B.to_float(theta))))
    m1 = close(D @ th_h * c1, y, scale1, B, n_ops=A.shape[1] + 2 * net.H + 2)
    m2 = close(A @ theta * c2, y, scale2, B, n_ops=A.shape[1] + 2 * net.H + 2)
    return m1.both(m2)


euler = claim(
    "khk2019dw.theorem1.euler", printed_at("A.1", "proof of Theorem 1; Section 3.1 for H = 1"),
    title="vec(Yhat) = (1/H) D theta_{1:H} = (1/(H+1)) [D, D^(H+1)_1] theta at every theta",
    statement="vec(Yhat) = (1/H) D theta_{1:H} and (1/(H+1)) [D, D^(H+1)_1] theta = vec(Yhat); "
              "for H = 1: Yhat = 1/2 [Phi^(1) D^(1)] [W^(2); vec W^(1)]",
    hypotheses=(ADMISSIBLE,),
    conclusion=_euler,
    instances=lambda assumed: network_instances(),
    notes="Sum over l of Lemma 1 (positive homogeneity); kinks included.",
    mutants=(
        Mutant.conclusion("factor_one", MutantKind.PERTURBED_CONSTANT,
                          "vec(Yhat) = D theta_{1:H} = [D, D^(H+1)_1] theta (no 1/H)",
                          lambda inst, point, B: _euler(inst, point, B, factor=1.0)),
    ),
)


# --- an observation: the output term of J vanishes at differentiable critical points ------------

def _output_term(inst, point, B, blocks_of=_blocks_without_output):
    """J computed without the (H+1) block equals L: the term 1/2||P[N^(H+1)_1 D^(H+1)_1] vec Y||^2
    is 0, because vec(Yhat) = (1/H) D theta_{1:H} lies in col(D) and r is orthogonal to col(D)."""
    return _compare(inst, point, blocks_of=blocks_of)


def _blocks_last_layer_dropped(net, Ws, X, pattern):
    # mutant: also drop the blocks of layer H (then Yhat need not lie in the span)
    blocks = nw.d_block_list(net, Ws, X, pattern=pattern)
    return blocks[:-1 - net.widths[net.H]] or [np.zeros((blocks[0].shape[0], 0), dtype=object)]


def _blocks_without_output_nor_pattern(net, Ws, X, pattern):
    # mutant: D^(l)_k built without Lambda (every unit linear), the output block dropped
    return _blocks_without_pattern(net, Ws, X, pattern)[:-1]


output_term = claim(
    "khk2019dw.theorem1.output_term", printed_at("4.1", "Theorem 1 (our strengthening)", "4.2"),
    title="(observation, not printed) the (H+1) term of J vanishes at differentiable critical "
          "points",
    statement="At every differentiable critical point, L(theta) = 1/2||P_N[D] vec Y||^2, i.e. "
              "the term of l = H+1 in J is 0 (vec Yhat = (1/H) D theta_{1:H} lies in col D)",
    hypotheses=(ADMISSIBLE,),
    conclusion=_output_term,
    instances=lambda assumed: problem_instances(assumed),
    point_kind=PointKind.CRITICAL,
    landscape=landscape,
    branches=BRANCHES,
    case_of=_case_of,
    notes="Found because the mutant 'J without the output block' of Theorem 1 survived. "
          "Not a statement of the paper.",
    mutants=(
        Mutant.conclusion("layer_H_dropped", MutantKind.DROPPED_TERM,
                          "L = 1/2||P_N[D^(1..H-1)] vec Y||^2 (layer H dropped too)",
                          lambda inst, point, B: _output_term(
                              inst, point, B, _blocks_last_layer_dropped)),
        Mutant.conclusion("without_pattern", MutantKind.DROPPED_TERM,
                          "L = 1/2||P_N[D] vec Y||^2 with D^(l)_k built without Lambda (every "
                          "unit linear)",
                          lambda inst, point, B: _output_term(
                              inst, point, B, _blocks_without_output_nor_pattern)),
    ),
)


# --- the hypothesis "differentiable" is needed: a local minimum at a kink with L != J -------

KINK_X = np.array([[1.0, 1.0], [0.0, 1.0], [1.0, -1.0]])
KINK_Y = np.array([[1.5], [-2.0], [0.5]])
KINK_THETA = np.array([1.0, 0.0, 1.0])          # w = (1, 0), v = 1: G = (1, 0, 1)


def _kink_instances(assumed):
    from proofcheck import Instance
    return [Instance(widths=(2, 1, 1), acts="relu", X=KINK_X, Y=KINK_Y, theta=KINK_THETA)]


def _kink_local_min_check(net, Ws, X, Y):
    """Numerical support of the hand proof: L(theta + delta) >= L(theta) for 2000 random delta
    of norms 1e-6..1e-2 (exact-ish: L is a polynomial of degree 4 on each piece)."""
    rng = np.random.default_rng(0)
    th = net.flatten(Ws)
    L0 = float(nw.loss(net, Ws, X, Y))
    worst = np.inf
    for _ in range(2000):
        d = rng.normal(size=th.size)
        d *= 10.0 ** rng.uniform(-6, -2) / np.linalg.norm(d)
        worst = min(worst, float(nw.loss(net, net.unflatten(th + d), X, Y)) - L0)
    return worst, L0


def _kink_example(inst, point, B, claim_equal=False):
    net, Ws, X, _ = arrays(inst, B)
    Y = B.asarray(np.asarray(inst.Y, float))
    L = nw.loss(net, Ws, X, Y)
    A = np.concatenate(nw.d_blocks(net, Ws, X), axis=1)
    r = B.null_project(A, nw.vec(Y)[:, None])
    J = sum(v * v for v in np.ravel(r)) / 2
    tol = B.tolerance(L, n_ops=A.size)
    if claim_equal:
        return Margin(-abs(L - J), tol, L, J, "mutant: L = J at this local minimum")
    m = Margin.strictly_less(J, L, tol=tol, tol_source="rounding of the projection")
    netf, Wf, Xf, Yf = data_for_kink(inst)
    worst, L0 = _kink_local_min_check(netf, Wf, Xf, Yf)
    from proofcheck.backends import get_backend
    F = get_backend("numpy")
    n_ops = Xf.size + netf.d_theta
    local = Margin(worst, float(F.tolerance(L0, n_ops=n_ops)), None, None,
                   "L(theta + delta) - L(theta) over 2000 random perturbations (float64 "
                   "rounding of the two losses)")
    kink = Margin(-nw.pre_activation_margin(netf, Wf, Xf), 0.0, None, None,
                  "exact: a live ReLU pre-activation is 0 (not differentiable)")
    return m.both(local).both(kink)


EPS64 = float(np.finfo(float).eps)


def data_for_kink(inst):
    from .instances import data_for
    return data_for(inst)


def _kink_differentiable_mutant(inst, point, B):
    netf, Wf, Xf, _ = data_for_kink(inst)
    return Margin(nw.pre_activation_margin(netf, Wf, Xf) - 1e-300, 0.0, None, None,
                  "mutant: the point is differentiable")


kink_example = claim(
    "khk2019dw.theorem1.kink_example",
    printed_at("4.1", "Theorem 1 (the hypothesis 'differentiable')"),
    title="(our example) at a non-differentiable local minimum L can differ from J",
    statement="One ReLU unit, X = [(1,1); (0,1); (1,-1)], Y = (1.5, -2, 0.5), theta = (w = (1,0), "
              "v = 1): theta is a local minimum of L, not differentiable (G_2 = 0 with x_2 != 0), "
              "and J(theta) = 2 < L(theta) = 2.25 (with the paper's convention Lambda = 0 at "
              "kinks; the convention Lambda = 1 gives J = 0)",
    conclusion=_kink_example,
    instances=_kink_instances,
    notes="Hand proof: along delta w_2 the one-sided derivatives are +1 (G_2 up: r_2 v - c = 2 - "
          "1) and +1 (G_2 down: c = 1), so L grows linearly in |delta w_2|; with delta w_2 = 0, "
          "L depends on s = v w_1 only and s = 1 minimises 1/2(s-1.5)^2 + 1/2(s-0.5)^2.  "
          "Consistent with the paper, which leaves non-differentiable local minima open "
          "(Section 6); it shows the hypothesis cannot be dropped.",
    mutants=(
        Mutant.conclusion("L_equals_J", MutantKind.FLIPPED_INEQUALITY,
                          "L = J at this local minimum",
                          lambda inst, point, B: _kink_example(inst, point, B, True)),
        Mutant.conclusion("differentiable", MutantKind.OTHER, "the point is differentiable",
                          _kink_differentiable_mutant),
    ),
)


# --- readings of "differentiable" for the statements that share Theorem 1's proof ---------------

def _outputs_reading(claim, instances, statement, erratum, **fields):
    """``claim`` under the printed reading ('L differentiable'), with its corrected statement
    under the reading 'every output differentiable' (the points outside it are left out);
    ``fields``: other fields of the corrected statement (its title, source)."""
    corrected = claim.replace(
        statement=statement, instances=instances, landscape=landscape_reading("outputs"),
        readings=(READINGS["outputs"],), corrected=None, erratum="",
        narrowed=("points on strata whose outputs are not all differentiable are left out "
                  "(counted as outside_reading)",), **fields)
    return claim.replace(readings=(READINGS["L"],), corrected=corrected, erratum=erratum)


_SAME_WITNESS = ("fails where Theorem 1 fails (khk2019dw.theorem1): at differentiable local "
                 "minima on a stratum where the kinks of samples on a unit's hyperplane cancel "
                 "in L but not in the outputs; " + _THEOREM1_WITNESS + ".  Corrected: require "
                 "every output to be differentiable at theta.")

theorem1 = _outputs_reading(
    theorem1,
    stratified(smooth_outputs=True),
    "Every local minimum theta of L at which every output Yhat_ic(X, theta) is "
    "differentiable satisfies L(theta) = 1/2||Y||_F^2 - sum_{l=1}^{H+1} "
    "sum_{k_l} 1/2 ||P[N^(l)_{k_l} D^(l)_{k_l}] vec(Y)||_2^2",
    "As printed ('every differentiable local minimum of L') the statement fails at "
    "differentiable local minima where pre-activations are 0 and samples' kinks "
    "cancel: " + _THEOREM1_WITNESS + ".  Corrected: require every output to be "
    "differentiable at theta (implied by the kink-free reading the proof uses).",
    title="every local minimum at which every output is differentiable has L = J(theta)",
    source=printed_at("4.1", "Theorem 1 (corrected)", "4.2"), notes="")
theorem1_outputs = theorem1.corrected

proposition1 = _outputs_reading(
    proposition1,
    stratified(H=(1, 1), d_y=(1, 1), m=(2, 7), smooth_outputs=True),
    "(H = 1, d_y = 1) Every local minimum theta at which every output is differentiable "
    "satisfies L(theta) = J(theta) in the Gram-Schmidt order D^(1)_1, ..., D^(1)_d, Phi^(1)",
    "As printed ('every differentiable local minimum') Proposition 1 " + _SAME_WITNESS)

lemma5 = lemma5.replace(
    readings=(READINGS["L"],),
    corrected=lemma5.replace(
        statement="(H = 1, d_y = 1) every local minimum at which no live kinked pre-activation "
                  "is 0 satisfies L(theta) = 1/2||Y||^2 - 1/2||P[Dtilde] Y||^2",
        landscape=landscape_reading("kink_free"), branches=("all_active", "dead_unit"),
        readings=(READINGS["kink_free"],), corrected=None, erratum="",
        narrowed=("points on strata are left out: the reading 'every output differentiable' "
                  "fails too (erratum)",)),
    erratum="As printed (at differentiable local minima) Lemma 5's deterministic part fails on "
            "strata, and also where every output is differentiable: Dtilde = [Lambda_k X] uses "
            "the paper's Lambda (0 at a kink) without the outgoing weight, so a unit with zero "
            "outgoing weight whose hyperplane holds a pair of samples +-p contributes features "
            "that no adjacent piece has.  Witness (exact point, certified local minimum, L "
            "and the outputs differentiable): d = (2, 1, 1) ReLU, w = (1.5, 0.5), v = 0, "
            "X rows (0.5, -1.5), (-0.5, 1.5), (-1, -1), (-2, -2), (-2, -1.5), (1.5, 0.5), "
            "(2, 0), (0.5, 2), (1, 0.5), (0, 0.5), Y = (-1.3125, 1.3125, 1.25, -0.625, 1.25, "
            "0.4375, 0.625, -1.25, -0.625, 1.25): L = 5.529296875, right-hand side 4.92513.  "
            "Corrected: the kink-free reading (no live kinked pre-activation is 0).")

def live_stratum(seed: int, widths, acts) -> Instance:
    """A ``"stratum"`` problem instance (:func:`.instances.build_stratum` with smooth outputs:
    the hyperplane unit has no outgoing weights) whose *other* units are live: every unit with
    nonzero outgoing weights has a nonzero pre-activation on every sample, so the outputs are
    differentiable at the point while D and Yhat are not 0.  A generic sample on a live unit's
    kink is moved by 1/8 along a coordinate (dyadic, exact); the targets are then recomputed
    (:func:`proofcheck.optimize.strata.minimum_targets`) so that the point is meant to be a
    local minimum, which the exact certificate decides.  ``ValueError`` when a live unit
    vanishes on the hyperplane pair (the hyperplane unit's own rows cannot move)."""
    from proofcheck.optimize.strata import minimum_targets
    from .assumptions import network_of
    inst = build_stratum(seed, widths, acts, smooth_outputs=True)
    net = network_of(inst)
    theta = np.asarray(inst.start, float)
    Ws = net.unflatten(theta)
    X = np.array(inst.X, float)
    live = np.flatnonzero(np.any(Ws[1] != 0, axis=1))
    if live.size == 0:
        raise ValueError("no live hidden unit")
    on_pair = X[:2] @ Ws[0][:, live]
    if np.any(on_pair == 0):
        raise ValueError("a live unit vanishes on the hyperplane pair")
    rng = np.random.default_rng(seed)
    for i in range(2, len(X)):
        for _ in range(16):
            if np.all(X[i] @ Ws[0][:, live] != 0):
                break
            X[i, int(rng.integers(X.shape[1]))] += 0.125
        else:
            raise ValueError("could not move a sample off the live units' kinks")
    Y = minimum_targets(net, X, theta, rng=rng, against_lambda=False)
    if Y is None:
        raise ValueError("the piece enumeration was unresolved")
    return inst.replace(X=X, Y=np.asarray(Y, dtype=float), start=theta)


@st.composite
def _live_strata(draw):
    """Branch stratum of the output-term observation: one hidden layer of 2 or 3 units, one
    of them on a hyperplane pair with zero outgoing weights, the others live."""
    d_x, width, d_y = draw(st.integers(2, 3)), draw(st.integers(2, 3)), draw(st.integers(1, 2))
    act = draw(st.sampled_from(STRATUM_ACTS))
    seed = draw(st.integers(0, 2 ** 31 - 1))
    for k in range(8):      # a few deterministic retries when a draw has no live unit
        try:
            return live_stratum(seed + k, (d_x, width, d_y), [act])
        except ValueError:
            continue
    return build_stratum(seed, (d_x, width, d_y), [act], smooth_outputs=True)


def _output_term_instances(assumed):
    if getattr(assumed, "branch", None) == "stratum":
        return _live_strata()
    return problem_instances(assumed, smooth_outputs=True)


output_term = _outputs_reading(
    output_term,
    _output_term_instances,
    "At every critical point at which every output is differentiable, L(theta) = "
    "1/2||P_N[D] vec Y||^2 (the term of l = H+1 in J is 0)",
    "Read as printed for Theorem 1 ('differentiable': L differentiable) the observation fails "
    "on strata, where D^T vec(Yhat - Y) is not grad L: certified exact witness, d = (3, 2, 1) "
    "leaky ReLU (slope 0.5), an exact stratum local minimum with L differentiable and outputs "
    "not (9 zero pre-activations), margin -143023509277047/793954033057792 (khk2019dw seed 0 "
    "run).  Corrected: require every output to be differentiable at theta.",
    notes=output_term.notes + " Branch stratum draws live strata (live_stratum): one hidden "
          "layer of 2-3 units, the hyperplane unit with zero outgoing weights (its kinks do not "
          "reach the outputs) and the other units live, with every generic sample moved off "
          "their kinks, so that the outputs are differentiable while D and Yhat are not 0 (the "
          "first smooth-output strata, one hidden unit, had Yhat = 0 and D = 0, where every "
          "variant built from D holds; wider ones had dyadic samples on a live unit's kink "
          "and fell outside the reading).",
    title="(observation, not printed) at critical points with differentiable outputs the "
          "(H+1) term of J vanishes")

normal_equations = _outputs_reading(
    normal_equations,
    lambda assumed: problem_instances(assumed, smooth_outputs=True),
    "At a critical point at which every output is differentiable, [D, D^(H+1)_1]^T vec(Yhat) "
    "= [D, D^(H+1)_1]^T vec(Y)",
    "As printed ('at a differentiable critical point', read: L differentiable) the normal "
    "equations with the paper's D fail on strata: D^T vec(Yhat - Y) is the Lambda-convention "
    "formula, not grad L, where samples' kinks cancel in L; " + _THEOREM1_WITNESS + ".")
