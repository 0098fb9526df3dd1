"""explore stops within its time budget plus grace, even when a conclusion never returns."""

from __future__ import annotations

import time

import pytest
from hypothesis import strategies as st

from proofcheck import Claim, Instance, Margin, Source
from proofcheck.search import Budget, explore
from proofcheck.search.explore import grace_seconds

SOURCE = Source("user", "9", "claims that hang")


def _instances(assumed):
    return st.floats(0, 1).map(lambda x: Instance(x=x))


def _sleeps(inst, point, B):
    time.sleep(600)
    return Margin.at_most(inst.x, 1.0)


def _spins(inst, point, B):
    while True:          # swallows every Exception: the watchdog must not be one
        try:
            sum(range(1000))
        except Exception:   # noqa: BLE001
            pass


@pytest.mark.parametrize("conclusion", [_sleeps, _spins], ids=["sleeps", "spins"])
def test_explore_stops_at_budget_plus_grace(conclusion):
    claim = Claim(id="user.hang", title="hangs", source=SOURCE, statement="x <= 1",
                  conclusion=conclusion, instances=_instances, high_precision=False)
    budget = Budget(seconds=1.0)
    t0 = time.perf_counter()
    ex = explore(claim, budget=budget, seed=0)
    wall = time.perf_counter() - t0
    assert wall <= 1.0 + grace_seconds(1.0) + 1.0       # generous: a functional bound
    assert ex.outcome == "none-within-budget" and not ex.found
    assert "budget exhausted" in ex.summary and "watchdog" in ex.summary
    assert any("watchdog" in n for n in ex.notes)


def test_no_watchdog_note_when_the_search_ends_in_time():
    claim = Claim(id="user.fine", title="fine", source=SOURCE, statement="x <= 1",
                  conclusion=lambda inst, point, B: Margin.at_most(0.0, 1.0),
                  instances=_instances, high_precision=False)
    ex = explore(claim, budget=Budget(seconds=30.0, instances=20), seed=0)
    assert ex.outcome == "none-within-budget"
    assert not any("watchdog" in n for n in ex.notes) and "exhausted" not in ex.summary
    import signal
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0       # disarmed


def test_the_watchdog_never_stops_an_import_halfway(tmp_path, monkeypatch):
    """An alarm that fires while a module is being imported (sympy, imported on first use,
    takes about 0.4 s) waits for the import to finish: a module left half executed in
    sys.modules broke every later use of it in the process (the stopped search's report
    then failed with 'partially initialized module')."""
    import sys

    from proofcheck.search.explore import _Clock, _watchdog, _Watchdog

    (tmp_path / "slow_to_import.py").write_text(
        "import time\nfor _ in range(8):\n    time.sleep(0.05)\nDONE = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    clock = _Clock(Budget(seconds=0.01))
    clock.start -= 100.0                  # the budget is long gone: the alarm fires at once
    with pytest.raises(_Watchdog):
        with _watchdog(clock):
            import slow_to_import         # noqa: F401 - the alarm fires during this
            time.sleep(2.0)               # and stops the search here, after the import
    assert sys.modules["slow_to_import"].DONE is True
    sys.modules.pop("slow_to_import", None)
