"""EAGLE's efficient search (``EfficientMLLMSubModularExplanationVision``): scoped positives, tail negatives.

Positive step: on the first step and every ``update_step`` steps, score all open regions and re-sort them;
otherwise score only the first ``search_scope`` of that order and take the best. Negative step: the first
negative is the last of the sorted order (free); later, while more than ``pending`` regions are open, score
removing each of the last ``pending`` from the image (with the negatives already removed) and drop the one
whose removal keeps ``F`` highest. The ranking is positives, the open rest, then negatives reversed.
Defaults follow EAGLE (10 / 8 / 5); its notebooks use 8 / 4 / 10.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xattr_lab.attr.search._state import SearchResult, ranked, reached, tick, validate_early_stop


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}: expected a positive int, got {value!r}")
    return value


def search(
    objective: Any,
    n: int,
    search_scope: int = 10,
    pending: int = 8,
    update_step: int = 5,
    early_stop: float | None = None,
    progress: Any = None,
    **_: Any,
) -> SearchResult:
    """Rank ``n`` regions with EAGLE's efficient search.

    Args:
        objective: the set function.
        n: number of regions.
        search_scope: how many of the sorted open regions a positive step scores between re-sorts.
        pending: how many tail regions a negative step scores.
        update_step: re-sort all open regions every this many steps.
        early_stop: tolerance on ``F(S)`` (see :func:`~xattr_lab.attr.search._state.reached`).
        progress: a tqdm-like bar advanced once per placed region.

    Returns:
        The ranking.
    """
    scope = _positive_int("search_scope", search_scope)
    pending = _positive_int("pending", pending)
    update = _positive_int("update_step", update_step)
    tol = validate_early_stop(early_stop)
    full = (1 << n) - 1
    f_empty, f_full = objective([0, full])
    open_ = list(range(n))  # kept in the order of the last full scoring
    pos: list[int] = []
    neg: list[int] = []
    s_pos = s_neg = 0
    partial = stopped = False
    step = 0
    try:
        while open_:
            if len(open_) == 1:
                pos.append(open_.pop())
                tick(progress)
                break
            if step % update == 0:
                values = objective([s_pos | (1 << c) for c in open_])
                open_ = ranked(open_, values)
                best = open_.pop(0)
            else:
                values = objective([s_pos | (1 << c) for c in open_[:scope]])
                best = open_.pop(int(np.argmax(values)))
            pos.append(best)
            s_pos |= 1 << best
            tick(progress)
            if not neg and open_:
                worst = open_.pop()
                neg.append(worst)
                s_neg |= 1 << worst
                tick(progress)
            elif len(open_) > pending:
                tail = open_[-pending:]
                kept = objective([full & ~(s_neg | (1 << c)) for c in tail])
                worst = tail[int(np.argmax(kept))]
                open_.remove(worst)
                neg.append(worst)
                s_neg |= 1 << worst
                tick(progress)
            step += 1
            if open_ and reached(float(np.max(values)), f_empty, f_full, tol):
                stopped = True
                break
    except KeyboardInterrupt:
        partial = True
    return SearchResult(
        order=np.array(pos + open_ + neg[::-1], dtype=np.int64),
        partial=partial,
        stopped_early=stopped,
        n_searched=len(pos) + len(neg),
        stats={"positive": len(pos), "negative": len(neg), "steps": step},
    )
