"""Evaluating a claim: draw -> validate -> landscape -> points -> conclusion(B) -> failures.

This is the one evaluator that ``check`` (:mod:`proofcheck.engine`), ``explore``
(:mod:`proofcheck.search.explore`), witness replay and the reports share. Every step is a public
function; none of them knows which paper a claim comes from.

- :func:`draw_instances` collects instances from the claim's Hypothesis strategy (per branch of
  its proof when it names branches), re-checks each against the hypotheses, and drops exact
  duplicates (seeded repeats are one instance, not several).
- :func:`validate_instance` rejects NaN/inf data and losses whose declared properties are false.
- :func:`evaluate_conclusion` runs ``claim.conclusion(inst, point, B)`` (inside the backend's
  precision context) and returns its :class:`~proofcheck.claims.Margin`;
  :func:`failures` turns a margin into ``(values, tolerances, failing)`` arrays.
- :func:`evaluate_batch` evaluates many instances, stacked by shape, each exactly once.
- :func:`find_points` finds the certified points of a point claim: the landscape's own
  ``find_points`` method, or a finder registered for its type with :func:`register_finder`.
- :func:`distinct_points` / :func:`instance_key` count distinct points and instances; points are
  distinct up to tolerance and the landscape's parameter symmetries (:func:`symmetry_for`, the
  optional hook ``symmetry`` with ``canonical(params)`` of the landscape protocol).
- :class:`Evaluator` evaluates single instances (worst margin over the certified points), as
  ``explore`` and replay need.

>>> from hypothesis import strategies as st
>>> from proofcheck.claims import Claim, Instance, Margin, Source
>>> c = Claim(id="demo.lemma1", title="t", source=Source("demo", "1", "Lemma 1"),
...           statement="x^2 >= 0", instances=lambda a: st.just(Instance(x=0.5)),
...           conclusion=lambda inst, point, B: Margin.at_least(inst.x * inst.x, 0, B))
>>> len(draw_instances(c, 10, seed=0))      # ten draws of one instance: one distinct instance
1
>>> Evaluator(c).evaluate(Instance(x=2.0)).margin
4.0
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import math
import sys
from dataclasses import dataclass, field
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .claims import Assumed, Claim, Instance, Margin, PointKind
from .errors import ClaimError, ExploreError, GeneratorError, describe

if TYPE_CHECKING:
    from .backends import Backend

__all__ = [
    "CERTIFICATION_LEVELS", "CRITICAL_KINDS", "POINT_KINDS", "Point", "as_point",
    "Evaluation", "Evaluator", "FoundPoints", "Progress", "admissible",
    "assumption_text", "BatchResult", "brief", "build_landscape", "certifier_for",
    "check_hypotheses", "claim_variant", "describe", "distinct_points",
    "draw_instances", "evaluate_batch", "evaluate_conclusion", "failures", "find_points",
    "finder_for", "group_key", "instance_dict", "instance_key", "point_dict", "point_vector",
    "register_finder", "register_symmetry", "residual_size", "single_threaded_blas",
    "symmetry_for", "equivalence_text", "SYMMETRY_PLUGINS",
    "stack", "validate_instance", "wanted_point", "on_stratum", "stratum_options",
]

Progress = Callable[[str, str, int, int], None]


def _quiet(*args: Any) -> None:
    return None


def _assumed(claim: Claim) -> Assumed:
    """The claim's assumed hypotheses (always set once a Claim is built)."""
    assert claim.assumed is not None
    return claim.assumed


def _strategy(claim: Claim, assumed: Assumed) -> Any:
    if claim.instances is None:
        raise ClaimError(f"claim {claim.id} has no instance generator")
    return claim.instances(assumed)


def single_threaded_blas() -> Any:
    """A context in which BLAS / OpenMP use one thread (for a runner's worker processes:
    small problems run faster; see issue 13).

    It does NOT make floating point reproducible on its own: OpenBLAS results can differ in
    the last bits with the memory alignment of the arrays, which changes between processes
    (e.g. with ``PYTHONHASHSEED``), and a chaotic descent can turn that into a different
    local minimum. A no-op when threadpoolctl is not installed."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:     # pragma: no cover - threadpoolctl is a dependency
        return contextlib.nullcontext()
    # threadpoolctl limits the libraries loaded now: load scipy's own OpenBLAS first
    import scipy.linalg  # noqa: F401
    return threadpool_limits(limits=1)


# ---------------------------------------------------------------------------------------------
# instances

def instance_key(inst: Instance) -> str:
    """A digest of an instance's data (arrays by dtype, shape and bytes; other fields by repr):
    equal keys mean identical instances.

    >>> instance_key(Instance(x=1.0)) == instance_key(Instance(x=1.0))
    True
    """
    h = hashlib.sha256()
    for name, v in sorted(inst.fields().items()):
        h.update(name.encode())
        if isinstance(v, np.ndarray) and v.dtype != object:
            h.update(f"{v.dtype.str}{v.shape}".encode())
            h.update(np.ascontiguousarray(v).tobytes())
        elif isinstance(v, float):
            h.update(float(v).hex().encode())
        else:
            h.update(repr(v).encode())
    return h.hexdigest()


def draw_instances(claim: Claim, n: int, seed: int, progress: Progress | None = None, *,
                   distinct: bool = True) -> list[Instance]:
    """Collect up to ``n`` instances from the claim's Hypothesis strategy (generation only),
    each re-checked against the hypotheses (:class:`GeneratorError` when the generator leaves
    them).

    A claim with ``branches`` (the cases of its proof) gets ``ceil(n / #branches)`` instances
    per branch, so no case is left to chance. A finite domain (a list of instances) is taken
    whole. With ``distinct`` (the default) identical instances are kept once: a generator that
    repeats itself is counted for what it produced."""
    progress = progress or _quiet
    if claim.branches and _assumed(claim).branch is None:
        per = max(1, math.ceil(n / len(claim.branches)))
        out: list[Instance] = []
        for k, b in enumerate(claim.branches):
            out += draw_instances(claim.replace(assumed=_assumed(claim).in_branch(b)), per,
                                  seed + 7919 * k, progress, distinct=False)
        return _distinct(out) if distinct else out
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed
    from hypothesis.errors import FailedHealthCheck, Unsatisfiable

    strategy = _strategy(claim, _assumed(claim))
    if isinstance(strategy, (list, tuple)):
        # a finite domain given as a sequence: every element is checked (exhaustive)
        out = list(strategy)
        if not out:
            raise GeneratorError(f"the instance list of {claim.id} is empty")
        for inst in out:
            check_hypotheses(claim, inst)
        return out
    out = []

    @hseed(seed)
    @settings(max_examples=n, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.large_base_example])
    @given(strategy)
    def collect(inst: Instance) -> None:
        out.append(inst)
        if len(out) % 25 == 0:
            progress(claim.id, "generating instances", len(out), n)

    try:
        collect()
    except (Unsatisfiable, FailedHealthCheck) as exc:
        raise GeneratorError(f"the instance generator of {claim.id} cannot produce instances "
                             f"with {assumption_text(claim)}: {exc}") from exc
    if not out:
        raise GeneratorError(f"the instance generator of {claim.id} produced no instance "
                             f"with {assumption_text(claim)}")
    for inst in out:
        check_hypotheses(claim, inst)
    return _distinct(out) if distinct else out


def _distinct(instances: Iterable[Instance]) -> list[Instance]:
    seen: set[str] = set()
    out = []
    for inst in instances:
        k = instance_key(inst)
        if k not in seen:
            seen.add(k)
            out.append(inst)
    return out


def assumption_text(claim: Claim) -> str:
    """``hypotheses A, B and NOT C``: what the generator was asked to satisfy."""
    dropped = _assumed(claim).dropped
    held = [n for n, v in _assumed(claim).flags if v]
    text = "hypotheses " + (", ".join(held) if held else "(none)")
    return text + (f" and NOT {', '.join(dropped)}" if dropped else "")


def check_hypotheses(claim: Claim, inst: Instance) -> None:
    """Raise :class:`GeneratorError` when ``inst`` violates an assumed hypothesis or satisfies
    a dropped one; :class:`ClaimError` when a predicate cannot be evaluated."""
    for h in claim.hypotheses:
        if h.holds is None:
            continue
        try:
            ok = bool(h.holds(inst))
        except Exception as exc:
            raise ClaimError(f"hypothesis {h.name} of {claim.id} could not be evaluated on "
                             f"{inst!r}: {describe(exc)}") from exc
        want = _assumed(claim)[h.name]
        if ok != want:
            raise GeneratorError(
                f"the instance generator of {claim.id} produced an instance that "
                f"{'violates' if want else 'satisfies'} hypothesis {h} although it is "
                f"{'assumed' if want else 'dropped'}: {inst!r}")


def admissible(claim: Claim, inst: Instance) -> bool:
    """True when ``inst`` satisfies every assumed hypothesis of ``claim`` and violates every
    dropped one (a predicate that raises counts as 'not admissible')."""
    for h in claim.hypotheses:
        if h.holds is None:
            continue
        try:
            ok = bool(h.holds(inst))
        except Exception:
            return False
        if ok != _assumed(claim)[h.name]:
            return False
    return True


def claim_variant(claim: Claim, drop: Sequence[str] = (), mutate: str | None = None) -> Claim:
    """The claim with mutant ``mutate`` applied (to the corrected statement of an erratum, as
    the engine does) and the hypotheses ``drop`` dropped. Unknown names raise
    :class:`~proofcheck.errors.ExploreError` listing the valid ones."""
    target = claim
    if mutate is not None:
        base = claim.corrected if claim.corrected is not None else claim
        names = [m.name for m in base.mutants]
        if mutate not in names:
            raise ExploreError(f"claim {claim.id} has no mutant {mutate!r}; its mutants: "
                               f"{', '.join(names) if names else '(none)'}")
        mutant = base.mutants[names.index(mutate)]
        target = mutant.apply(base).replace(mutant_of=base.id, corrected=None, mutants=())
    drop = tuple(drop)
    if drop:
        names = [h.name for h in target.hypotheses]
        unknown = [d for d in drop if d not in names]
        if unknown:
            raise ExploreError(f"claim {claim.id} has no hypothesis "
                               f"{', '.join(map(repr, unknown))}; its hypotheses: "
                               f"{', '.join(names) if names else '(none)'}")
        if target.conclusion is None:
            raise ExploreError(f"claim {claim.id} has no conclusion to evaluate on instances "
                               "(identities only): there is nothing to drop a hypothesis from")
        target = target.dropping(*drop)
    return target


_CHECKED_LOSSES: dict[str, str | None] = {}


def validate_instance(claim: Claim, inst: Instance) -> None:
    """Reject NaN/inf data, and losses whose declared properties are false (a non-convex loss
    declared convex would otherwise make a convexity-based claim look refuted or verified for
    the wrong reason). Each loss object is checked once per process."""
    for name, v in inst.fields().items():
        arr = v if isinstance(v, np.ndarray) else (
            np.asarray(v) if isinstance(v, (float, list, tuple)) else None)
        if arr is not None and arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
            raise ClaimError(f"instance field {name} of {claim.id} contains NaN or inf: "
                             f"{inst!r}")
        if name == "loss" and hasattr(v, "value") and hasattr(v, "convex"):
            _check_loss(claim, v, inst)


def _check_loss(claim: Claim, loss: Any, inst: Instance) -> None:
    from .losses import LossDeclarationError, check_declared_properties
    key = f"{type(loss).__module__}.{type(loss).__qualname__}:{loss!r}"
    if key not in _CHECKED_LOSSES:
        try:
            d_y = np.asarray(inst.Y).shape[-1] if "Y" in inst.fields() else None
            check_declared_properties(loss, np.random.default_rng(0), d_y=d_y)
            _CHECKED_LOSSES[key] = None
        except LossDeclarationError as exc:
            _CHECKED_LOSSES[key] = str(exc)
    if _CHECKED_LOSSES[key] is not None:
        raise ClaimError(f"the loss {loss!r} used by {claim.id} does not have the properties it "
                         f"declares: {_CHECKED_LOSSES[key]}")


# ---------------------------------------------------------------------------------------------
# the conclusion

def group_key(inst: Instance) -> tuple:
    """Instances with equal keys stack into one batch (same fields, shapes and dtypes)."""
    key: list[tuple] = []
    for name, v in sorted(inst.fields().items()):
        if isinstance(v, np.ndarray) and v.dtype != object:
            key.append((name, "array", v.shape, v.dtype.str))
        elif isinstance(v, float):
            key.append((name, "float"))
        else:
            key.append((name, "value", repr(v)))
    return tuple(key)


def stack(group: list[Instance]) -> Instance:
    """Stack instances of one :func:`group_key` along a new leading axis (``batch_size``)."""
    first = group[0].fields()
    fields = {}
    for name, v in first.items():
        if (isinstance(v, np.ndarray) and v.dtype != object) or isinstance(v, float):
            fields[name] = np.stack([np.asarray(g.fields()[name]) for g in group])
        else:
            fields[name] = v
    return Instance(**fields, batch_size=len(group))


def evaluate_conclusion(claim: Claim, inst: Instance, point: Any, B: Any) -> Margin:
    """``claim.conclusion(inst, point, B)`` inside the backend's precision context; a claim
    whose code raises or returns something other than a Margin raises :class:`ClaimError`."""
    ctx: Any = contextlib.nullcontext()
    if getattr(B, "name", "") == "mpmath":
        # mpmath numbers do arithmetic at the *global* precision: a conclusion's own "/ m" or
        # a Margin's subtraction would silently run at 15 digits outside the backend's context
        import mpmath
        ctx = mpmath.workdps(B.digits)
    if claim.conclusion is None:
        raise ClaimError(f"claim {claim.id} has no conclusion to evaluate")
    try:
        with ctx:
            m = claim.conclusion(inst, point, B)
            if isinstance(m, Margin) and getattr(B, "name", "") in ("numpy", "mpmath"):
                failures(m)     # evaluate the margin's arithmetic inside the context too
    except ClaimError:
        raise
    except Exception as exc:
        raise ClaimError(f"the conclusion of {claim.id} raised {describe(exc)}") from exc
    if not isinstance(m, Margin):
        raise ClaimError(f"the conclusion of {claim.id} returned {type(m).__name__}, "
                         "expected a Margin (use Margin.at_most / at_least / equal)")
    return m


def _as_float(x: Any) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype == object:
        arr = np.vectorize(float, otypes=[float])(arr) if arr.size else arr.astype(float)
    return arr.astype(float)


def failures(m: Margin) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(values, tolerances, failing)`` of a margin as float arrays (broadcast); NaN margins,
    infinite or negative tolerances and +inf margins raise :class:`ClaimError`."""
    value, tol = _as_float(m.value), _as_float(m.tol)
    value, tol = np.broadcast_arrays(value, tol)
    if np.any(np.isnan(value)) or np.any(np.isnan(tol)):
        raise ClaimError("the margin is NaN (the conclusion could not be evaluated)")
    if not (np.all(np.isfinite(tol)) and np.all(tol >= 0)):
        raise ClaimError(f"the margin's tolerance is {tol.max() if tol.size else tol} "
                         "(it must be finite and >= 0: an infinite tolerance passes anything)")
    if np.any(np.isposinf(value)):
        raise ClaimError("the margin is +inf (an overflow would pass any claim)")
    return value, tol, value < -tol


@dataclass
class BatchResult:
    """Per-instance worst margin and tolerance of :func:`evaluate_batch`."""

    values: np.ndarray
    tolerances: np.ndarray
    tol_source: str = ""
    notes: list[str] = field(default_factory=list)
    calls: int = 0                  # conclusion calls made

    @property
    def failing(self) -> np.ndarray:
        return np.flatnonzero(self.values < -self.tolerances)


def evaluate_batch(claim: Claim, instances: Sequence[Instance], B: Any, *,
                   progress: Progress | None = None, stop: Callable[[BatchResult], bool]
                   | None = None, chunk: int | None = None) -> BatchResult:
    """Evaluate an any-point conclusion at every instance, stacked by :func:`group_key`, so
    each instance is evaluated exactly once (a conclusion that does not return one margin per
    stacked instance is evaluated one instance at a time, and the note says so).

    ``chunk`` limits the batch size; after each batch ``stop(result)`` may end the evaluation
    early (instances not reached keep the value NaN). Values are each instance's smallest
    margin, tolerances its largest."""
    progress = progress or _quiet
    n = len(instances)
    res = BatchResult(np.full(n, np.nan), np.full(n, np.nan))
    groups: dict[Any, list[int]] = {}
    for i, inst in enumerate(instances):
        groups.setdefault(group_key(inst), []).append(i)
    batches: list[list[int]] = []
    for idx in groups.values():
        size = chunk or len(idx)
        batches += [idx[k:k + size] for k in range(0, len(idx), size)]
    unbatchable = False
    done = 0
    for idx in batches:
        batch = [instances[i] for i in idx]
        m = None
        if not unbatchable and len(batch) > 1:
            try:
                res.calls += 1
                m = evaluate_conclusion(claim, stack(batch), None, B)
                v, t, _ = failures(m)
                if v.shape != (len(batch),):
                    raise ValueError(f"batched margin has shape {v.shape}, "
                                     f"expected ({len(batch)},)")
            except Exception as exc:    # not batchable: one at a time from now on, and say so
                unbatchable = True
                m = None
                res.notes.append("evaluated one instance at a time (the conclusion does not "
                                 f"return one margin per stacked instance: {str(exc)[:100]})")
        if m is None:
            pairs = []
            for inst in batch:
                res.calls += 1
                m = evaluate_conclusion(claim, inst, None, B)
                vi, ti, _ = failures(m)
                pairs.append((float(np.min(vi)), float(np.max(ti))))
            v = np.array([p[0] for p in pairs])
            t = np.array([p[1] for p in pairs])
        res.values[idx], res.tolerances[idx] = v, t
        res.tol_source = m.tol_source if m is not None else res.tol_source
        done += len(batch)
        progress(claim.id, "evaluating", done, n)
        if stop is not None and stop(res):
            break
    return res


# ---------------------------------------------------------------------------------------------
# points

#: certified kinds that count as critical points (a local minimum, a saddle, a local maximum, a
#: degenerate critical point whose Hessian is zero within the certificate's resolution)
CRITICAL_KINDS = ("local_min", "saddle", "local_max", "degenerate")

Finder = Callable[..., Sequence[Any]]
Certifier = Callable[..., Any]
_FINDERS: dict[type, Finder] = {}
_CERTIFIERS: dict[type, Certifier] = {}
#: modules that register finders for their landscape types when imported (resolved lazily, the
#: way entry points are, so the evaluator imports no model); append yours or call
#: :func:`register_finder` directly.
FINDER_PLUGINS: list[str] = ["proofcheck.optimize.local_min"]


def register_finder(landscape_type: type, finder: Finder,
                    certify: Certifier | None = None) -> None:
    """Use ``finder(landscape, *, rng, starts, digits[, branch])`` for landscapes of
    ``landscape_type`` (and subclasses) that have no ``find_points`` method of their own.

    It returns a sequence of points, each with a ``kind`` (``"local_min"``, ``"saddle"``, ...;
    anything else is not certified) that the conclusion receives as ``point``.
    ``certify(landscape, params, digits=)`` (optional) re-certifies a point from its float
    parameters (witness replay)."""
    _FINDERS[landscape_type] = finder
    if certify is not None:
        _CERTIFIERS[landscape_type] = certify


def _registered(table: dict[type, Any], landscape: Any) -> Any:
    import importlib
    for _ in range(2):
        for cls in type(landscape).__mro__:
            if cls in table:
                return table[cls]
        for name in FINDER_PLUGINS:
            importlib.import_module(name)
    return None


def certifier_for(landscape: Any) -> Certifier | None:
    """The re-certifier registered for the landscape's type, or None."""
    return _registered(_CERTIFIERS, landscape)


def finder_for(landscape: Any) -> Finder:
    """The point finder for a landscape: its own ``find_points`` method, else the finder
    registered for its type; :class:`ClaimError` when there is none."""
    own = getattr(landscape, "find_points", None)
    if callable(own):
        return lambda land, **kw: own(**kw)
    found = _registered(_FINDERS, landscape)
    if found is not None:
        return found
    raise ClaimError(f"no point finder for a landscape of type {type(landscape).__name__}: "
                     "give it a find_points(rng=, starts=, digits=) method or call "
                     "proofcheck.evaluate.register_finder")


#: every kind a finder may report (anything outside CRITICAL_KINDS is not a certified point)
POINT_KINDS = ("local_min", "saddle", "local_max", "degenerate", "at_kink", "unresolved")

#: how strongly a point's kind is established, weakest first
CERTIFICATION_LEVELS = ("second-order", "interval", "exact-global")


@dataclass(frozen=True)
class Point:
    """The one view of a found point, whatever finder produced it: its ``kind`` (one of
    :data:`POINT_KINDS`), its certification ``level`` (one of :data:`CERTIFICATION_LEVELS`:
    second-order necessary conditions at ``digits`` digits; an interval-proven isolated
    critical point / strict minimum; an exact global-minimum argument), its parameters and
    the finder's own object (``native``, what a conclusion receives as ``point``)."""

    kind: str
    level: str
    digits: int | None = None
    params: np.ndarray | None = None
    value: float | None = None
    branch: str | None = None
    native: Any = None

    def describe(self) -> str:
        """``local_min (second-order necessary conditions at 40 digits)``."""
        how = {"second-order": f"second-order necessary conditions at {self.digits} digits",
               "interval": "interval-proven isolated critical point",
               "exact-global": "exact global-minimum argument"}.get(self.level, self.level)
        return f"{self.kind} ({how})"

    @property
    def exact(self) -> bool:
        """Whether the point's high-precision parameters (``theta_mp`` or ``params_mp`` of the
        finder's point) are exact rationals: a point certified exactly, e.g. on a stratum.

        >>> Point(kind="local_min", level="second-order", digits=30).exact
        False
        """
        return _exact_parameters(self.native if self.native is not None else self)

    def backend(self) -> Backend:
        """The arithmetic of the point: exact rationals when it is :attr:`exact`, mpmath at the
        ``digits`` it was refined and certified at, float64 when it carries no digits.
        ``with point.backend().context():`` runs raw operators on its numbers (and code that
        knows no backend) at that precision.

        >>> Point(kind="local_min", level="second-order", digits=30).backend()
        MpmathBackend(digits=30)
        >>> Point(kind="local_min", level="second-order").backend().name
        'numpy'
        """
        # on first use: the backends bring mpmath, which the engine's import does not need
        from .backends import get_backend
        if self.exact:
            return get_backend("exact")
        if self.digits is None:
            return get_backend("numpy")
        return get_backend("mpmath", digits=self.digits)

    def number(self, x: Any) -> Any:
        """A number computed at the point, as a :class:`~proofcheck.claims.Margin` takes it:
        kept when it is an exact rational (so an exact point's margin stays exact), else a
        float (an mpmath number rounded to nearest).

        >>> import mpmath
        >>> Point(kind="local_min", level="second-order", digits=30).number(mpmath.mpf(2) / 4)
        0.5
        """
        return x if _is_rational(x) else float(x)


def _is_rational(x: Any) -> bool:
    """``x`` is an exact :class:`~proofcheck.exact_backends.Rational`.  None can exist before
    :mod:`proofcheck.exact_backends` is imported, so a float run never imports it (nor flint)."""
    exact = sys.modules.get("proofcheck.exact_backends")
    return exact is not None and isinstance(x, exact.Rational)


def _exact_parameters(p: Any) -> bool:
    """The point ``p`` carries non-empty high-precision parameters, all exact rationals."""
    for name in ("theta_mp", "params_mp"):
        v = getattr(p, name, None)
        if v is not None and np.size(v) > 0:
            return all(_is_rational(x) for x in np.ravel(np.asarray(v, dtype=object)))
    return False


def as_point(p: Any) -> Point:
    """The :class:`Point` view of a finder's point (a ``level`` attribute wins; otherwise a
    point certified at ``digits`` digits is at the ``second-order`` level).

    >>> from types import SimpleNamespace as P
    >>> as_point(P(kind="local_min", digits=40, theta=[1.0])).describe()
    'local_min (second-order necessary conditions at 40 digits)'
    """
    if isinstance(p, Point):
        return p
    level = getattr(p, "level", None) or "second-order"
    digits = getattr(p, "digits", None)
    value = getattr(p, "value", None)
    try:
        value = None if value is None else float(value)
    except (TypeError, ValueError):
        value = None
    return Point(kind=str(getattr(p, "kind", "unresolved")), level=str(level),
                 digits=int(digits) if isinstance(digits, (int, np.integer)) else None,
                 params=point_vector(p), value=value, branch=getattr(p, "branch", None),
                 native=p)


def wanted_point(claim: Claim, p: Any) -> bool:
    """Whether a found point is of the kind the claim is asserted at."""
    if claim.point_kind is PointKind.LOCAL_MIN:
        return getattr(p, "kind", None) == "local_min"
    return getattr(p, "kind", None) in CRITICAL_KINDS


@dataclass
class FoundPoints:
    """What :func:`find_points` found at one instance."""

    points: list[Any]               # the certified points of the wanted kind, distinct
    found: list[Any]                # everything the finder returned (all kinds)
    notes: list[str] = field(default_factory=list)
    duplicates: int = 0             # wanted points dropped as duplicates of another
    #: what "distinct" meant: ``"tolerance"`` or ``"tolerance and <symmetries>"``
    equivalence: str = "tolerance"

    def kinds(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for p in self.found:
            k = str(getattr(p, "kind", "?"))
            out[k] = out.get(k, 0) + 1
        return out


def build_landscape(claim: Claim, inst: Instance) -> Any:
    """``claim.landscape(inst)``; a failure is the claim's :class:`ClaimError`."""
    if claim.landscape is None:
        raise ClaimError(f"claim {claim.id} has no landscape")
    try:
        return claim.landscape(inst)
    except Exception as exc:
        raise ClaimError(f"the landscape of {claim.id} could not be built for {inst!r}: "
                         f"{describe(exc)}") from exc


def find_points(claim: Claim, inst: Instance, *, rng: np.random.Generator, starts: int,
                digits: int, retry: bool = True, landscape: Any = None) -> FoundPoints:
    """The certified points of the claim's kind at ``inst``: the landscape's finder (see
    :func:`finder_for`) with ``starts`` starts; when it certifies nothing, one retry with three
    times the starts (descent can drift into valleys that run off to infinity). The instance's
    ``branch`` field, if any, is passed to finders that take a ``branch`` argument."""
    land = build_landscape(claim, inst) if landscape is None else landscape
    finder = finder_for(land)
    kwargs: dict[str, Any] = {}
    branch = inst.fields().get("branch")
    if branch is not None and _accepts(finder, "branch"):
        kwargs["branch"] = branch
    found = list(finder(land, rng=rng, starts=starts, digits=digits, **kwargs))
    notes: list[str] = []
    if retry and not any(wanted_point(claim, p) for p in found):
        found += list(finder(land, rng=rng, starts=3 * starts, digits=digits, **kwargs))
        notes.append(f"no certified point from {starts} starts; retried with {3 * starts} more")
    wanted = [p for p in found if wanted_point(claim, p)]
    sym = symmetry_for(land)
    points = distinct_points(wanted, symmetry=sym)
    return FoundPoints(points, found, notes, len(wanted) - len(points),
                       equivalence=equivalence_text(sym))


def on_stratum(p: Any) -> bool:
    """Whether a found point lies on a stratum: a finder that certifies points where the
    landscape's pieces meet (zero pre-activations of a piecewise-linear network, ...) attaches
    that certificate as ``p.stratum``; a point without one is not counted.

    >>> from types import SimpleNamespace as P
    >>> on_stratum(P(stratum=object())), on_stratum(P(stratum=None)), on_stratum(P())
    (True, False, False)
    """
    return getattr(p, "stratum", None) is not None


def stratum_options(claim: Claim) -> tuple[str, ...]:
    """The strata a claim's instance generator can aim at: the generator takes a ``stratum``
    keyword and lists the names it accepts as ``instances.strata`` (e.g. a piecewise-linear
    family's ``("generic", "kink", "dead", "zero_out")``). Empty when it does not.

    >>> def gen(assumed, stratum=None): ...
    >>> gen.strata = ("generic", "kink")
    >>> from proofcheck import Claim, Source
    >>> c = Claim(id="u.x", title="t", source=Source("u", "1", "t"), statement="s",
    ...           conclusion=lambda i, p, B: None, instances=gen)
    >>> stratum_options(c)
    ('generic', 'kink')
    """
    gen = claim.instances
    if gen is None:
        return ()
    try:
        params = inspect.signature(gen).parameters
    except (TypeError, ValueError):
        return ()
    if "stratum" not in params:
        return ()
    names = getattr(gen, "strata", None)
    if not names:
        raise ClaimError(f"the instance generator of {claim.id} takes a stratum but lists no "
                         "strata: set instances.strata = (...) to the names it accepts")
    return tuple(str(n) for n in names)


def _accepts(f: Callable[..., Any], name: str) -> bool:
    try:
        params = inspect.signature(f).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def point_vector(p: Any) -> np.ndarray | None:
    """The parameters of a point as one float vector (``W``, ``V``, ``theta`` or ``params`` of
    ``p.point`` or ``p``), or None when it has none."""
    q = getattr(p, "point", p)
    parts = []
    for name in ("W", "V", "theta", "params"):
        v = getattr(q, name, None)
        if v is None:
            continue
        try:
            parts.append(np.asarray(v, dtype=float).ravel())
        except (TypeError, ValueError):
            return None
    return np.concatenate(parts) if parts else None


def distinct_points(points: Sequence[Any], *, rtol: float = 1e-6,
                    symmetry: Any = None) -> list[Any]:
    """The points with near-duplicates dropped (first kept): two points are the same when
    their parameter vectors agree to ``rtol`` relative to their size (optimiser starts that
    end in one minimum count once) after both are mapped to the canonical representative of
    their orbit by ``symmetry.canonical`` (the landscape's parameter symmetries, see
    :func:`symmetry_for`; None: tolerance only). Points without parameters are all kept.

    >>> from types import SimpleNamespace as P
    >>> len(distinct_points([P(theta=[1.0, 2.0]), P(theta=[1.0, 2.0 + 1e-12]), P(theta=[0, 1])]))
    2
    >>> swap = P(canonical=lambda v: np.sort(v), description="swapping the two entries")
    >>> len(distinct_points([P(theta=[1.0, 2.0]), P(theta=[2.0, 1.0])], symmetry=swap))
    1
    """
    canon = getattr(symmetry, "canonical", None) if symmetry else None
    kept: list[Any] = []
    vecs: list[np.ndarray] = []
    for p in points:
        v = point_vector(p)
        if v is not None and np.all(np.isfinite(v)):
            if canon is not None:
                try:
                    v = np.asarray(canon(v), dtype=float)
                except (ValueError, TypeError) as exc:
                    raise ClaimError(f"the landscape's canonical form failed on a point of "
                                     f"{v.size} parameters: {describe(exc)}") from exc
            if any(u.shape == v.shape and np.max(np.abs(u - v)) <= rtol * (1 + np.max(np.abs(v)))
                   for u in vecs):
                continue
            vecs.append(v)
        kept.append(p)
    return kept


# ---------------------------------------------------------------------------------------------
# parameter symmetries (the landscape protocol's optional hook)

Symmetry = Any
SymmetryOf = Callable[[Any], Any]
_SYMMETRIES: dict[type, SymmetryOf] = {}
#: modules that register parameter symmetries for landscape types when imported (resolved
#: lazily, like :data:`FINDER_PLUGINS`)
SYMMETRY_PLUGINS: list[str] = ["proofcheck.symmetry"]


def register_symmetry(landscape_type: type, symmetry_of: SymmetryOf) -> None:
    """Quotient the points of landscapes of ``landscape_type`` (and subclasses) by their
    parameter symmetries: ``symmetry_of(landscape)`` returns None (no symmetry) or an object
    with ``canonical(params) -> params`` (the canonical representative of the orbit of a point's
    parameter vector, as :func:`point_vector` gives it) and ``description`` (the symmetries, in
    words, for reports: ``"hidden-unit permutations, ..."``)."""
    _SYMMETRIES[landscape_type] = symmetry_of


def symmetry_for(landscape: Any) -> Symmetry | None:
    """The parameter symmetries of a landscape, or None. In order: the landscape's own
    ``symmetry`` attribute (an object with ``canonical`` and ``description``; may be None), the
    function registered for its type (:func:`register_symmetry`), and for a wrapper landscape
    whose ``base`` is itself a landscape (it has ``find_points``) and which only relabels the
    base's points, the base's symmetries.

    Only symmetries of the *landscape* belong here (the same loss at both points, so the same
    kind of point): a conclusion evaluated at one representative per orbit is taken to mean the
    same at every member (the catalogue's are: values of L and of functions of the network's
    outputs, ranks of orbit-invariant matrices). A claim whose conclusion is not invariant uses a
    landscape without the hook.

    >>> from types import SimpleNamespace as P
    >>> symmetry_for(P(symmetry=None)) is None, symmetry_for(object()) is None
    (True, True)
    """
    import importlib
    if hasattr(landscape, "symmetry"):
        return landscape.symmetry or None
    for _ in range(2):
        for cls in type(landscape).__mro__:
            if cls in _SYMMETRIES:
                return _SYMMETRIES[cls](landscape) or None
        for name in SYMMETRY_PLUGINS:
            importlib.import_module(name)
    base = getattr(landscape, "base", None)
    if base is not None and callable(getattr(base, "find_points", None)):
        return symmetry_for(base)
    return None


def equivalence_text(symmetry: Symmetry | None) -> str:
    """What "distinct points" means under ``symmetry``: ``"tolerance"`` or
    ``"tolerance and <its description>"``.

    >>> from types import SimpleNamespace as P
    >>> equivalence_text(None), equivalence_text(P(description="hidden-unit permutations"))
    ('tolerance', 'tolerance and hidden-unit permutations')
    """
    text = str(getattr(symmetry, "description", "") or "") if symmetry else ""
    return f"tolerance and {text}" if text else "tolerance"


# ---------------------------------------------------------------------------------------------
# plain data for reports

def residual_size(res: Any) -> float:
    """The largest absolute entry of an exact identity residual (0.0 when there is none)."""
    if res is None:
        return 0.0
    try:
        if hasattr(res, "shape"):
            return float(max((abs(e) for e in res), default=0))
        return float(abs(res))
    except (TypeError, ValueError):
        return 0.0


def _is_number(x: Any) -> bool:
    try:
        float(x)
        return True
    except (TypeError, ValueError):
        return False


def brief(x: Any, k: int = 0, entries: int = 1) -> str:
    """A short text for one side of a margin whose worst entry is ``k`` of ``entries``: the
    number itself, that entry of an array side with one value per margin entry, else the
    array's shape.

    >>> brief(2.5), brief(np.array([7.0])), brief(np.array([1.0, -3.0]), 1, 2), brief(None)
    ('2.5', '7', '-3 (entry 2 of 2)', '-')
    >>> brief(np.eye(3), 0, 1)
    '<array (3, 3)>'
    """
    if x is None:
        return "-"
    arr = np.asarray(x, dtype=object)
    if arr.size == 1:
        v = arr.ravel()[0]
        return f"{float(v):.10g}" if _is_number(v) else str(v)
    if arr.size == entries and 0 <= k < entries:
        v = arr.ravel()[k]
        if _is_number(v):
            return f"{float(v):.10g} (entry {k + 1} of {entries})"
    return f"<array {arr.shape}>"


def instance_dict(inst: Instance) -> dict[str, Any]:
    """An instance as plain data (arrays as lists, objects by repr)."""
    out: dict[str, Any] = {}
    for k, v in inst.fields().items():
        if isinstance(v, np.ndarray):
            out[k] = v.tolist()
        elif isinstance(v, (int, float, str, bool)) or v is None:
            out[k] = v
        else:
            out[k] = repr(v)
    return out


def point_dict(point: Any) -> dict[str, Any] | None:
    """A certified point as plain data (parameters and certificate fields)."""
    if point is None:
        return None
    p = getattr(point, "point", point)
    out: dict[str, Any] = {}
    for name in ("W", "V", "theta"):
        v = getattr(p, name, None)
        if v is not None:
            out[name] = np.asarray(v, dtype=float).tolist()
    for name in ("value", "grad_norm", "min_hess_eig", "tau_grad", "tau_hess", "rank_W",
                 "kind", "branch", "digits"):
        if hasattr(point, name):
            v = getattr(point, name)
            out[name] = float(v) if _is_number(v) and not isinstance(v, (int, str)) else v
    return out


# ---------------------------------------------------------------------------------------------
# single instances: the worst margin over the certified points

@dataclass
class Evaluation:
    """The worst margin of one instance (over its certified points for point claims)."""

    margin: float
    tolerance: float
    scale: float
    point: Any = None
    point_index: int | None = None
    points: int = 0                 # certified points evaluated (point claims)
    on_stratum: int = 0             # of them, points the finder certified on a stratum
    lhs: Any = None
    rhs: Any = None
    tol_source: str = ""

    @property
    def fails(self) -> bool:
        return self.margin < -self.tolerance

    @property
    def normalised(self) -> float:
        """(margin + tolerance) / scale of the two sides: < 0 exactly when it fails."""
        return (self.margin + self.tolerance) / self.scale


def _scalar(x: Any) -> float | None:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        try:
            arr = np.vectorize(float, otypes=[float])(np.asarray(x, dtype=object))
        except Exception:
            return None
    if arr.size == 0 or not np.all(np.isfinite(arr)):
        return None
    return float(np.max(np.abs(arr)))


def _pick(x: Any, k: int, n: int) -> Any:
    if x is None:
        return None
    arr = np.asarray(x, dtype=object) if not isinstance(x, np.ndarray) else x
    if n > 1 and arr.ndim >= 1 and arr.shape[0] == n:
        return arr[k]
    return x


class Evaluator:
    """Evaluates a claim's conclusion on single instances, as ``check`` does.

    ``evaluate(inst)`` returns an :class:`Evaluation`, ``None`` when a point claim has no
    certified point at this instance (vacuous), and raises ``ClaimError`` when the claim's code
    fails. Point claims search ``starts`` optimiser starts with a generator seeded by ``seed``
    (the same for every instance, so the margin is a deterministic function of the instance).
    """

    def __init__(self, claim: Claim, *, seed: int = 0, starts: int = 4, digits: int = 40,
                 retry: bool = True):
        from .backends import get_backend
        self.claim = claim
        self.retry = retry
        self.seed = int(seed)
        self.starts = int(starts)
        self.digits = int(digits)
        self.B = get_backend("numpy")
        self.point_claim = claim.point_kind is not PointKind.ANY

    def evaluate(self, inst: Instance) -> Evaluation | None:
        validate_instance(self.claim, inst)
        # searching outside a claim's hypotheses divides by zeros on purpose; a NaN margin is
        # an error the engine reports, so numpy's warnings are only noise here
        with np.errstate(all="ignore"):
            if not self.point_claim:
                return self.at(inst, None)
            return self._at_points(inst)

    def at(self, inst: Instance, point: Any) -> Evaluation:
        """The worst margin at one instance and point (None for any-point claims)."""
        m = evaluate_conclusion(self.claim, inst, point, self.B)
        v, t, _ = failures(m)
        v, t = np.broadcast_arrays(np.atleast_1d(v), np.atleast_1d(t))
        k = int(np.argmin(v + t))
        lhs = _pick(m.lhs, k, v.size)
        rhs = _pick(m.rhs, k, v.size)
        scale = max([1.0] + [s for s in (_scalar(lhs), _scalar(rhs)) if s is not None])
        return Evaluation(float(v.ravel()[k]), float(t.ravel()[k]), scale, lhs=lhs, rhs=rhs,
                          tol_source=m.tol_source)

    _at = at        # the name replay used

    def landscape(self, inst: Instance) -> Any:
        return build_landscape(self.claim, inst)

    def find_points(self, inst: Instance) -> list[Any]:
        """The certified points of the wanted kind (see :func:`find_points`)."""
        rng = np.random.default_rng(self.seed)
        return find_points(self.claim, inst, rng=rng, starts=self.starts, digits=self.digits,
                           retry=self.retry).points

    def wanted(self, p: Any) -> bool:
        return wanted_point(self.claim, p)

    def _at_points(self, inst: Instance) -> Evaluation | None:
        points = self.find_points(inst)
        worst = None
        for k, p in enumerate(points):
            e = self.at(inst, p)
            if worst is None or e.normalised < worst.normalised:
                e.point, e.point_index = p, k
                worst = e
        if worst is None:
            return None
        worst.points = len(points)
        worst.on_stratum = sum(on_stratum(p) for p in points)
        return worst

    def recertified(self, inst: Instance, ev: Evaluation) -> Evaluation:
        """Re-certify the witness point from its float64 parameters (what replay does); keep
        the found point when the landscape cannot re-certify, the re-certified point is not of
        the wanted kind, or passes."""
        land = self.landscape(inst)
        recert = certifier_for(land)
        if recert is None:          # a landscape with its own finder: replay re-runs it
            return ev
        try:
            q = recert(land, land.flatten(ev.point.point), digits=self.digits)
        except Exception:
            return ev
        if not self.wanted(q):
            return ev
        e = self.at(inst, q)
        if not e.fails:
            return ev
        e.point, e.point_index, e.points = q, None, ev.points
        return e
