import numpy as np
import pytest

import xattr_lab
from xattr_lab.attr.registry import get_method, list_methods, register_method
from xattr_lab.attr.synthetic import SyntheticModel
from xattr_lab.metrics.localisation import pointing_game


@pytest.fixture(scope="module")
def model():
    return SyntheticModel(size=32, boxes=((2, 2, 12, 12), (18, 4, 30, 14), (6, 18, 16, 30)))


@pytest.fixture(scope="module")
def eagle(model):
    return xattr_lab.explain(model, model.image, "describe", regions="grid:8", progress=False)


def test_eagle_points_at_each_words_object(model):
    for pos, obj in [(0, 0), (1, 1), (3, 2)]:
        e = xattr_lab.explain(model, model.image, "describe", tokens=[pos], regions="grid:8", progress=False)
        assert pointing_game(e.pixel_map, mask=model.object_masks[obj])
        assert e.metrics["insertion_auc"] > 0.8 and e.metrics["deletion_auc"] < 0.2


def test_eagle_beats_random(model, eagle):
    rand = xattr_lab.explain(model, model.image, "describe", method="random", regions="grid:8", progress=False)
    assert eagle.insertion_auc > rand.insertion_auc + 0.1
    assert eagle.deletion_auc < rand.deletion_auc - 0.1


def test_explanation_shapes_and_cost(eagle):
    n = eagle.regions.n
    assert eagle.insertion.shape == eagle.deletion.shape == (4, n + 1)
    assert eagle.area[0] == 0 and np.isclose(eagle.area[-1], 1)
    assert sorted(eagle.order.tolist()) == list(range(n))
    assert eagle.region_scores[eagle.order[0]] == 1.0 and eagle.region_scores.min() == 0.0
    # Curves come from the search's cache: only the empty image is new.
    assert eagle.cost["n_forward"] - eagle.cost["n_forward_search"] <= 2
    assert eagle.cost["n_forward_search"] <= n * (n + 1)
    assert eagle.params["search"] == "greedy" and eagle.params["lambdas"] == [1.0, 1.0]


def test_reliance_separates_language_prior(eagle):
    # Token 2 ("and") ignores the image: lowest reliance.
    assert int(np.argmin(eagle.reliance)) == 2
    assert eagle.reliance.max() == 1.0


def test_gains_map_is_monotone_in_rank(eagle):
    ranked = eagle.region_scores[eagle.order]
    assert (np.diff(ranked) <= 1e-12).all()


@pytest.mark.parametrize("search", ["bidirectional", "efficient"])
def test_other_searches_stay_close_to_greedy(model, eagle, search):
    e = xattr_lab.explain(model, model.image, "describe", regions="grid:8", search=search, progress=False)
    assert e.insertion_auc >= 0.97 * eagle.insertion_auc
    assert e.cost["n_forward"] < eagle.cost["n_forward"]


def test_lima_with_candidates(model):
    e = xattr_lab.explain(
        model,
        model.image,
        "d",
        method="lima",
        tokens="word:blue",
        regions="grid:4",
        candidates=["red", "blue"],
        progress=False,
    )
    assert e.positions == (1,)
    assert e.params["search"] == "bidirectional"
    assert pointing_game(e.pixel_map, mask=model.object_masks[1])


def test_target_explains_a_counterfactual(model):
    e = xattr_lab.explain(model, model.image, "d", tokens=[0], target="green", regions="grid:4", progress=False)
    assert e.generation.is_target and e.target_tokens == ("green",)


def test_word_spec_and_errors(model):
    with pytest.raises(ValueError, match="method"):
        xattr_lab.explain(model, model.image, "d", method="nope")
    with pytest.raises(ValueError, match="tokens"):
        xattr_lab.explain(model, model.image, "d", tokens=[9])
    with pytest.raises(ValueError, match="tokens"):
        xattr_lab.explain(model, model.image, "d", tokens="word:zebra")
    with pytest.raises(ValueError, match="tokens"):
        xattr_lab.explain(model, model.image, "d", tokens="some")
    with pytest.raises(TypeError, match="tokens"):
        xattr_lab.explain(model, model.image, "d", tokens=[0.5])
    with pytest.raises(ValueError, match="regions"):
        xattr_lab.explain(model, model.image, "d", regions=np.zeros((5, 5), int))
    with pytest.raises(ValueError, match="prompt"):
        xattr_lab.explain(model, model.image, "")
    with pytest.raises(ValueError, match="search"):
        xattr_lab.explain(model, model.image, "d", search="beam", regions="grid:2")
    with pytest.raises(ValueError, match="pending"):
        xattr_lab.explain(model, model.image, "d", search="greedy", pending=3, regions="grid:2")
    with pytest.raises(TypeError, match="model"):
        xattr_lab.explain(object(), model.image, "d")


def test_registry():
    assert {"eagle", "lima", "random"} <= set(list_methods())
    assert get_method("eagle").family == "search"
    with pytest.raises(ValueError, match="already registered"):
        register_method("eagle")(lambda ctx: None)

    @register_method("test-center-first", family="map")
    def center(ctx):
        """Centre first."""
        from xattr_lab.attr.context import MethodOutput

        h, w = ctx.regions.shape
        ys, xs = np.indices((h, w))
        return MethodOutput(pixel_map=-((ys - h / 2) ** 2 + (xs - w / 2) ** 2))

    with pytest.raises(ValueError, match="already registered"):
        register_method("test-center-first")(center)
    assert "test-center-first" in xattr_lab.list_methods()


def test_map_method_goes_through_the_same_path(model):
    e = xattr_lab.explain(model, model.image, "d", method="test-center-first", regions="grid:4", progress=False)
    assert np.isnan(e.objective).all() and e.cost["n_forward"] <= 34


def test_deterministic(model):
    a = xattr_lab.explain(model, model.image, "d", regions="seeds:20", search="bidirectional", progress=False)
    b = xattr_lab.explain(model, model.image, "d", regions="seeds:20", search="bidirectional", progress=False)
    assert np.array_equal(a.order, b.order) and np.array_equal(a.insertion, b.insertion)


class Interrupting(SyntheticModel):
    """Raises KeyboardInterrupt on the k-th score call, like a user pressing Ctrl-C."""

    def __init__(self, k, **kw):
        super().__init__(**kw)
        self.calls, self.k = 0, k

    def score(self, *args, **kw):
        self.calls += 1
        if self.calls == self.k:
            raise KeyboardInterrupt
        return super().score(*args, **kw)


@pytest.mark.parametrize("search", ["greedy", "bidirectional", "efficient"])
def test_ctrl_c_returns_partial(search):
    m = Interrupting(5, size=32, boxes=((2, 2, 12, 12), (18, 4, 30, 14), (6, 18, 16, 30)))
    e = xattr_lab.explain(m, m.image, "d", regions="grid:6", search=search, progress=False)
    assert e.partial and "partial" in repr(e)
    assert sorted(e.order.tolist()) == list(range(36))
    assert np.isnan(e.insertion).any()
    assert m.calls == 5  # nothing scored after the interrupt


def test_progress_bar_runs(model, capsys):
    e = xattr_lab.explain(model, model.image, "d", regions="grid:3", progress=True)
    assert not e.partial
