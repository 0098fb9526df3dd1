"""Shared test set-up."""

import pytest


@pytest.fixture(autouse=True)
def _no_witness_database(monkeypatch):
    """Tests run without the failure database (proofcheck/witness_db.py) unless they set one:
    a database in the working directory would make one test's counterexamples replay in
    another's check."""
    monkeypatch.setenv("PROOFCHECK_WITNESS_DB", "none")
