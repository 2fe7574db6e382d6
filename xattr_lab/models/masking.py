"""Image masking: checking masks, resolving baselines, and the resized-mask composite in processed space.

Ways to show a model a masked image (the adapter picks one per image, see ``hf_inputs``):

* mask-then-process: composite ``mask * image + (1 - mask) * baseline`` in pixel space and run the image
  processor on every masked copy (always correct, costs one processor call per image);
* the traced replay (:mod:`xattr_lab.models.processed_masks`): the processor's own geometry and 8-bit
  resampling replayed in torch on a batch of composites; equal to mask-then-process, on every family;
* the resized-mask composite (:class:`PixelSpaceMasker`): process the image and the baseline once, then
  composite in the *processed* tensor under the mask carried through resize + centre crop. Resampling does
  not commute with the per-pixel product, so this differs from mask-then-process at mask edges whenever the
  resize is not an identity (up to ~1.1 normalised units); the adapter keeps it only where a one-off check
  on every processed pixel passes (e.g. an image already at the crop size), as a fallback for processors
  the replay cannot trace.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

NAMED_BASELINES: dict[str, tuple[float, float, float]] = {
    "black": (0.0, 0.0, 0.0),
    "white": (255.0, 255.0, 255.0),
    "gray": (127.5, 127.5, 127.5),
    "grey": (127.5, 127.5, 127.5),
}


def check_masks(masks: Any, height: int, width: int) -> torch.Tensor:
    """Return ``masks`` as a float32 tensor [B, H, W] in [0, 1], or raise a clear error.

    Args:
        masks: [B, H, W] (or one [H, W] mask) numpy array or torch tensor; 1 keeps a pixel.
        height: the image height.
        width: the image width.
    """
    if isinstance(masks, np.ndarray):
        masks = torch.from_numpy(np.ascontiguousarray(masks))
    if not isinstance(masks, torch.Tensor):
        raise TypeError(f"masks: expected a numpy array or torch tensor [B, H, W], got {type(masks).__name__}")
    if masks.ndim == 2:
        masks = masks[None]
    if masks.ndim != 3 or tuple(masks.shape[1:]) != (height, width):
        raise ValueError(
            f"masks: expected shape [B, {height}, {width}] (the image's resolution), got {tuple(masks.shape)}"
        )
    if masks.shape[0] == 0:
        raise ValueError("masks: got an empty batch")
    masks = masks.detach().to("cpu", torch.float32)
    if masks.numel() and (masks.min() < 0 or masks.max() > 1):
        raise ValueError("masks: values must lie in [0, 1] (1 keeps a pixel, 0 replaces it by the baseline)")
    return masks


def baseline_image(baseline: Any, image: np.ndarray) -> np.ndarray:
    """The baseline as a float array [H, W, 3] in 0..255.

    Args:
        baseline: ``"black"``, ``"white"``, ``"gray"``, ``"mean"`` (the image's mean colour), ``"blur"``
            (a strongly blurred copy), a float in [0, 1] (a grey level), an RGB triple in 0..255, or an
            image [H, W, 3] of the same size (uint8, or float in 0..255).
        image: the uint8 image [H, W, 3].
    """
    h, w, _ = image.shape
    if isinstance(baseline, str):
        key = baseline.lower()
        if key in NAMED_BASELINES:
            return np.broadcast_to(np.array(NAMED_BASELINES[key]), (h, w, 3)).astype(np.float32)
        if key == "mean":
            return np.broadcast_to(image.reshape(-1, 3).mean(0), (h, w, 3)).astype(np.float32)
        if key == "blur":
            return _blurred(image)
        raise ValueError(
            f"baseline: unknown name {baseline!r}; use one of {sorted([*NAMED_BASELINES, 'mean', 'blur'])}, "
            "a grey level in [0, 1], an RGB triple or an image"
        )
    if isinstance(baseline, (int, float)) and not isinstance(baseline, bool):
        if not 0 <= baseline <= 1:
            raise ValueError(f"baseline: a grey level must lie in [0, 1], got {baseline}")
        return np.full((h, w, 3), 255.0 * baseline, dtype=np.float32)
    arr = np.asarray(baseline.detach().cpu() if isinstance(baseline, torch.Tensor) else baseline, np.float32)
    if arr.shape == (3,):
        return np.broadcast_to(arr, (h, w, 3)).astype(np.float32)
    if arr.shape == (h, w, 3):
        return arr
    raise ValueError(f"baseline: expected a name, a number, an RGB triple or an image [{h}, {w}, 3]; got {arr.shape}")


_BLUR_CACHE: OrderedDict[tuple[Any, ...], np.ndarray] = OrderedDict()
_BLUR_CACHE_SIZE = 2  # float32 copies, 12 bytes a pixel; scoring asks for one image's blur batch after batch
_BLUR_LOCK = threading.Lock()


def _blurred(image: np.ndarray) -> np.ndarray:
    """A strongly blurred copy (float32, sigma = longest side / 16), computed once per image content.

    The blur costs about half a second for a 336 × 336 image and callers rebuild the baseline for every
    batch of masks; the image's bytes are hashed instead (under a millisecond) and a fresh copy returned.
    """
    from scipy.ndimage import gaussian_filter

    key = (image.shape, image.dtype.str, hashlib.blake2b(np.ascontiguousarray(image).data, digest_size=16).digest())
    with _BLUR_LOCK:
        cached = _BLUR_CACHE.get(key)
        if cached is not None:
            _BLUR_CACHE.move_to_end(key)
            return cached.copy()
    h, w = image.shape[:2]
    sigma = max(h, w) / 16
    blurred = gaussian_filter(image.astype(np.float32), sigma=(sigma, sigma, 0))
    with _BLUR_LOCK:
        _BLUR_CACHE[key] = blurred.copy()
        while len(_BLUR_CACHE) > _BLUR_CACHE_SIZE:
            _BLUR_CACHE.popitem(last=False)
    return blurred


def baseline_key(baseline: Any) -> Any:
    """A hashable key for caching processed baselines (None when the baseline is an array)."""
    if isinstance(baseline, (str, int, float)):
        return baseline
    if isinstance(baseline, (tuple, list)) and len(baseline) == 3:
        return tuple(float(v) for v in baseline)
    return None


def mask_images(image: np.ndarray, masks: torch.Tensor, baseline: np.ndarray) -> np.ndarray:
    """Composite ``masks * image + (1 - masks) * baseline`` in pixel space: uint8 [B, H, W, 3].

    One image at a time into the uint8 result, so the float temporaries stay the size of one image
    (12 bytes a pixel) instead of the batch's; the arithmetic, hence every pixel, is unchanged.
    """
    img = torch.from_numpy(image.astype(np.float32))  # a copy: inputs may be read-only
    base = torch.from_numpy(np.ascontiguousarray(baseline)).float()
    out = np.empty((masks.shape[0], *image.shape[:2], 3), dtype=np.uint8)
    for i in range(masks.shape[0]):
        m = masks[i, ..., None]
        out[i] = (m * img + (1 - m) * base).round_().clamp_(0, 255).to(torch.uint8).numpy()
    return out


def _get(obj: Any, key: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, key, None)


@dataclass(frozen=True)
class PixelSpaceMasker:
    """Carries masks through a resize (shortest edge or fixed size) + centre crop into processed pixels.

    Attributes:
        resized: (height, width) after the resize step.
        crop: (top, left, height, width) of the centre crop inside the resized image.
    """

    resized: tuple[int, int]
    crop: tuple[int, int, int, int]

    @classmethod
    def for_processor(cls, image_processor: Any, height: int, width: int) -> PixelSpaceMasker | None:
        """The masker for a processor and input size, or None when its geometry is not resize + crop.

        Only processors that output one [3, h, w] tensor per image through (optional) resize, (optional)
        centre crop, rescale and normalise qualify (CLIP/SigLIP-style, as in LLaVA 1.5). Tiling (LLaVA-NeXT
        any-res, Idefics3 splitting), padding and patchified outputs (Qwen2-VL) do not.
        """
        if image_processor is None:
            return None
        for flag in ("do_pad", "do_image_splitting", "do_convert_grayscale"):
            if _get(image_processor, flag):
                return None
        if _get(image_processor, "image_grid_pinpoints") or _get(image_processor, "patch_size") is not None:
            return None
        h, w = height, width
        if _get(image_processor, "do_resize") is not False:
            size = _get(image_processor, "size")
            short, longest = _get(size, "shortest_edge"), _get(size, "longest_edge")
            if short and not longest:
                # the rule of transformers' get_resize_output_image_size(default_to_square=False)
                if w <= h:
                    h, w = int(short * h / w), short
                else:
                    h, w = short, int(short * w / h)
            elif _get(size, "height") and _get(size, "width"):
                h, w = int(_get(size, "height")), int(_get(size, "width"))
            else:
                return None
        top, left, ch, cw = 0, 0, h, w
        if _get(image_processor, "do_center_crop"):
            crop = _get(image_processor, "crop_size")
            ch, cw = _get(crop, "height"), _get(crop, "width")
            if not ch or not cw or ch > h or cw > w:
                return None  # cropping larger than the image pads: not a pure geometry map
            top, left = (h - ch) // 2, (w - cw) // 2
        return cls(resized=(h, w), crop=(top, left, int(ch), int(cw)))

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of the processed image."""
        return self.crop[2], self.crop[3]

    def transform(self, masks: torch.Tensor) -> torch.Tensor:
        """Masks [B, H, W] at image resolution -> [B, 1, h, w] in processed space (soft at edges)."""
        m = masks[:, None]
        if tuple(m.shape[-2:]) != self.resized:
            m = F.interpolate(m, size=self.resized, mode="bilinear", align_corners=False, antialias=True)
            m = m.clamp_(0, 1)
        top, left, ch, cw = self.crop
        return m[..., top : top + ch, left : left + cw]

    def apply(self, pixels: torch.Tensor, baseline: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        """Composite processed pixels and baseline [1, 3, h, w] under masks [B, H, W] -> [B, 3, h, w]."""
        m = self.transform(masks).to(pixels.device, pixels.dtype)
        return baseline + m * (pixels - baseline)
