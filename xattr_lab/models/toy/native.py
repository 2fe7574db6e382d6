"""``toy-shapes-native``: a tiny Qwen2-VL whose image-token grid follows the input size.

The ShapesVLM (``toy-shapes``) is a LLaVA: every input is resized to 96 px, so it always sees 6 x 6 image
tokens and MSEA's rescaled inputs come back to the same grid. This variant is a Qwen2-VL built from
transformers' config classes: its processor keeps the input size (rounded to a multiple of 16 px) and makes
one image token per 16 x 16 pixels, so 96 px gives 6 x 6 tokens, 128 px 8 x 8, 160 px 10 x 10 and MSEA's
0.5 / 1.5 scales give coarser and finer grids, as in the real Qwen2-VL.

Geometry, and how it differs from the real Qwen2-VL: 16-px patches with a spatial merge of 1 (one token per
patch), where Qwen2-VL merges 2 x 2 patches of 14 px into one 28-px token; the 16-px token keeps the
ShapesVLM's cell size, so TAM maps of the two models are comparable, and a merge of 1 costs a quarter of the
vision tower's work on this CPU budget. ``min_pixels`` / ``max_pixels`` keep inputs between 32 x 32 and
256 x 256 px (larger images are shrunk, with their aspect, as Qwen2-VL's ``smart_resize`` does).

Light on purpose (no torch at import): ``load_model`` resolves the built-in name through this module. The
trainer is :mod:`xattr_lab.models.toy.native_train`; the model card is ``shapes_native_vlm/README.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from xattr_lab.models.toy.build import IMAGE_MEAN, IMAGE_STD

if TYPE_CHECKING:
    import torch

WEIGHTS_DIR = Path(__file__).parent / "shapes_native_vlm"
PATCH = 16
MERGE = 1
TEMPORAL = 2  # Qwen2-VL's patch embedding is a 3-D conv over two frames; a still image is repeated
MIN_PIXELS, MAX_PIXELS = 32 * 32, 256 * 256
# training sizes: every multiple of 16 from 48 to 240 px covers MSEA's 0.5 / 1.0 / 1.5 scales of 96-160 px
TRAIN_SIZES: tuple[int, ...] = tuple(range(48, 241, 16))
# two stages: the ShapesVLM's schedule shape, then a short second stage with the logit-lens term on from the start
# (after stage 1 every image-token logit of an object word was still negative, so TAM's ReLU left empty maps)
TRAIN_COMMAND = (
    "python -m xattr_lab.models.toy.native_train --steps 1300 --batch-size 32 --threads 1 --time-limit 2040 "
    "--out /tmp/native_stage1 && python -m xattr_lab.models.toy.native_train --init /tmp/native_stage1 --steps 450 "
    "--step-offset 1300 --lr 1e-3 --lens-start 0 --batch-size 32 --threads 1 --time-limit 500 --eval-every 150"
)
VISION_START, IMAGE_PAD, VISION_END, VIDEO_PAD = "<|vision_start|>", "<|image_pad|>", "<|vision_end|>", "<|video_pad|>"
SEP = "<sep>"
# "<s><|vision_start|><|image_pad|><|vision_end|> what colour is the circle ? <sep>": the ShapesVLM's
# image-first layout, with Qwen's markup around the image (the processor expands <|image_pad|>)
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}{% if message['role'] == 'user' %}"
    "{% if message['content'] is string %}<|vision_start|><|image_pad|><|vision_end|> {{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}{% if part['type'] == 'image' %}"
    "<|vision_start|><|image_pad|><|vision_end|>{% endif %}"
    "{% endfor %}{% for part in message['content'] %}{% if part['type'] == 'text' %} {{ part['text'] }}"
    "{% endif %}{% endfor %}{% endif %}"
    "{% elif message['role'] == 'assistant' %} <sep> {{ message['content'] if message['content'] is string "
    "else message['content'][0]['text'] }} {{ eos_token }}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %} <sep>{% endif %}"
)


def grid_side(size: int) -> int:
    """Image tokens per side for a square input of ``size`` px inside the pixel limits (``size / 16``, rounded)."""
    return max(1, round(size / (PATCH * MERGE)))


def build_tokenizer() -> Any:
    """The shapes word-level tokenizer with Qwen's vision markers as special tokens."""
    from xattr_lab.models.toy.tokenizer import build_tokenizer as word_level

    return word_level(
        specials=("<pad>", "<unk>", "<s>", "</s>", VISION_START, IMAGE_PAD, VISION_END, VIDEO_PAD, SEP),
        extra_special_tokens={"image_token": IMAGE_PAD, "video_token": VIDEO_PAD, "sep_token": SEP},
        model_max_length=512,
    )


def build_processor() -> Any:
    """The image-only Qwen2-VL processor: no resize inside the pixel limits, 16-px patches, CLIP statistics."""
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    from xattr_lab.models.qwen import image_only_processor

    ip = Qwen2VLImageProcessorPil(
        min_pixels=MIN_PIXELS,
        max_pixels=MAX_PIXELS,
        patch_size=PATCH,
        merge_size=MERGE,
        temporal_patch_size=TEMPORAL,
        image_mean=list(IMAGE_MEAN),
        image_std=list(IMAGE_STD),
    )
    return image_only_processor(ip, build_tokenizer(), CHAT_TEMPLATE)


def build_model(seed: int = 0, hidden: int = 128, vision_layers: int = 2, text_layers: int = 3, heads: int = 4) -> Any:
    """A random-init tiny Qwen2-VL (widths and depths of the ShapesVLM: 2 vision and 3 decoder layers x 128)."""
    import torch
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration

    tok = build_tokenizer()
    ids = {t: tok.convert_tokens_to_ids(t) for t in (VISION_START, IMAGE_PAD, VISION_END, VIDEO_PAD)}
    half = hidden // heads // 2  # rotary frequencies per head, split over (time, row, column)
    section = [half - 2 * (half * 3 // 8), half * 3 // 8, half * 3 // 8]
    config = Qwen2VLConfig(
        text_config=dict(
            vocab_size=len(tok),
            hidden_size=hidden,
            intermediate_size=5 * hidden // 2,
            num_hidden_layers=text_layers,
            num_attention_heads=heads,
            num_key_value_heads=heads,
            max_position_embeddings=512,
            rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": section},
            tie_word_embeddings=False,
            pad_token_id=tok.pad_token_id,
            bos_token_id=tok.bos_token_id,
            eos_token_id=tok.eos_token_id,
        ),
        vision_config=dict(
            depth=vision_layers,
            embed_dim=hidden,
            hidden_size=hidden,
            num_heads=heads,
            mlp_ratio=2,
            patch_size=PATCH,
            spatial_merge_size=MERGE,
            temporal_patch_size=TEMPORAL,
            in_channels=3,
        ),
        image_token_id=ids[IMAGE_PAD],
        video_token_id=ids[VIDEO_PAD],
        vision_start_token_id=ids[VISION_START],
        vision_end_token_id=ids[VISION_END],
        tie_word_embeddings=False,
    )
    config.pad_token_id, config.eos_token_id, config.bos_token_id = tok.pad_token_id, tok.eos_token_id, tok.bos_token_id
    torch.manual_seed(seed)
    model = Qwen2VLForConditionalGeneration(config)
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.bos_token_id = tok.bos_token_id
    return model


def patchify(images: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Qwen2-VL pixel inputs of same-size uint8 images whose sides are multiples of 16 (no resize needed).

    The processor's arithmetic in torch, for training batches: CLIP normalisation, the image repeated over
    the two frames, patches in row-major token order. A test checks equality with the saved processor.

    Returns:
        ``pixel_values`` [B * h * w, 3 * 2 * 16 * 16] and ``image_grid_thw`` [B, 3].
    """
    import torch

    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255.0
    b, c, h, w = x.shape
    if h % PATCH or w % PATCH:
        raise ValueError(f"images: sides must be multiples of {PATCH} px, got {h} x {w}")
    x = (x - torch.tensor(IMAGE_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGE_STD).view(1, 3, 1, 1)
    gh, gw = h // PATCH, w // PATCH
    x = x[:, None].expand(b, TEMPORAL, c, h, w)  # [B, T, C, H, W]
    x = x.reshape(b, TEMPORAL, c, gh // MERGE, MERGE, PATCH, gw // MERGE, MERGE, PATCH)
    x = x.permute(0, 3, 6, 4, 7, 2, 1, 5, 8)  # [B, gh/m, gw/m, m, m, C, T, p, p]
    pixels = x.reshape(b * gh * gw, c * TEMPORAL * PATCH * PATCH)
    thw = torch.tensor([[1, gh, gw]] * b)
    return pixels, thw
