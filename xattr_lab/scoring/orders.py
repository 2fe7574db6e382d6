"""From any per-region score vector to a region order: one rule, used by every method and every metric."""

from __future__ import annotations

import numpy as np


def order_from_scores(scores: np.ndarray) -> np.ndarray:
    """Regions by descending float64 score; ties keep the lower region index first (deterministic).

    Args:
        scores: one score per region [N]; NaN ranks last.

    Returns:
        int64 [N] region indices, best first.
    """
    s = np.asarray(scores, dtype=np.float64)
    s = np.where(np.isnan(s), -np.inf, s)
    return np.argsort(-s, kind="stable").astype(np.int64)
