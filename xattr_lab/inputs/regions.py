"""Image regions as one integer label map, and the factory that parses a regions spec.

A region set is what black-box methods attribute to: ``labels[y, x]`` is the region of pixel ``(y, x)``,
regions are numbered ``0 .. n-1`` without gaps, and ``area`` holds each region's share of the image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, eq=False)
class Regions:
    """A partition of an image into ``n`` regions.

    Attributes:
        labels: int32 [H, W] label map with values ``0 .. n-1``, every value used.
        spec: how the regions were made (e.g. ``"slico:64"``, ``"grid:8x8"``, ``"user"``).
    """

    labels: np.ndarray
    spec: str = "user"

    @property
    def n(self) -> int:
        """Number of regions."""
        return int(self.labels.max()) + 1 if self.labels.size else 0

    @property
    def shape(self) -> tuple[int, int]:
        """Image shape ``(H, W)``."""
        return (int(self.labels.shape[0]), int(self.labels.shape[1]))

    @property
    def area(self) -> np.ndarray:
        """float64 [n]: each region's fraction of the image area (sums to 1)."""
        counts = np.bincount(self.labels.ravel(), minlength=self.n).astype(np.float64)
        return counts / counts.sum()

    def masks(self, keep: np.ndarray) -> np.ndarray:
        """Pixel masks for region selections.

        Args:
            keep: bool [B, n] (or [n]): True for the regions a variant keeps.

        Returns:
            bool [B, H, W] (or [H, W]) masks, True where a pixel is kept.
        """
        keep = np.asarray(keep, dtype=bool)
        # Fancy indexing maps every pixel's label to its keep flag in one vectorised gather.
        return keep[..., self.labels]

    def to_pixels(self, values: np.ndarray) -> np.ndarray:
        """Spread one value per region over its pixels: float32 [H, W]."""
        return np.asarray(values, dtype=np.float32)[self.labels]

    def pool(self, pixel_map: np.ndarray) -> np.ndarray:
        """Mean of a pixel map inside each region: float64 [n]."""
        pixel_map = np.asarray(pixel_map, dtype=np.float64)
        if pixel_map.shape != self.labels.shape:
            raise ValueError(
                f"pixel_map: shape {pixel_map.shape} does not match the regions {self.labels.shape}"
            )
        sums = np.bincount(self.labels.ravel(), weights=pixel_map.ravel(), minlength=self.n)
        counts = np.bincount(self.labels.ravel(), minlength=self.n)
        return sums / np.maximum(counts, 1)


def relabel(labels: np.ndarray) -> np.ndarray:
    """Renumber any integer label map to ``0 .. n-1`` in order of first appearance (raster order)."""
    flat = np.asarray(labels).ravel()
    _, first, inverse = np.unique(flat, return_index=True, return_inverse=True)
    # np.unique sorts by value; re-rank by first appearance so numbering follows reading order.
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse].reshape(np.asarray(labels).shape).astype(np.int32)


def from_masks(masks: np.ndarray) -> np.ndarray:
    """Label map from boolean masks [K, H, W]: first mask wins overlaps; uncovered pixels: one region."""
    masks = np.asarray(masks, dtype=bool)
    labels = np.full(masks.shape[1:], masks.shape[0], dtype=np.int64)
    for k in range(masks.shape[0] - 1, -1, -1):
        labels[masks[k]] = k
    return relabel(labels)


def _image_hw(image: Any) -> tuple[int, int]:
    shape = np.shape(image)
    if len(shape) < 2:
        raise ValueError(f"image: expected an [H, W, 3] array, got shape {shape}")
    return int(shape[0]), int(shape[1])


def _parse_count(spec: str, name: str, default: int) -> int:
    _, _, arg = spec.partition(":")
    if not arg:
        return default
    try:
        value = int(arg)
    except ValueError:
        raise ValueError(f"regions: {spec!r} expects an integer after '{name}:'") from None
    if value < 1:
        raise ValueError(f"regions: {spec!r} needs a positive count")
    return value


def make_regions(regions: str | np.ndarray | Regions, image: Any, seed: int = 0) -> Regions:
    """Build regions for an image from a spec.

    Args:
        regions: one of
            ``"slico:N"`` (SLICO superpixels with EAGLE's region size ``sqrt(H*W/N)``, default N=64),
            ``"slic:N"`` (plain SLIC, fixed compactness), ``"seeds:N"`` (SEEDS, LiMA's default N=50),
            ``"grid:R"`` or ``"grid:RxC"`` (a regular grid), an int label map [H, W], boolean masks
            [K, H, W] (pixels no mask covers form one more region), or a :class:`Regions`.
        image: the image (uint8 [H, W, 3]) the regions are drawn on.
        seed: seed for makers that use randomness.

    Returns:
        The regions.

    Raises:
        ValueError: for an unknown spec or a label map that does not match the image.
        TypeError: for a spec of the wrong type.
    """
    h, w = _image_hw(image)
    if isinstance(regions, Regions):
        if regions.shape != (h, w):
            raise ValueError(f"regions: shape {regions.shape} does not match the image ({h}, {w})")
        return regions
    if isinstance(regions, np.ndarray):
        return _from_array(regions, (h, w))
    if not isinstance(regions, str):
        raise TypeError(
            f"regions: expected a spec string, a label map or Regions, got {type(regions).__name__}"
        )
    name = regions.partition(":")[0].strip().lower()
    img = np.asarray(image)
    if name in ("slico", "slic"):
        from xattr_lab.inputs.superpixels import slic_labels

        n = _parse_count(regions, name, 64)
        return Regions(slic_labels(img, n, zero=name == "slico"), f"{name}:{n}")
    if name == "seeds":
        from xattr_lab.inputs.seeds import seeds_labels

        n = _parse_count(regions, name, 50)
        return Regions(seeds_labels(img, n, seed=seed), f"seeds:{n}")
    if name == "grid":
        from xattr_lab.inputs.grid import grid_labels, parse_grid

        rows, cols = parse_grid(regions)
        return Regions(grid_labels((h, w), rows, cols), f"grid:{rows}x{cols}")
    raise ValueError(
        f"regions: unknown spec {regions!r}; expected 'slico:N', 'slic:N', 'seeds:N', 'grid:R[xC]', "
        "a label map or masks"
    )


def _from_array(array: np.ndarray, hw: tuple[int, int]) -> Regions:
    if array.ndim == 3 and array.dtype == bool:
        if array.shape[1:] != hw:
            raise ValueError(f"regions: masks of shape {array.shape[1:]} do not match the image {hw}")
        return Regions(from_masks(array), "masks")
    if array.ndim != 2:
        raise ValueError(
            f"regions: expected a label map [H, W] or boolean masks [K, H, W], got {array.shape}"
        )
    if array.shape != hw:
        raise ValueError(f"regions: label map of shape {array.shape} does not match the image {hw}")
    if not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"regions: a label map must hold integers, got {array.dtype}")
    return Regions(relabel(array), "user")
