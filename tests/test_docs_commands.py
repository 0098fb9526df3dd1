"""Every `proofcheck ...` command shown in README.md and docs/*.md is run, so a documented
command can never fail unnoticed (issue "Reliability", item "every command in the docs").

Commands are collected from the ```bash / ```console / ```sh blocks (``$ `` prompts stripped,
``pip install . && `` prefixes dropped); each runs in-process through click's CliRunner in a
temporary working folder that holds what the docs assume:

- ``my_claims/``: built from the ``python title="my_claims/..."`` blocks of
  docs/write-a-claim.md (so the tutorial's code is exercised too); ``my_theorems/`` is a copy;
- ``examples/conjectures/``: a copy of the repository's folder;
- ``witnesses/``: produced by the earlier ``--save-witness`` command of the same page (run
  first when needed, so each test stands alone, also under pytest-xdist).

A command passes when it exits 0 or 1 (1: a documented refutation or reproduced witness) with
no traceback and no "internal error"; a command whose documented output is an ``Error:`` line
must exit 2 and print that message.

Honest list of what is *not* run as printed (see ``_quick``, ``_REDUCED`` and ``_SKIPPED``):
- a ``proofcheck check`` or ``pytest --proofcheck`` command that checks at another profile
  than quick (the printed ``--profile``, or none: the default profile) runs at ``--profile
  quick`` in the default suite: the test proves that the documented command runs and prints
  its report, which the profile does not change; the command as printed is the test's
  ``-as-printed`` variant, marked ``slow`` (``pytest -m slow``);
- the commands share one result cache per test run (tests/conftest.py's
  ``shared_result_cache``, content-addressed: a hit is the result a fresh check computes), so a
  claim that two documented commands check at the same profile and seed is checked once;
- full-catalogue runs (``proofcheck check`` with no pattern, ``proofcheck docs``) get
  ``--profile quick`` where the doc shows no profile, and are marked ``slow`` (minutes);
- the necessity maps over a whole paper or the whole catalogue (tens of minutes at the
  documented budgets) run with a small budget, and are marked ``slow``;
- the thorough run of a whole paper is marked ``slow``;
- ``--scheduler tcp://host:8786`` needs a dask scheduler at that address: skipped;
- ``pytest --proofcheck ...`` commands run in a fresh pytest process in the workspace;
  ``pytest --proofcheck`` (the whole bundled catalogue) is marked ``slow``, ``pytest tests/
  --proofcheck my_claims`` is skipped (it is this test suite);
- ``pip`` and ``mkdocs`` lines are not run (``mkdocs build --strict`` runs in
  tests/test_docgen.py).
"""

from __future__ import annotations

import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from proofcheck.cli import EXIT_USAGE, main

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_SHELL = {"bash", "console", "sh", "shell", "shell-session"}

#: documented command -> (command actually run, why). Only budgets and profiles change.
_REDUCED = {
    "proofcheck check": ("proofcheck check --profile quick",
                         "the full catalogue: the doc shows no profile, quick keeps it to "
                         "minutes"),
    "proofcheck docs": ("proofcheck docs --profile quick",
                        "the full catalogue at the command's default (quick) profile"),
    "proofcheck report --necessity-only --budget 200,30s --seed 0 --format md "
    "--output docs/necessity.md":
        ("proofcheck report kb2019.theorem1 --necessity-only --budget 4,2s --seed 0 "
         "--format md --output docs/necessity.md",
         "the whole catalogue's map at 30 s per hypothesis is over an hour: one claim, "
         "small budget"),
}
#: commands that take minutes: opt-in with -m slow
_SLOW = {
    "pytest --proofcheck",          # the bundled catalogue at the default profile: minutes
    "proofcheck check", "proofcheck docs",
    "proofcheck check kb2019 --profile quick",                              # 52 s CPU
    "proofcheck check kb2019 --profile thorough --seed 3 --format json --output run.json",
    "proofcheck report --necessity-only --budget 200,30s --seed 0 --format md "
    "--output docs/necessity.md",
    "proofcheck figure khk2019dw.figure1 --dataset synthetic",
    "proofcheck figure khk2019dw.figure1 --dataset digits",
}
_SKIPPED = {
    "pytest tests/ --proofcheck my_claims":
        "runs this whole test suite (from inside it); the claims part is the command above",
    "proofcheck figure khk2019dw.figure1 --dataset synthetic --scheduler tcp://host:8786":
        "needs a dask scheduler listening at tcp://host:8786",
}


#: documented commands that fail today for a reason outside the docs (xfail, not strict: they
#: pass as soon as the cause is fixed; remove the entry then)
_KNOWN_FAILURES: dict[str, str] = {}


@dataclass
class DocCommand:
    page: Path
    line: int
    text: str                       # as documented (comment stripped)
    error: str | None = None        # a documented "Error: ..." output line
    # earlier commands of the page that write a file this one reads: (command, what it
    # writes); a worker that did not run them first runs them itself
    before: list[tuple[str, str]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.page.name}:{self.line}"


def _commands() -> list[DocCommand]:
    out: list[DocCommand] = []
    for page in DOCS:
        lines = page.read_text(encoding="utf-8").splitlines()
        producers: list[tuple[str, str, list[tuple[str, str]]]] = []
        fence, lang = None, ""
        current: DocCommand | None = None
        for k, raw in enumerate(lines, 1):
            stripped = raw.strip()
            if stripped.startswith("```"):
                if fence is None:
                    fence, lang = stripped, stripped[3:].split()[0] if stripped[3:] else ""
                else:
                    fence, current = None, None
                continue
            if fence is None or lang not in _SHELL:
                continue
            text = stripped[2:] if stripped.startswith("$ ") else stripped
            if "&& proofcheck" in text:
                text = "proofcheck" + text.split("&& proofcheck", 1)[1]
            if text.startswith("proofcheck") or text.startswith("pytest --proofcheck"):
                words = shlex.split(text, comments=True)
                before: list[tuple[str, str]] = []
                for c, p, needs in producers:        # what it reads, and what that reads
                    if _reads(words, p):
                        before += [x for x in needs + [(c, p)] if x not in before]
                current = DocCommand(page, k, " ".join(words), before=before)
                out.append(current)
                for flag in ("--save-witness", "--output", "-o"):
                    if flag in words[:-1]:
                        producers.append((current.text, words[words.index(flag) + 1], before))
            elif current is not None and stripped.startswith("Error:"):
                current.error = stripped[len("Error:"):].strip()
    return out


def _reads(words: list[str], product: str) -> bool:
    """Whether a command's arguments name ``product`` (a file, or a file in that folder)."""
    folder = product.rstrip("/") + "/"
    writes = {words[k + 1] for k, w in enumerate(words[:-1])
              if w in ("--save-witness", "--output", "-o")}
    return any(w == product or w.startswith(folder) for w in words if w not in writes)


def _made(cwd: Path, product: str) -> bool:
    path = cwd / product
    return any(path.glob("*.json")) if path.is_dir() else path.exists()


COMMANDS = _commands()


def _write_a_claim_folder(dest: Path) -> None:
    """my_claims/ as docs/write-a-claim.md builds it, from its titled code blocks."""
    text = (ROOT / "docs" / "write-a-claim.md").read_text(encoding="utf-8")
    for m in re.finditer(r'```python title="(my_claims/[^"]+)"\n(.*?)\n```', text, re.S):
        path = dest / m.group(1)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(m.group(2) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def workspaces(tmp_path_factory):
    made: dict[str, Path] = {}

    def get(page: Path) -> Path:
        if page.name not in made:
            d = tmp_path_factory.mktemp(page.stem)
            _write_a_claim_folder(d)
            shutil.copytree(d / "my_claims", d / "my_theorems")
            for example in ("conjectures", "new_model_family"):
                shutil.copytree(ROOT / "examples" / example, d / "examples" / example,
                                ignore=shutil.ignore_patterns("__pycache__"))
            made[page.name] = d
        return made[page.name]
    return get


def _argv(text: str, cwd: Path) -> list[str]:
    words = shlex.split(text)[1:]
    out = []
    for w in words:
        if "<file>" in w:       # README: `replay witnesses/<file>.json`
            pattern = w.replace("<file>", "*")
            found = sorted(cwd.glob(pattern))
            assert found, f"no file matches {pattern}: the --save-witness command before it " \
                          "saved nothing"
            w = str(found[0].relative_to(cwd))
        out.append(w)
    return out


class _Done:
    def __init__(self, proc):
        self.exit_code = proc.returncode
        self.output = proc.stdout + proc.stderr


def _run(text: str, cwd: Path, monkeypatch):
    monkeypatch.chdir(cwd)
    # as for a user: the failure database in the working folder (tests/conftest.py turns it
    # off for every other test)
    monkeypatch.setenv("PROOFCHECK_WITNESS_DB", str(cwd / ".proofcheck" / "witnesses"))
    if text.startswith("pytest"):       # a fresh pytest process, in the workspace
        import os
        import subprocess
        import sys
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
        return _Done(subprocess.run([sys.executable, "-m", *shlex.split(text),
                                     "-p", "no:cacheprovider", "-q"], cwd=cwd, env=env,
                                    capture_output=True, text=True, timeout=1800))
    return CliRunner().invoke(main, [*_argv(text, cwd), "--no-progress"]
                              if _takes_no_progress(text) else _argv(text, cwd))


def _takes_no_progress(text: str) -> bool:
    cmd = shlex.split(text)[1] if len(shlex.split(text)) > 1 else ""
    return cmd in ("check", "explore", "report", "docs") and "--help" not in text


def _quick(text: str) -> str:
    """``text`` at the quick profile when it checks claims at another one (printed, or the
    default profile when none is printed); ``text`` itself otherwise."""
    words = shlex.split(text)
    if words[:2] == ["proofcheck", "check"]:
        flag = "--profile"
    elif words[:2] == ["pytest", "--proofcheck"]:
        flag = "--proofcheck-profile"
    else:
        return text
    if "--help" in words:
        return text
    if flag in words[:-1]:
        words[words.index(flag) + 1] = "quick"
    else:
        words += [flag, "quick"]
    return shlex.join(words)


def _reduced(text: str) -> str:
    """The command the default suite runs for the documented ``text``."""
    return _REDUCED[text][0] if text in _REDUCED else _quick(text)


def _params():
    for c in COMMANDS:
        marks = []
        if c.text in _SLOW:
            marks.append(pytest.mark.slow)
        if c.text in _SKIPPED:
            marks.append(pytest.mark.skip(reason=_SKIPPED[c.text]))
        if c.text in _KNOWN_FAILURES:
            marks.append(pytest.mark.xfail(reason=_KNOWN_FAILURES[c.text], strict=False))
        yield pytest.param(c, False, id=c.id, marks=marks)
        if c.text not in _SLOW and c.text not in _SKIPPED and c.text not in _REDUCED \
                and _quick(c.text) != c.text:
            yield pytest.param(c, True, id=f"{c.id}-as-printed", marks=[*marks, pytest.mark.slow])


def test_the_docs_show_commands():
    pages = {c.page.name for c in COMMANDS}
    assert {"README.md", "check.md", "explore.md", "user-conjectures.md",
            "write-a-claim.md"} <= pages
    assert any(c.error for c in COMMANDS)


@pytest.mark.parametrize("cmd, as_printed", list(_params()))
def test_documented_command_runs(cmd: DocCommand, as_printed: bool, workspaces, monkeypatch,
                                 shared_result_cache):
    cwd = workspaces(cmd.page)
    monkeypatch.setenv("PROOFCHECK_CACHE_DIR", str(shared_result_cache.directory))
    for maker, product in cmd.before:        # a witness a replay needs, a report --run reads
        if not _made(cwd, product):
            res = _run(maker if as_printed else _reduced(maker), cwd, monkeypatch)
            assert res.exit_code in (0, 1), res.output
    text = cmd.text if as_printed else _reduced(cmd.text)
    res = _run(text, cwd, monkeypatch)
    out = res.output
    assert "Traceback" not in out and "internal error" not in out, out[-3000:]
    if cmd.error is not None:
        assert res.exit_code == EXIT_USAGE, out[-3000:]
        assert " ".join(cmd.error.split()) in " ".join(out.replace("'", "").split()) \
            or " ".join(cmd.error.split()) in " ".join(out.split()), out
    else:
        assert res.exit_code in (0, 1), f"{text} exited {res.exit_code}:\n{out[-3000:]}"
