import dataclasses

import numpy as np
import pytest

from xattr_lab.attr.context import MethodContext, MethodOutput
from xattr_lab.attr.methods.msea import msea, scale_map
from xattr_lab.attr.synthetic import SyntheticModel
from xattr_lab.inputs.regions import make_regions
from xattr_lab.scoring.subsets import SubsetScorer


def brightness(ctx):
    """An image-equivariant 'map': the red channel; any correct multi-scale geometry must give it back."""
    return MethodOutput(pixel_map=ctx.generation.image[..., 0].astype(np.float32) / 255)


@pytest.fixture
def ctx():
    model = SyntheticModel(size=48)
    gen = model.generate()
    regions = make_regions("grid:4", gen.image)
    return MethodContext(model, gen, regions, (0,), SubsetScorer(model, gen, regions, (0,)))


@pytest.mark.parametrize("mode", ["resize", "canvas"])
@pytest.mark.parametrize("scale", [0.5, 1.0, 1.5, 2.0])
def test_each_scale_maps_back_onto_the_image(ctx, mode, scale):
    expected = ctx.generation.image[..., 0] / 255
    got, n = scale_map(ctx, brightness, {}, scale, mode)
    assert got.shape == expected.shape
    inner = (slice(4, -4), slice(4, -4))  # resampling blurs object edges
    assert np.mean(np.abs(got - expected)[inner]) < 0.08
    assert n == (4 if mode == "canvas" and scale > 1 else 1)


def test_msea_checks_its_arguments(ctx):
    with pytest.raises(ValueError, match="scales"):
        msea(ctx, scales=(0.0,))
    with pytest.raises(ValueError, match="mode"):
        msea(ctx, mode="zoom")
    with pytest.raises(ValueError, match="base"):
        msea(ctx, base="tam_msea_arc")
    with pytest.raises(ValueError, match="method"):
        msea(ctx, base="nope")


def test_msea_over_a_registered_map_method(ctx):
    ctx = dataclasses.replace(ctx, baseline="black")
    out = msea(ctx, base="feature_ablation", scales=(1.0,), mode="resize")  # the synthetic model has one size
    assert out.pixel_map.shape == (48, 48) and out.params["scales"] == [1.0]
    assert out.pixel_map[8, 8] > out.pixel_map[2, 46]  # object 0 matters for token 0, the corner does not
