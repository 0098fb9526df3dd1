"""Paper records: what a catalogue package says about the paper it checks.

Each paper of the catalogue is a package ``<catalogue>/<key>/`` whose ``__init__.py`` declares
one :class:`Paper` as ``PAPER``. The kernel never lists papers: it finds the records, orders them
by what they say (year of publication, then key) and reads titles, citations and the module of
figures from them.

>>> p = Paper(key="demo2020", citation="Doe (2020)", title="A Demo", year=2020)
>>> p.heading
'Doe (2020), *A Demo*'
>>> [q.key for q in ordered([Paper("b2019", "B", "B", 2019), Paper("a2020", "A", "A", 2020),
...                          Paper("a2019", "A", "A", 2019)])]
['a2019', 'b2019', 'a2020']
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import importlib.util
import pkgutil
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from collections.abc import Iterable

from .claims import Claim, ClaimDefinitionError, Source

__all__ = ["CATALOGUE", "CATALOGUE_PACKAGE", "Paper", "PaperRecordError", "catalogue_folder",
           "catalogue_papers", "figure_modules", "ordered", "paper_rank"]

#: The package that holds the bundled catalogue (one sub-package per paper): the repository's
#: ``theorems/`` folder, imported under the project's namespace. An installed copy is installed
#: there (``setup.py`` maps the folder); in a source tree (an editable install or ``PYTHONPATH``)
#: the ``theorems/`` folder next to the ``proofcheck`` package is registered under that name when
#: this module is imported. Theorem modules import each other relatively.
CATALOGUE = CATALOGUE_PACKAGE = "proofcheck.catalogue"


def _source_tree_catalogue() -> Path | None:
    """The ``theorems/`` folder next to this ``proofcheck`` package, if this is a source tree."""
    folder = Path(__file__).resolve().parent.parent / "theorems"
    return folder if (folder / "__init__.py").is_file() else None


def _register_catalogue() -> None:
    """Make ``import proofcheck.catalogue`` work in a source tree (see the module doc)."""
    if CATALOGUE in sys.modules:
        return
    folder = _source_tree_catalogue()
    if folder is None:          # installed: the package is a real ``proofcheck/catalogue``
        return
    spec = importlib.util.spec_from_file_location(
        CATALOGUE, folder / "__init__.py", submodule_search_locations=[str(folder)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[CATALOGUE] = module
    spec.loader.exec_module(module)
    import proofcheck
    proofcheck.catalogue = module


def catalogue_folder() -> Path:
    """The folder the catalogue's theorem modules are loaded from (source tree or installed).

    >>> (catalogue_folder() / "__init__.py").is_file()
    True
    """
    return Path(importlib.import_module(CATALOGUE).__path__[0])


_KEY = re.compile(r"^[a-z][a-z0-9]*$")


class PaperRecordError(ValueError):
    """A catalogue package declared a malformed or inconsistent paper record."""


@dataclass(frozen=True)
class Paper:
    """The record of one paper: the key its claim ids start with and how to cite it.

    ``figures`` names the module (relative to the paper's package, e.g. ``".figures"``) whose
    ``FIGURES`` dict holds the paper's figures, or is ``None`` when the paper has none.
    ``package`` is filled in by :func:`catalogue_papers` with the package that declared it.
    """

    key: str
    citation: str
    title: str
    year: int
    venue: str = ""
    source: str = ""
    figures: str | None = None
    package: str = ""

    def __post_init__(self) -> None:
        if not _KEY.match(self.key):
            raise PaperRecordError(f"paper key {self.key!r} must be lower-case letters and "
                                   f"digits, starting with a letter (e.g. 'doe2020')")

    @property
    def heading(self) -> str:
        """Citation and title, as Markdown (``Doe (2020), *A Demo*``)."""
        return f"{self.citation}, *{self.title}*"

    def printed_at(self, section: str, label: str, equation: str | None = None) -> Source:
        """Where a statement is printed in this paper.

        >>> str(Paper("demo2020", "Doe (2020)", "A Demo", 2020).printed_at("2", "Lemma 3", "(4)"))
        'DEMO2020 §2, Lemma 3, eq. (4)'
        """
        return Source(self.key, section, label, equation)

    def claim(self, id: str, source: Source, /, **fields: Any) -> Claim:
        """A claim of this paper, declared by its id and where it is printed (the first line of
        a declaration), then its fields by name (title, statement, hypotheses, conclusion, ...).
        An id or a source of another paper is refused: the id names the paper by its key.

        >>> demo = Paper("demo2020", "Doe (2020)", "A Demo", 2020)
        >>> demo.claim("demo2020.lemma3", demo.printed_at("2", "Lemma 3"),
        ...            title="t", statement="s", conclusion=lambda inst, point, B: 1.0,
        ...            instances=lambda assumed: None).id
        'demo2020.lemma3'
        >>> demo.claim("other.lemma3", demo.printed_at("2", "Lemma 3"))
        Traceback (most recent call last):
        ...
        proofcheck.claims.ClaimDefinitionError: claim id 'other.lemma3' does not start with \
this paper's key 'demo2020.'
        """
        if not id.startswith(self.key + "."):
            raise ClaimDefinitionError(f"claim id {id!r} does not start with this paper's key "
                                       f"{self.key + '.'!r}")
        if source.paper != self.key:
            raise ClaimDefinitionError(f"claim {id}: its source names paper {source.paper!r}, "
                                       f"not {self.key!r}")
        return Claim(id=id, source=source, **fields)


def ordered(papers: Iterable[Paper]) -> list[Paper]:
    """Papers in catalogue order: by year of publication, then by key."""
    return sorted(papers, key=lambda p: (p.year, p.key))


def catalogue_papers(package: str = CATALOGUE_PACKAGE) -> list[Paper]:
    """The records declared by the sub-packages of ``package`` (``PAPER`` in each
    ``__init__.py``), in catalogue order. A sub-package without a record is not a paper; a record
    whose key differs from its package name is an error (claim ids would not find it)."""
    return list(_catalogue_papers(package))


@functools.cache
def _catalogue_papers(package: str) -> tuple[Paper, ...]:
    pkg = importlib.import_module(package)
    found: list[Paper] = []
    for info in pkgutil.iter_modules(pkg.__path__):
        if not info.ispkg:
            continue
        name = f"{package}.{info.name}"
        record = getattr(importlib.import_module(name), "PAPER", None)
        if record is None:
            continue
        if not isinstance(record, Paper):
            raise PaperRecordError(f"{name}.PAPER is a {type(record).__name__}, not a Paper")
        if record.key != info.name:
            raise PaperRecordError(f"{name}.PAPER has key {record.key!r}; the package of a "
                                   f"paper is named by its key ({info.name!r})")
        found.append(dataclasses.replace(record, package=name))
    return tuple(ordered(found))


def paper_rank(package: str = CATALOGUE_PACKAGE) -> dict[str, int]:
    """Position of each paper key in catalogue order (for sorting claims by paper)."""
    return {p.key: i for i, p in enumerate(catalogue_papers(package))}


def figure_modules(package: str = CATALOGUE_PACKAGE) -> list[ModuleType]:
    """The figure modules the paper records name, in catalogue order."""
    return [importlib.import_module(p.figures, p.package)
            for p in catalogue_papers(package) if p.figures]


_register_catalogue()   # last: the catalogue's records import this module's Paper
