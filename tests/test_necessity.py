"""The assumption-necessity map (proofcheck.search.necessity) and `proofcheck report`."""

import json
from pathlib import Path

from click.testing import CliRunner

from proofcheck.catalog import load_claims
from proofcheck.search import Budget
from proofcheck.search.necessity import necessity, necessity_map

# x^2 <= |x| if |x| <= 1, with a needed hypothesis ("unit") and one the conclusion does not
# need ("not_half": x^2 <= |x| holds at x = 1/2 as well); the claim file test_runner loads too
SQUARE_FILE = Path(__file__).parent / "fixtures" / "runner_claims" / "necessity" / "square.py"
SQUARE, = load_claims([SQUARE_FILE]).claims
BUDGET = Budget(instances=40)


def test_a_needed_hypothesis_is_necessary_with_an_exact_certificate():
    e = necessity(SQUARE, "unit", budget=BUDGET, seed=0)
    assert e.verdict == "necessary"
    assert e.certificate["status"] == "certified-exact"
    lo, hi = e.certificate["margin_enclosure"]
    assert lo == hi and lo.startswith("-")          # x^2 - |x| > 0 exactly for |x| > 1
    assert e.witness["margin"] < 0


def test_an_unneeded_hypothesis_gets_no_counterexample_within_the_budget():
    e = necessity(SQUARE, "not_half", budget=BUDGET, seed=0)
    assert e.verdict == "no counterexample within budget"
    assert e.witness is None and e.spent["instances"] >= 1
    assert e.budget == {"instances": 40, "seconds": None}


def test_map_renders_budget_seed_and_rows_and_is_deterministic():
    a = necessity_map([SQUARE], BUDGET, seed=3)
    b = necessity_map([SQUARE], BUDGET, seed=3)
    strip = lambda m: [{k: v for k, v in e.to_dict().items() if k != "spent"} for e in m.entries]
    assert strip(a) == strip(b)
    assert [e.verdict for e in a.entries] == ["necessary", "no counterexample within budget"]
    md = a.to_markdown()
    assert "40 instances" in md and "seed 3" in md
    assert "| demo.lemma3 | unit | necessary |" in md
    d = json.loads(a.to_json())
    assert d["seed"] == 3 and d["counts"] == {"necessary": 1,
                                              "no counterexample within budget": 1}
    assert "demo.lemma3" in a.to_text()


def test_the_text_map_fits_the_terminal():
    """``to_text(width)``: the witness column wraps inside the table when there is room, else
    each row becomes a block; without a width (a file) the table is one line per row."""
    m = necessity_map([SQUARE], BUDGET, seed=3)
    wide = m.to_text()
    assert max(len(line) for line in wide.splitlines()) > 40
    for width in (40, 80, 200):
        text = m.to_text(width)
        assert all(len(line) <= width for line in text.splitlines()), text
        for e in m.entries:         # every row's hypothesis and result, at any width
            assert e.hypothesis in text and e.verdict.split()[0] in text


def test_report_command_shows_the_necessity_table(tmp_path):
    from proofcheck.cli import main
    f = tmp_path / "square.py"
    f.write_text(
        "from hypothesis import strategies as st\n"
        "from proofcheck import Claim, Hypothesis, Instance, Margin, Source\n"
        "UNIT = Hypothesis('unit', '|x| <= 1', lambda i: abs(i.x) <= 1)\n"
        "def inst(a):\n"
        "    xs = st.floats(-1, 1) if a['unit'] else st.floats(1.5, 8)\n"
        "    return xs.map(lambda x: Instance(x=x))\n"
        "c = Claim(id='demo.lemma3', title='t', source=Source('demo', '2', 'L3'),\n"
        "          statement='s', hypotheses=(UNIT,), instances=inst,\n"
        "          conclusion=lambda i, p, B: Margin.at_most(i.x * i.x, abs(i.x), B))\n")
    r = CliRunner().invoke(main, ["report", "--path", str(f), "--necessity-only", "--budget",
                                  "30", "--format", "json", "--no-progress"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output[r.output.index("{"):])
    (entry,) = doc["necessity"]["entries"]
    assert entry["verdict"] == "necessary" and entry["hypothesis"] == "unit"
    r = CliRunner().invoke(main, ["report", "--path", str(f), "--necessity", "--profile",
                                  "quick", "--budget", "30", "--format", "md", "--no-progress"])
    assert r.exit_code == 0, r.output
    assert "Assumption-necessity map" in r.output and "| demo.lemma3 | unit | necessary |" \
        in r.output
