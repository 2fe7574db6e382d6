"""Processed pixels back to the image: Qwen's patch rows and the tiles of LLaVA-NeXT and Idefics3 (issue 18 item 2)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from xattr_lab.models.pixel_geometry import PixelGeometry, patch_order, patchify, transport, unpatchify

H, W = 40, 52
RECT = (slice(6, 20), slice(30, 48))  # the rectangle whose pixels the linear functions below read


@pytest.mark.parametrize("patch,temporal,merge,gh,gw", [(2, 2, 2, 4, 6), (3, 1, 2, 2, 4), (14, 2, 2, 4, 4)])
def test_unpatchify_inverts_qwen_patchify(patch, temporal, merge, gh, gw):
    x = np.random.default_rng(0).normal(size=(3, gh * patch, gw * patch)).astype(np.float32)
    rows = patchify(x, patch, temporal, merge)
    assert rows.shape == (gh * gw, 3 * temporal * patch * patch)
    frames = unpatchify(rows, (1, gh, gw), patch, temporal, merge)
    assert frames.shape == (temporal, 3, gh * patch, gw * patch)
    for f in frames:  # each temporal frame is the image
        np.testing.assert_array_equal(f, x)
    # the torch path gives the same frames
    np.testing.assert_array_equal(unpatchify(torch.from_numpy(np.ascontiguousarray(rows)), (1, gh, gw), patch,
                                             temporal, merge).numpy(), frames)  # fmt: skip


def test_patch_order_follows_the_merge_blocks():
    # rows come in 2×2 merge blocks: the first four rows are the top-left block of the patch grid
    order = patch_order((1, 4, 6), 2)
    assert sorted(order.tolist()) == list(range(24))
    assert order[:4].tolist() == [0, 1, 6, 7] and order[4:8].tolist() == [2, 3, 8, 9]


def test_unpatchify_reads_the_qwen_processor_layout():
    """A horizontal ramp through the real Qwen2-VL processor decodes to a ramp: rows, merge blocks and frames."""
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    ip = Qwen2VLImageProcessorPil(min_pixels=56 * 56, max_pixels=56 * 56 * 4, patch_size=14, merge_size=2,
                                  temporal_patch_size=2)  # fmt: skip
    ramp = np.broadcast_to(np.linspace(0, 255, W)[None, :, None], (H, W, 3)).astype(np.uint8)
    out = ip(images=[ramp], do_normalize=False, do_rescale=False, return_tensors="np")
    grid = tuple(int(v) for v in out["image_grid_thw"][0])
    frames = unpatchify(out["pixel_values"], grid, 14, 2, 2)
    np.testing.assert_array_equal(frames[0], frames[1])
    profile = frames[0, 0].mean(0)
    assert np.all(np.diff(profile) >= -1e-3) and profile[-1] - profile[0] > 200
    assert np.ptp(frames[0, 0], axis=0).max() < 1e-3  # constant down each column


def test_transport_keeps_the_mass_and_places_it():
    values = np.zeros((4, 4))
    values[0, 3] = 8.0  # the top-right cell of a tile spanning the right half of a 16×16 image
    canvas, cover = transport(values, (0.0, 8.0, 16.0, 16.0), (16, 16), "gradient")
    assert canvas.sum() == pytest.approx(8.0)
    assert canvas[:4, 14:].sum() == pytest.approx(8.0)  # all of it in the 4×2 block that cell covers
    assert cover[:, :8].sum() == 0 and cover[:, 8:].all()
    # a tile half outside the image (padding) brings only its inside part
    canvas, _ = transport(np.ones((4, 4)), (-8.0, 0.0, 8.0, 16.0), (16, 16), "gradient")
    assert canvas.sum() == pytest.approx(8.0) and canvas[8:].sum() == 0
    # "map" keeps values, not mass
    canvas, _ = transport(np.full((2, 2), 3.0), (0.0, 0.0, 16.0, 16.0), (16, 16), "map")
    np.testing.assert_allclose(canvas, 3.0)


def test_geometry_sums_gradients_and_averages_maps():
    g = PixelGeometry((8, 8), ((0.0, 0.0, 8.0, 8.0), (0.0, 0.0, 4.0, 4.0)))
    tiles = np.ones((2, 4, 4))
    grad = g.to_image(tiles, "gradient")
    assert grad.sum() == pytest.approx(32.0)  # both tiles' totals: the chain rule sums them
    assert grad[:4, :4].mean() == pytest.approx(0.25 + 1.0) and grad[4:, 4:].mean() == pytest.approx(0.25)
    np.testing.assert_allclose(g.to_image(tiles * 2, "map"), 2.0)


def _builders():
    from test_byom_roundtrip import _builders

    return _builders()


@pytest.fixture(scope="module")
def adapters():
    from xattr_lab.models.loading import load_model

    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = load_model(_builders()[name](), device="cpu")
        return cache[name]

    return get


@pytest.mark.parametrize("family", ["llava_next", "qwen2_vl", "qwen2_5_vl", "idefics3", "idefics3_split"])
def test_a_linear_function_of_the_pixels_maps_back_to_the_pixels_it_reads(adapters, family):
    """f(p) = <G, p> with G the processed picture of a rectangle: its gradient G must land on the rectangle.

    G is the processor's own output for an image that is white inside the rectangle minus its output for a
    black image (normalisation is affine, so G is linear in the rectangle), so this checks the geometry
    against the processor: un-patchifying, each tile's place, the base / global tile and the padding.
    """
    from xattr_lab.attr.context import MethodContext
    from xattr_lab.attr.methods._captum import image_gradient

    m = adapters(family)
    image = np.random.default_rng(0).integers(0, 256, (H, W, 3), dtype=np.uint8)
    gen = m.generate(image, "what is in the image ?", max_new_tokens=1)
    rect = np.zeros((H, W, 3), np.uint8)
    rect[RECT] = 255
    grad = m.processed_pixels(gen, baseline=rect) - m.processed_pixels(gen, baseline=np.zeros_like(rect))
    assert m.pixel_geometry(gen) is not None
    ctx = MethodContext(m, gen, None, [0], None)
    mapped = image_gradient(ctx, grad).sum(0)
    assert mapped.shape == (H, W) and np.isfinite(mapped).all()
    inside = np.zeros((H, W), bool)
    inside[RECT] = True
    near = np.zeros((H, W), bool)
    near[RECT[0].start - 6 : RECT[0].stop + 6, RECT[1].start - 6 : RECT[1].stop + 6] = True
    # nearly all of the mass on the rectangle (resampling kernels blur and ring near its edges), none far away
    assert mapped[near].sum() > 0.97 * np.abs(mapped).sum()
    assert np.abs(mapped[~near]).max() < 0.01 * mapped[inside].mean()
    core = np.zeros((H, W), bool)
    core[RECT[0].start + 3 : RECT[0].stop - 3, RECT[1].start + 3 : RECT[1].stop - 3] = True
    assert mapped[core].min() > 0.5 * mapped[core].max()  # every inner pixel of the rectangle is read
    # and centred on it: a tile placed a pixel off moves the centroid (resampling blur is symmetric)
    ys, xs = np.mgrid[:H, :W] + 0.5
    weights = np.clip(mapped, 0, None) / np.clip(mapped, 0, None).sum()
    centre = ((RECT[0].start + RECT[0].stop) / 2, (RECT[1].start + RECT[1].stop) / 2)
    assert (weights * ys).sum() == pytest.approx(centre[0], abs=0.35)
    assert (weights * xs).sum() == pytest.approx(centre[1], abs=0.35)
    if family.startswith("qwen"):  # no crop and no padding: the total is the processed total, exactly
        assert mapped.sum() == pytest.approx(float(grad.double().sum()), rel=1e-5)
