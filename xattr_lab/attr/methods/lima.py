"""LiMA (Chen et al., 2025): consistency, collaboration, confidence and diversity, bidirectional search.

Terms and defaults follow the paper's order ``(cons, colla, conf, eff) = (20, 5, 0.05, 0.01)``. The
confidence term is ``1 − H/log K`` over a candidate set: give ``candidates`` (the answer words, or for a
classifier the classes) to score each one at the target position; without it the set is {target, anything
else}. Single-token candidates are read off the same forward as the target when the model's ``score``
takes ``tokens=`` (the transformers adapter does), so they cost no extra forward; a multi-token candidate
is scored on its own sequence (one extra forward per image), and so is every candidate on a model whose
``score`` cannot read other tokens. Diversity uses region embeddings: pass ``embeddings`` [N, D] from your
encoder, else colour-and-position descriptors stand in.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np

from xattr_lab.attr.context import MethodContext, MethodOutput
from xattr_lab.attr.mapping import DEFAULT_MAP_STYLE, check_map_style
from xattr_lab.attr.methods._search import search_output, split_engine_params
from xattr_lab.attr.objectives import LimaObjective, check_lambdas, region_descriptors
from xattr_lab.models.protocol import Generation


def _candidate_ids(ctx: MethodContext, candidates: Sequence[str | int]) -> list[list[int]]:
    """Token ids of each candidate (one id, or the pieces of a multi-token answer)."""
    if isinstance(candidates, (str, bytes)):
        raise TypeError(f"candidates: expected a list of answers, got the single string {candidates!r}")
    out: list[list[int]] = []
    for c in candidates:
        if isinstance(c, (int, np.integer)) and not isinstance(c, bool):
            out.append([int(c)])
            continue
        if not isinstance(c, str):
            raise TypeError(f"candidates: expected token strings or ids, got {type(c).__name__}")
        ids = [int(x) for x in ctx.model.with_target(ctx.generation, c).generated_ids]
        if not ids:
            raise ValueError(f"candidates: {c!r} has no tokens for this model")
        out.append(ids)
    return out


def _reads_tokens(model: Any) -> bool:
    """Whether ``model.score`` can read given token ids (``tokens=``) instead of the generated ones."""
    try:
        return "tokens" in inspect.signature(model.score).parameters
    except (TypeError, ValueError):
        return False


class _TokenReader:
    """``model`` as the scorer sees it, except that one generation is scored with ``tokens=``.

    The subset scorer calls ``score(gen, masks, positions, baseline)``; wrapping the model lets the
    candidate variant ask for several token ids at the target positions in the same forward, without the
    scorer knowing about tokens.
    """

    def __init__(self, model: Any, gen: Generation, tokens: list[int]) -> None:
        self._model, self._gen, self._tokens = model, gen, tokens

    def score(self, gen: Generation, masks: Any, positions: Any = None, baseline: Any = "black") -> Any:
        """Target probabilities, or for the candidate generation the probabilities of its tokens."""
        extra = {"tokens": self._tokens} if gen is self._gen else {}
        return self._model.score(gen, masks, positions=positions, baseline=baseline, **extra)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)


def _candidate_plan(
    ctx: MethodContext, seqs: list[list[int]]
) -> tuple[list[tuple[Generation, list[int]]], list[list[tuple[int, list[int]]]], tuple[Generation, list[int]] | None]:
    """Scorer variants and, per target position, where each other candidate's probability is read.

    Returns ``(variants, index, shared)``: ``shared`` is the generation and token ids of the one-forward
    variant (targets first, then every single-token candidate at its position), or None when the model
    cannot read tokens (each candidate then gets its own sequence, as multi-token ones always do).
    """
    gen = ctx.generation
    gen_ids = [int(x) for x in gen.generated_ids]
    shared_ok = _reads_tokens(ctx.model)
    slot_pos = list(ctx.positions)
    slot_tok = [gen_ids[p] for p in ctx.positions]
    own_seq: list[tuple[Generation, list[int]]] = []
    rows: list[list[tuple[str, int, list[int]]]] = []
    for p in ctx.positions:
        row: list[tuple[str, int, list[int]]] = []
        for ids in seqs:
            if ids == gen_ids[p : p + len(ids)]:
                continue  # the target itself
            if len(ids) == 1 and shared_ok:
                slot_pos.append(p)
                slot_tok.append(ids[0])
                row.append(("shared", 0, [len(slot_pos) - 1]))
            else:
                # Its probability is that of its tokens after the same prefix: its own teacher-forced sequence.
                own_seq.append((ctx.model.with_target(gen, gen_ids[:p] + ids), list(range(p, p + len(ids)))))
                row.append(("own", len(own_seq), list(range(len(ids)))))
        rows.append(row)
    shared = None
    variants = list(own_seq)
    if len(slot_pos) > len(ctx.positions):
        shared = (dataclasses.replace(gen), slot_tok)  # a distinct object the token reader recognises
        variants.append((shared[0], slot_pos))
    shared_id = len(variants)
    index = [[(shared_id, cols) if kind == "shared" else (v, cols) for kind, v, cols in row] for row in rows]
    return variants, index, shared


def lima(
    ctx: MethodContext,
    lambdas: Sequence[float] = (20.0, 5.0, 0.05, 0.01),
    candidates: Sequence[str | int] | None = None,
    embeddings: np.ndarray | None = None,
    map_style: str = DEFAULT_MAP_STYLE,
    **params: Any,
) -> MethodOutput:
    """LiMA: four-term submodular subset selection (bidirectional search by default in ``explain``).

    Args:
        ctx: the method context.
        lambdas: ``(consistency, collaboration, confidence, effectiveness)`` weights, paper order.
        candidates: the candidate answers of the confidence term (token strings, possibly of several
            tokens, or token ids).
        embeddings: region embeddings [N, D] for the diversity term.
        map_style: ``"contribution"`` (default) or ``"reference"``: see :mod:`xattr_lab.attr.mapping`.
        **params: search-engine parameters.

    Returns:
        The ranking and objective.
    """
    engine, rest = split_engine_params(ctx.search, params)
    if rest:
        raise ValueError(f"{sorted(rest)[0]}: not a parameter of method 'lima'")
    lambdas = check_lambdas(lambdas, ("cons", "colla", "conf", "eff"), "LiMA")  # before any candidate work
    map_style = check_map_style(map_style)
    scorer = ctx.scorer
    index: list[list[tuple[int, list[int]]]] = []
    insertion_variant = 0
    if candidates:
        variants, index, shared = _candidate_plan(ctx, _candidate_ids(ctx, candidates))
        if not any(index):
            raise ValueError(f"candidates: {list(candidates)!r} holds no answer other than the explained tokens")
        scorer = scorer.with_variants(variants)
        if shared is not None:
            scorer.model = _TokenReader(ctx.model, *shared)
            insertion_variant = len(variants)  # targets and candidates of an insertion image: one forward
    emb = region_descriptors(ctx.generation.image, ctx.regions.labels) if embeddings is None else embeddings
    objective = LimaObjective(scorer, emb, lambdas, index, insertion_variant)
    out = search_output(
        ctx,
        objective,
        engine,
        {"lambdas": list(objective.lambdas), "candidates": [str(c) for c in candidates or []], "map_style": map_style},
    )
    return out


lima.family = "search"  # type: ignore[attr-defined]
