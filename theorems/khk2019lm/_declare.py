"""Declaration helpers for the KHK2019LM claims that share a setting: the quantities of a
network instance at a point (L, f_X, d f_X, the loss gradients), the value of the best linear
predictor, and the mutants several claims share. With them each theorem module states its
conclusion, hypotheses and mutants only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from proofcheck import Claim, Margin, Mutant, MutantKind, PointKind, Source
from proofcheck.induced import (AtPoint, at_certified, at_point, float_point_tolerance,
                                linear_predictor_value, point_theta)
from proofcheck.problems import case_of, cases, resnet_landscape

from . import claim
from .instances import critical_landscape, minimum_landscape, network

#: The note of a point claim whose conclusion does not compute through the backend ``B``.
AT_CERTIFIED_POINT = (
    "Precision: L, f_X and d f_X are evaluated at the certified point's own mpmath digits and "
    "rounded once; the infima come from float64 solvers with certified brackets. The "
    "conclusion does not compute through the backend, so a re-evaluation at higher precision "
    "would repeat the same numbers and none is claimed (high_precision=False).")


def bracket_tol(q, fit):
    """The comparison tolerance; for a non-convex loss (no lower bound on the infimum) only the
    upper bound is known and only L > upper bound is conclusive."""
    width = fit.width if np.isfinite(fit.width) else 0.0
    return width + q.rounding + q.resolution


def equality(L, fit, tol):
    """Margin of L == inf: -|L - inf|; one-sided (L <= achieved value) without a lower bound."""
    if not np.isfinite(fit.lower_bound):
        return Margin(min(0.0, fit.upper_bound - L), tol, L, fit.value,
                      SOURCE_TEXT + "; non-convex loss: only an upper bound on the infimum, "
                                    "so only L above it is conclusive")
    return Margin(-abs(L - fit.value), tol, L, fit.value, SOURCE_TEXT)


SOURCE_TEXT = ("L at the certificate's precision; the solver's certified bracket on the infimum; "
               "float64 rounding of the induced problem (16 (m d_y + n) u scale)")


def certified(inst, point) -> AtPoint:
    """The network's quantities at a certified point, at the certificate's precision."""
    return at_certified(network(inst), inst.X, inst.Y, inst.loss, inst.weights, point)


def evaluated(inst, theta) -> AtPoint:
    """The network's quantities at the float64 parameters ``theta``."""
    return at_point(network(inst), inst.X, inst.Y, inst.loss, inst.weights, theta)


def best_linear(inst, features=None) -> Any:
    """inf_A sum_i lambda_i l(A phi_i, y_i) over linear predictors on ``features`` (default x),
    with the solver's certified bracket."""
    X = inst.X if features is None else features
    return linear_predictor_value(X, inst.Y, inst.loss, inst.weights)


def is_global(inst, point, B=None):
    """L at the point (float64 rounding of the certified theta) equals the best linear
    predictor's value: the point is a global minimum (when the product of layers can reach
    every linear map)."""
    q = evaluated(inst, point_theta(point))
    lin = best_linear(inst)
    return equality(q.L, lin, bracket_tol(q, lin) + float_point_tolerance(q, point,
                                                                          network(inst)))


def at_saddles(description: str, apply=None) -> Mutant:
    """The mutant asserting a local-minimum claim at every critical point (saddles
    included); ``apply`` adjusts the claim further (default: the critical-point landscape)."""
    return Mutant("at_saddles", MutantKind.DROPPED_HYPOTHESIS, description,
                  apply or (lambda c: c.replace(point_kind=PointKind.CRITICAL,
                                                landscape=critical_landscape)))


_LANDSCAPES = {PointKind.CRITICAL: critical_landscape, PointKind.LOCAL_MIN: minimum_landscape}


def _with_note(notes: str, precision: str) -> str:
    return (notes + " " if notes else "") + precision


def at_network_points(id: str, source: Source, point_kind: PointKind, /, *, notes: str = "",
                      precision: str = AT_CERTIFIED_POINT, **statement: Any) -> Claim:
    """A claim checked at the certified points of kind ``point_kind`` of a network panel: the
    critical points (saddles and degenerate points included) or the local minima, from the
    matching landscape unless ``landscape`` is given. ``statement`` carries the claim's
    title, statement, hypotheses, conclusion, instances and mutants as printed; the
    conclusion compares values at the point, hence ``precision`` (a note) and no
    higher-precision re-evaluation."""
    statement.setdefault("landscape", _LANDSCAPES[point_kind])
    return claim(id, source, point_kind=point_kind, notes=_with_note(notes, precision),
                 high_precision=False, **statement)


def at_resnet_minima(id: str, source: Source, /, *, losses: tuple[str, ...], notes: str = "",
                     precision: str = AT_CERTIFIED_POINT, **statement: Any) -> Claim:
    """A claim checked at certified local minima of the ResNet (z given as data), one case per
    loss in ``losses`` and rank branch of the proof."""
    return claim(id, source, point_kind=PointKind.LOCAL_MIN, landscape=resnet_landscape,
                 branches=cases(losses), case_of=case_of, notes=_with_note(notes, precision),
                 high_precision=False, **statement)
