"""Output for people: at 80 columns and in non-terminals (files, pipes, CI logs) every verdict
word is printed in full, the evidence wraps, and `list` keeps every column's content."""

from __future__ import annotations

import io
import re
from pathlib import Path

from click.testing import CliRunner
from rich.console import Console
from test_report import make_run

from proofcheck import report
from proofcheck.cli import main
from proofcheck.results import Verdict

USER = Path(__file__).parent / "fixtures" / "user_claims"
WORDS = [v.value for v in Verdict]


def _render(width: int, run=None) -> str:
    buf = io.StringIO()
    report.render_terminal(run or make_run(), Console(file=buf, width=width, color_system=None))
    return buf.getvalue()


def test_every_verdict_in_full_at_80_columns():
    text = _render(80)
    assert "…" not in text
    starts = {line.split()[0] for line in text.splitlines() if line and line[0] != " "}
    assert set(WORDS) <= starts                 # each verdict starts its claim's line
    for line in text.splitlines():
        assert len(line) <= 80, line
    # the evidence is there, wrapped, not cut to zero width
    assert "no counterexample at 12 certified local minima of 200 instances" in \
        " ".join(text.split())


def test_readings_and_branches_wrap_at_80_columns():
    """A claim's readings of its printed text and its branch line are long sentences: they
    wrap under the claim id at the console's width (a CI log wraps nothing)."""
    run = make_run()
    claim = run.claims[0]
    claim.readings = [{"name": "loss", "natural": True, "text": "'differentiable theta' read "
                       "as: L is differentiable at theta -- the reading under which Theorem 1 "
                       "applies Lemma 1 at 'differentiable local minima of L'"}]
    text = _render(80, run)
    assert "reading loss (the printed statement's reading): 'differentiable theta'" in \
        " ".join(text.split())
    for line in text.splitlines():
        if not line.startswith("  instance: "):      # data: one line, the JSON has it all
            assert len(line) <= 80, line


def test_table_at_wide_widths_keeps_verdicts():
    run = make_run()
    for r in run.claims:        # long ids squeeze the table
        r.claim_id = r.claim_id + ".a_rather_long_proof_step_name"
    for width in (report.TABLE_MIN_WIDTH, 160):
        text = _render(width, run)
        assert "┃ verdict" in text and "…" not in text
        cells = {c.strip() for line in text.splitlines() for c in line.split("│")}
        assert set(WORDS) <= cells, (width, text)


def test_check_output_in_a_non_terminal_names_each_verdict():
    res = CliRunner().invoke(main, ["check", "--path", str(USER), "--profile", "quick",
                                    "--no-progress"])
    lines = res.stdout.splitlines()
    verdicts = {line.split()[0] for line in lines if line and line.split()[0] in WORDS}
    assert {"verified", "refuted"} <= verdicts, res.stdout
    assert "…" not in res.stdout and all(len(line) <= 80 for line in lines), res.stdout


def test_report_in_a_non_terminal_is_as_wide_as_check(tmp_path):
    """``report --run`` prints the verdicts at the terminal's width, 80 in a pipe or a CI
    log, as ``check`` does (it used a 120-column table wherever it printed)."""
    saved = tmp_path / "run.json"
    saved.write_text(report.to_json(make_run()), encoding="utf-8")
    res = CliRunner().invoke(main, ["report", "--run", str(saved)])
    lines = [line for line in res.stdout.splitlines()
             if not line.lstrip().startswith(("instance: ", "point: "))]
    assert "verified" in res.stdout and max(len(line) for line in lines) <= 80, res.stdout


def test_explore_and_replay_in_a_non_terminal_wrap_their_prose(tmp_path):
    """explore's summary, search line, witness line, certificate and notes, and replay's
    verdict wrap at 80 columns in a pipe; the instance's fields (data) stay one per line."""
    res = CliRunner().invoke(main, ["explore", "mine.lemma2", "--path", str(USER),
                                    "--budget", "50", "--save-witness", str(tmp_path),
                                    "--no-progress"])
    assert "witness" in res.stdout, res.output
    data = re.compile(r"^  \w+ = |^witness saved to ")      # the instance's fields, a path
    assert all(len(line) <= 80 for line in res.stdout.splitlines() if not data.match(line)), \
        res.stdout
    (saved,) = tmp_path.glob("*.json")
    again = CliRunner().invoke(main, ["replay", str(saved), "--path", str(USER)])
    assert "fails" in again.stdout and all(len(line) <= 80 for line in again.stdout.splitlines())


def test_list_in_a_non_terminal_keeps_its_columns():
    res = CliRunner().invoke(main, ["list", "--path", str(USER)])
    assert res.exit_code == 0 and "…" not in res.stdout, res.stdout
    text = " ".join(res.stdout.split())
    assert re.search(r"mine\.lemma\d .*?MINE §\d.*? \| holds at any point \| \d+ identities "
                     r"\| \d+ mutants", text), res.stdout
    assert all(len(line) <= 80 for line in res.stdout.splitlines())


def test_progress_in_a_non_terminal_is_plain_lines():
    """With stderr redirected (CliRunner: not a terminal) progress is plain `[k/N] claim`
    lines, no bar and no escape codes."""
    res = CliRunner().invoke(main, ["check", "--path", str(USER), "--profile", "quick"])
    err = res.stderr
    lines = re.findall(r"^\[(\d+)/2\] mine\.lemma\d (verified|refuted) \(", err, re.M)
    assert sorted(k for k, _ in lines) == ["1", "2"], err       # one line per finished claim
    assert "\x1b[" not in err
