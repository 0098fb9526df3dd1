r"""Fully connected networks without biases: the one network class, and the activation-pattern
calculus of positively homogeneous ones.

:class:`Network` covers every network of the catalogue: one :class:`Activation` per hidden unit
(piecewise-linear :class:`PiecewiseLinear` units ``RELU``, ``ABS``, ``IDENTITY``,
:func:`leaky_relu`, or smooth :class:`SmoothActivation` units such as ``TANH``), optional skip
connections from hidden layers to the output, an optional fixed output offset, and ``H = 0``
(the basis-function model ``f = x W``).  Its model interface (:meth:`Network.hidden`,
:meth:`Network.outputs`, :meth:`Network.jacobian`, :meth:`Network.pack` /
:meth:`Network.unpack`) works on every network, in float64 and on mpmath object arrays; it is
what landscapes and the induced models (:mod:`proofcheck.induced`) use.

The rest of this module is the calculus of a positively homogeneous chain (default skip, no
offset, piecewise-linear units), in the notation of the depth-and-width literature on local
minima of deep networks (reconstruction: ``shared/papers/khk-statements.md`` Part I); those
functions refuse any other network with :class:`NotHomogeneousError`:

* data ``X`` (``m x d_0``, rows are samples) and ``Y`` (``m x d_{H+1}``);
* weights ``W^(l)`` of shape ``(d_{l-1}, d_l)``, ``l = 1..H+1``;
  ``theta = [vec W^(1); ...; vec W^(H+1)]`` with column-major ``vec``;
* ``G^(l) = Phi^(l-1) W^(l)`` (pre-activations), ``Phi^(l) = sigma(G^(l))``, ``Phi^(0) = X``,
  ``Yhat = Phi^(H) W^(H+1)``; loss ``L = 1/2 ||Yhat - Y||_F^2``;
* the activation pattern ``Lambda_{l,k}``: diagonal ``m x m`` with the derivative of unit
  ``(l, k)`` at each sample, **0 where the derivative does not exist** (a kink of a non-linear
  unit); a linear unit has derivative 1 everywhere, kinks included.  Here a pattern is stored as
  the ``(m, d_l)`` array of diagonals;
* back-propagation coefficients ``C^(l)`` (``(m, d_y, d_l)``) and the matrices
  ``D^(l) = [D^(l)_1 ... D^(l)_{d_l}]`` with
  ``(D^(l)_k)_{(c-1)m+i, p} = C^(l)_{i,c,k} Phi^(l-1)_{i,p}``
  (the per-sample form of the path sum of Theorem 1), and ``D^(H+1)_1 = I_{d_y} (x) Phi^(H)``;
* ``J(theta) = 1/2 ||Y||^2 - sum_b 1/2 ||P[N_b D_b] vec Y||^2``
  ``= 1/2 ||P_N[[D, D^(H+1)_1]] vec Y||^2``
  (right-hand side of Theorem 1, eq. 4.2), in the Gram-Schmidt form and the projection form.

Every activation admitted by the paper is positively homogeneous with one kink at 0:
``sigma(u) = s_+ u`` for ``u > 0`` and ``s_- u`` for ``u < 0``.  So ``sigma(u) = sigma'(u) u``
wherever the derivative exists and ``sigma(0) = 0``: ``Phi^(l) = Lambda (.) G^(l)`` at *every*
theta, which is why Lemma 1 (``vec Yhat = D^(l) vec W^(l)``) holds at kinks too.

>>> import numpy as np
>>> net = Network((2, 3, 1), RELU)
>>> Ws = net.random_weights(np.random.default_rng(0))
>>> X = np.random.default_rng(1).normal(size=(4, 2))
>>> f = forward(net, Ws, X)
>>> [a.shape for a in f.Phi], f.Yhat.shape
([(4, 2), (4, 3)], (4, 1))
>>> np.allclose(jacobian(net, Ws, X) @ net.flatten(Ws), 2 * f.Yhat.ravel(order="F"))
True

(The last line is Euler's identity for the degree-(H+1) homogeneous map theta -> Yhat, H = 1.)

Everything works on float64 arrays; :func:`forward`, :func:`activation_pattern`,
:func:`backprop_coefficients` and :func:`d_blocks` also accept complex arrays (complex-step
derivatives within a fixed pattern, see ``pattern=``) and numpy object arrays of mpmath numbers
(high precision), since they only use ``@``, ``*`` and comparisons of real parts.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from fractions import Fraction
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import mpmath
import numpy as np

from . import linalg
from .errors import UsageError
from .linalg import unvec, vec  # H2: the one numeric vec/unvec (re-exported)

__all__ = [
    "Activation", "PiecewiseLinear", "SmoothActivation", "RELU", "ABS", "IDENTITY", "TANH",
    "ACTIVATIONS", "leaky_relu", "NotHomogeneousError", "require_homogeneous",
    "Network", "Block", "Forward", "forward", "activation_pattern", "backprop_coefficients",
    "d_blocks", "d_block_list", "block_order", "jacobian", "jacobian_exact", "loss", "gradient",
    "residual",
    "JValue", "gram_schmidt_bases", "J_gram_schmidt", "J_projection", "J_mpmath",
    "J_projection_mp", "J_gram_schmidt_mp", "hessian_in_pattern",
    "pre_activation_margin", "locally_zero_rows", "locally_zero_entries",
    "linear_acting_units", "separated_linear_units", "directional_derivative", "vec", "unvec",
]


# ---------------------------------------------------------------------------------------------
# activations

def _real(u):
    """Real part for comparisons (complex-step arrays, mpc object arrays); u itself otherwise."""
    if isinstance(u, np.ndarray) and u.dtype == object:
        return np.vectorize(lambda z: z.real if isinstance(z, mpmath.mpc) else z,
                            otypes=[object])(u)
    return np.real(u)


def _is_object(a) -> bool:
    return isinstance(a, np.ndarray) and a.dtype == object


class Activation:
    """One hidden unit's nonlinearity ``sigma``: a positively homogeneous piecewise-linear unit
    (:class:`PiecewiseLinear`: ``RELU``, ``ABS``, ``IDENTITY``, :func:`leaky_relu`) or a smooth
    one (:class:`SmoothActivation`: ``TANH``).

    Every activation has a ``name``, ``value(u)`` and ``derivative(u)`` (float64, complex-step
    and mpmath object arrays), the points ``kinks`` where the derivative does not exist,
    ``is_linear`` and ``homogeneous`` (``sigma(c u) = c sigma(u)`` for ``c > 0``: what the
    activation-pattern calculus of this module needs).
    """

    name: str
    homogeneous: bool = False

    @property
    def is_linear(self) -> bool:
        return False

    @property
    def kinks(self) -> tuple[float, ...]:
        return ()

    def value(self, u):
        raise NotImplementedError

    def derivative(self, u):
        raise NotImplementedError

    def __repr__(self):
        return self.name


@dataclass(frozen=True, repr=False)
class PiecewiseLinear(Activation):
    """A positively homogeneous piecewise-linear unit: slope ``neg`` on ``u < 0``,
    ``pos`` on ``u > 0``.

    ``derivative`` follows the paper's convention for ``Lambda``: 0 at the kink ``u = 0`` unless
    the unit is linear (``neg == pos``), where the derivative exists everywhere.

    >>> (RELU.value(np.array([-2.0, 0.0, 3.0])).tolist(),
    ...  RELU.derivative(np.array([-2.0, 0.0, 3.0])).tolist())
    ([-0.0, 0.0, 3.0], [0.0, 0.0, 1.0])
    >>> (ABS.derivative(np.array([-1.0, 0.0])).tolist(),
    ...  IDENTITY.derivative(np.array([0.0])).tolist())
    ([-1.0, 0.0], [1.0])
    """

    name: str
    neg: float
    pos: float = 1.0
    homogeneous = True

    def __post_init__(self):
        for v in (self.neg, self.pos):
            if not (isinstance(v, numbers.Real) and math.isfinite(v)):
                raise ValueError(f"activation slopes must be finite reals, got {v!r}")

    @property
    def is_linear(self) -> bool:
        return self.neg == self.pos

    @property
    def kinks(self) -> tuple[float, ...]:
        """Points where the derivative does not exist: ``(0.0,)``, or ``()`` for a linear unit."""
        return () if self.is_linear else (0.0,)

    def derivative(self, u):
        """``sigma'(u)``, 0 at a kink (the paper's ``Lambda`` convention)."""
        r = _real(u)
        pos = np.asarray(r > 0, dtype=bool)
        neg = np.asarray(r < 0, dtype=bool)
        at_kink = self.pos if self.is_linear else 0.0
        return np.where(pos, self.pos, np.where(neg, self.neg, at_kink)).astype(float)

    def value(self, u):
        """``sigma(u) = sigma'(u) u`` (exact also at the kink, since sigma(0) = 0)."""
        return self.derivative(u) * np.asarray(u)


@dataclass(frozen=True, repr=False)
class SmoothActivation(Activation):
    """A smooth unit: ``function`` on float64 arrays, ``function_mp`` on one mpmath number and
    ``slope(u, value)`` its derivative.  Not positively homogeneous: the activation-pattern
    functions of this module refuse networks with such units.

    >>> TANH.value(np.array([0.0])).tolist(), TANH.derivative(np.array([0.0])).tolist()
    ([0.0], [1.0])
    """

    name: str
    function: Callable
    function_mp: Callable
    slope: Callable

    def value(self, u):
        if _is_object(u):
            return np.vectorize(self.function_mp, otypes=[object])(u)
        return self.function(u)

    def derivative(self, u):
        return self.slope(u, self.value(u))


RELU = PiecewiseLinear("relu", 0.0, 1.0)
ABS = PiecewiseLinear("abs", -1.0, 1.0)
IDENTITY = PiecewiseLinear("identity", 1.0, 1.0)


def _tanh_mp(u):
    return mpmath.tanh(u)


def _tanh_slope(u, t):
    return 1 - t * t


TANH = SmoothActivation("tanh", np.tanh, _tanh_mp, _tanh_slope)

#: activations by name (a :class:`Network` accepts these names for its ``activations``)
ACTIVATIONS: dict[str, Activation] = {a.name: a for a in (IDENTITY, TANH, RELU, ABS)}


def leaky_relu(a: float) -> PiecewiseLinear:
    """``max(a u, u)`` for ``a <= 1`` (slope ``a`` on the negative side); ``a = 1`` is linear.

    The paper admits ``a <= 1`` ([R]: printed "a1"); its Proposition 2 proof needs
    ``|a| <= 1``.  ``a > 1`` is refused because ``max(a u, u)`` then has slope 1 on the
    negative side, a different unit.

    >>> leaky_relu(0.1).value(np.array([-1.0, 2.0])).tolist()
    [-0.1, 2.0]
    """
    if not (isinstance(a, numbers.Real) and math.isfinite(a)):
        raise ValueError(f"leaky ReLU slope must be a finite real, got {a!r}")
    if a > 1:
        raise ValueError(f"leaky ReLU max(a u, u) needs a <= 1, got a = {a}")
    return PiecewiseLinear(f"leaky_relu({a:g})", float(a), 1.0)


def _activation(a) -> Activation:
    if isinstance(a, Activation):
        return a
    if isinstance(a, str) and a in ACTIVATIONS:
        return ACTIVATIONS[a]
    raise ValueError(f"an activation is an Activation object or one of {sorted(ACTIVATIONS)}, "
                     f"got {a!r}")


class NotHomogeneousError(UsageError):
    """A function of the activation-pattern calculus (forward with patterns, ``D^(l)``,
    ``J(theta)``, fast J, strata) was given a network that is not a positively homogeneous
    chain ``Yhat = sigma(...sigma(X W^(1))...) W^(H+1)``."""


def require_homogeneous(net: Network, what: str) -> None:
    """Raise :class:`NotHomogeneousError` (with the reason and what to do instead) unless
    ``net`` has the default skip (only the last hidden layer feeds the output), no output
    offset and only positively homogeneous piecewise-linear units."""
    if net.homogeneous:
        return
    reasons = []
    if net.skip != (net.H,):
        reasons.append(f"skip connections to the output from layers {net.skip} (only the "
                       f"default skip=({net.H},) is a chain)")
    if net.offset is not None:
        reasons.append(f"a fixed output offset {net.offset} (sigma(0) = 0 no longer gives "
                       "Yhat = 0 at theta = 0)")
    smooth = sorted({u.name for layer in net.activations for u in layer if not u.homogeneous})
    if smooth:
        reasons.append(f"units {smooth} that are not positively homogeneous piecewise-linear "
                       "(no activation pattern Lambda with sigma(u) = Lambda u)")
    raise NotHomogeneousError(
        f"{what} holds only for positively homogeneous piecewise-linear networks; {net!r} has "
        + "; ".join(reasons) + ". Use the model interface instead (net.outputs, net.jacobian, "
        "net.hidden), which covers every network.")


# ---------------------------------------------------------------------------------------------
# networks

@dataclass(frozen=True)
class Block:
    """One weight matrix of a :class:`Network` inside theta: ``name`` (``W<l>`` for a hidden
    layer, ``Wout<l+1>`` for the connection from layer ``l`` to the output), ``layer`` (its
    ``l``: ``W^(l)`` maps layer ``l-1`` to ``l``), ``shape`` (rows = inputs of the layer,
    columns = its units), ``offset`` in theta and ``output`` (a block feeding the output)."""

    name: str
    layer: int
    shape: tuple[int, int]
    offset: int
    output: bool

    @property
    def size(self) -> int:
        return self.shape[0] * self.shape[1]

    def embed(self, M, n: int) -> np.ndarray:
        """A vector of R^n that is vec(M) on this block and 0 elsewhere."""
        v = np.zeros(n)
        v[self.offset:self.offset + self.size] = np.asarray(M, float).reshape(-1, order="F")
        return v


class Network:
    r"""A bias-free fully connected network: widths ``(d_0 = d_x, d_1, ..., d_H, d_y)``, one
    :class:`Activation` per hidden unit, optional skip connections to the output and an
    optional fixed output offset.

    ``h^(0) = X``, ``h^(l) = sigma(h^(l-1) W^(l))`` (rows are samples, ``W^(l)`` of shape
    ``(d_{l-1}, d_l)``) and ``f = sum_{l in skip} h^(l) W_out^(l+1) + c``.  ``skip`` (default
    ``(H,)``: the chain, whose output block is ``W^(H+1)``) lists the layers in ``0..H`` with a
    connection to the output; ``offset`` a fixed, not trained, shift ``c`` of the outputs.
    ``H = 0`` with ``skip=(0,)`` is the basis-function model ``f = x W``.

    theta = [vec W^(1); ...; vec W^(H); vec W_out^(l+1) for l in sorted(skip)] with column-major
    ``vec`` (:attr:`blocks`; for the chain: ``[vec W^(1); ...; vec W^(H+1)]``).

    ``activations``: one :class:`Activation` or name (every hidden unit), a sequence of ``H``
    of them (one per hidden layer), or a sequence of ``H`` sequences of length ``d_l`` (per
    unit).  Every network has the model interface (:meth:`hidden`, :meth:`outputs`,
    :meth:`jacobian`, :meth:`pack` / :meth:`unpack`); the activation-pattern functions of this
    module (:func:`forward`, :func:`d_blocks`, ``J_*``, ...) need a positively homogeneous chain
    (:attr:`homogeneous`) and refuse other networks with :class:`NotHomogeneousError`.

    >>> net = Network((3, 4, 2, 1), [RELU, ABS])
    >>> net.H, net.d_theta, net.shapes
    (2, 22, [(3, 4), (4, 2), (2, 1)])
    >>> net = Network((2, 2, 1), "tanh", skip=(0, 1))
    >>> [(b.name, b.shape) for b in net.blocks], net.homogeneous
    ([('W1', (2, 2)), ('Wout1', (2, 1)), ('Wout2', (2, 1))], False)
    """

    def __init__(self, widths: Sequence[int], activations: Any = RELU,
                 skip: Sequence[int] | None = None, offset: Sequence[float] | None = None):
        widths = tuple(widths)
        if len(widths) < 2:
            raise ValueError(f"widths must be (d_0, ..., d_{{H+1}}): at least d_x and d_y, got "
                             f"{widths}")
        for d in widths:
            if not isinstance(d, (int, np.integer)) or isinstance(d, bool) or d < 1:
                raise ValueError(f"every width must be an integer >= 1, got {widths}")
        self.widths = tuple(int(d) for d in widths)
        H = len(widths) - 2
        self._uniform: Activation | None = None
        if isinstance(activations, (Activation, str)):
            self._uniform = _activation(activations)
            per_layer = [[self._uniform] * self.widths[l] for l in range(1, H + 1)]
        else:
            acts = list(activations)
            if len(acts) != H:
                raise ValueError(f"need one activation per hidden layer ({H}), got {len(acts)}")
            per_layer = []
            for l, a in enumerate(acts, start=1):
                if isinstance(a, (Activation, str)):
                    per_layer.append([_activation(a)] * self.widths[l])
                else:
                    units = list(a)
                    if len(units) != self.widths[l] or not all(
                            isinstance(u, Activation) for u in units):
                        raise ValueError(f"layer {l} needs {self.widths[l]} Activation objects")
                    per_layer.append(units)
            names = {u for layer in per_layer for u in layer}
            if len(names) == 1:
                self._uniform = names.pop()
        self.activations = per_layer
        sk = (H,) if skip is None else tuple(sorted({int(s) for s in skip}))
        if not sk or any(not 0 <= s <= H for s in sk):
            raise ValueError(f"skip must be a non-empty subset of 0..{H}, got {skip}")
        self.skip = sk
        if offset is not None:
            off = tuple(float(c) for c in offset)
            if len(off) != self.widths[-1] or not all(math.isfinite(c) for c in off):
                raise ValueError(f"offset must be {self.widths[-1]} finite numbers, got {offset}")
            offset = off
        self.offset: tuple[float, ...] | None = offset
        nan = float("nan")
        self._neg = [np.array([getattr(u, "neg", nan) for u in layer]) for layer in per_layer]
        self._pos = [np.array([getattr(u, "pos", nan) for u in layer]) for layer in per_layer]
        self._linear = [np.array([u.is_linear for u in layer], dtype=bool) for layer in per_layer]
        self.homogeneous = (self.skip == (H,) and self.offset is None
                            and all(u.homogeneous for layer in per_layer for u in layer))
        blocks, off_ = [], 0
        for l in range(1, H + 1):
            shape = (self.widths[l - 1], self.widths[l])
            blocks.append(Block(f"W{l}", l, shape, off_, False))
            off_ += shape[0] * shape[1]
        for l in self.skip:
            shape = (self.widths[l], self.widths[-1])
            blocks.append(Block(f"Wout{l + 1}", l + 1, shape, off_, True))
            off_ += shape[0] * shape[1]
        self.blocks: tuple[Block, ...] = tuple(blocks)
        self._identity = (self.widths, tuple(tuple(layer) for layer in per_layer), self.skip,
                          self.offset)

    # ---- shape
    @property
    def H(self) -> int:
        return len(self.widths) - 2

    @property
    def dims(self) -> tuple[int, ...]:
        """The widths (the name of the induced-model literature)."""
        return self.widths

    @property
    def d_x(self) -> int:
        return self.widths[0]

    @property
    def d_y(self) -> int:
        return self.widths[-1]

    @property
    def activation(self) -> Activation | None:
        """The activation of every hidden unit, or None when the units differ."""
        return self._uniform

    @property
    def shapes(self) -> list[tuple[int, int]]:
        """The block shapes; for the chain ``[(d_{l-1}, d_l) for l = 1..H+1]``."""
        return [b.shape for b in self.blocks]

    @property
    def d_theta(self) -> int:
        b = self.blocks[-1]
        return b.offset + b.size

    @property
    def n_params(self) -> int:
        """``d_theta`` (the name of the model interface)."""
        return self.d_theta

    @property
    def offsets(self) -> list[int]:
        """Start of each block in theta, and d_theta last."""
        return [b.offset for b in self.blocks] + [self.d_theta]

    @property
    def is_linear(self) -> bool:
        """Every hidden unit linear (a deep linear network)."""
        return all(bool(np.all(m)) for m in self._linear)

    def linear_units(self, l: int) -> np.ndarray:
        """Boolean mask of the linear units of hidden layer ``l`` (1-based)."""
        return self._linear[l - 1].copy()

    def block(self, name: str) -> Block:
        for b in self.blocks:
            if b.name == name:
                return b
        raise KeyError(f"no block {name!r}; blocks: {[b.name for b in self.blocks]}")

    # ---- parameters
    def flatten(self, Ws: Any) -> np.ndarray:
        """theta from the block matrices (keeps the dtype: float, complex or object)."""
        Ws = self.check_weights(Ws)
        return np.concatenate([vec(W) for W in Ws])

    def unflatten(self, theta: Any) -> list[np.ndarray]:
        """The block matrices of theta, in :attr:`blocks` order."""
        theta = np.asarray(theta)
        if theta.shape != (self.d_theta,):
            raise ValueError(f"theta must have shape ({self.d_theta},), got {theta.shape}")
        return [unvec(theta[b.offset:b.offset + b.size], b.shape) for b in self.blocks]

    def unpack(self, theta: Any) -> dict[str, np.ndarray]:
        """The block matrices of theta by block name (views into theta)."""
        theta = np.asarray(theta)
        if theta.shape != (self.d_theta,):
            raise ValueError(f"theta must have shape ({self.d_theta},), got {theta.shape}")
        return {b.name: theta[b.offset:b.offset + b.size].reshape(b.shape, order="F")
                for b in self.blocks}

    def pack(self, mats: Mapping[str, Any]) -> np.ndarray:
        """theta from a dict of block matrices by name (the inverse of :meth:`unpack`)."""
        parts = []
        for b in self.blocks:
            M = np.asarray(mats[b.name])
            if M.shape != b.shape:
                raise ValueError(f"{b.name} must have shape {b.shape}, got {M.shape}")
            parts.append(M.reshape(-1, order="F"))
        return np.concatenate(parts)

    def from_transposed(self, theta_t: Any) -> np.ndarray:
        """theta from a vector that stores every block transposed (the ``W h`` convention:
        rows are the units of the layer, column-major vec), e.g. coordinates written for
        ``f = W^(H+1) sigma(W^(H) ... sigma(W^(1) x))``.

        >>> net = Network((2, 3, 1), IDENTITY)
        >>> t = np.arange(9.0)
        >>> bool(np.array_equal(net.to_transposed(net.from_transposed(t)), t))
        True
        """
        theta_t = np.asarray(theta_t)
        if theta_t.shape != (self.d_theta,):
            raise ValueError(f"theta must have shape ({self.d_theta},), got {theta_t.shape}")
        return np.concatenate([
            theta_t[b.offset:b.offset + b.size].reshape(b.shape[::-1], order="F")
            .T.reshape(-1, order="F") for b in self.blocks])

    def to_transposed(self, theta: Any) -> np.ndarray:
        """The inverse of :meth:`from_transposed`."""
        return np.concatenate([M.T.reshape(-1, order="F")
                               for M in self.unpack(theta).values()])

    def transposed_order(self) -> np.ndarray:
        """The permutation ``p`` with ``theta[p] = to_transposed(theta)``."""
        return self.from_transposed(np.arange(self.d_theta)).argsort(kind="stable")

    def check_weights(self, Ws: Any) -> list[np.ndarray]:
        if isinstance(Ws, np.ndarray) and Ws.ndim == 1:
            return self.unflatten(Ws)
        Ws = [np.asarray(W) for W in Ws]
        if len(Ws) != len(self.blocks):
            raise ValueError(f"need {len(self.blocks)} weight matrices, got {len(Ws)}")
        for l, (W, s) in enumerate(zip(Ws, self.shapes), start=1):
            if W.shape != s:
                raise ValueError(f"W^({l}) must have shape {s}, got {W.shape}")
            if W.dtype != object and not np.all(np.isfinite(W)):
                raise ValueError(f"W^({l}) contains NaN or inf")
        return Ws

    def random_weights(self, rng: np.random.Generator, scale: float = 1.0) -> list[np.ndarray]:
        """Gaussian blocks with entries ``N(0, scale^2 / d_in)`` (LeCun scaling: keeps the
        pre-activations O(1) with depth)."""
        if not isinstance(rng, np.random.Generator):
            raise TypeError("rng must be a numpy.random.Generator")
        return [scale * rng.normal(size=s) / math.sqrt(s[0]) for s in self.shapes]

    # ---- the model interface (every network: skips, offsets, smooth units)
    def _check_X(self, X):
        if np.ndim(X) != 2 or np.shape(X)[1] != self.d_x:
            raise ValueError(f"X must have shape (m, {self.d_x}), got {np.shape(X)}")

    def hidden(self, X: Any, theta: Any) -> tuple[list[Any], list[Any]]:
        """(pre-activations a^(l), representations h^(l)) for l = 0..H (a^(0) is None); rows
        are samples.  float64 or mpmath object arrays."""
        self._check_X(X)
        P = self.unpack(theta)
        hs, pre = [X], [None]
        for l in range(1, self.H + 1):
            a = hs[-1] @ P[f"W{l}"]
            pre.append(a)
            hs.append(self._act(l, a))
        return pre, hs

    def _act(self, l, a):
        layer = self.activations[l - 1]
        if self._uniform is not None:
            return self._uniform.value(a)
        return np.stack([u.value(a[:, k]) for k, u in enumerate(layer)], axis=1)

    def _dact(self, l, a):
        layer = self.activations[l - 1]
        if self._uniform is not None:
            return self._uniform.derivative(a)
        return np.stack([u.derivative(a[:, k]) for k, u in enumerate(layer)], axis=1)

    def outputs(self, X: Any, theta: Any) -> np.ndarray:
        """f_X(theta) as an (m, d_y) array (rows f(x_i; theta))."""
        P = self.unpack(theta)
        _, hs = self.hidden(X, theta)
        F = sum(hs[l] @ P[f"Wout{l + 1}"] for l in self.skip)
        if self.offset is not None:
            c = np.array(self.offset)
            F = F + (np.array([mpmath.mpf(x) for x in c], dtype=object)
                     if _is_object(F) else c)[None, :]
        return F

    def jacobian(self, X: Any, theta: Any) -> np.ndarray:
        """J (m, d_y, n): J[i] = d f(x_i; theta) / d theta (column-major vec of every block)."""
        P = self.unpack(theta)
        pre, hs = self.hidden(X, theta)
        m, d_y = np.shape(X)[0], self.d_y
        obj = _is_object(np.asarray(theta)) or _is_object(np.asarray(X))
        eye = np.eye(d_y, dtype=int).astype(object) if obj else np.eye(d_y)
        parts: dict[str, np.ndarray] = {}
        for l in self.skip:
            parts[f"Wout{l + 1}"] = np.einsum("ik,ab->iabk", hs[l], eye).reshape(m, d_y, -1)
        E = None    # d f / d h^(l), (m, d_y, d_l), built from the top
        for l in range(self.H, 0, -1):
            E_l = np.zeros((m, d_y, self.widths[l]), dtype=object if obj else float)
            if obj:
                E_l[...] = 0
            if l in self.skip:
                E_l = E_l + P[f"Wout{l + 1}"].T[None, :, :]
            if E is not None:
                E_l = E_l + E
            G = E_l * self._dact(l, pre[l])[:, None, :]                 # d f / d a^(l)
            parts[f"W{l}"] = np.einsum("iak,ip->iakp", G, hs[l - 1]).reshape(m, d_y, -1)
            E = np.einsum("iak,pk->iap", G, P[f"W{l}"])                  # d f / d h^(l-1)
        return np.concatenate([parts[b.name] for b in self.blocks], axis=2)

    def nondifferentiable(self, X: Any, theta: Any) -> bool:
        """True when some kinked unit's pre-activation is exactly 0 at some sample.

        This is a *sufficient-for-suspicion* test: f_{x_i} may still be differentiable there
        (e.g. when the unit's outgoing weights vanish)."""
        if all(not u.kinks for layer in self.activations for u in layer):
            return False
        pre, _ = self.hidden(X, theta)
        return any(np.any((np.asarray(a, dtype=float) == 0) & ~self._linear[l - 1][None, :])
                   for l, a in enumerate(pre[1:], start=1))

    # ---- identity
    def _key(self):
        return self._identity

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Network) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        if self._uniform is not None:
            act = f"activation={self._uniform.name!r}"
        else:
            act = f"activations={[[u.name for u in layer] for layer in self.activations]}"
        return f"Network(dims={self.widths}, {act}, skip={self.skip}, offset={self.offset})"

def _check_X(net: Network, X, name="X") -> np.ndarray:
    X = np.asarray(X)
    if X.dtype != object:
        if not np.issubdtype(X.dtype, np.number):
            raise TypeError(f"{name} must be numeric, got dtype {X.dtype}")
        if X.dtype.kind in "iub":
            X = X.astype(float)
        if not np.all(np.isfinite(X)):
            raise ValueError(f"{name} contains NaN or inf")
    if X.ndim != 2 or X.shape[1] != net.d_x:
        raise ValueError(f"{name} must have shape (m, d_x={net.d_x}), got {X.shape}")
    return X


def _check_Y(net: Network, Y, m: int) -> np.ndarray:
    Y = np.asarray(Y)
    if Y.ndim == 1 and net.d_y == 1:
        Y = Y[:, None]
    if Y.shape != (m, net.d_y):
        raise ValueError(f"Y must have shape (m={m}, d_y={net.d_y}), got {Y.shape}")
    if Y.dtype != object:
        Y = Y.astype(float) if Y.dtype.kind in "iub" else Y
        if not np.all(np.isfinite(Y)):
            raise ValueError("Y contains NaN or inf")
    return Y


# ---------------------------------------------------------------------------------------------
# forward pass

@dataclass
class Forward:
    """Result of :func:`forward`: ``G[l-1] = G^(l)``, ``Phi[l] = Phi^(l)`` (``Phi[0] = X``),
    ``Lam[l-1]`` the pattern of layer ``l`` and ``Yhat``."""

    G: list
    Phi: list
    Lam: list
    Yhat: np.ndarray


def _pattern_of(net: Network, l: int, G) -> np.ndarray:
    r = _real(G)
    pos = np.asarray(r > 0, dtype=bool)
    neg = np.asarray(r < 0, dtype=bool)
    kink = np.where(net._linear[l - 1], net._pos[l - 1], 0.0)
    return np.where(pos, net._pos[l - 1], np.where(neg, net._neg[l - 1], kink)).astype(float)


# ---- exact rationals: python-flint products behind object arrays of Fractions
#
# The exact callers (optimize.strata) hand in object arrays of fractions.Fraction with a fixed
# pattern.  numpy's object matmul then runs every product and sum through Python's Fraction
# (a gcd per operation); the same numbers computed with python-flint ``fmpq_mat`` products
# are identical, and only the results are turned back into Fractions.

def _all_fractions(*arrays) -> bool:
    """Every entry of every array is a :class:`fractions.Fraction` (object arrays only)."""
    for a in arrays:
        if not (isinstance(a, np.ndarray) and a.dtype == object):
            return False
        for v in a.flat:
            if type(v) is not Fraction:
                return False
    return True


def _fraction_inputs(Ws, X, pattern) -> bool:
    return (pattern is not None and _all_fractions(X, *Ws)
            and _all_fractions(*(np.asarray(p) for p in pattern)))


def _fqs(a) -> list:
    """The entries of an object array of Fractions (row-major) as python-flint ``fmpq``."""
    from flint import fmpq
    return [fmpq(v.numerator, v.denominator) for v in np.asarray(a).flat]


def _qmat(A: np.ndarray):
    """An object array of Fractions as a python-flint ``fmpq_mat`` (exact)."""
    from flint import fmpq_mat
    r, c = A.shape
    return fmpq_mat(r, c, _fqs(A))


_new = object.__new__
#: Fraction keeps its value in these slots (CPython 3.8 - 3.13): a reduced fmpq can fill them
#: directly; elsewhere ``Fraction(p, q)`` (one gcd more, the same value)
_RAW_FRACTION = set(getattr(Fraction, "__slots__", ())) >= {"_numerator", "_denominator"}


def _frac(q) -> Fraction:
    """The Fraction equal to the python-flint ``fmpq`` ``q`` (which is in lowest terms with a
    positive denominator: no gcd is computed again)."""
    if not _RAW_FRACTION:
        return Fraction(int(q.p), int(q.q))
    f = _new(Fraction)
    f._numerator = int(q.p)  # type: ignore[attr-defined]
    f._denominator = int(q.q)  # type: ignore[attr-defined]
    return f


def _farray(vals, shape) -> np.ndarray:
    """An object array of Fractions of ``shape`` from a flat list of fmpq."""
    out = np.empty(len(vals), dtype=object)
    out[:] = [_frac(q) for q in vals]
    return out.reshape(shape)


def _hadamard(lam: list, M):
    """``lam (.) M`` for a flat list ``lam`` of fmpq (row-major, the shape of M)."""
    from flint import fmpq_mat
    return fmpq_mat(M.nrows(), M.ncols(), [a * b for a, b in zip(lam, M.entries())])


def _forward_q(Ws, X, pattern):
    """Exact forward pass with a fixed pattern in python-flint: (G, Phi, Lam) as fmpq_mat /
    flat fmpq lists and Yhat (all layers)."""
    Phi = [_qmat(X)]
    G, Lam = [], []
    for l in range(len(Ws) - 1):
        g = Phi[-1] * _qmat(Ws[l])
        lam = _fqs(pattern[l])
        if len(lam) != g.nrows() * g.ncols() or np.shape(pattern[l]) != (g.nrows(), g.ncols()):
            raise ValueError(f"pattern of layer {l + 1} must have shape "
                             f"{(g.nrows(), g.ncols())}, got {np.shape(pattern[l])}")
        G.append(g)
        Lam.append(lam)
        Phi.append(_hadamard(lam, g))
    return G, Phi, Lam, Phi[-1] * _qmat(Ws[-1])


def _shape(M) -> tuple[int, int]:
    return (M.nrows(), M.ncols())


def _d_blocks_q(net: Network, Ws, X, pattern) -> list[np.ndarray]:
    """:func:`d_blocks` for object arrays of Fractions, computed in python-flint: the same
    entries and entry types (Fractions; the zero blocks of ``I (x) Phi^(H)`` are int 0, as
    :func:`_kron_eye` makes them)."""
    return _d_blocks_qv(net, Ws, X, pattern)[0]


def _d_blocks_qv(net: Network, Ws, X, pattern):
    """(:func:`_d_blocks_q`, the same blocks as ``(rows, cols, flat fmpq list)``)."""
    from flint import fmpq, fmpq_mat
    G, Phi, Lam, _ = _forward_q(Ws, X, pattern)
    m, H, d_y = Phi[0].nrows(), net.H, net.d_y
    out: list[np.ndarray] = [np.empty(0)] * H
    raw: list = [None] * H
    if H:
        Wout = _qmat(Ws[-1])
        d_H = net.widths[H]
        # C_c^(H)[i, k] = W^(H+1)_{k, c} Lambda_H[i, k];
        # C_c^(l) = (C_c^(l+1) W^(l+1)^T) (.) Lambda_l
        Cs = [fmpq_mat(m, d_H, [Lam[-1][i * d_H + k] * Wout[k, c]
                                      for i in range(m) for k in range(d_H)])
              for c in range(d_y)]
        for l in range(H, 0, -1):
            P = Phi[l - 1].entries()
            dp, dl = net.widths[l - 1], net.widths[l]
            vals = []
            for c in range(d_y):
                Ce = Cs[c].entries()
                for i in range(m):
                    row = P[i * dp:(i + 1) * dp]
                    for k in range(dl):
                        a = Ce[i * dl + k]
                        vals += [a * b for b in row]
            out[l - 1] = _farray(vals, (d_y * m, dl * dp))
            raw[l - 1] = (d_y * m, dl * dp, vals)
            if l > 1:
                Wt = _qmat(Ws[l - 1]).transpose()
                Cs = [_hadamard(Lam[l - 2], C * Wt) for C in Cs]
    PH = _farray(Phi[-1].entries(), _shape(Phi[-1]))
    out.append(_kron_eye(d_y, PH))
    ph = Phi[-1].entries()
    d_H = Phi[-1].ncols()
    zero = fmpq(0)
    kron = []
    for c in range(d_y):
        for i in range(m):
            kron += [zero] * (c * d_H) + ph[i * d_H:(i + 1) * d_H] + [zero] * ((d_y - 1 - c) * d_H)
    raw.append((d_y * m, d_y * d_H, kron))
    return out, raw


def jacobian_exact(net: Network, Ws, X, *, pattern):
    """:func:`jacobian` at an exact point with a fixed pattern (``Ws``, ``X``, ``pattern``:
    object arrays of :class:`fractions.Fraction`), together with the same matrix as a
    python-flint ``fmpq_mat`` (for exact products without converting back).

    >>> from fractions import Fraction as F
    >>> net = Network((1, 1, 1), RELU)
    >>> A = lambda *v: np.array([[F(x) for x in v]], dtype=object)
    >>> J, Jq = jacobian_exact(net, [A(2), A(3)], A(1), pattern=[A(1)])
    >>> J.tolist(), Jq.tolist()
    ([[Fraction(3, 1), Fraction(2, 1)]], [[3, 2]])
    """
    from flint import fmpq_mat
    Ws = net.check_weights(Ws)
    X = _check_X(net, X)
    if not _fraction_inputs(Ws, X, pattern):
        raise TypeError("jacobian_exact needs object arrays of Fractions and a pattern")
    require_homogeneous(net, "the activation-pattern forward pass (forward, D^(l), J(theta))")
    blocks, raw = _d_blocks_qv(net, Ws, X, pattern)
    rows = raw[0][0]
    ents = []
    for i in range(rows):
        for (_, c, v) in raw:
            ents += v[i * c:(i + 1) * c]
    return np.concatenate(blocks, axis=1), fmpq_mat(rows, sum(c for _, c, _ in raw), ents)


def forward(net: Network, Ws, X, *, pattern=None) -> Forward:
    """Forward pass.  ``pattern`` (a list of ``(m, d_l)`` arrays) fixes the activation pattern
    instead of reading it off the pre-activations: inside a pattern the network is a
    polynomial in theta, used for complex-step derivatives and high-precision refinement.
    """
    require_homogeneous(net, "the activation-pattern forward pass (forward, D^(l), J(theta))")
    Ws = net.check_weights(Ws)
    X = _check_X(net, X)
    if _fraction_inputs(Ws, X, pattern):
        G, Phi, Lam, Yhat = _forward_q(Ws, X, pattern)
        return Forward([_farray(g.entries(), _shape(g)) for g in G],
                       [X] + [_farray(p.entries(), _shape(p)) for p in Phi[1:]],
                       [np.asarray(p) for p in pattern[:net.H]],
                       _farray(Yhat.entries(), _shape(Yhat)))
    Phi, G, Lam = [X], [], []
    for l in range(1, net.H + 1):
        g = Phi[-1] @ Ws[l - 1]
        lam = _pattern_of(net, l, g) if pattern is None else np.asarray(pattern[l - 1])
        if lam.shape != g.shape:
            raise ValueError(f"pattern of layer {l} must have shape {g.shape}, got {lam.shape}")
        G.append(g)
        Lam.append(lam)
        Phi.append(lam * g)
    return Forward(G, Phi, Lam, Phi[-1] @ Ws[-1])


def activation_pattern(net: Network, Ws, X) -> list[np.ndarray]:
    """Diagonals of ``Lambda_{l,k}``: a list of ``(m, d_l)`` arrays, ``l = 1..H``."""
    return forward(net, Ws, X).Lam


def locally_zero_entries(net: Network, Ws, X, *, fixed=None, fwd: Forward | None = None):
    """Masks ``Z^(l)`` (``(m, d_l)``, l = 1..H) of the pre-activations ``G^(l)_{ik}`` that are
    identically 0 on a neighbourhood of theta (within the set where the ``fixed`` weights stay
    0): their kink is never crossed, so they do not make L non-differentiable.

    ``G^(l)_{ik} = sum_k' Phi^(l-1)_{ik'} W^(l)_{k'k}`` is locally 0 iff every term is: the
    input ``Phi^(l-1)_{ik'}`` is locally 0 or ``W^(l)_{k'k}`` is fixed at 0.  ``Phi^(0) = X`` is
    data (locally 0 iff it is 0); ``Phi^(l)_{ik}`` is locally 0 iff ``G^(l)_{ik}`` is, or the unit
    has slope 0 on the negative side and ``G^(l)_{ik} < 0`` strictly.  ``fixed``: a list of
    boolean arrays of the weight shapes (True: held at 0), or a flat mask over theta.
    """
    f = fwd if fwd is not None else forward(net, Ws, X)
    if fixed is None:
        fixed = [np.zeros(s, bool) for s in net.shapes]
    elif not isinstance(fixed, (list, tuple)):
        fixed = [np.asarray(a, bool) for a in net.unflatten(np.asarray(fixed, bool))]
    phi_zero = np.asarray(f.Phi[0] == 0, dtype=bool)
    out = []
    for l in range(1, net.H + 1):
        gz = np.all(phi_zero[:, :, None] | fixed[l - 1][None, :, :], axis=1)
        out.append(gz)
        g = _real(f.G[l - 1])
        dead = (net._neg[l - 1] == 0)[None, :] & np.asarray(g < 0, dtype=bool)
        phi_zero = gz | dead
    return out


def locally_zero_rows(net: Network, Ws, X) -> list[np.ndarray]:
    """For ``l = 0..H-1``: boolean ``(m,)`` masks of the rows ``Phi^(l)_i`` that are identically
    zero on a neighbourhood of theta (a special case of :func:`locally_zero_entries`)."""
    f = forward(net, Ws, X)
    rows = [np.all(np.asarray(f.Phi[0] == 0, dtype=bool), axis=1)]
    for l in range(1, net.H):
        g = np.real(f.G[l - 1])
        dead = (net._neg[l - 1] == 0)[None, :] & (g < 0)
        rows.append(np.all(dead | rows[-1][:, None], axis=1))
    return rows


def pre_activation_margin(net: Network, Ws, X, *, fixed=None) -> float:
    """Smallest ``|G^(l)_{ik}|`` over the kinked (non-linear) units, leaving out the entries
    that are locally identically 0 (:func:`locally_zero_entries`); ``inf`` if there are none.

    At a point where this is positive the activation pattern is locally constant, so the
    network (and L) is differentiable, indeed polynomial, on a neighbourhood.
    """
    f = forward(net, Ws, X)
    zero = locally_zero_entries(net, Ws, X, fixed=fixed, fwd=f)
    vals = []
    for l, g in enumerate(f.G):
        a = np.abs(np.real(g))
        keep = ~zero[l] & ~net._linear[l][None, :]
        if np.any(keep):
            vals.append(a[keep].min())
    return float(min(vals)) if vals else math.inf


def directional_derivative(net: Network, Ws, X, dWs, side: int = 1):
    """One-sided derivative of ``Yhat`` along ``dWs``:
    ``lim_{t -> 0+} (Yhat(W + t s dW) - Yhat(W)) / t``
    times ``s`` for ``side = s`` in ``{+1, -1}`` (so ``side=-1`` is the left derivative).

    Forward mode with the pattern of ``theta + t s dW`` for small ``t > 0``: a kinked unit with
    ``G = 0`` takes the slope of the side ``s dG`` points to (exact: ``G(t) = t dG + O(t^2)``,
    and a unit with ``G = dG = 0`` contributes ``O(t^2)``).  At a differentiable point both sides
    equal the Jacobian times ``vec dW``; at a kink they can differ.
    """
    if side not in (1, -1):
        raise ValueError("side must be +1 or -1")
    require_homogeneous(net, "the one-sided derivative through activation patterns")
    Ws = net.check_weights(Ws)
    dWs = [side * np.asarray(d) for d in net.check_weights(dWs)]
    X = _check_X(net, X)
    Phi, dPhi = X, np.zeros_like(X)
    for l in range(1, net.H + 1):
        G = Phi @ Ws[l - 1]
        dG = dPhi @ Ws[l - 1] + Phi @ dWs[l - 1]
        key = np.where(np.asarray(G != 0, dtype=bool), G, dG)
        lam = _pattern_of(net, l, key)
        Phi, dPhi = lam * G, lam * dG
    return side * (dPhi @ Ws[-1] + Phi @ dWs[-1])


def backprop_coefficients(net: Network, Ws, X, *, pattern=None, fwd: Forward | None = None):
    """``C^(l)`` of shape ``(m, d_y, d_l)``, l = 1..H:
    ``C^(H)_{i,c,k} = W^(H+1)_{k,c} Lambda_H[i,k]`` and
    ``C^(l)_{i,c,k} = sum_k' C^(l+1)_{i,c,k'} W^(l+1)_{k,k'} Lambda_l[i,k]``."""
    Ws = net.check_weights(Ws)
    f = fwd if fwd is not None else forward(net, Ws, X, pattern=pattern)
    if net.H == 0:
        return []
    C = [None] * net.H
    # (m, 1, d_H) * (1, d_y, d_H): W^(H+1)^T is (d_y, d_H)
    C[-1] = f.Lam[-1][:, None, :] * Ws[-1].T[None, :, :]
    for l in range(net.H - 1, 0, -1):
        nxt = C[l]                                  # C^(l+1), shape (m, d_y, d_{l+1})
        C[l - 1] = (nxt @ Ws[l].T) * f.Lam[l - 1][:, None, :]
    return C


def block_order(net: Network) -> list[tuple[int, int]]:
    """The Gram-Schmidt order ``(1,1), ..., (1,d_1), (2,1), ..., (H,d_H), (H+1,1)``."""
    return [(l, k) for l in range(1, net.H + 1) for k in range(1, net.widths[l] + 1)] + \
        [(net.H + 1, 1)]


def d_blocks(net: Network, Ws, X, *, pattern=None) -> list[np.ndarray]:
    """``[D^(1), ..., D^(H), D^(H+1)_1]`` with ``D^(l)`` of shape ``(m d_y, d_{l-1} d_l)`` and
    the output block ``I_{d_y} (x) Phi^(H)`` of shape ``(m d_y, d_H d_y)``.

    Row ``(c-1) m + i`` is output ``c`` of sample ``i`` (``vec Yhat``); column
    ``(k-1) d_{l-1} + p`` is ``W^(l)_{p,k}`` (``vec W^(l)``).
    """
    Ws = net.check_weights(Ws)
    if _fraction_inputs(Ws, X, pattern):
        require_homogeneous(net, "the activation-pattern forward pass (forward, D^(l), J(theta))")
        return _d_blocks_q(net, Ws, _check_X(net, X), pattern)
    f = forward(net, Ws, X, pattern=pattern)
    C = backprop_coefficients(net, Ws, X, fwd=f)
    m = f.Phi[0].shape[0]
    out = []
    for l in range(1, net.H + 1):
        Phi = f.Phi[l - 1]
        arr = C[l - 1][:, :, :, None] * Phi[:, None, None, :]   # (m, d_y, d_l, d_{l-1})
        arr = np.transpose(arr, (1, 0, 2, 3))
        out.append(arr.reshape(net.d_y * m, net.widths[l] * net.widths[l - 1]))
    out.append(_kron_eye(net.d_y, f.Phi[-1]))
    return out


def _kron_eye(d: int, A):
    """``I_d (x) A`` for float, complex or object arrays."""
    m, n = A.shape
    Z = np.zeros((d * m, d * n), dtype=A.dtype)
    if A.dtype == object:
        Z[...] = 0
    for c in range(d):
        Z[c * m:(c + 1) * m, c * n:(c + 1) * n] = A
    return Z


def d_block_list(net: Network, Ws, X, *, pattern=None) -> list[np.ndarray]:
    """The blocks ``D^(l)_k`` in :func:`block_order` (the last one is ``D^(H+1)_1``)."""
    blocks = d_blocks(net, Ws, X, pattern=pattern)
    out = []
    for l in range(1, net.H + 1):
        w = net.widths[l - 1]
        out += [blocks[l - 1][:, (k - 1) * w:k * w] for k in range(1, net.widths[l] + 1)]
    return out + [blocks[-1]]


def jacobian(net: Network, Ws, X, *, pattern=None) -> np.ndarray:
    """``[D, D^(H+1)_1]`` of shape ``(m d_y, d_theta)``: the Jacobian of ``vec Yhat`` in theta at
    differentiable points (Lemma 1), and the paper's formula (derivative 0 at kinks) elsewhere.
    Dense: this is the reference, memory ``m d_y d_theta``."""
    return np.concatenate(d_blocks(net, Ws, X, pattern=pattern), axis=1)


def residual(net: Network, Ws, X, Y, *, pattern=None) -> np.ndarray:
    """``vec(Yhat - Y)``."""
    Ws = net.check_weights(Ws)
    Yc = np.asarray(Y)
    if _fraction_inputs(Ws, X, pattern) and _all_fractions(Yc):
        require_homogeneous(net, "the activation-pattern forward pass (forward, D^(l), J(theta))")
        X = _check_X(net, X)
        Yhat = _forward_q(Ws, X, pattern)[3]
        Yv = _check_Y(net, Yc, Yhat.nrows())
        Yq = Yhat - _qmat(Yv)
        # vec: column-major
        return _farray(Yq.transpose().entries(), (Yq.nrows() * Yq.ncols(),))
    f = forward(net, Ws, X, pattern=pattern)
    return vec(f.Yhat - _check_Y(net, Y, f.Yhat.shape[0]))


def loss(net: Network, Ws, X, Y, *, pattern=None):
    """``L = 1/2 ||Yhat - Y||_F^2`` (eq. 2.1)."""
    r = residual(net, Ws, X, Y, pattern=pattern)
    return 0.5 * np.sum(r * r)


def gradient(net: Network, Ws, X, Y, *, pattern=None) -> np.ndarray:
    """``[D, D^(H+1)_1]^T vec(Yhat - Y)``: the gradient of L at differentiable points (the
    paper's formula elsewhere).  Uses the transpose, not the conjugate (complex step)."""
    return jacobian(net, Ws, X, pattern=pattern).T @ residual(net, Ws, X, Y, pattern=pattern)


def hessian_in_pattern(net: Network, Ws, X, Y, *, pattern=None, h: float = 1e-100) -> np.ndarray:
    """Hessian of ``L`` with the activation pattern held fixed (the Hessian of L at a
    differentiable point), by complex-step differentiation of :func:`gradient`.

    Inside a pattern L is a polynomial in theta, so ``Im grad(theta + i h e_j) / h`` equals the
    j-th Hessian column up to ``O(h^2)`` relative terms: with ``h = 1e-100`` that is exact in
    float64 and involves no subtraction (Squire & Trapp 1998; Martins, Sturdza & Alonso 2003).
    """
    Ws = net.check_weights(Ws)
    theta = net.flatten(Ws).astype(float)
    if pattern is None:
        pattern = activation_pattern(net, Ws, X)
    n = theta.size
    Hm = np.empty((n, n))
    for j in range(n):
        t = theta.astype(complex)
        t[j] += 1j * h
        Hm[:, j] = np.imag(gradient(net, net.unflatten(t), X.astype(complex)
                                    if np.asarray(X).dtype != object else X, Y,
                                    pattern=pattern)) / h
    return 0.5 * (Hm + Hm.T)


# ---------------------------------------------------------------------------------------------
# J(theta)

@dataclass(frozen=True)
class JValue:
    """``J(theta)`` with the rank decisions behind it.

    ``value``: J; ``ranks``: rank of each Gram-Schmidt block ``Q_b`` (empty for the projection
    form); ``rank``: rank of ``[D, D^(H+1)_1]``; ``cutoff``: the rule; ``path``: how computed."""

    value: float
    rank: int
    ranks: tuple[int, ...]
    cutoff: object
    path: str


def _vecY(net, X, Y):
    X = _check_X(net, X)
    return vec(_check_Y(net, Y, X.shape[0]))


def gram_schmidt_bases(blocks, cutoff="press"):
    """Orthonormal bases ``U_b`` with ``P[N_b D_b] = U_b U_b^T`` for the block Gram-Schmidt.

    Rank decisions agree with the SVD-with-cutoff reference by construction: the rank of block
    ``b``'s residual is ``r_b = rank[D_1..D_b] - rank[D_1..D_{b-1}]``, every prefix rank
    counted with the *same absolute* cutoff, that of the whole ``[D_1 ... D_B]`` (rule
    ``cutoff`` at its largest singular value and shape).  By interlacing the prefix ranks are
    non-decreasing and ``sum_b r_b`` is the numerical rank of the whole matrix.  ``U_b`` are the
    top ``r_b`` left singular vectors of the residual ``P_N[[U_1..U_{b-1}]] D_b``
    (re-orthogonalised once, "twice is enough").

    A per-block cutoff relative to each residual (as :func:`proofcheck.linalg.block_gram_schmidt`
    does) can disagree with the reference: when earlier blocks are ill-conditioned, the residual
    of a block that is dependent up to rounding is the rounding error amplified by their
    condition number, and may exceed the cutoff.
    """
    blocks = [np.asarray(B, float) for B in blocks]
    full = np.concatenate(blocks, axis=1)
    s_full = np.linalg.svd(full, compute_uv=False) if full.size else np.zeros(0)
    tol = float(linalg.rank_cutoff(s_full if s_full.size else np.zeros(1), full.shape, cutoff))
    rows = full.shape[0]
    bases, prev_rank, cols = [], 0, 0
    Q = np.zeros((rows, 0))
    for B in blocks:
        cols += B.shape[1]
        pref = full[:, :cols]
        r = int(np.sum(np.linalg.svd(pref, compute_uv=False) > tol)) if pref.size else 0
        k = r - prev_rank
        prev_rank = r
        R = B - Q @ (Q.T @ B)
        R = R - Q @ (Q.T @ R)
        if k > 0:
            U = np.linalg.svd(R, full_matrices=False)[0][:, :k]
            U = U - Q @ (Q.T @ U)
            U, _ = np.linalg.qr(U)
        else:
            U = np.zeros((rows, 0))
        bases.append(U)
        Q = np.concatenate([Q, U], axis=1)
    return bases


def J_gram_schmidt(net: Network, Ws, X, Y, cutoff="press", *, blocks=None) -> JValue:
    """``J = 1/2 ||vec Y||^2 - sum_b 1/2 ||P[N_b D_b] vec Y||^2`` with the block Gram-Schmidt in
    the paper's order (:func:`block_order`), ranks decided as in :func:`gram_schmidt_bases`.

    Cutoff rules (:func:`proofcheck.linalg.rank_cutoff`): ``"press"``
    ``0.5 sqrt(m+n+1) s_max eps`` (Numerical Recipes 3rd ed. section 2.6); ``"lapack"`` /
    ``"golub_van_loan"`` ``max(m, n) s_max eps`` (numpy.linalg.matrix_rank; Golub & Van Loan
    5.4.1); or an absolute float.

    ``blocks`` overrides the blocks (Lemma 3, Theorem 2, Corollary 1 use projected or
    restricted blocks).
    """
    y = _vecY(net, X, Y)
    if blocks is None:
        blocks = d_block_list(net, Ws, X)
    bases = gram_schmidt_bases(blocks, cutoff)
    ranks = tuple(int(U.shape[1]) for U in bases)
    proj = sum(float(np.sum((U.T @ y) ** 2)) for U in bases)
    return JValue(0.5 * float(y @ y) - 0.5 * proj, sum(ranks), ranks, cutoff, "gram-schmidt")


def J_projection(net: Network, Ws, X, Y, cutoff="press", *, M=None) -> JValue:
    """``J = 1/2 ||P_N[[D, D^(H+1)_1]] vec Y||^2`` from a thin SVD of the Jacobian with the rank
    ``cutoff`` (see :func:`J_gram_schmidt`).  ``M`` overrides the matrix."""
    y = _vecY(net, X, Y)
    A = jacobian(net, Ws, X) if M is None else np.asarray(M, float)
    U = linalg.range_basis(A, cutoff)
    r = y - U @ (U.T @ y)
    r = r - U @ (U.T @ r)                     # one re-orthogonalisation ("twice is enough")
    return JValue(0.5 * float(r @ r), int(U.shape[1]), (), cutoff, "projection (SVD)")


def J_mpmath(net: Network, Ws, X, Y, *, digits: int = 50, cutoff="lapack") -> JValue:
    """``J`` at ``digits`` decimal digits: the Jacobian in mpmath (object arrays) from the given
    float weights (exactly representable), the projection from :class:`MpmathBackend`
    (SVD at ``digits``, cutoff rule ``cutoff`` with ``eps = 10^(1-digits)``)."""
    from .backends import MpmathBackend
    B = MpmathBackend(digits=digits, rank_method=cutoff)
    with mpmath.workdps(digits):
        Ws_mp = [B.asarray(W) for W in net.check_weights(Ws)]
        X_mp = B.asarray(_check_X(net, X))
        Y_mp = B.asarray(_check_Y(net, Y, X_mp.shape[0]))
        blocks = d_blocks(net, Ws_mp, X_mp, pattern=activation_pattern(net, Ws, X))
        A = np.concatenate(blocks, axis=1)
        y = vec(Y_mp)[:, None]
        r = B.null_project(A, y)
        val = mpmath.mpf(0.5) * mpmath.fsum(v * v for v in r.ravel())
        rank = int(B.numerical_rank(A))
    return JValue(val, rank, (), cutoff, f"projection (mpmath {digits} digits)")


# ---------------------------------------------------------------------------------------------
# J at high precision, from mpmath object arrays and an absolute rank cutoff

def _mp_svd(A, digits):
    """Thin SVD of an object array of mpf: (U as object array, singular values list).

    Memoised by content (the entries' exact values, the shape and ``digits``): claims and
    their mutants ask for the SVD of the same matrix at the same certified point."""
    rows, cols = A.shape
    if rows == 0 or cols == 0:
        return np.zeros((rows, 0), dtype=object), []
    key = (int(digits), A.shape, tuple(A.ravel().tolist()))
    hit = _SVD_MEMO.get(key)
    if hit is None:
        hit = _mp_svd_compute(A, digits)
        if len(_SVD_MEMO) >= 256:
            _SVD_MEMO.clear()
        _SVD_MEMO[key] = hit
    return hit[0].copy(), list(hit[1])


_SVD_MEMO: dict = {}


def _mp_svd_compute(A, digits):
    with mpmath.workdps(digits):
        U, S, _ = mpmath.svd_r(mpmath.matrix(A.tolist()), full_matrices=False)
        Uo = np.array([[U[i, j] for j in range(U.cols)] for i in range(U.rows)], dtype=object)
        return Uo, [S[i] for i in range(len(S))]


def J_projection_mp(A, y, cutoff, digits, *, svd=None):
    """``1/2 ||P_N[A] y||^2`` at ``digits`` with the absolute ``cutoff`` (singular values ``<=``
    it count as zero).  Returns ``(J, rank, smallest kept singular value, all singular values)``.
    ``svd``: a precomputed ``_mp_svd(A, digits)``."""
    with mpmath.workdps(digits):
        U, s = _mp_svd(A, digits) if svd is None else svd
        keep = [i for i, v in enumerate(s) if v > cutoff]
        U = U[:, keep]
        r = y - U @ (U.T @ y)
        r = r - U @ (U.T @ r)
        J = mpmath.fsum(v * v for v in r) / 2
        return J, len(keep), (min(s[i] for i in keep) if keep else None), s


def J_gram_schmidt_mp(blocks, y, cutoff, digits):
    """``1/2 ||y||^2 - sum_b 1/2 ||P[N_b D_b] y||^2`` at ``digits``, ranks decided as in
    :func:`gram_schmidt_bases` with the absolute ``cutoff``.  Returns ``(J, ranks)``."""
    with mpmath.workdps(digits):
        full = np.concatenate(blocks, axis=1)
        rows = full.shape[0]
        Q = np.zeros((rows, 0), dtype=object)
        total, prev, cols, ranks = mpmath.mpf(0), 0, 0, []
        for B in blocks:
            cols += B.shape[1]
            _, s = _mp_svd(full[:, :cols], digits)
            r = sum(1 for v in s if v > cutoff)
            k, prev = r - prev, r
            ranks.append(k)
            if k <= 0:
                continue
            R = B - Q @ (Q.T @ B) if Q.shape[1] else B.copy()
            if Q.shape[1]:
                R = R - Q @ (Q.T @ R)
            U, _ = _mp_svd(R, digits)
            U = U[:, :k]
            total += mpmath.fsum(v * v for v in U.T @ y)
            Q = np.concatenate([Q, U], axis=1)
        return mpmath.fsum(v * v for v in y) / 2 - total / 2, tuple(ranks)


# ---------------------------------------------------------------------------------------------
# Definition 1 / 2: separated linear units

def linear_acting_units(net: Network, Ws, X) -> list[np.ndarray]:
    """Masks (one per layer l = 1..H) of the units with ``Phi^(l)_{.,k} = Phi^(l-1) W^(l)_{.,k}``
    exactly (condition ii of DW Definition 1): slope 1 on every sample where ``G != 0``."""
    f = forward(net, Ws, X)
    out = []
    for l in range(1, net.H + 1):
        G = np.asarray(f.G[l - 1])
        lam = np.asarray(f.Lam[l - 1], float)
        out.append(np.all((G == 0) | (lam == 1.0), axis=0))
    return out


def separated_linear_units(net: Network, Ws, X, n: int, t: int, *, strong: bool = False):
    """Index sets ``S^(t+1), ..., S^(H+1)`` (0-based unit indices) showing
    ``theta in Theta_{n,t}`` (DW Definition 1) or ``Theta^strong_{n,t}`` (Definition 2), or None.

    Weak: the greatest sets satisfying i-iii are computed backwards
    (``S^(H+1)`` = all outputs, ``S^(H)`` = the linearly acting units of layer H, and
    ``S^(l) = {k' linearly acting : W^(l+1)_{k',k} = 0 for every k not in S^(l+1)}``); larger
    ``S^(l+1)`` only enlarges ``S^(l)``, so theta is in Theta_{n,t} iff these sets have size
    ``>= n``.  Strong: every choice of subsets is enumerated (small widths only), because the
    extra condition ``Phi^(l)_{., not S^(l)} W^(l+1)_{not S^(l), k} = 0`` for ``k in S^(l+1)``
    (``l not in {H, H+1}``) is not monotone in the sets.  Exact comparisons (``== 0``).

    >>> net = Network((1, 2, 1), IDENTITY)
    >>> separated_linear_units(net, [np.ones((1, 2)), np.ones((2, 1))], np.ones((3, 1)), 1, 0)
    [[0, 1], [0]]
    """
    if not (0 <= t <= net.H):
        raise ValueError(f"t must be in 0..H={net.H}, got {t}")
    Ws = net.check_weights(Ws)
    lin = linear_acting_units(net, Ws, X)
    H = net.H
    if not strong:
        sets = {H + 1: set(range(net.d_y))}
        for l in range(H, t, -1):
            cand = {k for k in range(net.widths[l]) if lin[l - 1][k]}
            if l <= H - 1:
                outside = [k for k in range(net.widths[l + 1]) if k not in sets[l + 1]]
                cand = {k for k in cand if all(Ws[l][k, j] == 0 for j in outside)}
            sets[l] = cand
        if all(len(sets[l]) >= n for l in range(t + 1, H + 2)):
            return [sorted(sets[l]) for l in range(t + 1, H + 2)]
        return None
    import itertools
    f = forward(net, Ws, X)
    layers = list(range(t + 1, H + 1))
    choices = []
    for l in layers:
        units = [k for k in range(net.widths[l]) if lin[l - 1][k]]
        opts = [set(c) for r in range(n, len(units) + 1) for c in itertools.combinations(units, r)]
        choices.append(opts)
    for combo in itertools.product(*choices):
        sets = dict(zip(layers, combo))
        sets[H + 1] = set(range(net.d_y))
        ok = True
        for l in layers:
            if l <= H - 1:
                outside = [k for k in range(net.widths[l + 1]) if k not in sets[l + 1]]
                if any(Ws[l][k, j] != 0 for k in sets[l] for j in outside):
                    ok = False
                    break
                rest = [k for k in range(net.widths[l]) if k not in sets[l]]
                if rest:
                    contrib = f.Phi[l][:, rest] @ Ws[l][rest][:, sorted(sets[l + 1])]
                    if np.any(contrib != 0):
                        ok = False
                        break
        if ok and len(sets[H + 1]) >= n:
            return [sorted(sets[l]) for l in range(t + 1, H + 2)]
    return None
