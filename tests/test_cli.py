"""The ``proofcheck`` command line, on the user theorem folder in tests/fixtures/user_claims."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from proofcheck.cli import EXIT_ERROR, EXIT_OK, EXIT_REFUTED, EXIT_USAGE, main

USER = Path(__file__).parent / "fixtures" / "user_claims"
RAISING = Path(__file__).parent / "fixtures" / "raising_claim" / "raising.py"
TRUE_ID, FALSE_ID = "mine.lemma1", "mine.lemma2"


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner(env=env).invoke(main, list(args), catch_exceptions=False)


def check(*args: str, **kw):
    return run("check", "--path", str(USER), "--profile", "quick", *args, **kw)


def test_help_documents_exit_codes():
    for cmd in ([], ["check"], ["list"]):
        out = run(*cmd, "--help").output
        assert "Exit codes:" in out and "2  usage error" in out and "3  tool/claim error" in out


def test_list_text_and_json():
    text = run("list", "--path", str(USER))
    assert text.exit_code == EXIT_OK, text.output
    assert TRUE_ID in text.stdout and FALSE_ID in text.stdout and "MINE §1" in text.stdout
    data = json.loads(run("list", "--path", str(USER), "--format", "json").stdout)
    rows = {c["id"]: c for c in data["claims"]}
    assert set(rows) == {TRUE_ID, FALSE_ID}
    assert rows[TRUE_ID]["source"] == "MINE §1, Lemma 1, eq. (1)"
    assert rows[TRUE_ID]["point_kind"] == "any point"
    assert data["load_errors"] == []


def test_verified_claim_exits_0():
    res = check(TRUE_ID, "--no-progress", env={"COLUMNS": "200"})
    assert res.exit_code == EXIT_OK, res.output
    assert "verified" in res.stdout and "no counterexample in" in res.stdout


def test_refuted_claim_exits_1_and_shows_the_witness():
    res = check(FALSE_ID, "--no-progress", "--format", "json")
    assert res.exit_code == EXIT_REFUTED, res.output
    (claim,) = json.loads(res.stdout)["claims"]
    assert claim["verdict"] == "refuted"
    (w,) = claim["witnesses"]
    a = w["instance"]["a"]
    # the witness really violates a^2 >= a, by the reported margin
    assert 0 < a < 1 and w["margin"] == pytest.approx(a * a - a, rel=1e-9)


def test_prefix_selects_the_folder_and_refutation_wins():
    res = check("mine", "--no-progress", "--format", "json")
    assert res.exit_code == EXIT_REFUTED
    data = json.loads(res.stdout)
    assert [c["id"] for c in data["claims"]] == [TRUE_ID, FALSE_ID]
    assert data["counts"]["verified"] == 1 and data["counts"]["refuted"] == 1


def test_unknown_id_is_a_usage_error_with_suggestions():
    res = check("mine.lema1")
    assert res.exit_code == EXIT_USAGE
    assert "no claim matches 'mine.lema1'" in res.stderr and TRUE_ID in res.stderr
    assert res.stdout == ""


def test_bad_option_is_a_usage_error():
    assert check("--profile", "fast").exit_code == EXIT_USAGE
    assert run("check", "--path", str(USER / "no_such_dir")).exit_code == EXIT_USAGE


@pytest.fixture
def broken_folder(tmp_path):
    """The user folder plus a module that fails to import and a claim whose code raises."""
    folder = tmp_path / "claims"
    shutil.copytree(USER, folder)
    # the brackets check that messages are not read as rich markup
    (folder / "broken_import.py").write_text("raise ImportError('[errno 2] no module foo')\n")
    shutil.copy(RAISING, folder)
    return folder


def test_broken_module_exits_3_and_good_claims_still_run(broken_folder):
    res = run("check", TRUE_ID, "--path", str(broken_folder), "--profile", "quick",
              "--no-progress", "--format", "json")
    assert res.exit_code == EXIT_ERROR
    assert "broken_import.py" in res.stderr and "[errno 2] no module foo" in res.stderr
    data = json.loads(res.stdout)
    (claim,) = data["claims"]
    assert claim["verdict"] == "verified"
    (err,) = data["load_errors"]
    assert err["module"].endswith("broken_import.py") and "no module foo" in err["message"]
    assert run("list", "--path", str(broken_folder)).exit_code == EXIT_ERROR
    text = run("check", TRUE_ID, "--path", str(broken_folder), "--profile", "quick",
               "--no-progress", env={"COLUMNS": "200"})
    assert text.exit_code == EXIT_ERROR
    assert "could not load" in text.stdout and "[errno 2] no module foo" in text.stdout


def test_claim_error_is_not_reported_as_refuted(broken_folder):
    res = run("check", "mine.lemma3", FALSE_ID, "--path", str(broken_folder), "--profile",
              "quick", "--no-progress", "--format", "json")
    assert res.exit_code == EXIT_ERROR                   # 3 wins over the refutation's 1
    claims = {c["id"]: c for c in json.loads(res.stdout)["claims"]}
    assert claims["mine.lemma3"]["verdict"] == "error"
    assert "not aligned" in claims["mine.lemma3"]["error"]
    assert claims["mine.lemma3"]["witnesses"] == []
    assert claims[FALSE_ID]["verdict"] == "refuted"


def test_progress_goes_to_stderr_never_into_json():
    # force rich to treat stderr as an interactive terminal, so the progress bar really draws
    res = check(env={"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1"}, *["--format", "json"])
    assert res.exit_code == EXIT_REFUTED
    data = json.loads(res.stdout)                        # stdout is one JSON document
    assert data["schema_version"]
    assert FALSE_ID in res.stderr                         # the bar named the claims it ran


def test_output_file_and_other_formats(tmp_path):
    out = tmp_path / "run.xml"
    res = check(TRUE_ID, "--no-progress", "--format", "junit", "--output", str(out))
    assert res.exit_code == EXIT_OK
    assert res.stdout == ""
    (case,) = ET.parse(out).getroot().iter("testcase")
    assert case.get("name") == TRUE_ID and case.find("failure") is None
    md = check(FALSE_ID, "--no-progress", "--format", "md").stdout
    assert md.startswith("# proofcheck report") and "**refuted**" in md
    txt = tmp_path / "run.txt"
    check(FALSE_ID, "--no-progress", "--output", str(txt))
    assert "mine.lemma2 witness" in txt.read_text() and "\x1b[" not in txt.read_text()


def test_entry_point_keeps_stdout_clean():
    """The real process: separate OS streams, progress on (stderr is a pipe here)."""
    proc = subprocess.run(
        [sys.executable, "-m", "proofcheck.cli", "check", TRUE_ID, "--path", str(USER),
         "--profile", "quick", "--format", "json"],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == EXIT_OK, proc.stderr
    assert json.loads(proc.stdout)["claims"][0]["verdict"] == "verified"


def test_internal_error_exits_3_not_1(monkeypatch):
    import proofcheck.runner

    def broken(*args, **kwargs):
        raise RuntimeError("engine bug")

    monkeypatch.setattr(proofcheck.runner, "run_claims", broken)
    res = check(TRUE_ID, "--no-progress", "--format", "json")
    assert res.exit_code == EXIT_ERROR
    assert "internal error: RuntimeError: engine bug" in res.stderr and res.stdout == ""


def test_folder_without_claims_is_a_usage_error(tmp_path):
    (tmp_path / "notes.py").write_text("x = 1\n")
    res = run("check", "--path", str(tmp_path), "--no-progress")
    assert res.exit_code == EXIT_USAGE and "no claims found" in res.stderr
