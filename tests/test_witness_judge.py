"""Replayed witnesses climb the judge's ladder (proofcheck.judge), as check's own failures do:
a certified witness replayed (``proofcheck replay`` or the failure database in ``check``)
comes back certified, a float64-only one stays sampled, a float64 rounding artefact is no
failure; a file whose parameter vector may be in another layout is refused, never misread.

Every claim here is built in the test (files a user shares are data: replay never runs code
named in them; the claims come from ``--path``)."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from proofcheck.cli import main
from proofcheck.search.witness import WitnessError, replay
from proofcheck.witness_db import WitnessDatabase

CLAIMS = '''
import numpy as np
from hypothesis import strategies as st
from proofcheck import Claim, Instance, Margin, Source
from proofcheck.claims import ParameterLayout


def _square(inst, point, B):
    a = B.asarray(inst.a)
    return Margin.at_least(a * a, a, B)


# false: a^2 >= a fails on (0, 1); exact arithmetic decides it (certified)
square = Claim(id="mine.lemma1", title="a square dominates its base",
               source=Source("mine", "1", "Lemma 1"), statement="a^2 >= a",
               conclusion=_square,
               instances=lambda assumed: st.sampled_from([0.5, 0.25]).map(
                   lambda a: Instance(a=a)))

# the same, declared float64-only: nothing above float64 can judge it (sampled)
square_f64 = Claim(id="mine.lemma2", title="a square dominates its base (float64 only)",
                   source=Source("mine", "1", "Lemma 2"), statement="a^2 >= a",
                   conclusion=_square, high_precision=False,
                   instances=lambda assumed: st.sampled_from([0.5, 0.25]).map(
                       lambda a: Instance(a=a)))


def _cancel(inst, point, B):
    x = B.asarray(inst.x)
    return Margin.at_least(x + 1 - x, 1, tol=0.0, tol_source="none: exact sides")


# true: (x + 1) - x >= 1; float64 rounds 1e16 + 1 to 1e16 (a rounding artefact)
cancel = Claim(id="mine.lemma3", title="adding one and taking it away",
               source=Source("mine", "1", "Lemma 3"), statement="(x + 1) - x >= 1",
               conclusion=_cancel,
               instances=lambda assumed: st.just(Instance(x=1e16)))

BLOCKS = ParameterLayout("blocks/2", "the second block first", fields=("theta",))


def _first(inst, point, B):
    theta = B.asarray(inst.theta)
    return Margin.at_least(theta[0], theta[1], B)


# false: theta[0] >= theta[1] for theta in a layout the claim declares
ordered = Claim(id="mine.lemma4", title="ordered parameters",
                source=Source("mine", "1", "Lemma 4"), statement="theta_1 >= theta_2",
                conclusion=_first, layout=BLOCKS,
                instances=lambda assumed: st.just(Instance(theta=np.array([0.5, 2.0]))))
'''


@pytest.fixture
def module(tmp_path: Path) -> Path:
    f = tmp_path / "mine.py"
    f.write_text(CLAIMS)
    return f


def _run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return res.exit_code, res.stdout, res.stderr


def _flat(text: str) -> str:
    """Prose with its line breaks as spaces (the CLI wraps it at 80 columns)."""
    return " ".join(text.split())


def _explore(claim_id: str, module: Path, folder: Path) -> Path:
    code, out, _ = _run("explore", claim_id, "--path", str(module), "--budget", "10",
                        "--no-progress", "--witness-db", "none", "--save-witness", str(folder))
    assert code == 1, out
    return folder / f"{claim_id}.json"


def test_a_certified_witness_replays_certified(module, tmp_path):
    f = _explore("mine.lemma1", module, tmp_path / "w")
    res = replay(f, paths=(str(module),))
    assert res.reproduced and res.refutes and res.decided is True
    assert res.grade == "certified" and res.certified
    assert res.enclosure is not None and res.enclosure[0] == res.enclosure[1]   # exact
    code, out, _ = _run("replay", str(f), "--path", str(module), "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["evidence"]["grade"] == "certified" and doc["certified"] is True


def test_a_float64_only_witness_stays_sampled(module, tmp_path):
    f = _explore("mine.lemma2", module, tmp_path / "w")
    res = replay(f, paths=(str(module),))
    assert res.refutes and res.grade == "sampled" and not res.certified
    assert "no high-precision path" in res.certification
    code, out, _ = _run("replay", str(f), "--path", str(module))
    assert code == 1 and "sampled" in _flat(out)


def test_a_rounding_artefact_is_no_failure(module, tmp_path):
    from proofcheck.catalog import load_claims
    from proofcheck.claims import Instance
    from proofcheck.search.explore import Counterexample
    from proofcheck.search.witness import save_witness

    claim = load_claims([str(module)]).get("mine.lemma3")
    # what a float64 search would save: the margin is -1 in float64
    w = Counterexample(claim=claim, instance=Instance(x=1e16), margin=-1.0, tolerance=0.0,
                       claim_id="mine.lemma3")
    f = save_witness(w, tmp_path / "w")
    res = replay(f, paths=(str(module),))
    assert res.fails and res.matches          # float64 reproduces it bit for bit ...
    assert res.decided is False and not res.refutes and res.grade == ""   # ... exact does not
    code, out, _ = _run("replay", str(f), "--path", str(module))
    assert code == 0 and "not a failure" in _flat(out)
    # stored in the failure database: check does not call it a failure, prune drops it
    db = WitnessDatabase(tmp_path / "db")
    db.save(w, paths=(str(module),))
    code, out, _ = _run("check", "mine.lemma3", "--path", str(module), "--profile", "quick",
                        "--no-progress", "--no-cache", "--format", "json", "--witness-db",
                        str(db.root))
    first = json.loads(out)["claims"][0]["checked"][0]
    assert first["name"] == "stored witnesses" and first["passed"] is True
    assert any("fails in float64 only" in n for n in first["notes"])
    code, out, _ = _run("witnesses", "prune", "--witness-db", str(db.root))
    assert code == 0 and "1 dropped, 0 kept" in _flat(out)


def _stored(module: Path, claim_id: str, db: Path) -> dict:
    code, out, _ = _run("explore", claim_id, "--path", str(module), "--budget", "10",
                        "--no-progress", "--witness-db", str(db))
    assert code == 1 and len(WitnessDatabase(db).entries(claim_id)) == 1
    code, out, _ = _run("check", claim_id, "--path", str(module), "--profile", "quick",
                        "--no-progress", "--no-cache", "--format", "json", "--witness-db",
                        str(db))
    assert code == 1
    claim, = json.loads(out)["claims"]
    first = claim["checked"][0]
    assert first["name"] == "stored witnesses" and first["passed"] is False
    return first


def test_check_replays_a_stored_certified_witness_as_certified(module, tmp_path):
    first = _stored(module, "mine.lemma1", tmp_path / "db")
    assert first["evidence"]["grade"] == "certified"
    assert first["witness"]["certified"] is True and first["witness"]["grade"] == "certified"
    assert "replayed from the failure database" in first["witness"]["certification"]


def test_check_replays_a_stored_float64_witness_as_sampled(module, tmp_path):
    first = _stored(module, "mine.lemma2", tmp_path / "db")
    assert first["evidence"]["grade"] == "sampled"
    assert first["witness"]["certified"] is False


def test_a_witness_without_the_claims_layout_is_refused(module, tmp_path):
    f = _explore("mine.lemma4", module, tmp_path / "w")
    data = json.loads(f.read_text())
    assert data["layout"] == "blocks/2"
    assert replay(f, paths=(str(module),)).refutes          # its own layout: replayed
    for k, saved in enumerate((None, "blocks/1")):          # none (an older file), another
        old = dict(data)
        if saved is None:
            old.pop("layout")
        else:
            old["layout"] = saved
        g = tmp_path / f"old{k}.json"
        g.write_text(json.dumps(old))
        with pytest.raises(WitnessError, match="field layout") as err:
            replay(g, paths=(str(module),))
        text = str(err.value)
        assert "\n" not in text and "blocks/2" in text and "--save-witness" in text
        code, _, errout = _run("replay", str(g), "--path", str(module))
        assert code == 2 and errout.count("\n") == 1 and "layout" in errout


def test_a_layout_only_matters_to_files_holding_its_fields(module, tmp_path):
    # mine.lemma1 declares no layout: its files carry none and replay as before
    f = _explore("mine.lemma1", module, tmp_path / "w")
    assert "layout" not in json.loads(f.read_text())
    assert replay(f, paths=(str(module),)).refutes


def test_explore_certifies_what_the_judge_certifies_on_a_stratum():
    """explore's certifier tries the judge's other certifying rungs (the exact stratum point),
    so an errata witness that check certifies is certified by explore too."""
    import numpy as np

    from proofcheck.backends import get_backend
    from proofcheck.catalog import load_claims
    from proofcheck.evaluate import evaluate_conclusion, failures, find_points
    from proofcheck.judge import judge
    from proofcheck.search.certify import certify
    from theorems.khk2019dw.instances import build_stratum

    inst = build_stratum(1, [2, 1, 1], ["relu"], linear_unit=True).replace(
        t=0, theta_test="pointwise")
    claim = load_claims().get("khk2019dw.remark1")
    found = find_points(claim, inst, rng=np.random.default_rng(0), starts=4, digits=40)
    B = get_backend("numpy")
    bad = [p for p in found.points
           if np.any(failures(evaluate_conclusion(claim, inst, p, B))[2])]
    assert bad
    assert judge(claim, inst, bad[0], digits=40).grade == "certified"
    cert = certify(claim, {"instance": inst, "point": bad[0]}, digits=40)
    assert cert.certified and cert.status == "certified-exact", cert.detail


def test_khk2019lm_theta_files_without_a_layout_are_refused(tmp_path):
    """khk2019lm's network theta moved to Network.flatten's layout; a file saved before the
    claims declared it (no "layout") is refused, one saved now replays."""
    code, out, _ = _run("explore", "khk2019lm.theorem2.chain", "--mutate", "flipped_first",
                        "--budget", "30", "--no-progress", "--witness-db", "none",
                        "--save-witness", str(tmp_path))
    assert code == 1, out           # the mutant fails: a witness file to read below
    f = tmp_path / "khk2019lm.theorem2.chain.flipped_first.json"
    data = json.loads(f.read_text())
    assert "theta" in data["instance"] and data["layout"] == "network-blocks/1"
    assert replay(f).margin is not None
    data.pop("layout")
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data))
    with pytest.raises(WitnessError, match="network-blocks/1"):
        replay(old)


def test_explore_grades_its_witness_as_the_judge_does():
    """An explored witness carries the judge's grade: a certified failure is 'certified', and
    the grade goes into the witness file (read back by the validating reader)."""
    from proofcheck.catalog import load_claims
    from proofcheck.search import Budget, explore
    from proofcheck.search.witness import validate_witness
    claim = load_claims().get("kb2019.theorem1.convexity")
    ex = explore(claim, drop=("A2",), budget=Budget(instances=50), seed=0)
    w = ex.witnesses[0]
    assert w.certified and w.grade == "certified"
    data = w.to_dict()
    assert data["grade"] == "certified"
    assert validate_witness(data)["grade"] == "certified"
