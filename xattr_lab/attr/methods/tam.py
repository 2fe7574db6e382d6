"""TAM (Li et al., ICCV 2025): token activation maps from the logit lens at the image tokens.

For the explained token with class ``c``: the raw map is ``A = ReLU(L[img, c])`` (last-layer logit lens at
every image token). Estimated causal inference (ECI) removes what earlier context tokens already explain:
with ``w_j`` = ReLU of class ``c``'s logit at context text position ``j`` and ``A_j`` the image map of
that token's class, the interference ``I = Σ w_j A_j / Σ w_j`` is scaled by least squares and subtracted,
``A' = ReLU(A − α* I)``. A rank Gaussian filter (3×3) then denoises the grid. ARC (see ``arc.py``) plugs
in as per-context relevance weights. Several target tokens get the mean of their normalised maps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from xattr_lab.attr.context import MethodContext, MethodOutput


def rank_gaussian_filter(grid: np.ndarray) -> np.ndarray:
    """TAM's rank Gaussian filter over 3×3 windows (edges replicated).

    Each window's 9 values are sorted; with ``σ`` its coefficient of variation, the output is the
    Gaussian-weighted (over rank offsets −4..4) sum. Windows with mean ≤ 0 give 0.
    """
    g = np.asarray(grid, dtype=np.float64)
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(g, 1, mode="edge"), (3, 3))
    values = np.sort(windows.reshape(*g.shape, 9), axis=-1)
    mean = values.mean(-1)
    sigma = values.std(-1) / np.where(mean > 0, mean, 1.0)
    ranks = np.arange(-4, 5, dtype=np.float64)
    weights = np.exp(-(ranks**2) / (2 * np.maximum(sigma, 1e-6)[..., None] ** 2))
    weights /= weights.sum(-1, keepdims=True)
    return np.where(mean > 0, (weights * values).sum(-1), 0.0)


def eci(raw: np.ndarray, context_maps: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Estimated causal inference: subtract the least-squares-scaled interference of the context.

    Args:
        raw: [N] the token's image map.
        context_maps: [J, N] image maps of the context tokens.
        weights: [J] non-negative weights of the context tokens.

    Returns:
        ``ReLU(raw − α* · I)`` with ``I`` the weighted mean of the context maps.
    """
    total = float(weights.sum())
    if len(weights) == 0 or total <= 0:
        return raw
    interference = (weights[:, None] * context_maps).sum(0) / total
    denom = float(interference @ interference)
    alpha = float(raw @ interference) / denom if denom > 0 else 0.0
    return np.maximum(raw - alpha * interference, 0.0)


def token_map(
    lens: Any, p: int, use_eci: bool = True, use_filter: bool = True, relevance: Any = None, normalise: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One generated token's TAM: (image grid [h, w], context positions [J], context scores [J]).

    Args:
        lens: a :class:`~xattr_lab.models.whitebox.LensReadout`.
        p: the token's index in the generated tokens.
        use_eci: subtract the context interference.
        use_filter: apply the rank Gaussian filter.
        relevance: optional callable ``(positions, p) -> [J]`` relevance in [0, 1] of each context position;
            interference weights become ``(1 − r_j) w_j`` (ARC).
        normalise: min-max normalise image and text scores jointly (False keeps logit units).

    Returns:
        The image map on the token grid and the text scores, jointly min-max normalised.
    """
    ids = lens.ids.numpy()
    at = lens.n_input + p
    cls = int(ids[at])
    image = set(lens.image_positions.tolist())
    context = np.array([j for j in range(at) if j not in image and ids[j] != cls], dtype=np.int64)
    raw = np.maximum(lens.logits(lens.image_positions, [cls])[:, 0].numpy().astype(np.float64), 0.0)
    text = (
        np.maximum(lens.logits(context, [cls])[:, 0].numpy().astype(np.float64), 0.0) if len(context) else np.zeros(0)
    )
    out = raw
    if use_eci and len(context):
        maps = np.maximum(lens.logits(lens.image_positions, ids[context]).numpy().T.astype(np.float64), 0.0)
        weights = text if relevance is None else (1.0 - np.asarray(relevance(context, p))) * text
        out = eci(raw, maps, weights)
    grid = out.reshape(lens.grid)
    if use_filter:
        grid = rank_gaussian_filter(grid)
    if not normalise:
        return grid, context, text
    lo = min(grid.min(), text.min(initial=np.inf))
    hi = max(grid.max(), text.max(initial=-np.inf))
    span = hi - lo if hi > lo else 1.0
    return (grid - lo) / span, context, (text - lo) / span


def tam_maps(
    model: Any,
    gen: Any,
    positions: Sequence[int],
    use_eci: bool = True,
    use_filter: bool = True,
    arc_k: int | None = None,
    arc_p: float = 0.9,
    normalise: bool = True,
) -> np.ndarray:
    """Per-token TAM (optionally with ARC) maps at the image's resolution: float32 [K, H, W]."""
    from xattr_lab.models.whitebox import lens_readout, to_image_map

    lens = lens_readout(model, gen)
    relevance = None
    if arc_k is not None:
        from xattr_lab.attr.methods.arc import context_relevance

        def relevance(context: np.ndarray, p: int) -> np.ndarray:
            return context_relevance(lens, context, lens.n_input + p, arc_k, arc_p)

    maps = [
        to_image_map(model, gen, token_map(lens, p, use_eci, use_filter, relevance, normalise)[0]) for p in positions
    ]
    return np.stack(maps).astype(np.float32)


def mean_map(maps: np.ndarray, normalise: bool = True) -> np.ndarray:
    """Mean of per-token maps, each min-max normalised first (unless ``normalise`` is False)."""
    if not normalise:
        return maps.mean(0)
    lo = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - lo
    return ((maps - lo) / np.where(span > 0, span, 1.0)).mean(0)


def tam(ctx: MethodContext, eci: bool = True, rank_filter: bool = True, normalise: bool = True) -> MethodOutput:
    """TAM: last-layer logit-lens maps at the image tokens, with ECI and the rank Gaussian filter.

    Args:
        ctx: the method context.
        eci: subtract the interference of earlier context tokens.
        rank_filter: apply the 3×3 rank Gaussian filter.
        normalise: min-max normalise each token's map (False keeps logit units, for MSEA's tiles).

    Returns:
        A pixel map (one forward with hidden states).
    """
    maps = tam_maps(ctx.model, ctx.generation, ctx.positions, bool(eci), bool(rank_filter), normalise=bool(normalise))
    params = {"eci": bool(eci), "rank_filter": bool(rank_filter), "normalise": bool(normalise)}
    return MethodOutput(pixel_map=mean_map(maps, bool(normalise)), params=params, stats={"n_forward_method": 1})


tam.family = "map"  # type: ignore[attr-defined]
tam.needs = ("hidden_states",)  # type: ignore[attr-defined]
