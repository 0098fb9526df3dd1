"""KHK2019LM §3.2.2, Examples 1-3 (and footnote 1).

Example 1 (basis function models). For f(x; theta) = sum_k theta_k phi(x)_k:
f_theta(x; alpha) = f(x; alpha), Omega is empty, and every critical point of L is a global
minimum of L.

Example 2 (overparameterized networks, footnote 1). f(x; theta) = W phi(x; u), theta = vec(W),
x_i = [x_raw_i; 1], ||x_raw_i|| = 1, x_raw_i^T x_raw_i' < 1 - delta.  Footnote 1: rows
[x_raw_i^T, eps - 1] (0 < eps <= delta) in W^{(1)} and, for l >= 2, "W^{(l)}_{jj} != 0 and
W^{(l)}_{j'j} = 0 for j' != j" guarantee rank [phi(x_i; u)]_i >= m; then every critical point
theta (with this u) is a global minimum over (theta, u): inf_alpha L_theta(alpha) =
inf_{f_1..f_m} sum_i lambda_i l(f_i, y_i).

As printed the footnote is wrong: a negative diagonal entry W^{(l)}_{jj} < 0 multiplies the only
positive activation of unit j (eps at its own sample) by a negative number and the ReLU kills
it: phi loses rank.  Corrected (verified): W^{(l)}_{jj} > 0.

Example 3 (skip connections). f = sum_{l in I} W^{(l+1)} h^{(l)}(x; u) with theta = (vec
W^{(l+1)} for l in I, u).  "Assumption 2 is automatically satisfied because f =
(d_{vec W^{(H+1)}} f) vec W^{(H+1)}" -- false as soon as I has another element (the other skip
terms are missing); the g that works is g = (vec W^{(l+1)} for all l in I, 0).  The conclusion,
at every critical point: L(theta) = inf_alpha L^{skip}_theta(alpha) <= the best value of linear
predictors on the learned representations h^{(l)}, l in I.
"""

import numpy as np
from proofcheck.lazy import lazy_import
from hypothesis import strategies as st

from proofcheck import (Hypothesis, Identity, Instance, Margin, Mutant, MutantKind,
                        PointKind)
from proofcheck.exact_backends import ExactBackend
from proofcheck.induced import pointwise_infimum
from proofcheck.linalg import numerical_rank
from proofcheck.symbolic import SizeSweep, symbol_matrix, symbol_vector, vec

from . import claim, printed_at
from ._constructions import footnote1_network, separation_delta
from ._declare import at_network_points, best_linear, bracket_tol, certified, equality
from .instances import (A1, MAIN_LOSSES, last_layer_landscape,
                        net_instance, network, panel)

sp = lazy_import("sympy")   # loaded on first use (startup cost)

# --- Example 1 --------------------------------------------------------------------------------

SWEEP = SizeSweep(k=(1, 3), d_y=(1, 2))


def basis_identity(s, power=1):
    """f_theta(x; alpha) = sum_k alpha_k d_k f(x; theta) vs f(x; alpha) for f = Theta phi."""
    Th, Al = symbol_matrix("T", s["d_y"], s["k"]), symbol_matrix("A", s["d_y"], s["k"])
    phi = symbol_vector("p", s["k"])
    f = lambda M: M.applyfunc(lambda e: e ** power) * phi
    ft = f(Th)
    induced = sp.zeros(s["d_y"], 1)
    for t, a in zip(vec(Th), vec(Al)):
        induced += a * ft.diff(t)
    return induced.applyfunc(sp.expand), f(Al)


def _ex1_instances(assumed):
    out = []
    if not assumed["A1"]:
        # two samples, six weights: every residual can sit at any critical point of the
        # double well, so L has non-global critical points
        return (net_instance((3, 2), "identity", "double_well", 0, m=2),)
    for name in MAIN_LOSSES:
        out.append(net_instance((3, 2), "identity", name, 0))
    return tuple(out)


def global_basis(inst, point, B):
    q, lin = certified(inst, point), best_linear(inst)
    return equality(q.L, lin, bracket_tol(q, lin))


example1 = at_network_points("khk2019lm.example1", printed_at("3.2.2", "Example 1"),
    PointKind.CRITICAL,
    title="basis function models: the gradient basis model is the model, every critical point "
          "is global",
    statement="For f(x; theta) = sum_k theta_k phi(x)_k with any fixed phi: f_theta(x; alpha) = "
              "f(x; alpha), Omega is empty, and every critical point of L is a global minimum",
    hypotheses=(A1,),
    identities=(Identity("gradient_basis_is_model", "sum_k alpha_k d_k f(x; theta) = "
                         "f(x; alpha) for f = Theta phi(x)", basis_identity, SWEEP),),
    conclusion=global_basis,
    instances=_ex1_instances,
    notes="Numerically: f = W x with x = phi(x_raw) (a Network with no hidden layer), critical "
          "points from Newton on grad L = 0 and descent.",
    mutants=(
        Mutant.identity("squared_parameters", MutantKind.OTHER,
                        "f = sum_k theta_k^2 phi_k (not linear in theta)",
                        "gradient_basis_is_model", lambda s: basis_identity(s, power=2)),
        Mutant.drop("A1", "a non-convex loss: critical points of L need not be global"),
    ),
)


# --- Example 2, footnote 1 --------------------------------------------------------------------

POSITIVE = Hypothesis("positive_diagonal", "W^{(l)}_{jj} > 0 for l >= 2 (corrected footnote)",
                      lambda i: all(np.all(np.asarray(d) > 0) for d in i.diagonals))


@st.composite
def footnote_instances(draw, positive=True, sign_any=False):
    seed = draw(st.integers(0, 2 ** 16))
    rng = np.random.default_rng(seed)
    m, d, H = int(rng.integers(2, 5)), int(rng.integers(2, 4)), int(rng.integers(2, 4))
    X_raw = rng.normal(size=(m, d))
    X_raw /= np.linalg.norm(X_raw, axis=1, keepdims=True)
    delta = separation_delta(X_raw)
    eps = delta * float(rng.uniform(0.25, 1.0))
    mags = rng.uniform(0.5, 2.0, size=(H - 1, m))
    if positive:
        signs = np.ones_like(mags)
    else:
        signs = rng.choice([-1.0, 1.0], size=mags.shape)
        signs[int(rng.integers(0, H - 1)), int(rng.integers(0, m))] = -1.0   # at least one < 0
    return Instance(X_raw=X_raw, eps=eps, delta=delta,
                    diagonals=tuple(tuple(float(v) for v in row) for row in signs * mags), m=m)


def _exact_phi_rank(inst):
    """rank [phi(x_i; u)] of footnote 1's construction in exact rationals (the instance as the
    exact rational numbers of the certifying rungs): ReLU and products only, so Phi is exact."""
    def q(v):
        return sp.Rational(v.as_fraction()) if hasattr(v, "as_fraction") else sp.nsimplify(v)
    Xr = sp.Matrix([[q(v) for v in row] for row in np.asarray(inst.X_raw, dtype=object)])
    m = Xr.rows
    h = Xr.row_join(sp.ones(m, 1))
    mats = [Xr.row_join(sp.ones(m, 1) * (q(inst.eps) - 1))]
    mats += [sp.diag(*[q(v) for v in dg]) for dg in inst.diagonals]
    for M in mats:
        h = (h * M.T).applyfunc(lambda a: a if a > 0 else sp.Integer(0))
    return int(h.rank())


def rank_at_least_m(inst, point, B):
    if isinstance(B, ExactBackend):        # the exact rung: the rank decided exactly
        r, m = _exact_phi_rank(inst), int(inst.m)
        return Margin(r - m, 0, r, m, "exact rank (rational arithmetic) of the activation "
                      "matrix")
    _, _, Phi = footnote1_network(inst.X_raw, inst.eps, inst.diagonals)
    r = int(numerical_rank(Phi, "lapack"))
    return Margin(float(r - inst.m), 0.0, r, inst.m, "numerical rank (LAPACK cutoff) of the "
                  "exactly-diagonal activation matrix")


footnote_corrected = claim(
    "khk2019lm.example2.footnote1", printed_at("3.2.2", "Example 2, footnote 1"),
    title="footnote 1's construction gives rank m (positive diagonals)",
    statement="With rows [x_raw_i^T, eps - 1] (0 < eps <= delta) in W^{(1)} and diagonal "
              "W^{(l)} with W^{(l)}_{jj} > 0 for l >= 2: rank [phi(x_i; u)]_{i=1}^m >= m",
    hypotheses=(POSITIVE,),
    conclusion=rank_at_least_m,
    instances=lambda assumed: footnote_instances(positive=assumed["positive_diagonal"]),
    high_precision=True,        # the exact rung decides the rank exactly
    mutants=(Mutant.drop("positive_diagonal", "a negative diagonal entry (the printed "
                                              "'W_jj != 0')"),
             Mutant.conclusion("rank_m_plus_1", MutantKind.PERTURBED_CONSTANT,
                               "rank [phi(x_i; u)] >= m + 1",
                               lambda i, p, B: rank_at_least_m(i.replace(m=i.m + 1), p, B))),
)

footnote1 = claim("khk2019lm.example2.footnote1", printed_at("3.2.2", "Example 2, footnote 1"),
    title="footnote 1's construction gives rank m (as printed: nonzero diagonals)",
    statement="Choose the i-th row of W^{(1)} to be [x_raw_i^T, eps - 1] with 0 < eps <= delta; "
              "then choose W^{(l)} for l >= 2 such that W^{(l)}_{jj} != 0 and W^{(l)}_{j'j} = 0 "
              "for j' != j. This guarantees rank([phi(x_i; u)]_{i=1}^m) >= m",
    conclusion=rank_at_least_m,
    instances=lambda assumed: footnote_instances(positive=False),
    high_precision=True,        # the exact rung decides the rank exactly
    corrected=footnote_corrected,
    erratum="with a ReLU, W^{(l)}_{jj} < 0 maps unit j's only positive activation (eps, at "
            "sample j) to relu(W_jj * eps) = 0: column j of phi vanishes and the rank drops "
            "below m. The diagonal entries must be positive.",
)


def _ex2_instances(assumed):
    """Footnote 1's u (corrected, positive diagonals; or printed with a negative one when the
    hypothesis is dropped), random targets; theta = vec(W) free."""
    out = []
    for name in MAIN_LOSSES:
        rng = np.random.default_rng(11)
        m, d = 4, 2
        X_raw = rng.normal(size=(m, d))
        X_raw /= np.linalg.norm(X_raw, axis=1, keepdims=True)
        eps = separation_delta(X_raw) / 2
        diag = np.array([1.5, 0.7, 1.2, 0.9]) * (1 if assumed["positive_diagonal"]
                                                 else np.array([1, -1, 1, 1]))
        X, mats, _ = footnote1_network(X_raw, eps, [diag])
        inst = net_instance((d + 1, m, m, 2), "relu", name, 3, X=X)
        net = network(inst)
        P = net.unpack(np.zeros(net.n_params))
        P["W1"], P["W2"] = mats[0].T, mats[1].T      # the paper's W h: blocks transposed
        out.append(inst.replace(base=net.pack(P), diagonals=(tuple(diag),)))
    return tuple(out)


def pointwise_global(inst, point, B, weights="given"):
    q = certified(inst, point)
    target = pointwise_infimum(inst.Y, inst.loss, inst.weights if weights == "given" else None)
    tol = q.rounding + q.resolution
    return Margin(-abs(q.L - target), tol, q.L, target,
                  "float64 rounding + certificate resolution; inf over free outputs in closed "
                  "form (0, or sum lambda_i H(y_i) for cross-entropy)")


example2 = at_network_points("khk2019lm.example2", printed_at("3.2.2", "Example 2"),
    PointKind.CRITICAL,
    title="with footnote 1's u, every critical point in theta = vec(W) is a global minimum "
          "over all outputs",
    statement="Every critical point theta (with this u) is a global minimum of the whole set of "
              "trainable parameters (theta, u): inf_alpha L_theta(alpha) = inf_{f_1..f_m} "
              "sum_i lambda_i l(f_i, y_i)",
    hypotheses=(A1, POSITIVE),
    conclusion=pointwise_global,
    instances=_ex2_instances,
    landscape=last_layer_landscape,
    notes="Checked with the corrected footnote (positive diagonals), H = 2, n = m = 4.",
    mutants=(Mutant.drop("positive_diagonal", "the printed footnote with a negative diagonal "
                                              "entry: phi has rank < m"),
             Mutant.conclusion("uniform_weights", MutantKind.DROPPED_TERM,
                               "the infimum over outputs with lambda_i = 1/m instead of the "
                               "given weights",
                               lambda i, p, B: pointwise_global(i, p, B, weights="uniform"))),
)


# --- Example 3 --------------------------------------------------------------------------------

SKIP_SWEEP = SizeSweep(d_x=(1, 2), d_h=(1, 2), d_y=(1, 2))


def skip_identity(s, printed=True):
    """f = W2 h1 + W3 h2 (skips from layers 1 and 2 = H), h1 = tanh(U1 x), h2 = tanh(U2 h1)."""
    x = symbol_vector("x", s["d_x"])
    U1, U2 = symbol_matrix("U", s["d_h"], s["d_x"]), symbol_matrix("V", s["d_h"], s["d_h"])
    W2, W3 = symbol_matrix("A", s["d_y"], s["d_h"]), symbol_matrix("B", s["d_y"], s["d_h"])
    h1 = (U1 * x).applyfunc(sp.tanh)
    h2 = (U2 * h1).applyfunc(sp.tanh)
    f = W2 * h1 + W3 * h2
    rhs = sp.zeros(s["d_y"], 1)
    blocks = (W3,) if printed else (W2, W3)
    for W in blocks:
        for w in vec(W):
            rhs += w * f.diff(w)
    return f, rhs


skip_corrected = claim("khk2019lm.example3.assumption2", printed_at("3.2.2", "Example 3"),
    title="skip networks satisfy Assumption 2 with g = all skip weights",
    statement="f = sum_{l in I} (d_{vec W^{(l+1)}} f) vec W^{(l+1)}, so Assumption 2 holds with "
              "g = (vec W^{(l+1)} for l in I, 0)",
    identities=(Identity("euler_skip", "f = sum_{l in I} (d_{vec W^{(l+1)}} f) vec W^{(l+1)}",
                         lambda s: skip_identity(s, printed=False), SKIP_SWEEP,
                         as_printed=False),),
    mutants=(Mutant.identity("last_only", MutantKind.DROPPED_TERM,
                             "only the last skip block (the printed reason)", "euler_skip",
                             lambda s: skip_identity(s, printed=True)),),
)

skip_assumption2 = claim("khk2019lm.example3.assumption2", printed_at("3.2.2", "Example 3"),
    title="skip networks satisfy Assumption 2 (the printed reason)",
    statement="Assumption 2 is automatically satisfied because f(x; theta) = "
              "(d_{vec(W^{(H+1)})} f(x; theta)) vec(W^{(H+1)})",
    identities=(Identity("euler_skip", "f = (d_{vec W^{(H+1)}} f) vec W^{(H+1)}",
                         lambda s: skip_identity(s, printed=True), SKIP_SWEEP),),
    corrected=skip_corrected,
    erratum="with a skip from a layer l < H the term W^{(l+1)} h^{(l)} is missing from "
            "(d_{vec W^{(H+1)}} f) vec W^{(H+1)}; the g of Assumption 2 must carry every skip "
            "block (and the text's 'skip connection from the (l-1)th layer' is h^{(l)} in the "
            "formula).",
)


def skip_representations(inst, point, B, flip=False, equal=False):
    net, q = network(inst), certified(inst, point)
    _, hs = net.hidden(inst.X, q.theta)
    lin = best_linear(inst, np.hstack([np.asarray(hs[l], float) for l in net.skip]))
    tol = bracket_tol(q, lin)
    src = "float64 rounding + certificate resolution + solver bracket"
    if flip:
        return Margin.strictly_less(lin.value, q.L, tol=tol, tol_source=src)
    if equal:
        return Margin(-abs(q.L - lin.value), tol, q.L, lin.value, src)
    return Margin.at_most(q.L, lin.value, tol=tol, tol_source=src)


example3 = at_network_points("khk2019lm.example3", printed_at("3.2.2", "Example 3"),
    PointKind.CRITICAL,
    title="skip networks: critical points are no worse than linear predictors on the learned "
          "representations of every skip layer",
    statement="For any critical point theta not in Omega: L(theta) = inf_alpha "
              "L^{(skip)}_theta(alpha) <= the global minimum value of the basis models with the "
              "learned representations h^{(l)}, l in I^{(skip)}",
    hypotheses=(A1,),
    conclusion=skip_representations,
    instances=lambda assumed: panel(kinds=("skip_tanh",)),
    notes="The equality L = inf L^{(skip)}_theta is Theorem 1 (the skip blocks' partial "
          "derivatives are h^{(l)} kron I); checked here is the consequence, with the "
          "representations at the point.",
    mutants=(Mutant.conclusion("strictly_better_linear", MutantKind.FLIPPED_INEQUALITY,
                               "the linear predictor on the representations is strictly "
                               "better than L(theta)",
                               lambda i, p, B: skip_representations(i, p, B, flip=True)),),
)
