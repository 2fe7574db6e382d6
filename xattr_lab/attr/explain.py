"""``xattr_lab.explain``: one call from a model, an image and a prompt to a measured Explanation.

The flow (DESIGN §3): generate once (or take the given generation / target), pick the target tokens, cut
the image into regions, let the method rank regions through a memoised batched scorer, then score the
ranking on the shared perturbation path (curves, map, reliance, metrics). Heavy libraries load only when
a method needs them.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from xattr_lab.inputs.regions import Regions
    from xattr_lab.models.protocol import Generation, ScoringModel
    from xattr_lab.results.explanation import Explanation

_DEFAULT_SEARCH = {"lima": "bidirectional"}


def _check_model(model: Any) -> None:
    for attr in ("generate", "score", "with_target"):
        if not callable(getattr(model, attr, None)):
            raise TypeError(f"model: expected a ScoringModel (xattr_lab.load_model), missing {attr}()")


def _want_progress(progress: bool | None, family: str) -> bool:
    if progress is not None:
        return bool(progress)
    # Show bars where a person watches: a terminal or a notebook kernel; never in pipes or CI logs.
    return family == "search" and (sys.stderr.isatty() or "ipykernel" in sys.modules)


def check_arguments(
    model: Any,
    prompt: Any,
    method: Any,
    seed: Any,
    target: Any,
    contrast: Any,
    contrast_prefix: Any,
    generation: Any,
    params: dict[str, Any],
) -> tuple[Any, int]:
    """``explain``'s checks that need no model work: the method's spec and the checked seed, else an error."""
    from xattr_lab.attr.arguments import check_generation, check_method_name, check_seed, check_target
    from xattr_lab.attr.contrast import check_contrast
    from xattr_lab.attr.registry import get_method

    _check_model(model)
    spec = get_method(check_method_name(method))
    seed = check_seed(seed)
    check_target(target)
    check_contrast(contrast, method, params, contrast_prefix)
    check_generation(generation)
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError("prompt: expected a non-empty string")
    missing = set(spec.needs) - set(getattr(model, "capabilities", frozenset()))
    if missing:
        raise ValueError(f"method: {method!r} needs model capabilities {sorted(missing)} that this model lacks")
    return spec, seed


def explain(
    model: ScoringModel,
    image: Any,
    prompt: str,
    method: str = "eagle",
    tokens: str | Sequence[int] = "all",
    regions: str | np.ndarray | Regions = "slico:64",
    search: str | None = None,
    target: str | list[int] | None = None,
    *,
    contrast: str | list[int] | None = None,
    contrast_prefix: str = "target",
    generation: Generation | None = None,
    max_new_tokens: int = 16,
    baseline: str | float = "black",
    batch_size: int | None = None,
    seed: int = 0,
    progress: Any = None,
    **params: Any,
) -> Explanation:
    """Explain generated tokens of a multimodal model by image regions.

    Args:
        model: a ScoringModel (``xattr_lab.load_model(...)``).
        image: uint8 [H, W, 3] RGB array (or what the model's ``generate`` accepts).
        prompt: the prompt text.
        method: a registered method name (``xattr_lab.list_methods()``): ``"eagle"``, ``"lima"``,
            ``"random"``, ...
        tokens: ``"all"`` generated tokens, a list of positions, or ``"word:<text>"``.
        regions: ``"slico:64"`` (EAGLE's default), ``"slic:N"``, ``"seeds:50"``, ``"grid:8"``, a label map
            [H, W] or boolean masks [K, H, W].
        search: ``"greedy"`` (naive, N(N+1) forwards), ``"bidirectional"`` (LiMA's) or ``"efficient"``
            (EAGLE's scoped variant); default greedy, bidirectional for LiMA.
        target: explain this answer (text or token ids) instead of the generated one, e.g. the correct
            answer of a hallucination.
        contrast: explain why the target rather than this answer (text or token ids): methods then explain
            the margin ``log p(target) − log p(contrast)`` at the positions where the two differ (the
            generated answer is the target when ``target`` is None); see :mod:`xattr_lab.attr.contrast`.
        contrast_prefix: ``"target"`` (default: each contrast token read after the target's prefix, no
            extra forward) or ``"own"`` (after the contrast's own prefix, as inseq; one more forward).
        generation: reuse an existing generation instead of generating (``image``/``prompt`` then only
            checked for presence).
        max_new_tokens: generation length.
        baseline: what removed pixels become (``"black"`` as in the papers).
        batch_size: most images per model call; None uses the model's automatic batch. Either way a chunk
            is capped by the scorer's memory budget, so peak memory does not grow with the region count.
        seed: seed for random choices (region makers, random baselines).
        progress: show a progress bar; None shows one for searches in terminals and notebooks.
            A tqdm-like object is advanced instead (``update(n)``; ``reset(total=<regions>)`` first when it
            has one) and left open.
        **params: method and search parameters, e.g. ``lambdas``, ``early_stop``, ``pending``,
            ``search_scope``, ``update_step``, ``candidates``, ``map_style``, and ``max_forwards`` (a search
            estimates its forwards before it starts: it warns above 100,000 and refuses above 1,000,000
            unless ``max_forwards`` allows it; see ``xattr_lab.attr.search.budget``).

    Returns:
        The Explanation. Ctrl-C (KeyboardInterrupt) while a search or a Captum baseline runs returns what was
        computed so far with ``partial=True`` (each method's docstring says what its partial result holds;
        curve points not yet scored are NaN). Ctrl-C while generating, or in a method without partial
        results, raises KeyboardInterrupt.

    Raises:
        ValueError: unknown method or search, empty prompt, bad tokens spec, regions not matching the image,
            a negative seed, an empty target.
        TypeError: a model that is not a ScoringModel, or arguments of the wrong type (a list of methods, a
            non-int seed, a target list that holds anything but token ids, a generation that is not a
            Generation).
    """
    from xattr_lab.attr.contrast import resolve_contrast
    from xattr_lab.attr.targets import resolve_tokens
    from xattr_lab.inputs.regions import make_regions

    spec, seed = check_arguments(model, prompt, method, seed, target, contrast, contrast_prefix, generation, params)
    if search is None:
        search = _DEFAULT_SEARCH.get(method, "greedy")
    if image is None and generation is None:
        raise ValueError("image: expected an image")
    if generation is None and getattr(image, "ndim", 0) == 4:  # a clip [T, H, W, 3]: one entry point for video
        raise ValueError(
            f"image: got {image.shape[0]} frames {tuple(image.shape)}; explain takes one image, explain a clip "
            "with xattr_lab.video.explain_frames(model, frames, prompt, ...)"
        )

    start = time.perf_counter()
    gen = generation if generation is not None else model.generate(image, prompt, max_new_tokens=max_new_tokens)
    if target is not None:
        gen = model.with_target(gen, target)
    positions = resolve_tokens(tokens, gen)
    aligned = None
    if contrast is not None:
        positions, aligned = resolve_contrast(model, gen, positions, contrast, contrast_prefix)
    regs = make_regions(regions, gen.image, seed=seed)

    from xattr_lab.attr.context import MethodContext
    from xattr_lab.scoring.subsets import SubsetScorer

    scorer = SubsetScorer(
        model, gen, regs, positions, baseline=baseline, batch_size=batch_size,
        contrast=None if aligned is None else aligned.ids, contrast_prefix=contrast_prefix,
    )  # fmt: skip
    bar = own_bar = None
    if callable(getattr(progress, "update", None)):  # a caller's tqdm-like bar (explore() forwards to its view)
        bar = progress
        if callable(getattr(bar, "reset", None)):
            bar.reset(total=regs.n)
    elif _want_progress(progress, spec.family):
        from xattr_lab.progress import progress_bar  # text, never a widget: saved notebooks stay clean

        bar = own_bar = progress_bar(regs.n, f"{method} ({search})", unit="region", leave=False)
    ctx = MethodContext(model, gen, regs, positions, scorer, search, seed, bar, baseline)
    try:
        out = spec.fn(ctx, **params)
    finally:
        if own_bar is not None:
            own_bar.close()
    n_search = scorer.n_forward

    from xattr_lab.attr.finalize import build_explanation

    result = build_explanation(
        method=method,
        ctx=ctx,
        out=out,
        start=start,
        n_search=n_search,
        info={"search": search if spec.family == "search" else None, "baseline": baseline, "seed": seed},
    )
    if aligned is not None:
        import dataclasses

        result = dataclasses.replace(result, contrast=aligned)
    return result


__all__ = ["explain"]
