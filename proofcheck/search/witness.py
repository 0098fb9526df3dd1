"""Witness files: a counterexample saved as exact JSON, loaded back and replayed bit-for-bit.

A witness file holds everything needed to recompute the failing margin in float64: the claim
id (and the ``--path`` its module was loaded from, for a user's claims), the mutant and the
dropped hypotheses, the instance with every float stored exactly, the certified point for
local-minimum claims, the search seed and the margin. Floats are stored as

* JSON integers when they are integers (|x| < 2^53),
* ``"p/q"`` strings when they are dyadic rationals with a small denominator (exact: 0.5, -3/4),
* ``float.hex`` strings otherwise (``"0x1.999999999999ap-4"``): exact, and portable to any
  language with a C99 ``strtod``.

Objects (losses, models) are stored by a registered name and their parameters: dataclasses by
``module:QualName`` and their fields; other types need :func:`register_codec`.

>>> encode_value(np.array([[0.5, 0.1], [3.0, -0.75]]))["values"]
[['1/2', '0x1.999999999999ap-4'], [3, '-3/4']]
>>> decode_value(encode_value(np.array([0.1, 2.0]))).tolist()
[0.1, 2.0]

:func:`replay` loads the claim, rebuilds the instance (and the point, by re-certifying it from
its saved float64 parameters), re-checks the hypotheses, recomputes the margin and compares its
bits with the saved ones.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import sys
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..claims import Instance

__all__ = ["FORMAT", "FORMAT_VERSION", "ReplayResult", "WitnessFile", "WitnessError",
           "decode_value", "encode_float", "encode_value", "load_witness", "register_codec",
           "replay", "save_witness", "witness_dict"]

FORMAT = "proofcheck-witness"
FORMAT_VERSION = 1
_MAX_DYADIC_DENOMINATOR = 1 << 10


class WitnessError(ValueError):
    """A witness file that cannot be written, read or replayed (the message says why)."""


# ---------------------------------------------------------------------------------------------
# exact values

def encode_float(x) -> Any:
    """An exact JSON form of a float64 (see the module doc); None stays None."""
    if x is None:
        return None
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x.is_integer() and abs(x) < 2 ** 53:
        if x == 0 and math.copysign(1.0, x) < 0:
            return "-0x0.0p+0"
        return int(x)
    fr = Fraction(x)
    if fr.denominator <= _MAX_DYADIC_DENOMINATOR and abs(fr.numerator) < 2 ** 53:
        return f"{fr.numerator}/{fr.denominator}"
    return x.hex()


def decode_float(v) -> float:
    if isinstance(v, bool):
        raise WitnessError(f"expected a number, got {v!r}")
    if isinstance(v, int):
        return float(v)
    if isinstance(v, float):
        return v
    if isinstance(v, str):
        if v in ("nan", "inf", "-inf"):
            return float(v)
        if "/" in v:
            fr = Fraction(v)
            x = float(fr)
            if Fraction(x) != fr:
                raise WitnessError(f"{v} is not exactly a float64")
            return x
        try:
            return float.fromhex(v)
        except ValueError:
            raise WitnessError(f"{v!r} is not a float (hex, 'p/q' or integer)") from None
    raise WitnessError(f"expected a number, got {type(v).__name__}")


_CODECS: dict[str, tuple[type, Callable[[Any], dict], Callable[[dict], Any]]] = {}


def register_codec(cls: type, name: str, to_params: Callable[[Any], dict],
                   from_params: Callable[[dict], Any]) -> None:
    """Save objects of ``cls`` as ``{"__object__": name, "params": to_params(obj)}`` and load
    them with ``from_params(params)`` (parameters are encoded with :func:`encode_value`)."""
    _CODECS[name] = (cls, to_params, from_params)


def _class_name(obj) -> str:
    t = type(obj)
    return f"{t.__module__}:{t.__qualname__}"


def encode_value(v: Any) -> Any:
    """Exact JSON form of an instance field (arrays, numbers, strings, objects)."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return {"__float__": encode_float(v)}
    if isinstance(v, Fraction):             # exact rationals stay exact
        return {"__fraction__": f"{v.numerator}/{v.denominator}"}
    if isinstance(v, np.ndarray):
        if v.dtype.kind == "f":
            vals = np.vectorize(encode_float, otypes=[object])(v) if v.size else v
            return {"__ndarray__": "float64", "shape": list(v.shape),
                    "values": vals.tolist() if v.size else []}
        if v.dtype.kind in "iub":
            return {"__ndarray__": v.dtype.str, "shape": list(v.shape), "values": v.tolist()}
        raise WitnessError(f"arrays of dtype {v.dtype} cannot be saved exactly")
    if isinstance(v, (list, tuple)):
        return {"__tuple__" if isinstance(v, tuple) else "__list__": [encode_value(x) for x in v]}
    if isinstance(v, dict):
        return {"__dict__": {str(k): encode_value(x) for k, x in v.items()}}
    for name, (cls, to_params, _) in _CODECS.items():
        if type(v) is cls:
            return {"__object__": name, "registered": True,
                    "params": {k: encode_value(x) for k, x in to_params(v).items()}}
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        params = {f.name: encode_value(getattr(v, f.name)) for f in dataclasses.fields(v)
                  if f.init}
        return {"__object__": _class_name(v), "params": params}
    raise WitnessError(f"a {type(v).__name__} cannot be saved in a witness file: make it a "
                       "dataclass or register it with proofcheck.search.witness.register_codec")


def _resolve(name: str):
    module, _, qual = name.partition(":")
    if module not in sys.modules:
        if not module.split(".")[0] in ("proofcheck", "theorems"):
            raise WitnessError(f"class {name} lives in module {module}, which is not loaded: "
                               "load the claim's module first (replay --path DIR)")
        importlib.import_module(module)
    obj = sys.modules[module]
    for part in qual.split("."):
        obj = getattr(obj, part)
    return obj


def decode_value(v: Any) -> Any:
    """Inverse of :func:`encode_value`."""
    if not isinstance(v, dict):
        if isinstance(v, list):      # plain lists (older files, hand-written instances)
            return [decode_value(x) for x in v]
        return v
    if "__float__" in v:
        return decode_float(v["__float__"])
    if "__fraction__" in v:
        return Fraction(v["__fraction__"])
    if "__ndarray__" in v:
        shape = tuple(v["shape"])
        if v["__ndarray__"] == "float64":
            flat = [decode_float(x) for x in np.asarray(v["values"], dtype=object).ravel()] \
                if int(np.prod(shape)) else []
            return np.array(flat, dtype=float).reshape(shape)
        return np.array(v["values"], dtype=np.dtype(v["__ndarray__"])).reshape(shape)
    if "__tuple__" in v:
        return tuple(decode_value(x) for x in v["__tuple__"])
    if "__list__" in v:
        return [decode_value(x) for x in v["__list__"]]
    if "__dict__" in v:
        return {k: decode_value(x) for k, x in v["__dict__"].items()}
    if "__object__" in v:
        params = {k: decode_value(x) for k, x in v.get("params", {}).items()}
        if v.get("registered"):
            if v["__object__"] not in _CODECS:
                raise WitnessError(f"no codec registered for {v['__object__']!r}")
            return _CODECS[v["__object__"]][2](params)
        return _resolve(v["__object__"])(**params)
    raise WitnessError(f"unknown encoded value with keys {sorted(v)}")


def encode_instance(inst: Instance) -> dict[str, Any]:
    return {k: encode_value(v) for k, v in inst.fields().items()}


def decode_instance(d: dict[str, Any]) -> Instance:
    return Instance(**{k: decode_value(v) for k, v in d.items()})


# ---------------------------------------------------------------------------------------------
# points

def _encode_point(w) -> dict[str, Any] | None:
    p = w.point
    if p is None:
        return None
    base = getattr(p, "point", p)
    out: dict[str, Any] = {"source": w.point_source, "index": w.point_index,
                           "evaluator": dict(w.evaluator)}
    if hasattr(base, "W") and hasattr(base, "V"):
        for name in ("W", "V", "theta"):
            val = getattr(base, name, None)
            out[name] = None if val is None else encode_value(np.asarray(val, dtype=float))
    else:       # another model's point: its parameters as far as they encode, for the record
        try:
            out["params"] = encode_value(base)
        except WitnessError:
            out["params"] = repr(base)
    for name in ("kind", "branch", "rank_W", "digits"):
        if hasattr(p, name):
            val = getattr(p, name)
            out[name] = int(val) if isinstance(val, (int, np.integer)) else val
    for name in ("value", "grad_norm", "min_hess_eig", "tau_grad", "tau_hess"):
        if hasattr(p, name):
            out[name] = encode_float(getattr(p, name))
    return out


def _point_params(d: dict[str, Any]) -> np.ndarray:
    parts = [decode_value(d["W"]).reshape(-1, order="F"), decode_value(d["V"]).reshape(-1, order="F")]
    if d.get("theta") is not None:
        parts.append(decode_value(d["theta"]).ravel())
    return np.concatenate(parts)


# ---------------------------------------------------------------------------------------------
# the witness document

def _plain(x):
    if x is None:
        return None
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        return str(x)
    if arr.ndim == 0:
        return encode_float(float(arr))
    return {"shape": list(arr.shape), "max_abs": encode_float(float(np.max(np.abs(arr))))
            if arr.size else 0}


def witness_dict(w) -> dict[str, Any]:
    """The deterministic JSON form of a :class:`~proofcheck.search.explore.Counterexample`."""
    from .. import __version__
    claim = w.claim
    cert = w.certificate
    out = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "proofcheck_version": __version__,
        "claim": w.claim_id or claim.mutant_of or claim.id, "mutant": w.mutant,
        "dropped": list(claim.assumed.dropped), "kind": w.kind,
        "margin": encode_float(w.margin), "tolerance": encode_float(w.tolerance),
        "margin_decimal": f"{w.margin:.17g}", "tolerance_decimal": f"{w.tolerance:.17g}",
        "fails": bool(w.fails), "precision": w.precision, "status": w.status,
        "certificate": None if cert is None else {
            "status": getattr(cert, "status", None), "method": getattr(cert, "method", ""),
            "detail": getattr(cert, "detail", "")},
        "sizes": dict(w.sizes), "shrunk_from": w.shrunk_from,
        "lhs": _plain(w.lhs), "rhs": _plain(w.rhs), "tol_source": w.tol_source,
    }
    if w.kind == "identity":
        out["identity"] = w.identity
        out["instance"] = None
        out["point"] = None
    else:
        out["instance"] = encode_instance(w.instance)
        out["point"] = _encode_point(w)
    if w.detail:
        out["detail"] = w.detail
    return out


@dataclass
class WitnessFile:
    """A loaded witness file."""

    path: str
    data: dict[str, Any]
    instance: Instance | None

    @property
    def claim_id(self) -> str:
        return self.data["claim"]

    @property
    def mutant(self) -> str | None:
        return self.data.get("mutant")

    @property
    def dropped(self) -> tuple[str, ...]:
        return tuple(self.data.get("dropped", ()))

    @property
    def margin(self) -> float:
        return decode_float(self.data["margin"])

    @property
    def tolerance(self) -> float:
        return decode_float(self.data["tolerance"])


def save_witness(w, directory: str | Path, *, seed: int | None = None,
                 paths: tuple[str, ...] = (), name: str | None = None) -> Path:
    """Write ``w`` (a Counterexample) to ``directory/<claim>[.<mutant>][.no-<H>].json`` and
    return the path. ``seed`` is the search's seed, ``paths`` the ``--path`` the claim came
    from (replay loads it)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    data = witness_dict(w)
    data["seed"] = seed
    data["paths"] = [str(Path(p).resolve()) for p in paths]
    if name is None:
        name = data["claim"]
        if data["mutant"]:
            name += f".{data['mutant']}"
        for d in data["dropped"]:
            name += f".no-{d}"
        name += ".json"
    path = directory / name
    path.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    return path


def load_witness(path: str | Path, *, decode: bool = True) -> WitnessFile:
    """Read a witness file (the instance is decoded; objects of a user's module need that
    module loaded first: :func:`replay` does that)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WitnessError(f"no witness file {path}") from None
    except json.JSONDecodeError as exc:
        raise WitnessError(f"{path} is not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise WitnessError(f"{path} is not a proofcheck witness file (no \"format\": "
                           f"\"{FORMAT}\")")
    if data.get("format_version") != FORMAT_VERSION:
        raise WitnessError(f"{path} has witness format version {data.get('format_version')}; "
                           f"this proofcheck reads version {FORMAT_VERSION}")
    for key in ("claim", "margin", "tolerance", "kind"):
        if key not in data:
            raise WitnessError(f"{path} has no {key!r}")
    inst = decode_instance(data["instance"]) \
        if decode and data.get("instance") is not None else None
    return WitnessFile(str(path), data, inst)


# ---------------------------------------------------------------------------------------------
# replay

@dataclass
class ReplayResult:
    """What replaying a witness file gave."""

    path: str
    claim_id: str
    mutant: str | None
    dropped: tuple[str, ...]
    saved_margin: float
    margin: float | None
    tolerance: float | None
    fails: bool                 # the margin is below minus its tolerance now
    matches: bool               # the margin's float64 bits equal the saved ones
    admissible: bool = True     # the instance still satisfies / violates the hypotheses
    detail: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def reproduced(self) -> bool:
        return self.fails and self.matches and self.admissible

    def summary(self) -> str:
        what = self.claim_id + (f" (mutant {self.mutant})" if self.mutant else "") + \
            (f" without {', '.join(self.dropped)}" if self.dropped else "")
        if self.margin is None:
            return f"{what}: could not replay: {self.detail}"
        bits = "bit-for-bit" if self.matches else \
            f"NOT bit-for-bit (saved {self.saved_margin!r}, now {self.margin!r})"
        state = "fails" if self.fails else "no longer fails"
        text = f"{what}: {state}: margin {self.margin:.17g} (tol {self.tolerance:.3g}), {bits}"
        if not self.admissible:
            text += "; the instance no longer satisfies the claim's hypotheses as saved"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "claim": self.claim_id, "mutant": self.mutant,
                "dropped": list(self.dropped), "saved_margin": encode_float(self.saved_margin),
                "margin": encode_float(self.margin), "tolerance": encode_float(self.tolerance),
                "margin_decimal": None if self.margin is None else f"{self.margin:.17g}",
                "fails": self.fails, "matches": self.matches, "admissible": self.admissible,
                "reproduced": self.reproduced, "summary": self.summary(),
                "detail": self.detail, "notes": self.notes}


def replay(path: str | Path, *, paths: tuple[str, ...] | None = None) -> ReplayResult:
    """Reproduce the failing margin of a witness file (float64, bit-for-bit).

    The claim is loaded from ``paths`` (default: the paths saved in the file, else the
    bundled catalogue)."""
    from ..catalog import UnknownClaimError, load_claims
    from ..evaluate import Evaluator, admissible
    from ..evaluate import claim_variant as explored_claim

    w = load_witness(path, decode=False)     # objects of a user's module decode after loading
    raw = w.data
    use_paths = list(paths) if paths else list(raw.get("paths") or [])
    registry = load_claims(use_paths or None)
    try:
        claim = registry.get(raw["claim"])
    except UnknownClaimError as exc:
        raise WitnessError(f"{path}: {exc}") from None
    target = explored_claim(claim, tuple(raw.get("dropped", ())), raw.get("mutant"))
    res = ReplayResult(str(path), w.claim_id, w.mutant, w.dropped, w.margin, None, None,
                       False, False)
    if raw["kind"] == "identity":
        return _replay_identity(target, raw, res)
    inst = decode_instance(raw["instance"])
    res.admissible = admissible(target, inst)
    ev_data = (raw.get("point") or {}).get("evaluator") or {}
    evaluator = Evaluator(target, seed=int(ev_data.get("seed", raw.get("seed") or 0)),
                          starts=int(ev_data.get("starts", 4)),
                          digits=int(ev_data.get("digits", 40)))
    from ..errors import ClaimError
    try:
        if evaluator.point_claim:
            point = _rebuild_point(evaluator, inst, raw.get("point"), res)
            if point is None:
                return res
            e = evaluator._at(inst, point)
        else:
            e = evaluator._at(inst, None)
    except ClaimError as exc:        # the claim's code fails on the saved instance now
        res.detail = str(exc)
        return res
    res.margin, res.tolerance = e.margin, e.tolerance
    res.fails = e.fails
    res.matches = e.margin.hex() == w.margin.hex() if math.isfinite(e.margin) \
        else e.margin == w.margin
    return res


def _rebuild_point(evaluator, inst, pdata, res):
    from ..optimize.local_min import certify
    if not pdata:
        res.detail = "the witness file has no point for a point claim"
        return None
    digits = int(pdata.get("digits") or evaluator.digits)
    if pdata.get("source") == "find":
        points = evaluator.find_points(inst)
        k = pdata.get("index")
        if k is None or k >= len(points):
            res.detail = (f"re-running the local-minimum finder gave {len(points)} certified "
                          f"points; the saved one (index {k}) is missing")
            return None
        return points[k]
    land = evaluator.landscape(inst)
    q = certify(land, _point_params(pdata), digits=digits)
    if not evaluator.wanted(q):
        res.detail = f"the saved point no longer certifies as {evaluator.claim.point_kind.value}"
        res.notes.append(f"re-certified kind: {q.kind}")
        return None
    return q


def _replay_identity(target, raw, res):
    from ..symbolic import prove_identity
    info = raw["identity"]
    ids = [i for i in target.identities if i.name == info["name"]]
    if not ids:
        res.detail = f"the claim has no identity {info['name']!r} any more"
        return res
    out = prove_identity(ids[0].build, [info["sizes"]], method=ids[0].method,
                         name=ids[0].name, seed=int(info.get("seed", 0)))
    from ..evaluate import residual_size as _residual_size
    r = _residual_size(out.residual)
    res.margin = -r if r else (-math.inf if out.refuted_at is not None else 0.0)
    res.tolerance = 0.0
    res.fails = out.refuted_at is not None
    res.matches = res.fails and str(out.residual) == str(info.get("residual")) \
        and (res.margin == res.saved_margin)
    res.detail = out.describe()
    return res
