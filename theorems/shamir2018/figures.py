"""Shamir (2018), Figure 1: contours of F, F + regulariser, and F with the constraint circle.

Every critical point and KKT point is marked and classified by exact enumeration
(:mod:`proofcheck.polynomial`), not read off the picture. Two versions are written:

* ``shamir2018_figure1``: the caption's objective F(w, v) = (w(1 + v) - 1)^2, as printed:
  (b) F + (1/4)(w^2 + v^2) has its spurious minimum ≈ (-0.983, -1.603);
* ``shamir2018_figure1_text_scaling``: Example 1's F = (w(1 + v) - 1)^2 / 2 with the text's
  R = (λ/2)(w^2 + v^2), λ = 1/2: panel (b) then has a single critical point, its global minimum
  (the erratum of ``shamir2018.figure1.regularised``). Panel (c) is the same for both scalings.

>>> from theorems.shamir2018.figures import panel_points
>>> pts = panel_points(scaling="caption")
>>> [p["kind"] for p in pts["b"]]
['minimum (spurious)', 'saddle', 'minimum']
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from proofcheck.lazy import lazy_import

from proofcheck.figures import Figure, FigureError, require_matplotlib

sp = lazy_import("sympy")   # loaded on first use (startup cost)

__all__ = ["FIGURES", "panel_points", "render_figure1"]

RADIUS = 2
LIMITS = (-3.0, 3.0)

MARKERS = {   # kind -> (marker, colour, size)
    "minimum": ("o", "#1a9850", 70),
    "minimum (spurious)": ("*", "#d73027", 220),
    "saddle": ("X", "#fdae61", 90),
    "maximum": ("^", "#4575b4", 80),
    "degenerate": ("D", "#969696", 60),
    "constrained minimum": ("o", "#1a9850", 70),
    "constrained minimum (spurious)": ("*", "#d73027", 220),
    "constrained minimum (on a curve of minima of f)": ("D", "#1a9850", 55),
    "not a minimum": ("s", "#762a83", 45),
}


def _objectives(scaling):
    # Example 1 at ε = 1 (theorems/shamir2018/example1.py states it; the figure does not import
    # the catalogue): F = (w(1 + v) - 1)^2 / 2, the caption prints it without the 1/2
    w, v = sp.symbols("w v", real=True)
    if scaling == "caption":
        F = (w * (1 + v) - 1) ** 2
    elif scaling == "example1":
        F = (w * (1 + v) - 1) ** 2 / 2
    else:
        raise FigureError(f"unknown scaling {scaling!r}: 'caption' or 'example1'")
    return w, v, F, F + sp.Rational(1, 4) * (w**2 + v**2)


@cache
def panel_points(scaling: str = "caption") -> dict[str, list[dict]]:
    """The classified points of each panel: {"a": [...], "b": [...], "c": [...]}, each a dict
    with ``w``, ``v``, ``kind`` (``minimum (spurious)`` when a strict local minimum lies above
    another critical value) and ``value``; panel (c) lists interior critical points inside the
    disc and the KKT points on the circle."""
    from proofcheck.polynomial import constrained_landscape, critical_points
    w, v, F, G = _objectives(scaling)
    out: dict[str, list[dict]] = {}
    for key, f in (("a", F), ("b", G)):
        land = critical_points(f, (w, v))
        spurious = {id(p) for p in land.spurious_minima()}
        out[key] = [dict(zip("wv", p.to_float()), value=float(p.value),
                         kind=p.kind + (" (spurious)" if id(p) in spurious else ""))
                    for p in land.points]
    cons = constrained_landscape(F, (w, v), RADIUS)
    spurious = {id(p) for p in cons.spurious_minima()}
    out["c"] = ([dict(zip("wv", p.to_float()), value=float(p.value),
                      kind=p.kind + (" (spurious)" if id(p) in spurious else ""))
                 for p in cons.interior]
                + [dict(zip("wv", b.to_float()), value=float(b.value),
                        kind=b.kind + (" (spurious)" if id(b) in spurious else ""))
                   for b in cons.boundary])
    return out


def _valley(ax, np):
    # the curve of global minima w(1 + v) = 1 (both branches), classified Morse-Bott minima
    for k, (lo, hi) in enumerate(((-1 + 1e-3, LIMITS[1]), (LIMITS[0], -1 - 1e-3))):
        vv = np.linspace(lo, hi, 400)
        ww = 1 / (1 + vv)
        keep = (ww >= LIMITS[0]) & (ww <= LIMITS[1])
        ax.plot(ww[keep], vv[keep], "--", color="#1a9850", lw=1.2,
                label="valley w(1+v) = 1: global minima (Morse-Bott)" if k == 0 else None)


def _write_csv(path: Path, points) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["panel", "w", "v", "kind", "value"])
        for key in "abc":
            for p in points[key]:
                writer.writerow([key, repr(p["w"]), repr(p["v"]), p["kind"], repr(p["value"])])


def render_figure1(out_dir: Path, scaling: str = "caption", formats=("png", "svg")):
    name = "shamir2018_figure1" + ("" if scaling == "caption" else "_text_scaling")
    points = panel_points(scaling)
    written = []
    if "csv" in formats:
        written.append(Path(out_dir) / f"{name}.csv")
        _write_csv(written[-1], points)
    images = [f for f in formats if f != "csv"]
    if not images:
        return written
    plt = require_matplotlib()
    import numpy as np
    w, v, F, G = _objectives(scaling)
    f_num = sp.lambdify((w, v), F, "numpy")
    g_num = sp.lambdify((w, v), G, "numpy")
    grid = np.linspace(*LIMITS, 201)
    W, V = np.meshgrid(grid, grid)
    fig, axes = plt.subplots(1, 3, figsize=(15, 5.8), layout="constrained")
    handles: dict = {}
    half = "" if scaling == "caption" else "/2"
    titles = {"a": f"(a) F = (w(1+v) - 1)^2{half}",
              "b": "(b) F + (1/4)(w^2 + v^2)",
              "c": f"(c) F with ||(w, v)|| <= {RADIUS}"}
    for key, ax in zip("abc", axes):
        Z = g_num(W, V) if key == "b" else f_num(W, V)
        filled = ax.contourf(W, V, np.log1p(Z), levels=30, cmap="viridis")
        filled.set_rasterized(True)         # keeps the SVG small; markers stay vector
        ax.contour(W, V, np.log1p(Z), levels=15, colors="white", linewidths=0.3, alpha=0.6)
        if key in "ac":
            _valley(ax, np)
        if key == "c":
            t = np.linspace(0, 2 * np.pi, 400)
            ax.plot(RADIUS * np.cos(t), RADIUS * np.sin(t), color="white", lw=1.5)
        seen = set()
        for p in points[key]:
            marker, colour, size = MARKERS.get(p["kind"], ("P", "black", 60))
            label = p["kind"] if p["kind"] not in seen else None
            seen.add(p["kind"])
            ax.scatter([p["w"]], [p["v"]], marker=marker, s=size, c=colour,
                       edgecolors="black", linewidths=0.6, zorder=5, label=label)
            if "spurious" in p["kind"]:
                ax.annotate(f"({p['w']:.3f}, {p['v']:.3f})", (p["w"], p["v"]),
                            textcoords="offset points", xytext=(8, -14), color="white",
                            fontsize=8)
        ax.set_xlim(*LIMITS)
        ax.set_ylim(*LIMITS)
        ax.set_xlabel("w")
        ax.set_ylabel("v")
        ax.set_aspect("equal")
        ax.set_title(titles[key])
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    fig.legend(list(handles.values()), list(handles.keys()), loc="outside lower center",
               ncol=4, fontsize=8)
    fig.suptitle("Shamir (2018) Figure 1, critical and KKT points by exact enumeration "
                 + ("(caption's F)" if scaling == "caption"
                    else "(Example 1's F with the 1/2: no spurious minimum in (b))"))
    for fmt in images:
        path = Path(out_dir) / f"{name}.{fmt}"
        fig.savefig(path, dpi=130)
        written.append(path)
    plt.close(fig)
    return written


def _render(out_dir, *, formats=("png", "svg"), seed=0):
    # deterministic: the seed is accepted (registry contract) and unused
    return (render_figure1(out_dir, "caption", formats)
            + render_figure1(out_dir, "example1", formats))


FIGURES = {
    "shamir2018.figure1": Figure(
        id="shamir2018.figure1",
        title="Figure 1: F, F + (1/4)(w^2 + v^2), F on ||(w, v)|| <= 2, with every critical / "
              "KKT point classified exactly",
        render=_render,
        claims=("shamir2018.figure1", "shamir2018.figure1.regularised",
                "shamir2018.figure1.constrained", "shamir2018.figure1.objective"),
    ),
}
