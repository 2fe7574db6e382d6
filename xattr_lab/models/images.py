"""Checking and converting user images: every adapter works on uint8 RGB arrays [H, W, 3]."""

from __future__ import annotations

from typing import Any

import numpy as np


def as_rgb_array(image: Any, name: str = "image") -> np.ndarray:
    """Return ``image`` as a uint8 RGB array [H, W, 3], or raise a clear error.

    Accepted: a PIL image in mode ``"RGB"``, a numpy array or torch tensor [H, W, 3] of uint8 (or finite floats
    in [0, 1]). Grayscale and RGBA images are refused rather than silently converted, because the choice of
    background for transparent pixels changes what a model sees.

    Args:
        image: the image.
        name: the argument name used in error messages.

    Returns:
        A C-contiguous uint8 array [H, W, 3].

    Raises:
        TypeError: when ``image`` is not an image type.
        ValueError: when ``image`` is grayscale, RGBA, or has a bad shape or value range, or holds NaN or
            infinite values (refused rather than cast to black).
    """
    hint = f'convert it first, e.g. PIL.Image.open(path).convert("RGB") or np.stack([{name}] * 3, -1)'
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow is a dependency
        Image = None  # noqa: N806
    if Image is not None and isinstance(image, Image.Image):
        if image.mode != "RGB":
            raise ValueError(f"{name}: expected an RGB image, got PIL mode {image.mode!r}; {hint}")
        return np.ascontiguousarray(np.asarray(image, dtype=np.uint8))
    if type(image).__module__.startswith("torch"):
        image = image.detach().cpu()
        if str(image.dtype) == "torch.bfloat16":  # numpy has no bfloat16
            image = image.float()
        image = image.numpy()
    if not isinstance(image, np.ndarray):
        raise TypeError(
            f"{name}: expected a PIL.Image, numpy array or torch tensor [H, W, 3], got {type(image).__name__}"
        )
    if image.ndim == 2 or (image.ndim == 3 and image.shape[-1] == 1):
        raise ValueError(f"{name}: got a grayscale image of shape {image.shape}; expected [H, W, 3] RGB; {hint}")
    if image.ndim == 3 and image.shape[-1] == 4:
        raise ValueError(
            f"{name}: got an RGBA image of shape {image.shape}; expected [H, W, 3] RGB; composite it on a "
            'background first, e.g. PIL.Image.fromarray(a).convert("RGB")'
        )
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"{name}: expected shape [H, W, 3] (channels last), got {image.shape}")
    if image.shape[0] < 2 or image.shape[1] < 2:
        raise ValueError(f"{name}: image of shape {image.shape} is too small")
    if image.dtype == np.uint8:
        return np.ascontiguousarray(image)
    if np.issubdtype(image.dtype, np.floating):
        finite = np.isfinite(image)
        if not finite.all():
            # a cast would turn NaN into black (0) silently, and the model's answer changes with it
            bad = int((~finite).sum())
            raise ValueError(
                f"{name}: contains {bad} NaN or infinite value(s) of {image.size}; images must be finite "
                f"(fill or drop them first, e.g. np.nan_to_num({name}, nan=0.0) if black is what you mean)"
            )
        if image.min() < 0 or image.max() > 1:
            raise ValueError(f"{name}: float images must lie in [0, 1]; use uint8 for 0-255 values")
        return np.ascontiguousarray((image * 255).round().astype(np.uint8))
    if np.issubdtype(image.dtype, np.integer):
        if image.min() < 0 or image.max() > 255:
            raise ValueError(f"{name}: integer images must lie in [0, 255]")
        return np.ascontiguousarray(image.astype(np.uint8))
    raise TypeError(f"{name}: unsupported dtype {image.dtype}")


def to_pil(image: np.ndarray) -> Any:
    """A PIL image from a uint8 RGB array (processors want PIL or arrays; PIL avoids layout guessing)."""
    from PIL import Image

    return Image.fromarray(image)
