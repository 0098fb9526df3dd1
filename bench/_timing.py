"""Timing helpers shared by the bench scripts (``bench/bench_*.py`` run as scripts, so this
folder is on ``sys.path`` and they import it as ``_timing``).

Import it before numpy: :func:`single_threaded_blas` only takes effect before the BLAS
library is loaded.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any


def single_threaded_blas() -> None:
    """One BLAS thread unless the environment says otherwise: both routes of a ratio alike,
    and no OpenBLAS busy-waiting on a loaded 2-core machine (tall-skinny QR up to 30x slower
    in our runs)."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Smallest wall time of ``repeat`` runs (the least disturbed by other load) and the
    result of the last run.

    >>> t, out = best_of(lambda: 6 * 7, 3)
    >>> out, t >= 0
    (42, True)
    """
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out
