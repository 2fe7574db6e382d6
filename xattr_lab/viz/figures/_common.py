"""Shared helpers of the plotly figures: the lazy plotly import, colour scales and offline HTML export."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

FONT = {"family": "system-ui, -apple-system, 'Segoe UI', sans-serif", "size": 13}

# "contours" is the views' name for iso-lines (explanation_view, comparison_view, js/); the figures first
# took "contour", so that spelling stays accepted as an alias.
OVERLAY_ALIASES = {"contour": "contours"}


def check_overlay(overlay: Any, accepted: tuple[str, ...]) -> str:
    """The canonical name of an ``overlay`` among ``accepted`` (``"contour"`` is read as ``"contours"``).

    Raises:
        ValueError: when ``overlay`` is none of ``accepted`` nor an alias of one; the message lists them.
    """
    name = OVERLAY_ALIASES.get(overlay, overlay) if isinstance(overlay, str) else overlay
    if name not in accepted:
        aliases = [f"{a!r} for {c!r}" for a, c in OVERLAY_ALIASES.items() if c in accepted]
        also = f" (alias {', '.join(aliases)})" if aliases else ""
        raise ValueError(f"overlay: expected one of {', '.join(map(repr, accepted))}{also}, got {overlay!r}")
    return name


def go() -> Any:
    """``plotly.graph_objects``, imported on first use (plotly is heavy and only figures need it)."""
    import plotly.graph_objects as graph_objects

    return graph_objects


def subplots(**kwargs: Any) -> Any:
    """``plotly.subplots.make_subplots`` with the house font."""
    from plotly.subplots import make_subplots

    fig = make_subplots(**kwargs)
    fig.update_layout(font=FONT, template="plotly_white", margin={"l": 60, "r": 30, "t": 70, "b": 50})
    return fig


def map_scale(values: np.ndarray, signed: bool | None = None) -> dict[str, Any]:
    """Heatmap colour settings for a map: symmetric blue–red around 0 for signed maps, else viridis.

    Mirrors the views' rule (``normaliser`` in ``js/lib/colors.ts``): a map with both signs is diverging.
    """
    v = np.asarray(values, dtype=np.float64)
    finite = v[np.isfinite(v)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if signed if signed is not None else (lo < 0 < hi):
        m = max(abs(lo), abs(hi)) or 1.0
        return {"colorscale": "RdBu_r", "zmin": -m, "zmax": m, "zmid": 0.0}
    if hi == lo:
        hi = lo + 1.0
    return {"colorscale": "Viridis", "zmin": lo, "zmax": hi}


def figure_html(fig: Any, path: str | os.PathLike) -> Path:
    """Write ``fig`` as a self-contained HTML file that opens offline (plotly.js inlined, ~4 MB).

    Equivalent to ``fig.write_html(path, include_plotlyjs=True, full_html=True)``.

    Raises:
        ValueError: when ``path`` does not end in ``.html`` / ``.htm``.
        TypeError: when ``fig`` is not a plotly figure.
    """
    p = Path(path)
    if p.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"path: expected a file name ending in .html or .htm, got {str(path)!r}")
    if not hasattr(fig, "write_html"):
        raise TypeError(f"fig: expected a plotly Figure, got {type(fig).__name__}")
    fig.write_html(str(p), include_plotlyjs=True, full_html=True)
    return p


def log_ticks(lo: float, hi: float, min_ticks: int = 3) -> list[float]:
    """Round ticks for a log axis on [lo, hi] (as ``logAxisTicks`` in ``js/lib/ticks.ts``).

    Decades first; 1-2-5 per decade when there are too few; then every digit; then round linear values;
    never plotly's unlabeled minor digits.
    """
    if not (lo > 0 and hi > 0):
        return []
    lo, hi = min(lo, hi), max(lo, hi)
    out: list[float] = []
    for mantissas in ((1,), (1, 2, 5), tuple(range(1, 10))):
        out = [
            float(f"{m * 10.0**e:.12g}")
            for e in range(int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi))) + 1)
            for m in mantissas
            if lo * (1 - 1e-9) <= m * 10.0**e <= hi * (1 + 1e-9)
        ]
        if len(out) >= min_ticks:
            return out[:: int(np.ceil(len(out) / 6))] if len(mantissas) == 1 and len(out) > 8 else out
    # Less than a factor of ~2 between the ends: round linear values (step 1, 2, 2.5 or 5 × 10^k).
    for k in range(int(np.floor(np.log10(hi - lo))) + 1, int(np.floor(np.log10(hi - lo))) - 3, -1):
        for m in (5, 2.5, 2, 1):
            step = m * 10.0**k
            vals = np.arange(np.ceil(lo / step - 1e-9), np.floor(hi / step + 1e-9) + 1) * step
            if len(vals) >= min_ticks:
                return [float(f"{v:.12g}") for v in vals if v > 0]
    return out
