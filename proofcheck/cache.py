"""A content-addressed cache of claim results: an unchanged claim is not checked again.

**Where.** ``$PROOFCHECK_CACHE_DIR`` if set, else the user cache folder of
:mod:`platformdirs` (``~/.cache/proofcheck`` on Linux, ``~/Library/Caches/proofcheck`` on
macOS); ``proofcheck check --cache-dir DIR`` overrides both. ``proofcheck cache info`` prints
it, ``proofcheck cache clear`` empties it, ``--no-cache`` bypasses it.

**Key.** A result is stored under the SHA-256 of (as JSON):

* the claim's id;
* the source of the claim's own module and of every project module it imports, transitively
  (found by reading the ``import`` statements of the source with :mod:`ast`, function-level
  imports included, never by running it), together with the same closure of the engine
  (``proofcheck.engine`` and everything it imports). *Project* modules are those of the
  ``proofcheck`` package and its catalogue and files beside a user's module (``--path``);
  installed libraries count through their versions:
* the versions of Python, numpy, scipy, sympy, mpmath, python-flint and hypothesis;
* the profile (every field but the time limit), the seed and proofcheck's version.

Editing a theorem module therefore re-runs exactly the claims whose modules import it;
editing the engine re-runs everything. A result whose verdict is ``error`` (a timeout, a
crash, a broken claim) is never stored.

**Format.** One JSON file per result (``results/<2 hex>/<key>.json``: the key's material, the
time it was computed and ``ClaimResult.to_dict()``): data only, never pickle. Files are
written to a temporary name and renamed (atomic), so concurrent runs never see half a file; a
file that does not parse or whose key does not match is ignored (and re-computed).
``timings.json`` keeps each claim's last duration per profile, for largest-first scheduling.
``points/`` holds the certified points the finders computed (:mod:`proofcheck.pointcache`),
shared by claims, mutants and workers; ``clear`` removes them with the results.
``source-facts/`` memoises what is read from an unchanged source file (its import statements,
Hypothesis' constants of it), keyed by the SHA-256 of its bytes: JSON, used even with
``--no-cache`` (it holds no results), so a new process does not parse every module again.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as _dt
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .claims import Claim
    from .engine import Profile
    from .results import ClaimResult

__all__ = ["CACHE_FORMAT", "ResultCache", "default_cache_dir", "describe_age", "module_closure",
           "source_facts"]

#: Bumped when the layout or the key's material changes: old entries are then never read.
CACHE_FORMAT = 1

_LIBRARIES = ("numpy", "scipy", "sympy", "mpmath", "python-flint", "hypothesis")


def default_cache_dir() -> Path:
    """``$PROOFCHECK_CACHE_DIR``, else the platform's user cache folder for proofcheck."""
    env = os.environ.get("PROOFCHECK_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("proofcheck", appauthor=False))


def describe_age(cached_at: str | None, now: _dt.datetime | None = None) -> str:
    """How old a cached result is, in words.

    >>> describe_age("2026-01-01T10:00:00+00:00",
    ...              _dt.datetime(2026, 1, 1, 12, 30, tzinfo=_dt.UTC))
    '2.5 h ago'
    >>> describe_age(None)
    ''
    """
    if not cached_at:
        return ""
    try:
        then = _dt.datetime.fromisoformat(cached_at)
    except ValueError:
        return cached_at
    now = now or _dt.datetime.now(_dt.UTC)
    s = max(0.0, (now - then).total_seconds())
    if s < 90:
        return f"{s:.0f} s ago"
    if s < 90 * 60:
        return f"{s / 60:.0f} min ago"
    if s < 48 * 3600:
        return f"{s / 3600:.1f} h ago"
    return f"{s / 86400:.0f} days ago"


# ---------------------------------------------------------------------------------------------
# facts read from a source file, memoised by its content

#: Bumped when what :func:`source_facts` computes for a kind changes.
_FACTS_FORMAT = 1
_FACTS: dict[tuple[str, str], Any] = {}


def source_facts(kind: str, data: bytes, compute: Any, *, version: str = "") -> Any:
    """``compute(data)`` (JSON data: lists, strings, numbers), memoised by the SHA-256 of the
    file's bytes, ``kind`` and ``version``: in this process, and on disk under
    ``<cache dir>/source-facts/`` (one JSON file per source version, written atomically; a
    file that does not parse is recomputed), so that a new process (a worker, ``check`` of one
    claim) does not parse the same unchanged sources again. Reading a facts file never runs
    code: it is JSON. Unwritable cache folder: memoised in this process only.

    >>> source_facts("doc-example", b"x = 1", lambda b: [len(b)])
    [5]
    """
    digest = hashlib.sha256(data).hexdigest()
    key = (f"{kind}-{version}-{_FACTS_FORMAT}", digest)
    if key in _FACTS:
        return _FACTS[key]
    folder = default_cache_dir() / "source-facts"
    file = folder / f"{key[0]}-{digest}.json"
    try:
        value = json.loads(file.read_text())
    except (OSError, ValueError):
        value = compute(data)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".facts-", suffix=".tmp")
            with os.fdopen(fd, "w") as fh:
                json.dump(value, fh)
            os.replace(tmp, file)
        except OSError:
            pass
    _FACTS[key] = value
    return value


def _import_statements(data: bytes) -> list[list[Any]]:
    """Every import statement of a source (function-level ones included) as
    ``[module or "", level, [names]]`` (``import a.b`` is ``["", 0, ["a.b"]]``); ``[]`` if
    the source does not parse."""
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError):
        return []
    out: list[list[Any]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.append(["", 0, [a.name for a in node.names]])
        elif isinstance(node, ast.ImportFrom):
            out.append([node.module or "", node.level, [a.name for a in node.names]])
    return out


# the import closure of a module, read from source

def _package_root(name: str) -> Path | None:
    """The folder that holds the package ``name`` (its parent), if it is importable."""
    mod = sys.modules.get(name)
    file = getattr(mod, "__file__", None)
    if file is None:
        import importlib.util

        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            return None
        file = spec.origin if spec else None
    return Path(file).resolve().parent.parent if file else None


class _Graph:
    """Direct project imports of source files, memoised (files are parsed, never run).

    Module names map to files through *prefixes*: ``proofcheck.catalogue`` is the catalogue's
    folder (the repository's ``theorems/`` in a source tree), ``proofcheck`` the engine's."""

    def __init__(self) -> None:
        from .catalog import CATALOGUE, catalogue_folder

        self.prefixes: list[tuple[str, Path]] = [(CATALOGUE, catalogue_folder().resolve())]
        root = _package_root("proofcheck")
        if root is not None:
            self.prefixes.append(("proofcheck", root / "proofcheck"))
        self._deps: dict[Path, list[Path]] = {}
        self._digest: dict[Path, str] = {}

    def module_file(self, name: str, extra: Iterable[Path] = ()) -> Path | None:
        parts = name.split(".")
        candidates: list[Path] = []
        for prefix, folder in self.prefixes:
            head = prefix.split(".")
            if parts[:len(head)] == head:
                candidates.append(folder.joinpath(*parts[len(head):]))
                break
        else:
            candidates = [base.joinpath(*parts) for base in extra]
        for rel in candidates:
            for cand in (rel.with_suffix(".py") if rel.name else rel, rel / "__init__.py"):
                if cand.is_file():
                    return cand.resolve()
        return None

    def module_name(self, path: Path) -> str | None:
        for prefix, folder in self.prefixes:
            try:
                rel = path.relative_to(folder)
            except ValueError:
                continue
            parts = [*prefix.split("."), *rel.with_suffix("").parts]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            return ".".join(parts)
        return None

    def deps(self, path: Path) -> list[Path]:
        if path in self._deps:
            return self._deps[path]
        self._deps[path] = []              # cycles
        try:
            statements = source_facts("imports", path.read_bytes(), _import_statements)
        except OSError:
            return []
        me = self.module_name(path)
        package = (me if path.name == "__init__.py" else me.rpartition(".")[0]) if me else None
        beside = [path.parent]
        names: list[str] = [me] if me else []       # importing a module runs its packages
        for module, level, aliases in statements:
            if not module and not level:            # import a.b, c
                names += aliases
                continue
            if level:
                if package is None:
                    continue
                parts = package.split(".")
                if level - 1 > len(parts):
                    continue
                base = ".".join(parts[:len(parts) - (level - 1)])
                base = f"{base}.{module}" if module else base
            else:
                base = module
            names.append(base)
            names += [f"{base}.{a}" for a in aliases if a != "*"]
        found: list[Path] = []
        for name in names:
            parts = name.split(".")
            for k in range(1, len(parts) + 1):       # a.b.c imports a, a.b and a.b.c
                f = self.module_file(".".join(parts[:k]), beside)
                if f is not None and f != path and f not in found:
                    found.append(f)
        self._deps[path] = found
        return found

    def closure(self, start: Iterable[Path]) -> list[Path]:
        seen: list[Path] = []
        todo = [p.resolve() for p in start]
        while todo:
            p = todo.pop()
            if p in seen:
                continue
            seen.append(p)
            todo += [d for d in self.deps(p) if d not in seen]
        return sorted(seen)

    def digest(self, path: Path) -> str:
        if path not in self._digest:
            self._digest[path] = hashlib.sha256(path.read_bytes()).hexdigest()
        return self._digest[path]


def module_closure(origin: str, graph: _Graph | None = None) -> list[Path]:
    """Source files of the module ``origin`` (a module name or a ``.py`` path) and of every
    project module it imports, transitively.

    >>> names = [p.name for p in module_closure("proofcheck.results")]
    >>> names
    ['__init__.py', 'claims.py', 'results.py']
    """
    graph = graph or _Graph()
    if origin.endswith(".py"):
        start = Path(origin)
    else:
        found = graph.module_file(origin)
        if found is None:
            file = getattr(sys.modules.get(origin), "__file__", None)
            if file is None:
                raise LookupError(f"cannot find the source of module {origin!r}")
            found = Path(file)
        start = found
    return graph.closure([start])


# ---------------------------------------------------------------------------------------------
# the cache

def _result_from_dict(data: dict[str, Any]) -> ClaimResult:
    from .results import ClaimResult

    return ClaimResult.from_dict(data)


def _digest(material: dict[str, Any]) -> str:
    text = json.dumps(material, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _stored_witness_keys(claim_id: str) -> list[str]:
    """The content keys of the failure database's witnesses of ``claim_id``: ``check`` replays
    them first, so a counterexample stored since a result was cached makes that result stale."""
    from .witness_db import active_database

    db = active_database()
    return [] if db is None else [e.key for e in db.entries(claim_id)]


def _versions() -> dict[str, str | None]:
    from importlib import metadata

    out: dict[str, str | None] = {"python": sys.version.split()[0]}
    for lib in _LIBRARIES:
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            out[lib] = None
    return out


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class ResultCache:
    """Claim results on disk, keyed by content (see the module docstring).

    ``hits`` and ``misses`` count :meth:`load` outcomes; ``stored`` counts :meth:`store`.
    """

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory).expanduser() if directory else default_cache_dir()
        self.hits = self.misses = self.stored = 0
        self._graph = _Graph()
        self._versions: dict[str, str | None] | None = None
        self._engine: dict[str, str] | None = None
        self._timings: dict[str, dict[str, float]] | None = None
        self._new_timings: dict[str, dict[str, float]] = {}
        self._before_run: dict[tuple[str, str, int], tuple[str, dict[str, Any]]] = {}

    # -- keys --------------------------------------------------------------------------------
    def _sources(self, paths: Iterable[Path]) -> dict[str, str]:
        out = {}
        for p in paths:
            name = self._graph.module_name(p) or str(p)
            out[name] = self._graph.digest(p)
        return out

    def key_material(self, claim: Claim, origin: str | None, profile: Profile,
                     seed: int) -> dict[str, Any]:
        """Everything the key is made of (JSON-able): see the module docstring."""
        from . import __version__

        if self._versions is None:
            self._versions = _versions()
        if self._engine is None:
            self._engine = self._sources(module_closure("proofcheck.engine", self._graph))
        if not origin:
            raise LookupError(f"claim {claim.id} has no module to key its result by")
        prof = dataclasses.asdict(profile)
        prof.pop("claim_timeout", None)
        return {"format": CACHE_FORMAT, "claim": claim.id,
                "module": self._sources(module_closure(origin, self._graph)),
                "engine": self._engine, "versions": self._versions, "profile": prof,
                "seed": seed, "proofcheck": __version__,
                "stored_witnesses": _stored_witness_keys(claim.id)}

    def key(self, claim: Claim, origin: str | None, profile: Profile, seed: int) -> str:
        return _digest(self.key_material(claim, origin, profile, seed))

    def _path(self, key: str) -> Path:
        return self.directory / "results" / key[:2] / f"{key}.json"

    # -- results -----------------------------------------------------------------------------
    def load(self, claim: Claim, origin: str | None, *, profile: Profile,
             seed: int) -> ClaimResult | None:
        """The cached result of ``claim`` (with ``cached_at`` set), or ``None``."""
        try:
            material = self.key_material(claim, origin, profile, seed)
        except (LookupError, OSError):
            self.misses += 1
            return None
        key = _digest(material)
        # the key as it was *before* the run: a run may change its own key material (a
        # counterexample it stores in the failure database), and its result belongs to the
        # state it started from
        self._before_run[(claim.id, profile.name, seed)] = (key, material)
        try:
            entry = json.loads(self._path(key).read_text(encoding="utf-8"))
            if entry.get("key") != key or entry["result"]["id"] != claim.id:
                raise ValueError("key mismatch")
            result = _result_from_dict(entry["result"])
        except FileNotFoundError:
            self.misses += 1
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self.misses += 1            # a corrupt or foreign entry: ignored, recomputed
            return None
        result.cached_at = str(entry.get("created") or "")
        self.hits += 1
        return result

    def store(self, claim: Claim, origin: str | None, result: ClaimResult, *,
              profile: Profile, seed: int) -> bool:
        """Store a fresh result (never an ``error``); ``False`` when it was not stored."""
        self._new_timings.setdefault(profile.name, {})[claim.id] = round(result.seconds, 3)
        if result.verdict.value == "error" or result.cached_at:
            return False
        try:
            key, material = self._before_run.pop((claim.id, profile.name, seed))
        except KeyError:
            try:
                material = self.key_material(claim, origin, profile, seed)
            except (LookupError, OSError):
                return False
            key = _digest(material)
        entry = {"format": CACHE_FORMAT, "key": key, "created": _now(),
                 "material": material, "result": result.to_dict()}
        try:
            _atomic_write(self._path(key), json.dumps(entry, indent=1))
        except OSError:
            return False
        self.stored += 1
        return True

    # -- timings (largest first) -------------------------------------------------------------
    def _timings_file(self) -> Path:
        return self.directory / "timings.json"

    def _read_timings(self) -> dict[str, dict[str, float]]:
        try:
            data = json.loads(self._timings_file().read_text(encoding="utf-8"))
            return {str(p): {str(c): float(s) for c, s in d.items()} for p, d in data.items()}
        except (OSError, ValueError, AttributeError, TypeError):
            return {}

    def last_seconds(self, claim_id: str, profile: str) -> float | None:
        """The claim's duration in the last run at ``profile`` that recorded it."""
        if self._timings is None:
            self._timings = self._read_timings()
        return self._timings.get(profile, {}).get(claim_id)

    def save_timings(self) -> None:
        if not self._new_timings:
            return
        data = self._read_timings()
        for prof, d in self._new_timings.items():
            data.setdefault(prof, {}).update(d)
        try:
            _atomic_write(self._timings_file(), json.dumps(data, indent=1, sort_keys=True))
        except OSError:
            pass
        self._new_timings = {}

    # -- maintenance -------------------------------------------------------------------------
    def entries(self) -> list[Path]:
        return sorted((self.directory / "results").glob("*/*.json"))

    def info(self) -> dict[str, Any]:
        """Where the cache is, how many results it holds, their size and age range."""
        files = self.entries()
        times = []
        size = 0
        for f in files:
            try:
                st = f.stat()
            except OSError:
                continue
            size += st.st_size
            times.append(st.st_mtime)

        def iso(t):
            return _dt.datetime.fromtimestamp(t, _dt.UTC).isoformat(timespec="seconds")

        return {"directory": str(self.directory), "entries": len(files), "bytes": size,
                "oldest": iso(min(times)) if times else None,
                "newest": iso(max(times)) if times else None}

    def clear(self) -> int:
        """Remove every stored result and the timings; returns how many results."""
        import shutil

        n = len(self.entries())
        shutil.rmtree(self.directory / "results", ignore_errors=True)
        shutil.rmtree(self.directory / "points", ignore_errors=True)   # certified points
        try:
            self._timings_file().unlink()
        except OSError:
            pass
        return n
