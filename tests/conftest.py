"""Shared test set-up."""

import contextlib
import functools
import os
import time

import pytest

# The processes the tests start (proofcheck's workers, CLI and pytest subprocesses: a few
# hundred) each import the package's and the catalogue's sources. Under
# PYTHONDONTWRITEBYTECODE each of them compiled every source again (about 0.1-0.2 s of CPU
# per process); here they write and reuse bytecode in a folder of the temporary directory
# instead, so the checkout stays as clean as that setting asks. Python checks each cached
# file against its source's size and modification time before using it.
if os.environ.get("PYTHONDONTWRITEBYTECODE") and not os.environ.get("PYTHONPYCACHEPREFIX"):
    import tempfile

    del os.environ["PYTHONDONTWRITEBYTECODE"]
    os.environ["PYTHONPYCACHEPREFIX"] = os.path.join(
        tempfile.gettempdir(), f"proofcheck-tests-pycache-{getattr(os, 'getuid', int)()}")


@pytest.fixture(autouse=True)
def _no_witness_database(monkeypatch):
    """Tests run without the failure database (proofcheck/witness_db.py) unless they set one:
    a database in the working directory would make one test's counterexamples replay in
    another's check."""
    monkeypatch.setenv("PROOFCHECK_WITNESS_DB", "none")


@pytest.fixture(scope="session")
def _shared_source_facts(tmp_path_factory):
    """One ``source-facts/`` folder (proofcheck.keys.source_facts) for the whole test run,
    shared by its pytest-xdist workers and every process they start: what is read from a
    source file (its imports, its Hypothesis constants) is memoised under the SHA-256 of the
    file's bytes, so it is the same for every test, and parsing the package's sources again
    in each test's worker processes cost about 0.9 s of CPU per process."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = root / "shared-source-facts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(autouse=True)
def _own_result_cache(monkeypatch, tmp_path_factory, _shared_source_facts):
    """Each test starts with an empty result cache (proofcheck/cache.py) of its own: a result
    cached by another test, or by a user's earlier run, must never stand in for a check. Its
    ``source-facts/`` is the test run's shared one (:func:`_shared_source_facts`): facts about
    a file's bytes are not results."""
    cache = tmp_path_factory.mktemp("result-cache")
    _link_source_facts(cache, _shared_source_facts)
    monkeypatch.setenv("PROOFCHECK_CACHE_DIR", str(cache))


def _link_source_facts(cache_dir, shared) -> None:
    """``cache_dir/source-facts`` -> the test run's shared folder (once: a second xdist worker
    finds the link made)."""
    with contextlib.suppress(FileExistsError):
        (cache_dir / "source-facts").symlink_to(shared, target_is_directory=True)


@pytest.fixture(autouse=True)
def _no_local_hypothesis_constants(monkeypatch):
    """Hypothesis mixes literal constants from the source of every local module loaded in the
    process into its draws, so a test's instances would depend on which test files the same
    pytest-xdist worker imported before it. Tests draw without them (the runner pins them per
    claim for the same reason, see proofcheck.runner.pinned_hypothesis_constants)."""
    try:
        from hypothesis.internal import constants_ast
        from hypothesis.internal.conjecture import providers
    except ImportError:     # pragma: no cover - another Hypothesis layout: nothing to pin
        return
    empty = constants_ast.Constants()
    monkeypatch.setattr(providers, "_get_local_constants", lambda: empty)
    providers.CONSTANTS_CACHE.cache.clear()


@pytest.fixture(scope="session")
def shared_result_cache(tmp_path_factory, _shared_source_facts):
    """A result cache (proofcheck/cache.py) for this test run only, shared by its pytest-xdist
    workers (the controller's base temporary folder is the parent of each worker's), so a claim
    that two test files check at the same profile and seed is checked once: the catalogue tests
    and tests/test_khk2019dw_probabilistic.py. The cache is content-addressed (claim and module
    sources, library versions, profile, seed) and its writes are atomic, so a result read from
    it is the result a fresh check computes; it starts empty with every test run and never
    holds a user's results (the autouse fixture above still gives each test its own)."""
    from proofcheck.cache import ResultCache

    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = root / "shared-result-cache"
    folder.mkdir(parents=True, exist_ok=True)
    _link_source_facts(folder, _shared_source_facts)
    return ResultCache(folder)


@contextlib.contextmanager
def _claim_lock(folder, claim_id):
    """Held while one worker checks ``claim_id`` (fcntl.flock, released if the worker dies):
    another worker that wants the same claim waits, then reads it from the shared cache."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{claim_id}.lock", "w") as fh:
        try:
            import fcntl
        except ImportError:      # pragma: no cover - no flock (Windows): both may compute it
            yield
            return
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def check_quick(shared_result_cache):
    """``check_quick(claims, origins)``: the run of ``claims`` at the quick profile, seed 0, in
    this process (proofcheck.runner.run_claims with jobs=0, as ``proofcheck check --jobs 0``
    runs them: Hypothesis' constants pinned per claim), through :func:`shared_result_cache`,
    one claim at a time under a lock per claim, so two workers never check the same claim."""
    from proofcheck import __version__
    from proofcheck.results import RunResult
    from proofcheck.runner import run_claims

    locks = shared_result_cache.directory / "locks"

    def check(claims, origins):
        start, results = time.perf_counter(), []
        for claim in claims:
            with _claim_lock(locks, claim.id):
                results += run_claims([claim], origins=origins, profile="quick", seed=0, jobs=0,
                                      cache=shared_result_cache).claims
        return RunResult(results, "quick", 0, time.perf_counter() - start, __version__)
    return check


# --- per-test cost log (bench/bench_tests.py) -------------------------------------------------

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """With ``PROOFCHECK_TEST_TIMES=FILE``: append one JSON line per test (its xdist worker, wall
    seconds, and CPU seconds of this process plus its finished children: setup, call and
    teardown) to FILE, for bench/bench_tests.py. CPU time depends on the machine's load far less
    than wall time does. Nothing is written without the variable."""
    path = os.environ.get("PROOFCHECK_TEST_TIMES")
    if not path:
        yield
        return
    import json
    import resource

    def cpu() -> float:
        own, kids = (resource.getrusage(resource.RUSAGE_SELF),
                     resource.getrusage(resource.RUSAGE_CHILDREN))
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    c0, w0 = cpu(), time.perf_counter()
    yield
    line = {"worker": os.environ.get("PYTEST_XDIST_WORKER", "main"), "test": item.nodeid,
            "cpu": round(cpu() - c0, 3), "wall": round(time.perf_counter() - w0, 3),
            "end": time.time()}
    with open(path, "a", encoding="utf-8") as fh:       # one short line: atomic append
        fh.write(json.dumps(line) + "\n")


# --- the catalogue, one test per claim --------------------------------------------------------

@functools.cache
def paper_registry(paper: str):
    """The claims of one paper of the bundled catalogue (``load_claims(patterns=[paper])``),
    loaded once per process: at collection (one test per claim) and by the tests."""
    from proofcheck.catalog import load_claims

    return load_claims(patterns=[paper])


def pytest_generate_tests(metafunc):
    """A test with a ``catalogue_claim`` argument runs once per claim of its module's
    ``PAPER``: the catalogue's claims are separate tests, so the two pytest-xdist workers share
    them (largest first, see :func:`pytest_collection_modifyitems`) instead of one worker
    checking a whole paper while the other waits."""
    if "catalogue_claim" in metafunc.fixturenames:
        paper = metafunc.module.PAPER
        claims = paper_registry(paper).select([paper])
        metafunc.parametrize("catalogue_claim", claims, ids=[c.id for c in claims])


@pytest.fixture
def catalogue_registry(request):
    """The registry of the test module's ``PAPER`` (:func:`paper_registry`)."""
    return paper_registry(request.module.PAPER)


@pytest.fixture
def checked(catalogue_claim, check_quick):
    """The result of ``catalogue_claim`` at the quick profile, seed 0 (:func:`check_quick`:
    checked once per test run, whichever test asks first)."""
    reg = paper_registry(catalogue_claim.id.split(".", 1)[0])
    (result,) = check_quick([catalogue_claim], reg.origins).claims
    return result


@pytest.fixture
def checked_paper(check_quick):
    """``checked_paper(paper)``: the run of every claim of ``paper`` (quick, seed 0), read from
    the shared result cache when the per-claim tests computed it already (tests marked
    ``catalogue_summary`` are scheduled last for that reason)."""
    def run(paper):
        reg = paper_registry(paper)
        return check_quick(reg.select([paper]), reg.origins)
    return run


# --- scheduling on the pytest-xdist workers (pyproject: -n auto --dist loadfile) ---------------

#: Test files whose tests share no costly module-level fixture: pytest-xdist hands out their
#: tests one at a time instead of the whole file to one worker. The documented commands are
#: about a quarter of the suite's CPU; as one loadfile unit they kept one worker busy for
#: minutes at the end of the run (each command stands alone: its page's workspace is a cheap
#: copy, and a replay first runs the --save-witness command it needs). The catalogue files
#: check one claim per test (the shared result cache and a lock per claim make sure no claim
#: is checked twice).
SPREAD = frozenset({"tests/test_docs_commands.py", "tests/test_catalogue_kb2019.py",
                    "tests/test_catalogue_khk2019dw.py", "tests/test_catalogue_khk2019lm.py",
                    "tests/test_catalogue_shamir2018.py"})

#: Files handed out first, the costliest first (measured with --durations on 2 cores): a long
#: file that starts last keeps one worker busy after the other has finished.
FIRST = ("tests/test_runner.py", "tests/test_strategies_families.py",
         "tests/test_cli.py", "tests/test_determinism.py", "tests/test_docgen.py")


def _claim_cost(item) -> float:
    """The recorded cost of a per-claim catalogue test's claim (theorems/costs.json, the
    runner's largest-first figures; only the order matters), else 0."""
    claim = getattr(getattr(item, "callspec", None), "params", {}).get("catalogue_claim")
    if claim is None:
        return 0.0
    return _CATALOGUE_COSTS().get(claim.id, 1.0)


@functools.cache
def _CATALOGUE_COSTS() -> dict:
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "theorems" / "costs.json"
    try:
        return {k: float(v) for k, v in json.loads(path.read_text())["default"].items()}
    except (OSError, ValueError, KeyError):
        return {}


def pytest_collection_modifyitems(config, items):
    """The order in which pytest-xdist hands tests out (pyproject's --no-loadscope-reorder
    keeps it): the catalogue's per-claim tests first, costliest claim first; then the files of
    :data:`FIRST`; then the rest; tests marked ``catalogue_summary`` (which read a whole
    paper's run from the shared result cache) last. A stable sort: a file's tests keep their
    order."""
    rank = {f: i for i, f in enumerate(FIRST)}

    def key(item):
        if item.get_closest_marker("catalogue_summary"):
            return (3, 0.0, 0)
        cost = _claim_cost(item)
        if cost:
            return (0, -cost, 0)
        file = item.nodeid.split("::", 1)[0]
        return (1, 0.0, rank[file]) if file in rank else (2, 0.0, 0)
    items.sort(key=key)


def pytest_xdist_make_scheduler(config, log):
    """--dist loadfile, except that the tests of :data:`SPREAD` files are separate units."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SpreadingLoadFile(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            file = nodeid.split("::", 1)[0]
            return nodeid if file in SPREAD else file

    return SpreadingLoadFile(config, log)
