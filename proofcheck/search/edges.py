"""Edge cases: strategies that push drawn instances towards the degenerate cases where proofs
usually break.

Random data are generic: full rank, distinct rows, no exact ties. Statements about projections,
ranks and piecewise losses fail on the *non-generic* set, which random draws hit with
probability zero. :func:`edge_cases` wraps any instance strategy and perturbs each draw by one
of:

``zero_entries``     a random subset of one array's entries set to 0
``zero_field``       a whole array (or float field) set to 0
``zero_row``         one row (sample) of every array with that many rows set to 0
``zero_column``      one column of one matrix set to 0 (exact rank deficiency)
``duplicate_column`` one column copied onto another (exact rank deficiency; exact in float64)
``scaled_column``    a column set to 2 x another (exact in float64: powers of two)
``repeated_row``     one sample copied onto another, consistently across the arrays of the data
``integers``         an array rounded to integers (ties and kinks: y h = 1, h = 0, ...)
``halves``           an array rounded to multiples of 1/2
``tiny`` / ``huge``  an array scaled by 2^-20 / 2^20 (exact): near-zero scale, saturation

Shapes, integer fields, objects and the values of integer-valued arrays (labels, one-hot
targets: they only follow repeated rows) are left alone, so a perturbed instance stays well-formed;
whether it still satisfies the claim's hypotheses is decided by the caller (the explorer
re-checks every hypothesis and skips variants that leave the requested class).

>>> from hypothesis import find, strategies as st
>>> from proofcheck.claims import Instance
>>> base = st.just(Instance(X=np.array([[1.5, 2.5], [3.5, 4.5]])))
>>> inst = find(edge_cases(base), lambda i: np.linalg.matrix_rank(i.X) == 1)
>>> int(np.linalg.matrix_rank(inst.X))
1
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ..claims import Instance

__all__ = ["EDGE_KINDS", "edge_cases", "perturb"]

EDGE_KINDS = ("zero_entries", "zero_field", "zero_row", "zero_column", "duplicate_column",
              "scaled_column", "repeated_row", "integers", "halves", "tiny", "huge")


def _float_arrays(inst: Instance, *, labels: bool = False) -> list[str]:
    """Float arrays whose values may be edited; integer-valued arrays (one-hot or +-1 labels)
    only with ``labels=True`` (they follow row operations, their values are not edited)."""
    return [k for k, v in inst.fields().items()
            if isinstance(v, np.ndarray) and v.dtype.kind == "f" and v.size
            and (labels or not np.all(v == np.round(v)))]


def _matrices(inst: Instance) -> list[str]:
    return [k for k in _float_arrays(inst) if inst.fields()[k].ndim == 2]


def edge_cases(strategy) -> st.SearchStrategy:
    """Instances of ``strategy``, each pushed towards one edge case (see the module doc)."""
    return strategy.flatmap(lambda inst: perturb(inst))


@st.composite
def perturb(draw, inst: Instance) -> Instance:
    """One edge-case perturbation of ``inst`` (unchanged when it has no float arrays)."""
    kind = draw(st.sampled_from(EDGE_KINDS))
    arrays = _float_arrays(inst)
    floats = [k for k, v in inst.fields().items() if isinstance(v, float)]
    if not arrays and not floats:
        return inst
    fields = inst.fields()
    if not arrays:          # only float fields: zero or round one of them
        name = draw(st.sampled_from(floats))
        v = fields[name]
        new = {"zero_field": 0.0, "integers": float(round(v)), "halves": round(2 * v) / 2,
               "tiny": v * 2.0 ** -20, "huge": v * 2.0 ** 20}.get(kind, 0.0)
        return inst.replace(**{name: new})
    name = draw(st.sampled_from(arrays))
    A = np.array(fields[name], dtype=float, copy=True)
    if kind == "zero_entries":
        mask = np.asarray(draw(st.lists(st.booleans(), min_size=A.size, max_size=A.size)),
                          dtype=bool).reshape(A.shape)
        A[mask] = 0.0
    elif kind == "zero_field":
        A[...] = 0.0
    elif kind == "integers":
        A = np.round(A)
    elif kind == "halves":
        A = np.round(2 * A) / 2
    elif kind == "tiny":
        A = A * 2.0 ** -20
    elif kind == "huge":
        A = A * 2.0 ** 20
    elif kind in ("zero_row", "repeated_row"):
        return _rows(draw, inst, name, kind)
    elif A.ndim >= 2 and A.shape[-1] >= 1:      # column edits
        n = A.shape[-1]
        j = draw(st.integers(0, n - 1))
        if kind == "zero_column":
            A[..., j] = 0.0
        elif n >= 2:
            i = draw(st.integers(0, n - 1).filter(lambda i: i != j))
            A[..., j] = A[..., i] if kind == "duplicate_column" else 2.0 * A[..., i]
    return inst.replace(**{name: A})


def _rows(draw, inst: Instance, name: str, kind: str) -> Instance:
    """Zero or repeat one sample: the same row of every array whose leading axis has as many
    rows as ``name`` (the data arrays X, Y, Z of one data set)."""
    fields = inst.fields()
    m = fields[name].shape[0]
    group = [k for k in _float_arrays(inst, labels=True)
             if fields[k].ndim >= 1 and fields[k].shape[0] == m]
    i = draw(st.integers(0, m - 1))
    changes = {}
    if kind == "zero_row":
        data = [k for k in group if k in _float_arrays(inst)]
        for k in data if draw(st.booleans()) else [name]:
            A = np.array(fields[k], dtype=float, copy=True)
            A[i] = 0.0
            changes[k] = A
    elif m >= 2:
        j = draw(st.integers(0, m - 1).filter(lambda j: j != i))
        for k in group:
            A = np.array(fields[k], dtype=float, copy=True)
            A[j] = A[i]
            changes[k] = A
    # integer-valued label arrays with this many rows (one-hot / ±1 targets) follow the repeat
    if kind == "repeated_row" and m >= 2:
        for k, v in fields.items():
            if k not in changes and isinstance(v, np.ndarray) and v.ndim >= 1 \
                    and v.shape[0] == m and v.dtype.kind in "if":
                A = np.array(v, copy=True)
                A[j] = A[i]
                changes[k] = A
    return inst.replace(**changes)
