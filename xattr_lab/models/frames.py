"""Video as frames: ``FramesModel(load_model(...))`` gives a model a frame sequence as a multi-image prompt.

A clip ``uint8 [T, H, W, 3]`` (or a list of frames) is fed to the model as ``T`` images in one prompt
(:class:`~xattr_lab.models.multi_image.MultiImageModel`): the frames lie side by side on one canvas
(``Generation.image``), masks are cut back per frame before the processor sees them, and every black-box
method, curve and metric works on the canvas unchanged. ``Generation.geometry`` records ``"n_frames"``
and each frame's box (``"images"``), which the spatio-temporal regions (:mod:`xattr_lab.inputs.frames`)
and the temporal reliance curve read.

Coverage: every family the multi-image path covers (each frame is one image of the prompt). Native video
inputs (Qwen2-VL's ``videos=``, LLaVA-NeXT-Video) are *not* used: transformers' video processors need
torchvision to decode and resize clips, which this project does not depend on; frames as images give the
same evidence to the model without it, at the cost of no temporal patch merging.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from xattr_lab.models.multi_image import MultiImageModel
from xattr_lab.models.protocol import Generation


def as_frames(frames: Any) -> list[np.ndarray]:
    """The frames of a clip as a list of uint8 [H, W, 3] arrays.

    Raises:
        TypeError: for something that is neither a 4-D array nor a list of frames.
        ValueError: for fewer than two frames or frames of the wrong shape or dtype.
    """
    if isinstance(frames, np.ndarray):
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f"frames: expected a uint8 [T, H, W, 3] array, got shape {frames.shape}")
        items = list(frames)
    elif isinstance(frames, (list, tuple)):
        items = [np.asarray(f) for f in frames]
    else:
        raise TypeError(f"frames: expected a uint8 [T, H, W, 3] array or a list of frames, got {type(frames).__name__}")
    if len(items) < 2:
        raise ValueError(f"frames: expected at least two frames, got {len(items)} (explain one image with explain)")
    for i, f in enumerate(items):
        if f.ndim != 3 or f.shape[-1] != 3 or f.dtype != np.uint8:
            raise ValueError(f"frames[{i}]: expected uint8 [H, W, 3], got {f.dtype} {f.shape}")
    return items


def frame_boxes(gen: Generation) -> list[tuple[int, int, int, int]]:
    """Each frame's box ``(x0, y0, x1, y1)`` on the canvas (ValueError for a non-frames generation)."""
    geometry = gen.geometry if isinstance(gen.geometry, dict) else {}
    if not geometry.get("n_frames") or not geometry.get("images"):
        raise ValueError("gen: not a frames generation (no 'n_frames' in its geometry); use FramesModel.generate")
    return [tuple(int(v) for v in b) for b in geometry["images"]]  # type: ignore[misc]


class FramesModel(MultiImageModel):
    """A transformers adapter given a clip as its frames (see the module docstring).

    Args:
        base: the single-image adapter (``xattr_lab.load_model(...)``).
    """

    def __init__(self, base: Any) -> None:
        super().__init__(base)
        self.name = f"{base.name} (frames)"

    def generate(self, frames: Any, prompt: str, max_new_tokens: int = 16) -> Generation:  # type: ignore[override]
        """Generate greedily from a clip (uint8 [T, H, W, 3] or a list of frames) and a prompt."""
        items = as_frames(frames)
        gen = super().generate(items, prompt, max_new_tokens)  # model_id is already this model's name
        return dataclasses.replace(gen, geometry=dict(gen.geometry, n_frames=len(items)))


def frames_of(gen: Generation) -> np.ndarray:
    """The frames of a frames generation, uint8 [T, H, W, 3] (cut from the canvas)."""
    boxes = frame_boxes(gen)
    return np.stack([gen.image[y0:y1, x0:x1] for x0, y0, x1, y1 in boxes])


__all__ = ["FramesModel", "as_frames", "frame_boxes", "frames_of"]
