"""ARC (Liang et al., 2025): rank-biased overlap of top-k predictions to suppress irrelevant context.

The relevance of context token ``j`` to the current token ``t`` is ``r_j = RBO(topk(L[j]), topk(L[t]))``
(logit lens at the last layer, ``k = 50``, ``p = 0.9``, normalised so identical lists give 1). In TAM's
interference term each context map is weighted by ``(1 − r_j)·w_j``: context that predicts what the current
token predicts is kept, unrelated context is subtracted. The paper's exact weighting is not public; this is
the reconstruction in ``reference/seed_attribution.md`` §3.3.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xattr_lab.attr.context import MethodContext, MethodOutput


def rbo(lists: np.ndarray, reference: np.ndarray, p: float = 0.9) -> np.ndarray:
    """Truncated rank-biased overlap of each row of ``lists`` [J, k] with ``reference`` [k], in [0, 1].

    ``RBO = (1 − p) Σ_{d=1..k} p^{d−1} |A_{:d} ∩ B_{:d}| / d``, divided by its maximum ``1 − p^k``.
    """
    lists = np.atleast_2d(np.asarray(lists))
    reference = np.asarray(reference)
    k = reference.shape[0]
    if lists.shape[1] != k:
        raise ValueError(f"lists: expected rows of length {k}, got {lists.shape[1]}")
    if not 0 < p < 1:
        raise ValueError(f"p: expected a value in (0, 1), got {p!r}")
    # an item enters the overlap at depth max(rank in A, rank in B) + 1; absent from B: never (k)
    ref_rank = np.full(int(max(lists.max(initial=0), reference.max(initial=0))) + 1, k, dtype=np.int64)
    ref_rank[reference] = np.arange(k)
    r = ref_rank[lists]
    depth = np.where(r < k, np.maximum(np.arange(k)[None, :], r), k)
    counts = np.stack([np.bincount(d[d < k], minlength=k) for d in depth])
    overlap = np.cumsum(counts, axis=1)  # |A_{:d} ∩ B_{:d}| for d = 1..k
    d = np.arange(1, k + 1)
    return (1 - p) * (overlap * p ** (d - 1) / d).sum(1) / (1 - p**k)


def context_relevance(lens: Any, context: np.ndarray, current: int, k: int = 50, p: float = 0.9) -> np.ndarray:
    """ARC relevance [J] of the context positions to the position ``current`` (logit-lens top-k RBO)."""
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k: expected a positive int, got {k!r}")
    if len(context) == 0:
        return np.zeros(0)
    top = lens.topk(np.append(np.asarray(context, dtype=np.int64), current), k)
    return rbo(top[:-1], top[-1], p)


def arc(
    ctx: MethodContext, k: int = 50, p: float = 0.9, rank_filter: bool = True, normalise: bool = True
) -> MethodOutput:
    """ARC: TAM at one scale with interference weighted by ``1 − RBO`` relevance of each context token.

    Args:
        ctx: the method context.
        k: top-k predictions compared (paper: 50; capped at the vocabulary size).
        p: RBO persistence.
        rank_filter: apply TAM's rank Gaussian filter.
        normalise: min-max normalise each token's map (False keeps logit units, for MSEA's tiles).

    Returns:
        A pixel map (one forward with hidden states).
    """
    from xattr_lab.attr.methods.tam import mean_map, tam_maps

    maps = tam_maps(ctx.model, ctx.generation, ctx.positions, True, bool(rank_filter), k, p, bool(normalise))
    params = {"k": k, "p": p, "rank_filter": bool(rank_filter), "normalise": bool(normalise)}
    return MethodOutput(pixel_map=mean_map(maps, bool(normalise)), params=params, stats={"n_forward_method": 1})


arc.family = "map"  # type: ignore[attr-defined]
arc.needs = ("hidden_states",)  # type: ignore[attr-defined]
