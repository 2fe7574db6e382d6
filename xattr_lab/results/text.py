"""Text-side attribution results: scores of context tokens for generated tokens.

A plain frozen dataclass; its view (a token strip) is built by ``xattr_lab.viz`` when displayed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True, eq=False)
class TextAttribution:
    """Scores of context tokens for some generated tokens.

    Attributes:
        tokens: display strings of the context (prompt tokens or segments, then earlier generated tokens).
        scores: float64 [len(tokens)] attribution per context token (NaN where not scored, e.g. ``<image>``).
        target: display string of the explained generated token(s).
        method: ``"arc"`` or ``"leave_one_out"``.
        params: the parameters used.
    """

    tokens: tuple[str, ...]
    scores: np.ndarray
    target: str
    method: str
    params: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        finite = np.where(np.isfinite(self.scores), self.scores, -np.inf)
        top = self.tokens[int(np.argmax(finite))].strip() if len(self.tokens) and np.isfinite(self.scores).any() else ""
        return f"TextAttribution({self.method}, target={self.target!r}, {len(self.tokens)} tokens, top={top!r})"

    @property
    def score_label(self) -> str:
        """What the scores are, in words (for legends)."""
        return "ARC relevance" if self.method == "arc" else "log-prob drop when removed"

    def to_view_data(self) -> dict[str, Any]:
        """Plain data for the token strip: context tokens coloured by score, then the target (uncoloured)."""
        return {
            "tokens": [*self.tokens, self.target],
            "scores": np.append(np.asarray(self.scores, dtype=np.float64), np.nan),
            "score_label": self.score_label,
            "title": f"{self.method}: why {self.target!r}?",
        }

    def token_strip(self) -> Any:
        """The token strip view (needs ``xattr_lab.viz``)."""
        from xattr_lab.viz.bundle import result_view

        return result_view(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        try:
            from xattr_lab.viz.bundle import result_bundle

            return result_bundle(self)
        except (ImportError, AttributeError):
            return {"text/plain": repr(self)}
