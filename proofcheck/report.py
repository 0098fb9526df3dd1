"""Reports: one :class:`~proofcheck.results.RunResult`, four renderings.

``to_json``          one JSON object, ``schema_version`` first, for machines and diffs.
``to_markdown``      a verdict table and one section per claim, for humans and pull requests.
``to_junit``         JUnit XML, for CI dashboards.
``render_terminal``  a rich table on a console, for the ``proofcheck check`` command.

The renderers never re-judge a claim: the verdict comes from the engine. What they add is
*wording*, and that wording follows the evidence kind, so a report never says more than was
checked (a numeric search gives "no counterexample in N instances", never "proven"):

>>> from proofcheck.results import CheckRecord, EvidenceKind
>>> evidence_phrase(CheckRecord("id", EvidenceKind.NUMERIC_SEARCH, True, "", instances=200))
'no counterexample in 200 instances'
>>> evidence_phrase(CheckRecord("id", EvidenceKind.SYMBOLIC_PROOF, True, "",
...                             sizes=[{"d_x": 1, "d_y": 1}, {"d_x": 2, "d_y": 1}]))
'proven at sizes (d_x=1, d_y=1), (d_x=2, d_y=1)'
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import TYPE_CHECKING, Any
from collections.abc import Sequence

from proofcheck.results import (
    GRADES,
    SCHEMA_VERSION,
    CheckRecord,
    ClaimResult,
    EvidenceKind,
    RunResult,
    Verdict,
    Witness,
    _jsonable,
)

if TYPE_CHECKING:  # rich is only needed for the terminal renderer
    from rich.console import Console

#: Theorem modules that failed to import: ``(module path or name, message)`` pairs, as in
#: ``proofcheck.catalog.Registry.errors``.
LoadErrors = Sequence[tuple[str, str]]

__all__ = [
    "FORMATS",
    "VERDICT_STYLES",
    "claim_evidence",
    "evidence_phrase",
    "instance_text",
    "margin_phrase",
    "render",
    "render_terminal",
    "sizes_phrase",
    "sizes_text",
    "to_json",
    "to_junit",
    "to_markdown",
    "witness_phrase",
]

#: rich styles of the verdicts (terminal only).
VERDICT_STYLES = {
    Verdict.VERIFIED: "bold green",
    Verdict.REFUTED: "bold red",
    Verdict.ERRATUM: "bold yellow",
    Verdict.INCONCLUSIVE: "yellow",
    Verdict.ERROR: "bold magenta",
}

# A size sweep with at most this many sizes is listed in full (see sizes_text).
_MAX_LISTED_SIZES = 4
# Characters of a witness instance shown on the terminal; reports in files show all of it.
_MAX_TERMINAL_INSTANCE = 600


# --------------------------------------------------------------------------------------------
# wording shared by every renderer


def _num(x: float | None, digits: int = 3) -> str:
    if x is None:
        return "-"
    if isinstance(x, str):          # results._jsonable turns inf/nan into their repr
        return x
    if not math.isfinite(x):
        return repr(x)
    return f"{x:.{digits}g}"


def _point_noun(point_kind: str) -> str | None:
    """'local minimum' / 'critical point' when a claim is about special points, else None."""
    text = (point_kind or "").lower().replace("_", " ")
    if "minim" in text:
        return "local minimum"
    if "critical" in text or "stationary" in text:
        return "critical point"
    return None


def sizes_text(sizes: list[dict[str, int]]) -> str:
    """A size sweep in words: listed when short, else its count and the range of each
    dimension (the count keeps it honest: the ranges alone would suggest a full grid).

    >>> sizes_text([{"d": 1}, {"d": 2}])
    'sizes (d=1), (d=2)'
    >>> sizes_text([{"m": m, "n": n} for m in (1, 2, 3) for n in (1, 2)])
    '6 sizes with m in 1..3, n in 1..2'
    """
    if len(sizes) <= _MAX_LISTED_SIZES:
        listed = ", ".join("(" + ", ".join(f"{k}={v}" for k, v in s.items()) + ")" for s in sizes)
        return f"size{'s' if len(sizes) != 1 else ''} {listed}"
    ranges: dict[str, list[int]] = defaultdict(list)
    for s in sizes:
        for k, v in s.items():
            ranges[k].append(v)
    spans = ", ".join(
        f"{k}={min(v)}" if min(v) == max(v) else f"{k} in {min(v)}..{max(v)}"
        for k, v in ranges.items()
    )
    return f"{len(sizes)} sizes with {spans}"


def sizes_phrase(sizes: list[dict[str, int]]) -> str:
    """How a symbolic proof over a size sweep is described.

    >>> sizes_phrase([{"d": 1}, {"d": 2}])
    'proven at sizes (d=1), (d=2)'
    """
    if not sizes:
        return "proven symbolically (no size sweep recorded)"
    return "proven at " + sizes_text(sizes)


def witness_phrase(w: Witness, *, brief: bool = False) -> str:
    """One line for a witness: how negative, against which tolerance, how sure (``brief``
    leaves out the last part, for table cells).

    >>> witness_phrase(Witness("numeric", -0.5, 1e-12, True, "exact rational"))
    'margin -0.5 < -tol 1e-12 (certified: exact rational)'
    """
    head = f"margin {_num(w.margin)} < -tol {_num(w.tolerance, 2)}"
    if brief:
        return head
    if w.certified:
        how = f"certified: {w.certification}"
    elif "certif" in w.certification.lower():   # the engine already says how far it got
        how = w.certification
    else:
        how = f"not certified: {w.certification}"
    return f"{head} ({how})"


def evidence_phrase(check: CheckRecord, point_kind: str = "any point", *,
                    brief: bool = False) -> str:
    """What one check established, in words that do not overstate it (``brief``: a shorter
    witness description, for table cells; the witness itself is printed below the table)."""
    noun = _point_noun(point_kind)
    if check.passed is False:
        if check.witness is not None:
            return "counterexample: " + witness_phrase(check.witness, brief=brief)
        return f"failed: {check.summary}" if check.summary else "failed (no witness recorded)"
    if check.passed is None:
        if noun and check.vacuous_instances and check.vacuous_instances >= check.instances:
            return f"vacuous here: no {noun} found in {check.vacuous_instances} instances"
        if noun and check.points == 0 and check.instances == 0 and check.vacuous_instances == 0:
            return f"vacuous here: no {noun} found"
        return f"undecided: {check.summary}" if check.summary else "undecided"
    kind = check.kind
    if kind is EvidenceKind.SYMBOLIC_PROOF:
        return sizes_phrase(check.sizes)
    if kind is EvidenceKind.DECISION_PROCEDURE:  # z3/cvc5: unsat of hypotheses and not(claim)
        return "proven for all reals (decision procedure) at " + sizes_text(check.sizes)
    if kind is EvidenceKind.EXACT_RANDOM:
        # polynomial identity testing: strong evidence, not a proof, and the words say so
        where = [f"{check.instances} random rational instances"] if check.instances else \
            ["random rational points"]
        if check.sizes:
            where.append("at " + sizes_text(check.sizes))
        return f"exact at {' '.join(where)} (randomized identity test)"
    at = f" at {check.precision}" if kind is EvidenceKind.HIGH_PRECISION and check.precision \
        else ""
    if noun is None:
        if getattr(check, "exhaustive", False):
            return f"holds at all {check.instances} instances of a finite domain (exhaustive){at}"
        return f"no counterexample in {check.instances} instances{at}"
    # A point claim is only tested where a certified point was found: count those instances,
    # and say how many gave none (they test nothing).
    plural = "local minima" if noun == "local minimum" else "critical points"
    tested = check.instances - check.vacuous_instances
    phrase = (f"no counterexample at {check.points} certified {plural} "
              f"of {tested} instance{'s' if tested != 1 else ''}{at}")
    up_to = getattr(check, "points_distinct_up_to", "")
    if up_to and up_to != "tolerance":      # H7: points counted once per symmetry orbit
        phrase += f" (distinct up to {up_to})"
    if check.vacuous_instances:
        phrase += f"; {check.vacuous_instances} more vacuous (no {noun} found)"
    return phrase


def claim_evidence(result: ClaimResult, *, brief: bool = False) -> str:
    """All checks of a claim in one line (the terminal and Markdown tables)."""
    if result.verdict is Verdict.ERROR:
        return f"error: {result.error}" if result.error else "error"
    phrases: dict[str, int] = {}        # identical phrases (e.g. two identities over one
    for c in result.checks:             # sweep) are said once, with their count
        phrase = evidence_phrase(c, result.point_kind, brief=brief)
        phrases[phrase] = phrases.get(phrase, 0) + 1
    text = "; ".join(p if n == 1 else f"{p} ({n} checks)" for p, n in phrases.items()) \
        or "no checks ran"
    if result.verdict is Verdict.ERRATUM and result.corrected is not None:
        text = (f"as printed: {text}; corrected ({result.corrected.verdict.value}): "
                + claim_evidence(result.corrected, brief=brief))
    return text + discrimination_phrase(result)


def discrimination_phrase(result: ClaimResult) -> str:
    """``"; non-discriminating in branch b"`` when some branch's evidence no mutant failed on
    (it does not count towards ``verified``); ``""`` otherwise."""
    nd = result.non_discriminating
    if not nd:
        return ""
    if not result.mutants:
        return "; no mutant declared: no branch shown to discriminate"
    if len(nd) == len(result.branches):
        return "; non-discriminating: no mutant fails on this evidence"
    return f"; non-discriminating in branch {', '.join(nd)} (not counted towards verified)"


def branch_line(result: ClaimResult) -> str:
    """``branches: a 14 pts (caught: m) · b 9 pts (non-discriminating)``: each branch's
    distinct points (or instances) and its discriminating mutant; ``""`` for a claim that
    declares no branches and whose one branch discriminates.

    >>> from proofcheck.results import BranchResult, BranchStatus
    >>> r = ClaimResult("x", "", "", Verdict.VERIFIED, branches=[
    ...     BranchResult("full_rank", 3, 14, "m1", "certified", BranchStatus.DISCRIMINATING),
    ...     BranchResult("rank_deficient", 2, 9, status=BranchStatus.NON_DISCRIMINATING)])
    >>> branch_line(r)
    'branches: full_rank 14 pts (caught: m1) · rank_deficient 9 pts (non-discriminating)'
    """
    from .results import ALL_BRANCH, BranchStatus
    bs = result.branches
    if not bs or (len(bs) == 1 and bs[0].name == ALL_BRANCH
                  and bs[0].status is BranchStatus.DISCRIMINATING):
        return ""
    return "branches: " + " · ".join(b.describe() for b in bs)


def _margin_check(result: ClaimResult) -> CheckRecord | None:
    """The check whose margin is smallest: its tolerance is the one to compare against."""
    with_margin = [c for c in result.checks if isinstance(c.min_margin, (int, float))]
    return min(with_margin, key=lambda c: c.min_margin or 0.0) if with_margin else None


def margin_phrase(result: ClaimResult) -> str:
    """'min margin / tol' of a claim, e.g. '2.1e-03 / 1.1e-13'; 'exact' when every check was
    exact arithmetic without a numeric margin (identities); '-' when nothing was measured."""
    check = _margin_check(result)
    if check is None:
        if result.witnesses:        # refuted identities record no margin, only a witness
            w = min(result.witnesses, key=lambda w: w.margin)
            return f"{_num(w.margin)} / {_num(w.tolerance, 2)}"
        exact = result.checks and all(c.precision == "exact" for c in result.checks)
        return "exact" if exact else "-"
    return f"{_num(check.min_margin)} / {_num(check.tolerance, 2)}"


def _seconds(s: float) -> str:
    return f"{s:.2f} s" if s < 100 else f"{s:.0f} s"


def instance_text(w: Witness, indent: str = "") -> str:
    """A witness's instance (and point) as compact JSON, arrays as nested lists; the point's
    line starts with ``indent`` (to align it under an indented ``instance:`` line)."""
    d = w.to_dict()
    text = json.dumps(d["instance"], sort_keys=True)
    if d.get("point") is not None:
        text += f"\n{indent}point: " + json.dumps(d["point"], sort_keys=True)
    return text


def _counts_phrase(run: RunResult) -> str:
    """``"108 verified (31 proven, 40 certified, 37 sampled), 20 erratum (20 certified)"``:
    claims per verdict, each with its evidence grades (strongest first)."""
    counts, grades = run.counts(), run.grade_counts()
    parts = []
    for v, n in counts.items():
        if not n:
            continue
        per = grades.get(v, {})
        graded = [f"{per[g]} {g}" for g in reversed(GRADES) if per.get(g)]
        parts.append(f"{n} {v}" + (f" ({', '.join(graded)})" if graded else ""))
    return ", ".join(parts) or "no claims"


def reading_lines(result: ClaimResult) -> list[str]:
    """The readings of the printed text a claim was checked under, and what slice was checked
    (``narrowed``), one line each, so a reader sees them without opening the source."""
    out = []
    for r in result.readings:
        if isinstance(r, dict):
            mark = " (the printed statement's reading)" if r.get("natural") else ""
            out.append(f"reading {r.get('name', '')}{mark}: {r.get('text', '')}")
        elif hasattr(r, "name"):
            mark = " (the printed statement's reading)" if getattr(r, "natural", False) else ""
            out.append(f"reading {r.name}{mark}: {r.text}")
        else:
            out.append(f"reading: {r}")
    out += [f"narrowed: {n}" for n in result.narrowed]
    return out


# --------------------------------------------------------------------------------------------
# JSON


def _sorted(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _sorted(obj[k]) for k in sorted(obj)}
    if isinstance(obj, list):
        return [_sorted(v) for v in obj]
    return obj


def _evidence_block(result: ClaimResult) -> dict[str, Any]:
    """What was checked, aggregated over a claim's checks (the per-check detail stays too)."""
    sizes = [s for c in result.checks if c.kind is EvidenceKind.SYMBOLIC_PROOF for s in c.sizes]
    check = _margin_check(result)
    return {
        "summary": claim_evidence(result),
        "sizes_proven": sizes,
        "instances": sum(c.instances for c in result.checks),
        "points": sum(c.points for c in result.checks),
        "vacuous_instances": sum(c.vacuous_instances for c in result.checks),
        "precision": sorted({c.precision for c in result.checks if c.precision}),
        "min_margin": check.min_margin if check else None,
        "tolerance": check.tolerance if check else None,
        "tolerance_source": check.tolerance_source if check else None,
        "evidence_kinds": sorted({c.kind.value for c in result.checks}),
    }


def _claim_json(result: ClaimResult) -> dict[str, Any]:
    d = result.to_dict()
    d["evidence"] = {**_jsonable(_evidence_block(result)), **d.get("evidence", {})}
    if result.corrected is not None:
        d["corrected"] = _claim_json(result.corrected)
    return d


def to_json(run: RunResult, *, load_errors: LoadErrors = (), indent: int | None = 2) -> str:
    """The run as one JSON object: ``schema_version`` first, then every key sorted.

    Claims keep the run's order (the order they were selected in); within a claim, keys are
    sorted so two runs diff cleanly. Non-finite floats are written as strings ("inf"), so the
    output is strict JSON. ``load_errors`` (theorem modules that failed to import, as
    ``(module, message)`` pairs) are listed under ``"load_errors"``, always present.
    """
    body = run.to_dict()
    body["claims"] = [_claim_json(c) for c in run.claims]
    body["load_errors"] = [{"module": m, "message": msg} for m, msg in load_errors]
    body.pop("schema_version", None)
    out = {"schema_version": SCHEMA_VERSION}
    out.update(_sorted(body))
    return json.dumps(out, indent=indent, allow_nan=False)


# --------------------------------------------------------------------------------------------
# Markdown


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_quote(text: str) -> list[str]:
    return ["> " + line if line else ">" for line in text.strip().splitlines()] or ["> (none)"]


def _md_evidence(result: ClaimResult) -> list[str]:
    lines = []
    for c in result.checks:
        line = f"- **{c.name}** ({c.kind.value}"
        line += f", {c.precision})" if c.precision else ")"
        line += f": {evidence_phrase(c, result.point_kind)}"
        if c.min_margin is not None:
            line += f"; min margin {_num(c.min_margin)}"
        if c.tolerance is not None:
            line += f", tolerance {_num(c.tolerance, 2)}"
            if c.tolerance_source:
                line += f" ({c.tolerance_source})"
        line += f"; {_seconds(c.seconds)}"
        lines.append(line)
        lines.extend(f"  - {n}" for n in c.notes)
    return lines or ["- no checks ran"]


def _md_witness(w: Witness) -> list[str]:
    lines = [f"Witness from `{w.check}`: {witness_phrase(w)}."]
    if w.detail:
        lines.append(f"{w.detail}")
    lines += ["", "```json", instance_text(w), "```"]
    return lines


def to_markdown(run: RunResult, *, load_errors: LoadErrors = ()) -> str:
    """A verdict table, then one section per claim (statement, source, evidence, errata,
    witnesses, mutants); modules that failed to load are listed first."""
    out = [
        "# proofcheck report",
        "",
        f"Profile `{run.profile}`, seed {run.seed}"
        + (f", proofcheck {run.proofcheck_version}" if run.proofcheck_version else "")
        + f", {_seconds(run.seconds)}. {_counts_phrase(run)}.",
        "",
    ]
    if load_errors:
        out += ["## Theorem modules that failed to load", ""]
        out += [f"- `{m}`: {msg}" for m, msg in load_errors] + [""]
    out += [
        "| claim | verdict | evidence | min margin / tol | mutants caught | time |",
        "|---|---|---|---|---|---|",
    ]
    for r in run.claims:
        out.append("| " + " | ".join(_md_cell(x) for x in (
            f"`{r.claim_id}`", f"**{r.verdict.value}**", claim_evidence(r, brief=True),
            margin_phrase(r),
            f"{r.mutants_caught}/{len(r.mutants)}", _seconds(r.seconds))) + " |")
    for r in run.claims:
        out += ["", f"## `{r.claim_id}`: {r.title}", "",
                f"**Verdict:** {r.verdict.value}  ",
                f"**Source:** {r.source}  ",
                f"**Point kind:** {r.point_kind}", ""]
        out += _md_quote(r.statement or "(no statement)")
        if r.verdict is Verdict.ERROR:
            out += ["", "### Error", "", "```", r.error or "(no message)", "```"]
        out += ["", "### Evidence", ""] + _md_evidence(r)
        if r.verdict is Verdict.ERRATUM or r.erratum:
            out += ["", "### Erratum", "", r.erratum or "The statement as printed is refuted."]
        if r.witnesses:
            out += ["", "### Witnesses" if r.verdict is not Verdict.ERRATUM
                    else "### Witness against the printed statement"]
            for w in r.witnesses:
                out += [""] + _md_witness(w)
        if r.corrected is not None:
            c = r.corrected
            out += ["", f"### Corrected statement ({c.verdict.value})", ""]
            out += _md_quote(c.statement or "(no statement)")
            out += [""] + _md_evidence(c)
        if r.mutants:
            out += ["", f"### Mutants ({r.mutants_caught}/{len(r.mutants)} caught)", "",
                    "| mutant | kind | description | caught | by |", "|---|---|---|---|---|"]
            for m in r.mutants:
                out.append("| " + " | ".join(_md_cell(x) for x in (
                    f"`{m.name}`", m.kind, m.description, "yes" if m.caught else "**no**",
                    m.caught_by or "-")) + " |")
        if branch_line(r):
            out += ["", "### Branches", "",
                    "| branch | instances | points | discriminating mutant | status |",
                    "|---|---|---|---|---|"]
            for b in r.branches:
                out.append("| " + " | ".join(_md_cell(x) for x in (
                    f"`{b.name}`", str(b.instances), str(b.points),
                    f"`{b.mutant}` ({b.mutant_grade or '-'})" if b.mutant else "-",
                    b.status.value)) + " |")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------
# JUnit XML


def _paper(claim_id: str) -> str:
    return claim_id.split(".", 1)[0]


def _junit_case(r: ClaimResult, name: str, seconds: float) -> tuple[ET.Element, str]:
    """One <testcase>; returns it and its outcome (pass/failure/error/skipped).

    The outcome follows the exit code of ``proofcheck check``: only a refuted claim fails and
    only an error errs. An erratum (the printed statement refuted, the corrected one verified)
    passes; its as-printed refutation is kept in the case's properties and system-out."""
    case = ET.Element("testcase", classname=_paper(r.claim_id), name=name,
                      time=f"{seconds:.3f}")
    props = ET.SubElement(case, "properties")
    ET.SubElement(props, "property", name="verdict", value=r.verdict.value)
    evidence = "\n".join(_md_evidence(r))
    extra = ""
    if r.verdict is Verdict.ERROR:
        el = ET.SubElement(case, "error", message=r.error or "claim error", type="error")
        el.text = r.error
        outcome = "error"
    elif r.verdict is Verdict.REFUTED:
        ws = r.witnesses
        head = witness_phrase(ws[0]) if ws else claim_evidence(r)
        el = ET.SubElement(case, "failure", message=f"refuted: {head}", type="refuted")
        el.text = "\n\n".join("\n".join(_md_witness(w)) for w in ws) or claim_evidence(r)
        outcome = "failure"
    elif r.verdict is Verdict.INCONCLUSIVE:
        ET.SubElement(case, "skipped", message=f"inconclusive: {claim_evidence(r)}")
        outcome = "skipped"
    else:
        outcome = "pass"
    if r.verdict is Verdict.ERRATUM:
        ws = r.witnesses
        printed = "refuted: " + (witness_phrase(ws[0]) if ws else claim_evidence(r))
        ET.SubElement(props, "property", name="as_printed", value=printed)
        if r.corrected is not None:
            ET.SubElement(props, "property", name="corrected",
                          value=f"{r.corrected.verdict.value}: {claim_evidence(r.corrected)}")
        extra = ("\n\nERRATUM: the statement as printed is refuted; the corrected statement "
                 "is verified.\n" + (r.erratum or "")
                 + "\n\nAs printed: " + printed + "\n"
                 + "\n\n".join("\n".join(_md_witness(w)) for w in ws))
        if r.corrected is not None:
            extra += ("\n\nCorrected statement:\n" + r.corrected.statement + "\n"
                      + "\n".join(_md_evidence(r.corrected)))
    out = ET.SubElement(case, "system-out")
    out.text = f"{r.source}\n{r.statement}\n\n{evidence}{extra}"
    return case, outcome


def to_junit(run: RunResult, *, load_errors: LoadErrors = ()) -> str:
    """JUnit XML: one <testsuite> per paper (the id's first component), one <testcase> per claim.

    The cases agree with the exit code, so a green run is green on a CI dashboard: refuted ->
    <failure> with the witness; error -> <error>; inconclusive -> <skipped> with the reason;
    verified -> a passing case; an erratum (printed statement refuted, correction verified) ->
    a passing case whose properties (``verdict=erratum``, ``as_printed``, ``corrected``) and
    system-out keep the as-printed refutation and its witness. Every case has a ``verdict``
    property. Each module in ``load_errors`` is an <error> case in a suite named
    ``load-errors``.
    """
    by_paper: dict[str, list[tuple[ET.Element, str]]] = defaultdict(list)
    for module, message in load_errors:
        case = ET.Element("testcase", classname="load-errors", name=module, time="0.000")
        ET.SubElement(case, "error", message=f"could not load {module}: {message}",
                      type="load-error").text = message
        by_paper["load-errors"].append((case, "error"))
    for r in run.claims:
        by_paper[_paper(r.claim_id)].append(_junit_case(r, r.claim_id, r.seconds))

    def tally(cases: list[tuple[ET.Element, str]]) -> dict[str, str]:
        outcomes = [o for _, o in cases]
        return {"tests": str(len(cases)), "failures": str(outcomes.count("failure")),
                "errors": str(outcomes.count("error")), "skipped": str(outcomes.count("skipped"))}

    every = [c for cases in by_paper.values() for c in cases]
    root = ET.Element("testsuites", {"name": "proofcheck", "time": f"{run.seconds:.3f}",
                                     **tally(every)})
    for paper, cases in by_paper.items():
        suite = ET.SubElement(root, "testsuite", {
            "name": paper, **tally(cases),
            "time": f"{sum(float(c.attrib['time']) for c, _ in cases):.3f}"})
        props = ET.SubElement(suite, "properties")
        for key, value in (("schema_version", SCHEMA_VERSION), ("profile", run.profile),
                           ("seed", str(run.seed)),
                           ("proofcheck_version", run.proofcheck_version)):
            ET.SubElement(props, "property", name=key, value=value)
        for case, _ in cases:
            suite.append(case)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


# --------------------------------------------------------------------------------------------
# terminal


#: Below this width (and in a non-terminal, where rich assumes 80 columns unless told
#: otherwise) the verdicts are stacked one claim per block instead of a table, so that no
#: verdict is ever truncated (``ver…`` / ``err…``: erratum and error would look the same).
TABLE_MIN_WIDTH = 120
_BLOCK_INDENT = 14          # "inconclusive" + 2


def _verdict_table(run: RunResult, console: Console) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"proofcheck: profile {run.profile}, seed {run.seed}",
                  title_justify="left", show_lines=False)
    table.add_column("claim", style="cyan", overflow="fold")
    table.add_column("verdict", no_wrap=True, min_width=len("inconclusive"))
    table.add_column("grade", no_wrap=True, min_width=len("certified"))
    table.add_column("evidence", overflow="fold", ratio=1, min_width=24)
    table.add_column("min margin / tol", justify="right", overflow="fold")
    table.add_column("mutants", justify="right", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True, min_width=7)
    for r in run.claims:
        style = VERDICT_STYLES[r.verdict]
        table.add_row(escape(r.claim_id), f"[{style}]{r.verdict.value}[/{style}]",
                      r.grade or "-", escape(claim_evidence(r, brief=True)), margin_phrase(r),
                      _mutants_cell(r), _seconds(r.seconds))
    console.print(table)


def _mutants_cell(r: ClaimResult) -> str:
    mutants = f"{r.mutants_caught}/{len(r.mutants)}"
    if r.mutants and r.mutants_caught < len(r.mutants):
        mutants = f"[red]{mutants}[/red]"
    return mutants


def _verdict_blocks(run: RunResult, console: Console) -> None:
    """One block per claim: the verdict word in full at the start of the line (so ``grep
    '^erratum'`` works in a log), the claim id beside it, evidence and numbers wrapped below."""
    import textwrap

    from rich.markup import escape

    width = max(console.width, 40)
    pad = " " * _BLOCK_INDENT
    console.print(f"proofcheck: profile {run.profile}, seed {run.seed}", highlight=False,
                  soft_wrap=True)
    for r in run.claims:
        style = VERDICT_STYLES[r.verdict]
        word = r.verdict.value.ljust(_BLOCK_INDENT)
        console.print(f"[{style}]{word}[/{style}][cyan]{escape(r.claim_id)}[/cyan]",
                      highlight=False, soft_wrap=True)
        lines = textwrap.wrap(claim_evidence(r, brief=True), width=width,
                              initial_indent=pad, subsequent_indent=pad + "  ",
                              break_on_hyphens=False) or []
        for line in lines:
            console.print(escape(line), highlight=False, soft_wrap=True)
        numbers = (f"grade {r.grade or '-'} | margin/tol {margin_phrase(r)} | "
                   f"mutants {_mutants_cell(r)} | {_seconds(r.seconds)}")
        for line in textwrap.wrap(numbers, width=width, initial_indent=pad,
                                  subsequent_indent=pad + "  ", break_on_hyphens=False):
            console.print(line, highlight=False, soft_wrap=True)


def render_terminal(run: RunResult, console: Console, *, load_errors: LoadErrors = ()) -> None:
    """A verdict table (or, below :data:`TABLE_MIN_WIDTH` columns, one block per claim), then
    witnesses, errata and errors below it. Verdict words are never truncated."""
    from rich.markup import escape

    for module, message in load_errors:
        console.print(f"[bold magenta]could not load {escape(module)}:[/bold magenta] "
                      + escape(message))

    if console.width >= TABLE_MIN_WIDTH:
        _verdict_table(run, console)
    else:
        _verdict_blocks(run, console)

    for r in run.claims:
        if r.witnesses:
            label = "witness against the printed statement" if r.verdict is Verdict.ERRATUM \
                else "witness"
            for w in r.witnesses:
                console.print(f"[bold]{escape(r.claim_id)}[/bold] {label} "
                              f"([italic]{escape(w.check)}[/italic]): {escape(witness_phrase(w))}")
                if w.detail:
                    console.print("  " + escape(w.detail))
                text = instance_text(w, indent="  ")
                if len(text) > _MAX_TERMINAL_INSTANCE:   # big arrays: the JSON report has it all
                    text = text[:_MAX_TERMINAL_INSTANCE] + " ... (truncated; --format json " \
                                                           "has the full instance)"
                console.print("  instance: " + escape(text), soft_wrap=True)
        if r.verdict is Verdict.ERRATUM or r.erratum:
            console.print(f"[bold yellow]{escape(r.claim_id)} erratum:[/bold yellow] "
                          + escape(r.erratum or "the statement as printed is refuted"))
            if r.corrected is not None:
                c = r.corrected
                console.print(f"  corrected statement ({c.verdict.value}): "
                              + escape(c.statement or "(no statement)"))
                console.print("  evidence: " + escape(claim_evidence(c)))
        if r.verdict is Verdict.ERROR:
            console.print(f"[bold magenta]{escape(r.claim_id)} error:[/bold magenta] "
                          + escape(r.error or "(no message)"))
        for line in reading_lines(r):
            print_wrapped(console, line, dim=r.claim_id)
        branches = branch_line(r)
        if branches:
            print_wrapped(console, branches, dim=r.claim_id)
        missed = [m for m in r.mutants if not m.caught]
        if missed:
            console.print(f"[red]{escape(r.claim_id)}: mutants not caught:[/red] "
                          + escape(", ".join(m.name for m in missed)))
    console.print(f"{_counts_phrase(run)} in {_seconds(run.seconds)}")


def print_wrapped(console: Any, text: str, *, indent: str = "", dim: str = "") -> None:
    """``text`` on ``console``, wrapped at its width (at least 40 columns; 80 in a pipe or a
    CI log, where nothing wraps long lines), continuation lines indented two more spaces than
    ``indent``; a leading ``dim`` (a claim id) is printed dimmed. For prose: data (instances,
    arrays, paths) is printed whole."""
    import textwrap

    from rich.markup import escape

    lead = f"{dim} " if dim else ""
    for k, line in enumerate(textwrap.wrap(lead + text, width=max(console.width, 40),
                                           initial_indent=indent,
                                           subsequent_indent=indent + "  ",
                                           break_on_hyphens=False, break_long_words=False)
                             or [indent]):
        if k == 0 and dim:
            body = f"{indent}[dim]{escape(dim)}[/dim]" + escape(line[len(indent) + len(dim):])
        else:
            body = escape(line)
        console.print(body, highlight=False, soft_wrap=True)


#: The report formats, by the name the CLI uses.
FORMATS = {"json": to_json, "md": to_markdown, "junit": to_junit}


def render(run: RunResult, fmt: str, *, load_errors: LoadErrors = ()) -> str:
    """Render ``run`` as ``fmt`` ('json', 'md' or 'junit')."""
    try:
        renderer = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown report format {fmt!r}; expected one of {sorted(FORMATS)}") \
            from None
    return renderer(run, load_errors=load_errors)
