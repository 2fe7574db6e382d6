"""plotly figures' ``overlay`` names (``"contours"`` as the views spell it, ``"contour"`` kept as an alias) and
the map trace found by name, not by position."""

from __future__ import annotations

import numpy as np
import pytest

import xattr_lab
from xattr_lab.viz.figures.comparison import comparison_figure
from xattr_lab.viz.figures.explanation import OVERLAYS, explanation_figure, map_traces


@pytest.fixture(scope="module")
def comparison():
    from xattr_lab.attr.synthetic import SyntheticModel

    model = SyntheticModel(size=24, boxes=((2, 2, 10, 10), (12, 4, 22, 12)))
    return xattr_lab.compare(
        model, model.image, "describe", methods=["eagle", "random"], tokens=[0], regions="grid:3", progress=False
    )


def test_contours_is_the_canonical_overlay_and_contour_its_alias(comparison):
    e = comparison["eagle"]
    assert "contours" in OVERLAYS and "contour" not in OVERLAYS
    new, old = explanation_figure(e, overlay="contours"), explanation_figure(e, overlay="contour")
    assert [tr.type for tr in new.data] == [tr.type for tr in old.data] == ["image", "contour"]
    assert np.array_equal(np.asarray(new.data[1].z), np.asarray(old.data[1].z))
    assert np.array_equal(np.asarray(new.data[1].z), e.pixel_map)
    assert new.data[1].contours.coloring == "lines"
    for overlay in ("contours", "contour"):
        fig = comparison_figure(comparison, overlay=overlay)
        assert [tr.type for tr in fig.data] == ["image", "contour"] * len(comparison.explanations)
        assert [tr.type for tr in map_traces(e.generation.image, e.pixel_map, overlay, {})] == ["image", "contour"]
    blend = comparison_figure(comparison, overlay="blend")
    assert [tr.type for tr in blend.data] == ["image", "heatmap"] * len(comparison.explanations)


def test_a_bad_overlay_names_the_accepted_values(comparison):
    e = comparison["eagle"]
    with pytest.raises(ValueError, match="overlay") as err:
        explanation_figure(e, overlay="nope")
    msg = str(err.value)
    assert all(repr(name) in msg for name in ("blend", "contours", "beside", "contour")) and "'nope'" in msg
    with pytest.raises(ValueError, match="overlay") as err:
        comparison_figure(comparison, overlay="beside")  # the grid draws maps over images only
    msg = str(err.value)
    assert "'blend'" in msg and "'contours'" in msg and "'beside', got" not in msg and "got 'beside'" in msg
    with pytest.raises(ValueError, match="overlay"):
        explanation_figure(e, overlay=["contours"])


@pytest.mark.parametrize("overlay", ["blend", "contours", "beside"])
def test_the_map_colour_bar_sits_right_of_the_map_when_curves_are_drawn(comparison, overlay):
    fig = explanation_figure(comparison["eagle"], overlay=overlay, curves=True)
    maps = [tr for tr in fig.data if tr.name == "map"]
    assert len(maps) == 1 and maps[0].type in ("heatmap", "contour")
    dom = fig.layout["xaxis2" if overlay == "beside" else "xaxis"].domain
    assert maps[0].colorbar.x == pytest.approx(dom[1] + 0.01)
    assert maps[0].colorbar.title.text == "score"
    curves = [tr for tr in fig.data if tr.type == "scatter"]
    assert [tr.name for tr in curves] == ["insertion", "deletion"]
    assert all(tr.marker.colorbar.x is None for tr in curves)
