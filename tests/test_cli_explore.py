"""`proofcheck explore` and `proofcheck replay` on the catalogue and on a user's claim folder."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from click.testing import CliRunner

from proofcheck.cli import EXIT_ERROR, EXIT_OK, EXIT_REFUTED, EXIT_USAGE, main

USER = Path(__file__).parent / "fixtures" / "user_claims"


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_help_documents_exit_codes():
    for cmd in ("explore", "replay"):
        out = run(cmd, "--help").output
        assert "Exit codes:" in out and "2  usage error" in out


def test_explore_dropped_hypothesis_json_save_and_replay(tmp_path):
    res = run("explore", "kb2019.theorem1.convexity", "--drop", "A2", "--budget", "80",
              "--format", "json", "--save-witness", str(tmp_path), "--no-progress")
    assert res.exit_code == EXIT_REFUTED, res.output
    doc = json.loads(res.stdout)
    assert doc["found"] and doc["dropped"] == ["A2"] and doc["budget"]["instances"] == 80
    assert doc["spent"]["instances"] <= 80 and "timings" in doc
    [path] = doc["witness_files"]
    rep = run("replay", path, "--format", "json")
    assert rep.exit_code == EXIT_REFUTED, rep.output
    out = json.loads(rep.stdout)
    assert out["matches"] and out["fails"] and out["margin"] == doc["witnesses"][0]["margin"]
    text = run("replay", path)
    assert "bit-for-bit" in text.stdout


def test_same_seed_same_json_report():
    args = ("explore", "kb2019.theorem2.improvement_identity", "--mutate", "unprojected_Z",
            "--budget", "60", "--seed", "4", "--format", "json", "--no-progress")
    a, b = json.loads(run(*args).stdout), json.loads(run(*args).stdout)
    a.pop("timings"), b.pop("timings")
    assert a == b and a["found"]


def test_text_report_and_no_counterexample_exit_code():
    res = run("explore", "kb2019.theorem1.convexity", "--budget", "30", "--no-progress")
    assert res.exit_code == EXIT_OK, res.output
    assert "no counterexample within budget 30 instances" in " ".join(res.stdout.split())
    res = run("explore", "kb2019.lemma1", "--mutate", "swapped_factors", "--no-progress")
    assert res.exit_code == EXIT_REFUTED and "certified-exact" in res.stdout


def test_usage_errors_list_valid_names():
    res = run("explore", "kb2019.theorem1", "--drop", "A9")
    assert res.exit_code == EXIT_USAGE and "its hypotheses: A1, A2" in res.output
    res = run("explore", "kb2019.theorem1", "--mutate", "nope")
    assert res.exit_code == EXIT_USAGE and "doubled_improvement" in res.output
    res = run("explore", "kb2019.theorem1", "--budget", "soon")
    assert res.exit_code == EXIT_USAGE and "--budget" in res.output
    res = run("explore", "kb2019.theorm1")
    assert res.exit_code == EXIT_USAGE and "did you mean" in res.output


def test_generator_that_cannot_violate_is_a_claim_error():
    res = run("explore", "kb2019.theorem2", "--drop", "B1", "--budget", "3", "--no-progress")
    assert res.exit_code == EXIT_ERROR and "violates B1" in " ".join(res.stdout.split())


def test_user_claim_with_its_own_loss_object(tmp_path):
    """A user's module (loaded with --path) whose instances carry an object of the user's own
    class: explored, saved by class name and parameters, replayed after loading the module."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "tilted.py").write_text(textwrap.dedent('''
        from dataclasses import dataclass
        import numpy as np
        from hypothesis import strategies as st
        from proofcheck import Claim, Hypothesis, Instance, Margin, Source
        from proofcheck.search.witness import register_dataclass

        @register_dataclass
        @dataclass(frozen=True)
        class Tilt:
            slope: float

        SMALL = Hypothesis("small", "|x| <= 1", lambda i: bool(np.all(np.abs(i.x) <= 1)))

        def instances(assumed):
            lo, hi = (-1, 1) if assumed["small"] else (1.5, 9)
            return st.lists(st.floats(lo, hi), min_size=1, max_size=4).map(
                lambda v: Instance(x=np.array(v) * 1.1 / 1.1, tilt=Tilt(0.25)))

        def conclusion(inst, point, B):
            # sum x^2 <= n: true on the unit cube, false outside
            x = inst.x
            return Margin.at_most(np.sum(x * x) + inst.tilt.slope * 0, float(x.size), B)

        cube = Claim(id="mine.lemma7", title="squares on the cube", source=Source("mine", "1", "Lemma 7"),
                     statement="sum x_i^2 <= n on [-1, 1]^n", hypotheses=(SMALL,),
                     conclusion=conclusion, instances=instances)
    '''))
    res = run("explore", "mine.lemma7", "--path", str(folder), "--drop", "small",
              "--budget", "50", "--save-witness", str(tmp_path / "w"), "--no-progress")
    assert res.exit_code == EXIT_REFUTED, res.output
    [path] = list((tmp_path / "w").glob("*.json"))
    data = json.loads(path.read_text())
    assert data["instance"]["tilt"] == {"object": {"kind": "object", "name": "tilt",
                                                   "params": {"slope": {"float": "0x1.0000000000000p-2"}}}}
    assert data["instance"]["x"]["array"]["shape"] == [1]          # shrunk to one entry
    # the path is recorded in the file, but a witness file never loads code by itself
    rep = run("replay", str(path))
    assert rep.exit_code == EXIT_USAGE and "pass --path" in rep.output, rep.output
    rep = run("replay", str(path), "--path", str(folder))
    assert rep.exit_code == EXIT_REFUTED and "bit-for-bit" in rep.stdout, rep.output
