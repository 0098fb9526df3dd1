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
  ``proofcheck`` package and its catalogue and files beside a user's module (``--path``),
  the latter named by their path relative to the claim's module, so that a copy of a
  user's folder at another place finds the results of the original;
  installed libraries count through their versions:
* the versions of Python, numpy, scipy, sympy, mpmath, gmpy2 (mpmath's accelerator),
  python-flint and hypothesis;
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

import dataclasses
import datetime as _dt
import json
from pathlib import Path
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .keys import (LIBRARIES, ImportGraph, atomic_write, digest, library_versions,  # noqa: F401
                   default_cache_dir, describe_age, module_closure, source_facts)

if TYPE_CHECKING:  # pragma: no cover
    from .claims import Claim
    from .engine import Profile
    from .results import ClaimResult

__all__ = ["CACHE_FORMAT", "ResultCache", "default_cache_dir", "describe_age", "module_closure",
           "source_facts"]

#: Bumped when the layout or the key's material changes: old entries are then never read.
CACHE_FORMAT = 2

# ---------------------------------------------------------------------------------------------
# the cache

def _result_from_dict(data: dict[str, Any]) -> ClaimResult:
    from .results import ClaimResult

    return ClaimResult.from_dict(data)


def _stored_witness_keys(claim_id: str) -> list[str]:
    """The content keys of the failure database's witnesses of ``claim_id``: ``check`` replays
    them first, so a counterexample stored since a result was cached makes that result stale."""
    from .witness_db import active_database

    db = active_database()
    return [] if db is None else [e.key for e in db.entries(claim_id)]


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


class ResultCache:
    """Claim results on disk, keyed by content (see the module docstring).

    ``hits`` and ``misses`` count :meth:`load` outcomes; ``stored`` counts :meth:`store`.
    """

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory).expanduser() if directory else default_cache_dir()
        self.hits = self.misses = self.stored = 0
        self._graph = ImportGraph()
        self._versions: dict[str, str | None] | None = None
        self._engine: dict[str, str] | None = None
        self._timings: dict[str, dict[str, float]] | None = None
        self._new_timings: dict[str, dict[str, float]] = {}
        self._before_run: dict[tuple[str, str, int], tuple[str, dict[str, Any]]] = {}

    # -- keys --------------------------------------------------------------------------------
    def _sources(self, paths: Iterable[Path], beside: Path | None = None) -> dict[str, str]:
        """Digest of each file, named by its module (package files) or by its path relative
        to ``beside``, the folder of the claim's own module (a user's files): a copy of a
        user's folder elsewhere has the same key, as a result never depends on where its
        sources lie."""
        out = {}
        for p in paths:
            name = self._graph.module_name(p)
            if name is None:
                try:
                    name = p.relative_to(beside).as_posix() if beside else str(p)
                except ValueError:      # imported from outside the claim's folder
                    name = str(p)
            out[name] = self._graph.digest(p)
        return out

    def key_material(self, claim: Claim, origin: str | None, profile: Profile,
                     seed: int) -> dict[str, Any]:
        """Everything the key is made of (JSON-able): see the module docstring."""
        from . import __version__

        if self._versions is None:
            self._versions = library_versions()
        if self._engine is None:
            self._engine = self._sources(module_closure("proofcheck.engine", self._graph))
        if not origin:
            raise LookupError(f"claim {claim.id} has no module to key its result by")
        prof = dataclasses.asdict(profile)
        prof.pop("claim_timeout", None)
        return {"format": CACHE_FORMAT, "claim": claim.id,
                "module": self._sources(module_closure(origin, self._graph),
                                        Path(origin).resolve().parent
                                        if origin.endswith(".py") else None),
                "engine": self._engine, "versions": self._versions, "profile": prof,
                "seed": seed, "proofcheck": __version__,
                "stored_witnesses": _stored_witness_keys(claim.id)}

    def key(self, claim: Claim, origin: str | None, profile: Profile, seed: int) -> str:
        return digest(self.key_material(claim, origin, profile, seed))

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
        key = digest(material)
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
            key = digest(material)
        entry = {"format": CACHE_FORMAT, "key": key, "created": _now(),
                 "material": material, "result": result.to_dict()}
        try:
            atomic_write(self._path(key), json.dumps(entry, indent=1))
        except OSError:
            return False
        self.stored += 1
        # the same result also under the key as it is *after* the run, when the run changed its
        # own key material (the counterexamples it stored in the failure database): re-running
        # from that state would only replay the witnesses this result found and certified, so
        # an unchanged claim is not checked again (a witness stored later, by another run,
        # still changes the key and makes the result stale)
        try:
            after = self.key_material(claim, origin, profile, seed)
        except (LookupError, OSError):
            return True
        after_key = digest(after)
        if after_key != key:
            try:
                atomic_write(self._path(after_key), json.dumps(
                    dict(entry, key=after_key, material=after), indent=1))
            except OSError:
                pass
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
            atomic_write(self._timings_file(), json.dumps(data, indent=1, sort_keys=True))
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

        points = 0
        for f in (self.directory / "points").glob("*/*.json"):
            try:
                points += f.stat().st_size
            except OSError:
                continue
        return {"directory": str(self.directory), "entries": len(files), "bytes": size,
                "oldest": iso(min(times)) if times else None,
                "newest": iso(max(times)) if times else None, "points_bytes": points}

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
