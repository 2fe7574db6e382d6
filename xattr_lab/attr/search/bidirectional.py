"""LiMA's bidirectional greedy search (EfficientV2): grow an important set and a negligible set at once.

Each iteration scores every open candidate forwards (``F(S⁺ ∪ c)``, 2|C| forwards) and adds the best to
``S⁺``; while more than ``pending`` candidates are open, it also shortlists the ``pending`` candidates the
forward scores rank lowest (a free proxy, with the forward-free term recomputed on ``S⁻ ∪ c``), scores
``F(S⁻ ∪ c)`` exactly (2·pending forwards) and adds the lowest to ``S⁻``. The ranking is ``S⁺`` followed by
``S⁻`` reversed. For N = 64, pending = 8 this costs about 2,590 forwards instead of 4,160.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xattr_lab.attr.search._state import SearchResult, ranked, reached, tick, validate_early_stop


def search(
    objective: Any,
    n: int,
    pending: int = 8,
    early_stop: float | None = None,
    progress: Any = None,
    **_: Any,
) -> SearchResult:
    """Rank ``n`` regions with bidirectional greedy search.

    Args:
        objective: the set function.
        n: number of regions.
        pending: shortlist size of the backward step (LiMA: 8).
        early_stop: tolerance on ``F(S⁺)`` (see :func:`~xattr_lab.attr.search._state.reached`).
        progress: a tqdm-like bar advanced once per placed region.

    Returns:
        The ranking.
    """
    if not isinstance(pending, int) or pending < 1:
        raise ValueError(f"pending: expected a positive int, got {pending!r}")
    tol = validate_early_stop(early_stop)
    full = (1 << n) - 1
    # The end points are needed only to judge early stop; without it the search never scores them.
    f_empty, f_full = objective([0, full]) if tol is not None else (0.0, 0.0)
    pos: list[int] = []
    neg: list[int] = []
    s_pos = s_neg = 0
    open_ = list(range(n))
    last_rank = list(open_)
    loops = (n - pending) // 2 + pending if n > pending else n
    partial = stopped = False
    try:
        for _ in range(loops):
            if not open_:
                break
            forward_sets = [s_pos | (1 << c) for c in open_]
            values = objective(forward_sets)
            last_rank = ranked(open_, values)
            best = last_rank[0]
            if len(open_) > pending:
                # Proxy for the decreasing set: forward scores, the forward-free term moved to S⁻ ∪ c.
                proxy = (
                    values
                    - objective.structural(forward_sets)
                    + objective.structural([s_neg | (1 << c) for c in open_])
                )
                order = [open_[i] for i in np.argsort(proxy, kind="stable") if open_[i] != best][:pending]
                worst = order[int(np.argmin(objective([s_neg | (1 << c) for c in order])))]
                neg.append(worst)
                s_neg |= 1 << worst
                open_.remove(worst)
                tick(progress)
            pos.append(best)
            s_pos |= 1 << best
            open_.remove(best)
            tick(progress)
            if open_ and reached(float(np.max(values)), f_empty, f_full, tol):
                stopped = True
                break
    except KeyboardInterrupt:
        partial = True
    placed = set(pos) | set(neg)
    rest = [c for c in last_rank if c not in placed]
    return SearchResult(
        order=np.array(pos + rest + neg[::-1], dtype=np.int64),
        partial=partial,
        stopped_early=stopped,
        n_searched=len(pos) + len(neg),
        stats={"positive": len(pos), "negative": len(neg)},
    )
