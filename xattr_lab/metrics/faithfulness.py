"""Insertion / deletion curves and the numbers the papers read off them.

Curves run over the revealed area: point ``k`` of an insertion curve is the probability with the first
``k`` ranked regions kept (``k = 0`` is the empty image, ``k = N`` the full one); point ``k`` of a deletion
curve is the probability with them removed (``k = 0`` is the full image). Both are indexed by the same
cumulative area fraction ``a_k``, so AUCs are trapezoids over ``a`` in [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SENSITIVITY = 0.2  # EAGLE's --sensitiveity: a token is image-sensitive when p_full − p_empty > 0.2
BUDGETS = (0.25, 0.5, 0.75, 1.0)  # LiMA's area budgets for the highest confidence


def auc(y: np.ndarray, area: np.ndarray) -> float:
    """Trapezoid area under ``y`` over ``area`` (NaN if any point is missing)."""
    y, area = np.asarray(y, dtype=np.float64), np.asarray(area, dtype=np.float64)
    if np.isnan(y).any():
        return float("nan")
    return float(np.sum((y[1:] + y[:-1]) * np.diff(area)) / 2.0)


def cumulative_area(order: Sequence[int], region_area: np.ndarray) -> np.ndarray:
    """Revealed-area fractions ``a_0 = 0 .. a_N = 1`` along a region order, float64 [N + 1]."""
    a = np.concatenate([[0.0], np.cumsum(np.asarray(region_area, dtype=np.float64)[np.asarray(order)])])
    return np.minimum(a / a[-1], 1.0) if a[-1] > 0 else a


def highest_confidence(
    curve: np.ndarray, area: np.ndarray, budgets: Sequence[float] = BUDGETS
) -> dict[str, float]:
    """LiMA's mistake-debugging score: the best insertion value using at most each area budget.

    Returns:
        ``{"highest_conf@25": ..., "area_at_highest@25": ...}`` per budget (percent in the key).
    """
    out: dict[str, float] = {}
    curve, area = np.asarray(curve, dtype=np.float64), np.asarray(area, dtype=np.float64)
    for b in budgets:
        ok = area <= b + 1e-9
        key = int(round(b * 100))
        if not ok.any() or np.isnan(curve[ok]).all():
            out[f"highest_conf@{key}"] = out[f"area_at_highest@{key}"] = float("nan")
            continue
        idx = np.flatnonzero(ok)[int(np.nanargmax(curve[ok]))]
        out[f"highest_conf@{key}"] = float(curve[idx])
        out[f"area_at_highest@{key}"] = float(area[idx])
    return out


def curve_metrics(
    insertion: np.ndarray, deletion: np.ndarray, area: np.ndarray, sensitivity: float = SENSITIVITY
) -> dict[str, float]:
    """All curve metrics of one explanation.

    Args:
        insertion: per-token insertion curves [T, N + 1].
        deletion: per-token deletion curves [T, N + 1].
        area: revealed-area fractions [N + 1].
        sensitivity: the Δp threshold of the sensitive-token variants.

    Returns:
        ``insertion_auc``, ``deletion_auc``, ``ahs`` (average highest score: max of the mean insertion
        curve), their ``sensitive_*`` variants over tokens with ``p_full − p_empty > sensitivity`` (NaN when
        none is), ``n_sensitive``, ``p_full``, ``p_empty`` and the highest confidence per area budget.
    """
    ins, dele = np.atleast_2d(insertion), np.atleast_2d(deletion)
    mean_ins, mean_del = ins.mean(0), dele.mean(0)
    out = {
        "insertion_auc": auc(mean_ins, area),
        "deletion_auc": auc(mean_del, area),
        "ahs": float(np.max(mean_ins)) if not np.isnan(mean_ins).any() else float("nan"),
        "p_full": float(ins[:, -1].mean()),
        "p_empty": float(ins[:, 0].mean()),
    }
    sensitive = (ins[:, -1] - ins[:, 0]) > sensitivity
    out["n_sensitive"] = float(sensitive.sum())
    if sensitive.any():
        s_ins, s_del = ins[sensitive].mean(0), dele[sensitive].mean(0)
        out["sensitive_insertion_auc"] = auc(s_ins, area)
        out["sensitive_deletion_auc"] = auc(s_del, area)
        out["sensitive_ahs"] = float(np.max(s_ins)) if not np.isnan(s_ins).any() else float("nan")
    else:
        out["sensitive_insertion_auc"] = out["sensitive_deletion_auc"] = out["sensitive_ahs"] = float("nan")
    out.update(highest_confidence(mean_ins, area))
    return out
