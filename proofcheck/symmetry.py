r"""Parameter symmetries of layered models: a canonical representative of a point's orbit.

Two parameter vectors related by a symmetry of the model (the same function, hence the same
loss landscape around both) are one point of the landscape for counting purposes: an optimiser
that ends in two permuted copies of one minimum has found one minimum, not two. This module
computes, for the hidden units of a layered model, a *canonical representative* of a parameter
vector's orbit under the symmetries that can be quotiented exactly and cheaply:

- **hidden-unit permutations**: units of one hidden layer with the same activation may be
  relabelled (their incoming and outgoing weights permuted together);
- **positive rescaling** of a positively homogeneous unit (ReLU, leaky ReLU of any slope,
  absolute value, linear): incoming weights times ``c > 0``, outgoing weights divided by ``c``;
- **sign flips** of an odd unit (``tanh``, linear: incoming and outgoing weights negated) and of
  an even one (absolute value: incoming weights negated, outgoing unchanged).

The canonical form is computed layer by layer from the input side: each unit's incoming weights
are scaled to unit Euclidean norm (homogeneous units; the scale moves to the outgoing weights),
their sign fixed so that the entry of largest magnitude is positive (odd / even units), then the
units of each activation class are sorted by their weights. Units with zero incoming weights are
left unscaled. The map is idempotent and constant on orbits, except at ties that measure zero
(two units whose weights agree to 8 digits in the sort key, an incoming vector whose two largest
entries have equal magnitude): there two copies of one orbit may get two representatives, so the
count of distinct points can only be too *high*, never merge two points that are not equivalent
up to the comparison tolerance.

**Not quotiented** (documented, not silently assumed):

- the ``GL(d)`` mixing of the *linear* units of one hidden layer (``(W, V) -> (W A, A^{-1} V)``
  in a deep linear network): no continuous canonical form exists on the full-rank matrices (the
  frame bundle over the Grassmannian is not trivial) and pivoted echelon forms split orbits at
  pivot ties; only its diagonal part (rescaling and sign of each linear unit) and the
  permutations are quotiented;
- the ResNet ``h = W(x + V z)`` has no such symmetry: the skip ``x`` pins the basis of the
  hidden space (``W A (x + A^{-1} V z) != W (x + V z)``); its flat directions
  ``V -> V + N`` with ``W N = 0`` are level sets of the loss at one ``W``, not a group action;
- the outgoing weights of a dead unit (zero incoming weights): a flat direction, not a symmetry;
- landscapes with frozen parameters (a ``free`` subset): a symmetry may move a frozen
  parameter, so none is applied.

>>> import numpy as np
>>> layers = [UnitLayer(incoming=((0, 1),), outgoing=((1, 0),), classes=("relu", "relu"),
...                     homogeneous=(True, True), parity=(0, 0))]
>>> sym = LayeredSymmetry([(2, 2), (2, 1)], layers)
>>> W1, W2 = np.array([[1.0, 2.0], [0.0, 1.0]]), np.array([[3.0], [4.0]])
>>> a = np.concatenate([W1.ravel(order="F"), W2.ravel(order="F")])
>>> b = np.concatenate([(W1[:, ::-1] * [2.0, 0.5]).ravel(order="F"),
...                     (W2[::-1] / [[2.0], [0.5]]).ravel(order="F")])   # permuted, rescaled
>>> bool(np.allclose(sym.canonical(a), sym.canonical(b)))
True
>>> sym.description
'hidden-unit permutations, positive rescaling of a unit (in/out weights)'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["UnitLayer", "LayeredSymmetry", "ChartedSymmetry", "network_symmetry",
           "piecewise_landscape_symmetry", "model_landscape_symmetry", "NOT_QUOTIENTED"]

#: the symmetries deliberately left out (see the module docstring), for reports
NOT_QUOTIENTED = ("GL(d) mixing of linear units beyond rescaling and sign",
                  "flat directions of dead units")

#: digits of the sort key: units whose weights agree to this many digits are a tie
_KEY_DIGITS = 8


@dataclass(frozen=True)
class UnitLayer:
    """Where the units of one hidden layer sit in a list of weight matrices.

    ``incoming`` / ``outgoing``: pairs ``(matrix index, axis)``: unit ``k``'s incoming weights
    are ``mats[i].take(k, axis)`` for every incoming pair (likewise outgoing). ``classes``: one
    hashable label per unit (units permute only within a label: the activation); per unit,
    ``homogeneous`` (``sigma(c u) = c sigma(u)`` for ``c > 0``) and ``parity`` (``+1`` odd:
    ``sigma(-u) = -sigma(u)``; ``-1`` even: ``sigma(-u) = sigma(u)``; ``0`` neither)."""

    incoming: tuple[tuple[int, int], ...]
    outgoing: tuple[tuple[int, int], ...]
    classes: tuple[Any, ...]
    homogeneous: tuple[bool, ...]
    parity: tuple[int, ...]

    @property
    def width(self) -> int:
        return len(self.classes)


def _slices(mats: list[np.ndarray], where: Sequence[tuple[int, int]], k: int) -> np.ndarray:
    parts = [np.take(mats[i], k, axis=ax).ravel() for i, ax in where]
    return np.concatenate(parts) if parts else np.zeros(0)


def _scale(mats: list[np.ndarray], where: Sequence[tuple[int, int]], k: int, c: float) -> None:
    for i, ax in where:
        idx: list[Any] = [slice(None)] * mats[i].ndim
        idx[ax] = k
        mats[i][tuple(idx)] *= c


def _permute(mats: list[np.ndarray], where: Sequence[tuple[int, int]],
             order: np.ndarray) -> None:
    for i, ax in where:
        mats[i] = np.take(mats[i], order, axis=ax)


class LayeredSymmetry:
    """The canonical form of a parameter vector ``theta = [vec M_1; vec M_2; ...]`` (column-major
    ``vec``, matrices of the given ``shapes``) under the unit symmetries of ``layers`` (listed
    from the input side). ``description`` names the symmetries quotiented, for reports."""

    def __init__(self, shapes: Sequence[tuple[int, int]], layers: Sequence[UnitLayer]) -> None:
        self.shapes = [tuple(int(d) for d in s) for s in shapes]
        self.layers = list(layers)
        self.size = sum(a * b for a, b in self.shapes)
        names = []
        if any(len(set(L.classes)) < L.width for L in self.layers):
            names.append("hidden-unit permutations")
        if any(any(L.homogeneous) for L in self.layers):
            names.append("positive rescaling of a unit (in/out weights)")
        if any(p == 1 for L in self.layers for p in L.parity):
            names.append("sign flips of odd units")
        if any(p == -1 for L in self.layers for p in L.parity):
            names.append("sign flips of even units' incoming weights")
        self.description = ", ".join(names)

    def __bool__(self) -> bool:
        return bool(self.description)

    def split(self, theta: Any) -> list[np.ndarray]:
        theta = np.asarray(theta, dtype=float)
        if theta.shape != (self.size,):
            raise ValueError(f"theta must have shape ({self.size},), got {theta.shape}")
        out, off = [], 0
        for a, b in self.shapes:
            out.append(theta[off:off + a * b].reshape((a, b), order="F").copy())
            off += a * b
        return out

    def join(self, mats: Sequence[np.ndarray]) -> np.ndarray:
        return np.concatenate([np.asarray(M).ravel(order="F") for M in mats])

    def canonical(self, theta: Any) -> np.ndarray:
        """The canonical representative of ``theta``'s orbit (a new float vector)."""
        mats = self.split(theta)
        for L in self.layers:
            keys = []
            for k in range(L.width):
                inc = _slices(mats, L.incoming, k)
                norm = float(np.linalg.norm(inc))
                if L.homogeneous[k] and norm > 0 and math.isfinite(norm):
                    _scale(mats, L.incoming, k, 1.0 / norm)
                    _scale(mats, L.outgoing, k, norm)
                    inc = inc / norm
                if L.parity[k] != 0 and inc.size and np.max(np.abs(inc)) > 0:
                    big = np.abs(inc) >= (1 - 10.0 ** -_KEY_DIGITS) * np.max(np.abs(inc))
                    if inc[int(np.argmax(big))] < 0:
                        _scale(mats, L.incoming, k, -1.0)
                        if L.parity[k] == 1:
                            _scale(mats, L.outgoing, k, -1.0)
                keys.append(np.concatenate([_slices(mats, L.incoming, k),
                                            _slices(mats, L.outgoing, k)]))
            scale = max((float(np.max(np.abs(v))) for v in keys if v.size), default=0.0) or 1.0
            order = np.arange(L.width)
            for label in dict.fromkeys(L.classes):
                idx = [k for k in range(L.width) if L.classes[k] == label]
                ranked = sorted(idx, key=lambda k: tuple(np.round(keys[k] / scale, _KEY_DIGITS)))
                order[idx] = ranked
            _permute(mats, L.incoming, order)
            _permute(mats, L.outgoing, order)
        return self.join(mats)


# ---------------------------------------------------------------------------------------------
# the layered models of the kernel

#: (homogeneous, parity) of the smooth units whose traits are known
_SMOOTH_TRAITS = {"tanh": (False, 1)}


def _unit_traits(a: Any) -> tuple[Any, bool, int]:
    """(class label, homogeneous, parity) of one unit: a piecewise-linear unit
    ``sigma(u) = pos u`` (u > 0), ``neg u`` (u < 0) is positively homogeneous, odd when
    ``neg = pos`` and even when ``neg = -pos``; a smooth unit has the traits of
    :data:`_SMOOTH_TRAITS` (an unknown one permutes only with its own kind)."""
    if hasattr(a, "neg") and hasattr(a, "pos"):
        neg, pos = float(a.neg), float(a.pos)
        parity = 1 if neg == pos else (-1 if neg == -pos else 0)
        return (neg, pos), True, parity
    name = str(getattr(a, "name", a))
    homogeneous, parity = _SMOOTH_TRAITS.get(name, (False, 0))
    return name, homogeneous, parity


def network_symmetry(net: Any) -> LayeredSymmetry:
    """The unit symmetries of a :class:`proofcheck.networks.Network`, skips and smooth units
    included (weights ``W^(l)`` of shape ``(d_{l-1}, d_l)``, output blocks ``Wout^(l+1)`` of the
    layers in ``skip``: unit ``k`` of hidden layer ``l`` has column ``k`` of ``W^(l)`` in, row
    ``k`` of ``W^(l+1)`` and of ``Wout^(l+1)`` out; a fixed output offset is no parameter)."""
    blocks = list(net.blocks)
    index = {b.name: i for i, b in enumerate(blocks)}
    layers = []
    for l, units in enumerate(net.activations, start=1):
        traits = [_unit_traits(a) for a in units]
        out = tuple((index[n], 0) for n in (f"W{l + 1}", f"Wout{l + 1}") if n in index)
        layers.append(UnitLayer(incoming=((index[f"W{l}"], 1),), outgoing=out,
                                classes=tuple(t[0] for t in traits),
                                homogeneous=tuple(t[1] for t in traits),
                                parity=tuple(t[2] for t in traits)))
    return LayeredSymmetry([tuple(b.shape) for b in blocks], layers)


class ChartedSymmetry:
    """A symmetry of ``theta`` read in a landscape's chart (its parameters are ``theta[chart]``,
    a permutation): the canonical form is taken in theta's own coordinates."""

    def __init__(self, inner: LayeredSymmetry, chart: Any) -> None:
        self.inner = inner
        self.chart = np.asarray(chart, dtype=int)
        self.description = inner.description

    def __bool__(self) -> bool:
        return bool(self.inner)

    def canonical(self, params: Any) -> np.ndarray:
        theta = np.empty(self.chart.shape[0])
        theta[self.chart] = np.asarray(params, dtype=float)
        return self.inner.canonical(theta)[self.chart]


def piecewise_landscape_symmetry(land: Any) -> LayeredSymmetry | None:
    """The symmetries of a piecewise-linear network's landscape (none with frozen parameters)."""
    free = getattr(land, "free", None)
    if free is not None and not np.all(free):
        return None
    return network_symmetry(land.net)


def model_landscape_symmetry(land: Any) -> ChartedSymmetry | None:
    """The symmetries of a model landscape whose parameters all vary (its points carry the full
    theta, in the landscape's chart); None when some are frozen or the model is not a layered
    network."""
    from .networks import Network
    model = land.model
    if not isinstance(model, Network) or len(land.free) != model.n_params:
        return None
    return ChartedSymmetry(network_symmetry(model), land.chart)


def _register() -> None:
    from .evaluate import register_symmetry
    from .optimize.critical import ModelLandscape
    from .optimize.piecewise import PiecewiseLandscape
    register_symmetry(PiecewiseLandscape, piecewise_landscape_symmetry)
    register_symmetry(ModelLandscape, model_landscape_symmetry)


_register()
