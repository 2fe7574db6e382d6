"""The budget guard: estimate what a search will cost before it starts, warn about a large one, refuse a huge one.

Naive greedy costs ``N(N+1)`` forwards for ``N`` regions, so a region spec that asks for too many regions
(``"slico:9999"`` gives 9,216 regions, about 85 M forwards) would run for days without a word. Every search
first estimates its objective evaluations and model forwards from the engine's own step rule (an upper
bound: early stop and cache hits only lower it), shows the estimate on the progress bar, warns above
``WARN_FORWARDS`` and refuses above ``MAX_FORWARDS`` unless the caller passes ``max_forwards=`` (to
``run_search``, ``xattr_lab.explain`` or a search method), which both raises and lowers the limit.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: Estimated forwards above which a search warns before it starts (about 5 min on the toy on 2 CPU cores,
#: longer on a 7B model): naive greedy reaches it at N = 316 regions.
WARN_FORWARDS = 100_000
#: Estimated forwards above which a search refuses to start unless ``max_forwards`` allows it (about an
#: hour on the toy on 2 CPU cores): naive greedy reaches it at N = 1000 regions.
MAX_FORWARDS = 1_000_000


class BudgetWarning(UserWarning):
    """A search is estimated to need many forwards (see ``WARN_FORWARDS``)."""


class BudgetExceededError(ValueError):
    """A search would need more forwards than ``max_forwards`` allows; nothing was run."""


@dataclass(frozen=True)
class SearchBudget:
    """What a search is estimated to cost before it starts (an upper bound: no early stop, no cache hits).

    Attributes:
        search: the engine name.
        n_regions: regions to rank.
        evaluations: objective evaluations ``F(S)`` (subsets scored).
        forwards_per_evaluation: images one evaluation scores (2 for insertion + deletion, more with LiMA's
            candidate answers).
        forwards: model forwards (images scored) = evaluations × forwards per evaluation.
    """

    search: str
    n_regions: int
    evaluations: int
    forwards_per_evaluation: int
    forwards: int

    def describe(self) -> str:
        """One line for the progress bar and messages, e.g. ``≤ 4,160 forwards (2,080 subsets)``."""
        return f"≤ {self.forwards:,} forwards ({self.evaluations:,} subsets)"


def greedy_evaluations(n: int, early_stop: float | None = None, **_: Any) -> int:
    """Naive greedy: step ``k`` scores the ``N − k`` open regions, ``N(N+1)/2`` in all (+2 end points)."""
    return n * (n + 1) // 2 + (2 if early_stop is not None else 0)


def bidirectional_evaluations(n: int, pending: int = 8, early_stop: float | None = None, **_: Any) -> int:
    """LiMA's bidirectional search: every open region forwards, plus ``pending`` backwards while many are open."""
    evals = 2 if early_stop is not None else 0
    if not isinstance(pending, int) or pending < 1:
        return evals + n * (n + 1) // 2  # the engine refuses such a value; bound by greedy meanwhile
    open_ = n
    loops = (n - pending) // 2 + pending if n > pending else n
    for _ in range(loops):  # the engine's loop, counting instead of scoring
        if open_ == 0:
            break
        evals += open_
        if open_ > pending:
            evals += pending
            open_ -= 2
        else:
            open_ -= 1
    return evals


def efficient_evaluations(n: int, search_scope: int = 10, pending: int = 8, update_step: int = 5, **_: Any) -> int:
    """EAGLE's efficient search: full re-sorts every ``update_step`` steps, ``search_scope`` between them."""
    ints = all(isinstance(v, int) and v >= 1 for v in (search_scope, pending, update_step))
    if not ints:
        return 2 + n * (n + 1) // 2  # the engine refuses such values; bound by greedy meanwhile
    evals, open_, step, negatives = 2, n, 0, 0  # the end points are always scored
    while open_ > 1:  # the engine's loop, counting instead of scoring
        evals += open_ if step % update_step == 0 else min(search_scope, open_)
        open_ -= 1
        if negatives == 0 and open_:
            open_ -= 1  # the first negative is free
            negatives = 1
        elif open_ > pending:
            evals += pending
            open_ -= 1
            negatives += 1
        step += 1
    return evals


EVALUATIONS: dict[str, Callable[..., int]] = {
    "greedy": greedy_evaluations,
    "bidirectional": bidirectional_evaluations,
    "efficient": efficient_evaluations,
}


def forwards_per_evaluation(objective: Any) -> int:
    """Images one ``F(S)`` scores: insertion and deletion (2), plus one per extra scored variant (LiMA).

    LiMA's candidate answers are scorer variants scored on the insertion image; those read off the
    insertion variant's own forward cost nothing more. An objective may instead state its cost through
    a ``forwards_per_evaluation`` attribute.
    """
    own = getattr(objective, "forwards_per_evaluation", None)
    if isinstance(own, int) and own >= 1:
        return own
    rows = getattr(objective, "candidate_index", None) or ()
    variants = {entry if isinstance(entry, int) else entry[0] for row in rows for entry in row}
    return 2 + len(variants - {getattr(objective, "insertion_variant", 0)})


def estimate(search: str, objective: Any, n: int, **params: Any) -> SearchBudget:
    """The budget of ``search`` over ``n`` regions with ``params`` (engine parameters)."""
    if search not in EVALUATIONS:
        raise ValueError(f"search: unknown search {search!r}; expected one of {sorted(EVALUATIONS)}")
    evals = EVALUATIONS[search](n, **params) if n > 0 else 0
    per = forwards_per_evaluation(objective)
    return SearchBudget(search, n, evals, per, evals * per)


def check_max_forwards(max_forwards: Any) -> int | None:
    """Check ``max_forwards``: None (the default limit) or a positive int."""
    if max_forwards is None:
        return None
    if isinstance(max_forwards, bool) or not isinstance(max_forwards, numbers.Integral) or max_forwards < 1:
        raise ValueError(f"max_forwards: expected None or a positive int (forwards), got {max_forwards!r}")
    return int(max_forwards)


def guard_budget(budget: SearchBudget, max_forwards: Any = None) -> None:
    """Refuse a search over its forward budget; warn about a large one the user has not allowed.

    Args:
        budget: the estimate.
        max_forwards: the user's limit; None applies ``MAX_FORWARDS`` and warns above ``WARN_FORWARDS``.
            A limit the user gives is taken as consent: no warning below it.

    Raises:
        BudgetExceededError: when the estimate exceeds the limit.
    """
    limit = check_max_forwards(max_forwards)
    cheaper = {"greedy": "search='efficient' or 'bidirectional', ", "bidirectional": "search='efficient', "}
    hint = (
        f"the {budget.search!r} search over {budget.n_regions} regions needs {budget.describe()}; use fewer "
        f"regions (e.g. regions='slico:64'), {cheaper.get(budget.search, '')}or early_stop=0.05"
    )
    if budget.forwards > (MAX_FORWARDS if limit is None else limit):
        cap = f"max_forwards={limit:,}" if limit is not None else f"the default limit of {MAX_FORWARDS:,}"
        raise BudgetExceededError(
            f"max_forwards: {hint}. That exceeds {cap}; pass max_forwards={budget.forwards} (or more) to run it"
        )
    if limit is None and budget.forwards > WARN_FORWARDS:
        warnings.warn(
            f"{hint}. Pass max_forwards={budget.forwards} to confirm and silence this warning",
            BudgetWarning,
            stacklevel=3,
        )


def show_budget(progress: Any, budget: SearchBudget) -> None:
    """Put the estimate on a tqdm-like bar (``set_postfix_str``), if the bar can show it."""
    set_postfix = getattr(progress, "set_postfix_str", None)
    if callable(set_postfix):
        set_postfix(budget.describe())
