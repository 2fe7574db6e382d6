"""Search engines shared by EAGLE and LiMA: naive greedy, LiMA's bidirectional, EAGLE's efficient variant.

Each engine takes an objective over region bitmasks and returns a full ranking of the regions. Every
candidate of a step is scored in one objective call (hence in as few model calls as the batch size allows),
and the scorer memoises subsets, so the curves of the ranking come out of the search's cache.
"""

from __future__ import annotations

from typing import Any

from xattr_lab.attr.search._state import SearchResult
from xattr_lab.attr.search.budget import (
    MAX_FORWARDS,
    WARN_FORWARDS,
    BudgetExceededError,
    BudgetWarning,
    SearchBudget,
    estimate,
    guard_budget,
    show_budget,
)

SEARCHES: dict[str, str] = {
    "greedy": "xattr_lab.attr.search.greedy",
    "bidirectional": "xattr_lab.attr.search.bidirectional",
    "efficient": "xattr_lab.attr.search.efficient",
}


def run_search(name: str, objective: Any, n: int, max_forwards: int | None = None, **params: Any) -> SearchResult:
    """Run the search called ``name`` (see ``SEARCHES``) over ``n`` regions, within a forward budget.

    Before it starts, the search's cost is estimated (:func:`~xattr_lab.attr.search.budget.estimate`: an
    upper bound on objective evaluations and model forwards) and shown on the progress bar. Above
    ``WARN_FORWARDS`` (100,000) it warns (``BudgetWarning``); above ``MAX_FORWARDS`` (1,000,000) it refuses
    (``BudgetExceededError``) unless ``max_forwards`` allows it.

    Args:
        name: ``"greedy"``, ``"bidirectional"`` or ``"efficient"``.
        objective: the set function to maximise.
        n: number of regions.
        max_forwards: the most model forwards the search may be estimated to need; None applies the
            default limit and warning, an int replaces both (the user's consent to that many).
        **params: engine parameters (``early_stop``, ``progress``, and per engine ``pending``,
            ``search_scope``, ``update_step``).

    Returns:
        The search result; ``stats["estimated_forwards"]`` holds the estimate.

    Raises:
        ValueError: for an unknown search or a bad ``max_forwards``.
        BudgetExceededError: (a ValueError) when the estimate exceeds the limit; nothing is scored.
    """
    import dataclasses
    import importlib

    if name not in SEARCHES:
        raise ValueError(f"search: unknown search {name!r}; expected one of {sorted(SEARCHES)}")
    budget = estimate(name, objective, n, **params)
    guard_budget(budget, max_forwards)
    show_budget(params.get("progress"), budget)
    result = importlib.import_module(SEARCHES[name]).search(objective, n, **params)
    stats = {**result.stats, "estimated_forwards": budget.forwards, "estimated_evaluations": budget.evaluations}
    return dataclasses.replace(result, stats=stats)


__all__ = [
    "MAX_FORWARDS",
    "SEARCHES",
    "WARN_FORWARDS",
    "BudgetExceededError",
    "BudgetWarning",
    "SearchBudget",
    "SearchResult",
    "estimate",
    "run_search",
]
