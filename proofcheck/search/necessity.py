"""The assumption-necessity map: for every claim and every hypothesis, drop it and search.

Each (claim, hypothesis) pair gets one of these results:

``necessary``
    :func:`~proofcheck.search.explore.explore` found an instance violating the hypothesis at
    which the conclusion fails, and :func:`~proofcheck.search.certify.certify` proved the
    failure (exact rationals or ball arithmetic, admissibility included). The certified witness
    is kept.
``counterexample found, uncertified``
    a float64 witness fails, but no certificate could be produced: evidence, not a refutation.
``no counterexample within budget``
    nothing failed in the budget spent (instances and seconds are recorded): the hypothesis may
    be unnecessary, or the search too weak. This is not a proof of anything.
``generator cannot violate`` / ``vacuous`` / ``error``
    the claim's generator drew no instance violating the hypothesis, no certified point
    existed, or the claim's code failed (the cause is recorded).

>>> from proofcheck.search.necessity import NecessityEntry
>>> NecessityEntry("demo.lemma1", "unit", "necessary").verdict
'necessary'

Regenerate the documentation page (``docs/necessity.md``, every claim of the catalogue) with::

    proofcheck report --necessity-only --budget 200,30s --seed 0 --format md \\
        --output docs/necessity.md
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable, Sequence

from ..claims import Claim

__all__ = ["NecessityEntry", "NecessityMap", "necessity", "necessity_map", "VERDICTS"]

VERDICTS = ("necessary", "counterexample found, uncertified", "no counterexample within budget",
            "generator cannot violate", "vacuous", "error", "unnecessary (proven at fixed sizes)",
            "redundant (implied, proven at fixed sizes)")

Progress = Callable[[str, str, int, int], None]


@dataclass
class NecessityEntry:
    """The result of dropping one hypothesis of one claim."""

    claim_id: str
    hypothesis: str
    verdict: str
    statement: str = ""
    point_kind: str = "any point"
    budget: dict[str, Any] = field(default_factory=dict)      # asked: instances, seconds
    spent: dict[str, Any] = field(default_factory=dict)       # instances, seconds
    witness: dict[str, Any] | None = None                     # sizes, margin, instance, point
    certificate: dict[str, Any] | None = None
    summary: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"claim": self.claim_id, "hypothesis": self.hypothesis,
                "statement": self.statement, "verdict": self.verdict,
                "point_kind": self.point_kind, "budget": self.budget, "spent": self.spent,
                "witness": self.witness, "certificate": self.certificate,
                "summary": self.summary}

    @property
    def witness_text(self) -> str:
        if not self.witness:
            return ""
        sizes = self.witness.get("sizes") or {}
        size_text = ", ".join(f"{k}={v}" for k, v in sizes.items())
        m = self.witness.get("margin")
        return (f"{size_text}; margin {m:.3g}" if isinstance(m, (int, float)) else size_text)


@dataclass
class NecessityMap:
    """Every entry, with the budget and seed that produced them.

    Renders as JSON (:meth:`to_json`), Markdown (:meth:`to_markdown`) or plain text."""

    entries: list[NecessityEntry]
    budget: dict[str, Any]
    seed: int
    seconds: float = 0.0
    without_hypotheses: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        from .. import __version__
        return {"budget": self.budget, "seed": self.seed,
                "entries": [e.to_dict() for e in self.entries],
                "claims_without_hypotheses": list(self.without_hypotheses),
                "counts": self.counts(), "proofcheck_version": __version__}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=str)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for e in self.entries:
            out[e.verdict] = out.get(e.verdict, 0) + 1
        return out

    def rows(self) -> list[tuple[str, str, str, str, str]]:
        """(claim, hypothesis, result, budget spent, witness / certificate) per entry."""
        out = []
        for e in self.entries:
            spent = f"{e.spent.get('instances', 0)} inst, {e.spent.get('seconds', 0):.0f} s"
            how = e.witness_text
            if e.certificate:
                how += f"; {e.certificate.get('status')} ({e.certificate.get('method')})"
            elif e.verdict not in ("necessary", "counterexample found, uncertified"):
                how = e.summary
            out.append((e.claim_id, e.hypothesis, e.verdict, spent, how))
        return out

    def to_markdown(self, *, title: str | None = "Assumption-necessity map") -> str:
        b = self.budget
        lines = []
        if title:
            lines += [f"# {title}", ""]
        lines += [
            "For every claim and every hypothesis, the hypothesis is dropped (the claim's "
            "generator draws instances that *violate* it) and `proofcheck explore` searches for "
            "an instance where the conclusion fails. **necessary** means a counterexample was "
            "found *and certified* (exact rationals or ball arithmetic, including the remaining "
            "hypotheses and, at local minima, the first- and second-order conditions); "
            "*uncertified* counterexamples are evidence, not refutations; *no counterexample "
            "within budget* proves nothing. Where the claim has polynomial forms at fixed sizes "
            "the decision procedure (z3, models re-validated exactly) answers first, by proof: "
            "**necessary** with an exact counterexample, **unnecessary (proven at fixed sizes)**"
            ", or **redundant (implied, proven at fixed sizes)** when the other hypotheses and "
            "the definedness of the statement's own expressions imply the dropped one.", "",
            f"Budget per hypothesis: {_budget_text(b)}; seed {self.seed}; total time "
            f"{self.seconds:.0f} s. Regenerate this page with", "",
            "```console",
            f"$ proofcheck report --necessity-only --budget {_budget_cli(b)} --seed {self.seed} "
            "--format md --output docs/necessity.md",
            "```", "",
            "A time budget makes the search depend on the machine's speed: the same command can "
            "find a little more or less elsewhere; an instance budget alone is deterministic.",
            "",
            "| claim | dropped | result | spent | witness / certificate |",
            "|---|---|---|---|---|",
        ]
        for row in self.rows():
            lines.append("| " + " | ".join(_md_cell(c) for c in row) + " |")
        lines += ["", "Counts: " + ", ".join(f"{k}: {v}" for k, v in self.counts().items())]
        if self.without_hypotheses:
            lines += ["", "Claims without named hypotheses (nothing to drop): "
                      + ", ".join(f"`{c}`" for c in self.without_hypotheses) + "."]
        certified = [e for e in self.entries if e.verdict == "necessary"]
        if certified:
            lines += ["", "## Certified counterexamples", ""]
            for e in certified:
                c = e.certificate or {}
                lines += [f"### `{e.claim_id}` without {e.hypothesis}", "",
                          f"- dropped: {e.hypothesis}: {e.statement}",
                          f"- witness: {e.witness_text}",
                          f"- certificate: **{c.get('status')}** by {c.get('method')}",
                          f"- {c.get('detail', '')}", ""]
        return "\n".join(lines).rstrip() + "\n"

    def to_text(self, width: int | None = None) -> str:
        """The map as a plain-text table; with ``width`` (a terminal's columns) every line
        fits it: the last column wraps inside the table when there is room for it, else each
        row becomes a block, its witness wrapped under it."""
        import textwrap

        rows = [("claim", "dropped", "result", "spent", "witness / certificate")] + self.rows()
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        title = (f"assumption-necessity map (budget {_budget_text(self.budget)} per "
                 f"hypothesis, seed {self.seed}, {self.seconds:.0f} s)")
        wrap = functools.partial(textwrap.wrap, break_long_words=False, break_on_hyphens=False)
        out = wrap(title, width) if width else [title]
        room = (width - sum(widths) - 8) if width else None
        for k, r in enumerate(rows):
            head = "  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  "
            if room is None or len(head) + len(r[4]) <= (width or 0):
                out.append((head + r[4]).rstrip())
            elif room >= 24:
                parts = wrap(r[4], room) or [""]
                out += [(head + parts[0]).rstrip()] + [" " * len(head) + p for p in parts[1:]]
            elif k:                         # too narrow for a table: one block per row
                cols = width or 80
                out += wrap(f"{r[0]} without {r[1]}: {r[2]} ({r[3]})", cols,
                            subsequent_indent="    ")
                out += wrap(r[4], cols, initial_indent="    ", subsequent_indent="    ")
        return "\n".join(out) + "\n"


def _budget_text(b: dict[str, Any]) -> str:
    parts = []
    if b.get("instances") is not None:
        parts.append(f"{b['instances']} instances")
    if b.get("seconds") is not None:
        parts.append(f"{b['seconds']:g} s")
    return " or ".join(parts) or "explore's default"


def _budget_cli(b: dict[str, Any]) -> str:
    parts = []
    if b.get("instances") is not None:
        parts.append(str(b["instances"]))
    if b.get("seconds") is not None:
        parts.append(f"{b['seconds']:g}s")
    return ",".join(parts) or "300"


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _witness_summary(w) -> dict[str, Any]:
    out = {"sizes": dict(getattr(w, "sizes", {}) or {}), "margin": float(w.margin),
           "tolerance": float(w.tolerance), "status": getattr(w, "status", "")}
    try:
        out["file"] = w.to_dict()
    except Exception:       # the JSON witness is best effort here; explore saves its own
        pass
    return out


def necessity(claim: Claim, hypothesis: str, *, budget=None, seed: int = 0,
              progress: Progress | None = None, explore_fn=None) -> NecessityEntry:
    """Drop ``hypothesis`` from ``claim``, search, certify: one :class:`NecessityEntry`."""
    from .explore import Budget, explore
    explore_fn = explore_fn or explore
    budget = budget if budget is not None else Budget()
    h = claim.hypothesis(hypothesis)
    entry = NecessityEntry(claim.id, hypothesis, "error", statement=h.statement,
                           point_kind=claim.point_kind.value,
                           budget={"instances": budget.instances, "seconds": budget.seconds})
    t0 = time.perf_counter()
    # --- decision procedure (decide.py): a proved verdict where a decidable form names it
    if getattr(claim, "decidable", None) is not None:
        from ..decide import decide_dropped
        dec = decide_dropped(claim, hypothesis)
        if dec["status"] in ("unnecessary", "necessary", "implied"):
            # "implied": the other hypotheses and the definedness of the statement's own
            # expressions (e.g. 1/||w||^2 needs w != 0) imply it, so dropping it changes no
            # instance where the statement means anything: redundant, by proof
            entry.verdict = {"necessary": "necessary",
                             "unnecessary": "unnecessary (proven at fixed sizes)",
                             "implied": "redundant (implied, proven at fixed sizes)"}[
                                 dec["status"]]
            entry.summary = dec["text"]
            entry.certificate = {"status": "certified" if dec["status"] == "necessary"
                                 else "proven", "method": "decision procedure (z3/cvc5, "
                                 "exact re-validation)", "detail": dec["text"]}
            entry.spent = {"instances": 0, "seconds": round(time.perf_counter() - t0, 1)}
            return entry
    # --- end decision procedure
    try:
        ex = explore_fn(claim, drop=(hypothesis,), budget=budget, seed=seed, progress=progress)
    except Exception as exc:        # a broken claim is a finding, recorded with its cause
        entry.summary = f"{type(exc).__name__}: {exc}"
        entry.spent = {"instances": 0, "seconds": round(time.perf_counter() - t0, 1)}
        return entry
    entry.spent = {"instances": int(getattr(ex, "instances", 0)),
                   "seconds": round(float(getattr(ex, "seconds", 0.0) or
                                          (time.perf_counter() - t0)), 1)}
    entry.summary = getattr(ex, "summary", "")
    failing = [w for w in ex.witnesses if w.fails]
    certified = [w for w in failing if w.certified]
    if certified:
        w = certified[0]
        entry.verdict = "necessary"
    elif failing:
        w = failing[0]
        entry.verdict = "counterexample found, uncertified"
    else:
        w = None
        outcome = getattr(ex, "outcome", "none-within-budget")
        entry.verdict = {"generator-cannot-violate": "generator cannot violate",
                         "vacuous": "vacuous", "error": "error"}.get(
            outcome, "no counterexample within budget")
        if entry.verdict == "error" and getattr(ex, "notes", None):
            entry.summary = "; ".join(ex.notes)
    if w is not None:
        entry.witness = _witness_summary(w)
        cert = getattr(w, "certificate", None)
        if cert is not None:
            entry.certificate = (cert.to_dict() if hasattr(cert, "to_dict") else
                                 {"status": cert.status, "method": cert.method,
                                  "detail": cert.detail})
    return entry


def necessity_map(claims: Sequence[Claim], budget=None, seed: int = 0,
                  progress: Progress | None = None, *, explore_fn=None) -> NecessityMap:
    """The necessity map of ``claims``: one entry per (claim, hypothesis), in catalogue order.

    ``budget`` (a :class:`~proofcheck.search.explore.Budget`) applies to each hypothesis
    separately; the same ``seed`` is used for every search, so an instance budget alone gives
    the same map twice."""
    from .explore import Budget
    budget = budget if budget is not None else Budget()
    t0 = time.perf_counter()
    entries, bare = [], []
    for claim in claims:
        if claim.conclusion is None or not claim.hypotheses:
            bare.append(claim.id)
            continue
        for h in claim.hypotheses:
            if progress:
                progress(claim.id, f"necessity of {h.name}", 0, 1)
            entries.append(necessity(claim, h.name, budget=budget, seed=seed,
                                     progress=progress, explore_fn=explore_fn))
    return NecessityMap(entries, {"instances": budget.instances, "seconds": budget.seconds},
                        seed, time.perf_counter() - t0, bare)
