"""Localisation of attribution maps against ground truth.

* Pointing game: does the map's maximum fall on the object the token names?
* TAM's metrics (Li et al., ICCV 2025): **Obj-IoU**, the IoU of an object word's map thresholded by Otsu
  with the object's mask; **Func-IoU**, for function words (which should leave the image blank), the share
  of the map below the mean Otsu threshold of the object words; **F1-IoU**, their harmonic mean.
"""

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


def check_box(box: Sequence[float], shape: tuple[int, int] | None = None) -> tuple[float, float, float, float]:
    """A ground-truth box ``(x0, y0, x1, y1)`` (end exclusive) as four finite floats, or a ValueError.

    An inverted, empty or non-finite box, or one wholly outside an image of ``shape``, cannot be hit: the
    pointing game would score it 0.0 without a word, so it is refused here.

    Args:
        box: ``(x0, y0, x1, y1)`` in pixels, end exclusive.
        shape: ``(H, W)`` of the image the box lies on, when known.

    Returns:
        The box as floats.

    Raises:
        ValueError: for anything but four finite numbers with ``x0 < x1`` and ``y0 < y1`` overlapping the image.
        TypeError: for a box that is not a sequence of numbers.
    """
    if isinstance(box, (str, bytes)) or not hasattr(box, "__len__"):
        raise TypeError(f"box: expected (x0, y0, x1, y1), got {type(box).__name__}")
    if len(box) != 4:
        raise ValueError(f"box: expected (x0, y0, x1, y1), got {box!r}")
    try:
        x0, y0, x1, y1 = (float(v) for v in box)
    except (TypeError, ValueError):
        raise TypeError(f"box: expected four numbers (x0, y0, x1, y1), got {box!r}") from None
    if not all(np.isfinite(v) for v in (x0, y0, x1, y1)):
        raise ValueError(f"box: expected finite coordinates, got {box!r}")
    if x0 >= x1 or y0 >= y1:
        raise ValueError(f"box: expected x0 < x1 and y0 < y1 (x1, y1 end exclusive), got {box!r}")
    if shape is not None:
        h, w = int(shape[0]), int(shape[1])
        if x1 <= 0 or y1 <= 0 or x0 >= w or y0 >= h:
            raise ValueError(f"box: {box!r} lies wholly outside the {h}x{w} image")
    return x0, y0, x1, y1


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
        ValueError: when neither ``mask`` nor ``box`` is given, their shapes do not match the map, the mask
            holds NaN, or the box is inverted, empty, non-finite or outside the map (see :func:`check_box`).
    """
    if mask is None and box is None:
        raise ValueError("mask: give a ground-truth mask or box")
    peak = _peak(pixel_map)
    hit = True
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype.kind == "f" and not np.isfinite(mask).all():
            raise ValueError("mask: holds NaN or infinite values; expected a boolean mask")
        mask = mask.astype(bool)
        if mask.shape != peak.shape:
            raise ValueError(f"mask: shape {mask.shape} does not match the map {peak.shape}")
        hit &= bool(mask[peak].mean() > 0.5)
    if box is not None:
        x0, y0, x1, y1 = check_box(box, peak.shape)
        ys, xs = np.nonzero(peak)
        inside = (xs >= x0) & (xs < x1) & (ys >= y0) & (ys < y1)
        hit &= bool(inside.mean() > 0.5)
    return hit


def otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold of the values (maximises the between-class variance of a ``bins`` histogram).

    Raises:
        ValueError: when ``values`` holds no finite number.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise ValueError("values: holds no finite value")
    lo, hi = float(v.min()), float(v.max())
    if hi <= lo:
        return lo
    hist, edges = np.histogram(v, bins=bins, range=(lo, hi))
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centres) / np.maximum(w0, 1)
    m1 = ((hist * centres).sum() - np.cumsum(hist * centres)) / np.maximum(w1, 1)
    between = w0 * w1 * (m0 - m1) ** 2
    return float(edges[int(np.argmax(between[:-1])) + 1])


def obj_iou(pixel_map: np.ndarray, mask: np.ndarray, threshold: float | None = None) -> float:
    """IoU of ``pixel_map > threshold`` (Otsu's by default) with the ground-truth ``mask``.

    Raises:
        ValueError: when the shapes differ.
    """
    m = np.asarray(pixel_map, dtype=np.float64)
    mask = np.asarray(mask, dtype=bool)
    if m.shape != mask.shape:
        raise ValueError(f"mask: shape {mask.shape} does not match the map {m.shape}")
    t = otsu_threshold(m) if threshold is None else float(threshold)
    pred = m > t
    union = np.logical_or(pred, mask).sum()
    return float(np.logical_and(pred, mask).sum() / union) if union else 0.0


def func_iou(pixel_map: np.ndarray, threshold: float) -> float:
    """Share of a function word's map at or below ``threshold`` (1 = the image is left blank)."""
    m = np.asarray(pixel_map, dtype=np.float64)
    return float((m <= float(threshold)).mean())


def f1_iou(obj: float, func: float) -> float:
    """Harmonic mean of Obj-IoU and Func-IoU (0 when both are 0)."""
    return 2 * obj * func / (obj + func) if obj + func > 0 else 0.0


def localisation_scores(
    object_maps: Sequence[tuple[np.ndarray, np.ndarray]], function_maps: Sequence[np.ndarray] = ()
) -> dict[str, float]:
    """TAM's localisation metrics for one image's words.

    Args:
        object_maps: ``(map, ground-truth mask)`` per object word.
        function_maps: maps of function words (``"a"``, ``"and"``, ...).

    Returns:
        ``obj_iou`` (mean over object words), ``func_iou`` (mean over function words, thresholded at the
        mean Otsu threshold of the object maps; NaN without function words) and ``f1_iou`` (NaN unless both).

    Raises:
        ValueError: when no object word is given.
    """
    if not object_maps:
        raise ValueError("object_maps: give at least one (map, mask) pair")
    thresholds = [otsu_threshold(m) for m, _ in object_maps]
    obj = float(np.mean([obj_iou(m, mask, t) for (m, mask), t in zip(object_maps, thresholds)]))
    if not function_maps:
        return {"obj_iou": obj, "func_iou": float("nan"), "f1_iou": float("nan")}
    func = float(np.mean([func_iou(m, float(np.mean(thresholds))) for m in function_maps]))
    return {"obj_iou": obj, "func_iou": func, "f1_iou": f1_iou(obj, func)}
