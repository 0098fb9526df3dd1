"""proofcheck: a symbolic-plus-numeric proof checker for the loss-landscape theory of deep learning.

The public vocabulary for writing theorem modules::

    from proofcheck import Claim, Hypothesis, Identity, Instance, Margin, Mutant, MutantKind
    from proofcheck import PointKind, Source

The names are imported on first use (PEP 562), so ``import proofcheck`` and
``proofcheck --version`` cost next to nothing.

>>> import proofcheck
>>> proofcheck.Claim.__name__
'Claim'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Assumed", "Claim", "ClaimDefinitionError", "Hypothesis", "Identity", "Instance",
           "Margin", "Mutant", "MutantKind", "PointKind", "Source", "__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from .claims import (Assumed, Claim, ClaimDefinitionError, Hypothesis, Identity, Instance,
                         Margin, Mutant, MutantKind, PointKind, Source)


class _SourceTreeCatalogue:
    """Import hook: in a source tree (an editable install, ``PYTHONPATH``, a test run from the
    repository) ``proofcheck.catalogue`` is the ``theorems/`` folder beside this package; an
    installed copy has a real ``proofcheck/catalogue`` package and this finder is not used."""

    @staticmethod
    def find_spec(fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != "proofcheck.catalogue":
            return None
        import importlib.util
        from pathlib import Path

        here = Path(__file__).resolve().parent
        if (here / "catalogue" / "__init__.py").is_file():
            return None                                   # installed: the real package
        folder = here.parent / "theorems"
        if not (folder / "__init__.py").is_file():
            return None
        return importlib.util.spec_from_file_location(
            fullname, folder / "__init__.py", submodule_search_locations=[str(folder)])


def _install_catalogue_finder() -> None:
    import sys

    if not any(isinstance(f, _SourceTreeCatalogue) or f is _SourceTreeCatalogue
               for f in sys.meta_path):
        # first, so that an editable install's own finder (which maps the name to the folder
        # of the checkout that was installed) does not hand a different checkout's theorems
        # to a package imported from PYTHONPATH
        sys.meta_path.insert(0, _SourceTreeCatalogue)


_install_catalogue_finder()


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import claims

        value = getattr(claims, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'proofcheck' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
