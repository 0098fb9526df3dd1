"""A user's conjectures about piecewise-linear networks (the model family of KHK 2019, depth
and width: bias-free networks of ReLU / leaky ReLU / absolute-value units).

Both are checked on every kink stratum (``proofcheck.strategies.pl_problems``): data sitting
exactly on a unit's hyperplane, dead units, zero outgoing weights, and generic points.

* ``user.plnet.euler`` (true): Euler's identity for the degree-(H+1) homogeneous map
  theta -> Yhat, with the paper's convention that a kinked unit has derivative 0:
  J(theta) theta = (H + 1) vec Yhat, at *every* theta (kinks included, because sigma(0) = 0).
* ``user.plnet.differentiable`` (false): "the output is differentiable in the weights
  everywhere: left and right derivatives agree in every direction". A sample on a ReLU unit's
  hyperplane breaks it; generic points never do.
"""

from functools import partial

from hypothesis import strategies as st

from proofcheck import Claim, Instance, Margin, Source
from proofcheck.networks import Network, directional_derivative, forward, jacobian
from proofcheck.strategies import pl_problems, pl_weights


def instances(assumed):
    """A problem in a random stratum (theta = the flattened weights) and an integer
    direction dtheta."""
    @st.composite
    def draw(draw):
        P = draw(pl_problems(depth=(1, 2), width=(1, 3), activations=("relu", "abs",
                                                                      "leaky_relu")))
        net = P["net"]
        return Instance(widths=net.widths, acts=tuple(layer[0] for layer in net.activations),
                        theta=net.flatten(P["Ws"]), X=P["X"],
                        dtheta=net.flatten(draw(pl_weights(net, bound=1))),
                        stratum=P["stratum"])
    return draw()


def _single(inst):
    if "batch_size" in inst.fields():       # the engine then calls once per instance
        raise TypeError("this conclusion takes one instance at a time")
    net = Network(inst.widths, list(inst.acts))
    return net, net.unflatten(inst.theta)


def euler(inst, point, B):
    net, Ws = _single(inst)
    lhs = jacobian(net, Ws, inst.X) @ net.flatten(Ws)
    rhs = (net.H + 1) * forward(net, Ws, inst.X).Yhat.ravel(order="F")
    return Margin.equal_matrices(lhs[None, :], rhs[None, :], n_ops=4 * net.d_theta)


def differentiable(inst, point, B):
    net, Ws = _single(inst)
    dWs = net.unflatten(inst.dtheta)
    right = directional_derivative(net, Ws, inst.X, dWs, side=1)
    left = directional_derivative(net, Ws, inst.X, dWs, side=-1)
    return Margin.equal_matrices(right, left, n_ops=4 * net.d_theta)


SOURCE = Source("user", "1", "Conjectures on piecewise-linear networks")

#: What these conjectures share: where they are stated, the networks, float64 only.
on_plnets = partial(Claim, source=SOURCE, instances=instances, high_precision=False,
                    notes="float64 only: the network routines compute in float64 (integer "
                          "data, so exact).")

euler_identity = on_plnets(
    id="user.plnet.euler",
    title="Euler's identity for bias-free piecewise-linear networks, kinks included",
    statement="J(theta) theta = (H + 1) vec Yhat(theta) for every theta, with derivative 0 "
              "at a kink",
    conclusion=euler,
)

differentiable_everywhere = on_plnets(
    id="user.plnet.differentiable",
    title="the output of a piecewise-linear network is differentiable in its weights",
    statement="for every theta and direction dW, the left and right derivatives of Yhat "
              "along dW agree",
    conclusion=differentiable,
    notes="float64 only. False at kinks: the conjecture a user should not make.",
)
