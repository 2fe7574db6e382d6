"""A target scored against a contrast: both probabilities from the same masked images.

A contrastive explanation asks why the model says the target rather than the contrast; its quantity is the
margin ``log p(target) − log p(contrast)`` at the same positions. Both probabilities come from one forward
when the model's ``score`` reads given token ids at a position (``tokens=``, the transformers adapter):
the contrast token is read after the *target's* prefix (``prefix="target"``, the default). inseq scores a
contrast on its own sequence instead (each contrast token after the contrast's own prefix): that is
``prefix="own"``, one more forward per image. The two agree wherever the answers differ in one position.

Models whose ``score`` cannot read given ids get the contrast from generations that carry it (see
:func:`contrast_reads`), each scored on the same masks: one more forward per image and read.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from xattr_lab.models.protocol import Generation, ScoringModel

#: Which prefix a contrast token is read after: the target's (one forward) or its own (inseq).
PREFIXES: tuple[str, ...] = ("target", "own")
#: Floor of a probability before its log (a float32 softmax can underflow to 0).
TINY = 1e-45


def reads_tokens(model: Any) -> bool:
    """Whether ``model.score`` takes ``tokens=`` (given token ids read at the positions)."""
    try:
        return "tokens" in inspect.signature(model.score).parameters
    except (TypeError, ValueError):
        return False


def check_prefix(prefix: Any) -> str:
    """``"target"`` or ``"own"``, else a ValueError naming ``contrast_prefix``."""
    if prefix not in PREFIXES:
        raise ValueError(f"contrast_prefix: expected one of {PREFIXES}, got {prefix!r}")
    return str(prefix)


def contrast_reads(
    model: ScoringModel, gen: Generation, positions: Sequence[int], contrast: Sequence[int], prefix: str
) -> list[tuple[Generation, list[int], list[int]]]:
    """Generations whose own tokens are the contrast, for reading it without ``tokens=``.

    Args:
        model: the scoring model (its ``with_target`` builds the generations).
        gen: the explained generation.
        positions: the explained positions.
        contrast: one contrast token id per position.
        prefix: ``"own"``: one generation, the target with every contrast token substituted, read at all
            positions; ``"target"``: per position ``p`` the target's first ``p`` tokens then the contrast
            token, read at ``p`` (so each contrast token follows the target's prefix).

    Returns:
        ``(generation, positions to read, columns they fill)`` triples.
    """
    ids = [int(t) for t in gen.generated_ids]
    if prefix == "own":
        own = list(ids)
        for p, c in zip(positions, contrast):
            own[p] = int(c)
        return [(model.with_target(gen, own), list(positions), list(range(len(positions))))]
    return [
        (model.with_target(gen, ids[:p] + [int(c)]), [int(p)], [j]) for j, (p, c) in enumerate(zip(positions, contrast))
    ]


def pair_probs(
    model: ScoringModel,
    gen: Generation,
    masks: Any,
    positions: Sequence[int],
    baseline: Any,
    contrast: Sequence[int],
    reads: list[tuple[Generation, list[int], list[int]]] | None,
) -> tuple[np.ndarray, int]:
    """Target and contrast probabilities [B, 2T] (targets first), float64, and the images each mask cost.

    Args:
        model: the scoring model.
        gen: the explained generation.
        masks: [B, H, W] keep-masks.
        positions: the explained positions (T of them).
        baseline: what removed pixels become.
        contrast: one contrast token id per position.
        reads: None to read both from one forward (``tokens=``), else :func:`contrast_reads`'s triples.
    """
    pos = [int(p) for p in positions]
    t = len(pos)
    if reads is None:
        target_ids = [int(gen.generated_ids[p]) for p in pos]
        out = model.score(gen, masks, positions=pos + pos, baseline=baseline, tokens=target_ids + list(contrast))
        return _numpy(out), 1
    target = _numpy(model.score(gen, masks, positions=pos, baseline=baseline))
    rows = np.full((target.shape[0], t), np.nan)
    for g, read, cols in reads:
        rows[:, cols] = _numpy(model.score(g, masks, positions=read, baseline=baseline))
    return np.concatenate([target, rows], axis=1), 1 + len(reads)


def margin(p_target: np.ndarray, p_contrast: np.ndarray) -> np.ndarray:
    """``log p(target) − log p(contrast)`` in float64 (probabilities floored at :data:`TINY`)."""
    pt = np.maximum(np.asarray(p_target, dtype=np.float64), TINY)
    pc = np.maximum(np.asarray(p_contrast, dtype=np.float64), TINY)
    return np.log(pt) - np.log(pc)


def pairwise(p_target: np.ndarray, p_contrast: np.ndarray) -> np.ndarray:
    """``p(t) / (p(t) + p(c)) = σ(margin)``: the target's probability within the pair, in [0, 1]."""
    return 1.0 / (1.0 + np.exp(-margin(p_target, p_contrast)))


def _numpy(out: Any) -> np.ndarray:
    return out.detach().double().cpu().numpy() if hasattr(out, "detach") else np.asarray(out, dtype=np.float64)


__all__ = ["PREFIXES", "check_prefix", "contrast_reads", "margin", "pair_probs", "pairwise", "reads_tokens"]
