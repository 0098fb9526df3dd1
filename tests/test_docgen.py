"""The documentation: generated catalogue pages, the hand-written guide's code, the mkdocs build.

``mkdocs build --strict`` is required (mkdocs-material is in the ``test`` and ``docs`` extras):
without mkdocs the build tests fail with a message saying what to install, they are not skipped.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import strategies as st

from proofcheck import Claim, Hypothesis, Identity, Instance, Margin, Source
from proofcheck import docgen, engine, report
from proofcheck.catalog import Registry
from proofcheck.cli import EXIT_OK, main
from proofcheck.results import (CheckRecord, ClaimResult, EvidenceKind, MutantResult, RunResult,
                                Verdict, Witness)
from proofcheck.symbolic import SizeSweep

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GUIDE = ["index.md", "install.md", "check.md", "write-a-claim.md", "reports.md",
         "architecture.md"]
# the same extensions as mkdocs.yml, to look at rendered text without a full site build
EXTENSIONS = ["admonition", "attr_list", "tables", "toc", "pymdownx.details",
              "pymdownx.superfences"]


# --------------------------------------------------------------------------------------------
# a small hand-made run


def _claims():
    """Claims whose metadata the pages take from the registry (hypotheses, identities)."""
    conclusion = lambda inst, point, B: Margin.at_least(inst.x * inst.x, 0.0, B)
    gen = lambda assumed: st.floats(-1, 1).map(lambda x: Instance(x=x))
    pos = Claim(id="demo.lemma1", title="squares are non-negative",
                source=Source("demo", "1", "Lemma 1"), statement="x_1^2 >= 0 for real x_1",
                hypotheses=(Hypothesis("H*", "x is real [always]"),),
                conclusion=conclusion, instances=gen, notes="a note about <tolerances>")
    sweep = SizeSweep(n=(1, 2))
    fixed = Claim(id="demo.lemma2", title="trace of P[X]", source=Source("demo", "2", "Lemma 2"),
                  statement="tr P[X] = rank X",
                  identities=(Identity("trace", "tr P[X] = rank X", lambda s: (0, 0), sweep,
                                       as_printed=False),))
    printed = Claim(id="demo.lemma2", title="trace of P[X]", source=Source("demo", "2", "Lemma 2"),
                    statement="tr P[X] = n for X of n columns",
                    identities=(Identity("trace", "tr P[X] = n", lambda s: (0, 0), sweep),),
                    corrected=fixed, erratum="it is the rank, not n")
    lm = Claim(id="demo.theorem1", title="local minima", source=Source("demo", "3", "Theorem 1"),
               statement="every local minimum is global", conclusion=conclusion, instances=gen)
    return [pos, printed, lm]


def _run() -> RunResult:
    sizes = [{"n": 1}, {"n": 2}]
    verified = ClaimResult(
        "demo.lemma1", "squares are non-negative", "DEMO §1, Lemma 1", Verdict.VERIFIED,
        statement="x_1^2 >= 0 for real x_1",
        checks=[CheckRecord("conclusion", EvidenceKind.NUMERIC_SEARCH, True,
                            "no counterexample in 60 instances", instances=60, min_margin=0.25,
                            tolerance=2e-16, tolerance_source="numpy: safety * u * scale",
                            precision="float64")],
        mutants=[MutantResult("flipped", "flipped inequality", "x^2 <= 0", True,
                              "conclusion: counterexample"),
                 MutantResult("halved", "perturbed constant", "x^2 >= 1/2", False,
                              "not caught: no counterexample in 60 instances")])
    witness = Witness("trace", -1.0, 0.0, True, "exact (sympy rationals)",
                      instance={"sizes": {"n": 1}, "values": {"X": [[0.0]]}},
                      detail="lhs - rhs != 0 at random trial 1 of 2")
    erratum = ClaimResult(
        "demo.lemma2", "trace of P[X]", "DEMO §2, Lemma 2", Verdict.ERRATUM,
        statement="tr P[X] = n for X of n columns", erratum="it is the rank, not n",
        checks=[CheckRecord("trace", EvidenceKind.EXACT_RANDOM, False,
                            "trace: REFUTED at n=1: lhs - rhs != 0 [0.01 s]", sizes=sizes[:0],
                            precision="exact", witness=witness)],
        corrected=ClaimResult("demo.lemma2", "trace of P[X]", "DEMO §2, Lemma 2",
                              Verdict.VERIFIED, statement="tr P[X] = rank X",
                              checks=[CheckRecord("trace", EvidenceKind.SYMBOLIC_PROOF, True,
                                                  "trace: proven", sizes=sizes,
                                                  precision="exact")]),
        mutants=[MutantResult("plus_one", "perturbed constant", "tr P[X] = rank X + 1", True,
                              "trace[plus_one]: trace[plus_one]: REFUTED at n=1 [0.00 s]")])
    vacuous = ClaimResult(
        "demo.theorem1", "local minima", "DEMO §3, Theorem 1", Verdict.INCONCLUSIVE,
        statement="every local minimum is global", point_kind="local minimum",
        checks=[CheckRecord("conclusion", EvidenceKind.NUMERIC_SEARCH, None,
                            "vacuous here: no certified local minima found in 3 instances",
                            instances=3, vacuous_instances=3)])
    other = ClaimResult("other.lemma1", "elsewhere", "OTHER §1, Lemma 1", Verdict.REFUTED,
                        statement="1 < 0",
                        checks=[CheckRecord("conclusion", EvidenceKind.NUMERIC_SEARCH, False,
                                            "counterexample", instances=1,
                                            witness=Witness("conclusion", -1.0, 0.0, False,
                                                            "mpmath 40 digits",
                                                            instance={"x": 0.5}))])
    return RunResult([verified, erratum, vacuous, other], "quick", 7, 1.5, "0.1.0")


def _registry() -> Registry:
    reg = Registry()
    for c in _claims():
        reg.add(c, "demo_claims/lemmas.py")
    return reg


@pytest.fixture
def pages(tmp_path):
    run = _run()
    written = docgen.generate_catalogue(run, _registry(), tmp_path / "catalogue")
    return run, {p.name: p.read_text(encoding="utf-8") for p in written}, written


def _text(md: str) -> str:
    """The visible text of rendered Markdown (tags stripped, entities decoded)."""
    import html
    try:
        import markdown
    except ImportError:
        pytest.fail("python-markdown is missing: install the docs extra, "
                    "`pip install -e '.[docs]'` (mkdocs-material brings it)")
    return html.unescape(re.sub(r"<[^>]+>", "", markdown.markdown(md, extensions=EXTENSIONS)))


def test_one_page_per_paper_and_an_index(pages):
    run, text, written = pages
    assert [p.name for p in written] == ["index.md", "demo.md", "other.md"]
    assert "other.lemma1" in text["other.md"] and "demo.lemma1" not in text["other.md"]
    index = _text(text["index.md"])
    assert "profile quick, seed 7" in index
    # per paper: number of claims, verdict counts and mutants caught, computed from the run
    demo = [r for r in run.claims if r.claim_id.startswith("demo.")]
    caught = sum(r.mutants_caught for r in demo)
    total = sum(len(r.mutants) for r in demo)
    assert f"| {len(demo)} | 1 verified, 1 erratum, 1 inconclusive | {caught}/{total} |" \
        in text["index.md"]


def test_claim_sections_carry_ids_verdicts_and_evidence(pages):
    run, text, _ = pages
    page = text["demo.md"]
    visible = _text(page)
    for r in run.claims[:3]:
        assert f"{{ #{r.claim_id} }}" in page            # a stable anchor per claim
        assert f"[`{r.claim_id}`](#{r.claim_id})" in page  # linked from the index table
        assert f'"{r.verdict.value}"' in page              # the verdict admonition
        assert report.claim_evidence(r) in visible
        assert r.statement in visible                      # printed literally: x_1^2, P[X]
    # hypotheses and notes come from the registry, escaped so they print as written
    assert "H*: x is real [always]" in visible and "a note about <tolerances>" in visible
    # numbers of the evidence, with their tolerance source
    check = run.claims[0].checks[0]
    assert f"min margin {report._num(check.min_margin)} against tolerance " \
           f"{report._num(check.tolerance, 2)}" in visible
    assert "tolerance: numpy: safety * u * scale" in visible
    # mutants caught / total, and the one that was missed is marked
    assert "Mutants: 1/2 caught." in visible and "| `halved` |" in page and "**no**" in page
    assert "vacuous here: no local minimum found in 3 instances" in visible


def test_erratum_section_has_wrong_witness_corrected_and_evidence(pages):
    run, text, _ = pages
    visible = _text(text["demo.md"])
    r = run.claims[1]
    section = visible[visible.index("Erratum"):visible.index("demo.theorem1 local minima")]
    assert "What is wrong. it is the rank, not n" in section
    assert report.witness_phrase(r.witnesses[0]) in section
    assert '"X": [[0.0]]' in section                        # the witness instance
    assert "Corrected statement (verified):" in section and "tr P[X] = rank X" in section
    assert report.evidence_phrase(r.corrected.checks[0]) in section
    assert "our correction, not printed" in section        # the registry's corrected identity
    # the engine repeats a mutated check's name and appends timings; pages show neither
    assert "trace[plus_one]: REFUTED at n=1" in visible
    assert "trace[plus_one]: trace[plus_one]" not in visible
    assert "[0.00 s]" not in text["demo.md"] and "[0.01 s]" not in text["demo.md"]


def test_pages_from_json_equal_pages_from_the_run(tmp_path):
    run, reg = _run(), _registry()
    direct = docgen.paper_page("demo", run, reg)
    # the CLI's JSON report and the plain dict both read back to the same page
    assert docgen.paper_page("demo", docgen.load_run(report.to_json(run)), reg) == direct
    path = tmp_path / "run.json"
    path.write_text(json.dumps(run.to_dict()))
    assert docgen.paper_page("demo", docgen.load_run(path), reg) == direct


def test_docstring_examples():
    import doctest
    result = doctest.testmod(docgen)
    assert result.attempted >= 3 and result.failed == 0


def test_bad_runs_are_refused_with_the_cause(tmp_path):
    with pytest.raises(ValueError, match="schema_version '9.0'"):
        docgen.load_run({"schema_version": "9.0", "claims": []})
    with pytest.raises(ValueError, match="not a proofcheck run"):
        docgen.load_run({"verdicts": []})
    with pytest.raises(ValueError, match="unknown verdict 'maybe'"):
        docgen.load_run({"schema_version": "1.0", "claims": [
            {"id": "demo.lemma1", "verdict": "maybe"}]})
    with pytest.raises(ValueError, match="no run report at"):
        docgen.load_run(tmp_path / "missing.json")
    with pytest.raises(ValueError, match="nothing to document"):
        docgen.generate_catalogue(RunResult([], "quick", 0), None, tmp_path)
    with pytest.raises(TypeError, match="got int"):
        docgen.load_run(3)


def test_docs_command_writes_pages_from_a_saved_run(tmp_path):
    run_file = tmp_path / "run.json"
    run_file.write_text(report.to_json(_run()))
    res = CliRunner().invoke(main, ["docs", "--run", str(run_file), "--path",
                                    str(ROOT / "tests" / "fixtures" / "user_claims"),
                                    "-o", str(tmp_path / "out")], catch_exceptions=False)
    assert res.exit_code == EXIT_OK, res.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == \
        ["demo.md", "index.md", "other.md"]
    assert "wrote" in res.stderr


# --------------------------------------------------------------------------------------------
# the hand-written guide


_FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```", re.M | re.S)


def _blocks(page: str):
    """(language, title or None, code) of every fenced block of a guide page."""
    text = (DOCS / page).read_text(encoding="utf-8")
    for lang, attrs, code in _FENCE.findall(text):
        title = re.search(r'title="([^"]+)"', attrs)
        yield lang, title.group(1) if title else None, code


def test_profile_table_matches_the_engine():
    text = (DOCS / "check.md").read_text(encoding="utf-8")
    text = text[text.index("## Profiles"):text.index("## Seeds")]
    rows = re.findall(r"^\| `(\w+)` \|(.*)\|$", text, re.M)
    table = {name: [int(x.strip()) for x in cells.split("|")] for name, cells in rows}
    assert set(table) == set(engine.PROFILES)
    for name, p in engine.PROFILES.items():
        assert table[name] == [p.instances, p.hp_instances, p.point_instances, p.starts,
                               p.digits, p.mutant_instances, p.mutant_point_instances], name


def test_guide_python_snippets_run(tmp_path, monkeypatch):
    """Every untitled python block of the guide runs (one namespace per page)."""
    monkeypatch.chdir(tmp_path)
    ran = 0
    for page in GUIDE:
        namespace: dict = {}
        for lang, title, code in _blocks(page):
            if lang == "python" and title is None:
                exec(compile(code, f"{page} block", "exec"), namespace)
                ran += 1
    assert ran >= 3


def test_write_a_claim_example_runs_as_documented(tmp_path, monkeypatch, shared_result_cache):
    """The files of docs/write-a-claim.md, written out and checked with its own commands,
    through the test run's shared result cache: tests/test_docs_commands.py runs the same
    command on the same files (a cache key does not depend on the folder's place)."""
    monkeypatch.setenv("PROOFCHECK_CACHE_DIR", str(shared_result_cache.directory))
    files, commands = 0, []
    for lang, title, code in _blocks("write-a-claim.md"):
        if lang == "python" and title:
            path = tmp_path / title
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(code, encoding="utf-8")
            files += 1
        elif lang == "console":
            commands += [line[2:] for line in code.splitlines() if line.startswith("$ ")]
    assert files >= 4
    check = [c for c in commands if c.startswith("proofcheck check --path")]
    pyt = [c for c in commands if c.startswith("pytest --proofcheck")]
    assert check and pyt, commands

    args = shlex.split(check[0])[1:] + ["--format", "json", "--no-progress"]
    with monkeypatch.context() as m:        # in-process: the command as a user types it
        m.chdir(tmp_path)
        res = CliRunner().invoke(main, args, catch_exceptions=False)
    data = json.loads(res.stdout)
    assert data["load_errors"] == []
    claims = {c["id"]: c for c in data["claims"]}
    # what the page says about each claim (reasons computed from the run, not from the page)
    assert claims["mine.lemma3"]["verdict"] == "verified"
    assert claims["mine.lemma4"]["evidence"]["sizes_proven"]          # a symbolic proof
    printed = claims["mine.remark1"]
    assert printed["verdict"] == "erratum" and printed["corrected"]["verdict"] == "verified"
    (w,) = printed["witnesses"]
    assert w["instance"]["sizes"]["r"] < w["instance"]["sizes"]["n"]   # rank-deficient X
    assert claims["mine.theorem1"]["evidence"]["points"] > 0           # certified minima
    for c in claims.values():
        assert c["mutants"]["caught"] == c["mutants"]["total"] > 0, c["id"]
    assert res.exit_code == EXIT_OK, res.stderr

    res = subprocess.run([sys.executable, "-m", *shlex.split(pyt[0]), "-p", "no:cacheprovider"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "3 passed, 1 xfailed" in res.stdout


# --------------------------------------------------------------------------------------------
# the site


def _mkdocs() -> str:
    exe = shutil.which("mkdocs")
    if exe is None:
        pytest.fail("mkdocs is not installed: the documentation build is part of the tests; "
                    "install it with `pip install -e '.[docs]'` (mkdocs-material)")
    return exe


def _build(site_root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([_mkdocs(), "build", "--strict", "-f", str(site_root / "mkdocs.yml"),
                           "-d", str(site_root / "site")], capture_output=True, text=True,
                          timeout=120, env={**__import__("os").environ,
                                            "NO_MKDOCS_2_WARNING": "1"})


def _copy_site(tmp_path: Path) -> Path:
    root = tmp_path / "docs-src"
    shutil.copytree(DOCS, root / "docs")
    shutil.copy(ROOT / "mkdocs.yml", root / "mkdocs.yml")
    return root


def test_mkdocs_build_strict(tmp_path):
    root = _copy_site(tmp_path)
    start = time.perf_counter()
    res = _build(root)
    assert res.returncode == 0, res.stderr
    assert (root / "site" / "catalogue" / "kb2019" / "index.html").is_file()
    seconds = time.perf_counter() - start
    assert seconds < 60, f"mkdocs build took {seconds:.1f} s"


def test_strict_build_fails_on_a_page_missing_from_the_nav(tmp_path):
    """The nav check is real: a new paper page must be added to mkdocs.yml. (The pages are
    replaced by stubs, to keep the build short; mkdocs.yml is the real one.)"""
    root = _copy_site(tmp_path)
    for page in (root / "docs").rglob("*.md"):
        page.write_text(f"# {page.stem}\n")
    (root / "docs" / "catalogue" / "newpaper.md").write_text("# NEWPAPER\n")
    res = _build(root)
    assert res.returncode != 0 and "newpaper.md" in res.stderr


def test_committed_catalogue_covers_the_registry():
    """Every claim of the bundled catalogue has a section on its paper's committed page, and
    every paper page is in the nav (else: run `proofcheck docs` and add the page to
    mkdocs.yml). A claim added without regenerating the pages fails here."""
    from proofcheck.catalog import load_claims

    registry = load_claims()
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    missing = []
    for paper in sorted({c.paper for c in registry.claims}):
        page = DOCS / "catalogue" / f"{paper}.md"
        assert page.is_file(), f"no catalogue page for {paper}: run `proofcheck docs`"
        assert f"catalogue/{paper}.md" in nav, f"catalogue/{paper}.md is not in the mkdocs nav"
        text = page.read_text(encoding="utf-8")
        missing += [c.id for c in registry.claims
                    if c.paper == paper and f"{{ #{c.id} }}" not in text]
    assert not missing, f"claims without a catalogue section (run `proofcheck docs`): {missing}"
