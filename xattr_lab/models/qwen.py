"""Image-only Qwen2-VL / Qwen2.5-VL processors (the stock ones require a torchvision video processor)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

QWEN_PROCESSORS = ("Qwen2VLProcessor", "Qwen2_5_VLProcessor")


@cache
def image_only_class(base_name: str = "Qwen2VLProcessor") -> type:
    """A subclass of the named Qwen processor that needs no video processor."""
    import transformers
    from transformers.processing_utils import ProcessorMixin

    base = getattr(transformers, base_name)

    def __init__(self: Any, image_processor: Any = None, tokenizer: Any = None, chat_template: Any = None,
                 **kwargs: Any) -> None:  # fmt: skip
        self.image_token = getattr(tokenizer, "image_token", None) or "<|image_pad|>"
        self.video_token = getattr(tokenizer, "video_token", None) or "<|video_pad|>"
        self.image_token_id = tokenizer.convert_tokens_to_ids(self.image_token)
        self.video_token_id = tokenizer.convert_tokens_to_ids(self.video_token)
        ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)

    return type(f"ImageOnly{base_name}", (base,), {"__init__": __init__, "__module__": __name__})


def image_only_processor(image_processor: Any, tokenizer: Any, chat_template: str | None = None,
                         base_name: str = "Qwen2VLProcessor") -> Any:  # fmt: skip
    """Build an image-only Qwen processor from its parts.

    Args:
        image_processor: a ``Qwen2VLImageProcessor`` (the PIL variant works without torchvision).
        tokenizer: a tokenizer with the ``<|vision_start|>``, ``<|image_pad|>``, ``<|vision_end|>`` and
            ``<|video_pad|>`` special tokens.
        chat_template: the chat template (Jinja), if any.
        base_name: ``"Qwen2VLProcessor"`` or ``"Qwen2_5_VLProcessor"``.
    """
    return image_only_class(base_name)(image_processor, tokenizer, chat_template=chat_template)


def load_image_only_processor(path: str | Path, trust_remote_code: bool = False) -> Any | None:
    """Load a saved Qwen processor without its video processor; None for other processors."""
    path = Path(path)
    name = None
    for fname in ("processor_config.json", "preprocessor_config.json"):
        if (path / fname).exists():
            name = json.loads((path / fname).read_text()).get("processor_class") or name
    if name not in QWEN_PROCESSORS:
        return None
    from transformers import AutoTokenizer
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True, trust_remote_code=trust_remote_code)
    image_processor = Qwen2VLImageProcessorPil.from_pretrained(path, local_files_only=True)
    template = None
    if (path / "chat_template.jinja").exists():
        template = (path / "chat_template.jinja").read_text()
    elif (path / "chat_template.json").exists():
        template = json.loads((path / "chat_template.json").read_text()).get("chat_template")
    return image_only_processor(image_processor, tokenizer, template, base_name=name)
