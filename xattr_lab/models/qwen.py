"""Image-only Qwen2-VL / Qwen2.5-VL processors (the stock ones require a torchvision video processor).

The image-only class saves itself under the stock class name (``Qwen2VLProcessor``), so a directory saved
from it has the hub layout (less the video processor config); :func:`load_image_only_processor` reads such
a directory, and also directories saved before that fix under the name ``ImageOnlyQwen2VLProcessor``, which
``AutoProcessor`` does not know and silently answers with a bare tokenizer.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

QWEN_PROCESSORS = ("Qwen2VLProcessor", "Qwen2_5_VLProcessor")
IMAGE_ONLY_PREFIX = "ImageOnly"
# files that may name the processor class, in the order transformers reads them
_CLASS_FILES = ("processor_config.json", "preprocessor_config.json", "tokenizer_config.json")


@cache
def image_only_class(base_name: str = "Qwen2VLProcessor") -> type:
    """A subclass of the named Qwen processor that needs no video processor.

    Its ``__name__`` is the stock name, because transformers writes ``type(processor).__name__`` into the
    saved ``processor_class``; its ``__qualname__`` (``ImageOnlyQwen2VLProcessor``) tells it apart in reprs.
    """
    import transformers
    from transformers.processing_utils import ProcessorMixin

    if base_name not in QWEN_PROCESSORS:
        raise ValueError(f"base_name: expected one of {', '.join(QWEN_PROCESSORS)}, got {base_name!r}")
    base = getattr(transformers, base_name)

    def __init__(self: Any, image_processor: Any = None, tokenizer: Any = None, chat_template: Any = None,
                 **kwargs: Any) -> None:  # fmt: skip
        self.image_token = getattr(tokenizer, "image_token", None) or "<|image_pad|>"
        self.video_token = getattr(tokenizer, "video_token", None) or "<|video_pad|>"
        self.image_token_id = tokenizer.convert_tokens_to_ids(self.image_token)
        self.video_token_id = tokenizer.convert_tokens_to_ids(self.video_token)
        ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)

    namespace = {"__init__": __init__, "__module__": __name__, "__qualname__": IMAGE_ONLY_PREFIX + base_name,
                 "image_only": True}  # fmt: skip
    return type(base_name, (base,), namespace)


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


def saved_processor_class(path: str | Path) -> str | None:
    """The ``processor_class`` a saved directory names (processor, then image processor, then tokenizer config)."""
    path = Path(path)
    for fname in _CLASS_FILES:
        file = path / fname
        if not file.is_file():
            continue
        try:
            name = json.loads(file.read_text("utf-8")).get("processor_class")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(name, str) and name:
            return name
    return None


def qwen_base_name(name: str | None) -> str | None:
    """The stock Qwen processor name behind ``name`` (``ImageOnly…`` stripped); None for other processors."""
    if not name:
        return None
    base = name[len(IMAGE_ONLY_PREFIX) :] if name.startswith(IMAGE_ONLY_PREFIX) else name
    return base if base in QWEN_PROCESSORS else None


def load_image_only_processor(path: str | Path, trust_remote_code: bool = False) -> Any | None:
    """Load a saved Qwen processor without its video processor; None for other processors.

    Accepts the stock names and the ``ImageOnly…`` names older saves wrote. The image processor is read from
    ``processor_config.json`` (transformers 5 nests it there) or ``preprocessor_config.json``.
    """
    path = Path(path)
    name = qwen_base_name(saved_processor_class(path))
    if name is None:
        return None
    from transformers import AutoTokenizer
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True, trust_remote_code=trust_remote_code)
    image_processor = Qwen2VLImageProcessorPil.from_pretrained(path, local_files_only=True)
    template = None
    if (path / "chat_template.jinja").exists():
        template = (path / "chat_template.jinja").read_text("utf-8")
    elif (path / "chat_template.json").exists():
        template = json.loads((path / "chat_template.json").read_text("utf-8")).get("chat_template")
    return image_only_processor(image_processor, tokenizer, template, base_name=name)
