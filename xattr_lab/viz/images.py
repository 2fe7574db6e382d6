"""Images and label maps for the views: sized for display and encoded compactly (PNG, uint8 labels)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from xattr_lab.viz.payload import encode_array

DEFAULT_MAX_SIDE = 320


def _as_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def as_rgb_uint8(image: Any) -> np.ndarray:
    """An [H, W, 3] uint8 array from an RGB(A)/grey array (floats in [0, 1] or [0, 255]) or a PIL image.

    Raises:
        ValueError: when the array is not an image.
    """
    if hasattr(image, "convert") and hasattr(image, "size"):
        image = np.asarray(image.convert("RGB"))
    arr = _as_numpy(image)
    if arr.ndim == 3 and arr.shape[0] in (1, 3, 4) and arr.shape[-1] not in (1, 3, 4):
        arr = np.moveaxis(arr, 0, -1)  # CHW -> HWC
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3 or arr.shape[-1] not in (1, 3, 4):
        raise ValueError(f"image: expected [H, W, 3] (or grey / RGBA), got shape {arr.shape}")
    if arr.shape[-1] == 1:
        arr = np.repeat(arr, 3, axis=-1)
    arr = arr[..., :3]
    if arr.dtype != np.uint8:
        arr = arr.astype(np.float64)
        if np.nanmax(arr, initial=0.0) <= 1.0:
            arr = arr * 255.0
        arr = np.clip(np.nan_to_num(arr), 0, 255).round().astype(np.uint8)
    return np.ascontiguousarray(arr)


def display_size(height: int, width: int, max_side: int = DEFAULT_MAX_SIDE) -> tuple[int, int]:
    """(height, width) scaled down so that the longer side is at most ``max_side`` (never up)."""
    scale = min(1.0, max_side / max(height, width, 1))
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize_image(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize an [H, W, 3] uint8 image to ``size`` = (height, width) with antialiasing."""
    if image.shape[:2] == size:
        return image
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((size[1], size[0]), Image.Resampling.LANCZOS))


def resize_labels(labels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of an integer [H, W] map to ``size`` = (height, width)."""
    h, w = labels.shape
    if (h, w) == size:
        return labels
    ys = np.minimum(h - 1, ((np.arange(size[0]) + 0.5) * h / size[0]).astype(np.int64))
    xs = np.minimum(w - 1, ((np.arange(size[1]) + 0.5) * w / size[1]).astype(np.int64))
    return labels[ys[:, None], xs[None, :]]


def pool_map(values: np.ndarray, max_side: int) -> np.ndarray:
    """Mean-pool a float [..., H, W] map so its longer side is at most about ``max_side``."""
    h, w = values.shape[-2:]
    f = int(np.ceil(max(h, w) / max_side))
    if f <= 1:
        return values
    ph, pw = -(-h // f) * f, -(-w // f) * f
    pad = [(0, 0)] * (values.ndim - 2) + [(0, ph - h), (0, pw - w)]
    padded = np.pad(values.astype(np.float64), pad, constant_values=np.nan)
    shaped = padded.reshape(*values.shape[:-2], ph // f, f, pw // f, f)
    with np.errstate(all="ignore"):
        return np.nanmean(shaped, axis=(-3, -1))


def encode_png(image: np.ndarray) -> dict[str, Any]:
    """Encode an [H, W, 3] uint8 image as ``{dtype: "png", shape, data: bytes}`` (lossless)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", optimize=True)
    return {"dtype": "png", "shape": list(image.shape), "data": buf.getvalue()}


def encode_display_image(image: np.ndarray, quality: int = 85) -> dict[str, Any]:
    """The smaller of a PNG and a JPEG (``quality``) of an image shown under a heatmap.

    Flat synthetic images stay lossless PNGs; photographs become JPEGs several times smaller.
    """
    from PIL import Image

    png = encode_png(image)
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality, optimize=True)
    if len(buf.getvalue()) < 0.7 * len(png["data"]):
        return {"dtype": "jpeg", "shape": list(image.shape), "data": buf.getvalue()}
    return png


def rle_encode(values: np.ndarray) -> bytes:
    """Run-length code of a flat non-negative int array as little-endian uint16 (value, length) pairs.

    Raises:
        ValueError: for values outside 0..65535.
    """
    flat = np.asarray(values).ravel()
    if flat.size and (flat.min() < 0 or flat.max() > 0xFFFF):
        raise ValueError("values: run-length coding needs values in 0..65535")
    if flat.size == 0:
        return b""
    starts = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]])
    lengths = np.diff(np.r_[starts, flat.size])
    vals = flat[starts]
    # split runs longer than 65535
    reps = (lengths + 0xFFFE) // 0xFFFF
    vals = np.repeat(vals, reps)
    out_len = np.full(vals.size, 0xFFFF, dtype=np.int64)
    last = np.cumsum(reps) - 1
    out_len[last] = lengths - (reps - 1) * 0xFFFF
    pairs = np.stack([vals, out_len], 1).astype("<u2")
    return pairs.tobytes()


def encode_labels(labels: np.ndarray) -> dict[str, Any]:
    """Encode a label map: run-length coded when that is smaller (region maps usually are), else raw."""
    labels = np.asarray(labels)
    small = labels.size == 0 or (labels.min() >= 0 and labels.max() < 256)
    raw = encode_array(labels, "uint8" if small else "int32")
    if labels.size and labels.min() >= 0 and labels.max() <= 0xFFFF:
        rle = rle_encode(labels)
        if len(rle) < len(raw["data"]):
            return {"dtype": "int32", "shape": list(labels.shape), "encoding": "rle", "data": rle}
    return raw
