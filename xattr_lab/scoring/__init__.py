"""The memoised, batched subset scorer and region orders, shared by ``attr`` and ``metrics`` (below both)."""

from __future__ import annotations

from xattr_lab._lazy import lazy_facade

_EXPORTS = {
    "SubsetScorer": "xattr_lab.scoring.subsets",
    "bits_to_keep": "xattr_lab.scoring.subsets",
    "keep_to_bits": "xattr_lab.scoring.subsets",
    "order_from_scores": "xattr_lab.scoring.orders",
}

__all__ = list(_EXPORTS)

__getattr__, __dir__ = lazy_facade(__name__, _EXPORTS)
