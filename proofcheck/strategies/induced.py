"""Strategies for models with an induced gradient-basis model (:mod:`proofcheck.induced`).

The model family is :class:`proofcheck.networks.Network`: bias-free feedforward networks with
optional skip connections to the output (deep linear, tanh and ReLU networks; ``H = 0`` is a
basis-function model), trained with a per-sample weighted loss ``sum_i lambda_i l(f(x_i), y_i)``.
At a parameter ``theta`` the *gradient basis model* is the linear model in ``alpha`` whose
features are the partial derivatives ``d_k f_x(theta)`` (:func:`proofcheck.induced.gradient_basis`).

>>> from hypothesis import find
>>> P = find(induced_problems(kinds=("deep_linear",)), lambda P: True)
>>> sorted(P)
['J', 'X', 'Y', 'loss', 'model', 'theta', 'weights']
>>> P["J"].shape == (P["X"].shape[0], P["Y"].shape[1], P["model"].n_params)
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st

__all__ = ["INDUCED_KINDS", "INDUCED_LOSSES", "induced_models", "induced_problems"]

#: model kinds: (activation, depth) families of :class:`proofcheck.networks.Network`
INDUCED_KINDS = ("deep_linear", "tanh", "relu", "skip_tanh", "basis")
INDUCED_LOSSES = ("squared", "cross_entropy")


def _loss(name: str):
    from proofcheck.losses import SoftmaxCrossEntropy, SquaredLoss
    return {"squared": SquaredLoss(), "cross_entropy": SoftmaxCrossEntropy()}[name]


def induced_models(kinds: Sequence[str] = INDUCED_KINDS, *, max_width: int = 3,
                   d_x: tuple[int, int] = (1, 3), d_y: tuple[int, int] = (1, 2),
                   offset: bool = False) -> st.SearchStrategy:
    """:class:`proofcheck.networks.Network` objects of the given ``kinds``: ``deep_linear``
    (identity, one or two hidden layers), ``tanh``, ``relu`` (one hidden layer), ``skip_tanh``
    (two tanh layers, both connected to the output), ``basis`` (``H = 0``: f = W x).
    ``offset=True`` adds a fixed output shift c != 0 (the model is then *not* in the span of its
    own partial derivatives: Assumption 2 of the gradient-basis theory fails).

    >>> from hypothesis import find
    >>> find(induced_models(("basis",)), lambda n: True).H
    0
    """
    from proofcheck.networks import Network
    bad = [k for k in kinds if k not in INDUCED_KINDS]
    if bad or not kinds:
        raise ValueError(f"unknown kinds {bad}; known {INDUCED_KINDS}")

    @st.composite
    def draw(draw):
        kind = draw(st.sampled_from(tuple(kinds)))
        dx, dy = draw(st.integers(*d_x)), draw(st.integers(*d_y))
        width = st.integers(1, max_width)
        dims: tuple[int, ...]
        skip: tuple[int, ...] | None = None
        if kind == "basis":
            dims, act = (dx, dy), "identity"
            skip = (0,)
        elif kind == "deep_linear":
            dims, act = (dx, *[draw(width) for _ in range(draw(st.integers(1, 2)))], dy), \
                "identity"
        elif kind == "skip_tanh":
            dims, act, skip = (dx, draw(width), draw(width), dy), "tanh", (1, 2)
        else:
            dims, act = (dx, draw(width), dy), kind
        c = None
        if offset:
            c = tuple(draw(st.sampled_from((-1.5, -0.5, 0.5, 1.5))) for _ in range(dy))
        return Network(dims, act, skip, c)

    return draw()


def induced_problems(kinds: Sequence[str] = INDUCED_KINDS, *,
                     losses: Sequence[str] = INDUCED_LOSSES, m: tuple[int, int] = (1, 5),
                     theta: str = "random", **model_options: Any) -> st.SearchStrategy:
    """A model, data, positive non-uniform weights ``lambda_i`` and a parameter ``theta``, with
    the gradient basis ``J`` (``(m, d_y, n)``: ``J[i] = d f_{x_i} / d theta``) at ``theta``.

    ``theta``: ``"random"`` (Gaussian), ``"zero"`` (theta = 0: a critical point of every
    network with at least one hidden layer, a strict saddle of two-layer linear ones) or
    ``"any"``. Cross-entropy targets are probability rows with positive entries (so minimisers
    exist). Returns ``dict(model, X, Y, weights, loss, theta, J)``.
    """
    from proofcheck.induced import gradient_basis
    if theta not in ("random", "zero", "any"):
        raise ValueError(f"theta must be 'random', 'zero' or 'any', got {theta!r}")
    bad = [n for n in losses if n not in INDUCED_LOSSES]
    if bad or not losses:
        raise ValueError(f"unknown losses {bad}; known {INDUCED_LOSSES}")

    @st.composite
    def draw(draw):
        model = draw(induced_models(kinds, **model_options))
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        n = draw(st.integers(*m))
        loss_name = draw(st.sampled_from(tuple(losses)))
        X = rng.normal(size=(n, model.dims[0]))
        dy = model.dims[-1]
        Y = rng.dirichlet(2.0 * np.ones(dy), size=n) if loss_name == "cross_entropy" \
            else rng.normal(size=(n, dy))
        weights = rng.uniform(0.5, 2.0, size=n)
        kind = theta if theta != "any" else draw(st.sampled_from(("random", "zero")))
        th = np.zeros(model.n_params) if kind == "zero" else rng.normal(size=model.n_params)
        return {"model": model, "X": X, "Y": Y, "weights": weights, "loss": _loss(loss_name),
                "theta": th, "J": gradient_basis(model, X, th)}

    return draw()
