"""Turn a method's output into an Explanation: curves, map, reliance, metrics, cost and provenance."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from xattr_lab.attr.context import MethodContext, MethodOutput
from xattr_lab.attr.mapping import DEFAULT_MAP_STYLE, order_from_scores, scores_from_gains, scores_from_rank
from xattr_lab.metrics.curves import perturbation_curves, prefix_sets
from xattr_lab.metrics.faithfulness import curve_metrics
from xattr_lab.metrics.reliance import vision_reliance
from xattr_lab.results.explanation import Explanation


def _versions() -> dict[str, str]:
    import platform

    from xattr_lab._version import __version__

    out = {"xattr_lab": __version__, "numpy": np.__version__, "python": platform.python_version()}
    try:
        import torch

        out["torch"] = torch.__version__
    except ImportError:  # pragma: no cover - torch is a hard dependency, kept defensive for results tools
        pass
    import sys

    for name in ("transformers", "captum"):  # only when loaded: an explanation never imports them for this
        module = sys.modules.get(name)
        if getattr(module, "__version__", None):
            out[name] = str(module.__version__)
    return out


def _jsonable(value: Any) -> Any:
    """Parameters as JSON types, so a saved explanation reads back equal."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return {"array_shape": list(value.shape)}  # arrays (e.g. embeddings) are summarised, not stored
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def resolve_ranking(ctx: MethodContext, out: MethodOutput) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The order, region scores and pixel map a method output implies (missing pieces derived)."""
    regions = ctx.regions
    pixel_map = None if out.pixel_map is None else np.asarray(out.pixel_map, dtype=np.float32)
    if pixel_map is not None and pixel_map.shape != regions.shape:
        raise ValueError(f"pixel_map: the method returned shape {pixel_map.shape}, image is {regions.shape}")
    scores = None if out.region_scores is None else np.asarray(out.region_scores, dtype=np.float64)
    if scores is None and pixel_map is not None:
        scores = regions.pool(pixel_map)
    order = out.order
    if order is None:
        if scores is None:
            raise ValueError("method: returned neither an order, region scores nor a pixel map")
        order = order_from_scores(scores)
    order = np.asarray(order, dtype=np.int64)
    if sorted(order.tolist()) != list(range(regions.n)):
        raise ValueError(f"method: the order is not a permutation of the {regions.n} regions")
    return order, scores, pixel_map


def build_explanation(
    method: str, ctx: MethodContext, out: MethodOutput, start: float, n_search: int, info: dict[str, Any]
) -> Explanation:
    """Score a method's ranking on the shared perturbation path and assemble the Explanation.

    Args:
        method: registry name.
        ctx: the method context (its scorer's cache is reused).
        out: the method's output.
        start: ``time.perf_counter()`` at the start of the explanation.
        n_search: images the method scored before curves were completed.
        info: extra provenance.

    Returns:
        The Explanation.
    """
    order, scores, pixel_map = resolve_ranking(ctx, out)
    partial = out.partial
    try:
        ins, dele, area = perturbation_curves(ctx.scorer, order, cached_only=partial)
        values = out.objective(prefix_sets(order)) if out.objective is not None and not partial else None
    except KeyboardInterrupt:
        partial = True
        ins, dele, area = perturbation_curves(ctx.scorer, order, cached_only=True)
        values = None
    if values is None and out.objective is not None:
        values = _cached_values(ctx, out, order)
    if values is None:
        values = np.full(len(order) + 1, np.nan)
    if scores is None:
        if out.objective is not None:
            # A search method's map: the gains along its order (``map_style`` recorded in its params).
            scores = scores_from_gains(order, values, out.params.get("map_style", DEFAULT_MAP_STYLE))
        else:
            scores = scores_from_rank(order)
    if pixel_map is None:
        pixel_map = ctx.regions.to_pixels(scores)
    metrics = curve_metrics(ins, dele, area)
    model_name = getattr(ctx.model, "name", "") or ctx.generation.model_id
    return Explanation(
        method=method,
        generation=ctx.generation,
        positions=tuple(int(p) for p in ctx.positions),
        regions=ctx.regions,
        order=order,
        region_scores=np.asarray(scores, dtype=np.float64),
        pixel_map=np.asarray(pixel_map, dtype=np.float32),
        area=area,
        insertion=ins,
        deletion=dele,
        objective=np.asarray(values, dtype=np.float64),
        reliance=vision_reliance(ins, area),
        metrics=metrics,
        params=_jsonable(out.params),
        cost=_cost(ctx, out, n_search, start),
        info=_jsonable(
            {
                **info,
                "model": model_name,
                "regions": ctx.regions.spec,
                "n_regions": ctx.regions.n,
                "versions": _versions(),
                # family, processor, masking path and chat template, from adapters that describe them
                **(ctx.model.provenance(ctx.generation) if callable(getattr(ctx.model, "provenance", None)) else {}),
                **{k: v for k, v in out.stats.items()},
            }
        ),
        partial=partial,
    )


def _cost(ctx: MethodContext, out: MethodOutput, n_search: int, start: float) -> dict[str, float]:
    """What the explanation cost, in one count that every report shows (CLI, views, demo, benches).

    ``n_forward`` is every image the model was given for this explanation: the subset scorer's images (the
    search or baseline, then the curves) plus the method's own forwards outside the scorer (gradients, TAM's
    forward), split as ``n_forward_search`` (scorer images while the method ran) and ``n_forward_method``.
    The generation is not counted (it is shared by every method explaining the same answer).
    """
    n_method = int(out.stats.get("n_forward_method", 0) or 0)
    return {
        "n_forward": ctx.scorer.n_forward + n_method,
        "n_forward_search": n_search,
        "n_forward_method": n_method,
        "n_calls": ctx.scorer.n_calls,
        "seconds": time.perf_counter() - start,
    }


def _cached_values(ctx: MethodContext, out: MethodOutput, order: np.ndarray) -> np.ndarray:
    """The objective along a partial ranking from cached scores only (NaN where not scored)."""
    sets = prefix_sets(order)
    values = np.full(len(sets), np.nan)
    full = ctx.scorer.full
    for k, s in enumerate(sets):
        if ctx.scorer.is_cached(s) and ctx.scorer.is_cached(full ^ s):
            values[k] = float(out.objective([s])[0])
    return values
