"""EAGLE (Chen et al., CVPR 2026): insight + necessity, maximised by greedy subset search.

``F(S) = mean_i [λ1·p_i(x_S) + λ2·(1 − p_i(x_{V∖S}))]`` over the target tokens; the ranking comes from
the chosen engine (``search="greedy"`` as in the paper's tables, ``"efficient"`` for EAGLE's scoped
variant, ``"bidirectional"`` for LiMA's) and the map from the objective's gains along it (``map_style``:
each region's own gain by default, ``"reference"`` for the paper's ``add_value`` map).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xattr_lab.attr.context import MethodContext, MethodOutput
from xattr_lab.attr.mapping import DEFAULT_MAP_STYLE, check_map_style
from xattr_lab.attr.methods._search import search_output, split_engine_params
from xattr_lab.attr.objectives import EagleObjective


def eagle(
    ctx: MethodContext, lambdas: Sequence[float] = (1.0, 1.0), map_style: str = DEFAULT_MAP_STYLE, **params: Any
) -> MethodOutput:
    """EAGLE: insight + necessity subset search over image regions.

    Args:
        ctx: the method context.
        lambdas: ``(λ1, λ2)`` weights of insight and necessity (paper: 1, 1).
        map_style: ``"contribution"`` (each region's own gain, default) or ``"reference"`` (the paper's
            ``add_value`` map); see :mod:`xattr_lab.attr.mapping`.
        **params: search-engine parameters (``early_stop``, ``pending``, ``search_scope``, ``update_step``).

    Returns:
        The ranking and objective.
    """
    engine, rest = split_engine_params(ctx.search, params)
    if rest:
        raise ValueError(f"{sorted(rest)[0]}: not a parameter of method 'eagle'")
    map_style = check_map_style(map_style)
    objective = EagleObjective(ctx.scorer, lambdas)
    return search_output(ctx, objective, engine, {"lambdas": list(objective.lambdas), "map_style": map_style})


eagle.family = "search"  # type: ignore[attr-defined]
