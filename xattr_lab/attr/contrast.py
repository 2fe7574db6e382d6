"""``explain(..., contrast=)``: check the contrast, align it with the target, pick the positions to explain.

A contrastive explanation asks why the model gives the target rather than the contrast; every method that
supports it explains the margin ``log p(target) − log p(contrast)`` at the same positions (see
:mod:`xattr_lab.scoring.contrast` for how both are read).

Alignment: the contrast is tokenised like a target (``model.with_target``) and compared position by
position with the whole target (the generated answer when no ``target=`` is given) when both have the same
number of tokens, or else with the explained positions (``tokens=``) when those are consecutive and as many
as the contrast's tokens. Positions where both answers have the same token carry no contrast (their margin
is 0 whatever the image) and are left out of the explained positions. Anything else is refused.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xattr_lab.models.protocol import Generation, ScoringModel
    from xattr_lab.results.contrast import Contrast

#: Methods that explain a contrastive margin. The others read the target alone (TAM, MSEA, ARC, SMA
#: read logits or hidden states of one token; LayerGradCam's hook would see the contrast's own forward).
CONTRAST_METHODS: frozenset[str] = frozenset(
    {"eagle", "lima", "random", "feature_ablation", "occlusion", "lime", "kernel_shap", "integrated_gradients",
     "saliency"}
)  # fmt: skip


def check_contrast(contrast: Any, method: str, params: dict[str, Any], prefix: Any = "target") -> None:
    """Type checks before any model work.

    Raises:
        TypeError: for a contrast that is neither a string nor a list of token ids.
        ValueError: for an empty contrast, a method that cannot explain a margin, LiMA ``candidates`` or an
            unknown ``contrast_prefix``.
    """
    from xattr_lab.attr.arguments import answer_ids
    from xattr_lab.scoring.contrast import check_prefix

    check_prefix(prefix)
    if contrast is None:
        return
    # The shape checks are target='s (answer_ids); a bad id, negative ones included, is a TypeError here.
    for i, t in enumerate(answer_ids(contrast, "contrast", arrays_1d=False) or ()):
        if isinstance(t, bool) or not isinstance(t, numbers.Integral) or int(t) < 0:
            raise TypeError(f"contrast: expected token ids (ints >= 0), got {t!r} at index {i}")
    if method not in CONTRAST_METHODS:
        raise ValueError(
            f"contrast: method {method!r} explains one target only; contrastive methods are {sorted(CONTRAST_METHODS)}"
        )
    if params.get("candidates"):
        raise ValueError(
            "candidates: with a contrast, LiMA's confidence term compares the target with the contrast; "
            "pass candidates or contrast, not both"
        )


def resolve_contrast(
    model: ScoringModel,
    gen: Generation,
    positions: Sequence[int],
    contrast: str | Sequence[int],
    prefix: str = "target",
) -> tuple[tuple[int, ...], Contrast]:
    """The positions to explain and the contrast aligned with them.

    Args:
        model: the scoring model (its ``with_target`` tokenises the contrast like a target).
        gen: the explained generation (after ``target=``).
        positions: the explained positions asked for (``tokens=``).
        contrast: the contrast answer, text or token ids.
        prefix: ``"target"`` or ``"own"`` (see :mod:`xattr_lab.scoring.contrast`).

    Returns:
        ``(positions, Contrast)``: the positions where the two answers differ, and the contrast there.

    Raises:
        ValueError: when the contrast cannot be aligned (naming both tokenisations) or equals the target.
    """
    from xattr_lab.results.contrast import Contrast
    from xattr_lab.scoring.contrast import check_prefix

    prefix = check_prefix(prefix)
    items = contrast if isinstance(contrast, str) else [int(t) for t in contrast]
    c_gen = model.with_target(gen, items)
    c_ids = [int(t) for t in c_gen.generated_ids]
    t_ids = [int(t) for t in gen.generated_ids]
    pos = [int(p) for p in positions]
    if len(c_ids) == len(t_ids):
        aligned = {p: c_ids[p] for p in pos}
    elif len(c_ids) == len(pos) and pos == list(range(pos[0], pos[0] + len(pos))):
        aligned = dict(zip(pos, c_ids))
    else:
        raise ValueError(
            f"contrast: {contrast!r} tokenises to {len(c_ids)} tokens {list(c_gen.generated_tokens)!r}, the target "
            f"to {len(t_ids)} {list(gen.generated_tokens)!r} (explained positions {pos}); a contrast must have as "
            "many tokens as the target, or as the explained positions (tokens=)"
        )
    keep = [p for p in pos if aligned[p] != t_ids[p]]
    if not keep:
        raise ValueError(
            f"contrast: {contrast!r} equals the target {list(gen.generated_tokens)!r} at the explained positions "
            f"{pos}; a contrast must differ from the target"
        )
    # display strings: a generation holding the contrast tokens at the kept positions
    shown = model.with_target(gen, [aligned[p] for p in keep]).generated_tokens
    text = contrast if isinstance(contrast, str) else " ".join(str(t) for t in items)
    return tuple(keep), Contrast(text=text, ids=tuple(aligned[p] for p in keep), tokens=tuple(shown), prefix=prefix)


__all__ = ["CONTRAST_METHODS", "check_contrast", "resolve_contrast"]
