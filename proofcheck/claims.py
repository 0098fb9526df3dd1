"""The Claim model: a statement of a paper as named hypotheses, a conclusion and its checks.

A theorem module builds claims from small objects::

    >>> from hypothesis import strategies as st
    >>> from proofcheck.claims import Claim, Instance, Source, Margin
    >>> nonneg = Claim(
    ...     id="demo.lemma1", title="squares are non-negative",
    ...     source=Source("demo", "1", "Lemma 1"),
    ...     statement="x^2 >= 0 for every real x",
    ...     conclusion=lambda inst, point, B: Margin.at_least(inst.x * inst.x, 0, B),
    ...     instances=lambda assumed: st.floats(-10, 10).map(lambda x: Instance(x=x)),
    ... )
    >>> nonneg.id, str(nonneg.source)
    ('demo.lemma1', 'DEMO §1, Lemma 1')

The engine (:mod:`proofcheck.engine`) runs the checks; nothing here does numerics.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable, Iterable, Mapping

from .lazy import resolve

__all__ = [
    "Assumed", "Claim", "Hypothesis", "Identity", "Instance", "Margin", "Mutant", "MutantKind",
    "PointKind", "Source", "ClaimDefinitionError", "Reading", "ParameterLayout",
]

KINDS = ("definition", "assumption", "lemma", "proposition", "theorem", "corollary", "example",
         "remark", "figure")
_ID = re.compile(r"^[a-z][a-z0-9]*\.[a-z]+[0-9a-z]*(\.[A-Za-z0-9_]+)*$")


class ClaimDefinitionError(ValueError):
    """A theorem module declared something malformed (bad id, missing conclusion, ...)."""


class PointKind(str, enum.Enum):
    """Where the conclusion is asserted to hold."""

    ANY = "any point"
    CRITICAL = "critical point"
    LOCAL_MIN = "local minimum"


class MutantKind(str, enum.Enum):
    FLIPPED_INEQUALITY = "flipped inequality"
    DROPPED_TERM = "dropped term"
    PERTURBED_CONSTANT = "perturbed constant"
    DROPPED_HYPOTHESIS = "dropped hypothesis"
    TRANSPOSED = "transposed factor"
    OTHER = "other"


@dataclass(frozen=True)
class Source:
    """Where a claim is printed: paper key, section, label and (optional) equation."""

    paper: str
    section: str
    label: str
    equation: str | None = None

    def __str__(self) -> str:
        text = f"{self.paper.upper()} §{self.section}, {self.label}"
        return text + (f", eq. {self.equation}" if self.equation else "")


@dataclass(frozen=True)
class Reading:
    """One reading of a printed statement that allows several (e.g. "differentiable": of L, or
    of every output). ``natural`` marks the reading the printed statement's verdict rests on."""

    name: str
    text: str
    natural: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "text": self.text, "natural": self.natural}


@dataclass(frozen=True)
class Hypothesis:
    """A named hypothesis: its statement and a predicate on an instance.

    The claim's instance generator is told which hypotheses are assumed (see :class:`Assumed`)
    and must produce instances satisfying exactly those; the engine re-checks every instance
    against ``holds`` so a generator that cannot satisfy its hypotheses is reported, never
    silently trusted.
    """

    name: str
    statement: str
    holds: Callable[[Any], bool] | None = None

    def __str__(self) -> str:
        return f"{self.name}: {self.statement}"


@dataclass(frozen=True)
class Assumed:
    """Which hypotheses an instance generator must satisfy (``True``) or violate (``False``).

    >>> a = Assumed.all_of(["A1", "A2"]).dropping("A1")
    >>> a["A1"], a["A2"], a.dropped
    (False, True, ('A1',))
    """

    flags: tuple[tuple[str, bool], ...]
    branch: str | None = None       # a case of the proof's split the generator should target

    @classmethod
    def all_of(cls, names: Iterable[str]) -> Assumed:
        return cls(tuple((n, True) for n in names))

    def in_branch(self, branch: str | None) -> Assumed:
        return Assumed(self.flags, branch)

    def dropping(self, *names: str) -> Assumed:
        known = dict(self.flags)
        for n in names:
            if n not in known:
                raise KeyError(f"no hypothesis named {n!r}; known: {sorted(known)}")
        return Assumed(tuple((n, v and n not in names) for n, v in self.flags), self.branch)

    def __getitem__(self, name: str) -> bool:
        return dict(self.flags)[name]

    @property
    def dropped(self) -> tuple[str, ...]:
        return tuple(n for n, v in self.flags if not v)


class Instance:
    """Concrete data of one instance (or a stacked batch): named arrays and parameters.

    Attribute access reads fields; instances are immutable.

    >>> inst = Instance(m=3, X=[[1.0], [2.0], [3.0]])
    >>> inst.m, sorted(inst.fields())
    (3, ['X', 'm'])
    """

    __slots__ = ("_fields",)

    def __init__(self, **fields: Any):
        object.__setattr__(self, "_fields", dict(fields))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(
                f"instance has no field {name!r}; fields: {sorted(self._fields)}") from None

    def __setattr__(self, name, value):
        raise AttributeError("Instance is immutable; use .replace(...)")

    def fields(self) -> dict[str, Any]:
        return dict(self._fields)

    def replace(self, **changes: Any) -> Instance:
        return Instance(**{**self._fields, **changes})

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={_short(v)}" for k, v in self._fields.items())
        return f"Instance({inner})"

    def __reduce__(self):
        return (_rebuild_instance, (self._fields,))


def _rebuild_instance(fields):
    return Instance(**fields)


def _short(v: Any) -> str:
    shape = getattr(v, "shape", None)
    if shape is not None and len(shape) > 0:
        return f"<array {tuple(shape)}>"
    return repr(v)


@dataclass(frozen=True)
class Margin:
    """How far a conclusion is from failing at one instance (or a batch of them).

    ``value >= 0`` means the conclusion holds exactly; numerically it is accepted when
    ``value >= -tol``, where ``tol`` comes from the backend's error model and is reported with
    its ``tol_source``. ``lhs`` / ``rhs`` keep the two sides for the report.
    """

    value: Any
    tol: Any = 0.0
    lhs: Any = None
    rhs: Any = None
    tol_source: str = "exact"

    @classmethod
    def at_most(cls, lhs, rhs, B=None, *, cond: float = 1.0, n_ops: int = 1,
                tol=None, tol_source: str = "") -> Margin:
        """Conclusion ``lhs <= rhs``: value = rhs - lhs, tolerance at the scale of both sides
        (from the backend ``B``), or an explicit ``tol`` with its ``tol_source``."""
        if tol is not None:
            return cls(_sub(rhs, lhs), tol, lhs, rhs, tol_source or "given")
        return cls._inequality(lhs, rhs, B, cond, n_ops)

    @classmethod
    def at_least(cls, lhs, rhs, B=None, *, cond: float = 1.0, n_ops: int = 1,
                 tol=None, tol_source: str = "") -> Margin:
        """Conclusion ``lhs >= rhs``."""
        if tol is not None:
            return cls(_sub(lhs, rhs), tol, lhs, rhs, tol_source or "given")
        return cls._inequality(rhs, lhs, B, cond, n_ops, swap=True)

    @classmethod
    def strictly_less(cls, lhs, rhs, *, tol, tol_source: str) -> Margin:
        """Conclusion ``lhs < rhs``, checked as ``rhs - lhs > tol`` (beyond the resolution)."""
        return cls(_sub(_sub(rhs, lhs), 2 * tol), tol, lhs, rhs,
                   tol_source + "; strict: must exceed the tolerance")

    @classmethod
    def vanishes(cls, *quantities, tol, tol_source: str) -> Margin:
        """Conclusion ``quantity == 0`` for every given array: value = -max |entry|."""
        import numpy as np
        try:
            worst = max(float(np.max(np.abs(np.asarray(q, dtype=float)))) if np.size(q) else 0.0
                        for q in quantities)
        except (TypeError, ValueError):
            # exact rationals / balls (certification backends) refuse float(): the largest
            # entry in their own arithmetic (any entry's |.| bounds the largest from below)
            entries = [abs(x) for q in quantities for x in np.asarray(q, dtype=object).flat]
            worst = max(entries, default=0)
        return cls(-worst, tol, worst, 0.0, tol_source)

    @classmethod
    def equal(cls, lhs, rhs, B=None, *, cond: float = 1.0, n_ops: int = 1,
              scale=None) -> Margin:
        """Conclusion ``lhs == rhs`` for scalars (one per instance of a batch).

        ``scale`` is the magnitude of the quantities the two sides were computed from; give it
        when a side is a difference of larger numbers (cancellation), else max(|lhs|, |rhs|)."""
        return cls._equality(lhs, rhs, B, cond, n_ops, core_ndim=0, scale=scale)

    @classmethod
    def equal_matrices(cls, lhs, rhs, B=None, *, cond: float = 1.0, n_ops: int = 1) -> Margin:
        """Conclusion ``lhs == rhs`` for matrices (the last two axes); the margin is minus the
        largest entrywise deviation, the tolerance is at the scale of the largest entry."""
        return cls._equality(lhs, rhs, B, cond, n_ops, core_ndim=2)

    @classmethod
    def _equality(cls, lhs, rhs, B, cond, n_ops, core_ndim, scale=None) -> Margin:
        diff = _max_abs(_sub(lhs, rhs), core_ndim)
        if B is None:
            return cls(-diff, 0.0, lhs, rhs, "exact")
        if scale is None:
            scale = _maximum(_max_abs(lhs, core_ndim), _max_abs(rhs, core_ndim))
        return cls(-diff, B.tolerance(scale, cond=cond, n_ops=n_ops), lhs, rhs,
                   tolerance_source(B, cond, n_ops))

    @classmethod
    def _inequality(cls, small, big, B, cond, n_ops, swap=False) -> Margin:
        lhs, rhs = (big, small) if swap else (small, big)
        value = _sub(big, small)
        if B is None:
            return cls(value, 0.0, lhs, rhs, "exact")
        scale = _maximum(_max_abs(small, 0), _max_abs(big, 0))
        return cls(value, B.tolerance(scale, cond=cond, n_ops=n_ops), lhs, rhs,
                   tolerance_source(B, cond, n_ops))

    def both(self, other: Margin) -> Margin:
        """A conjunction of two conclusions: the smaller normalised margin wins."""
        import numpy as np
        try:
            a = np.asarray(self.value, dtype=float) + np.asarray(self.tol, dtype=float)
            b = np.asarray(other.value, dtype=float) + np.asarray(other.tol, dtype=float)
        except (TypeError, ValueError):
            # exact rationals / balls (certification backends) refuse float(): compare them in
            # their own arithmetic; either margin returned is a sound witness of failure
            if np.ndim(self.value) or np.ndim(other.value):
                raise
            return self if bool(self.value + self.tol <= other.value + other.tol) else other
        pick_self = a <= b
        if np.ndim(pick_self) == 0:
            return self if pick_self else other
        pick = lambda x, y: np.where(pick_self, np.asarray(x, float), np.asarray(y, float))
        return Margin(pick(self.value, other.value), pick(self.tol, other.tol),
                      None, None, self.tol_source)


@dataclass(frozen=True)
class Identity:
    """A symbolic identity (or a family over sizes) that a claim or its proof relies on.

    ``build(sizes) -> (lhs, rhs)`` returns sympy objects; for ``method="exact-random"`` the
    signature is ``build(sizes, rng)`` returning exact rational matrices. ``sweep`` is a
    :class:`proofcheck.symbolic.SizeSweep`.
    """

    name: str
    statement: str
    build: Callable[..., Any]
    sweep: Any
    method: str = "symbolic"
    as_printed: bool = True         # False for identities that are our correction of the text


@dataclass(frozen=True)
class Mutant:
    """A deliberately wrong variant of a claim that the checks must catch.

    ``apply(claim) -> Claim`` returns the mutated claim (e.g. with ``conclusion`` replaced, an
    identity replaced, or a hypothesis dropped through :meth:`Claim.dropping`).
    """

    name: str
    kind: MutantKind
    description: str
    apply: Callable[[Claim], Claim]

    @classmethod
    def conclusion(cls, name: str, kind: MutantKind, description: str,
                   conclusion: Callable[..., Margin] | None, decidable: Any = None) -> Mutant:
        """Replace the conclusion; ``decidable`` (a :class:`proofcheck.decide.Decidable`, a
        tuple of them, or a function of each form) mutates the claim's decidable forms too."""
        def apply(c: Claim) -> Claim:
            changes: dict[str, Any] = {}
            if conclusion is not None:
                changes["conclusion"] = conclusion
            if decidable is not None:
                changes["decidable"] = _mutated_forms(c.decidable, decidable)
            return c.replace(**changes)
        return cls(name, kind, description, apply)

    @classmethod
    def drop(cls, hypothesis: str, description: str = "") -> Mutant:
        return cls(f"drop_{hypothesis}", MutantKind.DROPPED_HYPOTHESIS,
                   description or f"the conclusion without hypothesis {hypothesis}",
                   lambda c: c.dropping(hypothesis))

    @classmethod
    def identity(cls, name: str, kind: MutantKind, description: str,
                 replaced: str, build: Callable[..., Any]) -> Mutant:
        """Replace the ``build`` of the identity named ``replaced``."""
        def apply(c: Claim) -> Claim:
            ids = tuple(dataclasses.replace(i, build=build, name=f"{i.name}[{name}]")
                        if i.name == replaced else i for i in c.identities)
            if ids == c.identities:
                raise ClaimDefinitionError(f"mutant {name}: claim {c.id} has no identity "
                                           f"{replaced!r}")
            return c.replace(identities=ids)
        return cls(name, kind, description, apply)


@dataclass(frozen=True)
class ParameterLayout:
    """How a claim's parameter vectors are laid out: the instance ``fields`` that hold one
    (e.g. a network's ``theta``), under a ``name`` that witness files record. A witness file
    whose vectors were saved under another (or no) layout name is refused by replay, never
    read as this one; ``description`` says what the layout is, for that error.

    >>> ParameterLayout("blocks/2", "block by block, column-major", ("theta",)).fields
    ('theta',)
    """

    name: str
    description: str = ""
    fields: tuple[str, ...] = ("theta",)


@dataclass(frozen=True)
class Claim:
    """One checkable statement of a paper.

    Fields read like the paper: ``statement`` is the text *as printed*, ``hypotheses`` its named
    assumptions, ``conclusion(instance, point, B) -> Margin`` its conclusion (``B`` is a numeric
    backend; ``point`` is a certified critical point / local minimum for those point kinds, else
    None). ``instances(assumed)`` returns a Hypothesis strategy of :class:`Instance` objects that
    satisfy the assumed hypotheses and violate the dropped ones. ``landscape(instance)`` gives the
    objective whose local minima / critical points the engine finds and certifies.
    ``corrected`` is the corrected statement when the printed one is wrong (an erratum).
    """

    id: str
    title: str
    source: Source
    statement: str
    hypotheses: tuple[Hypothesis, ...] = ()
    conclusion: Callable[..., Margin] | None = None
    instances: Callable[[Assumed], Any] | None = None
    point_kind: PointKind = PointKind.ANY
    landscape: Callable[[Any], Any] | None = None
    branches: tuple[str, ...] = ()          # cases of the proof, e.g.
                                            # ("full_rank", "rank_deficient"):
                                            # each gets its own instances, must be hit, and
                                            # is reported with the mutant caught in it
                                            # (results.BranchResult; docs/check.md)
    case_of: Callable[[Any, Any], str] | None = None   # the case a certified point falls in
                                            # (default: the point's observed ``branch``)
    identities: tuple[Identity, ...] = ()
    mutants: tuple[Mutant, ...] = ()
    corrected: Claim | None = None
    erratum: str = ""
    assumed: Assumed | None = None
    notes: str = ""
    mutant_of: str = ""                     # set on mutated copies (for reports)
    high_precision: bool = True             # False: the conclusion computes in float64 only
                                            # (say why in notes); no mpmath re-evaluation
    readings: tuple[Reading | str, ...] = ()  # readings of the printed text, named in output
    narrowed: tuple[str, ...] = ()          # what slice is checked and why (shown in output)
    decidable: Any = None                   # proofcheck.decide.Decidable (or a tuple, one per
                                            # size): a polynomial form for the decision procedure
    layout: ParameterLayout | None = None   # parameter vectors in instances: recorded in witness
                                            # files, checked by replay

    def __post_init__(self):
        if not _ID.match(self.id):
            raise ClaimDefinitionError(
                f"claim id {self.id!r} is not of the form <paper>.<kind><n>[.<slug>] "
                f"(e.g. 'doe2020.theorem2' or 'doe2020.theorem2.projection_split')")
        if self.conclusion is None and not self.identities and self.decidable is None:
            raise ClaimDefinitionError(f"claim {self.id} has neither a conclusion nor identities:"
                                       " it would check nothing")
        if self.conclusion is not None and self.instances is None:
            raise ClaimDefinitionError(f"claim {self.id} has a conclusion but no instance "
                                       "generator (instances=...)")
        if self.point_kind is not PointKind.ANY and self.landscape is None:
            raise ClaimDefinitionError(f"claim {self.id} is asserted at every "
                                       f"{self.point_kind.value} but has no landscape=...")
        names = [h.name for h in self.hypotheses]
        if len(set(names)) != len(names):
            raise ClaimDefinitionError(f"claim {self.id}: duplicate hypothesis names {names}")
        if self.assumed is None:
            object.__setattr__(self, "assumed", Assumed.all_of(names))

    @property
    def paper(self) -> str:
        return self.id.split(".", 1)[0]

    def replace(self, **changes: Any) -> Claim:
        return dataclasses.replace(self, **changes)

    def dropping(self, *names: str) -> Claim:
        """The same claim with hypotheses dropped: its generator must now violate them."""
        assert self.assumed is not None  # set by Claim.__post_init__
        return self.replace(assumed=self.assumed.dropping(*names))

    def hypothesis(self, name: str) -> Hypothesis:
        for h in self.hypotheses:
            if h.name == name:
                return h
        raise KeyError(f"claim {self.id} has no hypothesis {name!r}; "
                       f"it has {[h.name for h in self.hypotheses]}")

    def describe(self) -> str:
        lines = [f"{self.id}: {self.title}", f"  source: {self.source}",
                 f"  statement: {self.statement}"]
        lines += [f"  hypothesis {h}" for h in self.hypotheses]
        lines.append(f"  holds at: {self.point_kind.value}")
        return "\n".join(lines)


def tolerance_source(B, cond=1.0, n_ops=1) -> str:
    """Where a tolerance comes from, in words, for the report."""
    import numpy as np
    cond_max = float(np.max(np.asarray(cond, dtype=float)))
    return (f"{B.name}: safety * n_ops * cond * unit_roundoff * scale (Higham ch. 3, 19-20; "
            f"unit roundoff {float(B.unit_roundoff):.2g}, cond <= {cond_max:.3g}, "
            f"n_ops {n_ops})")


def _sub(a, b):
    import numpy as np
    if isinstance(a, (list, tuple)):
        a = np.asarray(a)
    if isinstance(b, (list, tuple)):
        b = np.asarray(b)
    return a - b


def _max_abs(a, core_ndim: int):
    """max |a| over the trailing ``core_ndim`` axes (works for float and mpf object arrays)."""
    import numpy as np
    if core_ndim == 0 or np.ndim(a) == 0:
        return abs(a)
    arr = np.abs(np.asarray(a))
    axes = tuple(range(arr.ndim - core_ndim, arr.ndim))
    return arr.max(axis=axes) if arr.size else arr.sum(axis=axes)


def _maximum(a, b):
    import numpy as np
    if np.ndim(a) == 0 and np.ndim(b) == 0:
        return a if a >= b else b
    return np.maximum(a, b)


def _mutated_forms(forms: Any, change: Any) -> tuple[Any, ...]:
    """A mutant's decidable forms: ``change`` is a form, a tuple of forms, or a function applied
    to each of the claim's current ``forms`` (``lambda D: D.replace(conclusion=...)``)."""
    change, forms = resolve(change), resolve(forms)      # forms declared with @deferred
    if isinstance(change, (tuple, list)):
        return tuple(change)
    if callable(change) and not hasattr(change, "conclusion"):
        current = () if forms is None else tuple(forms) if isinstance(forms, (tuple, list)) \
            else (forms,)
        return tuple(change(f) for f in current)
    return (change,)


def claims_in(namespace: Mapping[str, Any]) -> list[Claim]:
    """The claims defined at module level (a module may also set ``CLAIMS = [...]``)."""
    if "CLAIMS" in namespace:
        return list(namespace["CLAIMS"])
    # type(v), not isinstance: isinstance reads v.__class__, which would execute a module
    # bound lazily (proofcheck.lazy.lazy_import, e.g. sympy) just by listing the claims
    found = [v for v in namespace.values() if issubclass(type(v), Claim)]
    # a corrected statement is checked through the printed claim that carries it
    corrections = {id(c.corrected) for c in found if c.corrected is not None}
    return [c for c in found if id(c) not in corrections]
