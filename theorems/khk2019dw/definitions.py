"""KHK 2019 (DW), Definitions 1 and 2 (Section 5.1) and the decomposition A.3 of the proof of
Theorem 2.

Membership tests: :func:`proofcheck.networks.separated_linear_units` (exact: zero weights and
linear action are tested with ``==``).  Definition 1 only asks for linear action *at theta* on
the training inputs (LM's version asks for it on a ball around theta).

Printed facts checked here:

* "For standard deep nonlinear neural networks, all parameter vectors theta are in
  Theta_{d_{H+1},H}" (after Definition 1);
* "If d_{H+1} <= min{d_l}, every local minimum theta for deep linear networks is ... in
  Theta_{d_{H+1},0}" (after Theorem 2; checked at every theta);
* Theta^strong_{n,t} is contained in Theta_{n,t} (Definition 2 adds a condition);
* A.3: vec(Yhat) = sum_{l=t}^H (I (x) Phi^(l)) vec(Rbar^(l+1) A^(l+2) ... A^(H+1)) with the
  partition of W^(l) by the sets S^(l).  The check shows it needs conditions i-ii only.
"""

import numpy as np
from hypothesis import strategies as st

from proofcheck import Hypothesis, Instance, Margin, Mutant, MutantKind
from proofcheck import networks as nw

from . import claim, printed_at
from .assumptions import ADMISSIBLE, acts_text, network_of, per_instance
from .instances import arrays, close, data_for, network_instances

EXACT = "exact (set membership, exact zero tests)"


def structured(seed, H, t, widths, m, *, strong=False, n_lin=1, zero_cond3=True):
    """theta with linear-acting units (identity units first in each layer t+1..H), condition
    iii enforced (W^(l+1)_{S^(l), not S^(l+1)} = 0); ``strong`` also zeroes
    W^(l+1)_{not S^(l), S^(l+1)} (Definition 2's extra condition for l <= H-1)."""
    rng = np.random.default_rng(seed)
    layers = []
    for l in range(1, H + 1):
        if l <= t:
            layers.append(str(rng.choice(["relu", "abs", "leaky:0.2"])))
        else:
            k = min(n_lin, widths[l])
            layers.append(tuple(["identity"] * k + [str(rng.choice(["relu", "abs"]))
                                                    for _ in range(widths[l] - k)]))
    inst = Instance(widths=tuple(widths), acts=acts_text(layers), case="structured", t=t)
    net = network_of(inst)
    Ws = net.random_weights(rng)
    for l in range(t + 1, H):                    # condition iii between layers l and l+1
        kl, kn = min(n_lin, widths[l]), min(n_lin, widths[l + 1])
        if zero_cond3:
            Ws[l][:kl, kn:] = 0.0
        if strong:
            Ws[l][kl:, :kn] = 0.0
    X, Y = rng.normal(size=(m, widths[0])), rng.normal(size=(m, widths[-1]))
    return inst.replace(X=X, Y=Y, theta=net.flatten(Ws))


@st.composite
def structured_instances(draw, strong=None, zero_cond3=True):
    H = draw(st.integers(1, 3))
    t = draw(st.integers(0, H))
    widths = [draw(st.integers(1, 3))] + [draw(st.integers(1, 3)) for _ in range(H)] + \
        [draw(st.integers(1, 2))]
    s = draw(st.booleans()) if strong is None else strong
    return structured(draw(st.integers(0, 2 ** 31 - 1)), H, t, widths, draw(st.integers(2, 5)),
                      strong=s, n_lin=draw(st.integers(1, 2)), zero_cond3=zero_cond3)


def _member(inst, n, t, strong=False):
    net, Ws, X, _ = data_for(inst)
    return nw.separated_linear_units(net, Ws, X, n, t, strong=strong) is not None


def _membership_margin(n_of, t_of):
    @per_instance
    def conclusion(inst, point, B):
        net = network_of(inst)
        ok = _member(inst, n_of(net), t_of(net))
        return Margin(0.0 if ok else -1.0, 0.0, None, None, EXACT)
    return conclusion


every_theta_at_H = claim(
    "khk2019dw.definition1.t_equals_H", printed_at("5.1", "Definition 1 (text after it)"),
    title="every theta is in Theta_{d_y,H}",
    statement="For standard deep nonlinear neural networks, all parameter vectors theta are in "
              "Theta_{d_{H+1},H}",
    hypotheses=(ADMISSIBLE,),
    conclusion=_membership_margin(lambda net: net.d_y, lambda net: net.H),
    instances=lambda assumed: network_instances(acts=("relu", "abs", "leaky:0.2")),
    notes="S^(H+1) = the outputs, which act linearly by definition.",
    mutants=(
        Mutant.conclusion("t_H_minus_1", MutantKind.PERTURBED_CONSTANT,
                          "every theta is in Theta_{d_y,H-1}",
                          _membership_margin(lambda net: net.d_y, lambda net: net.H - 1)),
    ),
)


def _linear_instances(assumed):
    base = network_instances(acts=("identity",), per_unit=False)
    if assumed["d_y<=min d_l"]:
        return base.filter(lambda i: network_of(i).d_y <= min(network_of(i).widths[1:-1]))
    return base.filter(lambda i: network_of(i).d_y > min(network_of(i).widths[1:-1]))


DY_LE = Hypothesis("d_y<=min d_l", "d_{H+1} <= min_l d_l",
                   lambda i: network_of(i).d_y <= min(network_of(i).widths[1:-1]))
LINEAR_NET = Hypothesis("linear", "all activations are linear (deep linear network)",
                        lambda i: network_of(i).is_linear)

deep_linear_member = claim(
    "khk2019dw.definition1.deep_linear", printed_at("5.2", "text after Remark 1"),
    title="deep linear networks with d_y <= min d_l: every theta is in Theta_{d_y,0}",
    statement="If d_{H+1} <= min{d_l : 1 <= l <= H}, every theta of a deep linear network is in "
              "Theta_{d_{H+1},0}",
    hypotheses=(LINEAR_NET, DY_LE),
    conclusion=_membership_margin(lambda net: net.d_y, lambda net: 0),
    instances=_linear_instances,
    notes="Printed for local minima; checked at every theta (take S^(l) = all units).",
    mutants=(Mutant.drop("d_y<=min d_l", "also with a bottleneck narrower than d_y"),),
)


# --- Definition 2 -------------------------------------------------------------------------------

@per_instance
def _strong_in_weak(inst, point, B, reverse=False):
    t = int(inst.t)
    net = network_of(inst)
    bad = False
    for n in range(1, max(net.widths[1:]) + 1):
        s, w = _member(inst, n, t, strong=True), _member(inst, n, t)
        bad = bad or ((w and not s) if reverse else (s and not w))
    return Margin(-1.0 if bad else 0.0, 0.0, None, None, EXACT)


def _reverse(inst, point, B):
    return per_instance(lambda i, p, b: _strong_in_weak.__wrapped__(i, p, b, True))(
        inst, point, B)


strong_is_stronger = claim("khk2019dw.definition2.stronger", printed_at("5.2", "Definition 2"),
    title="strongly separated linear units are weakly separated",
    statement="Theta^strong_{n,t} is contained in Theta_{n,t} (Definition 2 = conditions i-iii "
              "of Definition 1 plus Phi^(l) W^(l+1)_{.,k} = sum_{k' in S^(l)} Phi^(l)_{.,k'} "
              "W^(l+1)_{k',k} for k in S^(l+1), l not in {H, H+1})",
    conclusion=_strong_in_weak,
    instances=lambda assumed: structured_instances(),
    notes="Checked for every n in 1..max width at structured thetas (half of them built to be "
          "strongly separated); Definition 2 read with 'l not in {H, H+1}' ([R]).",
    mutants=(Mutant.conclusion("reverse", MutantKind.FLIPPED_INEQUALITY,
                               "Theta_{n,t} contained in Theta^strong_{n,t}", _reverse),),
)


# --- A.3 ---------------------------------------------------------------------------------------

def a3_terms(net, Ws, X, sets, t, *, with_C=True):
    """The terms Phi^(l) Rbar^(l+1) A^(l+2) ... A^(H+1), l = t..H (0-based unit indices)."""
    f = nw.forward(net, Ws, X)
    H = net.H
    S = {l: sets[l - t - 1] for l in range(t + 1, H + 2)}

    def A(l):       # W^(l)_{S^(l-1), S^(l)} for l >= t+2
        return Ws[l - 1][np.ix_(S[l - 1], S[l])]

    def tail(l0):   # A^(l0) ... A^(H+1)
        M = None
        for l in range(l0, H + 2):
            M = A(l) if M is None else M @ A(l)
        return M
    terms = []
    first = f.Phi[t] @ Ws[t][:, S[t + 1]]
    terms.append(first if t + 2 > H + 1 else first @ tail(t + 2))
    if with_C:
        for l in range(t + 1, H + 1):
            rest = [k for k in range(net.widths[l]) if k not in S[l]]
            if not rest:
                continue
            C = Ws[l][np.ix_(rest, S[l + 1])]
            term = f.Phi[l][:, rest] @ C
            terms.append(term if l + 2 > H + 1 else term @ tail(l + 2))
    return terms, f.Yhat


def _a3(inst, point, B, with_C=True):
    return per_instance(lambda i, p, b: _a3_one(i, p, b, with_C))(inst, point, B)


def _a3_one(inst, point, B, with_C=True):
    net, Ws, X, _ = arrays(inst, B)
    t = int(inst.t)
    netf, Wf, Xf, _ = data_for(inst)
    sets = nw.separated_linear_units(netf, Wf, Xf, 1, t)
    if sets is None:
        raise ValueError("instance generator bug: theta has no separated linear units")
    terms, Yhat = a3_terms(net, Ws, X, sets, t, with_C=with_C)
    total = sum(terms[1:], terms[0])
    scale = float(sum(np.max(np.abs(B.to_float(T))) for T in terms))
    return close(total, Yhat, scale, B, n_ops=sum(net.widths) * (net.H + 2))


THETA_1T = Hypothesis("theta in Theta_{1,t}",
                      "theta induces (1, t) separated linear units (conditions i-iii)",
                      lambda inst: _member(inst, 1, int(inst.t)))

a3 = claim("khk2019dw.theorem2.a3", printed_at("A.2", "proof of Theorem 2", "A.3"),
    title="Yhat decomposed along the separated linear units (A.3)",
    statement="vec(Yhat) = sum_{l=t}^H (I_{d_y} (x) Phi^(l)) vec(Rbar^(l+1) A^(l+2) ... "
              "A^(H+1)), Rbar^(t+1) = [A^(t+1); C^(t+1)], Rbar^(l) = [0; C^(l)] (l >= t+2), "
              "W^(l) = [[A, xi], [C, B]] partitioned by S^(l-1), S^(l)",
    hypotheses=(THETA_1T,),
    conclusion=_a3,
    instances=lambda assumed: structured_instances(),
    notes="Holds at every theta in Theta_{1,t}; a companion check shows condition iii "
          "(xi = 0) is not needed for this identity (khk2019dw.theorem2.a3_without_iii).",
    mutants=(Mutant.conclusion("without_C", MutantKind.DROPPED_TERM,
                               "vec(Yhat) = (I (x) Phi^(t)) vec(Rbar^(t+1) A^(t+2)..A^(H+1))",
                               lambda inst, point, B: _a3(inst, point, B, with_C=False)),),
)


def _a3_weak_one(inst, point, B, with_C=True):
    """A.3 with sets satisfying conditions i-ii only (condition iii ignored)."""
    net, Ws, X, _ = arrays(inst, B)
    t = int(inst.t)
    netf, Wf, Xf, _ = data_for(inst)
    lin = nw.linear_acting_units(netf, Wf, Xf)
    sets = [[k for k in range(netf.widths[l]) if lin[l - 1][k]] for l in range(t + 1, netf.H + 1)]
    sets.append(list(range(netf.d_y)))
    terms, Yhat = a3_terms(net, Ws, X, sets, t, with_C=with_C)
    total = sum(terms[1:], terms[0])
    scale = float(sum(np.max(np.abs(B.to_float(T))) for T in terms))
    return close(total, Yhat, scale, B, n_ops=sum(net.widths) * (net.H + 2))


a3_without_iii = claim(
    "khk2019dw.theorem2.a3_without_iii",
    printed_at("A.2", "proof of Theorem 2 (our observation)", "A.3"),
    title="(observation) A.3 needs only conditions i-ii",
    statement="The decomposition A.3 holds whenever the units of S^(l) act linearly on X "
              "(condition ii), without W^(l+1)_{S^(l), not S^(l+1)} = 0 (condition iii); "
              "condition iii is used only for the perturbation argument of Lemma 4",
    conclusion=per_instance(_a3_weak_one),
    instances=lambda assumed: structured_instances(zero_cond3=False),
    mutants=(Mutant.conclusion("without_C", MutantKind.DROPPED_TERM,
                               "only the l = t term (C blocks dropped)",
                               per_instance(lambda i, p, b: _a3_weak_one(i, p, b, False))),),
)
