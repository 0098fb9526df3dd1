"""A user's conjectures about induced gradient-basis models (the model family of KHK 2019,
every local minimum: f_theta(x; alpha) = sum_k alpha_k d_k f_x(theta)).

* ``user.induced.span`` (true): for a network without output offset, f_X(theta) lies in the
  span of the partial derivatives d_k f_X(theta) (its output weights are one choice of
  alpha: f is linear in them), at every theta, so the gradient basis model can reproduce the
  network's own outputs.
* ``user.induced.span_offset`` (false): the same for a network with a fixed output shift
  c != 0. The constant c is not in the span once there are more samples than directions.
"""

from functools import partial

from hypothesis import strategies as st

from proofcheck import Claim, Instance, Margin, Source
from proofcheck.induced import range_residual
from proofcheck.networks import Network
from proofcheck.strategies import induced_problems


def instances(offset):
    def make(assumed):
        @st.composite
        def draw(draw):
            P = draw(induced_problems(kinds=("basis", "deep_linear", "tanh", "skip_tanh"),
                                      losses=("squared",), m=(4, 8), theta="any",
                                      offset=offset, max_width=2, d_y=(1, 1)))
            net = P["model"]
            return Instance(dims=net.dims, activation=net.activation.name, skip=net.skip,
                            offset=net.offset, X=P["X"], theta=P["theta"])
        return draw()
    return make


def in_span(inst, point, B):
    if "batch_size" in inst.fields():       # the engine then calls once per instance
        raise TypeError("this conclusion takes one instance at a time")
    net = Network(inst.dims, inst.activation, inst.skip, inst.offset)
    residual, tol = range_residual(net.jacobian(inst.X, inst.theta),
                                   net.outputs(inst.X, inst.theta))
    return Margin.at_most(residual, 0.0, tol=tol,
                          tol_source="least-squares residual bound (Golub & Van Loan 5.3.8)")


SOURCE = Source("user", "2", "Conjectures on gradient-basis models")

#: What these conjectures share: where they are stated, the check (``in_span``), float64 only.
span_conjecture = partial(Claim, source=SOURCE, conclusion=in_span, high_precision=False,
                          notes="float64 only: range_residual computes an SVD in float64.")

span = span_conjecture(
    id="user.induced.span",
    title="a network's outputs lie in the span of its partial derivatives",
    statement="f_X(theta) in span{d_k f_X(theta)} for every theta (no output offset)",
    instances=instances(offset=False),
)

span_with_offset = span_conjecture(
    id="user.induced.span_offset",
    title="the same with a fixed output offset",
    statement="f_X(theta) + c in span{d_k f_X(theta)} for every theta and fixed c != 0",
    instances=instances(offset=True),
    notes="float64 only. False: c is not in the span.",
)
