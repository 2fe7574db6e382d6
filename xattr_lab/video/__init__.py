"""Video as frames: explain a clip's answer by spatio-temporal regions, and see which frames it rests on.

``explain_frames(model, frames, prompt, ...)`` feeds the frames as one multi-image prompt
(:class:`xattr_lab.models.frames.FramesModel`), attributes to spatio-temporal regions
(:mod:`xattr_lab.inputs.frames`: ``"frames:slico:16"`` or EAGLE's ``"grid:T,R,C"``) and adds the temporal
reliance curve (:func:`temporal_curve`). The result is an ordinary
:class:`~xattr_lab.results.explanation.Explanation` whose ``info["frames"]`` holds the frame geometry and
the curve; :func:`xattr_lab.viz.frames_view.frames_view` shows it with a frame scrubber. Names resolve
lazily (no torch at import).
"""

from __future__ import annotations

from xattr_lab._lazy import lazy_facade

_EXPORTS = {
    "explain_frames": "xattr_lab.video.explain",
    "temporal_curve": "xattr_lab.video.temporal",
    "FramesModel": "xattr_lab.models.frames",
    "frame_regions": "xattr_lab.inputs.frames",
}

__all__ = list(_EXPORTS)

__getattr__, __dir__ = lazy_facade(__name__, _EXPORTS, ())
