"""The engine: run a claim's checks and turn them into a :class:`~proofcheck.results.ClaimResult`.

For each claim:

1. **Identities** are proven exactly over their size sweep (:mod:`proofcheck.symbolic`).
2. **The conclusion** is evaluated on instances drawn by Hypothesis from the claim's generator.
   *Any-point* claims are evaluated batched on the numpy backend (instances of one shape are
   stacked), *local-minimum* / *critical-point* claims at points that
   :mod:`proofcheck.optimize.local_min` finds and certifies for each instance. A failure is
   re-evaluated at high precision (mpmath) and shrunk by Hypothesis to a minimal instance.
3. **The corrected statement** (errata) is checked the same way.
4. **Mutants** are checked with a smaller budget; each must be caught.

A claim's own exception never escapes: it becomes a result with verdict ``error`` whose message
names the claim and the cause.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any

import numpy as np

from .claims import Claim, Instance, PointKind
from .errors import ClaimError, GeneratorError
from .evaluate import (CRITICAL_KINDS, as_point, assumption_text, check_hypotheses, describe,
                       draw_instances, evaluate_batch, evaluate_conclusion,
                       failures, find_points, group_key, instance_dict, point_dict, stack,
                       validate_instance)
from .judge import Judgement, grade_rank, judge, weakest
from .results import (ALL_BRANCH, BranchResult, BranchStatus, CheckRecord, ClaimResult,
                      EvidenceKind, MutantResult, RunResult, Verdict, Witness)

__all__ = ["PROFILES", "Profile", "check_claim", "check_claims", "ClaimError", "GeneratorError",
           "claim_grade"]

Progress = Callable[[str, str, int, int], None]

# the names this module had before proofcheck.evaluate existed (benchmarks and tests use them)
_draw_instances = draw_instances
_evaluate = evaluate_conclusion
_failures = failures
_group_key = group_key
_stack = stack
_validate_arrays = validate_instance
_check_hypotheses = check_hypotheses
_assumption_text = assumption_text
_instance_dict = instance_dict
_point_dict = point_dict
_CRITICAL_KINDS = CRITICAL_KINDS
_describe = describe


@dataclass(frozen=True)
class Profile:
    """How much work a check does. ``quick`` is for CI smoke runs, ``thorough`` is opt-in."""

    name: str
    instances: int              # instances for any-point conclusions (evaluated batched)
    point_instances: int        # instances for local-minimum / critical-point conclusions
    starts: int                 # optimiser starts per instance
    digits: int                 # mpmath precision for confirmation and refinement
    mutant_instances: int       # budget per mutant (stops at the first failure)
    mutant_point_instances: int
    shrink: bool = True
    hp_instances: int = 8       # any-point instances re-evaluated at `digits` (equalities tighten)
    claim_timeout: float | None = None  # seconds per claim in a worker (runner); None: no limit

    def hypothesis_settings(self) -> dict[str, Any]:
        from hypothesis import HealthCheck
        return dict(max_examples=self.instances, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.large_base_example])


PROFILES: dict[str, Profile] = {
    "quick": Profile("quick", instances=60, point_instances=3, starts=4, digits=40,
                     mutant_instances=60, mutant_point_instances=3, hp_instances=4,
                     claim_timeout=300),
    "default": Profile("default", instances=200, point_instances=6, starts=6, digits=50,
                       mutant_instances=120, mutant_point_instances=4, hp_instances=10,
                       claim_timeout=900),
    "thorough": Profile("thorough", instances=2000, point_instances=30, starts=12, digits=80,
                        mutant_instances=500, mutant_point_instances=10, hp_instances=50,
                        claim_timeout=3600),
}


def register_hypothesis_profiles() -> list[str]:
    """Register Hypothesis settings profiles ``proofcheck-quick|default|thorough`` mirroring the
    engine profiles (same example budget, no deadline, no example database), so a user's own
    ``@given`` tests can run at the budget of a proofcheck run:
    ``settings.load_profile("proofcheck-thorough")`` or ``--hypothesis-profile``."""
    from hypothesis import settings
    names = []
    for name, prof in PROFILES.items():
        settings.register_profile(f"proofcheck-{name}", **prof.hypothesis_settings())
        names.append(f"proofcheck-{name}")
    return names


def get_profile(profile: str | Profile) -> Profile:
    if isinstance(profile, Profile):
        return profile
    try:
        return PROFILES[profile]
    except KeyError:
        raise ValueError(f"unknown profile {profile!r}; choose one of {sorted(PROFILES)}") from None


# ---------------------------------------------------------------------------------------------
# public entry points

def check_claims(claims: list[Claim], *, profile: str | Profile = "default", seed: int = 0,
                 progress: Progress | None = None) -> RunResult:
    from . import __version__
    prof = get_profile(profile)
    start = time.perf_counter()
    results = [check_claim(c, profile=prof, seed=seed, progress=progress) for c in claims]
    return RunResult(results, prof.name, seed, time.perf_counter() - start, __version__)


def check_claim(claim: Claim, *, profile: str | Profile = "default", seed: int = 0,
                progress: Progress | None = None, mutants: bool = True) -> ClaimResult:
    """Check one claim (its identities, conclusion, corrected statement and mutants)."""
    return _check_claim(claim, profile=profile, seed=seed, progress=progress, mutants=mutants)


def _check_claim(claim: Claim, *, profile: str | Profile, seed: int,
                 progress: Progress | None, mutants: bool,
                 counts_out: list[_Branches] | None = None) -> ClaimResult:
    prof = get_profile(profile)
    start = time.perf_counter()
    progress = progress or (lambda *a: None)
    result = ClaimResult(claim_id=claim.id, title=claim.title, source=str(claim.source),
                         verdict=Verdict.ERROR, statement=claim.statement,
                         point_kind=claim.point_kind.value, seed=seed, profile=prof.name,
                         erratum=claim.erratum)
    for name in ("readings", "notes", "narrowed"):
        setattr(result, name, _as_texts(getattr(claim, name, ())))
    counts = _Branches(claim)
    if counts_out is not None:
        counts_out.append(counts)
    try:
        from .witness_db import replay_stored, store_failures   # the failure database
        result.checks = replay_stored(claim) + _run_checks(claim, prof, seed, progress,
                                                           budget="full", branches=counts)
        result.branches = counts.results(result.checks)
        result.verdict = _verdict(result.checks)
        store_failures(claim, result.checks, seed=seed)
        corrected_counts: list[_Branches] = []
        if claim.corrected is not None:
            progress(claim.id, "corrected statement", 0, 1)
            result.corrected = _check_claim(claim.corrected, profile=prof, seed=seed,
                                            progress=progress, mutants=False,
                                            counts_out=corrected_counts)
            if result.verdict is Verdict.REFUTED and result.corrected.verdict is Verdict.VERIFIED:
                result.verdict = Verdict.ERRATUM
            elif result.verdict is Verdict.VERIFIED:
                result.erratum = (claim.erratum + " [not reproduced: the printed statement "
                                  "passed every check in this run]").strip()
        result.grade = claim_grade(result.verdict, result.checks)
        if mutants:
            evidence = corrected_counts[0] if corrected_counts else counts
            result.mutants, caught = _run_mutants(claim, prof, seed, progress, evidence)
            _discrimination(result, caught)
    except Exception as exc:  # the claim's code is broken: say which claim and why
        result.verdict = Verdict.ERROR
        result.grade = None
        result.branches = []
        result.error = f"{claim.id}: {describe(exc)}"
    result.seconds = time.perf_counter() - start
    return result


def _as_texts(x: Any) -> list[str]:
    """A claim's readings / notes / narrowed as a list of texts (a plain string is one)."""
    if not x:
        return []
    if isinstance(x, str):
        return [x]
    return [r if hasattr(r, "to_dict") else str(r) for r in x]


def _verdict(checks: list[CheckRecord]) -> Verdict:
    if not checks:
        return Verdict.INCONCLUSIVE
    if any(c.passed is False for c in checks):
        return Verdict.REFUTED
    if any(c.passed is None for c in checks):
        return Verdict.INCONCLUSIVE
    return Verdict.VERIFIED


def claim_grade(verdict: Verdict, checks: list[CheckRecord]) -> str | None:
    """The evidence grade of a claim: for ``verified`` the weakest grade of its checks; for a
    refutation the strongest grade among its failing checks; None otherwise.

    >>> ok = lambda g: CheckRecord("c", EvidenceKind.NUMERIC_SEARCH, True, "", grade=g)
    >>> claim_grade(Verdict.VERIFIED, [ok("proven"), ok("sampled")])
    'sampled'
    """
    if verdict is Verdict.VERIFIED:
        return weakest([c.grade for c in checks])
    if verdict in (Verdict.REFUTED, Verdict.ERRATUM):
        failed = [c.grade for c in checks if c.passed is False and c.grade]
        return max(failed, key=grade_rank) if failed else None
    return None


def _run_checks(claim: Claim, prof: Profile, seed: int, progress: Progress, *,
                budget: str, branches: _Branches | None = None) -> list[CheckRecord]:
    """Run the claim's checks. A mutant (``budget="mutant"``) stops at its first decided
    failure. ``branches`` tallies the evidence (and a mutant's decided failure) per branch."""
    records: list[CheckRecord] = []
    stop_early = budget == "mutant"
    total = len(claim.identities) + (claim.conclusion is not None)
    for k, identity in enumerate(claim.identities):
        progress(claim.id, f"identity {identity.name}", k, total)
        records.append(_check_identity(identity, seed))
        if stop_early and records[-1].passed is False:
            return records
    # --- decision procedure (decide.py): polynomial forms proven for all reals at fixed sizes
    if getattr(claim, "decidable", None) is not None:
        from .decide import decide_claim
        progress(claim.id, "decision procedure", len(claim.identities), total)
        records.append(decide_claim(claim))
        if stop_early and records[-1].passed is False:
            return records
    # --- end decision procedure
    if claim.conclusion is not None:
        progress(claim.id, "numeric", len(claim.identities), total)
        if claim.point_kind is PointKind.ANY:
            records.append(_check_any_point(claim, prof, seed, progress, budget=budget,
                                            branches=branches))
            if budget == "full" and records[-1].passed and prof.hp_instances:
                if claim.high_precision:
                    records.append(_check_high_precision(claim, prof, seed, progress))
                else:
                    records[-1].notes.append("not re-evaluated at high precision: the "
                                             "conclusion computes in float64 only")
        else:
            records.append(_check_at_points(claim, prof, seed, progress, budget=budget,
                                            branches=branches))
    progress(claim.id, "done", total, total)
    return records


# ---------------------------------------------------------------------------------------------
# symbolic identities

_TIMING = re.compile(r"\s*\[[0-9.e+-]+ s\]")


def _check_identity(identity: Any, seed: int) -> CheckRecord:
    from .symbolic import prove_identity
    res = prove_identity(identity.build, identity.sweep, method=identity.method,
                         name=identity.name, seed=seed)
    kind = (EvidenceKind.SYMBOLIC_PROOF if identity.method == "symbolic"
            else EvidenceKind.EXACT_RANDOM)
    witness = None
    undecided = getattr(res, "undecided_at", None) is not None and res.refuted_at is None
    if res.refuted_at is not None:
        witness = Witness(check=identity.name, margin=_finite(res.residual), tolerance=0.0,
                          certified=bool(getattr(res, "certified", res.witness is not None)),
                          certification="exact (sympy rationals)" if res.witness is not None
                          else "exact (the two sides do not conform)" if res.reason
                          else "exact",
                          instance={"sizes": res.refuted_at, "values": res.witness or {}},
                          detail=(res.reason or f"lhs - rhs = {res.residual}"),
                          grade="certified")
    trials = getattr(res, "trials", 1) if identity.method != "symbolic" else 0
    # an UNDECIDED identity is neither a proof nor a refutation: passed is None
    passed = None if undecided else res.holds
    grade = ("" if passed is None else "certified" if passed is False
             else "proven" if identity.method == "symbolic" else "certified")
    return CheckRecord(name=identity.name, kind=kind, passed=passed,
                       summary=_TIMING.sub("", res.describe()),
                       sizes=list(res.proven_sizes), precision="exact", witness=witness,
                       instances=trials * len(res.proven_sizes),
                       seconds=res.seconds, tolerance=0.0, tolerance_source="exact arithmetic",
                       notes=[identity.statement], grade=grade)


def _finite(x: Any) -> float:
    """Minus the size of an exact residual; -inf when there is none (e.g. a shape mismatch)."""
    try:
        if hasattr(x, "shape"):     # a residual matrix: its largest entry
            x = max((abs(e) for e in x), default=0)
        v = float(abs(x))
    except (TypeError, ValueError):
        return float("-inf")
    return -v if v else float("-inf")


# ---------------------------------------------------------------------------------------------
# witnesses: every failure climbs the judge's ladder

def _confirm(claim: Claim, inst: Instance, point: Any, digits: int, *,
             until: str = "proven") -> tuple[Witness, Judgement]:
    """Judge a float64 failure (:func:`proofcheck.judge.judge`): float64, then ``digits``
    digits, then exact rationals / balls / a certified point, up to grade ``until``."""
    j = judge(claim, inst, point, digits=digits, until=until)
    w = Witness(check="conclusion", margin=j.margin, tolerance=j.tolerance,
                certified=j.certified, certification=j.certification,
                instance=instance_dict(inst), point=point_dict(point), detail=j.detail,
                grade=j.grade if j.fails else "", enclosure=list(j.enclosure)
                if j.enclosure else None)
    cert = j.outcomes[j.rung].extra.get("point") if j.rung in j.outcomes else None
    if cert and w.point is not None:    # the level the point itself is certified at
        w.point["certificate"] = cert
    return w, j


def _failure_summary(n_fail: int, n: int, what: str, w: Witness, j: Judgement) -> str:
    text = (f"counterexample in {n_fail} of {n} {what}; witness margin {w.margin:.3g} "
            f"({w.certification})")
    if not j.decided:
        text += "; not confirmed at high precision, so not called a refutation"
    return text


# ---------------------------------------------------------------------------------------------
# any-point conclusions

#: instances per batch for mutants, which stop at their first decided failure
MUTANT_CHUNK = 16


def _check_any_point(claim: Claim, prof: Profile, seed: int, progress: Progress, *,
                     budget: str, branches: _Branches | None = None) -> CheckRecord:
    from .backends import get_backend

    t0 = time.perf_counter()
    n = prof.instances if budget == "full" else prof.mutant_instances
    instances = draw_instances(claim, n, seed, progress)
    for inst in instances:
        validate_instance(claim, inst)
    B = get_backend("numpy")
    judged: dict[int, tuple[Witness, Judgement]] = {}
    tally = branches if branches is not None else _Branches(claim)
    case = [tally.of(claim, inst, None) for inst in instances]

    def stop(res: Any) -> bool:
        # mutants: judge the worst failure of each batch; a decided one ends the evaluation
        bad = [i for i in res.failing if i not in judged]
        if not bad:
            return False
        worst = min(bad, key=lambda i: res.values[i] + res.tolerances[i])
        judged[worst] = _confirm(claim, instances[worst], None, prof.digits,
                                 until="high-precision")
        if judged[worst][1].decided:
            tally.catch(case[worst], judged[worst][0].grade)
        return judged[worst][1].decided

    mutant = budget == "mutant"
    res = evaluate_batch(claim, instances, B, progress=progress, stop=stop if mutant else None,
                         chunk=MUTANT_CHUNK if mutant else None)
    done = ~np.isnan(res.values)
    for i in np.flatnonzero(done):
        tally.add(case[i], int(i))
        b = case[i]
        if budget == "full" and b is not None:
            tally.evidence.append((b, instances[i], None))
    values, tols = res.values[done], res.tolerances[done]
    failing = res.failing
    # both set for a claim with a conclusion (Claim.__post_init__)
    assert claim.instances is not None and claim.assumed is not None
    exhaustive = isinstance(claim.instances(claim.assumed), (list, tuple))
    record = CheckRecord(
        name="conclusion", kind=EvidenceKind.NUMERIC_SEARCH, passed=True,
        summary="", instances=int(done.sum()), precision="float64 (numpy, batched)",
        min_margin=float(values.min()), tolerance=float(tols.max()),
        tolerance_source=res.tol_source, notes=list(res.notes), exhaustive=exhaustive,
        grade="sampled")
    if failing.size == 0:
        record.summary = (f"no counterexample in {record.instances} instances "
                          f"(float64; min margin {values.min():.3g}, tol {tols.max():.2g})")
        if exhaustive:
            record.summary = (f"holds at all {record.instances} instances of its finite domain "
                              f"(exhaustive; min margin {values.min():.3g})")
        record.seconds = time.perf_counter() - t0
        return record

    # A failure: shrink to a minimal instance, then judge it on the ladder.
    worst = int(failing[np.argmin(res.values[failing] + res.tolerances[failing])])
    decided = [i for i, (_, j) in judged.items() if j.decided]
    if decided:         # a mutant stopped at a decided failure: that is its witness
        witness, j = judged[decided[0]]
    else:
        inst = instances[worst]
        if budget == "full" and prof.shrink and not exhaustive:
            progress(claim.id, "shrinking counterexample", 0, 1)
            inst = _shrink(claim, inst, seed, n) or inst
        witness, j = _confirm(claim, inst, None, prof.digits,
                              until="proven" if budget == "full" else "high-precision")
    record.passed = False if j.decided else None
    record.grade = witness.grade or "sampled"
    record.witness = witness
    record.summary = _failure_summary(failing.size, record.instances, "instances", witness, j)
    record.seconds = time.perf_counter() - t0
    return record


def _check_high_precision(claim: Claim, prof: Profile, seed: int,
                          progress: Progress) -> CheckRecord:
    """Re-evaluate the first instances at ``prof.digits`` with the mpmath backend.

    In float64 an equality can only be checked to ~1e-16 times its conditioning; at 50 digits
    the backend's tolerance is ~1e-48 times the same factors, so an error hidden by the float64
    tolerance shows here."""
    from .backends import get_backend

    t0 = time.perf_counter()
    instances = draw_instances(claim, prof.hp_instances, seed, progress)
    B = get_backend("mpmath", digits=prof.digits)
    values, tols, worst, tol_source = [], [], None, ""
    for k, inst in enumerate(instances):
        progress(claim.id, f"mpmath {prof.digits} digits", k, len(instances))
        m = evaluate_conclusion(claim, inst, None, B)
        v, t, bad = failures(m)
        values.append(float(np.min(v)))
        tols.append(float(np.max(t)))
        tol_source = m.tol_source
        if np.any(bad) and (worst is None or values[-1] < worst[0]):
            worst = (values[-1], tols[-1], inst)
    record = CheckRecord(
        name="high precision", kind=EvidenceKind.HIGH_PRECISION, passed=worst is None,
        summary="", instances=len(instances), precision=f"mpmath {prof.digits} digits",
        min_margin=min(values), tolerance=max(tols), tolerance_source=tol_source,
        grade="sampled")
    if worst is None:
        record.summary = (f"holds at {len(instances)} instances at {prof.digits} digits "
                          f"(min margin {min(values):.3g}, tol {max(tols):.2g})")
    else:
        witness, j = _confirm(claim, worst[2], None, prof.digits)
        record.passed = False if j.decided else None
        record.grade = witness.grade or "sampled"
        witness.check = "high precision"
        record.witness = witness
        record.summary = (f"FAILS at {prof.digits} digits although float64 passed: margin "
                          f"{worst[0]:.3g} < -tol {worst[1]:.2g} ({witness.certification})")
    record.seconds = time.perf_counter() - t0
    return record


def _shrink(claim: Claim, first: Instance, seed: int, n: int) -> Instance | None:
    """Let Hypothesis shrink a failing instance of an any-point claim."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed

    from .backends import get_backend

    B = get_backend("numpy")
    last: list[Instance] = []
    # both set for a claim with a conclusion (Claim.__post_init__)
    assert claim.instances is not None and claim.assumed is not None

    @hseed(seed)
    @settings(max_examples=max(n, 50), database=None, deadline=None, report_multiple_bugs=False,
              phases=[Phase.generate, Phase.shrink],
              suppress_health_check=list(HealthCheck))
    @given(claim.instances(claim.assumed))
    def fails(inst: Instance) -> None:
        v, t, bad = failures(evaluate_conclusion(claim, inst, None, B))
        if np.any(bad):
            last.append(inst)
            raise AssertionError("margin below tolerance")

    try:
        fails()
    except AssertionError:
        return last[-1] if last else None
    except Exception:   # shrinking is best effort; the unshrunk witness stands
        return None
    return None


# ---------------------------------------------------------------------------------------------
# conclusions at certified local minima / critical points

def _check_at_points(claim: Claim, prof: Profile, seed: int, progress: Progress, *,
                     budget: str, branches: _Branches | None = None) -> CheckRecord:
    from .backends import get_backend

    t0 = time.perf_counter()
    n = prof.point_instances if budget == "full" else prof.mutant_point_instances
    instances = draw_instances(claim, n, seed, progress)
    B = get_backend("numpy")
    rng = np.random.default_rng(seed)
    n_points, vacuous, duplicates = 0, 0, 0
    equivalence = "tolerance"
    levels: dict[str, int] = {}
    by_branch: dict[str, int] = {b: 0 for b in claim.branches}
    tally = branches if branches is not None else _Branches(claim)
    kinds: dict[str, int] = {}
    min_margin, max_tol, tol_source = math.inf, 0.0, ""
    witness: Witness | None = None
    judgement: Judgement | None = None
    worst_fail: tuple[float, Instance, Any] | None = None
    n_fail = 0
    notes: list[str] = []
    kind_text = {"local minimum": "local minima", "critical point": "critical points"}.get(
        claim.point_kind.value, claim.point_kind.value)
    until = "proven" if budget == "full" else "high-precision"
    for i, inst in enumerate(instances):
        progress(claim.id, f"finding {kind_text}", i, len(instances))
        validate_instance(claim, inst)
        found = find_points(claim, inst, rng=rng, starts=prof.starts, digits=prof.digits)
        notes += [f"instance {i}: {note}" for note in found.notes]
        for k, count in found.kinds().items():
            kinds[k] = kinds.get(k, 0) + count
        duplicates += found.duplicates
        equivalence = found.equivalence     # H7: what "distinct" meant for these points
        if not found.points:
            vacuous += 1
            continue
        for p in found.points:
            n_points += 1
            level = as_point(p).describe()
            levels[level] = levels.get(level, 0) + 1
            b = tally.of(claim, inst, p)
            if b in by_branch:
                by_branch[b] += 1
            tally.add(b, i, point=True)
            if budget == "full" and b is not None:
                tally.evidence.append((b, inst, p))
            m = evaluate_conclusion(claim, inst, p, B)
            v, t, bad = failures(m)
            vmin = float(np.min(v))
            tol_source = m.tol_source
            min_margin = min(min_margin, vmin)
            max_tol = max(max_tol, float(np.max(t)))
            if np.any(bad):
                n_fail += 1
                if budget == "mutant":
                    # stop at the first decided failure
                    w, j = _confirm(claim, inst, p, prof.digits, until=until)
                    if witness is None or (j.decided and not (judgement and judgement.decided)):
                        witness, judgement = w, j
                    if j.decided:
                        tally.catch(b, w.grade)
                        if tally.done():
                            break
                elif worst_fail is None or vmin < worst_fail[0]:
                    worst_fail = (vmin, inst, p)
        if budget == "mutant" and tally.done():
            break
    if worst_fail is not None:      # judge the worst failure once, on the whole ladder
        witness, judgement = _confirm(claim, worst_fail[1], worst_fail[2], prof.digits,
                                      until=until)

    record = CheckRecord(
        name="conclusion", kind=EvidenceKind.NUMERIC_SEARCH, passed=True, summary="",
        instances=len(instances), points=n_points, vacuous_instances=vacuous,
        precision=f"float64 at points certified at mpmath {prof.digits} digits",
        min_margin=None if n_points == 0 else min_margin,
        tolerance=max_tol if n_points else None, tolerance_source=tol_source,
        witness=witness, notes=notes, grade="sampled", point_certification=levels,
        points_distinct_up_to=equivalence if n_points else "")
    if kinds:
        notes.append("points found by kind: " + ", ".join(f"{k}: {v}" for k, v in kinds.items()))
    if n_points:
        notes.append(f"{n_points} point(s) distinct up to {equivalence}")
    if duplicates:
        notes.append(f"{duplicates} point(s) found again from other starts counted once "
                     f"(distinct up to {equivalence})")
    if n_fail:
        assert witness is not None and judgement is not None
        record.passed = False if judgement.decided else None
        record.grade = witness.grade or "sampled"
        record.summary = (f"fails at {n_fail} of {n_points} certified {kind_text} "
                          f"({witness.certification})")
    elif n_points == 0:
        record.passed = None
        record.summary = (f"vacuous here: no certified {kind_text} found in "
                          f"{len(instances)} instances")
    else:
        record.summary = (f"no counterexample at {n_points} certified {kind_text} of "
                          f"{len(instances)} instances (min margin {min_margin:.3g}, "
                          f"tol {max_tol:.2g})")
        empty = [b for b, k in by_branch.items() if k == 0]
        if by_branch:
            record.summary += "; branches: " + ", ".join(f"{b}: {k}" for b, k in by_branch.items())
        if empty:
            record.passed = None
            record.summary += (f"; vacuous in branch {', '.join(empty)} "
                               "(no certified point there)")
    if vacuous and n_points:
        record.summary += f"; {vacuous} instance(s) gave no certified {kind_text}"
    record.seconds = time.perf_counter() - t0
    return record


# ---------------------------------------------------------------------------------------------
# mutants

def _run_mutants(claim: Claim, prof: Profile, seed: int, progress: Progress,
                 evidence: _Branches | None = None
                 ) -> tuple[list[MutantResult], list[dict[str, str]]]:
    """Run every mutant; also return, per mutant, the branches where a decided failure caught
    it (branch -> grade of that witness): its own run's first one, and, for a claim with
    declared branches, one per branch on the claim's own evidence (``evidence``)."""
    out = []
    caught_in: list[dict[str, str]] = []
    base = claim.corrected if claim.corrected is not None else claim
    for k, mutant in enumerate(base.mutants):
        progress(claim.id, f"mutant {mutant.name}", k, len(base.mutants))
        try:
            mutated = mutant.apply(base).replace(mutant_of=base.id, corrected=None, mutants=())
            tally = _Branches(mutated)
            # a mutant of the conclusion alone is first evaluated on the claim's own certified
            # points; when a decided failure catches it in every branch there, its own search
            # (new instances, new optimiser starts) could add nothing and is not run
            on_evidence: dict[str, Witness] = {}
            if evidence is not None and (evidence.declared
                                         or base.point_kind is not PointKind.ANY):
                progress(claim.id, f"mutant {mutant.name} on each branch", k, len(base.mutants))
                on_evidence = _caught_on_evidence(base, mutated, evidence, prof)
            if (evidence is not None and base.point_kind is not PointKind.ANY
                    and on_evidence and set(evidence.names) <= set(on_evidence)):
                checks = [_caught_record(base, on_evidence, evidence)]
            else:
                checks = _run_checks(mutated, prof, seed + 1 + k, progress, budget="mutant",
                                     branches=tally)
        except ClaimError as exc:
            raise ClaimError(f"mutant {mutant.name}: {exc}") from exc
        # caught only by a DECIDED failure; an undecided check is reported as undecided
        failed = [c for c in checks if c.passed is False]
        undecided = [c for c in checks if c.passed is None]
        if failed and not tally.declared:    # one branch: any decided failure lies in it
            tally.catch(ALL_BRANCH, failed[0].grade)
        where = dict(tally.caught)
        if evidence is not None and evidence.declared:
            for b, w in on_evidence.items():
                where.setdefault(b, w.grade)
        caught_in.append(where)
        if failed:
            f = failed[0]
            by = f.summary if f.summary.startswith(f.name) else f.name + ": " + f.summary
            outcome = "caught"
        elif undecided:
            by = "undecided: " + "; ".join(c.summary for c in undecided)
            outcome = "undecided"
        else:
            by = "not caught: " + "; ".join(c.summary for c in checks)
            outcome = "not caught"
        out.append(MutantResult(
            name=mutant.name, kind=mutant.kind.value, description=mutant.description,
            caught=bool(failed), caught_by=by, witness=failed[0].witness if failed else None,
            outcome=outcome, grade=failed[0].grade if failed else ""))
    return out, caught_in


# ---------------------------------------------------------------------------------------------
# branches: the evidence per case of the proof, and the mutant that shows it could fail

class _Branches:
    """Evidence per branch of a claim during one check: the distinct instances and certified
    points in each branch, and the branches where a decided failure was found (with its grade).
    A claim that declares no branches has one, :data:`~proofcheck.results.ALL_BRANCH`.

    ``evidence`` (a full check's): ``(branch, instance, point)`` of every evaluation in a
    declared branch, so that mutants can be evaluated on the claim's own evidence."""

    def __init__(self, claim: Claim) -> None:
        self.evidence: list[tuple[str, Instance, Any]] = []
        self.declared = bool(claim.branches)
        self.names: tuple[str, ...] = tuple(claim.branches) or (ALL_BRANCH,)
        self.instances: dict[str, set[int]] = {b: set() for b in self.names}
        self.points: dict[str, int] = {b: 0 for b in self.names}
        self.caught: dict[str, str] = {}
        self.outside = False            # a decided failure outside every declared branch

    def of(self, claim: Claim, inst: Instance, point: Any) -> str | None:
        """The branch of an instance (and point): the claim's ``case_of``, else the point's
        ``branch``, else the instance's ``branch`` field; None when it names no declared
        branch (evidence outside every declared case)."""
        if not self.declared:
            return ALL_BRANCH
        b: str | None
        if claim.case_of is not None:
            b = claim.case_of(inst, point)
        elif point is not None:
            b = getattr(point, "branch", None)
        else:
            b = inst.fields().get("branch")
        return b if b in self.points else None

    def add(self, branch: str | None, instance: int, *, point: bool = False) -> None:
        if branch in self.points:
            self.instances[branch].add(instance)
            self.points[branch] += point

    def catch(self, branch: str | None, grade: str) -> None:
        if branch is not None and branch in self.points and branch not in self.caught:
            self.caught[branch] = grade
        elif branch is None:
            self.outside = True

    def done(self) -> bool:
        """A decided failure was found (a mutant's evaluation stops)."""
        return bool(self.caught) or self.outside

    def results(self, checks: list[CheckRecord]) -> list[BranchResult]:
        """One result per branch, before any mutant ran: vacuous or non-discriminating. The
        one branch of a claim without declared branches holds every decided check (identities
        and decision procedures too; its instances: the largest check's)."""
        out = []
        for b in self.names:
            n = len(self.instances[b])
            evidence = n > 0
            if not self.declared:
                n = max([n] + [c.instances for c in checks])
                evidence = n > 0 or any(c.passed is not None for c in checks)
            out.append(BranchResult(b, instances=n, points=self.points[b],
                                    status=BranchStatus.NON_DISCRIMINATING if evidence
                                    else BranchStatus.VACUOUS))
        return out


def _caught_record(base: Claim, caught: dict[str, Witness], evidence: _Branches) -> CheckRecord:
    """The check record of a mutant caught on the claim's own certified points in every
    branch (see :func:`_caught_on_evidence`): its witness is the first branch's."""
    b = next(name for name in evidence.names if name in caught)
    w = caught[b]
    kind_text = {"local minimum": "local minima", "critical point": "critical points"}.get(
        base.point_kind.value, base.point_kind.value)
    n_points = sum(1 for _, _, p in evidence.evidence if p is not None)
    where = "" if b == ALL_BRANCH else f" (first in branch {b})"
    return CheckRecord(
        name="conclusion", kind=EvidenceKind.NUMERIC_SEARCH, passed=False,
        summary=(f"fails on the claim's own certified {kind_text}{where}: {len(caught)} of "
                 f"{len(evidence.names)} branch(es) caught among {n_points} point(s) "
                 f"({w.certification})"),
        points=n_points, precision="float64 at the claim's certified points",
        witness=w, grade=w.grade or "sampled")


def _caught_on_evidence(base: Claim, mutated: Claim, evidence: _Branches,
                        prof: Profile) -> dict[str, Witness]:
    """The branches where ``mutated`` fails, decided, on the claim's own evidence, with the
    witness (its ``grade``): each branch's instances / certified points in the order checked,
    up to the first decided failure (any-point claims: at most the mutant budget per branch).
    Only for a mutant that changes the conclusion alone (same instances, hypotheses and
    landscape); {} otherwise."""
    from .backends import get_backend

    same = (mutated.conclusion is not None and mutated.conclusion is not base.conclusion
            and mutated.instances is base.instances and mutated.landscape is base.landscape
            and mutated.assumed == base.assumed and mutated.point_kind is base.point_kind)
    if not same:
        return {}
    B = get_backend("numpy")
    cap = max(1, math.ceil(prof.mutant_instances / max(1, len(evidence.names))))
    seen: dict[str, int] = {}
    out: dict[str, Witness] = {}
    for b, inst, p in evidence.evidence:
        if b in out or (p is None and seen.get(b, 0) >= cap):
            continue
        seen[b] = seen.get(b, 0) + 1
        if not np.any(failures(evaluate_conclusion(mutated, inst, p, B))[2]):
            continue
        w, j = _confirm(mutated, inst, p, prof.digits, until="high-precision")
        if j.decided:
            out[b] = w
    return out


def _discrimination(result: ClaimResult, caught: list[dict[str, str]]) -> None:
    """Name each branch's discriminating mutant (the first caught by a decided failure in it)
    and keep ``verified`` only where some branch discriminates.

    The mutants mutate the corrected statement of an erratum, so its branches are the ones
    judged (reported on the claim; the corrected statement's own result lists none). A
    verified claim whose mutants all pass on the evidence of every branch becomes
    ``inconclusive`` (a claim declaring no mutant keeps its verdict; its branches and summary
    say non-discriminating); an erratum whose corrected statement has no discriminating branch
    becomes ``refuted`` (the printed statement is still refuted; its correction is not
    confirmed)."""
    base = result.corrected if result.corrected is not None else result
    branches = [BranchResult(b.name, b.instances, b.points, status=b.status)
                for b in base.branches]
    for br in branches:
        for mutant, where in zip(result.mutants, caught):
            if br.name in where:
                br.mutant, br.mutant_grade = mutant.name, where[br.name]
                break
        if br.mutant and br.status is not BranchStatus.VACUOUS:
            br.status = BranchStatus.DISCRIMINATING
    result.branches = branches
    if result.corrected is not None:    # its branches are the claim's (the mutants' target)
        result.corrected.branches = []
    if not result.mutants or any(b.status is BranchStatus.DISCRIMINATING for b in branches):
        return      # a claim declaring no mutant: its branches say non-discriminating
    if result.verdict is Verdict.VERIFIED:
        result.verdict = Verdict.INCONCLUSIVE
    elif result.verdict is Verdict.ERRATUM and result.corrected is not None:
        result.verdict = Verdict.REFUTED
        result.corrected.verdict = Verdict.INCONCLUSIVE
        result.corrected.grade = None
    result.grade = claim_grade(result.verdict, result.checks)
