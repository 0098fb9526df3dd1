"""The Result model: what a check established, shared by the CLI, reports and the pytest plugin.

Everything here is plain data (dataclasses of str / int / float / lists / dicts), so a result
serialises to JSON without loss and a report never has to know which paper a claim came from.

>>> r = ClaimResult(claim_id="demo.lemma1", title="demo", source="Demo §1",
...                 verdict=Verdict.VERIFIED)
>>> r.to_dict()["verdict"]
'verified'
"""

from __future__ import annotations

import dataclasses
import enum
import math
from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any

#: Bumped whenever a field of the JSON report changes meaning or is removed.
SCHEMA_VERSION = "1.2"     # 1.1: evidence.grade, distinct counts, mutant outcome,
#                                readings / notes / narrowed, witness grade and enclosure
#                           1.2: claims[i].branches (per-branch evidence and discrimination)

#: The one branch of a claim that declares no cases (:attr:`proofcheck.claims.Claim.branches`).
ALL_BRANCH = "all"


class Verdict(str, enum.Enum):
    """The outcome of checking one claim.

    ``verified``      every check ran and passed; the evidence says how strong that is
                      (a symbolic proof at stated sizes, or *no counterexample in N instances*).
    ``refuted``       a witness makes the statement fail (the witness says if it is certified).
    ``erratum``       the statement as printed is refuted and the corrected statement verified.
    ``inconclusive``  the checks could not decide (e.g. no local minimum was found, so an
                      "at every local minimum" claim is vacuous here; budget exhausted).
    ``error``         the claim's own code or data is broken (wrong shapes, NaN, an exception).
    """

    VERIFIED = "verified"
    REFUTED = "refuted"
    ERRATUM = "erratum"
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"


class EvidenceKind(str, enum.Enum):
    SYMBOLIC_PROOF = "symbolic-proof"          # exact identity, every size in a sweep
    EXACT_RANDOM = "exact-random"              # exact arithmetic at random rational points (PIT)
    NUMERIC_SEARCH = "numeric-search"          # no counterexample in N instances (not a proof)
    HIGH_PRECISION = "high-precision"          # re-evaluation at mpmath precision
    DECISION_PROCEDURE = "decision-procedure"  # z3/cvc5: proven for all reals at a size


#: Evidence grades, weakest first (the same as :data:`proofcheck.judge.GRADES`):
#: ``proven`` symbolic / exact for every member of a stated domain or sweep; ``certified`` each
#: instance or point decided by exact or interval arithmetic; ``high-precision`` a failure
#: confirmed at N digits but not enclosed; ``sampled`` a numerical search.
GRADES = ("sampled", "high-precision", "certified", "proven")


@dataclass
class Witness:
    """An instance (and point) where a margin is negative beyond its tolerance."""

    check: str                      # which check produced it ("numeric", identity name, ...)
    margin: float
    tolerance: float
    certified: bool                 # exact (sympy) or interval arithmetic confirmed the sign
    certification: str              # how: "exact rational", "mpmath 50 digits", "float64 only"
    instance: dict[str, Any] = field(default_factory=dict)
    point: dict[str, Any] | None = None
    detail: str = ""
    grade: str = ""                 # the judge's grade of the failure (see GRADES)
    enclosure: list[str] | None = None   # exact value or ball enclosure of the margin

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> Witness | None:
        """The inverse of :meth:`to_dict` (``None`` stays ``None``)."""
        if d is None:
            return None
        return cls(check=d["check"], margin=float(d["margin"]),
                   tolerance=float(d["tolerance"]), certified=bool(d["certified"]),
                   certification=d.get("certification", ""), instance=d.get("instance") or {},
                   point=d.get("point"), detail=d.get("detail", ""), grade=d.get("grade") or "",
                   enclosure=d.get("enclosure"))


@dataclass
class CheckRecord:
    """One check run on a claim: an identity over a size sweep or a numeric property."""

    name: str
    kind: EvidenceKind
    passed: bool | None             # None: could not decide (vacuous, budget)
    summary: str                    # one honest sentence, e.g. "no counterexample in 200 instances"
    sizes: list[dict[str, int]] = field(default_factory=list)
    instances: int = 0
    points: int = 0                 # certified points used (critical points / local minima)
    vacuous_instances: int = 0      # instances where no certified point was found
    precision: str = ""             # "float64", "mpmath 50 digits", "exact"
    min_margin: float | None = None
    tolerance: float | None = None
    tolerance_source: str = ""
    witness: Witness | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    exhaustive: bool = False        # every instance of a finite domain was checked
    grade: str = ""                 # evidence grade (see GRADES); "" when undecided
    point_certification: dict[str, int] = field(default_factory=dict)   # points per level,
                                    # e.g. {"local_min (second-order ... at 50 digits)": 12}
    points_distinct_up_to: str = ""    # H7: "tolerance" or "tolerance and <symmetries>"

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.pop("grade")
        d["evidence"] = {"grade": self.grade or None}
        d["kind"] = self.kind.value
        d["witness"] = self.witness.to_dict() if self.witness else None
        return _jsonable(d)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CheckRecord:
        """The inverse of :meth:`to_dict`."""
        return cls(
            name=d["name"], kind=EvidenceKind(d["kind"]), passed=d["passed"],
            summary=d.get("summary", ""), sizes=list(d.get("sizes") or []),
            instances=int(d.get("instances") or 0), points=int(d.get("points") or 0),
            vacuous_instances=int(d.get("vacuous_instances") or 0),
            precision=d.get("precision", ""), min_margin=_number(d.get("min_margin")),
            tolerance=_number(d.get("tolerance")),
            tolerance_source=d.get("tolerance_source") or "",
            witness=Witness.from_dict(d.get("witness")), seconds=float(d.get("seconds") or 0.0),
            notes=list(d.get("notes") or []), exhaustive=bool(d.get("exhaustive", False)),
            grade=(d.get("evidence") or {}).get("grade") or "",
            point_certification=dict(d.get("point_certification") or {}),
            points_distinct_up_to=str(d.get("points_distinct_up_to") or ""))


@dataclass
class MutantResult:
    name: str
    kind: str
    description: str
    caught: bool
    caught_by: str = ""             # the check that failed on the mutant
    witness: Witness | None = None
    outcome: str = ""               # "caught" (a decided failure), "undecided", "not caught"
    grade: str = ""                 # the grade of the failure that caught it

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["witness"] = self.witness.to_dict() if self.witness else None
        return _jsonable(d)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> MutantResult:
        """The inverse of :meth:`to_dict`."""
        return cls(name=d["name"], kind=d["kind"], description=d.get("description", ""),
                   caught=bool(d["caught"]), caught_by=d.get("caught_by") or "",
                   witness=Witness.from_dict(d.get("witness")), outcome=d.get("outcome") or "",
                   grade=d.get("grade") or "")


class BranchStatus(enum.StrEnum):
    """Whether the evidence in one branch (case of a proof) could have failed.

    ``discriminating``      a mutant was caught by a decided failure whose witness lies in it.
    ``non-discriminating``  evidence there, but no mutant failed there: every mutant would pass
                            too, so the branch does not count towards ``verified``.
    ``vacuous``             no evidence in the branch (no instance or certified point in it).
    """

    DISCRIMINATING = "discriminating"
    NON_DISCRIMINATING = "non-discriminating"
    VACUOUS = "vacuous"


@dataclass
class BranchResult:
    """The evidence in one branch of a claim and the mutant that shows it could fail.

    >>> b = BranchResult("stratum", instances=2, points=3, mutant="kink_slope_one",
    ...                  mutant_grade="certified", status=BranchStatus.DISCRIMINATING)
    >>> BranchResult.from_dict(b.to_dict()) == b
    True
    >>> b.describe()
    'stratum 3 pts (caught: kink_slope_one)'
    """

    name: str
    instances: int = 0              # distinct instances with evidence in the branch
    points: int = 0                 # distinct certified points in the branch (point claims)
    mutant: str = ""                # the discriminating mutant ("" when none)
    mutant_grade: str = ""          # the grade of that mutant's decided witness in the branch
    status: BranchStatus = BranchStatus.VACUOUS

    def describe(self) -> str:
        """``name N pts (caught: mutant)``: one compact phrase for text reports."""
        count = (f"{self.points} pt{'s' * (self.points != 1)}"
                 if self.points or not self.instances else f"{self.instances} inst")
        tail = {BranchStatus.DISCRIMINATING: f"caught: {self.mutant}",
                BranchStatus.NON_DISCRIMINATING: "non-discriminating",
                BranchStatus.VACUOUS: "vacuous"}[self.status]
        return f"{self.name} {count} ({tail})"

    def to_dict(self) -> dict[str, Any]:
        return _jsonable({"name": self.name, "instances": self.instances, "points": self.points,
                          "mutant": ({"name": self.mutant, "grade": self.mutant_grade or None}
                                     if self.mutant else None),
                          "status": self.status.value})

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BranchResult:
        """The inverse of :meth:`to_dict`; a clear error for an unknown status."""
        try:
            status = BranchStatus(d["status"])
        except ValueError:
            raise ValueError(f"branch {d.get('name')!r} has the unknown status "
                             f"{d['status']!r}; known: {[s.value for s in BranchStatus]}"
                             ) from None
        mutant = d.get("mutant") or {}
        return cls(name=d["name"], instances=int(d.get("instances") or 0),
                   points=int(d.get("points") or 0), mutant=mutant.get("name") or "",
                   mutant_grade=mutant.get("grade") or "", status=status)


@dataclass
class ClaimResult:
    claim_id: str
    title: str
    source: str
    verdict: Verdict
    statement: str = ""
    point_kind: str = "any point"
    checks: list[CheckRecord] = field(default_factory=list)
    mutants: list[MutantResult] = field(default_factory=list)
    corrected: ClaimResult | None = None    # the corrected statement's own result (errata)
    erratum: str = ""                       # what is wrong with the printed statement
    error: str = ""                         # for Verdict.ERROR: the cause, naming the claim
    seconds: float = 0.0
    seed: int | None = None
    profile: str = ""
    cached_at: str | None = None            # ISO time when a cached result was computed
    grade: str | None = None                # evidence grade of the verdict (see GRADES)
    readings: list[Any] = field(default_factory=list)   # readings of the printed text checked
    notes: list[str] = field(default_factory=list)      # the claim's notes
    narrowed: list[str] = field(default_factory=list)   # what slice was checked, and why
    branches: list[BranchResult] = field(default_factory=list)  # per case: evidence, mutant

    @property
    def non_discriminating(self) -> list[str]:
        """The branches with evidence that no mutant failed on (they do not count towards
        ``verified``)."""
        return [b.name for b in self.branches if b.status is BranchStatus.NON_DISCRIMINATING]

    @property
    def witnesses(self) -> list[Witness]:
        return [c.witness for c in self.checks if c.witness is not None]

    @property
    def mutants_caught(self) -> int:
        return sum(m.caught for m in self.mutants)

    @property
    def mutants_undecided(self) -> int:
        return sum(m.outcome == "undecided" for m in self.mutants)

    @property
    def instances(self) -> int:
        """Distinct instances behind the numeric checks (the largest check's count)."""
        return max((c.instances for c in self.checks), default=0)

    @property
    def points(self) -> int:
        """Distinct certified points the conclusion was evaluated at."""
        return sum(c.points for c in self.checks)

    @property
    def min_margin(self) -> float | None:
        values = [c.min_margin for c in self.checks if c.min_margin is not None]
        return min(values) if values else None

    def summary(self) -> str:
        """One line per claim for terminal tables."""
        parts = [c.summary for c in self.checks]
        nd = self.non_discriminating
        if nd and not self.mutants:
            parts.append("no mutant declared, so no branch is shown to discriminate")
        elif nd and not any(b.status is BranchStatus.DISCRIMINATING for b in self.branches):
            parts.append("no branch discriminates (every mutant passes on this evidence), so "
                         "it is not called verified")
        elif nd:
            parts.append(f"non-discriminating in branch {', '.join(nd)} (no mutant fails "
                         "there): not counted towards verified")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return _jsonable({
            "id": self.claim_id,
            "title": self.title,
            "source": self.source,
            "statement": self.statement,
            "point_kind": self.point_kind,
            "verdict": self.verdict.value,
            "erratum": self.erratum or None,
            "error": self.error or None,
            "checked": [c.to_dict() for c in self.checks],
            "min_margin": self.min_margin,
            "evidence": {"grade": self.grade, "instances": self.instances,
                         "points": self.points},
            "readings": [r.to_dict() if hasattr(r, "to_dict") else r for r in self.readings],
            "notes": list(self.notes),
            "narrowed": list(self.narrowed),
            "branches": [b.to_dict() for b in self.branches],
            "mutants": {
                "total": len(self.mutants),
                "caught": self.mutants_caught,
                "undecided": self.mutants_undecided,
                "details": [m.to_dict() for m in self.mutants],
            },
            "witnesses": [w.to_dict() for w in self.witnesses],
            "corrected": self.corrected.to_dict() if self.corrected else None,
            "seconds": round(self.seconds, 4),
            "seed": self.seed,
            "profile": self.profile,
            "cached": self.cached_at is not None,
            "cached_at": self.cached_at,
        })

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ClaimResult:
        """The inverse of :meth:`to_dict` (a ``--format json`` claim); a clear error for an
        unknown verdict."""
        try:
            verdict = Verdict(d["verdict"])
        except ValueError:
            raise ValueError(f"claim {d.get('id')!r} has the unknown verdict {d['verdict']!r}; "
                             f"known: {[v.value for v in Verdict]}") from None
        mutants = d.get("mutants") or {}
        return cls(
            claim_id=d["id"], title=d.get("title", ""), source=d.get("source", ""),
            verdict=verdict, statement=d.get("statement") or "",
            point_kind=d.get("point_kind") or "any point",
            checks=[CheckRecord.from_dict(c) for c in d.get("checked") or []],
            mutants=[MutantResult.from_dict(m) for m in mutants.get("details") or []],
            corrected=cls.from_dict(d["corrected"]) if d.get("corrected") else None,
            erratum=d.get("erratum") or "", error=d.get("error") or "",
            seconds=float(d.get("seconds") or 0.0), seed=d.get("seed"),
            profile=d.get("profile", ""), cached_at=d.get("cached_at"),
            grade=(d.get("evidence") or {}).get("grade"),
            readings=list(d.get("readings") or []), notes=list(d.get("notes") or []),
            narrowed=list(d.get("narrowed") or []),
            branches=[BranchResult.from_dict(b) for b in d.get("branches") or []])


@dataclass
class RunResult:
    """A whole run: several claims, one profile and seed."""

    claims: list[ClaimResult]
    profile: str
    seed: int
    seconds: float = 0.0
    proofcheck_version: str = ""
    partial: bool = False           # stopped by SIGINT/SIGTERM: only the finished claims

    def counts(self) -> dict[str, int]:
        out = {v.value: 0 for v in Verdict}
        for c in self.claims:
            out[c.verdict.value] += 1
        return out

    def grade_counts(self) -> dict[str, dict[str, int]]:
        """Claims per verdict and evidence grade, e.g. ``{"verified": {"proven": 31,
        "certified": 40, "sampled": 37}}`` (claims without a grade under ``"none"``)."""
        out: dict[str, dict[str, int]] = {}
        for c in self.claims:
            per = out.setdefault(c.verdict.value, {})
            g = c.grade or "none"
            per[g] = per.get(g, 0) + 1
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunResult:
        """The inverse of :meth:`to_dict` (see :func:`proofcheck.docgen.run_from_dict` for the
        checks of a file a user hands in)."""
        return cls([ClaimResult.from_dict(c) for c in data["claims"]],
                   profile=data.get("profile", ""), seed=int(data.get("seed") or 0),
                   seconds=float(data.get("seconds") or 0.0),
                   proofcheck_version=data.get("proofcheck_version", ""),
                   partial=bool(data.get("partial", False)))

    def to_dict(self) -> dict[str, Any]:
        return _jsonable({
            "schema_version": SCHEMA_VERSION,
            "grades": self.grade_counts(),
            "proofcheck_version": self.proofcheck_version,
            "profile": self.profile,
            "seed": self.seed,
            "seconds": round(self.seconds, 4),
            "partial": self.partial,
            "counts": self.counts(),
            "claims": [c.to_dict() for c in self.claims],
        })


def _number(x: Any) -> float | None:
    """A JSON number, or the strings ``"inf"`` / ``"-inf"`` / ``"nan"`` that reports write."""
    return None if x is None else float(x)


def _jsonable(obj: Any) -> Any:
    """Turn numpy / mpmath / Fraction / enum values into JSON-safe Python values."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, enum.Enum):
        return obj.value
    if obj is None or isinstance(obj, (bool, str, int)):
        return obj
    if getattr(obj, "is_Rational", False) or type(obj).__name__ == "Fraction":
        return str(obj)       # exact rationals stay exact and uniformly typed ("2", "-3/8")
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else repr(obj)
    if hasattr(obj, "tolist"):                       # numpy arrays and scalars
        return _jsonable(obj.tolist())
    try:                                             # mpmath mpf, Fraction, sympy Rational
        f = float(obj)
    except (TypeError, ValueError):
        return str(obj)
    # keep exact rationals readable and exact
    text = str(obj)
    if "/" in text and text.replace("/", "").replace("-", "").isdigit():
        return text
    return f if math.isfinite(f) else repr(f)


#: Report keys that hold timings or cache bookkeeping, not results.
TIMING_KEYS = ("seconds", "cached_at")


def without_timings(doc: Any, *, cache_marks: bool = False) -> Any:
    """A JSON report (or any part of one) without its timings, and with ``cache_marks`` also
    without the ``cached`` flags: what must be identical for the same seed, whatever ``--jobs``
    and whether results came from the cache.

    >>> without_timings({"a": 1, "seconds": 2.0, "b": [{"cached_at": "x", "cached": True}]})
    {'a': 1, 'b': [{'cached': True}]}
    >>> without_timings({"cached": True, "c": 3}, cache_marks=True)
    {'c': 3}
    """
    drop = TIMING_KEYS + (("cached",) if cache_marks else ())
    if isinstance(doc, dict):
        return {k: without_timings(v, cache_marks=cache_marks) for k, v in doc.items()
                if k not in drop}
    if isinstance(doc, list):
        return [without_timings(v, cache_marks=cache_marks) for v in doc]
    return doc


def report_differences(a: Any, b: Any, where: str = "") -> list[str]:
    """Where two JSON values differ, as ``path: a != b`` lines.

    >>> report_differences({"x": [1, 2], "y": 3}, {"x": [1, 5], "y": 3})
    ['.x[1]: 2 != 5']
    """
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b))
                for d in report_differences(a.get(k), b.get(k), f"{where}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b))
                for d in report_differences(x, y, f"{where}[{i}]")]
    return [] if a == b else [f"{where}: {str(a)[:80]} != {str(b)[:80]}"]
