"""Build the ShapesVLM (a tiny LLaVA) and its processor from transformers config classes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from xattr_lab.models.toy.tokenizer import CHAT_TEMPLATE, IMAGE, SPECIAL_TOKENS, build_tokenizer

if TYPE_CHECKING:
    from transformers import LlavaForConditionalGeneration, LlavaProcessor

WEIGHTS_DIR = Path(__file__).parent / "shapes_vlm"
IMAGE_SIZE = 96
PATCH = 16
N_IMAGE_TOKENS = (IMAGE_SIZE // PATCH) ** 2
# CLIP's statistics: the processed pixels of a black image are -mean/std, as for real LLaVA models
IMAGE_MEAN = (0.48145466, 0.4578275, 0.40821073)
IMAGE_STD = (0.26862954, 0.26130258, 0.27577711)


def build_processor(patch: int = PATCH) -> LlavaProcessor:
    """The LLaVA processor: CLIP-style resize/crop/normalise to 96 px and the word-level tokenizer."""
    from transformers import LlavaProcessor
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    image_processor = CLIPImageProcessorPil(
        size={"shortest_edge": IMAGE_SIZE},
        crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE},
        image_mean=list(IMAGE_MEAN),
        image_std=list(IMAGE_STD),
    )
    return LlavaProcessor(
        image_processor=image_processor,
        tokenizer=build_tokenizer(),
        patch_size=patch,
        vision_feature_select_strategy="default",
        chat_template=CHAT_TEMPLATE,
        image_token=IMAGE,
        num_additional_image_tokens=1,
    )


def build_model(seed: int = 0, patch: int = PATCH) -> LlavaForConditionalGeneration:
    """A random-init ShapesVLM: CLIP-style vision tower 2 x 128 on 16-px patches, projector, Llama 3 x 128."""
    import torch
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration

    tok = build_tokenizer()
    vocab = len(tok)
    vision = CLIPVisionConfig(
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=4,
        image_size=IMAGE_SIZE,
        patch_size=patch,
        projection_dim=128,
    )
    text = LlamaConfig(
        vocab_size=vocab,
        hidden_size=128,
        intermediate_size=320,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=4,
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
