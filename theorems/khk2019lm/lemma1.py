"""KHK2019LM Lemma 1 (§4.3, proof in App. A.3).

    For any theta, any eps >= 0, any S' finite subset of V[theta, eps] and any x,
    {f~_theta(x; alpha, eps, S) : alpha, S} = {f~_theta(x; alpha, eps, S) + f~_theta(x; alpha',
    eps, S') : alpha, alpha', S},  S ranging over the finite subsets of V[theta, eps].

The proof rests on two facts, checked here at random points of deep linear networks (some with
zero layers, where the perturbations open new directions) for generated S, S' in V[theta, eps]:
(i) linearity: f~(alpha, S) + f~(alpha', S') = f~([alpha, alpha'], S u S') (checked at random
alpha, alpha'); (ii) the output sets are spans, and span J~(S u S') = span J~(S) + span J~(S')
(equal numerical ranks and mutual inclusion).  Together: adding S' to the union over all S
changes nothing, because S u S' is again a finite subset of V.
"""

import numpy as np
from hypothesis import strategies as st

from proofcheck import Margin, Mutant, MutantKind
from proofcheck.induced import (DEFAULT_EPS, perturbable_basis, perturbation_set,
                                range_residual)

from . import claim, printed_at
from .instances import network, panel

SOURCE = printed_at("4.3", "Lemma 1")


@st.composite
def points(draw):
    kind = draw(st.sampled_from(("deep_linear", "deep_linear3")))
    seed = draw(st.integers(0, 2 ** 16))
    inst = panel(kinds=(kind,), losses=("squared",), seeds=(seed,))[0]
    net = network(inst)
    rng = np.random.default_rng(seed + 3)
    theta = net.from_transposed(rng.normal(size=net.n_params))     # the paper's W^{(l)}
    if draw(st.booleans()):          # zero hidden layers: theta = (0, ..., 0, W_out)
        P = net.unpack(theta)
        for k in P:
            if not k.startswith("Wout"):
                P[k] = np.zeros_like(P[k])
        theta = net.pack(P)
    return inst.replace(theta=theta)


def _sets(inst):
    net = network(inst)
    S_all = perturbation_set(net, inst.X, inst.theta, DEFAULT_EPS, limit=8)
    nonzero = [v for v in S_all if np.any(v)]
    S_prime = nonzero[: max(1, len(nonzero) // 2)] if nonzero else [S_all[0]]
    S = [S_all[0]] + nonzero[len(S_prime):]
    return net, S, S_prime


def lemma1_margin(inst, point, B, fixed_S=False, drop_prime=False):
    net, S, S_prime = _sets(inst)
    J_S = perturbable_basis(net, inst.X, inst.theta, DEFAULT_EPS, S)
    J_Sp = perturbable_basis(net, inst.X, inst.theta, DEFAULT_EPS, S_prime)
    J_union = perturbable_basis(net, inst.X, inst.theta, DEFAULT_EPS, S + S_prime)
    rng = np.random.default_rng(0)
    a, ap = rng.normal(size=J_S.shape[2]), rng.normal(size=J_Sp.shape[2])
    lhs = np.einsum("iak,k->ia", J_S, a) + (0 if drop_prime else
                                            np.einsum("iak,k->ia", J_Sp, ap))
    rhs = np.einsum("iak,k->ia", J_union, np.concatenate([a, ap]))
    scale = float(np.abs(J_union).max()) * (np.abs(a).sum() + np.abs(ap).sum())
    m = Margin(-float(np.abs(lhs - rhs).max()), 16 * J_union.shape[2] * 1.1e-16 * (1 + scale),
               "linearity", 0.0, "float64 rounding of the sums")
    if fixed_S:
        # mutant: no union over S -- the span of J(theta) alone already contains f~(S')
        J0 = net.jacobian(inst.X, inst.theta)
        cols = np.moveaxis(J_Sp, 2, 0)
        res, tol = range_residual(J0, cols)
        return m.both(Margin(-res, tol, res, 0.0, "inclusion residual"))
    cols_S, cols_Sp = np.moveaxis(J_S, 2, 0), np.moveaxis(J_Sp, 2, 0)
    r1, t1 = range_residual(J_union, np.concatenate([cols_S, cols_Sp]))
    r2, t2 = range_residual(np.concatenate([J_S, J_Sp], axis=2), np.moveaxis(J_union, 2, 0))
    return m.both(Margin(-r1, t1, r1, 0.0, "span(J~(S), J~(S')) in span J~(S u S')")).both(
        Margin(-r2, t2, r2, 0.0, "span J~(S u S') in span(J~(S), J~(S'))"))


lemma1 = claim("khk2019lm.lemma1", SOURCE,
    title="adding a fixed finite S' of V[theta, eps] does not change the perturbable model class",
    statement="For any theta, eps >= 0, S' subset_fin V[theta, eps] and x: {f~_theta(x; alpha, "
              "eps, S) : alpha, S subset_fin V} = {f~_theta(x; alpha, eps, S) + f~_theta(x; "
              "alpha', eps, S') : alpha, alpha', S subset_fin V}",
    conclusion=lemma1_margin,
    instances=lambda assumed: points(),
    high_precision=False,
    notes="eps = 2^-10. A set identity over all finite subsets of V is not enumerable; checked "
          "are the two facts of its proof for generated S, S' (linearity and the span of a union).",
    mutants=(Mutant.conclusion("no_union", MutantKind.DROPPED_TERM,
                               "the identity with S fixed to {0} (no union over S): span "
                               "J(theta) would contain f~(S')",
                               lambda i, p, B: lemma1_margin(i, p, B, fixed_S=True)),
             Mutant.conclusion("dropped_prime", MutantKind.DROPPED_TERM,
                               "f~(alpha, S) = f~([alpha, alpha'], S u S') (the S' term "
                               "dropped)", lambda i, p, B: lemma1_margin(i, p, B,
                                                                         drop_prime=True))),
)
