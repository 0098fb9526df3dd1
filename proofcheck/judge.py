"""The judge: one failure ladder that every witness climbs, in ``check`` and ``explore`` alike.

A float64 failure is evidence, not a proof. The judge re-evaluates the claim's own conclusion at
the witness on a ladder of *rungs*, each stronger than the last:

=================  ==================  =====================================================
rung               grade               what a failure there means
=================  ==================  =====================================================
``float64``        ``sampled``         the margin came out negative in float64
``mpmath``         ``high-precision``  still negative beyond the tolerance at N digits
``exact``          ``certified``       the margin is an exact negative rational
``ball``           ``certified``       the margin's ball enclosure lies below 0
plugins            (their own)         e.g. an interval-certified point, a decision procedure
=================  ==================  =====================================================

The result (:class:`Judgement`) is that of the highest rung that could decide: a rung that does
not apply (a float64-only conclusion has no exact evaluation) or cannot decide (a ball that
contains 0) is recorded in ``trail`` and skipped; a higher rung that finds *no* failure overrides
the lower ones (a float64 rounding artefact). A failure is **decided** only when ``fails is True``.

Rungs are pluggable: any object with ``name``, ``grade`` and ``run(claim, inst, point)`` (see
:class:`Rung`); modules listed in :data:`RUNG_PLUGINS` that define ``judge_rungs(digits=,
prec=)`` contribute theirs (resolved lazily, like entry points), e.g. the point certificates of
:mod:`proofcheck.search.certify` and a decision procedure.

>>> from hypothesis import strategies as st
>>> from proofcheck.claims import Claim, Instance, Margin, Source
>>> c = Claim(id="demo.lemma1", title="t", source=Source("demo", "1", "Lemma 1"),
...           statement="x^2 >= x", instances=lambda a: st.just(Instance(x=0.5)),
...           conclusion=lambda inst, point, B: Margin.at_least(inst.x * inst.x, inst.x, B))
>>> j = judge(c, Instance(x=0.5))
>>> j.fails, j.grade, j.rung, j.enclosure
(True, 'certified', 'exact', ('-1/4', '-1/4'))
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .claims import Claim, Instance, PointKind
from .errors import ClaimError, NotApplicable
from .evaluate import brief, evaluate_conclusion, failures

__all__ = ["GRADES", "Judgement", "Rung", "RungOutcome", "Float64Rung", "MpmathRung",
           "ExactRung", "BallRung", "RUNG_PLUGINS", "default_rungs", "judge", "weakest",
           "grade_rank", "ball_outcome"]

#: Evidence grades, weakest first. ``proven``: symbolic or exact for every member of a stated
#: domain; ``certified``: decided by exact or interval arithmetic at this instance / point;
#: ``high-precision``: confirmed at N digits, not enclosed; ``sampled``: float64 only.
GRADES = ("sampled", "high-precision", "certified", "proven")

#: Modules that contribute rungs through ``judge_rungs(digits=, prec=) -> list[Rung]``.
RUNG_PLUGINS: list[str] = ["proofcheck.search.certify", "proofcheck.search.certify_piecewise",
                           "proofcheck.decide"]


def grade_rank(grade: str) -> int:
    """Position of a grade in :data:`GRADES` (unknown grades rank lowest)."""
    return GRADES.index(grade) if grade in GRADES else -1


def weakest(grades: Sequence[str]) -> str | None:
    """The weakest of some grades (None for none).

    >>> weakest(["certified", "sampled", "proven"])
    'sampled'
    """
    grades = [g for g in grades if g]
    return min(grades, key=grade_rank) if grades else None


@dataclass
class RungOutcome:
    """What one rung found. ``fails``: True (the margin is below -tolerance, as decided by this
    rung's arithmetic), False (it is not), None (this rung cannot tell, e.g. a ball containing
    the threshold)."""

    fails: bool | None
    margin: float
    tolerance: float
    text: str
    enclosure: tuple[str, str] | None = None
    precision: str = ""
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Rung(Protocol):
    """One rung of the ladder: ``run`` raises :class:`~proofcheck.errors.NotApplicable` when
    it does not apply to this claim or witness."""

    name: str
    grade: str

    def run(self, claim: Claim, inst: Instance, point: Any) -> RungOutcome: ...


@dataclass
class Judgement:
    """The ladder's verdict on one witness (instance, point)."""

    fails: bool | None              # True: a decided failure at ``grade``
    grade: str                      # the grade of the deciding rung
    rung: str                       # the deciding rung's name ("none" if no rung decided)
    margin: float
    tolerance: float
    certification: str              # how it was decided, one sentence (plus the trail)
    enclosure: tuple[str, str] | None = None
    precision: str = ""
    detail: str = ""
    trail: list[str] = field(default_factory=list)
    outcomes: dict[str, RungOutcome] = field(default_factory=dict)

    @property
    def decided(self) -> bool:
        """A failure that counts as a refutation (at this judgement's grade)."""
        return self.fails is True

    @property
    def certified(self) -> bool:
        """A failure decided by exact / interval arithmetic (or a proof)."""
        return self.fails is True and grade_rank(self.grade) >= grade_rank("certified")


# ---------------------------------------------------------------------------------------------
# the rungs

def _worst(m: Any) -> tuple[float, float, int, int]:
    """The margin's worst entry: its value, tolerance, index and the number of entries."""
    v, t, _ = failures(m)
    k = int(np.argmin(v + t)) if v.ndim else 0
    return float(np.ravel(v)[k]), float(np.ravel(t)[k]), k, int(np.size(v))


def _sides(m: Any, k: int, entries: int = 1) -> str:
    """``lhs=... rhs=...`` at the margin's worst entry ``k`` of ``entries``; empty when the
    conclusion names neither side (its margin alone is the evidence).

    >>> from proofcheck import Margin
    >>> _sides(Margin(-1.0, 0.0), 0), _sides(Margin(-0.5, 0.0, 1.0, 1.5), 0)
    ('', 'lhs=1 rhs=1.5')
    >>> _sides(Margin(np.array([1.0, -2.0]), np.zeros(2), np.array([3.0, 1.0]),
    ...               np.array([2.0, 3.0])), 1, 2)
    'lhs=1 (entry 2 of 2) rhs=3 (entry 2 of 2)'
    """
    if m.lhs is None and m.rhs is None:
        return ""
    return f"lhs={brief(m.lhs, k, entries)} rhs={brief(m.rhs, k, entries)}"


class Float64Rung:
    """The conclusion on the numpy backend."""

    name, grade = "float64", "sampled"

    def run(self, claim: Claim, inst: Instance, point: Any) -> RungOutcome:
        from .backends import get_backend
        m = evaluate_conclusion(claim, inst, point, get_backend("numpy"))
        v, t, k, n = _worst(m)
        return RungOutcome(v < -t, v, t, f"float64 margin {v:.6g} (tol {t:.2g})",
                           precision="float64",
                           detail=_sides(m, k, n))


class MpmathRung:
    """The conclusion on the mpmath backend at ``digits`` digits."""

    grade = "high-precision"

    def __init__(self, digits: int = 50):
        self.digits = int(digits)
        self.name = "mpmath"

    def run(self, claim: Claim, inst: Instance, point: Any) -> RungOutcome:
        from .backends import get_backend
        if not claim.high_precision:
            raise NotApplicable("the conclusion has no high-precision path (float64 only)")
        m = evaluate_conclusion(claim, inst, point, get_backend("mpmath", digits=self.digits))
        v, t, _, _ = _worst(m)
        if v < -t:
            text = (f"confirmed at mpmath {self.digits} digits (margin {v:.6g}, tol {t:.2g})")
        else:
            text = (f"NOT confirmed at mpmath {self.digits} digits (margin there {v:.3g} "
                    f">= -{t:.2g})")
        return RungOutcome(v < -t, v, t, text, precision=f"mpmath {self.digits} digits")


def _check_admissible(claim: Claim, inst: Instance) -> None:
    from .exact_eval import admissibility
    bad = [a["hypothesis"] for a in admissibility(claim, inst)
           if not a.get("dropped") and not a["holds"]]
    if bad:
        raise NotApplicable(f"the instance violates assumed hypothesis {', '.join(bad)} when "
                            "evaluated exactly")


class ExactRung:
    """The conclusion in exact rational arithmetic (python-flint ``fmpq``) at an any-point
    witness: an exact negative margin is a proof that it fails there."""

    name, grade = "exact", "certified"

    def run(self, claim: Claim, inst: Instance, point: Any) -> RungOutcome:
        from .exact_backends import ExactBackend, NotCertifiable, NotExact
        from .exact_eval import exact_margin, fmt_exact
        if point is not None or claim.point_kind is not PointKind.ANY:
            raise NotApplicable("a point claim: its point must be certified first")
        if not claim.high_precision:
            raise NotApplicable("the conclusion computes in float64 only")
        _check_admissible(claim, inst)
        try:
            v, _ = exact_margin(claim, inst, None, ExactBackend())
        except (NotExact, NotCertifiable) as exc:
            raise NotApplicable(str(exc)) from exc
        except ZeroDivisionError as exc:
            raise NotApplicable(f"division by zero ({exc})") from exc
        except Exception as exc:    # the conclusion does not run on exact data
            raise NotApplicable(f"{type(exc).__name__}: {exc}") from exc
        s = fmt_exact(v)
        if v < 0:
            return RungOutcome(True, v.as_float(), 0.0, f"certified exact: the margin is exactly "
                               f"{s} < 0 (exact rational arithmetic, python-flint fmpq)",
                               (s, s), "exact")
        return RungOutcome(False, v.as_float(), 0.0, f"exact margin {s} >= 0: the float64 "
                           "failure is a rounding artefact", (s, s), "exact")


class BallRung:
    """The conclusion in ball arithmetic (python-flint ``arb``, ``prec`` bits) at an any-point
    witness: an enclosure below 0 proves the failure. An enclosure that is not finite decides
    nothing (an overflow is no proof)."""

    name, grade = "ball", "certified"

    def __init__(self, prec: int = 256):
        self.prec = int(prec)

    def run(self, claim: Claim, inst: Instance, point: Any) -> RungOutcome:
        from .exact_backends import ArbBackend, NotCertifiable, NotExact
        from .exact_eval import ball_margin
        if point is not None or claim.point_kind is not PointKind.ANY:
            raise NotApplicable("a point claim: its point must be certified first")
        if not claim.high_precision:
            raise NotApplicable("the conclusion computes in float64 only")
        _check_admissible(claim, inst)
        A = ArbBackend(self.prec)
        try:
            b, _ = ball_margin(claim, inst, None, A)
        except (NotExact, NotCertifiable) as exc:
            raise NotApplicable(str(exc)) from exc
        except Exception as exc:
            raise NotApplicable(f"{type(exc).__name__}: {exc}") from exc
        return ball_outcome(b, f"ball arithmetic (python-flint arb, {self.prec} bits)",
                            f"arb {self.prec} bits")


def ball_outcome(b: Any, method: str, precision: str) -> RungOutcome:
    """A rung outcome from a margin ball: below 0 decides a failure, a finite ball at or
    above 0 decides none, anything else (a ball containing 0, an infinite end) is undecided."""
    from .exact_eval import ball_enclosure
    enc = ball_enclosure(b)
    lo, hi = float(enc[0]), float(enc[1])
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return RungOutcome(None, float("nan"), 0.0, f"{method}: the enclosure [{enc[0]}, "
                           f"{enc[1]}] is not finite (an overflow decides nothing)", enc,
                           precision)
    if b < 0:
        return RungOutcome(True, float(b.mid()), 0.0, f"certified by {method}: the margin's "
                           f"enclosure [{enc[0]}, {enc[1]}] lies below 0", enc, precision)
    if b >= 0:
        return RungOutcome(False, float(b.mid()), 0.0, f"{method}: the margin's enclosure "
                           f"[{enc[0]}, {enc[1]}] lies at or above 0", enc, precision)
    return RungOutcome(None, float(b.mid()), 0.0, f"{method}: the enclosure [{enc[0]}, "
                       f"{enc[1]}] contains 0", enc, precision)


def default_rungs(*, digits: int = 50, prec: int = 256) -> list[Rung]:
    """float64, mpmath at ``digits``, exact, ball at ``prec`` bits, then every plugin's rungs
    (ordered by grade, stable)."""
    rungs: list[Rung] = [Float64Rung(), MpmathRung(digits), ExactRung(), BallRung(prec)]
    for name in RUNG_PLUGINS:
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        make = getattr(mod, "judge_rungs", None)
        if make is not None:
            rungs += list(make(digits=digits, prec=prec))
    return sorted(rungs, key=lambda r: grade_rank(r.grade))


# ---------------------------------------------------------------------------------------------
# the ladder

def judge(claim: Claim, inst: Instance, point: Any = None, *, digits: int = 50,
          prec: int = 256, until: str = "proven", rungs: Sequence[Rung] | None = None
          ) -> Judgement:
    """Climb the ladder at one witness (``point`` for point claims) up to grade ``until``.

    Returns the judgement of the highest rung that decided (see the module docstring). A rung
    that decides at grade ``certified`` or above ends the climb."""
    ladder = list(rungs) if rungs is not None else default_rungs(digits=digits, prec=prec)
    trail: list[str] = []
    outcomes: dict[str, RungOutcome] = {}
    final: tuple[Rung, RungOutcome] | None = None
    for rung in ladder:
        if grade_rank(rung.grade) > grade_rank(until):
            break
        try:
            out = rung.run(claim, inst, point)
        except NotApplicable as exc:
            trail.append(f"{rung.name}: not applicable ({exc})")
            continue
        except ClaimError as exc:
            if final is None:       # the float64 evaluation itself failed: the claim's error
                raise
            trail.append(f"{rung.name}: evaluation failed ({exc})")
            continue
        outcomes[rung.name] = out
        trail.append(f"{rung.name}: {out.text}")
        if out.fails is None:
            continue
        final = (rung, out)
        if grade_rank(rung.grade) >= grade_rank("certified"):
            break
    if final is None:
        return Judgement(None, "sampled", "none", float("nan"), 0.0,
                         "no rung could evaluate the witness", trail=trail, outcomes=outcomes)
    rung, out = final
    f64 = outcomes.get("float64")
    text = out.text
    if out.fails is not True and f64 is not None and f64.fails:
        text = f"float64 witness, {text}"
    elif rung.grade == "sampled" and out.fails:
        text = "float64 witness, uncertified" + ("" if claim.high_precision else
                                                 " (the conclusion has no high-precision path)")
    hp = outcomes.get("mpmath")
    if rung.name not in ("mpmath", "float64") and hp is not None:
        text += f"; {hp.text}"
    return Judgement(out.fails, rung.grade, rung.name, out.margin, out.tolerance, text,
                     out.enclosure, out.precision, (f64.detail if f64 else out.detail),
                     trail, outcomes)
