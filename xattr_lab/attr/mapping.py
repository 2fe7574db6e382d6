"""From search gains to an attribution map, and from any map back to a region order.

With ``g_k = F(S_k) − F(S_{k−1})`` the objective's gain at rank ``k`` of the ranking, two maps are offered
(``map_style``):

``"contribution"`` (default): the region at rank ``k`` gets ``Σ_{j≥k} |g_j|`` divided by ``Σ_j |g_j|``, the
share of the total gain still to come when it is added. The step from rank ``k`` to ``k+1`` is the region's
own gain ``|g_k|``, so a region that adds nothing sits level with the next one and a region that carries the
answer stands out: evidence in one region gives it 1.0 and every other region (near) 0; evidence split
evenly between two regions gives 1.0 and 0.5.

``"reference"`` (EAGLE's ``add_value``, kept to reproduce the paper's maps): rank ``k`` gets
``−Σ_{j≤k} |g_j|``, min-max normalised. Each region is darker than the one before it by its *own* gain and
the first region's gain vanishes in the normalisation: when one region carries the answer, the map is
spread by the small gains of the others, and nearly every region can read ≈ 1 (measured on the ShapesVLM,
``shapes(1, seed=2718, task="colour")`` at ``slico:16``: 15 of 16 regions ≥ 0.98).

Both maps are non-increasing along the ranking, so ranking the regions by the map gives back the search's
order (ties keep it). A flat objective (no gain anywhere, or no scored prefix) falls back to the rank.
"""

from __future__ import annotations

import numpy as np

from xattr_lab.scoring.orders import order_from_scores

__all__ = [
    "DEFAULT_MAP_STYLE",
    "MAP_STYLES",
    "check_map_style",
    "order_from_scores",
    "scores_from_gains",
    "scores_from_rank",
]

#: The maps ``scores_from_gains`` can draw (see the module docstring).
MAP_STYLES = ("contribution", "reference")
DEFAULT_MAP_STYLE = "contribution"

_FLAT = 1e-12  # total gain below which the objective counts as flat


def check_map_style(map_style: object) -> str:
    """Check a ``map_style`` argument; returns it.

    Raises:
        TypeError: not a string.
        ValueError: not one of ``MAP_STYLES``.
    """
    if not isinstance(map_style, str):
        raise TypeError(f"map_style: expected one of {list(MAP_STYLES)}, got {type(map_style).__name__}")
    if map_style not in MAP_STYLES:
        raise ValueError(f"map_style: expected one of {list(MAP_STYLES)}, got {map_style!r}")
    return map_style


def scores_from_gains(order: np.ndarray, values: np.ndarray, map_style: str = DEFAULT_MAP_STYLE) -> np.ndarray:
    """Region scores in [0, 1] from the objective along the ranking.

    Args:
        order: the ranking [N].
        values: ``F`` of each prefix [N + 1] (``values[0] = F(∅)``); NaN gaps count as zero gain.
        map_style: ``"contribution"`` (the gain still to come, default) or ``"reference"`` (EAGLE's
            ``add_value``); see the module docstring.

    Returns:
        float64 [N] scores indexed by region.
    """
    map_style = check_map_style(map_style)
    order = np.asarray(order, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (len(order) + 1,):
        raise ValueError(f"values: expected {len(order) + 1} prefix values (one per prefix), got {values.shape}")
    gains = np.abs(np.nan_to_num(np.diff(values), nan=0.0))
    if gains.sum() < _FLAT:
        return scores_from_rank(order)  # flat objective: the map still shows the order
    if map_style == "contribution":
        # Σ_{j≥k} |g_j| over the total: the first region reads 1, each step down is that region's own gain.
        ranked = np.cumsum(gains[::-1])[::-1] / gains.sum()
    else:
        ranked_value = -np.cumsum(gains)
        span = np.ptp(ranked_value)
        if span < _FLAT:  # all the gain in the first region: the reference's map is flat after it
            return scores_from_rank(order)
        ranked = (ranked_value - ranked_value.min()) / span
    out = np.zeros(len(order))
    out[order] = ranked
    return out


def scores_from_rank(order: np.ndarray) -> np.ndarray:
    """Region scores 1 .. 0 linearly by rank (for rankings with no gains)."""
    n = len(order)
    out = np.zeros(n)
    out[np.asarray(order)] = 1.0 - np.arange(n) / max(n - 1, 1)
    return out
