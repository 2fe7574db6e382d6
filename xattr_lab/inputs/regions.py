"""Image regions as one integer label map, and the factory that parses a regions spec.

A region set is what black-box methods attribute to: ``labels[y, x]`` is the region of pixel ``(y, x)``,
regions are numbered ``0 .. n-1`` without gaps, and ``area`` holds each region's share of the image.

Limits: a region maker is never asked for more regions than the image can hold. Superpixel counts are
approximate by nature ("about N"), so ``slic``/``slico``/``seeds`` clamp an oversized count to the largest
the image holds and warn with :class:`RegionCountWarning` (the returned spec names the count used, e.g.
``"seeds:2400"``). A grid is exact (the user asked for R x C cells), so an oversized grid is refused.
A :class:`Regions` object must already be valid (labels ``0 .. n-1``, every value used): gaps, negative
or non-integer labels are refused with a clear error. A raw label map (an int array) is renumbered
compactly instead, since there the numbering is only a naming of the user's segments.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np


class RegionCountWarning(UserWarning):
    """A superpixel count larger than the image can hold was clamped to the largest that fits."""


@dataclass(frozen=True, eq=False)
class Regions:
    """A partition of an image into ``n`` regions.

    Attributes:
        labels: int32 [H, W] label map with values ``0 .. n-1``, every value used.
        spec: how the regions were made (e.g. ``"slico:64"``, ``"grid:8x8"``, ``"user"``).
    """

    labels: np.ndarray
    spec: str = "user"

    def __post_init__(self) -> None:
        if not isinstance(self.spec, str):
            raise TypeError(f"regions: spec must be a string, got {type(self.spec).__name__}")
        check_labels(self.labels)

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


def check_labels(labels: Any, name: str = "regions") -> None:
    """Refuse a label map that is not an integer [H, W] array numbered ``0 .. n-1`` with every value used.

    Raises:
        TypeError: for a non-array or a non-integer dtype.
        ValueError: for a wrong number of dimensions, an empty map, negative labels or unused values.
    """
    if not isinstance(labels, np.ndarray):
        raise TypeError(f"{name}: labels must be a numpy integer array [H, W], got {type(labels).__name__}")
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"{name}: labels must hold integers, got dtype {labels.dtype}")
    if labels.ndim != 2 or labels.size == 0:
        raise ValueError(f"{name}: labels must be a non-empty [H, W] map, got shape {labels.shape}")
    low, high = int(labels.min()), int(labels.max())
    if low < 0:
        raise ValueError(f"{name}: labels must be >= 0, found {low}")
    # More labels than pixels means gaps for sure; test it before bincount would allocate max+1 counters.
    counts = np.bincount(labels.ravel(), minlength=1) if high < labels.size else None
    if counts is None or not counts.all():
        missing = np.flatnonzero(counts == 0) if counts is not None else np.array([], dtype=np.int64)
        shown = ", ".join(str(int(v)) for v in missing[:5]) + (" ..." if len(missing) > 5 else "")
        detail = f"unused values: {shown}" if len(missing) else f"the largest label {high} exceeds the pixel count"
        raise ValueError(
            f"{name}: labels must number the regions 0..n-1 with every value used ({detail}); "
            "to renumber a label map compactly, pass the array itself to make_regions"
        )


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
    if len(shape) not in (2, 3):
        raise ValueError(f"image: expected an [H, W, 3] array, got shape {shape}")
    if shape[0] < 1 or shape[1] < 1:
        raise ValueError(f"image: expected a non-empty [H, W, 3] array, got shape {shape}")
    return int(shape[0]), int(shape[1])


def _clamp(spec: str, wanted: int, most: int, hw: tuple[int, int]) -> int:
    """``wanted`` or, when the image cannot hold that many regions, ``most`` with a warning."""
    if wanted <= most:
        return wanted
    warnings.warn(
        f"regions: {spec!r} asks for {wanted} regions but a {hw[0]}x{hw[1]} image holds at most {most} "
        f"with this maker; using {most}",
        RegionCountWarning,
        stacklevel=3,
    )
    return most


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

    Warns:
        RegionCountWarning: when a superpixel count exceeds what the image can hold; the largest count
            that fits is used instead (and named in the returned spec).

    Raises:
        ValueError: for an unknown spec, a grid larger than the image, an image too small for the maker,
            or a label map / Regions that does not match the image or is not numbered ``0 .. n-1``.
        TypeError: for a spec of the wrong type or non-integer labels.
    """
    h, w = _image_hw(image)
    if isinstance(regions, Regions):
        # Re-check: the labels array may have been edited in place since the Regions was built.
        check_labels(regions.labels)
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
    if name == "frames" or (name == "grid" and "," in regions):  # spatio-temporal: needs the frames' boxes
        raise ValueError(
            f"regions: {regions!r} is a spatio-temporal spec for a clip; use xattr_lab.video.explain_frames "
            "(or xattr_lab.inputs.frames.frame_regions with the frame boxes)"
        )
    img = np.asarray(image)
    if name in ("slico", "slic"):
        from xattr_lab.inputs.superpixels import max_regions, slic_labels

        n = _clamp(regions, _parse_count(regions, name, 64), max_regions((h, w)), (h, w))
        return Regions(slic_labels(img, n, zero=name == "slico"), f"{name}:{n}")
    if name == "seeds":
        from xattr_lab.inputs.seeds import max_regions as seeds_max
        from xattr_lab.inputs.seeds import seeds_labels

        most = seeds_max((h, w))
        if most < 1:
            raise ValueError(f"regions: a {h}x{w} image is too small for SEEDS; use 'grid:R' or 'slico:N'")
        n = _clamp(regions, _parse_count(regions, name, 50), most, (h, w))
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
