"""The worked example of docs/write-a-claim.md ("Bring your own model"), run as documented, and
the docs that must stay current (docs/architecture.md lists every module; CONTRIBUTING.md and
the pre-commit config name the tools `.ci/run` uses).

Every verdict asserted here is computed by the engine in this test, never written down."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "new_model_family"
MODEL = EXAMPLE / "factorisation.py"
DOCS = ROOT / "docs"

_FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```", re.M | re.S)


def _titled_blocks(page: str) -> dict[str, str]:
    text = (DOCS / page).read_text(encoding="utf-8")
    out = {}
    for _lang, attrs, code in _FENCE.findall(text):
        title = re.search(r'title="([^"]+)"', attrs)
        if title:
            out[title.group(1)] = code
    return out


def _load_example():
    from proofcheck.catalog import load_claims
    reg = load_claims([EXAMPLE])
    assert reg.errors == []
    return {c.id: c for c in reg.select(None)}


# --------------------------------------------------------------------------------------------
# the page and the example are one file


def test_the_page_shows_the_example_file_verbatim():
    blocks = _titled_blocks("write-a-claim.md")
    assert blocks["new_model_family/factorisation.py"] == MODEL.read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------
# the landscape's derivatives and the finder, against independent references


def test_gradient_and_hessian_match_finite_differences_on_both_backends():
    from proofcheck.backends import get_backend
    ns: dict = {}
    exec(compile(MODEL.read_text(encoding="utf-8"), str(MODEL), "exec"), ns)
    land = ns["FactorisationLandscape"]([1.0, -0.5, 2.0], [0.25, 1.0, -1.5])
    B = get_backend("numpy")
    theta, h = np.array([0.7, -1.3]), 1e-6
    e = np.eye(2)
    fd_g = [(land.value(theta + h * e[i], B) - land.value(theta - h * e[i], B)) / (2 * h)
            for i in range(2)]
    np.testing.assert_allclose(land.gradient(theta, B), fd_g, rtol=1e-7)
    fd_H = np.array([(land.gradient(theta + h * e[i], B) - land.gradient(theta - h * e[i], B))
                     / (2 * h) for i in range(2)])
    np.testing.assert_allclose(land.hessian(theta, B), fd_H, rtol=1e-6)
    M = get_backend("mpmath", digits=30)
    np.testing.assert_allclose(M.to_float(land.hessian(theta, M)), land.hessian(theta, B),
                               rtol=1e-14)


def test_the_registered_finder_classifies_the_origin_and_the_valley():
    from proofcheck.evaluate import as_point, finder_for
    claims = _load_example()
    claim = claims["mynotes.conjecture1"]
    from proofcheck.claims import Instance
    inst = Instance(x=np.array([1.0, 2.0]), y=np.array([1.0, 0.5]))     # b = mean x y != 0
    land = claim.landscape(inst)
    found = finder_for(land)(land, rng=np.random.default_rng(0), starts=6, digits=40)
    kinds = {p.kind for p in found}
    assert {"saddle", "local_min"} <= kinds, kinds
    saddle = next(p for p in found if p.kind == "saddle")
    assert np.allclose(saddle.theta, 0.0)       # the only saddle of L is the origin
    a, b = np.mean(inst.x ** 2), np.mean(inst.x * inst.y)
    for p in found:
        if p.kind == "local_min":               # on the valley u v = b / a
            assert abs(p.theta[0] * p.theta[1] - b / a) < 1e-12
    # b = 0: the origin is a degenerate critical point (zero Hessian) whose refinement converges
    # only linearly; the finder says so instead of guessing a kind
    flat = claim.landscape(Instance(x=np.array([1.0, 2.0]), y=np.array([1.0, -0.5])))
    near_origin = [p for p in finder_for(flat)(flat, rng=np.random.default_rng(0), starts=2,
                                                digits=40) if np.allclose(p.theta, 0, atol=1e-6)]
    assert near_origin and all(p.kind == "unresolved" for p in near_origin)
    view = as_point(saddle)
    assert view.level == "second-order" and view.digits == 40
    assert view.describe() == "saddle (second-order necessary conditions at 40 digits)"


# --------------------------------------------------------------------------------------------
# the two claims, checked by the engine


def test_engine_verifies_the_true_claim_and_refutes_the_false_one_with_grades():
    from proofcheck import engine
    claims = _load_example()
    true = engine.check_claim(claims["mynotes.proposition1"], profile="quick", seed=0)
    assert true.verdict.value == "verified"
    (check,) = [c for c in true.checks if c.name == "conclusion"]
    assert check.points > 0 and check.vacuous_instances == 0
    assert true.grade == "sampled"      # a numerical search at second-order certified points
    assert all(k.startswith("local_min (second-order") for k in check.point_certification)
    assert true.mutants and all(m.caught for m in true.mutants)

    false = engine.check_claim(claims["mynotes.conjecture1"], profile="quick", seed=0)
    assert false.verdict.value == "refuted"
    (check,) = [c for c in false.checks if c.name == "conclusion"]
    w = check.witness
    assert w is not None and w.point["kind"] == "saddle"
    assert np.allclose(w.point["theta"], 0.0)
    # decided at the top rung that applies to a landscape without an interval certificate
    assert false.grade == "high-precision" and w.grade == "high-precision"
    assert w.margin < -w.tolerance


def test_cli_runs_the_example_folder_as_documented(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "proofcheck.cli", "check", "--path", str(EXAMPLE), "--profile",
         "quick", "--format", "json", "--no-progress", "--no-cache", "--witness-db", "none"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert res.returncode == 1, res.stderr          # a refuted claim: exit code 1
    data = json.loads(res.stdout)
    assert data["load_errors"] == []
    claims = {c["id"]: c for c in data["claims"]}
    assert claims["mynotes.proposition1"]["verdict"] == "verified"
    assert claims["mynotes.proposition1"]["evidence"]["points"] > 0
    m = claims["mynotes.proposition1"]["mutants"]
    assert m["caught"] == m["total"] == 2
    refuted = claims["mynotes.conjecture1"]
    assert refuted["verdict"] == "refuted"
    (w,) = refuted["witnesses"]
    assert w["point"]["kind"] == "saddle" and w["margin"] < -w["tolerance"]


# --------------------------------------------------------------------------------------------
# docs that must stay current


def test_architecture_names_every_module():
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    missing = []
    for f in sorted((ROOT / "proofcheck").rglob("*.py")):
        rel = f.relative_to(ROOT / "proofcheck").with_suffix("")
        if rel.name == "__init__" and rel.parent != Path("."):
            name = "/".join(rel.parent.parts) + "/"
        elif rel.name == "__init__":
            continue
        else:
            name = "/".join(rel.parts)
        if f"`{name}`" not in text and f"`{name}.py`" not in text:
            missing.append(name)
    assert not missing, f"docs/architecture.md does not mention: {missing}"


def test_contributing_and_pre_commit_name_the_ci_tools():
    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    for needle in ("ruff check", "mypy", "pytest", "tests/test_layers.py",
                   "tests/test_layering.py", "register_finder", "docgen"):
        assert needle in contributing, needle
    config = (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    yaml = pytest.importorskip("yaml")
    hooks = {h["id"]: h for repo in yaml.safe_load(config)["repos"] for h in repo["hooks"]}
    assert {"ruff", "mypy"} <= set(hooks)
    assert all(h["language"] == "system" for h in hooks.values())     # offline: installed tools
