"""Instance generators of the KHK 2019 (DW) catalogue: small networks, data, weights, and the
boundary cases where "differentiable" matters, produced on purpose.

``case`` (a field of every instance) says which construction was used:

``"generic"``
    Gaussian data and LeCun-scaled Gaussian weights (every pre-activation is nonzero a.s.).
``"dyadic"``
    data and weights are multiples of 1/2 in [-2, 2]: pre-activations that are exactly 0 occur
    by themselves (exact arithmetic in float64 for these sizes).
``"zero_sample"``
    one input row ``x_i = 0``: every first-layer pre-activation of sample i is exactly 0 at every
    theta (a kink that is never crossed: the row is locally zero).
``"kink"``
    one first-layer unit has pre-activation exactly 0 on one sample (``x_i`` has one nonzero
    coordinate, the matching weight is 0): a genuine kink.
``"dead_unit"``
    a first-layer unit has negative pre-activation on every sample (``x_{i,1} > 0``, its weights
    ``(-1, 0, ...)``): a dead ReLU, ``D^(1)_k = 0``.
``"zero_out"``
    a hidden unit with all outgoing weights 0 (its kinks do not affect the output).
``"stratum"``
    a point *on* a stratum built to be a local minimum (problem instances only): dyadic weights,
    samples on a first-layer unit's hyperplane (a pair ``+-p`` whose contributions can cancel,
    or ``p`` alone), optionally a unit with zero outgoing weights that is dead or at its kink,
    generic samples, and targets ``Y = Yhat - r`` with ``r`` orthogonal to every adjacent
    piece's features (:func:`proofcheck.optimize.strata.minimum_targets`).  Whether the point is
    a (differentiable) local minimum is decided by the exact certificate, never assumed; the
    first start is the point itself.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from proofcheck import Instance
from proofcheck.claims import Reading
from proofcheck.evaluate import as_point

from .assumptions import acts_text, network_of

__all__ = ["CASES", "ACTS", "PROBLEM_CASES", "STRATUM_ACTS", "build", "build_stratum",
           "stratum_certificate", "READINGS", "landscape_reading", "network_instances",
           "data_for", "arrays", "close", "problem_instances", "landscape", "problem_data",
           "point_arrays", "STRATA", "stratified"]

CASES = ("generic", "dyadic", "zero_sample", "kink", "dead_unit", "zero_out")
PROBLEM_CASES = ("generic", "zero_sample", "kink", "zero_out", "stratum")
STRATUM_ACTS = ("relu", "abs", "leaky:0.5", "leaky:0.25", "leaky:-0.5")
ACTS = ("relu", "abs", "leaky:0.2", "leaky:-0.5", "identity")


def _dyadic(rng, shape):
    return rng.integers(-4, 5, size=shape) / 2.0


def build(seed: int, widths, acts, m: int, case: str = "generic", with_theta=True) -> Instance:
    """One instance (deterministic in ``seed``)."""
    rng = np.random.default_rng(seed)
    widths = tuple(int(d) for d in widths)
    inst = Instance(widths=widths, acts=acts if isinstance(acts, str) else acts_text(acts),
                    case=case)
    net = network_of(inst)
    if case == "dyadic":
        X, Y = _dyadic(rng, (m, widths[0])), _dyadic(rng, (m, widths[-1]))
        Ws = [_dyadic(rng, s) for s in net.shapes]
    else:
        X, Y = rng.normal(size=(m, widths[0])), rng.normal(size=(m, widths[-1]))
        Ws = net.random_weights(rng)
    k = int(rng.integers(widths[1]))
    i = int(rng.integers(m))
    if case == "zero_sample":
        X[i] = 0.0
    elif case == "kink":
        j = int(rng.integers(widths[0]))
        X[i] = 0.0
        X[i, j] = 1.0 + abs(X[i, j])
        Ws[0][j, k] = 0.0
    elif case == "dead_unit":
        X[:, 0] = np.abs(X[:, 0]) + 0.5
        Ws[0][:, k] = 0.0
        Ws[0][0, k] = -1.0
    elif case == "zero_out":
        l = int(rng.integers(1, net.H + 1))
        kk = int(rng.integers(widths[l]))
        Ws[l][kk, :] = 0.0
    fields = dict(X=X, Y=Y)
    if with_theta:
        fields["theta"] = net.flatten(Ws)
    return inst.replace(**fields)


def stratum_certificate(inst):
    """The exact certificate (:func:`proofcheck.optimize.strata.certify_stratum`) of an
    instance's ``theta`` (cached on the instance's data), or None when no live kinked
    pre-activation is exactly 0 there."""
    from proofcheck import networks as nw
    from proofcheck.optimize.strata import certify_stratum
    net = network_of(inst)
    theta = np.asarray(inst.theta, float)
    X = np.asarray(inst.X, float)
    key = (repr(net), theta.tobytes(), X.tobytes(), np.asarray(inst.Y, float).tobytes())
    if key not in _CERTS:
        if nw.pre_activation_margin(net, net.unflatten(theta), X) != 0.0:
            _CERTS[key] = None
        else:
            _CERTS[key] = certify_stratum(net, X, np.asarray(inst.Y, float).reshape(
                -1, net.d_y), theta, max_pieces=32, nlsat_boxes=(), search_directions=0)
    return _CERTS[key]


_CERTS: dict = {}


def build_stratum(seed: int, widths, acts, *, smooth_outputs: bool = False,
                  linear_unit: bool = False) -> Instance:
    """A ``"stratum"`` problem instance (module doc): fields widths, acts, X, Y, case, start.
    ``smooth_outputs``: the hyperplane unit gets zero outgoing weights (the outputs are then
    differentiable at the point as well).  ``linear_unit``: the generic samples are reflected
    to the hyperplane unit's nonnegative side, so that the unit *acts linearly* on X at the
    point (DW Definition 1 (ii) as printed: slope 1 wherever its pre-activation is nonzero)
    although samples sit on its kink."""
    from proofcheck.optimize.strata import minimum_targets
    rng = np.random.default_rng(seed)
    # d_x >= 2: a unit's hyperplane then holds nonzero samples (for d_x = 1 it is w = 0)
    widths = (max(2, int(widths[0])),) + tuple(int(d) for d in widths[1:])
    inst = Instance(widths=widths, acts=acts if isinstance(acts, str) else acts_text(acts),
                    case="stratum")
    net = network_of(inst)
    # deeper layers: a finer grid, so that exact zeros there are rarer than the designed ones
    Ws = [_dyadic(rng, s_) if l == 0 else rng.integers(-8, 9, size=s_) / 4.0
          for l, s_ in enumerate(net.shapes)]
    k = int(rng.integers(widths[1]))
    if not np.any(Ws[0][:, k]):
        Ws[0][0, k] = 1.0
    w = Ws[0][:, k]
    rows = []
    if widths[0] >= 2:
        j1 = int(np.flatnonzero(w)[0])
        j2 = (j1 + 1) % widths[0]
        p = np.zeros(widths[0])
        p[j1], p[j2] = w[j2], -w[j1]
        if not np.any(p):
            p[j2] = 1.0
        rows += [p, -p] if smooth_outputs or rng.random() < 0.9 else [p]
    else:
        Ws[0][:, k] = 0.0           # d_x = 1: the unit's hyperplane is w = 0
    if smooth_outputs:               # the hyperplane unit has no outgoing weights
        Ws[1][k, :] = 0.0
    else:
        if not np.any(Ws[1][k, :]):  # its kinks reach the outputs
            Ws[1][k, 0] = 1.0
        if widths[1] >= 2 and rng.random() < 0.3:
            Ws[1][(k + 1) % widths[1], :] = 0.0     # another unit without outgoing weights
    n_gen = min(16, 2 * widths[0] * (widths[1] + 1) + 2 - len(rows))
    gen = _dyadic(rng, (max(n_gen, 2), widths[0]))
    if linear_unit:
        gen = np.where((gen @ Ws[0][:, k] < 0)[:, None], -gen, gen)
    rows += list(gen)
    X = np.array(rows, float)
    theta = net.flatten(Ws)
    Y = minimum_targets(net, X, theta, rng=rng, against_lambda=not smooth_outputs)
    if Y is None:
        Y = _dyadic(rng, (X.shape[0], widths[-1]))
    Y = np.array([[float(v) for v in row] for row in np.asarray(Y)], float)
    return inst.replace(X=X, Y=Y, start=theta)


def data_for(inst):
    """``(net, Ws, X, Y)`` of an instance with weights."""
    net = network_of(inst)
    return net, net.unflatten(np.asarray(inst.theta, float)), np.asarray(inst.X, float), \
        np.asarray(inst.Y, float).reshape(-1, net.d_y)


@st.composite
def _draw(draw, H, width, d_x, d_y, m, acts, cases, per_unit, with_theta, linear_tail):
    h = draw(st.integers(*H))
    widths = [draw(st.integers(*d_x))] + [draw(st.integers(*width)) for _ in range(h)] + \
        [draw(st.integers(*d_y))]
    layers = []
    for l in range(1, h + 1):
        if linear_tail is not None and l > h - linear_tail:
            layers.append("identity")
        elif per_unit and draw(st.booleans()):
            layers.append(tuple(draw(st.sampled_from(acts)) for _ in range(widths[l])))
        else:
            layers.append(draw(st.sampled_from(acts)))
    case = draw(st.sampled_from(cases))
    seed = draw(st.integers(0, 2 ** 31 - 1))
    if case == "stratum":            # the point itself as theta (and no start)
        f = build_stratum(seed, widths, layers).fields()
        start = f.pop("start")
        if with_theta:
            f["theta"] = start
        return Instance(**f)
    return build(seed, widths, layers, draw(st.integers(*m)), case, with_theta)


def network_instances(*, H=(1, 2), width=(1, 3), d_x=(1, 3), d_y=(1, 2), m=(2, 6),
                      acts=ACTS, cases=CASES, per_unit=True, with_theta=True,
                      linear_tail=None):
    """A Hypothesis strategy of instances (module doc); ``linear_tail = n`` makes the last
    ``n`` hidden layers identity layers."""
    return _draw(H, width, d_x, d_y, m, tuple(acts), tuple(cases), per_unit, with_theta,
                 linear_tail)


def arrays(inst, B):
    """``(net, Ws, X, Y)`` converted by the backend ``B`` (float64 arrays, or mpmath / exact
    object arrays: every float converts exactly)."""
    net = network_of(inst)
    # np.asarray without a dtype: an exact instance (the judge's exact rung) stays exact
    Ws = [B.asarray(W) for W in net.unflatten(B.asarray(np.asarray(inst.theta)))]
    Y = np.asarray(inst.Y).reshape(-1, net.d_y)
    return net, Ws, B.asarray(np.asarray(inst.X)), B.asarray(Y)


def close(lhs, rhs, scale, B, *, n_ops: int, what: str = ""):
    """Margin of ``lhs == rhs`` (arrays of any shape): minus the largest deviation, tolerance
    ``B.tolerance(scale, n_ops)`` where ``scale`` is the magnitude the two sides were computed
    from (e.g. ``|D| |w|`` for a product ``D w``: the cancellation scale, Higham ch. 3)."""
    from proofcheck import Margin
    from proofcheck.claims import tolerance_source
    d = np.abs(np.asarray(lhs) - np.asarray(rhs))
    diff = d.max() if d.size else 0.0
    tol = B.tolerance(scale, n_ops=n_ops)
    src = tolerance_source(B, 1.0, n_ops) + (f"; {what}" if what else "")
    return Margin(-diff, tol, None, None, src)


# --------------------------------------------------------------------------- local minima

@st.composite
def _draw_problem(draw, H, width, d_x, d_y, m, acts, branch, linear_tail, per_unit, cases,
                  smooth_outputs=False):
    # the stratum branch uses one hidden layer (deeper strata often exceed the enumeration cap
    # and come back unresolved)
    h = draw(st.integers(*H)) if branch != "stratum" or linear_tail else 1
    widths = [draw(st.integers(*d_x))] + [draw(st.integers(*width)) for _ in range(h)] + \
        [draw(st.integers(*d_y))]
    layers = []
    for l in range(1, h + 1):
        if linear_tail is not None and l > h - linear_tail:
            layers.append("identity")
        elif branch == "dead_unit" and l == 1:
            layers.append("relu")
        elif branch == "stratum" and l == 1:
            layers.append(draw(st.sampled_from(STRATUM_ACTS)))
        elif per_unit and draw(st.booleans()):
            layers.append(tuple(draw(st.sampled_from(acts)) for _ in range(widths[l])))
        else:
            layers.append(draw(st.sampled_from(acts)))
    case = branch if branch in ("dead_unit", "stratum") else draw(st.sampled_from(cases))
    seed = draw(st.integers(0, 2 ** 31 - 1))
    if case == "stratum":
        return build_stratum(seed, widths, layers, smooth_outputs=smooth_outputs)
    inst = build(seed, widths, layers, draw(st.integers(*m)), case, True)
    f = inst.fields()
    f["start"] = f.pop("theta")      # the boundary construction is the first start
    return inst.__class__(**f)


#: The strata a local-minimum generator can aim at for ``proofcheck explore`` (the
#: ``instances.strata`` protocol of :func:`proofcheck.evaluate.stratum_options`): the cases of
#: the module doc whose points have zero pre-activations, dead units or zero outgoing weights.
STRATA = ("stratum", "dead_unit", "kink", "zero_sample", "zero_out")


def problem_instances(assumed=None, *, H=(1, 2), width=(1, 3), d_x=(1, 3), d_y=(1, 2),
                      m=(2, 6), acts=ACTS, linear_tail=None, per_unit=True,
                      cases=PROBLEM_CASES, smooth_outputs=False, stratum=None):
    """Data sets for local-minimum claims: fields widths, acts, X, Y, case and ``start`` (a
    first start with the boundary construction of ``case``; the finder adds random starts).
    ``assumed.branch == "dead_unit"`` asks for a first-layer ReLU unit that starts dead,
    ``"stratum"`` for a point on a stratum built to be a local minimum (``smooth_outputs``:
    one whose outputs are differentiable too).  ``stratum`` (one of :data:`STRATA`) forces
    that construction whatever the branch (what ``explore`` asks for)."""
    branch = getattr(assumed, "branch", None)
    if stratum is not None:
        if stratum not in STRATA:
            raise ValueError(f"unknown stratum {stratum!r}: expected one of {STRATA}")
        if stratum in ("stratum", "dead_unit"):
            branch = stratum
        else:
            branch, cases = None, (stratum,)
    return _draw_problem(H, width, d_x, d_y, m, tuple(acts), branch, linear_tail, per_unit,
                         tuple(cases), smooth_outputs)


def stratified(**kw):
    """The generator ``gen(assumed, stratum=None)`` of :func:`problem_instances` with the
    keywords ``kw``, listing :data:`STRATA` as ``gen.strata`` so that ``proofcheck explore``
    searches each of them (claims about differentiable local minima).

    >>> gen = stratified(H=(1, 1))
    >>> gen.strata[0]
    'stratum'
    """
    def gen(assumed=None, stratum=None):
        return problem_instances(assumed, stratum=stratum, **kw)
    gen.strata = STRATA
    return gen


def landscape(inst):
    """The :class:`~proofcheck.optimize.piecewise.PiecewiseLandscape` of a problem instance."""
    from proofcheck.optimize.piecewise import landscape_for
    net = network_of(inst)
    X = np.asarray(inst.X, float)
    Y = np.asarray(inst.Y, float).reshape(-1, net.d_y)
    starts = (np.asarray(inst.start, float),) if "start" in inst.fields() else ()
    return landscape_for(net, X, Y, initial_points=starts)


def problem_data(inst):
    net = network_of(inst)
    return net, np.asarray(inst.X, float), np.asarray(inst.Y, float).reshape(-1, net.d_y)


def point_arrays(inst, point):
    """``(P, net, Ws, X, Y)`` at a certified point: the point's arithmetic ``P``
    (:meth:`proofcheck.evaluate.Point.backend`), the network, the point's weights and the data
    as ``P``'s numbers (every float converts exactly)."""
    P = as_point(point).backend()
    net, X, Y = problem_data(inst)
    return P, net, net.unflatten(point.theta_mp), P.asarray(X), P.asarray(Y)


# --------------------------------------------------------------------------- readings

READINGS = {
    "L": Reading(
        "L differentiable",
        "'differentiable' read as printed: L is differentiable at theta (on strata, where a "
        "pre-activation is exactly 0, decided exactly: all adjacent pieces' gradients agree)",
        natural=True),
    "outputs": Reading(
        "every output differentiable",
        "'differentiable' read as: every output Yhat_ic is differentiable at theta"),
    "kink_free": Reading(
        "kink-free",
        "'differentiable' read as: no live kinked pre-activation is 0, so Lambda is "
        "locally constant (the reading the proofs use; narrower than both others)"),
}


class ReadingLandscape:
    """The landscape of an instance with the points outside a reading relabelled
    ``outside_reading`` (counted in the evidence, never handed to a conclusion)."""

    def __init__(self, base, reading: str):
        self.base = base
        self.reading = reading

    @property
    def n_params(self):
        return self.base.n_params

    def value(self, theta):
        return self.base.value(theta)

    def keeps(self, p) -> bool:
        c = getattr(p, "stratum", None)
        if self.reading == "L" or c is None:
            return True
        if self.reading == "outputs":
            return bool(c.outputs_all_differentiable)
        return False

    def find_points(self, *, rng, starts=4, digits=40):
        import dataclasses
        return [p if self.keeps(p) else dataclasses.replace(p, kind="outside_reading")
                for p in self.base.find_points(rng=rng, starts=starts, digits=digits)]


def landscape_reading(reading: str):
    """``landscape`` restricted to the points of a reading of "differentiable"
    (:data:`READINGS`)."""
    if reading not in READINGS:
        raise ValueError(f"unknown reading {reading!r}; choose one of {sorted(READINGS)}")
    return lambda inst: ReadingLandscape(landscape(inst), reading)
