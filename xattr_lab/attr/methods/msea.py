"""MSEA (Liang et al., 2025): any map method aggregated over several input scales.

A patch grid is coarse; looking at the image at several scales moves and resizes its cells, and the mean of
the per-scale maps (each carried back to the image) localises better than any one of them. How a scale is
realised depends on the model:

* ``"resize"``: the image is resized by ``s`` and explained as is. Right for models whose image-token grid
  follows the input size (Qwen2-VL and kin): each scale's map is read on that scale's own grid.
* ``"canvas"``: for models that resize every input to one fixed size (LLaVA 1.5, the ShapesVLM) resizing
  alone would change nothing. ``s < 1`` shrinks the image onto a canvas of the original size (coarser cells
  over the content); ``s > 1`` enlarges it and explains overlapping tiles of the original size (finer cells),
  stitched back together.
* ``"auto"`` (default) picks ``"canvas"`` for fixed-size processors and ``"resize"`` otherwise.

Tiled models (LLaVA-NeXT, Idefics3 with image splitting) take ``"resize"``: each scale is tiled afresh by the
processor, and its map is read tile by tile at that scale (see :mod:`~xattr_lab.models.token_grid`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from xattr_lab.attr.context import MethodContext, MethodOutput


def _resize_image(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((shape[1], shape[0]), Image.BILINEAR))


def _resize_labels(labels: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    ys = np.minimum((np.arange(shape[0]) + 0.5) * labels.shape[0] / shape[0], labels.shape[0] - 1).astype(int)
    xs = np.minimum((np.arange(shape[1]) + 0.5) * labels.shape[1] / shape[1], labels.shape[1] - 1).astype(int)
    return labels[ys][:, xs]


def _explain_image(
    ctx: MethodContext, fn: Any, params: dict[str, Any], image: np.ndarray, labels: np.ndarray
) -> np.ndarray:
    """The base method's pixel map [h, w] for another image, same prompt and target tokens."""
    from xattr_lab.attr.finalize import resolve_ranking
    from xattr_lab.attr.mapping import scores_from_rank
    from xattr_lab.inputs.regions import make_regions
    from xattr_lab.models.whitebox import regenerate
    from xattr_lab.scoring.subsets import SubsetScorer

    gen = regenerate(ctx.model, ctx.generation, image)
    regions = make_regions(labels.astype(np.int64), image)
    scorer = SubsetScorer(ctx.model, gen, regions, ctx.positions, ctx.baseline, ctx.scorer.batch_size)
    sub = dataclasses.replace(ctx, generation=gen, regions=regions, scorer=scorer, progress=None)
    order, scores, pixel_map = resolve_ranking(sub, fn(sub, **params))
    if pixel_map is None:
        pixel_map = regions.to_pixels(scores if scores is not None else scores_from_rank(order))
    return np.asarray(pixel_map, dtype=np.float64)


def scale_map(ctx: MethodContext, fn: Any, params: dict[str, Any], scale: float, mode: str) -> tuple[np.ndarray, int]:
    """The base map at one scale, carried back to the image [H, W], and the number of inputs explained."""
    from xattr_lab.models.whitebox import resize_map

    image, labels = np.asarray(ctx.generation.image), ctx.regions.labels
    h, w = image.shape[:2]
    hs, ws = max(1, round(h * scale)), max(1, round(w * scale))
    if mode == "resize" or scale == 1.0:
        small = image if (hs, ws) == (h, w) else _resize_image(image, (hs, ws))
        return resize_map(_explain_image(ctx, fn, params, small, _resize_labels(labels, (hs, ws))), (h, w)), 1
    if scale < 1:
        top, left = (h - hs) // 2, (w - ws) // 2
        canvas = np.zeros_like(image)
        canvas[top : top + hs, left : left + ws] = _resize_image(image, (hs, ws))
        canvas_labels = np.full((h, w), labels.max() + 1, dtype=np.int64)
        canvas_labels[top : top + hs, left : left + ws] = _resize_labels(labels, (hs, ws))
        out = _explain_image(ctx, fn, params, canvas, canvas_labels)
        return resize_map(out[top : top + hs, left : left + ws], (h, w)), 1
    big, big_labels = _resize_image(image, (hs, ws)), _resize_labels(labels, (hs, ws))
    acc, count = np.zeros((hs, ws)), np.zeros((hs, ws))
    ys = np.linspace(0, hs - h, math.ceil(scale)).round().astype(int)
    xs = np.linspace(0, ws - w, math.ceil(scale)).round().astype(int)
    for y in ys:
        for x in xs:
            acc[y : y + h, x : x + w] += _explain_image(
                ctx, fn, params, big[y : y + h, x : x + w], big_labels[y : y + h, x : x + w]
            )
            count[y : y + h, x : x + w] += 1
    return resize_map(acc / np.maximum(count, 1), (h, w)), len(ys) * len(xs)


def msea(
    ctx: MethodContext, base: str = "tam", scales: Sequence[float] = (0.5, 1.0, 1.5), mode: str = "auto", **params: Any
) -> MethodOutput:
    """MSEA: the mean of a map method's maps over input scales (in the base method's units).

    Args:
        ctx: the method context.
        base: a registered map method (``"tam"``, ``"arc"``, ``"saliency"``, ...).
        scales: input scales (default 0.5 / 1.0 / 1.5).
        mode: ``"auto"``, ``"resize"`` or ``"canvas"`` (see the module docstring).
        **params: parameters of the base method.

    Returns:
        A pixel map.
    """
    from xattr_lab.attr.registry import get_method
    from xattr_lab.models.whitebox import fixed_grid

    if base in ("msea", "tam_msea_arc"):
        raise ValueError(f"base: {base!r} is already multi-scale")
    spec = get_method(base)
    scales = [float(s) for s in scales]
    if not scales or any(not s > 0 for s in scales):
        raise ValueError(f"scales: expected positive numbers, got {scales!r}")
    if mode not in ("auto", "resize", "canvas"):
        raise ValueError(f"mode: expected 'auto', 'resize' or 'canvas', got {mode!r}")
    if mode == "auto":
        mode = "canvas" if fixed_grid(ctx.model, ctx.generation) else "resize"
    maps, n_inputs = [], 0
    for s in scales:
        m, n = scale_map(ctx, spec.fn, params, s, mode)
        maps.append(m)
        n_inputs += n
    # the base's own units are kept (TAM's maps are normalised jointly with the text), so a token whose
    # evidence lies in the text stays low at every scale instead of being stretched to [0, 1]
    mean = np.mean(maps, axis=0)
    out_params = {"base": base, "scales": scales, "mode": mode, **params}
    return MethodOutput(pixel_map=mean, params=out_params, stats={"n_forward_method": 2 * n_inputs})


msea.family = "map"  # type: ignore[attr-defined]
msea.needs = ("hidden_states",)  # type: ignore[attr-defined]
