"""Catalogue pages for the documentation: one Markdown page per paper, from a registry and a run.

The pages are *generated*: every verdict, margin and witness on them comes from a check run
(:class:`~proofcheck.results.RunResult`, or its JSON report), every statement and hypothesis
from the claims of a :class:`~proofcheck.catalog.Registry`.  The wording is the report's
(:mod:`proofcheck.report`), so a page never says more than the run established.

::

    proofcheck docs                              # run the quick profile, write docs/catalogue/
    proofcheck docs --run run.json -o out/       # pages from a saved `check --format json`

>>> from proofcheck.results import ClaimResult, RunResult, Verdict
>>> run = RunResult([ClaimResult("demo.lemma1", "squares", "DEMO §1, Lemma 1",
...                              Verdict.VERIFIED, statement="x^2 >= 0")], "quick", 0)
>>> paper_page("demo", run).splitlines()[:3]
['# DEMO', '', '!!! info "Generated page"']
>>> run_from_dict(run.to_dict()).claims[0].verdict
<Verdict.VERIFIED: 'verified'>
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from pathlib import Path
from typing import Any
from collections.abc import Iterable, Mapping

from proofcheck import report
from proofcheck.papers import catalogue_papers
from proofcheck.results import (SCHEMA_VERSION, CheckRecord, ClaimResult, EvidenceKind,
                                MutantResult, RunResult, Verdict, Witness)

__all__ = ["paper_title", "generate_catalogue", "index_page", "load_run", "paper_page",
           "run_from_dict"]

def paper_title(paper: str) -> str | None:
    """How a paper key is introduced on its page (Markdown, from the paper's record), or
    ``None`` for a key without a record."""
    for record in catalogue_papers():
        if record.key == paper:
            return record.heading
    return None


# material admonition type of each verdict
_ADMONITION = {
    Verdict.VERIFIED: "success",
    Verdict.REFUTED: "failure",
    Verdict.ERRATUM: "warning",
    Verdict.INCONCLUSIVE: "info",
    Verdict.ERROR: "bug",
}

# A witness instance longer than this (as JSON) is shown folded; shorter ones inline.
_FOLD_INSTANCE = 300

# "[0.40 s]" at the end of an identity summary: timing, which would change on every run.
_TIMING = re.compile(r"\s*\[\d+(\.\d+)? s\]")


# --------------------------------------------------------------------------------------------
# reading a run back from JSON


def _witness(d: Mapping[str, Any] | None) -> Witness | None:
    return Witness.from_dict(d)


def _check(d: Mapping[str, Any]) -> CheckRecord:
    return CheckRecord.from_dict(d)


def _mutant(d: Mapping[str, Any]) -> MutantResult:
    return MutantResult.from_dict(d)


def _claim(d: Mapping[str, Any]) -> ClaimResult:
    return ClaimResult.from_dict(d)


def run_from_dict(data: Mapping[str, Any]) -> RunResult:
    """A :class:`RunResult` from ``RunResult.to_dict()`` or a ``--format json`` report.

    Only the major schema version must match (a minor bump only adds fields)."""
    if not isinstance(data, Mapping) or "claims" not in data:
        raise ValueError("not a proofcheck run: expected a JSON object with 'claims' (the "
                         "output of `proofcheck check --format json`)")
    version = str(data.get("schema_version", ""))
    if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise ValueError(f"run has schema_version {version!r}; this proofcheck reads "
                         f"{SCHEMA_VERSION.split('.')[0]}.x")
    try:
        claims = [_claim(c) for c in data["claims"]]
    except KeyError as exc:
        raise ValueError(f"malformed run: a claim lacks the field {exc}") from None
    return RunResult(claims, profile=data.get("profile", ""), seed=int(data.get("seed") or 0),
                     seconds=float(data.get("seconds") or 0.0),
                     proofcheck_version=data.get("proofcheck_version", ""),
                     partial=bool(data.get("partial", False)))


def read_run_json(run: str | Path) -> Any:
    """A run report given as JSON text (starting with ``{``) or as the path of a JSON file,
    parsed; a missing file or text that is not JSON is a ValueError that says so.

    >>> read_run_json('{"claims": []}')
    {'claims': []}
    >>> read_run_json("no/such/report.json")
    Traceback (most recent call last):
    ...
    ValueError: no run report at no/such/report.json
    """
    if isinstance(run, Path) or not run.lstrip().startswith("{"):
        path = Path(run)
        if not path.is_file():
            raise ValueError(f"no run report at {path}")
        run = path.read_text(encoding="utf-8")
    try:
        return json.loads(run)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the run report is not JSON: {exc}") from None


def load_run(run: RunResult | Mapping[str, Any] | str | Path) -> RunResult:
    """A run given as a RunResult, a dict, a JSON text or the path of a JSON report."""
    if isinstance(run, RunResult):
        return run
    if isinstance(run, Mapping):
        return run_from_dict(run)
    if isinstance(run, (str, Path)):
        return run_from_dict(read_run_json(run))
    raise TypeError(f"expected a RunResult, a dict, JSON text or a path, got "
                    f"{type(run).__name__}")


# --------------------------------------------------------------------------------------------
# Markdown helpers

_ESCAPE = re.compile(r"([\\`*_{}\[\]|])")


def _md(text: Any) -> str:
    """Prose that Markdown must print literally (statements are full of _ * [ ] and <)."""
    text = _ESCAPE.sub(r"\\\1", str(text))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: Any) -> str:
    """An inline code span that survives backticks in the text."""
    text = str(text)
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _cell(text: Any) -> str:
    return _md(text).replace("\n", " ")


def _indent(lines: Iterable[str], n: int = 4) -> list[str]:
    return [(" " * n + line) if line else "" for line in lines]


def anchor(claim_id: str) -> str:
    """The HTML id of a claim's section (the claim id itself: ids are [a-z0-9._])."""
    return claim_id


def _untimed(text: str) -> str:
    """A summary without its timing, and without a check name repeated by the engine
    (``"f[m]: f[m]: REFUTED ..."``), so regenerated pages only change when results do."""
    text = _TIMING.sub("", text)
    m = re.match(r"^([^:\s]+): \1: ", text)
    return text[len(m.group(1)) + 2:] if m else text


# --------------------------------------------------------------------------------------------
# one claim


def _hypotheses(claim) -> list[str]:
    if claim is None or not claim.hypotheses:
        return []
    out = ["**Hypotheses.**", ""]
    out += [f"- **{_md(h.name)}**: {_md(h.statement)}" for h in claim.hypotheses]
    return out + [""]


def _identities(claim) -> list[str]:
    if claim is None or not claim.identities:
        return []
    out = ["**Identities checked.**", ""]
    for i in claim.identities:
        sweep = i.sweep.describe() if hasattr(i.sweep, "describe") else str(i.sweep)
        method = ("symbolic proof" if i.method == "symbolic"
                  else "exact arithmetic at random rational points")
        origin = "" if i.as_printed else "; our correction, not printed"
        out.append(f"- {_code(i.name)}: {_md(i.statement)} ({method} over {_md(sweep)}"
                   f"{origin})")
    return out + [""]


def _evidence(result: ClaimResult, claim=None) -> list[str]:
    """One line per check, with its tolerance source, the engine's summary (for searches and
    failures) and notes; a note that only repeats an identity's statement (already listed
    under "Identities checked") is left out."""
    known = {i.statement for i in getattr(claim, "identities", ())}
    lines = []
    for c in result.checks:
        head = f"- **{_md(c.name)}** ({c.kind.value}"
        head += f", {_md(c.precision)})" if c.precision else ")"
        head += f": {_md(report.evidence_phrase(c, result.point_kind))}"
        if c.min_margin is not None and c.passed is not False:
            head += f"; min margin {report._num(c.min_margin)}"
            if c.tolerance is not None:
                head += f" against tolerance {report._num(c.tolerance, 2)}"
        lines.append(head)
        sub = []
        if c.tolerance_source and c.tolerance_source != "exact arithmetic" and c.tolerance:
            sub.append(f"tolerance: {_md(c.tolerance_source)}")
        if c.kind is EvidenceKind.NUMERIC_SEARCH or c.passed is not True:
            sub.append(f"engine: {_md(_untimed(c.summary))}")
        sub += [_md(n) for n in c.notes if n not in known]
        lines += [f"    - {s}" for s in sub if s]
    return lines or ["- no checks ran"]


def _witness_block(w: Witness, title: str) -> list[str]:
    out = [f"{title} (from {_code(w.check)}): {_md(report.witness_phrase(w))}."]
    if w.detail:
        out += ["", _md(_untimed(w.detail))]
    text = report.instance_text(w)
    if len(text) <= _FOLD_INSTANCE:
        return out + ["", "```json", text, "```"]
    return out + ["", '??? example "Instance (JSON)"', ""] + _indent(["```json", text, "```"])


def _mutants(result: ClaimResult) -> list[str]:
    if not result.mutants:
        return []
    out = [f"**Mutants: {result.mutants_caught}/{len(result.mutants)} caught.**", "",
           "| mutant | kind | what it changes | caught | by |", "|---|---|---|---|---|"]
    for m in result.mutants:
        out.append("| " + " | ".join((
            _code(m.name), _cell(m.kind), _cell(m.description),
            "yes" if m.caught else "**no**", _cell(_untimed(m.caught_by) or "-"))) + " |")
    return out + [""]


def _branches(result: ClaimResult) -> list[str]:
    """The per-branch table: the evidence in each branch of the claim (the cases of its proof,
    or ``all``) and the mutant caught there, which shows that evidence could fail."""
    if not result.branches:
        return []
    out = ["**Branches.** Evidence per branch and the mutant that shows it could fail "
           "(a *non-discriminating* branch does not count towards `verified`).", "",
           "| branch | instances | points | status | caught there |", "|---|---|---|---|---|"]
    for b in result.branches:
        caught = (f"{_code(b.mutant)} ({b.mutant_grade})" if b.mutant_grade else _code(b.mutant)
                  ) if b.mutant else "-"
        out.append("| " + " | ".join((_code(b.name), str(b.instances), str(b.points),
                                      _cell(b.status.value), caught)) + " |")
    return out + [""]


def claim_section(result: ClaimResult, claim=None, origin: str = "") -> list[str]:
    """The Markdown of one claim: heading, verdict, statement, hypotheses, evidence, erratum
    (witness, corrected statement and its evidence) and mutants."""
    out = [f"## {_code(result.claim_id)} {_md(result.title)} {{ #{anchor(result.claim_id)} }}",
           ""]
    kind = _ADMONITION[result.verdict]
    out += [f'!!! {kind} "{result.verdict.value}"', ""]
    out += _indent([_md(report.claim_evidence(result))])
    out += ["", f"- **Source:** {_md(result.source)}", f"- **Holds at:** {_md(result.point_kind)}"]
    if origin:
        out.append("- **Module:** "
                   f"{_code(Path(origin).name if origin.endswith('.py') else origin)}")
    out += ["", "**Statement as printed.**", ""]
    out += ["> " + _md(line) for line in (result.statement or "(no statement)").splitlines()]
    out.append("")
    out += _hypotheses(claim)
    out += _identities(claim)
    if result.verdict is Verdict.ERROR:
        out += ["**Error.** The claim's own code or data is broken:", "", "```text",
                result.error or "(no message)", "```", ""]
    out += ["**Evidence.**", ""] + _evidence(result, claim) + [""]
    if result.grade:
        out += [f"**Evidence grade.** {_code(result.grade)}", ""]
    for line in report.reading_lines(result):
        out += ["**" + _md(line.split(":", 1)[0].capitalize()) + ".** "
                + _md(line.split(":", 1)[1].strip()), ""]

    is_erratum = result.verdict is Verdict.ERRATUM
    if is_erratum or result.erratum or result.corrected is not None:
        heading = "Erratum" if is_erratum else "Declared erratum"
        out += [f"### {heading} {{ #{anchor(result.claim_id)}-erratum }}", ""]
        out.append("**What is wrong.** " + _md(result.erratum
                                               or "The statement as printed is refuted."))
        out.append("")
    for w in result.witnesses:
        title = "**Witness against the printed statement**" if is_erratum else "**Witness**"
        out += _witness_block(w, title) + [""]
    if result.corrected is not None:
        c = result.corrected
        out += [f"**Corrected statement** ({c.verdict.value}):", ""]
        out += ["> " + _md(line) for line in (c.statement or "(no statement)").splitlines()]
        out.append("")
        fixed = claim.corrected if claim is not None else None
        out += _identities(fixed)
        out += ["Its evidence:", ""] + _evidence(c, fixed) + [""]
    out += _mutants(result)
    out += _branches(result)
    if claim is not None and claim.notes:
        out += ["**Notes.** " + _md(claim.notes), ""]
    return out


# --------------------------------------------------------------------------------------------
# pages


def _claims_by_id(registry) -> dict[str, Any]:
    if registry is None:
        return {}
    claims = getattr(registry, "claims", registry)
    return {c.id: c for c in claims}


def _origins(registry) -> dict[str, str]:
    return dict(getattr(registry, "origins", {}) or {})


def _paper(claim_id: str) -> str:
    return claim_id.split(".", 1)[0]


def _header(run: RunResult) -> str:
    version = f", proofcheck {run.proofcheck_version}" if run.proofcheck_version else ""
    return (f"Generated by {_code('proofcheck docs')} from a check run with profile "
            f"{_code(run.profile)}, seed {run.seed}{version}. Do not edit: regenerate with "
            f"{_code(f'proofcheck docs --profile {run.profile} --seed {run.seed}')}.")


def _counts(results: list[ClaimResult]) -> str:
    counts = OrderedDict((v.value, 0) for v in Verdict)
    for r in results:
        counts[r.verdict.value] += 1
    return ", ".join(f"{n} {v}" for v, n in counts.items() if n) or "no claims"


def _index_table(results: list[ClaimResult], link_prefix: str = "") -> list[str]:
    out = ["| claim | title | source | holds at | verdict | grade | evidence | mutants |",
           "|---|---|---|---|---|---|---|---|"]
    for r in results:
        mutants = f"{r.mutants_caught}/{len(r.mutants)}" if r.mutants else "-"
        out.append("| " + " | ".join((
            f"[{_code(r.claim_id)}]({link_prefix}#{anchor(r.claim_id)})", _cell(r.title),
            _cell(r.source), _cell(r.point_kind), f"**{r.verdict.value}**", r.grade or "-",
            _cell(report.claim_evidence(r, brief=True)), mutants)) + " |")
    return out


def paper_page(paper: str, run: RunResult, registry=None) -> str:
    """The Markdown page of one paper: header, verdict counts, index table, one section per
    claim of that paper in the run (claims of the registry that the run did not check are
    listed as such, so a page never hides a claim)."""
    claims = _claims_by_id(registry)
    origins = _origins(registry)
    results = [r for r in run.claims if _paper(r.claim_id) == paper]
    unchecked = [c for cid, c in claims.items()
                 if _paper(cid) == paper and cid not in {r.claim_id for r in results}]
    title = paper_title(paper) or paper.upper()
    out = [f"# {paper.upper()}", "", '!!! info "Generated page"', "",
           *_indent([_header(run)]), "", title + ".", "",
           f"{len(results)} claims checked: {_counts(results)}.", ""]
    out += _index_table(results) + [""]
    if unchecked:
        out += ["Not checked in this run: "
                + ", ".join(_code(c.id) for c in unchecked) + ".", ""]
    for r in results:
        out += claim_section(r, claims.get(r.claim_id), origins.get(r.claim_id, ""))
    return "\n".join(out).rstrip() + "\n"


def index_page(run: RunResult, papers: list[str]) -> str:
    """The catalogue's front page: one row per paper with its verdict counts."""
    out = ["# Catalogue", "", '!!! info "Generated page"', "", *_indent([_header(run)]), "",
           "One page per paper. Each claim shows its statement as printed, its hypotheses, "
           "the verdict of the run and the evidence behind it; [Reading a report](../reports.md) "
           "explains the words.", "",
           "| paper | claims | verdicts | mutants caught |", "|---|---|---|---|"]
    for paper in papers:
        results = [r for r in run.claims if _paper(r.claim_id) == paper]
        caught = sum(r.mutants_caught for r in results)
        total = sum(len(r.mutants) for r in results)
        name = paper_title(paper) or _md(paper.upper())     # titles are Markdown already
        out.append(f"| [{name}]({paper}.md) | "
                   f"{len(results)} | {_counts(results)} | {caught}/{total} |")
    return "\n".join(out) + "\n"


def generate_catalogue(run: RunResult | Mapping[str, Any] | str | Path, registry,
                       out_dir: str | Path) -> list[Path]:
    """Write ``<out_dir>/<paper>.md`` for every paper of the run, and ``<out_dir>/index.md``.

    ``run`` is a :class:`RunResult`, its dict / JSON (``proofcheck check --format json``) or
    the path of such a report; ``registry`` a :class:`~proofcheck.catalog.Registry` (or a list
    of claims), the source of hypotheses, identities and notes (``None``: pages from the run
    alone). Returns the paths written, index first.
    """
    run = load_run(run)
    if not run.claims:
        raise ValueError("the run has no claims: there is nothing to document")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    papers = list(OrderedDict.fromkeys(_paper(r.claim_id) for r in run.claims))
    written = [out / "index.md"]
    from .outputs import write_atomic
    write_atomic(written[0], index_page(run, papers))
    for paper in papers:
        path = out / f"{paper}.md"
        write_atomic(path, paper_page(paper, run, registry))
        written.append(path)
    return written
