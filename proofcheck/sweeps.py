"""Sweeps: run the cells of a grid (a heat map, a table) through an executor.

A :class:`Cell` is a key (its coordinates, e.g. ``(7, 50)`` for depth 7, width 50), a dict of
parameters and a seed derived from the sweep's base seed *and the key* (not its position), so a
cell computes the same thing whichever executor runs it, in whatever order, and adding cells to
a grid does not change the others.

Executors (:func:`run_cells`):

* local processes (default): :class:`concurrent.futures.ProcessPoolExecutor`, one BLAS thread per
  worker (workers already use the cores; threaded BLAS busy-waiting on a loaded machine costs
  more than it gains);
* ``workers=0``: in this process, one cell after another, also with one BLAS thread
  (debugging, tiny sweeps);
* ``scheduler="ADDRESS"``: a :mod:`dask.distributed` scheduler (``tcp://host:8786``, or the
  address of a ``LocalCluster``); dask is an optional extra (``pip install 'proofcheck[dask]'``).

The cell function must be importable by the workers (a module-level function) and its results
picklable.  Results come back in the order of ``cells``.  Long runs show a progress bar
(rich, on stderr) when stderr is a terminal, or when ``progress=True``.

>>> cells = make_cells({"depth": [1, 2], "width": [3]}, base_seed=0)
>>> [c.key for c in cells]
[(1, 3), (2, 3)]
>>> run_cells(_example_cell, cells, workers=0)
[4, 5]
>>> cells[0].seed == make_cells({"depth": [1], "width": [3]}, base_seed=0)[0].seed
True
"""

from __future__ import annotations

import itertools
import numbers
import os
import sys
import zlib
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable, Mapping, Sequence

import numpy as np

__all__ = ["Cell", "SweepError", "cell_seed", "make_cells", "run_cells"]


class SweepError(RuntimeError):
    """A sweep could not run (missing optional dependency, a failing cell, bad arguments)."""


@dataclass(frozen=True)
class Cell:
    """One cell of a sweep: ``key`` (its coordinates), ``params`` (everything the cell function
    needs besides the seed) and ``seed`` (see :func:`cell_seed`)."""

    key: tuple
    params: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0

    def rng(self) -> np.random.Generator:
        """A generator seeded with the cell's seed."""
        return np.random.default_rng(self.seed)


def _entropy(part) -> int:
    if isinstance(part, numbers.Integral) and not isinstance(part, bool) and int(part) >= 0:
        return int(part)
    return zlib.crc32(repr(part).encode())     # stable across processes, unlike hash()


def cell_seed(base_seed: int, key: Sequence) -> int:
    """A 63-bit seed from ``base_seed`` and the cell's ``key`` (numpy ``SeedSequence``).

    >>> cell_seed(0, (7, 50)) == cell_seed(0, (7, 50)) != cell_seed(1, (7, 50))
    True
    """
    if not (isinstance(base_seed, numbers.Integral) and base_seed >= 0):
        raise ValueError(f"base_seed must be an integer >= 0, got {base_seed!r}")
    ss = np.random.SeedSequence([int(base_seed)] + [_entropy(k) for k in key])
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


def make_cells(grid: Mapping[str, Sequence], base_seed: int = 0, **fixed) -> list[Cell]:
    """The cells of the product of ``grid`` (in its order), each with ``params`` = its grid
    values plus ``fixed`` and a seed from :func:`cell_seed`."""
    if not grid:
        raise ValueError("grid needs at least one axis")
    names = list(grid)
    for n in names:
        if isinstance(grid[n], (str, bytes)) or len(grid[n]) == 0:
            raise ValueError(f"grid axis {n!r} must be a non-empty sequence of values")
    cells = []
    for values in itertools.product(*(grid[n] for n in names)):
        key = tuple(values)
        cells.append(Cell(key, {**fixed, **dict(zip(names, values))}, cell_seed(base_seed, key)))
    return cells


def _example_cell(cell: Cell):
    """Doctest helper: depth + width."""
    return cell.params["depth"] + cell.params["width"]


def _limit_blas_threads():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:           # the variables still reach BLAS libraries loaded later
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, "1")
        return
    threadpool_limits(1)


def _one_blas_thread():
    """One BLAS thread in this process for the duration (like the process workers)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return nullcontext()
    return threadpool_limits(1)


def _progress(show, total, description):
    if show is None:
        show = total > 1 and sys.stderr.isatty()
    if not show:
        return nullcontext(None)
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TimeRemainingColumn(),
                    console=Console(stderr=True), transient=False)


def run_cells(fn: Callable[[Cell], Any], cells: Sequence[Cell], *, scheduler: str | None = None,
              workers: int | None = None, progress: bool | None = None,
              description: str = "cells",
              on_result: Callable[[Cell, Any], None] | None = None) -> list:
    """``[fn(cell) for cell in cells]`` on an executor (see the module docstring).

    ``workers``: local process count (default ``os.cpu_count()``; ``0`` runs in this process);
    ignored with ``scheduler``.  ``on_result(cell, result)`` is called in this process as each
    cell finishes (in completion order: save partial results of long runs).  A failing cell
    raises :class:`SweepError` naming its key.
    """
    cells = list(cells)
    if not all(isinstance(c, Cell) for c in cells):
        raise TypeError("cells must be Cell objects (see make_cells)")
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {fn!r}")
    if scheduler is not None and not isinstance(scheduler, str):
        raise TypeError(f"scheduler must be an address string, got {scheduler!r}")
    if workers is not None and not (isinstance(workers, numbers.Integral) and workers >= 0):
        raise ValueError(f"workers must be an integer >= 0, got {workers!r}")
    if not cells:
        return []
    results: list = [None] * len(cells)
    with _progress(progress, len(cells), description) as bar:
        task = bar.add_task(description, total=len(cells)) if bar is not None else None

        def done(i, value):
            results[i] = value
            if on_result is not None:
                on_result(cells[i], value)
            if bar is not None:
                bar.advance(task)

        if scheduler is not None:
            _run_dask(fn, cells, scheduler, done)
        elif workers == 0:
            with _one_blas_thread():
                for i, c in enumerate(cells):
                    done(i, _call(fn, c))
        else:
            n = min(workers or os.cpu_count() or 1, len(cells))
            from concurrent.futures import ProcessPoolExecutor, as_completed  # startup
            with ProcessPoolExecutor(max_workers=n, initializer=_limit_blas_threads) as ex:
                futs = {ex.submit(fn, c): i for i, c in enumerate(cells)}
                for fut in as_completed(futs):
                    i = futs[fut]
                    try:
                        done(i, fut.result())
                    except Exception as exc:
                        for f in futs:
                            f.cancel()
                        raise SweepError(f"cell {cells[i].key} failed: {exc!r}") from exc
    return results


def _call(fn, cell):
    try:
        return fn(cell)
    except Exception as exc:
        raise SweepError(f"cell {cell.key} failed: {exc!r}") from exc


def _run_dask(fn, cells, address, done):
    try:
        from dask.distributed import Client, as_completed as dask_completed
    except ImportError as exc:
        raise SweepError("scheduler=ADDRESS needs dask.distributed: "
                         "pip install 'proofcheck[dask]'") from exc
    try:
        client = Client(address, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise SweepError(f"cannot reach the dask scheduler at {address!r}: {exc}") from exc
    try:
        futs = client.map(fn, cells, pure=False)
        index = {f.key: i for i, f in enumerate(futs)}
        for fut in dask_completed(futs, loop=client.loop):
            i = index[fut.key]
            try:
                done(i, fut.result())
            except Exception as exc:
                client.cancel(futs)
                raise SweepError(f"cell {cells[i].key} failed: {exc!r}") from exc
    finally:
        client.close()
