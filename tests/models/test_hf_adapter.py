import numpy as np
import pytest
import torch

from xattr_lab.models.protocol import Generation, ScoringModel, WhiteBoxModel

FAMILY_NAMES = ["llava", "llava_next", "qwen2_vl", "idefics3"]
PROMPT = "what is in the image ?"


@pytest.fixture(params=FAMILY_NAMES)
def family(request, tiny_models, rgb_image):
    model = tiny_models(request.param)
    gen = model.generate(rgb_image, PROMPT, max_new_tokens=3)
    gen = model.with_target(gen, "a red circle on the left")  # 6 tokens, none special
    return model, gen


def block_masks(b=5, h=40, w=52):
    masks = torch.ones(b, h, w)
    for i in range(1, b):
        masks[i, (i * 7) % h :, : (i * 11) % w] = 0
    return masks


def test_protocols(family):
    model, gen = family
    assert isinstance(model, ScoringModel) and isinstance(model, WhiteBoxModel)
    assert {"scores", "text", "gradients", "hidden_states"} <= model.capabilities


def test_generation_fields(family):
    model, gen = family
    assert isinstance(gen, Generation) and gen.is_target and gen.n_generated == 6
    start, end = gen.image_token_span
    ids = gen.input_ids
    image_id = model.image_token_id
    assert ids[start] == image_id and ids[end - 1] == image_id
    assert (ids == image_id).sum() == gen.geometry["n_image_tokens"] > 0
    assert "<image>" in gen.prompt_tokens and gen.text == "a red circle on the left"


def test_score_shapes_and_batching(family):
    model, gen = family
    masks = block_masks()
    before = model.n_forward
    probs = model.score(gen, masks)
    assert probs.shape == (5, 6) and probs.dtype == torch.float32
    assert ((probs > 0) & (probs <= 1)).all()
    assert model.n_forward - before == 1  # one forward for the whole batch
    one_by_one = torch.cat([model.score(gen, masks[i : i + 1]) for i in range(5)])
    torch.testing.assert_close(probs, one_by_one, atol=1e-5, rtol=1e-4)


def test_positions_and_truncation(family):
    model, gen = family
    masks = block_masks(3)
    full = model.score(gen, masks)
    lengths = []
    handle = model.language_model.register_forward_pre_hook(
        lambda m, a, kw: lengths.append(kw["inputs_embeds"].shape[1]), with_kwargs=True
    )
    try:
        part = model.score(gen, masks, positions=[0, 2])
    finally:
        handle.remove()
    torch.testing.assert_close(part, full[:, [0, 2]], atol=1e-5, rtol=1e-4)
    # the sequence stops right after the last target's context: prompt + generated[:2]
    assert lengths == [gen.input_ids.shape[0] + 2]


def test_logits_only_at_targets(family):
    model, gen = family
    shapes = []
    head = model.model.get_output_embeddings()
    handle = head.register_forward_hook(lambda m, a, out: shapes.append(tuple(out.shape)))
    try:
        model.score(gen, block_masks(4), positions=[1, 4])
    finally:
        handle.remove()
    assert shapes[0][:2] == (4, 2)


def test_auto_batch_and_oom_backoff(family, monkeypatch):
    model, gen = family
    masks = block_masks(5)
    expected = model.score(gen, masks)
    old = model.batch_size
    real_forward = model.model.forward

    def flaky(*args, **kwargs):
        if kwargs["input_ids"].shape[0] > 2:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real_forward(*args, **kwargs)

    monkeypatch.setattr(model.model, "forward", flaky)
    try:
        before = model.n_forward
        got = model.score(gen, masks)
        assert model.batch_size == 2
        assert model.n_forward - before >= 3
    finally:
        monkeypatch.undo()
        model.batch_size = old
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-4)


def test_score_text(family):
    model, gen = family
    ones = model.score(gen, torch.ones(1, 40, 52))
    variants = [PROMPT, "what", "what is in the image ? describe the image"]
    before = model.n_forward
    probs = model.score_text(gen, variants)
    assert probs.shape == (3, 6) and model.n_forward - before == 1
    torch.testing.assert_close(probs[0], ones[0], atol=1e-5, rtol=1e-4)
    # padded rows give what each variant gives alone
    alone = model.score_text(gen, [variants[1]])
    torch.testing.assert_close(probs[1], alone[0], atol=1e-5, rtol=1e-4)


def test_masking_paths_agree(family):
    model, gen = family
    masks = block_masks(4)
    a = model.score(gen, masks, baseline="black")
    b = model.score(gen, masks, baseline="black", pixel_space=False)
    torch.testing.assert_close(a, b, atol=2e-3, rtol=2e-2)


def test_white_box(family):
    model, gen = family
    n_img = gen.geometry["n_image_tokens"]
    feats = model.image_features(gen)
    assert feats.shape[0] == n_img
    x = feats[None].clone().requires_grad_()
    probs = model.score_features(gen, x, positions=[0])
    probs.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    torch.testing.assert_close(probs.detach(), model.score(gen, torch.ones(1, 40, 52), positions=[0]), atol=1e-5,
                               rtol=1e-4)  # fmt: skip
    lens = model.logit_lens(gen, layer=1)
    assert lens.shape == (6, n_img)
    assert model.image_hidden_states(gen).shape[0] == n_img
    pv = model.processed_pixels(gen).requires_grad_()
    model.pixel_forward(gen, pv, positions=[1]).sum().backward()
    assert pv.grad.abs().sum() > 0


def test_generate_is_greedy_and_deterministic(tiny_models, rgb_image):
    model = tiny_models("llava")
    a = model.generate(rgb_image, PROMPT, max_new_tokens=4)
    b = model.generate(rgb_image, PROMPT, max_new_tokens=4)
    assert torch.equal(a.generated_ids, b.generated_ids) and not a.is_target
    if a.n_generated:
        # the greedy token is the argmax of the scored distribution: its probability is the largest
        p = model.score(a, torch.ones(1, 40, 52), positions=[0])
        assert p.item() > 0


def test_pixel_space_used_where_geometry_allows(tiny_models):
    # every family's PIL processor is traced and replayed (xattr_lab.models.processed_masks)
    for name in ("llava", "llava_next", "qwen2_vl", "idefics3"):
        gen = tiny_models(name).generate(np.zeros((40, 52, 3), np.uint8), PROMPT, 1)
        assert gen.geometry["pixel_space_masking"] and gen.geometry["masking_path"] == "processed_replay"
