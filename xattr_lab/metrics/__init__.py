"""Faithfulness, localisation and hallucination metrics.

Stable API: :func:`evaluate` (any explanation through the same perturbation path), the curve metrics in
:mod:`~xattr_lab.metrics.faithfulness`, :func:`~xattr_lab.metrics.localisation.pointing_game`, Webber et
al.'s rank-biased overlap in :mod:`~xattr_lab.metrics.rank_similarity` and the hallucination measures in
:mod:`~xattr_lab.metrics.hallucination`. Importing this package loads numpy only.
"""

from __future__ import annotations

from xattr_lab._lazy import lazy_facade

_EXPORTS = {
    "evaluate": "xattr_lab.metrics.evaluate",
    "auc": "xattr_lab.metrics.faithfulness",
    "curve_metrics": "xattr_lab.metrics.faithfulness",
    "vision_reliance": "xattr_lab.metrics.reliance",
    "pointing_game": "xattr_lab.metrics.localisation",
    "rbo_truncated": "xattr_lab.metrics.rank_similarity",
    "rbo_ext": "xattr_lab.metrics.rank_similarity",
    "correction_area": "xattr_lab.metrics.hallucination",
    "hallucination_scores": "xattr_lab.metrics.hallucination",
    "bootstrap_ci": "xattr_lab.metrics.uncertainty",
    "paired_difference": "xattr_lab.metrics.uncertainty",
}

__all__ = list(_EXPORTS)

__getattr__, __dir__ = lazy_facade(__name__, _EXPORTS)
