"""Naive greedy search (EAGLE's and SMDL's reference): N(N+1) forwards for N regions.

At each step every remaining region ``c`` is scored as ``F(S ∪ {c})`` (insertion and deletion image) and
the best joins ``S``. With the empty and full images scored first (2 forwards) the last step is free, so the
count stays ``N(N+1)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xattr_lab.attr.search._state import SearchResult, ranked, reached, tick, validate_early_stop


def search(objective: Any, n: int, early_stop: float | None = None, progress: Any = None, **_: Any) -> SearchResult:
    """Rank ``n`` regions greedily by ``objective``.

    Args:
        objective: the set function.
        n: number of regions.
        early_stop: tolerance; stop once ``F(S)`` recovers ``1 − early_stop`` of ``F(V) − F(∅)`` and rank the
            rest by the last step's scores. None searches to the end.
        progress: a tqdm-like bar advanced once per placed region.

    Returns:
        The ranking.
    """
    tol = validate_early_stop(early_stop)
    full = (1 << n) - 1
    # The end points are needed only to judge early stop; without it the search never scores them.
    f_empty, f_full = objective([0, full]) if tol is not None else (0.0, 0.0)
    chosen: list[int] = []
    remaining = list(range(n))
    last_rank: list[int] = list(remaining)
    selected = 0
    partial = stopped = False
    try:
        while remaining:
            values = objective([selected | (1 << c) for c in remaining])
            last_rank = ranked(remaining, values)
            best = last_rank[0]
            chosen.append(best)
            selected |= 1 << best
            remaining.remove(best)
            tick(progress)
            if remaining and reached(float(np.max(values)), f_empty, f_full, tol):
                stopped = True
                break
    except KeyboardInterrupt:
        partial = True
    rest = [c for c in last_rank if c not in set(chosen)]
    return SearchResult(
        order=np.array(chosen + rest, dtype=np.int64),
        partial=partial,
        stopped_early=stopped,
        n_searched=len(chosen),
        stats={"steps": len(chosen)},
    )
