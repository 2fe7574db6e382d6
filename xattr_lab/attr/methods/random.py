"""Random region order: the sanity floor every method must beat."""

from __future__ import annotations

import numpy as np

from xattr_lab.attr.context import MethodContext, MethodOutput
from xattr_lab.attr.mapping import scores_from_rank


def random_order(ctx: MethodContext) -> MethodOutput:
    """Random: a seeded random ranking of the regions (no forwards beyond its curves)."""
    order = np.random.default_rng(ctx.seed).permutation(ctx.regions.n).astype(np.int64)
    return MethodOutput(order=order, region_scores=scores_from_rank(order), params={"seed": ctx.seed})


random_order.family = "baseline"  # type: ignore[attr-defined]
