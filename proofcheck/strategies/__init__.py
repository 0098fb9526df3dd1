"""Public Hypothesis strategies, one module per model family (all re-exported here).

* :mod:`proofcheck.strategies.core`: named dimension relations, matrices of a given shape /
  rank / condition number, data sets ``(X, Y, Z)``, parameters and problems of the vector
  ResNet ``h = W (x + V z)``, seeded numpy generators;
* :mod:`proofcheck.strategies.piecewise`: piecewise-linear networks, their activation patterns
  and kink strata (a sample on a unit's hyperplane, dead units, zero outgoing weights);
* :mod:`proofcheck.strategies.induced`: models with an induced gradient-basis model;
* :mod:`proofcheck.strategies.scalar_resnet`: scalar-output residual networks
  ``w^T (x + V f(x))``.

``docs/strategies.md`` shows each with an example. Everything importable from
``proofcheck.strategies`` before the split still is.
"""

from . import core, induced, piecewise, scalar_resnet
from .core import *  # noqa: F401,F403
from .core import __all__ as _core_all
from .induced import *  # noqa: F401,F403
from .piecewise import *  # noqa: F401,F403
from .scalar_resnet import *  # noqa: F401,F403

__all__ = list(_core_all) + induced.__all__ + piecewise.__all__ + scalar_resnet.__all__ + [
    "core", "induced", "piecewise", "scalar_resnet"]
