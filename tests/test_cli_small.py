"""Small CLI regressions (issue "Reliability", item 10): vacuous explore, pytest collection,
no .hypothesis/ in the working directory, --path to a non-module, --profile help vs docs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from click.testing import CliRunner

from proofcheck.cli import EXIT_ERROR, EXIT_USAGE, main

ROOT = Path(__file__).resolve().parents[1]

NEVER = textwrap.dedent('''
    from hypothesis import strategies as st
    from proofcheck import Claim, Hypothesis, Instance, Margin, Source

    never = Claim(
        id="vac.lemma1", title="hypotheses never hold", source=Source("vac", "1", "Lemma 1"),
        statement="x < 0 implies x^2 > 0",
        hypotheses=(Hypothesis("H1", "x < 0", lambda i: i.x < 0),),
        conclusion=lambda inst, point, B: Margin.at_least(inst.x * inst.x, 0.0, B),
        instances=lambda assumed: st.floats(0.1, 10).map(lambda x: Instance(x=x)),
    )
''')

SQUARES = textwrap.dedent('''
    from hypothesis import strategies as st
    from proofcheck import Claim, Hypothesis, Instance, Margin, Source

    square = Claim(
        id="sq.lemma1", title="squares are non-negative", source=Source("sq", "1", "Lemma 1"),
        statement="x^2 >= 0", hypotheses=(),
        conclusion=lambda inst, point, B: Margin.at_least(inst.x * inst.x, 0.0, B),
        instances=lambda assumed: st.floats(-10, 10).map(lambda x: Instance(x=x)),
    )
''')


def test_explore_of_a_claim_whose_hypotheses_never_hold_is_an_error(tmp_path):
    mod = tmp_path / "never.py"
    mod.write_text(NEVER)
    res = CliRunner().invoke(main, ["explore", "vac.lemma1", "--path", str(mod), "--budget",
                                    "40", "--no-progress"])
    assert res.exit_code == EXIT_ERROR, res.output
    assert "no instance satisfying its hypotheses" in " ".join(res.output.split())


def test_path_to_a_file_that_is_not_a_module_is_a_usage_error(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    for cmd in (["list"], ["check", "--no-progress"], ["explore", "x.lemma1"]):
        res = CliRunner().invoke(main, [*cmd, "--path", str(notes)])
        assert res.exit_code == EXIT_USAGE, res.output
        assert "is not a Python module (.py) or a folder" in res.output
        assert "AttributeError" not in res.output


def _env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "HYPOTHESIS_STORAGE_DIRECTORY"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return env


def test_no_hypothesis_folder_in_the_working_directory(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "squares.py").write_text(SQUARES)
    for args in (["check", "--path", "squares.py", "--profile", "quick", "--no-progress"],
                 ["explore", "sq.lemma1", "--path", "squares.py", "--budget", "20",
                  "--no-progress"]):
        out = subprocess.run([sys.executable, "-m", "proofcheck.cli", *args], cwd=work,
                             env=_env(tmp_path), capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stdout + out.stderr
        assert not (work / ".hypothesis").exists(), args


def test_pytest_proofcheck_path_collects_only_the_claims(tmp_path):
    out = subprocess.run([sys.executable, "-m", "pytest", "--proofcheck", "examples/conjectures",
                          "--collect-only", "-q", "-p", "no:cacheprovider"], cwd=ROOT,
                         env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    ids = [line for line in out.stdout.splitlines() if line and " " not in line.strip()]
    assert ids and all(not i.startswith("tests/") for i in ids), out.stdout
    assert any(i.startswith("user.") for i in ids)


def test_profile_help_and_docs_agree():
    """The --profile help lists exactly the columns of the profile table in docs/check.md."""
    doc = (ROOT / "docs" / "check.md").read_text()
    header = next(line for line in doc.splitlines() if line.startswith("| profile |"))
    columns = [c.strip() for c in header.strip("|").split("|")][1:]
    help_text = " ".join(CliRunner().invoke(main, ["check", "--help"]).output.split())
    listed = re.search(r"PROFILES: (.*?) \(see docs/check.md\)", help_text).group(1)
    assert [c.strip() for c in listed.split(",")] == columns
    assert "size sweeps are part of each claim and do not depend on the profile" in help_text
    assert "Identities do not depend on the profile" in doc


def test_a_nul_byte_in_a_path_is_a_usage_error(tmp_path):
    """Found by the CLI fuzz test: os.stat raises ValueError on a NUL byte."""
    # an unknown claim id everywhere: should a path slip through, nothing heavy runs
    for args in (["check", "no.such.claim", "--path", "a\x00b"], ["replay", "w\x00.json"],
                 ["check", "no.such.claim", "-o", "r\x00.json"],
                 ["explore", "no.such.claim", "--save-witness", "\x00"],
                 ["report", "no.such.claim", "-o", "\x00"]):
        res = CliRunner().invoke(main, args)
        assert res.exit_code == EXIT_USAGE and "Traceback" not in res.output, (args, res.output)


def test_version_option_prints_the_package_version():
    """`proofcheck --version` names this source tree's version (it used to look up a
    distribution called "proofcheck" and fail: the distribution is proofcheck-landscape)."""
    from proofcheck import __version__

    out = CliRunner().invoke(main, ["--version"])
    assert out.exit_code == 0, out.output
    assert out.output.strip() == f"proofcheck, version {__version__}"
