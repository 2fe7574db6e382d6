"""Search engines shared by EAGLE and LiMA: naive greedy, LiMA's bidirectional, EAGLE's efficient variant.

Each engine takes an objective over region bitmasks and returns a full ranking of the regions. Every
candidate of a step is scored in one objective call (hence in as few model calls as the batch size allows),
and the scorer memoises subsets, so the curves of the ranking come out of the search's cache.
"""

from __future__ import annotations

from typing import Any

from xattr_lab.attr.search._state import SearchResult

SEARCHES: dict[str, str] = {
    "greedy": "xattr_lab.attr.search.greedy",
    "bidirectional": "xattr_lab.attr.search.bidirectional",
    "efficient": "xattr_lab.attr.search.efficient",
}


def run_search(name: str, objective: Any, n: int, **params: Any) -> SearchResult:
    """Run the search called ``name`` (see ``SEARCHES``) over ``n`` regions.

    Args:
        name: ``"greedy"``, ``"bidirectional"`` or ``"efficient"``.
        objective: the set function to maximise.
        n: number of regions.
        **params: engine parameters (``early_stop``, ``progress``, and per engine ``pending``,
            ``search_scope``, ``update_step``).

    Returns:
        The search result.

    Raises:
        ValueError: for an unknown search.
    """
    import importlib

    if name not in SEARCHES:
        raise ValueError(f"search: unknown search {name!r}; expected one of {sorted(SEARCHES)}")
    return importlib.import_module(SEARCHES[name]).search(objective, n, **params)


__all__ = ["SEARCHES", "SearchResult", "run_search"]
