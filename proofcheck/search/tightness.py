"""Tightness of inequality claims: how close do instances come to breaking the bound?

For a claim ``lhs <= rhs`` (margin ``rhs - lhs``) the *normalised margin* is
``margin / max(|lhs|, |rhs|)``: 0 when the bound is attained, 1 when the left side is 0.
:func:`tightness` draws instances from the claim's own generator (its hypotheses hold), keeps
the one with the smallest normalised margin, then lowers it further by Nelder-Mead over the
instance's float data (admissible moves only: every hypothesis still holds; a bound that only
the generator enforces is unknown to the descent, so name it as a hypothesis), and reports

* ``attained``: the normalised margin is within the conclusion's own tolerance of 0 at a
  witness, or
* ``tight up to factor c``: the smallest normalised margin ``n`` found; for positive sides
  ``c = rhs / lhs = 1 / (1 - n)`` is the factor by which the bound exceeded the left side at
  best (c = 1 would be attained). This is what the search saw, not a proven constant.

Claims whose margin never exceeds its tolerance (equalities ``-|lhs - rhs|``, or a bound met
at every instance, e.g. an identity of the loss at every local minimum) are reported as
``equality``; instances where both sides vanish (``0 <= 0``) are left out (equality there is
trivial).

>>> from hypothesis import strategies as st
>>> from proofcheck import Claim, Hypothesis, Instance, Margin, Source
>>> unit = Hypothesis("unit", "|x| <= 1", lambda i: abs(i.x) <= 1)
>>> c = Claim(id="demo.lemma1", title="t", source=Source("demo", "1", "Lemma 1"),
...           statement="x^2 <= |x| on [-1, 1]", hypotheses=(unit,),
...           instances=lambda a: st.floats(-1, 1).map(lambda x: Instance(x=x)),
...           conclusion=lambda inst, p, B: Margin.at_most(inst.x * inst.x, abs(inst.x), B))
>>> tightness(c, instances=40, seed=0).verdict
'attained'
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Sequence

import numpy as np

from ..claims import Claim, Instance, PointKind

__all__ = ["Tightness", "tightness", "tightness_table"]


@dataclass
class Tightness:
    claim_id: str
    verdict: str                    # "attained", "tight up to factor c", "equality", ...
    normalised: float | None = None
    factor: float | None = None
    tolerance: float | None = None  # the conclusion's tolerance / scale at the witness
    lhs: float | None = None
    rhs: float | None = None
    sizes: dict[str, Any] = field(default_factory=dict)
    instances: int = 0
    seconds: float = 0.0
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("claim_id", "verdict", "normalised", "factor",
                                              "tolerance", "lhs", "rhs", "sizes", "instances",
                                              "seconds", "detail")}

    @property
    def text(self) -> str:
        if self.verdict == "attained":
            return (f"attained (normalised margin {self.normalised:.2g} within tolerance "
                    f"{self.tolerance:.2g})")
        if self.verdict == "tight up to factor c":
            if self.factor is None:
                return (f"not attained: smallest normalised margin {self.normalised:.3g} "
                        "(a side is 0 or negative, so no factor c)")
            return (f"tight up to factor c = {self.factor:.4g} (normalised margin "
                    f"{self.normalised:.3g})")
        return f"{self.verdict}: {self.detail}"


def _scalar(x) -> float | None:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        return None
    if arr.size != 1 or not np.isfinite(arr).all():
        return None
    return float(arr.reshape(()))


def _float_fields(inst: Instance) -> list[str]:
    """The continuous data of an instance: float arrays and float scalars."""
    return [k for k, v in inst.fields().items()
            if (isinstance(v, np.ndarray) and v.dtype.kind == "f" and v.size)
            or (isinstance(v, (float, np.floating)) and not isinstance(v, bool))]


class _Objective:
    """Normalised margin of one instance (+inf when inadmissible or broken)."""

    def __init__(self, claim: Claim, seed: int):
        from .explore import Evaluator
        self.claim = claim
        self.ev = Evaluator(claim, seed=seed)
        self.calls = 0
        self.trivial = 0
        self.signs: list[tuple[float, float]] = []     # (margin, tolerance)

    def __call__(self, inst: Instance):
        from .explore import admissible
        self.calls += 1
        if not admissible(self.claim, inst):
            return math.inf, None
        try:
            e = self.ev.evaluate(inst)
        except Exception:
            return math.inf, None
        if e is None:
            return math.inf, None
        lhs, rhs = _scalar(e.lhs), _scalar(e.rhs)
        if lhs is not None and rhs is not None and max(abs(lhs), abs(rhs)) <= e.tolerance:
            # both sides vanish (0 <= 0): equality there says nothing about the constant
            self.trivial += 1
            return math.inf, None
        # relative to the larger side: 0 when attained, 1 when one side is 0 (a bound that is
        # the constant 0 is then "tight" only where it is attained)
        scale = max(abs(lhs), abs(rhs)) if lhs is not None and rhs is not None else e.scale
        self.signs.append((e.margin, e.tolerance))
        return e.margin / scale, (e, lhs, rhs, scale)


def tightness(claim: Claim, *, instances: int = 60, seconds: float | None = None,
              seed: int = 0, optimise: int = 200, progress=None) -> Tightness:
    """The tightest instance found for the inequality ``claim`` (see the module doc).

    ``instances`` drawn from the generator, then up to ``optimise`` Nelder-Mead evaluations on
    the float data of the tightest one; ``seconds`` caps the whole search."""
    from scipy.optimize import minimize

    from ..evaluate import draw_instances as _draw_instances

    t0 = time.perf_counter()
    out = Tightness(claim.id, "no instance")
    if claim.conclusion is None:
        out.verdict, out.detail = "not applicable", "identities only (no margin)"
        return out
    obj = _Objective(claim, seed)
    n = instances if claim.point_kind is PointKind.ANY else max(2, instances // 20)
    try:
        drawn = _draw_instances(claim, n, seed, progress or (lambda *a: None))
    except Exception as exc:
        out.verdict, out.detail = "error", f"{type(exc).__name__}: {exc}"
        return out
    best: tuple[float, Any, Any] = (math.inf, None, None)      # (value, info, instance)
    for inst in drawn:
        if seconds is not None and time.perf_counter() - t0 > seconds:
            break
        v, info = obj(inst)
        if v < best[0]:
            best = (v, info, inst)
    if best[1] is None:
        if obj.trivial:
            out.verdict = "equality"
            out.detail = (f"both sides vanish at every one of {obj.trivial} instances (a "
                          "quantity claimed to be 0): tightness does not apply")
        else:
            out.detail = "no instance could be evaluated"
        out.instances, out.seconds = obj.calls, time.perf_counter() - t0
        return out
    if all(m <= t for m, t in obj.signs):
        # the margin never rose above its tolerance on the claim's own instances: -|lhs - rhs|
        out.verdict = "equality"
        out.detail = (f"attained at every one of {len(obj.signs)} instances (the margin never "
                      "exceeded its tolerance): an equality, or a bound met at every instance")
        out.instances, out.seconds = obj.calls, time.perf_counter() - t0
        return out
    # local descent on the float data of the tightest instance (any-point claims only: a
    # point claim's margin is piecewise in the data through its optimiser)
    fields = _float_fields(best[2])
    if claim.point_kind is PointKind.ANY and fields and optimise:
        base = best[2]
        shapes = [np.shape(base.fields()[k]) for k in fields]
        scalar = {k for k in fields if not isinstance(base.fields()[k], np.ndarray)}
        x0 = np.concatenate([np.ravel(base.fields()[k]) for k in fields])

        def unpack(x):
            parts, i = {}, 0
            for k, s in zip(fields, shapes):
                size = int(np.prod(s))
                v = np.asarray(x[i:i + size], dtype=float).reshape(s)
                parts[k] = float(v) if k in scalar else v
                i += size
            return base.replace(**parts)

        found: dict[str, Any] = {}

        def f(x):
            if seconds is not None and time.perf_counter() - t0 > seconds:
                return math.inf
            v, info = obj(unpack(x))
            if info is not None and v < found.get("v", math.inf):
                found.update(v=v, info=info, inst=unpack(x))
            return v

        minimize(f, x0, method="Nelder-Mead",
                 options={"maxfev": optimise, "xatol": 1e-12, "fatol": 1e-15})
        if found and found["v"] < best[0]:
            best = (found["v"], found["info"], found["inst"])
    v, (e, lhs, rhs, scale), inst = best
    out.normalised, out.lhs, out.rhs = float(v), lhs, rhs
    out.tolerance = float(e.tolerance / scale)
    out.sizes = {k: val for k, val in inst.fields().items()
                 if isinstance(val, (int, np.integer)) and not isinstance(val, bool)}
    out.instances = obj.calls
    out.seconds = time.perf_counter() - t0
    if obj.trivial:
        out.detail = (f"{obj.trivial} instance(s) where both sides vanish (0 <= 0) were "
                      "left out: equality there says nothing about the constant")
    if abs(e.margin) <= e.tolerance:
        out.verdict = "attained"
    elif v < 0:
        out.verdict = "violated"
        out.detail = (f"margin {e.margin:.3g} below its tolerance {e.tolerance:.2g}: the claim "
                      "fails here (see explore)")
    else:
        out.verdict = "tight up to factor c"
        if lhs is not None and rhs is not None and lhs > 0 and rhs > 0 and v < 1:
            out.factor = 1.0 / (1.0 - v)
        else:
            out.detail = ("sides not both positive: only the normalised margin is reported; "
                          + out.detail).rstrip("; ")
    return out


def tightness_table(claims: Sequence[Claim], **kw) -> list[Tightness]:
    """:func:`tightness` of every claim that has a conclusion."""
    return [tightness(c, **kw) for c in claims if c.conclusion is not None]
