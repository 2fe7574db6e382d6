"""anywidget widgets for live work: the state is a view payload (binary buffers) and the selection."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from xattr_lab.viz.token_strip import token_strip_payload

_STATIC = Path(__file__).resolve().parent.parent / "static"


class XattrWidget(anywidget.AnyWidget):
    """A live view of any payload; ``selected`` is the selected generated-token index (-1: none)."""

    _esm = _STATIC / "widget.js"
    payload = traitlets.Dict().tag(sync=True)
    selected = traitlets.Int(-1).tag(sync=True)


class TokenStrip(XattrWidget):
    """Prompt and generated tokens coloured by a score; click or use the arrow keys to select a token.

    Args:
        tokens: the generated tokens.
        scores: one score per token (optional).
        prompt_tokens: tokens shown before the generated ones.
        score_label: what the score is.
        title: optional title.

    Example:
        >>> strip = TokenStrip(["a", "red", "circle"], scores=[0.2, 0.9, 0.6])  # doctest: +SKIP
        >>> strip.selected  # after a click in the notebook  # doctest: +SKIP
    """

    def __init__(
        self,
        tokens: Sequence[str],
        scores: Any = None,
        prompt_tokens: Sequence[str] = (),
        score_label: str = "score",
        title: str | None = None,
        **kwargs: Any,
    ) -> None:
        payload = token_strip_payload(tokens, scores, prompt_tokens, score_label, title=title)
        super().__init__(payload=payload, **kwargs)
