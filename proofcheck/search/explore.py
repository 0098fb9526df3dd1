"""Counterexample search: instances where a claim's margin is negative beyond its tolerance.

:func:`explore` works on any claim (the catalogue's or a user's) in three phases:

1. **Targeted generation.** Hypothesis draws instances from the claim's own ``instances(assumed)``
   with the named hypotheses *dropped* (the generator must then violate them), half of them
   pushed towards edge cases by :mod:`proofcheck.search.edges` (zeros, exact rank deficiency,
   repeated rows, kinks). Every draw reports its normalised margin to ``hypothesis.target``, so
   Hypothesis's targeted phase climbs towards smaller margins instead of sampling blindly.
2. **Adversarial optimisation.** When no draw fails, the margin is minimised over the
   continuous parameters of the most promising instances (the float entries of their arrays and
   float fields; integers, shapes, strings, losses and integer-valued arrays such as labels stay
   fixed) with ``scipy.optimize.minimize(method="Nelder-Mead")``: margins built from
   projections and ranks are not smooth, so a derivative-free method. Every candidate is
   re-checked against the hypotheses: the assumed ones must hold, the dropped ones must still
   fail; candidates that do not are rejected (penalised), never evaluated as instances.
3. **Shrink and certify.** A failing instance is shrunk (:mod:`proofcheck.search.shrink`) and
   handed to the certifier (``proofcheck.search.certify``, when installed).

Local-minimum / critical-point claims are evaluated as the engine does: at the points that
:func:`proofcheck.optimize.local_min.find_local_minima` finds *and certifies* for the instance
(never at an uncertified point); the witness's point is re-certified from its float64
parameters so that :func:`proofcheck.search.witness.replay` can rebuild it exactly.
Claims made only of identities are explored by the exact identity checker over their size
sweep, smallest sizes first (its witness is exact).

A witness that fails only in float64 is labelled ``"float64 witness, uncertified"``: nothing
uncertified is called a refutation (:attr:`Exploration.refuted` needs a certificate).
"""

from __future__ import annotations

import math
import re
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ..claims import Claim, Instance, PointKind
from ..errors import ClaimError, ExploreError, GeneratorError
from ..evaluate import (Evaluation, Evaluator, admissible, assumption_text, claim_variant,
                        describe, draw_instances, residual_size, stratum_options)

__all__ = ["Budget", "Counterexample", "Exploration", "ExploreError", "Evaluation", "Evaluator",
           "explore", "explored_claim", "admissible", "UNCERTIFIED"]

UNCERTIFIED = "float64 witness, uncertified"

#: Instances evaluated when the budget names neither seconds nor instances.
DEFAULT_INSTANCES = {"any": 300, "point": 8}

Progress = Callable[[str, str, int, int], None]


# ---------------------------------------------------------------------------------------------
# budget

@dataclass(frozen=True)
class Budget:
    """How much searching :func:`explore` may do: wall-clock seconds and/or instances.

    The search stops at whichever limit comes first. An instance budget alone makes the run
    deterministic (same seed, same report); a time budget does not.

    >>> Budget.parse("30s"), Budget.parse("500")
    (Budget(seconds=30.0, instances=None), Budget(seconds=None, instances=500))
    """

    seconds: float | None = None
    instances: int | None = None

    def __post_init__(self):
        if self.seconds is not None and not (isinstance(self.seconds, (int, float))
                                             and math.isfinite(self.seconds)
                                             and self.seconds > 0):
            raise ExploreError(f"budget seconds must be a positive number, got {self.seconds!r}")
        if self.instances is not None and (isinstance(self.instances, bool)
                                           or not isinstance(self.instances, int)
                                           or self.instances < 1):
            raise ExploreError(f"budget instances must be a positive integer, "
                               f"got {self.instances!r}")

    @classmethod
    def parse(cls, text: str) -> Budget:
        """``"30s"`` (seconds; ``"2m"`` minutes) or ``"500"`` (instances)."""
        t = str(text).strip().lower()
        try:
            if t.endswith("s"):
                return cls(seconds=float(t[:-1]))
            if t.endswith("m"):
                return cls(seconds=60 * float(t[:-1]))
            return cls(instances=int(t))
        except ValueError:
            raise ExploreError(f"budget {text!r} is neither seconds ('30s', '2m') nor a number "
                               "of instances ('500')") from None

    def resolved(self, point_claim: bool) -> Budget:
        if self.seconds is None and self.instances is None:
            return Budget(instances=DEFAULT_INSTANCES["point" if point_claim else "any"])
        return self

    def describe(self) -> str:
        parts = []
        if self.instances is not None:
            parts.append(f"{self.instances} instances")
        if self.seconds is not None:
            parts.append(f"{self.seconds:g} s")
        return " or ".join(parts) or "default"

    def to_dict(self) -> dict[str, Any]:
        return {"seconds": self.seconds, "instances": self.instances}


def grace_seconds(seconds: float) -> float:
    """How long a time-budgeted :func:`explore` may run past its budget: max(2 s, 10 %).

    >>> grace_seconds(3.0), grace_seconds(60.0)
    (2.0, 6.0)
    """
    return max(2.0, 0.1 * seconds)


class _Watchdog(BaseException):
    """Raised in the main thread by the alarm of :func:`_watchdog` when a time-budgeted search
    is still running past its budget (an evaluation that does not return, a slow shrink or
    certificate). A ``BaseException``, so that a claim's ``except Exception`` cannot swallow
    it; :func:`explore` catches it, stops every remaining phase and says so."""


#: Seconds between repeated alarms once the watchdog has fired (until it is disarmed).
_WATCHDOG_REPEAT = 0.25


class _Clock:
    def __init__(self, budget: Budget):
        self.budget = budget
        self.start = time.perf_counter()
        self.evaluations = 0
        self.stopped = ""           # why the watchdog stopped the search ("" while running)
        self.watched = False        # a hard watchdog (alarm) is armed

    def stop(self, where: str) -> None:
        """The watchdog fired during ``where``: disarm it and record the stop (once)."""
        _disarm(self)
        if not self.stopped:
            s = self.budget.seconds
            assert s is not None      # the watchdog is armed only with a seconds budget
            self.stopped = (f"stopped by the watchdog (budget {s:g} s + grace "
                            f"{grace_seconds(s):g} s) while {where}")

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def left_instances(self) -> float:
        b = self.budget.instances
        return math.inf if b is None else b - self.evaluations

    def exhausted(self) -> bool:
        if self.budget.instances is not None and self.evaluations >= self.budget.instances:
            return True
        return self.budget.seconds is not None and self.elapsed >= self.budget.seconds


def _disarm(clock: _Clock) -> None:
    if clock.watched:
        signal.setitimer(signal.ITIMER_REAL, 0)


#: How many repeats of the alarm an import may defer the watchdog (0.25 s each: a minute).
_IMPORT_PATIENCE = 240


def _importing(frame: Any) -> bool:
    """Whether ``frame`` runs inside an import (a frame of :mod:`importlib`'s bootstrap on
    its stack). The watchdog never raises there: a module left half executed in
    ``sys.modules`` (sympy, imported lazily on first use, takes about 0.4 s) would break
    every later use of it in the process, the report of the stopped search included."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib._bootstrap"):
            return True
        frame = frame.f_back
    return False


@contextmanager
def _watchdog(clock: _Clock) -> Iterator[None]:
    """While the search runs: an alarm (``SIGALRM``) at the budget plus half its grace raises
    :class:`_Watchdog` in the search (again every 0.25 s until it is caught and disarmed).
    The cooperative checks (``clock.exhausted()`` between evaluations) stop most searches at
    the budget; the alarm stops what they cannot reach: a conclusion that sleeps or loops, a
    local-minimum finder, a shrink or a certificate. Only with a seconds budget, in the main
    thread, and when no other interval timer is running (e.g. pytest-timeout's); otherwise the
    cooperative checks alone. Code blocked inside a C call is stopped when the call returns,
    an import when it is complete (:func:`_importing`)."""
    seconds = clock.budget.seconds
    if (seconds is None or not hasattr(signal, "setitimer")
            or threading.current_thread() is not threading.main_thread()
            or signal.getitimer(signal.ITIMER_REAL)[0] > 0):
        yield
        return

    deferred = [0]

    def fire(signum, frame):
        # the alarm repeats every _WATCHDOG_REPEAT s: stop after the import, unless the
        # import itself hangs (a minute of repeats)
        if _importing(frame) and deferred[0] < _IMPORT_PATIENCE:
            deferred[0] += 1
            return
        raise _Watchdog()

    old = signal.signal(signal.SIGALRM, fire)
    first = max(seconds + 0.5 * grace_seconds(seconds) - clock.elapsed, 1e-3)
    clock.watched = True
    signal.setitimer(signal.ITIMER_REAL, first, _WATCHDOG_REPEAT)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        clock.watched = False
        signal.signal(signal.SIGALRM, old)


# ---------------------------------------------------------------------------------------------
# the claim as explored

explored_claim = claim_variant      # the claim whose conclusion is searched (mutant, drops)


# ---------------------------------------------------------------------------------------------
# results

@dataclass
class Counterexample:
    """One witness: an instance (and point) where the explored conclusion fails.

    ``status`` is the certifier's verdict (``"certified-exact"``, ``"certified-interval"``,
    ``"uncertified"``) or :data:`UNCERTIFIED` when no certifier ran."""

    claim: Claim
    instance: Instance | None
    margin: float
    tolerance: float
    point: Any = None
    precision: str = "float64"
    status: str = UNCERTIFIED
    grade: str = "sampled"          # the judge's grade (see proofcheck.judge.GRADES)
    certificate: Any = None
    sizes: dict[str, Any] = field(default_factory=dict)
    shrunk_from: dict[str, Any] | None = None
    lhs: Any = None
    rhs: Any = None
    tol_source: str = ""
    detail: str = ""
    kind: str = "instance"          # "instance" or "identity"
    identity: dict[str, Any] | None = None     # identity witnesses: name, sizes, values, residual
    point_source: str | None = None  # "certify" (re-certified from float64 params) or "find"
    point_index: int | None = None
    evaluator: dict[str, Any] = field(default_factory=dict)   # seed, starts, digits
    claim_id: str = ""              # the claim as registered (before mutation)
    mutant: str | None = None

    @property
    def fails(self) -> bool:
        return self.margin < -self.tolerance

    @property
    def certified(self) -> bool:
        return self.status in ("certified-exact", "certified-interval")

    def to_dict(self) -> dict[str, Any]:
        from .witness import witness_dict
        return witness_dict(self)


@dataclass
class Exploration:
    """What :func:`explore` did and found. ``to_dict()`` is the deterministic part; the
    wall-clock ``timings`` are kept apart."""

    claim_id: str
    explored: str                   # the statement searched (the mutant's, if any)
    dropped: tuple[str, ...]
    mutant: str | None
    seed: int
    budget: Budget
    outcome: str = "none-within-budget"
    instances: int = 0              # instances evaluated (generation + optimisation)
    generated: int = 0
    edge_cases: int = 0
    optimised: int = 0
    skipped: int = 0                # draws outside the requested hypotheses, or vacuous
    vacuous: int = 0
    undefined: int = 0              # skipped: the conclusion could not be evaluated there
    undefined_cause: str = ""       # the first such failure (also in ``notes``)
    shrink_evaluations: int = 0
    best_margin: float | None = None
    best_tolerance: float | None = None
    best_normalised: float | None = None
    witnesses: list[Counterexample] = field(default_factory=list)
    summary: str = ""
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    point_kind: str = "any point"
    #: per stratum the generator aims at (``instances.strata``): instances evaluated, points
    #: evaluated there, and of them points certified on a stratum (see ``_explore_strata``)
    strata: dict[str, dict[str, int]] = field(default_factory=dict)
    #: the decision procedure on the explored statement's decidable forms (if it has any):
    #: ``{"status": "proven" | "counterexample" | "unknown", "text": ..., "sizes": [...]}``;
    #: a counterexample there is exact (re-validated) but symbolic: not an instance file
    decision: dict[str, Any] | None = None

    @property
    def found(self) -> bool:
        return any(w.fails for w in self.witnesses)

    @property
    def refuted(self) -> bool:
        return any(w.fails and w.certified for w in self.witnesses)

    @property
    def seconds(self) -> float:
        return self.timings.get("total", 0.0)

    def to_dict(self) -> dict[str, Any]:
        from .. import __version__
        from .witness import encode_float
        return {
            "claim": self.claim_id, "explored": self.explored, "dropped": list(self.dropped),
            "mutant": self.mutant, "seed": self.seed, "budget": self.budget.to_dict(),
            "point_kind": self.point_kind, "outcome": self.outcome, "found": self.found,
            "refuted": self.refuted,
            "spent": {"instances": self.instances, "generated": self.generated,
                      "edge_cases": self.edge_cases, "optimised": self.optimised,
                      "skipped": self.skipped, "vacuous": self.vacuous,
                      "undefined": self.undefined,
                      "shrink_evaluations": self.shrink_evaluations,
                      "strata": {k: dict(v) for k, v in self.strata.items()}},
            "best_margin": _json_number(self.best_margin),
            "best_margin_hex": encode_float(self.best_margin),
            "best_tolerance": _json_number(self.best_tolerance),
            "best_normalised": _json_number(self.best_normalised),
            "witnesses": [w.to_dict() for w in self.witnesses],
            "decision": self.decision,
            "summary": self.summary, "notes": list(self.notes),
            "proofcheck_version": __version__,
        }


#: What a mutant may change that the instance search sees (anything but the identities).
_NUMERIC_PARTS = ("conclusion", "instances", "landscape", "point_kind", "hypotheses", "assumed",
                  "branches", "case_of", "high_precision")


def _json_number(x):
    """A float for JSON: non-finite values as the strings "inf" / "-inf" / "nan" (strict JSON
    has no Infinity)."""
    if x is None or math.isfinite(x):
        return x
    return str(float(x))


# ---------------------------------------------------------------------------------------------
# explore

def explore(claim: Claim, *, drop: Sequence[str] = (), mutate: str | None = None,
            budget: Budget | None = None, seed: int = 0, progress: Progress | None = None,
            certify: bool = True, shrink: bool = True, starts: int = 4,
            digits: int = 40) -> Exploration:
    """Search for instances of ``claim`` (with ``drop``-ped hypotheses, or the conclusion of
    mutant ``mutate``) where the margin is negative beyond its tolerance.

    ``budget`` limits instances and/or seconds (default: 300 instances, 8 for point claims);
    ``starts`` / ``digits`` are the local-minimum finder's starts and certification precision
    for point claims. Returns an :class:`Exploration`; raises :class:`ExploreError` for unknown
    names. A claim whose own code fails yields ``outcome == "error"`` with the cause in
    ``notes`` (as the engine's ``error`` verdict)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ExploreError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    budget = budget if budget is not None else Budget()
    if not isinstance(budget, Budget):
        raise ExploreError(f"budget must be a Budget, got {type(budget).__name__}")
    target = explored_claim(claim, drop, mutate)
    progress = progress or (lambda *a: None)
    point_claim = target.point_kind is not PointKind.ANY
    budget = budget.resolved(point_claim)
    ex = Exploration(claim_id=claim.id, explored=target.statement, dropped=tuple(drop),
                     mutant=mutate, seed=seed, budget=budget,
                     point_kind=target.point_kind.value)
    clock = _Clock(budget)
    unchecked = [h.name for h in claim.hypotheses if h.name in drop and h.holds is None]
    if unchecked:   # admissibility cannot confirm the drop: say whose word it rests on
        ex.notes.append(f"{', '.join(unchecked)} has no predicate: that the instances violate it "
                        "rests on the claim's generator alone")
    # a mutant that replaced identities is explored on those (exactly, over their sweep); a
    # claim with no conclusion on all of its identities; everything else on instances
    if mutate is not None:
        base = claim.corrected if claim.corrected is not None else claim
        changed = [i for i in target.identities if i not in base.identities]
        conclusion_changed = any(getattr(target, f) != getattr(base, f) for f in _NUMERIC_PARTS)
    else:
        changed, conclusion_changed = [], True
    with _watchdog(clock):
        try:
            _explore_parts(target, ex, clock, seed, progress, changed, conclusion_changed,
                           starts=starts, digits=digits, shrink=shrink)
        except ClaimError as exc:
            ex.outcome = "error"
            ex.notes.append(str(exc))
        except _Watchdog:
            clock.stop("searching (an evaluation did not return within the budget)")
        if certify and ex.witnesses and clock.stopped:
            ex.notes.append("the witness was not certified: the budget was exhausted")
        elif certify:
            t0 = time.perf_counter()
            try:
                for w in ex.witnesses:
                    _certify(w)
            except _Watchdog:
                clock.stop("certifying the witness")
                ex.notes.append("certification was stopped at the budget's watchdog: the "
                                "witness stays uncertified")
            ex.timings["certify"] = time.perf_counter() - t0
    if ex.decision and ex.decision["status"] == "counterexample" and not ex.found:
        ex.outcome = "counterexample"       # exact, from the decision procedure
    if clock.stopped:
        ex.instances = max(ex.instances, clock.evaluations)
        ex.notes.append(f"budget exhausted: {clock.stopped}")
    ex.timings["total"] = clock.elapsed
    ex.summary = _summary(ex, target)
    if clock.stopped:
        ex.summary += f"; budget exhausted: {clock.stopped}"
    progress(claim.id, "done", 1, 1)
    return ex


def _explore_decidable(target: Claim, ex: Exploration, progress: Progress) -> None:
    """Decide the explored statement's polynomial forms (``Claim.decidable``) for all reals at
    their sizes: a proof there means no instance of those sizes can be a counterexample; a
    counterexample is exact (a solver model re-validated in rationals / algebraic numbers)."""
    if getattr(target, "decidable", None) is None:
        return
    from ..decide import decide_claim

    progress(ex.claim_id, "decision procedure", 0, 1)
    record = decide_claim(target)
    status = {True: "proven", False: "counterexample", None: "unknown"}[record.passed]
    ex.decision = {"status": status, "text": record.summary,
                   "sizes": [dict(s) for s in record.sizes], "grade": record.grade or None}
    if record.witness is not None:
        ex.decision["witness"] = record.witness.instance
    what = {"proven": "holds for all reals at these sizes (proven)",
            "counterexample": "fails: an exact counterexample (certified)",
            "unknown": "undecided"}[status]
    ex.notes.append(f"decision procedure: the explored statement {what}: {record.summary}")


def _explore_parts(target, ex, clock, seed, progress, changed, conclusion_changed, *, starts,
                   digits, shrink) -> None:
    _explore_decidable(target, ex, progress)
    if target.conclusion is None or changed:
        _explore_identities(target, ex, clock, seed, progress,
                            changed or list(target.identities))
    if target.conclusion is not None and not ex.witnesses and conclusion_changed:
        _explore_instances(target, ex, clock, seed, progress, starts=starts, digits=digits,
                           shrink=shrink)


def _certify(w: Counterexample) -> None:
    """Certify a witness, and grade it as ``check`` would: ``certified`` when the certifier
    proves the failure; otherwise ``high-precision`` when the judge's mpmath rung confirms it,
    else ``sampled`` (so the same witness has the same grade in check, explore and replay)."""
    from . import certify as certify_module
    try:
        cert = certify_module.certify(w.claim, w)
    except Exception as exc:       # a certifier failure leaves the witness uncertified
        w.detail = (w.detail + f"; certifier raised {type(exc).__name__}: {exc}").lstrip("; ")
        cert = None
    if cert is not None:
        w.certificate = cert
        w.status = getattr(cert, "status", UNCERTIFIED)
    w.grade = "certified" if w.certified else _confirmed_grade(w)


def _confirmed_grade(w: Counterexample) -> str:
    """``high-precision`` when the judge's mpmath rung decides the uncertified witness's
    failure, else ``sampled``."""
    if w.kind != "instance" or w.instance is None or not w.claim.high_precision:
        return "sampled"
    from ..judge import MpmathRung, judge
    try:
        j = judge(w.claim, w.instance, w.point, rungs=[MpmathRung()])
    except Exception:           # a rung that cannot run confirms nothing
        return "sampled"
    return j.grade if j.fails is True else "sampled"


def _summary(ex: Exploration, target: Claim) -> str:
    what = f"{ex.claim_id}"
    if ex.mutant:
        what += f" (mutant {ex.mutant})"
    if ex.dropped:
        what += f" without {', '.join(ex.dropped)}"
    spent = f"{ex.instances} instance{'s' if ex.instances != 1 else ''}"
    if ex.outcome == "error":
        return f"{what}: error while exploring: {ex.notes[-1] if ex.notes else 'unknown'}"
    if ex.outcome == "generator-cannot-violate":
        return (f"{what}: the claim's instance generator produced no instance that violates "
                f"{', '.join(ex.dropped)} ({ex.skipped} draws all satisfied it), so nothing "
                "was explored; the generator must implement the hypothesis's complement")
    if ex.found:
        w = ex.witnesses[0]
        label = "certified counterexample" if w.certified else "counterexample found"
        sizes = ", ".join(f"{k}={v}" for k, v in w.sizes.items())
        text = (f"{what}: {label} after {spent or 'the size sweep'}: margin "
                f"{w.margin:.6g} < -tol {w.tolerance:.2g}"
                + (f" at {sizes}" if sizes else "") + f" [{w.status}; grade {w.grade}]")
        if not w.certified:
            text += "; not a refutation until certified"
        return text
    if ex.outcome == "vacuous":
        return (f"{what}: no certified {target.point_kind.value} found at any of "
                f"{ex.vacuous} instances: nothing to evaluate (vacuous, not a verification)")
    if ex.outcome == "identity":
        return f"{what}: no counterexample: the identities hold at every size of their sweep"
    if ex.outcome == "undecided":
        return (f"{what}: no counterexample found, and no proof: {ex.notes[-1]}")
    if ex.decision and ex.decision["status"] == "counterexample":
        return (f"{what}: certified counterexample by the decision procedure (exact, "
                f"symbolic): {ex.decision['text']}")
    best = (f"; smallest normalised margin {ex.best_normalised:.3g}"
            if ex.best_normalised is not None else "")
    proof = (f"; the decision procedure proves it at {len(ex.decision['sizes'])} size(s)"
             if ex.decision and ex.decision["status"] == "proven" else "")
    return (f"{what}: no counterexample within budget {ex.budget.describe()} "
            f"({spent} evaluated{best}){proof}")


# ---------------------------------------------------------------------------------------------
# identities: the exact sweep, smallest sizes first

def _explore_identities(target: Claim, ex: Exploration, clock: _Clock, seed: int,
                        progress: Progress, identities) -> None:
    from ..symbolic import SizeSweep, prove_identity
    ex.outcome = "identity"
    for k, identity in enumerate(identities):
        progress(target.id, f"identity {identity.name}", k, len(identities))
        sweep = identity.sweep
        sizes = sweep.sizes if isinstance(sweep, SizeSweep) else [dict(s) for s in sweep]
        # smallest total size first: the first refuted size is then a smallest witness
        order = sorted(sizes, key=lambda s: (sum(s.values()), tuple(s.values())))
        res = prove_identity(identity.build, order, method=identity.method,
                             name=identity.name, seed=seed)
        ex.instances += len(res.proven_sizes) + (res.refuted_at is not None)
        clock.evaluations = ex.instances
        if res.refuted_at is None:
            if res.undecided_at is not None:
                # neither proven nor refuted there (e.g. unevaluated derivatives of an abstract
                # function): no witness, and no proof either
                ex.outcome = "undecided"
                at = ", ".join(f"{k}={v}" for k, v in res.undecided_at.items())
                ex.notes.append(f"identity {identity.name} is undecided at {at}: the exact "
                                "checker could neither prove nor refute it there")
            continue
        exact = bool(getattr(res, "certified", True)) and (res.witness is not None
                                                           or res.reason is not None)
        residual = _residual_size(res.residual)
        values = {str(k): _exact_text(v) for k, v in (res.witness or {}).items()}
        w = Counterexample(
            claim=target, instance=None, margin=-residual if residual else -math.inf,
            tolerance=0.0, precision="exact (sympy)",
            status="certified-exact" if exact else UNCERTIFIED,
            sizes=dict(res.refuted_at), kind="identity", claim_id=ex.claim_id,
            mutant=ex.mutant,
            identity={"name": identity.name, "method": identity.method, "seed": seed,
                      "sizes": dict(res.refuted_at), "values": values,
                      "residual": str(res.residual) if res.residual is not None else None,
                      "reason": res.reason},
            # the checker's description without its timing (the report is deterministic)
            detail=re.sub(r"\s*\[[0-9.e+-]+ s\]\s*$", "", res.describe()))
        ex.witnesses.append(w)
        ex.outcome = "counterexample"
        ex.best_margin, ex.best_tolerance = w.margin, 0.0
        ex.best_normalised = -1.0
        return


_residual_size = residual_size


def _exact_text(v) -> Any:
    if hasattr(v, "tolist") and not hasattr(v, "is_Matrix"):
        return [[str(e) for e in row] for row in v.tolist()]
    if getattr(v, "is_Matrix", False):
        return [[str(e) for e in v.row(i)] for i in range(v.rows)]
    return str(v)


# ---------------------------------------------------------------------------------------------
# instances: targeted generation, edge cases, optimisation

class _Stop(Exception):
    pass


@dataclass
class _Candidate:
    inst: Instance
    ev: Evaluation


def _explore_instances(target: Claim, ex: Exploration, clock: _Clock, seed: int,
                       progress: Progress, *, starts: int, digits: int, shrink: bool) -> None:
    evaluator = Evaluator(target, seed=seed, starts=starts, digits=digits)
    point_claim = evaluator.point_claim
    best: list[_Candidate] = []            # the lowest normalised margins seen, admissible
    drawn: list[Instance] = []             # plain draws: they teach the shrinker the dimensions
    failing: list[_Candidate] = []
    total = clock.left_instances()

    def consider(inst: Instance, ev: Evaluation | None, origin: str) -> None:
        if ev is None:
            ex.vacuous += 1
            return
        if ex.best_normalised is None or ev.normalised < ex.best_normalised:
            ex.best_normalised = ev.normalised
            ex.best_margin, ex.best_tolerance = ev.margin, ev.tolerance
        best.append(_Candidate(inst, ev))
        best.sort(key=lambda c: c.ev.normalised)
        del best[5:]
        if ev.fails:
            failing.append(_Candidate(inst, ev))

    # -- phase 1: targeted generation with edge cases
    t0 = time.perf_counter()
    # generation gets 60% of the budget (instances or seconds), optimisation the rest
    gen_cap = max(1, int(math.ceil(0.6 * total))) if total != math.inf else None
    gen_seconds = 0.6 * clock.budget.seconds if clock.budget.seconds is not None else None
    try:
        strategy = _strategy(target)
    except Exception as exc:    # e.g. a generator that has no complement for a hypothesis
        raise ClaimError(f"the instance generator of {target.id} could not be built for "
                         f"{_assumed_text(target)}: {describe(exc)}") from exc
    if isinstance(strategy, (list, tuple)):         # a finite domain: every element
        for inst in strategy:
            if clock.exhausted() or failing:
                break
            if not admissible(target, inst):
                ex.skipped += 1
                continue
            drawn.append(inst)
            clock.evaluations += 1
            ex.generated += 1
            consider(inst, evaluator.evaluate(inst), "domain")
            progress(target.id, "evaluating its finite domain", ex.generated, len(strategy))
    else:
        # first the very instances `proofcheck check` draws with this seed (so exploring never
        # does worse than checking), then the targeted search with edge cases
        n0 = (max(1, gen_cap // 2) if gen_cap is not None
              else (2 if point_claim else 30))
        _engine_draws(target, evaluator, ex, clock, seed, n0, drawn, failing, consider,
                      progress)
        if not failing and not clock.exhausted():
            _explore_strata(target, evaluator, ex, clock, seed, gen_cap, drawn, failing,
                            consider, progress)
        if not failing and not clock.exhausted():
            _generate(target, strategy, evaluator, ex, clock, seed, gen_cap, drawn, failing,
                      consider, progress, gen_seconds)
    ex.timings["generation"] = time.perf_counter() - t0
    if ex.undefined:
        ex.notes.append(f"{ex.undefined} instance(s) where the conclusion could not be "
                        f"evaluated were skipped; the first: {ex.undefined_cause}")
        if ex.generated == ex.undefined:
            raise ClaimError(f"the conclusion of {target.id} could not be evaluated at any "
                             f"instance with {_assumed_text(target)}: {ex.undefined_cause}")
    assert target.assumed is not None  # set by Claim.__post_init__
    if not drawn and ex.skipped and target.assumed.dropped:
        ex.outcome = "generator-cannot-violate"
        return

    # -- phase 2: adversarial optimisation of the most promising instances
    t0 = time.perf_counter()
    if not failing and best and not clock.exhausted():
        _optimise(target, evaluator, best, ex, clock, failing, consider, progress)
    ex.timings["optimisation"] = time.perf_counter() - t0
    ex.instances = clock.evaluations

    if not failing:
        if point_claim and ex.best_normalised is None and ex.vacuous:
            ex.outcome = "vacuous"
        return

    # -- phase 3: shrink the most negative witness
    ex.outcome = "counterexample"
    worst = min(failing, key=lambda c: c.ev.normalised)
    inst, ev = worst.inst, worst.ev
    t0 = time.perf_counter()
    from .shrink import shrink as shrink_instance, sizes_of
    before = sizes_of(inst)
    if shrink:
        progress(target.id, "shrinking the counterexample", 0, 1)

        # candidates with no certified point are simply not kept, so no retry with more
        # starts there (the first run is the same as with retry: same seed, same starts)
        quick = Evaluator(target, seed=seed, starts=starts, digits=digits, retry=False)

        def fails(candidate: Instance):
            if not admissible(target, candidate):
                return None
            try:
                e = quick.evaluate(candidate)
            except ClaimError:
                return None
            return e if e is not None and e.fails else None

        cap = _shrink_seconds(clock, point_claim)
        try:
            res = shrink_instance(target, inst, fails=fails, examples=drawn,
                                  max_evaluations=60 if point_claim else 400, seconds=cap)
        except _Watchdog:
            clock.stop("shrinking the counterexample")
            ex.notes.append("shrinking was stopped at the budget's watchdog: the witness is "
                            "the unshrunk failing instance")
            res = None
        if res is not None:
            ex.shrink_evaluations = res.evaluations
            if res.timed_out:
                ex.notes.append(f"shrinking stopped at its time cap ({cap:g} s): the shrunk "
                                "witness may differ between runs")
            if res.evaluation is not None:
                inst, ev = res.instance, res.evaluation
            ex.notes += res.steps[-3:]
    ex.timings["shrink"] = time.perf_counter() - t0
    if point_claim and not clock.stopped:
        try:
            ev = evaluator.recertified(inst, ev)
        except _Watchdog:
            clock.stop("re-certifying the witness point")
    w = Counterexample(
        claim=target, instance=inst, margin=ev.margin, tolerance=ev.tolerance, point=ev.point,
        precision=f"float64 at a point certified at mpmath {digits} digits" if point_claim
        else "float64", sizes=sizes_of(inst), shrunk_from=before if before != sizes_of(inst)
        else None, lhs=ev.lhs, rhs=ev.rhs, tol_source=ev.tol_source,
        point_source=None if not point_claim else ("find" if ev.point_index is not None
                                                   else "certify"),
        point_index=ev.point_index, claim_id=ex.claim_id, mutant=ex.mutant,
        evaluator={"seed": seed, "starts": starts, "digits": digits} if point_claim else {})
    ex.witnesses.append(w)
    # the shrunk witness can fail by more
    if ex.best_normalised is None or ev.normalised < ex.best_normalised:
        ex.best_normalised = ev.normalised
        ex.best_margin, ex.best_tolerance = ev.margin, ev.tolerance


#: Wall-clock cap of shrinking for point claims under an instance budget: every candidate runs
#: the local-minimum finder. A run that hits it says so (its witness is then not reproducible).
POINT_SHRINK_SECONDS = 60.0


def _shrink_seconds(clock: _Clock, point_claim: bool) -> float | None:
    # shrinking gets a budget of its own (half the search's seconds, at least 5 s) so that a
    # time-limited search that found something late can still shrink it
    # (within the budget's grace: what is left of budget + grace/4, at least 0.5 s)
    s = clock.budget.seconds
    if s is None:
        return POINT_SHRINK_SECONDS if point_claim else None
    return max(0.5, min(max(5.0, s / 2), s + 0.25 * grace_seconds(s) - clock.elapsed))


def _strategy(target: Claim):
    """The claim's instance strategy; for claims with branches, the union over branches."""
    # both set for a claim with a conclusion (Claim.__post_init__)
    assert target.instances is not None and target.assumed is not None
    if target.branches and target.assumed.branch is None:
        from hypothesis import strategies as st
        parts = [target.instances(target.assumed.in_branch(b)) for b in target.branches]
        if any(isinstance(p, (list, tuple)) for p in parts):
            return [i for p in parts for i in p]
        return st.one_of(*parts)
    return target.instances(target.assumed)


def _engine_draws(target, evaluator, ex, clock, seed, n, drawn, failing, consider, progress):
    """Evaluate the instances the engine's check draws with this seed (its own generation
    routine, branches included). A generator that cannot keep to the requested hypotheses is
    left to the targeted phase, which counts what it skips."""
    try:
        instances = draw_instances(target, n, seed, lambda *a: None)
    except GeneratorError:
        return
    except ClaimError:
        raise
    except Exception as exc:    # the claim's own generator (or a filter in it) raised
        raise ClaimError(f"the instance generator of {target.id} raised while drawing "
                         f"instances with {_assumed_text(target)}: {describe(exc)}") from exc
    for k, inst in enumerate(instances):
        if failing or clock.exhausted():
            return
        ev = _evaluate_drawn(target, evaluator, ex, clock, drawn, inst)
        if ev is _UNDEFINED:
            continue
        consider(inst, ev, "engine")
        progress(target.id, "evaluating the check's own draws", k + 1, len(instances))


#: what :func:`_evaluate_drawn` returns for an instance where the conclusion is undefined
_UNDEFINED = object()


def _evaluate_drawn(target, evaluator, ex, clock, drawn, inst):
    """Evaluate one drawn instance and count it. With a dropped hypothesis the conclusion may
    be undefined on the violating instances: such an instance is counted as skipped (its first
    cause kept) and :data:`_UNDEFINED` returned; for the claim as stated it is the claim's
    own error and is raised."""
    clock.evaluations += 1
    ex.generated += 1
    drawn.append(inst)
    try:
        return evaluator.evaluate(inst)
    except ClaimError as exc:
        if not target.assumed.dropped:
            raise
        ex.skipped += 1
        ex.undefined += 1
        ex.undefined_cause = ex.undefined_cause or str(exc)
        return _UNDEFINED


def _explore_strata(target, evaluator, ex, clock, seed, cap, drawn, failing, consider,
                    progress) -> None:
    """Instances drawn *on* each stratum the claim's generator can aim at
    (:func:`proofcheck.evaluate.stratum_options`: it takes ``stratum=`` and lists
    ``instances.strata``), round robin, so that no stratum is left to chance: statements break
    where the landscape's pieces meet (zero pre-activations, dead units, zero outgoing
    weights), which generic draws hit with probability zero. Gets half of the generation
    budget (at least one instance per stratum); counts per stratum in ``ex.strata``."""
    strata = stratum_options(target)
    if not strata:
        return
    gen = target.instances
    per = max(1, (cap // 2) // len(strata)) if cap is not None else 2
    pools: dict[str, list[Instance]] = {}
    for j, name in enumerate(strata):
        ex.strata[name] = {"instances": 0, "points": 0, "on_stratum": 0}
        variant = target.replace(
            instances=lambda assumed, _n=name: gen(assumed, stratum=_n))
        try:
            pools[name] = draw_instances(variant, per, seed + 104729 * (j + 1))
        except GeneratorError as exc:
            ex.notes.append(f"stratum {name}: no instance: {exc}")
            pools[name] = []
        except ClaimError:
            raise
        except Exception as exc:    # the claim's own generator raised
            raise ClaimError(f"the instance generator of {target.id} raised while drawing "
                             f"instances on stratum {name!r}: {describe(exc)}") from exc
    for r in range(per):
        for name in strata:
            if failing or clock.exhausted() or r >= len(pools[name]):
                continue
            inst = pools[name][r]
            ev = _evaluate_drawn(target, evaluator, ex, clock, drawn, inst)
            if ev is _UNDEFINED:
                continue
            counts = ex.strata[name]
            counts["instances"] += 1
            if ev is not None:
                counts["points"] += ev.points
                counts["on_stratum"] += ev.on_stratum
            consider(inst, ev, f"stratum {name}")
            progress(target.id, f"searching the strata ({name})", r + 1, per)
    ex.notes.append("strata searched: " + "; ".join(
        f"{k} {v['instances']} instance(s)"
        + (f", {v['points']} point(s) ({v['on_stratum']} on a stratum)"
           if evaluator.point_claim else "")
        for k, v in ex.strata.items()))


def _generate(target, strategy, evaluator, ex, clock, seed, cap, drawn, failing, consider,
              progress, seconds=None):
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hseed
    from hypothesis import strategies as st
    from hypothesis import target as htarget
    from hypothesis.errors import HypothesisException

    from .edges import edge_cases

    n = cap if cap is not None else 10 ** 6
    tagged = st.one_of(strategy.map(lambda i: ("draw", i)),
                       edge_cases(strategy).map(lambda i: ("edge", i)))
    errors: list[BaseException] = []

    @hseed(seed)
    @settings(max_examples=n, database=None, deadline=None, verbosity=Verbosity.quiet,
              phases=[Phase.generate, Phase.target], suppress_health_check=list(HealthCheck),
              report_multiple_bugs=False)
    @given(tagged)
    def probe(pair):
        if failing or clock.exhausted() or (cap is not None and ex.generated >= cap) \
                or (seconds is not None and clock.elapsed >= seconds):
            raise _Stop
        origin, inst = pair
        if not admissible(target, inst):
            # a plain draw outside the requested hypotheses is the generator's limitation (e.g.
            # it cannot violate a dropped hypothesis); an edge variant may leave them: skipped
            ex.skipped += 1
            return
        clock.evaluations += 1
        ex.generated += 1
        if origin == "edge":
            ex.edge_cases += 1
        else:
            drawn.append(inst)
        try:
            ev = evaluator.evaluate(inst)
        except ClaimError as exc:
            # a degenerate edge variant, or an instance violating a dropped hypothesis, where
            # the conclusion is undefined (e.g. it divides by the norm the hypothesis keeps
            # away from zero): not evaluable, so skipped and counted; with every hypothesis
            # assumed, a plain draw the claim cannot evaluate is the claim's own error
            if origin == "edge" or target.assumed.dropped:
                ex.skipped += 1
                ex.undefined += 1
                ex.undefined_cause = ex.undefined_cause or str(exc)
                return
            errors.append(exc)
            raise _Stop from exc
        consider(inst, ev, origin)
        if ev is not None:
            htarget(-ev.normalised if math.isfinite(ev.normalised) else 0.0,
                    label="minus normalised margin")
        if ex.generated % 10 == 0:
            progress(target.id, "searching (targeted generation)", ex.generated,
                     cap if cap is not None else 0)

    try:
        probe()
    except _Stop:
        pass
    except HypothesisException as exc:      # e.g. the strategy cannot generate at all
        raise ClaimError(f"the instance generator of {target.id} failed: {exc}") from exc
    except ClaimError:
        raise
    except Exception as exc:    # the claim's own generator (or a filter in it) raised
        raise ClaimError(f"the instance generator of {target.id} raised while drawing "
                         f"instances with {_assumed_text(target)}: {describe(exc)}") from exc
    if errors:
        raise errors[0]



_assumed_text = assumption_text


# -- continuous parameters of an instance ------------------------------------------------------

class ContinuousView:
    """The float entries of an instance as one vector, and back.

    Varied: float numpy arrays that are not integer-valued, and float fields. Fixed: ints,
    shapes, strings, objects (losses), and integer-valued arrays (labels, one-hot targets).

    >>> v = ContinuousView(Instance(X=np.array([[0.5, 1.5]]), Y=np.array([[1.0]]), m=1))
    >>> v.names, v.x0.tolist()
    (['X'], [0.5, 1.5])
    """

    def __init__(self, inst: Instance):
        self.inst = inst
        self.names: list[str] = []
        self.shapes: list[tuple[int, ...] | None] = []
        parts = []
        for name, v in inst.fields().items():
            if isinstance(v, np.ndarray) and v.dtype.kind == "f" and v.size \
                    and not np.all(v == np.round(v)):
                self.names.append(name)
                self.shapes.append(v.shape)
                parts.append(v.astype(float).ravel())
            elif isinstance(v, float) and not float(v).is_integer() and math.isfinite(v):
                self.names.append(name)
                self.shapes.append(None)
                parts.append(np.array([v]))
        self.x0 = np.concatenate(parts) if parts else np.zeros(0)

    def build(self, x: np.ndarray) -> Instance:
        changes: dict[str, Any] = {}
        k = 0
        for name, shape in zip(self.names, self.shapes):
            if shape is None:
                changes[name] = float(x[k])
                k += 1
            else:
                size = int(np.prod(shape))
                changes[name] = np.asarray(x[k:k + size], dtype=float).reshape(shape)
                k += size
        return self.inst.replace(**changes)


def _optimise(target, evaluator, best, ex, clock, failing, consider, progress):
    from scipy.optimize import minimize

    starts = [c for c in list(best)[:3]]
    PENALTY = 1e6

    for k, cand in enumerate(starts):
        view = ContinuousView(cand.inst)
        if view.x0.size == 0 or clock.exhausted():
            continue
        # the most promising start gets half of what is left, the next half of the rest, ...
        # (the last one all of it): descent needs a run of evaluations to get anywhere
        left = clock.left_instances()
        per_start = None if left == math.inf else max(
            5, int(left if k == len(starts) - 1 else left // 2))
        progress(target.id, "optimising the margin", k, len(starts))

        def f(x, view=view):
            if failing or clock.exhausted():
                raise _Stop
            inst = view.build(x)
            if not np.all(np.isfinite(x)) or not admissible(target, inst):
                return PENALTY
            clock.evaluations += 1
            ex.optimised += 1
            try:
                ev = evaluator.evaluate(inst)
            except ClaimError:
                return PENALTY
            consider(inst, ev, "optimised")
            if ev is None:
                return PENALTY
            if failing:
                raise _Stop
            return ev.normalised

        # the initial simplex: 10% of each entry's size (at least 0.05), so that structure
        # such as the scale of the data is explored, not only rounding-level moves
        x0 = view.x0
        step = np.maximum(0.1 * np.abs(x0), 0.05)
        simplex = np.vstack([x0] + [x0 + step[i] * np.eye(x0.size)[i] for i in range(x0.size)])
        opts = {"maxfev": per_start or 10 ** 9, "initial_simplex": simplex, "adaptive": True,
                "xatol": 1e-12, "fatol": 0.0}
        try:
            minimize(f, x0, method="Nelder-Mead", options=opts)
        except _Stop:
            pass
        if failing:
            return
