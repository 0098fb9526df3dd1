"""The symbolic engine: exact proofs of matrix identities at every size of a sweep.

A paper's identity (``vec(M1 M2 M3) = (M3^T kron M1) vec(M2)``, a network's Jacobian, a
projection identity) is stated for *all* dimensions.  We prove it exactly at every
size of a stated sweep -- the *small scope hypothesis*: most errors (a missing transpose, swapped
Kronecker factors, a wrong shape) already show at dimension 1..3.

Two methods:

``symbolic``      entries are polynomials / rational functions of real symbols; each entry of
                  ``lhs - rhs`` is reduced to zero exactly (``expand``, then ``cancel``, and
                  ``simplify`` only when the entry is not a rational function).  A proof at
                  each size.  A nonzero entry is refuted with an exact rational *witness*.
``exact-random``  for identities too heavy to expand (projections, pseudo-inverses): exact
                  rational arithmetic at random rational instances.  A refutation is exact and
                  certified; agreement is randomized identity testing (Schwartz-Zippel style),
                  evidence and not a proof for all matrices.  ``describe()`` says so.

>>> W, x = symbol_matrix("W", 2, 3), symbol_vector("x", 3)
>>> kron_jacobian(W * x, W) == kron(x.T, sp.eye(2))
True
>>> sweep = SizeSweep(a=(1, 2), b=(1, 2))
>>> def build(s):
...     A = symbol_matrix("A", s["a"], s["b"])
...     return (A * A.T).T, A * A.T
>>> prove_identity(build, sweep, name="A A^T is symmetric").holds
True
"""

from __future__ import annotations

import ast
import inspect
import itertools
import math
import random
import textwrap
import time
from dataclasses import dataclass, field
from numbers import Integral
from typing import TYPE_CHECKING, Any
from collections.abc import Callable, Iterable, Iterator, Mapping

import numpy as np
from .lazy import lazy_import

if TYPE_CHECKING:  # pragma: no cover - mypy reads sympy's types through a plain import
    import sympy as sp
else:
    sp = lazy_import("sympy")   # loaded on first use (startup cost)

__all__ = [
    "symbol_matrix",
    "symbol_vector",
    "vec",
    "unvec",
    "kron",
    "kron_jacobian",
    "SizeSweep",
    "IdentityResult",
    "prove_identity",
    "exact_projection",
    "exact_null_projection",
    "random_rational_matrix",
]


# --------------------------------------------------------------------------- symbols, vec, kron

def _check_dim(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{what} must be an int, got {value!r} ({type(value).__name__})")
    if value < 0:
        raise ValueError(f"{what} must be >= 0, got {value}")
    return int(value)


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"a symbol name must be a non-empty str, got {name!r}")
    return name


def symbol_matrix(name: str, rows: int, cols: int) -> sp.Matrix:
    """A ``rows x cols`` matrix of real symbols ``name_i_j`` (1-based, as in a paper).

    >>> symbol_matrix("W", 1, 2)
    Matrix([[W_1_1, W_1_2]])
    """
    name = _check_name(name)
    rows, cols = _check_dim(rows, "rows"), _check_dim(cols, "cols")
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i + 1}_{j + 1}", real=True))


def symbol_vector(name: str, n: int) -> sp.Matrix:
    """A column vector ``n x 1`` of real symbols ``name_i`` (1-based).

    >>> symbol_vector("x", 2).T
    Matrix([[x_1, x_2]])
    """
    name = _check_name(name)
    n = _check_dim(n, "n")
    return sp.Matrix(n, 1, lambda i, _: sp.Symbol(f"{name}_{i + 1}", real=True))


def _as_matrix(M: Any, what: str) -> sp.Matrix:
    """A mutable explicit sympy Matrix from a Matrix, matrix expression or nested list."""
    if isinstance(M, sp.MatrixBase):
        return sp.Matrix(M)
    if isinstance(M, sp.MatrixExpr):
        return sp.Matrix(M.as_explicit())
    if isinstance(M, (list, tuple)):
        return sp.Matrix(M)
    if isinstance(M, np.ndarray):
        return _from_numpy(M, what)
    if _is_flint_matrix(M):
        return _from_flint(M)
    raise TypeError(f"{what} must be a sympy Matrix (or nested list), got {type(M).__name__}")


def vec(M: Any) -> sp.Matrix:
    """Column-major vectorisation: ``[M11, M21, ..., Md1, M12, ...]^T``.

    A scalar expression is a 1 x 1 matrix.

    >>> vec(sp.Matrix([[1, 2], [3, 4]])).T
    Matrix([[1, 3, 2, 4]])
    """
    if isinstance(M, (sp.Expr, int)) and not isinstance(M, bool):
        return sp.Matrix([[M]])
    M = _as_matrix(M, "vec's argument")
    # M^T read row by row is M read column by column.
    return M.T.reshape(M.rows * M.cols, 1)


def unvec(v: Any, rows: int, cols: int) -> sp.Matrix:
    """Inverse of :func:`vec`: a column (or row) vector of ``rows*cols`` entries -> matrix.

    >>> M = sp.Matrix([[1, 2, 3], [4, 5, 6]])
    >>> unvec(vec(M), 2, 3) == M
    True
    """
    v = _as_matrix(v, "unvec's argument")
    rows, cols = _check_dim(rows, "rows"), _check_dim(cols, "cols")
    if min(v.shape) > 1 or len(v) != rows * cols:
        raise ValueError(
            f"unvec needs a vector of {rows}*{cols} = {rows * cols} entries, got shape "
            f"{v.rows}x{v.cols}")
    return sp.Matrix(cols, rows, list(v)).T


def kron(A: Any, B: Any, *more: Any) -> sp.Matrix:
    """Kronecker product ``A kron B (kron ...)``, explicit (sympy's ``kronecker_product``).

    >>> kron(sp.Matrix([[1, 2]]), sp.eye(2))
    Matrix([
    [1, 0, 2, 0],
    [0, 1, 0, 2]])
    """
    factors = [_as_matrix(F, f"kron factor {k + 1}") for k, F in enumerate((A, B) + more)]
    return sp.Matrix(sp.kronecker_product(*factors))


def kron_jacobian(f: Any, wrt: Any) -> sp.Matrix:
    """Jacobian ``d vec(f) / d vec(wrt)``: shape ``(len(vec f), rows*cols of wrt)``.

    ``f`` is a scalar, column vector or matrix expression (matrices are vec'd first);
    ``wrt`` is a matrix of distinct symbols, e.g. from :func:`symbol_matrix`.
    This is the convention of the matrix calculus literature, where
    ``d h / d vec(W) = (x + V z)^T kron I``.

    >>> W, x = symbol_matrix("W", 1, 2), symbol_vector("x", 2)
    >>> kron_jacobian(W * x, W)
    Matrix([[x_1, x_2]])
    """
    F = vec(f)
    wrt_m = vec(wrt)
    entries = list(wrt_m)
    bad = [e for e in entries if not isinstance(e, sp.Symbol)]
    if bad:
        raise TypeError(f"kron_jacobian differentiates w.r.t. symbols; {bad[0]!r} is not a Symbol")
    if len(set(entries)) != len(entries):
        raise ValueError("kron_jacobian: the entries of wrt must be distinct symbols")
    if not entries:
        return sp.zeros(len(F), 0)
    return F.jacobian(wrt_m)


# --------------------------------------------------------------------------- size sweeps

_WHERE_BUILTINS = {"min": min, "max": max, "abs": abs, "sum": sum, "len": len,
                   "all": all, "any": any}


class SizeSweep:
    """The sizes (dicts name -> int) at which an identity is proven, smallest first.

    Each keyword is one dimension: ``(lo, hi)`` is the inclusive range ``lo..hi``, an int is a
    fixed value, a ``range`` or list gives explicit values.  ``where`` filters sizes: a string
    evaluated with the dimensions as names (``"d_y <= min(d_x, d_z)"``) or a callable taking the
    size dict.  Sizes are iterated in increasing total size (sum of dimensions), ties broken
    lexicographically in keyword order, so the first failure is a smallest one.

    >>> s = SizeSweep(d_x=(1, 3), d_y=(1, 3), d_z=(1, 3),
    ...               where=lambda s: s["d_y"] <= min(s["d_x"], s["d_z"]))
    >>> s.describe()
    'd_x, d_y, d_z in 1..3 with d_y <= min(d_x, d_z): 14 sizes'
    >>> next(iter(s))
    {'d_x': 1, 'd_y': 1, 'd_z': 1}
    """

    #: Refuse sweeps whose unfiltered product is larger than this (they are meant to be small).
    MAX_SIZES = 1_000_000

    def __init__(self, where: str | Callable[[dict[str, int]], bool] | None = None,
                 **ranges: Any) -> None:
        if not ranges:
            raise ValueError("SizeSweep needs at least one dimension, e.g. SizeSweep(d=(1, 3))")
        self.ranges: dict[str, tuple[int, ...]] = {}
        self._specs: dict[str, str] = {}
        for name, spec in ranges.items():
            values, text = self._parse_range(name, spec)
            self.ranges[name] = values
            self._specs[name] = text
        if math.prod(len(v) for v in self.ranges.values()) > self.MAX_SIZES:
            raise ValueError(f"sweep has more than {self.MAX_SIZES} sizes before filtering")
        self.where = where
        self.where_text = _describe_where(where)
        predicate = _where_predicate(where)
        names = list(self.ranges)
        sizes = [dict(zip(names, combo)) for combo in itertools.product(*self.ranges.values())]
        sizes = [s for s in sizes if predicate(dict(s))]
        sizes.sort(key=lambda s: (sum(s.values()), tuple(s.values())))
        self._sizes = sizes

    @staticmethod
    def _parse_range(name: str, spec: Any) -> tuple[tuple[int, ...], str]:
        if isinstance(spec, Integral) and not isinstance(spec, bool):
            v = _check_dim(spec, name)
            return (v,), f"= {v}"
        if isinstance(spec, tuple) and len(spec) == 2:
            lo, hi = _check_dim(spec[0], f"{name} low end"), _check_dim(spec[1], f"{name} high end")
            if lo > hi:
                raise ValueError(f"{name}=({lo}, {hi}): the low end exceeds the high end")
            return tuple(range(lo, hi + 1)), f"in {lo}..{hi}"
        if isinstance(spec, (range, list)):
            values = tuple(sorted({_check_dim(v, f"{name} value") for v in spec}))
            if not values:
                raise ValueError(f"{name}: no values given")
            if values == tuple(range(values[0], values[-1] + 1)):
                return values, f"in {values[0]}..{values[-1]}"
            return values, "in {" + ", ".join(map(str, values)) + "}"
        raise TypeError(f"{name}: give (lo, hi), an int, a range or a list of ints, got {spec!r}")

    def __iter__(self) -> Iterator[dict[str, int]]:
        return (dict(s) for s in self._sizes)

    def __len__(self) -> int:
        return len(self._sizes)

    @property
    def sizes(self) -> list[dict[str, int]]:
        """The sizes as a list of fresh dicts, in iteration order."""
        return list(self)

    def describe(self) -> str:
        """``"d_x, d_y, d_z in 1..3 with d_y <= min(d_x, d_z): 14 sizes"``."""
        groups: dict[str, list[str]] = {}
        for name, text in self._specs.items():
            groups.setdefault(text, []).append(name)
        text = "; ".join(f"{', '.join(names)} {spec}" for spec, names in groups.items())
        if self.where_text:
            text += f" with {self.where_text}"
        n = len(self)
        return f"{text}: {n} size{'s' if n != 1 else ''}"

    def __repr__(self) -> str:
        return f"SizeSweep({self.describe()})"


def _where_predicate(where: Any) -> Callable[[dict[str, int]], bool]:
    if where is None:
        return lambda s: True
    if isinstance(where, str):
        try:
            code = compile(where, "<SizeSweep where>", "eval")
        except SyntaxError as exc:
            raise ValueError(f"where={where!r} is not a Python expression: {exc.msg}") from None

        def predicate(s: dict[str, int]) -> bool:
            try:
                return bool(eval(code, {"__builtins__": _WHERE_BUILTINS}, dict(s)))
            except NameError as exc:
                raise ValueError(f"where={where!r}: {exc}; the dimensions are "
                                 f"{sorted(s)}") from None
        return predicate
    if callable(where):
        return lambda s: bool(where(s))
    raise TypeError(f"where must be a str, a callable or None, got {type(where).__name__}")


def _describe_where(where: Any) -> str | None:
    """Readable text of a where filter; lambdas are recovered from their source."""
    if where is None:
        return None
    if isinstance(where, str):
        return where
    text = getattr(where, "description", None)
    if isinstance(text, str):
        return text
    if getattr(where, "__name__", "") == "<lambda>":
        text = _lambda_text(where)
        if text:
            return text
    doc = inspect.getdoc(where)
    if doc:
        return doc.strip().splitlines()[0]
    return f"{getattr(where, '__qualname__', type(where).__name__)}(sizes)"


def _lambda_text(fn: Callable) -> str | None:
    """``lambda s: s["d_y"] <= min(s["d_x"], s["d_z"])`` -> ``"d_y <= min(d_x, d_z)"``."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return None
    code = fn.__code__
    start = source.find("lambda")
    while start != -1:
        # getsource returns whole lines; the lambda is the longest prefix that parses as one.
        for end in range(len(source), start, -1):
            try:
                node = ast.parse(source[start:end].strip(), mode="eval").body
            except SyntaxError:
                continue
            if isinstance(node, ast.Lambda) and _same_code(node, code):
                return _unparse_lambda(node)
            break
        start = source.find("lambda", start + 1)
    return None


def _same_code(node: ast.Lambda, code: Any) -> bool:
    try:
        compiled = compile(ast.Expression(node), "<lambda>", "eval")
    except (SyntaxError, ValueError, TypeError):
        return False
    inner = [c for c in compiled.co_consts if inspect.iscode(c)]
    return bool(inner) and inner[0].co_code == code.co_code and inner[0].co_names == code.co_names


def _unparse_lambda(node: ast.Lambda) -> str:
    if len(node.args.args) != 1:
        return ast.unparse(node)
    arg = node.args.args[0].arg

    class _Flatten(ast.NodeTransformer):
        # s["d_x"] -> d_x, so the text reads like the paper.
        def visit_Subscript(self, sub: ast.Subscript) -> ast.AST:
            self.generic_visit(sub)
            if (isinstance(sub.value, ast.Name) and sub.value.id == arg
                    and isinstance(sub.slice, ast.Constant) and isinstance(sub.slice.value, str)
                    and sub.slice.value.isidentifier()):
                return ast.Name(id=sub.slice.value, ctx=ast.Load())
            return sub

    return ast.unparse(_Flatten().visit(node.body))


# --------------------------------------------------------------------------- exact conversions

def _is_flint_matrix(M: Any) -> bool:
    return type(M).__module__.startswith("flint") and hasattr(M, "table")


def _from_flint(M: Any) -> sp.Matrix:
    return sp.Matrix([[sp.Rational(int(e.p), int(e.q)) if hasattr(e, "q") else sp.Integer(int(e))
                       for e in row] for row in M.table()])


def _from_numpy(A: np.ndarray, what: str) -> sp.Matrix:
    if A.ndim == 1:
        A = A.reshape(-1, 1)
    if A.ndim != 2:
        raise ValueError(f"{what}: expected a 2-d array, got {A.ndim} dimensions")
    if np.issubdtype(A.dtype, np.integer) or A.dtype == object:
        return sp.Matrix(A.tolist())
    raise TypeError(f"{what}: a {A.dtype} array is not exact; use integers, sympy.Rational or "
                    "random_rational_matrix")


def _as_exact(value: Any, what: str) -> sp.Matrix:
    """lhs / rhs of an identity as an explicit Matrix; a scalar is 1 x 1; floats are refused."""
    matrix_like = (sp.MatrixBase, sp.MatrixExpr, list, tuple, np.ndarray)
    if isinstance(value, matrix_like) or _is_flint_matrix(value):
        M = _as_matrix(value, what)
    else:
        try:
            M = sp.Matrix([[sp.sympify(value, strict=True)]])
        except (sp.SympifyError, TypeError):
            raise TypeError(f"{what} must be a sympy Matrix or scalar expression, got "
                            f"{type(value).__name__}") from None
    for e in M:
        if not isinstance(e, sp.Basic):
            raise TypeError(f"{what} has a non-sympy entry {e!r}")
        floats = e.atoms(sp.Float)
        if floats:
            raise TypeError(f"{what} contains the float {next(iter(floats))}: exact proofs need "
                            "exact numbers (sympy.Rational, Integer)")
        if e.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
            raise ValueError(f"{what} contains a non-finite value ({e})")
        if any(isinstance(a, sp.MatrixSymbol) for a in e.free_symbols):
            raise TypeError(f"{what} has entries of a MatrixSymbol; build explicit matrices "
                            "with symbol_matrix")
    return M


def _shape(M: sp.Matrix) -> str:
    return f"{M.rows}x{M.cols}"


# --------------------------------------------------------------------------- zero testing

def _rational_poly(expr: sp.Expr, gens: list[sp.Symbol]) -> sp.Poly | None:
    """``expr`` as a polynomial with rational coefficients in ``gens``, or None."""
    if not gens:
        return None
    try:
        return sp.Poly(expr, *gens, domain="QQ")
    except (sp.PolynomialError, sp.polys.polyerrors.CoercionFailed, sp.GeneratorsNeeded):
        return None


def _decide_zero(entry: sp.Expr) -> tuple[bool | None, str]:
    """Is ``entry`` identically zero?  (answer, route): True / False (certain) / None.

    Expansion is canonical for polynomials over QQ and ``cancel`` for rational functions, so a
    nonzero result there is a certain "no"; only other expressions reach ``simplify``, whose
    failure to find zero decides nothing.
    """
    entry = sp.sympify(entry)
    expanded = sp.expand(entry)
    if expanded == 0:
        return True, "expand"
    gens = sorted(expanded.free_symbols, key=sp.default_sort_key)
    if not gens:
        if expanded.is_Rational:
            return False, "expand"
    elif _rational_poly(expanded, gens) is not None:
        return False, "expand"
    if gens and entry.is_rational_function(*gens):
        num, _den = sp.fraction(sp.cancel(sp.together(entry)))
        num = sp.expand(num)
        if num == 0:
            return True, "cancel"
        if _rational_poly(num, gens) is not None:
            return False, "cancel"
    if sp.simplify(entry) == 0:
        return True, "simplify"
    if not gens:
        # A number sympy cannot simplify: its evalf-based is_zero tracks precision.
        z = entry.is_zero
        if z is not None:
            return bool(z), "is_zero"
    return None, "simplify"


def _certified_nonzero(v: sp.Expr) -> bool | None:
    """A numeric value: True if certainly nonzero and finite, False if zero or undefined."""
    if v.is_Rational:
        return v != 0
    if not v.is_number or v.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or v.is_finite is False:
        return False
    z = v.is_zero
    return None if z is None else not z


def _finite_numbers(M: sp.Matrix) -> bool:
    return all(e.is_number and not e.has(sp.nan, sp.zoo, sp.oo, -sp.oo) for e in M)


# --------------------------------------------------------------------------- witness search

def _search_witness(entry: sp.Expr, full: sp.Matrix, symbols: list[sp.Symbol], seed: int,
                    attempts: int = 200) -> dict[sp.Symbol, sp.Rational] | None:
    """Exact rational point where ``entry`` is nonzero and all of ``full`` is defined.

    Small integers first (values in -b..b, b growing slowly), then small rationals; the point is
    then shrunk symbol by symbol towards 0, 1, -1 so the witness reads easily.
    """
    rng = random.Random(seed)

    def good(point: dict) -> bool:
        if _certified_nonzero(entry.xreplace(point)) is not True:
            return False
        return _finite_numbers(full.xreplace(point))

    for i in range(attempts):
        bound = 1 + i // 10
        if i < attempts // 2:
            point = {s: sp.Integer(rng.randint(-bound, bound)) for s in symbols}
        else:
            point = {s: sp.Rational(rng.randint(-bound, bound), rng.randint(1, bound + 1))
                     for s in symbols}
        if good(point):
            break
    else:
        return None
    for s in symbols:
        for simpler in (sp.Integer(0), sp.Integer(1), sp.Integer(-1)):
            if point[s] == simpler:
                break
            trial = dict(point)
            trial[s] = simpler
            if good(trial):
                point = trial
                break
    return point


# --------------------------------------------------------------------------- results

def _fmt_size(size: Mapping[str, int] | None) -> str:
    return "-" if size is None else ", ".join(f"{k}={v}" for k, v in size.items())


def _fmt_value(v: Any) -> str:
    if isinstance(v, sp.MatrixBase):
        if v.shape == (1, 1):
            return f"[{v[0]}]"
        if v.cols == 1:
            return "[" + ", ".join(map(str, v)) + "]^T"
        return "[" + "; ".join(", ".join(map(str, v.row(i))) for i in range(v.rows)) + "]"
    return str(v)


def _fmt_witness(witness: Mapping[Any, Any]) -> str:
    """``W_1_2 = 1, z_1 = -1/2 (all other symbols 0)``: zeros of a symbolic witness elided."""
    shown = [(k, v) for k, v in witness.items() if isinstance(v, sp.MatrixBase) or v != 0]
    text = ", ".join(f"{k} = {_fmt_value(v)}" for k, v in shown) or "all symbols 0"
    if shown and len(shown) < len(witness):
        text += " (all other symbols 0)"
    return text


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class IdentityResult:
    """What :func:`prove_identity` established, as plain data a report can print.

    ``proven_sizes``  sizes where lhs = rhs was proven (``symbolic``) or held at every random
                      trial (``exact-random``), in sweep order.
    ``refuted_at``    the first (smallest) size where it fails, with ``witness`` (symbol ->
                      exact Rational, or for ``exact-random`` the instance name -> matrix) and
                      the exact ``residual`` lhs - rhs there; ``reason`` says why in words.
    ``undecided_at``  a size where neither a proof nor a witness was found (non-rational
                      expressions that ``simplify`` cannot reduce); nothing after it was tried.
    """

    name: str
    proven_sizes: list[dict[str, int]] = field(default_factory=list)
    refuted_at: dict[str, int] | None = None
    witness: dict[Any, Any] | None = None
    residual: Any = None
    reason: str | None = None
    method: str = "symbolic"
    seconds: float = 0.0
    undecided_at: dict[str, int] | None = None
    sweep: str = ""
    sizes_total: int = 0
    trials: int | None = None
    seed: int = 0
    certified: bool = True
    decisions: list[dict[str, Any]] = field(default_factory=list)  # decision-procedure runs

    @property
    def holds(self) -> bool:
        """True when no size was refuted or left undecided."""
        return self.refuted_at is None and self.undecided_at is None

    @property
    def residual_max_abs(self) -> sp.Expr | None:
        """``max |entry|`` of the residual at the witness (exact), or None without one."""
        if self.residual is None:
            return None
        entries = list(self.residual) if isinstance(self.residual, sp.MatrixBase) \
            else [self.residual]
        return sp.Max(*[sp.Abs(e) for e in entries]) if entries else None

    @property
    def verdict(self) -> str:
        """``proven`` | ``holds at random points`` | ``refuted`` | ``undecided``."""
        if self.refuted_at is not None:
            return "refuted"
        if self.undecided_at is not None:
            return "undecided"
        return "proven" if self.method == "symbolic" else "holds at random points"

    def describe(self) -> str:
        """One paragraph: verdict, coverage, method strength, witness, time."""
        head = f"{self.name or 'identity'}: "
        tail = f" [{self.seconds:.2f} s]"
        n = len(self.proven_sizes)
        if self.refuted_at is not None:
            text = f"REFUTED at {_fmt_size(self.refuted_at)}"
            if n:
                text += f" (held at the {n} earlier size{'s' if n != 1 else ''} of the sweep)"
            text += f": {self.reason}"
            if self.witness:
                text += "; witness " + _fmt_witness(self.witness)
            if self.residual is not None:
                text += f"; lhs - rhs there = {_fmt_value(self.residual)}"
                text += " (exact rational arithmetic: a certified counterexample)" \
                    if self.certified else " (nonzero per sympy's precision-tracked evaluation)"
            return head + text + tail
        if self.undecided_at is not None:
            return (head + f"UNDECIDED at {_fmt_size(self.undecided_at)} after {n} proven "
                    f"size{'s' if n != 1 else ''}: {self.reason}" + tail)
        if self.method == "symbolic":
            by_dp = sum(d["status"] == "proven" for d in self.decisions)
            route = "symbolic expansion" if not by_dp else (
                f"symbolic expansion; {by_dp} entr{'ies' if by_dp != 1 else 'y'} proven by the "
                "decision procedure")
            return (head + f"proven exactly ({route}) at every size of "
                    f"{self.sweep}" + tail)
        return (head + f"holds at {self.trials} random rational instance"
                f"{'s' if self.trials != 1 else ''} at every size of {self.sweep}, in "
                "exact arithmetic; this is randomized polynomial identity testing "
                "(Schwartz-Zippel), evidence and not a proof for all matrices" + tail)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: sympy values become strings."""
        return {
            "name": self.name,
            "verdict": self.verdict,
            "holds": self.holds,
            "method": self.method,
            "sweep": self.sweep,
            "sizes_total": self.sizes_total,
            "proven_sizes": [dict(s) for s in self.proven_sizes],
            "refuted_at": None if self.refuted_at is None else dict(self.refuted_at),
            "undecided_at": None if self.undecided_at is None else dict(self.undecided_at),
            "witness": None if self.witness is None else
            {str(k): _fmt_value(v) for k, v in self.witness.items()},
            "residual": None if self.residual is None else _fmt_value(self.residual),
            "residual_max_abs": None if self.residual is None else str(self.residual_max_abs),
            "reason": self.reason,
            "certified": self.certified,
            "trials": self.trials,
            "seed": self.seed,
            "seconds": self.seconds,
            "decisions": list(self.decisions),
            "description": self.describe(),
        }


# --------------------------------------------------------------------------- proving

_METHODS = ("symbolic", "exact-random")


def _takes_rng(build: Callable) -> bool:
    try:
        inspect.signature(build).bind({}, None)
    except TypeError:
        return False
    except ValueError:  # no signature available (some builtins): assume the documented form
        return False
    return True


def _needs_rng(build: Callable) -> bool:
    try:
        inspect.signature(build).bind({})
    except TypeError:
        return _takes_rng(build)
    except ValueError:
        return False
    return False


def _unpack(out: Any) -> tuple[Any, Any, dict[str, Any] | None]:
    if not isinstance(out, tuple) or len(out) not in (2, 3):
        raise TypeError("build must return (lhs, rhs) or (lhs, rhs, instance_dict), got "
                        f"{type(out).__name__}")
    if len(out) == 3:
        if not isinstance(out[2], Mapping):
            raise TypeError("the third element returned by build must be a dict of the "
                            "instance (name -> matrix)")
        return out[0], out[1], dict(out[2])
    return out[0], out[1], None


def _sorted_symbols(*Ms: sp.Matrix) -> list[sp.Symbol]:
    syms: set[sp.Symbol] = set()
    for M in Ms:
        syms |= M.free_symbols
    return sorted(syms, key=sp.default_sort_key)


def _random_rational(rng: np.random.Generator, max_numerator: int = 5,
                     denominators: tuple[int, ...] = (1, 2, 3, 4)) -> sp.Rational:
    p = int(rng.integers(-max_numerator, max_numerator + 1))
    q = int(denominators[int(rng.integers(len(denominators)))])
    return sp.Rational(p, q)


def prove_identity(build: Callable[..., Any], sweep: SizeSweep | Iterable[Mapping[str, int]], *,
                   method: str = "symbolic", name: str = "", seed: int = 0,
                   trials: int = 2) -> IdentityResult:
    """Prove ``lhs == rhs`` at every size of ``sweep``, or refute it at the smallest failing one.

    ``build(sizes)`` returns ``(lhs, rhs)``: sympy matrices or scalar expressions (a scalar
    equals a 1 x 1 matrix).  With ``method="exact-random"``, ``build`` may instead take
    ``(sizes, rng)`` (a ``numpy.random.Generator`` seeded by ``seed`` and the size, so each size
    is reproducible on its own) and return exact rational matrices, optionally with a third
    element, a dict naming the instance (e.g. ``{"X": X, "Z": Z}``) that becomes the witness.
    Remaining free symbols are replaced by random rationals in each of the ``trials``.
    Projections and pseudo-inverses are rational functions only on each fixed-rank stratum, so
    make the rank a dimension of the sweep (e.g. ``r_x=(0, 2), where="r_x <= min(m, d_x)"``)
    rather than hoping random draws hit the rank-deficient cases.

    A ``ShapeError`` raised while building (the two sides do not even conform) and a shape
    mismatch between lhs and rhs are refutations with a reason and no witness.

    >>> def build(s):
    ...     a, b = symbol_vector("a", s["n"]), symbol_vector("b", s["n"])
    ...     return (a.T * b)[0], (b.T * a)[0]
    >>> prove_identity(build, SizeSweep(n=(1, 3)), name="a.b = b.a").verdict
    'proven'
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    if not callable(build):
        raise TypeError(f"build must be callable, got {type(build).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")
    if isinstance(trials, bool) or not isinstance(trials, Integral) or trials < 1:
        raise ValueError(f"trials must be an int >= 1, got {trials!r}")
    if isinstance(sweep, SizeSweep):
        sizes, sweep_text = sweep.sizes, sweep.describe()
    else:
        sizes = [dict(s) for s in sweep]
        sweep_text = f"{len(sizes)} given sizes"
    if not sizes:
        raise ValueError("the sweep is empty: an identity proven at no size proves nothing")

    result = IdentityResult(name=name, method=method, sweep=sweep_text, sizes_total=len(sizes),
                            trials=trials if method == "exact-random" else None, seed=int(seed))
    start = time.perf_counter()
    step = _symbolic_step if method == "symbolic" else _random_step
    with_rng = method == "exact-random" and _takes_rng(build)
    if method == "symbolic" and _needs_rng(build):
        raise TypeError("build takes (sizes, rng): random instances need method='exact-random'")
    for size in sizes:
        done = step(build, dict(size), result, seed=int(seed), trials=int(trials),
                    with_rng=with_rng)
        if done:
            break
        result.proven_sizes.append(dict(size))
    result.seconds = time.perf_counter() - start
    return result


def _build_checked(build: Callable, args: tuple, size: dict, result: IdentityResult):
    """Run build; a ShapeError / shape mismatch is recorded as a refutation (returns None)."""
    try:
        out = build(*args)
    except sp.ShapeError as exc:
        result.refuted_at, result.reason = size, f"shape error while building: {exc}"
        return None
    lhs, rhs, instance = _unpack(out)
    L, R = _as_exact(lhs, "lhs"), _as_exact(rhs, "rhs")
    if L.shape != R.shape:
        result.refuted_at = size
        result.reason = f"shape mismatch: lhs {_shape(L)}, rhs {_shape(R)}"
        return None
    return L, R, instance


def _symbolic_step(build: Callable, size: dict, result: IdentityResult, *, seed: int,
                   trials: int, with_rng: bool) -> bool:
    built = _build_checked(build, (size,), size, result)
    if built is None:
        return True
    L, R, _ = built
    D = L - R
    symbols = _sorted_symbols(L, R)
    for k, entry in enumerate(D):
        status, route = _decide_zero(entry)
        if status is True:
            continue
        i, j = divmod(k, D.cols)
        point = _search_witness(entry, D, symbols, seed=seed)
        where = f"entry ({i + 1}, {j + 1}) of lhs - rhs"
        if point is not None:
            result.refuted_at, result.witness = size, point
            result.residual = sp.ImmutableMatrix(D.xreplace(point))
            result.certified = all(e.is_Rational for e in result.residual)
            result.reason = (f"{where} is {_short(str(sp.expand(entry)))}, not identically 0 "
                             f"(decided by {route})")
        elif status is False:
            result.refuted_at = size
            result.reason = (f"{where} expands to the nonzero {_short(str(sp.expand(entry)))} "
                             f"(decided by {route}), but no small rational witness was found")
        else:
            decided = _decide_entry(entry, where, size, result)
            if decided:
                continue
        return True
    return False


#: Time limit (seconds, per solver) of the decision procedure on an entry sympy leaves undecided.
DECIDE_TIMEOUT = 10.0


def _decide_entry(entry: sp.Expr, where: str, size: dict, result: IdentityResult) -> bool:
    """An entry sympy could not decide: ask the decision procedure whether ``entry == 0`` for
    all reals (undefined functions read as arbitrary functions).  True when proven; otherwise
    the result records the exact counterexample or why it stays undecided."""
    plain = (f"{where} = {_short(str(entry))} was not reduced to 0 by expand, cancel or "
             "simplify, and no rational point makes it nonzero")
    try:
        from .decide import TranslationError, decide
        variables = sorted(entry.free_symbols, key=sp.default_sort_key)
        decision = decide(variables, [], sp.Eq(entry, 0), timeout=DECIDE_TIMEOUT,
                          name=where, size=size)
    except ImportError as exc:
        result.undecided_at, result.reason = size, f"{plain}; no decision procedure: {exc}"
        return False
    except TranslationError as exc:
        result.undecided_at = size
        result.reason = f"{plain}; outside the decidable fragment: {exc}"
        return False
    result.decisions.append(decision.to_dict())
    if decision.status == "proven":
        return True
    if decision.status == "counterexample":
        result.refuted_at = size
        result.witness = decision.witness_table()
        result.residual = sp.ImmutableMatrix([[decision.evaluate(entry)]])
        result.certified = True
        result.reason = (f"{where} is {_short(str(entry))}, not identically 0: decided by the "
                         f"decision procedure ({decision.reason}; {decision.solvers_text()})")
        return False
    result.undecided_at = size
    result.reason = f"{plain}; the decision procedure: {decision.reason}"
    return False


def _random_step(build: Callable, size: dict, result: IdentityResult, *, seed: int,
                 trials: int, with_rng: bool) -> bool:
    # One generator per size, so a size can be replayed alone: default_rng([seed, *dims]).
    rng = np.random.default_rng([seed, *size.values()])
    built: Any = None if with_rng else _build_checked(build, (size,), size, result)
    if not with_rng and built is None:
        return True
    replay = f"rng = numpy default_rng([{seed}, {', '.join(map(str, size.values()))}])"
    for t in range(trials):
        if with_rng:
            built = _build_checked(build, (size, rng), size, result)
            if built is None:
                return True
        L, R, instance = built
        symbols = _sorted_symbols(L, R)
        # Redraw a point that hits a pole (a vanishing denominator) instead of judging there.
        for _ in range(20):
            point = {s: _random_rational(rng) for s in symbols}
            D = (L - R).xreplace(point) if point else L - R
            if _finite_numbers(D):
                break
            if not point:
                raise ValueError(f"lhs - rhs is not finite at {_fmt_size(size)}")
        else:
            result.undecided_at = size
            result.reason = f"lhs - rhs undefined at 20 random points of trial {t + 1} ({replay})"
            return True
        for k, v in enumerate(D):
            status = _certified_nonzero(v)
            if status is True:
                result.refuted_at = size
                result.witness = {**(instance or {}), **point} or None
                result.residual = sp.ImmutableMatrix(D)
                result.certified = all(e.is_Rational for e in D)
                result.reason = f"lhs - rhs != 0 at random trial {t + 1} of {trials} ({replay})"
                return True
            if status is None:
                result.undecided_at = size
                result.reason = (f"entry {k + 1} of vec(lhs - rhs) at trial {t + 1} is the "
                                 f"irrational number {v}, whose sign sympy cannot decide")
                return True
    return False


# --------------------------------------------------------------------------- exact linear algebra

def _as_rational_matrix(M: Any, what: str) -> sp.Matrix:
    M = _as_matrix(M, what)
    for e in M:
        e = sp.sympify(e)
        if not e.is_Rational:
            if isinstance(e, sp.Float) or e.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
                raise TypeError(f"{what} has the non-exact entry {e}; use sympy.Rational")
            raise TypeError(f"{what} has the non-rational entry {e}: exact projections need "
                            "rational matrices (for symbolic ones use method='exact-random')")
    return M


def exact_projection(M: Any) -> sp.Matrix:
    """``P[M]``: the orthogonal projector onto the column space of a rational ``M``, exactly.

    Rank-deficient ``M`` is fine: with ``B`` a basis of the column space (pivot columns),
    ``P = B (B^T B)^{-1} B^T``; ``P = 0`` when ``M = 0``.

    >>> exact_projection(sp.Matrix([[1, 2], [1, 2]]))
    Matrix([
    [1/2, 1/2],
    [1/2, 1/2]])
    """
    M = _as_rational_matrix(M, "exact_projection's argument")
    _, pivots = M.rref()
    if not pivots:
        return sp.zeros(M.rows, M.rows)
    B = M.extract(list(range(M.rows)), list(pivots))
    return B * (B.T * B).inv() * B.T


def exact_null_projection(M: Any) -> sp.Matrix:
    """``P_N[M] = I - P[M]``: projector onto ``Null(M^T)`` , exactly.

    >>> exact_null_projection(sp.Matrix([[1], [0]]))
    Matrix([
    [0, 0],
    [0, 1]])
    """
    M = _as_rational_matrix(M, "exact_null_projection's argument")
    return sp.eye(M.rows) - exact_projection(M)


def _as_rng(rng: Any) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    if isinstance(rng, random.Random):
        return np.random.default_rng(rng.getrandbits(64))
    raise TypeError(f"rng must be a numpy Generator, a random.Random or an int seed, got "
                    f"{type(rng).__name__}")


def random_rational_matrix(rows: int, cols: int, rng: Any, rank: int | None = None,
                           denominators: Iterable[int] = (1, 2, 3, 4),
                           max_numerator: int = 5) -> sp.Matrix:
    """A random exact rational ``rows x cols`` matrix, of exactly ``rank`` if given.

    Entries are ``p/q`` with ``|p| <= max_numerator`` and ``q`` from ``denominators``.  With a
    rank ``r``, the matrix is ``A B`` with random ``A`` (rows x r) and ``B`` (r x cols), redrawn
    until its exact rank is ``r`` (a rank drop has small probability, so few redraws occur).

    >>> random_rational_matrix(3, 3, 0, rank=1).rank()
    1
    """
    rows, cols = _check_dim(rows, "rows"), _check_dim(cols, "cols")
    gen = _as_rng(rng)
    dens = tuple(_check_dim(q, "denominator") for q in denominators)
    if not dens or 0 in dens:
        raise ValueError(f"denominators must be positive ints, got {dens}")
    if isinstance(max_numerator, bool) or not isinstance(max_numerator, Integral) \
            or max_numerator < 1:
        raise ValueError(f"max_numerator must be an int >= 1, got {max_numerator!r}")

    def draw(r: int, c: int) -> sp.Matrix:
        return sp.Matrix(r, c, lambda i, j: _random_rational(gen, int(max_numerator), dens))

    if rank is None:
        return draw(rows, cols)
    rank = _check_dim(rank, "rank")
    if rank > min(rows, cols):
        raise ValueError(f"rank {rank} is impossible for a {rows}x{cols} matrix")
    if rank == 0:
        return sp.zeros(rows, cols)
    for _ in range(100):
        M = draw(rows, rank) * draw(rank, cols)
        if M.rank() == rank:
            return M
    raise RuntimeError(f"no {rows}x{cols} matrix of rank {rank} in 100 draws; widen "
                       "max_numerator or denominators")
