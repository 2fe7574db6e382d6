"""The method-comparison grid: one map per method, the explained answer's token strip, and metric rows.

Built from ``Comparison.to_view_data()`` or a dict with: ``methods`` [M], ``image``, ``labels``,
``region_scores`` [M, N] (or [M, T, N]) and/or ``pixel_maps`` [M, H, W], and ``metrics`` either
name → [M] values or method → {name: value}. ``higher_is_better`` (name → bool) marks the best cells.
Optional: ``tokens`` / ``prompt_tokens`` / ``targets`` (the explained answer and which of its generated
tokens were explained), ``token_metrics`` (name → [M, T] per-token figures of each method, T explained
tokens; see :func:`token_metrics`), and ``scale``: ``"method"`` (default: each map on its own colour scale,
so a method with large raw scores does not wash out the others) or ``"shared"`` (one scale for all);
``overlay``: ``"blend"`` or ``"contours"`` (default: contours for colour questions, see
:func:`xattr_lab.viz.explanation_view.default_overlay`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from xattr_lab.metrics.faithfulness import auc
from xattr_lab.viz._clean import clean, str_list
from xattr_lab.viz.explanation_view import default_overlay
from xattr_lab.viz.images import (
    DEFAULT_MAX_SIDE,
    as_rgb_uint8,
    display_size,
    encode_display_image,
    encode_labels,
    pool_map,
    resize_image,
    resize_labels,
)
from xattr_lab.viz.payload import encode_array, make_payload

SCALES = ("method", "shared")

# Metrics whose direction is known (others are shown without a "best" mark).
_KNOWN = {"insertion_auc": "higher", "deletion_auc": "lower", "ahs": "higher", "seconds": "lower", "n_forward": "lower"}


def _metric_rows(metrics: Any, methods: list[str]) -> tuple[list[str], np.ndarray]:
    if not metrics:
        return [], np.zeros((0, len(methods)))
    if all(m in metrics and isinstance(metrics[m], Mapping) for m in methods):  # method -> {name: value}
        names = list(dict.fromkeys(k for m in methods for k in metrics[m]))
        values = [[metrics[m].get(n, np.nan) for m in methods] for n in names]
    else:  # name -> [M]
        names = list(metrics)
        values = [list(np.asarray(metrics[n], dtype=np.float64).reshape(-1)) for n in names]
    arr = np.array([[v if isinstance(v, (int, float, np.number)) else np.nan for v in row] for row in values], float)
    if arr.shape != (len(names), len(methods)):
        raise ValueError(f"metrics: expected one value per method ({len(methods)}), got shape {arr.shape}")
    return [str(n) for n in names], arr


def token_metrics(explanations: Any) -> dict[str, np.ndarray]:
    """Per-token figures of each method, name → float64 [M, T], from its Explanations' curves.

    ``insertion AUC`` and ``deletion AUC`` are the trapezoid areas of each explained token's own curves
    over the revealed area (the per-token terms of the table's mean AUCs); ``vision reliance`` is each
    Explanation's ``reliance``. Explanations of different token sets give an empty dict.
    """
    exps = list(explanations)
    if not exps or len({tuple(e.positions) for e in exps}) != 1:
        return {}

    def per_token(curves: np.ndarray, area: np.ndarray) -> list[float]:
        return [auc(row, area) for row in np.atleast_2d(curves)]

    return {
        "insertion AUC": np.array([per_token(e.insertion, e.area) for e in exps]),
        "deletion AUC": np.array([per_token(e.deletion, e.area) for e in exps]),
        "vision reliance": np.array([np.asarray(e.reliance, dtype=np.float64) for e in exps]),
    }


def comparison_payload(
    data: Mapping[str, Any], title: str | None = None, max_side: int = DEFAULT_MAX_SIDE
) -> dict[str, Any]:
    """The payload of the ``comparison`` view (see the module docstring for ``data``)."""
    methods = str_list("methods", data.get("methods"))
    out: dict[str, Any] = {"methods": methods}
    size = None
    if data.get("image") is not None:
        image = as_rgb_uint8(data["image"])
        size = display_size(*image.shape[:2], max_side=min(max_side, 200))
        out["image"] = encode_display_image(resize_image(image, size))
    if data.get("labels") is not None:
        labels = np.asarray(data["labels"])
        size = size or display_size(*labels.shape, max_side=min(max_side, 200))
        out["labels"] = encode_labels(resize_labels(labels, size))
        out["n_regions"] = int(labels.max(initial=-1)) + 1
    if data.get("region_scores") is not None:
        rs = np.asarray(data["region_scores"], dtype=np.float64)
        if rs.shape[0] != len(methods):
            raise ValueError(f"region_scores: expected {len(methods)} rows (one per method), got {rs.shape}")
        out["region_scores"] = encode_array(rs)
    if data.get("pixel_maps") is not None:
        pm = np.asarray(data["pixel_maps"], dtype=np.float64)
        out["pixel_maps"] = encode_array(pool_map(pm, 96))
    names, values = _metric_rows(data.get("metrics"), methods)
    if names:
        given = data.get("higher_is_better") or {}
        better = {**_KNOWN, **{k: ("higher" if v else "lower") for k, v in given.items()}}
        out["metric_names"] = names
        out["metric_values"] = encode_array(values)
        out["metric_better"] = [better.get(n) for n in names]
    for key in ("tokens", "prompt_tokens"):
        if data.get(key) is not None:
            out[key] = str_list(key, data[key])
    if data.get("targets") is not None:
        targets = np.asarray(data["targets"], dtype=np.int64).reshape(-1)
        n = len(out.get("tokens", []))
        if n and ((targets < 0) | (targets >= n)).any():
            raise ValueError(f"targets: expected indices into the {n} generated tokens, got {targets.tolist()}")
        out["targets"] = encode_array(targets, "int32")
    tm = data.get("token_metrics") or {}
    if tm:
        arrays = [np.asarray(v, dtype=np.float64) for v in tm.values()]
        if any(a.ndim != 2 or a.shape[0] != len(methods) or a.shape != arrays[0].shape for a in arrays):
            raise ValueError(f"token_metrics: expected [{len(methods)}, T] arrays, got {[a.shape for a in arrays]}")
        out["token_metric_names"] = [str(k) for k in tm]
        out["token_metric_values"] = encode_array(np.stack(arrays))
    scale = data.get("scale", "method")
    if scale not in SCALES:
        raise ValueError(f"scale: expected one of {SCALES}, got {scale!r}")
    out["scale"] = scale
    overlay = data.get("overlay") or default_overlay(out.get("prompt_tokens", []))
    if overlay not in ("blend", "contours"):
        raise ValueError(f"overlay: expected 'blend' or 'contours', got {overlay!r}")
    out["overlay"] = overlay
    if data.get("map_label"):
        out["map_label"] = str(data["map_label"])
    if data.get("signed") is not None:
        out["signed"] = bool(data["signed"])
    return make_payload("comparison", clean(out), title or f"comparison of {len(methods)} methods")
