"""``xattr_lab.evaluate``: score any explanation's map through the same perturbation path.

Map → region order → insertion and deletion curves → metrics. Methods that rank by search and methods that
only return a heat map are thus measured alike.

One order, one precision: the order comes from the explanation's float64 ``region_scores`` (the numbers
``explain`` ranked by), not from the float32 pixel map pooled again, whose rounding turns near-ties into
ties (on a FeatureAblation map 13 of 63 positions used to differ). Regions are ranked by descending score
(NaN last); equal scores keep the explanation's own order, which for a map method is
:func:`~xattr_lab.scoring.orders.order_from_scores` (lower region index first) and for a search method its
search order. So ``evaluate`` ranks exactly as ``explain`` did. Only an explanation without usable region
scores falls back to pooling its pixel map.
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
        explanation: any Explanation (its ``region_scores`` give the order, see :func:`evaluation_order`;
            its ``pixel_map`` plays the pointing game).
        mask: ground-truth mask [H, W] of the named object, for the pointing game.
        box: ground-truth box ``(x0, y0, x1, y1)``, for the pointing game.
        batch_size: most images per model call.

    Returns:
        The curve metrics (see :func:`~xattr_lab.metrics.faithfulness.curve_metrics`; of the margin
        ``log p(target) − log p(contrast)`` in float64 for a contrastive explanation) plus ``n_forward``,
        and ``pointing_mask`` / ``pointing_box`` (1.0 hit, 0.0 miss) when ground truth is given.
    """
    from xattr_lab.metrics.curves import perturbation_curves
    from xattr_lab.metrics.faithfulness import curve_metrics
    from xattr_lab.metrics.localisation import pointing_game
    from xattr_lab.scoring.subsets import SubsetScorer

    if not callable(getattr(model, "score", None)):
        raise TypeError("model: expected a ScoringModel with score()")
    if not hasattr(explanation, "pixel_map") or not hasattr(explanation, "regions"):
        raise TypeError(f"explanation: expected an Explanation, got {type(explanation).__name__}")
    regions = explanation.regions
    baseline: Any = explanation.info.get("baseline", "black") or "black"
    # a contrastive explanation is measured on its margin, log p(target) − log p(contrast), read as explain read it
    contrast = getattr(explanation, "contrast", None)
    scorer = SubsetScorer(
        model, explanation.generation, regions, explanation.positions, baseline, batch_size,
        contrast=None if contrast is None else contrast.ids,
        contrast_prefix="target" if contrast is None else contrast.prefix,
    )  # fmt: skip
    order = evaluation_order(explanation)
    ins, dele, area = perturbation_curves(scorer, order)
    out = curve_metrics(ins, dele, area)
    out["n_forward"] = float(scorer.n_forward)
    if mask is not None:
        out["pointing_mask"] = float(pointing_game(explanation.pixel_map, mask=mask))
    if box is not None:
        out["pointing_box"] = float(pointing_game(explanation.pixel_map, box=box))
    return out


def evaluation_order(explanation: Explanation) -> np.ndarray:
    """The region order ``evaluate`` measures: by region score, ties in the explanation's own order.

    Args:
        explanation: an Explanation (``region_scores`` [N] and ``order`` [N]; else its ``pixel_map``).

    Returns:
        int64 [N] region indices, best first.
    """
    from xattr_lab.scoring.orders import order_from_scores

    n = explanation.regions.n
    scores = np.asarray(getattr(explanation, "region_scores", None), dtype=np.float64)
    if scores.shape != (n,):
        # No region scores to rank by: the map, pooled per region (float32 precision).
        return order_from_scores(explanation.regions.pool(explanation.pixel_map))
    given = np.asarray(getattr(explanation, "order", ()))
    if given.shape != (n,) or sorted(given.tolist()) != list(range(n)):
        return order_from_scores(scores)
    given = given.astype(np.int64)
    # The one ordering rule applied to the explanation's order: ties keep that order.
    return given[order_from_scores(scores[given])]


__all__ = ["evaluate", "evaluation_order"]
