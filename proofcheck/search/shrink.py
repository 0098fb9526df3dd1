"""Shrinking: a failing instance reduced to small dimensions, few samples and simple numbers.

:func:`shrink` makes greedy passes over any :class:`~proofcheck.claims.Instance`, keeping a
candidate only when ``fails(candidate)`` says it still fails (for the explorer: it satisfies
the hypotheses that were not dropped, violates the dropped ones, and its margin is below minus
its tolerance):

1. **Dimensions.** Blocks of indices are deleted first (halves, quarters, ..., as in delta
   debugging), then single indices.
   Which array axes (and integer fields) are one dimension is learned from
   example instances (``examples``, the claim's own draws): two axes belong together when they
   have the same length in every example, and an integer field joins the axes it always equals
   (``m`` with the rows of X, Y, Z; ``d_x`` with the columns of X). Deleting index ``i`` of a
   dimension deletes it along every member axis and decrements its integer fields, so the
   instance stays consistent: a dropped sample removes a row of X, Y and Z together.
2. **Numbers.** Each float array (then each entry) is replaced by zeros, then its signs
   (+-1), then the nearest integers, then the nearest simple rationals
   ``Fraction(x).limit_denominator(q)`` for
   q = 2, 3, 4, 10, 100 (stored as the float nearest to that rational).
3. **Free integers** (parameters that are not the length of any array axis, and not seeds)
   are tried at +-1, half and one less (never 0: a zero count can make a claim's loop run
   forever).

Passes repeat until nothing changes or the evaluation budget is spent.

>>> from proofcheck.claims import Instance
>>> inst = Instance(X=np.array([[0.3, 2.7], [1.1, -4.2], [5.0, 0.5]]), m=3)
>>> res = shrink(None, inst, fails=lambda i: np.max(np.abs(i.X)) >= 4 or None,
...              examples=[inst])
>>> res.instance.X.tolist()
[[-4.0]]
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np

from ..claims import Instance

__all__ = ["ShrinkResult", "Dimension", "dimensions", "shrink", "sizes_of"]

DENOMINATORS = (2, 3, 4, 10, 100)


@dataclass
class ShrinkResult:
    instance: Instance
    evaluation: Any              # what ``fails`` returned for the final instance (None: unshrunk)
    evaluations: int = 0
    steps: list[str] = field(default_factory=list)
    seconds: float = 0.0
    timed_out: bool = False         # stopped by ``seconds`` (not by the evaluation cap)


@dataclass(frozen=True)
class Dimension:
    """One dimension of an instance: the array axes it spans and the integer fields naming it."""

    axes: tuple[tuple[str, int], ...]
    ints: tuple[str, ...] = ()

    def size(self, inst: Instance) -> int:
        name, axis = self.axes[0]
        return int(np.shape(inst.fields()[name])[axis])

    def label(self) -> str:
        return self.ints[0] if self.ints else "/".join(f"{n}[{a}]" for n, a in self.axes)

    def delete(self, inst: Instance, i) -> Instance:
        """Delete index ``i`` (or a list of indices) along every axis of this dimension."""
        fields = inst.fields()
        idx = sorted(set(np.atleast_1d(i).tolist()))
        changes: dict[str, Any] = {}
        for name, axis in self.axes:
            arr = changes.get(name, fields[name])
            changes[name] = np.delete(arr, idx, axis=axis)
        for name in self.ints:
            changes[name] = type(fields[name])(fields[name] - len(idx))
        return inst.replace(**changes)


def _array_fields(inst: Instance) -> dict[str, np.ndarray]:
    return {k: v for k, v in inst.fields().items()
            if isinstance(v, np.ndarray) and v.dtype != object and v.ndim >= 1}


def _int_fields(inst: Instance) -> dict[str, Any]:     # int or numpy integer values
    return {k: v for k, v in inst.fields().items()
            if isinstance(v, (int, np.integer)) and not isinstance(v, bool)}


def dimensions(inst: Instance, examples: Sequence[Instance] = ()) -> list[Dimension]:
    """The dimensions of ``inst``, learned from ``examples`` of the same claim (see the module
    doc). With no examples, axes of equal length are taken to be one dimension."""
    arrays = _array_fields(inst)
    ints = _int_fields(inst)
    slots = [(n, a) for n, v in arrays.items() for a in range(v.ndim)]
    same = [e for e in examples
            if set(_array_fields(e)) == set(arrays)
            and all(np.ndim(e.fields()[n]) == v.ndim for n, v in arrays.items())]
    same = [inst] + list(same)

    def signature(slot) -> tuple:
        n, a = slot
        return tuple(int(np.shape(e.fields()[n])[a]) for e in same)

    groups: dict[tuple, list[tuple[str, int]]] = {}
    for s in slots:
        groups.setdefault(signature(s), []).append(s)
    out = []
    for sig, axes in groups.items():
        names = tuple(k for k, v in ints.items()
                      if all(e.fields().get(k) == size for e, size in zip(same, sig)))
        out.append(Dimension(tuple(axes), names))
    # largest first: dropping samples (usually the longest axis) shrinks the most
    out.sort(key=lambda d: (-d.size(inst), d.label()))
    return out


def sizes_of(inst: Instance | None) -> dict[str, Any]:
    """Integer fields and array shapes: what a report shows as the size of an instance."""
    if inst is None:
        return {}
    out: dict[str, Any] = {}
    for k, v in inst.fields().items():
        if isinstance(v, (int, np.integer)) and not isinstance(v, bool) and k != "seed":
            out[k] = int(v)
        elif isinstance(v, np.ndarray) and v.dtype != object:
            out[k] = "x".join(map(str, v.shape)) if v.ndim else "scalar"
    return out


class _Budget:
    def __init__(self, max_evaluations, seconds):
        self.max = max_evaluations
        self.deadline = None if seconds is None else time.perf_counter() + seconds
        self.used = 0

    def left(self) -> bool:
        if self.used >= self.max:
            return False
        return self.deadline is None or time.perf_counter() < self.deadline


def shrink(claim, instance: Instance, *, fails: Callable[[Instance], Any],
           examples: Sequence[Instance] = (), max_evaluations: int = 400,
           seconds: float | None = None) -> ShrinkResult:
    """Greedily shrink ``instance`` while ``fails(candidate)`` returns something truthy (the
    evaluation is kept and returned with the final instance).

    ``claim`` is only used for messages (it may be None); ``examples`` teach the dimensions
    (:func:`dimensions`); ``max_evaluations`` / ``seconds`` bound the work."""
    t0 = time.perf_counter()
    budget = _Budget(max_evaluations, seconds)
    result = ShrinkResult(instance, None)
    first = fails(instance)
    budget.used += 1
    if not first:
        result.steps.append("the instance does not fail: nothing to shrink")
        result.evaluations = budget.used
        return result
    result.evaluation = first

    def attempt(candidate: Instance, step: str) -> bool:
        if not budget.left():
            return False
        budget.used += 1
        try:
            ev = fails(candidate)
        except Exception:       # a candidate the claim cannot evaluate is simply not kept
            ev = None
        if ev:
            result.instance, result.evaluation = candidate, ev
            result.steps.append(step)
            return True
        return False

    changed = True
    while changed and budget.left():
        changed = _dimension_pass(result, examples, attempt, budget)
        changed = _number_pass(result, attempt, budget) or changed
        changed = _integer_pass(result, examples, attempt, budget) or changed
    result.evaluations = budget.used
    result.seconds = time.perf_counter() - t0
    result.timed_out = budget.deadline is not None and time.perf_counter() >= budget.deadline
    return result


def _chunks(n: int):
    """Index blocks to delete from a dimension of length n, largest first (as in delta
    debugging): halves, quarters, ..., then single indices from the last one."""
    size = n // 2
    while size >= 2:
        for start in range(0, n - size + 1, size):
            yield list(range(start, start + size))
        size //= 2
    for i in reversed(range(n)):        # generated data often put the structure first
        yield [i]


def _dimension_pass(result, examples, attempt, budget) -> bool:
    changed = False
    progress = True
    while progress and budget.left():
        progress = False
        for dim in dimensions(result.instance, examples):
            n = dim.size(result.instance)
            if n <= 1:
                continue
            for block in _chunks(n):
                if len(block) >= n:
                    continue
                try:
                    candidate = dim.delete(result.instance, block)
                except Exception:
                    continue
                what = (f"index {block[0]}" if len(block) == 1
                        else f"indices {block[0]}..{block[-1]}")
                if attempt(candidate, f"deleted {what} of {dim.label()} "
                                      f"({n} -> {n - len(block)})"):
                    progress = changed = True
                    break
            if progress:
                break       # dimensions are re-learned on the smaller instance
    return changed


def _integer_pass(result, examples, attempt, budget) -> bool:
    """Smaller free integers (parameters such as a horizon T or a denominator, not sizes):
    0, 1, half, minus one. Integer fields tied to array lengths are sizes, changed only with
    their arrays by the dimension pass."""
    changed = False
    inst = result.instance
    tied = {n for d in dimensions(inst, examples) for n in d.ints}
    lengths = {int(n) for v in _array_fields(inst).values() for n in np.shape(v)}
    for name, v in _int_fields(inst).items():
        # seeds are names of data, not numbers to simplify
        if name in tied or v in lengths or abs(v) <= 1 or "seed" in name.lower():
            continue
        while budget.left():
            v = result.instance.fields()[name]
            if abs(v) <= 1:
                break
            sign = 1 if v > 0 else -1
            # never 0: a zero count (chunk size, horizon) can make a claim's loop run forever,
            # and no candidate can be interrupted
            for c in (sign, sign * (abs(v) // 2), v - sign):
                if attempt(result.instance.replace(**{name: type(v)(c)}), f"{name}: {v} -> {c}"):
                    changed = True
                    break
            else:
                break
    return changed


def _simplifications(x: np.ndarray):
    """Candidate simpler values for an array, simplest first."""
    yield "zeros", np.zeros_like(x)
    yield "signs", np.sign(x) + 0.0
    yield "integers", np.round(x) + 0.0      # + 0.0: no negative zeros
    for q in DENOMINATORS:
        yield f"rationals /{q}", _rationals(x, q)


def _rationals(x: np.ndarray, q: int) -> np.ndarray:
    return np.vectorize(lambda v: float(Fraction(float(v)).limit_denominator(q)),
                        otypes=[float])(x) if x.size else x


def _complexity(v: float) -> tuple:
    """How simple a number is: (denominator, |numerator|) of the rational it equals (with
    denominator <= 100), else infinitely complex. 0 < 1 < 2 < 1/2 < 3/2 < 1/3 < ..."""
    fr = Fraction(float(v)).limit_denominator(100)
    if float(fr) != v:
        return (math.inf, math.inf)
    return (fr.denominator, abs(fr.numerator))


def _array_complexity(a: np.ndarray) -> tuple:
    cs = [_complexity(v) for v in np.ravel(a)]
    return (max(c[0] for c in cs), sum(c[1] for c in cs)) if cs else (1, 0)


def _number_pass(result, attempt, budget) -> bool:
    changed = False
    names = [k for k, v in result.instance.fields().items()
             if (isinstance(v, np.ndarray) and v.dtype.kind == "f" and v.size)
             or (isinstance(v, float) and math.isfinite(v))]
    for name in names:
        value = result.instance.fields()[name]
        arr = np.asarray(value, dtype=float)
        if not np.any(arr):
            continue
        # the whole field at once (cheap when it works); only strictly simpler candidates
        for label, simpler in _simplifications(arr):
            if _array_complexity(simpler) >= _array_complexity(arr):
                continue
            new = float(simpler) if isinstance(value, float) else simpler
            if attempt(result.instance.replace(**{name: new}), f"{name}: {label}"):
                changed = True
                break
        arr = np.asarray(result.instance.fields()[name], dtype=float)
        if isinstance(value, float):
            continue
        # entry by entry
        for idx in np.ndindex(arr.shape):
            if not budget.left():
                return changed
            v = float(result.instance.fields()[name][idx])
            if v == 0:
                continue
            for label, simpler in _simplifications(np.array(v)):
                s = float(simpler)
                if _complexity(s) >= _complexity(v):
                    continue
                cur = np.array(result.instance.fields()[name], dtype=float, copy=True)
                cur[idx] = s
                if attempt(result.instance.replace(**{name: cur}),
                           f"{name}{list(idx)}: {label}"):
                    changed = True
                    break
    return changed
