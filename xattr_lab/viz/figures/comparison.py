"""plotly figure of a :class:`~xattr_lab.results.comparison.Comparison`: one map per method, in a grid."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from xattr_lab.viz.figures._common import check_overlay, map_scale, subplots

_METRICS = (("insertion_auc", "ins"), ("deletion_auc", "del"), ("pointing_game", "PG"))


def _metric_line(row: dict[str, Any]) -> str:
    parts = []
    for key, short in _METRICS:
        v = row.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            parts.append(f"{short} {v:.3f}")
    return " · ".join(parts)


def comparison_figure(c: Any, shared_scale: bool = False, cols: int | None = None, overlay: str = "blend") -> Any:
    """A grid with each method's map over the image, each with its own colour bar, and its metrics.

    Args:
        c: a Comparison.
        shared_scale: one colour range for all methods (default: each method on its own range, so no map
            looks blank because another method's scores are larger).
        cols: maps per row (default: up to 3).
        overlay: ``"blend"`` or ``"contours"`` (``"contour"`` is accepted as an alias; see
            :func:`~xattr_lab.viz.figures.explanation.explanation_figure`).

    Returns:
        A ``plotly.graph_objects.Figure``.

    Raises:
        ValueError: for an unknown ``overlay`` (the message lists the accepted names), a comparison without
            explanations or ``cols`` below 1.
    """
    from xattr_lab.viz.figures.explanation import map_traces

    overlay = check_overlay(overlay, ("blend", "contours"))
    explanations = list(c.explanations)
    if not explanations:
        raise ValueError("c: this comparison holds no explanation to draw (every method failed)")
    n = len(explanations)
    cols = int(cols or min(3, n))
    if cols < 1:
        raise ValueError(f"cols: expected a positive number of columns, got {cols}")
    rows = math.ceil(n / cols)
    by_method = {str(r.get("method")): r for r in c.rows}
    titles = []
    for e in explanations:
        line = _metric_line(by_method.get(e.method, {}))
        titles.append(f"<b>{e.method}</b>" + (f"<br><sup>{line}</sup>" if line else ""))
    fig = subplots(rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.09, vertical_spacing=0.12)
    image = np.asarray(explanations[0].generation.image)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    shared = map_scale(np.stack([np.asarray(e.pixel_map, np.float64) for e in explanations])) if shared_scale else None
    for i, e in enumerate(explanations):
        r, col = divmod(i, cols)
        axis = "" if i == 0 else str(i + 1)
        xdom = fig.layout[f"xaxis{axis}"].domain
        ydom = fig.layout[f"yaxis{axis}"].domain
        # Every map keeps its own colour bar, placed right of its own subplot.
        bar = {"x": xdom[1] + 0.005, "y": (ydom[0] + ydom[1]) / 2, "len": (ydom[1] - ydom[0]) * 0.9, "thickness": 10}
        image_trace, map_trace = map_traces(image, e.pixel_map, overlay, bar)
        if shared is not None:
            map_trace.update(zmin=shared["zmin"], zmax=shared["zmax"], colorscale=shared["colorscale"])
            map_trace.update(showscale=(i == n - 1))
        fig.add_trace(image_trace, row=r + 1, col=col + 1)
        fig.add_trace(map_trace, row=r + 1, col=col + 1)
        fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, row=r + 1, col=col + 1)
        fig.update_yaxes(
            showticklabels=False, showgrid=False, zeroline=False, scaleanchor=f"x{axis}", row=r + 1, col=col + 1
        )
    first = explanations[0]
    tokens = " ".join(repr(t) for t in first.target_tokens)
    scale_note = "one shared colour scale" if shared_scale else "each map on its own colour scale"
    fig.update_layout(
        title={"text": f"Methods compared · token {tokens}<br><sup>{scale_note}</sup>", "x": 0.02},
        width=340 * cols + 80,
        height=330 * rows + 110,
        showlegend=False,
        margin={"t": 120},
    )
    return fig
