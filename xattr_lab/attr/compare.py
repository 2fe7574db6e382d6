"""``xattr_lab.compare``: several methods on one generation and one set of regions, scored alike.

The model generates once; the regions are made once; every method explains the same target tokens; every
Explanation is then scored by :func:`xattr_lab.evaluate` (map → region order → insertion / deletion curves,
pointing game with a ground-truth mask or box). Cost columns count images scored (the method's own forwards
plus the metric curves), wall seconds and peak memory.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from xattr_lab.models.protocol import ScoringModel
    from xattr_lab.results.comparison import Comparison

DEFAULT_METHODS = ("eagle", "tam_msea_arc", "integrated_gradients", "feature_ablation", "random")


class _PeakMemory:
    """Peak memory of a block: CUDA's allocator peak when on a GPU, else the process's resident high-water mark."""

    def __init__(self, model: Any) -> None:
        import torch

        device = getattr(model, "device", None)
        self.cuda = getattr(device, "type", "cpu") == "cuda" and torch.cuda.is_available()
        self.how = "cuda_max_allocated" if self.cuda else "process_max_rss"

    def __enter__(self) -> _PeakMemory:
        if self.cuda:
            import torch

            torch.cuda.reset_peak_memory_stats()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.cuda:
            import torch

            self.mb = torch.cuda.max_memory_allocated() / 2**20
        else:
            import resource
            import sys

            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            self.mb = rss / (2**20 if sys.platform == "darwin" else 2**10)


def compare(
    model: ScoringModel,
    image: Any,
    prompt: str,
    methods: Sequence[str] = DEFAULT_METHODS,
    *,
    tokens: str | Sequence[int] = "all",
    regions: Any = "slico:64",
    target: str | list[int] | None = None,
    generation: Any = None,
    max_new_tokens: int = 16,
    mask: np.ndarray | None = None,
    box: Sequence[float] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    seed: int = 0,
    rescore: bool = True,
    **kw: Any,
) -> Comparison:
    """Explain the same tokens with several methods and tabulate their faithfulness and cost.

    Args:
        model: a ScoringModel.
        image: the image (uint8 [H, W, 3]).
        prompt: the prompt.
        methods: registered method names (``xattr_lab.list_methods()``).
        tokens: which generated tokens (see :func:`xattr_lab.explain`).
        regions: the regions spec, shared by every method.
        target: explain this answer instead of the generated one.
        generation: reuse a generation instead of generating.
        max_new_tokens: generation length.
        mask: ground-truth mask [H, W] of the named object (pointing game).
        box: ground-truth box ``(x0, y0, x1, y1)`` (pointing game).
        params: per-method parameters, e.g. ``{"lime": {"n_samples": 100}}``.
        seed: seed shared by every method.
        rescore: score every Explanation again through :func:`xattr_lab.evaluate` (map → order → curves);
            False takes the curves each Explanation already has (the same path for map methods; the search
            order itself for search methods) and saves the forwards.
        **kw: further :func:`xattr_lab.explain` arguments shared by all methods (``baseline``, ``batch_size``,
            ``search``, ``progress``).

    Returns:
        The Comparison (its table rows follow ``methods``).

    Raises:
        ValueError: for an empty or duplicated method list, unknown methods, or parameters for methods not
            compared.
        TypeError: for a ``methods`` that is a plain string.
    """
    from xattr_lab.attr.explain import explain
    from xattr_lab.attr.registry import get_method
    from xattr_lab.inputs.regions import make_regions
    from xattr_lab.metrics.evaluate import evaluate
    from xattr_lab.metrics.localisation import pointing_game
    from xattr_lab.results.comparison import Comparison

    if isinstance(methods, str):
        raise TypeError("methods: expected a list of method names, got a string")
    methods = list(methods)
    if not methods or len(set(methods)) != len(methods):
        raise ValueError(f"methods: expected distinct method names, got {methods!r}")
    for m in methods:
        get_method(m)  # fail fast on unknown names
    params = dict(params or {})
    if set(params) - set(methods):
        raise ValueError(f"params: given for methods not compared: {sorted(set(params) - set(methods))}")
    if generation is None:
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValueError("prompt: expected a non-empty string")
        generation = model.generate(image, prompt, max_new_tokens=max_new_tokens)
    if target is not None:
        generation = model.with_target(generation, target)
    regs = make_regions(regions, generation.image, seed=seed)
    explanations, rows = [], []
    memory = _PeakMemory(model)
    for m in methods:
        start = time.perf_counter()
        with memory:
            e = explain(model, image, prompt, method=m, tokens=tokens, regions=regs, generation=generation,
                        seed=seed, **kw, **dict(params.get(m, {})))  # fmt: skip
        seconds = time.perf_counter() - start
        if rescore:
            scores = evaluate(model, e, mask=mask, box=box, batch_size=kw.get("batch_size"))
        else:
            scores = dict(e.metrics)
            if mask is not None:
                scores["pointing_mask"] = float(pointing_game(e.pixel_map, mask=mask))
            if box is not None:
                scores["pointing_box"] = float(pointing_game(e.pixel_map, box=box))
        pointing = scores.get("pointing_mask", scores.get("pointing_box", float("nan")))
        explanations.append(e)
        rows.append(
            {
                "method": m,
                "insertion_auc": float(scores["insertion_auc"]),
                "deletion_auc": float(scores["deletion_auc"]),
                "pointing_game": float(pointing),
                "forwards": int(e.cost["n_forward"] + e.info.get("n_forward_method", 0)),
                "seconds": float(seconds),
                "peak_memory_mb": float(memory.mb),
            }
        )
    info = {
        "model": getattr(model, "name", ""),
        "regions": regs.spec,
        "n_regions": regs.n,
        "tokens": list(explanations[0].positions),
        "memory": memory.how,
        "seed": seed,
        "rescored": bool(rescore),
    }
    return Comparison(tuple(explanations), tuple(rows), info)


__all__ = ["compare"]
