"""The shared perturbation path: region order → insertion and deletion curves.

Every method's answer is scored through here, search-based or map-based, so their numbers compare. The
subsets along an order are exactly those a greedy search scores, so for search methods the curves come out
of the scorer's cache without new forwards.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from xattr_lab.metrics.faithfulness import cumulative_area
from xattr_lab.scoring.subsets import SubsetScorer


def prefix_sets(order: Sequence[int]) -> list[int]:
    """Bitmasks of the prefixes of ``order``: ``[∅, {o0}, {o0, o1}, ..., V]`` (N + 1 entries)."""
    sets, s = [0], 0
    for r in order:
        s |= 1 << int(r)
        sets.append(s)
    return sets


def perturbation_curves(
    scorer: SubsetScorer, order: Sequence[int], cached_only: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Insertion and deletion curves of a ranking.

    Args:
        scorer: the subset scorer of the explained tokens.
        order: the region ranking, most important first (a permutation of all regions).
        cached_only: use only scores already computed (NaN elsewhere); for interrupted searches.

    Returns:
        ``(insertion [T, N+1], deletion [T, N+1], area [N+1])``.
    """
    order = [int(r) for r in order]
    if sorted(order) != list(range(scorer.n)):
        raise ValueError(f"order: expected a permutation of the {scorer.n} regions")
    sets = prefix_sets(order)
    probs = scorer.values(sets + [scorer.full ^ s for s in sets], cached_only=cached_only)
    ins, dele = probs[: len(sets)].T, probs[len(sets) :].T
    return ins, dele, cumulative_area(order, scorer.regions.area)
