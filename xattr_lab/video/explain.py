"""``explain_frames``: one call from a model, a clip and a prompt to an Explanation over space and time.

``xattr_lab.explain`` keeps its one-image contract; a clip goes through this function, which wraps the
model in :class:`~xattr_lab.models.frames.FramesModel`, draws spatio-temporal regions on the frames canvas,
runs ``explain`` unchanged and adds the temporal reliance curve. The frame geometry and the curve are kept
in ``Explanation.info["frames"]`` (plain JSON), so the result saves, loads and renders like any other.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from xattr_lab.inputs.regions import Regions
    from xattr_lab.results.explanation import Explanation


def as_frames_model(model: Any) -> Any:
    """``model`` if it is a FramesModel, else a FramesModel around a transformers adapter."""
    from xattr_lab.models.frames import FramesModel

    if isinstance(model, FramesModel):
        return model
    return FramesModel(model)  # raises TypeError naming what is missing for anything else


def explain_frames(
    model: Any,
    frames: Any,
    prompt: str,
    method: str = "eagle",
    tokens: str | Sequence[int] = "all",
    regions: str | np.ndarray | Regions = "frames:slico:16",
    *,
    generation: Any = None,
    temporal: bool = True,
    max_new_tokens: int = 16,
    baseline: str | float = "black",
    seed: int = 0,
    **kwargs: Any,
) -> Explanation:
    """Explain a model's answer about a clip by spatio-temporal regions.

    Args:
        model: a transformers adapter (``xattr_lab.load_model(...)``) or a ``FramesModel`` around one.
        frames: uint8 [T, H, W, 3] or a list of T uint8 [H, W, 3] frames (T >= 2); ignored when
            ``generation`` is given.
        prompt: the question.
        method: any black-box method (``"eagle"``, ``"lima"``, ``"feature_ablation"``, ``"random"``, ...).
        tokens: as in ``explain``.
        regions: ``"frames:<spec>"`` (``<spec>`` regions per frame, frame-major), ``"grid:T,R,C"`` (T
            temporal groups x R x C cells), a label map over the canvas or a Regions.
        generation: a generation from ``FramesModel.generate`` to reuse.
        temporal: add the temporal reliance curve (T + 1 forwards).
        max_new_tokens: generation length.
        baseline: what removed pixels become.
        seed: seed for region makers and random methods.
        **kwargs: passed to ``explain`` (``search``, ``target``, ``contrast``, method parameters, ...).

    Returns:
        An Explanation over the frames canvas with ``info["frames"]``: ``n_frames``, ``boxes`` and, with
        ``temporal``, the curve (:func:`xattr_lab.video.temporal.temporal_curve`).

    Raises:
        ValueError: for bad frames, a single-image regions spec (which would cross frame borders), or
            what ``explain`` refuses.
        TypeError: for a model that is not a transformers adapter.
    """
    from xattr_lab.attr.explain import check_arguments, explain
    from xattr_lab.inputs.frames import frame_regions, is_frames_spec
    from xattr_lab.models.frames import frame_boxes

    fm = as_frames_model(model)
    if isinstance(regions, str) and not is_frames_spec(regions):
        raise ValueError(
            f"regions: {regions!r} is a single-image spec and would cross frame borders; use "
            f"'frames:{regions}' (per frame) or 'grid:T,R,C'"
        )
    if generation is None and frames is None:
        raise ValueError("frames: expected a clip (uint8 [T, H, W, 3] or a list of frames)")
    # explain's own checks, before the clip's generation rather than after it
    check_arguments(
        fm, prompt, method, seed, kwargs.get("target"), kwargs.get("contrast"), kwargs.get("contrast_prefix", "target"),
        generation, kwargs,
    )  # fmt: skip
    start = time.perf_counter()
    gen = generation if generation is not None else fm.generate(frames, prompt, max_new_tokens=max_new_tokens)
    boxes = frame_boxes(gen)
    regs = frame_regions(regions, gen.image, boxes, seed=seed) if isinstance(regions, str) else regions
    e = explain(fm, None, prompt, method, tokens, regs, generation=gen, baseline=baseline, seed=seed, **kwargs)
    info: dict[str, Any] = {"n_frames": len(boxes), "boxes": [list(b) for b in boxes]}
    if temporal:
        from xattr_lab.video.temporal import temporal_curve

        c = e.contrast
        info.update(
            temporal_curve(
                fm, e.generation, e.pixel_map, e.positions, baseline,
                contrast=None if c is None else list(c.ids),
                contrast_prefix="target" if c is None else c.prefix,
            )
        )  # fmt: skip
    cost = dict(e.cost, seconds_with_temporal=time.perf_counter() - start)
    if temporal:
        cost["n_forward_temporal"] = info["n_forward"]
    return dataclasses.replace(e, info={**e.info, "frames": info}, cost=cost)


__all__ = ["as_frames_model", "explain_frames"]
