"""The training-curves view, from ``TrainingRun.to_view_data()`` (or a dict shaped like it).

Series are grouped into panels by quantity (losses, accuracy, norms, geometry …) and coloured by NAME, so a
series keeps its colour between the live widget, the saved view and the plotly figure. The table below is
the same as ``SERIES_SPEC`` in ``js/lib/series.ts`` (a test checks they agree).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from xattr_lab.viz._clean import clean
from xattr_lab.viz.payload import encode_array, make_payload

SERIES_SPEC: dict[str, Any] = {
    "palette": [
        "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
    ],
    "known": {
        "train_loss": "#4e79a7", "test_loss": "#f28e2b", "val_loss": "#b07aa1", "loss": "#4e79a7",
        "restricted_loss": "#59a14f", "excluded_loss": "#e15759",
        "train_acc": "#4e79a7", "test_acc": "#f28e2b", "val_acc": "#b07aa1", "acc": "#4e79a7", "accuracy": "#4e79a7",
        "weight_norm": "#76b7b2", "med": "#59a14f",
        "fourier_gini": "#4e79a7", "n_key_freqs": "#f28e2b",
        "effective_rank": "#4e79a7", "participation_ratio": "#f28e2b",
        "wd_uniformity_norm_cv": "#59a14f", "wd_uniformity_dist_cv": "#e15759",
        "unif_hypersphere": "#b07aa1",
        "lr": "#9c755f", "epoch": "#bab0ac",
    },
    "groups": [
        {"title": "losses", "log_y": True, "parts": ["loss", "xent", "nll", "perplexity"]},
        {"title": "accuracy", "log_y": False, "parts": ["acc", "accuracy", "frac", "fraction"]},
        {"title": "Fourier sparsity", "log_y": True, "parts": ["fourier", "freq", "freqs", "gini"]},
        {"title": "hypersphere uniformity", "log_y": False, "parts": ["hypersphere"]},
        {"title": "embedding geometry", "log_y": True, "parts": ["rank", "participation", "cv", "uniformity"]},
        {"title": "norms and distances", "log_y": True, "parts": ["norm", "med", "dist", "distance"]},
        {"title": "schedule", "log_y": False, "parts": ["lr", "epoch"]},
    ],
    "other": {"title": "other", "log_y": False},
}


def fnv1a(text: str) -> int:
    """32-bit FNV-1a of the UTF-8 bytes of ``text`` (as ``fnv1a`` in ``js/lib/series.ts``)."""
    h = 0x811C9DC5
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def series_colour(name: str) -> str:
    """The colour of a series: fixed for the names the trainers log, else a hash of the name."""
    known = SERIES_SPEC["known"].get(name)
    if known:
        return known
    palette = SERIES_SPEC["palette"]
    return palette[fnv1a(name) % len(palette)]


def group_of(name: str) -> dict[str, Any]:
    """``{"title", "log_y"}`` of the panel (by quantity) a series belongs to."""
    parts = [p for p in re.split(r"[^a-z0-9]+", name.lower()) if p]
    for g in SERIES_SPEC["groups"]:
        if any(p in parts for p in g["parts"]):
            return {"title": g["title"], "log_y": g["log_y"]}
    return dict(SERIES_SPEC["other"])


def default_panels(names: list[str]) -> list[dict[str, Any]]:
    """Group series into panels by quantity: ``[{"title", "names", "log_y"}, …]`` in a fixed panel order."""
    order = [g["title"] for g in SERIES_SPEC["groups"]] + [SERIES_SPEC["other"]["title"]]
    panels: dict[str, dict[str, Any]] = {}
    for n in names:
        g = group_of(n)
        panels.setdefault(g["title"], {"title": g["title"], "names": [], "log_y": g["log_y"]})["names"].append(n)
    return sorted(panels.values(), key=lambda p: order.index(p["title"]))


def training_payload(data: Mapping[str, Any], title: str | None = None, panels: Any = None) -> dict[str, Any]:
    """The payload of the ``training_curves`` view.

    Args:
        data: ``steps`` [N], ``series`` name → [N], optional ``names``, ``labels``, ``events``.
        title: optional title line.
        panels: list of ``{"title", "names", "log_y"}``; default: one panel per quantity
            (:func:`default_panels`).
    """
    steps = np.asarray(data.get("steps", []), dtype=np.float64)
    series = data.get("series") or {}
    names = [str(n) for n in (data.get("names") or sorted(series))]
    for n in names:
        if np.asarray(series[n]).shape != steps.shape:
            raise ValueError(f"series: {n!r} has shape {np.asarray(series[n]).shape}, steps {steps.shape}")
    out: dict[str, Any] = {
        "steps": encode_array(steps, "float64"),
        "series": {n: encode_array(np.asarray(series[n], dtype=np.float64), "float32") for n in names},
        "names": names,
        "labels": {n: str((data.get("labels") or {}).get(n, n)) for n in names},
        "events": clean({k: v for k, v in (data.get("events") or {}).items() if v is not None}),
        "panels": clean(panels if panels is not None else default_panels(names)),
    }
    return make_payload("training_curves", out, title)
