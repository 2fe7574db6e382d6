"""TAM, MSEA and ARC on every supported family, tiled ones included (issue 18 item 3).

LLaVA-NeXT (any-resolution tiles) and Idefics3 with image splitting used to fail with "cannot arrange N image
tokens into a grid". Their tokens are now placed tile by tile (``xattr_lab.models.token_grid``). The layout is
checked here against where each token *really* comes from, found without the layout's arithmetic: an image
whose pixels encode their own coordinates goes through the real image processor, and the model's own
connector is made to stamp each token with the (tile, patch) it was computed from, read back from the
language model's input embeddings.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parents[1] / "models"))  # tiny.py and the BYOM builders

from xattr_lab import explain  # noqa: E402
from xattr_lab.models.token_grid import token_layout  # noqa: E402

FAMILIES = ["llava", "llava_next", "qwen2_vl", "qwen2_5_vl", "idefics3", "idefics3_split"]
METHODS = ["tam", "msea", "arc", "tam_msea_arc"]
PROMPT = "what is in the image ?"
TARGET = "red circle"


@pytest.fixture(scope="module")
def pairs():
    """(HF model, processor) of each family, built once."""
    from test_byom_roundtrip import _builders

    cache: dict[str, tuple] = {}

    def get(name: str) -> tuple:
        if name not in cache:
            cache[name] = _builders()[name]()
        return cache[name]

    return get


@pytest.fixture(scope="module")
def adapters(pairs):
    from xattr_lab.models.loading import load_model

    cache: dict[str, object] = {}

    def get(name: str):
        if name not in cache:
            cache[name] = load_model(pairs(name), device="cpu")
        return cache[name]

    return get


def _image(shape=(40, 52), seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (*shape, 3), dtype=np.uint8)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("method", METHODS)
def test_every_family_gets_a_finite_map_of_the_image_shape(adapters, family, method):
    e = explain(adapters(family), _image(), PROMPT, method=method, target=TARGET, regions="grid:4", progress=False)
    assert e.pixel_map.shape == (40, 52)
    assert np.isfinite(e.pixel_map).all()
    assert e.pixel_map.max() > e.pixel_map.min()  # a real map, not a constant fill


# ---------------------------------------------------------------------------------------------------------
# where each token really comes from


def _coordinate_image(shape: tuple[int, int]) -> np.ndarray:
    """R, G = the pixel's row and column scaled to 0..255; B = 255 marks a real (not padded) pixel."""
    h, w = shape
    img = np.zeros((h, w, 3), dtype=np.uint8)
    img[..., 0] = np.round(np.arange(h)[:, None] * 255 / (h - 1))
    img[..., 1] = np.round(np.arange(w)[None, :] * 255 / (w - 1))
    img[..., 2] = 255
    return img


def _frame_coordinates(proc, pixel_values: torch.Tensor, shape: tuple[int, int], patch: int) -> np.ndarray:
    """Mean original (y, x) of the real pixels of each patch of each frame: [F, rows, cols, 2] (NaN: padding)."""
    ip = proc.image_processor
    mean = torch.tensor(ip.image_mean)[:, None, None]
    std = torch.tensor(ip.image_std)[:, None, None]
    frames = pixel_values.reshape(-1, *pixel_values.shape[-3:]).float() * std + mean  # rescaled to [0, 1]
    f, _, hp, wp = frames.shape
    blocks = frames.reshape(f, 3, hp // patch, patch, wp // patch, patch).permute(0, 2, 4, 1, 3, 5)
    blocks = blocks.reshape(f, hp // patch, wp // patch, 3, patch * patch).numpy()
    real = blocks[..., 2, :] > 0.5
    n = real.sum(-1)
    with np.errstate(invalid="ignore"):
        y = (blocks[..., 0, :] * real).sum(-1) / n * (shape[0] - 1)
        x = (blocks[..., 1, :] * real).sum(-1) / n * (shape[1] - 1)
    return np.stack([np.where(n > 0, y, np.nan), np.where(n > 0, x, np.nan)], -1)


def _inputs(proc, image: np.ndarray) -> dict:
    from PIL import Image

    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": PROMPT}]}]
    text = proc.apply_chat_template(messages, add_generation_prompt=True)
    return proc(text=text, images=[Image.fromarray(image)], return_tensors="pt")


def _stamped_embeddings(family: str, model, enc) -> torch.Tensor:
    """Language-model input embeddings [L, D] with each image token stamped (frame + 1, patch row, col).

    NeXT: the projector's output for tile ``t``, patch ``p`` becomes (t + 1, p // side, p % side); the
    newline embedding is (−5, 0, 0). Idefics3: the vision encoder's output for patch ``p`` carries
    (row, col) and the connector's projection is set to average them over each pixel-shuffled block, so a
    token reads (frame + 1, mean patch row, mean patch col) of the patches it was built from.
    """
    inner = model.model
    hooks = []
    if family == "llava_next":

        def stamp(_module, _args, out):
            t, n, _ = out.shape
            side = int(round(n**0.5))
            new = torch.zeros_like(out)
            new[..., 0] = torch.arange(t)[:, None] + 1.0
            new[..., 1] = (torch.arange(n) // side).float()
            new[..., 2] = (torch.arange(n) % side).float()
            return new

        hooks.append(inner.multi_modal_projector.register_forward_hook(stamp))
        with torch.no_grad():
            inner.image_newline.zero_()
            inner.image_newline[0] = -5.0
        lm = inner.language_model
    else:

        def stamp_vision(_module, _args, out):
            h = out.last_hidden_state
            f, n, d = h.shape
            side = int(round(n**0.5))
            new = torch.zeros_like(h)
            new[..., 0] = (torch.arange(n) // side).float()
            new[..., 1] = (torch.arange(n) % side).float()
            new[..., 2] = (torch.arange(f)[:, None] + 1.0) * 4  # survives the block mean as frame + 1
            out.last_hidden_state = new
            return out

        hooks.append(inner.vision_model.register_forward_hook(stamp_vision))
        proj = inner.connector.modality_projection.proj
        d_vis = proj.in_features // 4
        with torch.no_grad():
            proj.weight.zero_()
            for j in range(4):  # the four sub-patches of a pixel-shuffled token
                proj.weight[0, j * d_vis + 2] = 0.25 / 4
                proj.weight[1, j * d_vis + 0] = 0.25
                proj.weight[2, j * d_vis + 1] = 0.25
        lm = inner.text_model
    seen = {}

    def grab(_module, args, kwargs):
        seen["embeds"] = kwargs["inputs_embeds"][0].detach().clone()

    hooks.append(lm.register_forward_pre_hook(grab, with_kwargs=True))
    try:
        with torch.no_grad():
            model(**enc, use_cache=False)
    finally:
        for h in hooks:
            h.remove()
    return seen["embeds"]


@pytest.mark.parametrize(
    ("family", "shape"),
    [
        ("llava_next", (40, 52)),  # wide: columns of padding unpadded
        ("llava_next", (52, 40)),  # tall: rows unpadded
        ("llava_next", (32, 64)),  # exactly a pinpoint: no padding
        ("idefics3_split", (40, 52)),  # 2×2 crops + global
        ("idefics3_split", (30, 70)),  # 1×2 crops + global
    ],
)
def test_every_placed_token_sits_where_its_pixels_come_from(family, shape):
    from test_byom_roundtrip import _builders

    model, proc = _builders()[family]()  # a fresh pair: its weights are overwritten for the stamps
    image = _coordinate_image(shape)
    enc = _inputs(proc, image)
    patch = model.config.vision_config.patch_size
    where = _frame_coordinates(proc, enc["pixel_values"], shape, patch)
    ids = enc["input_ids"][0]
    image_token = model.config.image_token_id if family != "llava_next" else model.config.image_token_index
    positions = (ids == image_token).nonzero().flatten().numpy()
    stamps = _stamped_embeddings(family, model, enc)[positions, :3].numpy()
    if family == "idefics3_split":
        # a token's patches: the s×s block around its mean patch row/col (s = 2)
        frames = np.round(stamps[:, 0]).astype(int) - 1
        blocks = [
            where[f, int(r - 0.5) : int(r + 1.5), int(c - 0.5) : int(c + 1.5)].reshape(-1, 2)
            for f, r, c in zip(frames, stamps[:, 1], stamps[:, 2], strict=True)
        ]
        truth = np.stack([np.nanmean(b, 0) for b in blocks])
        newline = np.zeros(len(positions), dtype=bool)
    else:
        newline = stamps[:, 0] < 0
        frames, rows, cols = (np.round(stamps[:, i]).astype(int) for i in range(3))
        truth = np.full((len(positions), 2), np.nan)
        truth[~newline] = where[frames[~newline] - 1, rows[~newline], cols[~newline]]

    fake_model = SimpleNamespace(model=model, processor=proc, tokenizer=proc.tokenizer)
    layout = token_layout(fake_model, SimpleNamespace(image=image, input_ids=ids), positions)
    assert layout is not None
    placed = np.concatenate([v.index.ravel() for v in layout.views])
    assert len(set(placed.tolist())) == len(placed)  # no token placed twice
    assert sorted(placed.tolist()) == np.nonzero(~newline)[0].tolist()  # every token but the newlines
    checked = 0
    for view in layout.views:
        for r in range(view.shape[0]):
            for c in range(view.shape[1]):
                y, x = truth[view.index[r, c]]
                if np.isnan(y):  # a cell wholly over padding: nothing of the image to compare
                    continue
                top, left, bottom, right = view.cell_box(r, c)
                assert top - 1.5 <= y <= bottom + 0.5 and left - 1.5 <= x <= right + 0.5, (view.name, r, c, y, x)
                checked += 1
    assert checked >= 0.9 * len(placed)


# ---------------------------------------------------------------------------------------------------------
# a token's map lands at its place


def _boost(m, gen, position: int, cls: int):
    """``m.hidden_states`` with the last layer at ``position`` read by the lens as a large logit for ``cls``
    only (orthogonal to every other class in the sequence, so TAM's context interference stays zero there).
    """
    w = m.model.get_output_embeddings().weight.detach().float()
    ids = torch.cat([gen.input_ids, gen.generated_ids]).unique()
    others = w[ids[ids != cls]]
    u = w[cls] - others.T @ torch.linalg.lstsq(others.T, w[cls][:, None]).solution[:, 0]
    original = m.hidden_states

    def hidden_states(g):
        states = list(original(g))
        last = states[-1].clone()
        last[position] = 50.0 * u / (u @ w[cls]).clamp_min(1e-6)
        return tuple(states[:-1]) + (last,)

    return hidden_states


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("method", ["tam", "arc"])
def test_a_boosted_token_puts_the_maps_peak_in_its_cell(adapters, family, method, monkeypatch):
    from xattr_lab.models.masking import PixelSpaceMasker
    from xattr_lab.models.whitebox import lens_readout

    m = adapters(family)
    image = _image()
    gen = m.with_target(m.generate(image, PROMPT, 1), TARGET)
    lens = lens_readout(m, gen)
    cls = int(gen.generated_ids[0])
    if lens.layout is not None:
        view = lens.layout.views[-1]  # the finest view: NeXT's tiles, Idefics3's crops
        r, c = view.shape[0] // 2, view.shape[1] - 2
        token = int(view.index[r, c])
        box = view.cell_box(r, c)
        step = ((box[2] - box[0]), (box[3] - box[1]))
    else:
        gh, gw = lens.grid
        r, c = gh // 2, gw - 2
        token = r * gw + c
        # the grid spans the processed crop (LLaVA 1.5's resize + centre crop) or the whole image (the others)
        masker = PixelSpaceMasker.for_processor(m.processor.image_processor, 40, 52)
        top, left, ch, cw = masker.crop if masker is not None else (0, 0, 40, 52)
        sy, sx = (40 / masker.resized[0], 52 / masker.resized[1]) if masker is not None else (1.0, 1.0)
        step = (ch * sy / gh, cw * sx / gw)
        box = (
            top * sy + r * step[0],
            left * sx + c * step[1],
            top * sy + (r + 1) * step[0],
            left * sx + (c + 1) * step[1],
        )
    position = int(lens.image_positions[token])
    monkeypatch.setattr(m, "hidden_states", _boost(m, gen, position, cls))
    for rank_filter, slack in ((False, 0.0), (True, 1.0)):  # the 3×3 rank filter spreads a lone peak a cell
        e = explain(
            m, image, PROMPT, method=method, target=TARGET, tokens=[0], regions="grid:4", progress=False,
            rank_filter=rank_filter,
        )  # fmt: skip
        y, x = np.unravel_index(np.argmax(e.pixel_map), e.pixel_map.shape)
        top, left, bottom, right = box
        assert top - slack * step[0] - 1 <= y <= bottom + slack * step[0], (family, rank_filter, y, box)
        assert left - slack * step[1] - 1 <= x <= right + slack * step[1], (family, rank_filter, x, box)


@pytest.mark.parametrize("family", ["llava_next", "idefics3_split"])
@pytest.mark.parametrize("views", ["base", "all"])
def test_a_boosted_base_token_peaks_in_its_base_cell(adapters, family, views, monkeypatch):
    from xattr_lab.models.whitebox import lens_readout

    m = adapters(family)
    image = _image()
    gen = m.with_target(m.generate(image, PROMPT, 1), TARGET)
    lens = lens_readout(m, gen)
    base = lens.layout.views[0]
    r, c = base.shape[0] - 1, 0
    top, left, bottom, right = base.cell_box(r, c)
    monkeypatch.setattr(m, "hidden_states", _boost(m, gen, int(lens.image_positions[base.index[r, c]]),
                                                   int(gen.generated_ids[0])))  # fmt: skip
    e = explain(m, image, PROMPT, method="tam", target=TARGET, tokens=[0], regions="grid:4", progress=False,
                rank_filter=False, views=views)  # fmt: skip
    y, x = np.unravel_index(np.argmax(e.pixel_map), e.pixel_map.shape)
    assert top - 1 <= y <= bottom and left - 1 <= x <= right, (y, x, (top, left, bottom, right))
    assert e.params["views"] == views


def test_views_must_be_named(adapters):
    with pytest.raises(ValueError, match="views"):
        explain(adapters("llava_next"), _image(), PROMPT, method="arc", target=TARGET, regions="grid:4",
                progress=False, views="tile")  # fmt: skip
