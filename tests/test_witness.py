"""Witness files: exact floats, bit-for-bit replay, deterministic reports."""

import json

import numpy as np
import pytest

from proofcheck.catalog import load_claims
from proofcheck.search import Budget, explore
from proofcheck.search.witness import (WitnessError, decode_value, encode_float, encode_value,
                                       load_witness, replay, save_witness)

REG = load_claims()


def test_floats_round_trip_exactly():
    rng = np.random.default_rng(0)
    for x in list(rng.normal(size=200) * 10.0 ** rng.integers(-300, 300, 200)) + \
            [0.1, -0.75, 3.0, 2.0 ** 60, 5e-324, -0.0, 1 / 3]:
        y = decode_value(encode_value(float(x)))
        assert y.hex() == float(x).hex()
    assert encode_float(0.5) == (0.5).hex() and encode_float(3.0) == (3.0).hex()
    assert encode_float(0.1) == (0.1).hex()
    assert encode_value(0.5) == {"float": "0x1.0000000000000p-1"}
    A = rng.normal(size=(3, 2))
    assert np.array_equal(decode_value(encode_value(A)), A)


def test_objects_by_name_and_parameters():
    from proofcheck.problems import LOSSES
    enc = encode_value(LOSSES["smoothed_hinge2"])
    assert enc == {"object": {"kind": "loss", "name": "smoothed_hinge", "params": {"p": 2}}}
    assert decode_value(enc) == LOSSES["smoothed_hinge2"]
    for name in ("squared", "cross_entropy", "logistic", "smoothed_hinge3", "double_well"):
        assert decode_value(encode_value(LOSSES[name])) == LOSSES[name]
    with pytest.raises(WitnessError, match="register"):
        encode_value(object())


def test_the_engines_own_units_are_saved_by_name_and_slopes():
    """What proofcheck.strategies.pl_problems draws can be saved: a witness of a user's
    conjecture about ReLU / leaky ReLU / absolute-value networks once could not be."""
    from proofcheck import networks as nw
    for unit in (nw.RELU, nw.ABS, nw.IDENTITY, nw.leaky_relu(0.25)):
        enc = encode_value(unit)
        assert enc["object"]["kind"] == "activation"
        back = decode_value(json.loads(json.dumps(enc)))
        assert back == unit and back.neg == unit.neg and back.pos == unit.pos


def test_save_load_replay_bit_for_bit(tmp_path):
    claim = REG.get("kb2019.theorem1.convexity")
    ex = explore(claim, drop=("A2",), budget=Budget(instances=50), seed=2)
    w = ex.witnesses[0]
    path = save_witness(w, tmp_path, seed=2)
    loaded = load_witness(path)
    assert loaded.claim_id == claim.id and loaded.dropped == ("A2",)
    assert loaded.margin.hex() == w.margin.hex()
    for k, v in w.instance.fields().items():
        if isinstance(v, np.ndarray):
            assert np.array_equal(loaded.instance.fields()[k], v)
    res = replay(path)
    assert res.matches and res.fails and res.admissible and res.reproduced
    assert res.margin.hex() == w.margin.hex()


def test_replay_reports_a_changed_witness(tmp_path):
    """An edited instance that no longer fails is reported as such (replay can fail)."""
    claim = REG.get("kb2019.theorem2.improvement_identity")
    ex = explore(claim, mutate="doubled", budget=Budget(instances=50), seed=0)
    path = save_witness(ex.witnesses[0], tmp_path)
    data = json.loads(path.read_text())
    for name in ("X", "Z", "Y"):
        arr = data["instance"][name]["array"]
        arr["values"] = [(0.0).hex()] * len(arr["values"])
    path.write_text(json.dumps(data))
    res = replay(path)
    assert not res.fails and not res.matches


def test_replay_of_a_point_claim_recertifies_the_point(tmp_path):
    claim = REG.get("kb2019.theorem1")
    ex = explore(claim, mutate="doubled_improvement", budget=Budget(instances=2), seed=0,
                 starts=2, shrink=False)
    w = ex.witnesses[0]
    path = save_witness(w, tmp_path, seed=0)
    data = json.loads(path.read_text())
    # "certify": the float64 parameters re-certify at the evaluator's digits; "find": the
    # (deterministic) finder is re-run and the saved point picked by index. Both replay.
    assert data["point"]["source"] in ("certify", "find") and data["point"]["kind"] == "local_min"
    res = replay(path)
    assert res.reproduced, res.summary()


def test_identity_witness_replays(tmp_path):
    ex = explore(REG.get("kb2019.lemma1"), mutate="doubled", seed=0)
    path = save_witness(ex.witnesses[0], tmp_path)
    res = replay(path)
    assert res.fails and res.matches


def test_same_seed_same_report():
    claim = REG.get("kb2019.theorem1.convexity")
    a = explore(claim, drop=("A2",), budget=Budget(instances=40), seed=5).to_dict()
    b = explore(claim, drop=("A2",), budget=Budget(instances=40), seed=5).to_dict()
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    c = explore(claim, budget=Budget(instances=40), seed=5).to_dict()
    d = explore(claim, budget=Budget(instances=40), seed=5).to_dict()
    assert c == d and "timings" not in c


def test_not_a_witness_file(tmp_path):
    p = tmp_path / "x.json"
    p.write_text("{}")
    with pytest.raises(WitnessError, match="not a proofcheck witness"):
        load_witness(p)
