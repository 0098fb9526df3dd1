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
