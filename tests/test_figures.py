"""The figure registry and `proofcheck figure` (the papers' figures have their own tests)."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from proofcheck import figures
from proofcheck.cli import main
from proofcheck.figures import Figure, FigureError


@pytest.fixture
def fake_figure(monkeypatch):
    calls = []

    def render(out_dir, *, formats, seed, dataset="default"):
        calls.append((formats, seed, dataset))
        path = Path(out_dir) / f"fake-{dataset}.{formats[0]}"
        path.write_text("x")
        return [path]

    fig = Figure("demo.figure1", "a fake", render, options={"dataset": "which data"})
    real = figures.available
    monkeypatch.setattr(figures, "available", lambda: {**real(), fig.id: fig})
    return calls


def test_render_passes_seed_formats_and_declared_options(tmp_path, fake_figure):
    out = figures.render("demo.figure1", tmp_path, formats=("svg",), seed=7, dataset="digits")
    assert [p.name for p in out] == ["fake-digits.svg"]
    assert fake_figure == [(("svg",), 7, "digits")]


def test_an_option_the_figure_does_not_take_is_an_error(tmp_path, fake_figure):
    with pytest.raises(FigureError, match="does not take --scheduler.*accepts: --dataset"):
        figures.render("demo.figure1", tmp_path, scheduler="tcp://x:1")
    assert fake_figure == []


def test_unknown_figure_names_the_available_ones(tmp_path, fake_figure):
    with pytest.raises(figures.UnknownFigureError, match="demo.figure1"):
        figures.get("demo.figure9")


def test_cli_figure_writes_and_reports(tmp_path, fake_figure):
    res = CliRunner().invoke(main, ["figure", "demo.figure1", "-o", str(tmp_path),
                                    "--format", "png", "--dataset", "d2"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "fake-d2.png").exists()


def test_cli_unknown_figure_is_a_usage_error(tmp_path, fake_figure):
    res = CliRunner().invoke(main, ["figure", "nope.figure1", "-o", str(tmp_path)])
    assert res.exit_code == 2
    assert "unknown figure" in res.output


def test_cli_lists_figures(fake_figure):
    res = CliRunner().invoke(main, ["figure", "--list"])
    assert res.exit_code == 0 and "demo.figure1" in res.output


def test_figures_are_found_through_the_paper_records():
    from proofcheck.papers import catalogue_papers

    with_figures = {p.key for p in catalogue_papers() if p.figures}
    assert with_figures and {fid.split(".")[0] for fid in figures.available()} == with_figures
