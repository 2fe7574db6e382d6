"""The Captum baselines attribute the same contrastive margin as the searches (ShapesVLM, 4 regions)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import xattr_lab
from xattr_lab.datasets.shapes import sample

pytest.importorskip("captum")

SEED = 3001  # "what colour is the star ?": a purple star and a green triangle


@pytest.fixture(scope="module")
def model():
    return xattr_lab.load_model("toy-shapes")


@pytest.fixture(scope="module")
def case(model):
    s = sample(SEED, "colour")
    gen = model.generate(s.image, s.prompt, max_new_tokens=3)
    other = [o.split()[0] for o in s.objects if o.split()[0] != gen.generated_tokens[0]][0]
    return s, gen, other


def margin_of(model, gen, other, masks) -> np.ndarray:
    m = torch.as_tensor(np.asarray(masks, dtype=np.float32))
    pt = model.score(gen, m, positions=[0]).double().numpy()[:, 0]
    pc = model.score(model.with_target(gen, other), m, positions=[0]).double().numpy()[:, 0]
    return np.log(pt) - np.log(pc)


def test_feature_ablation_scores_are_margin_drops(model, case):
    s, gen, other = case
    e = xattr_lab.explain(model, None, s.prompt, "feature_ablation", regions="grid:2", generation=gen, contrast=other)
    labels = e.regions.labels
    masks = np.stack([np.ones_like(labels)] + [labels != k for k in range(e.regions.n)])
    m = margin_of(model, gen, other, masks)
    np.testing.assert_allclose(e.region_scores, m[0] - m[1:], atol=1e-4)


@pytest.mark.parametrize("method", ["occlusion", "lime", "kernel_shap", "integrated_gradients", "saliency", "random"])
def test_baselines_run_on_the_margin(model, case, method):
    s, gen, other = case
    params = {"n_steps": 4} if method == "integrated_gradients" else {}
    if method in ("lime", "kernel_shap"):
        params = {"n_samples": 12}
    if method == "occlusion":
        params = {"window": 48, "stride": 48}
    e = xattr_lab.explain(
        model, None, s.prompt, method, regions="grid:2", generation=gen, contrast=other, **params
    )
    assert e.contrast.tokens == (other,)
    assert np.isfinite(e.pixel_map).all() and np.isfinite(e.region_scores).all()
    full = margin_of(model, gen, other, np.ones((1, 96, 96)))[0]
    assert e.insertion[0, -1] == pytest.approx(full, abs=1e-4)  # curves hold the margin
    assert e.deletion[0, 0] == pytest.approx(full, abs=1e-4)


def test_gradient_forward_is_the_margin(model, case):
    from xattr_lab.attr.context import MethodContext
    from xattr_lab.attr.methods._captum import PixelForward
    from xattr_lab.inputs.regions import make_regions
    from xattr_lab.scoring.subsets import SubsetScorer

    s, gen, other = case
    regions = make_regions("grid:2", gen.image)
    cid = int(model.with_target(gen, other).generated_ids[0])
    scorer = SubsetScorer(model, gen, regions, [0], contrast=[cid])
    forward = PixelForward(MethodContext(model, gen, regions, (0,), scorer))
    pixels, _ = forward.inputs()
    value = float(forward(pixels)[0].detach())
    assert value == pytest.approx(float(scorer.margins([scorer.full])[0, 0]), abs=1e-3)
    assert forward.n_images == 2  # pixel_forward reads a generation's own tokens: the contrast costs one more
