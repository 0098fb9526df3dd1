"""Declaration helpers for the KB2019 claims that share a setting.

Several claims compare the loss L at a certified local minimum with the global minimum values
of linear predictors, L*_{x} and L*_{x,z}; several identities are stated over the ResNet's
symbols. These helpers build their margins, mutants and identity sides so that each theorem
module states only the inequality or the two sides, as printed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from proofcheck import Claim, Margin, Mutant, MutantKind, PointKind, Source
from proofcheck.problems import CONVEX_DIFFERENTIABLE, case_of, instances_for, values_at_point
from proofcheck.problems import cases as resnet_cases
from proofcheck.symbolic_models import resnet_symbols

from . import claim

#: The note of a point claim whose conclusion does not compute through the backend ``B``.
AT_CERTIFIED_POINT = (
    "Precision: L is evaluated at the certified point's own mpmath digits and L* by the "
    "convex solver (float64, certified bracket); the conclusion does not compute through the "
    "backend, so a re-evaluation at higher precision would repeat the same numbers and none "
    "is claimed (high_precision=False).")

#: The note of a point claim evaluated only at the point's own certified digits.
AT_POINT_DIGITS = (
    "Precision: the quantities are evaluated at the certified point's own mpmath digits; the "
    "conclusion does not compute through the backend, so a re-evaluation at higher precision "
    "would repeat the same numbers and none is claimed (high_precision=False).")


class LinearValues(NamedTuple):
    """L at a certified point and the linear-predictor values it is compared with."""

    L: Any
    L_x: Any = None
    L_xz: Any = None


def versus_linear(relation: str, sides: Callable[[LinearValues], tuple[Any, Any]],
                  *bases: str) -> Callable[..., Margin]:
    """The conclusion ``lhs <relation> rhs`` with ``(lhs, rhs) = sides(v)``, where ``v`` holds L
    at the point and L*_{b} for each basis ``b`` in ``bases`` ("x", "x,z"; default both).

    ``relation`` names a :class:`Margin` comparison ("at_most", "at_least", "strictly_less");
    the tolerance is the certificate's resolution plus the solver brackets."""
    bases = bases or ("x", "x,z")
    compare = getattr(Margin, relation)

    def margin(inst, point, B):
        L, *fits, tol, source = values_at_point(inst, point, *bases)
        by_basis = dict(zip(bases, fits))
        v = LinearValues(L, by_basis.get("x"), by_basis.get("x,z"))
        lhs, rhs = sides(v)
        return compare(lhs, rhs, tol=tol, tol_source=source)
    return margin


def every_critical_point() -> Mutant:
    """The mutant that asserts a local-minimum claim at every critical point."""
    return Mutant("every_critical_point", MutantKind.DROPPED_HYPOTHESIS,
                  "asserted at every critical point (saddles included), not only at local "
                  "minima", lambda c: c.replace(point_kind=PointKind.CRITICAL))


def no_worse_than_L_x_mutants() -> tuple[Mutant, ...]:
    """The mutants of ``L <= L*_x``: halved, flipped, first term dropped."""
    return (
        Mutant.conclusion("halved", MutantKind.PERTURBED_CONSTANT, "L <= L*_x / 2",
                          versus_linear("at_most", lambda v: (v.L, v.L_x / 2), "x")),
        Mutant.conclusion("flipped", MutantKind.FLIPPED_INEQUALITY, "L >= L*_x",
                          versus_linear("at_least", lambda v: (v.L, v.L_x), "x")),
        Mutant.conclusion("dropped_term", MutantKind.DROPPED_TERM, "L <= 0",
                          versus_linear("at_most", lambda v: (v.L, 0.0), "x")),
    )


def on_resnet(form: Callable[[Any], tuple[Any, Any]]) -> Callable[[dict], tuple[Any, Any]]:
    """The sides of an identity over the ResNet's symbols at the sizes ``s``:
    ``form(r)`` with ``r = resnet_symbols(**s)``."""
    def sides(s: dict) -> tuple[Any, Any]:
        return form(resnet_symbols(**s))
    sides.__doc__ = form.__doc__
    return sides


#: The note of a claim whose conclusion is a truth value over a finite domain.
EXACT_LOGIC = (
    "Precision: the conclusion is a truth value of hypotheses over a finite domain, exact in "
    "any arithmetic; a higher-precision backend has nothing to re-evaluate "
    "(high_precision=False).")


def truth(ok: bool, tol_source: str = "exact") -> Margin:
    """The margin of a statement that is simply true (+1) or false (-1), with no tolerance.

    >>> truth(True).value, truth(False).value
    (1.0, -1.0)
    """
    return Margin.at_least(1.0 if ok else -1.0, 0.0, tol=0.0, tol_source=tol_source)


def at_resnet_minima(id: str, source: Source, /, *, conclusion: Callable[..., Margin],
                     landscape: Any, cases: tuple[str, ...] | None = None,
                     instances: Any = None, notes: str = "",
                     precision: str | None = AT_CERTIFIED_POINT, **statement: Any) -> Claim:
    """A claim checked at the certified local minima of the ResNet, one case per loss and
    rank branch (:func:`proofcheck.problems.cases`), under A1 and A2 unless ``hypotheses`` is
    given. ``statement`` carries the claim's title, statement, hypotheses and mutants as
    printed; ``landscape`` says which minima are searched (with or without saddle
    starts). ``precision`` is the note of a conclusion that does not compute through the
    backend (by default :data:`AT_CERTIFIED_POINT`: then it is not re-evaluated at higher
    precision); ``None`` for one that does."""
    from .assumptions import A1, A2
    statement.setdefault("hypotheses", (A1, A2))
    return claim(id, source, conclusion=conclusion,
                 instances=instances or (lambda assumed: instances_for(assumed)),
                 point_kind=PointKind.LOCAL_MIN, landscape=landscape,
                 branches=cases or resnet_cases(CONVEX_DIFFERENTIABLE), case_of=case_of,
                 notes=" ".join(n for n in (notes, precision) if n),
                 high_precision=precision is None, **statement)
