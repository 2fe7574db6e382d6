"""The text side: how much a generated token rests on each prompt and context token.

Two views of it:

* :func:`arc_relevance` (white-box, one forward): ARC's rank-biased overlap between the logit-lens top-k
  predictions at each context token and at the generated token, i.e. which context "predicts alike".
* :func:`leave_one_out` (black-box, ``score_text``): drop one prompt segment at a time (a word by default)
  and measure the fall of the target tokens' log-probability.

Both return a :class:`TextAttribution` that displays as a token strip.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from xattr_lab.results.text import TextAttribution


def _check_position(gen: Any, position: int) -> int:
    n = gen.n_generated
    if isinstance(position, bool) or not isinstance(position, (int, np.integer)):
        raise TypeError(f"position: expected an int, got {type(position).__name__}")
    if not -n <= int(position) < n:
        raise ValueError(f"position: {position} is outside the generation (0..{n - 1})")
    return int(position) % n


def arc_relevance(model: Any, gen: Any, position: int, k: int = 50, p: float = 0.9) -> TextAttribution:
    """ARC relevance of every prompt and earlier generated token to generated token ``position``.

    Args:
        model: a white-box model (``hidden_states``).
        gen: the generation.
        position: index of the explained generated token.
        k: top-k predictions compared.
        p: RBO persistence.

    Returns:
        Scores in [0, 1] aligned with ``gen.prompt_tokens + gen.generated_tokens[:position]`` (``<image>``:
        NaN).
    """
    from xattr_lab.attr.methods.arc import context_relevance
    from xattr_lab.models.whitebox import lens_readout

    position = _check_position(gen, position)
    lens = lens_readout(model, gen)
    image = set(lens.image_positions.tolist())
    text_positions = [j for j in range(lens.n_input) if j not in image]
    context = np.array(text_positions + [lens.n_input + q for q in range(position)], dtype=np.int64)
    relevance = context_relevance(lens, context, lens.n_input + position, k, p)
    prompt = list(gen.prompt_tokens)
    scores = np.full(len(prompt) + position, np.nan)
    text_slots = [i for i, t in enumerate(prompt) if t != "<image>"][: len(text_positions)]
    scores[text_slots] = relevance[: len(text_slots)]
    scores[len(prompt) :] = relevance[len(text_positions) :]
    tokens = (*prompt, *gen.generated_tokens[:position])
    return TextAttribution(tokens, scores, gen.generated_tokens[position], "arc", {"k": k, "p": p})


def leave_one_out(
    model: Any, gen: Any, positions: Sequence[int] | None = None, segments: Sequence[str] | None = None
) -> TextAttribution:
    """Leave-one-segment-out attribution of generated tokens to prompt segments (``score_text``).

    Args:
        model: any model with ``score_text``.
        gen: the generation.
        positions: generated tokens explained together (all by default); their log-probabilities are summed.
        segments: the prompt cut into segments that join with spaces back into the prompt (words by default).

    Returns:
        ``log p(targets | prompt) − log p(targets | prompt without segment i)`` per segment.

    Raises:
        ValueError: when ``segments`` do not rebuild the prompt, or a position is out of range.
    """
    if not callable(getattr(model, "score_text", None)):
        raise TypeError("model: leave-one-out needs a model with score_text()")
    segments = list(gen.prompt.split()) if segments is None else [str(s) for s in segments]
    if " ".join(s.strip() for s in segments) != " ".join(gen.prompt.split()):
        raise ValueError("segments: they must join with spaces back into the prompt")
    if len(segments) < 1:
        raise ValueError("segments: the prompt has no segment to remove")
    pos = list(range(gen.n_generated)) if positions is None else [_check_position(gen, q) for q in positions]
    variants = [gen.prompt] + [" ".join(segments[:i] + segments[i + 1 :]) for i in range(len(segments))]
    probs = model.score_text(gen, variants, positions=pos)
    logp = np.log(np.clip(np.asarray(probs.detach().cpu() if hasattr(probs, "detach") else probs, float), 1e-12, None))
    total = logp.sum(axis=1)
    target = " ".join(gen.generated_tokens[q].strip() for q in pos)
    return TextAttribution(tuple(segments), total[0] - total[1:], target, "leave_one_out", {"positions": pos})


__all__ = ["TextAttribution", "arc_relevance", "leave_one_out"]
