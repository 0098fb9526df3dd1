"""Distinct points up to the model's parameter symmetries (proofcheck.symmetry + evaluate)."""

from __future__ import annotations

from types import SimpleNamespace as P

import numpy as np
import pytest
from hypothesis import strategies as st

from proofcheck import Claim, Instance, Margin, PointKind, Source
from proofcheck.evaluate import (distinct_points, equivalence_text, find_points,
                                 symmetry_for)
from proofcheck.networks import ABS, IDENTITY, RELU, Network, forward, leaky_relu
from proofcheck.optimize.critical import ModelLandscape
from proofcheck.optimize.piecewise import PiecewiseLandscape
from proofcheck.symmetry import network_symmetry

RNG = np.random.default_rng(0)


def _permuted_rescaled(net: Network, Ws, layer: int, order, scale) -> list[np.ndarray]:
    """A copy of ``Ws`` with the units of hidden ``layer`` permuted by ``order`` and unit k's
    incoming weights times ``scale[k] > 0`` (outgoing divided by it)."""
    Ws = [W.copy() for W in Ws]
    s = np.asarray(scale, float)
    Ws[layer - 1] = (Ws[layer - 1] * s)[:, order]
    Ws[layer] = (Ws[layer] / s[:, None])[order, :]
    return Ws


def _count(net: Network, *thetas) -> int:
    sym = network_symmetry(net)
    return len(distinct_points([P(theta=t) for t in thetas], symmetry=sym))


@pytest.mark.parametrize("act", [RELU, ABS, IDENTITY, leaky_relu(0.3)])
def test_permuted_and_rescaled_copies_count_once(act):
    net = Network((3, 4, 2, 2), act)
    X = RNG.normal(size=(6, 3))
    Ws = net.random_weights(RNG)
    copy = _permuted_rescaled(net, Ws, 1, [2, 0, 3, 1], [0.5, 2.0, 3.0, 0.25])
    copy = _permuted_rescaled(net, copy, 2, [1, 0], [4.0, 0.1])
    # the copy is the same function (what makes it a symmetry) ...
    assert np.allclose(forward(net, Ws, X).Yhat, forward(net, copy, X).Yhat)
    a, b = net.flatten(Ws), net.flatten(copy)
    assert np.max(np.abs(a - b)) > 0.1             # ... but a different parameter vector
    assert len(distinct_points([P(theta=a), P(theta=b)])) == 2     # tolerance only: two
    assert _count(net, a, b) == 1                                   # up to symmetries: one


def test_canonical_form_is_the_same_function_and_idempotent():
    net = Network((3, 5, 3, 2), [[RELU, ABS, RELU, IDENTITY, ABS], leaky_relu(-0.5)])
    sym = network_symmetry(net)
    X = RNG.normal(size=(7, 3))
    for _ in range(5):
        theta = net.flatten(net.random_weights(RNG))
        c = sym.canonical(theta)
        assert np.allclose(forward(net, net.unflatten(theta), X).Yhat,
                           forward(net, net.unflatten(c), X).Yhat)
        assert np.allclose(sym.canonical(c), c)


def test_sign_flips_of_odd_and_even_units():
    # abs is even: negating a unit's incoming weights alone is a symmetry
    net = Network((2, 3, 1), ABS)
    Ws = net.random_weights(RNG)
    flip = [Ws[0] * np.array([-1.0, 1.0, -1.0]), Ws[1].copy()]
    assert _count(net, net.flatten(Ws), net.flatten(flip)) == 1
    # relu is not: the same flip is a different function and a different point
    net = Network((2, 3, 1), RELU)
    X = RNG.normal(size=(8, 2))
    assert not np.allclose(forward(net, Ws, X).Yhat, forward(net, flip, X).Yhat)
    assert _count(net, net.flatten(Ws), net.flatten(flip)) == 2
    # a linear unit is odd: negating its incoming and outgoing weights is a symmetry
    net = Network((2, 3, 1), IDENTITY)
    odd = [Ws[0] * np.array([-1.0, 1.0, 1.0]), Ws[1] * np.array([[-1.0], [1.0], [1.0]])]
    assert _count(net, net.flatten(Ws), net.flatten(odd)) == 1


def test_units_with_different_activations_are_not_permuted():
    net = Network((2, 2, 1), [[RELU, ABS]])
    W1 = np.array([[1.0, 0.5], [-2.0, 1.0]])
    W2 = np.array([[1.0], [3.0]])
    swapped = [W1[:, ::-1], W2[::-1]]          # would be a symmetry if both units were relu
    X = RNG.normal(size=(8, 2))
    assert not np.allclose(forward(net, [W1, W2], X).Yhat, forward(net, swapped, X).Yhat)
    assert _count(net, net.flatten([W1, W2]), net.flatten(swapped)) == 2
    same = Network((2, 2, 1), RELU)
    assert _count(same, same.flatten([W1, W2]), same.flatten(swapped)) == 1


def test_different_points_stay_distinct():
    net = Network((3, 4, 1), RELU)
    thetas = [net.flatten(net.random_weights(RNG)) for _ in range(6)]
    assert _count(net, *thetas) == 6


def test_tanh_network_with_skips_sign_flip_and_permutation():
    model = Network((2, 3, 2), "tanh", skip=(0, 1))
    theta = RNG.normal(size=model.n_params)
    mats = model.unpack(theta)
    flip = np.array([1.0, -1.0, 1.0])
    order = [2, 0, 1]
    other = dict(mats)
    other["W1"] = (mats["W1"] * flip[None, :])[:, order]
    other["Wout2"] = (mats["Wout2"] * flip[:, None])[order, :]
    theta2 = model.pack(other)
    X = RNG.normal(size=(5, 2))
    assert np.allclose(model.outputs(X, theta), model.outputs(X, theta2))
    sym = network_symmetry(model)
    assert sym is not None and "sign flips of odd units" in sym.description
    assert "positive rescaling" not in sym.description          # tanh is not homogeneous
    assert len(distinct_points([P(theta=theta), P(theta=theta2)], symmetry=sym)) == 1
    assert np.allclose(model.outputs(X, sym.canonical(theta)), model.outputs(X, theta))


def test_symmetry_for_landscapes():
    net = Network((2, 3, 1), RELU)
    X, Y = RNG.normal(size=(4, 2)), RNG.normal(size=(4, 1))
    sym = symmetry_for(PiecewiseLandscape(net, X, Y))
    assert equivalence_text(sym) == ("tolerance and hidden-unit permutations, positive "
                                     "rescaling of a unit (in/out weights)")
    free = np.ones(net.d_theta, bool)
    assert symmetry_for(PiecewiseLandscape(net, X, Y, free=free)) is not None
    free[0] = False
    frozen = PiecewiseLandscape(net, X, Y, free=free)
    assert symmetry_for(frozen) is None                        # frozen parameters: none
    wrapper = P(base=PiecewiseLandscape(net, X, Y), find_points=None)
    assert symmetry_for(wrapper) is not None                   # a wrapper inherits its base's
    from proofcheck.losses import SquaredLoss
    model = Network((2, 3, 1), "relu")
    assert symmetry_for(ModelLandscape(model, X, Y, SquaredLoss())) is not None
    charted = ModelLandscape(model, X, Y, SquaredLoss(), chart=model.transposed_order())
    theta = RNG.normal(size=model.n_params)
    c = symmetry_for(charted)
    assert c is not None
    assert np.allclose(c.canonical(theta[model.transposed_order()]),
                       network_symmetry(model).canonical(theta)[model.transposed_order()])
    assert symmetry_for(ModelLandscape(model, X, Y, SquaredLoss(), free=[0, 1])) is None


class _CopiesLandscape:
    """A landscape whose finder returns one minimum in two permuted, rescaled copies."""

    def __init__(self, net: Network, Ws) -> None:
        self.net = net
        self.copies = [net.flatten(Ws),
                       net.flatten(_permuted_rescaled(net, Ws, 1, [1, 0, 2], [2.0, 1.0, 0.5]))]
        self.symmetry = network_symmetry(net)

    def find_points(self, *, rng, starts, digits):
        return [P(kind="local_min", digits=digits, theta=t) for t in self.copies]


def _copies_claim(number: int) -> Claim:
    """A local-minimum claim whose landscape finds two symmetric copies of one minimum."""
    net = Network((2, 3, 1), RELU)
    Ws = net.random_weights(RNG)
    return Claim(id=f"demo.lemma{number}", title="t",
                 source=Source("demo", "1", f"Lemma {number}"), statement="s",
                 instances=lambda a: st.just(Instance(x=1.0)),
                 conclusion=lambda inst, point, B: Margin.at_least(1.0, 0.0, B),
                 point_kind=PointKind.LOCAL_MIN,
                 landscape=lambda inst: _CopiesLandscape(net, Ws))


def test_find_points_counts_two_copies_once():
    claim = _copies_claim(9)
    found = find_points(claim, Instance(x=1.0), rng=np.random.default_rng(0), starts=1,
                        digits=30)
    assert len(found.found) == 2 and len(found.points) == 1 and found.duplicates == 1
    assert found.equivalence.startswith("tolerance and hidden-unit permutations")


def test_check_says_distinct_up_to_symmetries():
    from proofcheck.engine import check_claim
    from proofcheck.report import evidence_phrase
    claim = _copies_claim(8)
    res = check_claim(claim, profile="quick", seed=0)
    rec = res.checks[0]
    assert rec.points == 1                      # two copies of one minimum: one point
    assert rec.points_distinct_up_to.startswith("tolerance and hidden-unit permutations")
    assert "(distinct up to tolerance and hidden-unit permutations" in \
        evidence_phrase(rec, res.point_kind)
    assert any("distinct up to tolerance and hidden-unit" in n for n in rec.notes)
    assert res.to_dict()["checked"][0]["points_distinct_up_to"] == rec.points_distinct_up_to
