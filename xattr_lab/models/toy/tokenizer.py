"""The ShapesVLM's word-level tokenizer: one token per word of the shapes vocabulary."""

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


def build_tokenizer() -> PreTrainedTokenizerFast:
    """A lower-casing word-level tokenizer over ``SPECIAL_TOKENS + VOCABULARY`` (unknown words -> <unk>)."""
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate(SPECIAL_TOKENS + VOCABULARY)}
    tok = Tokenizer(WordLevel(vocab, unk_token=UNK))
    tok.normalizer = normalizers.Lowercase()
    # splits "circle?" into "circle", "?" so users need not type spaces before punctuation
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=False)
    tok.add_special_tokens(list(SPECIAL_TOKENS))
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        unk_token=UNK,
        extra_special_tokens={"image_token": IMAGE, "sep_token": SEP},
        model_max_length=256,
    )
