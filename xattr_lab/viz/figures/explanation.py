"""plotly figure of an :class:`~xattr_lab.results.explanation.Explanation`: the image with its map."""

from __future__ import annotations

from typing import Any

import numpy as np

from xattr_lab.viz.figures._common import check_overlay, go, map_scale, subplots

# As the views name them; "contour" is still accepted for "contours" (see _common.OVERLAY_ALIASES).
OVERLAYS = ("blend", "contours", "beside")


def _title(e: Any) -> str:
    tokens = " ".join(repr(t) for t in e.target_tokens)
    if len(tokens) > 60:
        tokens = tokens[:57] + "…"
    ins, dele = e.metrics.get("insertion_auc"), e.metrics.get("deletion_auc")
    scores = []
    if isinstance(ins, (int, float)) and np.isfinite(ins):
        scores.append(f"insertion AUC {ins:.3f}")
    if isinstance(dele, (int, float)) and np.isfinite(dele):
        scores.append(f"deletion AUC {dele:.3f}")
    partial = " (partial)" if e.partial else ""
    return f"<b>{e.method}</b>{partial} · token {tokens}" + (f"<br><sup>{' · '.join(scores)}</sup>" if scores else "")


def map_traces(image: np.ndarray, pixel_map: np.ndarray, overlay: str, colorbar: dict[str, Any]) -> list[Any]:
    """The image trace and the map trace drawn over it (``blend``: translucent heatmap; ``contours``: lines).

    The map trace is named ``"map"`` (figures find it by that name). ``"contour"`` is read as ``"contours"``.
    """
    overlay = check_overlay(overlay, OVERLAYS)
    g = go()
    scale = map_scale(pixel_map)
    traces: list[Any] = [g.Image(z=np.asarray(image, dtype=np.uint8), hoverinfo="skip")]
    z = np.asarray(pixel_map, dtype=np.float64)
    if overlay == "contours":
        traces.append(
            g.Contour(
                z=z, colorscale=scale["colorscale"], zmin=scale["zmin"], zmax=scale["zmax"], ncontours=8,
                contours={"coloring": "lines"}, line={"width": 2}, colorbar=colorbar, name="map",
            )
        )
    else:
        opacity = 0.55 if overlay == "blend" else 1.0
        traces.append(g.Heatmap(z=z, opacity=opacity, colorbar=colorbar, name="map", **scale))
    return traces


def explanation_figure(e: Any, overlay: str = "blend", curves: bool = False) -> Any:
    """The image with the attribution map over it, a colour bar and the explained token in the title.

    Args:
        e: an Explanation.
        overlay: ``"blend"`` (translucent map), ``"contours"`` (iso-lines over the untouched image: readable
            when the question is about colours) or ``"beside"`` (image and map side by side), as the views
            name them; ``"contour"`` is accepted as an alias of ``"contours"``.
        curves: add a panel with the mean insertion and deletion curves.

    Returns:
        A ``plotly.graph_objects.Figure``.

    Raises:
        ValueError: for an unknown ``overlay`` (the message lists the accepted names).
    """
    overlay = check_overlay(overlay, OVERLAYS)
    image = np.asarray(e.generation.image)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    beside = overlay == "beside"
    cols = 1 + int(beside) + int(curves)
    titles = ["image", "map"] if beside else ["image and map"]
    # room for the map's colour bar (and its tick labels) between the map and the curves
    spacing = 0.18 if curves else 0.08
    fig = subplots(
        rows=1, cols=cols, subplot_titles=titles + (["insertion / deletion"] if curves else []),
        horizontal_spacing=spacing,
    )
    bar = {"title": {"text": "score", "side": "right"}, "len": 0.8}
    if beside:
        fig.add_trace(go().Image(z=image.astype(np.uint8), hoverinfo="skip"), row=1, col=1)
        fig.add_trace(map_traces(image, e.pixel_map, "blend", bar)[1].update(opacity=1.0), row=1, col=2)
        fig.update_yaxes(autorange="reversed", scaleanchor="x2", row=1, col=2)
    else:
        for tr in map_traces(image, e.pixel_map, overlay, bar):
            fig.add_trace(tr, row=1, col=1)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, row=1, col=1)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, scaleanchor="x", row=1, col=1)
    if beside:
        fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, row=1, col=2)
        fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, row=1, col=2)
    if curves:
        col = cols
        area = np.asarray(e.area, dtype=np.float64)
        for name, arr, colour in (("insertion", e.insertion, "#4e79a7"), ("deletion", e.deletion, "#e15759")):
            mean = np.nanmean(np.asarray(arr, dtype=np.float64), axis=0)
            line = {"color": colour, "width": 2}
            fig.add_trace(go().Scatter(x=area, y=mean, name=name, mode="lines", line=line), row=1, col=col)
        fig.update_xaxes(title_text="fraction of image revealed / removed", range=[0, 1], row=1, col=col)
        fig.update_yaxes(title_text="p(token)", rangemode="tozero", row=1, col=col)
        # The colour bar sits right of the map, before the curves panel.
        dom = fig.layout["xaxis2" if beside else "xaxis"].domain
        fig.update_traces(colorbar={**bar, "x": dom[1] + 0.01, "len": 0.8}, selector={"name": "map"})
    fig.update_layout(title={"text": _title(e), "x": 0.02}, width=440 * cols + 120, height=540, margin={"t": 110})
    return fig
