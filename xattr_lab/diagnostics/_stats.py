"""Small shared statistics: Gini coefficient, entropy-based effective numbers."""

from __future__ import annotations

import numpy as np


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = all equal, → 1 = one value holds everything).

    Args:
        x: non-negative values (negative entries are clipped to 0).

    Returns:
        The Gini coefficient, or 0.0 when all values are zero.
    """
    v = np.sort(np.clip(np.asarray(x, dtype=np.float64).ravel(), 0.0, None))
    n, total = v.size, v.sum()
    if n == 0 or total <= 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float((2.0 * np.sum(ranks * v) / (n * total)) - (n + 1.0) / n)


def effective_number(weights: np.ndarray) -> float:
    """``exp(H(p))`` of the normalised non-negative weights: 1 for one winner, n for n equal ones."""
    w = np.clip(np.asarray(weights, dtype=np.float64).ravel(), 0.0, None)
    total = w.sum()
    if total <= 0:
        return 0.0
    p = w[w > 0] / total
    return float(np.exp(-np.sum(p * np.log(p))))
