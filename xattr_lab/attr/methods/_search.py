"""Running a search engine for a search method: progress bar and parameters recorded."""

from __future__ import annotations

from typing import Any

from xattr_lab.attr.context import MethodContext, MethodOutput
from xattr_lab.attr.search import SEARCHES, run_search

# parameters each engine accepts, and their defaults (recorded in the Explanation)
# (``max_forwards`` is the budget guard's limit, taken by every engine: see xattr_lab.attr.search.budget)
ENGINE_PARAMS: dict[str, dict[str, Any]] = {
    "greedy": {"early_stop": None, "max_forwards": None},
    "bidirectional": {"pending": 8, "early_stop": None, "max_forwards": None},
    "efficient": {"search_scope": 10, "pending": 8, "update_step": 5, "early_stop": None, "max_forwards": None},
}


def split_engine_params(search: str, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate the engine's parameters (with defaults filled) from the method's."""
    if search not in SEARCHES:
        raise ValueError(f"search: unknown search {search!r}; expected one of {sorted(SEARCHES)}")
    engine = dict(ENGINE_PARAMS[search])
    rest = {}
    known = {k for p in ENGINE_PARAMS.values() for k in p}
    for key, value in params.items():
        if key in engine:
            engine[key] = value
        elif key in known:
            raise ValueError(f"{key}: not a parameter of the {search!r} search (it takes {sorted(engine)})")
        else:
            rest[key] = value
    return engine, rest


def search_output(ctx: MethodContext, objective: Any, engine: dict[str, Any], params: dict[str, Any]) -> MethodOutput:
    """Run ``ctx.search`` on ``objective`` and package the ranking."""
    result = run_search(ctx.search, objective, ctx.regions.n, progress=ctx.progress, **engine)
    return MethodOutput(
        order=result.order,
        objective=objective,
        partial=result.partial,
        params={"search": ctx.search, **engine, **params},
        stats={"stopped_early": result.stopped_early, "n_searched": result.n_searched, **result.stats},
    )
