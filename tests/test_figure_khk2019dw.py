"""Tests of the KHK 2019 Figure 1 reproduction (quick grid only)."""

import csv
import doctest
import sys

import numpy as np
import pytest

import proofcheck.catalogue.khk2019dw.figures as kf
from proofcheck import fast_j as fj
from proofcheck import figures
from proofcheck import networks as nw
from proofcheck import sweeps


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    # threaded OpenBLAS busy-waits on a loaded 2-core machine (see tests/test_fast_j.py)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(1):
        yield


def test_doctests():
    assert doctest.testmod(kf).failed == 0


def test_registered_with_its_options():
    fig = figures.get("khk2019dw.figure1")
    assert set(fig.options) == {"dataset", "scheduler", "quick"}
    with pytest.raises(figures.FigureError, match="does not take"):
        figures.render("khk2019dw.figure1", "/tmp", colour="red")


def test_quick_synthetic_renders_png_and_csv(tmp_path):
    pytest.importorskip("matplotlib")
    paths = figures.render("khk2019dw.figure1", tmp_path, formats=("png",), seed=0,
                           dataset="synthetic", quick=True)
    names = sorted(p.name for p in paths)
    assert names == ["khk2019dw-figure1-synthetic-quick-summary.txt",
                     "khk2019dw-figure1-synthetic-quick.csv",
                     "khk2019dw-figure1-synthetic-quick.png"]
    assert all(p.stat().st_size > 0 for p in paths)
    with open(tmp_path / "khk2019dw-figure1-synthetic-quick.csv") as fh:
        rows = list(csv.DictReader(fh))
    grid = kf.QUICK_GRID
    assert len(rows) == 2 * len(fj.DEFAULT_CRITERIA) * len(grid["depths"]) * len(grid["widths"])
    text = (tmp_path / "khk2019dw-figure1-synthetic-quick-summary.txt").read_text()
    # the paper's four panels are listed, the absent ones with their reason
    for name in ("synthetic", "MNIST", "CIFAR-10", "SVHN"):
        assert name in text
    assert text.count("ABSENT") == 2 and "cannot be downloaded" in text
    # the comparison with the paper is computed from these rows
    assert "training lowered J in" in text and "non-increasing in depth" in text
    assert max(len(line) for line in text.splitlines()) <= 80
    X, Y = kf.synthetic_data(kf.QUICK_M["synthetic"], 0)
    half_y2 = 0.5 * float(np.sum(Y * Y))
    for r in rows:
        J = float(r["J"])
        # J = 1/2 ||P_N[K] vec Y||^2 lies in [0, 1/2 ||Y||^2] (a projection's residual)
        assert 0.0 <= J <= half_y2 * (1 + 1e-12)
        assert float(r["J_relative"]) == pytest.approx(J / half_y2, rel=1e-12)
        assert int(r["rank"]) <= min(int(r["m"]) * int(r["d_y"]), int(r["d_theta"]))


def test_a_cell_recomputes_from_scratch():
    # the initial-weights row of one cell equals the dense reference at the same seed
    cells = sweeps.make_cells({"depth": [2], "width": [4]}, base_seed=3, dataset="synthetic",
                              m=60, data_seed=3,
                              train=dict(lr=0.01, momentum=0.9, batch=20, epochs=1),
                              criteria=("press",))
    rows = kf.figure1_cell(cells[0])
    init = next(r for r in rows if r["phase"] == "initial")
    X, Y = kf.synthetic_data(60, 3)
    net = nw.Network((10, 4, 4, 1), nw.RELU)
    Ws = net.random_weights(cells[0].rng())
    ref = fj.dense_j(nw.jacobian(net, Ws, X), Y, "press")
    assert init["rank"] == ref.rank
    assert abs(init["J"] - ref.value) <= 2 * ref.error_bound
    assert init["loss"] == pytest.approx(float(nw.loss(net, Ws, X, Y)), rel=1e-12)
    trained = next(r for r in rows if r["phase"] == "trained")
    assert not trained["diverged"]


def test_training_decreases_the_loss():
    X, Y = kf.synthetic_data(200, 1)
    net = nw.Network((10, 16, 16, 1), nw.RELU)
    rng = np.random.default_rng(0)
    Ws = net.random_weights(rng)
    Ws1, diverged = kf.train_sgd(net, Ws, X, Y, epochs=20, lr=0.01, momentum=0.9, batch=20,
                                 rng=rng)
    assert not diverged
    assert nw.loss(net, Ws1, X, Y) < nw.loss(net, Ws, X, Y)


def test_quick_digits_rows():
    pytest.importorskip("sklearn")
    rows = kf.figure1_rows("digits", quick=True, workers=0)
    assert {r["d_y"] for r in rows} == {10}
    assert {r["m"] for r in rows} == {kf.QUICK_M["digits"]}
    assert all(r["J"] >= 0 for r in rows)


def test_errors(monkeypatch):
    with pytest.raises(figures.FigureError, match="unknown dataset"):
        kf.figure1_rows("cifar", quick=True, workers=0)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(figures.FigureError, match="proofcheck\\[digits\\]"):
        kf.figure1_rows("digits", quick=True, workers=0)


def test_panel_listing_names_the_absent_panels_with_a_reason():
    absent = [p for p in kf.PANELS if p.status == "absent"]
    assert {p.name for p in absent} == {"CIFAR-10", "SVHN"}
    listing = kf.panel_listing()
    assert [line.split(":")[0] for line in listing] == ["synthetic", "MNIST", "CIFAR-10", "SVHN"]
    for p in absent:
        line = next(x for x in listing if x.startswith(p.name))
        assert "ABSENT" in line and "cannot be downloaded" in line


def test_teacher_weights_as_printed():
    # Appendix C: entries N(0, 2/d_l), d_l the layer's number of outputs
    assert kf.TEACHER_STD(50) == pytest.approx(0.2)
    rng = np.random.default_rng([5, 2019])
    W1 = rng.normal(size=(10, 50)) * kf.TEACHER_STD(50)
    W2 = rng.normal(size=(50, 1)) * kf.TEACHER_STD(1)
    X, Y = kf.synthetic_data(3, seed=5, depth=1, width=50)
    assert np.allclose(X, rng.normal(size=(3, 10)))   # weights are drawn first, then x
    assert np.allclose(Y, np.tanh(X @ W1) @ W2)


def test_comparisons_count_diverged_cells_as_exceptions():
    rows = [dict(phase=ph, criterion="press", depth=1, width=w, J=j)
            for ph, js in (("initial", (2.0, 1.0)), ("trained", (None, 0.5)))
            for w, j in zip((1, 2), js)]
    text = "\n".join(kf.comparisons(rows))
    assert "trained: J non-increasing in width at 0 of 1 depths" in text
    assert "diverged in 1" in text
