"""The budget guard: every search estimates its forwards first, warns about many and refuses too many."""

import warnings

import numpy as np
import pytest

import xattr_lab
from xattr_lab.attr.objectives import EagleObjective
from xattr_lab.attr.search import (
    MAX_FORWARDS,
    WARN_FORWARDS,
    BudgetExceededError,
    BudgetWarning,
    estimate,
    run_search,
)
from xattr_lab.attr.search import budget as budget_mod
from xattr_lab.attr.synthetic import SyntheticModel
from xattr_lab.inputs import make_regions
from xattr_lab.inputs.regions import Regions
from xattr_lab.scoring.subsets import SubsetScorer


@pytest.fixture(scope="module")
def model():
    return SyntheticModel(size=40, boxes=((2, 2, 12, 12), (18, 4, 30, 14), (6, 18, 16, 30)))


def _scorer(model, regions, memoise=True):
    gen = model.generate()
    regs = regions if isinstance(regions, Regions) else make_regions(regions, gen.image)
    return SubsetScorer(model, gen, regs, range(4), memoise=memoise)


def _many_regions(model, n):
    """A label map with ``n`` regions on the model's image (one pixel or more each)."""
    h, w = model.image.shape[:2]
    return Regions(labels=(np.arange(h * w) % n).reshape(h, w).astype(np.int32))


class _Bar:
    """A tqdm-like bar that records what the search shows on it."""

    def __init__(self):
        self.postfix, self.ticks = [], 0

    def set_postfix_str(self, text):
        self.postfix.append(text)

    def update(self, n=1):
        self.ticks += n


ENGINES = [
    ("greedy", {}),
    ("greedy", {"early_stop": 0.0}),
    ("bidirectional", {}),
    ("bidirectional", {"pending": 3}),
    ("efficient", {}),
    ("efficient", {"search_scope": 4, "pending": 4, "update_step": 10}),
]


@pytest.mark.parametrize(("name", "params"), ENGINES)
@pytest.mark.parametrize("spec", ["grid:3", "grid:5", "grid:8"])
def test_estimate_bounds_the_forwards_tightly(model, name, params, spec):
    sc = _scorer(model, spec, memoise=False)
    n = sc.n
    result = run_search(name, EagleObjective(sc), n, **params)
    est = result.stats["estimated_forwards"]
    assert est == estimate(name, EagleObjective(sc), n, **params).forwards
    assert sc.n_forward <= est
    if not result.stopped_early:
        # Only subsets asked twice in one request (an insertion set that is another candidate's deletion
        # set, as ∅ and V are) are shared without memoisation: the estimate is within 1%.
        assert est - sc.n_forward <= max(4, est // 100)
    assert result.stats["estimated_evaluations"] * 2 == est


def test_greedy_estimate_is_n_times_n_plus_one():
    for n in (1, 64, 1000, 9216):
        assert estimate("greedy", object(), n).forwards == n * (n + 1)
    assert estimate("greedy", object(), 9216).forwards > 84_000_000  # what "slico:9999" used to start


def test_refuses_above_the_default_limit_without_scoring(model):
    n = 1000  # naive greedy: 1,001,000 forwards
    sc = _scorer(model, _many_regions(model, n))
    assert n * (n + 1) > MAX_FORWARDS
    with pytest.raises(BudgetExceededError, match=r"max_forwards.*1,001,000 forwards"):
        run_search("greedy", EagleObjective(sc), n)
    assert sc.n_forward == 0
    # the efficient engine fits the same regions in the default budget, with a warning
    with pytest.warns(BudgetWarning, match="efficient"):
        budget_mod.guard_budget(estimate("efficient", EagleObjective(sc), n))


def test_warns_above_the_threshold_and_the_user_can_confirm(model):
    sc = _scorer(model, _many_regions(model, 400))  # greedy: 160,400 forwards
    budget = estimate("greedy", EagleObjective(sc), 400)
    assert WARN_FORWARDS < budget.forwards < MAX_FORWARDS
    with pytest.warns(BudgetWarning, match=r"max_forwards=160400"):
        budget_mod.guard_budget(budget)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        budget_mod.guard_budget(budget, max_forwards=budget.forwards)  # consent: silent


def test_override_raises_and_lowers_the_limit(model, monkeypatch):
    monkeypatch.setattr(budget_mod, "MAX_FORWARDS", 100)
    monkeypatch.setattr(budget_mod, "WARN_FORWARDS", 50)
    sc = _scorer(model, "grid:4")  # greedy: 272 forwards
    with pytest.raises(BudgetExceededError, match="default limit of 100"):
        run_search("greedy", EagleObjective(sc), 16)
    assert sc.n_forward == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = run_search("greedy", EagleObjective(sc), 16, max_forwards=272)
    assert sorted(result.order.tolist()) == list(range(16)) and 0 < sc.n_forward <= 272
    with pytest.raises(BudgetExceededError, match="max_forwards=271"):
        run_search("greedy", EagleObjective(_scorer(model, "grid:4")), 16, max_forwards=271)
    # a cheaper engine fits where greedy did not
    monkeypatch.setattr(budget_mod, "MAX_FORWARDS", 250)
    with pytest.warns(BudgetWarning, match=r"'efficient' search over 16 regions needs ≤ 214 forwards"):
        run_search("efficient", EagleObjective(_scorer(model, "grid:4")), 16)


@pytest.mark.parametrize("bad", [0, -5, 1.5, True, "many", float("inf")])
def test_bad_max_forwards(model, bad):
    with pytest.raises(ValueError, match="max_forwards"):
        run_search("greedy", EagleObjective(_scorer(model, "grid:2")), 4, max_forwards=bad)


def test_progress_bar_shows_the_estimate(model):
    bar = _Bar()
    run_search("bidirectional", EagleObjective(_scorer(model, "grid:4")), 16, progress=bar)
    est = estimate("bidirectional", object(), 16)
    assert bar.postfix == [f"≤ {est.forwards:,} forwards ({est.evaluations:,} subsets)"]
    assert bar.ticks == 16


def test_explain_refuses_and_passes_max_forwards(model, monkeypatch, capsys):
    with pytest.raises(BudgetExceededError, match="max_forwards"):
        xattr_lab.explain(model, model.image, "describe", regions=_many_regions(model, 1000).labels, progress=False)
    monkeypatch.setattr(budget_mod, "MAX_FORWARDS", 100)
    with pytest.raises(BudgetExceededError):
        xattr_lab.explain(model, model.image, "describe", regions="grid:4", progress=False)
    e = xattr_lab.explain(
        model, model.image, "describe", regions="grid:4", max_forwards=272, search="greedy", progress=True
    )
    assert e.params["max_forwards"] == 272 and sorted(e.order.tolist()) == list(range(16))
    assert "≤ 272 forwards" in capsys.readouterr().err  # the bar showed the estimate
    with pytest.raises(BudgetExceededError):
        xattr_lab.explain(model, model.image, "describe", method="lima", regions="grid:4", progress=False)


@pytest.mark.parametrize("candidates", [None, ["red", "blue"], ["blue", "green and"]])
def test_lima_candidates_raise_the_estimate_as_they_raise_the_cost(model, candidates):
    e = xattr_lab.explain(
        model, model.image, "describe", method="lima", search="greedy", regions="grid:4", candidates=candidates,
        progress=False,
    )  # fmt: skip
    est = e.info["estimated_forwards"]
    assert e.info["estimated_evaluations"] == 16 * 17 // 2
    assert e.cost["n_forward_search"] <= est <= e.cost["n_forward_search"] + max(4, est // 100)
    assert est > 272 if candidates else est == 272  # each scored candidate variant adds a forward per set
