r"""Exact certificates at points of piecewise-linear networks where pre-activations are 0.

A bias-free network with ReLU / leaky-ReLU (any slope) / absolute-value units is piecewise
polynomial in theta.  Where a pre-activation ``G^(l)_{ik}`` of a kinked unit is exactly 0 the
pieces meet; the loss ``L = 1/2 ||Yhat - Y||^2`` (and an output ``Yhat_{ic}``) may or may not be
differentiable there (cancellations between samples, zero outgoing weights, dead units, leaky
slopes).  :func:`certify_stratum` decides it *exactly* at a rational point (``fractions``
arithmetic, linear feasibility decided by z3's exact simplex over the rationals).

What is decided, and why (the proof the code relies on)
------------------------------------------------------
Let ``Z`` be the zero pre-activations of kinked units at theta that are not identically 0 on a
neighbourhood (:func:`proofcheck.networks.locally_zero_entries`; those never cross their kink).
A *sign choice* ``s in {+1, -1}^Z`` fixes the slope of every unit at every sample, hence a
pattern ``Lambda_s``; the *piece* ``P_s`` is L with ``Lambda_s`` held fixed (a polynomial in
theta), and so is every pre-activation ``P_{z,s}`` (it only uses the slopes of earlier layers).
On the region ``R_s = {theta' near theta : s_z P_{z,s}(theta') > 0 for all z}`` the network
*is* the pattern-``s`` network, so ``L = P_s`` there.  Let ``a_{z,s} = grad P_{z,s}(theta)``
and the open cone ``C_s = {d : s_z a_{z,s} . d > 0 for all z}``.

1. If ``d in C_s`` then ``theta + t d in R_s`` for small ``t > 0`` (first-order Taylor), so the
   one-sided directional derivative is ``L'(theta; d) = grad P_s(theta) . d``.
2. ``S`` (the "strict" pieces) are the ``s`` with ``C_s`` nonempty.  If every ``a_{z,s}`` is
   nonzero along every prefix of a strict ``s`` (checked; otherwise the point is
   ``unresolved``), then for ``d`` off finitely many hyperplanes the signs
   ``s_z = sign(a_{z,s} . d)`` (layer by layer) define a strict ``s`` with ``d in C_s``: the
   cones of ``S`` cover a dense set of directions.
3. L is continuous and piecewise polynomial, hence locally Lipschitz and B-differentiable:
   ``L(theta + d) = L(theta) + L'(theta; d) + o(|d|)`` (Scholtes 2012, *Introduction to
   piecewise differentiable equations*, Prop. 4.1.1/4.1.3).  So **L is differentiable at theta
   iff all ``grad P_s(theta)``, ``s in S``, are equal**: if they equal ``g``, ``L'(theta; .)``
   is ``g . d`` on a dense set of directions, hence everywhere (it is Lipschitz in ``d``), and
   B-differentiability makes ``g`` the derivative; conversely a derivative ``g`` gives
   ``grad P_s . d = g . d`` on each open ``C_s``.  The same holds for each output
   ``Yhat_{ic}`` (its pieces are the rows of the pattern Jacobians).
4. **Local minimality.**  Any ``s`` whose region accumulates at theta has a nonzero tangent
   direction in ``K_s = {d : s_z a_{z,s} . d >= 0}``, so the "weak" pieces (``K_s != {0}``)
   contain every piece that occurs near theta.  theta is a local minimum if on every weak
   piece one of these exact certificates holds (layer-1 pre-activations are linear in theta,
   so there a piece occurs iff it is strict):

   ``"first_order"``
       ``grad P_s . d > 0`` for every nonzero ``d in K_s`` (then ``P_s`` grows at least
       linearly on ``R_s``);
   ``"path_model"``
       the residual ``r = Yhat - Y`` is orthogonal to ``V_s = span{diag(mu) X e_p}`` over the
       path masks ``mu = prod_l Lambda^(l)_{., k_l}`` of ``s``: every output of the
       pattern-``s`` network lies in ``V_s`` (per output column), so
       ``P_s(theta') = L(theta) + 1/2 ||Yhat' - Yhat||^2 + <Yhat' - Yhat, r> >= L(theta)``;
   ``"nlsat(eps)"``
       z3's complete procedure for nonlinear real arithmetic (``QF_NRA``, exact) proves that
       no ``theta'`` with ``|theta' - theta|_inf <= eps`` and every pre-activation of a kinked
       unit of the sign the piece prescribes or 0 (there ``L = P_s``, as ``sigma(0) = 0``) has
       ``P_s(theta') < L(theta)``.  Near theta every point satisfies the weak signs of some
       weak piece, so this certifies a local model exactly; it also covers flat directions
       of positive homogeneity, which defeat second-order tests.

   A point is *not* a local minimum if some strict piece has an exact descent direction
   ``d in C_s`` (``grad P_s . d < 0``, or ``= 0`` with ``d^T Hess P_s d < 0``: the ray stays
   in ``R_s``); an ascent direction is certified the same way (``saddle`` needs both).

Kinds: ``local_min``, ``saddle``, ``local_max``, ``degenerate`` (differentiable critical,
neither certified), ``not_critical``, ``at_kink`` (L not differentiable; ``local_min`` then
says whether it is a certified minimum, e.g. the kink of ``|.|``), ``unresolved`` (with the
reason: a cap on the ``2^|Z|`` sign choices, or a pre-activation vanishing to first order).

Side by side at the point: the true gradient (when L is differentiable) and the paper's
``Lambda``-convention objects (slope 0 at a kink: :func:`proofcheck.networks.gradient` and the
blocks ``D``), exactly.

>>> from fractions import Fraction as F
>>> from proofcheck.networks import Network, RELU
>>> net = Network((2, 1, 1), RELU)        # yhat = v relu(w . x)
>>> X = [[0, 1], [0, -1], [1, 0], [1, 1]]; Y = [[1], [-1], [2], [0]]
>>> c = certify_stratum(net, X, Y, [1, 0, 1])
>>> c.kind, c.differentiable, c.local_min, c.n_strict
('local_min', True, True, 2)
>>> c.gradient == c.lambda_gradient      # the paper's convention misses the kink samples
False
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import z3

from .. import networks as nw

__all__ = ["StratumCertificate", "StratumPiece", "certify_stratum", "exact", "snap",
           "STRATUM_KINDS", "exact_point", "is_exact_point"]

STRATUM_KINDS = ("local_min", "saddle", "local_max", "degenerate", "not_critical", "at_kink",
                 "unresolved")


def exact(a) -> np.ndarray:
    """An object array of :class:`fractions.Fraction` (floats convert exactly)."""
    arr = np.asarray(a, dtype=object)
    return np.vectorize(lambda v: v if isinstance(v, Fraction) else Fraction(v),
                        otypes=[object])(arr) if arr.size else arr.astype(object)


def snap(theta, *, max_denominator: int = 1 << 12, zero: float = 1e-9) -> np.ndarray:
    """A nearby simple rational point: entries below ``zero`` in magnitude become 0, the others
    ``Fraction.limit_denominator(max_denominator)``.  The certificate is then about *this*
    point, not about the float one."""
    out = []
    for v in np.asarray(theta, float):
        out.append(Fraction(0) if abs(v) < zero else
                   Fraction(v).limit_denominator(max_denominator))
    return np.array(out, dtype=object)


# --------------------------------------------------------------------------- dual numbers

class _Dual:
    """``a + b eps`` with ``eps^2 = 0`` over the rationals (exact forward-mode derivatives)."""

    __slots__ = ("a", "b")

    def __init__(self, a, b=0):
        self.a, self.b = a, b

    def __add__(self, o):
        return _Dual(self.a + o.a, self.b + o.b) if isinstance(o, _Dual) else _Dual(self.a + o,
                                                                                    self.b)
    __radd__ = __add__

    def __neg__(self):
        return _Dual(-self.a, -self.b)

    def __sub__(self, o):
        return self + (-o)

    def __rsub__(self, o):
        return (-self) + o

    def __mul__(self, o):
        if isinstance(o, _Dual):
            return _Dual(self.a * o.a, self.a * o.b + self.b * o.a)
        return _Dual(self.a * o, self.b * o)
    __rmul__ = __mul__


# --------------------------------------------------------------------------- exact pieces

def _slope(act, sign: int) -> Fraction:
    key = (act, sign > 0)
    q = _SLOPES.get(key)
    if q is None:
        q = _SLOPES[key] = Fraction(act.pos) if sign > 0 else Fraction(act.neg)
    return q


_SLOPES: dict = {}


def _sign(v) -> int:
    return (v > 0) - (v < 0)


def _pattern(net, G_signs, choice, upto):
    """Pattern arrays (object, exact) of layers 1..upto: slopes from the signs at theta, the
    sign ``choice[(l, i, k)]`` at a zero entry (locally-zero entries: the + slope, irrelevant)."""
    out = []
    for l in range(1, upto + 1):
        sg = G_signs[l - 1]
        m, d = sg.shape
        lam = np.empty((m, d), dtype=object)
        for i in range(m):
            for k in range(d):
                act = net.activations[l - 1][k]
                s = sg[i, k] if sg[i, k] != 0 else choice.get((l, i, k), 1)
                lam[i, k] = _slope(act, s)
        out.append(lam)
    return out


def _pre_activation_grads(net, Ws, X, pattern, l, entries):
    """``grad_theta G^(l)_{ik}`` (length d_theta, exact) for ``entries`` of layer ``l`` with the
    slopes of layers < l from ``pattern``."""
    off = net.offsets
    out = {}
    if l == 1:
        d0 = net.widths[0]
        for (i, k) in entries:
            g = [Fraction(0)] * net.d_theta
            for p in range(d0):
                g[off[0] + k * d0 + p] = X[i, p]
            out[(i, k)] = g
        return out
    sub = nw.Network(net.widths[:l] + (net.widths[l],), net.activations[:l - 1])
    Jac = nw.jacobian(sub, Ws[:l], X, pattern=pattern[:l - 1])
    m = X.shape[0]
    for (i, k) in entries:
        row = list(Jac[k * m + i])
        out[(i, k)] = row + [Fraction(0)] * (net.d_theta - len(row))
    return out


def _z3_num(q: Fraction):
    # the same numeral AST as ``z3.Q(num, den)`` (which builds num/den and simplifies it),
    # parsed directly from "num/den": about 10x cheaper
    return z3.RealVal(str(q))


def _cone(rows: Sequence[Sequence[Fraction]], n: int, *, strict: bool,
          extra_le: Sequence[Sequence[Fraction]] = (), extra_strict_neg=None,
          any_point: bool = False):
    """An exact rational ``d`` with ``row . d > 0`` (strict) / ``>= 0`` and ``d != 0`` (weak)
    for every row, plus ``e . d <= 0`` for ``e`` in ``extra_le`` and ``f . d < 0`` for
    ``f = extra_strict_neg``; None if there is none (z3's exact simplex decides).
    ``any_point``: the caller only needs *some* such ``d`` (not the LP's): a least-squares
    guess, verified exactly, is tried first (the same None / not None answer)."""
    if strict and _opposed(rows):
        # row . d > 0 for a zero row, or for both r and -c r (c > 0), has no solution: the
        # answer z3 would give, decided without a solver
        return None
    # only the coordinates some row uses matter (a coordinate no row uses can be 0, or is
    # itself a nonzero d with every row . d = 0 in the weak case)
    used = sorted({j for r in list(rows) + list(extra_le) +
                   ([extra_strict_neg] if extra_strict_neg is not None else [])
                   for j, c in enumerate(r) if c != 0})
    if len(used) < n:
        if not strict and extra_strict_neg is None:
            free = next(j for j in range(n) if j not in set(used))
            return [Fraction(int(j == free)) for j in range(n)]
        sub = _cone([[r[j] for j in used] for r in rows], len(used), strict=strict,
                    extra_le=[[e[j] for j in used] for e in extra_le],
                    extra_strict_neg=None if extra_strict_neg is None else
                    [extra_strict_neg[j] for j in used], any_point=any_point) if used else None
        if sub is None:
            return None if used or rows else [Fraction(0)] * n
        out = [Fraction(0)] * n
        for j, v in zip(used, sub):
            out[j] = v
        return out
    if strict and rows and not extra_le and extra_strict_neg is None:
        found = _lstsq_interior(rows, n) if any_point else None
        if found is None:
            found = _float_interior(rows, n)
        if found is not None:
            return found
    d = [z3.Real(f"d{j}") for j in range(n)]
    sol = z3.Solver()

    def dot(r):
        terms = [_z3_num(Fraction(c)) * d[j] for j, c in enumerate(r) if c != 0]
        return z3.Sum(terms) if terms else z3.RealVal(0)
    for r in rows:
        # homogeneous: "> 0" is ">= 1" after scaling d
        sol.add(dot(r) >= 1 if strict else dot(r) >= 0)
    for e in extra_le:
        sol.add(dot(e) <= 0)
    if extra_strict_neg is not None:
        sol.add(dot(extra_strict_neg) <= -1)
    if not strict and extra_strict_neg is None:
        sol.add(z3.Or([z3.Or(x >= 1, x <= -1) for x in d]))
    if sol.check() != z3.sat:
        return None
    mdl = sol.model()
    return [mdl.eval(x, model_completion=True).as_fraction() for x in d]


def _direction_key(row) -> tuple[int, ...] | None:
    """The primitive integer vector with the direction of a rational ``row`` (None for 0):
    two rows have the same key iff one is a positive multiple of the other."""
    nums, den = [], 1
    for c in row:
        q = c if isinstance(c, Fraction) else Fraction(c)
        nums.append(q)
        if q.denominator != 1:
            den = den * q.denominator // math.gcd(den, q.denominator)
    ints = [q.numerator * (den // q.denominator) for q in nums]
    g = 0
    for v in ints:
        g = math.gcd(g, v)
    if g == 0:
        return None
    return tuple(v // g for v in ints)


def _opposed(rows) -> bool:
    """Some row is 0, or two rows point in opposite directions (``r`` and ``-c r``,
    ``c > 0``): then ``row . d > 0`` for every row has no solution.

    >>> _opposed([[1, 2], [Fraction(-1, 2), -1]]), _opposed([[1, 2], [1, -2]])
    (True, False)
    >>> _opposed([[0, 0]])
    True
    """
    seen = set()
    for r in rows:
        k = _direction_key(r)
        if k is None or tuple(-v for v in k) in seen:
            return True
        seen.add(k)
    return False


def _lstsq_interior(rows, n):
    """A cheap guess of a point of the open cone: the least-squares solution of
    ``row . d = 1``, rounded to rationals and kept only if ``row . d > 0`` holds exactly.

    >>> _lstsq_interior([[1, 1], [1, -1]], 2)
    [Fraction(1, 1), Fraction(0, 1)]
    >>> _lstsq_interior([[1, 0], [-1, 0]], 2) is None
    True
    """
    A = np.array([[float(c) for c in r] for r in rows])
    if not np.all(np.isfinite(A)):
        return None
    x = np.linalg.lstsq(A, np.ones(A.shape[0]), rcond=None)[0]
    if not np.all(np.isfinite(x)):
        return None
    d = [Fraction(float(v)).limit_denominator(1 << 24) for v in x[:n]]
    return d if _strictly_inside(rows, d) else None


def _float_interior(rows, n):
    """A float LP (HiGHS) guess of a point of the open cone, rounded to rationals and kept only
    if the exact check ``row . d > 0`` passes (a shortcut; z3 decides otherwise)."""
    from scipy.optimize import linprog
    A = np.array([[float(c) for c in r] for r in rows])
    k = A.shape[0]
    # maximise t subject to A d >= t, -1 <= d <= 1, t <= 1
    res = linprog(np.r_[np.zeros(n), -1.0], A_ub=np.c_[-A, np.ones(k)], b_ub=np.zeros(k),
                  bounds=[(-1, 1)] * n + [(None, 1)], method="highs")
    if res.status != 0 or -res.fun < 1e-7:
        return None
    d = [Fraction(v).limit_denominator(1 << 24) for v in res.x[:n]]
    if _strictly_inside(rows, d):
        return d
    return None


def _strictly_inside(rows, d) -> bool:
    """``row . d > 0`` exactly for every row (python-flint rationals; the same decision as
    with :class:`fractions.Fraction`).

    >>> _strictly_inside([[Fraction(1, 3), -1]], [Fraction(3), Fraction(1)])
    False
    >>> _strictly_inside([[Fraction(1, 3), -1], [1, 0]], [Fraction(4), Fraction(1)])
    True
    """
    import flint
    dq = [_fmpq(x) for x in d]
    for r in rows:
        acc = flint.fmpq(0)
        for c, x in zip(r, dq):
            if c != 0:
                acc += _fmpq(c) * x
        if not acc > 0:
            return False
    return True


def _transpose_times(J: np.ndarray, r) -> tuple:
    """``tuple(J.T @ r)`` exactly, as Fractions, computed with python-flint (``J``, ``r``:
    rationals).

    >>> _transpose_times(np.array([[Fraction(1, 2), 1], [3, Fraction(-1, 3)]], dtype=object),
    ...                  [Fraction(2), Fraction(3)])
    (Fraction(10, 1), Fraction(1, 1))
    """
    import flint
    rows, cols = J.shape
    if rows == 0 or cols == 0:
        return tuple(J.T @ r)
    Jq = flint.fmpq_mat(rows, cols, [_fmpq(v) for v in np.ravel(J)])
    rq = flint.fmpq_mat(rows, 1, [_fmpq(v) for v in r])
    g = Jq.transpose() * rq
    return tuple(Fraction(int(g[j, 0].p), int(g[j, 0].q)) for j in range(cols))


def _piece_jacobian_gradient(net, Ws, X, Y, pattern):
    """``(J, r, J^T r)`` of the pattern-``pattern`` network at the exact point: the Jacobian
    (object array of Fractions), the residual ``vec(Yhat - Y)`` and the gradient (a tuple of
    Fractions), the product taken on the python-flint matrix of J."""
    import flint
    r = nw.residual(net, Ws, X, Y, pattern=pattern)
    try:
        Jac, Jq = nw.jacobian_exact(net, Ws, X, pattern=pattern)
    except TypeError:                 # not all Fractions: the generic exact product
        Jac = nw.jacobian(net, Ws, X, pattern=pattern)
        return Jac, r, _transpose_times(Jac, r)
    rows, cols = Jac.shape
    if rows == 0 or cols == 0:
        return Jac, r, tuple(Jac.T @ r)
    g = Jq.transpose() * flint.fmpq_mat(rows, 1, [_fmpq(v) for v in r])
    return Jac, r, tuple(nw._frac(q) for q in g.entries())


def _fmpq(v):
    """A :class:`flint.fmpq` equal to the rational ``v`` (int or Fraction)."""
    import flint
    if isinstance(v, Fraction):
        return flint.fmpq(v.numerator, v.denominator)
    return flint.fmpq(Fraction(v).numerator, Fraction(v).denominator)


@dataclass(frozen=True)
class StratumPiece:
    """One sign choice ``s`` at the zero pre-activations, with its exact data at theta."""

    choice: tuple                  # ((l, i, k, sign), ...)
    strict: bool                   # C_s nonempty (the piece has interior at theta)
    gradient: tuple                # grad P_s(theta)
    pattern: list = field(repr=False)
    constraints: tuple = field(repr=False, default=())   # s_z a_{z,s} rows
    interior: tuple | None = None  # a rational d in C_s
    certificate: str | None = None  # "first_order" / "path_model" / None (local-min part)


@dataclass(frozen=True)
class StratumCertificate:
    """Exact classification of a point (module doc)."""

    kind: str
    level: str                     # "exact" or "none"
    differentiable: bool | None    # of L
    outputs_differentiable: tuple | None   # per entry of vec Yhat
    local_min: bool | None
    value: Fraction | None
    gradient: tuple | None         # the true gradient of L (None if not differentiable)
    lambda_gradient: tuple | None  # the paper's Lambda-convention formula D^T vec(Yhat - Y)
    lambda_pattern: list | None = field(default=None, repr=False)
    n_zero: int = 0                # zero pre-activations that are not locally zero
    n_strict: int = 0
    n_weak: int = 0
    pieces: tuple = field(default=(), repr=False)
    descent: tuple | None = field(default=None, repr=False)
    ascent: tuple | None = field(default=None, repr=False)
    notes: tuple = ()
    theta: tuple | None = field(default=None, repr=False)   # the exact point (Fractions)

    @property
    def outputs_all_differentiable(self) -> bool | None:
        o = self.outputs_differentiable
        return None if o is None else all(o)

    def describe(self) -> str:
        """One line for reports."""
        d = {True: "differentiable", False: "not differentiable", None: "differentiability ?"}
        o = self.outputs_all_differentiable
        return (f"{self.kind} ({self.level}; L {d[self.differentiable]}, outputs "
                f"{d[o]}; {self.n_zero} zero pre-activations, {self.n_strict} pieces"
                + (f"; {'; '.join(self.notes)}" if self.notes else "") + ")")


def _forward_exact(net, Ws, X):
    """Exact pre-activations and their signs at theta (the network's own pattern)."""
    Phi, Gs, signs = X, [], []
    for l in range(1, net.H + 1):
        G = Phi @ Ws[l - 1]
        sg = np.vectorize(_sign, otypes=[int])(G)
        lam = np.empty(G.shape, dtype=object)
        for (i, k), s in np.ndenumerate(sg):
            act = net.activations[l - 1][k]
            lam[i, k] = Fraction(act.pos) if act.is_linear else (
                _slope(act, s) if s != 0 else Fraction(0))
        Gs.append(G)
        signs.append(sg)
        Phi = lam * G
    return Gs, signs


def _locally_zero(net, Ws, X, signs):
    """Masks of the pre-activations identically 0 near theta (as networks.locally_zero_entries)."""
    phi_zero = np.vectorize(lambda v: v == 0, otypes=[bool])(X)
    out = []
    for l in range(1, net.H + 1):
        gz = np.all(phi_zero[:, :, None] | np.zeros(net.shapes[l - 1], bool)[None], axis=1)
        out.append(gz)
        dead = (net._neg[l - 1] == 0)[None, :] & (signs[l - 1] < 0)
        phi_zero = gz | dead | ((signs[l - 1] == 0) & gz)
    return out


def _path_masks_q(pattern) -> set:
    """:func:`_path_masks` as tuples of python-flint ``fmpq`` (the same set of values)."""
    import flint
    one = flint.fmpq(1)
    masks = {tuple([one] * pattern[0].shape[0])}
    for lam in pattern:
        cols = [[_fmpq(v) for v in lam[:, k]] for k in range(lam.shape[1])]
        masks = {tuple(a * b for a, b in zip(mu, col)) for mu in masks for col in cols}
    return masks


def _path_masks(pattern):
    """The distinct products ``prod_l Lambda^(l)_{., k_l}`` over paths (k_1, ..., k_H).

    >>> F = Fraction
    >>> sorted(_path_masks([np.array([[F(1), F(0)], [F(1, 2), F(1)]], dtype=object)]))
    [(Fraction(0, 1), Fraction(1, 1)), (Fraction(1, 1), Fraction(1, 2))]
    """
    return {tuple(nw._frac(q) for q in mu) for mu in _path_masks_q(pattern)}


def certify_stratum(net: nw.Network, X, Y, theta, *, max_pieces: int = 256,
                    search_directions: int = 8,
                    nlsat_boxes: Sequence[Fraction] = (Fraction(1, 8), Fraction(1, 64)),
                    nlsat_ms: int = 3000) -> StratumCertificate:
    """Decide differentiability of L and of each output at ``theta`` exactly, and classify the
    point (module doc).  ``X``, ``Y``, ``theta``: floats (converted exactly) or Fractions.
    ``max_pieces`` caps the enumeration of sign choices (beyond it: ``unresolved``);
    ``search_directions``: eigen-directions tried per piece when searching an exact descent /
    ascent direction (0: no search; only done when no local-minimum certificate holds).
    ``nlsat_boxes`` / ``nlsat_ms``: the boxes and the z3 budget per query of the ``nlsat``
    certificate, as a deterministic resource limit (``rlimit``, about ``nlsat_ms``
    milliseconds of z3 work on an unloaded machine; an exhausted budget is "not certified",
    never a certificate)."""
    from ..pointcache import cached_points

    X = exact(np.asarray(X, dtype=object).reshape(-1, net.d_x))
    Y = exact(np.asarray(Y, dtype=object).reshape(X.shape[0], net.d_y))
    th = exact(np.asarray(theta, dtype=object).reshape(-1))
    # exact and deterministic (z3's budget is an rlimit): computed once per content, shared
    # by the claims, mutants and worker processes of a run (proofcheck.pointcache)
    return cached_points(
        "strata.certify_stratum", ("proofcheck.optimize.strata",), (net, X, Y, th),
        lambda: _certify_stratum(net, X, Y, th, max_pieces=max_pieces,
                                 search_directions=search_directions,
                                 nlsat_boxes=nlsat_boxes, nlsat_ms=nlsat_ms),
        max_pieces=max_pieces, search_directions=search_directions,
        nlsat_boxes=tuple(nlsat_boxes), nlsat_ms=nlsat_ms)


def _certify_stratum(net: nw.Network, X, Y, th, *, max_pieces: int, search_directions: int,
                     nlsat_boxes: Sequence[Fraction], nlsat_ms: int) -> StratumCertificate:
    if th.shape != (net.d_theta,):
        raise ValueError(f"theta must have {net.d_theta} entries, got {th.shape}")
    Ws = net.unflatten(th)
    m, n = X.shape[0], net.d_theta
    _, signs = _forward_exact(net, Ws, X)
    lz = _locally_zero(net, Ws, X, signs)
    zeros = [[(i, k) for (i, k), s in np.ndenumerate(signs[l - 1])
              if s == 0 and not lz[l - 1][i, k] and not net.activations[l - 1][k].is_linear]
             for l in range(1, net.H + 1)]
    n_zero = sum(len(z) for z in zeros)
    lam_pattern = _pattern(net, signs, {}, net.H)
    for l in range(net.H):            # the paper's convention: slope 0 at a kink
        for (i, k) in zeros[l]:
            lam_pattern[l][i, k] = Fraction(0)
    _, r_lam, lam_grad = _piece_jacobian_gradient(net, Ws, X, Y, lam_pattern)
    value = sum((v * v for v in r_lam), Fraction(0)) / 2
    base = dict(value=value, lambda_gradient=lam_grad, lambda_pattern=lam_pattern,
                n_zero=n_zero, theta=tuple(th))

    def unresolved(why):
        return StratumCertificate(kind="unresolved", level="none", differentiable=None,
                                  outputs_differentiable=None, local_min=None, gradient=None,
                                  notes=(why,), **base)

    # enumerate sign choices layer by layer; prune by weak feasibility
    partial: list[tuple] = [({}, [], True, None)]       # (choice, rows, strict, interior)
    degenerate = False
    checks = 0
    # the last zero entry: only there is the interior point d kept in a piece (and used by the
    # descent search); before it, strictness is all that matters
    last = max((l for l in range(1, net.H + 1) if zeros[l - 1]), default=0)
    for l in range(1, net.H + 1):
        if not zeros[l - 1]:
            continue
        nxt = []
        for choice, rows, strict, d0 in partial:
            pat = _pattern(net, signs, choice, l - 1)
            grads = _pre_activation_grads(net, Ws, X, pat, l, zeros[l - 1])
            if strict and any(all(c == 0 for c in g) for g in grads.values()):
                degenerate = True
            # extend one zero entry at a time, pruning infeasible partial choices
            level = [(dict(choice), list(rows), strict, d0)]
            for z in zeros[l - 1]:
                ext: list[tuple] = []
                leaf = l == last and z == zeros[l - 1][-1]
                for ch, rw, st, w in level:
                    for sgn in (1, -1):
                        checks += 1
                        if checks > 8 * max_pieces or len(ext) > max_pieces:
                            return unresolved(f"more than {max_pieces} sign choices at "
                                              f"{n_zero} zero pre-activations (cap max_pieces)")
                        new_rows = rw + [[sgn * c for c in grads[z]]]
                        if (st and w is not None and (not leaf or not search_directions)
                                and _strictly_inside(new_rows[-1:], w)):
                            # w (in the open cone of rw) is in the new half-space too: the
                            # strict system is feasible, the same answer _cone would give
                            d = w
                        else:
                            d = _cone(new_rows, n, strict=True,
                                      any_point=not leaf or not search_directions) if st else None
                        # layer-1 pre-activations are linear in theta: R_s is exactly the
                        # open polyhedral cone, empty when the strict system is infeasible
                        if d is None and (l == 1 or _cone(new_rows, n, strict=False) is None):
                            continue
                        ch2 = dict(ch)
                        ch2[(l,) + z] = sgn
                        ext.append((ch2, new_rows, d is not None, d))
                level = ext
            nxt += level
        partial = nxt
    pieces, jacobians = [], []
    for choice, rows, strict, d in partial:
        pat = _pattern(net, signs, choice, net.H)
        Jac, r, grad = _piece_jacobian_gradient(net, Ws, X, Y, pat)
        # the pattern Jacobian decides which outputs are differentiable (below); it is not
        # kept in the certificate (the pattern determines it, and it is most of its size)
        jacobians.append(Jac)
        pieces.append(StratumPiece(tuple((l, i, k, s) for (l, i, k), s in sorted(choice.items())),
                                   strict, grad, pat,
                                   tuple(map(tuple, rows)),
                                   None if d is None else tuple(d)))
    strict = [p for p in pieces if p.strict]
    if n_zero and degenerate:
        return unresolved("a zero pre-activation vanishes to first order on a piece "
                          "(its sign is decided by higher-order terms)")
    if not strict:
        return unresolved("no sign choice has an open cone of directions")
    g0 = strict[0].gradient
    differentiable = all(p.gradient == g0 for p in strict)
    strict_jac = [J for p, J in zip(pieces, jacobians) if p.strict]
    outs = tuple(all(tuple(J[j]) == tuple(strict_jac[0][j]) for J in strict_jac)
                 for j in range(m * net.d_y))
    r = nw.residual(net, Ws, X, Y, pattern=strict[0].pattern)

    # local minimality on every weak piece
    certified, cert_pieces = True, []
    for p in pieces:
        how = None
        # a direction of K_s with grad . d <= 0 defeats "first_order": the piece's interior
        # point is one when grad . d <= 0 there (exact), else z3 decides
        if not _descends(p.interior, p.gradient) and _cone(
                p.constraints, n, strict=False, extra_le=(p.gradient,)) is None:
            how = "first_order"
        elif _path_orthogonal(p.pattern, X, r):
            how = "path_model"
        else:
            for eps in nlsat_boxes:
                if _nlsat_no_lower(net, Ws, X, Y, p, signs, value, eps, nlsat_ms):
                    how = f"nlsat({eps})"
                    break
        certified &= how is not None
        cert_pieces.append(_replace(p, certificate=how))
    descent = ascent = None
    if not certified and search_directions:
        for p in strict:
            descent = descent or _direction(net, Ws, X, Y, p, -1, search_directions)
        if descent is not None and differentiable and not any(c != 0 for c in g0):
            for p in strict:
                ascent = ascent or _direction(net, Ws, X, Y, p, +1, search_directions)
    local_min = True if certified else (False if descent is not None else None)
    notes = []
    if not differentiable:
        kind = "at_kink"
    elif any(c != 0 for c in g0):
        kind = "not_critical"
    elif certified:
        kind = "local_min"
    elif descent is not None and ascent is not None:
        kind = "saddle"
    elif descent is not None and ascent is None:
        kind, local_min = "degenerate", False
        notes.append("a descent direction but no ascent direction found")
    else:
        kind = "degenerate"
        notes.append("critical; neither a local-minimum certificate nor a descent direction")
    return StratumCertificate(kind=kind, level="exact", differentiable=differentiable,
                              outputs_differentiable=outs, local_min=local_min,
                              gradient=g0 if differentiable else None, n_strict=len(strict),
                              n_weak=len(pieces), pieces=tuple(cert_pieces),
                              descent=descent, ascent=ascent, notes=tuple(notes), **base)


def _descends(d, g) -> bool:
    """``d`` given and ``g . d <= 0`` exactly.

    >>> _descends((Fraction(1), Fraction(2)), (Fraction(-3), Fraction(1))), _descends(None, (1,))
    (True, False)
    """
    if d is None:
        return False
    return sum((a * b for a, b in zip(g, d) if a != 0 and b != 0), Fraction(0)) <= 0


def _replace(p, **kw):
    import dataclasses
    return dataclasses.replace(p, **kw)


def _path_orthogonal(pattern, X, r) -> bool:
    """``r`` (vec of the residual, output-major) orthogonal to ``V_s`` for every output.

    Exact in python-flint rationals: ``M^T diag(r_c) X = 0`` for every output ``c``, where the
    columns of ``M`` are the path masks of every path (repeated masks change nothing)."""
    import flint
    m, d_x = X.shape
    d_y = len(r) // m
    masks = [[flint.fmpq(1)] * m]
    for lam in pattern:
        cols = [[_fmpq(v) for v in lam[:, k]] for k in range(lam.shape[1])]
        masks = [[a * b for a, b in zip(mu, col)] for mu in masks for col in cols]
    M = flint.fmpq_mat(len(masks), m, [v for mu in masks for v in mu])
    Xq = [_fmpq(v) for v in np.ravel(X)]
    for c in range(d_y):
        rc = [_fmpq(r[c * m + i]) for i in range(m)]
        W = flint.fmpq_mat(m, d_x, [rc[i] * Xq[i * d_x + p] for i in range(m) for p in range(d_x)])
        if any(v != 0 for v in (M * W).entries()):
            return False
    return True


#: z3 resource units per millisecond of the ``nlsat`` budget (measured: 0.05-0.4 M units/s on
#: QF_NRA queries of the test suite); the budget is in resource units so that a loaded machine
#: gives the same certificate as an idle one.
_RLIMIT_PER_MS = 200


def _nlsat_no_lower(net, Ws, X, Y, piece, signs, value, eps, ms) -> bool:
    """True iff z3 (QF_NRA, exact) proves: no ``theta'`` in the ``eps`` box around theta with the
    strict signs of piece ``s`` at every kinked pre-activation has ``P_s(theta') < value``."""
    def q(v):
        return _z3_num(Fraction(v))
    n = net.d_theta
    d = [z3.Real(f"d{j}") for j in range(n)]
    th = net.flatten(Ws)
    t = np.array([q(a) + dj for a, dj in zip(th, d)], dtype=object)
    Wz = net.unflatten(t)
    Phi = np.vectorize(q, otypes=[object])(X)
    sol = z3.SolverFor("QF_NRA")
    # a resource limit, not a time limit: the answer must not depend on the machine's load
    # (the same seed gives the same certificate); the wall clock only guards against a hang
    sol.set("rlimit", _RLIMIT_PER_MS * int(ms))
    sol.set("timeout", 20 * int(ms))
    for dj in d:
        sol.add(dj <= q(eps), dj >= -q(eps))
    choice = {(l, i, k): s_ for (l, i, k, s_) in piece.choice}
    for l in range(1, net.H + 1):
        G = Phi @ Wz[l - 1]
        lam = piece.pattern[l - 1]
        for (i, k), g in np.ndenumerate(G):
            if net.activations[l - 1][k].is_linear:
                continue
            sg = signs[l - 1][i, k] if signs[l - 1][i, k] != 0 else choice.get((l, i, k), 0)
            if sg > 0:
                sol.add(g >= 0)
            elif sg < 0:
                sol.add(g <= 0)
        Phi = np.vectorize(q, otypes=[object])(lam) * G
    Yhat = Phi @ Wz[-1]
    loss = z3.Sum([(Yhat[i, c] - q(Y[i, c])) * (Yhat[i, c] - q(Y[i, c]))
                   for i in range(Yhat.shape[0]) for c in range(Yhat.shape[1])])
    sol.add(loss < 2 * q(value))
    return sol.check() == z3.unsat


def _hess_quad(net, Ws, X, Y, pattern, d) -> Fraction:
    """``d^T Hess P_s d`` exactly: L along theta + t d is a polynomial; its t^2 coefficient
    times 2, from dual numbers (the derivative of grad P_s . d)."""
    th = net.flatten(Ws)
    dual = np.array([_Dual(a, b) for a, b in zip(th, d)], dtype=object)
    Xd = np.array([[_Dual(v) for v in row] for row in X], dtype=object)
    g = nw.gradient(net, net.unflatten(dual), Xd, np.array([[_Dual(v) for v in row] for row in Y],
                                                           dtype=object), pattern=pattern)
    return sum((gi.b * di for gi, di in zip(g, d)), Fraction(0))


def _direction(net, Ws, X, Y, piece, sign, tries):
    """An exact rational ``d in C_s`` with ``sign * (g . d) > 0``, or ``g . d = 0`` and
    ``sign * d^T H d > 0``; None if none found (a search, not a decision)."""
    n = net.d_theta
    g = piece.gradient
    if any(c != 0 for c in g):
        d = _cone(piece.constraints, n, strict=True,
                  extra_strict_neg=tuple(-sign * c for c in g))
        if d is not None:
            return tuple(d)
    if not piece.constraints and all(c == 0 for c in g):
        pass
    # second order: candidate directions from the float Hessian of the piece, pushed into C_s
    pat_f = [np.asarray(p, float) for p in piece.pattern]
    Wf = [np.asarray(W, float) for W in Ws]
    Hf = nw.hessian_in_pattern(net, Wf, np.asarray(X, float), np.asarray(Y, float),
                               pattern=pat_f)
    w, V = np.linalg.eigh(Hf)
    order = np.argsort(w) if sign < 0 else np.argsort(-w)
    c = piece.interior
    cands = []
    for j in order[:tries]:
        if sign * w[j] <= 0:
            continue
        for s in (1, -1):
            v = s * V[:, j]
            for eps in (0.0, 1e-3, 1e-2, 1e-1):
                cands.append(v if c is None else v + eps * np.asarray(c, float)
                             / max(1.0, float(np.linalg.norm(np.asarray(c, float)))))
    for v in cands:
        d = [Fraction(x).limit_denominator(1 << 20) for x in v]
        if not all(sum((a * b for a, b in zip(row, d)), Fraction(0)) > 0
                   for row in piece.constraints):
            continue
        gd = sum((a * b for a, b in zip(g, d)), Fraction(0))
        if gd != 0:
            if sign * gd > 0:
                return tuple(d)
            continue
        if sign * _hess_quad(net, Ws, X, Y, piece.pattern, d) > 0:
            return tuple(d)
    return None


# --------------------------------------------------------------------------- generators

def minimum_targets(net: nw.Network, X, theta, *, rng: np.random.Generator,
                    max_pieces: int = 64, spread: int = 2,
                    against_lambda: bool = False) -> np.ndarray | None:
    """Targets ``Y`` (exact, an object array of Fractions) that make ``theta`` a local minimum
    certified by the ``path_model`` certificate on every piece: ``Y = Yhat(theta) - r`` with each
    column of ``r`` a random integer combination (coefficients in ``[-spread, spread]``) of an
    integer basis of ``(sum_s V_s)^perp`` over the weak pieces ``s`` at theta.

    Then every piece's gradient ``J_s^T r`` is 0, so L is differentiable at theta with
    derivative 0, and ``L(theta) = 1/2 ||r||^2`` (``r`` rescaled by a power of two to
    entries of size at most 2) (0 when the pieces' features span R^m: use
    more samples than features).  A *generator* for points on strata: whether a statement holds
    there is then decided by the certificate, not assumed.  None if the enumeration of sign
    choices is unresolved."""
    from ..pointcache import cached_points

    Xe = exact(np.asarray(X, dtype=object).reshape(-1, net.d_x))
    th = exact(np.asarray(theta, dtype=object).reshape(-1))
    # computed once per content (and state of rng), shared by the run's worker processes
    return cached_points(
        "strata.minimum_targets", ("proofcheck.optimize.strata",), (net, Xe, th),
        lambda: _minimum_targets(net, Xe, th, rng=rng, max_pieces=max_pieces, spread=spread,
                                 against_lambda=against_lambda),
        rng=rng, max_pieces=max_pieces, spread=spread, against_lambda=against_lambda)


def _minimum_targets(net: nw.Network, Xe, th, *, rng: np.random.Generator, max_pieces: int,
                     spread: int, against_lambda: bool) -> np.ndarray | None:
    import flint
    Ws = net.unflatten(th)
    _, signs = _forward_exact(net, Ws, Xe)
    Yhat = nw.forward(net, Ws, Xe, pattern=_pattern(net, signs, {}, net.H)).Yhat
    c = certify_stratum(net, Xe, Yhat, th, max_pieces=max_pieces, nlsat_boxes=(),
                        search_directions=0)
    if c.kind == "unresolved" or not c.pieces:
        return None
    m = Xe.shape[0]
    masks = set()
    for p in c.pieces:
        masks |= _path_masks(p.pattern)
    rows = []
    for mu in sorted(masks):
        for q in range(Xe.shape[1]):
            row = [mu[i] * Xe[i, q] for i in range(m)]
            den = 1
            for v in row:
                den = den * v.denominator // _gcd(den, v.denominator)
            rows.append([int(v * den) for v in row])
    if not rows:
        basis = [[int(i == j) for j in range(m)] for i in range(m)]
    else:
        N, nullity = flint.fmpz_mat(rows).nullspace()
        basis = [[int(N[i, j]) for i in range(m)] for j in range(nullity)]
    R = np.zeros((m, net.d_y), dtype=object)
    R[...] = Fraction(0)
    D = nw.jacobian(net, Ws, Xe, pattern=c.lambda_pattern) if against_lambda else None
    for col in range(net.d_y):
        for b in basis:
            k = int(rng.integers(-spread, spread + 1))
            for i in range(m):
                R[i, col] += k * b[i]
        if D is not None:
            Dc = D[col * m:(col + 1) * m]
            if not any(Dc.T @ R[:, col]):
                hit = [b for b in basis if any(Dc.T @ np.array(b, dtype=object))]
                if hit:
                    R[:, col] += np.array(hit[int(rng.integers(len(hit)))], dtype=object)
    # scale by a power of two to |r| <= 2 (exact in binary floating point)
    big = max((abs(v) for v in R.ravel()), default=Fraction(0))
    if big > 2:
        R = R / Fraction(2) ** (int(big).bit_length() - 1)
    return Yhat - R


def _gcd(a: int, b: int) -> int:
    import math
    return math.gcd(a, b)


# --------------------------------------------------------------------------- exact evaluation

def _rational(v):
    from ..exact_backends import Rational
    if isinstance(v, Rational):
        return v
    if isinstance(v, Fraction):
        return Rational(v.numerator, v.denominator)
    return Rational(v)


def exact_point(point):
    """A point of :mod:`proofcheck.optimize.piecewise` certified exactly on a stratum, with its
    weights (``theta_mp``) and the activation pattern of its certificate (the paper's
    convention: slope 0 at a zero pre-activation) as exact rationals
    (:class:`~proofcheck.exact_backends.Rational`); None when the point carries no exact
    certificate with its exact weights.  Conclusions handed this point compute exactly
    (:func:`proofcheck.optimize.piecewise.exact_value_at_point`)."""
    import dataclasses
    c = getattr(point, "stratum", None)
    if c is None or c.level != "exact" or c.theta is None or c.lambda_pattern is None:
        return None
    theta = np.array([_rational(v) for v in c.theta], dtype=object)
    pattern = tuple(np.vectorize(_rational, otypes=[object])(np.asarray(p, dtype=object))
                    for p in c.lambda_pattern)
    return dataclasses.replace(point, theta_mp=theta, pattern=pattern)


def is_exact_point(point) -> bool:
    """True when ``point.theta_mp`` holds exact rationals (an :func:`exact_point`)."""
    from ..exact_backends import Rational
    th = getattr(point, "theta_mp", None)
    return th is not None and np.size(th) > 0 and all(isinstance(v, Rational)
                                                      for v in np.ravel(th))


def _proj(A: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``P[A] y = A A^+ y`` exactly."""
    from ..exact_backends import _exact_pinv
    if A.shape[1] == 0:
        return np.array([0 * v for v in y], dtype=object)
    return A @ (_exact_pinv(A) @ y)


