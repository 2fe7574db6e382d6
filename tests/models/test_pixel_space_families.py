"""Processed-space masking on every family equals mask-then-process at the mask edges, and says which path it took.

Tolerance: 1e-4 normalised units on every processed pixel whose resampling window straddles a mask edge (the
replay does the processor's own 8-bit arithmetic; measured <= 5e-7, float rounding of the normalisation), far
below one 8-bit level (0.0078 for Idefics3, 0.015 for CLIP/Qwen) and the resized-mask composite's edge error.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from test_byom_roundtrip import tiny_idefics3_split, tiny_qwen2_5_vl
from tiny import FAMILIES

from xattr_lab.models.loading import load_model

FAMILY_NAMES = ["llava", "llava_next", "qwen2_vl", "qwen2_5_vl", "idefics3", "idefics3_split"]
BUILDERS = {**FAMILIES, "qwen2_5_vl": tiny_qwen2_5_vl, "idefics3_split": tiny_idefics3_split}
PROMPT = "what is in the image ?"
EDGE_TOL = 1e-4


def _image(h: int = 40, w: int = 52, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _masks(h: int = 40, w: int = 52) -> torch.Tensor:
    """A hard-edged block, a soft-edged disc, and two blocks at odd offsets: edges in every direction."""
    m = torch.ones(4, h, w)
    m[0, 7:23, 11:30] = 0
    yy, xx = torch.meshgrid(torch.arange(h) + 0.5, torch.arange(w) + 0.5, indexing="ij")
    m[1] = ((torch.sqrt((yy - 21) ** 2 + (xx - 25) ** 2) - 9) / 4).clamp(0, 1)
    m[2, :19, 33:] = 0
    m[3, 25:, :17] = 0
    return m


@pytest.fixture(scope="module")
def models():
    cache = {}

    def get(name: str):
        if name not in cache:
            cache[name] = load_model(BUILDERS[name](), device="cpu")
        return cache[name]

    return get


def _pixels(model, prep, masks, baseline, pixel_space):
    return model._image_inputs(prep, masks, baseline, pixel_space)["pixel_values"].float()


@pytest.mark.parametrize("family", FAMILY_NAMES)
@pytest.mark.parametrize("baseline", ["black", "blur"])
def test_processed_space_equals_mask_then_process_at_mask_edges(models, family, baseline):
    model = models(family)
    image = _image()
    gen = model.generate(image, PROMPT, max_new_tokens=1)
    assert gen.geometry["masking_path"] == "processed_replay"
    prep = model._prepare(image, PROMPT)
    masks = _masks()
    got = _pixels(model, prep, masks, baseline, True)
    want = _pixels(model, prep, masks, baseline, False)
    kept = _pixels(model, prep, torch.ones_like(masks), baseline, False)
    gone = _pixels(model, prep, torch.zeros_like(masks), baseline, False)
    # edge pixels: their window sees both the image and the baseline (neither all-kept nor all-replaced)
    edge = ((want - kept).abs() > 1e-6) & ((want - gone).abs() > 1e-6)
    assert got.shape == want.shape and int(edge.sum()) > 50
    assert (got - want)[edge].abs().max().item() <= EDGE_TOL
    assert (got - want).abs().max().item() <= EDGE_TOL
    # the resized-mask composite (compositing after the resize) is visibly off at those same edges
    if family == "llava":
        from xattr_lab.models.masking import PixelSpaceMasker

        masker = PixelSpaceMasker.for_processor(model.processor.image_processor, *image.shape[:2])
        naive = masker.apply(prep.enc["pixel_values"], model._processed_baseline(prep, baseline), masks)
        assert (naive - want)[edge].abs().max().item() > 0.05


def _sensitised(family: str):
    """A fresh model whose vision patch embedding is scaled up, so small pixel errors move the output."""
    model = load_model(BUILDERS[family](), device="cpu")
    with torch.no_grad():
        for name, p in model.model.named_parameters():
            if "patch_embed" in name and p.ndim > 1:
                p.mul_(20.0)
    return model


@pytest.mark.parametrize("family", ["llava", "llava_next", "qwen2_vl", "idefics3_split"])
def test_probabilities_match_mask_then_process_on_a_scaled_weight_model(family):
    model = _sensitised(family)
    image = _image(seed=1)
    gen = model.with_target(model.generate(image, PROMPT, max_new_tokens=1), "red circle")
    masks = _masks()
    fast = model.score(gen, masks, pixel_space=True)
    slow = model.score(gen, masks, pixel_space=False)
    empty = model.score(gen, torch.zeros_like(masks), pixel_space=False)
    # the scaled model does see the masks (else equality would prove nothing)
    assert (slow - empty.expand_as(slow)).abs().max().item() > 1e-3
    assert ((fast - slow).abs() / slow.clamp_min(1e-12)).max().item() <= 1e-4


def test_provenance_says_which_path_and_pixel_space_off_says_mask_then_process():
    on = load_model(BUILDERS["qwen2_vl"](), device="cpu")
    gen = on.generate(_image(), PROMPT, max_new_tokens=1)
    info = on.provenance(gen)
    assert info["masking"] == "pixel_space" and info["masking_path"] == "processed_replay"
    assert gen.geometry["masking_check_levels"] <= 1e-3  # the one-off check's error, in 8-bit levels
    off = load_model(BUILDERS["qwen2_vl"](), device="cpu", pixel_space=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # switching pixel space off is a choice, not a fallback: no warning
        gen_off = off.generate(_image(), PROMPT, max_new_tokens=1)
    assert off.provenance(gen_off)["masking"] == "mask_then_process"


def test_without_a_trace_the_composite_is_checked_at_edges_and_refused_or_kept(monkeypatch):
    from xattr_lab.models import processed_masks
    from xattr_lab.models.processed_masks import one_level

    def untraceable(*args, **kwargs):
        raise processed_masks.TraceError("not traced in this test")

    monkeypatch.setattr(processed_masks, "build", untraceable)
    model = load_model(BUILDERS["llava"](), device="cpu")
    # a 40×52 image is resized: compositing after the resize misses at the edges, so it falls back, loudly
    with pytest.warns(RuntimeWarning, match="falls back to mask-then-process"):
        gen = model.generate(_image(), PROMPT, max_new_tokens=1)
    info = model.provenance(gen)
    assert info["masking"] == "mask_then_process" and info["masking_path"] == "mask_then_process"
    assert "not traced in this test" in info["masking_fallback"] and "mask edges" in info["masking_fallback"]
    # a 32×32 image is not resized (CLIP's crop only): the composite is exact and kept
    gen = model.generate(_image(32, 32), PROMPT, max_new_tokens=1)
    assert model.provenance(gen)["masking_path"] == "pixel_space_composite"
    prep = model._prepare(_image(32, 32), PROMPT)
    masks = _masks(32, 32)
    diff = _pixels(model, prep, masks, "black", True) - _pixels(model, prep, masks, "black", False)
    # only mask-then-process's rounding of the soft-edged composite to 8 bits remains: half a level at most
    half_level = 0.5 * one_level(model.processor.image_processor)
    assert 0 < diff.abs().max().item() <= half_level + 1e-6


def test_a_processor_outside_the_pil_backend_is_not_traced():
    from xattr_lab.models.processed_masks import TraceError, build

    class NotPil:
        def __call__(self, **kwargs):
            raise AssertionError("must not be called")

    with pytest.raises(TraceError, match="PIL backend"):
        build(NotPil(), _image(), torch.zeros(1, 3, 32, 32))


@pytest.mark.parametrize("kind", ["clip", "qwen", "idefics3"])
def test_long_axes_use_sparse_weights_and_stay_exact(kind):
    """Axes longer than the dense limit take the sparse path; it is as exact as the dense one."""
    from xattr_lab.models.masking import baseline_image, mask_images
    from xattr_lab.models.processed_masks import _DENSE_UP_TO, build

    if kind == "clip":
        from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

        ip = CLIPImageProcessorPil(size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224})
    elif kind == "qwen":
        from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

        ip = Qwen2VLImageProcessorPil(min_pixels=56 * 56, max_pixels=168 * 168, patch_size=14, merge_size=2,
                                      temporal_patch_size=2)  # fmt: skip
    else:
        from transformers.models.idefics3.image_processing_pil_idefics3 import Idefics3ImageProcessorPil

        ip = Idefics3ImageProcessorPil(do_resize=True, size={"longest_edge": 128},
                                       max_image_size={"longest_edge": 64}, do_image_splitting=True)  # fmt: skip
    h, w = _DENSE_UP_TO + 21, _DENSE_UP_TO + 77
    image = _image(h, w, seed=2)
    pv = torch.as_tensor(ip(images=[image], return_tensors="np")["pixel_values"])
    replay = build(ip, image, pv)
    assert any(op.kx is not None and op.kx.layout == torch.sparse_csr for op in replay.ops)
    masks = torch.ones(2, h, w)
    masks[0, h // 5 : h // 2, w // 3 : w - 9] = 0
    masks[1] = torch.linspace(0, 1, w).expand(h, w)
    base = baseline_image("blur", image)
    want = torch.cat([torch.as_tensor(ip(images=[im], return_tensors="np")["pixel_values"])
                      for im in mask_images(image, masks, base)])  # fmt: skip
    assert (replay.apply(masks, base) - want.float()).abs().max().item() <= EDGE_TOL


def test_a_large_image_on_the_cpu_keeps_mask_then_process_without_a_warning(models):
    from xattr_lab.models.hf_inputs import REPLAY_CPU_MAX_PIXELS

    model = models("qwen2_vl")
    side = int(REPLAY_CPU_MAX_PIXELS**0.5) + 8
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a speed choice between two exact paths is recorded, not warned
        gen = model.generate(_image(side, side), PROMPT, max_new_tokens=1)
    info = model.provenance(gen)
    assert info["masking"] == "mask_then_process" and "slower than the processor" in info["masking_fallback"]
