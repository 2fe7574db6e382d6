"""The model-ready text for a prompt: which chat template, and prompts that are already templated.

The template comes from the processor, else from the tokenizer config (where many hub checkpoints keep
it), else the text is the image marker and the prompt. A prompt that already holds the image token, or is
already chat-templated, is detected: passed through when it is complete, refused with a message otherwise.
Which of these happened is recorded (``ChatText.source``) and ends up in ``Explanation.info``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# stands in for the prompt when the template is rendered once to find its prefix and suffix
_SENTINEL = "xattrpromptsentinel"

SOURCES = (
    "processor",  # the processor's chat template
    "tokenizer",  # the tokenizer config's chat template (the processor has none)
    "prompt",  # the prompt was already chat-templated, with its image token: passed through
    "none",  # no template anywhere: image marker + newline + prompt
    "none, prompt holds the image token",  # no template, the prompt places the image itself: passed through
)


@dataclass(frozen=True)
class ChatText:
    """The text given to the processor and where its template came from (one of ``SOURCES``)."""

    text: str
    source: str


def find_template(processor: Any, tokenizer: Any) -> tuple[str | None, str]:
    """The chat template and its source: the processor's, else the tokenizer's, else ``(None, "none")``."""
    for owner, source in ((processor, "processor"), (tokenizer, "tokenizer")):
        template = getattr(owner, "chat_template", None)
        if isinstance(template, dict):  # several named templates: the default one
            template = template.get("default")
        if isinstance(template, str) and template.strip():
            return template, source
    return None, "none"


def image_markers(processor: Any, tokenizer: Any, config: Any, image_token_id: int) -> tuple[str, str]:
    """The image token string, and the markup that places one image in a prompt written without a template.

    Qwen wraps its image token in ``<|vision_start|>`` … ``<|vision_end|>``; without them (the old fallback)
    the model saw the image tokens outside the span it was trained on.
    """
    token = getattr(processor, "image_token", None) or tokenizer.convert_ids_to_tokens(image_token_id)
    start, end = (getattr(config, k, None) for k in ("vision_start_token_id", "vision_end_token_id"))
    if isinstance(start, int) and isinstance(end, int):
        return token, f"{tokenizer.convert_ids_to_tokens(start)}{token}{tokenizer.convert_ids_to_tokens(end)}"
    return token, token


def _render(processor: Any, template: str, text: str, content_as_list: bool = True) -> str:
    content: Any = [{"type": "image"}, {"type": "text", "text": text}] if content_as_list else text
    messages = [{"role": "user", "content": content}]
    return processor.apply_chat_template(messages, chat_template=template, add_generation_prompt=True, tokenize=False)


def _template_markers(processor: Any, tokenizer: Any, template: str, image_token: str, markup: str) -> list[str]:
    """Strings whose presence in a prompt means it is already templated.

    They are the opening of the user turn up to the image, the generation prompt, and the template's special
    tokens (image tokens excepted).
    """
    rendered = _render(processor, template, _SENTINEL)
    if _SENTINEL not in rendered:
        return []
    prefix, suffix = rendered.split(_SENTINEL, 1)
    opening = markup.split(image_token, 1)[0] or image_token  # <|vision_start|> for Qwen
    head = prefix.split(image_token, 1)[0].split(opening, 1)[0].strip()
    markers = [m for m in (head, suffix.strip()) if m]
    specials = set(getattr(tokenizer, "all_special_tokens", []) or []) - {image_token}
    specials -= {t for t in specials if t in markup}  # <|vision_start|> etc. place the image, not the turn
    specials -= {getattr(tokenizer, k, None) for k in ("bos_token", "eos_token", "pad_token", "unk_token")}
    markers += sorted(t for t in specials if t and t in prefix + suffix)
    return markers


def chat_text(processor: Any, tokenizer: Any, config: Any, image_token_id: int, prompt: str) -> ChatText:
    """The model-ready text for ``prompt`` with one image, and where its template came from.

    Raises:
        ValueError: for a prompt that holds more than one image token; that is already chat-templated but
            holds no image token; or that holds the image token but is not templated while the model has a
            chat template (ambiguous: pass the plain question, or the whole templated text).
    """
    template, source = find_template(processor, tokenizer)
    image_token, markup = image_markers(processor, tokenizer, config, image_token_id)
    n_image = prompt.count(image_token)
    if n_image > 1:
        raise ValueError(
            f"prompt: holds the image token {image_token!r} {n_image} times; explanations take one image, so "
            "the prompt may hold it at most once (or not at all: the chat template places the image)"
        )
    if template is None:
        if n_image:
            return ChatText(prompt, "none, prompt holds the image token")
        return ChatText(f"{markup}\n{prompt}", "none")
    found = [m for m in _template_markers(processor, tokenizer, template, image_token, markup) if m in prompt]
    if found:
        if not n_image:
            raise ValueError(
                f"prompt: looks already chat-templated (it holds {found[0]!r} from the model's {source} chat "
                f"template) but holds no image token {image_token!r}; put {markup!r} where the image goes, or "
                "pass the plain question and let the template place the image"
            )
        return ChatText(prompt, "prompt")
    if n_image:
        raise ValueError(
            f"prompt: holds the image token {image_token!r} but is not chat-templated, and the model has a chat "
            f"template (from its {source}); pass the plain question without {image_token!r} (the template places "
            "the image), or the whole templated text"
        )
    text = _render(processor, template, prompt)
    if image_token not in text:  # a template that drops image items: give the image in the text itself
        text = _render(processor, template, f"{markup}\n{prompt}", content_as_list=False)
        source += ", image token inserted"
        if image_token not in text:
            raise ValueError(
                f"model: the {source} chat template renders no image token {image_token!r}, even given in the "
                "text; pass a processor whose chat template places the image"
            )
    return ChatText(text, source)
