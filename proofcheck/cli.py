"""The ``proofcheck`` command line.

::

    proofcheck list [PATTERN ...] [--path DIR ...] [--format text|json]
    proofcheck check [ID-or-prefix ...] [--path DIR ...] [--profile quick|default|thorough]
                     [--seed N] [--format text|json|md|junit] [--output PATH] [--no-progress]
    proofcheck figure FIGURE-ID [--output DIR] [--format png|svg|pdf ...] [--seed N]
                     [--dataset NAME] [--scheduler ADDRESS] [--quick]
    proofcheck docs [--output DIR] [--profile ...] [--run REPORT.json]
    proofcheck explore CLAIM [--drop HYPOTHESIS ...] [--mutate NAME] [--budget SECONDS|N]
                     [--seed N] [--format text|json] [--save-witness DIR] [--path DIR]
    proofcheck replay FILE [--path DIR] [--format text|json]

A pattern is an exact claim id (``doe2020.theorem2``) or a prefix of ids (``doe2020``);
``--path`` loads a user's theorem modules (files or folders) instead of the bundled catalogue.

Exit codes (the same for ``list`` and ``check``)::

    0  every selected claim is verified, an erratum or inconclusive: nothing is refuted and
       nothing broke. An erratum is a finding about the printed text whose corrected statement
       holds; an inconclusive claim is reported with its reason, not hidden.
    1  at least one claim is refuted (and no tool error, see 3).
    2  usage error: unknown claim id or prefix (with suggestions), bad option or value.
    3  a tool or claim error: a claim's verdict is ``error``, or a theorem module failed to
       import. It wins over 1 because a broken run must be repaired before its refutations
       are trusted; an error is never reported as a refuted claim.
    130 interrupted by SIGINT (Ctrl-C) or SIGTERM: the run stops within 2 s and reports the
       claims finished so far (JSON ``"partial": true``); never 1.

``explore`` and ``replay`` document their own exit codes in the same spirit (``--help``; see
``docs/explore.md``): 1 means a counterexample was found / still fails, 3 a claim or tool error.

Reports go to stdout (or ``--output``); progress and warnings go to stderr, so
``proofcheck check --format json > run.json`` yields clean JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from collections.abc import Sequence

import click

from proofcheck import __version__
from proofcheck.witness_db import store_exploration, witness_db_option, witnesses_group

__all__ = ["EXIT_ERROR", "EXIT_OK", "EXIT_REFUTED", "EXIT_USAGE", "exit_code", "main"]

EXIT_OK = 0
EXIT_REFUTED = 1
EXIT_USAGE = 2
EXIT_ERROR = 3

_EPILOG = """\b
Exit codes:
  0  nothing refuted, nothing broken (verified, erratum, inconclusive)
  1  at least one claim refuted
  2  usage error (unknown claim id, bad option)
  3  tool/claim error (verdict error, theorem module failed to import)
  130 interrupted (Ctrl-C / SIGTERM): a partial report of the finished claims
"""

_PROFILES = ("quick", "default", "thorough")
#: What a profile sets: the columns of the profile table of docs/check.md (a test keeps the
#: two in agreement).
_PROFILE_SETS = ("instances", "at mpmath precision", "local-minimum instances",
                 "optimiser starts", "digits", "mutant instances",
                 "mutant local-minimum instances")
_PROFILE_HELP = ("How hard to look; sets the numbers of proofcheck.engine.PROFILES: "
                 + ", ".join(_PROFILE_SETS) + " (see docs/check.md). The identities' size "
                 "sweeps are part of each claim and do not depend on the profile.")


def exit_code(run, load_errors: Sequence = ()) -> int:
    """The documented exit code of a run (see the module docstring).

    >>> from proofcheck.results import RunResult, ClaimResult, Verdict
    >>> c = lambda v: ClaimResult("demo.lemma1", "t", "s", v)
    >>> exit_code(RunResult([c(Verdict.VERIFIED), c(Verdict.ERRATUM)], "quick", 0))
    0
    >>> exit_code(RunResult([c(Verdict.REFUTED)], "quick", 0))
    1
    >>> exit_code(RunResult([c(Verdict.REFUTED), c(Verdict.ERROR)], "quick", 0))
    3
    """
    from proofcheck.results import Verdict

    verdicts = {c.verdict for c in run.claims}
    if load_errors or Verdict.ERROR in verdicts:
        return EXIT_ERROR
    if Verdict.REFUTED in verdicts:
        return EXIT_REFUTED
    return EXIT_OK


def _stderr():
    from rich.console import Console

    return Console(stderr=True)


def _load(paths: Sequence[str], *, announce: bool = True, patterns: Sequence[str] = ()):
    """Load the catalogue; modules that failed to import are reported on stderr (unless the
    report itself goes to the terminal and lists them: ``announce=False``)."""
    from rich.markup import escape

    from proofcheck.catalog import load_claims

    registry = load_claims(list(paths) if paths else None, patterns=patterns)
    err = _stderr()
    for where, message in registry.errors if announce else ():
        err.print(f"[bold magenta]error:[/bold magenta] could not load {escape(where)}: "
                  f"{escape(message)}", highlight=False, soft_wrap=True)
    return registry


def _select(registry, patterns: Sequence[str]):
    from proofcheck.catalog import UnknownClaimError

    try:
        return registry.select(list(patterns))
    except UnknownClaimError as exc:
        raise click.UsageError(str(exc)) from None


class _OutputPath(click.ParamType):
    """A path the command will write: checked when the options are parsed (by the
    :mod:`proofcheck.outputs` function named ``check``), so a missing or unwritable folder (or
    ``""``) is a usage error before any checking starts."""

    check = ""

    def convert(self, value, param, ctx):
        from proofcheck import outputs

        if isinstance(value, Path):
            value = str(value)
        try:
            return getattr(outputs, self.check)(value)
        except (outputs.OutputError, ValueError, OSError) as exc:
            self.fail(str(exc), param, ctx)


class _OutputFile(_OutputPath):
    """A file the command will write."""

    name = "PATH"
    check = "check_output_file"


class _OutputDir(_OutputPath):
    """A folder the command will write files into (created if missing, under a writable
    folder)."""

    name = "DIR"
    check = "check_output_dir"


def _write_report(output: Path, text: str) -> None:
    """Write a report atomically (temporary file in the same folder, then rename)."""
    from proofcheck.outputs import write_atomic

    write_atomic(output, text)


class _Path(click.Path):
    """click.Path that turns a path the OS cannot represent (a NUL byte: ``ValueError`` from
    ``os.stat``) into a usage error instead of a traceback."""

    def convert(self, value, param, ctx):
        if isinstance(value, str) and "\x00" in value:
            self.fail(f"{value!r} contains a NUL byte", param, ctx)
        return super().convert(value, param, ctx)


class _ClaimPath(_Path):
    """A theorem module (``.py`` file) or a folder of them."""

    def __init__(self) -> None:
        super().__init__(exists=True, path_type=str)

    def convert(self, value, param, ctx):
        value = super().convert(value, param, ctx)
        p = Path(value)
        if p.is_file() and p.suffix != ".py":
            self.fail(f"{value!r} is not a Python module (.py) or a folder of them",
                      param, ctx)
        return value


path_option = click.option(
    "--path", "paths", multiple=True, type=_ClaimPath(),
    metavar="DIR", help="Load theorem modules from this file or folder instead of the bundled "
                        "catalogue (repeatable).")


class _Group(click.Group):
    """A click group whose unexpected exceptions (a bug in proofcheck, a catalogue that cannot
    be imported at all) exit with 3, the tool-error code, never with 1 (refuted)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:     # Ctrl-C outside a run (loading): 130, never 1
            click.echo("proofcheck: interrupted", err=True)
            ctx.exit(130)
        except Exception as exc:
            import traceback

            click.echo(traceback.format_exc(), err=True)
            click.echo(f"proofcheck: internal error: {type(exc).__name__}: {exc}", err=True)
            ctx.exit(EXIT_ERROR)


@click.group(name="proofcheck", cls=_Group, epilog=_EPILOG,
             context_settings={"help_option_names": ["-h", "--help"]})
# the version of this source tree (the distribution is "proofcheck-landscape", so click's
# lookup of a distribution named "proofcheck" failed with a RuntimeError)
@click.version_option(version=__version__, prog_name="proofcheck")
def main() -> None:
    """A symbolic-plus-numeric proof checker for loss-landscape theorems."""
    _hypothesis_storage()


def _hypothesis_storage() -> None:
    """Keep Hypothesis's files out of the working directory.

    Even with ``database=None`` Hypothesis caches what it learns from local modules
    (``.hypothesis/constants/``) under ``.hypothesis/`` in the current folder. Unless the user
    chose a place (``HYPOTHESIS_STORAGE_DIRECTORY``), proofcheck points it at its user cache
    folder; the environment variable carries the choice into worker processes."""
    import os

    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        return
    try:
        from platformdirs import user_cache_dir
        base = Path(user_cache_dir("proofcheck"))
    except ImportError:         # pragma: no cover - platformdirs is almost always there
        import tempfile
        base = Path(tempfile.gettempdir()) / f"proofcheck-{os.getuid()}"
    where = base / "hypothesis"
    os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = str(where)
    try:
        from hypothesis.configuration import set_hypothesis_home_dir
        set_hypothesis_home_dir(where)
    except ImportError:         # pragma: no cover - an older Hypothesis reads the variable
        pass


# --------------------------------------------------------------------------------------------
# list


@main.command("list", epilog=_EPILOG)
@click.argument("patterns", nargs=-1, metavar="[PATTERN ...]")
@path_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
def list_command(patterns: tuple[str, ...], paths: tuple[str, ...], fmt: str) -> None:
    """List claims: id, source, point kind, numbers of identities and mutants."""
    registry = _load(paths, patterns=patterns)
    claims = _select(registry, patterns)
    rows = [{
        "id": c.id,
        "title": c.title,
        "source": str(c.source),
        "point_kind": getattr(c.point_kind, "value", str(c.point_kind)),
        "hypotheses": [h.name for h in c.hypotheses],
        "identities": len(c.identities),
        "mutants": len((c.corrected or c).mutants),   # an erratum's mutants mutate the correction
        "erratum": c.corrected is not None,
        "module": registry.origins.get(c.id, "") if hasattr(registry, "origins") else "",
    } for c in claims]
    if fmt == "json":
        from proofcheck.results import SCHEMA_VERSION

        click.echo(json.dumps({"schema_version": SCHEMA_VERSION, "claims": rows,
                               "load_errors": [{"module": p, "message": m}
                                               for p, m in registry.errors]}, indent=2))
    else:
        _list_text(rows)
    click.get_current_context().exit(EXIT_ERROR if registry.errors else EXIT_OK)


def _list_text(rows: list[dict]) -> None:
    """The claims as a table on a wide terminal; below 120 columns (and in a non-terminal,
    where rich assumes 80) one block per claim, so no column is squeezed to nothing."""
    import textwrap

    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from proofcheck.report import TABLE_MIN_WIDTH

    out = Console()
    if out.width >= TABLE_MIN_WIDTH:
        table = Table(title=f"{len(rows)} claims", title_justify="left")
        for name, kw in (("id", {"style": "cyan", "overflow": "fold"}), ("source", {}),
                         ("title", {"ratio": 1, "min_width": 20}),
                         ("holds at", {"no_wrap": True}),
                         ("identities", {"justify": "right"}), ("mutants", {"justify": "right"}),
                         ("erratum", {"justify": "center"})):
            table.add_column(name, **kw)
        for r in rows:
            table.add_row(escape(r["id"]), escape(r["source"]), escape(r["title"]),
                          r["point_kind"], str(r["identities"]), str(r["mutants"]),
                          "yes" if r["erratum"] else "")
        out.print(table)
        return
    width = max(out.width, 40)
    out.print(f"{len(rows)} claims", highlight=False)
    for r in rows:
        facts = [r["source"], f"holds at {r['point_kind']}", f"{r['identities']} identities",
                 f"{r['mutants']} mutants"] + (["erratum"] if r["erratum"] else [])
        out.print(f"[cyan]{escape(r['id'])}[/cyan]", highlight=False, soft_wrap=True)
        lines = [""]
        for fact in facts:      # whole facts per line, " | " between them
            if lines[-1] and 2 + len(lines[-1]) + 3 + len(fact) > width:
                lines.append("")
            lines[-1] += (" | " if lines[-1] else "") + fact
        lines = ["  " + line for line in lines]
        lines += textwrap.wrap(r["title"], width=width, initial_indent="  ",
                               subsequent_indent="    ", break_on_hyphens=False)
        for line in lines:
            out.print(escape(line), highlight=False, soft_wrap=True)


# --------------------------------------------------------------------------------------------
# check


class _Progress:
    """Adapts the engine's ``progress(claim_id, stage, done, total)`` calls to a rich progress
    display on stderr: one bar for the claims, one for the current claim's stage. When stderr
    is not a terminal (a file, a pipe, a CI log) it prints plain lines instead, at most one
    every :attr:`plain_interval` seconds: ``[27/128] doe2020.theorem2: evaluating ...``."""

    plain_interval = 2.0

    def __init__(self, claim_ids: Sequence[str], enabled: bool):
        self.claim_ids = list(claim_ids)
        self.enabled = enabled
        self._seen: list[str] = []
        self._plain = False
        self._last = -float("inf")

    def __enter__(self):
        if not self.enabled:
            return self
        err = _stderr()
        if not err.is_terminal:
            self._plain = True
            import time
            self._clock = time.monotonic
            self._started = self._clock()
            return self
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn)

        self._progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                  MofNCompleteColumn(), TimeElapsedColumn(),
                                  console=err, transient=True)
        self._progress.__enter__()
        self._claims = self._progress.add_task("claims", total=len(self.claim_ids))
        self._stage = self._progress.add_task("", total=None, visible=False)
        return self

    def __call__(self, claim_id: str, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        new = claim_id not in self._seen
        if new:
            self._seen.append(claim_id)
        if self._plain:
            now = self._clock()
            if now - self._last >= self.plain_interval:
                self._last = now
                k = self._seen.index(claim_id) + 1
                click.echo(f"[{k}/{len(self.claim_ids)}] {claim_id}: {stage} "
                           f"({now - self._started:.0f} s)", err=True)
            return
        if new:
            # a new claim started: the ones before it are finished
            self._progress.update(self._claims, completed=len(self._seen) - 1)
        self._progress.update(self._stage, description=f"{claim_id}: {stage}", completed=done,
                              total=total or None, visible=True)

    def __exit__(self, *exc):
        if self.enabled and self._plain:
            if exc[0] is None:
                n = len(self.claim_ids)
                click.echo(f"[{n}/{n}] done ({self._clock() - self._started:.0f} s)",
                           err=True)
        elif self.enabled:
            self._progress.update(self._claims, completed=len(self.claim_ids))
            self._progress.__exit__(*exc)
        return False


def runner_options(fn):
    """The options of commands that check claims (``check``, ``report``, ``docs``)."""
    options = [
        click.option("--jobs", "-j", type=click.IntRange(min=0), default=None, metavar="N",
                     help="Worker processes (default: the machine's cores). Each claim runs "
                          "isolated in a worker, also with 1; 0 runs them in this process "
                          "(no isolation, no time limit: for a debugger)."),
        click.option("--claim-timeout", type=click.FloatRange(min=0), default=None,
                     metavar="SECONDS", help="Time limit per claim; a claim over it is an "
                     "error 'timed out after N s' (default: the profile's: quick 300, default "
                     "900, thorough 3600; 0: no limit)."),
        click.option("--scheduler", default=None, metavar="ADDRESS",
                     help="Run the claims on this dask.distributed scheduler "
                          "(tcp://host:8786) instead of local workers."),
        click.option("--no-cache", is_flag=True,
                     help="Check every claim again; neither read nor write the result cache."),
        click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
                     default=None, metavar="DIR", help="Result cache folder (default: "
                     "$PROOFCHECK_CACHE_DIR, else the user cache folder; `proofcheck cache "
                     "info` prints it)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _run(claims, registry, *, profile: str, seed: int, jobs: int | None,
         claim_timeout: float | None, scheduler: str | None, no_cache: bool,
         cache_dir: Path | None, no_progress: bool):
    """Check ``claims`` with :func:`proofcheck.runner.run_claims` (isolated workers, cache,
    progress on stderr: a bar on a terminal, plain lines otherwise)."""
    from proofcheck import runner
    from proofcheck.cache import ResultCache

    cache = None if no_cache else ResultCache(cache_dir)
    with runner.RunProgress(claims, enabled=not no_progress) as progress:
        try:
            return runner.run_claims(claims, origins=registry.origins, profile=profile,
                                     seed=seed, jobs=jobs, claim_timeout=claim_timeout,
                                     scheduler=scheduler, cache=cache, progress=progress,
                                     on_result=progress.result)
        except runner.RunnerError as exc:
            raise click.UsageError(str(exc)) from None


def _cache_note(run) -> str:
    """One line naming the results that came from the cache, with their age."""
    from proofcheck.cache import describe_age

    cached = [c for c in run.claims if c.cached_at]
    if not cached:
        return ""
    ages = sorted({describe_age(c.cached_at) for c in cached})
    head = ", ".join(c.claim_id for c in cached[:6]) + (", ..." if len(cached) > 6 else "")
    return (f"cached: {len(cached)} of {len(run.claims)} results were not re-run "
            f"(computed {' / '.join(ages[:3])}; --no-cache re-checks): {head}")


def _finish(run, registry, interrupted_note: bool = True) -> int:
    """The exit code of a run; an interrupted run says so on stderr and exits with 130."""
    from proofcheck.runner import EXIT_INTERRUPTED

    if getattr(run, "partial", False):
        if interrupted_note:
            _stderr().print(f"interrupted: a partial report of the {len(run.claims)} claims "
                            "finished before the signal (exit 130)", highlight=False)
        return EXIT_INTERRUPTED
    return exit_code(run, registry.errors)


@main.command("check", epilog=_EPILOG)
@click.argument("patterns", nargs=-1, metavar="[ID-or-prefix ...]")
@path_option
@click.option("--profile", type=click.Choice(_PROFILES), default="default", show_default=True,
              help=_PROFILE_HELP)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of every random draw; the same seed reproduces the same run.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "md", "junit"]),
              default="text", show_default=True, help="Report format.")
@click.option("--output", "-o", type=_OutputFile(),
              default=None, help="Write the report to this file instead of stdout (its "
                                 "folder is checked before the run; written atomically).")
@click.option("--no-progress", is_flag=True, help="Do not show progress on stderr (a bar on "
                                                  "a terminal, else one line per claim).")
@runner_options
@witness_db_option
def check_command(patterns: tuple[str, ...], paths: tuple[str, ...], profile: str, seed: int,
                  fmt: str, output: Path | None, no_progress: bool, jobs: int | None,
                  claim_timeout: float | None, scheduler: str | None, no_cache: bool,
                  cache_dir: Path | None) -> None:
    """Check claims (all of them when no id is given) and report the verdicts.

    \b
    Each claim runs in a worker process (--jobs), so a claim that exits, hangs
    (--claim-timeout) or crashes is reported as an error and the run goes on.
    Results are cached by content: an unchanged claim is not re-run (--no-cache).
    Ctrl-C / SIGTERM: stops within 2 s, reports the finished claims ("partial":
    true in JSON) and exits with 130.
    """
    from proofcheck import engine, report

    registry = _load(paths, announce=not (fmt == "text" and output is None), patterns=patterns)
    claims = _select(registry, patterns)
    if not claims and not registry.errors:
        raise click.UsageError("no claims found" + (f" in {', '.join(paths)}" if paths else "")
                               + ": a theorem module defines Claim objects at module level")
    if profile not in engine.PROFILES:      # the engine's list is the authority
        raise click.BadParameter(f"unknown profile {profile!r}; known: "
                                 f"{', '.join(engine.PROFILES)}", param_hint="--profile")
    run = _run(claims, registry, profile=profile, seed=seed, jobs=jobs,
               claim_timeout=claim_timeout, scheduler=scheduler, no_cache=no_cache,
               cache_dir=cache_dir, no_progress=no_progress)
    note = _cache_note(run)
    if run.partial:
        note = (f"partial report: interrupted after {len(run.claims)} of {len(claims)} claims"
                + (f"\n{note}" if note else ""))
    if fmt == "text":
        from rich.console import Console

        if output is None:
            console = Console()
            report.render_terminal(run, console, load_errors=registry.errors)
            if note:
                console.print(note, highlight=False, soft_wrap=True)
        else:
            import io
            buf = io.StringIO()
            console = Console(file=buf, width=120, no_color=True, color_system=None)
            report.render_terminal(run, console, load_errors=registry.errors)
            if note:
                console.print(note, highlight=False, soft_wrap=True)
            _write_report(output, buf.getvalue())
    else:
        text = report.render(run, fmt, load_errors=registry.errors)
        if output is None:
            click.echo(text, nl=not text.endswith("\n"))
        else:
            _write_report(output, text)
        if note:
            _stderr().print(note, highlight=False, soft_wrap=True)
    if output is not None:
        _stderr().print(f"report written to {output}", highlight=False)
    click.get_current_context().exit(_finish(run, registry))


# --------------------------------------------------------------------------------------------
# cache


@main.group("cache")
def cache_group() -> None:
    """The result cache: where it is, how big, and emptying it."""


@cache_group.command("info")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              metavar="DIR", help="The cache folder (default: $PROOFCHECK_CACHE_DIR, else the "
                                  "user cache folder).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
def cache_info_command(cache_dir: Path | None, fmt: str) -> None:
    """Where the result cache is and what it holds."""
    from proofcheck.cache import ResultCache

    info = ResultCache(cache_dir).info()
    if fmt == "json":
        click.echo(json.dumps(info, indent=2))
        return
    click.echo(f"cache folder: {info['directory']}")
    click.echo(f"results: {info['entries']} ({info['bytes'] / 1024:.1f} KiB)")
    if info["entries"]:
        click.echo(f"oldest: {info['oldest']}, newest: {info['newest']}")


@cache_group.command("clear")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              metavar="DIR", help="The cache folder (default: $PROOFCHECK_CACHE_DIR, else the "
                                  "user cache folder).")
def cache_clear_command(cache_dir: Path | None) -> None:
    """Remove every cached result (the next run checks every claim again)."""
    from proofcheck.cache import ResultCache

    cache = ResultCache(cache_dir)
    n = cache.clear()
    click.echo(f"removed {n} cached results from {cache.directory}")


# --------------------------------------------------------------------------------------------
# docs


@main.command("docs")
@path_option
@click.option("--output", "-o", type=_OutputDir(),
              default="docs/catalogue", show_default=True,
              help="Folder for the catalogue pages (one per paper, plus index.md).")
@click.option("--profile", type=click.Choice(_PROFILES), default="quick", show_default=True,
              help="Profile of the check run the pages report.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the check run.")
@click.option("--run", "run_file", type=_Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Use a saved `proofcheck check --format json` report instead "
                                 "of running the checks (its profile and seed are used).")
@click.option("--no-progress", is_flag=True, help="Do not show the progress bar on stderr.")
def docs_command(paths: tuple[str, ...], output: Path, profile: str, seed: int,
                 run_file: Path | None, no_progress: bool) -> None:
    """Check the claims and write the catalogue pages of the documentation.

    \b
    Exit codes: 0 pages written; 2 usage error; 3 pages written, but a theorem module failed
    to load or a claim's verdict is `error` (the pages say which). Refuted claims are
    findings and documented as such (exit 0).
    """
    from proofcheck import docgen
    from proofcheck.results import Verdict

    registry = _load(paths)
    if run_file is not None:
        try:
            run = docgen.load_run(run_file)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--run") from None
    else:
        claims = registry.claims
        if not claims:
            raise click.UsageError("no claims found" + (f" in {', '.join(paths)}" if paths
                                                        else ""))
        run = _run(claims, registry, profile=profile, seed=seed, jobs=None, claim_timeout=None,
                   scheduler=None, no_cache=False, cache_dir=None, no_progress=no_progress)
        if run.partial:
            click.get_current_context().exit(_finish(run, registry))
    written = docgen.generate_catalogue(run, registry, output)
    err = _stderr()
    for path in written:
        err.print(f"wrote {path}", highlight=False)
    broken = registry.errors or any(c.verdict is Verdict.ERROR for c in run.claims)
    click.get_current_context().exit(EXIT_ERROR if broken else EXIT_OK)


# --------------------------------------------------------------------------------------------
# figure


@main.command("figure")
@click.argument("figure_id", required=False, metavar="FIGURE-ID")
@click.option("--output", "-o", type=_OutputDir(),
              default="figures", show_default=True,
              help="Folder for the figure files (checked before rendering).")
@click.option("--format", "formats", multiple=True, type=click.Choice(["png", "svg", "pdf"]),
              help="Image format(s); repeatable. Default: png and svg.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of every random choice the figure makes.")
@click.option("--dataset", default=None, help="Data set, for figures that take one.")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="dask.distributed scheduler address, for figures that run sweeps.")
@click.option("--quick", is_flag=True, default=None,
              help="A smaller, faster version (for figures that offer one).")
@click.option("--list", "list_only", is_flag=True, help="List the available figures.")
def figure_command(figure_id, output, formats, seed, dataset, scheduler, quick, list_only):
    """Render a paper's figure (PNG and SVG via matplotlib, plus CSV data where useful).

    \b
    Exit codes: 0 written; 2 unknown figure or option; 3 rendering failed.
    """
    from proofcheck import figures

    if list_only or figure_id is None:
        for fid, fig in sorted(figures.available().items()):
            click.echo(f"{fid}  {fig.title}")
        return
    try:
        written = figures.render(figure_id, output, formats=formats or ("png", "svg"), seed=seed,
                                 dataset=dataset, scheduler=scheduler, quick=quick)
    except figures.UnknownFigureError as exc:
        raise click.UsageError(str(exc)) from None
    except figures.FigureError as exc:
        raise click.UsageError(str(exc)) from None
    err = _stderr()
    for path in written:
        err.print(f"wrote {path}", highlight=False)


# --------------------------------------------------------------------------------------------
# explore / replay (proofcheck.search)

_EXPLORE_EPILOG = """\b
Exit codes:
  0  no counterexample within the budget (or nothing to evaluate: vacuous)
  1  counterexample found (the report says whether it is certified; an
     uncertified float64 witness is not a refutation)
  2  usage error (unknown claim id, hypothesis or mutant, bad budget)
  3  claim/tool error (the claim's code failed, or its instance generator
     cannot produce instances violating a dropped hypothesis, or none
     satisfying the claim's hypotheses)
"""

_REPLAY_EPILOG = """\b
Exit codes:
  0  the witness no longer fails (margin >= -tolerance), or fails only in
     float64 and a higher rung of the judge finds no failure
  1  the failure is reproduced (the report says whether bit-for-bit and
     its grade: sampled, high-precision or certified, as in `check`)
  2  usage error, or not a valid witness file (one line naming the
     field; a witness file is data: reading it never runs code)
  3  the witness cannot be replayed (the claim's code fails on it, its
     point no longer certifies)
"""


def _one_line(exc: BaseException) -> str:
    """An exception's message on one line (for errors a script may parse)."""
    return " ".join(str(exc).split())


def _short_value(v) -> str:
    import numpy as np

    if isinstance(v, np.ndarray):
        if v.size <= 12:
            return np.array2string(v, precision=6, separator=", ",
                                   max_line_width=10 ** 6).replace("\n", "")
        return f"<array {v.shape}>"
    return repr(v)


@main.command("explore", epilog=_EXPLORE_EPILOG)
@click.argument("claim_id", metavar="CLAIM")
@click.option("--drop", "drops", multiple=True, metavar="HYPOTHESIS",
              help="Drop this hypothesis: search instances that violate it (repeatable).")
@click.option("--mutate", default=None, metavar="NAME",
              help="Explore the conclusion of this mutant of the claim instead.")
@click.option("--budget", "budget_text", default=None, metavar="SECONDS|N",
              help="'30s' (or '2m') of search, or '500' instances; default 300 instances "
                   "(8 for claims at local minima / critical points).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the search; with an instance budget the same seed gives the "
                   "same report.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Report format.")
@click.option("--save-witness", "save_dir", default=None, metavar="DIR",
              type=_OutputDir(),
              help="Write each counterexample as a JSON witness file into DIR "
                   "(replay it with `proofcheck replay FILE`).")
@path_option
@click.option("--no-progress", is_flag=True, help="Do not show progress on stderr.")
@witness_db_option
def explore_command(claim_id: str, drops: tuple[str, ...], mutate: str | None,
                    budget_text: str | None, seed: int, fmt: str, save_dir: Path | None,
                    paths: tuple[str, ...], no_progress: bool) -> None:
    """Search for instances where CLAIM's margin is negative (a counterexample).

    Hypothesis-targeted generation with edge cases (zeros, exact rank deficiency, repeated
    rows, kinks), then adversarial optimisation of the margin over the instance's continuous
    parameters; a counterexample is shrunk and certified when a certifier is installed.
    """
    from proofcheck.catalog import UnknownClaimError
    from proofcheck.search import Budget, explore
    from proofcheck.search.explore import ExploreError

    try:
        budget = Budget.parse(budget_text) if budget_text is not None else Budget()
    except ExploreError as exc:
        raise click.BadParameter(str(exc), param_hint="--budget") from None
    registry = _load(paths)
    try:
        claim = registry.get(claim_id)
    except UnknownClaimError as exc:
        raise click.UsageError(str(exc)) from None
    with _Progress([claim.id], enabled=not no_progress) as progress:
        try:
            ex = explore(claim, drop=drops, mutate=mutate, budget=budget, seed=seed,
                         progress=progress)
        except ExploreError as exc:
            hint = "--mutate" if "mutant" in str(exc) else "--drop"
            raise click.BadParameter(str(exc), param_hint=hint) from None
    store_exploration(ex, seed=seed, paths=paths)      # the failure database
    if ex.outcome == "none-within-budget" and ex.instances == 0 and ex.skipped \
            and not ex.witnesses and not drops:
        # every draw violated the claim's own hypotheses: nothing was explored, which `check`
        # reports as an error of the claim's generator, not as "no counterexample"
        ex.outcome = "generator-cannot-satisfy"
        ex.summary = (f"{claim.id}: error: the claim's instance generator produced no "
                      f"instance satisfying its hypotheses ({ex.skipped} draws all violated "
                      "them), so nothing was explored; `proofcheck check` reports this claim "
                      "as an error")
    files = []
    if save_dir is not None:
        from proofcheck.search.witness import WitnessError, save_witness

        for k, w in enumerate(ex.witnesses):
            try:
                name = None if k == 0 else f"{claim.id}.witness{k}.json"
                files.append(str(save_witness(w, save_dir, seed=seed, paths=paths,
                                              name=name)))
            except WitnessError as exc:
                _stderr().print(f"could not save the witness: {exc}", highlight=False)
    if fmt == "json":
        doc = ex.to_dict()
        doc["witness_files"] = files
        doc["timings"] = {k: round(v, 6) for k, v in ex.timings.items()}
        click.echo(json.dumps(doc, indent=2))
    else:
        _render_exploration(ex, files)
    code = {"counterexample": EXIT_REFUTED, "error": EXIT_ERROR,
            "generator-cannot-violate": EXIT_ERROR,
            "generator-cannot-satisfy": EXIT_ERROR}.get(ex.outcome, EXIT_OK)
    if ex.outcome == "counterexample" and not ex.found and not (
            ex.decision and ex.decision["status"] == "counterexample"):
        code = EXIT_OK
    click.get_current_context().exit(code)


def _render_exploration(ex, files) -> None:
    from rich.console import Console
    from rich.markup import escape

    from proofcheck.report import print_wrapped

    out = Console()
    print_wrapped(out, ex.summary)
    print_wrapped(out, f"searched: {ex.instances} instances ({ex.generated} drawn, of which "
              f"{ex.edge_cases} edge cases; {ex.optimised} by optimisation; {ex.skipped} "
              f"skipped, {ex.vacuous} vacuous), seed {ex.seed}, budget "
              f"{ex.budget.describe()}, {ex.seconds:.2f} s")
    for w in ex.witnesses:
        print_wrapped(out, f"witness [{w.status}; grade {w.grade}]: margin {w.margin:.17g} "
                  f"(tolerance {w.tolerance:.3g}; {w.precision})")
        if w.shrunk_from:
            out.print("  shrunk from " + escape(", ".join(f"{k}={v}" for k, v in
                                                         w.shrunk_from.items())),
                      highlight=False)
        if w.kind == "identity":
            info = w.identity or {}
            out.print(f"  identity {escape(str(info.get('name')))} at "
                      + escape(", ".join(f"{k}={v}" for k, v in w.sizes.items())),
                      highlight=False)
            if w.detail:
                print_wrapped(out, w.detail, indent="  ")
        else:
            for k, v in w.instance.fields().items():
                out.print(f"  {escape(k)} = {escape(_short_value(v))}", highlight=False,
                          soft_wrap=True)
        if w.point is not None:
            p = getattr(w.point, "point", w.point)
            for name in ("W", "V", "theta"):
                val = getattr(p, name, None)
                if val is not None:
                    out.print(f"  at {name} = {escape(_short_value(val))}", highlight=False)
            out.print(f"  point: {escape(str(getattr(w.point, 'kind', '')))} certified at "
                      f"{getattr(w.point, 'digits', '?')} digits", highlight=False)
        if w.certificate is not None and getattr(w.certificate, "detail", None):
            print_wrapped(out, f"certificate: {w.certificate.method}: "
                               f"{w.certificate.detail}", indent="  ")
    for f in files:
        out.print(f"witness saved to {escape(f)}", highlight=False, soft_wrap=True)
    for note in ex.notes:
        print_wrapped(out, "note: " + note)


@main.command("replay", epilog=_REPLAY_EPILOG)
@click.argument("witness_file", metavar="FILE",
                type=_Path(exists=True, dir_okay=False, path_type=Path))
@path_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Report format.")
def replay_command(witness_file: Path, paths: tuple[str, ...], fmt: str) -> None:
    """Recompute a saved witness's margin (float64), compare it bit-for-bit, and judge a
    reproduced failure on the same ladder as `check` (float64, mpmath, exact, balls,
    certified point): the report gives its grade (sampled, high-precision, certified)."""
    from proofcheck.search.explore import ExploreError
    from proofcheck.search.witness import WitnessError, replay

    try:
        res = replay(witness_file, paths=paths or None)
    except WitnessError as exc:     # not a valid witness file: one line, naming the field
        click.echo(f"error: invalid witness file: {_one_line(exc)}", err=True)
        click.get_current_context().exit(EXIT_USAGE)
    except ExploreError as exc:
        click.echo(f"error: cannot replay {witness_file}: {_one_line(exc)}", err=True)
        click.get_current_context().exit(EXIT_ERROR)
    if fmt == "json":
        click.echo(json.dumps(res.to_dict(), indent=2))
    else:
        from rich.console import Console

        from proofcheck.report import print_wrapped

        # without a margin, its detail is in the summary
        print_wrapped(Console(), res.summary())
    if res.margin is None:
        code = EXIT_ERROR
    else:       # a float64 failure that a higher rung of the judge overrides is no failure
        code = EXIT_REFUTED if res.fails and res.decided is not False else EXIT_OK
    click.get_current_context().exit(code)


# --------------------------------------------------------------------------------------------
# report: verdicts, assumption-necessity map, tightness (proofcheck.search)


@main.command("report")
@click.argument("patterns", nargs=-1, metavar="[PATTERN ...]")
@path_option
@click.option("--run", "run_file", type=_Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Verdicts from a saved `proofcheck check --format json` report "
                                 "instead of a fresh check run.")
@click.option("--profile", type=click.Choice(_PROFILES), default="quick", show_default=True,
              help="Profile of the fresh check run (without --run).")
@click.option("--necessity", is_flag=True, help="Drop each hypothesis of each claim, search "
                                                "and certify: the assumption-necessity map.")
@click.option("--tightness", is_flag=True, help="Tightest instances of inequality claims.")
@click.option("--necessity-only", is_flag=True, help="Only the necessity map (and tightness): no "
                                                     "verdict table, no check run.")
@click.option("--verdicts/--no-verdicts", default=True, show_default=True,
              help="Include the verdict table (a check run, or --run).")
@click.option("--budget", default="40s", show_default=True,
              help="Search budget per hypothesis: seconds ('30s', '2m'), instances ('200'), or "
                   "both ('200,30s'; whichever comes first).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "md", "html"]),
              default="text", show_default=True,
              help="Report format (html: one self-contained page, see report_html.py).")
@click.option("--output", "-o", type=_OutputFile(),
              default=None, help="Write the report to this file instead of stdout (its "
                                 "folder is checked before the run; written atomically).")
@click.option("--no-progress", is_flag=True, help="Do not show the progress bar on stderr.")
@click.option("--figure", "figures", multiple=True, metavar="FILE",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="html: embed this image (PNG, SVG, JPEG) in the page (repeatable).")
@runner_options
@witness_db_option
def report_command(patterns, paths, run_file, profile, necessity, tightness, necessity_only,
                   verdicts, budget, seed, fmt, output, no_progress, jobs, claim_timeout,
                   scheduler, no_cache, cache_dir, figures=()) -> None:
    """The verdict table, with the assumption-necessity map (--necessity) and tightness.

    \b
    Regenerate docs/necessity.md:
      proofcheck report --necessity-only --budget 200,30s --seed 0 --format md -o docs/necessity.md
    Exit codes as for `check` (the necessity map's counterexamples are findings, exit 0).
    """
    from proofcheck import report
    from proofcheck.search.explore import Budget, ExploreError

    registry = _load(paths)
    claims = _select(registry, patterns)
    try:
        parts = [Budget.parse(p) for p in budget.split(",") if p.strip()]
    except ExploreError as exc:
        raise click.BadParameter(str(exc), param_hint="--budget") from None
    the_budget = Budget(seconds=next((b.seconds for b in parts if b.seconds), None),
                        instances=next((b.instances for b in parts if b.instances), None))
    necessity = necessity or necessity_only
    run = None
    if verdicts and not necessity_only:
        if run_file is not None:
            from proofcheck import docgen, report_html
            try:
                raw = report_html.run_document(run_file)      # also a `report` JSON document
                run = docgen.load_run(raw)
            except ValueError as exc:
                raise click.BadParameter(str(exc), param_hint="--run") from None
            wanted = {c.id for c in claims}
            if patterns:
                run.claims = [c for c in run.claims if c.claim_id in wanted]
                raw["claims"] = [c for c in raw["claims"] if c.get("id") in wanted]
        else:
            run = _run(claims, registry, profile=profile, seed=seed, jobs=jobs,
                       claim_timeout=claim_timeout, scheduler=scheduler, no_cache=no_cache,
                       cache_dir=cache_dir, no_progress=no_progress)
            if run.partial:
                necessity = tightness = False      # interrupted: report what finished
    nmap = tight = None
    if necessity:
        from proofcheck import runner
        with runner.RunProgress(claims, enabled=not no_progress) as progress:
            nmap = runner.run_necessity(claims, the_budget, seed, origins=registry.origins,
                                        jobs=jobs, claim_timeout=claim_timeout,
                                        scheduler=scheduler, progress=progress)
        if nmap.partial:
            tightness = False
    if tightness:
        from proofcheck.search.tightness import tightness_table
        tight = tightness_table(claims, seed=seed, seconds=the_budget.seconds,
                                instances=the_budget.instances or 60)
    if fmt == "html":
        from proofcheck import report_html
        if run is None:
            raise click.UsageError("--format html needs the verdicts (drop --necessity-only "
                                   "/ --no-verdicts)")
        extra = ([("Assumption-necessity map", nmap.to_text())] if nmap is not None else []) + \
            ([("Tightness", "".join(f"{t.claim_id}: {t.text}\n" for t in tight))]
             if tight is not None else [])
        text = report_html.to_html(raw if run_file is not None else
                                   report.to_json(run, load_errors=registry.errors),
                                   figures=figures, sections=extra, paths=paths)
    elif fmt == "json":
        doc = {"verdicts": json.loads(report.to_json(run, load_errors=registry.errors))
               if run is not None else None,
               "necessity": nmap.to_dict() if nmap else None,
               "tightness": [t.to_dict() for t in tight] if tight is not None else None,
               "partial": bool((run is not None and run.partial)
                               or (nmap is not None and nmap.partial))}
        text = json.dumps(doc, indent=2, default=str) + "\n"
    elif fmt == "md":
        chunks = [report.to_markdown(run, load_errors=registry.errors)] if run is not None else []
        if nmap is not None:
            chunks.append(nmap.to_markdown())
        if tight is not None:
            rows = ["## Tightness", "", "| claim | result |", "|---|---|"]
            rows += [f"| `{t.claim_id}` | {t.text} |" for t in tight]
            chunks.append("\n".join(rows) + "\n")
        text = "\n".join(chunks)
    else:
        from rich.console import Console

        chunks = []
        # to the terminal at its width (80 in a pipe or a CI log, or $COLUMNS), as `check`
        # prints; into a file at 120 columns, as `check --output` writes
        width = Console().width if output is None else 120
        if run is not None:
            import io
            buf = io.StringIO()
            report.render_terminal(run, Console(file=buf, width=width, no_color=True,
                                                color_system=None), load_errors=registry.errors)
            chunks.append(buf.getvalue())
        if nmap is not None:
            chunks.append(nmap.to_text(width if output is None else None))
        if tight is not None:
            chunks.append("tightness\n" + "".join(f"  {t.claim_id}: {t.text}\n" for t in tight))
        text = "\n".join(chunks)
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        _write_report(output, text)
        _stderr().print(f"report written to {output}", highlight=False)
    if nmap is not None and nmap.partial:
        _stderr().print("interrupted: a partial necessity map of the searches finished "
                        "before the signal (exit 130)", highlight=False)
        click.get_current_context().exit(130)
    click.get_current_context().exit(_finish(run, registry) if run is not None
                                     else (EXIT_ERROR if registry.errors else EXIT_OK))


main.add_command(witnesses_group)       # proofcheck witnesses list|show|prune (witness_db.py)


if __name__ == "__main__":  # pragma: no cover
    main()
