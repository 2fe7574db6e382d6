"""The toy models' word-level tokenizer: one token per word of a closed vocabulary (the shapes one by default)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from xattr_lab.datasets.shapes import VOCABULARY

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

PAD, UNK, BOS, EOS, IMAGE, SEP = "<pad>", "<unk>", "<s>", "</s>", "<image>", "<sep>"
SPECIAL_TOKENS: tuple[str, ...] = (PAD, UNK, BOS, EOS, IMAGE, SEP)

# "<s><image> what colour is the circle ? <sep>"; the processor expands <image> into one token per patch.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}{% if message['role'] == 'user' %}"
    "{% if message['content'] is string %}<image> {{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}{% if part['type'] == 'image' %}<image>{% endif %}"
    "{% endfor %}{% for part in message['content'] %}{% if part['type'] == 'text' %} {{ part['text'] }}"
    "{% endif %}{% endfor %}{% endif %}"
    "{% elif message['role'] == 'assistant' %} <sep> {{ message['content'] if message['content'] is string "
    "else message['content'][0]['text'] }} {{ eos_token }}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %} <sep>{% endif %}"
)
# "<s> what colour is the star ? <image> <sep>": the question before the image, so that the image tokens (causal
# attention) can read it, as the instruction-aware image queries of InstructBLIP do. ``toy-clutter`` uses it.
CHAT_TEMPLATE_QUESTION_FIRST = (
    "{{ bos_token }}"
    "{% for message in messages %}{% if message['role'] == 'user' %}"
    "{% if message['content'] is string %}{{ message['content'] }} <image>"
    "{% else %}{% for part in message['content'] %}{% if part['type'] == 'text' %}{{ part['text'] }} {% endif %}"
    "{% endfor %}{% for part in message['content'] %}{% if part['type'] == 'image' %}<image>{% endif %}"
    "{% endfor %}{% endif %}"
    "{% elif message['role'] == 'assistant' %} <sep> {{ message['content'] if message['content'] is string "
    "else message['content'][0]['text'] }} {{ eos_token }}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %} <sep>{% endif %}"
)
TEMPLATES: dict[str, str] = {"image-first": CHAT_TEMPLATE, "question-first": CHAT_TEMPLATE_QUESTION_FIRST}


def build_tokenizer(
    vocabulary: tuple[str, ...] = VOCABULARY,
    specials: tuple[str, ...] = SPECIAL_TOKENS,
    extra_special_tokens: dict[str, str] | None = None,
    model_max_length: int = 256,
) -> PreTrainedTokenizerFast:
    """A lower-casing word-level tokenizer over ``specials + vocabulary`` (unknown words -> <unk>).

    Args:
        vocabulary: the words (default: the shapes world's ``VOCABULARY``); duplicates are not allowed.
        specials: the special tokens, first in the vocabulary; they must include ``<pad>``, ``<unk>``,
            ``<s>`` and ``</s>``.
        extra_special_tokens: named special tokens (default: ``image_token`` ``<image>``, ``sep_token`` ``<sep>``).
        model_max_length: the tokenizer's maximum length.
    """
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    words = tuple(specials) + tuple(vocabulary)
    if len(set(words)) != len(words):
        raise ValueError("vocabulary: expected distinct words, none of them a special token")
    vocab = {w: i for i, w in enumerate(words)}
    tok = Tokenizer(WordLevel(vocab, unk_token=UNK))
    tok.normalizer = normalizers.Lowercase()
    # splits "circle?" into "circle", "?" so users need not type spaces before punctuation
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=False)
    tok.add_special_tokens(list(specials))
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        unk_token=UNK,
        extra_special_tokens={"image_token": IMAGE, "sep_token": SEP}
        if extra_special_tokens is None
        else extra_special_tokens,
        model_max_length=model_max_length,
    )
