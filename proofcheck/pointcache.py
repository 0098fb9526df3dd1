"""Certified points on disk: a finder's result is computed once per content, shared by every
claim, mutant and worker process that searches the same landscape.

Finding and certifying local minima / critical points (float64 descent, then refinement and a
second-order certificate at ``digits``) is most of a point claim's time, and claims and their
mutants search the same instance panels: ``check`` runs them in separate worker processes, so a
per-process memo computes the same points again in every worker.

**Where.** The runner (:func:`proofcheck.runner.run_claims`) sets ``$PROOFCHECK_POINT_CACHE``
for the run: ``<result cache dir>/points`` (kept with the results, cleared with them), or, with
``--no-cache``, a temporary folder that lives as long as the run (shared by its workers, then
deleted). Without the variable (a claim checked from Python, the tests) nothing is stored;
``PROOFCHECK_POINT_CACHE=off`` switches the store off for a run.

**Key.** The SHA-256 of (as JSON): the finder's name, a :func:`fingerprint` of the landscape's
data (arrays by content, objects by class and state, functions by qualified name and closure),
``starts``, ``digits`` and the other finder arguments, the state of the random generator the
finder draws its starts from, the source of the finder's modules and every project module they
import (as :mod:`proofcheck.cache` keys results), the numeric libraries' versions and
proofcheck's version. A hit returns the same points and leaves the generator in the state the
finder would have left it: results are identical with and without the store, for any
``--jobs``.

**Format.** One JSON file per entry (``<2 hex>/<key>.json``), written atomically; data only,
never pickle: :func:`encode` / :func:`decode` know numbers, strings, numpy arrays and scalars,
mpmath numbers (their exact binary form), fractions, lists, tuples, dicts, and objects of
classes defined in modules *already imported* (dataclasses anywhere, other classes only in
``proofcheck`` / ``theorems``): decoding never imports a module, never calls an
``__init__``. A point set that cannot be encoded (an unknown type) is simply not stored. A
file that does not parse or whose key does not match is ignored (and re-computed).

**Concurrency.** A worker computing an entry holds an exclusive lock on ``<key>.lock``
(:func:`fcntl.flock`, released by the kernel if the worker dies); another worker that needs the
same entry waits for it and then reads it instead of computing it again.

**Size.** The store of the result cache is bounded: at the end of a run
(:func:`using_store`) :func:`prune` removes the least recently used entries until the folder
holds at most ``$PROOFCHECK_POINT_CACHE_MB`` MiB (default :data:`DEFAULT_MAX_MB`; ``0``: no
bound). A hit refreshes its entry's modification time, so entries that no run reads any more
(those of edited sources, old library versions: their keys cannot come back) go first. Only
one process prunes a folder at a time (a non-blocking lock on ``.prune.lock``); an entry
another process is computing (its ``<key>.lock`` held) is never removed, and an entry removed
under a reader is simply computed again by it: the same points, since the key says what they
depend on.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import math
import os
import sys
import types
from collections.abc import Callable, Iterator, Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["DEFAULT_MAX_MB", "ENV", "MAX_MB_ENV", "PointStore", "Unencodable", "cached_points",
           "decode", "encode", "fingerprint", "max_bytes", "point_store", "prune",
           "using_store"]

#: The environment variable naming the run's point folder (set by the runner for its workers).
ENV = "PROOFCHECK_POINT_CACHE"

#: Bumped when the layout, the codec or the key's material changes.
POINT_FORMAT = 1

#: The environment variable bounding the persistent store (MiB; ``0``: unbounded).
MAX_MB_ENV = "PROOFCHECK_POINT_CACHE_MB"

#: The bound when ``$PROOFCHECK_POINT_CACHE_MB`` is not set: the whole catalogue's points at
#: the default profile take about 30 MiB (900 entries).
DEFAULT_MAX_MB = 256.0

T = TypeVar("T")


class Unencodable(TypeError):
    """A value :func:`encode` does not know (the points are then not stored)."""


# ---------------------------------------------------------------------------------------------
# codec: JSON data <-> Python values, exact

def _qualname(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _project_module(name: str) -> bool:
    return name.split(".")[0] in ("proofcheck", "theorems")


def _is_memo(name: str) -> bool:
    """An attribute that memoises derived data (``_cache``, ``_mp_cache``, ...): not state."""
    return "cache" in name.lower()


def encode(x: Any, *, key: bool = False) -> Any:
    """``x`` as JSON data (see the module docstring); :class:`Unencodable` for anything else.

    ``key=True`` encodes for a fingerprint: large arrays by their digest, functions by
    name, attributes that memoise (``*cache*``) left out.

    >>> import numpy as np, mpmath
    >>> decode(encode((1, 2.5, "a", None)))
    (1, 2.5, 'a', None)
    >>> a = decode(encode(np.array([0.1, -0.0])))
    >>> a.dtype, a.tolist()
    (dtype('float64'), [0.1, -0.0])
    >>> with mpmath.workdps(40):
    ...     x = mpmath.mpf(1) / 3
    >>> decode(encode(x)) == x
    True
    """
    import numpy as np

    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, np.generic):
        if x.dtype == object:
            raise Unencodable("numpy object scalar")
        return {"$np": x.dtype.str, "v": x.item() if x.dtype.kind != "c" else
                [x.real.item(), x.imag.item()]}
    if isinstance(x, int):
        return x
    if isinstance(x, float):
        return x if math.isfinite(x) else {"$f": repr(x)}
    if isinstance(x, np.ndarray):
        if x.dtype == object:
            return {"$nda": list(x.shape), "v": [encode(v, key=key) for v in x.ravel()]}
        if x.dtype.kind not in "biufc":
            raise Unencodable(f"numpy array of dtype {x.dtype}")
        if key:
            return {"$ndk": x.dtype.str, "s": list(x.shape),
                    "h": hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest()}
        if x.dtype.kind == "c":
            return {"$ndc": x.dtype.str, "s": list(x.shape),
                    "v": [encode(float(v), key=key) for v in x.real.ravel()]
                    + [encode(float(v), key=key) for v in x.imag.ravel()]}
        return {"$nd": x.dtype.str, "s": list(x.shape),
                "v": [encode(v, key=key) for v in x.ravel().tolist()]}
    mp = sys.modules.get("mpmath")
    if mp is not None:
        if isinstance(x, mp.mpf):
            s, m, e, b = x._mpf_
            return {"$mpf": [int(s), str(int(m)), int(e), int(b)]}
        if isinstance(x, mp.mpc):
            return {"$mpc": [encode(x.real, key=key), encode(x.imag, key=key)]}
    if isinstance(x, Fraction):
        return {"$q": [str(x.numerator), str(x.denominator)]}
    if type(x) is tuple:
        return {"$t": [encode(v, key=key) for v in x]}
    if type(x) is list:
        return [encode(v, key=key) for v in x]
    if type(x) is dict:
        return {"$d": [[encode(k, key=key), encode(v, key=key)] for k, v in x.items()]}
    if isinstance(x, (types.FunctionType, types.BuiltinFunctionType, type)):
        if not key:
            raise Unencodable("a function is not data")
        out: dict[str, Any] = {"$fn": f"{getattr(x, '__module__', '?')}:"
                                      f"{getattr(x, '__qualname__', repr(x))}"}
        code = getattr(x, "__code__", None)
        if code is not None:
            out["line"] = code.co_firstlineno
            out["closure"] = [encode(c.cell_contents, key=True)
                              for c in (getattr(x, "__closure__", None) or ())]
            out["defaults"] = encode(tuple(getattr(x, "__defaults__", None) or ()), key=True)
        return out
    if isinstance(x, types.MethodType):
        if not key:
            raise Unencodable("a method is not data")
        return {"$meth": encode(x.__func__, key=True), "self": encode(x.__self__, key=True)}
    return _encode_object(x, key)


def _encode_object(x: Any, key: bool) -> Any:
    import dataclasses

    cls = type(x)
    if not (dataclasses.is_dataclass(x) or _project_module(cls.__module__)):
        raise Unencodable(f"an object of type {cls.__module__}.{cls.__qualname__}")
    state: dict[str, Any] = {}
    if hasattr(x, "__dict__"):
        state.update(vars(x))
    for slot_cls in cls.__mro__:
        for name in getattr(slot_cls, "__slots__", ()):
            if name not in ("__dict__", "__weakref__") and hasattr(x, name):
                state[name] = getattr(x, name)
    if key:
        state = {k: v for k, v in state.items() if not _is_memo(k)}
    out: dict[str, Any] = {"$o": _qualname(cls),
                           "f": {k: encode(v, key=key) for k, v in sorted(state.items())}}
    if isinstance(x, list):
        out["items"] = [encode(v, key=key) for v in x]
    elif isinstance(x, (tuple, dict, set)):
        raise Unencodable(f"a {cls.__qualname__} container")
    return out


def _class(name: str) -> type:
    module, _, qual = name.partition(":")
    mod = sys.modules.get(module)         # never import: data does not choose code to load
    if mod is None:
        raise Unencodable(f"module {module} is not loaded")
    obj: Any = mod
    for part in qual.split("."):
        obj = getattr(obj, part, None)
    if not isinstance(obj, type):
        raise Unencodable(f"no class {name}")
    import dataclasses
    if not (dataclasses.is_dataclass(obj) or _project_module(obj.__module__)):
        raise Unencodable(f"{name} is not a class a point may be made of")
    return obj


def decode(doc: Any) -> Any:
    """The value :func:`encode` encoded (see there)."""
    import numpy as np

    if doc is None or isinstance(doc, (bool, str, int, float)):
        return doc
    if isinstance(doc, list):
        return [decode(v) for v in doc]
    if not isinstance(doc, dict) or len(doc) == 0:
        raise Unencodable(f"not an encoded value: {doc!r:.60}")
    if "$f" in doc:
        return float(doc["$f"])
    if "$np" in doc:
        dt = np.dtype(doc["$np"])
        v = doc["v"]
        make: Any = dt.type
        return make(complex(*v)) if dt.kind == "c" else make(v)
    if "$nd" in doc:
        vals = [decode(v) for v in doc["v"]]
        return np.array(vals, dtype=np.dtype(doc["$nd"])).reshape(doc["s"])
    if "$ndc" in doc:
        vals = [decode(v) for v in doc["v"]]
        half = len(vals) // 2
        arr = np.array(vals[:half]) + 1j * np.array(vals[half:])
        return arr.astype(np.dtype(doc["$ndc"])).reshape(doc["s"])
    if "$nda" in doc:
        items = [decode(v) for v in doc["v"]]
        arr = np.empty(len(items), dtype=object)
        for i, v in enumerate(items):
            arr[i] = v
        return arr.reshape(doc["$nda"])
    if "$mpf" in doc:
        import mpmath
        from mpmath.libmp import MPZ

        s, m, e, b = doc["$mpf"]
        return mpmath.mp.make_mpf((int(s), MPZ(int(m)), int(e), int(b)))
    if "$mpc" in doc:
        import mpmath

        re, im = (decode(v) for v in doc["$mpc"])
        return mpmath.mp.make_mpc((re._mpf_, im._mpf_))
    if "$q" in doc:
        return Fraction(int(doc["$q"][0]), int(doc["$q"][1]))
    if "$t" in doc:
        return tuple(decode(v) for v in doc["$t"])
    if "$d" in doc:
        return {decode(k): decode(v) for k, v in doc["$d"]}
    if "$o" in doc:
        cls = _class(doc["$o"])
        new: Any = cls.__new__             # no __init__: the state is restored as stored
        obj = new(cls)
        if "items" in doc:
            list.extend(obj, [decode(v) for v in doc["items"]])
        for k, v in doc["f"].items():
            object.__setattr__(obj, k, decode(v))
        return obj
    raise Unencodable(f"not an encoded value: {doc!r:.60}")


def fingerprint(x: Any) -> str:
    """SHA-256 of ``x``'s content (:func:`encode` with ``key=True``); :class:`Unencodable` if
    part of it cannot be keyed.

    >>> import numpy as np
    >>> fingerprint(np.zeros(3)) == fingerprint(np.zeros(3))
    True
    >>> fingerprint(np.zeros(3)) == fingerprint(np.zeros(4))
    False
    """
    text = json.dumps(encode(x, key=True), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# the store

_SOURCES: dict[tuple[str, ...], dict[str, str]] = {}


def _sources(modules: tuple[str, ...]) -> dict[str, str]:
    """Digest of the source of ``modules`` and every project module they import."""
    if modules not in _SOURCES:
        from .keys import ImportGraph, module_closure

        graph = ImportGraph()
        out: dict[str, str] = {}
        for name in modules:
            for p in module_closure(name, graph):
                out[graph.module_name(p) or str(p)] = graph.digest(p)
        _SOURCES[modules] = out
    return _SOURCES[modules]


class PointStore:
    """Finder results on disk under ``directory`` (see the module docstring).

    ``hits`` / ``misses`` / ``stored`` count what happened in this process."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.hits = self.misses = self.stored = 0
        self._memo: dict[str, tuple[Any, Any]] = {}

    def _path(self, key: str, suffix: str = ".json") -> Path:
        return self.directory / key[:2] / f"{key}{suffix}"

    def _read(self, key: str) -> tuple[Any, Any] | None:
        path = self._path(key)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            if entry.get("key") != key or entry.get("format") != POINT_FORMAT:
                return None
            found = decode(entry["points"]), entry.get("rng_after")
        except (OSError, ValueError, KeyError, TypeError, AttributeError, Unencodable):
            return None
        try:
            os.utime(path)                 # recently used: the last to be pruned
        except OSError:
            pass
        return found

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[None]:
        path = self._path(key, ".lock")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            yield
            return
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
        except (ImportError, OSError):     # pragma: no cover - not POSIX
            pass
        try:
            yield
        finally:
            os.close(fd)                   # releases the lock

    def get(self, material: Mapping[str, Any], compute: Callable[[], T],
            rng: Any = None) -> T:
        """``compute()``, or the stored result of the same ``material``; ``rng`` (a numpy
        Generator the finder draws from, or None) is part of the key and left as
        ``compute()`` would leave it."""
        from . import __version__
        from .keys import digest

        full = dict(material)
        full.update(format=POINT_FORMAT, proofcheck=__version__, versions=_cached_versions(),
                    sources=_sources(tuple(full.pop("modules", ()))))
        if rng is not None:
            full["rng"] = encode(rng.bit_generator.state)
        key = digest(full)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._read(key)
            if hit is None:
                with self._locked(key):
                    hit = self._read(key)           # computed meanwhile by another worker
                    if hit is None:
                        hit = self._compute(key, compute, rng)
                    else:
                        self.hits += 1
            else:
                self.hits += 1
            self._memo[key] = hit
        else:
            self.hits += 1
        value, after = hit
        if rng is not None and after is not None:
            rng.bit_generator.state = decode(after)
        # a caller that appends to the list it got must not change what the next one gets
        return copy.copy(value)

    def _compute(self, key: str, compute: Callable[[], T], rng: Any) -> tuple[Any, Any]:
        self.misses += 1
        value = compute()
        after = None if rng is None else encode(rng.bit_generator.state)
        try:
            doc = encode(value)
            # stored only if it comes back exactly: decoding and encoding again is the same
            if json.dumps(encode(decode(doc))) != json.dumps(doc):
                raise Unencodable("the encoding is not faithful")
            from .keys import atomic_write

            atomic_write(self._path(key), json.dumps(
                {"format": POINT_FORMAT, "key": key, "points": doc, "rng_after": after},
                separators=(",", ":")))
            self.stored += 1
        except (Unencodable, OSError, ValueError, RecursionError):
            pass
        return value, after


_VERSIONS: dict[str, str | None] | None = None


def _cached_versions() -> dict[str, str | None]:
    global _VERSIONS
    if _VERSIONS is None:
        from .keys import library_versions

        _VERSIONS = library_versions()
    return _VERSIONS


_STORES: dict[str, PointStore] = {}


def point_store() -> PointStore | None:
    """The run's store (``$PROOFCHECK_POINT_CACHE``), or None."""
    directory = os.environ.get(ENV)
    if not directory or directory == "off":
        return None
    if directory not in _STORES:
        _STORES[directory] = PointStore(directory)
    return _STORES[directory]


@contextlib.contextmanager
def using_store(directory: str | Path | None) -> Iterator[None]:
    """Set ``$PROOFCHECK_POINT_CACHE`` to ``directory`` (None: a temporary folder removed
    afterwards) for this process and the workers it starts."""
    import shutil
    import tempfile

    old = os.environ.get(ENV)
    if old == "off":                       # switched off by the user (or a benchmark)
        yield
        return
    tmp = None
    if directory is None:
        tmp = tempfile.mkdtemp(prefix="proofcheck-points-")
        directory = tmp
    os.environ[ENV] = str(directory)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = old
        _STORES.pop(str(directory), None)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            prune(directory)


def max_bytes(setting: str | None = None) -> int | None:
    """The bound of the persistent store in bytes: ``setting`` (MiB, as text; default
    ``$PROOFCHECK_POINT_CACHE_MB``, else :data:`DEFAULT_MAX_MB`), None for no bound (``0``);
    a value that is not a non-negative number is the default.

    >>> max_bytes("0.5"), max_bytes("0"), max_bytes("many") == max_bytes("")
    (524288, None, True)
    """
    text = (os.environ.get(MAX_MB_ENV, "") if setting is None else setting).strip()
    try:
        mb = float(text) if text else DEFAULT_MAX_MB
    except ValueError:
        mb = DEFAULT_MAX_MB
    if not math.isfinite(mb) or mb < 0:
        mb = DEFAULT_MAX_MB
    return None if mb == 0 else int(mb * 1024 * 1024)


def _lock_free(path: Path) -> bool:
    """Whether no process holds the lock file ``path`` now (True when there is none)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except (ImportError, OSError):
        return False
    finally:
        os.close(fd)


def prune(directory: str | Path, limit: int | None = -1) -> int:
    """Remove least recently used entries of the store in ``directory`` until it holds at most
    ``limit`` bytes (default: :func:`max_bytes`; None: no bound, nothing removed); returns
    how many entries were removed. Leftover temporary files of writers that died and lock
    files of removed entries go too. Safe under concurrent runs (module docstring): a
    process that finds another one pruning returns 0 at once."""
    import time

    if limit == -1:
        limit = max_bytes()
    root = Path(directory)
    if limit is None or not root.is_dir():
        return 0
    try:
        guard = os.open(root / ".prune.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        return 0
    try:
        try:
            import fcntl

            fcntl.flock(guard, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:                # pragma: no cover - not POSIX
            pass
        except OSError:
            return 0                       # another process is pruning this folder
        entries: list[tuple[float, int, Path]] = []
        total = 0
        now = time.time()
        for sub in root.iterdir():
            if not sub.is_dir():
                continue
            for f in sub.iterdir():
                try:
                    st = f.stat()
                except OSError:
                    continue
                if f.name.endswith(".tmp") and now - st.st_mtime > 3600:
                    with contextlib.suppress(OSError):
                        f.unlink()         # a writer that died mid-write, long ago
                elif f.suffix == ".json":
                    entries.append((st.st_mtime, st.st_size, f))
                    total += st.st_size
        removed = 0
        for _, size, f in sorted(entries, key=lambda e: (e[0], e[2].name)):
            if total <= limit:
                break
            lock = f.with_suffix(".lock")
            if not _lock_free(lock):
                continue                   # being computed or written right now
            with contextlib.suppress(OSError):
                f.unlink()
                total -= size
                removed += 1
                with contextlib.suppress(OSError):
                    lock.unlink()
        return removed
    finally:
        os.close(guard)


def cached_points(finder: str, modules: tuple[str, ...], landscape: Any,
                  compute: Callable[[], T], *, rng: Any = None, **args: Any) -> T:
    """``compute()`` through the run's store (:func:`point_store`): ``finder`` names the
    finder, ``modules`` are the modules whose source it depends on, ``landscape`` is
    fingerprinted, ``args`` are the finder's other arguments (JSON data). Without a store,
    or when the landscape cannot be fingerprinted, simply ``compute()``."""
    store = point_store()
    if store is None:
        return compute()
    try:
        material = {"finder": finder, "landscape": fingerprint(landscape),
                    "args": encode(args, key=True), "modules": modules}
    except (Unencodable, RecursionError, ValueError):
        return compute()
    return store.get(material, compute, rng)
