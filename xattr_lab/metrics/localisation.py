"""Pointing game: does the map's maximum fall on the object the token names?"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _peak(pixel_map: np.ndarray) -> np.ndarray:
    """Boolean mask of the map's maximum (a plateau when a whole region holds it)."""
    m = np.asarray(pixel_map, dtype=np.float64)
    if m.ndim != 2:
        raise ValueError(f"pixel_map: expected [H, W], got shape {m.shape}")
    if not np.isfinite(m).any():
        raise ValueError("pixel_map: holds no finite value")
    top = np.nanmax(m)
    return m >= top - 1e-9 * max(1.0, abs(top))


def pointing_game(
    pixel_map: np.ndarray,
    mask: np.ndarray | None = None,
    box: Sequence[float] | None = None,
) -> bool:
    """Hit when the map's maximum lies inside the ground truth (a mask, a box, or both must hold).

    Region-level maps have flat maxima (a whole region); the peak then counts as inside when most of its
    pixels are, which reduces to the usual single-pixel rule when the maximum is unique.

    Args:
        pixel_map: float [H, W] attribution map.
        mask: boolean [H, W] ground-truth mask.
        box: ``(x0, y0, x1, y1)`` ground-truth box, end exclusive.

    Returns:
        Whether the game is won.

    Raises:
        ValueError: when neither ``mask`` nor ``box`` is given or their shapes do not match the map.
    """
    if mask is None and box is None:
        raise ValueError("mask: give a ground-truth mask or box")
    peak = _peak(pixel_map)
    hit = True
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != peak.shape:
            raise ValueError(f"mask: shape {mask.shape} does not match the map {peak.shape}")
        hit &= bool(mask[peak].mean() > 0.5)
    if box is not None:
        if len(box) != 4:
            raise ValueError(f"box: expected (x0, y0, x1, y1), got {box!r}")
        x0, y0, x1, y1 = box
        ys, xs = np.nonzero(peak)
        inside = (xs >= x0) & (xs < x1) & (ys >= y0) & (ys < y1)
        hit &= bool(inside.mean() > 0.5)
    return hit
