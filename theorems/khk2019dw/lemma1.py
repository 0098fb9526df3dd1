"""KHK 2019 (DW), Lemma 1 (Section 4): Yhat is linear in each layer through D^(l).

Printed: "For all l in {1..H}, vec(Yhat(X, theta)) = D^(l) vec(W^(l)(theta)), and at any
differentiable theta, d vec(Yhat) / d vec(W^(l)) = D^(l)."  The output block
D^(H+1)_1 = I_{d_y} (x) Phi^(H) is used the same way in the proof of Theorem 1.

Part 1 holds at *every* theta, kinks included, because sigma(z) = sigma'(z) z with the paper's
convention (0 at a kink) and sigma(0) = 0 -- the convention at kinks does not matter for it.
Part 2 is checked against exact one-sided directional derivatives
(:func:`proofcheck.networks.directional_derivative`), from both sides, along a random direction;
at a kink the two sides differ and the hypothesis "differentiable" is needed (mutant).
"""

import zlib

import numpy as np

from proofcheck import Hypothesis, Mutant, MutantKind
from proofcheck import networks as nw

from . import claim, printed_at
from .assumptions import ADMISSIBLE, network_of, per_instance
from .instances import arrays, close, network_instances, stratum_certificate

EPS = float(np.finfo(float).eps)


def _layer_terms(net, Ws, X, blocks):
    """(lhs, rhs, scale, n_ops) per layer l = 1..H+1: D^(l) vec W^(l) vs vec Yhat."""
    f = nw.forward(net, Ws, X)
    y = nw.vec(f.Yhat)
    out = []
    for l, D in enumerate(blocks, start=1):
        w = nw.vec(Ws[l - 1])
        scale = np.max(np.abs(D) @ np.abs(w)) if D.size else 0.0
        # D's entries are products along paths of length H+1, the sum has d_{l-1} d_l terms
        out.append((D @ w, y, scale, D.shape[1] + 2 * (net.H + 1)))
    return out


def _identity_margin(blocks_of):
    @per_instance
    def conclusion(inst, point, B):
        net, Ws, X, _ = arrays(inst, B)
        margin = None
        for lhs, rhs, scale, n_ops in _layer_terms(net, Ws, X, blocks_of(net, Ws, X)):
            m = close(lhs, rhs, scale, B, n_ops=n_ops,
                      what="scale |D| |vec W| (cancellation in the product)")
            margin = m if margin is None else margin.both(m)
        return margin
    return conclusion


def _blocks(net, Ws, X):
    return nw.d_blocks(net, Ws, X)


def _blocks_without_pattern(net, Ws, X):
    # mutant: Lambda dropped (every unit treated as linear)
    ones = [np.ones((X.shape[0], d)) for d in net.widths[1:-1]]
    return nw.d_blocks(net, Ws, X, pattern=ones)


def _blocks_sample_major(net, Ws, X):
    # mutant: rows ordered sample-major (vec of Yhat^T), i.e. the Kronecker factors swapped
    m, d_y = X.shape[0], net.d_y
    perm = np.arange(m * d_y).reshape(d_y, m).T.ravel()
    return [D[perm] for D in nw.d_blocks(net, Ws, X)]


def _blocks_output_swapped(net, Ws, X):
    # mutant: D^(H+1)_1 = Phi^(H) (x) I_{d_y} instead of I_{d_y} (x) Phi^(H)
    blocks = nw.d_blocks(net, Ws, X)
    Phi = nw.forward(net, Ws, X).Phi[-1]
    return blocks[:-1] + [np.kron(Phi, np.eye(net.d_y, dtype=Phi.dtype))]


def identity_instances(assumed):
    return network_instances()


lemma1 = claim("khk2019dw.lemma1", printed_at("4.1", "Lemma 1"),
    title="Yhat is linear in each layer: vec(Yhat) = D^(l) vec(W^(l)) at every theta",
    statement="For all l in {1..H}, vec(Yhat(X, theta)) = D^(l) vec(W^(l)(theta)) "
              "(and vec(Yhat) = D^(H+1)_1 vec(W^(H+1)) with D^(H+1)_1 = I_{d_y} (x) Phi^(H))",
    hypotheses=(ADMISSIBLE,),
    conclusion=_identity_margin(_blocks),
    instances=identity_instances,
    notes="Instances include exact zeros of pre-activations (cases kink, dyadic, zero_sample), "
          "dead units and units without outgoing weights.  The kink convention does not "
          "matter for this part (sigma(0) = 0), so no mutant changes it.",
    mutants=(
        Mutant.conclusion("no_pattern", MutantKind.DROPPED_TERM,
                          "D^(l) built without the activation pattern Lambda",
                          _identity_margin(_blocks_without_pattern)),
        Mutant.conclusion("sample_major_rows", MutantKind.TRANSPOSED,
                          "Kronecker factors swapped (rows sample-major)",
                          _identity_margin(_blocks_sample_major)),
        Mutant.conclusion("output_block_swapped", MutantKind.TRANSPOSED,
                          "D^(H+1)_1 = Phi^(H) (x) I_{d_y}",
                          _identity_margin(_blocks_output_swapped)),
    ),
)


# --- part 2: the derivative at differentiable points ---------------------------------------

def _rounding_bound(net, X, Ws):
    """A bound on the rounding error of the computed pre-activations: |G| is trusted to be
    nonzero (sign certain) when it exceeds 16 (d + H) eps times the magnitude it is computed
    from (Higham ch. 3)."""
    f = nw.forward(net, Ws, X)
    mags = [np.abs(f.Phi[l]) @ np.abs(Ws[l]) for l in range(net.H)]
    n = max(net.widths) + net.H
    return 16 * n * EPS * max(float(a.max()) if a.size else 0.0 for a in mags)


def _kink_free(inst) -> bool:
    net = network_of(inst)
    Ws = net.unflatten(np.asarray(inst.theta, float))
    X = np.asarray(inst.X, float)
    return nw.pre_activation_margin(net, Ws, X) > _rounding_bound(net, X, Ws)


def _decided(inst, attr):
    """True / False when decided (kink-free, or the exact certificate at exact zeros), None
    when a pre-activation is within rounding of 0 without being exactly 0."""
    if _kink_free(inst):
        return True
    c = stratum_certificate(inst)
    if c is None or c.kind == "unresolved":
        return None
    return bool(getattr(c, attr))


def _outputs_differentiable(inst) -> bool:
    return _decided(inst, "outputs_all_differentiable") is True


def _loss_differentiable(inst) -> bool:
    return _decided(inst, "differentiable") is True


OUTPUTS_DIFFERENTIABLE = Hypothesis(
    "differentiable",
    "theta is a differentiable point of theta -> Yhat(X, theta): every output Yhat_ic is "
    "differentiable (kink-free points, and points with pre-activations exactly 0 decided "
    "exactly by optimize.strata)",
    _outputs_differentiable)

LOSS_DIFFERENTIABLE = Hypothesis(
    "differentiable",
    "L is differentiable at theta (decided exactly at pre-activations that are 0)",
    _loss_differentiable)

DIFFERENTIABLE = OUTPUTS_DIFFERENTIABLE

_CASES_DIFF = ("generic", "zero_sample", "dead_unit", "zero_out", "dyadic", "stratum")


def _derivative_instances_of(holds):
    def instances(assumed):
        if assumed["differentiable"]:
            return network_instances(cases=_CASES_DIFF, acts=ACTS_STRATA).filter(holds)
        # violated: decided non-differentiable (never "cannot tell")
        return network_instances(cases=("kink", "stratum"), acts=("relu", "abs", "leaky:0.5",
                                                                  "leaky:0.2")).filter(
            lambda i: not holds(i) and _decided(i, "outputs_all_differentiable") is False)
    return instances


ACTS_STRATA = ("relu", "abs", "leaky:0.5", "leaky:0.2", "leaky:-0.5", "identity")


def _derivative_margin(lhs_of):
    @per_instance
    def conclusion(inst, point, B):
        net, Ws, X, _ = arrays(inst, B)
        rng = np.random.default_rng(zlib.crc32(B.to_float(np.asarray(inst.theta)).tobytes()))
        dW = [B.asarray(rng.normal(size=s)) for s in net.shapes]
        blocks = nw.d_blocks(net, Ws, X)
        margin = None
        for l in range(1, net.H + 2):
            only = [dW[j] if j == l - 1 else B.asarray(np.zeros(s))
                    for j, s in enumerate(net.shapes)]
            lhs = lhs_of(net, Ws, X, blocks, l, only)
            scale = float(np.max(np.abs(nw.vec(B.to_float(blocks[l - 1]))) if blocks[l - 1].size
                                 else 0.0)) * float(np.sum(np.abs(B.to_float(nw.vec(dW[l - 1])))))
            for side in (1, -1):
                rhs = nw.vec(nw.directional_derivative(net, Ws, X, only, side))
                m = close(lhs, rhs, scale, B, n_ops=blocks[l - 1].shape[1] + 2 * (net.H + 1),
                          what=f"layer {l}, {'right' if side > 0 else 'left'} derivative")
                margin = m if margin is None else margin.both(m)
        return margin
    return conclusion


def _lhs(net, Ws, X, blocks, l, dW):
    return blocks[l - 1] @ nw.vec(dW[l - 1])


def _lhs_doubled(net, Ws, X, blocks, l, dW):
    return 2 * (blocks[l - 1] @ nw.vec(dW[l - 1])) if l == 1 else blocks[l - 1] @ nw.vec(dW[l - 1])


def _lhs_previous_block(net, Ws, X, blocks, l, dW):
    # mutant: D^(l) evaluated without back-propagated weights (C^(l) replaced by Lambda only)
    f = nw.forward(net, Ws, X)
    if l == net.H + 1:
        return blocks[l - 1] @ nw.vec(dW[l - 1])
    Phi = f.Phi[l - 1]
    lam = f.Lam[l - 1]
    out = (lam * (Phi @ dW[l - 1])).sum(axis=1)
    return np.tile(out, net.d_y)


lemma1_derivative = claim("khk2019dw.lemma1.derivative", printed_at("4.1", "Lemma 1"),
    title="at differentiable points D^(l) is the Jacobian of vec(Yhat) in vec(W^(l))",
    statement="At any differentiable theta, d vec(Yhat(X, theta)) / d vec(W^(l)) = D^(l)",
    hypotheses=(ADMISSIBLE, OUTPUTS_DIFFERENTIABLE),
    conclusion=_derivative_margin(_lhs),
    instances=_derivative_instances_of(_outputs_differentiable),
    notes="Compared with exact one-sided directional derivatives from both sides along a "
          "random direction per layer (forward mode with the pattern of the side), "
          "so a kink shows as a difference between the sides.  Instances include points "
          "with pre-activations exactly 0 whose outputs are differentiable (zero outgoing "
          "weights, dead units, case stratum), decided exactly; there D^(l) uses the paper's "
          "Lambda (0 at a kink).  The reading 'L differentiable' is checked in "
          "khk2019dw.lemma1.derivative_loss_reading.",
    readings=("'differentiable theta' read as: theta -> Yhat(X, theta) is differentiable at "
              "theta (every output), the natural reading of a statement about "
              "d vec(Yhat) / d vec(W^(l))",),
    narrowed=("earlier versions read it as 'kink-free' (no live kinked pre-activation is 0), "
              "a strictly narrower reading; points on strata are now included",),
    mutants=(
        Mutant.drop("differentiable", "D^(l) is the derivative also at kinks (where the paper's "
                    "convention Lambda = 0 is one choice and the one-sided derivatives differ)"),
        Mutant.conclusion("doubled", MutantKind.PERTURBED_CONSTANT,
                          "d vec(Yhat) / d vec(W^(1)) = 2 D^(1)",
                          _derivative_margin(_lhs_doubled)),
        Mutant.conclusion("no_backprop", MutantKind.DROPPED_TERM,
                          "D^(l)_k without the back-propagated weights (C^(l) -> Lambda_l)",
                          _derivative_margin(_lhs_previous_block)),
    ),
)



lemma1_derivative_loss_reading = claim(
    "khk2019dw.lemma1.derivative_loss_reading", printed_at("4.1", "Lemma 1 (as used in Theorem 1)"),
    title="Lemma 1(ii) read with 'differentiable' = L differentiable at theta",
    statement="At any theta at which L is differentiable, d vec(Yhat(X, theta)) / d vec(W^(l)) "
              "= D^(l)",
    hypotheses=(ADMISSIBLE, LOSS_DIFFERENTIABLE),
    conclusion=_derivative_margin(_lhs),
    instances=_derivative_instances_of(_loss_differentiable),
    readings=("'differentiable theta' read as: L is differentiable at theta -- the reading "
              "under which Theorem 1 applies Lemma 1 at 'differentiable local minima of L'",),
    corrected=lemma1_derivative.replace(id="khk2019dw.lemma1.derivative_loss_reading"),
    erratum="Under this reading the lemma fails: L can be differentiable (even C^infinity) at "
            "theta while outputs are not, when kinks of samples on a unit's hyperplane cancel "
            "in L.  Witness (exact): d = (2, 1, 1) ReLU, X rows (0, 1), (0, -1), (1, 0), "
            "(1, 1), Y = (1, -1, 2, 0), theta = ((1, 0), 1): L is C^infinity at theta "
            "(optimize.strata decides it), yhat_1 = relu(v w_2) is not differentiable, and "
            "the one-sided derivatives in w_2 are (1, 0, 0, 1) and (0, -1, 0, 1) while "
            "D^(1) gives (0, 0, 0, 1).  Corrected: the reading 'every output differentiable'.",
    mutants=(
        Mutant.drop("differentiable", "D^(l) is the derivative also where L is not "
                    "differentiable"),
    ),
)
