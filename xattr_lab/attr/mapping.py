"""From search gains to an attribution map, and from any map back to a region order.

EAGLE's map (``add_value``): with ``g_k = F(S_k) − F(S_{k−1})`` along the ranking, the region at rank ``k``
gets ``−Σ_{j≤k} |g_j|``, min-max normalised. Earlier ranks score higher and the spacing follows the gains.
"""

from __future__ import annotations

import numpy as np

from xattr_lab.scoring.orders import order_from_scores

__all__ = ["order_from_scores", "scores_from_gains", "scores_from_rank"]


def scores_from_gains(order: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Region scores in [0, 1] from the objective along the ranking.

    Args:
        order: the ranking [N].
        values: ``F`` of each prefix [N + 1] (``values[0] = F(∅)``); NaN gaps count as zero gain.

    Returns:
        float64 [N] scores indexed by region.
    """
    gains = np.nan_to_num(np.diff(np.asarray(values, dtype=np.float64)), nan=0.0)
    ranked_value = -np.cumsum(np.abs(gains))
    span = np.ptp(ranked_value)
    if span < 1e-12:
        # Flat objective: fall back to rank so the map still shows the order.
        ranked_value = -np.arange(len(order), dtype=np.float64)
        span = max(len(order) - 1, 1)
    normalised = (ranked_value - ranked_value.min()) / span
    out = np.zeros(len(order))
    out[np.asarray(order)] = normalised
    return out


def scores_from_rank(order: np.ndarray) -> np.ndarray:
    """Region scores 1 .. 0 linearly by rank (for rankings with no gains)."""
    n = len(order)
    out = np.zeros(n)
    out[np.asarray(order)] = 1.0 - np.arange(n) / max(n - 1, 1)
    return out
