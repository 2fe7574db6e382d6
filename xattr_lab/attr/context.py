"""What ``explain`` hands a method, and what a method hands back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from xattr_lab.inputs.regions import Regions
    from xattr_lab.models.protocol import Generation, ScoringModel
    from xattr_lab.scoring.subsets import SubsetScorer


@dataclass(frozen=True, eq=False)
class MethodContext:
    """The explained generation and the machinery to score it.

    Attributes:
        model: the scoring model.
        generation: the generation (with ``target`` applied).
        regions: the image regions.
        positions: target token positions.
        scorer: memoised batched subset scores for these tokens.
        search: the search engine name asked for (search methods).
        seed: the seed for anything random.
        progress: a tqdm-like bar (or None), total = number of regions.
        baseline: what removed pixels become.
    """

    model: ScoringModel
    generation: Generation
    regions: Regions
    positions: tuple[int, ...]
    scorer: SubsetScorer
    search: str = "greedy"
    seed: int = 0
    progress: Any = None
    baseline: str | float = "black"


@dataclass(frozen=True, eq=False)
class MethodOutput:
    """A method's answer; ``explain`` turns it into curves, a map and metrics.

    Give ``order`` (a ranking, search methods), ``region_scores`` or ``pixel_map`` (map methods); what is
    missing is derived: scores from the objective's gains (or rank), order from scores.

    Attributes:
        order: int [N] ranking, most important first, or None.
        region_scores: float [N] per-region attribution, or None.
        pixel_map: float [H, W] per-pixel attribution, or None.
        objective: a callable ``F(sets)`` over region bitmasks (search methods), for the gains map.
        partial: the method was interrupted.
        params: the parameters actually used (JSON-able), recorded in the Explanation.
        stats: extra counters (search steps, early stop).
    """

    order: np.ndarray | None = None
    region_scores: np.ndarray | None = None
    pixel_map: np.ndarray | None = None
    objective: Any = None
    partial: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
