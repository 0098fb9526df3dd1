"""The failure database: every counterexample found is kept and replayed first next time.

Like Hypothesis's example database (``.hypothesis/examples``), proofcheck keeps each
counterexample that ``check`` or ``explore`` finds in a project-local folder, by default

    .proofcheck/witnesses/<claim id>/<content hash>.json

in the current directory. Each file is an ordinary witness file (the exact format of
:mod:`proofcheck.search.witness`: ``proofcheck replay FILE`` replays it); the content hash is
taken over what makes the counterexample (claim, mutant, dropped hypotheses, instance, point),
so the same counterexample found twice is stored once. Files are written to a temporary name in
the same folder and renamed into place (atomic: concurrent runs never see half a file).

Where the database lives:

* ``--witness-db DIR`` on ``proofcheck check`` / ``explore`` / ``witnesses``;
* else the environment variable ``PROOFCHECK_WITNESS_DB``;
* else ``.proofcheck/witnesses`` in the current directory (the command line only: library calls
  of :func:`proofcheck.engine.check_claim` use a database only when the variable is set).

The value ``none`` disables the database.

``check`` replays the stored witnesses of a claim (the claim as stated: no mutant, no dropped
hypothesis) before it generates new instances (:func:`replay_stored`); a claim whose checks fail
has its counterexample stored (:func:`store_failures`, which asks :func:`~proofcheck.search.explore`
for the exact witness). ``proofcheck witnesses list|show|prune`` inspects and cleans the folder.

Reading a witness file never runs code: it is JSON, replayed through the claim's own module.

>>> database_from("none") is None
True
>>> database_from("/tmp/db").root.name
'db'
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .results import CheckRecord, EvidenceKind, Witness

__all__ = ["DEFAULT_FOLDER", "ENV_VAR", "StoredWitness", "WitnessDatabase", "active_database",
           "database_from", "replay_stored", "store_exploration", "store_failures",
           "witness_db_option", "witnesses_group"]

ENV_VAR = "PROOFCHECK_WITNESS_DB"
DEFAULT_FOLDER = Path(".proofcheck") / "witnesses"
#: witness-file fields that do not make the counterexample (left out of the content hash)
_VOLATILE = frozenset({"proofcheck_version", "seed", "paths", "status", "certificate",
                       "shrunk_from", "detail", "precision", "tol_source"})


@dataclass(frozen=True)
class StoredWitness:
    """One file of the database (its JSON is read lazily by :meth:`data`)."""

    path: Path
    claim_id: str
    key: str

    def data(self) -> dict[str, Any]:
        from .search.witness import load_witness
        return load_witness(self.path, decode=False).data

    @property
    def of_claim_as_stated(self) -> bool:
        """True for a counterexample of the claim itself (not of a mutant or a weakening)."""
        d = self.data()
        return not d.get("mutant") and not d.get("dropped")

    def describe(self) -> str:
        d = self.data()
        what = self.claim_id
        if d.get("mutant"):
            what += f" (mutant {d['mutant']})"
        if d.get("dropped"):
            what += " without " + ", ".join(d["dropped"])
        return f"{what} [{self.key}] margin {d.get('margin_decimal', d.get('margin'))}"


class WitnessDatabase:
    """A folder of witness files, one sub-folder per claim id."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"WitnessDatabase({str(self.root)!r})"

    def save(self, counterexample, *, seed: int | None = None,
             paths: Sequence[str] = ()) -> StoredWitness:
        """Store a :class:`~proofcheck.search.explore.Counterexample` (atomic write; a second
        copy of the same counterexample replaces the first)."""
        from .search.witness import load_witness, save_witness
        claim_id = counterexample.claim_id or counterexample.claim.mutant_of or \
            counterexample.claim.id
        folder = self.root / claim_id
        tmp = save_witness(counterexample, folder, seed=seed, paths=tuple(paths),
                           name=f".tmp-{uuid.uuid4().hex}.json")
        try:
            key = content_key(load_witness(tmp, decode=False).data)
            final = folder / f"{key}.json"
            os.replace(tmp, final)
        finally:
            if tmp.exists():
                tmp.unlink()
        return StoredWitness(final, claim_id, key)

    def entries(self, claim_id: str | None = None) -> list[StoredWitness]:
        """The stored witnesses (of one claim, or all), sorted by claim id and key."""
        if not self.root.is_dir():
            return []
        folders = [self.root / claim_id] if claim_id else sorted(
            p for p in self.root.iterdir() if p.is_dir())
        out = []
        for folder in folders:
            if folder.is_dir():
                out += [StoredWitness(f, folder.name, f.stem) for f in sorted(folder.glob("*.json"))
                        if not f.name.startswith(".")]
        return out

    def find(self, key_prefix: str) -> StoredWitness:
        """The entry whose key starts with ``key_prefix`` (or whose path is ``key_prefix``)."""
        hits = [e for e in self.entries() if e.key.startswith(key_prefix)
                or str(e.path) == key_prefix]
        if len(hits) != 1:
            raise LookupError(f"{len(hits)} stored witnesses match {key_prefix!r} in "
                              f"{self.root}" + ("" if hits else
                                                " (`proofcheck witnesses list` shows them)"))
        return hits[0]

    def delete(self, entry: StoredWitness) -> None:
        entry.path.unlink(missing_ok=True)
        try:
            entry.path.parent.rmdir()       # only when empty
        except OSError:
            pass


def content_key(data: dict[str, Any]) -> str:
    """The hash that names a stored witness: sha256 of its defining fields, 16 hex digits.

    >>> content_key({"claim": "a.b", "margin": 1}) == content_key({"claim": "a.b", "margin": 1,
    ...                                                             "seed": 7})
    True
    """
    core = {k: v for k, v in data.items() if k not in _VOLATILE}
    text = json.dumps(core, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def database_from(value: str | Path | None) -> WitnessDatabase | None:
    """The database a ``--witness-db`` / ``PROOFCHECK_WITNESS_DB`` value names (``none``,
    case-insensitive, or an empty string: no database)."""
    if value is None:
        return None
    text = str(value).strip()
    if not text or text.lower() == "none":
        return None
    return WitnessDatabase(Path(text).expanduser().resolve())


def active_database() -> WitnessDatabase | None:
    """The database named by ``PROOFCHECK_WITNESS_DB`` (None when unset or ``none``)."""
    return database_from(os.environ.get(ENV_VAR))


# ---------------------------------------------------------------------------------------------
# the engine's hooks

def _claim_paths(claim) -> tuple[str, ...]:
    """The ``--path`` to load ``claim`` from again: () for the bundled catalogue, else the file
    of the module that defines its conclusion (or generator, or first identity)."""
    from .catalog import CATALOGUE
    for fn in (claim.conclusion, claim.instances,
               *(i.build for i in claim.identities)):
        module = getattr(fn, "__module__", None)
        if not module:
            continue
        if module == CATALOGUE or module.startswith(CATALOGUE + ".") \
                or module.split(".")[0] == "theorems":
            return ()
        mod = sys.modules.get(module)
        file = getattr(mod, "__file__", None)
        if file and not module.startswith("proofcheck."):
            return (str(Path(file).resolve()),)
    return ()


def _stamp(paths: tuple[str, ...]) -> tuple:
    """What the registry of ``paths`` depends on: every module file and its mtime."""
    out = []
    for p in paths:
        path = Path(p)
        files = [path] if path.is_file() else sorted(path.rglob("*.py")) if path.is_dir() else []
        out += [(str(f), f.stat().st_mtime_ns) for f in files]
    return tuple(out)


@functools.lru_cache(maxsize=16)
def _statements(paths: tuple[str, ...], stamp: tuple) -> dict[str, str]:
    from .catalog import load_claims
    return {c.id: c.statement for c in load_claims(list(paths) or None).claims}


def _registered_statement(claim_id: str, paths: tuple[str, ...]) -> str | None:
    """The statement of the registered claim ``claim_id`` (None: no such claim). The registry
    is loaded once per set of module files and modification times."""
    return _statements(paths, _stamp(paths)).get(claim_id)


def _is_registered(claim, paths: tuple[str, ...]) -> bool:
    """True when ``claim`` is the registered claim of its id (not the corrected statement of an
    erratum, which shares the id, nor a claim built on the fly)."""
    return _registered_statement(claim.id, paths) == claim.statement


def replay_stored(claim, *, db: WitnessDatabase | None = None) -> list[CheckRecord]:
    """Replay the stored counterexamples of ``claim`` (as stated) and report them as one check.

    Returns ``[]`` when there is no database, nothing stored, or ``claim`` is not the registered
    claim of its id (an erratum's corrected statement is checked on fresh instances only).
    Otherwise one :class:`~proofcheck.results.CheckRecord` named ``"stored witnesses"``:
    ``passed`` is False when a stored witness still fails (its witness is attached), None when
    one could not be replayed (the claim's code or the saved point changed: it may or may not
    still be a counterexample; ``proofcheck witnesses prune --unreplayable`` drops it), True
    when every one was replayed and none fails any more."""
    import time

    from .search.witness import WitnessError, replay
    db = db if db is not None else active_database()
    if db is None:
        return []
    entries = [e for e in db.entries(claim.id) if _safe_as_stated(e)]
    paths = _claim_paths(claim)
    if not entries or not _is_registered(claim, paths):
        return []
    start = time.perf_counter()
    failing: list[tuple[StoredWitness, Any]] = []
    replayed = unreplayable = inadmissible = undecided = 0
    notes: list[str] = []
    for e in entries:
        try:
            res = replay(e.path, paths=paths or None)
        except (WitnessError, Exception) as exc:   # a stale file is reported, not fatal
            unreplayable += 1
            notes.append(f"{e.path}: could not replay: {exc}")
            continue
        if res.margin is None:
            unreplayable += 1
            notes.append(f"{e.path}: could not replay: {res.detail}")
        elif not res.admissible:
            inadmissible += 1
            notes.append(f"{e.path}: the instance no longer satisfies the hypotheses: not a "
                         "counterexample of the claim as stated now")
        else:
            replayed += 1
            if res.refutes:
                failing.append((e, res))
            elif res.fails and res.decided is False:
                notes.append(f"{e.path}: fails in float64 only (margin {res.margin:.6g}); "
                             f"the judge: {res.certification}")
            elif res.fails:
                undecided += 1
                notes.append(f"{e.path}: fails in float64 (margin {res.margin:.6g}) but the "
                             f"judge did not decide it: {res.certification}")
            else:
                notes.append(f"{e.path}: no longer fails (margin {res.margin:.6g})")
    n = len(entries)
    record = CheckRecord(name="stored witnesses", kind=EvidenceKind.NUMERIC_SEARCH,
                         passed=None, summary="", instances=replayed, precision="float64",
                         seconds=time.perf_counter() - start, notes=notes)
    where = f"{n} stored witness{'es' if n != 1 else ''} in {db.root}"
    if failing:
        # the strongest decided failure speaks for the check (as the engine's own checks do)
        from .judge import grade_rank
        e, res = max(failing, key=lambda er: grade_rank(er[1].grade))
        record.passed = False
        record.grade = res.grade
        record.precision = res.precision or "float64"
        record.min_margin, record.tolerance = res.margin, res.tolerance
        record.witness = Witness(
            check="stored witnesses", margin=float(res.margin), tolerance=float(res.tolerance),
            certified=res.certified, certification=f"{res.certification} (replayed from the "
            "failure database, " + ("bit-for-bit" if res.matches else "not bit-for-bit") + ")",
            instance={"witness_file": str(e.path)}, grade=res.grade,
            enclosure=list(res.enclosure) if res.enclosure else None,
            detail=f"proofcheck replay {e.path}")
        record.summary = (f"{len(failing)} of {where} still fail{'s' if len(failing) == 1 else ''}"
                          f" (decided at grade {res.grade}: {e.key})")
    elif undecided:
        record.summary = (f"{undecided} of {where} fail{'s' if undecided == 1 else ''} in "
                          "float64 but the judge could not decide it: undecided")
    elif unreplayable:
        record.summary = (f"{unreplayable} of {where} could not be replayed: undecided "
                          "(`proofcheck witnesses prune --unreplayable` drops them)")
    else:
        record.passed = True
        record.summary = (f"none of {where} fails any more"
                          + (f" ({inadmissible} no longer admissible)" if inadmissible else ""))
    return [record]


def _safe_as_stated(e: StoredWitness) -> bool:
    try:
        return e.of_claim_as_stated
    except Exception:       # unreadable: replay reports it
        return True


def store_failures(claim, checks: Sequence[CheckRecord], *, seed: int = 0,
                   db: WitnessDatabase | None = None,
                   budget_seconds: float = 30.0) -> list[StoredWitness]:
    """Store an exact counterexample of ``claim`` when one of ``checks`` failed.

    The engine's own witness is a readable summary, not an exact one, so the exact witness is
    found again by :func:`~proofcheck.search.explore.explore` (same seed; at most
    ``budget_seconds``). Nothing is done when there is no database, no fresh check failed, a
    stored witness already reproduced the failure, or ``claim`` is not the registered claim of
    its id."""
    db = db if db is not None else active_database()
    if db is None or not any(c.passed is False for c in checks):
        return []
    if any(c.name == "stored witnesses" and c.passed is False for c in checks):
        return []
    paths = _claim_paths(claim)
    if not _is_registered(claim, paths):
        return []
    from .search.explore import Budget, explore
    try:
        ex = explore(claim, seed=seed, budget=Budget(seconds=budget_seconds))
    except Exception as exc:     # storing is a service: it never changes the verdict
        print(f"proofcheck: could not find the exact witness of {claim.id} to store it: "
              f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return []
    if not ex.found:
        print(f"proofcheck: {claim.id} failed, but explore found no exact witness to store "
              f"within {budget_seconds:g} s ({ex.outcome}): nothing stored", file=sys.stderr)
        return []
    return store_exploration(ex, seed=seed, paths=paths, db=db)


def store_exploration(ex, *, seed: int | None, paths: Sequence[str] = (),
                      db: WitnessDatabase | None = None) -> list[StoredWitness]:
    """Store every failing witness of an :class:`~proofcheck.search.explore.Exploration`."""
    from .search.witness import WitnessError
    db = db if db is not None else active_database()
    if db is None:
        return []
    out = []
    for w in ex.witnesses:
        if not w.fails:
            continue
        try:
            out.append(db.save(w, seed=seed, paths=paths))
        except (WitnessError, OSError) as exc:
            print(f"proofcheck: could not store a witness of {ex.claim_id} in {db.root}: {exc}",
                  file=sys.stderr)
    return out


# ---------------------------------------------------------------------------------------------
# command line

def _set_db(ctx, param, value: str | None) -> str | None:
    """``--witness-db`` callback: an explicit value wins; else the environment variable; else
    the default folder in the current directory (command line only). The choice is exported in
    ``PROOFCHECK_WITNESS_DB`` so that worker processes see it too."""
    if value is not None:
        os.environ[ENV_VAR] = value if value.strip().lower() == "none" \
            else str(Path(value).expanduser().resolve())
    elif ENV_VAR not in os.environ:
        os.environ[ENV_VAR] = str(Path.cwd() / DEFAULT_FOLDER)
    return value


def witness_db_option(fn: Callable) -> Callable:
    """The ``--witness-db DIR|none`` option (decorator; the command's signature is unchanged)."""
    import click
    return click.option(
        "--witness-db", default=None, metavar="DIR|none", expose_value=False,
        callback=_set_db, is_eager=True,
        help=f"Failure database: counterexamples found are stored here and replayed first by "
             f"`check` (default: ${ENV_VAR}, else {DEFAULT_FOLDER} in the current directory; "
             "'none' disables it).")(fn)


def _witnesses_group():
    import click

    @click.group("witnesses")
    def group() -> None:
        """The failure database: list, show and prune stored counterexamples."""

    def _db() -> WitnessDatabase:
        db = active_database()
        if db is None:
            raise click.UsageError("the witness database is disabled (--witness-db none)")
        return db

    @group.command("list")
    @click.argument("claim_id", required=False, metavar="[CLAIM]")
    @witness_db_option
    def list_cmd(claim_id: str | None) -> None:
        """List the stored witnesses (of one claim)."""
        db = _db()
        entries = db.entries(claim_id)
        click.echo(f"{len(entries)} stored witness{'es' if len(entries) != 1 else ''} "
                   f"in {db.root}")
        for e in entries:
            try:
                click.echo("  " + e.describe())
            except Exception as exc:
                click.echo(f"  {e.path}: unreadable ({exc})")

    @group.command("show")
    @click.argument("key", metavar="KEY")
    @witness_db_option
    def show_cmd(key: str) -> None:
        """Print a stored witness (KEY: its hash or a prefix of it) and how to replay it."""
        db = _db()
        try:
            e = db.find(key)
        except LookupError as exc:
            raise click.UsageError(str(exc)) from None
        click.echo(e.path.read_text(encoding="utf-8"), nl=False)
        click.echo(f"# reproduce: proofcheck replay {e.path}")

    @group.command("prune")
    @click.option("--unreplayable", is_flag=True,
                  help="Also drop witnesses that can no longer be replayed at all.")
    @click.option("--dry-run", is_flag=True, help="Say what would be dropped; drop nothing.")
    @witness_db_option
    def prune_cmd(unreplayable: bool, dry_run: bool) -> None:
        """Drop witnesses of claims that no longer exist or that no longer fail."""
        from .search.witness import WitnessError, replay
        db = _db()
        kept = dropped = 0
        for e in db.entries():
            reason = _prune_reason(e, replay, WitnessError, unreplayable)
            if reason is None:
                kept += 1
                continue
            dropped += 1
            click.echo(f"{'would drop' if dry_run else 'dropped'} {e.path}: {reason}")
            if not dry_run:
                db.delete(e)
        click.echo(f"{dropped} dropped, {kept} kept in {db.root}")

    return group


def _prune_reason(e: StoredWitness, replay, error_type, unreplayable: bool) -> str | None:
    try:
        data = e.data()
    except Exception as exc:
        return f"unreadable ({exc})"
    paths = tuple(data.get("paths") or ())
    if paths and not all(Path(p).exists() for p in paths):
        return "its theorem module is gone (" + ", ".join(paths) + ")"
    if _registered_statement(data["claim"], paths) is None:
        return f"no claim {data['claim']!r} any more"
    try:
        res = replay(e.path, paths=paths or None)
    except (error_type, Exception) as exc:
        return f"cannot be replayed ({exc})" if unreplayable else None
    if res.margin is None:
        return f"cannot be replayed ({res.detail})" if unreplayable else None
    if not res.admissible:
        return "its instance no longer satisfies the hypotheses"
    if not res.fails:
        return f"no longer fails (margin {res.margin:.6g})"
    if res.decided is False:    # a higher rung of the judge finds no failure there
        return f"fails in float64 only ({res.certification})"
    return None


witnesses_group = _witnesses_group()
