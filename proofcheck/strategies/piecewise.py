"""Strategies for piecewise-linear networks: activations, weights, activation patterns, strata.

The model family is :class:`proofcheck.networks.Network`: bias-free fully connected networks
whose hidden units are positively homogeneous with one kink at 0 (ReLU, leaky ReLU, absolute
value, identity), ``Yhat = sigma(... sigma(X W^(1)) ...) W^(H+1)``.

A statement about such networks usually breaks on a *stratum* of parameter space where the
activation pattern is not locally constant. :func:`pl_problems` draws a problem in the stratum
you ask for, constructed exactly (small integers, so the defining zeros are exact zeros in
float64, not rounding):

``"generic"``   whatever the draw gives (almost surely no pre-activation is zero);
``"kink"``      one sample sits exactly on one hidden unit's hyperplane: ``G^(l)_{i,k} = 0``;
``"dead"``      one hidden unit has zero incoming weights: its output is 0 on every sample (and
                it sits on its kink at every sample);
``"zero_out"``  one hidden unit has zero outgoing weights: it does not reach the output.

>>> from hypothesis import find
>>> P = find(pl_problems(stratum="kink"), lambda P: True)
>>> sorted(P)
['Ws', 'X', 'Y', 'net', 'pattern', 'stratum', 'unit']
>>> l, k, i = P["unit"]
>>> from proofcheck.networks import forward
>>> float(forward(P["net"], P["Ws"], P["X"]).G[l - 1][i, k])
0.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st

__all__ = ["PL_ACTIVATIONS", "STRATA", "pl_activations", "pl_networks", "pl_problems",
           "pl_weights"]

#: activation names understood by :func:`pl_activations` (leaky slopes are dyadic: exact)
PL_ACTIVATIONS = ("relu", "leaky_relu", "abs", "identity")
STRATA = ("generic", "kink", "dead", "zero_out")


def _activation(name: str, slope: float = 0.5):
    from proofcheck import networks as N
    return {"relu": N.RELU, "abs": N.ABS, "identity": N.IDENTITY}.get(name) \
        or N.leaky_relu(slope)


def pl_activations(names: Sequence[str] = ("relu", "leaky_relu", "abs")) -> st.SearchStrategy:
    """One :class:`~proofcheck.networks.Activation` among ``names`` (leaky ReLU slopes drawn
    from the dyadic 0, 1/4, 1/2, -1/2, so the network stays exact on integer data).

    >>> from hypothesis import find
    >>> find(pl_activations(("abs",)), lambda a: True)
    abs
    """
    bad = [n for n in names if n not in PL_ACTIVATIONS]
    if bad or not names:
        raise ValueError(f"unknown activations {bad}; known {PL_ACTIVATIONS}")
    return st.sampled_from(tuple(names)).flatmap(
        lambda n: st.sampled_from((0.25, 0.5, -0.5)).map(lambda s: _activation(n, s))
        if n == "leaky_relu" else st.just(_activation(n)))


def pl_networks(*, depth: tuple[int, int] = (1, 2), width: tuple[int, int] = (1, 3),
                d_in: tuple[int, int] = (1, 3), d_out: tuple[int, int] = (1, 2),
                activations: Sequence[str] = ("relu", "leaky_relu", "abs"),
                per_unit: bool = False) -> st.SearchStrategy:
    """:class:`~proofcheck.networks.Network` objects: ``depth`` hidden layers (inclusive
    range), each of ``width`` units, input ``d_in`` and output ``d_out``; one activation per
    layer, or per unit with ``per_unit=True`` (mixed networks, e.g. ReLU next to linear units).

    >>> from hypothesis import find
    >>> find(pl_networks(depth=(2, 2)), lambda n: True).H
    2
    """
    from proofcheck.networks import Network

    @st.composite
    def draw(draw):
        H = draw(st.integers(*depth))
        widths = [draw(st.integers(*d_in))] + [draw(st.integers(*width)) for _ in range(H)] \
            + [draw(st.integers(*d_out))]
        acts = pl_activations(activations)
        if per_unit:
            layers = [[draw(acts) for _ in range(widths[l])] for l in range(1, H + 1)]
        else:
            layers = [draw(acts) for _ in range(H)]
        return Network(widths, layers)

    return draw()


def pl_weights(net, *, bound: int = 2) -> st.SearchStrategy[list[np.ndarray]]:
    """Integer-valued float64 weights ``[W^(1), ..., W^(H+1)]`` of ``net`` in
    ``[-bound, bound]`` (exact: every forward pass on integer data is exact in float64).

    >>> from hypothesis import find
    >>> from proofcheck.networks import Network, RELU
    >>> [W.shape for W in find(pl_weights(Network((2, 3, 1), RELU)), lambda Ws: True)]
    [(2, 3), (3, 1)]
    """
    from hypothesis.extra.numpy import arrays
    ints = st.integers(-bound, bound).map(float)
    return st.tuples(*(arrays(np.float64, s, elements=ints) for s in net.shapes)).map(list)


def _orthogonal_integer(phi: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``w`` changed in at most two entries so that ``phi @ w == 0`` exactly (integers)."""
    w = w.copy()
    nz = np.flatnonzero(phi)
    if nz.size == 0:
        return w
    if nz.size == 1:
        w[nz[0]] = 0.0
        return w
    j1, j2 = nz[0], nz[1]
    w[nz] = 0.0
    w[j1], w[j2] = phi[j2], -phi[j1]
    return w


def pl_problems(*, stratum: str | None = None, m: tuple[int, int] = (1, 5),
                bound: int = 2, **network_options: Any) -> st.SearchStrategy[dict[str, Any]]:
    """A network, integer weights and integer data in a chosen stratum (module doc).

    Returns ``dict(net, Ws, X (m, d_0), Y (m, d_{H+1}), pattern, stratum, unit)``: ``pattern``
    is the activation pattern (:func:`proofcheck.networks.activation_pattern`: one ``(m, d_l)``
    array of derivatives per hidden layer, 0 at a kink of a non-linear unit), ``unit`` the
    ``(layer l, unit k, sample i)`` the stratum is about (``None`` for ``"generic"``; ``i`` is
    ``None`` for ``"dead"`` and ``"zero_out"``). ``stratum=None`` draws one of :data:`STRATA`.
    ``network_options`` go to :func:`pl_networks`.
    """
    from hypothesis.extra.numpy import arrays

    from proofcheck.networks import activation_pattern, forward
    if stratum is not None and stratum not in STRATA:
        raise ValueError(f"unknown stratum {stratum!r}; known {STRATA}")
    ints = st.integers(-bound, bound).map(float)

    @st.composite
    def draw(draw):
        net = draw(pl_networks(**network_options))
        Ws = draw(pl_weights(net, bound=bound))
        n = draw(st.integers(*m))
        X = draw(arrays(np.float64, (n, net.widths[0]), elements=ints))
        Y = draw(arrays(np.float64, (n, net.widths[-1]), elements=ints))
        kind = stratum if stratum is not None else draw(st.sampled_from(STRATA))
        unit = None
        if kind != "generic":
            l = draw(st.integers(1, net.H))
            k = draw(st.integers(0, net.widths[l] - 1))
            if kind == "kink":
                i = draw(st.integers(0, n - 1))
                if not np.any(X[i]):      # a zero sample is on every hyperplane: move it
                    X[i, 0] = 1.0
                phi = forward(net, Ws, X).Phi[l - 1][i]
                Ws[l - 1][:, k] = _orthogonal_integer(phi, Ws[l - 1][:, k])
                unit = (l, k, i)
            elif kind == "dead":
                Ws[l - 1][:, k] = 0.0
                unit = (l, k, None)
            else:
                Ws[l][k, :] = 0.0
                unit = (l, k, None)
        return {"net": net, "Ws": Ws, "X": X, "Y": Y,
                "pattern": activation_pattern(net, Ws, X), "stratum": kind, "unit": unit}

    return draw()
