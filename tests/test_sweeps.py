"""Tests of proofcheck.sweeps: deterministic cells through local processes and dask."""

import doctest
import sys

import numpy as np
import pytest

import proofcheck.sweeps as sw
from proofcheck.sweeps import Cell, SweepError, cell_seed, make_cells, run_cells


def draw_cell(cell: Cell):
    """A small computation that depends on the cell's seed and parameters."""
    rng = cell.rng()
    A = rng.normal(size=(cell.params["n"], cell.params["n"]))
    return (cell.key, float(np.linalg.norm(A @ A.T)), cell.params["scale"])


def failing_cell(cell: Cell):
    if cell.key == (2,):
        raise ZeroDivisionError("boom")
    return cell.key


def test_doctests():
    assert doctest.testmod(sw).failed == 0


def test_seeds_depend_on_key_not_position():
    a = make_cells({"depth": [1, 2, 3], "width": [4, 5]}, base_seed=7)
    b = make_cells({"depth": [3, 2], "width": [5]}, base_seed=7)
    seeds_a = {c.key: c.seed for c in a}
    assert all(seeds_a[c.key] == c.seed for c in b)
    assert len(set(seeds_a.values())) == len(a)            # distinct cells, distinct seeds
    assert cell_seed(7, (3, 5)) != cell_seed(8, (3, 5))
    assert cell_seed(0, ("synthetic", 2)) == cell_seed(0, ("synthetic", 2))
    assert a[0].params == {"depth": 1, "width": 4}


def _cells():
    return make_cells({"n": [3, 4, 5]}, base_seed=1, scale=2.0)


def test_local_processes_match_serial():
    serial = run_cells(draw_cell, _cells(), workers=0)
    procs = run_cells(draw_cell, _cells(), workers=2)
    assert procs == serial
    assert [r[0] for r in serial] == [(3,), (4,), (5,)]   # results in cell order


def test_dask_local_cluster_matches_serial():
    distributed = pytest.importorskip("dask.distributed")
    serial = run_cells(draw_cell, _cells(), workers=0)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        got = run_cells(draw_cell, _cells(), scheduler=cluster.scheduler_address)
        with pytest.raises(SweepError, match=r"cell \(2,\) failed"):
            run_cells(failing_cell, make_cells({"k": [1, 2, 3]}),
                      scheduler=cluster.scheduler_address)
    assert got == serial


def test_failing_cell_is_named():
    with pytest.raises(SweepError, match=r"cell \(2,\) failed.*boom"):
        run_cells(failing_cell, make_cells({"k": [1, 2, 3]}), workers=0)
    with pytest.raises(SweepError, match=r"cell \(2,\) failed"):
        run_cells(failing_cell, make_cells({"k": [1, 2, 3]}), workers=2)


def test_missing_dask_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)   # import now fails
    with pytest.raises(SweepError, match="proofcheck\\[dask\\]"):
        run_cells(draw_cell, _cells(), scheduler="tcp://127.0.0.1:1")


def test_bad_arguments():
    with pytest.raises(TypeError):
        run_cells(draw_cell, [1, 2])
    with pytest.raises(ValueError):
        run_cells(draw_cell, _cells(), workers=-1)
    with pytest.raises(TypeError):
        run_cells(draw_cell, _cells(), scheduler=8786)
    with pytest.raises(ValueError):
        make_cells({"n": []})
    with pytest.raises(ValueError):
        make_cells({"n": "abc"})
    with pytest.raises(ValueError):
        cell_seed(-1, (1,))
    assert run_cells(draw_cell, [], workers=2) == []


def test_progress_bar_runs(capsys):
    out = run_cells(draw_cell, _cells(), workers=0, progress=True, description="test")
    assert len(out) == 3
    assert "test" in capsys.readouterr().err


def test_on_result_sees_every_cell():
    seen = []
    out = run_cells(draw_cell, _cells(), workers=2, on_result=lambda c, r: seen.append((c.key, r)))
    assert sorted(seen) == sorted(zip([c.key for c in _cells()], out))
