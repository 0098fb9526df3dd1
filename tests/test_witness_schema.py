"""docs/witness.schema.json describes the files the code writes, and the reader is at least as
strict as the schema (every document the schema rejects, the reader rejects)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proofcheck.catalog import load_claims
from proofcheck.search import Budget, explore
from proofcheck.search.witness import WitnessError, parse_witness_text, save_witness

jsonschema = pytest.importorskip("jsonschema")

SCHEMA = json.loads((Path(__file__).parents[1] / "docs" / "witness.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """One witness file of each kind, as the code writes them: an instance, a certified point
    (local-minimum claim) and an identity."""
    d = tmp_path_factory.mktemp("schema")
    reg = load_claims()
    runs = [
        explore(reg.get("kb2019.theorem1.convexity"), drop=("A2",),
                budget=Budget(instances=50), seed=2),
        explore(reg.get("kb2019.theorem1"), mutate="doubled_improvement",
                budget=Budget(instances=2), seed=0, starts=2, shrink=False),
        explore(reg.get("kb2019.lemma1"), mutate="doubled", seed=0),
    ]
    return [json.loads(save_witness(ex.witnesses[0], d, seed=0).read_text()) for ex in runs]


def test_schema_is_valid():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_written_files_match_the_schema(written):
    kinds = set()
    for doc in written:
        errors = [e.message for e in VALIDATOR.iter_errors(doc)]
        assert not errors, errors[:3]
        parse_witness_text(json.dumps(doc))
        kinds.add((doc["kind"], doc["point"] is not None))
    assert kinds == {("instance", False), ("instance", True), ("identity", False)}


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for k, v in enumerate(doc[:2]):
            yield from _paths(v, prefix + (k,))


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-(2 ** 70), 2 ** 70) | st.text(max_size=6)
    | st.sampled_from(["0x1.0000000000000p-1", "0.5", "nan", "1/2", "float", "array"]),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(
        st.sampled_from(["float", "fraction", "array", "object", "list", "dict", "dtype",
                         "shape", "values", "kind", "name", "params", "x"]), c, max_size=3),
    max_leaves=12)


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_the_reader_rejects_what_the_schema_rejects(written, data):
    doc = data.draw(st.sampled_from(written))
    where = data.draw(st.sampled_from([p for p in _paths(doc) if p]))
    bad = copy.deepcopy(doc)
    node = bad
    for k in where[:-1]:
        node = node[k]
    node[where[-1]] = data.draw(JSONISH)
    if VALIDATOR.is_valid(bad):
        return
    with pytest.raises(WitnessError):
        parse_witness_text(json.dumps(bad))
