"""The fast masked forwards (``models.fast_forward``) give the plain forward's scores, and skip the shared work.

Qwen2-VL / 2.5-VL pass their rope and vision positions in precomputed; split Idefics3 re-encodes only the
tiles a mask touched. Each must score every masked image as the model's own forward does (to float
tolerance), record its path, skip what it claims to skip, and be dropped with a warning when it disagrees.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from xattr_lab.bench.families import block_masks
from xattr_lab.models import fast_forward
from xattr_lab.models.loading import load_model

PROMPT = "what is in the image ?"
TARGET = "red circle"
FAST = {"qwen2_vl": "qwen_precomputed_positions", "qwen2_5_vl": "qwen_precomputed_positions",
        "idefics3_split": "tile_feature_cache"}  # fmt: skip


@pytest.fixture(scope="module")
def built():
    from test_byom_roundtrip import _builders

    cache = {}

    def get(name):
        if name not in cache:
            model = load_model(_builders()[name](), device="cpu")
            image = np.random.default_rng(1).integers(0, 256, (40, 52, 3), dtype=np.uint8)
            cache[name] = model, model.with_target(model.generate(image, PROMPT, max_new_tokens=1), TARGET)
        return cache[name]

    return get


def _plain(model, fn):
    model.fast_forward = False
    try:
        return fn()
    finally:
        model.fast_forward = True


@pytest.mark.parametrize("family", sorted(FAST))
@pytest.mark.parametrize("pixel_space", [True, False])
def test_fast_forward_scores_equal_the_plain_forward(built, family, pixel_space):
    model, gen = built(family)
    masks = block_masks(12, 40, 52, seed=2)
    masks[3] = 1  # hides nothing
    masks[4, :, :] = 0.5  # soft everywhere
    fast = model.score(gen, masks, baseline="blur", pixel_space=pixel_space)
    plain = _plain(model, lambda: model.score(gen, masks, baseline="blur", pixel_space=pixel_space))
    assert gen.geometry["forward_path"] == FAST[family]
    assert model.provenance(gen)["forward_path"] == FAST[family]
    prep = model._prepare(gen.image, gen.prompt)
    assert prep.forward.active and prep.forward.error <= fast_forward.CHECK_TOLERANCE
    torch.testing.assert_close(fast, plain, rtol=1e-5, atol=1e-7)
    assert plain.std() > 0  # the masks change the scores: the comparison is not between constants
    switched_off = _plain(model, lambda: model.generate(gen.image, PROMPT, max_new_tokens=1))
    assert switched_off.geometry["forward_path"] == "plain"


def test_plain_families_keep_the_plain_forward(tiny_models):
    for name in ("llava", "llava_next", "idefics3"):  # one Idefics3 tile: every mask touches it
        model = tiny_models(name)
        gen = model.generate(np.zeros((40, 52, 3), np.uint8), PROMPT, max_new_tokens=1)
        assert gen.geometry["forward_path"] == "plain"


def test_qwen_rope_positions_are_computed_once_per_sequence(built):
    model, gen = built("qwen2_vl")
    base = model.model.model
    calls = []
    original = base.get_rope_index
    base.get_rope_index = lambda *a, **k: calls.append(a[0].shape) or original(*a, **k)
    try:
        gen2 = model.with_target(gen, "one blue square")  # a new sequence length: positions computed anew
        model.score(gen2, block_masks(7, 40, 52))
        model.score(gen2, block_masks(7, 40, 52, seed=5))
        assert [tuple(s) for s in calls] == [(1, gen2.input_ids.shape[0] + gen2.n_generated - 1)]
        _plain(model, lambda: model.score(gen2, block_masks(7, 40, 52)))
        assert len(calls) == 2 and tuple(calls[1])[0] == 7  # the plain forward: every row, every call
    finally:
        del base.get_rope_index


def test_idefics3_encodes_only_the_tiles_a_mask_touched(built):
    model, gen = built("idefics3_split")
    vision = model.model.model.vision_model
    model.score(gen, torch.ones(1, 40, 52))  # the one-off check and the unmasked tiles' features, cached
    seen = []
    handle = vision.register_forward_pre_hook(lambda mod, args, kw: seen.append(int(kw["pixel_values"].shape[0])),
                                              with_kwargs=True)  # fmt: skip
    try:
        masks = torch.ones(4, 40, 52)
        masks[1, :6, :6] = 0  # top-left corner: its crop and the global image
        masks[2, -6:, -6:] = 0  # bottom-right corner
        model.score(gen, masks)
        n_tiles = model._prepare(gen.image, gen.prompt).enc["pixel_values"].shape[1]
        assert n_tiles == 5
        assert sum(seen) == 4  # two crops and two global images; unmasked rows and crops reuse the cache
        seen.clear()
        _plain(model, lambda: model.score(gen, masks))
        assert sum(seen) == 4 * n_tiles
    finally:
        handle.remove()


def test_a_fast_path_that_disagrees_is_dropped_with_a_warning(built, monkeypatch):
    from test_byom_roundtrip import _builders

    model = load_model(_builders()["idefics3_split"](), device="cpu")
    gen = model.with_target(model.generate(np.full((40, 52, 3), 90, np.uint8), PROMPT, max_new_tokens=1), TARGET)
    wrong = fast_forward.FastForward._features
    monkeypatch.setattr(fast_forward.FastForward, "_features", lambda self, p, a: wrong(self, p, a) * 3)
    masks = block_masks(5, 40, 52)
    with pytest.warns(RuntimeWarning, match="tile_feature_cache forward is not used"):
        got = model.score(gen, masks)
    prep = model._prepare(gen.image, gen.prompt)
    assert not prep.forward.active and "differs from the plain forward" in prep.forward.reason
    assert model.generate(gen.image, PROMPT, max_new_tokens=1).geometry["forward_path"] == "plain"
    torch.testing.assert_close(got, _plain(model, lambda: model.score(gen, masks)), rtol=0, atol=0)
