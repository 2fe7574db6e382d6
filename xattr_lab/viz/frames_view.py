"""The frames view: a clip's explanation with a frame scrubber, the temporal reliance curve and the strip.

Built from an Explanation made by :func:`xattr_lab.video.explain_frames` (its ``info["frames"]`` holds
the frame boxes on the canvas and the temporal curve). The payload is the ``explanation`` view's (token
strip, curves, metrics) plus one crop per frame (image, region labels with their global ids, and the pixel
map when it is not constant per region) and the curve: ``mass`` (the map's share per frame) and ``effect``
(the drop of the explained value when the frame alone is removed). The JS view (``js/views/frames.ts``)
shows one frame at a time with its map; a slider, buttons and the curve's bars pick the frame.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from xattr_lab.viz.explanation_view import explanation_payload, map_arrays
from xattr_lab.viz.payload import encode_array, make_payload


def _frames_info(result: Any) -> Mapping[str, Any]:
    info = getattr(result, "info", None)
    frames = info.get("frames") if isinstance(info, Mapping) else None
    if not isinstance(frames, Mapping) or not frames.get("boxes"):
        raise ValueError(
            "result: not an explanation of frames (no info['frames'] with boxes); make it with "
            "xattr_lab.video.explain_frames"
        )
    return frames


def frames_payload(result: Any, title: str | None = None, decisive: int | None = None) -> dict[str, Any]:
    """The ``frames`` view payload of a frames Explanation.

    Args:
        result: an Explanation from :func:`xattr_lab.video.explain_frames` (or a saved and loaded one).
        title: title line; default names the method and the frame count.
        decisive: a known decisive frame to mark (ground truth of a test bed), or None.

    Raises:
        ValueError: for a result without frame geometry, or ``decisive`` outside the clip.
    """
    info = _frames_info(result)
    boxes = [tuple(int(v) for v in b) for b in info["boxes"]]
    if decisive is not None and not (isinstance(decisive, int) and 0 <= decisive < len(boxes)):
        raise ValueError(f"decisive: expected a frame index in 0..{len(boxes) - 1} or None, got {decisive!r}")
    data = dict(result.to_view_data())
    data.setdefault("cost", getattr(result, "cost", None))
    base = explanation_payload(data)
    out = dict(base["data"])  # keeps n_regions, counted over the whole canvas
    for key in ("image", "labels", "pixel_map"):  # the canvas is replaced by one crop per frame
        out.pop(key, None)
    image, labels, pixel_map = (np.asarray(data[k]) for k in ("image", "labels", "pixel_map"))
    frames = []
    for x0, y0, x1, y1 in boxes:  # only the crop's arrays, encoded as the explanation view encodes them
        crop = {
            "image": image[y0:y1, x0:x1],
            "labels": labels[y0:y1, x0:x1],
            "pixel_map": pixel_map[y0:y1, x0:x1],
            "region_scores": data["region_scores"],  # decides whether the crop's pixel map is redundant
        }
        enc = map_arrays(crop)
        frames.append({k: enc[k] for k in ("image", "labels", "pixel_map") if k in enc})
    out["frames"] = frames
    out["n_frames"] = len(boxes)
    temporal: dict[str, Any] = {}
    for key in ("mass", "effect"):
        if info.get(key) is not None:
            temporal[key] = encode_array(np.asarray(info[key], dtype=np.float64), "float32")
    if temporal:
        temporal["value"] = str(info.get("value", "probability"))
        if info.get("value_full") is not None:
            temporal["value_full"] = float(info["value_full"])
        out["temporal"] = temporal
    if decisive is not None:
        out["decisive"] = int(decisive)
    if title is None:
        k = len(result.positions)
        title = f"{result.method}: {len(boxes)} frames, {k} explained token{'s' if k != 1 else ''}"
    return make_payload("frames", out, title)


def frames_view(result: Any, title: str | None = None, decisive: int | None = None) -> Any:
    """A displayable :class:`~xattr_lab.viz.view.View` of a frames Explanation (also ``.export_html(path)``)."""
    from xattr_lab.viz.view import View

    payload = frames_payload(result, title, decisive)
    n = payload["data"]["n_frames"]
    return View(payload, f"frames view: {result.method}, {n} frames")


__all__ = ["frames_payload", "frames_view"]
