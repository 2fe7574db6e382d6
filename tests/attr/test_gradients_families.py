"""Gradient baselines on every family (issue 18 item 2): IG, Saliency and LayerGradCam on tiny random models.

Before, they worked on LLaVA-1.5 only: Qwen's patch rows ``[n, C·T·P·P]`` and the tiles ``[1, T, 3, h, w]``
of LLaVA-NeXT and Idefics3 could not be mapped back to the image, LayerGradCam found no Conv2d on Qwen
(Conv3d) or Idefics3 (``vision_model``), and IG on Qwen ran one forward per step.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import xattr_lab

sys.path.insert(0, str(Path(__file__).parents[1] / "models"))  # tests/models/tiny.py and the BYOM builders

FAMILIES = ["llava", "llava_next", "qwen2_vl", "qwen2_5_vl", "idefics3", "idefics3_split"]
METHODS = {"integrated_gradients": {"n_steps": 4}, "saliency": {}, "layer_gradcam": {}}
PROMPT = "what is in the image ?"


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def models():
    from test_byom_roundtrip import _builders

    from xattr_lab.models.loading import load_model

    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = load_model(_builders()[name](), device="cpu")
        return cache[name]

    return get


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(0).integers(0, 256, (40, 52, 3), dtype=np.uint8)


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("family", FAMILIES)
def test_gradient_baselines_give_a_finite_map_of_the_image_on_every_family(models, image, family, method):
    m = models(family)
    e = xattr_lab.explain(m, image, PROMPT, method=method, regions="grid:2", max_new_tokens=2, **METHODS[method])
    assert e.pixel_map.shape == image.shape[:2]
    assert np.isfinite(e.pixel_map).all() and not e.partial
    if method != "layer_gradcam":  # Grad-CAM's ReLU may zero a random model's map; gradients do not vanish
        assert np.abs(e.pixel_map).max() > 0
    # one image per IG step (a whole processed layout, never a patch row), one for the others
    assert e.info["n_forward_method"] == METHODS[method].get("n_steps", 1)


@pytest.mark.parametrize("family", ["qwen2_vl", "idefics3_split"])
def test_integrated_gradients_batch_their_steps_in_one_forward(models, image, family, monkeypatch):
    """Before, Captum took Qwen's patch rows for examples and ran one forward per step."""
    m = models(family)
    calls = []
    forward = m.pixel_forward

    def counting(gen, pixels, positions=None):
        calls.append(tuple(pixels.shape))
        return forward(gen, pixels, positions)

    monkeypatch.setattr(m, "pixel_forward", counting)
    xattr_lab.explain(m, image, PROMPT, method="integrated_gradients", regions="grid:2", max_new_tokens=1, n_steps=6)
    ref = m.processed_pixels(m.generate(image, PROMPT, max_new_tokens=1))
    assert len(calls) == 1 and calls[0] == (6 * ref.shape[0], *ref.shape[1:])


def test_integrated_gradients_on_qwen_keep_their_total_through_the_geometry(models, image):
    """Un-patchifying moves every processed pixel's attribution to the image: the map's total is Captum's."""
    from captum.attr import IntegratedGradients

    from xattr_lab.attr.context import MethodContext
    from xattr_lab.attr.methods._captum import PixelForward

    m = models("qwen2_vl")
    e = xattr_lab.explain(m, image, PROMPT, method="integrated_gradients", regions="grid:2", max_new_tokens=1,
                          n_steps=4)  # fmt: skip
    ctx = MethodContext(m, e.generation, None, tuple(e.positions), None)
    forward = PixelForward(ctx)
    x, b = forward.inputs()
    attr = IntegratedGradients(forward).attribute(x, baselines=b, n_steps=4, internal_batch_size=4)
    assert float(e.pixel_map.sum()) == pytest.approx(float(attr.detach().double().sum()), rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("family", ["llava_next", "qwen2_vl", "idefics3_split"])
def test_layer_gradcam_pools_over_the_image_or_per_tile(models, image, family):
    m = models(family)
    maps = {
        pool: xattr_lab.explain(m, image, PROMPT, method="layer_gradcam", regions="grid:2", max_new_tokens=1,
                                pool=pool, relu=False).pixel_map  # fmt: skip
        for pool in ("image", "tile")
    }
    for pixel_map in maps.values():
        assert pixel_map.shape == image.shape[:2] and np.isfinite(pixel_map).all() and np.abs(pixel_map).max() > 0
    assert not np.allclose(maps["image"], maps["tile"])  # channel weights from the whole image ≠ from each tile
    with pytest.raises(ValueError, match="pool"):
        xattr_lab.explain(m, image, PROMPT, method="layer_gradcam", regions="grid:2", max_new_tokens=1, pool="row")


def test_layer_gradcam_finds_each_family_s_patch_embedding(models):
    from xattr_lab.attr.methods.layer_gradcam import patch_embedding

    assert patch_embedding(models("idefics3")) is models("idefics3").model.model.vision_model.embeddings.patch_embedding
    qwen = models("qwen2_vl").model
    assert isinstance(patch_embedding(models("qwen2_vl")), torch.nn.Conv3d)
    assert patch_embedding(models("qwen2_vl")) is getattr(qwen.model, "visual", None).patch_embed.proj


def test_an_unknown_tiled_processor_is_refused_clearly():
    from xattr_lab.models.pixel_geometry import geometry_for

    class Unknown:
        pass

    with pytest.raises(ValueError, match="cannot map gradients"):
        geometry_for(Unknown(), (40, 52), {"pixel_values": torch.zeros(1, 3, 3, 32, 32)})
    with pytest.raises(ValueError, match="merge_size"):
        rows = {"pixel_values": torch.zeros(16, 1176), "image_grid_thw": torch.tensor([[1, 4, 4]])}
        geometry_for(Unknown(), (40, 52), rows)
