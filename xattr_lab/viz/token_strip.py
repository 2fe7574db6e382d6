"""The token strip view: prompt and generated tokens coloured by a score.

Every colouring has a legend in the view: what the score is, its range, and what an uncoloured token means.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from xattr_lab.viz.payload import encode_array, make_payload
from xattr_lab.viz.view import View


def _check_tokens(name: str, tokens: Any) -> list[str]:
    if isinstance(tokens, str) or not isinstance(tokens, Sequence):
        raise TypeError(f"{name}: expected a sequence of strings, got {type(tokens).__name__}")
    bad = [type(t).__name__ for t in tokens if not isinstance(t, str)]
    if bad:
        raise TypeError(f"{name}: every token must be a str, got {bad[0]}")
    return list(tokens)


def token_strip_payload(
    tokens: Sequence[str],
    scores: Any = None,
    prompt_tokens: Sequence[str] = (),
    score_label: str = "score",
    signed: bool | None = None,
    title: str | None = None,
    unscored_label: str | None = None,
) -> dict[str, Any]:
    """Build the token-strip payload.

    Args:
        tokens: the generated tokens (untrusted text: rendered as text, never as HTML).
        scores: one score per generated token, or None for plain tokens. NaN marks "no score".
        prompt_tokens: prompt tokens shown before the generated ones, uncoloured.
        score_label: what the score is, shown on hover.
        signed: force a diverging (True) or sequential (False) colour scale; None decides from the data.
        title: optional title line.
        unscored_label: what an uncoloured (NaN) token means, shown in the legend (default "not scored").
    """
    toks = _check_tokens("tokens", tokens)
    data: dict[str, Any] = {
        "tokens": toks,
        "prompt_tokens": _check_tokens("prompt_tokens", prompt_tokens),
        "score_label": str(score_label),
    }
    if signed is not None:
        data["signed"] = bool(signed)
    if unscored_label:
        data["unscored_label"] = str(unscored_label)
    if scores is not None:
        arr = np.asarray(scores.detach().cpu() if hasattr(scores, "detach") else scores, dtype=np.float64)
        if arr.shape != (len(toks),):
            raise ValueError(f"scores: expected shape ({len(toks)},) to match tokens, got {arr.shape}")
        data["scores"] = encode_array(arr)
    return make_payload("token_strip", data, title)


def token_strip(
    tokens: Sequence[str],
    scores: Any = None,
    prompt_tokens: Sequence[str] = (),
    score_label: str = "score",
    signed: bool | None = None,
    title: str | None = None,
) -> View:
    """A displayable token strip (see :func:`token_strip_payload` for the arguments)."""
    payload = token_strip_payload(tokens, scores, prompt_tokens, score_label, signed, title)
    return View(payload, f"TokenStrip({len(payload['data']['tokens'])} tokens)")
