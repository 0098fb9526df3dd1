"""A decision procedure for polynomial (in)equalities over the reals at a fixed size.

A statement "for all real ``x_1 .. x_n``: hypotheses => conclusion", whose hypotheses and
conclusion are polynomial (in)equalities combined with And / Or / Not, is decided by nonlinear
real arithmetic (z3's ``nlsat``, with cvc5 as a second opinion when it is installed):

``Proven``          hypotheses AND NOT conclusion is unsatisfiable: the statement holds for
                    *every* real assignment (at this size).  Grade ``proven``.
``Counterexample``  a solver model, converted to exact numbers (rationals, or algebraic numbers
                    as ``sympy.CRootOf``) and **re-validated exactly with sympy**: every
                    hypothesis holds and the conclusion fails in exact arithmetic.  Grade
                    ``certified``.  A model that does not re-validate is never trusted: the
                    result is then ``Unknown`` and says so.
``Unknown``         no answer within the time limit (or the solvers disagree, or a model failed
                    re-validation); the reason is reported.

Exact encodings beyond polynomials (each introduces an auxiliary variable and its definition):
``1/a`` (``t a = 1``, so ``a != 0``), ``sqrt(a)`` (``t >= 0, t^2 = a``, so ``a >= 0``),
``Abs``, ``Max``, ``Min``.  The domain conditions they imply are part of the reading "wherever
every expression is defined" and are listed in the result.  Undefined functions (``l(p)``,
``Derivative(l(t), t)`` at a point) are uninterpreted functions: a proof holds for *every*
function, and a counterexample gives a finite table of values that any smooth function
interpolating them realises (Hermite interpolation); the table is checked for consistency.
Anything else (``exp``, ``log``, ``sin``, ...) is refused with an error naming it.

>>> x, y = sp.symbols("x y", real=True)
>>> decide([x, y], [], x**2 + y**2 >= 2*x*y).status
'proven'
>>> r = decide([x], [x > 0], x**2 > x)
>>> r.status, r.witness[x] <= 1
('counterexample', True)
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .lazy import lazy_import, resolve

if TYPE_CHECKING:  # pragma: no cover - mypy reads sympy's types through a plain import
    import sympy as sp
else:
    sp = lazy_import("sympy")   # loaded on first use (startup cost)

if TYPE_CHECKING:  # pragma: no cover
    from sympy.core.function import AppliedUndef
    from sympy.logic.boolalg import Boolean



__all__ = [
    "Decidable", "Decision", "Proven", "Counterexample", "Unknown", "SolverRun",
    "TranslationError", "decide", "decide_claim", "decide_dropped", "solvers_available",
    "psd_constraints", "lambda_min_constraints", "mutate_forms", "DEFAULT_TIMEOUT",
]

#: Default time limit per solver, seconds.
DEFAULT_TIMEOUT = 20.0
#: Time limit of the second opinion (cvc5), seconds: at most this, at most ``timeout``.
SECOND_OPINION_TIMEOUT = 10.0
#: Fixed seed of both solvers (their answers are deterministic up to the time limit).
SEED = 0


class TranslationError(ValueError):
    """The expression is outside what the decision procedure covers."""


# --------------------------------------------------------------------------- results

@dataclass
class SolverRun:
    """One solver's answer: ``unsat`` | ``sat`` | ``unknown`` | ``error`` | ``not installed``."""

    solver: str
    answer: str
    seconds: float = 0.0
    reason: str = ""

    def describe(self) -> str:
        """The answer without its time (run reports stay the same from run to run; the time
        is in ``seconds``)."""
        tail = f" ({self.reason})" if self.reason else ""
        return f"{self.solver}: {self.answer}{tail}"


@dataclass
class Decision:
    """What the decision procedure established about one statement at one size."""

    name: str
    status: str = "unknown"
    runs: list[SolverRun] = field(default_factory=list)
    size: dict[str, int] = field(default_factory=dict)
    reason: str = ""
    witness: dict[Any, Any] | None = None
    function_table: dict[str, list[tuple[tuple[Any, ...], Any]]] = field(default_factory=dict)
    domain: list[str] = field(default_factory=list)
    seconds: float = 0.0
    timeout: float = DEFAULT_TIMEOUT
    app_values: dict[Any, Any] = field(default_factory=dict, repr=False)

    def evaluate(self, expr: Any) -> sp.Expr:
        """The exact value of ``expr`` at a counterexample (undefined functions from its table).

        >>> x = sp.Symbol("x", real=True)
        >>> decide([x], [x > 1], x**2 < 1).evaluate(x**2 - 1) > 0
        True
        """
        if self.witness is None:
            raise ValueError("only a counterexample has values to evaluate at")
        apps = self.app_values

        def app_value(e: AppliedUndef) -> sp.Expr:
            if e not in apps:
                raise ValueError(f"the counterexample gives no value to {e}")
            return apps[e]

        return sp.expand(_Evaluator(self.witness, app_value).value(_normalise_functions(expr)))

    def witness_table(self) -> dict[str, sp.Expr]:
        """The witness as ``name -> exact value``, function values as ``l^(1)(0)``."""
        out: dict[str, sp.Expr] = {str(k): v for k, v in (self.witness or {}).items()}
        for name, rows in self.function_table.items():
            for args, val in rows:
                out[f"{_fn_name(name)}({', '.join(map(str, args))})"] = val
        return out

    @property
    def grade(self) -> str | None:
        """``proven`` (for all reals at this size), ``certified`` (an exact counterexample)."""
        return {"proven": "proven", "counterexample": "certified"}.get(self.status)

    @property
    def holds(self) -> bool | None:
        return {"proven": True, "counterexample": False}.get(self.status)

    def solvers_text(self) -> str:
        return "; ".join(r.describe() for r in self.runs)

    def describe(self) -> str:
        size = (" at " + ", ".join(f"{k}={v}" for k, v in self.size.items())) if self.size else ""
        head = f"{self.name or 'statement'}{size}: "
        if self.status == "proven":
            text = "PROVEN for all reals (hypotheses and the negated conclusion are unsatisfiable)"
        elif self.status == "counterexample":
            text = ("COUNTEREXAMPLE, re-validated exactly: " + _fmt_assignment(self.witness or {}))
            if self.function_table:
                text += "; functions: " + _fmt_table(self.function_table)
        else:
            text = f"UNKNOWN: {self.reason}"
        if self.domain:
            text += "; read where defined: " + ", ".join(self.domain)
        return head + text + f" [{self.solvers_text()}]"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "grade": self.grade,
                "size": dict(self.size), "reason": self.reason,
                "witness": None if self.witness is None else
                {str(k): str(v) for k, v in self.witness.items()},
                "functions": {k: [[list(map(str, a)), str(v)] for a, v in rows]
                              for k, rows in self.function_table.items()},
                "domain": list(self.domain), "seconds": self.seconds, "timeout": self.timeout,
                "solvers": [dataclasses.asdict(r) for r in self.runs],
                "description": self.describe()}


class Proven(Decision):
    """Hypotheses AND NOT conclusion is unsatisfiable over the reals."""


class Counterexample(Decision):
    """An exact assignment (re-validated with sympy) satisfying the hypotheses, not the claim."""


class Unknown(Decision):
    """No decision within the time limit, or an untrusted model; ``reason`` says which."""


def _fmt_assignment(values: Mapping[Any, Any]) -> str:
    return ", ".join(f"{k} = {_fmt_number(v)}" for k, v in values.items()) or "(no variables)"


def _fmt_number(v: Any) -> str:
    v = sp.sympify(v)
    if v.is_Rational:
        return str(v)
    return f"{v} (~ {sp.N(v, 12)})"


def _fn_name(name: str) -> str:
    """``l__d1`` -> ``l^(1)`` (the first derivative of ``l``)."""
    base, sep, orders = name.partition("__d")
    return f"{base}^({orders.replace('_', ',')})" if sep else name


def _fmt_table(table: Mapping[str, list]) -> str:
    return "; ".join(f"{_fn_name(name)}({', '.join(map(str, args))}) = {val}"
                     for name, rows in table.items() for args, val in rows)


# --------------------------------------------------------------------------- the statement

_ASSUMPTIONS = (("positive", ">", 0), ("negative", "<", 0), ("nonnegative", ">=", 0),
                ("nonpositive", "<=", 0), ("nonzero", "!=", 0))


def _symbol_assumptions(s: sp.Symbol) -> list[tuple[sp.Symbol, str]]:
    """Hypotheses carried by a sympy symbol's assumptions (``positive=True`` -> ``s > 0``).

    Kept as ``(symbol, op)`` pairs: as sympy relations they would evaluate to ``True``."""
    if s.is_integer:
        raise TranslationError(f"symbol {s} is declared integer: the decision procedure is over "
                               "the reals only")
    found = [(s, op) for attr, op, _ in _ASSUMPTIONS if s.assumptions0.get(attr)]
    return found[:1] if found and found[0][1] in (">", "<") else found


_OPS = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}
_SIGN_OK = {"==": lambda s: s == 0, "!=": lambda s: s != 0, "<": lambda s: s < 0,
            "<=": lambda s: s <= 0, ">": lambda s: s > 0, ">=": lambda s: s >= 0}


@dataclass(frozen=True)
class Decidable:
    """A claim in decidable form: for all real ``variables``, hypotheses => conclusion.

    ``hypotheses`` is a mapping name -> relation (a name matching a claim's
    :class:`~proofcheck.claims.Hypothesis` is dropped with it) or a sequence of relations
    (named ``h1``, ``h2``...).  ``size`` records the dimensions this form is stated at, e.g.
    ``{"d_x": 1, "m": 1}``; ``reading`` says in words how the paper's statement was made
    polynomial (a fixed loss, a sample count, a squared comparison of nonnegative sides).
    Symbol assumptions (``positive=True``) count as hypotheses.  ``definitions`` are relations
    that define auxiliary variables as printed (e.g. ``r ||w||^2 = 1`` for the ``1/||w||^2`` of
    a formula, so sympy cannot cancel it away and silently extend the domain); they are never
    dropped.

    >>> a, b = sp.symbols("a b", real=True)
    >>> D = Decidable([a, b], {"pos": sp.And(a > 0, b > 0)}, (a + b) / 2 >= sp.sqrt(a * b),
    ...               size={"n": 2}, name="AM-GM")
    >>> D.decide().status
    'proven'
    """

    variables: tuple[sp.Symbol, ...]
    hypotheses: Any
    conclusion: Any
    size: Mapping[str, int] | None = None
    name: str = ""
    reading: str = ""
    timeout: float = DEFAULT_TIMEOUT
    definitions: Any = ()

    def __post_init__(self) -> None:
        variables = tuple(self.variables)
        for v in variables:
            if not isinstance(v, sp.Symbol):
                raise TypeError(f"Decidable: variable {v!r} is not a sympy Symbol")
        object.__setattr__(self, "variables", variables)
        hyps = self.hypotheses
        if isinstance(hyps, Mapping):
            named = tuple((str(k), sp.sympify(v)) for k, v in hyps.items())
        else:
            named = tuple((f"h{k + 1}", sp.sympify(v)) for k, v in enumerate(hyps or ()))
        object.__setattr__(self, "hypotheses", named)
        defs = self.definitions
        defs = tuple(sp.sympify(d) for d in (defs.values() if isinstance(defs, Mapping)
                                             else defs or ()))
        object.__setattr__(self, "definitions", defs)
        object.__setattr__(self, "conclusion", sp.sympify(self.conclusion))
        object.__setattr__(self, "size", dict(self.size or {}))
        free = set()
        for _, h in named:
            free |= h.free_symbols
        free |= self.conclusion.free_symbols
        for d in defs:
            free |= d.free_symbols
        missing = sorted(free - set(variables), key=str)
        if missing:
            raise TranslationError(
                f"Decidable {self.name or ''}: free symbols {missing} are not among the "
                f"variables {list(variables)}; list every real variable (quantified for all)")

    @property
    def hypothesis_names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.hypotheses)

    def dropping(self, *names: str) -> Decidable:
        """The same statement without the named hypotheses."""
        unknown = set(names) - set(self.hypothesis_names)
        if unknown:
            raise KeyError(f"Decidable {self.name}: no hypothesis {sorted(unknown)}; it has "
                           f"{list(self.hypothesis_names)}")
        kept = {n: h for n, h in self.hypotheses if n not in names}
        return dataclasses.replace(self, hypotheses=kept)

    def replace(self, **changes: Any) -> Decidable:
        if "hypotheses" not in changes:
            changes["hypotheses"] = dict(self.hypotheses)
        return dataclasses.replace(self, **changes)

    def decide(self, *, timeout: float | None = None, second_opinion: bool = True) -> Decision:
        """Run :func:`decide` on this statement."""
        return decide(self.variables, [*self.definitions, *(h for _, h in self.hypotheses)],
                      self.conclusion,
                      timeout=self.timeout if timeout is None else timeout,
                      second_opinion=second_opinion, name=self.name, size=self.size)


# --------------------------------------------------------------------------- normalisation

def _normalise_functions(expr: Any) -> Any:
    """``Subs(Derivative(l(t), t), t, a)`` -> ``l__d1(a)``, ``Derivative(l(x), x)`` -> ``l__d1(x)``.

    After this, every undefined function application is a plain ``AppliedUndef`` whose function
    name records the derivative orders, so it can be an uninterpreted function.
    """
    def fname(f: AppliedUndef, orders: Sequence[int]) -> str:
        base = f.func.__name__
        if not any(orders):
            return base
        return base + "__d" + "_".join(map(str, orders))

    def derivative_app(d: sp.Derivative) -> tuple[str, tuple] | None:
        inner = d.expr
        if not isinstance(inner, sp.core.function.AppliedUndef):
            return None
        args = inner.args
        if not all(isinstance(a, sp.Symbol) for a in args) or len(set(args)) != len(args):
            return None
        orders = [0] * len(args)
        for var, count in d.variable_count:
            if var not in args:
                return None
            orders[args.index(var)] += int(count)
        return fname(inner, orders), args

    def rewrite(e: Any) -> Any:
        if isinstance(e, sp.Subs):
            body = e.expr
            if isinstance(body, sp.Derivative):
                found = derivative_app(body)
                if found is not None:
                    name, args = found
                    mapping = dict(zip(e.variables, e.point))
                    new_args = [rewrite(sp.sympify(mapping.get(a, a))) for a in args]
                    return sp.Function(name)(*new_args)
            return rewrite(e.doit())
        if isinstance(e, sp.Derivative):
            found = derivative_app(e)
            if found is not None:
                name, args = found
                return sp.Function(name)(*args)
            done = e.doit()
            if done == e:
                raise TranslationError(f"cannot express the derivative {e} as an uninterpreted "
                                       "function of its arguments")
            return rewrite(done)
        if not e.args:
            return e
        return e.func(*[rewrite(a) for a in e.args])

    return rewrite(sp.sympify(expr))


# --------------------------------------------------------------------------- translation

class _Translator:
    """sympy -> terms of a z3-like API (``z3`` or ``cvc5.pythonic``), with aux definitions."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self.vars: dict[sp.Symbol, Any] = {}
        self.funcs: dict[tuple[str, int], Any] = {}
        self.defs: list[Any] = []          # constraints defining auxiliary variables
        self.domain: list[str] = []        # their domain conditions, in words
        self.cache: dict[Any, Any] = {}
        self.apps: list[tuple[AppliedUndef, Any]] = []
        self.app_args: list[tuple[str, list[Any], Any]] = []
        self._aux = 0

    def var(self, s: sp.Symbol) -> Any:
        if s not in self.vars:
            self.vars[s] = self.api.Real(f"{s.name}!{len(self.vars)}")
        return self.vars[s]

    def fresh(self, what: str) -> Any:
        self._aux += 1
        return self.api.Real(f"aux!{what}!{self._aux}")

    def term(self, e: Any) -> Any:
        if e in self.cache:
            return self.cache[e]
        t = self._term(e)
        self.cache[e] = t
        return t

    def _term(self, e: Any) -> Any:
        api = self.api
        if isinstance(e, sp.Symbol):
            return self.var(e)
        if isinstance(e, sp.Rational):
            return self._rat(e)
        if isinstance(e, sp.Float):
            raise TranslationError(f"the float {e} is not exact: use sympy.Rational")
        if isinstance(e, sp.Add):
            out = self.term(e.args[0])
            for a in e.args[1:]:
                out = out + self.term(a)
            return out
        if isinstance(e, sp.Mul):
            out = self.term(e.args[0])
            for a in e.args[1:]:
                out = out * self.term(a)
            return out
        if isinstance(e, sp.Pow):
            base, ex = e.args
            if ex.is_Integer:
                n = int(ex)
                if n >= 0:
                    return self._power(self.term(base), n)
                inv = self._inverse(base)
                return self._power(inv, -n)
            if ex.is_Rational and ex.q == 2:
                root = self._sqrt(base)
                n = int(ex.p)
                return self._power(root, n) if n >= 0 else self._power(self._inv_term(
                    root, f"1/sqrt({base})"), -n)
            raise TranslationError(f"the power {e} has exponent {ex}: only integer and half-"
                                   "integer exponents are decidable here")
        if isinstance(e, sp.Abs):
            a = self.term(e.args[0])
            t = self.fresh("abs")
            self.defs.append(api.And(t >= 0, api.Or(t == a, t == -a)))
            return t
        if isinstance(e, (sp.Max, sp.Min)):
            args = [self.term(a) for a in e.args]
            t = self.fresh("max" if isinstance(e, sp.Max) else "min")
            if isinstance(e, sp.Max):
                self.defs.extend(t >= a for a in args)
            else:
                self.defs.extend(t <= a for a in args)
            self.defs.append(api.Or(*[t == a for a in args]) if len(args) > 1 else t == args[0])
            return t
        if isinstance(e, sp.core.function.AppliedUndef):
            # Ackermann's reduction: each application is a fresh real; congruence (equal
            # arguments -> equal values) is added by congruence(), so the problem stays in
            # QF_NRA, where nlsat is complete.
            args = [self.term(a) for a in e.args]
            t = self.fresh(f"{e.func.__name__}")
            self.apps.append((e, t))
            self.app_args.append((e.func.__name__, args, t))
            return t
        raise TranslationError(
            f"{type(e).__name__} in {_short(e)} is outside the decidable fragment (+, *, integer "
            "and half-integer powers, rationals, Abs, Max, Min, relations, And/Or/Not, "
            "undefined functions)")

    def congruence(self) -> list[Any]:
        """Functional consistency of the abstracted applications (Ackermann)."""
        out = []
        for (f1, a1, t1), (f2, a2, t2) in itertools.combinations(self.app_args, 2):
            if f1 == f2 and len(a1) == len(a2):
                same = [x == y for x, y in zip(a1, a2)]
                out.append(self.api.Implies(self.api.And(*same) if len(same) > 1 else same[0],
                                            t1 == t2))
        return out

    def _rat(self, q: sp.Rational) -> Any:
        return self.api.RealVal(f"{int(q.p)}/{int(q.q)}") if q.q != 1 \
            else self.api.RealVal(int(q.p))

    def _power(self, t: Any, n: int) -> Any:
        if n == 0:
            return self.api.RealVal(1)
        out = t
        for _ in range(n - 1):
            out = out * t
        return out

    def _inverse(self, base: Any) -> Any:
        return self._inv_term(self.term(base), f"{base} != 0")

    def _inv_term(self, b: Any, text: str) -> Any:
        t = self.fresh("inv")
        self.defs.append(t * b == 1)
        if text not in self.domain:
            self.domain.append(text)
        return t

    def _sqrt(self, base: Any) -> Any:
        b = self.term(base)
        t = self.fresh("sqrt")
        self.defs.append(t >= 0)
        self.defs.append(t * t == b)
        text = f"{base} >= 0"
        if text not in self.domain:
            self.domain.append(text)
        return t

    def formula(self, f: Any) -> Any:
        api = self.api
        if f is True or isinstance(f, sp.logic.boolalg.BooleanTrue):
            return api.BoolVal(True)
        if f is False or isinstance(f, sp.logic.boolalg.BooleanFalse):
            return api.BoolVal(False)
        if isinstance(f, sp.And):
            return api.And(*[self.formula(a) for a in f.args])
        if isinstance(f, sp.Or):
            return api.Or(*[self.formula(a) for a in f.args])
        if isinstance(f, sp.Not):
            return api.Not(self.formula(f.args[0]))
        if isinstance(f, sp.Implies):
            return api.Implies(self.formula(f.args[0]), self.formula(f.args[1]))
        if isinstance(f, sp.Equivalent):
            a, b = (self.formula(x) for x in f.args[:2])
            return a == b
        if isinstance(f, sp.Rel):
            lhs, rhs = self.term(f.lhs), self.term(f.rhs)
            op = f.rel_op
            return {"==": lambda: lhs == rhs, "!=": lambda: lhs != rhs, "<": lambda: lhs < rhs,
                    "<=": lambda: lhs <= rhs, ">": lambda: lhs > rhs,
                    ">=": lambda: lhs >= rhs}[op]()
        raise TranslationError(f"{type(f).__name__} in {_short(f)} is not a relation or a "
                               "Boolean combination of relations")


def _short(e: Any, n: int = 120) -> str:
    s = str(e)
    return s if len(s) <= n else s[: n - 3] + "..."


# --------------------------------------------------------------------------- solvers

def solvers_available() -> dict[str, bool]:
    """Which solvers are importable: ``{"z3": True, "cvc5": False}``."""
    out = {}
    for name, mod in (("z3", "z3"), ("cvc5", "cvc5.pythonic")):
        try:
            __import__(mod)
            out[name] = True
        except Exception:  # pragma: no cover - depends on the install
            out[name] = False
    return out


def _z3_api() -> Any:
    try:
        import z3
    except ImportError:
        raise ImportError("the decision procedure needs z3: pip install 'proofcheck[decide]' "
                          "(z3-solver)") from None
    return z3


def _cvc5_api() -> Any | None:
    try:
        import cvc5.pythonic as cp
    except Exception:
        return None
    return cp


def _api(solver_name: str) -> Any:
    return _z3_api() if solver_name == "z3" else _cvc5_api()


class _Z3Context:
    """The part of z3's API the translator uses, bound to one new :class:`z3.Context`."""

    def __init__(self, z3: Any) -> None:
        self._z3, self.ctx = z3, z3.Context()

    def Real(self, name: str) -> Any:
        return self._z3.Real(name, self.ctx)

    def RealVal(self, value: Any) -> Any:
        return self._z3.RealVal(value, self.ctx)

    def BoolVal(self, value: bool) -> Any:
        return self._z3.BoolVal(value, self.ctx)

    def And(self, *args: Any) -> Any:
        return self._z3.And(*args, self.ctx)

    def Or(self, *args: Any) -> Any:
        return self._z3.Or(*args, self.ctx)

    def Not(self, a: Any) -> Any:
        return self._z3.Not(a, self.ctx)

    def Implies(self, a: Any, b: Any) -> Any:
        return self._z3.Implies(a, b, self.ctx)

    def SolverFor(self, logic: str) -> Any:
        return self._z3.SolverFor(logic, ctx=self.ctx)


def _solve(solver_name: str, api: Any, build: Callable[[_Translator], Any], timeout: float,
           has_functions: bool, variables: Sequence[sp.Symbol]
           ) -> tuple[SolverRun, Any, _Translator | None]:
    """Translate with ``build`` into ``api`` and check.

    Returns (run, model, translator); on ``sat`` the model is read into exact sympy numbers:
    ``model = (values of the variables, values of the function applications)``.
    """
    if solver_name == "z3":
        # a fresh z3 context per decision: the model z3 returns must not depend on what the
        # process decided before (in one shared context, a claim's witness differed between
        # --jobs 1 and --jobs 2, where the workers had decided different claims first)
        api = _Z3Context(api)
    tr = _Translator(api)
    t0 = time.perf_counter()
    reader = _from_z3 if solver_name == "z3" else _from_cvc5
    try:
        goal = build(tr)
        logic = "QF_NRA"   # undefined functions are Ackermannised (see _Translator)
        s = api.SolverFor(logic)
        ms = max(1, int(timeout * 1000))
        if solver_name == "z3":
            s.set("timeout", ms)
            s.set("random_seed", SEED)
        else:
            s.set("tlimit-per", ms)
            s.set("seed", SEED)
        for d in tr.defs:
            s.add(d)
        s.add(goal)
        answer = str(s.check())
    except TranslationError:
        raise
    except Exception as exc:  # a solver crash is reported, not trusted
        return (SolverRun(solver_name, "error", time.perf_counter() - t0,
                          f"{type(exc).__name__}: {exc}"), None, tr)
    seconds = time.perf_counter() - t0
    reason = ""
    model = None
    if answer == "unknown":
        try:
            reason = str(s.reason_unknown())
        except Exception:
            reason = "no reason given"
        if reason in ("canceled", "timeout", "resource limits reached",
                      "(resource limits reached)"):
            reason = f"time limit {timeout:g} s reached ({reason})"
    elif answer == "sat":
        try:
            m = s.model()
            values = {v: reader(m.eval(tr.vars[v], model_completion=True))
                      for v in variables if v in tr.vars}
            apps = {e: reader(m.eval(t, model_completion=True)) for e, t in tr.apps}
            model = (values, apps)
        except Exception as exc:
            reason = f"no exact model: {type(exc).__name__}: {exc}"
    return SolverRun(solver_name, answer, seconds, reason), model, tr


def _always_second() -> bool:
    import os
    return os.environ.get("PROOFCHECK_SECOND_OPINION", "").strip().lower() == "always"


def _solve_in_child(solver_name: str, build: Callable[[_Translator], Any], timeout: float,
                    has_functions: bool, variables: Sequence[sp.Symbol]
                    ) -> tuple[SolverRun, Any, None]:
    """A solver in a forked process, killed at the time limit (cvc5's CAD ignores its
    ``tlimit`` and z3's nlsat can overrun its ``timeout``: the limit must be hard)."""
    import multiprocessing as mp
    try:
        ctx = mp.get_context("fork")
    except ValueError:  # pragma: no cover - platforms without fork: run in process
        run, model, _ = _solve(solver_name, _api(solver_name), build, timeout, has_functions,
                               variables)
        return run, model, None
    recv, send = ctx.Pipe(duplex=False)

    def child() -> None:
        try:
            run, model, _ = _solve(solver_name, _api(solver_name), build, timeout,
                                   has_functions, variables)
            send.send((run, model))
        except BaseException as exc:  # report, never hang the parent
            send.send((SolverRun(solver_name, "error", 0.0, f"{type(exc).__name__}: {exc}"),
                       None))

    t0 = time.perf_counter()
    proc = ctx.Process(target=child, daemon=True)
    proc.start()
    send.close()
    grace = timeout + 2.0
    if recv.poll(grace):
        try:
            run, model = recv.recv()
        except EOFError:
            run, model = SolverRun(solver_name, "error", time.perf_counter() - t0,
                                   "the solver process died"), None
    else:
        run, model = SolverRun(solver_name, "unknown", time.perf_counter() - t0,
                               f"time limit {timeout:g} s reached (process stopped)"), None
    proc.kill()
    proc.join(5)
    recv.close()
    return run, model, None


# --------------------------------------------------------------------------- exact values

def _from_z3(v: Any) -> sp.Expr:
    import z3
    if z3.is_rational_value(v):
        return sp.Rational(v.numerator_as_long(), v.denominator_as_long())
    if z3.is_algebraic_value(v):
        coeffs = [int(str(c)) for c in v.poly()]   # low degree first
        x = sp.Dummy("x")
        poly = sp.Poly(list(reversed(coeffs)), x, domain="ZZ")
        index = int(str(v.index())) - 1           # z3: 1-based among the real roots, increasing
        return sp.CRootOf(poly, index)
    if z3.is_int_value(v):
        return sp.Integer(v.as_long())
    raise ValueError(f"cannot read the z3 value {v} exactly")


_CVC5_ALG = re.compile(r"real_algebraic_number\s*<(.*),\s*\((.*),\s*(.*)\)>")


def _parse_sexpr_number(text: str) -> sp.Expr:
    text = text.strip()
    m = _CVC5_ALG.search(text)
    if m:
        x = sp.Symbol("x")
        poly = sp.Poly(sp.sympify(m.group(1).replace("^", "**"), locals={"x": x}), x)
        lo, hi = sp.Rational(m.group(2).strip()), sp.Rational(m.group(3).strip())
        roots = [r for r in sp.Poly(poly, x).real_roots() if lo < r < hi]
        if len(roots) != 1:
            raise ValueError(f"cannot isolate the algebraic number {text}")
        return roots[0]
    if text.startswith("(- ") and text.endswith(")"):
        return -_parse_sexpr_number(text[3:-1])
    if text.startswith("(/ ") and text.endswith(")"):
        num, den = _split_two(text[3:-1])
        return _parse_sexpr_number(num) / _parse_sexpr_number(den)
    return sp.Rational(text)


def _split_two(text: str) -> tuple[str, str]:
    depth = 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if ch == " " and depth == 0:
            return text[:i], text[i + 1:]
    raise ValueError(f"not two numbers: {text}")


def _from_cvc5(v: Any) -> sp.Expr:
    return _parse_sexpr_number(v.sexpr())


# --------------------------------------------------------------------------- exact re-validation

class _Invalid(Exception):
    """The model does not re-validate; the message says where."""


def _exact_sign(e: sp.Expr) -> int:
    """Sign of an exact real number (rational or algebraic), decided exactly.

    Zero is decided by the minimal polynomial (``x`` iff the number is 0); the sign of a nonzero
    algebraic number is then read from sympy's precision-tracked evaluation at 60 digits.
    """
    e = sp.sympify(e)
    if e.is_Rational:
        return int(bool(e > 0)) - int(bool(e < 0))
    if e.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise _Invalid(f"the value {e} is not finite")
    if e.free_symbols:
        raise _Invalid(f"the value {_short(e)} still has free symbols")
    e2 = sp.nsimplify(e) if e.is_Add or e.is_Mul else e
    x = sp.Dummy("x")
    try:
        mp = sp.minimal_polynomial(e2, x)
    except Exception as exc:
        raise _Invalid(f"cannot decide the sign of {_short(e)} exactly ({exc})") from None
    if sp.Poly(mp, x) == sp.Poly(x, x):
        return 0
    val = sp.N(e, 60)
    if not val.is_number or abs(val) < sp.Float("1e-50"):
        raise _Invalid(f"cannot resolve the sign of the nonzero number {_short(e)}")
    return 1 if val > 0 else -1


class _Evaluator:
    """Evaluate sympy formulas exactly at a model; uninterpreted functions from a table."""

    def __init__(self, values: Mapping[sp.Symbol, sp.Expr],
                 app_value: Callable[[AppliedUndef], sp.Expr]) -> None:
        self.values = dict(values)
        self.app_value = app_value
        self.table: dict[str, list[tuple[tuple[sp.Expr, ...], sp.Expr]]] = {}

    def value(self, e: Any) -> sp.Expr:
        if isinstance(e, sp.Symbol):
            if e not in self.values:
                raise _Invalid(f"the model gives no value to {e}")
            return self.values[e]
        if isinstance(e, sp.Number):
            return e
        if isinstance(e, sp.core.function.AppliedUndef):
            args = tuple(self.value(a) for a in e.args)
            val = self.app_value(e)
            rows = self.table.setdefault(e.func.__name__, [])
            for a2, v2 in rows:
                if all(_exact_sign(p - q) == 0 for p, q in zip(args, a2)):
                    if _exact_sign(v2 - val) != 0:
                        raise _Invalid(f"{e.func.__name__} takes two values {v2} and {val} at "
                                       f"the same point {args}: not a function")
                    break
            else:
                rows.append((args, val))
            return val
        if isinstance(e, (sp.Max, sp.Min)):
            vals = [self.value(a) for a in e.args]
            best = vals[0]
            for v in vals[1:]:
                s = _exact_sign(v - best)
                if (s > 0) if isinstance(e, sp.Max) else (s < 0):
                    best = v
            return best
        if isinstance(e, sp.Abs):
            v = self.value(e.args[0])
            return -v if _exact_sign(v) < 0 else v
        if isinstance(e, sp.Pow):
            base = self.value(e.args[0])
            ex = e.args[1]
            if ex.is_negative and _exact_sign(base) == 0:
                raise _Invalid(f"{e} divides by zero at the model")
            if not ex.is_Integer and _exact_sign(base) < 0:
                raise _Invalid(f"{e} is the root of a negative number at the model")
            return sp.Pow(base, ex)
        if isinstance(e, (sp.Add, sp.Mul)):
            return e.func(*[self.value(a) for a in e.args])
        raise _Invalid(f"cannot evaluate {type(e).__name__} exactly")

    def truth(self, f: Any) -> bool:
        if f is True or isinstance(f, sp.logic.boolalg.BooleanTrue):
            return True
        if f is False or isinstance(f, sp.logic.boolalg.BooleanFalse):
            return False
        if isinstance(f, sp.And):
            return all(self.truth(a) for a in f.args)
        if isinstance(f, sp.Or):
            return any(self.truth(a) for a in f.args)
        if isinstance(f, sp.Not):
            return not self.truth(f.args[0])
        if isinstance(f, sp.Implies):
            return (not self.truth(f.args[0])) or self.truth(f.args[1])
        if isinstance(f, sp.Equivalent):
            return self.truth(f.args[0]) == self.truth(f.args[1])
        if isinstance(f, sp.Rel):
            s = _exact_sign(sp.expand(self.value(f.lhs) - self.value(f.rhs)))
            return {"==": s == 0, "!=": s != 0, "<": s < 0, "<=": s <= 0, ">": s > 0,
                    ">=": s >= 0}[f.rel_op]
        raise _Invalid(f"cannot evaluate {type(f).__name__} as a truth value")


def _revalidate(variables: Sequence[sp.Symbol], hyps: Sequence[Any], conclusion: Any,
                model: tuple[dict, dict], signs: Sequence[tuple[sp.Symbol, str]] = ()
                ) -> tuple[dict, dict]:
    """Exact values of the variables from ``model``; raise :class:`_Invalid` unless every
    hypothesis holds and the conclusion fails in exact arithmetic."""
    var_values, app_values = model
    # a variable the formula does not constrain may take any value: 0 is the simplest
    values = {v: var_values.get(v, sp.Integer(0)) for v in variables}

    def app_value(e: AppliedUndef) -> sp.Expr:
        if e not in app_values:
            raise _Invalid(f"the application {e} was not part of the solved formula")
        return app_values[e]

    ev = _Evaluator(values, app_value)
    for v, op in signs:
        if not _SIGN_OK[op](_exact_sign(values[v])):
            raise _Invalid(f"the symbol assumption {v} {op} 0 is false at the model")
    for k, h in enumerate(hyps):
        if not ev.truth(h):
            raise _Invalid(f"hypothesis {k + 1} ({_short(h, 80)}) is false at the model")
    if ev.truth(conclusion):
        raise _Invalid(f"the conclusion ({_short(conclusion, 80)}) holds at the model")
    return values, ev.table


# --------------------------------------------------------------------------- decide

def decide(variables: Iterable[sp.Symbol], hypotheses: Iterable[Any], conclusion: Any, *,
           timeout: float = DEFAULT_TIMEOUT, second_opinion: bool = True, name: str = "",
           size: Mapping[str, int] | None = None) -> Decision:
    """Decide "for all real ``variables``: AND(hypotheses) => conclusion".

    Returns :class:`Proven`, :class:`Counterexample` (exactly re-validated) or
    :class:`Unknown`.  ``timeout`` is z3's limit in seconds; cvc5 (if installed and
    ``second_opinion``) is then asked too, for at most ``SECOND_OPINION_TIMEOUT`` seconds, and
    both answers are recorded.

    >>> a, b = sp.symbols("a b", real=True)
    >>> decide([a, b], [a >= 0, b >= 0], a + b >= 2 * sp.sqrt(a * b)).status
    'proven'
    """
    variables = list(variables)
    hyps = [sp.sympify(h) for h in hypotheses]
    signs = [a for v in variables for a in _symbol_assumptions(v)]
    concl = sp.sympify(conclusion)
    hyps_n = [_normalise_functions(h) for h in hyps]
    concl_n = _normalise_functions(concl)
    free = set().union(*[h.free_symbols for h in hyps_n], concl_n.free_symbols) \
        if hyps_n else concl_n.free_symbols
    missing = sorted(free - set(variables), key=str)
    if missing:
        raise TranslationError(f"free symbols {missing} are not among the variables")
    undef = sp.core.function.AppliedUndef
    has_functions = bool(concl_n.atoms(undef)) or any(h.atoms(undef) for h in hyps_n)

    def build(tr: _Translator) -> Any:
        parts = [_OPS[op](tr.var(v), 0) for v, op in signs]
        parts += [tr.formula(h) for h in hyps_n] + [tr.api.Not(tr.formula(concl_n))]
        return tr.api.And(*parts, *tr.congruence())

    t0 = time.perf_counter()
    # Translate once in process: an expression outside the fragment is an error here, and the
    # domain conditions (denominators, radicands) are read off the translation.
    probe = _Translator(_z3_api())
    build(probe)
    domain = [f"{v} {op} 0 (symbol assumption)" for v, op in signs] + list(probe.domain)
    if has_functions:
        domain.append("undefined functions read as arbitrary (uninterpreted) functions")
    runs: list[SolverRun] = []
    common: dict[str, Any] = dict(name=name, runs=runs, size=dict(size or {}), domain=domain,
                                  timeout=timeout)
    solvers = ["z3"] + (["cvc5"] if second_opinion else [])
    problems: list[str] = []
    found: Decision | None = None
    for solver in solvers:
        if solver == "cvc5" and not solvers_available()["cvc5"]:
            runs.append(SolverRun("cvc5", "not installed"))
            continue
        if found is not None:
            runs.append(SolverRun(solver, "not run", 0.0,
                                  "a counterexample was already re-validated exactly"))
            continue
        if solver == "cvc5" and runs and runs[0].answer == "unsat" and not _always_second():
            # cvc5 ignores its own limits inside CAD, so whether it answers within the hard
            # time limit depends on the machine's load: asked after a proof, its answer would
            # make the same run read differently from run to run. It is asked where z3 did not
            # decide (PROOFCHECK_SECOND_OPINION=always asks it every time).
            runs.append(SolverRun(solver, "not run", 0.0, "z3 decided (unsat)"))
            continue
        limit = timeout if solver == "z3" else min(timeout, SECOND_OPINION_TIMEOUT)
        run, model, _ = _solve_in_child(solver, build, limit, has_functions, variables)
        runs.append(run)
        if run.answer != "sat":
            continue
        if model is None:
            problems.append(f"{solver} answered sat but gave no exact model ({run.reason})")
            continue
        try:
            values, table = _revalidate(variables, hyps_n, concl_n, model, signs)
        except _Invalid as exc:
            problems.append(f"{solver}'s model failed exact re-validation: {exc}")
            continue
        except Exception as exc:
            problems.append(f"{solver}'s model could not be re-validated: "
                            f"{type(exc).__name__}: {exc}")
            continue
        found = Counterexample(status="counterexample", witness=values,
                               function_table={k: list(v) for k, v in table.items()},
                               app_values=dict(model[1]),
                               reason=f"model of {solver}, re-validated exactly", **common)
    answers = {r.solver: r.answer for r in runs}
    result: Decision
    if found is not None:
        result = found
        if "unsat" in answers.values():
            result.reason += (" (another solver answered unsat: a solver bug; the exact "
                              "re-validation decides)")
    elif "unsat" in answers.values():
        who = [s for s, a in answers.items() if a == "unsat"]
        result = Proven(status="proven", reason="unsat by " + " and ".join(who), **common)
        if "sat" in answers.values():
            # a solver claims a model that did not re-validate: do not prove over a dispute
            result = Unknown(status="unknown", reason="the solvers disagree: " + "; ".join(
                problems), **common)
    else:
        result = Unknown(status="unknown", **common)
        result.reason = "; ".join(problems) if problems else "no solver decided: " + "; ".join(
            f"{r.solver} {r.answer}" + (f" ({r.reason})" if r.reason else "") for r in runs)
    result.seconds = time.perf_counter() - t0
    return result


# --------------------------------------------------------------------------- helpers for claims

def principal_minors(M: sp.Matrix) -> list[sp.Expr]:
    """All principal minors of a square matrix (``2^n - 1`` of them)."""
    n = M.rows
    out = []
    for k in range(1, n + 1):
        for idx in itertools.combinations(range(n), k):
            out.append(M.extract(list(idx), list(idx)).det())
    return out


def psd_constraints(M: sp.Matrix) -> Boolean:
    """``M`` (symmetric) is positive semidefinite: every principal minor is ``>= 0``."""
    return sp.And(*[m >= 0 for m in principal_minors(sp.Matrix(M))])


def lambda_min_constraints(M: sp.Matrix, lam: sp.Symbol) -> Boolean:
    """``lam = λ_min(M)`` for symmetric ``M``: ``det(M - lam I) = 0`` and ``M - lam I ⪰ 0``."""
    M = sp.Matrix(M)
    shifted = M - lam * sp.eye(M.rows)
    return sp.And(sp.Eq(shifted.det(), 0), psd_constraints(shifted))


# --------------------------------------------------------------------------- claims

def _forms(claim: Any) -> tuple[Decidable, ...]:
    forms = resolve(getattr(claim, "decidable", None))    # forms declared with @deferred
    if forms is None:
        return ()
    if isinstance(forms, Decidable):
        return (forms,)
    forms = tuple(forms)
    for f in forms:
        if not isinstance(f, Decidable):
            raise TypeError(f"claim {getattr(claim, 'id', '?')}: decidable= must be a "
                            f"Decidable or a tuple of them, got {type(f).__name__}")
    return forms


def mutate_forms(claim: Any, change: Any) -> tuple[Decidable, ...]:
    """The decidable forms of a mutant: ``change`` is a Decidable, a tuple of them, or a function
    applied to each of ``claim``'s forms (e.g. ``lambda D: D.replace(conclusion=...)``)."""
    change = resolve(change)
    if isinstance(change, Decidable):
        return (change,)
    if isinstance(change, (tuple, list)):
        return tuple(change)
    if callable(change):
        return tuple(change(f) for f in _forms(claim))
    raise TypeError(f"decidable mutation must be a Decidable, a tuple or a function, got "
                    f"{type(change).__name__}")


def _assumed_forms(claim: Any) -> tuple[Decidable, ...]:
    """The claim's decidable forms with the hypotheses its ``assumed`` flags drop removed."""
    dropped = set(getattr(getattr(claim, "assumed", None), "dropped", ()) or ())
    out = []
    for f in _forms(claim):
        names = [n for n in f.hypothesis_names if n in dropped]
        out.append(f.dropping(*names) if names else f)
    return tuple(out)


def decide_claim(claim: Any, *, timeout: float | None = None) -> Any:
    """Decide every decidable form of ``claim``; a :class:`~proofcheck.results.CheckRecord`.

    ``passed`` is True when every form is proven (grade ``proven``, for all reals at each
    size), False when one has an exactly re-validated counterexample (its witness), None when
    a form stays unknown.
    """
    from .results import CheckRecord, EvidenceKind, Witness
    forms = _assumed_forms(claim)
    if not forms:
        raise ValueError(f"claim {getattr(claim, 'id', '?')} has no decidable= form")
    t0 = time.perf_counter()
    decisions = [f.decide(timeout=timeout) for f in forms]
    proven = [d for d in decisions if d.status == "proven"]
    refuted = [d for d in decisions if d.status == "counterexample"]
    unknown = [d for d in decisions if d.status == "unknown"]
    witness = None
    if refuted:
        d = refuted[0]
        passed: bool | None = False
        summary = d.describe()
        witness = Witness(check="decision procedure", margin=float("-inf"), tolerance=0.0,
                          certified=True,
                          certification="exact (solver model re-validated with sympy "
                                        "rationals / algebraic numbers)",
                          instance={"sizes": dict(d.size),
                                    "values": {str(k): str(v) for k, v in
                                               (d.witness or {}).items()}},
                          detail=summary)
    elif unknown:
        passed = None
        summary = unknown[0].describe()
    else:
        passed = True
        sizes = "; ".join(", ".join(f"{k}={v}" for k, v in d.size.items()) or "-"
                          for d in proven)
        summary = (f"proven for all reals by the decision procedure at {len(proven)} "
                   f"size{'s' if len(proven) != 1 else ''} ({sizes})")
    notes = [d.describe() for d in decisions]
    notes += [f"reading: {f.reading}" for f in forms if f.reading]
    return CheckRecord(name="decision procedure", kind=EvidenceKind.DECISION_PROCEDURE,
                       passed=passed, summary=summary,
                       sizes=[dict(d.size) for d in proven], precision="exact",
                       witness=witness, seconds=time.perf_counter() - t0, tolerance=0.0,
                       tolerance_source="exact (decision procedure; models re-validated)",
                       notes=notes,
                       # proven for all reals at the stated sizes; a refutation rests on a
                       # model re-validated exactly; undecided carries no grade
                       grade="proven" if passed is True else "certified" if passed is False else "")


def decide_dropped(claim: Any, hypothesis: str, *, timeout: float | None = None
                   ) -> dict[str, Any]:
    """Is ``hypothesis`` necessary for ``claim``'s decidable forms?  Decided, not searched.

    Returns ``{"status": ..., "text": ..., "decisions": [...]}`` with status

    ``unnecessary``  the claim without the hypothesis is still proven at every size
                     ("unnecessary at size k: proven");
    ``implied``      the remaining hypotheses and the definedness of the expressions already
                     imply it (dropping it changes nothing: not evidence of anything);
    ``necessary``    the claim without it has an exactly re-validated counterexample at a size;
    ``unknown``      the solvers did not decide within the time limit;
    ``not decidable`` the claim has no decidable form naming that hypothesis.
    """
    forms = _forms(claim)
    named = [f for f in forms if hypothesis in f.hypothesis_names]
    if not named:
        return {"status": "not decidable", "decisions": [],
                "text": f"{hypothesis}: no decidable form of {getattr(claim, 'id', 'the claim')} "
                        "states this hypothesis as a relation"}
    decisions = []
    rows = []
    status = "unnecessary"
    for f in named:
        size = ", ".join(f"{k}={v}" for k, v in (f.size or {}).items()) or "its size"
        h = dict(f.hypotheses)[hypothesis]
        rest = f.dropping(hypothesis)
        implied = decide(rest.variables, [*f.definitions, *(g for _, g in rest.hypotheses),
                                          _definedness(f.conclusion)], h,
                         timeout=timeout or f.timeout,
            name=f"{f.name}: {hypothesis} implied")
        if implied.status == "proven":
            rows.append(f"implied at size {size}: the other hypotheses and the definedness of "
                        "the expressions imply it")
            status = "implied" if status == "unnecessary" else status
            decisions.append(implied)
            continue
        d = rest.decide(timeout=timeout)
        decisions.append(d)
        if d.status == "proven":
            rows.append(f"unnecessary at size {size}: proven")
        elif d.status == "counterexample":
            rows.append(f"necessary at size {size}: counterexample " + _fmt_assignment(d.witness
                                                                                      or {}))
            status = "necessary"
        else:
            rows.append(f"unknown at size {size}: {d.reason}")
            if status != "necessary":
                status = "unknown"
    return {"status": status, "text": f"{hypothesis}: " + "; ".join(rows),
            "decisions": [d.to_dict() for d in decisions]}


def _definedness(expr: Any) -> Boolean:
    """The domain conditions of ``expr``: denominators nonzero, square-root radicands >= 0."""
    conds: list[Any] = []
    for p in sp.sympify(expr).atoms(sp.Pow):
        base, ex = p.args
        if ex.is_negative:
            conds.append(sp.Ne(base, 0))
        if ex.is_Rational and not ex.is_Integer:
            conds.append(base >= 0)
    return sp.And(*conds) if conds else sp.true


# --------------------------------------------------------------------------- catalogue report

def catalogue_report(claims: Iterable[Any], *, timeout: float | None = None,
                     extra: Iterable[tuple[str, Decidable]] = ()) -> str:
    """A Markdown table of every decidable form of ``claims`` (and their corrected statements),
    decided now: the numbers of ``docs/decide.md`` come from this run, never typed by hand."""
    rows = []
    forms: list[tuple[str, Decidable]] = []
    for c in claims:
        for cc, label in ((c, ""), (getattr(c, "corrected", None), " (corrected)")):
            if cc is None:
                continue
            forms += [(cc.id + label, f) for f in _forms(cc)]
    forms += list(extra)
    counts: dict[str, int] = {}
    for cid, f in forms:
        d = f.decide(timeout=timeout)
        counts[d.status] = counts.get(d.status, 0) + 1
        size = ", ".join(f"{k}={v}" for k, v in (f.size or {}).items()) or "-"
        solvers = "; ".join(f"{r.solver} {r.answer} {r.seconds:.2f} s" for r in d.runs)
        detail = "" if d.status == "proven" else (
            _fmt_assignment(d.witness or {}) if d.status == "counterexample" else d.reason)
        rows.append(f"| `{cid}` | {f.name} | {size} | **{d.status}** | {solvers} | "
                    f"{detail.replace('|', '/')} |")
    head = ["| claim | form | size | result | solvers (answer, time) | witness / reason |",
            "|---|---|---|---|---|---|"]
    total = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    return "\n".join([f"{len(forms)} forms decided: {total}.", "", *head, *rows])


def _main(argv: Sequence[str] | None = None) -> None:  # pragma: no cover - docs/decide.md
    """``python -m proofcheck.decide [module:attr ...]``: decide every decidable form of the
    catalogue (and, per argument, the ``(label, Decidable)`` pairs of ``module.attr``) and print
    the Markdown table."""
    import importlib
    import sys

    from .catalog import load_claims
    argv = list(sys.argv[1:] if argv is None else argv)
    reg = load_claims()
    registered: Any = getattr(reg, "claims", reg)
    claims = [c for c in registered
              if _forms(c) or _forms(getattr(c, "corrected", None))]
    extra: list[tuple[str, Decidable]] = []
    for spec in argv:
        mod, _, attr = spec.partition(":")
        extra += list(getattr(importlib.import_module(mod), attr))
    sys.stdout.write(catalogue_report(claims, extra=extra) + "\n")


if __name__ == "__main__":  # pragma: no cover
    from proofcheck.decide import _main as _run   # the package's classes, not __main__'s
    _run()
