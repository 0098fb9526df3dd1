"""KHK 2019 (DW), Corollary 1 (Section 5.2): Theorem 2 for local minima of L restricted to I.

I = {theta' : W^(l+1)_{k',k} = 0 for l in {t+1..H-1}, (k', k) in S^(l) x (not S^(l+1))}; every
differentiable local minimum theta in Theta_{d_y,t} of L|_I satisfies the Theorem 2 bound with
D^(l)_k replaced by Dhat^(l)_k (the Jacobian in the free entries of theta in I: for l >= t+2 and
k not in S^(l), the columns j in S^(l-1) of D^(l)_k are dropped) and N by Nhat.

Instances: H in {2, 3}, t <= H-2, layers t+1..H with d_y or more identity units first (they act
linearly at every theta: S^(l)) and ReLU / absolute-value units after them; the zero pattern of
I is fixed by the finder (``free`` mask of :func:`proofcheck.optimize.piecewise.find_points`),
so the certificate is first/second order *within I*.
"""


import numpy as np
from hypothesis import strategies as st

from proofcheck import Hypothesis, Margin, Mutant, MutantKind, PointKind
from proofcheck import networks as nw
from proofcheck.evaluate import as_point
from proofcheck.optimize.piecewise import landscape_for, value_at_point

from . import claim, printed_at
from .assumptions import ADMISSIBLE, network_of
from .instances import build, problem_data
from .theorem2 import _phibar_blocks, subsequences, without_theta


def lin_sets(net, t):
    """S^(l) for l = t+1..H: the identity units (0-based), by architecture."""
    return {l: [k for k in range(net.widths[l]) if net.linear_units(l)[k]]
            for l in range(t + 1, net.H + 1)}


def free_mask(net, t):
    """Free entries of theta in I (False: fixed to 0)."""
    S = lin_sets(net, t)
    Ws = [np.ones(s, bool) for s in net.shapes]
    for l in range(t + 2, net.H + 1):           # W^(l) with l = (l-1) + 1, l-1 in t+1..H-1
        for kp in S[l - 1]:
            for k in range(net.widths[l]):
                if k not in S[l]:
                    Ws[l - 1][kp, k] = False
    return net.flatten(Ws).astype(bool)


def _in_theta(inst):
    net = network_of(inst)
    t = int(inst.t)
    S = lin_sets(net, t)
    return all(len(S[l]) >= net.d_y for l in range(t + 1, net.H + 1))


THETA_I = Hypothesis("theta in Theta_{d_y,t}",
                     "the local minimum of L|_I induces (d_y, t) weakly separated linear units "
                     "(here: d_y identity units in each layer t+1..H and the zero pattern of I)",
                     _in_theta)


@st.composite
def _problems(draw, holds):
    h = 2                       # H = 3 multiplies the subsequences S (and the run time) by 2
    t = draw(st.integers(0, h - 2))
    # d_{H+1} is free in Corollary 1: two outputs first (the simplest draw), one output too
    d_y = draw(st.sampled_from((2, 1)))
    # few parameters per sample (m >= 6, d_x <= 2) so that L > 0 at the local minima found:
    # with L = 0 the residual vanishes and every bound holds trivially; d_y + 1 units per
    # layer: d_y identity units (S^(l)) and one nonlinear unit outside them (zeros of I)
    widths = [draw(st.integers(1, 2))] + [d_y + 1] * h + [d_y]
    layers = []
    for l in range(1, h + 1):
        if l <= t:
            layers.append(draw(st.sampled_from(("relu", "abs"))))
        elif holds:
            layers.append(tuple(["identity"] * d_y + [draw(st.sampled_from(("relu", "abs")))
                                                       for _ in range(widths[l] - d_y)]))
        else:
            layers.append("relu")
    inst = build(draw(st.integers(0, 2 ** 31 - 1)), widths, layers, draw(st.integers(6, 9)),
                 "generic")
    f = inst.fields()
    f["start"] = f.pop("theta")
    f["t"] = t
    return inst.__class__(**f)


def _landscape(inst):
    net, X, Y = problem_data(inst)
    free = free_mask(net, int(inst.t))
    return landscape_for(net, X, Y, initial_points=(np.asarray(inst.start, float),), free=free)


def _dhat(net, t, restricted=True):
    free = free_mask(net, t)

    def blocks_of(net_, Ws, X, pattern):
        blocks = nw.d_block_list(net_, Ws, X, pattern=pattern)[:-1]
        if not restricted:
            return blocks
        out, off = [], 0
        for B in blocks:
            cols = free[off:off + B.shape[1]]
            off += B.shape[1]
            out.append(B[:, cols])
        return out
    return blocks_of


def _bound(inst, point, B, restricted=True, doubled=False):
    net, X, Y = problem_data(inst)
    t = int(inst.t)
    dhat = _dhat(net, t, restricted)
    margin = None
    for S in subsequences(t, net.H):
        def blocks_of(net_, Ws, Xm, pattern, S=S):
            return _phibar_blocks(S)(net_, Ws, Xm, pattern) + dhat(net_, Ws, Xm, pattern)
        v = value_at_point(net, X, Y, point, blocks_of=blocks_of)
        tol = v.tol
        with as_point(point).backend().context():
            bound = v.value
            if doubled:
                v0 = value_at_point(net, X, Y, point, blocks_of=_phibar_blocks(S))
                bound = v0.value - 2 * (v0.value - v.value)
                tol += 2 * v0.tol
            gap = bound - v.L
        m = Margin(float(gap), tol, float(v.L), float(bound), v.tol_source + f"; S = {S}")
        margin = m if margin is None else margin.both(m)
    return margin


corollary1 = claim("khk2019dw.corollary1", printed_at("5.2", "Corollary 1"),
    title="Theorem 2 for local minima of L restricted to the zero pattern I",
    statement="Every differentiable local minimum theta in Theta_{d_y,t} of L|_I satisfies "
              "L(theta) <= 1/2||P_N[Phi(S)] Y||^2 - sum_l sum_k 1/2||P[Nhat^(l)_k P_N[Phibar(S)] "
              "Dhat^(l)_k] vec Y||^2 for every subsequence S of (t..H)",
    hypotheses=(ADMISSIBLE, THETA_I),
    conclusion=_bound,
    instances=lambda assumed: _problems(assumed["theta in Theta_{d_y,t}"]),
    point_kind=PointKind.LOCAL_MIN,
    landscape=_landscape,
    notes="Right-hand side as 1/2||P_N[[Phibar(S), Dhat]] vec Y||^2 (Lemmas 2-3).  Local "
          "minima are certified within I (gradient and Hessian in the free entries).  "
          "Observation: a mutant using the full D instead of Dhat was NOT caught: at every "
          "restricted local minimum found, the gradient along the fixed entries vanished too "
          "(so the unrestricted bound held); we have no proof that this is general.",
    mutants=(
        Mutant.conclusion("improvement_doubled", MutantKind.PERTURBED_CONSTANT,
                          "the improvement term counted twice",
                          lambda inst, point, B: _bound(inst, point, B, doubled=True)),
        without_theta("networks without linear units in layers t+1..H"),
    ),
)
