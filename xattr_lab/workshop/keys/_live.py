"""Small readers of a learner's live objects, shared by the answer keys (no model calls, numpy only)."""

from __future__ import annotations

from typing import Any

import numpy as np


def peak_object(explanation: Any, sample: Any) -> str:
    """The name of the object (``sample.objects``) under the map's peak pixel, or ``"background"``."""
    pixel_map = np.asarray(explanation.pixel_map, dtype=np.float64)
    if pixel_map.ndim == 3:  # one map per explained token: their sum
        pixel_map = pixel_map.sum(axis=0)
    y, x = np.unravel_index(int(np.nanargmax(pixel_map)), pixel_map.shape)
    masks = np.asarray(sample.masks, dtype=bool)
    for name, mask in zip(sample.objects, masks):
        if mask.shape == pixel_map.shape and mask[y, x]:
            return str(name)
    return "background"


def band(value: float, edges: tuple[float, ...], labels: tuple[str, ...]) -> str:
    """The label of the band ``value`` falls in: ``labels[i]`` for ``edges[i-1] <= value < edges[i]``."""
    if len(labels) != len(edges) + 1:
        raise ValueError("band: need one more label than edges")
    return labels[int(np.searchsorted(np.asarray(edges), value, side="right"))]
