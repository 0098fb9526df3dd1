"""In-process ``pytester`` runs restore ``sys.modules`` afterwards: a module first imported
inside such a run is dropped from it, and the next test that needs it imports a second,
broken copy (numpy and scipy's extensions cannot be loaded twice in a process; sympy's
submodules come back half initialised, "cannot import name 'factorial' from partially
initialized module"). Whatever ran after the plugin's tests in the same pytest-xdist worker
then failed, depending on the order of the files.

:func:`import_everything_first` imports, before the first in-process run, what a check can
import: what a worker of :mod:`proofcheck.runner` preloads (the libraries, every engine module
and the whole catalogue), the plugin and the reports, and it executes the modules that
:mod:`proofcheck.lazy` deferred (``sympy``, ``scipy.special`` ...), which otherwise run on
first use, inside the run.
"""

from __future__ import annotations

import importlib.util
import sys


def import_everything_first() -> None:
    from proofcheck.catalog import load_claims
    from proofcheck.runner import _preload

    _preload(sorted(set(load_claims().origins.values())))
    import proofcheck.pytest_plugin  # noqa: F401
    import proofcheck.report  # noqa: F401

    deferred = [m for m in sys.modules.values() if isinstance(m, importlib.util._LazyModule)]
    for module in deferred:
        dir(module)                 # touching the module executes it
