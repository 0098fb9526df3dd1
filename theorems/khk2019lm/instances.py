"""KHK2019LM: named hypotheses, instance panels and landscapes shared by the claims.

Networks are :class:`proofcheck.networks.Network` (bias-free, optional skips to the output),
written here as the paper writes them, ``f = W^{(H+1)} h^{(H)}``, ``h^{(l)} = sigma(W^{(l)}
h^{(l-1)})``: every weight matrix is the transpose of the network's block, so random weights are
drawn in the paper's coordinates (``net.from_transposed``) and the landscapes are written in them
(``chart=net.transposed_order()``); the
weights lambda_i are positive and deliberately not uniform (the paper allows any fixed
lambda_i > 0); cross-entropy targets are probability rows with positive entries, so that
minimisers exist (with one-hot targets of separable data the infimum of L sits at infinity and
there is no critical point to check).

Claims at critical points / local minima check a fixed **panel** of instances (a finite domain:
every element is checked, by the claim and by each of its mutants), and the certified points of a
landscape are computed once per process (``ModelLandscape.find_points`` caches them), so a panel
shared by several claims is searched once.  Any-point claims draw instances with Hypothesis.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from proofcheck import Hypothesis, Instance
from proofcheck.networks import RELU, Network
from proofcheck.losses import SmoothedHinge, SoftmaxCrossEntropy, SquaredLoss, TiltedDoubleWell
from proofcheck.optimize.critical import ModelLandscape

LOSSES = {"squared": SquaredLoss(), "cross_entropy": SoftmaxCrossEntropy(),
          "smoothed_hinge2": SmoothedHinge(2), "double_well": TiltedDoubleWell(0.5)}
MAIN_LOSSES = ("squared", "cross_entropy")

# --- the paper's assumptions as hypotheses on an instance -------------------------------------
A1 = Hypothesis("A1", "every l_{y_i} is differentiable and convex",
                lambda i: i.loss.convex and i.loss.differentiable)
A2 = Hypothesis("A2", "f_{x_i}(theta) = sum_k g(theta)_k d_k f_{x_i}(theta) for some g "
                      "(here: no fixed output offset, g = the output weights)",
                lambda i: i.fields().get("offset") is None)
WIDE = Hypothesis("wide", "d_y <= min(d_1, ..., d_H)",
                  lambda i: i.dims[-1] <= min(i.dims[1:-1]))
PA4 = Hypothesis("PA4", "every activation is the identity (deep linear network)",
                 lambda i: i.activation == "identity")
PA6 = Hypothesis("PA6", "min(d_x, d_y) <= min(d_1, ..., d_H)",
                 lambda i: min(i.dims[0], i.dims[-1]) <= min(i.dims[1:-1]))


def _targets(loss_name, m, d_y, rng):
    if loss_name == "cross_entropy":
        return rng.dirichlet(2.0 * np.ones(d_y), size=m)
    return rng.normal(size=(m, d_y))


def net_instance(dims, activation, loss_name, seed, *, skip=None, offset=None, m=5,
                 X=None) -> Instance:
    """One data set for a network of the given shape (weights lambda_i in [0.5, 2])."""
    rng = np.random.default_rng(seed)
    dims = tuple(dims)
    X = rng.normal(size=(m, dims[0])) if X is None else np.asarray(X, float)
    m = X.shape[0]
    Y = _targets(loss_name, m, dims[-1], rng)
    weights = rng.uniform(0.5, 2.0, size=m)
    return Instance(dims=dims, activation=activation, skip=skip, offset=offset, X=X, Y=Y,
                    weights=weights, loss=LOSSES[loss_name], loss_name=loss_name, seed=seed)


def network(inst) -> Network:
    return Network(inst.dims, inst.activation, inst.skip, inst.offset)


def panel(*, kinds=("deep_linear", "tanh"), losses=MAIN_LOSSES, seeds=(0,), violate=()):
    """A fixed panel of instances: each kind x loss x seed.

    kinds: ``deep_linear`` (dims (2, 3, 2), the two-layer linear network, whose theta = 0 is a
    strict saddle), ``deep_linear3`` ((2, 2, 2, 2): three layers, theta = 0 is a degenerate
    critical point), ``tanh`` ((2, 2, 2)), ``skip_tanh`` ((2, 2, 2, 2) with skips from layers 1
    and 2), ``relu`` ((3, 4, 2) on x = [x_raw; 1]).  ``violate`` names hypotheses the panel must
    violate: ``A2`` (a fixed output offset), ``wide`` / ``PA6`` (a bottleneck narrower than d_x
    and d_y), ``A1`` (the non-convex tilted double-well loss)."""
    out = []
    for kind in kinds:
        for loss_name in losses:
            if "A1" in violate:
                loss_name = "double_well"
            for seed in seeds:
                kw = {}
                if kind == "deep_linear":
                    dims, act = (2, 3, 2), "identity"
                elif kind == "thin_input":
                    dims, act = (1, 2, 3), "identity"     # d_x < d_y: PA6 holds, d_y > d_1
                elif kind == "deep_linear3":
                    dims, act = (2, 2, 2, 2), "identity"
                elif kind == "tanh":
                    dims, act = (2, 2, 2), "tanh"
                elif kind == "skip_tanh":
                    dims, act, kw = (2, 2, 2, 2), "tanh", {"skip": (1, 2)}
                elif kind == "relu":
                    rng = np.random.default_rng(1000 + seed)
                    Xr = rng.normal(size=(6, 2))
                    kw = {"X": np.hstack([Xr, np.ones((6, 1))])}
                    dims, act = (3, 4, 2), "relu"
                else:
                    raise ValueError(f"unknown kind {kind!r}")
                if "wide" in violate or "PA6" in violate:
                    dims = (3, 1, 2) if len(dims) == 3 else (3, 1, 2, 2)
                    kw.pop("X", None)
                if "A2" in violate:
                    kw["offset"] = (1.5,) + (-0.5,) * (dims[-1] - 1)
                out.append(net_instance(dims, act, loss_name, seed, **kw))
    return tuple(out)


def _constructed(inst):
    net = network(inst)
    # theta = 0 is an exact critical point of a bias-free network whose outputs and Jacobian
    # vanish there (identity / tanh / relu all map 0 to 0 with at least two weight layers)
    return [np.zeros(net.n_params)] if net.H >= 1 else []


def critical_landscape(inst) -> ModelLandscape:
    """L(theta) for claims about every critical point: Newton on grad L = 0 and descent from
    one start, plus theta = 0."""
    net = network(inst)
    return ModelLandscape(net, inst.X, inst.Y, inst.loss, inst.weights,
                          constructed=_constructed(inst), method="both", max_starts=1,
                          chart=net.transposed_order())


def _linear_start(inst):
    """A ReLU start whose first d_y hidden units are active at every sample (a large weight on
    the constant input coordinate): descent from it tends to keep a partial linear structure,
    so that Theta_{d_y,0} is reached at some local minima (Theorem 4 with t = 0)."""
    net = network(inst)
    if net.activation != RELU:
        return []
    rng = np.random.default_rng(inst.seed + 99)
    # drawn as the paper's matrices (rows: units of the layer), stored as the network's blocks
    P = {k: 0.3 * rng.normal(size=v.shape[::-1]).T
         for k, v in net.unpack(np.zeros(net.n_params)).items()}
    P["W1"][-1, :net.d_y] = 3.0
    out = f"Wout{net.H + 1}"
    P[out] = rng.normal(size=P[out].shape[::-1]).T
    return [net.pack(P)]


def minimum_landscape(inst) -> ModelLandscape:
    """L(theta) for claims about local minima: descent from two starts (ReLU networks also from
    a start with d_y units active everywhere)."""
    net = network(inst)
    return ModelLandscape(net, inst.X, inst.Y, inst.loss, inst.weights,
                          method="descent", max_starts=2, initial=_linear_start(inst),
                          chart=net.transposed_order())


def last_layer_landscape(inst) -> ModelLandscape:
    """L as a function of the last layer only, the other weights fixed at inst.base
    (Example 2: theta = vec(W), u fixed; ``free`` in the paper's coordinates, where the last
    block sits at the same offset)."""
    net = network(inst)
    b = net.block(f"Wout{net.H + 1}")
    free = np.arange(b.offset, b.offset + b.size)
    return ModelLandscape(net, inst.X, inst.Y, inst.loss, inst.weights, free=free,
                          base=inst.base, method="both", max_starts=2,
                          chart=net.transposed_order())


# --- any-point strategies ---------------------------------------------------------------------

@st.composite
def random_points(draw, kinds=("deep_linear", "tanh", "relu", "skip_tanh"), losses=MAIN_LOSSES,
                  violate=()):
    """A panel instance with a random theta (N(0, 1) entries)."""
    kind = draw(st.sampled_from(kinds))
    loss = draw(st.sampled_from(losses))
    seed = draw(st.integers(0, 2 ** 16))
    inst = panel(kinds=(kind,), losses=(loss,), seeds=(seed,), violate=violate)[0]
    rng = np.random.default_rng(seed + 7)
    net = network(inst)
    return inst.replace(theta=net.from_transposed(rng.normal(size=net.n_params)))
