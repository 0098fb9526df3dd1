"""Content keys: what a stored value depends on, read from source files without running them.

:mod:`proofcheck.cache` (claim results) and :mod:`proofcheck.pointcache` (certified points)
key what they store by the source of every project module the computation imports (the
transitive closure of ``import`` statements, read with :mod:`ast`), the numeric libraries'
versions and the inputs; both write files atomically. This module holds those pieces and
imports no other part of the engine, so the finders can reach the point store without an
import cycle through the engine.
"""

from __future__ import annotations

import ast
import datetime as _dt
import hashlib
import json
import os
import sys
from pathlib import Path
from collections.abc import Iterable
from typing import Any

__all__ = ["LIBRARIES", "ImportGraph", "atomic_write", "default_cache_dir", "describe_age",
           "digest", "library_versions", "module_closure", "source_facts"]

LIBRARIES = ("numpy", "scipy", "sympy", "mpmath", "gmpy2", "python-flint", "hypothesis")


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
            atomic_write(file, json.dumps(value))
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


class ImportGraph:
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
        self._digests: dict[Path, str] = {}

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
        if path not in self._digests:
            self._digests[path] = hashlib.sha256(path.read_bytes()).hexdigest()
        return self._digests[path]


def module_closure(origin: str, graph: ImportGraph | None = None) -> list[Path]:
    """Source files of the module ``origin`` (a module name or a ``.py`` path) and of every
    project module it imports, transitively.

    >>> names = [p.name for p in module_closure("proofcheck.results")]
    >>> names
    ['__init__.py', 'claims.py', 'lazy.py', 'results.py']
    """
    graph = graph or ImportGraph()
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



def digest(material: dict[str, Any]) -> str:
    text = json.dumps(material, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def library_versions() -> dict[str, str | None]:
    from importlib import metadata

    out: dict[str, str | None] = {"python": sys.version.split()[0]}
    for lib in LIBRARIES:
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            out[lib] = None
    return out


def atomic_write(path: Path, text: str) -> None:
    """A cache entry written atomically (:func:`proofcheck.outputs.write_atomic`, without
    ``fsync``: an entry lost in a crash is computed again), its folder created."""
    from .outputs import write_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text, sync=False)
