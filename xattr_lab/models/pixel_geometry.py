"""Where each processed pixel comes from: Qwen's patch rows and the tiles of LLaVA-NeXT and Idefics3.

Gradient methods differentiate the processed pixels the model sees, not the image. For a ``[1, 3, h, w]``
layout (LLaVA-1.5) that is one resized/cropped copy of the image; the other families need their geometry:

- **Qwen2-VL / Qwen2.5-VL** flatten the resized image into rows ``[n_patches, C·T·P·P]``: rows are ordered
  ``(h/merge, w/merge, merge, merge)`` over the patch grid, each row ``(C, T, P, P)``, and the ``T``
  temporal frames of a still image are copies of it. :func:`unpatchify` inverts :func:`patchify`.
- **LLaVA-NeXT** sends the image squashed to the base size, then the crops of the image resized (aspect
  kept) and centre-padded to the best "pinpoint" resolution.
- **Idefics3 / SmolVLM** sends, with image splitting, the crops of the image resized to a multiple of the
  tile size, then the whole image squashed to one tile (last); without splitting, that one squashed tile.

Each tile covers a box of the image (in image pixels; the parts outside the image are padding). A tile's
map is carried to its box by area overlap (:func:`transport`):

- ``mode="gradient"`` moves each processed pixel's value to the image pixels it came from, split by area,
  so the total is kept: the sum over tiles is the chain rule through the resizes (the image feeds every
  tile, so its gradient is the **sum** of the tiles' gradients). Area overlap stands in for the adjoint of
  the processor's resampling filter (bicubic/Lanczos), whose kernels are a few pixels wider.
- ``mode="map"`` (Grad-CAM values, not derivatives) gives each image pixel the area-weighted **mean** of the
  tile values over it, then the mean over the tiles that cover it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

Box = tuple[float, float, float, float]  # (top, left, bottom, right) in image pixels


def patchify(image: np.ndarray, patch: int, temporal: int, merge: int) -> np.ndarray:
    """Qwen2-VL's flat patch rows of one image ``[C, H, W]`` (``H, W`` multiples of ``patch · merge``).

    Returns:
        ``[n_patches, C·T·P·P]``: the ``T`` frames are copies of the image, as for a still image.
    """
    c, h, w = image.shape
    gh, gw = h // patch, w // patch
    if h % (patch * merge) or w % (patch * merge):
        raise ValueError(f"image: expected height and width multiples of {patch * merge}, got {(h, w)}")
    x = image.reshape(c, gh // merge, merge, patch, gw // merge, merge, patch)
    x = x.transpose(1, 4, 2, 5, 0, 3, 6)  # (gh/m, gw/m, m, m, C, P, P)
    x = np.broadcast_to(x[:, :, :, :, :, None], (*x.shape[:5], temporal, patch, patch))
    return x.reshape(gh * gw, c * temporal * patch * patch)


def unpatchify(rows: Any, grid: tuple[int, int, int], patch: int, temporal: int, merge: int) -> Any:
    """Qwen2-VL's patch rows back to frames ``[t·T, C, gh·P, gw·P]`` (numpy or torch, same layout).

    Args:
        rows: ``[t·gh·gw, C·T·P·P]``.
        grid: ``(t, gh, gw)``, the processor's ``image_grid_thw`` row.
        patch: ``patch_size``.
        temporal: ``temporal_patch_size``.
        merge: ``merge_size``.
    """
    t, gh, gw = (int(v) for v in grid)
    n, d = rows.shape
    if n != t * gh * gw or d % (temporal * patch * patch) or gh % merge or gw % merge:
        raise ValueError(
            f"rows: expected [{t * gh * gw}, C·{temporal}·{patch}·{patch}] for grid {(t, gh, gw)}, "
            f"got {tuple(rows.shape)}"
        )
    c = d // (temporal * patch * patch)
    x = rows.reshape(t, gh // merge, gw // merge, merge, merge, c, temporal, patch, patch)
    # to (t, T, C, gh/m, m, P, gw/m, m, P)
    x = x.transpose(0, 6, 5, 1, 3, 7, 2, 4, 8) if isinstance(x, np.ndarray) else x.permute(0, 6, 5, 1, 3, 7, 2, 4, 8)
    return x.reshape(t * temporal, c, gh * patch, gw * patch)


def patch_order(grid: tuple[int, int, int], merge: int) -> np.ndarray:
    """For each Qwen patch row, its index in the row-major ``(t, gh, gw)`` patch grid."""
    t, gh, gw = (int(v) for v in grid)
    idx = np.arange(t * gh * gw).reshape(t, gh // merge, merge, gw // merge, merge)
    return idx.transpose(0, 1, 3, 2, 4).ravel()


def _overlap(n_out: int, start: float, stop: float, n_in: int) -> np.ndarray:
    """Overlap lengths [n_out, n_in] of image pixels [j, j+1) with the ``n_in`` cells tiling [start, stop)."""
    edges = start + (stop - start) * np.arange(n_in + 1) / n_in
    lo = np.maximum(np.arange(n_out)[:, None], edges[None, :-1])
    hi = np.minimum(np.arange(1, n_out + 1)[:, None], edges[None, 1:])
    return np.clip(hi - lo, 0.0, None)


def transport(
    values: np.ndarray, box: Box, shape: tuple[int, int], mode: str = "gradient"
) -> tuple[np.ndarray, np.ndarray]:
    """Carry a tile's map ``[h, w]`` to the image pixels its ``box`` covers.

    Returns:
        ``(canvas, coverage)`` at ``shape``: for ``"gradient"`` each tile pixel's value split over the image
        pixels by area (the total inside the image is kept); for ``"map"`` the area-weighted mean of the
        tile values over each image pixel. ``coverage`` is the fraction of each image pixel the box covers.
    """
    values = np.asarray(values, dtype=np.float64)
    top, left, bottom, right = box
    wy = _overlap(shape[0], top, bottom, values.shape[0])
    wx = _overlap(shape[1], left, right, values.shape[1])
    if mode == "gradient":
        wy = wy / ((bottom - top) / values.shape[0])
        wx = wx / ((right - left) / values.shape[1])
        return wy @ values @ wx.T, np.outer(wy.sum(1) > 0, wx.sum(1) > 0).astype(np.float64)
    if mode != "map":
        raise ValueError(f"mode: expected 'gradient' or 'map', got {mode!r}")
    cy, cx = wy.sum(1), wx.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        canvas = (wy @ values @ wx.T) / np.outer(cy, cx)
    return np.nan_to_num(canvas), np.outer(cy, cx)


@dataclass(frozen=True)
class PixelGeometry:
    """How a model's processed pixels map back to its image.

    Attributes:
        image_shape: ``(H, W)`` of the image.
        boxes: one box per tile (in the order of the tile axis), the image area the tile's pixel grid spans.
        qwen: ``(patch, temporal, merge, (t, gh, gw))`` for Qwen's patch rows, else None.
    """

    image_shape: tuple[int, int]
    boxes: tuple[Box, ...]
    qwen: tuple[int, int, int, tuple[int, int, int]] | None = None

    def tiles(self, values: Any) -> Any:
        """Processed values (the layout of ``processed_pixels``) as tiles ``[n_tiles, C, h, w]``."""
        if self.qwen is not None:
            patch, temporal, merge, grid = self.qwen
            frames = unpatchify(values, grid, patch, temporal, merge)
            # a still image's frames are copies of it: its gradient is their sum (chain rule)
            return frames.sum(0, keepdims=True) if isinstance(frames, np.ndarray) else frames.sum(0, keepdim=True)
        tiles = values.reshape(-1, *values.shape[-3:])
        if tiles.shape[0] != len(self.boxes):
            raise ValueError(f"values: expected {len(self.boxes)} tiles, got {tiles.shape[0]}")
        return tiles

    def to_image(self, tile_maps: np.ndarray, mode: str = "gradient") -> np.ndarray:
        """Per-tile maps ``[n_tiles, h, w]`` carried to the image ``[H, W]``: summed (gradient) or averaged (map)."""
        tile_maps = np.asarray(tile_maps, dtype=np.float64)
        if tile_maps.shape[0] != len(self.boxes):
            raise ValueError(f"tile_maps: expected {len(self.boxes)} tiles, got {tile_maps.shape[0]}")
        total = np.zeros(self.image_shape)
        cover = np.zeros(self.image_shape)
        for values, box in zip(tile_maps, self.boxes):
            canvas, c = transport(values, box, self.image_shape, mode)
            total += canvas * (c if mode == "map" else 1.0)
            cover += c
        if mode == "map":
            with np.errstate(invalid="ignore", divide="ignore"):
                total = np.where(cover > 0, total / np.where(cover > 0, cover, 1.0), 0.0)
        return total.astype(np.float32)


def geometry_for(image_processor: Any, image_shape: tuple[int, int], enc: dict[str, Any]) -> PixelGeometry | None:
    """The geometry of ``enc["pixel_values"]`` for Qwen2-VL, LLaVA-NeXT and Idefics3 processors.

    Returns:
        None for a single ``[1, 3, h, w]`` image (the resize/crop mapping of ``to_image_map`` applies).

    Raises:
        ValueError: for a patch or tile layout whose processor this module does not know.
    """
    pixels = enc["pixel_values"]
    h, w = (int(v) for v in image_shape)
    if pixels.ndim == 4 and pixels.shape[0] == 1:
        return None
    ip = image_processor
    if pixels.ndim == 2 and "image_grid_thw" in enc:
        grid = tuple(int(v) for v in enc["image_grid_thw"][0])
        sizes = [getattr(ip, k, None) for k in ("patch_size", "temporal_patch_size", "merge_size")]
        if not all(isinstance(v, int) and v > 0 for v in sizes):
            raise ValueError(
                f"model: {type(ip).__name__} lacks patch_size / temporal_patch_size / merge_size, needed to "
                "un-patchify Qwen's patch rows"
            )
        patch, temporal, merge = sizes
        # the resized image fills the patch grid: no crop, no padding
        return PixelGeometry((h, w), ((0.0, 0.0, float(h), float(w)),), (patch, temporal, merge, grid))
    if pixels.ndim == 5 and pixels.shape[0] == 1 and getattr(ip, "image_grid_pinpoints", None):
        return PixelGeometry((h, w), _next_boxes(ip, h, w, int(pixels.shape[1]), tuple(pixels.shape[-2:])))
    if pixels.ndim == 5 and pixels.shape[0] == 1 and hasattr(ip, "max_image_size"):
        return PixelGeometry((h, w), _idefics3_boxes(ip, h, w, enc))
    raise ValueError(
        f"model: cannot map gradients over pixel_values {tuple(pixels.shape)} back to the image for "
        f"{type(ip).__name__} (known: Qwen2-VL patch rows, LLaVA-NeXT and Idefics3 tiles)"
    )


def _size(d: Any, *keys: str) -> int | None:
    for k in keys:
        v = d.get(k) if isinstance(d, dict) else getattr(d, k, None)
        if v:
            return int(v)
    return None


def next_paste(h: int, w: int, best_h: int, best_w: int) -> tuple[int, int, int, int]:
    """LLaVA-NeXT's image in its best-resolution canvas: ``(new_h, new_w, top, left)`` of the pasted image.

    The image is resized with its aspect kept (transformers' ``get_patch_output_size``), then padded to the
    canvas with the image at the centre.
    """
    if best_w / w < best_h / h:
        new_h, new_w = min(math.ceil(h * best_w / w), best_h), best_w
    else:
        new_h, new_w = best_h, min(math.ceil(w * best_h / h), best_w)
    return new_h, new_w, (best_h - new_h) // 2, (best_w - new_w) // 2


def _next_boxes(ip: Any, h: int, w: int, n_tiles: int, tile: tuple[int, int]) -> tuple[Box, ...]:
    """LLaVA-NeXT: the base image (squashed, then centre-cropped) and the crops of the padded best resolution."""
    from transformers.image_processing_utils import select_best_resolution

    size, crop = ip.size, ip.crop_size
    short = _size(size, "shortest_edge")
    sh = _size(size, "height") or short
    sw = _size(size, "width") or short
    ch, cw = _size(crop, "height") or sh, _size(crop, "width") or sw
    if (ch, cw) != tile or (short and short != ch) or ch != cw:
        raise ValueError(
            f"model: LLaVA-NeXT tiles of {tile} with size {size} and crop {crop} are not mapped back "
            "(expected square tiles equal to the crop and the shortest edge)"
        )
    # base: squashed to (sh, sw), then centre-cropped to (ch, cw)
    top, left = (sh - ch) // 2, (sw - cw) // 2
    boxes: list[Box] = [(top * h / sh, left * w / sw, (top + ch) * h / sh, (left + cw) * w / sw)]
    bh, bw = select_best_resolution((h, w), ip.image_grid_pinpoints)
    nh, nw, py, px = next_paste(h, w, bh, bw)
    for r in range(bh // ch):
        for c in range(bw // cw):
            top, left = (r * ch - py) * h / nh, (c * cw - px) * w / nw
            boxes.append((top, left, top + ch * h / nh, left + cw * w / nw))
    if len(boxes) != n_tiles:
        raise ValueError(f"model: expected {len(boxes)} LLaVA-NeXT tiles for a {h}×{w} image, got {n_tiles}")
    return tuple(boxes)


def _idefics3_boxes(ip: Any, h: int, w: int, enc: dict[str, Any]) -> tuple[Box, ...]:
    """Idefics3: row-major crops of the resized image, then the whole image squashed to one tile (last)."""
    pixels = enc["pixel_values"]
    n_tiles, th, tw = int(pixels.shape[1]), int(pixels.shape[-2]), int(pixels.shape[-1])
    mask = enc.get("pixel_attention_mask")
    mask = None if mask is None else np.asarray(mask) > 0
    # the image part of each tile (the rest is bottom/right padding to the batch's largest tile)
    vh = [int(m.any(-1).sum()) for m in mask[0]] if mask is not None else [th] * n_tiles
    vw = [int(m.any(-2).sum()) for m in mask[0]] if mask is not None else [tw] * n_tiles
    if n_tiles == 1:
        return ((0.0, 0.0, h * th / vh[0], w * tw / vw[0]),)
    # how many rows and columns of crops: ask the processor itself on a blank image of this size
    out = ip(images=[np.zeros((h, w, 3), dtype=np.uint8)], return_row_col_info=True)
    rows, cols = int(np.ravel(out["rows"])[0]), int(np.ravel(out["cols"])[0])
    if rows * cols + 1 != n_tiles:
        raise ValueError(f"model: expected {rows}×{cols} Idefics3 crops and the global tile, got {n_tiles} tiles")
    boxes: list[Box] = []
    for r in range(rows):
        for c in range(cols):
            boxes.append((r * h / rows, c * w / cols, (r + 1) * h / rows, (c + 1) * w / cols))
    boxes.append((0.0, 0.0, h * th / vh[-1], w * tw / vw[-1]))
    return tuple(boxes)
