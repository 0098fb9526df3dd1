"""Witness files are data: hostile, malformed and truncated files, and random CLI options.

Property-based (Hypothesis, no example database): reading a witness file never imports a
module or runs a command, never ends in a traceback, and either loads a valid witness or fails
with one :class:`WitnessError` line naming the field (``proofcheck replay``: exit 2). Random
option values of the CLI give exit 2 with click's usage message, never a traceback.
"""

from __future__ import annotations

import builtins
import copy
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proofcheck.catalog import load_claims
from proofcheck.cli import EXIT_ERROR, EXIT_USAGE, main
from proofcheck.search import Budget, explore
from proofcheck.search.witness import (WitnessError, decode_value, load_witness,
                                       parse_witness_text, save_witness)

FUZZ = settings(max_examples=150, deadline=None, database=None, print_blob=True,
                suppress_health_check=list(HealthCheck))
CLI_FUZZ = settings(max_examples=60, deadline=None, database=None, print_blob=True,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A real witness file (a dropped hypothesis of a catalogue claim) and its JSON."""
    d = tmp_path_factory.mktemp("w")
    claim = load_claims().get("kb2019.theorem1.convexity")
    ex = explore(claim, drop=("A2",), budget=Budget(instances=50), seed=2)
    path = save_witness(ex.witnesses[0], d, seed=2)
    return path, json.loads(path.read_text())


class _NoNewImports:
    """Fails the test if anything imports a module not yet loaded (a reader that resolves a
    name from the file would)."""

    def __enter__(self):
        self.orig = builtins.__import__
        self.seen: list[str] = []

        def guard(name, globals=None, locals=None, fromlist=(), level=0):
            if level == 0 and name not in sys.modules:
                self.seen.append(name)
                raise AssertionError(f"the witness reader imported {name}")
            return self.orig(name, globals, locals, fromlist, level)

        builtins.__import__ = guard
        return self

    def __exit__(self, *exc):
        builtins.__import__ = self.orig
        return False


def _read(text: str) -> str | None:
    """Parse ``text`` as a witness; None when valid, else the one-line error message."""
    try:
        with _NoNewImports():
            data = parse_witness_text(text)
            if data.get("instance") is not None:
                from proofcheck.search.witness import decode_instance
                with _NoNewImports():
                    decode_instance(data["instance"])
    except WitnessError as exc:
        msg = str(exc)
        assert "\n" not in msg and msg.strip(), repr(msg)
        return msg
    return None


# --- the regressions of the issue --------------------------------------------------------------

def test_an_object_named_by_module_is_never_called(saved, tmp_path):
    path, doc = saved
    marker = tmp_path / "pwned"
    bad = copy.deepcopy(doc)
    bad["instance"]["Phi"] = {"__object__": "os:system", "params": {"command": f"touch {marker}"}}
    p = tmp_path / "evil.json"
    p.write_text(json.dumps(bad))
    res = CliRunner().invoke(main, ["replay", str(p)])
    assert res.exit_code == EXIT_USAGE and not marker.exists()
    assert "field instance.Phi" in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1
    # a registered-object form naming an unknown "class" is rejected as well
    bad["instance"]["Phi"] = {"object": {"kind": "loss", "name": "os:system",
                                       "params": {"command": f"touch {marker}"}}}
    p.write_text(json.dumps(bad))
    res = CliRunner().invoke(main, ["replay", str(p)])
    assert res.exit_code == EXIT_USAGE and not marker.exists()
    assert "unknown 'loss' named 'os:system'" in res.output


def test_paths_in_the_file_are_not_loaded(saved, tmp_path):
    path, doc = saved
    marker = tmp_path / "ran"
    evil = tmp_path / "evil.py"
    evil.write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    bad = dict(doc, claim="evil.lemma1", paths=[str(evil)])
    p = tmp_path / "w.json"
    p.write_text(json.dumps(bad))
    res = CliRunner().invoke(main, ["replay", str(p)])
    assert res.exit_code == EXIT_USAGE and not marker.exists(), res.output
    assert "pass --path" in res.output


@pytest.mark.parametrize("text", ["0.5", "abc", "1/2", "0x1p-1", "  0x1.0000000000000p-1"])
def test_numbers_are_never_guessed(text):
    with pytest.raises(WitnessError, match="float.hex"):
        decode_value({"float": text})
    with pytest.raises(WitnessError, match="not an exact encoding"):
        decode_value(0.5)
    assert decode_value({"float": "0x1.0000000000000p-1"}) == 0.5
    assert decode_value({"fraction": "1/2"}) == 0.5


def test_a_hex_looking_string_margin_exits_2(saved, tmp_path):
    path, doc = saved
    for value in ("0.5", "abc", 0.5):
        p = tmp_path / "m.json"
        p.write_text(json.dumps(dict(doc, margin=value)))
        res = CliRunner().invoke(main, ["replay", str(p)])
        assert res.exit_code == EXIT_USAGE and "field margin" in res.output, res.output


def test_valid_file_still_replays(saved):
    path, _ = saved
    res = CliRunner().invoke(main, ["replay", str(path)])
    assert res.exit_code == 1 and "bit-for-bit" in res.output


# --- property-based ----------------------------------------------------------------------------

HOSTILE = st.one_of(
    st.just({"__object__": "os:system", "params": {"command": "echo pwned"}}),
    st.just({"__object__": "builtins:eval", "params": {}, "registered": True}),
    st.just({"object": {"kind": "loss", "name": "subprocess:run", "params": {}}}),
    st.just({"object": {"kind": "loss", "name": "smoothed_hinge", "params": {"p": "2"}}}),
    st.just({"object": {"kind": "loss", "name": "smoothed_hinge",
                        "params": {"p": {"float": "-0x1.0000000000000p+0"}}}}),
    st.just({"array": {"dtype": "float64", "shape": [10 ** 9, 10 ** 9], "values": []}}),
    st.just({"array": {"dtype": "object", "shape": [1], "values": ["x"]}}),
    st.just({"array": {"dtype": "int8", "shape": [1], "values": [1000]}}),
    st.just({"float": "nan"}), st.just({"float": "0.5"}), st.just("0.5"), st.just("abc"),
    st.integers(min_value=-(10 ** 40), max_value=10 ** 40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20), st.none(), st.booleans(),
    st.recursive(st.none() | st.integers() | st.text(max_size=5),
                 lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c,
                                                                      max_size=3),
                 max_leaves=20),
)


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for k, v in enumerate(doc[:3]):
            yield from _paths(v, prefix + (k,))


def _set(doc, path, value):
    if not path:
        return value
    doc = copy.deepcopy(doc)
    node = doc
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return doc


@FUZZ
@given(data=st.data())
def test_hostile_fields_are_rejected_or_loaded(saved, data):
    _, doc = saved
    paths = list(_paths(doc))
    where = data.draw(st.sampled_from(paths))
    value = data.draw(HOSTILE)
    text = json.dumps(_set(doc, where, value), allow_nan=True)
    _read(text)


@FUZZ
@given(data=st.data())
def test_truncated_and_garbled_files(saved, data):
    path, _ = saved
    text = path.read_text()
    cut = data.draw(st.integers(0, len(text)))
    junk = data.draw(st.text(max_size=8))
    msg = _read(text[:cut] + junk)
    if cut < len(text) - 2:
        assert msg is not None


@settings(max_examples=40, deadline=None, database=None)
@given(depth=st.integers(10, 100_000), kind=st.sampled_from(["[", '{"list": [', '{"a": ']))
def test_deep_nesting_and_huge_numbers(depth, kind):
    closing = {"[": "]", '{"list": [': "]}", '{"a": ': "}"}[kind]
    assert _read(kind * depth + "1" + closing * depth) is not None
    assert _read('{"format": "proofcheck-witness", "format_version": ' + "9" * depth + "}")


@CLI_FUZZ
@given(data=st.data())
def test_replay_of_fuzzed_files_exits_2_in_one_line(saved, data, tmp_path_factory):
    _, doc = saved
    where = data.draw(st.sampled_from([p for p in _paths(doc) if p]))
    text = json.dumps(_set(doc, where, data.draw(HOSTILE)), allow_nan=True)
    text = text[: data.draw(st.integers(len(text) // 2, len(text)))]
    p = tmp_path_factory.mktemp("f") / "w.json"
    p.write_text(text)
    res = CliRunner().invoke(main, ["replay", str(p)])
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert "Traceback" not in res.output
    try:
        load_witness(p)
    except WitnessError:            # not a valid witness file: exit 2, one line
        assert res.exit_code == EXIT_USAGE, res.output
        assert len(res.output.strip().splitlines()) == 1
        return
    # still a valid file (the hostile value fits the format) whose instance the claim's code
    # cannot evaluate (an array of another shape): the claim's error, named, exit 3
    assert res.exit_code in (EXIT_USAGE, EXIT_ERROR), res.output
    if res.exit_code == EXIT_ERROR:
        assert "could not replay" in res.output and "raised" in res.output, res.output
    else:
        assert len(res.output.strip().splitlines()) == 1, res.output


VALUES = st.one_of(st.text(max_size=12), st.sampled_from(
    ["", "-1", "0", "1e400", "nan", "inf", "-inf", "10s", "0s", "2m", "1e400s",
     "99999999999999999999", "99999999999999999999s", "a,b", "200,30s", ",", "\x00",
     "../x", "/nonexistent/dir/f.json"]))
OPTIONS = {
    "list": ["--format", "--path"],
    "check": ["--profile", "--seed", "--format", "--output", "--path"],
    "explore": ["--drop", "--mutate", "--budget", "--seed", "--format", "--save-witness",
                "--path"],
    "report": ["--profile", "--budget", "--seed", "--format", "--output", "--run"],
    "figure": ["--seed", "--format", "--output", "--dataset"],
}


@CLI_FUZZ
@given(data=st.data())
def test_random_option_values_are_usage_errors(data):
    """Every command, random option values, an id that names no claim: exit 2 with click's
    message (the run never starts), never a traceback."""
    cmd = data.draw(st.sampled_from(sorted(OPTIONS)))
    opts = data.draw(st.lists(st.sampled_from(OPTIONS[cmd]), max_size=4))
    args = [cmd, "no.such.claim.zz"]
    for o in opts:
        args += [o, data.draw(VALUES)]
    runner = CliRunner()
    with runner.isolated_filesystem():
        res = runner.invoke(main, args)
        assert not list(Path(".").iterdir()), "a usage error wrote a file"
    assert res.exception is None or isinstance(res.exception, SystemExit), (args, res.output)
    assert "Traceback" not in res.output, (args, res.output)
    assert res.exit_code == EXIT_USAGE, (args, res.output)
    assert "Error" in res.output or "error" in res.output


def test_reader_accepts_what_it_writes(saved):
    path, doc = saved
    w = load_witness(path)
    assert isinstance(w.instance.Phi, np.ndarray) and w.margin < 0
