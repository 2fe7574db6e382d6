"""Spatio-temporal regions over the frames of a clip laid side by side on one canvas.

Two families, both numbered frame-major (all regions of the first frame or group, then the next):

* ``"frames:<spec>"`` (e.g. ``"frames:slico:16"``, ``"frames:grid:4"``): ``<spec>`` regions made in each
  frame (any single-image spec of :func:`xattr_lab.inputs.regions.make_regions`); a region lies in one frame.
* ``"grid:T,R,C"`` (EAGLE's video tutorial's T x R x C grid): the frames are split into ``T`` contiguous
  temporal groups (as equal as possible) and each frame into an ``R x C`` grid; region
  ``g * R * C + r * C + c`` is cell ``(r, c)`` in every frame of group ``g``, so removing it removes that
  cell over a stretch of time.

The canvas and the frame boxes come from :class:`xattr_lab.models.frames.FramesModel` (``gen.image`` and
``gen.geometry["images"]``); pixels of the canvas below a shorter frame join that frame's last row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from xattr_lab.inputs.regions import Regions, make_regions

Box = tuple[int, int, int, int]


def is_frames_spec(spec: object) -> bool:
    """True for a spatio-temporal spec (``"frames:..."`` or ``"grid:T,R,C"``)."""
    if not isinstance(spec, str):
        return False
    s = spec.strip().lower()
    return s.startswith("frames:") or (s.startswith("grid:") and "," in s)


def parse_grid3(spec: str, n_frames: int) -> tuple[int, int, int]:
    """``(T, R, C)`` of a ``"grid:T,R,C"`` spec, checked against the number of frames.

    Raises:
        ValueError: for a malformed spec, a non-positive count or more groups than frames.
    """
    _, _, arg = spec.partition(":")
    parts = arg.split(",")
    try:
        t, r, c = (int(p) for p in parts)
    except ValueError:
        raise ValueError(f"regions: {spec!r} expects 'grid:T,R,C' with three integers") from None
    if min(t, r, c) < 1:
        raise ValueError(f"regions: {spec!r} needs positive counts")
    if t > n_frames:
        raise ValueError(f"regions: {spec!r} asks for {t} temporal groups but the clip has {n_frames} frames")
    return t, r, c


def frame_groups(n_frames: int, t: int) -> list[int]:
    """The temporal group of each frame: ``t`` contiguous groups, sizes differing by at most one."""
    return [int(g) for g, part in enumerate(np.array_split(np.arange(n_frames), t)) for _ in part]


def frame_regions(spec: str, image: np.ndarray, boxes: Sequence[Box], seed: int = 0) -> Regions:
    """Spatio-temporal regions on a frames canvas (see the module docstring).

    Args:
        spec: ``"frames:<single-image spec>"`` or ``"grid:T,R,C"``.
        image: the canvas, uint8 [H, W, 3].
        boxes: each frame's ``(x0, y0, x1, y1)`` on the canvas, in time order.
        seed: seed for region makers that use randomness.

    Raises:
        ValueError: for a spec that is not spatio-temporal or does not fit the clip.
    """
    if not is_frames_spec(spec):
        raise ValueError(f"regions: {spec!r} is not a spatio-temporal spec; expected 'frames:<spec>' or 'grid:T,R,C'")
    if len(boxes) < 1:
        raise ValueError("boxes: expected one box per frame, got none")
    name, _, inner = spec.strip().partition(":")
    labels = np.zeros(np.asarray(image).shape[:2], dtype=np.int64)
    if name.lower() == "frames":
        offset = 0
        for x0, y0, x1, y1 in boxes:
            own = make_regions(inner, np.ascontiguousarray(image[y0:y1, x0:x1]), seed=seed).labels
            _paint(labels, own.astype(np.int64) + offset, (x0, y0, x1, y1))
            offset += int(own.max()) + 1
        made = f"frames:{inner}"
    else:
        t, r, c = parse_grid3(spec, len(boxes))
        groups = frame_groups(len(boxes), t)
        for i, (x0, y0, x1, y1) in enumerate(boxes):
            cells = make_regions(f"grid:{r}x{c}", np.ascontiguousarray(image[y0:y1, x0:x1])).labels
            _paint(labels, cells.astype(np.int64) + groups[i] * r * c, (x0, y0, x1, y1))
        made = f"grid:{t},{r},{c}"
    return Regions(labels.astype(np.int32), made)


def _paint(labels: np.ndarray, own: np.ndarray, box: Box) -> None:
    x0, y0, x1, y1 = box
    labels[y0:y1, x0:x1] = own
    labels[y1:, x0:x1] = own[-1]


def region_frames(regions: Regions, boxes: Sequence[Box]) -> np.ndarray:
    """Which frames each region covers, bool [N, T] (one frame for ``frames:``, a group for ``grid:T,R,C``)."""
    out = np.zeros((regions.n, len(boxes)), dtype=bool)
    for i, (x0, _, x1, _) in enumerate(boxes):
        out[np.unique(regions.labels[:, x0:x1]), i] = True
    return out


def frame_mass(pixel_map: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
    """Share of the map's positive mass on each frame, float64 [T] summing to 1 (NaN for an empty map)."""
    positive = np.clip(np.nan_to_num(np.asarray(pixel_map, dtype=np.float64)), 0.0, None)
    mass = np.array([positive[:, x0:x1].sum() for x0, _, x1, _ in boxes])
    total = mass.sum()
    return mass / total if total > 0 else np.full(len(mass), np.nan)


def peak_frame(pixel_map: np.ndarray, boxes: Sequence[Box]) -> int:
    """The frame holding the map's highest pixel (first in time on ties)."""
    m = np.nan_to_num(np.asarray(pixel_map, dtype=np.float64), nan=-np.inf)
    x = int(np.unravel_index(int(np.argmax(m)), m.shape)[1])
    return next(i for i, (x0, _, x1, _) in enumerate(boxes) if x0 <= x < x1)


__all__ = [
    "frame_groups",
    "frame_mass",
    "frame_regions",
    "is_frames_spec",
    "parse_grid3",
    "peak_frame",
    "region_frames",
]
