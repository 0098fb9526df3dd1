"""Determinism: the same seed and profile give byte-identical JSON apart from timings.

One cheap claim of each paper (one of them a depth-and-width claim about certified local minima
of a piecewise-linear network, whose float64 descent used to depend on the process's memory
state) is checked twice, in two processes with different ``PYTHONHASHSEED`` values, without
the result cache or the failure database; the reports must agree byte for byte once the
``seconds`` and ``cached_at`` keys are dropped, and no timing text (``[0.29 s]``) may appear
inside a summary or ``caught_by`` string.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

# leaf ids (an id also selects the claims below it); one erratum among them, so a witness is
# in the comparison too
CLAIMS = (
    "kb2019.lemma2.perturbed_first_order",
    "khk2019dw.corollary2",      # certified local minima of a ReLU network (piecewise finder)
    "khk2019lm.theorem1.tangent_space",
    "shamir2018.figure1.objective",
)
TIMING_KEYS = ("seconds", "cached_at")
TIMING_TEXT = re.compile(r"\[\s*[0-9.eE+-]+\s*s\]")


def _strip(obj: Any) -> Any:
    """``obj`` without the keys that hold timings.

    >>> _strip({"a": 1, "seconds": 2.0, "b": [{"cached_at": "x", "c": 3}]})
    {'a': 1, 'b': [{'c': 3}]}
    """
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if k not in TIMING_KEYS}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def _strings_under(obj: Any, keys: tuple[str, ...]) -> list[str]:
    """Every string (also inside lists) stored under one of ``keys`` anywhere in ``obj``."""
    out: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in keys:
                stack = [v]
                while stack:
                    x = stack.pop()
                    if isinstance(x, str):
                        out.append(x)
                    elif isinstance(x, list):
                        stack.extend(x)
            out += _strings_under(v, keys)
    elif isinstance(obj, list):
        for v in obj:
            out += _strings_under(v, keys)
    return out


def _run(tmp: Path, hash_seed: str, name: str) -> str:
    out = tmp / f"{name}.json"
    env = dict(os.environ, PYTHONHASHSEED=hash_seed, PROOFCHECK_WITNESS_DB="none")
    proc = subprocess.run(
        [sys.executable, "-m", "proofcheck.cli", "check", *CLAIMS, "--profile", "quick",
         "--seed", "0", "--no-cache", "--witness-db", "none", "-j", "0", "--format", "json",
         "-o", str(out)],
        cwd=tmp, env=env, capture_output=True, text=True, timeout=300)
    assert out.exists(), f"no report (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return out.read_text()


def test_same_seed_gives_identical_json_across_hash_seeds(tmp_path: Path) -> None:
    a = json.loads(_run(tmp_path, "1", "a"))
    b = json.loads(_run(tmp_path, "2", "b"))
    assert sorted(c["id"] for c in a["claims"]) == sorted(CLAIMS)
    assert not [c["id"] for c in a["claims"] if c["verdict"] == "error"]
    sa = json.dumps(_strip(a), sort_keys=True, indent=1)
    sb = json.dumps(_strip(b), sort_keys=True, indent=1)
    if sa != sb:
        import difflib
        diff = "\n".join(list(difflib.unified_diff(sa.splitlines(), sb.splitlines(),
                                                   lineterm="", n=1))[:60])
        raise AssertionError("reports differ between PYTHONHASHSEED=1 and 2:\n" + diff)
    # the depth-and-width claim did certify points (the comparison is not vacuous)
    dw = next(c for c in a["claims"] if c["id"] == "khk2019dw.corollary2")
    assert "certified local minim" in json.dumps(dw)
    for text in _strings_under(a, ("summary", "caught_by")):
        assert not TIMING_TEXT.search(text), f"timing text in {text!r}"
