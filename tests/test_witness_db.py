"""The failure database (proofcheck/witness_db.py): explore stores, check replays first,
``proofcheck witnesses list|show|prune``."""

import json
from pathlib import Path

from click.testing import CliRunner

from proofcheck.cli import main
from proofcheck.witness_db import WitnessDatabase, database_from

FALSE_CLAIM = '''
from hypothesis import strategies as st
from proofcheck import Claim, Instance, Margin, Source

square_dominates = Claim(
    id="mine.square", title="a square dominates its base",
    source=Source("mine", "1", "Lemma 2"), statement="a^2 >= a for every real a",
    conclusion=lambda inst, point, B: Margin.at_least(inst.a * inst.a, inst.a {shift}, B),
    instances=lambda assumed: st.floats(-10, 10, allow_nan=False).map(lambda a: Instance(a=a)),
)
'''


def _module(folder: Path, shift: str = "") -> Path:
    f = folder / "mine.py"
    f.write_text(FALSE_CLAIM.replace("{shift}", shift))
    return f


def _run(*args):
    res = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return res.exit_code, res.stdout


def test_explore_stores_and_check_replays_first(tmp_path):
    mod, db = _module(tmp_path), tmp_path / "db"
    code, out = _run("explore", "mine.square", "--path", str(mod), "--budget", "60",
                     "--no-progress", "--witness-db", str(db))
    assert code == 1, out
    stored = WitnessDatabase(db).entries("mine.square")
    assert len(stored) == 1 and stored[0].path.parent == db / "mine.square"
    code, out = _run("check", "--path", str(mod), "--profile", "quick", "--no-progress",
                     "--format", "json", "--witness-db", str(db))
    assert code == 1
    claim, = json.loads(out)["claims"]
    first = claim["checked"][0]
    assert first["name"] == "stored witnesses"
    assert first["passed"] is False and first["instances"] == 1
    assert str(stored[0].path) in first["witness"]["detail"]
    assert claim["verdict"] == "refuted"
    # the same counterexample is stored once (content hash), and list / show find it
    assert len(WitnessDatabase(db).entries()) == 1
    code, out = _run("witnesses", "list", "--witness-db", str(db))
    assert code == 0 and stored[0].key in out
    code, out = _run("witnesses", "show", stored[0].key[:8], "--witness-db", str(db))
    assert code == 0 and "proofcheck replay" in out and '"claim": "mine.square"' in out


def test_check_stores_a_failure_it_finds(tmp_path):
    mod, db = _module(tmp_path), tmp_path / "db"
    code, _ = _run("check", "--path", str(mod), "--profile", "quick", "--no-progress",
                   "--witness-db", str(db))
    assert code == 1
    assert len(WitnessDatabase(db).entries("mine.square")) == 1


def test_prune_drops_what_no_longer_fails_or_exists(tmp_path):
    mod, db = _module(tmp_path), tmp_path / "db"
    _run("explore", "mine.square", "--path", str(mod), "--budget", "60", "--no-progress",
         "--witness-db", str(db))
    assert len(WitnessDatabase(db).entries()) == 1
    code, out = _run("witnesses", "prune", "--witness-db", str(db))
    assert "0 dropped, 1 kept" in out
    _module(tmp_path, shift="- 0.25")        # a^2 >= a - 1/4 holds: the witness is stale
    code, out = _run("witnesses", "prune", "--dry-run", "--witness-db", str(db))
    assert "would drop" in out and "no longer fails" in out
    assert len(WitnessDatabase(db).entries()) == 1
    code, out = _run("witnesses", "prune", "--witness-db", str(db))
    assert code == 0 and "1 dropped, 0 kept" in out
    assert WitnessDatabase(db).entries() == []


def test_none_disables_and_default_folder(tmp_path, monkeypatch):
    assert database_from("none") is None and database_from("NONE") is None
    mod = _module(tmp_path)
    monkeypatch.chdir(tmp_path)
    _run("explore", "mine.square", "--path", str(mod), "--budget", "60", "--no-progress",
         "--witness-db", "none")
    assert not (tmp_path / ".proofcheck").exists()
    monkeypatch.delenv("PROOFCHECK_WITNESS_DB")
    _run("explore", "mine.square", "--path", str(mod), "--budget", "60", "--no-progress")
    assert len(list((tmp_path / ".proofcheck" / "witnesses" / "mine.square").glob("*.json"))) == 1


ERRATUM = '''
from hypothesis import strategies as st
from proofcheck import Claim, Instance, Margin, Source

reals = lambda assumed: st.floats(-10, 10, allow_nan=False).map(lambda a: Instance(a=a))
corrected = Claim(
    id="mine.erratum", title="corrected", source=Source("mine", "1", "Lemma 3"),
    statement="a^2 >= a - 1/4 for every real a",
    conclusion=lambda inst, point, B: Margin.at_least(inst.a * inst.a, inst.a - 0.25, B,
                                                      n_ops=2),
    instances=reals)
printed = Claim(
    id="mine.erratum", title="as printed", source=Source("mine", "1", "Lemma 3"),
    statement="a^2 >= a for every real a",
    conclusion=lambda inst, point, B: Margin.at_least(inst.a * inst.a, inst.a, B),
    instances=reals, corrected=corrected, erratum="the printed bound misses 1/4")
'''


def test_an_erratum_stays_an_erratum_with_its_witness_stored(tmp_path):
    """The printed statement's stored witness is replayed against the printed statement only,
    not against the corrected one (which shares the claim id)."""
    mod, db = tmp_path / "erratum.py", tmp_path / "db"
    mod.write_text(ERRATUM)
    args = ["check", "--path", str(mod), "--profile", "quick", "--no-progress", "--format",
            "json", "--witness-db", str(db)]
    code, out = _run(*args)
    first, = json.loads(out)["claims"]
    assert first["verdict"] == "erratum" and code == 0
    assert len(WitnessDatabase(db).entries("mine.erratum")) == 1
    code, out = _run(*args, "--no-cache")      # re-checked: an unchanged claim would be cached
    second, = json.loads(out)["claims"]
    assert second["verdict"] == "erratum"
    assert second["checked"][0]["name"] == "stored witnesses"
    assert second["checked"][0]["passed"] is False
    assert all(c["name"] != "stored witnesses" for c in second["corrected"]["checked"])
