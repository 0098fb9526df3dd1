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
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .claims import Claim, Instance, Margin, PointKind
from .results import (CheckRecord, ClaimResult, EvidenceKind, MutantResult, RunResult, Verdict,
                      Witness)

__all__ = ["PROFILES", "Profile", "check_claim", "check_claims", "ClaimError", "GeneratorError"]

Progress = Callable[[str, str, int, int], None]


class ClaimError(RuntimeError):
    """Something in a claim's own code or data is broken; the message names the claim."""


class GeneratorError(ClaimError):
    """A claim's instance generator produced instances outside its stated hypotheses."""


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
    prof = get_profile(profile)
    start = time.perf_counter()
    progress = progress or (lambda *a: None)
    result = ClaimResult(claim_id=claim.id, title=claim.title, source=str(claim.source),
                         verdict=Verdict.ERROR, statement=claim.statement,
                         point_kind=claim.point_kind.value, seed=seed, profile=prof.name,
                         erratum=claim.erratum)
    try:
        from .witness_db import replay_stored, store_failures   # the failure database
        result.checks = replay_stored(claim) + _run_checks(claim, prof, seed, progress,
                                                           budget="full")
        result.verdict = _verdict(result.checks)
        store_failures(claim, result.checks, seed=seed)
        if claim.corrected is not None:
            progress(claim.id, "corrected statement", 0, 1)
            result.corrected = check_claim(claim.corrected, profile=prof, seed=seed,
                                           progress=progress, mutants=False)
            if result.verdict is Verdict.REFUTED and result.corrected.verdict is Verdict.VERIFIED:
                result.verdict = Verdict.ERRATUM
            elif result.verdict is Verdict.VERIFIED:
                result.erratum = (claim.erratum + " [not reproduced: the printed statement "
                                  "passed every check in this run]").strip()
        if mutants:
            result.mutants = _run_mutants(claim, prof, seed, progress)
    except Exception as exc:  # the claim's code is broken: say which claim and why
        result.verdict = Verdict.ERROR
        result.error = f"{claim.id}: {_describe(exc)}"
    result.seconds = time.perf_counter() - start
    return result


def _verdict(checks: list[CheckRecord]) -> Verdict:
    if not checks:
        return Verdict.INCONCLUSIVE
    if any(c.passed is False for c in checks):
        return Verdict.REFUTED
    if any(c.passed is None for c in checks):
        return Verdict.INCONCLUSIVE
    return Verdict.VERIFIED


def _describe(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    frames = [f for f in tb if "/hypothesis/" not in f.filename]
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _run_checks(claim: Claim, prof: Profile, seed: int, progress: Progress, *,
                budget: str) -> list[CheckRecord]:
    records: list[CheckRecord] = []
    total = len(claim.identities) + (claim.conclusion is not None)
    for k, identity in enumerate(claim.identities):
        progress(claim.id, f"identity {identity.name}", k, total)
        records.append(_check_identity(identity, seed))
        if budget == "mutant" and records[-1].passed is False:
            return records
    # --- decision procedure (decide.py): polynomial forms proven for all reals at fixed sizes
    if getattr(claim, "decidable", None) is not None:
        from .decide import decide_claim
        progress(claim.id, "decision procedure", len(claim.identities), total)
        records.append(decide_claim(claim))
        if budget == "mutant" and records[-1].passed is False:
            return records
    # --- end decision procedure
    if claim.conclusion is not None:
        progress(claim.id, "numeric", len(claim.identities), total)
        if claim.point_kind is PointKind.ANY:
            records.append(_check_any_point(claim, prof, seed, progress, budget=budget))
            if budget == "full" and records[-1].passed and prof.hp_instances:
                if claim.high_precision:
                    records.append(_check_high_precision(claim, prof, seed, progress))
                else:
                    records[-1].notes.append("not re-evaluated at high precision: the "
                                             "conclusion computes in float64 only")
        else:
            records.append(_check_at_points(claim, prof, seed, progress, budget=budget))
    progress(claim.id, "done", total, total)
    return records


# ---------------------------------------------------------------------------------------------
# symbolic identities

def _check_identity(identity, seed: int) -> CheckRecord:
    from .symbolic import prove_identity
    res = prove_identity(identity.build, identity.sweep, method=identity.method,
                         name=identity.name, seed=seed)
    kind = (EvidenceKind.SYMBOLIC_PROOF if identity.method == "symbolic"
            else EvidenceKind.EXACT_RANDOM)
    witness = None
    if not res.holds:
        witness = Witness(check=identity.name, margin=_finite(res.residual), tolerance=0.0,
                          certified=bool(getattr(res, "certified", res.witness is not None)),
                          certification="exact (sympy rationals)" if res.witness is not None
                          else "exact (the two sides do not conform)" if res.reason
                          else "exact",
                          instance={"sizes": res.refuted_at, "values": res.witness or {}},
                          detail=(res.reason or f"lhs - rhs = {res.residual}"))
    trials = getattr(res, "trials", 1) if identity.method != "symbolic" else 0
    return CheckRecord(name=identity.name, kind=kind, passed=res.holds, summary=res.describe(),
                       sizes=list(res.proven_sizes), precision="exact", witness=witness,
                       instances=trials * len(res.proven_sizes),
                       seconds=res.seconds, tolerance=0.0, tolerance_source="exact arithmetic",
                       notes=[identity.statement])


def _finite(x) -> float:
    """Minus the size of an exact residual; -inf when there is none (e.g. a shape mismatch)."""
    try:
        if hasattr(x, "shape"):     # a residual matrix: its largest entry
            x = max((abs(e) for e in x), default=0)
        v = float(abs(x))
    except (TypeError, ValueError):
        return float("-inf")
    return -v if v else float("-inf")


# ---------------------------------------------------------------------------------------------
# instance generation

def _draw_instances(claim: Claim, n: int, seed: int, progress: Progress) -> list[Instance]:
    """Collect ``n`` instances from the claim's Hypothesis strategy (generation only).

    A claim with ``branches`` (the cases of its proof) gets ``ceil(n / #branches)`` instances
    per branch, so no case is left to chance."""
    if claim.branches and claim.assumed.branch is None:
        per = max(1, math.ceil(n / len(claim.branches)))
        out = []
        for k, b in enumerate(claim.branches):
            out += _draw_instances(claim.replace(assumed=claim.assumed.in_branch(b)), per,
                                   seed + 7919 * k, progress)
        return out
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed
    from hypothesis.errors import FailedHealthCheck, Unsatisfiable

    strategy = claim.instances(claim.assumed)
    if isinstance(strategy, (list, tuple)):
        # a finite domain given as a sequence: every element is checked (exhaustive)
        out = list(strategy)
        if not out:
            raise GeneratorError(f"the instance list of {claim.id} is empty")
        for inst in out:
            _check_hypotheses(claim, inst)
        return out
    out: list[Instance] = []

    @hseed(seed)
    @settings(max_examples=n, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.large_base_example])
    @given(strategy)
    def collect(inst):
        out.append(inst)
        if len(out) % 25 == 0:
            progress(claim.id, "generating instances", len(out), n)

    try:
        collect()
    except (Unsatisfiable, FailedHealthCheck) as exc:
        raise GeneratorError(f"the instance generator of {claim.id} cannot produce instances "
                             f"with {_assumption_text(claim)}: {exc}") from exc
    if not out:
        raise GeneratorError(f"the instance generator of {claim.id} produced no instance "
                             f"with {_assumption_text(claim)}")
    for inst in out:
        _check_hypotheses(claim, inst)
    return out


def _assumption_text(claim: Claim) -> str:
    dropped = claim.assumed.dropped
    held = [n for n, v in claim.assumed.flags if v]
    text = "hypotheses " + (", ".join(held) if held else "(none)")
    return text + (f" and NOT {', '.join(dropped)}" if dropped else "")


def _check_hypotheses(claim: Claim, inst: Instance) -> None:
    for h in claim.hypotheses:
        if h.holds is None:
            continue
        try:
            ok = bool(h.holds(inst))
        except Exception as exc:
            raise ClaimError(f"hypothesis {h.name} of {claim.id} could not be evaluated on "
                             f"{inst!r}: {_describe(exc)}") from exc
        want = claim.assumed[h.name]
        if ok != want:
            raise GeneratorError(
                f"the instance generator of {claim.id} produced an instance that "
                f"{'violates' if want else 'satisfies'} hypothesis {h} although it is "
                f"{'assumed' if want else 'dropped'}: {inst!r}")


_CHECKED_LOSSES: dict[str, str | None] = {}


def _validate_arrays(claim: Claim, inst: Instance) -> None:
    """Reject NaN/inf data, and losses whose declared properties are false (a non-convex loss
    declared convex would otherwise make a convexity-based claim look refuted or verified for
    the wrong reason). Each loss object is checked once per process."""
    for name, v in inst.fields().items():
        arr = v if isinstance(v, np.ndarray) else (
            np.asarray(v) if isinstance(v, (float, list, tuple)) else None)
        if arr is not None and arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
            raise ClaimError(f"instance field {name} of {claim.id} contains NaN or inf: "
                             f"{inst!r}")
        if name == "loss" and hasattr(v, "value") and hasattr(v, "convex"):
            _check_loss(claim, v, inst)


def _check_loss(claim: Claim, loss, inst: Instance) -> None:
    from .losses import LossDeclarationError, check_declared_properties
    key = f"{type(loss).__module__}.{type(loss).__qualname__}:{loss!r}"
    if key not in _CHECKED_LOSSES:
        try:
            d_y = np.asarray(inst.Y).shape[-1] if "Y" in inst.fields() else None
            check_declared_properties(loss, np.random.default_rng(0), d_y=d_y)
            _CHECKED_LOSSES[key] = None
        except LossDeclarationError as exc:
            _CHECKED_LOSSES[key] = str(exc)
    if _CHECKED_LOSSES[key] is not None:
        raise ClaimError(f"the loss {loss!r} used by {claim.id} does not have the properties it "
                         f"declares: {_CHECKED_LOSSES[key]}")


# ---------------------------------------------------------------------------------------------
# batching: stack instances of one shape along a new leading axis

def _group_key(inst: Instance):
    key = []
    for name, v in sorted(inst.fields().items()):
        if isinstance(v, np.ndarray) and v.dtype != object:
            key.append((name, "array", v.shape, v.dtype.str))
        elif isinstance(v, float):
            key.append((name, "float"))
        else:
            key.append((name, "value", repr(v)))
    return tuple(key)


def _stack(group: list[Instance]) -> Instance:
    first = group[0].fields()
    fields = {}
    for name, v in first.items():
        if (isinstance(v, np.ndarray) and v.dtype != object) or isinstance(v, float):
            fields[name] = np.stack([np.asarray(g.fields()[name]) for g in group])
        else:
            fields[name] = v
    return Instance(**fields, batch_size=len(group))


def _evaluate(claim: Claim, inst: Instance, point, B) -> Margin:
    import contextlib
    import mpmath
    # mpmath numbers do arithmetic at the *global* precision: a conclusion's own "/ m" or a
    # Margin's subtraction would silently run at 15 digits outside the backend's context
    ctx = mpmath.workdps(B.digits) if getattr(B, "name", "") == "mpmath" \
        else contextlib.nullcontext()
    try:
        with ctx:
            m = claim.conclusion(inst, point, B)
            if isinstance(m, Margin):
                _failures(m)        # evaluate the margin's arithmetic inside the context too
    except (ClaimError, GeneratorError):
        raise
    except Exception as exc:
        raise ClaimError(f"the conclusion of {claim.id} raised {_describe(exc)}") from exc
    if not isinstance(m, Margin):
        raise ClaimError(f"the conclusion of {claim.id} returned {type(m).__name__}, "
                         "expected a Margin (use Margin.at_most / at_least / equal)")
    return m


def _as_float(x) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype == object:
        arr = np.vectorize(float, otypes=[float])(arr) if arr.size else arr.astype(float)
    return arr.astype(float)


def _failures(m: Margin) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    value, tol = _as_float(m.value), _as_float(m.tol)
    value, tol = np.broadcast_arrays(value, tol)
    if np.any(np.isnan(value)) or np.any(np.isnan(tol)):
        raise ClaimError("the margin is NaN (the conclusion could not be evaluated)")
    if not (np.all(np.isfinite(tol)) and np.all(tol >= 0)):
        raise ClaimError(f"the margin's tolerance is {tol.max() if tol.size else tol} "
                         "(it must be finite and >= 0: an infinite tolerance passes anything)")
    if np.any(np.isposinf(value)):
        raise ClaimError("the margin is +inf (an overflow would pass any claim)")
    return value, tol, value < -tol


# ---------------------------------------------------------------------------------------------
# any-point conclusions

def _check_any_point(claim: Claim, prof: Profile, seed: int, progress: Progress, *,
                     budget: str) -> CheckRecord:
    from .backends import get_backend

    t0 = time.perf_counter()
    n = prof.instances if budget == "full" else prof.mutant_instances
    instances = _draw_instances(claim, n, seed, progress)
    for inst in instances:
        _validate_arrays(claim, inst)
    B = get_backend("numpy")
    groups: dict[Any, list[int]] = {}
    for i, inst in enumerate(instances):
        groups.setdefault(_group_key(inst), []).append(i)

    values = np.empty(len(instances))
    tols = np.empty(len(instances))
    notes: list[str] = []
    tol_source = ""
    done = 0
    for idx in groups.values():
        batch = [instances[i] for i in idx]
        try:
            m = _evaluate(claim, _stack(batch), None, B)
            v, t, _ = _failures(m)
            if v.shape != (len(batch),):
                raise ValueError(f"batched margin has shape {v.shape}, expected ({len(batch)},)")
        except Exception as exc:  # not batchable: evaluate one by one, and say so
            if not any(n.startswith("evaluated one instance at a time") for n in notes):
                notes.append("evaluated one instance at a time (the conclusion does not "
                             f"return one margin per stacked instance: {str(exc)[:100]})")
            pairs = []
            for inst in batch:
                mi = _evaluate(claim, inst, None, B)
                vi, ti, _ = _failures(mi)
                pairs.append((float(np.min(vi)), float(np.max(ti))))
                m = mi
            v = np.array([p[0] for p in pairs])
            t = np.array([p[1] for p in pairs])
        values[idx], tols[idx] = v, t
        tol_source = m.tol_source
        done += len(batch)
        progress(claim.id, "evaluating", done, len(instances))

    failing = np.flatnonzero(values < -tols)
    record = CheckRecord(
        name="conclusion", kind=EvidenceKind.NUMERIC_SEARCH, passed=True,
        summary="", instances=len(instances), precision="float64 (numpy, batched)",
        min_margin=float(values.min()), tolerance=float(tols.max()),
        tolerance_source=tol_source, notes=notes)
    exhaustive = isinstance(claim.instances(claim.assumed), (list, tuple))
    record.exhaustive = exhaustive
    if failing.size == 0:
        record.summary = (f"no counterexample in {len(instances)} instances "
                          f"(float64; min margin {values.min():.3g}, tol {tols.max():.2g})")
        if exhaustive:
            record.summary = (f"holds at all {len(instances)} instances of its finite domain "
                              f"(exhaustive; min margin {values.min():.3g})")
        record.seconds = time.perf_counter() - t0
        return record

    # A failure: confirm at high precision, then shrink to a minimal instance.
    worst = int(failing[np.argmin(values[failing] + tols[failing])])
    inst = instances[worst]
    if budget == "full" and prof.shrink and not exhaustive:
        progress(claim.id, "shrinking counterexample", 0, 1)
        inst = _shrink(claim, inst, seed, n) or inst
    witness = _confirm(claim, inst, None, prof.digits)
    record.passed = False if witness.certified or witness.margin < -witness.tolerance else None
    record.witness = witness
    record.summary = (f"counterexample in {failing.size} of {len(instances)} instances; "
                      f"witness margin {witness.margin:.3g} ({witness.certification})")
    if record.passed is None:
        record.summary += "; not confirmed at high precision, so not called a refutation"
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
    instances = _draw_instances(claim, prof.hp_instances, seed, progress)
    B = get_backend("mpmath", digits=prof.digits)
    values, tols, worst, tol_source = [], [], None, ""
    for k, inst in enumerate(instances):
        progress(claim.id, f"mpmath {prof.digits} digits", k, len(instances))
        m = _evaluate(claim, inst, None, B)
        v, t, bad = _failures(m)
        values.append(float(np.min(v)))
        tols.append(float(np.max(t)))
        tol_source = m.tol_source
        if np.any(bad) and (worst is None or values[-1] < worst[0]):
            worst = (values[-1], tols[-1], inst)
    record = CheckRecord(
        name="high precision", kind=EvidenceKind.HIGH_PRECISION, passed=worst is None,
        summary="", instances=len(instances), precision=f"mpmath {prof.digits} digits",
        min_margin=min(values), tolerance=max(tols), tolerance_source=tol_source)
    if worst is None:
        record.summary = (f"holds at {len(instances)} instances at {prof.digits} digits "
                          f"(min margin {min(values):.3g}, tol {max(tols):.2g})")
    else:
        record.summary = (f"FAILS at {prof.digits} digits although float64 passed: margin "
                          f"{worst[0]:.3g} < -tol {worst[1]:.2g}")
        record.witness = Witness(check="high precision", margin=worst[0], tolerance=worst[1],
                                 certified=False,
                                 certification=f"mpmath {prof.digits} digits; not "
                                               "interval-certified",
                                 instance=_instance_dict(worst[2]))
    record.seconds = time.perf_counter() - t0
    return record


def _shrink(claim: Claim, first: Instance, seed: int, n: int) -> Instance | None:
    """Let Hypothesis shrink a failing instance of an any-point claim."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed
    from .backends import get_backend

    B = get_backend("numpy")
    last: list[Instance] = []

    @hseed(seed)
    @settings(max_examples=max(n, 50), database=None, deadline=None, report_multiple_bugs=False,
              phases=[Phase.generate, Phase.shrink],
              suppress_health_check=list(HealthCheck))
    @given(claim.instances(claim.assumed))
    def fails(inst):
        v, t, bad = _failures(_evaluate(claim, inst, None, B))
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


def _confirm(claim: Claim, inst: Instance, point, digits: int) -> Witness:
    """Re-evaluate a float64 failure at ``digits`` of precision (mpmath)."""
    from .backends import get_backend

    f64 = _evaluate(claim, inst, point, get_backend("numpy"))
    v64, t64, _ = _failures(f64)
    k = int(np.argmin(v64 + t64)) if v64.ndim else 0
    if not claim.high_precision:
        margin, tol = float(np.ravel(v64)[k]), float(np.ravel(t64)[k])
        return Witness(check="conclusion", margin=margin, tolerance=tol, certified=False,
                       certification="float64 witness (the conclusion has no high-precision "
                                     "path), uncertified", instance=_instance_dict(inst),
                       point=_point_dict(point))
    try:
        mp = _evaluate(claim, inst, point, get_backend("mpmath", digits=digits))
        vmp, tmp, badmp = _failures(mp)
        vmp, tmp = float(np.ravel(vmp)[k if vmp.ndim else 0]), float(np.ravel(tmp)[0])
        confirmed = vmp < -tmp
        how = (f"confirmed at mpmath {digits} digits (margin {vmp:.6g}, tol {tmp:.2g}); "
               "not interval-certified")
        if not confirmed:
            how = (f"float64 witness, NOT confirmed at mpmath {digits} digits "
                   f"(margin there {vmp:.3g} >= -{tmp:.2g})")
        margin, tol = vmp, tmp
    except ClaimError as exc:
        confirmed, margin, tol = False, float(np.ravel(v64)[k]), float(np.ravel(t64)[k])
        how = f"float64 witness, uncertified (high-precision evaluation failed: {exc})"
    return Witness(check="conclusion", margin=margin, tolerance=tol, certified=False,
                   certification=how, instance=_instance_dict(inst),
                   point=_point_dict(point),
                   detail=f"lhs={_brief(f64.lhs, k)} rhs={_brief(f64.rhs, k)}")


def _brief(x, k) -> str:
    if x is None:
        return "-"
    arr = np.asarray(x, dtype=object)
    if arr.ndim == 0:
        return f"{float(arr.item()):.10g}" if _is_number(arr.item()) else str(arr.item())
    return f"<array {arr.shape}>"


def _is_number(x) -> bool:
    try:
        float(x)
        return True
    except (TypeError, ValueError):
        return False


def _instance_dict(inst: Instance) -> dict[str, Any]:
    out = {}
    for k, v in inst.fields().items():
        if isinstance(v, np.ndarray):
            out[k] = v.tolist()
        elif isinstance(v, (int, float, str, bool)) or v is None:
            out[k] = v
        else:
            out[k] = repr(v)
    return out


def _point_dict(point) -> dict[str, Any] | None:
    if point is None:
        return None
    p = getattr(point, "point", point)
    out = {}
    for name in ("W", "V", "theta"):
        v = getattr(p, name, None)
        if v is not None:
            out[name] = np.asarray(v, dtype=float).tolist()
    for name in ("value", "grad_norm", "min_hess_eig", "tau_grad", "tau_hess", "rank_W",
                 "kind", "branch", "digits"):
        if hasattr(point, name):
            v = getattr(point, name)
            out[name] = float(v) if _is_number(v) and not isinstance(v, (int, str)) else v
    return out


# ---------------------------------------------------------------------------------------------
# conclusions at certified local minima / critical points

# certified kinds that count as critical points: local_min's "local_min" / "saddle", and
# optimize.critical's "local_max" / "degenerate" (a certified critical point whose Hessian is zero
# within the certificate's resolution, e.g. theta = 0 of a deep linear network)
_CRITICAL_KINDS = ("local_min", "saddle", "local_max", "degenerate")


def _check_at_points(claim: Claim, prof: Profile, seed: int, progress: Progress, *,
                     budget: str) -> CheckRecord:
    from .backends import get_backend
    from .optimize.local_min import find_local_minima

    t0 = time.perf_counter()
    n = prof.point_instances if budget == "full" else prof.mutant_point_instances
    instances = _draw_instances(claim, n, seed, progress)
    B = get_backend("numpy")
    rng = np.random.default_rng(seed)
    n_points, vacuous = 0, 0
    by_branch: dict[str, int] = {b: 0 for b in claim.branches}
    kinds: dict[str, int] = {}
    min_margin, max_tol, tol_source = math.inf, 0.0, ""
    witness: Witness | None = None
    n_fail = 0
    notes: list[str] = []
    for i, inst in enumerate(instances):
        progress(claim.id, "finding " + {"local minimum": "local minima", "critical point":
                 "critical points"}.get(claim.point_kind.value, "points"), i, len(instances))
        _validate_arrays(claim, inst)
        try:
            landscape = claim.landscape(inst)
        except Exception as exc:
            raise ClaimError(f"the landscape of {claim.id} could not be built for {inst!r}: "
                             f"{_describe(exc)}") from exc
        branch = inst.fields().get("branch")
        if branch not in (None, "full_rank", "rank_deficient"):
            branch = None
        wanted = "local_min" if claim.point_kind is PointKind.LOCAL_MIN else None

        def certified(found):
            return [p for p in found
                    if (p.kind == wanted if wanted else p.kind in _CRITICAL_KINDS)]

        # a landscape may bring its own finder and certificate (duck-typed: ``find_points``,
        # e.g. piecewise-linear networks, whose certificate also decides differentiability)
        own = getattr(landscape, "find_points", None)

        def find(starts):
            if own is not None:
                return own(rng=rng, starts=starts, digits=prof.digits)
            return find_local_minima(landscape, rng=rng, starts=starts, branch=branch,
                                     digits=prof.digits)

        found = find(prof.starts)
        if not certified(found):
            # one retry with three times the starts: descent from random starts can drift into
            # valleys that run off to infinity (W -> 0, V -> oo) and certify nothing
            found = list(found) + list(find(3 * prof.starts))
            notes.append(f"instance {i}: no certified point from {prof.starts} starts; retried "
                         f"with {3 * prof.starts} more")
        for p in found:
            kinds[p.kind] = kinds.get(p.kind, 0) + 1
        points = certified(found)
        if not points:
            vacuous += 1
            continue
        for p in points:
            n_points += 1
            b = claim.case_of(inst, p) if claim.case_of else getattr(p, "branch", None)
            if b in by_branch:
                by_branch[b] += 1
            m = _evaluate(claim, inst, p, B)
            v, t, bad = _failures(m)
            vmin = float(np.min(v))
            tol_source = m.tol_source
            if vmin < min_margin:
                min_margin = vmin
            max_tol = max(max_tol, float(np.max(t)))
            if np.any(bad):
                n_fail += 1
                if witness is None or vmin < witness.margin:
                    witness = _confirm(claim, inst, p, prof.digits)
                if budget == "mutant":
                    break
        if budget == "mutant" and n_fail:
            break

    kind_text = {"local minimum": "local minima", "critical point": "critical points"}.get(
        claim.point_kind.value, claim.point_kind.value)
    record = CheckRecord(
        name="conclusion", kind=EvidenceKind.NUMERIC_SEARCH, passed=True, summary="",
        instances=len(instances), points=n_points, vacuous_instances=vacuous,
        precision=f"float64 at points certified at mpmath {prof.digits} digits",
        min_margin=None if n_points == 0 else min_margin,
        tolerance=max_tol if n_points else None, tolerance_source=tol_source,
        witness=witness, notes=notes)
    if kinds:
        notes.append("points found by kind: " + ", ".join(f"{k}: {v}" for k, v in kinds.items()))
    if n_fail:
        record.passed = False if witness and witness.margin < -witness.tolerance else None
        record.summary = (f"fails at {n_fail} of {n_points} certified {kind_text} "
                          f"({witness.certification if witness else ''})")
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

def _run_mutants(claim: Claim, prof: Profile, seed: int, progress: Progress) -> list[MutantResult]:
    out = []
    base = claim.corrected if claim.corrected is not None else claim
    for k, mutant in enumerate(base.mutants):
        progress(claim.id, f"mutant {mutant.name}", k, len(base.mutants))
        try:
            mutated = mutant.apply(base).replace(mutant_of=base.id, corrected=None, mutants=())
            checks = _run_checks(mutated, prof, seed + 1 + k, progress, budget="mutant")
        except ClaimError as exc:
            raise ClaimError(f"mutant {mutant.name}: {exc}") from exc
        failed = [c for c in checks if c.passed is False]
        out.append(MutantResult(
            name=mutant.name, kind=mutant.kind.value, description=mutant.description,
            caught=bool(failed), caught_by=(failed[0].summary if failed[0].summary.startswith(
                failed[0].name) else failed[0].name + ": " + failed[0].summary)
            if failed else "not caught: " + "; ".join(c.summary for c in checks),
            witness=failed[0].witness if failed else None))
    return out
