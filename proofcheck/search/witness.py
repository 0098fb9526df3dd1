"""Witness files: a counterexample saved as exact JSON, loaded back and replayed bit-for-bit.

A witness file is **plain data**: reading one never imports a module, never calls a function
named in the file and never guesses what a number means. Everything in it is one of the
encodings below (format version 2, documented as a JSON Schema in
``docs/witness.schema.json``); anything else is rejected with a one-line
:class:`WitnessError` that names the field.

=========================================  ===============================================
value                                      JSON form
=========================================  ===============================================
``None``, ``True``, a ``str``              ``null``, ``true``, ``"text"``
an integer (int64 range)                   a JSON integer
a float64                                  ``{"float": "0x1.999999999999ap-4"}`` (exactly
                                           ``float.hex``; also ``"inf"``, ``"-inf"``, ``"nan"``)
a ``Fraction``                             ``{"fraction": "-3/4"}``
a NumPy array                              ``{"array": {"dtype": "float64", "shape": [2, 2],
                                           "values": [...]}}`` (values row-major and flat,
                                           each in the form of its dtype)
a list / tuple / dict                      ``{"list": [...]}``, ``{"tuple": [...]}``,
                                           ``{"dict": {"key": value}}``
a registered object (a loss, ...)          ``{"object": {"kind": "loss", "name":
                                           "smoothed_hinge", "params": {"p": 2}}}``
=========================================  ===============================================

A float is never a bare JSON number (``0.5`` is rejected: write ``{"float": "0x1.0p-1"}``) and
a string is never read as a number. Objects come from a registry of known names with typed
parameters (:func:`register_codec`; the losses of :mod:`proofcheck.losses` are built in); a
user's claim module registers its own classes, and they are known once that module is loaded
with ``--path``: the witness file itself never names code to run (its ``paths`` field is only
a note of where the claim came from).

>>> encode_value(np.array([0.5, 0.1]))["array"]["values"]
['0x1.0000000000000p-1', '0x1.999999999999ap-4']
>>> decode_value(encode_value(np.array([0.1, 2.0]))).tolist()
[0.1, 2.0]
>>> decode_value({"float": "0.5"})   # doctest: +ELLIPSIS
Traceback (most recent call last):
...
proofcheck.search.witness.WitnessError: field float: '0.5' is not a float64 written as ...

:func:`replay` loads the claim, rebuilds the instance (and the point, by re-certifying it from
its saved float64 parameters), re-checks the hypotheses, recomputes the margin and compares its
bits with the saved ones.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import typing
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from collections.abc import Callable, Collection
from typing import Any

import numpy as np

from ..claims import Instance

__all__ = ["FORMAT", "FORMAT_VERSION", "ReplayResult", "WitnessFile", "WitnessError",
           "decode_float", "decode_value", "encode_float", "encode_value", "known_objects",
           "load_witness", "register_codec", "register_dataclass", "replay", "save_witness",
           "witness_dict"]

FORMAT = "proofcheck-witness"
FORMAT_VERSION = 2
#: Limits of what a witness file may hold (a hostile file must not exhaust memory or stack).
MAX_FILE_BYTES = 64 * 2 ** 20
MAX_DEPTH = 32
MAX_ARRAY_SIZE = 10 ** 7
MAX_INT_DIGITS = 19             # int64
MAX_FRACTION_DIGITS = 400
MAX_SIZE = 64                   # identity sizes replay may rebuild symbolically
MAX_STARTS = 1000
MAX_DIGITS = 2000


class WitnessError(ValueError):
    """A witness file that cannot be written, read or replayed (the message says why, on one
    line, naming the field)."""


def _show(v: Any) -> str:
    """A short one-line rendering of a bad value for an error message."""
    if isinstance(v, _JSONConstant):
        return v.text
    text = repr(v)
    text = text.replace("\n", " ").replace("\r", " ")
    return text if len(text) <= 60 else text[:57] + "..."


def _fail(where: str, message: str) -> typing.NoReturn:
    raise WitnessError(f"field {where or 'value'}: {message}")


# ---------------------------------------------------------------------------------------------
# exact numbers

_HEX = re.compile(r"-?0x[01]\.[0-9a-f]{13}p[+-][0-9]{1,4}\Z")
_FRACTION = re.compile(r"-?[0-9]+/[0-9]+\Z")


def encode_float(x: Any) -> str | None:
    """The exact text of a float64: ``float.hex`` (``"inf"``, ``"-inf"``, ``"nan"``); None
    stays None.

    >>> encode_float(0.1), encode_float(-0.0), encode_float(float("inf"))
    ('0x1.999999999999ap-4', '-0x0.0p+0', 'inf')
    """
    if x is None:
        return None
    return float(x).hex()


def decode_float(v: Any, where: str = "") -> float:
    """Inverse of :func:`encode_float`; only the exact canonical ``float.hex`` text is read
    (``"0.5"`` or ``"abc"`` is an error, never a guess).

    >>> decode_float("0x1.8000000000000p+1")
    3.0
    """
    if not isinstance(v, str):
        _fail(where, f"expected a float64 as float.hex text, got {_show(v)}")
    if v in ("inf", "-inf", "nan") or v in ("0x0.0p+0", "-0x0.0p+0"):
        return float.fromhex(v) if "x" in v else float(v)
    if _HEX.match(v):
        x = float.fromhex(v)
        if x.hex() == v:
            return x
    _fail(where, f"{_show(v)} is not a float64 written as float.hex (e.g. "
                 '"0x1.0000000000000p-1"), "inf", "-inf" or "nan"')


def _float_value(x: Any) -> dict[str, Any]:
    return {"float": encode_float(x)}


def _int(v: Any, where: str, *, minimum: int | None = None) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        _fail(where, f"expected an integer, got {_show(v)}")
    if abs(v) >= 2 ** 63:
        _fail(where, f"integer {_show(v)} is outside the int64 range")
    if minimum is not None and v < minimum:
        _fail(where, f"expected an integer >= {minimum}, got {v}")
    return v


def _str(v: Any, where: str) -> str:
    if not isinstance(v, str):
        _fail(where, f"expected a string, got {_show(v)}")
    return v


def _bool(v: Any, where: str) -> bool:
    if not isinstance(v, bool):
        _fail(where, f"expected true or false, got {_show(v)}")
    return v


def _fraction(v: Any, where: str) -> Fraction:
    if not isinstance(v, str) or not _FRACTION.match(v) or len(v) > MAX_FRACTION_DIGITS:
        _fail(where, f'expected a fraction "p/q" (integers p, q > 0), got {_show(v)}')
    p, q = v.split("/")
    if int(q) == 0:
        _fail(where, f"fraction {v} has a zero denominator")
    return Fraction(int(p), int(q))


# ---------------------------------------------------------------------------------------------
# the registry of known objects


@dataclass(frozen=True)
class _Codec:
    kind: str
    name: str
    cls: type
    params: dict[str, str]
    to_params: Callable[[Any], dict[str, Any]]
    from_params: Callable[..., Any]


_CODECS: dict[tuple[str, str], _Codec] = {}
_BY_CLASS: dict[type, _Codec] = {}
_PARAM_TYPES = ("int", "real", "float", "bool", "str", "fraction", "array", "value")


def register_codec(cls: type, name: str, params: dict[str, str], *, kind: str = "object",
                   to_params: Callable[[Any], dict[str, Any]] | None = None,
                   from_params: Callable[..., Any] | None = None) -> None:
    """Make objects of ``cls`` savable in witness files as ``{"object": {"kind": kind,
    "name": name, "params": {...}}}``.

    ``params`` maps each parameter to its type: ``int``, ``real`` (an int or a float64, kept
    as it was), ``float``, ``bool``, ``str``, ``fraction``, ``array`` or ``value`` (any value
    of the module doc's table). ``to_params(obj)`` gives the parameters (default: the
    dataclass fields), ``from_params(**params)`` rebuilds the object (default: ``cls``).
    Only registered classes are ever constructed when a witness file is read.
    """
    bad = {k: t for k, t in params.items() if t not in _PARAM_TYPES}
    if bad:
        raise ValueError(f"unknown parameter types {bad}; known: {', '.join(_PARAM_TYPES)}")
    if to_params is None:
        def to_params(obj: Any) -> dict[str, Any]:
            return {k: getattr(obj, k) for k in params}
    codec = _Codec(kind, name, cls, dict(params), to_params, from_params or cls)
    _CODECS[(kind, name)] = codec
    _BY_CLASS[cls] = codec


def register_dataclass(cls: type, name: str | None = None, *, kind: str = "object") -> type:
    """Register a dataclass whose init fields are numbers, strings, fractions or arrays (types
    read from its annotations); usable as a class decorator. Returns ``cls``."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls.__name__} is not a dataclass: use register_codec")
    try:
        hints = typing.get_type_hints(cls)
    except Exception:       # unresolvable annotations: fall back on their text
        hints = {f.name: f.type for f in dataclasses.fields(cls)}
    mapping = {int: "int", float: "real", bool: "bool", str: "str", Fraction: "fraction",
               np.ndarray: "array", "int": "int", "float": "real", "bool": "bool",
               "str": "str", "Fraction": "fraction", "np.ndarray": "array"}
    params = {}
    for f in dataclasses.fields(cls):
        if f.init:
            params[f.name] = mapping.get(hints.get(f.name), "value")
    register_codec(cls, name or cls.__name__.lower(), params, kind=kind)
    return cls


def _builtin_codecs() -> None:
    if ("loss", "squared") in _CODECS:
        return
    from .. import losses as L
    register_codec(L.SquaredLoss, "squared", {}, kind="loss")
    register_codec(L.SoftmaxCrossEntropy, "softmax_cross_entropy", {}, kind="loss")
    register_codec(L.LogisticLoss, "logistic", {}, kind="loss")
    register_codec(L.SmoothedHinge, "smoothed_hinge", {"p": "real"}, kind="loss")
    register_codec(L.TiltedDoubleWell, "tilted_double_well", {"a": "real"}, kind="loss")
    # the units of proofcheck.networks (what proofcheck.strategies.pl_problems draws)
    from .. import networks as nw
    register_codec(nw.PiecewiseLinear, "piecewise_linear",
                   {"name": "str", "neg": "real", "pos": "real"}, kind="activation")


def known_objects() -> list[str]:
    """``kind:name`` of every registered object type (sorted).

    >>> "loss:squared" in known_objects()
    True
    """
    _builtin_codecs()
    return sorted(f"{k}:{n}" for k, n in _CODECS)


# ---------------------------------------------------------------------------------------------
# values

_DTYPES = {"float64": np.float64, "int64": np.int64, "int32": np.int32, "int16": np.int16,
           "int8": np.int8, "uint64": np.uint64, "uint32": np.uint32, "uint16": np.uint16,
           "uint8": np.uint8, "bool": np.bool_}


def _encode_param(v: Any, typ: str, where: str) -> Any:
    if typ == "real" and isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return int(v)
    if typ in ("real", "float"):
        return _float_value(v)
    return encode_value(v)


def encode_value(v: Any) -> Any:
    """Exact JSON form of an instance field (see the module doc)."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        if abs(int(v)) >= 2 ** 63:
            raise WitnessError(f"integer {v} is outside the int64 range of witness files")
        return int(v)
    if isinstance(v, (float, np.floating)):
        return _float_value(v)
    if isinstance(v, Fraction):
        return {"fraction": f"{v.numerator}/{v.denominator}"}
    if isinstance(v, np.ndarray):
        vals: list[Any]
        if v.dtype.kind == "f":
            vals = [encode_float(x) for x in np.asarray(v, dtype=float).ravel()]
            dtype = "float64"
        elif v.dtype.name in _DTYPES:
            vals = [bool(x) if v.dtype.kind == "b" else int(x) for x in v.ravel()]
            dtype = v.dtype.name
        else:
            raise WitnessError(f"arrays of dtype {v.dtype} cannot be saved exactly")
        return {"array": {"dtype": dtype, "shape": [int(s) for s in v.shape], "values": vals}}
    if isinstance(v, (list, tuple)):
        return {"tuple" if isinstance(v, tuple) else "list": [encode_value(x) for x in v]}
    if isinstance(v, dict):
        return {"dict": {str(k): encode_value(x) for k, x in v.items()}}
    _builtin_codecs()
    codec = _BY_CLASS.get(type(v))
    if codec is not None:
        params = codec.to_params(v)
        return {"object": {"kind": codec.kind, "name": codec.name,
                           "params": {k: _encode_param(params[k], t, k)
                                      for k, t in codec.params.items()}}}
    raise WitnessError(f"a {type(v).__name__} cannot be saved in a witness file: register "
                       "its class with proofcheck.search.witness.register_dataclass (or "
                       "register_codec)")


def _one_key(v: Any, where: str) -> tuple[str, Any]:
    if not isinstance(v, dict) or len(v) != 1:
        keys = sorted(v) if isinstance(v, dict) else None
        _fail(where, "expected null, true/false, an integer, a string or one of {\"float\": "
                     "...}, {\"fraction\": ...}, {\"array\": ...}, {\"list\": ...}, "
                     "{\"tuple\": ...}, {\"dict\": ...}, {\"object\": ...}; got "
                     + (f"an object with keys {keys}" if keys is not None else _show(v)))
    ((tag, body),) = v.items()
    return tag, body


def _check_keys(d: Any, where: str, required: set[str],
                optional: Collection[str] = frozenset()) -> dict:
    if not isinstance(d, dict):
        _fail(where, f"expected a JSON object, got {_show(d)}")
    missing = required - set(d)
    if missing:
        _fail(where, f"missing {', '.join(sorted(missing))}")
    extra = set(d) - required - set(optional)
    if extra:
        _fail(where, f"unknown key(s) {', '.join(sorted(map(str, extra)))}")
    return d


def _decode_array(body: Any, where: str) -> np.ndarray:
    _check_keys(body, where, {"dtype", "shape", "values"})
    dtype = body["dtype"]
    if not isinstance(dtype, str) or dtype not in _DTYPES:
        _fail(where + ".dtype", f"unknown dtype {_show(dtype)}; known: {', '.join(_DTYPES)}")
    shape = body["shape"]
    if not isinstance(shape, list) or len(shape) > MAX_DEPTH:
        _fail(where + ".shape", f"expected a list of at most {MAX_DEPTH} sizes, got "
                                f"{_show(shape)}")
    dims = [_int(s, f"{where}.shape[{k}]", minimum=0) for k, s in enumerate(shape)]
    size = math.prod(dims)
    if size > MAX_ARRAY_SIZE:
        _fail(where + ".shape", f"{size} entries exceed the limit of {MAX_ARRAY_SIZE}")
    values = body["values"]
    if not isinstance(values, list) or len(values) != size:
        _fail(where + ".values", f"expected a flat list of {size} entries (shape {dims}), got "
                                 + (f"{len(values)} entries" if isinstance(values, list)
                                    else _show(values)))
    if dtype == "float64":
        flat = [decode_float(x, f"{where}.values[{k}]") for k, x in enumerate(values)]
        return np.array(flat, dtype=float).reshape(dims)
    if dtype == "bool":
        flat = [_bool(x, f"{where}.values[{k}]") for k, x in enumerate(values)]
        return np.array(flat, dtype=bool).reshape(dims)
    info = np.iinfo(_DTYPES[dtype])
    ints = []
    for k, x in enumerate(values):
        n = x if isinstance(x, int) and not isinstance(x, bool) else None
        if n is None or not info.min <= n <= info.max:
            _fail(f"{where}.values[{k}]", f"expected a {dtype} integer, got {_show(x)}")
        ints.append(n)
    return np.array(ints, dtype=_DTYPES[dtype]).reshape(dims)


def _decode_object(body: Any, where: str, resolve: bool) -> Any:
    _check_keys(body, where, {"kind", "name", "params"})
    kind, name = _str(body["kind"], where + ".kind"), _str(body["name"], where + ".name")
    params = _check_keys(body["params"], where + ".params", set(), set(body["params"])
                         if isinstance(body["params"], dict) else set())
    _builtin_codecs()
    codec = _CODECS.get((kind, name))
    if codec is None:
        if not resolve:     # a user's class, checked once its module is loaded
            return {k: decode_value(x, f"{where}.params.{k}") for k, x in params.items()}
        known = ", ".join(n for k, n in sorted(_CODECS) if k == kind) or "none"
        _fail(where, f"unknown {_show(kind)} named {_show(name)} (known {kind} names: {known}; "
                     "a class of a user's claim module is known once that module is loaded "
                     "with --path and registers it)")
    _check_keys(params, where + ".params", set(codec.params))
    out: dict[str, Any] = {}
    for k, typ in codec.params.items():
        here, x = f"{where}.params.{k}", params[k]
        if typ == "int":
            out[k] = _int(x, here)
        elif typ == "bool":
            out[k] = _bool(x, here)
        elif typ == "str":
            out[k] = _str(x, here)
        elif typ == "real" and isinstance(x, int) and not isinstance(x, bool):
            out[k] = _int(x, here)
        elif typ in ("real", "float"):
            tag, body2 = _one_key(x, here)
            if tag != "float":
                _fail(here, f"expected {{\"float\": ...}}, got {{\"{tag}\": ...}}")
            out[k] = decode_float(body2, here + ".float")
        elif typ == "fraction":
            tag, body2 = _one_key(x, here)
            if tag != "fraction":
                _fail(here, f"expected {{\"fraction\": ...}}, got {{\"{tag}\": ...}}")
            out[k] = _fraction(body2, here + ".fraction")
        elif typ == "array":
            tag, body2 = _one_key(x, here)
            if tag != "array":
                _fail(here, f"expected {{\"array\": ...}}, got {{\"{tag}\": ...}}")
            out[k] = _decode_array(body2, here + ".array")
        else:
            out[k] = decode_value(x, here, _depth=1)
    try:
        return codec.from_params(**out)
    except (TypeError, ValueError, ArithmeticError) as exc:
        _fail(where, f"invalid parameters for {kind} {name}: "
                     f"{_show(str(exc))}")


def decode_value(v: Any, where: str = "", *, resolve: bool = True, _depth: int = 0) -> Any:
    """Inverse of :func:`encode_value`; anything else raises :class:`WitnessError` naming the
    field ``where``. With ``resolve=False`` objects of unregistered names are only checked for
    shape (replay resolves them after loading the claim's module)."""
    if _depth > MAX_DEPTH:
        _fail(where, f"nested deeper than {MAX_DEPTH} levels")
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return _int(v, where)
    if isinstance(v, (float, _JSONConstant)):
        _fail(where, f"the JSON number {_show(v)} is not an exact encoding: write a float as "
                     '{"float": "<float.hex>"}')
    if isinstance(v, list):
        _fail(where, 'a bare JSON list; write {"list": [...]} or {"array": {...}}')
    tag, body = _one_key(v, where)
    here = f"{where}.{tag}" if where else tag
    if tag == "float":
        return decode_float(body, here)
    if tag == "fraction":
        return _fraction(body, here)
    if tag == "array":
        return _decode_array(body, here)
    if tag in ("list", "tuple"):
        if not isinstance(body, list):
            _fail(here, f"expected a JSON list, got {_show(body)}")
        items = [decode_value(x, f"{here}[{k}]", resolve=resolve, _depth=_depth + 1)
                 for k, x in enumerate(body)]
        return tuple(items) if tag == "tuple" else items
    if tag == "dict":
        if not isinstance(body, dict):
            _fail(here, f"expected a JSON object, got {_show(body)}")
        return {k: decode_value(x, f"{here}.{k}", resolve=resolve, _depth=_depth + 1)
                for k, x in body.items()}
    if tag == "object":
        return _decode_object(body, here, resolve)
    _fail(where, f"unknown tag {_show(tag)}; known: float, fraction, array, list, tuple, dict, "
                 "object")


def encode_instance(inst: Instance) -> dict[str, Any]:
    return {k: encode_value(v) for k, v in inst.fields().items()}


def decode_instance(d: Any, where: str = "instance", *, resolve: bool = True) -> Instance:
    if not isinstance(d, dict):
        _fail(where, f"expected a JSON object of named fields, got {_show(d)}")
    for k in d:
        if not k.isidentifier():
            _fail(where, f"instance field name {_show(k)} is not an identifier")
    return Instance(**{k: decode_value(v, f"{where}.{k}", resolve=resolve)
                       for k, v in d.items()})


# ---------------------------------------------------------------------------------------------
# points

def _encode_point(w) -> dict[str, Any] | None:
    p = w.point
    if p is None:
        return None
    base = getattr(p, "point", p)
    out: dict[str, Any] = {"source": w.point_source, "index": w.point_index,
                           "evaluator": {k: int(v) for k, v in dict(w.evaluator).items()}}
    if hasattr(base, "W") and hasattr(base, "V"):
        for name in ("W", "V", "theta"):
            val = getattr(base, name, None)
            out[name] = None if val is None else encode_value(np.asarray(val, dtype=float))
    else:       # another model's point: its parameters as far as they encode, for the record
        try:
            out["params"] = encode_value(base)
        except WitnessError:
            out["params"] = repr(base)
    for name in ("kind", "branch"):
        if hasattr(p, name):
            val = getattr(p, name)
            out[name] = None if val is None else str(getattr(val, "value", val))
    for name in ("rank_W", "digits"):
        if hasattr(p, name):
            val = getattr(p, name)
            out[name] = None if val is None else int(val)
    for name in ("value", "grad_norm", "min_hess_eig", "tau_grad", "tau_hess"):
        if hasattr(p, name):
            val = getattr(p, name)
            out[name] = None if val is None else _float_value(val)
    return out


def _point_params(d: dict[str, Any]) -> np.ndarray:
    parts = [decode_value(d["W"], "point.W").reshape(-1, order="F"),
             decode_value(d["V"], "point.V").reshape(-1, order="F")]
    if d.get("theta") is not None:
        parts.append(decode_value(d["theta"], "point.theta").ravel())
    return np.concatenate(parts)


# ---------------------------------------------------------------------------------------------
# the witness document

def _plain(x: Any) -> Any:
    """A summary of a side of the conclusion, for the record (never read back as data)."""
    if x is None:
        return None
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        return str(x)
    if arr.ndim == 0:
        return _float_value(float(arr))
    return {"array_summary": {"shape": [int(s) for s in arr.shape],
                              "max_abs": _float_value(float(np.max(np.abs(arr)))
                                                      if arr.size else 0.0)}}


def _plain_dict(d: dict[str, Any] | None) -> dict[str, Any] | None:
    if d is None:
        return None
    out = {}
    for k, v in d.items():
        try:
            out[str(k)] = encode_value(v)
        except WitnessError:
            out[str(k)] = str(v)
    return out


def _text_tree(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return [_text_tree(x) for x in v]
    return str(v)


def witness_dict(w) -> dict[str, Any]:
    """The deterministic JSON form of a :class:`~proofcheck.search.explore.Counterexample`."""
    from .. import __version__
    claim = w.claim
    cert = w.certificate
    out: dict[str, Any] = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "proofcheck_version": __version__,
        "claim": w.claim_id or claim.mutant_of or claim.id, "mutant": w.mutant,
        "dropped": list(claim.assumed.dropped), "kind": w.kind,
        "margin": _float_value(w.margin), "tolerance": _float_value(w.tolerance),
        "margin_decimal": f"{w.margin:.17g}", "tolerance_decimal": f"{w.tolerance:.17g}",
        "fails": bool(w.fails), "precision": str(w.precision), "status": str(w.status),
        "grade": str(getattr(w, "grade", "sampled")),
        "certificate": None if cert is None else {
            "status": None if getattr(cert, "status", None) is None else str(cert.status),
            "method": str(getattr(cert, "method", "")),
            "detail": str(getattr(cert, "detail", ""))},
        "sizes": _plain_dict(dict(w.sizes)), "shrunk_from": _plain_dict(w.shrunk_from),
        "lhs": _plain(w.lhs), "rhs": _plain(w.rhs), "tol_source": str(w.tol_source or ""),
    }
    if w.kind == "identity":
        info = dict(w.identity or {})
        out["identity"] = {
            "name": str(info.get("name")), "method": str(info.get("method")),
            "seed": int(info.get("seed") or 0),
            "sizes": {str(k): int(v) for k, v in (info.get("sizes") or {}).items()},
            "values": {str(k): _text_tree(v) for k, v in (info.get("values") or {}).items()},
            "residual": None if info.get("residual") is None else str(info["residual"]),
            "reason": None if info.get("reason") is None else str(info["reason"])}
        out["instance"] = None
        out["point"] = None
    else:
        out["instance"] = encode_instance(w.instance)
        out["point"] = _encode_point(w)
    if w.detail:
        out["detail"] = str(w.detail)
    layout = getattr(claim, "layout", None)
    if layout is not None:
        out["layout"] = str(layout.name)
    return out


# the document's fields and their checks (the JSON Schema docs/witness.schema.json says the
# same; tests/test_witness_fuzz.py keeps the two in agreement)

def _opt(check: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    def inner(v: Any, where: str) -> Any:
        return None if v is None else check(v, where)
    return inner


def _float_field(v: Any, where: str) -> float:
    tag, body = _one_key(v, where)
    if tag != "float":
        _fail(where, f'expected {{"float": "<float.hex>"}}, got {{"{tag}": ...}}')
    return decode_float(body, where + ".float")


def _str_list(v: Any, where: str) -> list[str]:
    if not isinstance(v, list):
        _fail(where, f"expected a list of strings, got {_show(v)}")
    return [_str(x, f"{where}[{k}]") for k, x in enumerate(v)]


def _value_map(v: Any, where: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        _fail(where, f"expected a JSON object, got {_show(v)}")
    return {k: decode_value(x, f"{where}.{k}", resolve=False) for k, x in v.items()}


_SHAPE = re.compile(r"^(scalar|[0-9]{1,9}(x[0-9]{1,9}){0,7})$")


def _shape_map(v: Any, where: str) -> dict[str, Any]:
    """The ``sizes`` of a witness (:func:`proofcheck.search.shrink.sizes_of`): each an array's
    shape (``"6x2"``, ``"scalar"``) or an integer field of the instance."""
    if not isinstance(v, dict):
        _fail(where, f"expected a JSON object of sizes, got {_show(v)}")
    out: dict[str, Any] = {}
    for k, x in v.items():
        if isinstance(x, str) and _SHAPE.match(x):
            out[k] = x
        elif isinstance(x, int) and not isinstance(x, bool) and abs(x) < 10**9:
            out[k] = x
        else:
            _fail(f"{where}.{k}", f"expected a shape such as \"6x2\" or a size, got {_show(x)}")
    return out


def _int_map(v: Any, where: str) -> dict[str, int]:
    if not isinstance(v, dict):
        _fail(where, f"expected a JSON object of integers, got {_show(v)}")
    return {k: _int(x, f"{where}.{k}") for k, x in v.items()}


def _texts(v: Any, where: str, depth: int = 0) -> Any:
    if isinstance(v, str):
        return v
    if isinstance(v, list) and depth < 3:
        return [_texts(x, f"{where}[{k}]", depth + 1) for k, x in enumerate(v)]
    _fail(where, f"expected a string or a (nested) list of strings, got {_show(v)}")


def _enum(*choices: str) -> Callable[[Any, str], str]:
    def inner(v: Any, where: str) -> str:
        if v not in choices:
            _fail(where, f"expected one of {', '.join(choices)}, got {_show(v)}")
        return v
    return inner


def _record(fields: dict[str, Callable[[Any, str], Any]],
            optional: Collection[str] = frozenset()) -> Callable[[Any, str], Any]:
    def inner(v: Any, where: str) -> Any:
        _check_keys(v, where, set(fields) - set(optional), set(optional))
        for k, check in fields.items():
            if k in v:
                check(v[k], f"{where}.{k}" if where else k)
        return v
    return inner


def _summary(v: Any, where: str) -> Any:
    if isinstance(v, str):
        return v
    tag, body = _one_key(v, where)
    if tag == "float":
        return decode_float(body, where + ".float")
    if tag == "array_summary":
        return _record({"shape": lambda s, w: [_int(x, f"{w}[{k}]", minimum=0)
                                              for k, x in enumerate(_list(s, w))],
                        "max_abs": _float_field})(body, where + ".array_summary")
    _fail(where, f'expected a string, {{"float": ...}} or {{"array_summary": ...}}, got '
                 f'{{"{tag}": ...}}')


def _list(v: Any, where: str) -> list:
    if not isinstance(v, list):
        _fail(where, f"expected a JSON list, got {_show(v)}")
    return v


def _any_value(v: Any, where: str) -> Any:
    return decode_value(v, where, resolve=False)


def _instance_fields(v: Any, where: str) -> Any:
    return decode_instance(v, where, resolve=False)


def _point_params_field(v: Any, where: str) -> Any:
    return v if isinstance(v, str) else decode_value(v, where, resolve=False)


_ARRAY = _opt(lambda v, w: _check_array(v, w))


def _check_array(v: Any, where: str) -> np.ndarray:
    tag, body = _one_key(v, where)
    if tag != "array":
        _fail(where, f'expected {{"array": ...}}, got {{"{tag}": ...}}')
    return _decode_array(body, where + ".array")


_POINT = _record({
    "source": _opt(_enum("certify", "find")), "index": _opt(lambda v, w: _int(v, w, minimum=0)),
    "evaluator": _record({"seed": _int, "starts": lambda v, w: _int(v, w, minimum=1),
                          "digits": lambda v, w: _int(v, w, minimum=1)},
                         {"seed", "starts", "digits"}),
    "W": _ARRAY, "V": _ARRAY, "theta": _ARRAY, "params": _point_params_field,
    "kind": _opt(_str), "branch": _opt(_str), "rank_W": _opt(_int), "digits": _opt(
        lambda v, w: _int(v, w, minimum=1)),
    "value": _opt(_float_field), "grad_norm": _opt(_float_field),
    "min_hess_eig": _opt(_float_field), "tau_grad": _opt(_float_field),
    "tau_hess": _opt(_float_field),
}, {"W", "V", "theta", "params", "kind", "branch", "rank_W", "digits", "value", "grad_norm",
    "min_hess_eig", "tau_grad", "tau_hess"})

_IDENTITY = _record({
    "name": _str, "method": _str, "seed": _int, "sizes": _int_map,
    "values": lambda v, w: {k: _texts(x, f"{w}.{k}") for k, x in _value_dict(v, w).items()},
    "residual": _opt(_str), "reason": _opt(_str)})


def _value_dict(v: Any, where: str) -> dict:
    if not isinstance(v, dict):
        _fail(where, f"expected a JSON object, got {_show(v)}")
    return v


_DOCUMENT = _record({
    "format": _enum(FORMAT), "format_version": lambda v, w: _int(v, w),
    "proofcheck_version": _str, "claim": _str, "mutant": _opt(_str), "dropped": _str_list,
    "kind": _enum("instance", "identity"), "margin": _float_field, "tolerance": _float_field,
    "margin_decimal": _str, "tolerance_decimal": _str, "fails": _bool, "precision": _str,
    "status": _str, "grade": _enum("sampled", "high-precision", "certified", "proven"),
    "certificate": _opt(_record({"status": _opt(_str), "method": _str, "detail": _str})),
    "sizes": _shape_map, "shrunk_from": _opt(_shape_map), "lhs": _opt(_summary),
    "rhs": _opt(_summary), "tol_source": _str, "instance": _opt(_instance_fields),
    "point": _opt(_POINT), "identity": _IDENTITY, "detail": _str, "seed": _opt(_int),
    "paths": _str_list, "layout": _opt(_str),
}, {"identity", "detail", "seed", "paths", "lhs", "rhs", "shrunk_from", "certificate", "point",
    "instance", "tol_source", "margin_decimal", "tolerance_decimal", "precision", "status",
    "sizes", "proofcheck_version", "layout", "grade"})


def validate_witness(data: Any) -> dict[str, Any]:
    """Check a parsed witness document field by field (objects of unregistered names are
    checked for shape only); return it or raise :class:`WitnessError` naming the field."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise WitnessError(f'not a proofcheck witness file (no "format": "{FORMAT}")')
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise WitnessError(f"witness format version {_show(version)}; this proofcheck reads "
                           f"version {FORMAT_VERSION} (re-create the file with `proofcheck "
                           "explore --save-witness`)")
    _DOCUMENT(data, "")
    if data["kind"] == "identity" and "identity" not in data:
        _fail("identity", "missing (the witness's kind is identity)")
    if data["kind"] == "instance" and data.get("instance") is None:
        _fail("instance", "missing (the witness's kind is instance)")
    return data


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
        return _float_field(self.data["margin"], "margin")

    @property
    def tolerance(self) -> float:
        return _float_field(self.data["tolerance"], "tolerance")


def save_witness(w, directory: str | Path, *, seed: int | None = None,
                 paths: tuple[str, ...] = (), name: str | None = None) -> Path:
    """Write ``w`` (a Counterexample) to ``directory/<claim>[.<mutant>][.no-<H>].json``
    (atomically: a temporary file in the folder, then renamed) and return the path. ``seed``
    is the search's seed, ``paths`` the ``--path`` the claim came from (recorded, never
    loaded by replay on its own)."""
    from ..outputs import write_atomic
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    data = witness_dict(w)
    data["seed"] = seed
    data["paths"] = [str(Path(p).resolve()) for p in paths]
    validate_witness(json.loads(json.dumps(data)))     # what we write, we can read
    if name is None:
        name = data["claim"]
        if data["mutant"]:
            name += f".{data['mutant']}"
        for d in data["dropped"]:
            name += f".no-{d}"
        name += ".json"
    path = directory / name
    write_atomic(path, json.dumps(data, indent=1, sort_keys=False) + "\n")
    return path


class _JSONConstant:
    """A JSON number the witness format does not allow (a bare float, NaN, Infinity, a huge
    integer): kept as text so the field check can name where it is."""

    def __init__(self, text: str):
        self.text = text


def _parse_int(text: str) -> Any:
    return _JSONConstant(text) if len(text.lstrip("-")) > MAX_INT_DIGITS else int(text)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise WitnessError(f"key {_show(k)} appears twice in one object")
        out[k] = v
    return out


def parse_witness_text(text: str) -> dict[str, Any]:
    """Parse and check the text of a witness file (no object is built)."""
    try:
        data = json.loads(text, parse_float=_JSONConstant, parse_constant=_JSONConstant,
                          parse_int=_parse_int, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise WitnessError(f"not JSON (truncated or malformed): {exc}") from None
    except RecursionError:
        raise WitnessError(f"nested deeper than {MAX_DEPTH} levels") from None
    except WitnessError:
        raise
    except ValueError as exc:
        raise WitnessError(f"not JSON: {_show(str(exc))}") from None
    return validate_witness(data)


def load_witness(path: str | Path, *, decode: bool = True) -> WitnessFile:
    """Read a witness file: parsed and checked field by field; with ``decode`` the instance is
    rebuilt (objects of a user's module need that module loaded first: :func:`replay` does
    that). Every problem is a one-line :class:`WitnessError`."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise WitnessError(f"{path}: {size} bytes exceed the limit of {MAX_FILE_BYTES}")
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise WitnessError(f"no witness file {path}") from None
    except UnicodeDecodeError:
        raise WitnessError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise WitnessError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        data = parse_witness_text(text)
        inst = decode_instance(data["instance"]) \
            if decode and data.get("instance") is not None else None
    except WitnessError as exc:
        raise WitnessError(f"{path}: {exc}") from None
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
    #: the judge's ladder on the reproduced failure (:func:`proofcheck.judge.judge`), as in
    #: ``check``: ``decided`` True (a failure at ``grade``), False (a higher rung found none: a
    #: float64 rounding artefact), None (not judged: the margin does not fail in float64)
    decided: bool | None = None
    grade: str = ""
    certification: str = ""
    enclosure: tuple[str, str] | None = None
    precision: str = ""

    @property
    def reproduced(self) -> bool:
        return self.fails and self.matches and self.admissible

    @property
    def refutes(self) -> bool:
        """The failure is reproduced and decided by the judge (at :attr:`grade`)."""
        return self.fails and self.admissible and self.decided is True

    @property
    def certified(self) -> bool:
        """Decided by exact or interval arithmetic (or a proof), as ``check`` means it."""
        from ..judge import grade_rank
        return self.refutes and grade_rank(self.grade) >= grade_rank("certified")

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
        if self.decided is True:
            text += f"; {self.grade}: {self.certification}"
        elif self.decided is False:
            text += f"; not a failure: {self.certification}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "claim": self.claim_id, "mutant": self.mutant,
                "dropped": list(self.dropped), "saved_margin": _float_value(self.saved_margin),
                "margin": None if self.margin is None else _float_value(self.margin),
                "tolerance": None if self.tolerance is None else _float_value(self.tolerance),
                "margin_decimal": None if self.margin is None else f"{self.margin:.17g}",
                "fails": self.fails, "matches": self.matches, "admissible": self.admissible,
                "reproduced": self.reproduced, "decided": self.decided,
                "refutes": self.refutes, "certified": self.certified,
                "evidence": {"grade": self.grade or None},
                "certification": self.certification,
                "enclosure": list(self.enclosure) if self.enclosure else None,
                "precision": self.precision, "summary": self.summary(),
                "detail": self.detail, "notes": self.notes}


def replay(path: str | Path, *, paths: tuple[str, ...] | None = None) -> ReplayResult:
    """Reproduce the failing margin of a witness file (float64, bit-for-bit).

    The claim is loaded from ``paths`` (default: the bundled catalogue). The ``paths`` saved
    in the file are never loaded by themselves: a witness file is data and names no code to
    run; when the claim is not found the error says which ``--path`` to pass."""
    from ..catalog import UnknownClaimError, load_claims
    from ..errors import ExploreError
    from ..evaluate import Evaluator, admissible
    from ..evaluate import claim_variant as explored_claim

    w = load_witness(path, decode=False)     # objects of a user's module decode after loading
    raw = w.data
    registry = load_claims(list(paths) if paths else None)
    try:
        claim = registry.get(raw["claim"])
    except UnknownClaimError as exc:
        saved = raw.get("paths") or []
        hint = ("; it was saved from claims loaded with --path " + " --path ".join(saved)
                + ": replay never loads code named in a witness file, pass --path yourself"
                if saved and not paths else "")
        raise WitnessError(f"{path}: field claim: {exc}{hint}") from None
    try:
        target = explored_claim(claim, tuple(raw.get("dropped", ())), raw.get("mutant"))
    except ExploreError as exc:      # an unknown mutant or hypothesis name in the file
        where = "mutant" if "mutant" in str(exc) else "dropped"
        raise WitnessError(f"{path}: field {where}: {exc}") from None
    res = ReplayResult(str(path), w.claim_id, w.mutant, w.dropped, w.margin, None, None,
                       False, False)
    if raw["kind"] == "identity":
        big = {k: v for k, v in raw["identity"]["sizes"].items() if not 0 <= v <= MAX_SIZE}
        if big:
            raise WitnessError(f"{path}: field identity.sizes: sizes {big} outside 0..{MAX_SIZE}")
        return _replay_identity(target, raw, res)
    _check_layout(path, claim, raw)
    try:
        inst = decode_instance(raw["instance"])
    except WitnessError as exc:
        raise WitnessError(f"{path}: {exc}") from None
    res.admissible = admissible(target, inst)
    ev_data = (raw.get("point") or {}).get("evaluator") or {}
    settings = {"seed": int(ev_data.get("seed", raw.get("seed") or 0)),
                "starts": int(ev_data.get("starts", 4)), "digits": int(ev_data.get("digits", 40))}
    for key, top in (("starts", MAX_STARTS), ("digits", MAX_DIGITS)):
        if settings[key] > top:
            raise WitnessError(f"{path}: field point.evaluator.{key}: {settings[key]} exceeds "
                               f"{top}")
    evaluator = Evaluator(target, seed=settings["seed"], starts=settings["starts"],
                          digits=settings["digits"])
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
    if res.fails:
        _judge(res, target, inst, point if evaluator.point_claim else None,
               settings["digits"])
    return res


def _judge(res: ReplayResult, target: Any, inst: Instance, point: Any, digits: int) -> None:
    """The judge's ladder on a reproduced failure, exactly as ``check`` climbs it for its own
    witnesses (float64 -> mpmath -> exact -> balls -> certified point / decision procedure):
    the replayed witness gets the grade ``check`` would give it."""
    from ..errors import ClaimError
    from ..judge import judge
    try:
        j = judge(target, inst, point, digits=max(int(digits), 16))
    except ClaimError as exc:
        res.decided, res.certification = None, f"the judge could not evaluate it: {exc}"
        return
    res.decided = True if j.fails is True else False if j.fails is False else None
    res.grade = j.grade if j.fails is True else ""
    res.certification, res.enclosure, res.precision = j.certification, j.enclosure, j.precision


def _check_layout(path: str | Path, claim: Any, raw: dict[str, Any]) -> None:
    """Refuse a file whose parameter vectors may be in another layout than the claim reads.

    A claim that declares a :class:`~proofcheck.claims.ParameterLayout` reads the instance
    fields it names in that layout; a file that holds such a field must say it was saved under
    the same layout name (files saved before the claim declared one say nothing), else the
    numbers would be silently misread as parameters of another shape or order."""
    layout = getattr(claim, "layout", None)
    inst = raw.get("instance") or {}
    if layout is None:
        return
    held = [f for f in layout.fields if f in inst]
    if not held:
        return
    saved = raw.get("layout")
    if saved == layout.name:
        return
    what = ", ".join(held)
    how = (f"the file says nothing about the layout of {what} (it was saved before "
           f"{claim.id} declared one)" if saved is None
           else f"the file stores {what} in layout {_show(saved)}")
    desc = f" ({layout.description})" if layout.description else ""
    again = (f"proofcheck explore {claim.id}"
             + (f" --mutate {raw['mutant']}" if raw.get("mutant") else "")
             + "".join(f" --drop {h}" for h in raw.get("dropped") or ()) + " --save-witness DIR")
    raise WitnessError(f"{path}: field layout: {how}, and {claim.id} reads {what} in layout "
                       f"{layout.name!r}{desc}: not replayed, since the numbers would be "
                       f"misread; re-create the file with `{again}`")


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
    if pdata.get("W") is None or pdata.get("V") is None:
        # only a ResNet point (W, V[, theta]) is saved as data; another model's point is a
        # note (its finder is re-run: source "find"), never parameters to guess a layout for
        res.detail = ("the saved point has no W and V to re-certify from (source "
                      f"{pdata.get('source')!r}); re-create the witness with explore")
        return None
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
    if res.fails:       # an exact refutation, graded as check grades a failed identity
        res.decided, res.grade, res.precision = True, "certified", "exact"
        res.certification = ("exact identity check at sizes " + str(dict(info["sizes"]))
                             + (" (sympy expansion)" if ids[0].method == "symbolic"
                                else " (exact rationals at the seeded random point)"))
    return res
