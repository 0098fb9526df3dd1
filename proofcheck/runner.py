"""Run many claims: in isolated worker processes, in parallel, largest first, with a result cache.

:func:`run_claims` is what ``proofcheck check``, ``proofcheck report`` and the pytest plugin
call. Each claim is checked by :func:`proofcheck.engine.check_claim` in a worker process:

* ``jobs`` worker processes (default: the machine's cores; never more than there are claims).
  ``jobs=1`` still runs the claims in *one* worker process, not in this one: isolation and the
  time limit are the same for every ``jobs >= 1``, and so is the JSON. ``jobs=0`` runs them in
  this process (no isolation, no time limit: for a debugger).
* A worker is told a claim's *id and module* (never sent a Claim object) and imports the module
  itself, so a module that calls ``sys.exit`` at import, a conclusion that raises
  ``SystemExit`` / ``BaseException``, hangs or kills its process takes down only that claim:
  it is reported as verdict ``error`` with the cause (``called sys.exit(0)``,
  ``timed out after 300 s``, ``worker died (signal 9)``), the worker is replaced and the run
  goes on.
* A run of at most three claims of a user's modules starts its workers light (the engine
  and those modules only, :func:`_light_preload`).
* Workers cost about a second of CPU each to start: a pool starts all ``jobs`` of them at
  once when the claims' measured durations are worth it (a previous run, the catalogue's
  ``costs.json``), else one, and the others once claims still wait a second after it began
  (:func:`_workers_at_once`).
* One BLAS thread per worker (``OPENBLAS_NUM_THREADS`` & co. set before numpy is imported in
  the worker, and :func:`threadpoolctl.threadpool_limits`).
* Largest first: a claim's cost is its duration in the previous run at the same profile (from
  the cache folder), else an estimate from its declaration (point kind, mutants, identities).
  Results are reassembled in catalogue order; every claim is checked with the run's seed, so
  the report is the same for any ``jobs`` (timings aside).
* ``scheduler="tcp://host:8786"`` runs the claims on a :mod:`dask.distributed` cluster instead
  (no isolation and no time limit there: dask cannot kill one task).
* SIGINT / SIGTERM: the workers are stopped at once and the claims finished so far are
  returned as a run marked ``partial`` (``proofcheck`` then exits with 130).

Worker messages travel as JSON (results are plain data, ``ClaimResult.to_dict()``), and so do
cache entries: a result read back from a worker, from the cache or computed in this process is
the same JSON.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
import threading
import time
from collections import Counter, deque
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .cache import ResultCache
    from .claims import Claim
    from .engine import Profile
    from .results import ClaimResult, RunResult

__all__ = ["EXIT_INTERRUPTED", "LineProgress", "RunnerError", "default_jobs", "run_claims"]

#: Exit code of a run stopped by SIGINT / SIGTERM (128 + SIGINT, the shell convention).
EXIT_INTERRUPTED = 130

#: Environment of a worker: one BLAS / OpenMP thread (set before numpy is imported there).
BLAS_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "VECLIB_MAXIMUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "1"}

#: Seconds between two progress messages of one worker (stage changes in between are dropped).
_PROGRESS_INTERVAL = 0.25

#: Seconds a worker may take from receiving a claim to starting it (imports) on top of the limit.
_START_GRACE = 120.0

Progress = Callable[[str, str, int, int], None]
OnResult = Callable[[int, "ClaimResult"], None]


class RunnerError(RuntimeError):
    """The runner itself cannot run (bad ``jobs``, unreachable scheduler, ...)."""


def default_jobs() -> int:
    """The machine's cores available to this process (the default of ``--jobs``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):       # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class _Task:
    index: int                  # position in catalogue order
    claim: Any                  # the Claim (only in this process)
    origin: str                 # module name (bundled catalogue) or file path (--path)
    cost: float                 # estimated seconds: largest first
    job: dict = field(default_factory=lambda: {"kind": "check"})   # or a necessity search
    known: bool = False         # cost measured (a previous run, costs.json, a budget)

    def error(self, prof: Profile, seed: int, cause: str, seconds: float = 0.0) -> Any:
        """The result of this task when the runner had to end it (timeout, crash)."""
        if self.job["kind"] == "necessity":
            return _necessity_error(self.claim.id, self.job["hypothesis"], cause, seconds)
        return _error_result(self.claim, prof, seed, cause, seconds)

    def decode(self, data: Mapping[str, Any]) -> Any:
        """The result object of the JSON a worker sent."""
        if self.job["kind"] == "necessity":
            return _necessity_from_dict(data)
        return _from_dict(data)


# ---------------------------------------------------------------------------------------------
# public entry point

def run_claims(claims: Sequence[Claim], *, origins: Mapping[str, str] | None = None,
               profile: str | Profile = "default", seed: int = 0, jobs: int | None = None,
               claim_timeout: float | None = None, scheduler: str | None = None,
               cache: ResultCache | None = None, progress: Progress | None = None,
               on_result: OnResult | None = None) -> RunResult:
    """Check ``claims`` (see the module docstring) and return the run in catalogue order.

    ``origins`` maps a claim id to the module that defines it (``Registry.origins``); a claim
    without one is checked in this process. ``claim_timeout`` (seconds, ``None``: the
    profile's ``claim_timeout``; ``0``: no limit). ``cache``: a
    :class:`~proofcheck.cache.ResultCache`; hits are not re-run and come back with
    ``cached_at`` set. ``progress(claim_id, stage, done, total)`` is forwarded from the
    workers; ``on_result(index, result)`` is called as each claim finishes (cached ones first).
    """
    from . import __version__
    from .engine import get_profile
    from .results import RunResult

    prof = get_profile(profile)
    if jobs is None:
        jobs = default_jobs()
    if not isinstance(jobs, int) or jobs < 0:
        raise RunnerError(f"jobs must be an integer >= 0, got {jobs!r}")
    if claim_timeout is None:
        claim_timeout = getattr(prof, "claim_timeout", None)
    timeout = float(claim_timeout) if claim_timeout else None
    origins = dict(origins or {})
    start = time.perf_counter()
    results: list[ClaimResult | None] = [None] * len(claims)

    def finish(index: int, result: ClaimResult, fresh: bool) -> None:
        results[index] = result
        if fresh and cache is not None:
            cache.store(claims[index], origins.get(claims[index].id), result, profile=prof,
                        seed=seed)
        if on_result is not None:
            on_result(index, result)

    todo: list[_Task] = []
    for i, claim in enumerate(claims):
        hit = cache.load(claim, origins.get(claim.id), profile=prof, seed=seed) if cache else None
        if hit is not None:
            finish(i, hit, fresh=False)
        else:
            cost, known = _estimate(claim, prof, cache, origins.get(claim.id, ""))
            todo.append(_Task(i, claim, origins.get(claim.id, ""), cost, known=known))
    todo.sort(key=lambda t: (-t.cost, t.index))          # largest first, stable

    interrupted = False
    if todo:
        from .pointcache import using_store

        # certified points shared by the run's claims, mutants and workers: kept with the
        # results, or (--no-cache) in a folder that lives as long as the run
        try:
            with using_store(None if cache is None else cache.directory / "points"):
                if scheduler is not None:
                    interrupted = _run_dask(todo, scheduler, prof, seed, finish)
                elif jobs == 0 or not all(t.origin for t in todo):
                    interrupted = _run_here(todo, prof, seed, progress, finish)
                else:
                    interrupted = _run_pool(todo, min(jobs, len(todo)), prof, seed, timeout,
                                            progress, finish)
        finally:
            if cache is not None:
                cache.save_timings()
    done = [r for r in results if r is not None]
    run = RunResult(done, prof.name, seed, time.perf_counter() - start, __version__)
    if interrupted:
        run.partial = True
    return run


def run_necessity(claims: Sequence[Claim], budget: Any = None, seed: int = 0, *,
                  origins: Mapping[str, str] | None = None, jobs: int | None = None,
                  claim_timeout: float | None = None, scheduler: str | None = None,
                  progress: Progress | None = None) -> Any:
    """:func:`proofcheck.search.necessity.necessity_map` on the runner: one task per (claim,
    hypothesis), in worker processes, the map in catalogue order. A search that hangs past
    ``claim_timeout`` (default: the budget's seconds plus explore's grace plus 30 s, else
    900 s: explore's own watchdog stops it at budget + grace; the limit is for what a
    signal cannot interrupt, a C call that never returns) or kills its
    worker is an ``error`` entry with the cause. Interrupted: the map of the finished
    entries, with ``partial = True`` set on it."""
    from .engine import get_profile
    from .search.explore import Budget, grace_seconds
    from .search.necessity import NecessityMap

    budget = budget if budget is not None else Budget()
    if jobs is None:
        jobs = default_jobs()
    if claim_timeout is None:
        claim_timeout = ((budget.seconds + grace_seconds(budget.seconds) + 30.0)
                         if budget.seconds else 900.0)
    prof = get_profile("default")
    origins = dict(origins or {})
    t0 = time.perf_counter()
    todo: list[_Task] = []
    bare: list[str] = []
    for claim in claims:
        if claim.conclusion is None or not claim.hypotheses:
            bare.append(claim.id)
            continue
        for h in claim.hypotheses:
            todo.append(_Task(len(todo), claim, origins.get(claim.id, ""),
                              float(budget.seconds or 10.0) * (1 + (getattr(
                                  claim.point_kind, "value", "any point") != "any point")),
                              {"kind": "necessity", "hypothesis": h.name,
                               "budget": {"instances": budget.instances,
                                          "seconds": budget.seconds}}, known=True))
    entries: list[Any] = [None] * len(todo)
    left = Counter(t.claim.id for t in todo)

    def finish(index: int, entry: Any, fresh: bool) -> None:
        entries[index] = entry
        claim_id = todo[index].claim.id
        left[claim_id] -= 1
        task_done = getattr(progress, "task_done", None)
        if task_done is not None:
            task_done(claim_id, f"without {todo[index].job['hypothesis']}: "
                      f"{getattr(entry, 'verdict', 'done')}", last=left[claim_id] == 0)

    order = sorted(todo, key=lambda t: (-t.cost, t.index))
    interrupted = False
    if order:
        if scheduler is not None:
            interrupted = _run_dask(order, scheduler, prof, seed, finish)
        elif jobs == 0 or not all(t.origin for t in order):
            interrupted = _run_here(order, prof, seed, progress, finish)
        else:
            interrupted = _run_pool(order, min(jobs, len(order)), prof, seed,
                                    float(claim_timeout) if claim_timeout else None,
                                    progress, finish)
    nmap = NecessityMap([e for e in entries if e is not None],
                        {"instances": budget.instances, "seconds": budget.seconds}, seed,
                        time.perf_counter() - t0, bare)
    nmap.partial = interrupted          # type: ignore[attr-defined]
    return nmap


def _estimate(claim: Claim, prof: Profile, cache: ResultCache | None,
              origin: str = "") -> tuple[float, bool]:
    """Expected seconds of a claim, and whether they were measured: its last duration at
    this profile, else the cost its catalogue records (:func:`catalogue_costs`), else (not
    measured) a rough guess from what it declares (points to find and certify cost most,
    then mutants and identities)."""
    if cache is not None:
        last = cache.last_seconds(claim.id, prof.name)
        if last is not None:
            return last, True
    recorded = catalogue_costs(origin, prof.name).get(claim.id)
    if recorded is not None:
        return recorded, True
    cost = 1.0 + 0.5 * len(claim.identities) + 0.3 * len(claim.mutants)
    if getattr(claim.point_kind, "value", "any point") != "any point":
        cost += 10.0
    if claim.corrected is not None:
        cost *= 2
    return cost, False


# ---------------------------------------------------------------------------------------------
# results that the runner itself makes (the claim could not report)

def _error_result(claim: Claim, prof: Profile, seed: int, cause: str,
                  seconds: float = 0.0) -> ClaimResult:
    from .results import ClaimResult, Verdict

    return ClaimResult(claim_id=claim.id, title=claim.title, source=str(claim.source),
                       verdict=Verdict.ERROR, statement=claim.statement,
                       point_kind=claim.point_kind.value, seed=seed, profile=prof.name,
                       erratum=claim.erratum, error=f"{claim.id}: {cause}", seconds=seconds)


def _from_dict(data: Mapping[str, Any]) -> ClaimResult:
    from .results import ClaimResult

    return ClaimResult.from_dict(data)


def describe_base_exception(exc: BaseException) -> str:
    """The cause of a claim that escaped the engine, in words.

    >>> describe_base_exception(SystemExit(0))
    'called sys.exit(0)'
    >>> describe_base_exception(KeyboardInterrupt())
    'raised KeyboardInterrupt'
    """
    if isinstance(exc, SystemExit):
        return f"called sys.exit({exc.code!r})"
    text = str(exc)
    return f"raised {type(exc).__name__}" + (f": {text}" if text else "")


_COSTS: dict[tuple[str, str], dict[str, float]] = {}


def catalogue_costs(origin: str, profile: str) -> dict[str, float]:
    """Recorded seconds per claim id from a ``costs.json`` in the package of ``origin`` or a
    package above it (the bundled catalogue ships one: a cold run, with no timings in the
    cache yet, still starts its longest claims first). ``{profile: {claim id: seconds}}``;
    a profile without its own figures uses ``default``'s (the order is what matters). Only
    packages already imported are looked at; a missing or broken file is no figures."""
    parts = origin.split(".") if origin and not origin.endswith(".py") else []
    for k in range(len(parts) - 1, 0, -1):
        package = ".".join(parts[:k])
        if (package, profile) in _COSTS:
            return _COSTS[(package, profile)]
        mod = sys.modules.get(package)
        for folder in getattr(mod, "__path__", None) or ():
            path = os.path.join(folder, "costs.json")
            if os.path.isfile(path):
                try:
                    with open(path, encoding="utf-8") as fh:
                        data = json.load(fh)
                    figures = data.get(profile) or data.get("default") or {}
                    found = {str(c): float(v) for c, v in figures.items()}
                except (OSError, ValueError, AttributeError, TypeError):
                    found = {}
                _COSTS[(package, profile)] = found
                return found
    return {}


# ---------------------------------------------------------------------------------------------
# loading a claim by id (in a worker, or on a dask worker)

_MODULE_CLAIMS: dict[str, dict[str, Any]] = {}


def load_claim(origin: str, claim_id: str) -> Claim:
    """The claim ``claim_id`` of the module ``origin`` (a module name of the bundled catalogue
    or the path of a user's file), imported as the catalogue imports it."""
    try:
        return _module_claims(origin)[claim_id]
    except KeyError:
        raise RunnerError(f"module {origin} no longer defines the claim {claim_id}") from None


def _module_claims(origin: str) -> dict[str, Claim]:
    """The claims of the module ``origin`` by id, imported once per process."""
    if origin not in _MODULE_CLAIMS:
        from .claims import claims_in

        if origin.endswith(".py"):
            from .catalog import load_claims

            reg = load_claims([origin])
            if reg.errors:
                raise RunnerError(f"could not load {origin}: {reg.errors[0][1]}")
            found = reg.claims
        else:
            import importlib

            from . import papers  # noqa: F401  (registers the catalogue in a source tree)

            found = claims_in(vars(importlib.import_module(origin)))
        _MODULE_CLAIMS[origin] = {c.id: c for c in found}
    return _MODULE_CLAIMS[origin]


_PINNED: dict[str, Any] = {}
_GRAPH: Any = None


@contextmanager
def pinned_hypothesis_constants(origin: str | None) -> Iterator[None]:
    """Hypothesis mixes constants found in the source of every *local* module loaded in the
    process (``sys.modules``) into its draws, so a claim's instances would depend on which
    claims ran before it in the same process, and on ``--jobs``. While a claim runs, pin
    them to the constants of the claim's own module closure and the engine's (the files of
    its cache key, :func:`proofcheck.cache.module_closure`): the same for any order. Read
    from source with Hypothesis' own parser; nothing is written to ``.hypothesis/``."""
    try:
        from hypothesis.internal import constants_ast
        from hypothesis.internal.conjecture import providers
        from_source = constants_ast._constants_from_source
        original = providers._get_local_constants
    except (ImportError, AttributeError):      # pragma: no cover - another hypothesis
        yield
        return
    from .keys import ImportGraph, module_closure

    pinned = _PINNED.get(origin or "")
    if pinned is None:
        global _GRAPH
        graph = _GRAPH = _GRAPH or ImportGraph()      # files' imports, read once
        files = set(module_closure("proofcheck.engine", graph))
        if origin:
            try:
                files |= set(module_closure(origin, graph))
            except (LookupError, OSError):
                pass
        pinned = constants_ast.Constants()
        for f in sorted(files):
            try:
                pinned |= _source_constants(f.read_bytes(), from_source, constants_ast)
            except Exception:      # noqa: BLE001 - too many constants, unreadable: none
                continue
        _PINNED[origin or ""] = pinned
    providers._get_local_constants = lambda: pinned
    providers.CONSTANTS_CACHE.cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = original
        providers.CONSTANTS_CACHE.cache.clear()


def claim_seed(seed: int, claim_id: str) -> int:
    """The seed of the process-global generators while ``claim_id`` runs: derived from the
    run's seed and the claim's id, never from the order of the claims.

    >>> claim_seed(0, "a.b") == claim_seed(0, "a.b") != claim_seed(1, "a.b")
    True
    """
    import hashlib

    digest = hashlib.sha256(f"{int(seed)}:{claim_id}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


@contextmanager
def claim_globals(seed: int, claim_id: str) -> Iterator[None]:
    """While a claim runs: Python's and numpy's global random generators seeded by
    :func:`claim_seed` (a claim that draws from them is reproducible), and afterwards the
    state a claim may change without meaning to restored: those generators, mpmath's
    working precision and numpy's floating-point error handling. In a worker each claim runs
    in a fresh fork anyway (:func:`_in_fork`); this also covers ``jobs=0`` and dask.

    >>> import mpmath
    >>> with claim_globals(0, "a.b"):
    ...     mpmath.mp.dps = 60
    >>> mpmath.mp.dps
    15
    """
    import random

    import numpy as np

    mp = sys.modules.get("mpmath")
    saved = (random.getstate(), np.random.get_state(), np.geterr(),
             None if mp is None else mp.mp.prec)
    random.seed(claim_seed(seed, claim_id))
    np.random.seed(claim_seed(seed, claim_id))
    try:
        yield
    finally:
        random.setstate(saved[0])
        np.random.set_state(saved[1])
        np.seterr(**saved[2])
        mp = sys.modules.get("mpmath")
        if mp is not None:
            mp.mp.prec = saved[3] if saved[3] is not None else 53


def _source_constants(data: bytes, from_source: Any, constants_ast: Any) -> Any:
    """Hypothesis' constants of one source (its own parser), memoised by content on disk
    (:func:`proofcheck.cache.source_facts`: JSON, bytes as hex) so that a new process does
    not parse every unchanged module of a claim's closure again."""
    import hypothesis

    from .keys import source_facts

    def compute(b: bytes) -> dict[str, list[Any]]:
        c = from_source(b, limit=True)
        return {"integers": sorted(c.integers), "floats": sorted(c.floats, key=repr),
                "bytes": sorted(x.hex() for x in c.bytes), "strings": sorted(c.strings)}

    facts = source_facts("hypothesis-constants", data, compute,
                         version=hypothesis.__version__)
    return constants_ast.Constants(
        integers=set(facts["integers"]), floats={float(x) for x in facts["floats"]},
        bytes={bytes.fromhex(x) for x in facts["bytes"]}, strings=set(facts["strings"]))


def _check_one(origin: str, claim_id: str, prof: Profile, seed: int,
               progress: Progress | None, job: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Load and check one claim (or run its ``job``); whatever escapes (even ``SystemExit``)
    becomes an error result."""
    t0 = time.perf_counter()
    job = job or {"kind": "check"}
    with pinned_hypothesis_constants(origin), claim_globals(seed, claim_id):
        if job["kind"] == "necessity":
            return _load_and_search(origin, claim_id, job, seed, progress, t0)
        return _load_and_check(origin, claim_id, prof, seed, progress, t0)


def _load_and_search(origin: str, claim_id: str, job: Mapping[str, Any], seed: int,
                     progress: Progress | None, t0: float) -> dict[str, Any]:
    from .search.explore import Budget
    from .search.necessity import necessity

    try:
        claim = load_claim(origin, claim_id)
        budget = Budget(**job["budget"])
        return necessity(claim, job["hypothesis"], budget=budget, seed=seed,
                         progress=progress).to_dict()
    except BaseException as exc:        # noqa: B036 - SystemExit from a conclusion
        cause = (describe_base_exception(exc) if not isinstance(exc, Exception)
                 else f"{type(exc).__name__}: {exc}")
        return _necessity_error(claim_id, job["hypothesis"], cause,
                                time.perf_counter() - t0).to_dict()


def _necessity_error(claim_id: str, hypothesis: str, cause: str, seconds: float) -> Any:
    from .search.necessity import NecessityEntry

    return NecessityEntry(claim_id, hypothesis, "error", summary=cause,
                          spent={"instances": 0, "seconds": round(seconds, 1)})


def _necessity_from_dict(d: Mapping[str, Any]) -> Any:
    from .search.necessity import NecessityEntry

    return NecessityEntry(claim_id=d["claim"], hypothesis=d["hypothesis"], verdict=d["verdict"],
                          statement=d.get("statement") or "",
                          point_kind=d.get("point_kind") or "any point",
                          budget=d.get("budget") or {}, spent=d.get("spent") or {},
                          witness=d.get("witness"), certificate=d.get("certificate"),
                          summary=d.get("summary") or "")


def _load_and_check(origin: str, claim_id: str, prof: Profile, seed: int,
                    progress: Progress | None, t0: float) -> dict[str, Any]:
    from .engine import check_claim

    try:
        claim = load_claim(origin, claim_id)
    except BaseException as exc:        # noqa: B036 - a module may call sys.exit at import
        from .results import ClaimResult, Verdict

        cause = (describe_base_exception(exc) if not isinstance(exc, Exception)
                 else f"{type(exc).__name__}: {exc}")
        return ClaimResult(claim_id=claim_id, title="", source="", verdict=Verdict.ERROR,
                           error=f"{claim_id}: could not load {origin}: {cause}", seed=seed,
                           profile=prof.name, seconds=time.perf_counter() - t0).to_dict()
    try:
        return check_claim(claim, profile=prof, seed=seed, progress=progress).to_dict()
    except BaseException as exc:        # noqa: B036 - SystemExit from a conclusion
        return _error_result(claim, prof, seed, describe_base_exception(exc),
                             time.perf_counter() - t0).to_dict()


# ---------------------------------------------------------------------------------------------
# in this process (jobs=0, or claims without a module to re-load them from)

def _run_here(todo: list[_Task], prof: Profile, seed: int, progress: Progress | None,
              finish: Callable[[int, ClaimResult, bool], None]) -> bool:
    from .engine import check_claim

    with _one_blas_thread(), _terminate_raises_interrupt():
        for t in todo:
            result: Any
            try:
                with pinned_hypothesis_constants(t.origin), claim_globals(seed, t.claim.id):
                    if t.job["kind"] == "necessity":
                        from .search.explore import Budget
                        from .search.necessity import necessity

                        result = necessity(t.claim, t.job["hypothesis"],
                                           budget=Budget(**t.job["budget"]), seed=seed,
                                           progress=progress)
                    else:
                        result = check_claim(t.claim, profile=prof, seed=seed,
                                             progress=progress)
            except KeyboardInterrupt:
                return True
            except BaseException as exc:   # noqa: B036 - SystemExit from a conclusion
                result = t.error(prof, seed, describe_base_exception(exc))
            finish(t.index, t.decode(result.to_dict()), True)
    return False


def _one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:            # pragma: no cover - threadpoolctl is a dependency
        return nullcontext()
    return threadpool_limits(1)


@contextmanager
def _terminate_raises_interrupt() -> Iterator[None]:
    """SIGTERM behaves like Ctrl-C (KeyboardInterrupt) while running in this process."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_interrupt(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


# ---------------------------------------------------------------------------------------------
# worker processes: one pipe each, killed and replaced when a claim hangs or kills it

_WORKER_CODE = ("import sys; from proofcheck.runner import _worker_entry; "
                "_worker_entry(int(sys.argv[1]))")


def _worker_entry(fd: int) -> None:
    """A worker process (``python -c ... FD``): check the claims it is sent over the socket
    ``FD``, one at a time, until told to stop. Messages are JSON both ways."""
    from multiprocessing.connection import Connection

    signal.signal(signal.SIGINT, signal.SIG_IGN)      # the parent handles Ctrl-C
    os.dup2(2, 1)                 # a claim that prints must not corrupt the report on stdout
    conn = Connection(fd)
    parent = os.getppid()

    def orphaned() -> None:       # the parent was killed (SIGKILL, CI timeout): stop too,
        while os.getppid() == parent:      # even in the middle of a hung claim
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=orphaned, daemon=True, name="proofcheck-orphan-watch").start()

    def send(msg: list) -> None:
        conn.send_bytes(json.dumps(msg).encode())

    with _one_blas_thread():
        from .engine import Profile

        init = json.loads(conn.recv_bytes())
        prof, seed = Profile(**init[1]), int(init[2])
        _preload(init[3] if len(init) > 3 else (), light=bool(init[4]) if len(init) > 4 else False)
        # the preloaded objects never die: kept out of the collector, so the forks' collections
        # do not write to (and copy) every page of the worker's heap
        gc.collect()
        gc.freeze()
        send(["ready"])
        while True:
            try:
                msg = json.loads(conn.recv_bytes())
            except (EOFError, OSError):
                return
            if msg[0] == "stop":
                return
            _, index, origin, claim_id, job = msg
            send(["start", index])

            def run(index=index, origin=origin, claim_id=claim_id, job=job) -> None:
                send(["result", index, _check_one(origin, claim_id, prof, seed,
                                                  _Throttled(send, index), job)])

            if not hasattr(os, "fork"):         # pragma: no cover - not POSIX
                run()
                continue
            cause = _in_fork(run)
            if cause is not None:
                send(["died", index, cause])


#: What a worker imports before its first claim: every claim is checked in a fork of the
#: worker as it is then (:func:`_in_fork`), so these are loaded once per worker, not per claim.
_PRELOAD = ("numpy", "scipy.linalg", "scipy.optimize", "scipy.special", "mpmath", "sympy",
            "hypothesis", "proofcheck.engine", "proofcheck.evaluate", "proofcheck.papers",
            "proofcheck.optimize.critical", "proofcheck.optimize.local_min",
            "proofcheck.optimize.piecewise", "proofcheck.symmetry", "proofcheck.pointcache")


#: Engine modules a claim never needs (the command line, reports, plotting, sweeps).
_NOT_PRELOADED = ("cli", "docgen", "figures", "pytest_plugin", "report", "report_html",
                  "sweeps")


#: A run of at most this many claims, none of them from the bundled catalogue, starts its
#: workers light (:func:`_preload`).
LIGHT_PRELOAD_MAX_CLAIMS = 3


def _light_preload(origins: Sequence[str], tasks: int) -> bool:
    """Whether a run's workers load only the engine and the run's own modules: a run of a
    few claims of a user's modules, where loading every library and engine module up front
    (about a second of CPU) costs more than each claim importing what it uses. A catalogue
    claim always gets the full preload, so that it starts from the same state alone and in a
    full run (:func:`_preloaded_origins`).

    >>> _light_preload(["my_claims/lemma.py"], 1), _light_preload(["my_claims/lemma.py"], 9)
    (True, False)
    >>> _light_preload(["proofcheck.catalogue.mine.lemma1"], 1)
    False
    """
    return tasks <= LIGHT_PRELOAD_MAX_CLAIMS and not any(map(_in_catalogue, origins))


def _in_catalogue(origin: str) -> bool:
    """Whether a claim's module is one of the bundled catalogue's."""
    from .papers import CATALOGUE_PACKAGE

    return origin.startswith(CATALOGUE_PACKAGE + ".")


def _preload(origins: Sequence[str] = (), *, light: bool = False) -> None:
    """What every claim's forked process inherits instead of computing it again: the
    libraries of :data:`_PRELOAD`, the engine's own modules, the engine's Hypothesis
    constants, the source digests and library versions of the point store's keys, and the
    modules of the run's claims (``origins``, in sorted order). The same for every worker of
    a run (what is loaded depends on the run's set of claims, never on which ran before).
    ``light`` (:func:`_light_preload`): the engine and the run's modules only."""
    import importlib
    import pkgutil

    import proofcheck

    if light:
        importlib.import_module("proofcheck.engine")
        for origin in sorted(set(origins)):
            try:
                _module_claims(origin)
            except Exception:       # noqa: BLE001 - the claim's fork reports it
                continue
        return
    names = list(_PRELOAD) + sorted(
        m.name for m in pkgutil.walk_packages(proofcheck.__path__, "proofcheck.")
        if m.name.split(".")[1] not in _NOT_PRELOADED)
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:       # noqa: BLE001 - an optional library: the claim imports it
            continue
    with pinned_hypothesis_constants(None):
        pass
    for origin in _preloaded_origins(origins):
        try:
            _module_claims(origin)
        except Exception:       # noqa: BLE001 - the claim's fork reports it
            continue
    try:
        from .pointcache import _cached_versions, _sources

        _cached_versions()
        for finder in ("critical", "local_min", "piecewise", "strata"):
            _sources((f"proofcheck.optimize.{finder}",))
    except Exception:           # noqa: BLE001 - computed by the claim that needs it
        pass


def _preloaded_origins(origins: Sequence[str]) -> list[str]:
    """The claim modules a worker loads before its first claim: the run's own, and when one
    of them is in the bundled catalogue, every catalogue module, so that a catalogue claim's
    fork starts from the same worker state whether it runs alone or with the whole catalogue
    (its cached result is then the result a full run computes)."""
    import pkgutil

    from .papers import CATALOGUE_PACKAGE

    names = set(origins)
    if any(map(_in_catalogue, names)):
        try:
            import importlib

            pkg = importlib.import_module(CATALOGUE_PACKAGE)
            names |= {m.name for m in pkgutil.walk_packages(pkg.__path__, CATALOGUE_PACKAGE + ".")
                      if not m.ispkg}
        except Exception:       # noqa: BLE001 - each claim's fork loads its own module
            pass
    return sorted(names)


def _in_fork(body: Callable[[], None]) -> str | None:
    """Run ``body`` (check one claim and send its result) in a child process forked from
    this worker, and wait for it; None when it completed, else why it did not (the words of
    :func:`_death_cause`).

    Each claim thus starts from the same state of the worker, whatever ran in it before: the
    process-global state a claim may change (module caches, mpmath's precision, numpy's
    global generator, z3's context, the heap's layout, which decides the alignment of arrays
    and with it the last bits of some BLAS / MINPACK results) cannot reach the next claim, so
    each claim's result is the same for any ``--jobs`` and any order. The child dies with the
    worker (``PR_SET_PDEATHSIG`` on Linux, else a watcher thread), so killing the worker on a
    time limit kills the claim."""
    done_r, done_w = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:                                    # the child: one claim, then exit
        os.close(done_r)
        code = 1
        try:
            _die_with(parent)
            body()
            os.write(done_w, b"1")
            code = 0
        finally:
            os._exit(code)
    os.close(done_w)
    try:
        _, status = os.waitpid(pid, 0)
        completed = os.read(done_r, 1) == b"1"
    finally:
        os.close(done_r)
    if completed:
        return None
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        return f"worker died (signal {sig}, {name})"
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
    return f"worker died (exit code {code}): the claim ended its process (os._exit?)"


def _die_with(parent: int) -> None:
    """Make this (forked) process end when ``parent`` does."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)            # PR_SET_PDEATHSIG
    except (OSError, AttributeError):        # pragma: no cover - not Linux
        pass
    if os.getppid() != parent:               # it died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="proofcheck-claim-watch").start()


class _Throttled:
    """A worker's progress hook: at most one message per ``_PROGRESS_INTERVAL``."""

    def __init__(self, send: Callable[[list], None], index: int) -> None:
        self.send, self.index, self.last = send, index, 0.0

    def __call__(self, claim_id: str, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last >= _PROGRESS_INTERVAL:
            self.last = now
            self.send(["progress", self.index, claim_id, stage, done, total])


@dataclass
class _Worker:
    process: Any                # subprocess.Popen
    conn: Any                   # multiprocessing.connection.Connection over a socket
    task: _Task | None = None
    sent_at: float = 0.0
    started_at: float | None = None
    alive: bool = True
    spawned_at: float = field(default_factory=time.monotonic)
    busy: float = 0.0           # seconds with a task, summed
    claims: int = 0             # tasks finished (or ended by the runner)
    last_done: float | None = None

    def done(self) -> None:
        """Account for the end of the current task (its result came, or it was ended)."""
        now = time.monotonic()
        self.busy += now - self.sent_at
        self.claims += 1
        self.last_done = now

    def deadline(self, timeout: float | None) -> float | None:
        if self.task is None or timeout is None:
            return None
        if self.started_at is None:
            return self.sent_at + timeout + _START_GRACE
        return self.started_at + timeout

    def kill(self) -> None:
        self.alive = False
        try:
            self.process.kill()
            self.process.wait(2)
        except (OSError, ValueError):   # pragma: no cover - already gone
            pass
        self.conn.close()


def _spawn(prof: Profile, seed: int, origins: Sequence[str] = (),
           light: bool = False) -> _Worker:
    """A fresh worker process: ``sys.executable`` with this process's ``sys.path``, one BLAS
    thread, and a socket of its own (the claim's stdout goes to stderr); it loads the modules
    ``origins`` of the run's claims once, before its first claim (only the engine and them
    when ``light``)."""
    import dataclasses
    import socket
    import subprocess
    from multiprocessing.connection import Connection

    ours, theirs = socket.socketpair()
    env = dict(os.environ, **BLAS_ENV)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    # every worker the same as every other (dict and set layouts, hence the allocations of
    # its start-up, from which each claim's fork starts), unless the user fixed one
    env.setdefault("PYTHONHASHSEED", "0")
    proc = subprocess.Popen([sys.executable, "-c", _WORKER_CODE, str(theirs.fileno())],
                            pass_fds=[theirs.fileno()], env=env, stdin=subprocess.DEVNULL,
                            start_new_session=False)
    theirs.close()
    conn = Connection(ours.detach())
    conn.send_bytes(json.dumps(["init", dataclasses.asdict(prof), seed,
                                sorted(set(origins)), bool(light)]).encode())
    return _Worker(proc, conn)


def _death_cause(proc) -> str:
    try:
        code = proc.wait(2)
    except Exception:               # pragma: no cover - still running after EOF
        code = None
    if code is None:
        return "worker died (no exit code)"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        return f"worker died (signal {-code}, {name})"
    return f"worker died (exit code {code}): the claim ended its process (os._exit?)"


class _Interrupt:
    """Turns SIGINT / SIGTERM into a flag that the runner's loop polls (main thread only)."""

    def __init__(self) -> None:
        self.flag = False
        self._old: dict[int, Any] = {}

    def __enter__(self) -> _Interrupt:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._set)
        return self

    def _set(self, signum, frame) -> None:
        self.flag = True

    def __exit__(self, *exc) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


#: CPU seconds a worker costs to start (an interpreter importing the engine, its libraries
#: and the run's claim modules), about 1-1.5 s on a 2-core machine.
WORKER_START_SECONDS = 1.5

#: Without measured durations, the workers after the first start once the first has been
#: checking claims for this many seconds with claims still waiting.
SPREAD_AFTER_SECONDS = 1.0


def _workers_at_once(todo: Sequence[_Task], n: int) -> int:
    """How many of the pool's ``n`` workers start at once: all of them when the measured
    durations of the tasks (:attr:`_Task.known`: a previous run, the catalogue's costs.json,
    a search budget) outweigh starting them, else one; the others start later when claims
    wait (:data:`SPREAD_AFTER_SECONDS`). A run of a few quick claims thus starts one worker
    instead of ``--jobs``; which worker checks a claim never changes its result.

    >>> quick = [_Task(i, None, "m", 0.2, known=True) for i in range(3)]
    >>> _workers_at_once(quick, 2), _workers_at_once(quick * 10, 2)
    (1, 2)
    """
    measured = sum(t.cost for t in todo if t.known)
    return n if measured >= n * WORKER_START_SECONDS else 1


def _run_pool(todo: list[_Task], n: int, prof: Profile, seed: int, timeout: float | None,
              progress: Progress | None,
              finish: Callable[[int, ClaimResult, bool], None]) -> bool:
    from multiprocessing.connection import wait

    pending = deque(todo)
    origins = sorted({t.origin for t in todo})
    workers: list[_Worker] = []
    every: list[_Worker] = []           # replaced ones too: for the busy / idle summary
    t0 = time.monotonic()
    started = _workers_at_once(todo, n)    # workers the pool may have now
    light = _light_preload(origins, len(todo))
    first_start: float | None = None    # when a worker first began a claim
    with _Interrupt() as interrupt:
        try:
            while pending or any(w.task for w in workers):
                if interrupt.flag:
                    return True
                if first_start is None:
                    began = [w.started_at for w in every if w.started_at is not None]
                    first_start = min(began) if began else None
                if started < n and first_start is not None \
                        and time.monotonic() - first_start >= SPREAD_AFTER_SECONDS:
                    started = n         # claims still wait: start the other workers
                # hand out work; replace dead workers only while there is work left
                workers = [w for w in workers if w.alive]
                idle = [w for w in workers if w.task is None]
                while pending and (idle or len(workers) < started):
                    w = idle.pop() if idle else _spawn(prof, seed, origins, light)
                    if w not in workers:
                        workers.append(w)
                        every.append(w)
                    t = _next_task(pending, {_panel(b.task.claim) for b in workers if b.task})
                    w.task, w.sent_at, w.started_at = t, time.monotonic(), None
                    try:
                        w.conn.send_bytes(json.dumps(["run", t.index, t.origin, t.claim.id,
                                                      t.job]).encode())
                    except OSError:
                        pass                # found dead below
                deadlines = [d for w in workers if (d := w.deadline(timeout)) is not None]
                wait_for = 0.2
                if deadlines:
                    wait_for = max(0.0, min(wait_for, min(deadlines) - time.monotonic()))
                ready = wait([w.conn for w in workers], timeout=wait_for)
                for w in list(workers):
                    if w.conn in ready:
                        _drain(w, progress, finish, prof, seed)
                now = time.monotonic()
                for w in workers:
                    d = w.deadline(timeout)
                    if w.alive and d is not None and now >= d and w.task is not None:
                        late, limit = w.task, float(timeout or 0.0)
                        w.done()
                        w.kill()
                        w.task = None
                        what = (f"timed out after {limit:g} s" if w.started_at is not None
                                else f"did not start within {limit + _START_GRACE:g} s")
                        finish(late.index, late.error(prof, seed, what, now - w.sent_at), False)
        finally:
            _shutdown(workers)
            _write_worker_stats(every, t0, time.monotonic())
    return False


#: Set to a file name, the pool writes its workers' busy / idle seconds there (JSON) when it
#: ends: ``bench/bench_check.py`` prints them.
STATS_ENV = "PROOFCHECK_WORKER_STATS"


def worker_stats(workers: Sequence[Any], t0: float, t1: float) -> list[dict[str, Any]]:
    """Per worker process of a pool that ran from ``t0`` to ``t1`` (monotonic seconds): the
    tasks it finished, its busy seconds, its idle seconds while alive, and ``tail``: the
    seconds from its last result to the end of the pool (idle at the end, when the other
    workers still had their last claims to finish).

    >>> from types import SimpleNamespace as W
    >>> worker_stats([W(spawned_at=0.0, busy=8.0, claims=3, last_done=8.5, alive=False)],
    ...              0.0, 10.0)
    [{'claims': 3, 'busy': 8.0, 'idle': 2.0, 'tail': 1.5}]
    """
    out = []
    for w in workers:
        life = max(0.0, t1 - w.spawned_at)
        end = w.last_done if w.last_done is not None else t1
        out.append({"claims": w.claims, "busy": round(w.busy, 3),
                    "idle": round(max(0.0, life - w.busy), 3),
                    "tail": round(max(0.0, t1 - end), 3)})
    return out


def _write_worker_stats(workers: Sequence[_Worker], t0: float, t1: float) -> None:
    path = os.environ.get(STATS_ENV)
    if not path:
        return
    from .keys import atomic_write

    try:
        atomic_write(Path(path), json.dumps({"seconds": round(t1 - t0, 3),
                                             "workers": worker_stats(workers, t0, t1)}))
    except OSError:
        pass


def _panel(claim: Any) -> tuple[str, str] | None:
    """What a claim searches: its landscape and instances (by qualified name); claims with
    the same panel find the same certified points and exact certificates
    (:mod:`proofcheck.pointcache`)."""
    def name(f: Any) -> str:
        return f"{getattr(f, '__module__', '?')}.{getattr(f, '__qualname__', repr(f))}"
    if claim.instances is None:
        return None
    return name(claim.landscape), name(claim.instances)


def _next_task(pending: deque[_Task], running: set[Any]) -> _Task:
    """The first (largest) pending task whose panel no running claim searches: a claim that
    would find the same points as a running one waits for it and then reads them from the
    point store, instead of idling on the store's lock while the other worker computes."""
    for k, t in enumerate(pending):
        p = _panel(t.claim)
        if p is None or p not in running:
            del pending[k]
            return t
    return pending.popleft()


def _drain(w: _Worker, progress: Progress | None, finish, prof: Profile, seed: int) -> None:
    """Read every message a worker has sent."""
    while w.alive:
        try:
            if not w.conn.poll():
                return
            msg = json.loads(w.conn.recv_bytes())
        except (EOFError, OSError):
            _died(w, finish, prof, seed, _death_cause(w.process))
            return
        kind = msg[0]
        if kind == "start":
            w.started_at = time.monotonic()
        elif kind == "progress" and progress is not None and w.task is not None:
            progress(*msg[2:])
        elif kind == "result" and w.task is not None and msg[1] == w.task.index:
            t, w.task = w.task, None
            w.done()
            finish(t.index, t.decode(msg[2]), True)
        elif kind == "died" and w.task is not None and msg[1] == w.task.index:
            # the claim ended the process it ran in (a fork of the worker): the worker lives
            t, w.task = w.task, None
            w.done()
            finish(t.index, t.error(prof, seed, msg[2], time.monotonic() - w.sent_at), False)


def _died(w: _Worker, finish, prof: Profile, seed: int, cause: str) -> None:
    t = w.task
    if t is not None:
        w.done()
    w.kill()
    w.task = None
    if t is not None:
        finish(t.index, t.error(prof, seed, cause, time.monotonic() - w.sent_at), False)


def _shutdown(workers: list[_Worker]) -> None:
    """Stop every worker within about a second: ask idle ones, kill busy ones."""
    for w in workers:
        if not w.alive:
            continue
        if w.task is None:
            try:
                w.conn.send_bytes(json.dumps(["stop"]).encode())
            except OSError:
                pass
        else:
            w.process.kill()
    t_end = time.monotonic() + 1.0
    for w in workers:
        if w.alive:
            try:
                w.process.wait(max(0.01, t_end - time.monotonic()))
            except Exception:
                w.process.kill()
                w.process.wait(1)
            w.conn.close()
            w.alive = False


# ---------------------------------------------------------------------------------------------
# dask.distributed

def _dask_task(origin: str, claim_id: str, prof: Profile, seed: int,
               job: dict[str, Any]) -> dict[str, Any]:
    with _one_blas_thread():
        return _check_one(origin, claim_id, prof, seed, None, job)


def _run_dask(todo: list[_Task], address: str, prof: Profile, seed: int, finish) -> bool:
    try:
        from dask.distributed import Client
    except ImportError as exc:
        raise RunnerError("--scheduler needs dask.distributed: "
                          "pip install 'proofcheck[dask]'") from exc
    if not all(t.origin for t in todo):
        raise RunnerError("--scheduler needs claims defined in modules (a catalogue or --path)")
    try:
        client = Client(address, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise RunnerError(f"cannot reach the dask scheduler at {address!r}: {exc}") from exc
    try:
        futs = [client.submit(_dask_task, t.origin, t.claim.id, prof, seed, t.job, pure=False,
                              key=f"proofcheck-{t.claim.id}-{time.time_ns()}") for t in todo]
        waiting = dict(zip(futs, todo))
        with _Interrupt() as interrupt:
            while waiting:                      # poll: Ctrl-C is noticed within 0.2 s
                if interrupt.flag:
                    client.cancel(list(waiting))
                    return True
                done = [f for f in waiting if f.done()]
                if not done:
                    time.sleep(0.2)
                for fut in done:
                    t = waiting.pop(fut)
                    try:
                        finish(t.index, t.decode(fut.result()), True)
                    except Exception as exc:   # a dask-level failure (worker lost, ...)
                        finish(t.index, t.error(prof, seed, f"dask task failed: {exc!r}"),
                               False)
    finally:
        client.close()
    return interrupt.flag


# ---------------------------------------------------------------------------------------------
# progress for people: rich on a terminal, plain lines in logs

@dataclass
class LineProgress:
    """Plain progress lines on a non-terminal stream (CI logs, ``2> file``)::

        [27/128] doe2020.theorem2 verified (12.3 s)

    one line per finished claim (cached ones say so), and a ``still running`` line at most
    every ``heartbeat`` seconds while a long claim keeps the count still.
    """

    total: int
    stream: Any = None
    heartbeat: float = 60.0
    done: int = 0
    _last: float = field(default_factory=time.monotonic)
    _current: dict[str, tuple[float, float]] = field(default_factory=dict)

    def _write(self, text: str) -> None:
        stream = self.stream if self.stream is not None else sys.stderr
        print(text, file=stream, flush=True)

    def __call__(self, claim_id: str, stage: str, done: int, total: int) -> None:
        """The engine's progress hook: only used for the heartbeat."""
        now = time.monotonic()
        first = self._current.get(claim_id, (now, now))[0]
        self._current[claim_id] = (first, now)
        if now - self._last >= self.heartbeat:
            self._last = now
            running = ", ".join(f"{c} ({now - t0:.0f} s)" for c, (t0, seen)
                                in self._current.items() if now - seen <= 2 * self.heartbeat)
            if running:
                self._write(f"[{self.done}/{self.total}] still running: {running}")

    def task_done(self, claim_id: str, text: str, *, last: bool) -> None:
        """One finished task of a claim that is not its check (e.g. the search without one of
        its hypotheses): its line; the claim counts as done with its ``last`` task and leaves
        the ``still running`` line."""
        if last:
            self.done += 1
            self._current.pop(claim_id, None)
        self._last = time.monotonic()
        self._write(f"[{self.done}/{self.total}] {claim_id} {text}")

    def result(self, result: ClaimResult) -> None:
        self.done += 1
        self._last = time.monotonic()
        self._current.pop(result.claim_id, None)
        if getattr(result, "cached_at", None):
            from .cache import describe_age

            how = f"cached, {describe_age(result.cached_at)}"
        else:
            how = f"{result.seconds:.1f} s"
        self._write(f"[{self.done}/{self.total}] {result.claim_id} {result.verdict.value} "
                    f"({how})")


class RunProgress:
    """The progress display of a run: a rich bar when ``stream`` is a terminal, else
    :class:`LineProgress` lines; nothing when disabled. Use as a context manager; pass the
    instance as ``progress`` and its :meth:`result` as ``on_result`` of :func:`run_claims`."""

    def __init__(self, claims: Sequence[Claim], enabled: bool = True, stream: Any = None):
        self.claims = list(claims)
        self.enabled = enabled and bool(self.claims)
        self.stream = stream if stream is not None else sys.stderr
        self.terminal = bool(getattr(self.stream, "isatty", lambda: False)())
        self._lines = LineProgress(len(self.claims), self.stream)
        self._bar: Any = None
        self._finished = 0

    def __enter__(self) -> RunProgress:
        if self.enabled and self.terminal:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                       TimeElapsedColumn)

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(),
                                 console=Console(file=self.stream), transient=True)
            self._bar.__enter__()
            self._claims = self._bar.add_task("claims", total=len(self.claims))
            self._stage = self._bar.add_task("", total=None, visible=False)
        return self

    def __call__(self, claim_id: str, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self._bar is None:
            self._lines(claim_id, stage, done, total)
            return
        self._bar.update(self._stage, description=f"{claim_id}: {stage}", completed=done,
                         total=total or None, visible=True)

    def task_done(self, claim_id: str, text: str, *, last: bool) -> None:
        """See :meth:`LineProgress.task_done`; the bar counts the claim with its last task."""
        if not self.enabled:
            return
        if self._bar is None:
            self._lines.task_done(claim_id, text, last=last)
            return
        if last:
            self._finished += 1
            self._bar.update(self._claims, completed=self._finished)

    def result(self, index: int, result: ClaimResult) -> None:
        if not self.enabled:
            return
        if self._bar is None:
            self._lines.result(result)
            return
        self._finished += 1
        self._bar.update(self._claims, completed=self._finished)

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
