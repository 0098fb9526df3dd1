"""pytest plugin: property-based CI on theorem modules.

::

    pytest --proofcheck                      # the bundled catalogue
    pytest --proofcheck my_theorems/ more/   # a user's own theorem modules (files or folders)
    pytest --proofcheck my_theorems/ --proofcheck-profile quick --proofcheck-seed 3

Every claim becomes one test item whose node id is the claim id (``mine.lemma2``), so ``-k``,
``--deselect`` and ``--lf`` work on claim ids; every item carries the ``proofcheck`` marker,
so ``-m proofcheck`` runs only the claims and ``-m "not proofcheck"`` only ordinary tests.
The claim items are added to whatever else pytest collects. ``--proofcheck`` takes all the
paths that follow it, so put ordinary test paths *before* it (``pytest tests/ --proofcheck
my_theorems/``).

How verdicts map to outcomes (never a pass for something that was not verified):

============  ==========================================================================
verified      passed
refuted       failed; the message gives the minimal witness and its margin
erratum       xfailed: the printed statement is refuted (witness in the reason), the
              corrected statement verified
inconclusive  skipped, with the reason (e.g. "vacuous here: no local minimum found")
error         error (in setup): the claim's own code or data is broken, with the cause
============  ==========================================================================

The claims run through :func:`proofcheck.runner.run_claims`, as in ``proofcheck check``: all
selected claims are checked together when the first claim item is set up, in isolated worker
processes (``--proofcheck-jobs N``, default the machine's cores; ``0`` runs them in the pytest
process), with a time limit per claim (``--proofcheck-timeout SECONDS``, default the
profile's) and, with ``--proofcheck-cache``, the result cache of ``proofcheck check``.

A theorem module that fails to import becomes an item that errors. Without ``--proofcheck``
the plugin adds nothing and imports nothing heavy (it is loaded by every pytest run through
its entry point).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

_MARKER = "proofcheck"
_PROFILES = ("quick", "default", "thorough")
_RESULTS_KEY = pytest.StashKey[list]()
_BATCH_KEY = pytest.StashKey[dict]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("proofcheck", "proofcheck: check theorem modules as tests")
    group.addoption(
        "--proofcheck", nargs="*", default=None, metavar="PATH", dest="proofcheck_paths",
        help="Check the claims of the theorem modules in PATH (files or folders; several "
             "allowed); without PATH the bundled catalogue. One test per claim.")
    group.addoption(
        "--proofcheck-profile", default="default", choices=_PROFILES,
        dest="proofcheck_profile",
        help="Engine profile (instances, precision, Hypothesis settings). Default: default.")
    group.addoption(
        "--proofcheck-seed", default=0, type=int, dest="proofcheck_seed",
        help="Seed of every random draw of the checks. Default: 0.")
    group.addoption(
        "--proofcheck-jobs", default=None, type=int, dest="proofcheck_jobs", metavar="N",
        help="Worker processes for the claims (default: the machine's cores; 0: in the pytest "
             "process, without isolation or time limit).")
    group.addoption(
        "--proofcheck-timeout", default=None, type=float, dest="proofcheck_timeout",
        metavar="SECONDS", help="Time limit per claim (default: the profile's; 0: none).")
    group.addoption(
        "--proofcheck-cache", action="store_true", default=False, dest="proofcheck_cache",
        help="Reuse and store results in the result cache of `proofcheck check` "
             "($PROOFCHECK_CACHE_DIR or the user cache folder).")


def _enabled(config: pytest.Config) -> bool:
    return config.getoption("proofcheck_paths", None) is not None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{_MARKER}: a claim checked by proofcheck (added by --proofcheck)")
    if _enabled(config):
        config.stash[_RESULTS_KEY] = []
        # `pytest --proofcheck PATH` names claim modules, not test paths: without explicit
        # test paths, do not fall back on the ini `testpaths` and collect a whole test suite
        if config.args_source is pytest.Config.ArgsSource.TESTPATHS:
            config.args = []
        # the engine profile also sets Hypothesis' settings for the user's own @given tests in
        # the same run (unless they chose a Hypothesis profile themselves)
        from hypothesis import settings

        from .engine import register_hypothesis_profiles
        register_hypothesis_profiles()
        if not config.getoption("hypothesis_profile", None):
            settings.load_profile(f"proofcheck-{config.getoption('proofcheck_profile')}")


def pytest_report_header(config: pytest.Config) -> str | None:
    if not _enabled(config):
        return None
    paths = config.getoption("proofcheck_paths") or ["the bundled catalogue"]
    return (f"proofcheck: {', '.join(map(str, paths))} (profile "
            f"{config.getoption('proofcheck_profile')}, seed "
            f"{config.getoption('proofcheck_seed')})")


@pytest.hookimpl(tryfirst=True)   # before -k / -m / --deselect filter the items
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    if not _enabled(config):
        return
    catalog = ClaimCatalog.from_parent(session, name="proofcheck", nodeid="proofcheck")
    items.extend(session.genitems(catalog))


class ClaimCatalog(pytest.Collector):
    """Loads the theorem modules named by ``--proofcheck`` and yields one item per claim."""

    def collect(self):
        from proofcheck.catalog import load_claims

        raw = self.config.getoption("proofcheck_paths")
        base = self.config.invocation_params.dir
        paths = [(base / p).resolve() for p in raw] if raw else None
        registry = load_claims(paths)
        for where, message in registry.errors:
            yield LoadErrorItem.from_parent(self, name=f"load-error[{where}]",
                                            nodeid=f"proofcheck::load-error[{where}]",
                                            where=where, message=message)
        for claim in registry.claims:
            origin = registry.origins.get(claim.id, "")
            yield ClaimItem.from_parent(self, name=claim.id, nodeid=claim.id, claim=claim,
                                        path=_origin_path(origin) or self.path, origin=origin)


def _origin_path(origin: str) -> Path | None:
    """The file a claim was defined in: a path, or a module name of the bundled catalogue."""
    if not origin:
        return None
    if origin.endswith(".py"):
        return Path(origin)
    module = sys.modules.get(origin)
    file = getattr(module, "__file__", None)
    return Path(file) if file else None


class LoadErrorItem(pytest.Item):
    """A theorem module that failed to import: an error, never silently dropped."""

    def __init__(self, *, where: str, message: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.where, self.message = where, message
        self.add_marker(_MARKER)

    def setup(self) -> None:
        pytest.fail(f"proofcheck could not load {self.where}: {self.message}", pytrace=False)

    def runtest(self) -> None:  # pragma: no cover - setup always fails
        pass

    def reportinfo(self):
        return self.path, None, f"load {self.where}"


class ClaimItem(pytest.Item):
    """One claim, checked by :func:`proofcheck.engine.check_claim` in ``setup`` (so that an
    ``error`` verdict is reported as a pytest error) and judged in ``runtest``."""

    def __init__(self, *, claim: Any, origin: str = "", **kwargs: Any):
        super().__init__(**kwargs)
        self.claim = claim
        self.origin = origin
        # the claim's ClaimResult once setup() ran (the plugin imports proofcheck lazily)
        self.result: Any = None
        self.add_marker(_MARKER)

    def setup(self) -> None:
        from proofcheck.results import Verdict

        batch = self.config.stash.setdefault(_BATCH_KEY, {})
        if self.nodeid not in batch:
            batch.update(_check_batch(self))
        self.result = batch.pop(self.nodeid)
        self.config.stash[_RESULTS_KEY].append(self.result)
        self.user_properties += [("verdict", self.result.verdict.value),
                                 ("source", self.result.source)]
        if self.result.verdict is Verdict.ERROR:
            pytest.fail(f"proofcheck error in {self.claim.id}: {self.result.error}",
                        pytrace=False)

    def runtest(self) -> None:
        from proofcheck import report
        from proofcheck.results import Verdict

        r = self.result
        evidence = report.claim_evidence(r)
        if r.verdict is Verdict.REFUTED:    # the failure message already says it all
            pytest.fail(_refutation_text(r), pytrace=False)
        # shown with -rA / -rP, and in JUnit XML as captured output
        self.add_report_section("call", "proofcheck evidence", _evidence_lines(r))
        if r.verdict is Verdict.VERIFIED:
            return
        if r.verdict is Verdict.ERRATUM:
            w = r.witnesses
            corrected = (f"corrected statement {r.corrected.verdict.value}: "
                         f"{report.claim_evidence(r.corrected)}" if r.corrected
                         else "no corrected result recorded")
            pytest.xfail("erratum: the printed statement is refuted"
                         + (f" ({report.witness_phrase(w[0], brief=True)})" if w else "")
                         + f"; {corrected}")
        if r.verdict is Verdict.INCONCLUSIVE:
            pytest.skip(f"inconclusive: {evidence}")
        raise AssertionError(f"unexpected verdict {r.verdict!r} for {r.claim_id}")

    def reportinfo(self):
        return self.path, None, f"claim {self.claim.id} ({self.claim.source})"


def _check_batch(first: ClaimItem) -> dict[str, Any]:
    """Check every selected claim item not yet checked (from ``first`` on) with the runner."""
    from proofcheck import runner
    from proofcheck.cache import ResultCache

    config = first.config
    items = [i for i in first.session.items if isinstance(i, ClaimItem) and i.result is None]
    if first not in items:
        items = [first]
    items = items[items.index(first):]
    cache = ResultCache() if config.getoption("proofcheck_cache") else None
    run = runner.run_claims([i.claim for i in items],
                            origins={i.claim.id: i.origin for i in items if i.origin},
                            profile=config.getoption("proofcheck_profile"),
                            seed=config.getoption("proofcheck_seed"),
                            jobs=config.getoption("proofcheck_jobs"),
                            claim_timeout=config.getoption("proofcheck_timeout"), cache=cache)
    by_id = {r.claim_id: r for r in run.claims}
    if run.partial:
        raise KeyboardInterrupt       # pytest reports the interrupt as it does for its own
    return {i.nodeid: by_id[i.claim.id] for i in items}


def _evidence_lines(r) -> str:
    from proofcheck import report

    return "\n".join([f"{r.claim_id}: {r.verdict.value} ({r.source})",
                      f"statement: {r.statement}",
                      *(f"  {c.name}: {report.evidence_phrase(c, r.point_kind)}"
                        for c in r.checks)])


def _refutation_text(r) -> str:
    from proofcheck import report

    lines = [f"{r.claim_id} is refuted ({r.source})", f"statement: {r.statement}"]
    for w in r.witnesses:
        lines.append(f"witness from {w.check}: {report.witness_phrase(w)}")
        lines.append(f"  instance: {report.instance_text(w, indent='  ')}")
        if w.detail:
            lines.append(f"  {w.detail}")
    if not r.witnesses:
        lines.append(report.claim_evidence(r))
    return "\n".join(lines)


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    if not _enabled(config):
        return
    results = config.stash.get(_RESULTS_KEY, [])
    if not results:
        return
    from proofcheck.results import Verdict

    counts = {v.value: sum(r.verdict is v for r in results) for v in Verdict}
    terminalreporter.write_sep(
        "-", f"proofcheck ({config.getoption('proofcheck_profile')} profile, seed "
             f"{config.getoption('proofcheck_seed')}): "
             + ", ".join(f"{n} {v}" for v, n in counts.items() if n))
