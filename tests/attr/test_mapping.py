"""EAGLE's map: each region's own contribution by default, the paper's ``add_value`` map as an option."""

import numpy as np
import pytest

import xattr_lab
from xattr_lab.attr.mapping import MAP_STYLES, scores_from_gains
from xattr_lab.attr.synthetic import SyntheticModel


def explain(model, **kw):
    return xattr_lab.explain(model, model.image, "describe", regions="grid:4", progress=False, **kw)


def others(e, keep):
    return np.delete(e.region_scores, keep)


def cells(model, e):
    """Regions holding any pixel of the object (grid cells of 8 x 8)."""
    return sorted({int(r) for r in np.unique(e.regions.labels[model.object_masks[0]])})


@pytest.fixture(scope="module")
def one_region():
    # The object fills exactly one cell of the 4 x 4 grid: all the evidence sits in that region.
    return SyntheticModel(size=32, boxes=((8, 8, 16, 16),), about=(0,), words=("red",))


@pytest.fixture(scope="module")
def two_regions():
    # The object covers two neighbouring cells half and half: the evidence is split evenly.
    return SyntheticModel(size=32, boxes=((8, 8, 24, 16),), about=(0,), words=("red",))


@pytest.mark.parametrize("search", ["greedy", "efficient"])
def test_evidence_in_one_region_stands_out(one_region, search):
    e = explain(one_region, search=search)
    [cell] = cells(one_region, e)
    assert e.params["map_style"] == "contribution"
    assert e.region_scores[cell] == 1.0
    assert others(e, cell).max() <= 0.1


def test_evidence_split_evenly_shows_both_regions(two_regions):
    e = explain(two_regions)
    pair = cells(two_regions, e)
    assert len(pair) == 2
    assert e.region_scores[pair].min() >= 0.4 and e.region_scores[pair].max() == 1.0
    assert others(e, pair).max() <= 0.1


def test_reference_map_hides_the_second_region(two_regions):
    # EAGLE's add_value: the first region's gain vanishes in the min-max and the second reads as background.
    e = explain(two_regions, map_style="reference")
    pair = cells(two_regions, e)
    assert e.params["map_style"] == "reference"
    assert np.sort(e.region_scores[pair]).tolist() == [0.0, 1.0]


def test_both_maps_keep_the_search_order(two_regions):
    for style in MAP_STYLES:
        e = explain(two_regions, map_style=style)
        assert (np.diff(e.region_scores[e.order]) <= 0).all()


def test_contribution_steps_are_the_gains():
    rng = np.random.default_rng(0)
    order = rng.permutation(6)
    gains = np.array([0.5, 0.0, 0.25, 0.125, 0.0, 0.125])
    values = np.concatenate([[0.3], 0.3 + np.cumsum(gains)])
    ranked = scores_from_gains(order, values)[order]
    assert ranked[0] == 1.0
    np.testing.assert_allclose(-np.diff(ranked), gains[:-1] / gains.sum())
    np.testing.assert_allclose(ranked[-1], gains[-1] / gains.sum())


def test_reference_formula():
    order = np.array([2, 0, 1])
    values = np.array([0.0, 0.5, 0.75, 1.0])  # gains 0.5, 0.25, 0.25
    ref = scores_from_gains(order, values, "reference")[order]
    # -cumsum |g| = [-0.5, -0.75, -1.0], min-max normalised
    np.testing.assert_allclose(ref, [1.0, 0.5, 0.0])


def test_flat_objective_falls_back_to_rank():
    order = np.array([1, 2, 0])
    for style in MAP_STYLES:
        np.testing.assert_allclose(scores_from_gains(order, np.zeros(4), style)[order], [1.0, 0.5, 0.0])
        np.testing.assert_allclose(scores_from_gains(order, np.full(4, np.nan), style)[order], [1.0, 0.5, 0.0])


def test_bad_map_style_is_refused(one_region):
    with pytest.raises(ValueError, match="map_style"):
        scores_from_gains(np.arange(2), np.zeros(3), "cumulative")
    with pytest.raises(TypeError, match="map_style"):
        scores_from_gains(np.arange(2), np.zeros(3), None)
    with pytest.raises(ValueError, match="map_style"):
        explain(one_region, map_style="add_value")
    with pytest.raises(ValueError, match="map_style"):
        explain(one_region, method="lima", map_style="add_value")
    with pytest.raises(ValueError, match="values"):
        scores_from_gains(np.arange(3), np.zeros(3))


def test_lima_takes_the_map_style(two_regions):
    e = explain(two_regions, method="lima", map_style="reference")
    assert e.params["map_style"] == "reference"
    d = explain(two_regions, method="lima")
    assert d.params["map_style"] == "contribution"
    np.testing.assert_array_equal(e.order, d.order)
