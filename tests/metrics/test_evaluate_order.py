"""One order, one precision: ``evaluate`` ranks regions exactly as ``explain`` did."""

import dataclasses

import numpy as np
import pytest

import xattr_lab
from xattr_lab.attr.context import MethodOutput
from xattr_lab.attr.registry import register_method
from xattr_lab.attr.synthetic import SyntheticModel
from xattr_lab.metrics.evaluate import evaluation_order
from xattr_lab.scoring.orders import order_from_scores


@register_method("test-near-ties", family="map")
def near_ties(ctx):
    """FeatureAblation-like drops: the object's cells clearly first, the rest separated by ~1e-9."""
    obj = ctx.model.object_masks[0]
    inside = np.array([obj[ctx.regions.labels == k].mean() for k in range(ctx.regions.n)])
    # Background cells differ from 1.0 by less than float32 resolves, in the reverse of index order.
    rest = 1.0 - 1e-9 * (1 + np.arange(ctx.regions.n))
    return MethodOutput(region_scores=np.where(inside > 0, 2.0 + inside, rest[::-1]))


@pytest.fixture(scope="module")
def model():
    return SyntheticModel(size=32, boxes=((2, 2, 12, 12), (18, 4, 30, 14), (6, 18, 16, 30)))


def explain(model, method, **kw):
    return xattr_lab.explain(model, model.image, "d", method=method, regions="grid:4", progress=False, **kw)


def test_near_ties_rank_as_explain_ranked(model):
    e = explain(model, "test-near-ties")
    pooled = order_from_scores(e.regions.pool(e.pixel_map))
    # The float32 pixel map loses the near-ties: pooling it again would have ranked the background otherwise.
    assert not np.array_equal(pooled, e.order)
    assert np.array_equal(evaluation_order(e), e.order)
    assert np.array_equal(e.order, order_from_scores(e.region_scores))
    m = xattr_lab.evaluate(model, e)
    assert m["insertion_auc"] == e.metrics["insertion_auc"]
    assert m["deletion_auc"] == e.metrics["deletion_auc"]


@pytest.mark.parametrize(
    ("method", "kw"),
    [("eagle", {}), ("eagle", {"search": "efficient"}), ("feature_ablation", {}), ("random", {})],
)
def test_every_method_is_evaluated_in_its_own_order(model, method, kw):
    e = explain(model, method, tokens=[0], **kw)
    assert np.array_equal(evaluation_order(e), e.order)
    m = xattr_lab.evaluate(model, e)
    np.testing.assert_array_equal([m["insertion_auc"], m["deletion_auc"]], [e.insertion_auc, e.deletion_auc])


def test_ties_keep_the_explanations_order_and_nan_ranks_last(model):
    e = explain(model, "eagle", tokens=[0])
    n = e.regions.n
    # The search's tail regions add nothing: they tie at the bottom of the map.
    tied = e.region_scores[e.order] == e.region_scores.min()
    assert tied.sum() > 1
    # Any order of the tied tail is the explanation's own: evaluate keeps it rather than the index order.
    own = np.concatenate([e.order[~tied], e.order[tied][::-1]])
    f = dataclasses.replace(e, order=own)
    assert np.array_equal(evaluation_order(f), own)
    scores = e.region_scores.copy()
    scores[e.order[0]] = np.nan
    got = evaluation_order(dataclasses.replace(e, region_scores=scores))
    assert got[-1] == e.order[0] and np.array_equal(got[:-1], e.order[1:])
    # Without region scores (a foreign result), the pooled map still gives an order.
    g = dataclasses.replace(e, region_scores=np.zeros(0))
    assert np.array_equal(evaluation_order(g), order_from_scores(e.regions.pool(e.pixel_map)))
    assert sorted(evaluation_order(g).tolist()) == list(range(n))
