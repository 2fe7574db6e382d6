import numpy as np
import pytest

from xattr_lab.attr.objectives import EagleObjective, LimaObjective, region_descriptors
from xattr_lab.attr.search import run_search
from xattr_lab.attr.synthetic import SyntheticModel
from xattr_lab.inputs import make_regions
from xattr_lab.scoring.subsets import SubsetScorer


@pytest.fixture(scope="module")
def model():
    return SyntheticModel(size=32, boxes=((2, 2, 12, 12), (18, 4, 30, 14), (6, 18, 16, 30)))


def _scorer(model, spec, memoise=True):
    gen = model.generate()
    return SubsetScorer(model, gen, make_regions(spec, gen.image), range(4), memoise=memoise)


def test_naive_greedy_costs_n_times_n_plus_one(model):
    sc = _scorer(model, "grid:8", memoise=False)
    res = run_search("greedy", EagleObjective(sc), 64)
    assert sc.n_forward == 64 * 65 == 4160
    assert sorted(res.order.tolist()) == list(range(64))


def test_memoisation_only_saves(model):
    sc = _scorer(model, "grid:4")
    run_search("greedy", EagleObjective(sc), 16)
    assert sc.n_forward <= 16 * 17


def test_bidirectional_count_matches_lima(model):
    sc = _scorer(model, "grid:8", memoise=False)
    res = run_search("bidirectional", EagleObjective(sc), 64, pending=8)
    assert abs(sc.n_forward - 2590) / 2590 < 0.01
    assert sorted(res.order.tolist()) == list(range(64))


@pytest.mark.parametrize(("kw", "expected"), [({}, 1412), ({"search_scope": 8, "pending": 4, "update_step": 10}, 944)])
def test_efficient_count_matches_eagle(model, kw, expected):
    sc = _scorer(model, "grid:8")
    res = run_search("efficient", EagleObjective(sc), 64, **kw)
    assert sc.n_forward == expected
    assert sorted(res.order.tolist()) == list(range(64))


def test_early_stop_trades_forwards(model):
    full, early = _scorer(model, "grid:6"), _scorer(model, "grid:6")
    a = run_search("greedy", EagleObjective(full), 36)
    b = run_search("greedy", EagleObjective(early), 36, early_stop=0.05)
    assert b.stopped_early and early.n_forward < full.n_forward
    assert sorted(b.order.tolist()) == list(range(36))
    assert a.order[0] == b.order[0]


@pytest.mark.parametrize("name", ["greedy", "bidirectional", "efficient"])
def test_searches_are_deterministic_and_find_objects_first(model, name):
    orders = []
    for _ in range(2):
        sc = _scorer(model, "grid:8")
        orders.append(run_search(name, EagleObjective(sc), 64).order)
    assert np.array_equal(*orders)
    # The first pick must lie on one of the objects.
    labels = make_regions("grid:8", model.image).labels
    assert model.object_masks.any(0)[labels == orders[0][0]].mean() > 0.5


def test_batching_puts_a_step_in_few_calls(model):
    sc = _scorer(model, "grid:4")
    run_search("greedy", EagleObjective(sc), 16)
    assert sc.n_calls <= 16  # one call per step at most
    sc = SubsetScorer(model, model.generate(), make_regions("grid:4", model.image), range(4), batch_size=5)
    run_search("greedy", EagleObjective(sc), 16)
    assert sc.n_calls > 16


def test_lima_diversity_is_zero_for_singletons(model):
    sc = _scorer(model, "grid:4")
    obj = LimaObjective(sc, region_descriptors(model.image, sc.regions.labels))
    eff = obj.structural([1, 0b11, 0b111])
    assert eff[0] == 0 and eff[2] >= eff[1] >= 0


def test_bad_engine_params(model):
    sc = _scorer(model, "grid:4")
    with pytest.raises(ValueError, match="search"):
        run_search("beam", EagleObjective(sc), 16)
    with pytest.raises(ValueError, match="early_stop"):
        run_search("greedy", EagleObjective(sc), 16, early_stop=2.0)
    with pytest.raises(ValueError, match="pending"):
        run_search("bidirectional", EagleObjective(sc), 16, pending=0)
