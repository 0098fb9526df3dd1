"""The user-conjecture example (examples/conjectures/) end to end: check, explore (with
certification), replay; and the necessity of A1 for the published statement."""

import json
import re
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from proofcheck.cli import main

FOLDER = str(Path(__file__).resolve().parents[1] / "examples" / "conjectures")


def run(*args):
    return CliRunner().invoke(main, [*args, "--path", FOLDER, "--no-progress"])


@pytest.fixture(scope="module")
def explored(tmp_path_factory):
    out = tmp_path_factory.mktemp("witnesses")
    r = run("explore", "user.conjecture1", "--budget", "4", "--format", "json",
            "--save-witness", str(out))
    return r, out


def test_explore_finds_and_certifies_a_counterexample(explored):
    r, _ = explored
    assert r.exit_code == 1, r.output            # 1: a counterexample was found
    doc = json.loads(r.output[r.output.index("{"):])
    assert doc["refuted"] is True
    w = doc["witnesses"][0]
    cert = w["certificate"]
    assert w["status"] == cert["status"] == "certified-exact"
    margin = w["margin"]        # witness format 2: floats are tagged exact hex
    margin = float.fromhex(margin["float"]) if isinstance(margin, dict) else margin
    assert w["fails"] and margin < 0
    # the point is proven a (global, hence local) minimum, and the margin there is an exact
    # negative rational
    assert "global, hence local, minimum" in cert["detail"]
    m = re.search(r"margin is exactly (-[0-9/]+) < 0", cert["detail"])
    assert m and Fraction(m.group(1)) < 0


def test_replay_reproduces_the_witness(explored):
    _, out = explored
    (f,) = sorted(out.glob("user.conjecture1*.json"))
    r = CliRunner().invoke(main, ["replay", str(f), "--path", FOLDER])
    assert r.exit_code == 1, r.output            # still fails
    assert "bit-for-bit" in r.output


def test_check_refutes_the_conjecture():
    r = run("check", "user.conjecture1", "--profile", "quick", "--format", "json")
    assert r.exit_code == 1, r.output
    doc = json.loads(r.output[r.output.index("{"):])
    (claim,) = doc["claims"]
    assert claim["verdict"] == "refuted"
