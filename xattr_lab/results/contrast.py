"""What a contrastive explanation compares its target with: the contrast answer, aligned per position."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Contrast:
    """The answer a contrastive explanation explains the target *against*.

    Attributes:
        text: the contrast as given (token ids joined by spaces when given as ids).
        ids: one contrast token id per explained position (``Explanation.positions``).
        tokens: the display strings of those ids.
        prefix: the prefix each contrast token is read after: ``"target"`` or ``"own"`` (see
            :mod:`xattr_lab.scoring.contrast`).
    """

    text: str
    ids: tuple[int, ...]
    tokens: tuple[str, ...]
    prefix: str = "target"

    def to_meta(self) -> dict[str, Any]:
        """JSON-able form (stored under ``"contrast"`` in a saved Explanation)."""
        return {"text": self.text, "ids": list(self.ids), "tokens": list(self.tokens), "prefix": self.prefix}

    @classmethod
    def from_meta(cls, meta: Any, n_positions: int) -> Contrast:
        """Rebuild from :meth:`to_meta`, checking every field.

        Raises:
            ValueError: for a missing or mistyped field, or ids not one per explained position.
        """
        from xattr_lab.results import _checks as c

        if not isinstance(meta, dict):
            raise ValueError(f"the entry 'contrast' is a {type(meta).__name__}, expected dict")
        ids = c.ints(meta, "ids")
        tokens = c.strings(meta, "tokens")
        if len(ids) != n_positions or len(tokens) != n_positions:
            raise ValueError(
                f"the entry 'contrast' holds {len(ids)} ids and {len(tokens)} tokens for {n_positions} positions"
            )
        prefix = c.field(meta, "prefix", str)
        if prefix not in ("target", "own"):
            raise ValueError(f"the entry 'contrast' has prefix {prefix!r}, expected 'target' or 'own'")
        return cls(text=c.field(meta, "text", str), ids=tuple(ids), tokens=tuple(tokens), prefix=prefix)


__all__ = ["Contrast"]
