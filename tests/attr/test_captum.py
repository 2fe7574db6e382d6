import numpy as np
import pytest

import xattr_lab
from xattr_lab.attr.synthetic import SyntheticModel
from xattr_lab.metrics.localisation import pointing_game

BLACK_BOX = {
    "feature_ablation": {},
    "kernel_shap": {"n_samples": 300},
    "lime": {"n_samples": 64},
    "occlusion": {"window": 8, "stride": 4},
}


@pytest.fixture(scope="module")
def synthetic():
    return SyntheticModel(size=32, boxes=((2, 2, 12, 12), (18, 4, 30, 14), (6, 18, 16, 30)))


@pytest.mark.parametrize("method", sorted(BLACK_BOX))
def test_black_box_baselines_find_the_tokens_object(synthetic, method):
    m = synthetic
    for pos, obj in [(0, 0), (1, 1), (3, 2)]:
        e = xattr_lab.explain(
            m, m.image, "describe", method=method, tokens=[pos], regions="grid:8", **BLACK_BOX[method]
        )
        assert pointing_game(e.pixel_map, mask=m.object_masks[obj]), (method, pos)
        assert xattr_lab.evaluate(m, e)["insertion_auc"] > 0.5


def test_feature_ablation_shares_the_memoised_scorer(synthetic):
    e = xattr_lab.explain(synthetic, synthetic.image, "describe", method="feature_ablation", regions="grid:4")
    # N single-region ablations + the full image, all through the memoised scorer
    assert e.cost["n_forward_search"] == 16 + 1


def test_occlusion_counts_its_own_images(synthetic):
    e = xattr_lab.explain(
        synthetic, synthetic.image, "describe", method="occlusion", regions="grid:4", window=16, stride=16
    )
    assert e.info["n_forward_method"] == 4 + 1 and e.params == {"window": 16, "stride": 16}


@pytest.mark.parametrize("bad", [{"n_samples": 1}, {"n_samples": "many"}])
def test_sampling_baselines_reject_bad_sample_counts(synthetic, bad):
    with pytest.raises(ValueError, match="n_samples"):
        xattr_lab.explain(synthetic, synthetic.image, "describe", method="kernel_shap", regions="grid:2", **bad)


def test_gradient_baselines_refuse_black_box_models(synthetic):
    for method in ("integrated_gradients", "saliency", "layer_gradcam"):
        with pytest.raises(ValueError, match="gradients"):
            xattr_lab.explain(synthetic, synthetic.image, "describe", method=method, regions="grid:2")


@pytest.fixture(scope="module")
def toy():
    from xattr_lab.datasets import shapes

    model = xattr_lab.load_model("toy-shapes", device="cpu")
    s = next(shapes(1, seed=3, task="colour"))
    return model, s, model.generate(s.image, s.prompt, max_new_tokens=1)


def test_integrated_gradients_wrapper_is_complete(toy):
    """IG through our forward wrapper: attributions sum to f(x) − f(baseline) (Captum's convergence delta)."""
    from captum.attr import IntegratedGradients

    from xattr_lab.attr.context import MethodContext
    from xattr_lab.attr.methods._captum import PixelForward
    from xattr_lab.inputs.regions import make_regions
    from xattr_lab.scoring.subsets import SubsetScorer

    model, s, gen = toy
    regions = make_regions("grid:2", s.image)
    ctx = MethodContext(model, gen, regions, (0,), SubsetScorer(model, gen, regions, (0,)))
    forward = PixelForward(ctx)
    pixels, base = forward.inputs()
    # The trained model's log-probability is steep along part of the straight-line path (a jump of ~0.5
    # between alphas 1/200 apart), so the Riemann/Gauss-Legendre sum needs many steps to converge:
    # delta is -0.55 at 32 steps, 0.40 at 128 and 0.002 at 1024.
    attr, delta = IntegratedGradients(forward).attribute(
        pixels, baselines=base, n_steps=1024, internal_batch_size=128, return_convergence_delta=True
    )
    gap = float((forward(pixels) - forward(base)).detach())
    assert abs(float(delta)) < 0.05 * max(abs(gap), 1e-2)
    assert attr.shape == pixels.shape


@pytest.mark.parametrize("method", ["integrated_gradients", "saliency", "layer_gradcam"])
def test_gradient_baselines_on_the_shapes_vlm(toy, method):
    model, s, gen = toy
    kw = {"n_steps": 4} if method == "integrated_gradients" else {}
    e = xattr_lab.explain(model, s.image, s.prompt, method=method, generation=gen, regions="grid:3", **kw)
    assert e.pixel_map.shape == (96, 96) and np.isfinite(e.pixel_map).all()
    assert e.info["n_forward_method"] >= 1
