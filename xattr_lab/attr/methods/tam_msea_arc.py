"""The full seed pipeline of Liang et al. (2025): TAM maps with ARC context suppression, over MSEA scales."""

from __future__ import annotations

from collections.abc import Sequence

from xattr_lab.attr.context import MethodContext, MethodOutput
from xattr_lab.attr.methods.msea import msea


def tam_msea_arc(
    ctx: MethodContext,
    scales: Sequence[float] = (0.5, 1.0, 1.5),
    mode: str = "auto",
    k: int = 50,
    p: float = 0.9,
    rank_filter: bool = True,
    rbo: str = "truncated",
    variant: str = "default",
    views: str = "all",
) -> MethodOutput:
    """TAM + MSEA + ARC: ARC-weighted TAM maps (``k``, ``p``) averaged over input ``scales``.

    Args:
        ctx: the method context.
        scales: MSEA's input scales.
        mode: MSEA's scale mode (``"auto"``, ``"resize"``, ``"canvas"``).
        k: ARC's top-k.
        p: ARC's RBO persistence.
        rank_filter: TAM's rank Gaussian filter.
        rbo: ARC's RBO form, ``"truncated"`` (the paper's) or ``"ext"`` (extrapolated; see ``arc.py``).
        variant: the TAM underneath, ``"default"`` or ``"reference"`` (see ``tam.py``).
        views: a tiled model's tokens read, ``"all"``, ``"base"`` or ``"tiles"`` (see ``tam.py``).

    Returns:
        A pixel map.
    """
    from xattr_lab.attr.methods.arc import rbo_form
    from xattr_lab.attr.methods.tam import check_variant

    rbo_form(rbo)  # refuse a bad name before the first scale's forward
    from xattr_lab.models.token_grid import VIEWS

    check_variant(variant)
    if views not in VIEWS:
        raise ValueError(f"views: expected one of {VIEWS}, got {views!r}")
    return msea(
        ctx, base="arc", scales=scales, mode=mode, k=k, p=p, rank_filter=rank_filter, rbo=rbo, variant=variant,
        views=views,
    )  # fmt: skip


tam_msea_arc.family = "map"  # type: ignore[attr-defined]
tam_msea_arc.needs = ("hidden_states",)  # type: ignore[attr-defined]
