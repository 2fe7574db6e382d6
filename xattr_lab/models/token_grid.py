"""Where each image token of a tiled model looks in the image: token views (grids) placed on the image.

Single-grid models (LLaVA 1.5, Qwen2-VL, Idefics3 without splitting) lay their image tokens out as one
row-major grid over the processed image; :func:`~xattr_lab.models.whitebox.image_grid` covers them. Tiled
models do not, and this module places **every** tile at its place in the image instead of reading only the
base (global) image's tokens: the tiles carry the finer cells, which is what a token map is for, and their
geometry is known from the processor. A :class:`TokenLayout` is a tuple of :class:`TokenView` s, each a grid
of token indices with the box of the original image it covers; a map over the tokens is filtered per view
(neighbouring cells are neighbours in the image) and the views are averaged where they overlap.

* **LLaVA-NeXT** (any resolution): the base image (a square resize of the whole image, then the centre crop)
  is one ``p×p`` view. The tiles of the best pinpoint resolution (image resized with its aspect kept, padded
  to the centre, cut into crops) form one mosaic; the model drops the padded rows (or columns) of that mosaic
  ("unpadding") and appends an ``image_newline`` token to each row. The newline tokens have no place and are
  left out; the kept mosaic is mapped through the padding and resize back to the image.
* **Idefics3 / SmolVLM with image splitting**: the image is resized to a multiple of the encoder size in each
  dimension and cut into ``rows×cols`` crops, each compressed by pixel shuffle to a ``k×k`` token grid
  (row-major blocks of ``s×s`` patches); a ``<row_r_col_c>`` marker precedes each crop's tokens and the
  global image (the whole image resized to one crop) comes last. The crops form one ``rows·k × cols·k``
  mosaic over the whole image; the global image is a second ``k×k`` view.

The token-map methods take ``views=``: ``"all"`` (default; the tiles carry most of the tokens and all the
fine cells, and the base view keeps the whole-image context the model also saw), ``"base"`` (only the base /
global image's tokens: a coarse grid, what reading one grid of a tiled model amounts to) or ``"tiles"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from xattr_lab.models.pixel_geometry import next_paste

_ROW_COL = re.compile(r"<row_(\d+)_col_(\d+)>")
# which views of a tiled model a map reads: every tile at its place (default), or one kind only
VIEWS = ("all", "base", "tiles")


@dataclass(frozen=True, eq=False)
class TokenView:
    """One grid of image tokens and the part of the original image it covers.

    Attributes:
        name: what the view is (``"base"``, ``"tiles"``, ``"crops"``, ``"global"``).
        index: int [rows, cols] index of each cell's token in the list of image-token positions.
        box: (top, left, bottom, right) of the image the grid spans, in original image pixels (may reach
            outside the image, e.g. over padding).
    """

    name: str
    index: np.ndarray
    box: tuple[float, float, float, float]

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the view's grid."""
        return int(self.index.shape[0]), int(self.index.shape[1])

    def cell_box(self, row: int, col: int) -> tuple[float, float, float, float]:
        """(top, left, bottom, right) of one cell in original image pixels."""
        top, left, bottom, right = self.box
        dy, dx = (bottom - top) / self.shape[0], (right - left) / self.shape[1]
        return top + row * dy, left + col * dx, top + (row + 1) * dy, left + (col + 1) * dx


@dataclass(frozen=True, eq=False)
class TokenLayout:
    """Every placed image token of one generation: its views over an image of ``image_shape``.

    Attributes:
        kind: ``"llava_next_anyres"`` or ``"idefics3_split"``.
        views: the token grids, base / global view first.
        image_shape: (H, W) of the original image.
        n_tokens: number of image tokens in the sequence (some, like NeXT's newlines, have no place).
    """

    kind: str
    views: tuple[TokenView, ...]
    image_shape: tuple[int, int]
    n_tokens: int

    def select(self, views: str) -> TokenLayout:
        """This layout with only some views: ``"all"``, ``"base"`` (the base / global image) or ``"tiles"``."""
        if views not in VIEWS:
            raise ValueError(f"views: expected one of {VIEWS}, got {views!r}")
        chosen = self.views if views == "all" else self.views[:1] if views == "base" else self.views[1:]
        return TokenLayout(self.kind, chosen, self.image_shape, self.n_tokens)

    def grids(self, values: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per-view grids of ``values`` [n_tokens] (one value per image token, in sequence order)."""
        values = np.asarray(values)
        if values.shape[0] != self.n_tokens:
            raise ValueError(f"values: expected {self.n_tokens} values (one per image token), got {values.shape[0]}")
        return tuple(values[v.index] for v in self.views)

    def to_image(self, grids: tuple[np.ndarray, ...] | list[np.ndarray]) -> np.ndarray:
        """The per-view grids placed on the image and averaged where views overlap: float32 [H, W].

        Each grid is sampled bilinearly (cell centres, edges clamped) over its box; pixels no view covers get
        the maps' minimum.
        """
        h, w = self.image_shape
        acc, count = np.zeros((h, w)), np.zeros((h, w))
        for view, grid in zip(self.views, grids, strict=True):
            values, inside = _place(np.asarray(grid, dtype=np.float64), view.box, (h, w))
            acc += np.where(inside, values, 0.0)
            count += inside
        low = min((float(np.min(g)) for g in grids if np.size(g)), default=0.0)
        return np.where(count > 0, acc / np.maximum(count, 1), low).astype(np.float32)


def _axis(n_out: int, start: float, stop: float, n_cells: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Bilinear sampling along one axis: (lower cell, upper cell, weight of upper, inside the span)."""
    centre = np.arange(n_out) + 0.5
    pos = (centre - start) / max(stop - start, 1e-9) * n_cells - 0.5
    clipped = np.clip(pos, 0, n_cells - 1)
    lo = np.floor(clipped).astype(np.int64)
    hi = np.minimum(lo + 1, n_cells - 1)
    return lo, hi, clipped - lo, (centre >= start) & (centre < stop)


def _place(grid: np.ndarray, box: tuple[float, float, float, float], shape: tuple[int, int]) -> tuple[Any, Any]:
    top, left, bottom, right = box
    y0, y1, wy, iy = _axis(shape[0], top, bottom, grid.shape[0])
    x0, x1, wx, ix = _axis(shape[1], left, right, grid.shape[1])
    wy, wx = wy[:, None], wx[None, :]
    values = (1 - wy) * ((1 - wx) * grid[y0][:, x0] + wx * grid[y0][:, x1]) + wy * (
        (1 - wx) * grid[y1][:, x0] + wx * grid[y1][:, x1]
    )
    return values, iy[:, None] & ix[None, :]


def _get(obj: Any, key: str) -> Any:
    value = getattr(obj, key, None)
    if value is None and isinstance(obj, dict):
        value = obj.get(key)
    return value


def _size(value: Any, key: str) -> int | None:
    got = _get(value, key)
    return int(got) if got else None


def token_layout(model: Any, gen: Any, image_positions: np.ndarray) -> TokenLayout | None:
    """The layout of a tiled model's image tokens, or None when the model is not a known tiled family.

    Args:
        model: the adapter (its ``model.config``, ``processor`` and ``tokenizer`` are read).
        gen: the generation (its image's size and input ids).
        image_positions: int [N] positions of the image tokens in the sequence.

    Raises:
        ValueError: when the model is tiled but its token count does not match the geometry.
    """
    config = getattr(getattr(model, "model", None), "config", None)
    ip = getattr(getattr(model, "processor", None), "image_processor", None)
    if config is None or ip is None:
        return None
    shape = (int(gen.image.shape[0]), int(gen.image.shape[1]))
    if getattr(config, "image_grid_pinpoints", None) and _get(ip, "image_grid_pinpoints"):
        return _llava_next(config, ip, shape, len(image_positions))
    tok = getattr(model, "tokenizer", None)
    if tok is not None:
        return _idefics3_split(tok, gen.input_ids, np.asarray(image_positions), shape)
    return None


def _best_resolution(size: tuple[int, int], pinpoints: list[Any]) -> tuple[int, int]:
    """The pinpoint resolution LLaVA-NeXT picks (transformers' own rule): most effective pixels, then least waste."""
    from transformers.image_processing_utils import select_best_resolution

    best = select_best_resolution(size, pinpoints)
    if best is None:
        raise ValueError(f"model: no image_grid_pinpoints fit an image of {size[0]}×{size[1]}")
    return int(best[0]), int(best[1])


def _llava_next(config: Any, ip: Any, shape: tuple[int, int], n_tokens: int) -> TokenLayout:
    h, w = shape
    patch = int(config.vision_config.patch_size)
    crop = _size(_get(ip, "crop_size"), "height") or int(config.vision_config.image_size)
    size = _get(ip, "size")
    square = _size(size, "height") or _size(size, "shortest_edge") or crop
    side = crop // patch
    n_base = side * side
    # the base image: the whole image squashed to square × square, then the centre crop × crop
    offset = (square - crop) / 2 * np.array([h / square, w / square])
    base_box = (offset[0], offset[1], h - offset[0], w - offset[1])
    base = TokenView("base", np.arange(n_base).reshape(side, side), base_box)
    best_h, best_w = _best_resolution(shape, list(_get(ip, "image_grid_pinpoints")))
    full_r, full_c = best_h // crop * side, best_w // crop * side
    # the image in the pinpoint canvas: resized with its aspect kept, pasted at the centre
    new_h, new_w, paste_y, paste_x = next_paste(h, w, best_h, best_w)
    # unpadding keeps a centred band of rows or columns; each kept row ends with a newline token
    n_tiles = n_tokens - n_base
    rows, cols = full_r, n_tiles // full_r - 1 if full_r else 0
    if n_tiles % (full_c + 1) == 0 and n_tiles // (full_c + 1) <= full_r:
        rows, cols = n_tiles // (full_c + 1), full_c
    if rows <= 0 or cols <= 0 or rows * (cols + 1) != n_tiles or cols > full_c:
        raise ValueError(
            f"model: {n_tokens} image tokens do not match LLaVA-NeXT's geometry for a {h}×{w} image "
            f"({n_base} base tokens + a {full_r}×{full_c} tile mosaic with newlines)"
        )
    pad_r, pad_c = (full_r - rows) // 2, (full_c - cols) // 2
    index = n_base + np.arange(rows)[:, None] * (cols + 1) + np.arange(cols)[None, :]
    cell = crop / side  # canvas pixels per token (the patch size)

    def to_image(canvas: float, paste: int, new: int, orig: int) -> float:
        return (canvas - paste) * orig / new

    tiles_box = (
        to_image(pad_r * cell, paste_y, new_h, h),
        to_image(pad_c * cell, paste_x, new_w, w),
        to_image((pad_r + rows) * cell, paste_y, new_h, h),
        to_image((pad_c + cols) * cell, paste_x, new_w, w),
    )
    return TokenLayout("llava_next_anyres", (base, TokenView("tiles", index, tiles_box)), shape, n_tokens)


def _runs(positions: np.ndarray) -> list[np.ndarray]:
    """Indices (into ``positions``) of each run of consecutive positions."""
    if len(positions) == 0:
        return []
    breaks = np.nonzero(np.diff(positions) != 1)[0] + 1
    return np.split(np.arange(len(positions)), breaks)


def _idefics3_split(tok: Any, input_ids: Any, positions: np.ndarray, shape: tuple[int, int]) -> TokenLayout | None:
    runs = _runs(positions)
    if len(runs) < 2:
        return None
    ids = [int(i) for i in (input_ids.tolist() if hasattr(input_ids, "tolist") else input_ids)]
    places = []
    for run in runs[:-1]:
        before = positions[run[0]] - 1
        marker = tok.convert_ids_to_tokens(ids[before]) if before >= 0 else None
        found = _ROW_COL.fullmatch(marker) if isinstance(marker, str) else None
        if found is None:
            return None
        places.append((int(found.group(1)) - 1, int(found.group(2)) - 1))
    k = int(round(len(runs[-1]) ** 0.5))
    n_rows, n_cols = max(r for r, _ in places) + 1, max(c for _, c in places) + 1
    if (
        any(len(run) != k * k for run in runs)
        or k * k == 0
        or sorted(places) != [(r, c) for r in range(n_rows) for c in range(n_cols)]
    ):
        raise ValueError(
            f"model: the image tokens ({[len(r) for r in runs]} per crop) do not form the square crops and "
            f"global image of Idefics3's image splitting"
        )
    mosaic = np.zeros((n_rows * k, n_cols * k), dtype=np.int64)
    for (r, c), run in zip(places, runs[:-1], strict=True):
        mosaic[r * k : (r + 1) * k, c * k : (c + 1) * k] = run.reshape(k, k)
    whole = (0.0, 0.0, float(shape[0]), float(shape[1]))
    views = (TokenView("global", runs[-1].reshape(k, k), whole), TokenView("crops", mosaic, whole))
    return TokenLayout("idefics3_split", views, shape, len(positions))
