"""Which generated tokens to explain: ``"all"``, a list of positions, or ``"word:<text>"``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xattr_lab.models.protocol import Generation


def _norm(token: str) -> str:
    # Tokenizers mark word starts differently (Ġ, ▁, a space); compare the bare text.
    return token.replace("Ġ", "").replace("▁", "").strip().lower()


def resolve_tokens(tokens: str | Sequence[int], gen: Generation) -> tuple[int, ...]:
    """Target positions in ``gen.generated_tokens``.

    Args:
        tokens: ``"all"``; a list of positions (negative counts from the end); or ``"word:<text>"``, the
            first run of tokens that spells ``<text>`` (case-insensitive, sub-word pieces joined).
        gen: the generation.

    Returns:
        Sorted unique positions.

    Raises:
        ValueError: for an empty generation, a position outside it, a word not found or a bad spec.
        TypeError: for a spec of the wrong type.
    """
    n = len(gen.generated_tokens)
    if n == 0:
        raise ValueError("tokens: the generation has no tokens to explain")
    if isinstance(tokens, str):
        if tokens == "all":
            return tuple(range(n))
        if tokens.startswith("word:"):
            return _find_word(tokens[5:], gen)
        raise ValueError(f"tokens: expected 'all', 'word:<text>' or a list of positions, got {tokens!r}")
    if isinstance(tokens, int):
        tokens = [tokens]
    try:
        items = list(tokens)
    except TypeError:
        raise TypeError(f"tokens: expected 'all', 'word:<text>' or a list of positions, got {tokens!r}") from None
    if not items:
        raise ValueError("tokens: the list of positions is empty")
    out = set()
    for p in items:
        if isinstance(p, bool) or not isinstance(p, int) and not hasattr(p, "__index__"):
            raise TypeError(f"tokens: positions must be integers, got {p!r}")
        q = int(p)
        if not -n <= q < n:
            raise ValueError(f"tokens: position {q} is outside the generation (0..{n - 1})")
        out.add(q % n)
    return tuple(sorted(out))


def _find_word(word: str, gen: Generation) -> tuple[int, ...]:
    target = _norm(word).replace(" ", "")
    if not target:
        raise ValueError("tokens: 'word:' needs a word after the colon")
    pieces = [_norm(t).replace(" ", "") for t in gen.generated_tokens]
    for start in range(len(pieces)):
        joined = ""
        for end in range(start, len(pieces)):
            joined += pieces[end]
            if joined == target and pieces[start]:
                return tuple(range(start, end + 1))
            if not target.startswith(joined):
                break
    raise ValueError(f"tokens: the word {word!r} is not in the generation {list(gen.generated_tokens)!r}")
