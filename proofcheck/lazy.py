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

import functools
import importlib
import importlib.util
import sys
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

__all__ = ["Deferred", "deferred", "lazy_function", "lazy_import", "least_squares", "minimize",
           "resolve"]

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


def lazy_function(module: str, name: str) -> Callable[..., Any]:
    """A stand-in for ``from module import name`` (a function): ``module`` is imported on the
    first call, so a module-level binding costs nothing until it is used.

    >>> dumps = lazy_function("json", "dumps")
    >>> dumps({"a": 1}), dumps.__name__
    ('{"a": 1}', 'dumps')
    """
    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"``{module}.{name}``, imported on first call."
    return call


#: ``scipy.optimize`` functions for modules that bind them at import (``from ..lazy import
#: minimize``): scipy.optimize costs about 0.35 s of CPU to import.
least_squares = lazy_function("scipy.optimize", "least_squares")
minimize = lazy_function("scipy.optimize", "minimize")


class Deferred:
    """A value built on first use: ``Deferred(build, *args, **kwargs)()`` calls ``build`` once
    and returns that same value afterwards. A claim's decidable forms are declared this way
    (through :func:`deferred`), so that listing a module does not build sympy objects, nor
    import sympy, for a decision procedure that may never run.

    >>> d = Deferred(lambda n: [n] * 2, 3)
    >>> d(), d() is d()
    ([3, 3], True)
    """

    def __init__(self, build: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self._build, self._args, self._kwargs = build, args, kwargs
        self._done = False
        self._value: Any = None

    def __call__(self) -> Any:
        with _LOCK:
            if not self._done:
                self._value = self._build(*self._args, **self._kwargs)
                self._done = True
        return self._value

    def __repr__(self) -> str:
        return f"Deferred({getattr(self._build, '__qualname__', self._build)})"


def deferred(build: Callable[..., Any]) -> Callable[..., Deferred]:
    """Decorator: calling ``build(...)`` returns a :class:`Deferred` of that call.

    >>> @deferred
    ... def squares(n):
    ...     return [k * k for k in range(n)]
    >>> later = squares(4)
    >>> resolve(later)
    [0, 1, 4, 9]
    """
    @functools.wraps(build)
    def wrapper(*args: Any, **kwargs: Any) -> Deferred:
        return Deferred(build, *args, **kwargs)
    return wrapper


def resolve(value: Any) -> Any:
    """``value()`` for a :class:`Deferred`, ``value`` itself otherwise."""
    return value() if isinstance(value, Deferred) else value
