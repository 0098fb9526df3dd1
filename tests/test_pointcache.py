"""The certified-point store: exact round trips, hits that leave the rng as a run would, data
that never chooses code to load."""

from __future__ import annotations

import json
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from proofcheck import pointcache as pc
from proofcheck.optimize.strata import StratumCertificate


def _finder(rng: np.random.Generator, calls: list[int]) -> list:
    calls.append(1)
    return [rng.normal(size=3), Fraction(1, 3)]


def test_codec_is_exact_for_what_points_are_made_of():
    with mpmath.workdps(50):
        third = mpmath.mpf(1) / 3
    cert = StratumCertificate(kind="local_min", level="exact", differentiable=True,
                              outputs_differentiable=(True, False), local_min=True,
                              value=Fraction(5, 7), gradient=(Fraction(0),),
                              lambda_gradient=None, notes=("a",))
    values = [np.array([0.1, -0.0, np.inf]), np.array([third, third], dtype=object),
              np.float64(2.5), np.int64(3), (1, "x", None), {"k": [1.5]}, cert, float("nan")]
    doc = pc.encode(values)
    back = pc.decode(json.loads(json.dumps(doc)))
    assert json.dumps(pc.encode(back)) == json.dumps(doc)
    assert back[1][0] == third and isinstance(back[1][0], mpmath.mpf)
    assert back[2].dtype == np.float64 and back[3].dtype == np.int64
    assert back[6] == cert and back[6].outputs_all_differentiable is False
    assert np.isnan(back[7])


def test_decoding_never_imports_and_refuses_foreign_classes():
    with pytest.raises(pc.Unencodable):
        pc.decode({"$o": "some_module_never_imported:Thing", "f": {}})
    with pytest.raises(pc.Unencodable):
        pc.decode({"$o": "subprocess:Popen", "f": {}})      # loaded, but not a point's class
    with pytest.raises(pc.Unencodable):
        pc.encode(object())


def test_a_hit_returns_the_same_points_and_leaves_the_rng_where_a_run_would(tmp_path,
                                                                           monkeypatch):
    monkeypatch.setenv(pc.ENV, str(tmp_path))
    pc._STORES.clear()
    land = np.arange(4.0)
    calls: list[int] = []
    plain = np.random.default_rng(7)
    expected = _finder(plain, [])
    for _ in range(2):
        rng = np.random.default_rng(7)
        got = pc.cached_points("test.finder", ("proofcheck.pointcache",), land,
                               lambda rng=rng: _finder(rng, calls), rng=rng, starts=1)
        assert np.array_equal(got[0], expected[0]) and got[1] == expected[1]
        assert rng.bit_generator.state == plain.bit_generator.state
    assert len(calls) == 1
    pc._STORES.clear()            # a new process: read from disk
    rng = np.random.default_rng(7)
    pc.cached_points("test.finder", ("proofcheck.pointcache",), land,
                     lambda: _finder(rng, calls), rng=rng, starts=1)
    assert len(calls) == 1 and pc.point_store().hits == 1
    # another landscape, start count or rng state is another entry
    for other, starts, seed in ((land + 1, 1, 7), (land, 2, 7), (land, 1, 8)):
        rng = np.random.default_rng(seed)
        pc.cached_points("test.finder", ("proofcheck.pointcache",), other,
                         lambda rng=rng: _finder(rng, calls), rng=rng, starts=starts)
    assert len(calls) == 4


def test_no_store_without_the_variable_and_unencodable_results_are_not_stored(tmp_path,
                                                                              monkeypatch):
    monkeypatch.delenv(pc.ENV, raising=False)
    assert pc.point_store() is None
    monkeypatch.setenv(pc.ENV, "off")
    assert pc.point_store() is None
    monkeypatch.setenv(pc.ENV, str(tmp_path))
    pc._STORES.clear()
    thing = object()
    assert pc.cached_points("test.odd", (), np.zeros(1), lambda: [thing]) == [thing]
    assert not list(tmp_path.glob("*/*.json"))


def test_runner_defers_a_claim_whose_panel_is_running_and_knows_the_catalogue_costs():
    from collections import deque
    from types import SimpleNamespace

    from proofcheck.catalog import load_claims
    from proofcheck.runner import _next_task, _panel, catalogue_costs

    def land(inst):
        return inst

    def inst_a(assumed):
        return None

    def inst_b(assumed):
        return None

    def task(name, instances):
        claim = SimpleNamespace(id=name, landscape=land, instances=instances)
        return SimpleNamespace(claim=claim)

    pending = deque([task("a2", inst_a), task("b1", inst_b), task("a3", inst_a)])
    running = {_panel(task("a1", inst_a).claim)}
    assert _next_task(pending, running).claim.id == "b1"          # a2 waits for a1's points
    assert _next_task(pending, running).claim.id == "a2"          # nothing else: no idling
    reg = load_claims()
    origin = reg.origins[reg.claims[0].id]
    costs = catalogue_costs(origin, "default")
    assert costs and set(costs) <= {c.id for c in reg.claims}
    assert catalogue_costs("/some/user/file.py", "default") == {}


def _files(root) -> list:
    return sorted(root.glob("*/*.json"))


def _fill(numbers, floats: int) -> None:
    """One entry of ``floats`` floats in the current point store per key number."""
    for n in numbers:
        pc.cached_points("test.size", ("proofcheck.pointcache",), np.full(3, float(n)),
                         lambda: [np.arange(float(floats))])


def _store_with(tmp_path, monkeypatch, entries: int, floats: int) -> list:
    """A fresh point store in ``tmp_path`` holding ``entries`` entries of ``floats`` floats."""
    monkeypatch.setenv(pc.ENV, str(tmp_path))
    pc._STORES.clear()
    _fill(range(entries), floats)
    return _files(tmp_path)


def test_prune_bounds_the_store_least_recently_used_first(tmp_path, monkeypatch):
    import os
    import time

    files = _store_with(tmp_path, monkeypatch, 6, 2000)
    assert len(files) == 6
    size = files[0].stat().st_size
    # ages: entry k last used k hours ago
    by_age = sorted(files)
    now = time.time()
    for k, f in enumerate(by_age):
        os.utime(f, (now - 3600 * k, now - 3600 * k))
    # a hit refreshes its entry: the oldest becomes the newest
    oldest = by_age[-1]
    pc._STORES.clear()
    assert pc.point_store()._read(oldest.stem) is not None
    assert oldest.stat().st_mtime > now - 60
    assert pc.prune(tmp_path, limit=None) == 0                    # no bound: nothing goes
    removed = pc.prune(tmp_path, limit=3 * size + size // 2)       # room for three
    assert removed == 3
    kept = {f.name for f in _files(tmp_path)}
    assert kept == {by_age[0].name, by_age[1].name, oldest.name}
    assert not list(tmp_path.glob("*/*.lock")) or all(
        f.with_suffix(".json").exists() for f in tmp_path.glob("*/*.lock"))


def test_prune_skips_an_entry_being_computed_and_a_concurrent_pruner(tmp_path, monkeypatch):
    import fcntl
    import os

    busy = _store_with(tmp_path, monkeypatch, 2, 500)[0]
    fd = os.open(busy.with_suffix(".lock"), os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)             # another worker computes this entry now
    try:
        assert pc.prune(tmp_path, limit=0) == 1
        assert _files(tmp_path) == [busy]
        guard = os.open(tmp_path / ".prune.lock", os.O_RDWR | os.O_CREAT)
        fcntl.flock(guard, fcntl.LOCK_EX)      # another run prunes this folder now
        try:
            assert pc.prune(tmp_path, limit=0) == 0
        finally:
            os.close(guard)
    finally:
        os.close(fd)
    assert pc.prune(tmp_path, limit=0) == 1 and _files(tmp_path) == []


def test_a_runs_store_is_pruned_to_the_configured_bound_when_the_run_ends(tmp_path,
                                                                          monkeypatch):
    monkeypatch.delenv(pc.ENV, raising=False)
    monkeypatch.setenv(pc.MAX_MB_ENV, "0.01")              # about 10 KiB
    with pc.using_store(tmp_path):
        _fill(range(4), 500)
        assert len(_files(tmp_path)) == 4
    total = sum(f.stat().st_size for f in _files(tmp_path))
    assert 0 < total <= 0.01 * 1024 * 1024 and len(_files(tmp_path)) < 4
    monkeypatch.setenv(pc.MAX_MB_ENV, "0")                 # unbounded
    with pc.using_store(tmp_path):
        _fill(range(4, 8), 500)
    assert len(_files(tmp_path)) >= 4
