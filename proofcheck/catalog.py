"""Discovery of theorem modules: the bundled catalogue or a user's own folder.

The catalogue is the repository's top-level ``theorems/`` folder. It is always imported under
the project's namespace, as :data:`CATALOGUE` (``proofcheck.catalogue``): an installed copy is
installed there (``setup.py`` maps the folder), and in a source tree (an editable install or
``PYTHONPATH``) the ``theorems/`` folder next to the ``proofcheck`` package is registered under
that name when this module is imported. Theorem modules import each other relatively.

A theorem module is any ``.py`` file that defines :class:`~proofcheck.claims.Claim` objects at
module level (or a ``CLAIMS`` list). A module that fails to import is recorded in
``Registry.errors`` with the cause; it is never silently dropped.

>>> reg = load_claims()                       # the bundled catalogue
>>> all(c.id.split(".")[0] in paper_rank() for c in reg.claims)
True
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
import importlib.util
import pkgutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Iterable, Sequence

from .claims import Claim, claims_in
from .papers import CATALOGUE, catalogue_folder, paper_rank
from .errors import describe

__all__ = ["CATALOGUE", "Registry", "UnknownClaimError", "catalogue_folder", "load_claims"]



class UnknownClaimError(LookupError):
    """A requested claim id or prefix matches nothing in the registry."""


@dataclass
class Registry:
    claims: list[Claim] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)   # (module path, message)
    origins: dict[str, str] = field(default_factory=dict)         # claim id -> module

    def add(self, claim: Claim, origin: str) -> None:
        if claim.id in self.origins:
            self.errors.append((origin, f"duplicate claim id {claim.id!r} (first defined in "
                                        f"{self.origins[claim.id]})"))
            return
        self.claims.append(claim)
        self.origins[claim.id] = origin

    def get(self, claim_id: str) -> Claim:
        for c in self.claims:
            if c.id == claim_id:
                return c
        raise UnknownClaimError(self._unknown_message(claim_id))

    def select(self, patterns: Sequence[str] | None = None) -> list[Claim]:
        """Claims whose id equals a pattern or starts with ``pattern + '.'`` (a paper, or a
        claim together with its proof identities). No pattern selects everything."""
        if not patterns:
            return list(self.claims)
        chosen: list[Claim] = []
        for pat in patterns:
            hits = [c for c in self.claims if c.id == pat or c.id.startswith(pat + ".")]
            if not hits:
                raise UnknownClaimError(self._unknown_message(pat))
            chosen += [c for c in hits if c not in chosen]
        return chosen

    def _unknown_message(self, pattern: str) -> str:
        ids = [c.id for c in self.claims]
        close = difflib.get_close_matches(pattern, ids, n=5, cutoff=0.5)
        msg = f"no claim matches {pattern!r}"
        if close:
            msg += "; did you mean " + ", ".join(close) + "?"
        else:
            msg += f" ({len(ids)} claims known; `proofcheck list` shows them)"
        return msg


def load_claims(paths: Iterable[str | Path] | None = None, *,
                patterns: Sequence[str] | None = None) -> Registry:
    """Load the bundled catalogue (``paths=None``) or theorem modules from files / folders.

    ``patterns`` (claim ids or prefixes, as :meth:`Registry.select` takes them) lets the
    bundled catalogue import only the papers they name (``<paper>.lemma1`` -> the ``<paper>``
    package), so that checking one claim does not import every paper's modules; a pattern
    that names no paper package loads everything. Files and folders are always loaded whole.

    >>> first = min(paper_rank(), key=paper_rank().get)
    >>> {c.id.split(".")[0] for c in load_claims(patterns=[first + ".x"]).claims} == {first}
    True
    """
    reg = Registry()
    if paths is None:
        _load_package(reg, CATALOGUE, only=_papers_named(patterns))
    else:
        for p in paths:
            _load_path(reg, Path(p))
    reg.claims.sort(key=_sort_key)
    return reg


def _sort_key(c: Claim):
    rank = paper_rank()   # catalogue order from the paper records; unknown papers last
    return (rank.get(c.id.split(".")[0], len(rank)), c.id)


def _papers_named(patterns: Sequence[str] | None) -> set[str] | None:
    """The catalogue's paper packages the patterns name, or None (load every paper) when there
    is no pattern or one of them names no paper package."""
    if not patterns:
        return None
    folder = catalogue_folder()
    keys = {str(p).split(".")[0] for p in patterns}
    if not all(k.isidentifier() and (folder / k / "__init__.py").is_file() for k in keys):
        return None
    return keys


def _load_package(reg: Registry, package: str, only: set[str] | None = None) -> None:
    pkg = importlib.import_module(package)
    for info in pkgutil.walk_packages(pkg.__path__, prefix=package + "."):
        if info.ispkg:
            continue
        if only is not None and info.name[len(package) + 1:].split(".")[0] not in only:
            continue
        try:
            module = importlib.import_module(info.name)
        except (Exception, SystemExit) as exc:  # a broken module is a finding, not a crash
            reg.errors.append((info.name, describe(exc)))
            continue
        for claim in claims_in(vars(module)):
            reg.add(claim, info.name)


def _load_path(reg: Registry, path: Path) -> None:
    if not path.exists():
        reg.errors.append((str(path), "no such file or folder"))
        return
    files = [path] if path.is_file() else sorted(
        f for f in path.rglob("*.py") if not f.name.startswith(("_", "test_", "conftest")))
    for f in files:
        name = "proofcheck_user_" + hashlib.sha1(str(f.resolve()).encode()).hexdigest()[:12]
        try:
            spec = importlib.util.spec_from_file_location(name, f)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
        except (Exception, SystemExit) as exc:   # sys.exit at import: a finding, not an exit
            sys.modules.pop(name, None)
            reg.errors.append((str(f), describe(exc)))
            continue
        for claim in claims_in(vars(module)):
            reg.add(claim, str(f))


