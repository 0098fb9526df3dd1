"""Deferred imports of heavy libraries (sympy, scipy.*), so that ``proofcheck --version``,
``proofcheck list`` and one small claim do not pay for libraries they never touch.

:func:`lazy_import` is the standard library's :class:`importlib.util.LazyLoader`: it returns
the module object at once and executes the module on the first attribute access. A module
already imported is returned as it is.

>>> m = lazy_import("json")
>>> m.dumps([1])
'[1]'
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from types import ModuleType

__all__ = ["lazy_import"]

_LOCK = threading.Lock()


def lazy_import(name: str) -> ModuleType:
    """The module ``name``, executed on first attribute access (``importlib.util.LazyLoader``).

    The parent package of a dotted name is imported now (for ``scipy.stats`` that is the light
    ``scipy`` package); the module itself only when it is first used. Raises
    ``ModuleNotFoundError`` at once if the module does not exist.
    """
    with _LOCK:
        module = sys.modules.get(name)
        if module is not None:
            return module
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        loader = importlib.util.LazyLoader(spec.loader)
        spec.loader = loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        loader.exec_module(module)
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, module)
        return module
