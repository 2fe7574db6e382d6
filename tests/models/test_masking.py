import numpy as np
import pytest
import torch

from xattr_lab.models.masking import PixelSpaceMasker, baseline_image, check_masks, mask_images


def processed(model, images, text):
    return model._process(list(images), [text] * len(images))["pixel_values"]


@pytest.mark.parametrize("baseline", ["black", "white", 0.3, (10, 200, 30), "blur"])
def test_llava_pixel_space_equals_mask_then_process(tiny_models, rgb_image, baseline):
    """Resize + centre crop + normalise: compositing after the processor matches compositing before it."""
    model = tiny_models("llava")
    gen = model.generate(rgb_image, "what is in the image ?", 1)
    prep = model._prepare(gen.image, gen.prompt)
    assert prep.masker is not None and prep.masker.resized == (32, 41) and prep.masker.crop == (0, 4, 32, 32)
    masks = torch.ones(3, 40, 52)
    masks[1, :, :26] = 0
    masks[2, 10:30, 10:40] = 0
    fast = prep.masker.apply(prep.enc["pixel_values"], model._processed_baseline(prep, baseline), masks)
    slow = processed(model, mask_images(rgb_image, masks, baseline_image(baseline, rgb_image)), prep.text)
    diff = (fast - slow).abs()
    assert diff[0].max() < 1e-5  # no mask: identical
    assert diff.mean() < 0.03  # normalised units (range ~4): resampling differs only along mask edges
    # away from the edges the two agree to uint8 rounding
    m = prep.masker.transform(masks)
    pool = torch.nn.functional.max_pool2d
    interior = (pool(m, 5, 1, 2) == -pool(-m, 5, 1, 2))[:, 0]  # 2+ pixels from any mask edge
    assert (diff.amax(1)[interior] < 0.05).all()


def test_toy_pixel_space_is_exact(toy):
    from xattr_lab.datasets import shapes

    s = next(shapes(1, seed=9))
    gen = toy.generate(s.image, s.prompt, 2)
    prep = toy._prepare(gen.image, gen.prompt)
    masks = torch.from_numpy(np.stack([~s.masks[0], np.ones((96, 96), bool)])).float()
    fast = prep.masker.apply(prep.enc["pixel_values"], toy._processed_baseline(prep, "black"), masks)
    slow = processed(toy, mask_images(s.image, masks, baseline_image("black", s.image)), prep.text)
    torch.testing.assert_close(fast, slow, atol=1e-5, rtol=0)
    a = toy.score(gen, masks)
    b = toy.score(gen, masks, pixel_space=False)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_masker_refuses_tiling_processors(tiny_models):
    for name in ("llava_next", "qwen2_vl", "idefics3"):
        ip = tiny_models(name).processor.image_processor
        assert PixelSpaceMasker.for_processor(ip, 40, 52) is None


def test_check_masks():
    assert check_masks(np.ones((40, 52), bool), 40, 52).shape == (1, 40, 52)
    with pytest.raises(ValueError, match="masks"):
        check_masks(torch.ones(2, 40, 50), 40, 52)
    with pytest.raises(ValueError, match="masks"):
        check_masks(torch.full((1, 40, 52), 2.0), 40, 52)
    with pytest.raises(TypeError, match="masks"):
        check_masks([[1, 0]], 40, 52)


def test_baselines(rgb_image):
    assert baseline_image("black", rgb_image).max() == 0
    assert baseline_image("white", rgb_image).min() == 255
    assert np.allclose(baseline_image("mean", rgb_image)[0, 0], rgb_image.reshape(-1, 3).mean(0))
    assert baseline_image(0.5, rgb_image)[0, 0, 0] == 127.5
    assert baseline_image(rgb_image, rgb_image).shape == rgb_image.shape
    with pytest.raises(ValueError, match="baseline"):
        baseline_image("purple", rgb_image)
    with pytest.raises(ValueError, match="baseline"):
        baseline_image(np.zeros((3, 3, 3)), rgb_image)


def test_mask_images_soft(rgb_image):
    m = torch.full((1, 40, 52), 0.5)
    out = mask_images(rgb_image, m, baseline_image("black", rgb_image))
    assert np.abs(out[0].astype(int) - rgb_image.astype(int) / 2).max() <= 1
