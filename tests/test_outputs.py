"""Output paths are checked before any work starts (usage error, exit 2) and written
atomically (proofcheck.outputs)."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from proofcheck import engine
from proofcheck.cli import EXIT_USAGE, main
from proofcheck.outputs import OutputError, check_output_dir, check_output_file, write_atomic


@pytest.fixture
def no_run(monkeypatch):
    """Fail the test if any checking or searching starts."""
    def boom(*a, **k):
        raise AssertionError("the run started before the output path was checked")
    monkeypatch.setattr(engine, "check_claims", boom)
    import proofcheck.search as search
    monkeypatch.setattr(search, "explore", boom)


def _bad_paths(tmp_path):
    a_file = tmp_path / "plain.txt"
    a_file.write_text("x")
    return {"missing folder": str(tmp_path / "missing" / "r.json"), "empty": "",
            "under a file": str(a_file / "r.json"), "a folder": str(tmp_path)}


@pytest.mark.parametrize("cmd", [["check", "kb2019.lemma1", "--profile", "quick"],
                                 ["report", "kb2019.lemma1"]])
def test_report_outputs_checked_before_the_run(cmd, tmp_path, no_run):
    for what, path in _bad_paths(tmp_path).items():
        res = CliRunner().invoke(main, [*cmd, "--output", path, "--no-progress"])
        assert res.exit_code == EXIT_USAGE, (what, res.output)
        assert "Traceback" not in res.output and "internal error" not in res.output
        assert "--output" in res.output, res.output


def test_witness_and_figure_folders_checked_before_the_run(tmp_path, no_run):
    a_file = tmp_path / "plain.txt"
    a_file.write_text("x")
    for bad in ("", str(a_file), str(a_file / "sub")):
        res = CliRunner().invoke(main, ["explore", "kb2019.lemma1", "--save-witness", bad,
                                        "--no-progress"])
        assert res.exit_code == EXIT_USAGE and "--save-witness" in res.output, res.output
        res = CliRunner().invoke(main, ["figure", "kb2019.figure1", "-o", bad])
        assert res.exit_code == EXIT_USAGE and "--output" in res.output, res.output


def test_checks():
    with pytest.raises(OutputError, match="empty"):
        check_output_file("  ")
    with pytest.raises(OutputError, match="empty"):
        check_output_dir("")


def test_write_is_atomic(tmp_path, monkeypatch):
    target = tmp_path / "report.json"
    write_atomic(target, "old\n")

    def broken(fd):
        raise OSError("disk full")
    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, "new\n")
    assert target.read_text() == "old\n"                  # the old report survives
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]   # no temporary left


def test_check_writes_the_report(tmp_path):
    out = tmp_path / "run.json"
    res = CliRunner().invoke(main, ["check", "kb2019.lemma1", "--profile", "quick",
                                    "--format", "json", "-o", str(out), "--no-progress"])
    assert res.exit_code == 0, res.output
    assert out.read_text().startswith("{") and [p.name for p in tmp_path.iterdir()] == ["run.json"]
