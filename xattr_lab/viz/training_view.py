"""The training-curves view, from ``TrainingRun.to_view_data()`` (or a dict shaped like it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from xattr_lab.viz._clean import clean
from xattr_lab.viz.payload import encode_array, make_payload

_ACCURACY_HINTS = ("acc", "accuracy", "frac", "fraction")


def default_panels(names: list[str]) -> list[dict[str, Any]]:
    """Split series into a loss-like panel (log y) and an accuracy-like panel (linear y)."""
    acc = [n for n in names if any(h in n.lower() for h in _ACCURACY_HINTS)]
    rest = [n for n in names if n not in acc]
    panels = []
    if rest:
        panels.append({"title": "losses and norms", "names": rest, "log_y": False})
    if acc:
        panels.append({"title": "accuracy", "names": acc, "log_y": False})
    return panels


def training_payload(data: Mapping[str, Any], title: str | None = None, panels: Any = None) -> dict[str, Any]:
    """The payload of the ``training_curves`` view.

    Args:
        data: ``steps`` [N], ``series`` name → [N], optional ``names``, ``labels``, ``events``.
        title: optional title line.
        panels: list of ``{"title", "names", "log_y"}``; default splits accuracies from the rest.
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
