"""Figures that reproduce (or illustrate) a paper's pictures.

A paper's record (:class:`~proofcheck.papers.Paper`, ``figures=".figures"``) names the module of
its package that exposes ``FIGURES``, a dict from a figure id (``<paper>.figure1``) to a
:class:`Figure`. The registry finds them through the paper records, so adding a paper's figures
never edits a shared file. Modules import matplotlib inside ``render`` only: listing figures
works without the ``plots`` extra.

>>> sorted(f for f in available() if f.startswith("nonexistent"))
[]
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable

__all__ = ["Figure", "FigureError", "UnknownFigureError", "available", "get", "render",
           "require_matplotlib"]


class FigureError(Exception):
    """A figure could not be rendered (bad option, missing optional dependency)."""


class UnknownFigureError(FigureError, KeyError):
    def __str__(self):  # KeyError would repr() the message
        return self.args[0] if self.args else "unknown figure"


@dataclass(frozen=True)
class Figure:
    """A renderable figure.

    ``render(out_dir, *, formats, seed, **options) -> list[Path]`` writes the files and returns
    their paths. ``options`` names the extra keyword options the figure accepts (for example
    ``dataset``), with a one-line help each; anything else is rejected before rendering.
    """

    id: str
    title: str
    render: Callable[..., list[Path]]
    claims: tuple[str, ...] = ()
    options: dict[str, str] = field(default_factory=dict)


def _modules():
    from proofcheck.papers import figure_modules

    yield from figure_modules()


def available() -> dict[str, Figure]:
    """All figures, by id."""
    found: dict[str, Figure] = {}
    for module in _modules():
        for fid, fig in getattr(module, "FIGURES", {}).items():
            if fid in found:
                raise FigureError(f"figure id {fid!r} is defined twice ({module.__name__})")
            found[fid] = fig
    return found


def get(figure_id: str) -> Figure:
    figs = available()
    if figure_id not in figs:
        paper = figure_id.split(".")[0]
        close = sorted(f for f in figs if f.split(".")[0] == paper) or sorted(figs)
        raise UnknownFigureError(f"unknown figure {figure_id!r}; "
                                 f"available: {', '.join(close) or 'none'}")
    return figs[figure_id]


def require_matplotlib():
    """Import matplotlib with the Agg backend, or explain how to get it."""
    try:
        import matplotlib
    except ImportError as exc:  # optional extra
        raise FigureError("figures need matplotlib: pip install 'proofcheck[plots]'") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def render(figure_id: str, out_dir: Path, *, formats=("png", "svg"), seed: int = 0,
           **options) -> list[Path]:
    """Render a figure into ``out_dir``; unknown options are an error, not ignored."""
    fig = get(figure_id)
    given = {k: v for k, v in options.items() if v is not None}
    unknown = sorted(set(given) - set(fig.options))
    if unknown:
        accepted = ", ".join(f"--{k}" for k in fig.options) or "none"
        raise FigureError(f"figure {figure_id!r} does not take "
                          f"{', '.join('--' + u for u in unknown)}"
                          f" (it accepts: {accepted})")
    bad = sorted(set(formats) - {"png", "svg", "pdf", "csv"})
    if bad:
        raise FigureError(f"unknown figure format(s) {bad}; use png, svg or pdf")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    params = inspect.signature(fig.render).parameters
    kwargs = {"formats": tuple(formats), "seed": seed, **given}
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        kwargs = {k: v for k, v in kwargs.items() if k in params}
    return list(fig.render(out_dir, **kwargs))
