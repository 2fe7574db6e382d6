"""ARC (Liang et al., 2025): rank-biased overlap of top-k predictions to suppress irrelevant context.

The relevance of context token ``j`` to the current token ``t`` is ``r_j = RBO(topk(L[j]), topk(L[t]))``
(logit lens at the last layer, ``k = 50``, ``p = 0.9``). In TAM's interference term each context map is
weighted by ``(1 − r_j)·w_j``: context that predicts what the current token predicts is kept, unrelated
context is subtracted. The paper's exact weighting is not public; this is the reconstruction in
``reference/seed_attribution.md`` §3.3.

Which RBO: by default the **truncated** sum ``(1 − p) Σ_{d=1..k} p^{d−1} A_d``
(:func:`~xattr_lab.metrics.rank_similarity.rbo_truncated`), because that is the form the paper writes (its
Eq. 7 as quoted by the reviewers); identical top-k lists then give ``1 − p^k`` (0.9948 at k = 50, p = 0.9),
so a context token that predicts exactly alike still keeps a ``p^k`` sliver of its weight. ``rbo="ext"``
uses Webber et al.'s extrapolated ``RBO_ext`` instead (identical lists give 1). Until this version ARC divided
the truncated sum by ``1 − p^k``, which is neither form (reversed top-10 lists at p = 0.9: 0.250, against
0.163 truncated and 0.512 extrapolated); it reproduced nothing published and is gone. The two named forms differ
by exactly ``A_k·p^k`` (``A_k`` the overlap share of the full top-k lists), at most 0.0052 at k = 50, p = 0.9,
and the choice hardly shows in the maps: on 50 held-out ShapesVLM caption scenes (``shapes(50, seed=102,
task="caption")``) ARC's Obj-IoU / F1-IoU are 0.2395 / 0.3736 truncated, 0.2396 / 0.3737 extrapolated and
0.2396 / 0.3737 with the old normalisation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xattr_lab.attr.context import MethodContext, MethodOutput


def rbo_form(rbo: str) -> Any:
    """The RBO function named by ``rbo`` (``"truncated"`` or ``"ext"``); a ValueError for any other name."""
    from xattr_lab.metrics.rank_similarity import RBO_FORMS

    if rbo not in RBO_FORMS:
        raise ValueError(f"rbo: expected one of {sorted(RBO_FORMS)}, got {rbo!r}")
    return RBO_FORMS[rbo]


def context_relevance(
    lens: Any, context: np.ndarray, current: int, k: int = 50, p: float = 0.9, rbo: str = "truncated"
) -> np.ndarray:
    """ARC relevance [J] of the context positions to the position ``current`` (logit-lens top-k RBO).

    Args:
        lens: a :class:`~xattr_lab.models.whitebox.LensReadout`.
        context: positions [J] of the context tokens.
        current: position of the current token.
        k: top-k predictions compared (capped at the vocabulary size).
        p: RBO persistence.
        rbo: ``"truncated"`` (the paper's form) or ``"ext"`` (Webber et al.'s extrapolated RBO).

    Returns:
        Float [J] in [0, 1].
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k: expected a positive int, got {k!r}")
    form = rbo_form(rbo)
    if len(context) == 0:
        return np.zeros(0)
    top = lens.topk(np.append(np.asarray(context, dtype=np.int64), current), k)
    return np.asarray(form(top[:-1], top[-1], p), dtype=np.float64)


def arc(
    ctx: MethodContext,
    k: int = 50,
    p: float = 0.9,
    rank_filter: bool = True,
    normalise: bool = True,
    rbo: str = "truncated",
    variant: str = "default",
    views: str = "all",
) -> MethodOutput:
    """ARC: TAM at one scale with interference weighted by ``1 − RBO`` relevance of each context token.

    Args:
        ctx: the method context.
        k: top-k predictions compared (paper: 50; capped at the vocabulary size).
        p: RBO persistence.
        rank_filter: apply TAM's rank Gaussian filter.
        normalise: min-max normalise each token's map (False keeps logit units, for MSEA's tiles).
        rbo: ``"truncated"`` (default, the paper's form) or ``"ext"`` (extrapolated RBO).
        variant: the TAM underneath, ``"default"`` or ``"reference"`` (see :mod:`~xattr_lab.attr.methods.tam`).
        views: a tiled model's tokens read, ``"all"``, ``"base"`` or ``"tiles"`` (see :func:`tam`).

    Returns:
        A pixel map (one forward with hidden states).
    """
    from xattr_lab.attr.methods.tam import check_variant, mean_map, tam_maps

    rbo_form(rbo)
    check_variant(variant)
    maps = tam_maps(
        ctx.model, ctx.generation, ctx.positions, True, bool(rank_filter), k, p, bool(normalise), rbo, variant, views
    )
    params = {"k": k, "p": p, "rank_filter": bool(rank_filter), "normalise": bool(normalise), "rbo": rbo}
    params["variant"] = variant
    params["views"] = views
    return MethodOutput(pixel_map=mean_map(maps, bool(normalise)), params=params, stats={"n_forward_method": 1})


arc.family = "map"  # type: ignore[attr-defined]
arc.needs = ("hidden_states",)  # type: ignore[attr-defined]
