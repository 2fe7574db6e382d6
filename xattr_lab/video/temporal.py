"""The temporal reliance curve: which frames an answer rests on.

Two readings per frame, both over the explained tokens:

* ``mass[t]``: the share of the attribution map's positive mass lying in frame ``t`` (what the
  explanation says);
* ``effect[t]``: how much the explained value drops when frame ``t`` alone is removed (filled with the
  baseline), ``value(all frames) - value(without t)``, averaged over the explained tokens (what the model
  does). The value is the target's probability, or for a contrastive explanation the margin
  ``log p(target) - log p(contrast)``, exactly what the curves plot.

The removals go through the same :class:`~xattr_lab.scoring.subsets.SubsetScorer` as every method (one
region per frame), so they cost ``T + 1`` forwards, counted in ``n_forward``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from xattr_lab.inputs.frames import frame_mass


def frame_labels(shape: tuple[int, int], boxes: Sequence[tuple[int, int, int, int]]) -> np.ndarray:
    """int32 [H, W]: the frame each canvas column belongs to (one region per frame)."""
    labels = np.zeros(shape, dtype=np.int32)
    for i, (x0, _, x1, _) in enumerate(boxes):
        labels[:, x0:x1] = i
    return labels


def temporal_curve(
    model: Any,
    gen: Any,
    pixel_map: np.ndarray,
    positions: Sequence[int],
    baseline: str | float = "black",
    contrast: Sequence[int] | None = None,
    contrast_prefix: str = "target",
) -> dict[str, Any]:
    """Per-frame map mass and removal effect (see the module docstring).

    Returns:
        A JSON-able dict: ``mass`` [T], ``effect`` [T], ``value_full`` (the value with every frame),
        ``value_removed`` [T], ``value`` (``"probability"`` or ``"margin"``) and ``n_forward``.
    """
    from xattr_lab.inputs.regions import Regions
    from xattr_lab.models.frames import frame_boxes
    from xattr_lab.scoring.subsets import SubsetScorer

    boxes = frame_boxes(gen)
    t = len(boxes)
    regions = Regions(frame_labels(gen.image.shape[:2], boxes), f"frames:{t}")
    scorer = SubsetScorer(
        model, gen, regions, list(positions), baseline=baseline, contrast=contrast, contrast_prefix=contrast_prefix
    )
    full = scorer.full
    sets = [full] + [full & ~(1 << i) for i in range(t)]
    values = scorer.values(sets).mean(axis=1)
    return {
        "mass": [float(v) for v in frame_mass(pixel_map, boxes)],
        "effect": [float(values[0] - v) for v in values[1:]],
        "value_full": float(values[0]),
        "value_removed": [float(v) for v in values[1:]],
        "value": "margin" if contrast is not None else "probability",
        "n_forward": int(scorer.n_forward),
    }


__all__ = ["frame_labels", "temporal_curve"]
