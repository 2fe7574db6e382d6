"""SLIC and SLICO superpixels through scikit-image, sized the way EAGLE sizes OpenCV's.

EAGLE asks OpenCV for ``region_size = int(sqrt(H*W / N))`` (N = 64 in its experiments), i.e. seeds on a
grid with that step; scikit-image takes a segment count instead, so we pass the count that grid implies.
"""

from __future__ import annotations

import math

import numpy as np

from xattr_lab.inputs.regions import relabel


def max_regions(hw: tuple[int, int]) -> int:
    """The largest count SLIC/SLICO can be asked for: one region per pixel (region size 1)."""
    return hw[0] * hw[1]


def region_size(hw: tuple[int, int], division_number: int) -> int:
    """EAGLE's region size ``int(sqrt(H*W / division_number))`` (at least 1)."""
    return max(1, int(math.sqrt(hw[0] * hw[1] / division_number)))


def slic_labels(image: np.ndarray, division_number: int = 64, zero: bool = True) -> np.ndarray:
    """Superpixel label map [H, W].

    Args:
        image: uint8 [H, W, 3] (or [H, W]) image.
        division_number: EAGLE's ``division_number``; about this many regions come out.
        zero: SLICO (adaptive compactness, OpenCV's default algorithm) when True, plain SLIC otherwise.

    Returns:
        int32 labels numbered ``0 .. n-1`` in reading order.
    """
    from skimage.segmentation import slic

    img = np.asarray(image)
    hw = (int(img.shape[0]), int(img.shape[1]))
    step = region_size(hw, division_number)
    n_segments = max(1, round(hw[0] / step) * round(hw[1] / step))
    labels = slic(
        img,
        n_segments=n_segments,
        # SLICO adapts compactness per cluster, so the start value matters little; plain SLIC uses a fixed
        # weight comparable to OpenCV's ruler.
        compactness=10.0 if zero else 20.0,
        max_num_iter=20,
        slic_zero=zero,
        start_label=0,
        enforce_connectivity=True,
        channel_axis=-1 if img.ndim == 3 else None,
    )
    return relabel(labels)
