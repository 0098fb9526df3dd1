"""Shamir (2018): the statements that are polynomial at a fixed size, for the decision procedure.

Each function returns :class:`proofcheck.decide.Decidable` forms (one per size) that the claims
of this paper attach with ``decidable=``; the decision procedure then proves them for *all*
reals at that size, or gives an exactly re-validated counterexample.

The loss is read as an arbitrary function ``ℓ`` (an uninterpreted function, with ``ℓ'`` its
derivative): Assumption 1 enters only through the first-order convexity inequality
``ℓ(q) >= ℓ(p) + ℓ'(p)(q - p)`` at the points the statement compares, which every convex
differentiable ℓ satisfies. A proof therefore holds for every convex differentiable loss; a
counterexample gives finitely many values of ℓ and ℓ', which a smooth function interpolates.

The forms are built when a check first asks for them (``@deferred``), not when a claim module
is imported: listing the catalogue does not import sympy.
"""

from functools import cache
from types import SimpleNamespace

from proofcheck.lazy import deferred, lazy_import

from proofcheck.decide import Decidable, lambda_min_constraints
from proofcheck.symbolic import symbol_matrix, symbol_vector

sp = lazy_import("sympy")   # loaded on first use (startup cost)

# the loss ℓ(p; y) of sample i is the uninterpreted function l_i (y is absorbed per sample)


def _dl(i, p):
    """ℓ_i'(p) for sample i: the derivative of the sample's loss, as a function value."""
    return sp.Function(f"l{i}__d1")(p)


def _l(i, p):
    return sp.Function(f"l{i}")(p)


# --- Lemma 1 and Theorem 1 (§6.1): squared-free, any convex differentiable loss ----------------

def _sample_terms(d_x, d_z, m):
    w, ws = symbol_vector("w", d_x), symbol_vector("ws", d_x)
    V = symbol_matrix("V", d_x, d_z)
    xs = [symbol_vector(f"x{i}", d_x) for i in range(m)]
    fs = [symbol_vector(f"f{i}", d_z) for i in range(m)]
    r = sp.Symbol("r_inv_w2", real=True)      # 1/||w||^2 as printed (defined by r ||w||^2 = 1)
    variables = list(w) + list(ws) + list(V) + [s for v in xs + fs for s in v] + [r]
    w2 = (w.T * w)[0, 0]
    p = [(w.T * (xs[i] + V * fs[i]))[0, 0] for i in range(m)]
    q = [(ws.T * xs[i])[0, 0] for i in range(m)]
    # ∇F = E[ℓ'(p) (x + V f)], E[ℓ'(p) w f^T] (eq. 7)
    grad_w = sum((_dl(i, p[i]) * (xs[i] + V * fs[i]) for i in range(m)), sp.zeros(d_x, 1)) / m
    grad_V = sum((_dl(i, p[i]) * w * fs[i].T for i in range(m)), sp.zeros(d_x, d_z)) / m
    G_w, G_V = w - ws, w * (ws.T * V) * r
    inner = (G_w.T * grad_w)[0, 0] + sum(G_V[a, b] * grad_V[a, b] for a in range(d_x)
                                         for b in range(d_z))
    gap = sum(_l(i, p[i]) - _l(i, q[i]) for i in range(m)) / m
    convex = sp.And(*[_l(i, q[i]) >= _l(i, p[i]) + _dl(i, p[i]) * (q[i] - p[i])
                      for i in range(m)])
    grad_norm2 = (grad_w.T * grad_w)[0, 0] + sum(g**2 for g in grad_V)
    return dict(w=w, ws=ws, V=V, variables=variables, w2=w2, inner=inner, gap=gap, r=r,
                definition=sp.Eq(r * w2, 1),
                convex=convex, grad_norm2=grad_norm2, G_w=G_w, G_V=G_V)


LEMMA1_SIZES = ({"d_x": 1, "d_z": 1, "m": 1}, {"d_x": 2, "d_z": 1, "m": 1},
                {"d_x": 1, "d_z": 2, "m": 1}, {"d_x": 1, "d_z": 1, "m": 2})

#: the sizes a catalogue run decides (each below a second); LEMMA1_SIZES adds two sizes that
#: z3 proves in ~15 s (see docs/decide.md)
LEMMA1_FAST = ({"d_x": 1, "d_z": 1, "m": 1}, {"d_x": 1, "d_z": 2, "m": 1})

#: LARGER, for docs/decide.md (python -m proofcheck.decide theorems.shamir2018.decidable:LARGER):
#: built on first access, see __getattr__ at the end

READING = ("ℓ_i (one per sample, y absorbed) are arbitrary functions; A1 is used as the "
           "first-order convexity inequality ℓ(w*^T x) >= ℓ(p) + ℓ'(p)(w*^T x - p) per sample; "
           "F and F_lin are the empirical means over the m samples")


@deferred
def lemma1_forms(relation=lambda inner, gap: inner >= gap, sizes=LEMMA1_SIZES):
    """Lemma 1: <vec G, ∇F_θ> >= F - F_lin(w*), G = (w - w*; w w*^T V / ||w||^2)."""
    out = []
    for s in sizes:
        t = _sample_terms(s["d_x"], s["d_z"], s["m"])
        out.append(Decidable(t["variables"],
                             {"A1": t["convex"], "w_nonzero": sp.Ne(t["w2"], 0)},
                             relation(t["inner"], t["gap"]), size=s,
                             name="Lemma 1", reading=READING,
                             definitions=(t["definition"],)))
    return tuple(out)


THEOREM1_SIZES = ({"d_x": 1, "d_z": 1, "m": 1},)


@deferred
def theorem1_forms(c_w=2, c_star=2, with_V=True, factor=1, flipped=False, eq6=False,
                   sizes=THEOREM1_SIZES):
    """Theorem 1 (or eq. 6): ||∇F|| >= factor (F - F_lin(w*)) / sqrt(D), at d_x = d_z = 1 (where
    the spectral norm ||V|| is |V|), compared squared: gap <= 0 or ||∇F||^2 D >= gap^2, with
    1/||w||^2 the variable r defined by r ||w||^2 = 1 (as printed).  ``flipped``:
    ||∇F|| <= gap / sqrt(D), i.e. gap >= 0 and ||∇F||^2 D <= gap^2."""
    out = []
    for s in sizes:
        t = _sample_terms(s["d_x"], s["d_z"], s["m"])
        w2, ws2 = t["w2"], (t["ws"].T * t["ws"])[0, 0]
        V2 = sum(v**2 for v in t["V"])       # ||V||^2 = ||V||_Fr^2 at d_x = 1 or d_z = 1
        if eq6:
            # ||G_V||_Fr^2 = ||w (w*^T V)||_Fr^2 / ||w||^4 = ||w*^T V||^2 r
            # (||w a^T||_Fr = ||w|| ||a||)
            a = t["ws"].T * t["V"]
            D = sum(g**2 for g in t["G_w"]) + ((a * a.T)[0, 0] * t["r"] if with_V else 0)
        else:
            D = c_w * w2 + ws2 * (c_star + (V2 * t["r"] if with_V else 0))
        g2, gap = t["grad_norm2"], factor * t["gap"]
        if flipped:
            concl = sp.And(gap >= 0, g2 * D <= gap**2)
        else:
            concl = sp.Or(gap <= 0, g2 * D >= gap**2)
        out.append(Decidable(t["variables"],
                             {"A1": t["convex"], "w_nonzero": sp.Ne(w2, 0)}, concl, size=s,
                             name="eq. (6)" if eq6 else "Theorem 1",
                             definitions=(t["definition"],),
                             reading=READING + "; both sides >= 0, compared squared"))
    return tuple(out)


# --- Lemma 2 (§6.2): the arrow matrix -------------------------------------------------------------

LEMMA2_SIZES = ({"k": 1}, {"k": 2}, {"k": 3})


def _arrow(k):
    b = sp.Symbol("b", real=True)
    u = symbol_vector("u", k)
    lam = sp.Symbol("lambda_min", real=True)
    M = sp.zeros(k + 1, k + 1)
    M[0, 0] = b
    for i in range(k):
        M[0, i + 1] = M[i + 1, 0] = u[i]
    return b, u, lam, M


@deferred
def lemma2_forms(kind="corrected", sizes=LEMMA2_SIZES):
    """λ = λ_min(M) (det(M - λI) = 0 and M - λI ⪰ 0) => λ <= 0 and the identity for ||u||^2.

    ``kind``: ``printed`` (||u||^2 = |bλ| + λ^2 for every b), ``corrected`` (||u||^2 = λ^2 - bλ
    for every b, and = |bλ| + λ^2 when b >= 0), ``doubled`` (a mutant: 2(λ^2 - bλ))."""
    out = []
    for s in sizes:
        b, u, lam, M = _arrow(s["k"])
        n2 = (u.T * u)[0, 0]
        if kind == "printed":
            concl = sp.And(lam <= 0, sp.Eq(n2, sp.Abs(b * lam) + lam**2))
        elif kind == "doubled":
            concl = sp.And(lam <= 0, sp.Eq(n2, 2 * (lam**2 - b * lam)))
        else:
            concl = sp.And(lam <= 0, sp.Eq(n2, lam**2 - b * lam),
                           sp.Implies(b >= 0, sp.Eq(n2, sp.Abs(b * lam) + lam**2)))
        out.append(Decidable([b, *u, lam], {"lambda_min": lambda_min_constraints(M, lam)},
                             concl, size=s, name=f"Lemma 2 ({kind})",
                             reading="λ_min(M) = λ read as det(M - λI) = 0 and M - λI ⪰ 0 "
                                     "(every principal minor >= 0)"))
    return tuple(out)


# --- Example 1 (§4) -------------------------------------------------------------------------------

SCALAR = {"d": 1}


@cache
def _example1():
    """Example 1's w, v, ε > 0, F = (w(1 + εv) - 1)^2 / 2, its gradient GRAD and Hessian HESS
    (theorems/shamir2018/example1.py; imported here, on first use, because that module
    imports this one)."""
    from . import example1 as E

    w, v, eps = E.symbols()
    F = E.objective()
    return SimpleNamespace(w=w, v=v, eps=eps, F=F, GRAD=E.gradient(F), HESS=E.hessian(F))


@deferred
def example1_point_forms(value=None, off=-1):
    """At (0, -1/ε): ∇F = 0, ∇²F = [[0, -ε], [-ε, 0]] (eigenvalues ±ε), F = 1/2 > 0 = F_lin(1).
    ``value``: the printed F there (``None``: 1/2)."""
    e1 = _example1()
    w, v, eps, F, GRAD, HESS = e1.w, e1.v, e1.eps, e1.F, e1.GRAD, e1.HESS
    value = sp.Rational(1, 2) if value is None else value
    at = {"saddle_point": sp.And(sp.Eq(w, 0), sp.Eq(eps * v, -1))}
    concl = sp.And(sp.Eq(GRAD[0], 0), sp.Eq(GRAD[1], 0), sp.Eq(HESS[0, 0], 0),
                   sp.Eq(HESS[1, 1], 0), sp.Eq(HESS[0, 1], off * eps), sp.Eq(F, value),
                   F > 0)
    return (Decidable([w, v, eps], at, concl, size=SCALAR, name="Example 1 at (0, -1/ε)",
                      reading="ε > 0 a real variable: one proof for every ε"),)


@deferred
def example1_stationary_forms(saddle_w=0):
    """Every stationary point of F is on the valley w(1 + εv) = 1 (F = 0 = min F) or is the
    saddle (saddle_w, -1/ε); the saddle has det ∇²F < 0 there (corrected: saddle_w = 0)."""
    e1 = _example1()
    w, v, eps, F, GRAD, HESS = e1.w, e1.v, e1.eps, e1.F, e1.GRAD, e1.HESS
    stationary = {"stationary": sp.And(sp.Eq(GRAD[0], 0), sp.Eq(GRAD[1], 0))}
    valley = sp.And(sp.Eq(w * (1 + eps * v), 1), sp.Eq(F, 0))
    saddle = sp.And(sp.Eq(w, saddle_w), sp.Eq(eps * v, -1), HESS.det() < 0)
    return (Decidable([w, v, eps], stationary, sp.Or(valley, saddle), size=SCALAR,
                      name="Example 1: stationary points",
                      reading="ε > 0 a real variable; 'global minimum' as F = 0 (F >= 0 is a "
                              "square)"),)


# --- footnote 2 at 2 x 2 --------------------------------------------------------------------------

def _spectral_sq(A, name):
    """s = ||A||^2 = λ_max(A^T A): det(A^T A - s I) = 0 and s I - A^T A ⪰ 0."""
    s = sp.Symbol(f"spec2_{name}", real=True)
    G = A.T * A
    from proofcheck.decide import psd_constraints
    return s, sp.And(sp.Eq((G - s * sp.eye(G.rows)).det(), 0),
                     psd_constraints(s * sp.eye(G.rows) - G))


@deferred
def footnote2_forms(mutant=None):
    """Footnote 2, squared (both sides >= 0), spectral norms as ||M||^2 = λ_max(M^T M):
    all five facts for 1 x 1 matrices and scalars (n = 1); at n = 2 the two facts the solvers
    decide within the time limit (||A|| <= ||A||_Fr and ||x - z||^2 <= 2||x||^2 + 2||z||^2;
    the three submultiplicativity facts stay unknown there after 20 s, see docs/decide.md).
    ``mutant``: ``fro_below_spec`` (||A||_Fr <= ||A||) or ``no_factor_two``."""
    def fro2(M):
        return sum(e**2 for e in M)

    out = []
    for n in (1, 2):
        A, B = symbol_matrix("A", n, n), symbol_matrix("B", n, n)
        x, z = symbol_vector("x", n), symbol_vector("z", n)
        sA, dA = _spectral_sq(A, "A")
        sB, dB = _spectral_sq(B, "B")
        sAB, dAB = _spectral_sq(A * B, "AB")
        parts = {"spec_submult": sAB <= sA * sB, "fro_spec": fro2(A * B) <= fro2(A) * sB,
                 "spec_fro": fro2(A * B) <= sA * fro2(B), "spec_below_fro": sA <= fro2(A),
                 "factor_two": fro2(x - z) <= 2 * fro2(x) + 2 * fro2(z)}
        if n == 2:
            parts = {k: parts[k] for k in ("spec_below_fro", "factor_two")}
        if mutant == "fro_below_spec":
            parts = {"spec_below_fro": fro2(A) <= sA}
        elif mutant == "no_factor_two":
            parts = {"factor_two": fro2(x - z) <= fro2(x) + fro2(z)}
        concl = sp.And(*parts.values())
        used = concl.free_symbols
        defs = tuple(d for sv, d in ((sA, dA), (sB, dB), (sAB, dAB)) if sv in used)
        variables = sorted(used | set().union(*[d.free_symbols for d in defs]), key=str)
        out.append(Decidable(variables, {}, concl, size={"n": n},
                             name="footnote 2 (" + ", ".join(parts) + ")", definitions=defs,
                             reading="||M||^2 = λ_max(M^T M) read as det(M^T M - sI) = 0 and "
                                     "sI - M^T M ⪰ 0; the inequalities compared squared"))
    return tuple(out)

def __getattr__(name):
    """``LARGER``: the (label, form) pairs of Lemma 1 at the sizes a catalogue run leaves out,
    built on first access (module attribute, PEP 562)."""
    if name == "LARGER":
        return tuple(("shamir2018.lemma1 (larger sizes)", f) for f in lemma1_forms(
            sizes=tuple(s for s in LEMMA1_SIZES if s not in LEMMA1_FAST))())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
