"""Multi-image prompts through ``MultiImageModel``: regions span all images, masks apply per image.

On the ShapesVLM (trained on single images) two scenes are given and the question names a shape that only
one of them holds; the model still answers its colour, and EAGLE's map puts most of its mass on that
image, in either order. On tiny random models of LLaVA, LLaVA-NeXT, Qwen2-VL and Idefics3 (random weights:
no answer depends on anything) the test checks only the mechanics: the prompt holds both images, and a
canvas mask that removes image 2 scores exactly like a prompt whose image 2 is the baseline.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import xattr_lab
from xattr_lab.datasets.shapes import sample
from xattr_lab.metrics.localisation import pointing_game
from xattr_lab.models.multi_image import MultiImageModel, canvas, image_boxes, image_mass, image_regions

# scene 3000 asks "what colour is the star ?" (a blue star); scene 5000 holds a yellow circle and a purple
# triangle (no star, no blue)
WITH_STAR, WITHOUT = 3000, 5000


@pytest.fixture(scope="module")
def multi(toy):
    return MultiImageModel(toy)


@pytest.mark.parametrize("star_first", [True, False])
def test_the_map_rests_on_the_image_that_holds_the_answer(multi, star_first, tmp_path):
    s, other = sample(WITH_STAR, "colour"), sample(WITHOUT, "colour")
    assert s.prompt == "what colour is the star ?" and all("star" not in o for o in other.objects)
    images = [s.image, other.image] if star_first else [other.image, s.image]
    gen = multi.generate(images, s.prompt, max_new_tokens=3)
    assert gen.generated_tokens[0] == s.answer == "blue"
    labels = image_regions("slico:16", gen)
    e = xattr_lab.explain(multi, None, s.prompt, "eagle", regions=labels, search="efficient", generation=gen)
    k = 0 if star_first else 1
    mass = image_mass(e.pixel_map, gen)
    assert mass[k] > 0.9 and mass.sum() == pytest.approx(1.0)
    x0, y0, x1, y1 = image_boxes(gen)[k]
    star = np.zeros(gen.image.shape[:2], dtype=bool)
    star[y0:y1, x0:x1] = s.masks[s.target]
    assert pointing_game(e.pixel_map, mask=star)
    if star_first:  # the shared measuring path and the saved form work on the canvas too
        out = xattr_lab.evaluate(multi, e)
        assert out["insertion_auc"] == pytest.approx(e.insertion_auc, abs=1e-5)
        back = xattr_lab.load(e.save(tmp_path / "multi"))
        assert image_boxes(back.generation) == image_boxes(gen)
        np.testing.assert_array_equal(back.pixel_map, e.pixel_map)


def test_regions_never_cross_images(toy, multi):
    a, b = sample(WITH_STAR, "colour").image, sample(WITHOUT, "colour").image[:80]  # different heights
    gen = multi.generate([a, b], "what colour is the star ?", max_new_tokens=2)
    image, boxes = canvas([a, b])
    assert np.array_equal(gen.image, image) and boxes == [(0, 0, 96, 96), (96, 0, 192, 80)]
    labels = image_regions("slico:8", gen)
    assert labels.shape == gen.image.shape[:2] and sorted(np.unique(labels)) == list(range(labels.max() + 1))
    assert not set(np.unique(labels[:, :96])) & set(np.unique(labels[:, 96:]))


@pytest.mark.parametrize("family", ["llava", "llava_next", "qwen2_vl", "idefics3"])
def test_a_mask_over_one_image_is_that_image_replaced(tiny_models, family):
    base = tiny_models(family)
    multi = MultiImageModel(base)
    rng = np.random.default_rng(1)
    a, b = (rng.integers(0, 256, (32, 32, 3), dtype=np.uint8) for _ in range(2))
    gen = multi.generate([a, b], "what is in the image ?", max_new_tokens=2)
    if gen.n_generated == 0:
        gen = multi.with_target(gen, "a red circle")
    n_image = int((gen.input_ids == base.image_token_id).sum())
    single = base.generate(a, "what is in the image ?", max_new_tokens=1)
    assert n_image == 2 * int((single.input_ids == base.image_token_id).sum())  # both images reach the model
    keep_a = torch.ones(2, 32, 64)
    keep_a[1, :, 32:] = 0  # the second mask removes image 2
    got = multi.score(gen, keep_a)
    black_b = multi.with_target(multi.generate([a, np.zeros_like(b)], "what is in the image ?"), gen.generated_ids)
    expected = multi.score(black_b, torch.ones(1, 32, 64))
    torch.testing.assert_close(got[1:], expected, atol=2e-6, rtol=1e-5)
    assert not torch.allclose(got[0], got[1])  # image 2 matters to the random model at all


def test_refusals(multi):
    s = sample(WITH_STAR, "colour")
    with pytest.raises(ValueError, match="images: expected a list of at least two"):
        multi.generate([s.image], s.prompt)
    single = multi.base.generate(s.image, s.prompt, max_new_tokens=2)
    with pytest.raises(ValueError, match="not a multi-image generation"):
        multi.score(single, torch.ones(1, 96, 96))
    with pytest.raises(TypeError, match="base: expected a transformers adapter"):
        MultiImageModel(object())


def test_scoring_chunks_follow_the_adapters_batch_size(toy):
    """The wrapper scores in the adapter's automatic batch, so ``batch_size`` means the same for both."""
    multi = MultiImageModel(toy)
    a, b = sample(WITH_STAR, "colour").image, sample(WITHOUT, "colour").image
    gen = multi.generate([a, b], "what colour is the star ?", max_new_tokens=2)
    masks = torch.ones(7, *gen.image.shape[:2])
    masks[1::2, :, 96:] = 0
    whole = multi.score(gen, masks)
    calls = []
    forward = toy._forward_probs
    old = toy.batch_size
    try:
        toy.batch_size = 3
        toy._forward_probs = lambda inputs, *a: calls.append(inputs["input_ids"].shape[0]) or forward(inputs, *a)
        chunked = multi.score(gen, masks)
    finally:
        del toy._forward_probs
        toy.batch_size = old
    assert calls == [3, 3, 1]
    torch.testing.assert_close(chunked, whole, atol=1e-6, rtol=1e-5)
