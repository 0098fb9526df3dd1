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


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import claims

        value = getattr(claims, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'proofcheck' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
