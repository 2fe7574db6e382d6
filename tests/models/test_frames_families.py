"""Frames on every multi-image family (tiny random models): a clip reaches the model as T images, and the
temporal curve's removal of frame t scores exactly like the clip with frame t black."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from xattr_lab.models.frames import FramesModel
from xattr_lab.video.explain import explain_frames

PROMPT = "what is in the image ?"


@pytest.mark.parametrize("family", ["llava", "llava_next", "qwen2_vl", "idefics3"])
def test_frames_explained_on_every_family(tiny_models, family):
    base = tiny_models(family)
    model = FramesModel(base)
    clip = np.random.default_rng(2).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    gen = model.generate(clip, PROMPT, max_new_tokens=1)
    if gen.n_generated == 0:
        gen = model.with_target(gen, "a")
    single = base.generate(clip[0], PROMPT, max_new_tokens=1)
    n_image = int((gen.input_ids == base.image_token_id).sum())
    assert n_image == 3 * int((single.input_ids == base.image_token_id).sum())  # all three frames reach it
    e = explain_frames(model, None, PROMPT, "feature_ablation", tokens=[0], regions="frames:grid:1", generation=gen)
    f = e.info["frames"]
    assert e.regions.n == 3 and f["n_frames"] == 3 and f["n_forward"] == 4
    black = clip.copy()
    black[1] = 0
    gen_black = model.with_target(model.generate(black, PROMPT, max_new_tokens=1), gen.generated_ids)
    expected = float(model.score(gen_black, torch.ones(1, 32, 96), positions=[0])[0, 0])
    assert np.isclose(f["value_removed"][1], expected, atol=2e-6, rtol=1e-5)
