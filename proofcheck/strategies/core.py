"""Public Hypothesis strategies for loss-landscape claims.

Strategies here generate instances that satisfy -- or deliberately violate -- the hypotheses of a
claim: named dimension relations, matrices of a given shape / rank / condition number, data sets
``(X, Y, Z)``, ResNet parameters ``(W, V)`` and seeded numpy generators.  They return plain
``dict``s and numpy arrays, so any test (not only proofcheck's engine) can use them::

    from hypothesis import given
    from proofcheck.strategies import A1, dimensions, matrices

    @given(dimensions(relation=A1))
    def test_a1_holds(d):
        assert d["d_y"] <= min(d["d_x"], d["d_z"])

Shrinking order is by construction: dimensions are drawn first (so they shrink first), then the
structure (ranks, permutations, which edge case), then entries (small integers, then simple
rationals, via Hypothesis' own shrinkers).  Large numeric payloads come from a numpy generator
whose *seed* Hypothesis draws (``payload="rng"``), so examples stay small in Hypothesis' choice
sequence.

Element kinds (``elements=``):

``"float"``    numpy ``float64`` arrays, entries are finite floats in ``[-bound, bound]``.
``"int"``      numpy ``float64`` arrays whose entries are integers (exact in float64, checked).
``"rational"`` numpy ``object`` arrays of :class:`fractions.Fraction` (exact arithmetic).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

__all__ = [
    "A1",
    "AUTO_DRAW_LIMIT",
    "ELEMENT_KINDS",
    "ENUMERATION_LIMIT",
    "cond_relative_accuracy",
    "Relation",
    "SeededGenerator",
    "datasets",
    "dimensions",
    "floats_finite",
    "matrices",
    "rank_deficient_W",
    "resnet_parameters",
    "resnet_problems",
    "seeds",
]

ELEMENT_KINDS = ("float", "int", "rational")
#: default entry bound per element kind (floats in [-10, 10]; small integers / rationals)
DEFAULT_BOUND = {"float": 10.0, "int": 3, "rational": 3}
DEFAULT_MAX_DENOMINATOR = 4
#: with ``payload="auto"``, matrices with at most this many entries are drawn entry by entry
#: by Hypothesis (best shrinking); larger ones come from a seeded numpy generator.
AUTO_DRAW_LIMIT = 64
#: boxes of dimensions with at most this many points are enumerated (exact, constructive);
#: 2**18 predicate calls take ~0.1 s.
ENUMERATION_LIMIT = 2**18
TARGET_KINDS = ("real", "one_hot", "pm1")
PAYLOADS = ("auto", "draw", "rng")

_EPS = float(np.finfo(np.float64).eps)
_MAX_EXACT_INT = 2**53  # integers of larger magnitude are not all representable in float64


# --------------------------------------------------------------------------------------------
# Relations between named dimensions
# --------------------------------------------------------------------------------------------


class Relation:
    """A predicate on a ``dict`` of named sizes, with a readable name.

    >>> A1 = Relation("d_y <= min(d_x, d_z)", lambda d: d["d_y"] <= min(d["d_x"], d["d_z"]))
    >>> A1({"d_x": 3, "d_y": 2, "d_z": 2}), (~A1)({"d_x": 3, "d_y": 2, "d_z": 2})
    (True, False)
    >>> str(A1.negate()), A1.negate().negate() is A1
    ('not (d_y <= min(d_x, d_z))', True)
    >>> str(A1 & Relation("d_x >= 2", lambda d: d["d_x"] >= 2))
    '(d_y <= min(d_x, d_z)) and (d_x >= 2)'
    """

    __slots__ = ("text", "predicate", "_negation_of")

    def __init__(self, text: str, predicate: Callable[[Mapping[str, int]], Any]):
        if not isinstance(text, str) or not text.strip():
            raise TypeError(f"Relation text must be a non-empty str, got {text!r}")
        if not callable(predicate):
            raise TypeError(f"Relation predicate must be callable, got {predicate!r}")
        self.text = text
        self.predicate = predicate
        self._negation_of: Relation | None = None

    def __call__(self, dims: Mapping[str, int]) -> bool:
        return bool(self.predicate(dims))

    def negate(self) -> Relation:
        """The complement; negating twice gives back the original object."""
        if self._negation_of is not None:
            return self._negation_of
        inner = self.predicate
        neg = Relation(f"not ({self.text})", lambda d: not inner(d))
        neg._negation_of = self
        return neg

    __invert__ = negate

    def __and__(self, other: Relation) -> Relation:
        if not isinstance(other, Relation):
            return NotImplemented
        p, q = self.predicate, other.predicate
        return Relation(f"({self.text}) and ({other.text})", lambda d: bool(p(d)) and bool(q(d)))

    def __or__(self, other: Relation) -> Relation:
        if not isinstance(other, Relation):
            return NotImplemented
        p, q = self.predicate, other.predicate
        return Relation(f"({self.text}) or ({other.text})", lambda d: bool(p(d)) or bool(q(d)))

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Relation({self.text!r})"


#: The relation d_y <= min(d_x, d_z): the output dimension is at most both input widths.
A1 = Relation("d_y <= min(d_x, d_z)", lambda d: d["d_y"] <= min(d["d_x"], d["d_z"]))


def _check_size(name: str, value: Any, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _per_name(names: tuple[str, ...], value: Any, what: str) -> list[int]:
    if isinstance(value, Mapping):
        missing = [n for n in names if n not in value]
        extra = [k for k in value if k not in names]
        if missing or extra:
            raise ValueError(
                f"{what} mapping must have exactly the keys {names}; "
                f"missing {missing}, extra {extra}"
            )
        return [_check_size(f"{what}[{n!r}]", value[n]) for n in names]
    return [_check_size(what, value)] * len(names)


def _evaluate(relation: Relation, names: tuple[str, ...], point: Sequence[int]) -> bool:
    try:
        return relation(dict(zip(names, point)))
    except KeyError as exc:
        raise ValueError(
            f"relation {str(relation)!r} uses the name {exc.args[0]!r}, which is not among "
            f"names={names}"
        ) from None


def dimensions(
    names: Sequence[str] = ("d_x", "d_y", "d_z"),
    *,
    min_value: int | Mapping[str, int] = 1,
    max_value: int | Mapping[str, int] = 4,
    relation: Relation | None = None,
    violate: bool = False,
) -> st.SearchStrategy[dict[str, int]]:
    """Dicts of named sizes in the box ``[min_value, max_value]`` (per name if a mapping).

    With ``relation``, every dict satisfies it; with ``violate=True`` every dict satisfies its
    negation (this is how the engine "drops" a hypothesis: it explores its complement).

    Generation is constructive, never by rejection: the box (at most :data:`ENUMERATION_LIMIT`
    points) is enumerated once, and names are drawn one after another, each from the values that
    still admit a completion (e.g. for A1: ``d_x``, then ``d_y <= d_x``, then ``d_z >= d_y``).
    Each value shrinks towards its smallest feasible value.  A relation with no solution in the
    box raises ``ValueError`` immediately.  Larger boxes fall back to ``.filter`` after probing
    that the relation is satisfiable at all.

    >>> from hypothesis import find
    >>> find(dimensions(relation=A1), lambda d: d["d_x"] >= 3)
    {'d_x': 3, 'd_y': 1, 'd_z': 1}
    >>> find(dimensions(relation=A1, violate=True), lambda d: True)
    {'d_x': 1, 'd_y': 2, 'd_z': 1}
    """
    names = tuple(names)
    if not names or not all(isinstance(n, str) for n in names):
        raise TypeError(f"names must be a non-empty sequence of str, got {names!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"names must be distinct, got {names}")
    lows = _per_name(names, min_value, "min_value")
    highs = _per_name(names, max_value, "max_value")
    for n, lo, hi in zip(names, lows, highs):
        if lo > hi:
            raise ValueError(f"empty range for {n!r}: min_value={lo} > max_value={hi}")
    box = ", ".join(f"{n} in [{lo}, {hi}]" for n, lo, hi in zip(names, lows, highs))
    if relation is None:
        if violate:
            raise ValueError("violate=True needs a relation to violate")
        return st.fixed_dictionaries(
            {n: st.integers(lo, hi) for n, lo, hi in zip(names, lows, highs)}
        )
    if not isinstance(relation, Relation):
        raise TypeError(
            f"relation must be a Relation (a predicate with a readable name), got {relation!r}"
        )
    target = relation.negate() if violate else relation
    ranges = [range(lo, hi + 1) for lo, hi in zip(lows, highs)]
    size = math.prod(len(r) for r in ranges)

    if size > ENUMERATION_LIMIT:
        # Too big to enumerate: probe the corners and a seeded sample before filtering, so a
        # relation that is (almost surely) unsatisfiable fails here and not as Unsatisfiable.
        rng = np.random.default_rng(0)
        corners = itertools.product(*[(r[0], r[-1]) for r in ranges])
        sample = zip(*[rng.integers(r[0], r[-1] + 1, 4096) for r in ranges])
        if not any(_evaluate(target, names, p) for p in itertools.chain(corners, sample)):
            raise ValueError(
                f"no point in the box ({box}) satisfying {str(target)!r} found among its corners "
                f"and 4096 random probes; it is probably unsatisfiable there (boxes of at most "
                f"{ENUMERATION_LIMIT} points are decided exactly)"
            )
        return st.fixed_dictionaries(
            {n: st.integers(lo, hi) for n, lo, hi in zip(names, lows, highs)}
        ).filter(target)

    # prefix -> sorted values of the next name that admit a feasible completion
    tree: dict[tuple[int, ...], set[int]] = {}
    for point in itertools.product(*ranges):
        if _evaluate(target, names, point):
            for i in range(len(names)):
                tree.setdefault(point[:i], set()).add(point[i])
    if not tree:
        raise ValueError(f"relation {str(target)!r} has no solution in the box ({box})")
    choices = {prefix: sorted(values) for prefix, values in tree.items()}
    index = {prefix: st.integers(0, len(values) - 1) for prefix, values in choices.items()}

    @st.composite
    def _dimensions(draw):
        # Draw an index for every name, even when one value is feasible (integers(0, 0) still
        # records a choice; sampled_from of one value does not): then every dict costs the
        # same number of choices and Hypothesis' shortlex order is the lexicographic order of
        # the values; otherwise {d_x: 2, d_y: 2, d_z: 1} was "simpler" than {1, 2, 1}.
        prefix: tuple[int, ...] = ()
        for _ in names:
            prefix += (choices[prefix][draw(index[prefix])],)
        return dict(zip(names, prefix))

    return _dimensions()


# --------------------------------------------------------------------------------------------
# Scalars and seeds
# --------------------------------------------------------------------------------------------


def floats_finite(
    min_value: float | None = None,
    max_value: float | None = None,
    *,
    allow_nan: bool = False,
    allow_infinity: bool = False,
    allow_subnormal: bool = False,
    width: int = 64,
    exclude_min: bool = False,
    exclude_max: bool = False,
) -> st.SearchStrategy[float]:
    """``st.floats`` that never yields NaN or +-inf unless asked.

    Subnormals are also off by default: they lose relative precision, so a derived tolerance
    ``c * eps * |x|`` does not hold for them and they would produce spurious refutations.

    >>> from hypothesis import find
    >>> find(floats_finite(-10, 10), lambda x: x < 0)
    -1.0
    """
    return st.floats(
        min_value,
        max_value,
        allow_nan=allow_nan,
        allow_infinity=allow_infinity,
        allow_subnormal=allow_subnormal,
        # hypothesis types width as Literal[16, 32, 64] and checks the value at run time
        width=width,  # type: ignore[arg-type]
        exclude_min=exclude_min,
        exclude_max=exclude_max,
    )


class SeededGenerator(np.random.Generator):
    """A ``numpy.random.Generator`` (PCG64) that remembers its seed and reprs as its recipe,
    so a falsifying example printed by Hypothesis can be replayed.

    >>> rng = SeededGenerator(7)
    >>> rng
    np.random.default_rng(7)
    >>> bool((rng.random(3) == np.random.default_rng(7).random(3)).all())
    True
    """

    def __init__(self, seed: int):
        super().__init__(np.random.PCG64(seed))
        self.seed = seed

    def __repr__(self) -> str:
        return f"np.random.default_rng({self.seed})"

    __str__ = __repr__


def seeds(max_seed: int = 2**32 - 1) -> st.SearchStrategy[SeededGenerator]:
    """Fresh seeded numpy generators; Hypothesis shrinks the seed (towards 0).

    Use them for big numeric payloads, so Hypothesis only has to draw (and shrink) the seed::

        @given(seeds())
        def test_gram_psd(rng):
            X = rng.standard_normal((1000, 5))
            assert np.linalg.eigvalsh(X.T @ X).min() > -1e-9 * 1000

    >>> from hypothesis import find
    >>> find(seeds(), lambda rng: True)
    np.random.default_rng(0)
    """
    _check_size("max_seed", max_seed)
    return st.integers(0, max_seed).map(SeededGenerator)


_DEFAULT_SEEDS = seeds()


# --------------------------------------------------------------------------------------------
# Entries: one interface, two sources (Hypothesis draws or a seeded generator)
# --------------------------------------------------------------------------------------------


def _check_elements(elements: str, bound: Any, max_denominator: int):
    if elements not in ELEMENT_KINDS:
        raise ValueError(f"elements must be one of {ELEMENT_KINDS}, got {elements!r}")
    if bound is None:
        bound = DEFAULT_BOUND[elements]
    if elements == "int":
        bound = _check_size("bound (elements='int')", bound, minimum=1)
    elif elements == "rational":
        if isinstance(bound, float) and not math.isfinite(bound):
            raise ValueError(f"bound must be finite, got {bound}")
        bound = Fraction(bound)
        if bound <= 0:
            raise ValueError(f"bound must be > 0, got {bound}")
        _check_size("max_denominator", max_denominator, minimum=1)
    else:
        bound = float(bound)
        if not math.isfinite(bound) or bound <= 0:
            raise ValueError(f"bound must be a finite float > 0, got {bound}")
    return bound


def _check_payload(payload: str) -> None:
    if payload not in PAYLOADS:
        raise ValueError(f"payload must be one of {PAYLOADS}, got {payload!r}")


# Strategy objects are cached: building and validating a fresh ``arrays(...)`` on every draw
# dominated the run time (~25 ms per example for a rank-2 rational 3 x 4 matrix).
@functools.lru_cache(maxsize=1024)
def _element_strategy(kind: str, bound, q: int, role: str) -> st.SearchStrategy:
    if kind == "float":
        return {"elem": floats_finite(-bound, bound), "unit": floats_finite(-1.0, 1.0),
                "small": floats_finite(-1.0, 1.0),
                "mag": floats_finite(min(1.0, bound), bound)}[role]
    if kind == "int":
        return {"elem": st.integers(-bound, bound), "unit": st.integers(-bound, bound),
                "small": st.integers(-1, 1), "mag": st.integers(1, bound)}[role]
    if role == "small":  # integers: products with free entries keep their denominators
        return st.integers(-1, 1).map(Fraction)
    if role != "mag":
        return _rationals(-bound, bound, q)
    lo = min(Fraction(1), bound)
    # lo + [0, bound - lo] shrinks to lo (a range (1/q, bound] would shrink to 1/q, not to 1)
    return _rationals(Fraction(0), bound - lo, q).map(lambda f: lo + f)


def _rationals(lo: Fraction, hi: Fraction, q: int) -> st.SearchStrategy[Fraction]:
    """Fractions in [lo, hi] with denominator <= q, shrinking to smaller denominators, then
    towards zero -- like ``st.fractions(lo, hi, max_denominator=q)``, whose ``flatmap`` builds
    and validates a new strategy on every draw (the dominant cost for rational matrices)."""
    numerators = {d: st.integers(math.ceil(lo * d), math.floor(hi * d)) for d in range(1, q + 1)}

    @st.composite
    def _fractions(draw):
        d = draw(st.integers(1, q))
        return Fraction(draw(numerators[d]), d)

    return _fractions()


@functools.lru_cache(maxsize=1024)
def _array_strategy(kind: str, bound, q: int, role: str, shape: tuple[int, ...]):
    dtype = {"float": np.float64, "int": np.int64, "rational": object}[kind]
    return arrays(dtype, shape, elements=_element_strategy(kind, bound, q, role))


@functools.lru_cache(maxsize=1024)
def _bool_arrays(shape: tuple[int, ...]):
    return arrays(np.bool_, shape)


@functools.lru_cache(maxsize=1024)
def _label_arrays(m: int, classes: int):
    return arrays(np.int64, m, elements=st.integers(0, classes - 1))


@functools.lru_cache(maxsize=1024)
def _permutations(n: int):
    return st.permutations(range(n))


class _Entries:
    """Entries of one kind, from Hypothesis draws (``rng is None``) or a seeded generator.

    ``matrix`` gives free entries in [-bound, bound]; ``unit`` gives the off-diagonal entries
    of the unit-triangular factors (in [-1, 1] for floats, to keep their conditioning at most
    ~2**r; the exact kinds use the full bound since conditioning does not matter there);
    ``nonzero`` gives magnitudes in [min(1, bound), bound] with a random sign; ``small``
    gives entries in [-1, 1] (integers for the exact kinds).
    """

    def __init__(self, kind: str, bound, max_denominator: int, draw=None, rng=None):
        self.kind, self.bound, self.q = kind, bound, max_denominator
        self.draw, self.rng = draw, rng

    @property
    def dtype(self):
        return object if self.kind != "float" else np.float64

    def zeros(self, shape) -> np.ndarray:
        if self.kind == "float":
            return np.zeros(shape)
        return np.full(shape, Fraction(0) if self.kind == "rational" else 0, dtype=object)

    def eye(self, n: int) -> np.ndarray:
        out = self.zeros((n, n))
        for i in range(n):
            out[i, i] = 1 if self.kind != "float" else 1.0
        return out

    def _rng_fill(self, shape, bound) -> np.ndarray:
        rng = self.rng
        if self.kind == "float":
            return rng.uniform(-bound, bound, shape)
        if self.kind == "int":
            return rng.integers(-bound, bound + 1, shape).astype(object)
        den = rng.integers(1, self.q + 1, shape)
        lim = np.vectorize(lambda d: math.floor(bound * int(d)), otypes=[np.int64])(den)
        num = rng.integers(-lim, lim + 1)
        out = np.empty(shape, dtype=object)
        out.flat[:] = [Fraction(int(a), int(b)) for a, b in zip(num.flat, den.flat)]
        return out

    def _draw_fill(self, shape, role: str) -> np.ndarray:
        A = self.draw(_array_strategy(self.kind, self.bound, self.q, role, tuple(shape)))
        return A.astype(object) if self.kind == "int" else A

    def matrix(self, shape) -> np.ndarray:
        if self.rng is not None:
            return self._rng_fill(shape, self.bound)
        return self._draw_fill(shape, "elem")

    def unit(self, shape) -> np.ndarray:
        if self.rng is not None:
            return self._rng_fill(shape, 1.0 if self.kind == "float" else self.bound)
        return self._draw_fill(shape, "unit")

    def small(self, shape) -> np.ndarray:
        """Entries in [-1, 1], integers unless floats (so products with free entries keep
        within the bound, and for rationals keep their denominators)."""
        if self.rng is not None:
            if self.kind == "float":
                return self._rng_fill(shape, 1.0)
            vals = self.rng.integers(-1, 2, shape)
            return np.array([Fraction(int(v)) if self.kind == "rational" else int(v)
                             for v in vals.flat], dtype=object).reshape(shape)
        return self._draw_fill(shape, "small")

    def nonzero(self, n: int) -> np.ndarray:
        if self.rng is not None:
            rng = self.rng
            signs = rng.choice([-1, 1], n)
            if self.kind == "float":
                return signs * rng.uniform(min(1.0, self.bound), self.bound, n)
            if self.kind == "int":
                return (signs * rng.integers(1, self.bound + 1, n)).astype(object)
            lo = min(Fraction(1), self.bound)
            top = math.floor((self.bound - lo) * self.q)
            return np.array(
                [int(s) * (lo + Fraction(int(k), self.q)) for s, k in
                 zip(signs, rng.integers(0, top + 1, n))],
                dtype=object,
            )
        mags = self._draw_fill((n,), "mag")
        signs = self.draw(_bool_arrays((n,)))
        return np.where(signs, -mags, mags).astype(self.dtype)

    def permutation(self, n: int) -> np.ndarray:
        if self.rng is not None:
            return self.rng.permutation(n)
        return np.array(self.draw(_permutations(n)), dtype=np.intp)

    def pick(self, n: int) -> int:
        """An index in range(n), shrinking to 0."""
        if self.rng is not None:
            return int(self.rng.integers(0, n))
        return self.draw(st.integers(0, n - 1))

    def finish(self, A: np.ndarray) -> np.ndarray:
        """Convert to the public representation (float64 for float/int, Fraction objects)."""
        if self.kind == "float":
            return np.asarray(A, dtype=np.float64)
        if self.kind == "int":
            if A.size and max(abs(int(a)) for a in A.flat) >= _MAX_EXACT_INT:
                raise OverflowError(
                    "integer matrix entries reach 2**53 and would not be exact in float64; "
                    "use a smaller bound or elements='rational'"
                )
            return np.asarray(A, dtype=np.float64)
        out = np.empty(A.shape, dtype=object)
        out.flat[:] = [Fraction(a) for a in A.flat]
        return out


def _resolve(draw, value):
    return draw(value) if isinstance(value, st.SearchStrategy) else value


def _low_rank(src: _Entries, rows: int, cols: int, r: int, repeat_row: bool) -> np.ndarray:
    """``P [I_r; X] (L D U) [I_r, Y] Q``: rank exactly r in exact arithmetic.

    ``[I; X]`` and ``[I, Y]`` have singular values >= 1 (their Gram matrices are ``I + X^T X``),
    ``L``/``U`` are unit triangular and ``D`` has nonzero diagonal, so ``L D U`` is invertible.
    Every rank-r matrix whose pivot minor has an LDU factorisation is of this form, so column
    space, row space and the r x r core are all generic.
    """
    if r == 0:
        return src.zeros((rows, cols))
    X = src.matrix((rows - r, r))
    Y = src.matrix((r, cols - r))
    L = np.tril(src.unit((r, r)), -1) + src.eye(r)
    U = np.triu(src.unit((r, r)), 1) + src.eye(r)
    D = src.nonzero(r)
    B = np.concatenate([src.eye(r), X], axis=0)
    if repeat_row and rows > r:
        # copy another row of B onto a non-pivot row: A gets two equal rows, rank unchanged
        target, source = r + src.pick(rows - r), src.pick(rows - 1)
        B[target] = B[source + (source >= target)]
    C = np.concatenate([src.eye(r), Y], axis=1)
    core = (L * D[np.newaxis, :]) @ U
    A = B @ core @ C
    return A[src.permutation(rows)][:, src.permutation(cols)]


def _rank_one(src: _Entries, rows: int, cols: int) -> np.ndarray:
    """``u v^T`` with ``u = P [d; x]`` (d != 0) and ``v = Q [1; y]``, ``|y| <= 1``: rank exactly
    one, and every entry stays within the bound of the free entries."""
    u = np.concatenate([src.nonzero(1), src.matrix((rows - 1,))])[src.permutation(rows)]
    v = np.concatenate([src.eye(1)[0], src.small((cols - 1,))])[src.permutation(cols)]
    return np.outer(u, v)


def _haar_orthonormal(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """n x k with orthonormal columns, Haar distributed (QR of a Gaussian, signs fixed)."""
    Q, R = np.linalg.qr(rng.standard_normal((n, k)))
    return Q * np.sign(np.diag(R))[np.newaxis, :]


# --------------------------------------------------------------------------------------------
# Matrices
# --------------------------------------------------------------------------------------------

# Which matrix to build when no rank is given: ~70% general, then the deliberate edge cases.
_KINDS = st.sampled_from(("general",) * 7 + ("zero", "repeated_rows", "rank_one"))


def cond_relative_accuracy(rows: int, cols: int, cond: float) -> float:
    """Relative accuracy of ``np.linalg.cond`` of a ``matrices(..., cond=cond)`` draw.

    The float64 product ``U diag(s) V^T`` (|U_ij|, |V_ij| <= 1, ``s_1 = 1``) differs from the
    exact one by E with ``||E||_2 <= ||E||_F <= sqrt(rows*cols) * (k + 2) * eps`` (k products
    per entry, plus the loss of orthogonality of the Householder QR factors, both ~eps per term);
    the SVD inside ``np.linalg.cond`` adds a backward error of the same order
    (``max(rows, cols) * eps``).  By Weyl, each singular value moves by at most
    ``delta = (sqrt(rows*cols) * (k + 2) + max(rows, cols)) * eps``, so
    ``|cond_computed / cond - 1| <= cond * 2 * delta / (1 - cond * delta)``.
    """
    k = min(rows, cols)
    delta = (math.sqrt(rows * cols) * (k + 2) + max(rows, cols)) * _EPS
    if cond * delta >= 0.5:
        return math.inf
    return cond * 2 * delta / (1 - cond * delta)


def matrices(
    rows: int | st.SearchStrategy[int],
    cols: int | st.SearchStrategy[int],
    *,
    rank: int | st.SearchStrategy[int] | None = None,
    cond: float | None = None,
    elements: str = "float",
    bound: float | int | Fraction | None = None,
    max_denominator: int = DEFAULT_MAX_DENOMINATOR,
    payload: str = "auto",
) -> st.SearchStrategy[np.ndarray]:
    """``rows x cols`` matrices, optionally of exact ``rank`` or approximate condition number.

    * ``rank=None``: entries drawn freely (``hypothesis.extra.numpy.arrays``), with deliberate
      edge cases mixed in: the zero matrix, a matrix with two equal rows, a rank-one matrix;
      all entries lie in ``[-bound, bound]``.
    * ``rank=r``: ``P [I_r; X] (L D U) [I_r, Y] Q``, a product of two full-rank thin factors
      around an invertible core.  For ``"int"`` and ``"rational"`` the rank is exactly r (the
      tests verify it with exact arithmetic); for ``"float"`` the exact product has rank r and
      the computed one has numerical rank r at numpy's ``matrix_rank`` cutoff
      ``max(rows, cols) * eps * s_max`` (checked; the rare draw whose core is too
      ill-conditioned for that is rejected).  Sometimes a row is duplicated (rank unchanged).
    * ``cond=c`` (floats only): ``U diag(s) V^T`` with Haar-random orthonormal U, V from a seeded
      generator and ``s`` log-spaced from 1 down to ``1/c`` (over ``rank`` values if given,
      otherwise ``min(rows, cols)``).  The computed condition number matches ``c`` to the
      relative accuracy :func:`cond_relative_accuracy` (about ``c * k**2 * eps``); a ``c`` for
      which that bound exceeds 1/2 raises ValueError, and so does ``c > 1`` with fewer than two
      singular values to spread.

    ``bound`` bounds the free entries (default 10.0 for floats, 3 for ints/rationals; rationals
    have denominators <= ``max_denominator``).  With ``rank`` given the product's entries can
    exceed it.  ``payload="rng"`` takes the entries from a seeded generator (Hypothesis then
    shrinks only the seed and the structure); ``"auto"`` does so above
    :data:`AUTO_DRAW_LIMIT` entries.  ``rows``, ``cols`` and ``rank`` may be strategies.

    >>> from hypothesis import find
    >>> find(matrices(st.integers(1, 4), st.integers(1, 4)), lambda A: (A < 0).any())
    array([[-1.]])
    >>> find(matrices(2, 2, rank=1, elements="int"), lambda A: True)
    array([[1., 0.],
           [0., 0.]])
    """
    return _matrices_cached(rows, cols, rank=rank, cond=cond, elements=elements, bound=bound,
                            max_denominator=max_denominator, payload=payload)


def _build_matrices(rows, cols, *, rank, cond, elements, bound, max_denominator, payload):
    _check_payload(payload)
    bound = _check_elements(elements, bound, max_denominator)
    fixed_rows = None if isinstance(rows, st.SearchStrategy) else _check_size("rows", rows, 1)
    fixed_cols = None if isinstance(cols, st.SearchStrategy) else _check_size("cols", cols, 1)
    if rank is not None and not isinstance(rank, st.SearchStrategy):
        rank = _check_size("rank", rank)
        if fixed_rows is not None and fixed_cols is not None and rank > min(fixed_rows, fixed_cols):
            raise ValueError(f"rank={rank} exceeds min(rows, cols) = {min(fixed_rows, fixed_cols)}")
    if cond is not None:
        if elements != "float":
            raise ValueError("cond= needs elements='float' (orthogonal factors are not exact)")
        cond = float(cond)
        if not math.isfinite(cond) or cond < 1:
            raise ValueError(f"cond must be a finite float >= 1, got {cond}")
        if rank == 1 or fixed_rows == 1 or fixed_cols == 1:
            if cond != 1:
                raise ValueError(f"cond={cond:g} needs rank >= 2 (rank one means cond = 1)")
        if fixed_rows is not None and fixed_cols is not None:
            if math.isinf(cond_relative_accuracy(fixed_rows, fixed_cols, cond)):
                raise ValueError(
                    f"cond={cond:g} is beyond what float64 can represent for a "
                    f"{fixed_rows}x{fixed_cols} matrix (see cond_relative_accuracy)"
                )

    @st.composite
    def _matrices(draw):
        m = _check_size("rows", _resolve(draw, rows), 1)
        n = _check_size("cols", _resolve(draw, cols), 1)
        r = rank if not isinstance(rank, st.SearchStrategy) else _check_size("rank", draw(rank))
        if r is not None and r > min(m, n):
            raise ValueError(f"rank={r} exceeds min(rows, cols) = {min(m, n)}")
        if cond is not None:
            k = min(m, n) if r is None else r
            if k == 0:
                raise ValueError("cond= is undefined for rank 0")
            if k == 1 and cond != 1:
                raise ValueError(
                    f"cond={cond:g} needs at least two nonzero singular values; a {m}x{n} "
                    f"matrix of rank {k} always has condition number 1"
                )
            if math.isinf(cond_relative_accuracy(m, n, cond)):
                raise ValueError(f"cond={cond:g} is beyond float64 for a {m}x{n} matrix")
            rng = draw(_DEFAULT_SEEDS)
            s = np.logspace(0.0, -math.log10(cond), k)
            return (_haar_orthonormal(rng, m, k) * s) @ _haar_orthonormal(rng, n, k).T
        use_rng = payload == "rng" or (payload == "auto" and m * n > AUTO_DRAW_LIMIT)
        src = _Entries(
            elements, bound, max_denominator,
            draw=draw, rng=draw(_DEFAULT_SEEDS) if use_rng else None,
        )
        kind = draw(_KINDS)
        if r is None:
            if kind == "zero":
                return src.finish(src.zeros((m, n)))
            if kind == "rank_one":
                return src.finish(_rank_one(src, m, n))
            A = src.matrix((m, n))
            if kind == "repeated_rows" and m >= 2:
                i = draw(st.integers(0, m - 1))
                j = draw(st.integers(0, m - 2))
                A[j + (j >= i)] = A[i]
            return src.finish(A)
        A = src.finish(_low_rank(src, m, n, r, repeat_row=(kind == "repeated_rows")))
        if elements == "float":
            assume(np.linalg.matrix_rank(A) == r)  # see docstring: rare ill-conditioned core
        return A

    return _matrices()


_matrices_lru = functools.lru_cache(maxsize=1024)(_build_matrices)


def _matrices_cached(*args, **kwargs):
    """Memoised :func:`_build_matrices`: strategies are immutable, and building and validating
    a fresh one on every draw (e.g. ``data.draw(matrices(m, n))`` in a test, or inside the
    composites below) is slow.  Unhashable arguments are not cached."""
    try:
        return _matrices_lru(*args, **kwargs)
    except TypeError as exc:
        if "unhashable" not in str(exc):
            raise
        return _build_matrices(*args, **kwargs)


# --------------------------------------------------------------------------------------------
# Data sets and ResNet parameters
# --------------------------------------------------------------------------------------------


def _targets(draw, kind: str, m: int, d_y: int, elements: str, bound, q, payload):
    if kind == "real":
        return draw(matrices(m, d_y, elements=elements, bound=bound, max_denominator=q,
                             payload=payload))
    use_rng = payload == "rng" or (payload == "auto" and m * d_y > AUTO_DRAW_LIMIT)
    rng = draw(_DEFAULT_SEEDS) if use_rng else None
    if kind == "one_hot":
        if rng is not None:
            labels = rng.integers(0, d_y, m)
        else:
            labels = draw(_label_arrays(m, d_y))
        Y = np.eye(d_y)[labels]
    else:  # "pm1": shrinks towards +1
        negative = (
            rng.random((m, d_y)) < 0.5 if rng is not None else draw(_bool_arrays((m, d_y)))
        )
        Y = np.where(negative, -1.0, 1.0)
    if elements == "rational":
        out = np.empty(Y.shape, dtype=object)
        out.flat[:] = [Fraction(int(v)) for v in Y.flat]
        return out
    return Y


def datasets(
    m: int | st.SearchStrategy[int],
    d_x: int | st.SearchStrategy[int],
    d_y: int | st.SearchStrategy[int],
    d_z: int | st.SearchStrategy[int] | None = None,
    *,
    rank_X: int | st.SearchStrategy[int] | None = None,
    rank_Z: int | st.SearchStrategy[int] | None = None,
    targets: str = "real",
    elements: str = "float",
    bound: float | int | Fraction | None = None,
    max_denominator: int = DEFAULT_MAX_DENOMINATOR,
    payload: str = "auto",
) -> st.SearchStrategy[dict[str, np.ndarray]]:
    """Data sets ``dict(X=(m, d_x), Y=(m, d_y), Z=(m, d_z))`` with samples as rows.

    ``Z`` (the residual features z(x, theta)) is present only when ``d_z`` is given.
    ``rank_X`` / ``rank_Z`` fix exact ranks (see :func:`matrices`).  ``targets`` picks the label
    format: ``"real"`` regression targets, ``"one_hot"`` rows ``e_c`` (softmax cross-entropy),
    ``"pm1"`` entries in {-1, +1} (logistic / hinge).  Sizes may be strategies; they are drawn
    first, in the order m, d_x, d_y, d_z.

    >>> from hypothesis import find
    >>> D = find(datasets(st.integers(1, 8), 3, 2, 2, rank_X=1, targets="one_hot"),
    ...          lambda D: D["Y"][:, 1].any())
    >>> {k: v.shape for k, v in D.items()}
    {'X': (1, 3), 'Y': (1, 2), 'Z': (1, 2)}
    >>> D["Y"]
    array([[0., 1.]])
    """
    if targets not in TARGET_KINDS:
        raise ValueError(f"targets must be one of {TARGET_KINDS}, got {targets!r}")
    _check_payload(payload)
    bound = _check_elements(elements, bound, max_denominator)
    if d_z is None and rank_Z is not None:
        raise ValueError("rank_Z given but d_z is None (no Z to constrain)")

    @st.composite
    def _datasets(draw):
        mm = _check_size("m", _resolve(draw, m), 1)
        dx = _check_size("d_x", _resolve(draw, d_x), 1)
        dy = _check_size("d_y", _resolve(draw, d_y), 1)
        dz = None if d_z is None else _check_size("d_z", _resolve(draw, d_z), 1)
        mat = functools.partial(matrices, elements=elements, bound=bound,
                                max_denominator=max_denominator, payload=payload)
        out = {"X": draw(mat(mm, dx, rank=rank_X))}
        out["Y"] = _targets(draw, targets, mm, dy, elements, bound, max_denominator, payload)
        if dz is not None:
            out["Z"] = draw(mat(mm, dz, rank=rank_Z))
        return out

    return _datasets()


def resnet_parameters(
    d_x: int | st.SearchStrategy[int],
    d_y: int | st.SearchStrategy[int],
    d_z: int | st.SearchStrategy[int],
    *,
    rank_W: int | st.SearchStrategy[int] | None = None,
    elements: str = "float",
    bound: float | int | Fraction | None = None,
    max_denominator: int = DEFAULT_MAX_DENOMINATOR,
    payload: str = "auto",
) -> st.SearchStrategy[dict[str, np.ndarray]]:
    """ResNet output parameters ``dict(W=(d_y, d_x), V=(d_x, d_z))`` for h = W(x + V z).

    >>> from hypothesis import find
    >>> P = find(resnet_parameters(3, 2, 4, rank_W=1, elements="int"), lambda P: True)
    >>> P["W"].shape, P["V"].shape, int(np.linalg.matrix_rank(P["W"]))
    ((2, 3), (3, 4), 1)
    """
    _check_payload(payload)
    bound = _check_elements(elements, bound, max_denominator)

    @st.composite
    def _params(draw):
        dx = _check_size("d_x", _resolve(draw, d_x), 1)
        dy = _check_size("d_y", _resolve(draw, d_y), 1)
        dz = _check_size("d_z", _resolve(draw, d_z), 1)
        mat = functools.partial(matrices, elements=elements, bound=bound,
                                max_denominator=max_denominator, payload=payload)
        return {"W": draw(mat(dy, dx, rank=rank_W)), "V": draw(mat(dx, dz))}

    return _params()


def rank_deficient_W(
    d_y: int | st.SearchStrategy[int],
    d_x: int | st.SearchStrategy[int],
    *,
    bound: int = 2,
) -> st.SearchStrategy[np.ndarray]:
    """``(d_y, d_x)`` float64 matrices of exact rank ``< d_y``, with small-integer structure.

    The rank r is drawn from ``0 .. min(d_y - 1, d_x)``, and the matrix is the product of a
    ``d_y x r`` and an ``r x d_x`` factor with integer entries in ``[-bound, bound]`` (before
    the invertible core is multiplied in), so ``rank(W) = r < d_y`` holds exactly.

    >>> from hypothesis import find
    >>> find(rank_deficient_W(2, 3), lambda W: True)
    array([[0., 0., 0.],
           [0., 0., 0.]])
    """
    bound = _check_size("bound", bound, 1)

    @st.composite
    def _rank_deficient(draw):
        dy = _check_size("d_y", _resolve(draw, d_y), 1)
        dx = _check_size("d_x", _resolve(draw, d_x), 1)
        r = draw(st.integers(0, min(dy - 1, dx)))
        return draw(matrices(dy, dx, rank=r, elements="int", bound=bound))

    return _rank_deficient()


_DEFAULT_SAMPLES = st.integers(1, 6)


def resnet_problems(
    loss: Any,
    *,
    dims: st.SearchStrategy[dict[str, int]] | None = None,
    m: int | st.SearchStrategy[int] = _DEFAULT_SAMPLES,
    targets: str = "real",
    elements: str = "float",
    rank_X: int | st.SearchStrategy[int] | None = None,
    rank_Z: int | st.SearchStrategy[int] | None = None,
) -> st.SearchStrategy[Any]:
    """``proofcheck.models.ResNetProblem(X=, Y=, Z=, loss=)`` instances.

    ``loss`` is passed through unchanged (or drawn, if it is a strategy); ``dims`` draws the
    sizes (default :func:`dimensions` ``()`` with no relation); ``m`` the number of samples.
    ``proofcheck.models`` is imported only when a problem is drawn.  ``ResNetProblem`` stores
    float64 arrays, so ``elements="rational"`` data are rounded there.  For instance::

        @given(resnet_problems(SoftmaxCrossEntropy(), dims=dimensions(relation=A1),
                               targets="one_hot"))
        def test_theorem1(problem): ...
    """

    @st.composite
    def _problems(draw):
        from proofcheck.models import ResNetProblem  # lazily: models may import strategies

        d = draw(dims if dims is not None else dimensions())
        data = draw(datasets(m, d["d_x"], d["d_y"], d["d_z"], rank_X=rank_X, rank_Z=rank_Z,
                             targets=targets, elements=elements))
        return ResNetProblem(X=data["X"], Y=data["Y"], Z=data["Z"], loss=_resolve(draw, loss))

    return _problems()
