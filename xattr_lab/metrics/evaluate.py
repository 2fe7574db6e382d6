"""``xattr_lab.evaluate``: score any explanation's map through the same perturbation path.

Map → region order (regions by the mean of the map inside them) → insertion and deletion curves → metrics.
Methods that rank by search and methods that only return a heat map are thus measured alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from xattr_lab.models.protocol import ScoringModel
    from xattr_lab.results.explanation import Explanation


def evaluate(
    model: ScoringModel,
    explanation: Explanation,
    *,
    mask: np.ndarray | None = None,
    box: Sequence[float] | None = None,
    batch_size: int | None = None,
) -> dict[str, float]:
    """Faithfulness (and optionally localisation) of an explanation's pixel map.

    Args:
        model: the model the explanation is about.
        explanation: any Explanation (its ``pixel_map`` is what gets measured).
        mask: ground-truth mask [H, W] of the named object, for the pointing game.
        box: ground-truth box ``(x0, y0, x1, y1)``, for the pointing game.
        batch_size: most images per model call.

    Returns:
        The curve metrics (see :func:`~xattr_lab.metrics.faithfulness.curve_metrics`) plus ``n_forward``,
        and ``pointing_mask`` / ``pointing_box`` (1.0 hit, 0.0 miss) when ground truth is given.
    """
    from xattr_lab.metrics.curves import perturbation_curves
    from xattr_lab.metrics.faithfulness import curve_metrics
    from xattr_lab.metrics.localisation import pointing_game
    from xattr_lab.scoring.orders import order_from_scores
    from xattr_lab.scoring.subsets import SubsetScorer

    if not callable(getattr(model, "score", None)):
        raise TypeError("model: expected a ScoringModel with score()")
    if not hasattr(explanation, "pixel_map") or not hasattr(explanation, "regions"):
        raise TypeError(f"explanation: expected an Explanation, got {type(explanation).__name__}")
    regions = explanation.regions
    baseline: Any = explanation.info.get("baseline", "black") or "black"
    scorer = SubsetScorer(model, explanation.generation, regions, explanation.positions, baseline, batch_size)
    order = order_from_scores(regions.pool(explanation.pixel_map))
    ins, dele, area = perturbation_curves(scorer, order)
    out = curve_metrics(ins, dele, area)
    out["n_forward"] = float(scorer.n_forward)
    if mask is not None:
        out["pointing_mask"] = float(pointing_game(explanation.pixel_map, mask=mask))
    if box is not None:
        out["pointing_box"] = float(pointing_game(explanation.pixel_map, box=box))
    return out


__all__ = ["evaluate"]
