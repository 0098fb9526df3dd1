"""Hypotheses and instance plumbing shared by the KHK 2019 (DW) claim modules.

An instance of this catalogue carries plain fields (so reports can print them):

* ``widths``: ``(d_0, ..., d_{H+1})`` as a tuple of ints;
* ``acts``: a string, one entry per hidden layer separated by ``|``; an entry is one activation
  name (``"relu"``, ``"abs"``, ``"identity"``, ``"leaky:<a>"``) for the whole layer, or
  comma-separated names, one per unit (``"relu|abs,identity,relu"``);
* ``X`` (``m x d_x``), ``Y`` (``m x d_y``) and, for any-point claims, ``theta`` (the stacked
  column-major vecs of the weights).

:func:`network_of` turns the fields into a :class:`proofcheck.networks.Network`;
:func:`per_instance` lets a conclusion written for one instance run on the engine's stacked
batches (instances of one shape are stacked along a new leading axis).
"""

from __future__ import annotations

import functools

import numpy as np

from proofcheck import Hypothesis, Margin
from proofcheck.networks import ABS, IDENTITY, RELU, Activation, Network, leaky_relu

__all__ = [
    "activation", "acts_text", "network_of", "per_instance", "unbatch",
    "ADMISSIBLE", "ONE_HIDDEN", "SCALAR_OUTPUT", "LINEAR", "DY_LE_WIDTHS", "PAPER",
]

PAPER = "khk2019dw"


def activation(name: str) -> Activation:
    """``"relu" | "abs" | "identity" | "leaky:<a>"`` -> :class:`Activation`.

    >>> activation("leaky:0.25").neg
    0.25
    """
    if isinstance(name, Activation):
        return name
    table = {"relu": RELU, "abs": ABS, "identity": IDENTITY}
    if name in table:
        return table[name]
    if isinstance(name, str) and name.startswith("leaky:"):
        return leaky_relu(float(name.split(":", 1)[1]))
    raise ValueError(f"unknown activation {name!r}; use relu, abs, identity or leaky:<a>")


@functools.lru_cache(maxsize=512)
def _network(widths, acts: str) -> Network:
    layers = []
    for a in acts.split("|"):
        units = a.split(",")
        layers.append(activation(units[0]) if len(units) == 1 else [activation(u) for u in units])
    return Network(tuple(widths), layers)


def acts_text(layers) -> str:
    """The ``acts`` string of per-layer names or per-unit sequences of names."""
    return "|".join(a if isinstance(a, str) else ",".join(a) for a in layers)


def network_of(inst) -> Network:
    """The network of an instance (fields ``widths`` and ``acts``).

    >>> from proofcheck import Instance
    >>> network_of(Instance(widths=(2, 2, 1), acts="relu,abs")).activations
    [[relu, abs]]
    """
    f = inst.fields()
    acts = f["acts"]
    if not isinstance(acts, str):
        acts = acts_text(acts)
    return _network(tuple(int(d) for d in np.ravel(f["widths"])), acts)


def unbatch(inst) -> list:
    """The single instances of a stacked batch (or ``[inst]``)."""
    f = inst.fields()
    n = f.get("batch_size")
    if n is None:
        return [inst]
    out = []
    for j in range(n):
        g = {}
        for k, v in f.items():
            if k == "batch_size":
                continue
            if isinstance(v, np.ndarray) and v.dtype != object and v.ndim >= 1 and v.shape[0] == n:
                g[k] = v[j]
                if g[k].ndim == 0:
                    g[k] = float(g[k])
            else:
                g[k] = v
        out.append(inst.__class__(**g))
    return out


def per_instance(conclusion):
    """Run a single-instance conclusion over a stacked batch; margins become arrays."""
    @functools.wraps(conclusion)
    def run(inst, point, B):
        items = unbatch(inst)
        if len(items) == 1 and "batch_size" not in inst.fields():
            return conclusion(inst, point, B)
        ms = [conclusion(i, point, B) for i in items]
        val = np.array([float(np.min(np.asarray(m.value, dtype=float))) for m in ms])
        tol = np.array([float(np.max(np.asarray(m.tol, dtype=float))) for m in ms])
        return Margin(val, tol, None, None, ms[0].tol_source)
    return run


# ---------------------------------------------------------------------------------------------
# hypotheses

def _net(inst):
    return network_of(inst)


def _admissible(inst) -> bool:
    net = _net(inst)
    return all(u.pos == 1.0 and u.neg <= 1.0 for layer in net.activations for u in layer)


ADMISSIBLE = Hypothesis(
    "activations",
    "every hidden unit is ReLU, leaky ReLU max(a z, z) with a <= 1, absolute value, or linear "
    "(DW eq. 4.1)", _admissible)

ONE_HIDDEN = Hypothesis("H=1", "one hidden layer (DW Section 3)", lambda i: _net(i).H == 1)

SCALAR_OUTPUT = Hypothesis("d_y=1", "scalar output d_y = 1 (DW Section 3)",
                           lambda i: _net(i).d_y == 1)

LINEAR = Hypothesis("linear", "every activation is the identity (deep linear network)",
                    lambda i: _net(i).is_linear)

DY_LE_WIDTHS = Hypothesis("d_y<=min d_l", "d_y <= min_l d_l over the hidden layers",
                          lambda i: _net(i).d_y <= min(_net(i).widths[1:-1]))
