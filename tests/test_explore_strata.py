"""explore on a claim about differentiable local minima searches the strata its generator
aims at (issue 11): a false claim whose counterexamples live only on strata is refuted there,
and the report says how many stratum instances and points it visited."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from proofcheck import Claim, Instance, Margin, PointKind, Source
from proofcheck.networks import RELU, Network, forward, locally_zero_entries
from proofcheck.optimize.piecewise import landscape_for
from proofcheck.optimize.strata import minimum_targets
from proofcheck.search import Budget, explore
from proofcheck.strategies.piecewise import STRATA, pl_problems

SOURCE = Source("user", "11", "differentiable local minima of tiny ReLU networks")


def _draw(stratum):
    """A one-hidden-layer ReLU network, data, a point theta0 on ``stratum`` and targets Y that
    make theta0 a certified local minimum (``minimum_targets``). Without a stratum (and on
    ``"generic"``) data and weights are moved off the integers: no pre-activation is 0."""
    @st.composite
    def draw(draw):
        P = draw(pl_problems(stratum=stratum, depth=(1, 1), width=(1, 2), d_in=(1, 2),
                             d_out=(1, 1), activations=("relu",), m=(3, 4), bound=1))
        net, Ws, X = P["net"], P["Ws"], P["X"]
        rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
        if stratum in (None, "generic"):   # generic: move every entry off the integers
            X = X + rng.uniform(-0.3, 0.3, X.shape)
            Ws = [W + rng.uniform(-0.3, 0.3, W.shape) for W in Ws]
        theta0 = net.flatten(Ws)
        Y = minimum_targets(net, X, theta0, rng=rng)
        if Y is None:                      # the stratum certificate was unresolved: redraw
            return None
        return Instance(widths=net.widths, X=X, Y=np.array(Y, dtype=float), theta0=theta0)
    return draw().filter(lambda inst: inst is not None)


def instances_on(assumed, stratum=None):
    return _draw(stratum)


instances_on.strata = STRATA


def instances_generic(assumed):
    return _draw("generic")


def _net(inst):
    return Network(inst.widths, [RELU] * (len(inst.widths) - 2))


def landscape(inst):
    return landscape_for(_net(inst), inst.X, inst.Y, initial_points=[inst.theta0])


def no_zero_pre_activation(inst, point, B):
    """At a differentiable local minimum no live pre-activation of a ReLU unit is exactly 0
    (the count of such entries is at most 0)."""
    if point.differentiable is not True:
        return Margin.at_most(0.0, 0.0, tol=0.5, tol_source="integer count")
    net = _net(inst)
    Ws = net.unflatten(np.asarray(point.theta, float))
    fwd = forward(net, Ws, inst.X)
    dead = locally_zero_entries(net, Ws, inst.X, fwd=fwd)
    zeros = sum(int(np.sum((G == 0) & ~Z)) for G, Z in zip(fwd.G, dead))
    return Margin.at_most(float(zeros), 0.0, tol=0.5, tol_source="integer count")


def _claim(cid, instances):
    return Claim(id=cid, title="no zero pre-activation at a differentiable local minimum",
                 source=SOURCE, statement="at every differentiable local minimum of L, no "
                 "pre-activation of a ReLU unit is exactly 0", conclusion=no_zero_pre_activation,
                 instances=instances, point_kind=PointKind.LOCAL_MIN, landscape=landscape,
                 high_precision=False)


def test_explore_finds_the_counterexample_on_a_stratum():
    claim = _claim("user.strata.no_zero", instances_on)
    ex = explore(claim, budget=Budget(instances=8), seed=0, starts=1, digits=30)
    assert set(ex.strata) == set(STRATA)
    # round robin, stopping at the first failure: generic first, then the strata
    assert ex.strata["generic"]["instances"] >= 1
    assert sum(v["instances"] for k, v in ex.strata.items() if k != "generic") >= 1
    assert sum(v["on_stratum"] for v in ex.strata.values()) >= 1
    assert ex.found, ex.summary
    w = ex.witnesses[0]
    assert w.point.differentiable is True and w.point.stratum is not None
    assert any(n.startswith("strata searched:") for n in ex.notes)
    assert ex.to_dict()["spent"]["strata"] == ex.strata


def test_generic_draws_alone_do_not_find_it():
    claim = _claim("user.strata.no_zero_generic", instances_generic)
    ex = explore(claim, budget=Budget(instances=8), seed=0, starts=1, digits=30)
    assert ex.strata == {}
    assert not ex.found, ex.summary
