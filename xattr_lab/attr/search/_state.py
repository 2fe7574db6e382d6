"""What every search engine shares: the result type, the early-stop rule and progress ticks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True, eq=False)
class SearchResult:
    """A ranking of all regions, most important first.

    Attributes:
        order: int64 [N], a permutation of the regions.
        partial: True when the search was interrupted; the tail of ``order`` is then unsearched.
        stopped_early: True when the early-stop rule ended the search.
        n_searched: regions placed by the search itself (the rest follow the last scores).
        stats: engine counters (steps, shortlist sizes).
    """

    order: np.ndarray
    partial: bool = False
    stopped_early: bool = False
    n_searched: int = 0
    stats: dict[str, Any] = field(default_factory=dict)


def validate_early_stop(early_stop: float | None) -> float | None:
    """Check the early-stop tolerance (None or a number in [0, 1))."""
    if early_stop is None:
        return None
    if isinstance(early_stop, bool) or not isinstance(early_stop, (int, float)) or not 0 <= early_stop < 1:
        raise ValueError(f"early_stop: expected None or a tolerance in [0, 1), got {early_stop!r}")
    return float(early_stop)


def reached(value: float, f_empty: float, f_full: float, tol: float | None) -> bool:
    """Early stop: the selection already recovers ``1 − tol`` of the way from ``F(∅)`` to ``F(V)``.

    Past that point the remaining regions barely move the curves, so ranking them by the last scores costs
    little faithfulness and saves the quadratic tail of the search.
    """
    if tol is None:
        return False
    span = f_full - f_empty
    if span <= 1e-9:  # the image does not matter to these tokens; nothing to rank by
        return True
    return (value - f_empty) >= (1.0 - tol) * span


def ranked(candidates: list[int], values: np.ndarray) -> list[int]:
    """Candidates sorted by value, best first; ties keep their order (deterministic)."""
    idx = np.argsort(-np.asarray(values), kind="stable")
    return [candidates[i] for i in idx]


class NullProgress:
    """A progress sink that ignores ticks."""

    def update(self, n: int = 1) -> None:
        """Ignore ``n`` ticks."""


def tick(progress: Any, n: int = 1) -> None:
    """Advance a tqdm-like progress bar if one is given."""
    if progress is not None:
        progress.update(n)
