"""Exact and ball evaluation of a claim's conclusion: the arithmetic of the judge's certifying
rungs (:mod:`proofcheck.judge`) and of :mod:`proofcheck.search.certify`.

- :func:`exact_instance` turns an instance's float data into the exact rationals they denote
  (or balls, for an :class:`~proofcheck.exact_backends.ArbBackend`); a loss is wrapped so its
  own numpy formulas run on those entries.
- :func:`exact_margin` / :func:`ball_margin` evaluate the claim's own conclusion with the
  exact / ball backend (raising :class:`~proofcheck.exact_backends.NotExact` or
  ``NotCertifiable`` when the conclusion computes through floats).
- :func:`admissibility` evaluates every assumed hypothesis on the exact instance.
- While a conclusion is evaluated, the quantity functions of :mod:`proofcheck.problems` it
  imported are bound to certified counterparts (:class:`_Quantities`).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from .claims import Claim, Instance
from .exact_backends import (ArbBackend, Ball, ExactBackend, NotCertifiable, NotExact, Rational,
                             is_ball_value, is_exact_value, to_arb)

__all__ = ["admissibility", "ball_enclosure", "ball_margin", "exact_instance", "exact_margin",
           "fmt_exact", "as_exact"]

class _LossProxy:
    """A loss whose per-sample ``value_mp / grad_mp / hess_mp`` run the loss's own numpy
    formulas (``_value / _grad / _hess``) on exact or ball entries, instead of converting them
    to mpmath numbers. Every other attribute is the wrapped loss's.

    A float64 array coming out of a formula fed with exact / ball entries can only hold
    constants of the formula (``2.0 * eye(d)``), so it is converted exactly."""

    def __init__(self, loss, B):
        object.__setattr__(self, "wrapped", loss)
        object.__setattr__(self, "_B", B)

    def __getattr__(self, name):
        return getattr(self.wrapped, name)

    def __repr__(self):
        return repr(self.wrapped)

    def _run(self, f, h, y):
        B = self._B
        H = B.asarray(np.asarray(h, dtype=object).reshape(1, -1) if not isinstance(
            h, np.ndarray) or h.dtype == object else h.reshape(1, -1))
        Y = B.asarray(np.asarray(y).reshape(1, -1))
        out = f(H, Y)
        out = np.asarray(out)
        return B.asarray(out) if out.dtype.kind == "f" else out

    def value_mp(self, h, y):
        return self._run(self.wrapped._value, h, y)[0]

    def grad_mp(self, h, y):
        return self._run(self.wrapped._grad, h, y)[0]

    def hess_mp(self, h, y):
        return self._run(self.wrapped._hess, h, y)[0]


def _convert(value, B):
    """A field of an instance in the arithmetic of ``B`` (float data, and the loss through
    :class:`_LossProxy`; sizes, integer arrays such as labels and names are left alone)."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return B.asarray(value)
    if isinstance(value, (float, np.floating)):
        return B.asarray(value)[()]
    if hasattr(value, "_value") and hasattr(value, "value_mp") and hasattr(value, "convex"):
        return _LossProxy(value, B)
    return value


def exact_instance(inst: Instance, B=None) -> Instance:
    """The instance with its float data as exact rationals (or balls, for an ArbBackend ``B``).

    >>> exact_instance(Instance(x=0.5, n=3)).x
    Rational(1/2)
    """
    B = ExactBackend() if B is None else B
    return Instance(**{k: _convert(v, B) for k, v in inst.fields().items()})


# ---------------------------------------------------------------------------------------------
# admissibility

def _admissibility(claim: Claim, inst: Instance) -> list[dict[str, Any]]:
    out = []
    exact = None
    assert claim.assumed is not None  # set by Claim.__post_init__
    for h in claim.hypotheses:
        if not claim.assumed[h.name] or h.holds is None:
            continue
        how, ok = "", None
        try:
            exact = exact_instance(inst) if exact is None else exact
            ok = bool(h.holds(exact))
            how = "evaluated on the exact rational instance"
        except Exception:
            try:
                ok = bool(h.holds(inst))
                how = ("evaluated on the float64 instance (the predicate does not accept "
                       "exact data; sizes and loss properties are discrete, hence exact)")
            except Exception as exc:
                ok, how = False, f"could not be evaluated: {type(exc).__name__}: {exc}"
        out.append({"hypothesis": h.name, "statement": h.statement, "holds": ok, "how": how})
    for name in claim.assumed.dropped:
        h = claim.hypothesis(name)
        try:
            ok = None if h.holds is None else bool(h.holds(inst))
        except Exception:
            ok = None
        out.append({"hypothesis": name, "statement": h.statement, "holds": ok,
                    "how": "dropped (not required; recorded for information)", "dropped": True})
    return out


# ---------------------------------------------------------------------------------------------
# margins in exact / ball arithmetic

def _fmt(x) -> str:
    if isinstance(x, Rational):
        s = str(x)
        return s if len(s) <= 60 else f"{x.as_float():.17g} (exact rational, {len(s)} chars)"
    return repr(x)


def _exact_margin(claim, inst, point, E):
    """The conclusion's margin in exact arithmetic: (worst value, tol) or raise NotExact."""
    with _substituted(claim.conclusion, _Quantities(E)):
        m = claim.conclusion(exact_instance(inst, E), point, E)
    if not is_exact_value(m.value):
        raise NotExact(f"the conclusion's margin is a {type(np.asarray(m.value).flat[0]).__name__}"
                       ", not an exact rational (it computes through floats)")
    vals = [Rational(v) if not isinstance(v, Rational) else v
            for v in np.asarray(m.value, dtype=object).flat]
    return min(vals), m


def _ball_margin(claim, inst, point, A):
    # raw operators in the conclusion (outside the backend's methods) also run at A's precision
    with _substituted(claim.conclusion, _Quantities(A)), A._ctx():
        m = claim.conclusion(exact_instance(inst, A), point, A)
    if not is_ball_value(m.value):
        raise NotCertifiable(f"the conclusion's margin is a "
                             f"{type(np.asarray(m.value, dtype=object).flat[0]).__name__}, "
                             "not a ball (it computes through floats)")
    vals = list(np.asarray(m.value, dtype=object).flat)
    # a failure is proven by any entry whose whole ball is negative; report the lowest upper end
    best = min(vals, key=lambda b: b.upper())
    return best, m


def _ball_enclosure(b) -> tuple[str, str]:
    """(lower, upper) as decimal strings of float64 numbers rounded *outward*, so the printed
    interval contains the ball (float() of an arb endpoint rounds to nearest)."""
    return (f"{b.lower():.17g}", f"{b.upper():.17g}")


# ---------------------------------------------------------------------------------------------
# certified counterparts of the shared quantity functions of proofcheck.problems

class _Quantities:
    """Certified versions of :mod:`proofcheck.problems`' quantity functions (L at a point,
    L*_{x}, L*_{x,z}, the least-squares gain by projections, L^R) with the same signatures.

    While a conclusion is evaluated for certification, the names a theorem module imported from
    :mod:`proofcheck.problems` are bound to these (and restored afterwards), so the claim's own
    formula combines *enclosures* of its ingredients. Only the squared loss is supported for L*
    (a least-squares value, exact in rationals); other losses raise NotCertifiable (their
    infima come from an iterative solver with no rigorous enclosure here)."""

    NAMES = ("values_at_point", "at_point", "at_point_Z", "linear_value", "linear_value_pair",
             "least_squares_gain", "linear_objective")

    def __init__(self, B):
        self.B = B                  # ExactBackend or ArbBackend
        self.E = ExactBackend()

    def _out(self, x):
        """An exact value in the backend's arithmetic (a Ball for the arb backend)."""
        if isinstance(self.B, ArbBackend):
            if isinstance(x, np.ndarray):
                return self.B.asarray(x)
            return to_arb(x) if isinstance(x, (Rational, int)) else x
        return x

    @staticmethod
    def _require_squared(inst):
        from .losses import SquaredLoss
        loss = getattr(inst.loss, "wrapped", inst.loss)
        if not isinstance(loss, SquaredLoss):
            raise NotCertifiable(f"L* of the {type(loss).__name__} has no certified "
                                 "enclosure here (only least squares is exact)")
        if inst.fields().get("weights") is not None:
            raise NotCertifiable("a weighted measure: L* is not certified here")

    def _Lstar(self, inst, Phi):
        """(1/m)||P_N[Phi] Y||_F^2 exactly: the least-squares value of the squared loss."""
        self._require_squared(inst)
        E = self.E
        Y = _as_exact(inst.Y)
        m = Y.shape[0]
        R = E.null_project(_as_exact(Phi), Y)
        return E.fro2(R) / m

    def _Z(self, inst, cp):
        if inst.fields().get("residual") in ("tanh", "quadratic") or "Z" not in inst.fields():
            raise NotCertifiable("a trainable residual z(x; θ): L*_{x,z(x,θ)} at a box of θ is "
                                 "not certified here")
        return np.asarray(inst.Z)

    def _L(self, inst, cp):
        if not hasattr(cp, "box_value"):
            raise NotCertifiable("the point is not a certified box")
        return cp.box_value

    # -- the counterparts ------------------------------------------------------------------
    def linear_value(self, inst, cp=None, basis="x,z", digits=None):
        X = _as_exact(inst.X)
        Phi = X if basis == "x" else np.hstack([X, _as_exact(self._Z(inst, cp))])
        v = self._out(self._Lstar(inst, Phi))
        return SimpleNamespace(value=v, lower_bound=v, upper_bound=v, status="certified")

    def linear_value_pair(self, inst):
        Lx = self.linear_value(inst, basis="x").value
        Lxz = self.linear_value(inst).value
        return Lx, Lxz, self._out(Rational(0))

    def values_at_point(self, inst, cp, *bases):
        L = self._L(inst, cp)
        fits = [self.linear_value(inst, cp, basis=b).value for b in bases]
        return (L, *fits, self._out(Rational(0)),
                "certified enclosures: L over the certified box, L* exact least squares")

    def at_point(self, inst, cp):
        L = self._L(inst, cp)
        zero = self._out(Rational(0))
        return SimpleNamespace(L=L, zD=cp.box_zD, xD=cp.box_xD, Z=np.asarray(inst.Z),
                               resolution=zero, digits=cp.digits,
                               resolution_source="certified box (ball arithmetic)")

    def least_squares_gain(self, X, Z, Y, B):
        from . import problems
        t = problems.least_squares_gain(_as_exact(X), _as_exact(Z), _as_exact(Y), self.E)
        return {k: (self._out(v) if isinstance(v, (Rational, np.ndarray)) else v)
                for k, v in t.items()}

    def at_point_Z(self, inst, cp=None):
        return self._out(_as_exact(self._Z(inst, cp)))

    def linear_objective(self, inst, R, B=None):
        Phi, Y = self.B.asarray(np.asarray(inst.Phi)), self.B.asarray(np.asarray(inst.Y))
        H = self.B.matmul(Phi, self.B.T(self.B.asarray(R)))
        vals = np.asarray(inst.loss._value(H, Y), dtype=object)
        return self.B.mean(vals, axis=-1)


def _as_exact(a) -> np.ndarray:
    """An array of exact rationals from floats, Rationals or zero-radius balls (the data of an
    instance converted for certification); a ball with a radius is not exact data."""
    def one(x):
        if isinstance(x, Rational):
            return x
        if isinstance(x, Ball):
            if not x.a.rad() == 0:
                raise NotCertifiable("data given as a ball with a radius is not exact")
            man, exp = x.a.mid().man_exp()
            return Rational(int(man) * 2 ** int(exp)) if exp >= 0 else \
                Rational(int(man), 2 ** (-int(exp)))
        return Rational(x)
    arr = np.asarray(a, dtype=object) if not isinstance(a, np.ndarray) else a
    out = np.empty(arr.shape, dtype=object)
    for idx, v in np.ndenumerate(arr):
        out[idx] = one(v)
    return out


class _substituted:
    """Bind the names of :class:`_Quantities` in the conclusion's module (and in the catalogue
    and user theorem modules) to the certified versions, for the duration of a ``with``."""

    def __init__(self, fn, quantities: _Quantities):
        self.fn, self.q = fn, quantities
        self.saved: list[tuple[dict, str, Any]] = []

    def _namespaces(self):
        import sys
        seen, out = set(), []
        g = getattr(self.fn, "__globals__", None)
        cands = [g] if g is not None else []
        for name, mod in list(sys.modules.items()):
            if name.startswith(("proofcheck.catalogue.", "theorems.", "proofcheck_user_")) \
                    and mod is not None:
                cands.append(vars(mod))
        for ns in cands:
            if id(ns) not in seen:
                seen.add(id(ns))
                out.append(ns)
        return out

    def __enter__(self):
        from . import problems
        originals = {n: getattr(problems, n) for n in _Quantities.NAMES}
        for ns in self._namespaces():
            for n, orig in originals.items():
                if ns.get(n) is orig:
                    self.saved.append((ns, n, orig))
                    ns[n] = getattr(self.q, n)
        return self

    def __exit__(self, *exc):
        for ns, n, orig in self.saved:
            ns[n] = orig
        return False



# public names
admissibility = _admissibility
exact_margin = _exact_margin
ball_margin = _ball_margin
ball_enclosure = _ball_enclosure
fmt_exact = _fmt
as_exact = _as_exact
