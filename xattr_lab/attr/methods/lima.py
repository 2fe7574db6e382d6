"""LiMA (Chen et al., 2025): consistency, collaboration, confidence and diversity, bidirectional search.

Terms and defaults follow the paper's order ``(cons, colla, conf, eff) = (20, 5, 0.05, 0.01)``. The
confidence term is ``1 − H/log K`` over a candidate set: give ``candidates`` (the answer words, or for a
classifier the classes) to score each one at the target position (one extra forward per candidate and
image); without it the set is {target, anything else}. Diversity uses region embeddings: pass
``embeddings`` [N, D] from your encoder, else colour-and-position descriptors stand in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from xattr_lab.attr.context import MethodContext, MethodOutput
from xattr_lab.attr.methods._search import search_output, split_engine_params
from xattr_lab.attr.objectives import LimaObjective, region_descriptors


def _candidate_ids(ctx: MethodContext, candidates: Sequence[str | int]) -> list[int]:
    ids: list[int] = []
    for c in candidates:
        if isinstance(c, (int, np.integer)):
            ids.append(int(c))
            continue
        if not isinstance(c, str):
            raise TypeError(f"candidates: expected token strings or ids, got {type(c).__name__}")
        variant = ctx.model.with_target(ctx.generation, c)
        if len(variant.generated_ids) != 1:
            raise ValueError(f"candidates: {c!r} is not a single token for this model")
        ids.append(int(variant.generated_ids[0]))
    return ids


def lima(
    ctx: MethodContext,
    lambdas: Sequence[float] = (20.0, 5.0, 0.05, 0.01),
    candidates: Sequence[str | int] | None = None,
    embeddings: np.ndarray | None = None,
    **params: Any,
) -> MethodOutput:
    """LiMA: four-term submodular subset selection (bidirectional search by default in ``explain``).

    Args:
        ctx: the method context.
        lambdas: ``(consistency, collaboration, confidence, effectiveness)`` weights, paper order.
        candidates: the candidate answers of the confidence term (token strings or ids).
        embeddings: region embeddings [N, D] for the diversity term.
        **params: search-engine parameters.

    Returns:
        The ranking and objective.
    """
    engine, rest = split_engine_params(ctx.search, params)
    if rest:
        raise ValueError(f"{sorted(rest)[0]}: not a parameter of method 'lima'")
    scorer = ctx.scorer
    index: list[list[int]] = []
    if candidates:
        ids = _candidate_ids(ctx, candidates)
        variants = []
        for p in ctx.positions:
            own = int(ctx.generation.generated_ids[p])
            row = []
            for cid in ids:
                if cid == own:
                    continue
                seq = [int(x) for x in ctx.generation.generated_ids]
                seq[p] = cid
                variants.append((ctx.model.with_target(ctx.generation, seq), [p]))
                row.append(len(variants))
            index.append(row)
        scorer = scorer.with_variants(variants)
    emb = region_descriptors(ctx.generation.image, ctx.regions.labels) if embeddings is None else embeddings
    objective = LimaObjective(scorer, emb, lambdas, index)
    out = search_output(
        ctx,
        objective,
        engine,
        {"lambdas": list(objective.lambdas), "candidates": [str(c) for c in candidates or []]},
    )
    return out


lima.family = "search"  # type: ignore[attr-defined]
