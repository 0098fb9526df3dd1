"""Symbolic versions of the models, for identities proven with :mod:`proofcheck.symbolic`.

>>> s = resnet_symbols(d_x=2, d_y=1, d_z=1)
>>> s.h.shape, s.R.shape, s.phi.shape
((1, 1), (1, 3), (3, 1))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .lazy import lazy_import

from .symbolic import exact_projection, symbol_matrix, symbol_vector

if TYPE_CHECKING:  # pragma: no cover - mypy reads sympy's types through a plain import
    import sympy as sp
else:
    sp = lazy_import("sympy")   # loaded on first use (startup cost)

__all__ = ["ResNetSymbols", "resnet_symbols", "null_space_projection", "block_diag"]


@dataclass(frozen=True)
class ResNetSymbols:
    """The ResNet with symbol matrices: h = W (x + V z), D = dl/dh (a row), R = [W, W V]."""

    W: sp.Matrix       # d_y x d_x
    V: sp.Matrix       # d_x x d_z
    x: sp.Matrix       # d_x x 1
    z: sp.Matrix       # d_z x 1
    D: sp.Matrix       # 1 x d_y, the loss derivative at h (a free row: any loss)
    u: sp.Matrix       # d_x x 1, a direction for V-perturbations
    nu: sp.Matrix      # d_z x 1
    I_y: sp.Matrix

    @property
    def h(self) -> sp.Matrix:
        return self.W * (self.x + self.V * self.z)

    @property
    def R(self) -> sp.Matrix:
        """The induced linear predictor R(W, V) = [W, W V] (h = R [x; z])."""
        return self.W.row_join(self.W * self.V)

    @property
    def phi(self) -> sp.Matrix:
        """The feature vector phi_theta(x) = [x; z]."""
        return self.x.col_join(self.z)

    def W_with_null_direction(self) -> sp.Matrix:
        """A generic W with W u = 0: W = M (I - u u^T / u^T u) for a free M (rational in u)."""
        M = symbol_matrix("M", self.W.rows, self.W.cols)
        u = self.u
        return M * (sp.eye(u.rows) - u * u.T / (u.T * u)[0, 0])


def resnet_symbols(d_x: int, d_y: int, d_z: int) -> ResNetSymbols:
    return ResNetSymbols(W=symbol_matrix("W", d_y, d_x), V=symbol_matrix("V", d_x, d_z),
                         x=symbol_vector("x", d_x), z=symbol_vector("z", d_z),
                         D=symbol_matrix("D", 1, d_y), u=symbol_vector("u", d_x),
                         nu=symbol_vector("nu", d_z), I_y=sp.eye(d_y))


def null_space_projection(M: sp.Matrix) -> sp.Matrix:
    """Orthogonal projector onto Null(M) (a subspace of R^{cols}), exactly.

    The literal reading of "projection onto the null space of M"; the projector onto
    Null(M^T) is I - P[M] (:func:`proofcheck.linalg.null_projection`).
    """
    basis = M.nullspace()
    if not basis:
        return sp.zeros(M.cols, M.cols)
    B = sp.Matrix.hstack(*basis)
    return exact_projection(B)


def block_diag(A: sp.Matrix, B: sp.Matrix) -> sp.Matrix:
    return sp.diag(A, B)
