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
