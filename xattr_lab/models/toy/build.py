"""Build the toy VLMs (tiny LLaVAs) and their processors from transformers config classes.

The defaults build the ShapesVLM; image size, patch, vocabulary and widths are parameters so that other
synthetic worlds (``toy-clutter``) reuse the same architecture.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from xattr_lab.models.toy.tokenizer import IMAGE, SPECIAL_TOKENS, TEMPLATES, build_tokenizer

if TYPE_CHECKING:
    from transformers import LlavaForConditionalGeneration, LlavaProcessor

WEIGHTS_DIR = Path(__file__).parent / "shapes_vlm"
CLUTTER_DIR = Path(__file__).parent / "clutter_vlm"  # toy-clutter: python -m xattr_lab.models.toy.answers
IMAGE_SIZE = 96
PATCH = 16
N_IMAGE_TOKENS = (IMAGE_SIZE // PATCH) ** 2
# CLIP's statistics: the processed pixels of a black image are -mean/std, as for real LLaVA models
IMAGE_MEAN = (0.48145466, 0.4578275, 0.40821073)
IMAGE_STD = (0.26862954, 0.26130258, 0.27577711)


def build_processor(
    patch: int = PATCH,
    image_size: int = IMAGE_SIZE,
    vocabulary: tuple[str, ...] | None = None,
    layout: str = "image-first",
) -> LlavaProcessor:
    """The LLaVA processor: CLIP-style resize/crop/normalise to ``image_size`` and the word-level tokenizer.

    Args:
        patch: vision patch size in pixels.
        image_size: side of the (square) input in pixels (96 for the ShapesVLM).
        vocabulary: the tokenizer's words (default: the shapes vocabulary).
        layout: ``"image-first"`` (``<s><image> question <sep>``, the ShapesVLM's) or ``"question-first"``
            (``<s> question <image> <sep>``), the chat template saved with the processor.
    """
    from transformers import LlavaProcessor

    if layout not in TEMPLATES:
        raise ValueError(f"layout: expected one of {sorted(TEMPLATES)}, got {layout!r}")
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    image_processor = CLIPImageProcessorPil(
        size={"shortest_edge": image_size},
        crop_size={"height": image_size, "width": image_size},
        image_mean=list(IMAGE_MEAN),
        image_std=list(IMAGE_STD),
    )
    return LlavaProcessor(
        image_processor=image_processor,
        tokenizer=build_tokenizer() if vocabulary is None else build_tokenizer(vocabulary),
        patch_size=patch,
        vision_feature_select_strategy="default",
        chat_template=TEMPLATES[layout],
        image_token=IMAGE,
        num_additional_image_tokens=1,
    )


def build_model(
    seed: int = 0,
    patch: int = PATCH,
    image_size: int = IMAGE_SIZE,
    vocabulary: tuple[str, ...] | None = None,
    hidden: int = 128,
    vision_layers: int = 2,
    text_layers: int = 3,
    heads: int = 4,
) -> LlavaForConditionalGeneration:
    """A random-init toy LLaVA; the defaults are the ShapesVLM's.

    Args:
        seed: torch seed of the initialisation.
        patch: vision patch size in pixels.
        image_size: input side in pixels.
        vocabulary: the tokenizer's words (default: the shapes vocabulary).
        hidden: width of the vision tower and the decoder (MLPs: 2x and 2.5x).
        vision_layers: CLIP-style vision layers (default 2).
        text_layers: Llama decoder layers (default 3).
        heads: attention heads in both towers.
    """
    import torch
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration

    tok = build_tokenizer() if vocabulary is None else build_tokenizer(vocabulary)
    vocab = len(tok)
    vision = CLIPVisionConfig(
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=vision_layers,
        num_attention_heads=heads,
        image_size=image_size,
        patch_size=patch,
        projection_dim=hidden,
    )
    text = LlamaConfig(
        vocab_size=vocab,
        hidden_size=hidden,
        intermediate_size=5 * hidden // 2,
        num_hidden_layers=text_layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=256,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        tie_word_embeddings=False,
    )
    config = LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_index=tok.convert_tokens_to_ids(IMAGE),
        vision_feature_layer=-1,
        vision_feature_select_strategy="default",
        projector_hidden_act="gelu",
    )
    config.pad_token_id = tok.pad_token_id
    config.eos_token_id = tok.eos_token_id
    config.bos_token_id = tok.bos_token_id
    assert len(SPECIAL_TOKENS) < vocab  # noqa: S101 - internal invariant, not user input
    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration(config)
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.bos_token_id = tok.bos_token_id
    return model
