"""The self-contained HTML report (proofcheck/report_html.py): content, no external URL, the
`report --format html` command, and a real render in headless Chromium (installed by .ci/run)."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from proofcheck import report
from proofcheck.catalog import load_claims
from proofcheck.cli import main
from proofcheck.engine import check_claims
from proofcheck.report_html import GRADE_MISSING, math_html, to_html

USER = Path(__file__).resolve().parent / "fixtures" / "user_claims"


@pytest.fixture(scope="module")
def run_json():
    reg = load_claims([USER])
    run = check_claims(reg.claims, profile="quick", seed=0)
    return json.loads(report.to_json(run))


def _external_urls(page: str) -> list[str]:
    """Every reference the page would fetch, or could: anything but inline data: URIs and
    in-page #anchors."""
    stripped = re.sub(r"data:[a-z+/.-]+;base64,[A-Za-z0-9+/=]+", "DATA", page)
    bad = re.findall(r"(?i)(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s\"'<>]*", stripped)
    bad += [v for v in re.findall(r"""(?i)\b(?:src|href)\s*=\s*["']([^"']*)""", stripped)
            if not (v.startswith("#") or v == "DATA")]
    bad += re.findall(r"(?i)@import|url\(", stripped)
    return bad


def test_page_has_table_witness_math_and_no_external_url(run_json):
    page = to_html(run_json)
    assert _external_urls(page) == []
    assert page.count('<tr class="claim"') == len(run_json["claims"])
    assert 'data-verdict="refuted"' in page and 'data-verdict="verified"' in page
    assert 'class="witness"' in page and "proofcheck check mine.lemma2" in page
    assert "a<sup>2</sup> ≥ a" in page                    # the statement, typeset
    assert "data:image/svg+xml;base64," in page           # the embedded chart
    # each claim's evidence grade, as the run computed it ("—" only where a claim has none)
    for c in run_json["claims"]:
        grade = (c.get("evidence") or {}).get("grade") or GRADE_MISSING
        assert f"<td>{grade}</td>" in page


def test_grades_and_old_json(run_json, tmp_path):
    doc = json.loads(json.dumps(run_json))
    doc["claims"][0]["grade"] = "proven"
    page = to_html(doc)
    assert 'data-grade="proven"' in page and '<option value="proven">' in page
    # a `report --format json` document (verdicts nested) is read too
    assert to_html({"verdicts": doc}).count('<tr class="claim"') == len(doc["claims"])
    with pytest.raises(ValueError, match="not a proofcheck run"):
        to_html({"nothing": 1})


def test_math_is_escaped_and_typeset():
    assert math_html("x <script>") == "x &lt;script&gt;"
    assert math_html("||G||_Fr >= 0") == "||G||<sub>Fr</sub> ≥ 0"


def test_report_command_html_from_saved_json(run_json, tmp_path):
    saved = tmp_path / "run.json"
    saved.write_text(json.dumps(run_json))
    fig = tmp_path / "fig.svg"
    fig.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"></svg>')
    out = tmp_path / "run.html"
    res = CliRunner().invoke(main, ["report", "--path", str(USER), "--run", str(saved),
                                    "--format", "html", "-o", str(out), "--figure", str(fig)])
    assert res.exit_code == 1, res.output                 # a refuted claim: as `check`
    page = out.read_text()
    assert page.count('<tr class="claim"') == 2 and "fig.svg" in page
    assert _external_urls(page) == []
    assert f"--path {USER}" in page                       # reproduce commands load the module


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") \
        or shutil.which("google-chrome")


def _dump_dom(browser: str, url: str, profile: Path) -> str:
    proc = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                           f"--user-data-dir={profile}", "--dump-dom", url],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.skipif(_chromium() is None, reason="headless Chromium is not installed "
                    "(.ci/run installs the Debian package `chromium`)")
def test_chromium_renders_the_table_and_a_witness(run_json, tmp_path):
    page = tmp_path / "run.html"
    page.write_text(to_html(run_json), encoding="utf-8")
    browser = _chromium()
    dom = _dump_dom(browser, page.as_uri(), tmp_path / "profile")
    assert 'data-ready="yes"' in dom                      # the inline script ran
    assert re.search(r'id="shown">2<', dom)               # every row visible
    assert 'id="claim-mine.lemma2"' in dom and 'class="witness"' in dom
    # a filter from the URL fragment hides the verified claim and its section
    dom = _dump_dom(browser, page.as_uri() + "#verdict=refuted", tmp_path / "profile")
    assert re.search(r'id="shown">1<', dom)
    assert re.search(r'<tr class="claim hidden"[^>]*data-verdict="verified"', dom)
    assert re.search(r'<section id="claim-mine.lemma2">', dom)   # the witness stays visible
    assert re.search(r'<section id="claim-mine.lemma1" class="hidden">', dom)
    shot = tmp_path / "shot.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                    f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
                    "--window-size=1000,1200", page.as_uri()], capture_output=True, timeout=120)
    assert shot.stat().st_size > 10_000                   # something was drawn


def test_report_command_html_from_a_fresh_run(tmp_path):
    out = tmp_path / "fresh.html"
    res = CliRunner().invoke(main, ["report", "--path", str(USER), "--profile", "quick",
                                    "--format", "html", "-o", str(out), "--no-progress"])
    assert res.exit_code == 1, res.output
    page = out.read_text()
    assert page.count('<tr class="claim"') == 2 and 'class="witness"' in page
    assert _external_urls(page) == []
