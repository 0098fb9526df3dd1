"""The judge's rung at points of piecewise-linear networks certified exactly on a stratum.

:func:`proofcheck.optimize.strata.certify_stratum` decides exactly, at a rational point where
pre-activations are 0, whether ``L`` is differentiable there and whether the point is a local
minimum (:mod:`proofcheck.optimize.piecewise` returns such points with ``level="exact"``,
``branch="stratum"``).  At such a point the network's outputs, ``L`` and every quantity built
from the data, the weights and a *fixed* activation pattern (the certificate's pattern, with the
convention slope 0 at a zero pre-activation) are rational functions of rational data, so the
conclusion's margin can be evaluated exactly.

:class:`StratumPointRung` hands the conclusion the point with exact weights and pattern
(:func:`proofcheck.optimize.strata.exact_point`); quantity functions that know that point
(:func:`proofcheck.optimize.piecewise.value_at_point`) then compute in exact rationals
(python-flint ``fmpq``).  The margin must come back as exact rationals (a conclusion that
rounds to floats is not certified: the rung does not apply).  An exact margin below 0 is a
certified failure; one at or above 0 says the lower rungs' failure was a rounding artefact.

The point itself must be what the claim quantifies over, decided exactly: a local minimum for
local-minimum claims, a local minimum or saddle for critical-point claims.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..claims import Claim, Instance, PointKind
from ..errors import NotApplicable
from ..judge import RungOutcome, _check_admissible

__all__ = ["StratumPointRung", "judge_rungs", "exact_margin_at_stratum"]

_WANTED = {PointKind.LOCAL_MIN: ("local_min",), PointKind.CRITICAL: ("local_min", "saddle")}


def exact_margin_at_stratum(claim: Claim, inst: Instance, point: Any):
    """``(worst exact margin, its tolerance, Margin)`` of the claim's conclusion at an exact
    stratum point.  Raises :class:`~proofcheck.errors.NotApplicable` when the point carries no
    exact certificate or the conclusion does not compute exactly there."""
    from ..exact_backends import ExactBackend, NotCertifiable, NotExact, Rational, \
        is_exact_value
    from ..optimize.strata import exact_point
    xp = exact_point(point)
    if xp is None:
        raise NotApplicable("the point has no exact stratum certificate with exact weights")
    assert claim.conclusion is not None     # a point witness comes from a conclusion
    try:
        m = claim.conclusion(inst, xp, ExactBackend())
    except (NotExact, NotCertifiable) as exc:
        raise NotApplicable(f"the conclusion does not compute exactly here ({exc})") from exc
    except ZeroDivisionError as exc:
        raise NotApplicable(f"division by zero ({exc})") from exc
    except Exception as exc:        # the conclusion does not run on exact data
        raise NotApplicable(f"{type(exc).__name__}: {exc}") from exc
    if not is_exact_value(m.value):
        kind = type(np.asarray(m.value, dtype=object).flat[0]).__name__
        raise NotApplicable(f"the conclusion's margin at the exact point is a {kind}, not an "
                            "exact rational (it computes through floats)")
    vals = [v if isinstance(v, Rational) else Rational(v)
            for v in np.asarray(m.value, dtype=object).flat]
    tols = [t.as_float() if isinstance(t, Rational) else float(t)
            for t in np.ravel(np.asarray(m.tol, dtype=object))]
    return min(vals), max(tols + [0.0]), m


class StratumPointRung:
    """Exact evaluation of the conclusion at a point certified exactly on a stratum of a
    piecewise-linear network (module doc)."""

    name, grade = "exact stratum point", "certified"

    def run(self, claim: Claim, inst: Instance, point: Any) -> RungOutcome:
        from ..exact_eval import fmt_exact
        if point is None or claim.point_kind is PointKind.ANY:
            raise NotApplicable("not a point witness")
        c = getattr(point, "stratum", None)
        if c is None or getattr(c, "level", None) != "exact":
            raise NotApplicable("the point is not certified exactly on a stratum")
        wanted = _WANTED.get(claim.point_kind, ())
        if point.kind not in wanted or c.kind not in wanted:
            raise NotApplicable(f"the exact certificate says {c.kind!r}; the claim needs "
                                f"{' or '.join(wanted)}")
        _check_admissible(claim, inst)
        v, tol, _ = exact_margin_at_stratum(claim, inst, point)
        t = float(tol) if tol else 0.0
        s = fmt_exact(v)
        where = f"at the exact stratum point ({c.describe()})"
        if v < -abs(t):
            return RungOutcome(True, v.as_float(), t, f"certified exact: the margin is exactly "
                               f"{s} < 0 {where} (exact rational arithmetic, python-flint "
                               "fmpq)", (s, s), "exact")
        if v >= 0:
            return RungOutcome(False, v.as_float(), t, f"exact margin {s} >= 0 {where}: the "
                               "lower rungs' failure is a rounding artefact", (s, s), "exact")
        return RungOutcome(None, v.as_float(), t, f"exact margin {s} < 0 but within the "
                           f"conclusion's tolerance {t:.3g} {where}", (s, s), "exact")


def judge_rungs(*, digits: int = 50, prec: int = 256) -> list[StratumPointRung]:
    """This module's rungs for :func:`proofcheck.judge.default_rungs`."""
    return [StratumPointRung()]
