"""KHK 2019 (DW), Section 5: Lemma 3, Lemma 4, Theorem 2, Corollary 2, Remark 1 and the
deep-linear and overparameterisation consequences.

Theorem 2: for t in {0..H}, every differentiable local minimum theta in Theta_{d_y,t} satisfies,
for every subsequence S of (t, ..., H),
L(theta) <= 1/2||P_N[Phi(S)] Y||^2
            - sum_{l<=H} sum_k 1/2||P[N^(l)_k P_N[Phibar(S)] D^(l)_k] vec Y||^2.

The right-hand side equals 1/2||P_N[[Phibar(S), D]] vec Y||^2 (Lemma 3 with Lemma 2 and the
column split, all checked separately), which is how it is evaluated at certified points.

Architectures that put *every* theta in Theta_{d_y,t} (so the certified local minima are in it;
the conclusion re-checks membership at each point): t = H (any network); t = H-1 with at least
d_y identity units in layer H (per-unit activations); t <= H-2 with identity layers t+1..H of
width >= d_y.
"""

import itertools
from functools import partial

import numpy as np
from proofcheck.lazy import lazy_import
from hypothesis import strategies as st

from proofcheck import Hypothesis, Identity, Instance, Margin, Mutant, MutantKind, PointKind
from proofcheck.claims import Reading
from proofcheck.evaluate import as_point
from proofcheck import networks as nw
from proofcheck.linalg import numerical_rank
from proofcheck.optimize.piecewise import value_at_point
from proofcheck.symbolic import SizeSweep, exact_null_projection, exact_projection

from . import claim, printed_at
from .assumptions import ADMISSIBLE, network_of
from .gram_schmidt import _hstack, exact_blocks, exact_gram_schmidt
from .instances import build, build_stratum, data_for, landscape, problem_data
from proofcheck.optimize.strata import is_exact_point

sp = lazy_import("sympy")   # loaded on first use (startup cost)


def subsequences(t, H):
    """Every subsequence of (t, ..., H), the empty one included."""
    seq = list(range(t, H + 1))
    return [list(c) for r in range(len(seq) + 1) for c in itertools.combinations(seq, r)]


# --- architectures in Theta_{d_y,t} --------------------------------------------------------------

def guarantees_theta(net, t) -> bool:
    """Whether the architecture puts every theta in Theta_{d_y,t} (module doc)."""
    H = net.H
    if t == H:
        return True
    if t == H - 1:
        return int(np.sum(net.linear_units(H))) >= net.d_y
    return all(bool(np.all(net.linear_units(l))) and net.widths[l] >= net.d_y
               for l in range(t + 1, H + 1))


def pointwise(inst) -> bool:
    """Whether membership in Theta_{d_y,t} is left to the point (Definition 1 as printed, tested
    at each point by :class:`ThetaLandscape`) rather than guaranteed by the architecture."""
    return inst.fields().get("theta_test") == "pointwise"


THETA = Hypothesis("theta in Theta_{d_y,t}",
                   "the local minimum induces (d_y, t) weakly separated linear units (Definition "
                   "1 at the point: either the architecture puts every theta in Theta_{d_y,t}, "
                   "re-checked at every point, or the network is fully nonlinear and only the "
                   "points passing the pointwise test are kept)",
                   lambda inst: guarantees_theta(network_of(inst), int(inst.t))
                   or pointwise(inst))


def member(net, X, theta, t) -> bool:
    """Definition 1 as printed, at the point ``theta``: exact (``==``) linear-action and
    zero-weight tests (:func:`proofcheck.networks.separated_linear_units`) with n = d_y."""
    return nw.separated_linear_units(net, net.unflatten(np.asarray(theta, float)), X, net.d_y,
                                     t) is not None


def member_near(net, X, theta, t) -> bool:
    """Theta_{d_y,t} read on a neighbourhood of theta: as :func:`member`, but a unit counts as
    acting linearly (condition ii) only if it does so at every theta' near theta: an identity
    unit, or slope 1 with a nonzero pre-activation on every sample whose pre-activation is not
    identically 0 near theta (:func:`proofcheck.networks.locally_zero_entries`).  Condition iii
    (zero weights) is tested at theta, as printed."""
    Ws = net.unflatten(np.asarray(theta, float))
    f = nw.forward(net, Ws, X)
    Z = nw.locally_zero_entries(net, Ws, X, fwd=f)
    lin = []
    for l in range(1, net.H + 1):
        G, lam = np.asarray(f.G[l - 1]), np.asarray(f.Lam[l - 1], float)
        ok = np.all(((G != 0) & (lam == 1.0)) | np.asarray(Z[l - 1], bool), axis=0)
        lin.append(np.asarray(net.linear_units(l), bool) | ok)
    sets = {net.H + 1: set(range(net.d_y))}
    for l in range(net.H, t, -1):
        cand = {k for k in range(net.widths[l]) if lin[l - 1][k]}
        if l <= net.H - 1:
            outside = [k for k in range(net.widths[l + 1]) if k not in sets[l + 1]]
            cand = {k for k in cand if all(Ws[l][k, j] == 0 for j in outside)}
        sets[l] = cand
    return all(len(sets[l]) >= net.d_y for l in range(t + 1, net.H + 2))


class ThetaLandscape:
    """The landscape of a ``pointwise`` instance with the local minima outside Theta_{d_y,t}
    (by ``test``: :func:`member` as printed, or :func:`member_near`) relabelled
    ``outside_theta`` (counted in the evidence, never handed to a conclusion)."""

    def __init__(self, base, net, X, t, test=None):
        self.base, self.net, self.X, self.t = base, net, X, t
        self.test = member if test is None else test

    @property
    def n_params(self):
        return self.base.n_params

    def value(self, theta):
        return self.base.value(theta)

    def find_points(self, *, rng, starts=4, digits=40):
        import dataclasses
        out = []
        for p in self.base.find_points(rng=rng, starts=starts, digits=digits):
            if getattr(p, "kind", None) == "local_min" and \
                    not self.test(self.net, self.X, p.theta, self.t):
                p = dataclasses.replace(p, kind="outside_theta")
            out.append(p)
        return out


def theta_landscape(inst, test=None):
    """:func:`.instances.landscape`, restricted to Theta_{d_y,t} pointwise on ``pointwise``
    instances (:class:`ThetaLandscape`; ``test``: the membership test, :func:`member` as
    printed by default)."""
    base = landscape(inst)
    if not pointwise(inst):
        return base
    net, X, _ = problem_data(inst)
    return ThetaLandscape(base, net, X, int(inst.t), test)


THETA_READINGS = {
    "point": Reading(
        "Theta at the point",
        "Theta_{n,t} read as printed (Definition 1): the units of S^(l) act linearly on X at "
        "theta itself (a unit with samples on its kink and slope 1 elsewhere qualifies)",
        natural=True),
    "near": Reading(
        "Theta on a neighbourhood",
        "Theta_{n,t} read as: the units of S^(l) act linearly on X at every theta' near theta "
        "(no live zero pre-activation of a kinked unit in S^(l)); condition iii at theta"),
}

_THETA_WITNESS = (
    "witness (a point on a stratum, local minimum and L differentiable certified exactly by "
    "optimize.strata; no decrease in 80000 random perturbations of radius 1e-2..1e-5): "
    "d = (2, 1, 1) ReLU, H = 1, t = 0, theta = (w, v) = ((1.5, -2), -1.25), X rows (-2, -1.5), "
    "(2, 1.5), (1, -1.5), (0.5, -2), (2, 1), (0.5, -0.5), (0, -1), (1.5, -1), (1, -2), "
    "(1.5, 0), Y = (-1.09375, 1.09375, -5.28125, -5.375, -2.375, -2.1875, -2.5, -5.3125, "
    "-7.4375, -2.8125).  The pre-activations X w are (0, 0, 4.5, 4.75, 1, 1.75, 2, 4.25, 5.5, "
    "2.25) >= 0, so the unit acts linearly on X at theta and theta is in Theta_{1,0} as "
    "printed; the kinks of the pair +-(2, 1.5) cancel in L.  L(theta) = 2.20458984375 > "
    "1/2||P_N[X] Y||^2 = 2.02061 (S = (0)): Remark 1, Theorem 2 and Corollary 2 fail, and "
    "X^T (Yhat - Y) != 0 (Lemma 4)")


def theta_readings(claim, erratum):
    """``claim`` under the printed reading of Theta_{d_y,t} (at the point), with its corrected
    statement under the reading 'on a neighbourhood' (points outside it are left out, counted
    as ``outside_theta``; its pointwise branch draws no instance on a stratum whose kinked unit
    is meant to act linearly: those points are outside that reading by construction)."""
    corrected = claim.replace(
        statement=claim.statement + " (Theta_{d_y,t} read on a neighbourhood of theta: the "
        "units of S^(l) act linearly on X at every theta' near theta)",
        landscape=partial(theta_landscape, test=member_near),
        # no points on strata with a unit at its kink in S: outside this reading by design
        instances=lambda assumed: theta_problems(assumed, pointwise_strata=False),
        readings=(THETA_READINGS["near"],), corrected=None, erratum="",
        narrowed=(POINTWISE_NARROWED.replace("as printed (Definition 1 at the point",
                                             "on a neighbourhood (member_near"),))
    return claim.replace(readings=(THETA_READINGS["point"],), corrected=corrected,
                         erratum=erratum)


NONLINEAR = ("relu", "abs", "leaky:0.2")


def _fully_nonlinear(draw, h, d_y, m, branch, strata=True):
    """A fully nonlinear network (no identity unit) with t <= H-1 (mostly t = H-1: a point is
    then in Theta_{d_y,t} iff d_y units of layer H act linearly on X at it; t <= H-2 also needs
    exact zero weights, which local minima rarely have), data in a cone x_1 > 0 and a start
    whose layer-1 weights favour x_1 and whose deeper weights are positive, so that units act
    linearly on the data at some of the local minima found (and not at others)."""
    if strata == "stratum" or (strata is True and branch != "dead_unit"
                               and draw(st.integers(0, 2)) == 0):
        # one hidden layer, a point on a stratum (samples on a unit's kink) at which that unit
        # acts linearly on X as printed: in Theta_{d_y,0} by Definition 1 at the point only
        layer = draw(st.sampled_from(("relu", "abs", "leaky:0.5")))
        inst = build_stratum(draw(st.integers(0, 2 ** 31 - 1)),
                             [2, draw(st.integers(1, 2)), 1], [layer], linear_unit=True)
        return inst.replace(t=0, theta_test="pointwise")
    t = h - 1 if h == 1 or draw(st.integers(0, 3)) else draw(st.integers(0, h - 2))
    widths = [draw(st.integers(1, 3))] + [draw(st.integers(d_y, 3)) for _ in range(h)] + [d_y]
    layers = ["relu" if branch == "dead_unit" and l == 1 else draw(st.sampled_from(NONLINEAR))
              for l in range(1, h + 1)]
    case = "dead_unit" if branch == "dead_unit" else "generic"
    inst = build(draw(st.integers(0, 2 ** 31 - 1)), widths, layers, draw(st.integers(*m)), case)
    net, X = network_of(inst), np.array(inst.X, float)
    Ws = net.unflatten(np.asarray(inst.theta, float))
    if case == "generic":
        X[:, 0] = np.abs(X[:, 0]) + 0.5
        Ws[0][0, :] = np.abs(Ws[0][0, :]) + 1.0
    for l in range(1, h):
        Ws[l] = np.abs(Ws[l])
    f = inst.fields()
    f.update(X=X, start=net.flatten(Ws), t=t, theta_test="pointwise")
    f.pop("theta")
    return inst.__class__(**f)


@st.composite
def _theta_problem(draw, holds, branch, H=(1, 2), m=(2, 6), wide_last=False,
                   pointwise_strata=True, only=None):
    h = draw(st.integers(*H))
    # multi-output first (the simplest draw), so that d_y = 2 is a substantial share of the
    # few instances a point claim gets, not Hypothesis' occasional non-minimal draw
    d_y = draw(st.sampled_from((2, 1)))
    if only == "dead_unit":
        branch = "dead_unit"
    elif only in ("stratum", "cone"):
        if holds:
            return _fully_nonlinear(draw, h, d_y, m, branch,
                                    "stratum" if only == "stratum" else False)
        branch = "dead_unit"        # the hypothesis dropped: violators, aimed at dead units
    if holds and (branch == "pointwise" or (branch not in ("all_active", "dead_unit",
                                                           "architecture")
                                            and draw(st.booleans()))):
        return _fully_nonlinear(draw, h, d_y, m, branch, pointwise_strata)
    if holds:
        # a dead first-layer unit needs a nonlinear first layer, i.e. t >= 1
        t = draw(st.integers(1 if branch == "dead_unit" else 0, h))
    else:
        t = 0 if h == 1 else draw(st.integers(0, h - 2))
    lo = d_y if holds else 1
    widths = [draw(st.integers(1, 3))] + [draw(st.integers(lo, 3)) for _ in range(h)] + [d_y]
    if wide_last:
        widths[h] = 3
    layers = []
    for l in range(1, h + 1):
        if holds and l > t and (t <= h - 2 or l < h):
            layers.append("identity")
        elif holds and t == h - 1 and l == h:
            k = widths[l]
            layers.append(tuple(["identity"] * d_y + [draw(st.sampled_from(("relu", "abs")))
                                                       for _ in range(k - d_y)]))
        elif l == 1 and (not holds or branch == "dead_unit"):
            layers.append("relu")
        else:
            layers.append(draw(st.sampled_from(("relu", "abs", "leaky:0.2"))))
    if not holds and h >= 2 and all(layers[l - 1] == "identity" for l in range(t + 1, h + 1)):
        layers[h - 1] = "relu"
    case = "dead_unit" if (branch == "dead_unit" or not holds) and layers[0] == "relu" else \
        draw(st.sampled_from(("generic", "zero_sample", "zero_out")))
    inst = build(draw(st.integers(0, 2 ** 31 - 1)), widths, layers, draw(st.integers(*m)), case)
    f = inst.fields()
    f["start"] = f.pop("theta")
    f["t"] = t
    return inst.__class__(**f)


#: What ``proofcheck explore`` can aim the Section 5 generator at (``theta_problems.strata``):
#: a point on a stratum where a unit at its kink acts linearly at theta (Theta as printed), a
#: fully nonlinear network with data in a cone, a dead first-layer ReLU unit.
THETA_STRATA = ("stratum", "cone", "dead_unit")


def theta_problems(assumed, stratum=None, **kw):
    """Instances of the Section 5 claims (module doc); ``stratum``: one of
    :data:`THETA_STRATA` (what ``explore`` asks for)."""
    if stratum is not None and stratum not in THETA_STRATA:
        raise ValueError(f"unknown stratum {stratum!r}: expected one of {THETA_STRATA}")
    return _theta_problem(assumed["theta in Theta_{d_y,t}"], getattr(assumed, "branch", None),
                          only=stratum, **kw)


theta_problems.strata = THETA_STRATA


POINTWISE_NARROWED = (
    "Theta_{d_y,t} tested pointwise as printed (Definition 1 at the point, exact tests): on "
    "fully nonlinear networks (instances theta_test = pointwise, t <= H-1) only the local "
    "minima in Theta_{d_y,t} are checked, the others are counted as outside_theta; on "
    "architectures that put every theta in Theta_{d_y,t} membership is re-checked at each point")

#: The setting of Section 5: certified differentiable local minima of networks whose architecture
#: puts every theta in Theta_{d_y,t}.
def _theta_case(inst, point):
    return "pointwise" if pointwise(inst) else "architecture"


in_theta = partial(claim, hypotheses=(ADMISSIBLE, THETA), instances=theta_problems,
                   point_kind=PointKind.LOCAL_MIN, landscape=theta_landscape,
                   narrowed=(POINTWISE_NARROWED,), branches=("architecture", "pointwise"),
                   case_of=_theta_case)


def without_theta(violators="without separated linear units"):
    """The mutant dropping 'theta in Theta_{d_y,t}' (its generator draws ``violators``)."""
    return Mutant.drop("theta in Theta_{d_y,t}", violators)


def _check_member(net, X, point, t, assumed=True):
    if not assumed:
        return
    if is_exact_point(point):
        # Definition 1 as printed, decided in exact rationals at an exact stratum point
        P = as_point(point).backend()
        inside = nw.separated_linear_units(net, net.unflatten(point.theta_mp), P.asarray(X),
                                           net.d_y, t) is not None
    else:
        inside = member(net, X, point.theta, t)
    if not inside:
        raise ValueError(f"point not in Theta_{{d_y,{t}}} although the architecture (or the "
                         "pointwise test of the landscape) should guarantee it")


# --- quantities at a point -----------------------------------------------------------------------

def _phibar_blocks(S):
    def blocks_of(net, Ws, X, pattern):
        f = nw.forward(net, Ws, X, pattern=pattern)
        return [nw._kron_eye(net.d_y, f.Phi[l]) for l in S]
    return blocks_of


def _with_D(S, D_filter=None):
    def blocks_of(net, Ws, X, pattern):
        D = nw.d_block_list(net, Ws, X, pattern=pattern)[:-1]
        if D_filter is not None:
            D = D_filter(net, D)
        return _phibar_blocks(S)(net, Ws, X, pattern) + D
    return blocks_of


def _bound_margin(inst, point, subsets, blocks_for, factor=1.0, lower=False):
    net, X, Y = problem_data(inst)
    t = int(inst.t)
    _check_member(net, X, point, t, guarantees_theta(net, t) or pointwise(inst))
    margin = None
    at = as_point(point)
    P = at.backend()
    for S in subsets(t, net.H):
        v = value_at_point(net, X, Y, point, blocks_of=blocks_for(S))
        # arithmetic at the point's precision (mpmath's global precision is 15 digits), exact
        # at an exact stratum point (the margin stays an exact rational there)
        with P.context():
            bound = P.asarray([factor])[0] * v.value
            gap = bound - v.L
        if lower:
            m = Margin(at.number(-abs(gap)), v.tol, at.number(v.L), at.number(bound),
                       v.tol_source + f"; S = {tuple(S)}")
        else:
            m = Margin(at.number(gap), v.tol, at.number(v.L), at.number(bound),
                       v.tol_source + f"; S = {tuple(S)}")
        margin = m if margin is None else margin.both(m)
    return margin


def _case_of(inst, point):
    return "pointwise" if pointwise(inst) else point.branch


BRANCHES = ("all_active", "dead_unit", "pointwise")

theorem2 = in_theta("khk2019dw.theorem2", printed_at("5.2", "Theorem 2", "5.1"),
    title="local minima in Theta_{d_y,t} are no worse than basis-function regression on Phi(S), "
          "minus a depth/width improvement",
    statement="For any t in {0..H}, every differentiable local minimum theta in Theta_{d_y,t} "
              "satisfies, for any subsequence S of (t, ..., H), L(theta) <= 1/2||P_N[Phi(S)] Y||^2 "
              "- sum_l sum_k 1/2 ||P[N^(l)_k P_N[Phibar(S)] D^(l)_k] vec(Y)||^2",
    conclusion=lambda inst, point, B: _bound_margin(inst, point, subsequences, _with_D),
    branches=BRANCHES,
    case_of=_case_of,
    notes="Right-hand side evaluated as 1/2||P_N[[Phibar(S), D]] vec Y||^2 (Lemmas 2-3); every "
          "subsequence S is checked; dropping the Theta hypothesis uses ReLU networks whose "
          "local minima include dead units.",
    mutants=(
        without_theta("the bound for networks without separated linear units (t = 0, "
                      "nonlinear layers)"),
        Mutant.conclusion("improvement_doubled", MutantKind.PERTURBED_CONSTANT,
                          "the improvement term counted twice",
                          lambda inst, point, B: _improvement_doubled(inst, point)),
    ),
)


def _improvement_doubled(inst, point, subsets=None):
    net, X, Y = problem_data(inst)
    t = int(inst.t)
    margin = None
    for S in (subsets or subsequences)(t, net.H):
        v1 = value_at_point(net, X, Y, point, blocks_of=_with_D(S))
        v0 = value_at_point(net, X, Y, point, blocks_of=_phibar_blocks(S))
        with as_point(point).backend().context():
            bound = v0.value - 2 * (v0.value - v1.value)
            gap = bound - v1.L
        m = Margin(float(gap), v1.tol + 2 * v0.tol, float(v1.L), float(bound),
                   v1.tol_source)
        margin = m if margin is None else margin.both(m)
    return margin


def _cor2_subsets(t, H):
    seq = [t, H]
    return [list(c) for r in range(3) for c in itertools.combinations(seq, r)]


corollary2 = in_theta("khk2019dw.corollary2", printed_at("5.2", "Corollary 2"),
    title="the Theorem 2 bound for S a subsequence of (t, H)",
    statement="For any t in {0..H}, every differentiable local minimum theta in "
              "Theta_{d_{H+1},t} of L satisfies, for any S subsequence of (t, H), the bound of "
              "Theorem 2",
    conclusion=lambda inst, point, B: _bound_margin(inst, point, _cor2_subsets, _with_D),
    notes="As printed the hypothesis is Theta_{d_{H+1},t} (weak), not Theta^strong, although "
          "the text introduces Corollary 2 'under this stronger restriction'; either way it is "
          "the case S in {(), (t), (H), (t, H)} of Theorem 2.",
    mutants=(
        without_theta(),
        Mutant.conclusion("improvement_doubled", MutantKind.PERTURBED_CONSTANT,
                          "the improvement term of Theorem 2 counted twice",
                          lambda inst, point, B: _improvement_doubled(inst, point,
                                                                      _cor2_subsets)),
    ),
)


remark1 = in_theta("khk2019dw.remark1", printed_at("5.2", "Remark 1 (i)"),
    title="local minima in Theta_{d_y,t} beat basis-function regression on any Phi(S)",
    statement="Every differentiable local minimum theta in Theta_{d_y,t} has L(theta) <= "
              "min_R 1/2||Phi(S) R - Y||^2 = 1/2||P_N[Phi(S)] Y||^2 for every S subsequence of "
              "(t..H); with t = 0 this includes X and [Phi^(l)]_{l=0}^H",
    conclusion=lambda inst, point, B: _bound_margin(inst, point, subsequences, _phibar_blocks),
    notes="Remark 1 (ii) ('as d_l and H increase the bound can further improve') is "
          "qualitative and not encoded.",
    mutants=(
        without_theta(),
        Mutant.conclusion("half", MutantKind.PERTURBED_CONSTANT,
                          "L <= 1/2 min_R 1/2||Phi(S) R - Y||^2",
                          lambda inst, point, B: _bound_margin(inst, point, subsequences,
                                                               _phibar_blocks, factor=0.5)),
    ),
)


# --- deep linear networks -------------------------------------------------------------------------

@st.composite
def _linear_problem(draw, holds):
    h = draw(st.integers(1, 3))
    d_y = draw(st.integers(1, 2)) if holds else 2
    if holds:
        widths = [draw(st.integers(1, 3))] + [draw(st.integers(d_y, 3)) for _ in range(h)]
    else:
        widths = [draw(st.integers(2, 3))] + [draw(st.integers(1, 3)) for _ in range(h)]
        widths[draw(st.integers(1, h))] = 1
    widths.append(d_y)
    inst = build(draw(st.integers(0, 2 ** 31 - 1)), widths, ["identity"] * h,
                 draw(st.integers(2, 6)), "generic")
    f = inst.fields()
    f["start"] = f.pop("theta")
    f["t"] = 0
    return inst.__class__(**f)


LINEAR = Hypothesis("linear", "every activation is linear", lambda i: network_of(i).is_linear)
BOTTLENECK = Hypothesis("d_y<=min d_l", "d_{H+1} <= min_l d_l",
                        lambda i: network_of(i).d_y <= min(network_of(i).widths[1:-1]))

deep_linear = claim("khk2019dw.theorem2.deep_linear", printed_at("5.2", "text after Remark 1"),
    title="deep linear networks: every local minimum is global",
    statement="If d_{H+1} <= min{d_l}, every local minimum theta of a deep linear network is "
              "differentiable and in Theta_{d_{H+1},0}, hence L(theta) <= 1/2||P_N[X] Y||^2 "
              "(the global minimum value): every local minimum is a global minimum",
    hypotheses=(LINEAR, BOTTLENECK),
    conclusion=lambda inst, point, B: _bound_margin(
        inst, point, lambda t, H: [[0]], _phibar_blocks, lower=True),
    instances=lambda assumed: _linear_problem(assumed["d_y<=min d_l"]),
    point_kind=PointKind.LOCAL_MIN,
    landscape=landscape,
    notes="Checked as the equality L = 1/2||P_N[X] Y||^2 (L >= it always).  The printed text "
          "says 'theorem 1 yields' the bound; it is Theorem 2 (t = 0, S = (0)) that does.",
    mutants=(Mutant.drop("d_y<=min d_l", "with a bottleneck layer narrower than d_y (local "
                         "minima are global for the rank-constrained problem only)"),),
)


def _rank_m(inst, point, B, require=True):
    net, X, Y = problem_data(inst)
    t = int(inst.t)
    f = nw.forward(net, net.unflatten(point.theta), X, pattern=list(point.pattern))
    M = np.concatenate([f.Phi[l] for l in range(t, net.H + 1)], axis=1)
    rank = int(numerical_rank(M))
    if require and rank < X.shape[0]:
        return Margin(0.0, 0.0, None, None, f"premise fails (rank {rank} < m): nothing to check")
    return Margin(-float(point.value), 10.0 ** (-point.digits / 2) * max(1.0, float(np.sum(Y * Y))),
                  float(point.value), 0.0, "certificate resolution 10^(-digits/2) ||Y||^2")


def _rank_case(inst, point):
    net, X, Y = problem_data(inst)
    f = nw.forward(net, net.unflatten(point.theta), X, pattern=list(point.pattern))
    M = np.concatenate([f.Phi[l] for l in range(int(inst.t), net.H + 1)], axis=1)
    return "rank_m" if numerical_rank(M) >= X.shape[0] else "rank_below_m"


@st.composite
def _narrow_relu_problems(draw, m=(2, 3)):
    """Violators of Theta_{d_y,t} aimed at the rank premise's branch: one hidden ReLU unit (H =
    1, t = 0, d_y = 1), d_x = m generic samples (rank X = m, so rank [Phi^(0) Phi^(1)] >= m at
    every theta) and targets of both signs. v relu(X w) has one sign, so no theta fits Y: every
    local minimum has L > 0 and the unit inactive on some sample (outside Theta_{1,0})."""
    mm = draw(st.integers(*m))
    inst = build(draw(st.integers(0, 2 ** 31 - 1)), (mm, 1, 1), ["relu"], mm, "generic")
    Y = np.abs(np.asarray(inst.Y, float))
    Y[-1] = -Y[-1]
    f = inst.fields()
    f["start"] = f.pop("theta")
    f.update(Y=Y, t=0)
    return Instance(**f)


def _zero_loss_instances(assumed):
    if assumed["theta in Theta_{d_y,t}"]:
        return theta_problems(assumed, m=(2, 3), wide_last=True)
    return _narrow_relu_problems()


zero_loss = in_theta("khk2019dw.theorem2.zero_loss", printed_at("5.2", "text after Remark 1"),
    title="if rank [Phi^(l)]_{l=t}^H >= m, local minima in Theta_{d_y,t} have zero loss",
    statement="If [Phi^(l)]_{l=t}^H has rank at least m, then every (differentiable) local minimum "
              "in Theta_{d_y,t} is a global minimum with zero loss value",
    conclusion=_rank_m,
    instances=_zero_loss_instances,
    branches=("rank_m", "rank_below_m"),
    case_of=_rank_case,
    notes="The rank premise is a property of the point: points without it count in branch "
          "rank_below_m (vacuous there); numerical rank by numpy's LAPACK rule at the float64 "
          "rounding of the point.  On branch rank_m zero loss is L's least value, so no weaker "
          "conclusion (L <= c, c >= 0) can fail there, and a weakened rank threshold fails only "
          "at points that fall in rank_below_m; what can fail there is the rank premise without "
          "Theta_{d_y,t}: mutant without_theta keeps 'rank [Phi^(l)]_{l=t}^H >= m' and drops "
          "Theta (the printed sentence itself says 'every local minimum'; Theta comes from "
          "the context of Theorem 2, and the next sentence needs 'every theta is in "
          "Theta_{d_{H+1},H}' for its special case, so the sentence out of context is a "
          "natural misreading), and one hidden ReLU unit with d_x = m samples and targets of "
          "both signs has local minima with rank [X, Phi^(1)] = m and L > 0, in branch rank_m.",
    mutants=(Mutant.conclusion("without_rank_premise", MutantKind.DROPPED_HYPOTHESIS,
                               "zero loss at every local minimum in Theta_{d_y,t}",
                               lambda inst, point, B: _rank_m(inst, point, B, require=False)),
             without_theta("rank [Phi^(l)]_{l=t}^H >= m alone (Theta dropped): one hidden "
                           "ReLU unit, d_x = m, targets of both signs")),
)


# --- Lemma 4 -------------------------------------------------------------------------------------

def _lemma4(inst, point, B, levels=None, y_factor=1.0):
    from proofcheck.optimize.piecewise import jacobian_drift
    net, X, Y = problem_data(inst)
    P = as_point(point).backend()
    t = int(inst.t)
    _check_member(net, X, point, t, guarantees_theta(net, t) or pointwise(inst))
    ls = list(range(t, net.H + 1)) if levels is None else levels(t, net.H)
    digits = point.digits

    def quantities(net_, Ws, Xm, pattern):
        f = nw.forward(net_, Ws, Xm, pattern=pattern)
        r = f.Yhat - P.asarray(Y * y_factor)        # y_factor: a mutant's (0.5 is exact)
        return [f.Phi[l].T @ r for l in ls]

    if is_exact_point(point):
        # an exact stratum point: (Phi^(l))^T (Yhat - Y) in exact rationals, no tolerance
        with P.context():
            vals = quantities(net, net.unflatten(point.theta_mp), P.asarray(X), point.pattern)
        return Margin.vanishes(*vals, tol=0.0,
                               tol_source="exact rationals at an exact stratum point")
    drift = jacobian_drift(quantities, net, X, point)
    with P.context():
        Xm = P.asarray(X)
        vals = quantities(net, net.unflatten(point.theta_mp), Xm, point.pattern)
        worst = max([abs(v) for q in vals for v in q.ravel()] + [0])
    tol = drift + 16 * X.size * 10.0 ** (-digits) * max(1.0, float(np.sum(Y * Y)))
    return Margin(-float(worst), tol, None, None,
                  f"distance to the limit point times an estimated Lipschitz constant "
                  f"({drift:.2g}) + rounding at {digits} digits")


lemma4 = in_theta("khk2019dw.lemma4", printed_at("A.2", "Lemma 4"),
    title="at local minima in Theta_{d_y,t} the residual is orthogonal to Phi^(t..H)",
    statement="For any t in {0..H}, every differentiable local minimum theta in Theta_{d_y,t} "
              "satisfies (Phi^(l))^T (Yhat - Y) = 0 for all l in {t..H}",
    conclusion=_lemma4,
    mutants=(
        without_theta("for networks without separated linear units"),
        Mutant.conclusion("from_layer_0", MutantKind.PERTURBED_CONSTANT,
                          "(Phi^(l))^T (Yhat - Y) = 0 for all l in {0..H} (not only t..H)",
                          lambda inst, point, B: _lemma4(inst, point, B,
                                                         levels=lambda t, H: range(H + 1))),
        Mutant.conclusion("half_Y", MutantKind.PERTURBED_CONSTANT,
                          "(Phi^(l))^T Yhat = (Phi^(l))^T Y / 2 for all l in {t..H}",
                          lambda inst, point, B: _lemma4(inst, point, B, y_factor=0.5)),
    ),
)


# --- Lemma 3 (every theta) -----------------------------------------------------------------------

LEMMA3_SWEEP = SizeSweep(H=(1, 2), w=(1, 2), d_x=(1, 2), d_y=(1, 2), m=(2, 4),
                         where="H * w + d_x + d_y + m <= 9")


def _kron_eye_sp(d, A):
    out = sp.zeros(d * A.rows, d * A.cols)
    for c in range(d):
        out[c * A.rows:(c + 1) * A.rows, c * A.cols:(c + 1) * A.cols] = A
    return out


def lemma3_build(s, rng, project_blocks=True, theorem1_N=False):
    blocks, y, info = exact_blocks(s, rng)
    seed = info["seed"]
    r = np.random.default_rng(seed + 1)
    # Phi^(l) of the same dyadic instance: rebuild and pick S from (t..H)
    acts = info["acts"].split("|")
    inst = build(seed, (s["d_x"],) + (s["w"],) * s["H"] + (s["d_y"],), acts, s["m"], "dyadic")
    net, Ws, X, _ = data_for(inst)
    f = nw.forward(net, Ws, X)
    # t = 0 and X in S half of the time: Phibar(S) = I (x) X is rarely inside col(D), which is
    # where the projection (and the mutants) make a difference
    t = 0 if r.random() < 0.5 else int(r.integers(0, s["H"] + 1))
    S = [l for l in range(t, s["H"] + 1) if (l == 0 or r.random() < 0.6)]
    D = blocks[:-1]

    def phibar(S):
        return _hstack([_kron_eye_sp(s["d_y"], sp.Matrix(f.Phi[l].shape[0], f.Phi[l].shape[1],
                                                          [sp.Rational(float(v)) for v in
                                                           f.Phi[l].ravel()])) for l in S])
    # an S whose Phibar(S) has full row rank makes both sides 0: shorten it (the sweep should
    # exercise the projection, and the mutant must have a chance to differ)
    while S and phibar(S).rank() == D[0].rows:
        S = S[:-1]
    PN = exact_null_projection(phibar(S)) if S else sp.eye(D[0].rows)
    proj = [PN * Db for Db in D]
    lhs_P = exact_projection(_hstack(proj))
    lhs = (lhs_P * y).T * (lhs_P * y)
    if theorem1_N:
        # misreading: N^(l)_k of Theorem 1 (from the unprojected blocks) applied to the
        # projected ones, Q_b = P_N[[D_1..D_{b-1}]] P_N[Phibar(S)] D_b
        Qs = [proj[0]] + [exact_null_projection(_hstack(D[:b])) * proj[b]
                          for b in range(1, len(D))]
    else:
        Qs = exact_gram_schmidt(proj if project_blocks else D)
    rhs = sum(((exact_projection(Q) * y).T * (exact_projection(Q) * y))[0, 0] for Q in Qs)
    return lhs, sp.Matrix([[rhs]]), {**info, "S": str(S)}


def lemma3_unprojected(s, rng):
    # mutant: Gram-Schmidt on the raw D_b (Q = N D, no P_N[Phibar(S)])
    return lemma3_build(s, rng, project_blocks=False)


def lemma3_theorem1_N(s, rng):
    return lemma3_build(s, rng, theorem1_N=True)


lemma3 = claim("khk2019dw.lemma3", printed_at("4.1", "Lemma 3"),
    title="Gram-Schmidt split of the projection onto P_N[Phibar(S)] D",
    statement="For any t in {0..H} and any subsequence S of (t..H): ||P[P_N[Phibar(S)] D] "
              "vec(Y)||^2 = sum_{l=1}^H sum_k ||P[N^(l)_k P_N[Phibar(S)] D^(l)_k] vec(Y)||^2, "
              "with Q^(l)_k = N^(l)_k P_N[Phibar(S)] D^(l)_k",
    identities=(Identity("lemma3", "||P[P_N[Phibar(S)] D] y||^2 = sum ||P[N P_N[Phibar(S)] D_b] "
                         "y||^2", lemma3_build, LEMMA3_SWEEP, method="exact-random"),),
    notes="Exact rational arithmetic on dyadic networks (every theta, kinks included); t and S "
          "drawn per size.",
    mutants=(Mutant.identity("unprojected_blocks", MutantKind.DROPPED_TERM,
                             "Gram-Schmidt on the raw D_b instead of P_N[Phibar(S)] D_b",
                             "lemma3", lemma3_unprojected),
             Mutant.identity("theorem1_N", MutantKind.OTHER,
                             "N^(l)_k of Theorem 1 (unprojected blocks) with the projected D_b",
                             "lemma3", lemma3_theorem1_N)),
)


# --- readings of Theta_{d_y,t} (Definition 1 at the point, as printed, or on a neighbourhood) --

_ERRATUM = ("As printed (Definition 1 asks for linear action on X at theta only) the statement "
            "fails at differentiable local minima where a unit of S^(l) has samples on its kink "
            "and slope 1 on the others: " + _THETA_WITNESS + ".  Corrected: the units of S^(l) "
            "act linearly on a neighbourhood of theta (the perturbation argument of the proof "
            "needs it; LM's version of the definition asks for it on a ball).")

theorem2 = theta_readings(theorem2, _ERRATUM)
corollary2 = theta_readings(corollary2, _ERRATUM)
remark1 = theta_readings(remark1, _ERRATUM)
lemma4 = theta_readings(lemma4, _ERRATUM)
