r"""A self-contained HTML report of a run: one file to open, filter and share, offline.

``proofcheck report --format html -o run.html`` (a fresh run) or
``proofcheck report --run run.json --format html -o run.html`` (a saved ``--format json``
report of ``check`` or ``report``) writes one HTML file with

* the verdict table: claim, paper, verdict, evidence grade ("—" when the run predates grades),
  evidence, minimum margin, mutants caught, time; filters by paper, verdict and grade and a
  text search (a few lines of inline JavaScript; the filter state is also read from the URL
  fragment, e.g. ``run.html#verdict=refuted&paper=doe2020``, so a filtered view can be shared);
* one section per claim: the statement as printed, typeset as mathematics, the evidence, every
  check, each witness with the commands that reproduce it, the erratum and the corrected
  statement;
* figures embedded as base64 ``data:`` URIs: a verdicts-by-paper chart (matplotlib, when
  installed) and any image passed with ``--figure FILE`` (PNG, SVG, JPEG).

The file refers to nothing outside itself: no scripts, fonts, style sheets or images are
fetched (the test checks that there is no ``http(s)://`` or protocol-relative URL in it).

**Why the mathematics is typeset this way.** KaTeX and MathJax need their scripts and fonts
from the network (or a vendored copy of several hundred kilobytes), and the catalogue's
statements are written in the papers' plain-text notation (``L*_{x,z}``, ``R^{d_theta}``,
``||G||_Fr``), not in TeX, so a TeX renderer (or matplotlib's mathtext to SVG) would need a
translation that can fail on any new statement. Instead :func:`math_html` turns that notation
into Unicode mathematics with HTML sub- and superscripts (``<=`` -> ≤, ``theta`` -> θ,
``_{x,z}`` -> subscript), set in a serif math font from the reader's machine (STIX Two Math,
Cambria Math, Latin Modern Math, then any serif). It cannot fail (unknown notation stays as
printed), the text stays selectable, searchable and copyable, and nothing is downloaded.

>>> math_html("L*_{x,z} <= ||w||^2 for theta in R^{d_theta}")
'L*<sub>x,z</sub> ≤ ||w||<sup>2</sup> for θ in R<sup>d<sub>θ</sub></sup>'
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["GRADE_MISSING", "embed_figure", "math_html", "run_document", "to_html"]

GRADE_MISSING = "—"

_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "Gamma": "Γ", "delta": "δ", "Delta": "Δ",
    "epsilon": "ε", "eps": "ε", "zeta": "ζ", "eta": "η", "theta": "θ", "Theta": "Θ",
    "kappa": "κ", "lambda": "λ", "Lambda": "Λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π",
    "rho": "ρ", "sigma": "σ", "Sigma": "Σ", "tau": "τ", "phi": "φ", "Phi": "Φ", "chi": "χ",
    "psi": "ψ", "Psi": "Ψ", "omega": "ω", "Omega": "Ω", "nabla": "∇", "sqrt": "√",
    "infty": "∞", "otimes": "⊗", "odot": "⊙", "partial": "∂",
}
_OPERATORS = [("<=>", "⇔"), ("=>", "⇒"), ("<=", "≤"), (">=", "≥"), ("!=", "≠"),
              ("->", "→"), ("+-", "±"), ("\\\\", "∖"), ("\\", "∖"), ("~=", "≈")]
_GREEK_RE = re.compile(r"(?<![A-Za-z\\])\\?(" + "|".join(sorted(_GREEK, key=len, reverse=True))
                       + r")(?![A-Za-z])")
_BRACED = re.compile(r"([_^])\{([^{}]*)\}")
_TOKEN = re.compile(r"(?<=[\w*)\]|'′])([_^])([A-Za-z0-9]+|[*+\-]|[α-ωΑ-Ω∇∞])")


def math_html(text: str) -> str:
    """The papers' plain-text mathematics as HTML (Unicode symbols, sub/superscripts); the
    input is escaped first, so any text is safe. See the module doc for why."""
    s = html.escape(str(text), quote=False)
    s = _GREEK_RE.sub(lambda m: _GREEK[m.group(1)], s)      # also TeX's \theta
    # escape() turned < and > into entities: operators are matched on the escaped text
    for a, b in _OPERATORS:
        s = s.replace(html.escape(a, quote=False), b)
    for _ in range(8):                       # innermost braces first: R^{d_{theta}}
        new = _BRACED.sub(lambda m: _tag(m.group(1), _TOKEN.sub(_token_tag, m.group(2))), s)
        if new == s:
            break
        s = new
    return _TOKEN.sub(_token_tag, s)


def _tag(kind: str, inner: str) -> str:
    t = "sub" if kind == "_" else "sup"
    return f"<{t}>{inner}</{t}>"


def _token_tag(m: re.Match) -> str:
    return _tag(m.group(1), m.group(2))


def embed_figure(path: str | Path, caption: str | None = None) -> str:
    """An ``<figure>`` with the image inlined as a base64 ``data:`` URI."""
    p = Path(path)
    kind = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg",
            ".jpeg": "image/jpeg", ".gif": "image/gif"}.get(p.suffix.lower())
    if kind is None:
        raise ValueError(f"cannot embed {p}: PNG, SVG, JPEG or GIF expected")
    return _figure(p.read_bytes(), kind, caption or p.name)


def _figure(data: bytes, kind: str, caption: str) -> str:
    b64 = base64.b64encode(data).decode("ascii")
    return (f'<figure><img alt="{html.escape(caption)}" src="data:{kind};base64,{b64}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


# ---------------------------------------------------------------------------------------------
# reading a run

def run_document(run: Any) -> dict[str, Any]:
    """The run as the JSON document of ``check --format json``: from a RunResult, a dict (a
    ``check`` report, or a ``report --format json`` document with its ``verdicts``), JSON text
    or the path of a JSON file."""
    from .results import RunResult
    if isinstance(run, RunResult):
        from .report import to_json
        return json.loads(to_json(run))
    if isinstance(run, (str, Path)):
        from .docgen import read_run_json
        run = read_run_json(run)
    if isinstance(run, Mapping) and "claims" not in run and isinstance(run.get("verdicts"),
                                                                        Mapping):
        run = run["verdicts"]
    if not isinstance(run, Mapping) or not isinstance(run.get("claims"), list):
        raise ValueError("not a proofcheck run: expected a JSON object with 'claims' (the "
                         "output of `proofcheck check --format json`)")
    return dict(run)


def _evidence(c: Mapping[str, Any]) -> Mapping[str, Any]:
    ev = c.get("evidence")
    return ev if isinstance(ev, Mapping) else {}


def _grade(c: Mapping[str, Any]) -> str:
    ev = _evidence(c)
    for where, key in ((c, "grade"), (c, "evidence_grade"), (ev, "grade")):
        v = where.get(key)
        if isinstance(v, Mapping):
            v = v.get("name") or v.get("grade")
        if v:
            return str(v)
    return GRADE_MISSING


def _paper(claim_id: str) -> str:
    return claim_id.split(".", 1)[0]


def _num(x: Any) -> str:
    if x is None:
        return "—"
    if isinstance(x, (int, float)):
        return f"{x:.3g}"
    return str(x)


def _mutants(c: Mapping[str, Any]) -> str:
    m = c.get("mutants")
    if isinstance(m, Mapping):
        return f"{m.get('caught', 0)}/{m.get('total', 0)}"
    if isinstance(m, list):
        return f"{sum(1 for x in m if x.get('caught'))}/{len(m)}"
    return "—"


# ---------------------------------------------------------------------------------------------
# the page

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5em auto;
max-width:78em;padding:0 1em;color:#1b1b1b;line-height:1.45}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-top:1px solid #ddd;padding-top:.8em}
table{border-collapse:collapse;width:100%;font-size:.92em}
th,td{border-bottom:1px solid #e3e3e3;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f4f4f6;position:sticky;top:0}
.math{font-family:"STIX Two Math","STIX Two Text","Cambria Math","Latin Modern Math",
"Times New Roman",serif;font-size:1.06em}
.v-verified{color:#16653a;font-weight:600}.v-refuted{color:#b3261e;font-weight:600}
.v-erratum{color:#8a5a00;font-weight:600}.v-inconclusive{color:#555;font-weight:600}
.v-error{color:#7b1fa2;font-weight:600}
.filters{display:flex;gap:1em;flex-wrap:wrap;margin:1em 0;align-items:center}
pre,code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;white-space:pre-wrap}
.witness{border-left:4px solid #b3261e;padding:.2em .8em;margin:.8em 0;background:#fff8f7}
.erratum{border-left:4px solid #8a5a00;padding:.2em .8em;background:#fffaf0}
figure{margin:1em 0}figure img{max-width:100%}figcaption{font-size:.85em;color:#555}
.muted{color:#666}.hidden{display:none}
"""

_JS = """
(function(){
  var sel={paper:document.getElementById('f-paper'),verdict:document.getElementById('f-verdict'),
           grade:document.getElementById('f-grade')};
  var text=document.getElementById('f-text');
  function apply(){
    var q=(text.value||'').toLowerCase(), shown=0;
    document.querySelectorAll('tr.claim').forEach(function(tr){
      var ok=true;
      for(var k in sel){var v=sel[k].value;if(v&&tr.dataset[k]!==v){ok=false;}}
      if(q&&tr.textContent.toLowerCase().indexOf(q)<0){ok=false;}
      tr.classList.toggle('hidden',!ok);
      var sec=document.getElementById('claim-'+tr.dataset.id);
      if(sec){sec.classList.toggle('hidden',!ok);}
      if(ok){shown++;}
    });
    document.getElementById('shown').textContent=shown;
  }
  function fromHash(){
    var h=decodeURIComponent(location.hash.replace(/^#/,''));
    h.split('&').forEach(function(kv){var p=kv.split('=');
      if(p.length===2){if(sel[p[0]]){sel[p[0]].value=p[1];}else if(p[0]==='q'){text.value=p[1];}}});
  }
  for(var k in sel){sel[k].addEventListener('change',apply);}
  text.addEventListener('input',apply);
  window.addEventListener('hashchange',function(){fromHash();apply();});
  fromHash();apply();
  document.body.setAttribute('data-ready','yes');
})();
"""


def _options(name: str, label: str, values: Iterable[str]) -> str:
    opts = "".join(f'<option value="{html.escape(v)}">{html.escape(v)}</option>'
                   for v in sorted(set(values)))
    return (f'<label>{label} <select id="f-{name}"><option value="">all</option>{opts}'
            "</select></label>")


def _reproduce(c: Mapping[str, Any], w: Mapping[str, Any], doc: Mapping[str, Any]) -> list[str]:
    cid = str(c.get("id", "")) + "".join(f" --path {p}" for p in doc.get("_paths", ()))
    profile = c.get("profile") or doc.get("profile") or "default"
    seed = c.get("seed", doc.get("seed", 0))
    cmds = []
    detail = str(w.get("detail") or "")
    m = re.search(r"proofcheck replay \S+", detail)
    if m:
        cmds.append(m.group(0))
    cmds.append(f"proofcheck check {cid} --profile {profile} --seed {seed}")
    cmds.append(f"proofcheck explore {cid} --seed {seed} --save-witness witnesses/")
    return cmds


def _witness_html(c: Mapping[str, Any], w: Mapping[str, Any], doc: Mapping[str, Any]) -> str:
    inst = json.dumps(w.get("instance"), indent=1, default=str)
    if len(inst) > 4000:
        inst = inst[:4000] + "\n… (truncated; the JSON report has the full instance)"
    parts = [f'<div class="witness"><p><b>Witness</b> ({html.escape(str(w.get("check", "")))}):'
             f" margin {_num(w.get('margin'))} &lt; −tol {_num(w.get('tolerance'))}; "
             f"{'certified' if w.get('certified') else 'not certified'}: "
             f"{html.escape(str(w.get('certification', '')))}</p>",
             f"<pre>{html.escape(inst)}</pre>"]
    if w.get("point"):
        parts.append("<details><summary>point</summary><pre>"
                     + html.escape(json.dumps(w["point"], indent=1, default=str)[:4000])
                     + "</pre></details>")
    if w.get("detail"):
        parts.append(f"<p class='muted'>{html.escape(str(w['detail']))}</p>")
    parts.append("<p>Reproduce:</p><pre>" + html.escape("\n".join(_reproduce(c, w, doc)))
                 + "</pre></div>")
    return "".join(parts)


def _checks_html(c: Mapping[str, Any]) -> str:
    rows = []
    for k in c.get("checked") or c.get("checks") or []:
        passed = {True: "passed", False: "FAILED", None: "undecided"}.get(k.get("passed"), "?")
        rows.append(f"<tr><td>{html.escape(str(k.get('name', '')))}</td>"
                    f"<td>{html.escape(str(k.get('kind', '')))}</td><td>{passed}</td>"
                    f"<td>{html.escape(str(k.get('summary', '')))}</td></tr>")
    if not rows:
        return ""
    return ("<details><summary>checks</summary><table><tr><th>check</th><th>kind</th>"
            "<th>result</th><th>summary</th></tr>" + "".join(rows) + "</table></details>")


def _claim_section(c: Mapping[str, Any], doc: Mapping[str, Any]) -> str:
    cid = str(c.get("id", ""))
    verdict = str(c.get("verdict", ""))
    ev = _evidence(c)
    out = [f'<section id="claim-{html.escape(cid)}"><h2><code>{html.escape(cid)}</code> '
           f'<span class="v-{html.escape(verdict)}">{html.escape(verdict)}</span></h2>',
           f"<p><b>{math_html(c.get('title', ''))}</b> "
           f"<span class='muted'>({html.escape(str(c.get('source', '')))})</span></p>",
           f'<p>Statement as printed: <span class="math">{math_html(c.get("statement", ""))}'
           "</span></p>",
           f"<p>Evidence (grade {html.escape(_grade(c))}): "
           f"{html.escape(str(ev.get('summary', '')))}</p>"]
    if c.get("error"):
        out.append(f"<pre>{html.escape(str(c['error']))}</pre>")
    if c.get("erratum"):
        out.append(f'<div class="erratum"><p><b>Erratum.</b> {html.escape(str(c["erratum"]))}'
                   "</p></div>")
    for w in c.get("witnesses") or []:
        out.append(_witness_html(c, w, doc))
    corr = c.get("corrected")
    if isinstance(corr, Mapping):
        cev = _evidence(corr)
        out.append(f'<div class="erratum"><p><b>Corrected statement</b> '
                   f'(<span class="v-{html.escape(str(corr.get("verdict", "")))}">'
                   f'{html.escape(str(corr.get("verdict", "")))}</span>): <span class="math">'
                   f'{math_html(corr.get("statement", ""))}</span></p>'
                   f"<p>{html.escape(str(cev.get('summary', '')))}</p></div>")
        for w in corr.get("witnesses") or []:
            out.append(_witness_html(corr, w, doc))
    out.append(_checks_html(c))
    out.append("</section>")
    return "\n".join(out)


def _row(c: Mapping[str, Any]) -> str:
    cid = str(c.get("id", ""))
    verdict = str(c.get("verdict", ""))
    ev = _evidence(c)
    grade = _grade(c)
    attrs = (f'class="claim" data-id="{html.escape(cid)}" data-paper="{html.escape(_paper(cid))}"'
             f' data-verdict="{html.escape(verdict)}" data-grade="{html.escape(grade)}"')
    return (f"<tr {attrs}><td><a href=\"#claim-{html.escape(cid)}\"><code>{html.escape(cid)}"
            f"</code></a></td><td>{html.escape(_paper(cid))}</td>"
            f'<td class="v-{html.escape(verdict)}">{html.escape(verdict)}</td>'
            f"<td>{html.escape(grade)}</td><td>{html.escape(str(ev.get('summary', '')))}</td>"
            f"<td>{_num(c.get('min_margin', ev.get('min_margin')))}</td>"
            f"<td>{_mutants(c)}</td><td>{_num(c.get('seconds'))} s</td></tr>")


def _summary_chart(claims: Sequence[Mapping[str, Any]]) -> str:
    """Verdicts by paper as an embedded SVG (matplotlib); '' when matplotlib is missing."""
    try:
        import io

        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "<p class='muted'>(no chart: matplotlib is not installed)</p>"
    papers = sorted({_paper(str(c.get("id", ""))) for c in claims})
    verdicts = ["verified", "erratum", "inconclusive", "refuted", "error"]
    colours = {"verified": "#16653a", "erratum": "#d39a1c", "inconclusive": "#999999",
               "refuted": "#b3261e", "error": "#7b1fa2"}
    fig, ax = plt.subplots(figsize=(7, 0.5 + 0.45 * max(len(papers), 1)))
    left = [0] * len(papers)
    for v in verdicts:
        counts = [sum(1 for c in claims if _paper(str(c.get("id", ""))) == p
                      and c.get("verdict") == v) for p in papers]
        if any(counts):
            ax.barh(papers, counts, left=left, color=colours[v], label=v)
            left = [a + b for a, b in zip(left, counts, strict=True)]
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("claims")
    ax.invert_yaxis()
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    return _figure(buf.getvalue(), "image/svg+xml", "Verdicts by paper")


def to_html(run: Any, *, figures: Sequence[str | Path] = (), title: str = "proofcheck report",
            chart: bool = True, sections: Sequence[tuple[str, str]] = (),
            paths: Sequence[str] = ()) -> str:
    """The self-contained HTML page of ``run`` (anything :func:`run_document` reads).
    ``figures`` are image files embedded after the summary; ``sections`` are (title, plain
    text) pairs appended at the end (the necessity map, tightness); ``paths`` the ``--path``
    the claims were loaded from (for the reproduce commands)."""
    doc = run_document(run)
    doc["_paths"] = [str(p) for p in paths]
    claims = [c for c in doc["claims"] if isinstance(c, Mapping)]
    counts: dict[str, int] = {}
    for c in claims:
        counts[str(c.get("verdict"))] = counts.get(str(c.get("verdict")), 0) + 1
    head = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
    meta = (f"profile {doc.get('profile', '?')}, seed {doc.get('seed', '?')}, "
            f"proofcheck {doc.get('proofcheck_version', '?')}, "
            f"{_num(doc.get('seconds'))} s")
    errors = doc.get("load_errors") or []
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{len(claims)} claims: {html.escape(head)} <span class='muted'>"
        f"({html.escape(meta)})</span></p>",
    ]
    if errors:
        parts.append("<div class='witness'><p><b>Modules that could not be loaded</b></p><ul>"
                     + "".join(f"<li><code>{html.escape(str(e.get('module')))}</code>: "
                               f"{html.escape(str(e.get('message')))}</li>" for e in errors)
                     + "</ul></div>")
    if chart and claims:
        parts.append(_summary_chart(claims))
    parts += [embed_figure(f) for f in figures]
    parts.append('<div class="filters">'
                 + _options("paper", "Paper", (_paper(str(c.get("id", ""))) for c in claims))
                 + _options("verdict", "Verdict", (str(c.get("verdict")) for c in claims))
                 + _options("grade", "Grade", (_grade(c) for c in claims))
                 + '<label>Search <input id="f-text" type="search"></label>'
                 + '<span><span id="shown">' + str(len(claims)) + "</span> shown</span></div>")
    parts.append('<table id="verdicts"><thead><tr><th>claim</th><th>paper</th><th>verdict</th>'
                 "<th>grade</th><th>evidence</th><th>min margin</th><th>mutants</th>"
                 "<th>time</th></tr></thead><tbody>"
                 + "".join(_row(c) for c in claims) + "</tbody></table>")
    parts += [_claim_section(c, doc) for c in claims]
    parts += [f"<section><h2>{html.escape(t)}</h2><pre>{html.escape(body)}</pre></section>"
              for t, body in sections]
    parts.append(f"<script>{_JS}</script></body></html>")
    return "\n".join(parts) + "\n"
