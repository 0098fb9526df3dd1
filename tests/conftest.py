"""Shared test set-up."""

import pytest


@pytest.fixture(autouse=True)
def _no_witness_database(monkeypatch):
    """Tests run without the failure database (proofcheck/witness_db.py) unless they set one:
    a database in the working directory would make one test's counterexamples replay in
    another's check."""
    monkeypatch.setenv("PROOFCHECK_WITNESS_DB", "none")


@pytest.fixture(autouse=True)
def _own_result_cache(monkeypatch, tmp_path_factory):
    """Each test starts with an empty result cache (proofcheck/cache.py) of its own: a result
    cached by another test, or by a user's earlier run, must never stand in for a check."""
    monkeypatch.setenv("PROOFCHECK_CACHE_DIR", str(tmp_path_factory.mktemp("result-cache")))


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
