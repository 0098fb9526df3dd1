"""KHK2019LM §3.1: Assumptions 1 and 2, checked as statements about the losses and
architectures the paper names.

Assumption 1. For all i, l_{y_i} : q -> l(q, y_i) >= 0 is differentiable and convex (e.g. the
squared loss, cross-entropy loss, or polynomial hinge loss).

Assumption 2. There exists g : R^{d_theta} -> R^{d_theta} with f_{x_i}(theta) = sum_k g(theta)_k
d_k f_{x_i}(theta) for all i and all theta not in Omega.  The paper's examples:
f = W h(x; u) + b with g = (W, b, 0); bias-free ReLU networks with g = theta / (H + 1) (Euler's
theorem for the positively homogeneous f); ResNets f = W(x + R z(x; u)) with g = (W, 0, 0).

The checker :func:`proofcheck.induced.assumption2_residual` verifies Assumption 2 for an
architecture and a g symbolically (sympy: f - sum_k g_k df/dtheta_k simplifies to 0); for ReLU
networks inside a fixed activation pattern (diagonal 0/1 matrices D_l, constant on the open
region where f is differentiable).  :func:`proofcheck.induced.assumption2_defect` is the numeric
check at a point.
"""

import numpy as np
from proofcheck.lazy import lazy_import
from hypothesis import strategies as st

from proofcheck import Hypothesis, Identity, Instance, Margin, Mutant, MutantKind
from proofcheck.symbolic import SizeSweep, symbol_matrix, symbol_vector, vec

from . import claim, printed_at
from ._constructions import assumption2_defect, assumption2_residual, output_weights_g
from .instances import A2, LOSSES, network, random_points

sp = lazy_import("sympy")   # loaded on first use (startup cost)

SOURCE1 = printed_at("3.1", "Assumption 1")
SOURCE2 = printed_at("3.1", "Assumption 2")

# --- Assumption 1 -----------------------------------------------------------------------------

CONVEX = Hypothesis("A1", "l_y is differentiable and convex (declared)",
                    lambda i: i.loss.convex and i.loss.differentiable)


@st.composite
def loss_pairs(draw, names=("squared", "cross_entropy", "smoothed_hinge2")):
    name = draw(st.sampled_from(names))
    seed = draw(st.integers(0, 2 ** 16))
    rng = np.random.default_rng(seed)
    loss = LOSSES[name]
    d = 1 if name == "smoothed_hinge2" else int(rng.integers(2, 4))
    y = loss.sample_targets(rng, (d,))
    if name == "smoothed_hinge2":
        y = np.array([1.0 if y[0] >= 0 else -1.0])
    # q at several distances from y (a non-convex loss is concave only near y), q' near q
    q = y + rng.choice([0.3, 1.0, 3.0]) * rng.normal(size=d)
    q2 = q + 0.5 * rng.normal(size=d)
    return Instance(loss=loss, loss_name=name, y=y, q=q, q2=q2)


def concavity(inst, point, B):
    """Mutant: l(q') <= l(q) + dl(q)(q' - q) (the inequality of a concave function)."""
    loss, y, q, q2 = inst.loss, inst.y, inst.q, inst.q2
    l1, l2 = float(loss.value(q, y)), float(loss.value(q2, y))
    rhs = l1 + float(loss.grad(q, y) @ (q2 - q))
    return Margin.at_most(l2, rhs, tol=64 * 1.1e-16 * (1 + abs(l1) + abs(l2)),
                          tol_source="float64 rounding")


def convexity(inst, point, B):
    """l(q') >= l(q) + dl(q)(q' - q) (first-order convexity, which presumes the gradient), and
    the gradient agrees with central differences (h = eps^(1/3): error <= h^2 M3 + eps/h)."""
    loss, y, q, q2 = inst.loss, inst.y, inst.q, inst.q2
    l1, l2 = float(loss.value(q, y)), float(loss.value(q2, y))
    g = loss.grad(q, y)
    rhs = l1 + float(g @ (q2 - q))
    scale = 1 + abs(l1) + abs(l2) + float(np.abs(g).sum()) * float(np.abs(q2 - q).max())
    m = Margin.at_least(l2, rhs, tol=64 * 1.1e-16 * scale, tol_source="float64 rounding of "
                        "three loss evaluations and a dot product at their scale")
    h = np.finfo(float).eps ** (1 / 3)
    fd = np.array([(float(loss.value(q + h * e, y)) - float(loss.value(q - h * e, y))) / (2 * h)
                   for e in np.eye(len(q))])
    tol = 16 * h * h * (1 + float(np.abs(q).max()) + abs(l1)) + 16 * 1.1e-16 * (1 + abs(l1)) / h
    return m.both(Margin(-float(np.abs(fd - g).max()), tol, g, fd,
                         "central difference error h^2 M3 + u |l| / h, h = eps^(1/3)"))


assumption1 = claim("khk2019lm.assumption1", SOURCE1,
    title="the paper's losses are differentiable and convex",
    statement="For all i, l_{y_i}: q -> l(q, y_i) in R_{>=0} is differentiable and convex (e.g. "
              "the squared loss, cross-entropy loss, or polynomial hinge loss)",
    hypotheses=(CONVEX,),
    conclusion=convexity,
    instances=lambda assumed: loss_pairs() if assumed["A1"] else loss_pairs(("double_well",)),
    high_precision=False,
    notes="Polynomial hinge: the smoothed hinge max(0, 1 - y q)^p with p = 2.",
    mutants=(Mutant.drop("A1", "a differentiable non-convex loss (tilted double well)"),
             Mutant.conclusion("concave", MutantKind.FLIPPED_INEQUALITY,
                               "l(q') <= l(q) + dl(q)(q' - q)", concavity)),
)


# --- Assumption 2, symbolic -------------------------------------------------------------------

SWEEP = SizeSweep(d_x=(1, 2), d_h=(1, 2), d_y=(1, 2))


def _tanh_features(U, x):
    return (U * x).applyfunc(sp.tanh)


def last_layer_bias(s, g_b=True):
    W, b = symbol_matrix("W", s["d_y"], s["d_h"]), symbol_vector("b", s["d_y"])
    U, x = symbol_matrix("U", s["d_h"], s["d_x"]), symbol_vector("x", s["d_x"])
    f = W * _tanh_features(U, x) + b
    params = list(vec(W)) + list(b) + list(vec(U))
    g = list(vec(W)) + (list(b) if g_b else [0] * s["d_y"]) + [0] * len(vec(U))
    return sp.Matrix(f), f - assumption2_residual(f, params, g)


def relu_euler(s, depth=2, denominator=None):
    """f = W3 D2 W2 D1 W1 x (two hidden layers in a fixed pattern), g = theta / (H + 1)."""
    dims = [s["d_x"], s["d_h"], s["d_h"], s["d_y"]][:depth + 2]
    Ws = [symbol_matrix(f"W{l + 1}", dims[l + 1], dims[l]) for l in range(len(dims) - 1)]
    Ds = [sp.diag(*sp.symbols(f"D{l}_1:{dims[l] + 1}")) for l in range(1, len(dims) - 1)]
    x = symbol_vector("x", s["d_x"])
    h = x
    for l, W in enumerate(Ws):
        h = W * h
        if l < len(Ds):
            h = Ds[l] * h
    params = [p for W in Ws for p in vec(W)]
    H = len(Ws) - 1
    c = sp.Rational(1, denominator if denominator else H + 1)
    return h, h - assumption2_residual(h, params, [c * p for p in params])


def resnet_g(s, g_R=False):
    W, R = symbol_matrix("W", s["d_y"], s["d_x"]), symbol_matrix("R", s["d_x"], s["d_h"])
    U, x = symbol_matrix("U", s["d_h"], s["d_x"]), symbol_vector("x", s["d_x"])
    f = W * (x + R * _tanh_features(U, x))
    params = list(vec(W)) + list(vec(R)) + list(vec(U))
    g = list(vec(W)) + (list(vec(R)) if g_R else [0] * len(vec(R))) + [0] * len(vec(U))
    return f, f - assumption2_residual(f, params, g)


def defect(inst, point, B):
    net = network(inst)
    dev, tol = assumption2_defect(net, inst.X, inst.theta, output_weights_g(net, inst.theta))
    return Margin(-dev, tol, dev, 0.0, "float64 forward error of f and J g")


assumption2 = claim("khk2019lm.assumption2", SOURCE2,
    title="common architectures satisfy f = sum_k g(theta)_k d_k f",
    statement="There exists g with f_{x_i}(theta) = sum_k g(theta)_k d_k f_{x_i}(theta) for all i "
              "and theta not in Omega; e.g. f = W h(x; u) + b with g = (W, b, 0), bias-free ReLU "
              "networks with g = theta / (H + 1)",
    hypotheses=(A2,),
    identities=(
        Identity("last_layer_bias", "f = W tanh(U x) + b, g = (W, b, 0)", last_layer_bias, SWEEP),
        Identity("relu_euler", "f = W3 D2 W2 D1 W1 x (fixed pattern), g = theta / 3",
                 relu_euler, SWEEP),
        Identity("resnet", "f = W(x + R tanh(U x)), g = (W, 0, 0)", resnet_g, SWEEP),
    ),
    conclusion=defect,
    instances=lambda assumed: random_points(violate=() if assumed["A2"] else ("A2",)),
    high_precision=False,
    notes="Symbolic: sympy proves f - sum_k g_k df/dtheta_k = 0 at every size of the sweep. "
          "Numeric: the networks of the catalogue (deep linear, tanh, ReLU, skip) with g = the "
          "output weights, at random theta.",
    mutants=(
        Mutant.identity("bias_dropped", MutantKind.DROPPED_TERM, "g = (W, 0, 0) for f = W h + b",
                        "last_layer_bias", lambda s: last_layer_bias(s, g_b=False)),
        Mutant.identity("euler_H", MutantKind.PERTURBED_CONSTANT, "g = theta / H",
                        "relu_euler", lambda s: relu_euler(s, denominator=2)),
        Mutant.identity("resnet_R", MutantKind.OTHER, "g = (W, R, 0) for the ResNet",
                        "resnet", lambda s: resnet_g(s, g_R=True)),
        Mutant.drop("A2", "a fixed output offset: f = (...) + c has no such g"),
    ),
)
