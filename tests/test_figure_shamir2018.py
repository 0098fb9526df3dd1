"""Shamir (2018) Figure 1: rendering, and the classified points the panels mark."""

import csv

import pytest
from click.testing import CliRunner

from proofcheck import figures
from proofcheck.cli import main
from proofcheck.figures import FigureError
from proofcheck.catalogue.shamir2018.figures import MARKERS, panel_points


def test_cli_renders_png_and_svg(tmp_path):
    result = CliRunner().invoke(main, ["figure", "shamir2018.figure1", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["shamir2018_figure1.png", "shamir2018_figure1.svg",
                     "shamir2018_figure1_text_scaling.png",
                     "shamir2018_figure1_text_scaling.svg"]
    png = (tmp_path / "shamir2018_figure1.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert "<svg" in (tmp_path / "shamir2018_figure1.svg").read_text()[:2000]


def test_csv_lists_every_marked_point(tmp_path):
    [path] = [p for p in figures.render("shamir2018.figure1", tmp_path, formats=("csv",))
              if p.name == "shamir2018_figure1.csv"]
    rows = list(csv.DictReader(open(path)))
    pts = panel_points("caption")
    assert len(rows) == sum(len(v) for v in pts.values())
    assert {r["kind"] for r in rows} <= set(MARKERS)


def test_caption_panels_have_the_spurious_minima_where_the_enumeration_puts_them():
    pts = panel_points("caption")
    [b] = [p for p in pts["b"] if p["kind"] == "minimum (spurious)"]
    assert b["w"] == pytest.approx(-0.98280626, abs=1e-7)
    assert b["v"] == pytest.approx(-1.60268225, abs=1e-7)
    [c] = [p for p in pts["c"] if "spurious" in p["kind"]]
    assert (c["w"] ** 2 + c["v"] ** 2) == pytest.approx(4, abs=1e-12)     # on the circle
    assert c["v"] == pytest.approx(-(1 + 33 ** 0.5) / 4, abs=1e-12)
    assert [p["kind"] for p in pts["a"]] == ["saddle"]


def test_text_scaling_has_no_spurious_minimum_in_b():
    pts = panel_points("example1")
    assert [p["kind"] for p in pts["b"]] == ["minimum"]
    assert pts["b"][0]["w"] == pytest.approx(0.59859230, abs=1e-7)
    # the constrained panel does not depend on the factor 1/2
    kinds = lambda s: sorted(p["kind"] for p in panel_points(s)["c"])   # noqa: E731
    assert kinds("example1") == kinds("caption")


def test_bad_options():
    with pytest.raises(FigureError):
        panel_points("nonsense")
    with pytest.raises(FigureError, match="does not take"):
        figures.render("shamir2018.figure1", "/tmp/unused", dataset="x")
