"""proofcheck: a symbolic-plus-numeric proof checker for the loss-landscape theory of deep learning.

The public vocabulary for writing theorem modules::

    from proofcheck import Claim, Hypothesis, Identity, Instance, Margin, Mutant, MutantKind
    from proofcheck import PointKind, Source
"""

__version__ = "0.1.0"

from .claims import (Assumed, Claim, ClaimDefinitionError, Hypothesis, Identity, Instance, Margin,
                     Mutant, MutantKind, PointKind, Source)

__all__ = ["Assumed", "Claim", "ClaimDefinitionError", "Hypothesis", "Identity", "Instance",
           "Margin", "Mutant", "MutantKind", "PointKind", "Source", "__version__"]
