r"""Figure 1 of Kawaguchi, Huang & Kaelbling (2019), *Effect of depth and width on local minima in
deep learning* (Neural Computation 31(6)): heat maps of ``J(theta)`` over depth x width, at the
initial weights and after training, for each rank-cutoff criterion of Appendix C.

The paper's Figure 1 has four panels (synthetic, MNIST, CIFAR-10, SVHN); :data:`PANELS` says
which are reproduced and why the others are not, and every run writes that listing, with the
comparison of its own numbers with the paper's observations (:func:`comparisons`), to
``khk2019dw-figure1-<dataset>[-quick]-summary.txt``.

``proofcheck figure khk2019dw.figure1 --dataset synthetic|digits [--scheduler ADDR] [--quick]``
writes ``khk2019dw-figure1-<dataset>[-quick].png`` (and any other requested image format) and a
``.csv`` with one row per (phase, criterion, depth, width) and the ``-summary.txt``.

``J(theta) = 1/2 ||(I - P[[D, D^(H+1)_1]]) vec Y||^2`` is computed as the paper's Appendix C
says (the projection form, not the Gram-Schmidt sum, whose per-block round-off "may easily
cause a numerical overestimation"), by :func:`proofcheck.fast_j.fast_j_all`; each CSV row says
which path decided the rank and how far the nearest singular value was from the cutoff.

What the paper specifies (Section 5 and Appendix C) and this module follows:

* synthetic data: a fully connected tanh "ground-truth" network with ``H = 7``, ``d_l = 50``,
  ``x in R^10``, ``y in R``, ``m = 5000``;
* the trained networks: fully connected, ReLU, no biases (the paper's model, eq. 4.1), depth ``H``
  (y-axis) and every hidden width ``d_l`` equal (x-axis);
* initial weights: normal, zero mean, "normalized standard deviation";
* training: mini-batch SGD with momentum, learning rate 0.01, momentum 0.9 (synthetic) / 0.5
  (images), mini-batch 200 (synthetic) / 64 (images), 40 epochs;
* the three cutoff criteria (Press; Golub & Van Loan with ``||M||_inf``; Netlib LAPACK), see
  :mod:`proofcheck.fast_j`.

Choices the paper leaves open (also in ``docs/figures-khk2019dw.md``):

* **the grid**: depths ``H in {1, 2, 3, 5, 7}``, widths ``d_l in {10, 20, 30, 40, 50}`` (the
  paper's axes are not stated in the text; 7 and 50 are the teacher's size);
* **teacher**: the weights as printed (Appendix C: entries ``N(0, 2/d_l)``, :data:`TEACHER_STD`)
  and ``x ~ N(0, I_10)`` as printed; no biases and ``y`` = the teacher's output without noise
  (not stated); its weights come from the figure's seed;
* **"normalized standard deviation (1/d_l)"**: read as ``1/sqrt(fan-in) = 1/sqrt(d_{l-1})``
  (LeCun normal, :meth:`proofcheck.networks.Network.random_weights`); a standard deviation of
  ``1/d_l`` shrinks the signal by ``sqrt(d_l)`` per layer;
* **mini-batch loss**: the mean over the mini-batch of ``1/2 ||yhat - y||^2`` (the paper's
  ``L`` is a sum; with a sum, learning rate 0.01 and mini-batch 200 the steps are 200x larger);
  momentum in the common form ``v <- mu v + g``, ``theta <- theta - lr v``; samples reshuffled
  every epoch from the cell's seed; no weight decay;
* **digits instead of MNIST**: scikit-learn's bundled 8x8 digits (1797 images, already 8x8,
  pixel values / 16 in ``[0, 1]``), a random subset of ``m = 500`` (the paper: 10000 MNIST
  images cropped to 24x24 and resized to 8x8), one-hot targets ``y in R^10`` (so
  ``m d_y = 5000`` rows, like the synthetic cell);
* **the colour scale**: one linear scale for all panels of a data set (initial and trained
  comparable), the value written in each cell;
* **seeds**: the teacher / digit subset from the figure's seed; each cell's initial weights and
  shuffling from a seed derived from (seed, depth, width) (:mod:`proofcheck.sweeps`);
* **divergence**: a run whose loss becomes non-finite is recorded as diverged (J left empty).

``--quick``: depths ``{1, 2}``, widths ``{4, 8}``, ``m = 200`` (synthetic) / ``120`` (digits),
2 epochs: the whole pipeline in a few seconds (what the tests run).
"""

from __future__ import annotations

import csv
import functools
import math
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from proofcheck import fast_j as fj
from proofcheck import networks as nw
from proofcheck import sweeps
from proofcheck.figures import Figure, FigureError, require_matplotlib

__all__ = ["FIGURES", "PANELS", "Panel", "TEACHER_STD", "synthetic_data", "digits_data",
           "train_sgd", "figure1_cell", "figure1_rows", "render_figure1", "CONFIG", "comparisons",
           "panel_listing", "summary"]

#: Appendix C's training settings per data set (the image settings are used for digits).
CONFIG = {
    "synthetic": dict(m=5000, lr=0.01, momentum=0.9, batch=200, epochs=40),
    "digits": dict(m=500, lr=0.01, momentum=0.5, batch=64, epochs=40),
}
#: The rank-cutoff criteria of the paper's Appendix C (the first is the one Figure 1 uses);
#: the kernel compares the same three by default.
APPENDIX_C_CRITERIA = fj.DEFAULT_CRITERIA

GRID = dict(depths=(1, 2, 3, 5, 7), widths=(10, 20, 30, 40, 50))
QUICK_GRID = dict(depths=(1, 2), widths=(4, 8))
QUICK_M = {"synthetic": 200, "digits": 120}
QUICK_EPOCHS = 2
PHASES = ("initial", "trained")

CSV_FIELDS = ("dataset", "phase", "criterion", "depth", "width", "m", "d_y", "d_theta", "J",
              "J_relative", "loss", "rank", "path", "margin_to_cutoff", "cutoff", "fallback",
              "diverged", "seconds", "cpu_seconds")


# ---------------------------------------------------------------------------------------------
# data


def TEACHER_STD(d_l: int) -> float:  # noqa: N802 (a constant of the paper, as a function)
    """Standard deviation of the teacher's weight entries of a layer with ``d_l`` outputs, as
    printed in Appendix C: sqrt(2 / d_l) (the extracted text reads "(2dl)", its root and
    fraction bar lost, as in "(1/dl)" for the trained networks' initialisation).

    >>> round(TEACHER_STD(50), 4)
    0.2
    """
    return math.sqrt(2.0 / d_l)

def synthetic_data(m: int = 5000, seed: int = 0, *, depth: int = 7, width: int = 50,
                   d_x: int = 10):
    """Appendix C's synthetic set: ``x ~ N(0, I)``, ``y`` = a tanh network (no biases) with
    ``depth`` hidden layers of ``width`` units whose weight entries are drawn as printed in
    Appendix C, "normal distribution with zero mean and normalized standard deviation
    (sqrt(2/d_l))": ``W^(l)_ij ~ N(0, 2/d_l)``, ``d_l`` the number of outputs of layer ``l``
    (``TEACHER_STD``); ``(X, Y)`` with ``Y`` of shape ``(m, 1)``.

    >>> X, Y = synthetic_data(4, seed=1)
    >>> X.shape, Y.shape
    ((4, 10), (4, 1))
    """
    if m < 1:
        raise ValueError(f"m must be >= 1, got {m}")
    rng = np.random.default_rng([seed, 2019])
    widths = (d_x,) + (width,) * depth + (1,)
    Ws = [rng.normal(size=(a, b)) * TEACHER_STD(b) for a, b in zip(widths[:-1], widths[1:])]
    X = rng.normal(size=(m, d_x))
    h = X
    for W in Ws[:-1]:
        h = np.tanh(h @ W)
    return X, h @ Ws[-1]


def digits_data(m: int = 500, seed: int = 0):
    """scikit-learn's 8x8 digits (the stand-in for the paper's 8x8 MNIST): a random subset of
    ``m`` images, pixels / 16, one-hot targets.  Needs the ``digits`` extra."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise FigureError("the digits data set needs scikit-learn: "
                          "pip install 'proofcheck[digits]'") from exc
    d = load_digits()
    n = d.data.shape[0]
    if not 1 <= m <= n:
        raise ValueError(f"m must be in 1..{n} for digits, got {m}")
    idx = np.sort(np.random.default_rng([seed, 8]).choice(n, size=m, replace=False))
    X = d.data[idx] / 16.0
    Y = np.eye(10)[d.target[idx]]
    return X, Y


@functools.lru_cache(maxsize=4)
def _data(dataset, m, seed):
    """The data of a cell (cached per process: every cell of a sweep shares it)."""
    if dataset == "synthetic":
        return synthetic_data(m, seed)
    if dataset == "digits":
        return digits_data(m, seed)
    raise FigureError(f"unknown dataset {dataset!r}; use synthetic or digits")


# ---------------------------------------------------------------------------------------------
# training

def train_sgd(net, Ws, X, Y, *, epochs, lr, momentum, batch, rng):
    """Mini-batch SGD with momentum on the mean over the batch of ``1/2 ||yhat - y||^2``.

    Returns ``(weights, diverged)``.  Gradients by back-propagation through the activation
    pattern of :func:`proofcheck.networks.forward` (the ReLU derivative is 0 at a kink, the
    paper's convention).
    """
    Ws = [np.array(W, dtype=float) for W in net.check_weights(Ws)]
    V = [np.zeros_like(W) for W in Ws]
    m, H = X.shape[0], net.H
    for _ in range(epochs):
        perm = rng.permutation(m)
        for s in range(0, m, batch):
            idx = perm[s:s + batch]
            f = nw.forward(net, Ws, X[idx])
            delta = (f.Yhat - Y[idx]) / idx.size
            grads = [None] * (H + 1)
            grads[H] = f.Phi[H].T @ delta
            for l in range(H, 0, -1):
                delta = (delta @ Ws[l].T) * f.Lam[l - 1]
                grads[l - 1] = f.Phi[l - 1].T @ delta
            for W, v, g in zip(Ws, V, grads):
                v *= momentum
                v += g
                W -= lr * v
        if not all(np.all(np.isfinite(W)) for W in Ws):
            return Ws, True
    return Ws, False


# ---------------------------------------------------------------------------------------------
# one cell of the heat map

def figure1_cell(cell: sweeps.Cell) -> list[dict]:
    """J at the initial and the trained weights of one (depth, width), every criterion."""
    p = cell.params
    X, Y = _data(p["dataset"], p["m"], p["data_seed"])
    H, w = int(p["depth"]), int(p["width"])
    net = nw.Network((X.shape[1],) + (w,) * H + (Y.shape[1],), nw.RELU)
    rng = cell.rng()
    Ws0 = net.random_weights(rng)
    cfg = p["train"]
    t0, c0 = time.perf_counter(), time.process_time()
    Ws1, diverged = train_sgd(net, Ws0, X, Y, rng=rng, **cfg)
    t_train, c_train = time.perf_counter() - t0, time.process_time() - c0
    half_y2 = 0.5 * float(np.sum(Y * Y))
    rows = []
    for phase, Ws in zip(PHASES, (Ws0, Ws1)):
        base = dict(dataset=p["dataset"], phase=phase, depth=H, width=w, m=X.shape[0],
                    d_y=Y.shape[1], d_theta=net.d_theta, diverged=diverged and phase == "trained")
        if base["diverged"]:
            rows += [dict(base, criterion=c) for c in p["criteria"]]
            continue
        t0, c0 = time.perf_counter(), time.process_time()
        res = fj.fast_j_all(net, Ws, X, Y, p["criteria"])
        secs = time.perf_counter() - t0 + (t_train if phase == "trained" else 0.0)
        cpu = time.process_time() - c0 + (c_train if phase == "trained" else 0.0)
        loss = float(nw.loss(net, Ws, X, Y))
        for c, r in res.items():
            rows.append(dict(base, criterion=c, J=r.value, J_relative=r.value / half_y2,
                             loss=loss, rank=r.rank, path=r.path,
                             margin_to_cutoff=r.margin_to_cutoff, cutoff=r.cutoff,
                             fallback=r.fallback or "", seconds=secs, cpu_seconds=cpu))
    return rows


def figure1_rows(dataset="synthetic", *, quick=False, seed=0, scheduler=None, workers=None,
                 progress=None, on_rows=None) -> list[dict]:
    """Every cell of the figure (see the module docstring), through :func:`sweeps.run_cells`.
    ``on_rows(rows)`` receives each cell's rows as it finishes."""
    if dataset not in CONFIG:
        raise FigureError(f"unknown dataset {dataset!r}; use synthetic or digits")
    if dataset == "digits":
        digits_data(1, seed)                       # a clear error now if sklearn is missing
    grid = QUICK_GRID if quick else GRID
    train = {k: v for k, v in CONFIG[dataset].items() if k != "m"}
    if quick:
        train["epochs"] = QUICK_EPOCHS
    m = QUICK_M[dataset] if quick else CONFIG[dataset]["m"]
    cells = sweeps.make_cells({"depth": grid["depths"], "width": grid["widths"]}, base_seed=seed,
                              dataset=dataset, m=m, data_seed=seed, train=train,
                              criteria=APPENDIX_C_CRITERIA)
    # biggest cells first: a better load balance on a few workers
    order = sorted(range(len(cells)), key=lambda i: -cells[i].params["depth"]
                   * cells[i].params["width"] ** 2)
    try:
        out = sweeps.run_cells(figure1_cell, [cells[i] for i in order], scheduler=scheduler,
                               workers=workers, progress=progress,
                               description=f"khk2019dw figure 1 ({dataset})",
                               on_result=None if on_rows is None else
                               (lambda cell, rows: on_rows(rows)))
    except sweeps.SweepError as exc:
        raise FigureError(str(exc)) from exc
    by_key = {cells[i].key: rows for i, rows in zip(order, out)}
    return [row for c in cells for row in by_key[c.key]]


# ---------------------------------------------------------------------------------------------
# the paper's panels and what the figure says about them

@dataclass(frozen=True)
class Panel:
    """One panel of the paper's Figure 1 (an initial and a trained heat map of one data set)
    and whether this figure reproduces it: ``reproduced``, ``stand-in`` (a substitute data set,
    ``dataset``) or ``absent``, with the reason."""

    name: str
    paper: str
    status: str
    dataset: str | None
    reason: str


_NO_DOWNLOAD = ("not bundled with any installed package, and this environment has no network "
                "access except package registries, so it cannot be downloaded")

#: The four panels of the paper's Figure 1, in the paper's order.
PANELS = (
    Panel("synthetic", "tanh teacher, H = 7, d_l = 50, x in R^10, y in R, m = 5000",
          "reproduced", "synthetic",
          "the teacher as printed in Appendix C; grid and mini-batch loss are choices "
          "(see the module docstring)"),
    Panel("MNIST", "10000 images, cropped 24x24, resized 8x8, gray-scale", "stand-in",
          "digits", "MNIST is " + _NO_DOWNLOAD + "; scikit-learn's bundled 8x8 digits "
                    "(1797 images, m = 500) stand in: a different data set"),
    Panel("CIFAR-10", "10000 images, cropped 28x28, resized 12x12, gray-scale", "absent", None,
          "CIFAR-10 is " + _NO_DOWNLOAD),
    Panel("SVHN", "10000 images, cropped 28x28, resized 12x12, gray-scale", "absent", None,
          "SVHN is " + _NO_DOWNLOAD),
)


def panel_listing() -> list[str]:
    """One line per panel of the paper's Figure 1: reproduced, stand-in or absent, and why.

    >>> [line.split(":")[0] for line in panel_listing()]
    ['synthetic', 'MNIST', 'CIFAR-10', 'SVHN']
    """
    out = []
    for p in PANELS:
        how = {"reproduced": "reproduced (--dataset synthetic)",
               "stand-in": f"stand-in (--dataset {p.dataset})", "absent": "ABSENT"}[p.status]
        out.append(f"{p.name}: {how}; paper: {p.paper}; {p.reason}")
    return out


def _grid(rows, phase, criterion):
    return {(r["depth"], r["width"]): r.get("J") for r in rows
            if r["phase"] == phase and r["criterion"] == criterion}


def _fmt(values):
    return ", ".join("div." if v is None or v == "" else f"{float(v):.3g}" for v in values)


def comparisons(rows, criterion: str = "press") -> list[str]:
    """What the computed rows say about the paper's two observations on Figure 1 ("J tends to
    decrease ... as the width or depth increases"; "J tends to decrease along with training"),
    as sentences with their numbers: for each phase, in how many rows (depths) J is
    non-increasing in width and in how many columns (widths) it is non-increasing in depth,
    naming each exception; and in how many cells training lowered J. Diverged cells are
    counted as exceptions, never as agreement.

    >>> rows = [dict(phase=ph, criterion="press", depth=d, width=w, J=j)
    ...         for ph, js in (("initial", (3, 2, 1, 4)), ("trained", (2, 1, 1, 5)))
    ...         for (d, w), j in zip(((1, 1), (1, 2), (2, 1), (2, 2)), js)]
    >>> for line in comparisons(rows): print(line)
    initial: J non-increasing in width at 1 of 2 depths (not at H = 2: 1, 4)
    initial: J non-increasing in depth at 1 of 2 widths (not at d_l = 2: 2, 4)
    trained: J non-increasing in width at 1 of 2 depths (not at H = 2: 1, 5)
    trained: J non-increasing in depth at 1 of 2 widths (not at d_l = 2: 1, 5)
    training lowered J in 2 of 4 cells (raised it in 1, left it equal in 1, diverged in 0)
    """
    def monotone(vals):
        if any(v is None or v == "" for v in vals):
            return False
        v = [float(x) for x in vals]
        return all(b <= a for a, b in zip(v, v[1:]))

    out = []
    depths = sorted({r["depth"] for r in rows})
    widths = sorted({r["width"] for r in rows})
    for phase in PHASES:
        g = _grid(rows, phase, criterion)
        for axis, outer, inner, label in (("width", depths, widths, "H"),
                                          ("depth", widths, depths, "d_l")):
            bad = []
            for o in outer:
                vals = [g.get((o, i) if axis == "width" else (i, o)) for i in inner]
                if not monotone(vals):
                    bad.append(f"{label} = {o}: {_fmt(vals)}")
            kind = "depths" if axis == "width" else "widths"
            line = (f"{phase}: J non-increasing in {axis} at {len(outer) - len(bad)} of "
                    f"{len(outer)} {kind}")
            out.append(line + (f" (not at {'; '.join(bad)})" if bad else ""))
    g0, g1 = _grid(rows, "initial", criterion), _grid(rows, "trained", criterion)
    lower = higher = equal = diverged = 0
    for key, j0 in g0.items():
        j1 = g1.get(key)
        if j1 is None or j1 == "" or j0 is None or j0 == "":
            diverged += 1
        elif float(j1) < float(j0):
            lower += 1
        elif float(j1) > float(j0):
            higher += 1
        else:
            equal += 1
    out.append(f"training lowered J in {lower} of {len(g0)} cells (raised it in {higher}, "
               f"left it equal in {equal}, diverged in {diverged})")
    return out


def summary(rows, dataset: str, criterion: str = "press") -> str:
    """The text written next to the figure: the paper's panels (which are reproduced, and why
    the others are not) and :func:`comparisons` of the computed rows with the paper's
    observations."""
    def wrap(text):
        return textwrap.fill(text, 79, initial_indent="  ", subsequent_indent="      ")

    lines = ["KHK 2019 Figure 1: the paper's panels", *map(wrap, panel_listing()), "",
             f"This run: --dataset {dataset}. Compared with the paper's observations",
             f"(cutoff: {criterion}):", *map(wrap, comparisons(rows, criterion))]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# rendering

def _write_csv(path: Path, rows):
    with open(path, "w", newline="") as fh:
        wr = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
        wr.writeheader()
        for r in rows:
            wr.writerow({k: r.get(k, "") for k in CSV_FIELDS})


def _plot(rows, dataset, quick, stems):
    plt = require_matplotlib()
    depths = sorted({r["depth"] for r in rows})
    widths = sorted({r["width"] for r in rows})
    crits = list(dict.fromkeys(r["criterion"] for r in rows))
    grids = {}
    for phase in PHASES:
        for c in crits:
            A = np.full((len(depths), len(widths)), np.nan)
            for r in rows:
                if r["phase"] == phase and r["criterion"] == c and r.get("J") is not None:
                    A[depths.index(r["depth"]), widths.index(r["width"])] = r["J"]
            grids[phase, c] = A
    finite = np.concatenate([g[np.isfinite(g)] for g in grids.values()] + [np.zeros(1)])
    vmax = float(finite.max()) or 1.0
    fig, axes = plt.subplots(len(crits), 2, figsize=(9, 3.2 * len(crits)), squeeze=False,
                             constrained_layout=True)
    for i, c in enumerate(crits):
        for j, phase in enumerate(PHASES):
            ax = axes[i, j]
            A = grids[phase, c]
            im = ax.imshow(A, origin="lower", cmap="viridis", vmin=0.0, vmax=vmax, aspect="auto")
            ax.set_xticks(range(len(widths)), [str(w) for w in widths])
            ax.set_yticks(range(len(depths)), [str(d) for d in depths])
            ax.set_xlabel("width $d_l$")
            ax.set_ylabel("depth $H$")
            ax.set_title(f"{phase}, cutoff: {c}", fontsize=10)
            for a in range(len(depths)):
                for b in range(len(widths)):
                    v = A[a, b]
                    ax.text(b, a, "div." if np.isnan(v) else f"{v:.3g}", ha="center",
                            va="center", fontsize=7,
                            color="white" if (np.isnan(v) or v < 0.5 * vmax) else "black")
    fig.colorbar(im, ax=axes, shrink=0.6, label=r"$J(\theta)$")
    fig.suptitle(f"KHK 2019 Figure 1 ({dataset}{', quick' if quick else ''}): "
                 r"$J(\theta)$ over depth x width")
    shown = "; ".join(f"{p.name}: {p.status}" + (f" ({p.dataset})" if p.status == "stand-in"
                                                  else "") for p in PANELS)
    fig.text(0.01, -0.01, f"Paper's panels: {shown}. CIFAR-10 and SVHN cannot be downloaded "
             "here; see the -summary.txt.", fontsize=7, ha="left", va="top")
    written = []
    for stem, fmt in stems:
        fig.savefig(stem.with_suffix("." + fmt), dpi=120)
        written.append(stem.with_suffix("." + fmt))
    plt.close(fig)
    return written


def render_figure1(out_dir, *, formats=("png",), seed=0, dataset="synthetic", scheduler=None,
                   quick=False, workers=None, progress=None) -> list[Path]:
    """Compute the sweep and write the heat maps (``formats``) and the CSV."""
    dataset = dataset or "synthetic"
    stem = Path(out_dir) / f"khk2019dw-figure1-{dataset}{'-quick' if quick else ''}"
    csv_path = stem.with_suffix(".csv")
    # rows are appended as cells finish (a long run leaves its partial results), then the
    # file is rewritten in grid order
    _write_csv(csv_path, [])

    def append(rows):
        with open(csv_path, "a", newline="") as fh:
            wr = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
            for r in rows:
                wr.writerow({k: r.get(k, "") for k in CSV_FIELDS})

    rows = figure1_rows(dataset, quick=bool(quick), seed=seed, scheduler=scheduler,
                        workers=workers, progress=progress, on_rows=append)
    _write_csv(csv_path, rows)
    txt_path = Path(str(stem) + "-summary.txt")
    txt_path.write_text(summary(rows, dataset), encoding="utf-8")
    images = [f for f in formats if f != "csv"] or ["png"]
    return _plot(rows, dataset, bool(quick), [(stem, f) for f in images]) + [csv_path, txt_path]


FIGURES = {
    "khk2019dw.figure1": Figure(
        id="khk2019dw.figure1",
        title="J(theta) over depth x width, initial and trained (KHK 2019, Figure 1)",
        render=render_figure1,
        claims=("khk2019dw.theorem1",),
        options={
            "dataset": "synthetic (Appendix C's tanh teacher, m = 5000) or digits "
                       "(scikit-learn's 8x8 digits, the stand-in for 8x8 MNIST)",
            "scheduler": "dask.distributed scheduler address (default: local processes)",
            "quick": "a 2 x 2 grid, small m, 2 epochs (a few seconds)",
        },
    ),
}
