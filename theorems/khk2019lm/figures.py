"""KHK2019LM Figures 1-4: the geometric view of the gradient basis and perturbable gradient basis.

A model with theta in R^2 and f_X(theta) in R^3 (m = 3 samples, d_y = 1):

    f(x; theta) = theta_2 tanh(theta_1 x),   X = (0.5, 1, 2).

Its image M = {f_X(theta)} is a surface in R^3 (left panel, Figures 1-2).  At a regular point
theta_r = (1, 1) the tangent space T = span{d_1 f_X, d_2 f_X} is a plane through 0 that contains
f_X(theta_r) (eq. 3.1: Assumption 2 holds with g = (0, theta_2)).  At the singular point
theta_s = (1, 0) every theta' = (1 + eps v_1, 0) has the same f_X = 0, so (v_1, 0) is in
V[theta_s, eps]; T is the line span{tanh(X)} (d_1 f_X = 0 there), while the perturbed bases
d_2 f_X(theta_s + eps v) = tanh((1 + eps v_1) X) span all of R^3 (right panel, Figures 3-4):
the perturbable gradient basis sees the whole output space although T is a line.

Every quantity drawn comes from :func:`geometry`, which the tests check (ranks of T and of the
perturbable span, membership of the perturbations in V[theta, eps]).

>>> g = geometry()
>>> g["rank_T_regular"], g["rank_T_singular"], g["rank_perturbable"]
(2, 1, 3)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from proofcheck.figures import Figure, require_matplotlib
from proofcheck.linalg import null_project

__all__ = ["FIGURES", "geometry", "render_geometry"]

X = np.array([0.5, 1.0, 2.0])
TARGET = np.array([0.6, -0.2, 0.9])
EPS = 0.25


def f_X(theta):
    return theta[1] * np.tanh(theta[0] * X)


def jacobian(theta):
    """(3, 2): columns d_1 f_X, d_2 f_X."""
    t1, t2 = theta
    return np.stack([t2 * X / np.cosh(t1 * X) ** 2, np.tanh(t1 * X)], axis=1)


def _rank(M):
    from proofcheck.linalg import numerical_rank
    return int(numerical_rank(np.atleast_2d(M)))


def geometry(eps: float = EPS) -> dict:
    """Every quantity of the figure: the surface grid, the two points, their tangent bases, the
    perturbations v in V[theta_s, eps] (checked: f_X unchanged) and the ranks."""
    regular, singular = np.array([1.0, 1.0]), np.array([1.0, 0.0])
    t1, t2 = np.meshgrid(np.linspace(-2.5, 2.5, 41), np.linspace(-1.5, 1.5, 31))
    surf = t2[..., None] * np.tanh(t1[..., None] * X)
    vs = [np.array([1.0, 0.0]), np.array([-1.0, 0.0]), np.array([0.5, 0.0])]
    deviation = max(float(np.abs(f_X(singular + eps * v) - f_X(singular)).max()) for v in vs)
    perturbed = np.stack([jacobian(singular + eps * v)[:, 1] for v in vs], axis=1)
    J_r, J_s = jacobian(regular), jacobian(singular)
    return {
        "surface": surf, "regular": regular, "singular": singular,
        "f_regular": f_X(regular), "f_singular": f_X(singular),
        "T_regular": J_r, "T_singular": J_s, "perturbed": perturbed, "directions": vs,
        "membership_deviation": deviation, "target": TARGET,
        "rank_T_regular": _rank(J_r), "rank_T_singular": _rank(J_s),
        "rank_perturbable": _rank(np.hstack([J_s, perturbed])),
        # squared distance of f_X(regular) from the tangent space T (0: f_X lies in T)
        "in_T_regular": float(np.sum(null_project(J_r, f_X(regular)) ** 2))
        if J_r.shape[0] > 2 else 0.0,
    }


def _plane(ax, basis, center, span=1.2, color="#4575b4", alpha=0.25):
    Q, _ = np.linalg.qr(basis)
    a, b = np.meshgrid(np.linspace(-span, span, 2), np.linspace(-span, span, 2))
    P = center + a[..., None] * Q[:, 0] + b[..., None] * Q[:, 1]
    ax.plot_surface(P[..., 0], P[..., 1], P[..., 2], color=color, alpha=alpha, linewidth=0)


def render_geometry(out_dir: Path, formats=("png", "svg")) -> list[Path]:
    plt = require_matplotlib()
    g = geometry()
    fig = plt.figure(figsize=(12, 5.4))
    for k, (title, which) in enumerate((("Figures 1-2: regular point, T is a plane", "regular"),
                                        ("Figures 3-4: singular point, T is a line, the "
                                         "perturbable span is R^3", "singular"))):
        ax = fig.add_subplot(1, 2, k + 1, projection="3d")
        S = g["surface"]
        ax.plot_surface(S[..., 0], S[..., 1], S[..., 2], color="#bbbbbb", alpha=0.35,
                        linewidth=0, label="image M of f_X")
        p = g[f"f_{which}"]
        if which == "regular":
            _plane(ax, g["T_regular"], np.zeros(3))
        else:
            u = g["T_singular"][:, 1] / np.linalg.norm(g["T_singular"][:, 1])
            line = np.outer(np.linspace(-1.5, 1.5, 2), u)
            ax.plot(line[:, 0], line[:, 1], line[:, 2], color="#4575b4", lw=2.5,
                    label="T (a line)")
            # the perturbed basis vectors are close to T; draw their components orthogonal
            # to T (and to each other): the new directions the perturbable span adds
            Q, _ = np.linalg.qr(np.column_stack([u, g["perturbed"]]))
            for j in (1, 2):
                ax.quiver(0, 0, 0, *Q[:, j], color="#d73027", lw=1.8,
                          label="new directions from d_2 f_X(theta + eps v), v in V"
                          if j == 1 else None)
        ax.scatter(*p, color="k", s=50, label="f_X(theta)")
        ax.scatter(*g["target"], color="#1a9850", marker="*", s=160, label="target y")
        ax.set_xlabel("f(x_1)")
        ax.set_ylabel("f(x_2)")
        ax.set_zlabel("f(x_3)")
        ax.set_title(title, fontsize=9)
        ax.legend(loc="upper left", fontsize=7)
    fig.suptitle("KHK2019LM geometric view: f(x; theta) = theta_2 tanh(theta_1 x), "
                 "X = (0.5, 1, 2)", fontsize=10)
    fig.tight_layout()
    out = []
    for fmt in formats:
        path = Path(out_dir) / f"khk2019lm_figure_geometry.{fmt}"
        fig.savefig(path, dpi=120)
        out.append(path)
    plt.close(fig)
    return out


FIGURES = {
    "khk2019lm.figure_geometry": Figure(
        id="khk2019lm.figure_geometry",
        title="Figures 1-4: image surface, tangent space T and perturbable span at a regular "
              "and a singular point (theta in R^2, f_X in R^3)",
        render=lambda out_dir, formats=("png", "svg"), seed=0: render_geometry(out_dir, formats),
        claims=("khk2019lm.theorem1.tangent_space", "khk2019lm.theorem1", "khk2019lm.theorem2"),
    ),
}
