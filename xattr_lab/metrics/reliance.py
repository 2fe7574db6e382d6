"""Per-token reliance on the image versus language priors (EAGLE §"what they rely on").

A token whose probability climbs as regions are revealed rests on the image; one whose insertion curve is
flat (often near 1 from the first step) comes from the language prior. The score is the area under the
token's own insertion curve minus its minimum, min-max normalised across the explained tokens.
"""

from __future__ import annotations

import numpy as np

from xattr_lab.metrics.faithfulness import auc


def raw_reliance(insertion: np.ndarray, area: np.ndarray) -> np.ndarray:
    """``AUC_a(p_i) − min p_i`` per token, float64 [T] (NaN where a curve has gaps)."""
    ins = np.atleast_2d(np.asarray(insertion, dtype=np.float64))
    return np.array([auc(row, area) - np.min(row) for row in ins])


def vision_reliance(insertion: np.ndarray, area: np.ndarray) -> np.ndarray:
    """Min-max normalised reliance per token in [0, 1], float64 [T].

    With a single token (or all equal) there is nothing to normalise against; the raw score, which already
    lies in [0, 1], is returned.
    """
    raw = raw_reliance(insertion, area)
    finite = raw[np.isfinite(raw)]
    if finite.size < 2 or np.ptp(finite) < 1e-12:
        return np.clip(raw, 0.0, 1.0)
    return (raw - finite.min()) / np.ptp(finite)
