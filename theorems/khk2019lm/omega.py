"""KHK2019LM §3.1: the nondifferentiable sets Omega and Omega-tilde.

Omega = {theta : some f_{x_i} is not differentiable at theta};
Omega-tilde = {theta : every ball B(theta, eps) contains a point where some f_{x_i} is not
differentiable} (= the closure of Omega).  The paper: "In common nondifferentiable models f such
as neural networks with ReLUs and pooling operations, we have that Omega = Omega-tilde, and the
Lebesgue measure of Omega (= Omega-tilde) is zero."

As printed this is false for ReLU networks.  Witness: f(x; w, v) = v relu(w x), x = 1, at
theta = (w, v) = (0, 0): |f(w, v)| <= |v| |w| = o(||(w, v)||), so f is differentiable there (with
zero gradient) and theta is not in Omega; but every (0, v) with v != 0 is a kink of f, so
theta is in Omega-tilde.  Omega is not closed (a kinked unit with zero outgoing weights is
differentiable), so Omega is a strict subset of Omega-tilde = closure(Omega).

Corrected (verified): Omega is a subset of Omega-tilde, and both are Lebesgue-null for ReLU
networks (a random theta is in neither).  Decisions are exact (rational arithmetic) with the
criterion of :func:`proofcheck.induced.relu_omega` for one-hidden-layer networks.
"""

import numpy as np
from hypothesis import strategies as st

from proofcheck import Instance, Margin, Mutant, MutantKind

from . import claim, printed_at
from ._constructions import relu_omega

SOURCE = printed_at("3.1", "definition of Omega and Omega-tilde")


@st.composite
def relu_points(draw, kinked=True):
    """A one-hidden-layer ReLU network with integer data and weights; with ``kinked`` some unit
    is exactly at its kink at some sample, its outgoing weights zero or not; else Gaussian."""
    seed = draw(st.integers(0, 2 ** 16))
    rng = np.random.default_rng(seed)
    d_x = 2
    width, d_y, m = int(rng.integers(1, 4)), int(rng.integers(1, 3)), int(rng.integers(1, 4))
    if not kinked:
        return Instance(X=rng.normal(size=(m, d_x)), W1=rng.normal(size=(width, d_x)),
                        W2=rng.normal(size=(d_y, width)), kinked=False)
    X = rng.integers(-2, 3, size=(m, d_x)).astype(float)
    X[0] = X[0] if np.any(X[0]) else np.array([1.0, 2.0])
    W1 = rng.integers(-2, 3, size=(width, d_x)).astype(float)
    W1[0] = np.array([-X[0, 1], X[0, 0]]) * rng.choice([1, 2, -1])       # w_0 . x_0 = 0
    W2 = rng.integers(-2, 3, size=(d_y, width)).astype(float)
    if draw(st.booleans()):
        W2[:, 0] = 0.0               # the kinked unit is silent: differentiable there
    return Instance(X=X, W1=W1, W2=W2, kinked=True)


def _omega(inst):
    """(theta in Omega, theta in Omega-tilde), decided exactly on the instance's numbers (the
    exact rationals of the certifying rungs are the doubles of the instance: as_float is
    exact on them)."""
    def floats(A):
        return np.vectorize(lambda a: a.as_float() if hasattr(a, "as_float") else float(a),
                            otypes=[float])(np.asarray(A, dtype=object))
    return relu_omega(floats(inst.X), floats(inst.W1), floats(inst.W2))


def equal_sets(inst, point, B):
    # an exact decision: the margin is the integer 0 (holds) or -1 (fails), exact on every rung
    in_omega, in_tilde = _omega(inst)
    return Margin(0 if in_omega == in_tilde else -1, 0, in_omega, in_tilde,
                  "exact decision (rational arithmetic)")


def subset_and_null(inst, point, B, flipped=False):
    in_omega, in_tilde = _omega(inst)
    ok = (not in_tilde or in_omega) if flipped else (not in_omega or in_tilde)
    if not inst.kinked:          # a random theta is in neither set (measure zero)
        ok = ok and not in_tilde
    return Margin(0 if ok else -1, 0, in_omega, in_tilde, "exact decision")


def _instances(assumed):
    return st.one_of(relu_points(True), relu_points(False))


corrected = claim("khk2019lm.definition1.omega", SOURCE,
    title="Omega is a subset of Omega-tilde, both null for ReLU networks",
    statement="Omega is a subset of Omega-tilde = closure(Omega); for ReLU networks both are "
              "Lebesgue-null (a random theta is in neither)",
    conclusion=subset_and_null,
    instances=_instances,
    high_precision=True,        # an exact decision: certified by the exact rung
    mutants=(Mutant.conclusion("flipped_inclusion", MutantKind.FLIPPED_INEQUALITY,
                               "Omega-tilde is a subset of Omega",
                               lambda i, p, B: subset_and_null(i, p, B, flipped=True)),
             Mutant.conclusion("not_null", MutantKind.OTHER,
                               "every theta is in Omega-tilde (not a null set)",
                               lambda i, p, B: Margin(0.0 if relu_omega(i.X, i.W1, i.W2)[1]
                                                      else -1.0, 0.0, None, None, "exact"))),
)

omega = claim("khk2019lm.definition1.omega", SOURCE,
    title="Omega = Omega-tilde for ReLU networks (as printed)",
    statement="In common nondifferentiable models f such as neural networks with ReLUs and "
              "pooling operations, Omega = Omega-tilde, and the Lebesgue measure of "
              "Omega (= Omega-tilde) is zero",
    conclusion=equal_sets,
    instances=_instances,
    high_precision=True,        # an exact decision: certified by the exact rung
    corrected=corrected,
    erratum="Omega is not closed for ReLU networks: at theta = (w, v) = (0, 0) of "
            "f = v relu(w x), f is differentiable (|f| <= |v||w|) but every neighbourhood "
            "contains kinks (0, v != 0): theta is in Omega-tilde \\ Omega. Only "
            "Omega <= Omega-tilde = closure(Omega) holds (both null).",
)
