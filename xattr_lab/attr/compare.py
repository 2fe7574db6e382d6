"""``xattr_lab.compare``: several methods on one generation and one set of regions, scored alike.

The model generates once; the regions are made once; every method explains the same target tokens; every
Explanation is then scored by :func:`xattr_lab.evaluate` (map → region order → insertion / deletion curves,
pointing game with a ground-truth mask or box). Cost columns count images scored (the method's own forwards
plus the metric curves), wall seconds and peak memory.
"""

from __future__ import annotations

import time
import warnings
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
        The Comparison (its table rows follow ``methods``). Ctrl-C stops the comparison: the method running
        returns its partial result where it has one (row ``partial=True``: not rescored, its metrics from
        the curve points it had scored, NaN elsewhere, pointing game NaN), the methods after it are not run
        (``info["not_run"]``) and ``info["interrupted"]`` is True. Ctrl-C before any method finished
        raises KeyboardInterrupt. A method that raises an ordinary exception does not stop the others: its
        row keeps NaN scores, the forwards and seconds it spent and ``error`` (``"TypeName: message"``), it
        has no Explanation, ``info["errors"]`` maps it to the same text, and a RuntimeWarning names it. A
        method whose map was made but whose rescoring raised keeps its Explanation and its own curves'
        scores, with the error recorded alike.

    Raises:
        ValueError: for an empty or duplicated method list, unknown methods, parameters for methods not
            compared, a negative seed, an inverted, empty, non-finite or out-of-image ``box``, or a ``mask``
            whose shape is not the image's.
        TypeError: for a ``methods`` that is a plain string or holds anything but names, a non-int seed, a
            target list of anything but token ids, or a ``generation`` that is not a Generation.
        RuntimeError: when every one of several methods raised (the first exception chained), listing each
            error; a single method's own exception propagates unchanged.
    """
    from xattr_lab.attr.arguments import check_generation, check_seed, check_target
    from xattr_lab.attr.explain import explain
    from xattr_lab.attr.registry import get_method
    from xattr_lab.inputs.regions import make_regions
    from xattr_lab.metrics.localisation import check_box
    from xattr_lab.results.comparison import Comparison

    if isinstance(methods, str):
        raise TypeError("methods: expected a list of method names, got a string")
    methods = list(methods)
    bad = [m for m in methods if not isinstance(m, str)]
    if bad:
        raise TypeError(f"methods: expected method names (str), got {type(bad[0]).__name__} {bad[0]!r}")
    if not methods or len(set(methods)) != len(methods):
        raise ValueError(f"methods: expected distinct method names, got {methods!r}")
    for m in methods:
        get_method(m)  # fail fast on unknown names
    params = dict(params or {})
    if set(params) - set(methods):
        raise ValueError(f"params: given for methods not compared: {sorted(set(params) - set(methods))}")
    seed = check_seed(seed)
    check_target(target)
    check_generation(generation)
    if box is not None:
        check_box(box)  # the image's bounds are checked once the image is known, before any method runs
    if generation is None:
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValueError("prompt: expected a non-empty string")
        generation = model.generate(image, prompt, max_new_tokens=max_new_tokens)
    if target is not None:
        generation = model.with_target(generation, target)
    shape = np.asarray(generation.image).shape[:2]
    if box is not None:
        check_box(box, shape)
    if mask is not None and np.shape(mask) != shape:
        raise ValueError(f"mask: shape {np.shape(mask)} does not match the image {shape}")
    regs = make_regions(regions, generation.image, seed=seed)
    explanations, rows = [], []
    errors: dict[str, str] = {}
    first_error: Exception | None = None
    memory = _PeakMemory(model)
    interrupted = False
    for m in methods:
        start = time.perf_counter()
        n_before = getattr(model, "n_forward", None)
        try:
            with memory:
                e = explain(model, image, prompt, method=m, tokens=tokens, regions=regs, generation=generation,
                            seed=seed, **kw, **dict(params.get(m, {})))  # fmt: skip
        except KeyboardInterrupt:
            # A method without partial results: nothing of it to keep; stop here with the rows so far.
            interrupted = True
            break
        except Exception as err:  # one failing method must not throw away the others: record it, go on
            first_error = first_error or err
            errors[m] = _describe(err)
            rows.append(_failed_row(m, errors[m], time.perf_counter() - start, memory.mb, model, n_before))
            continue
        seconds = time.perf_counter() - start
        partial = bool(e.partial)
        scores: dict[str, Any] = dict(e.metrics)  # a partial row keeps what it measured (NaN elsewhere)
        error = None
        if not partial:
            try:
                scores = _scores(model, e, mask, box, rescore, kw.get("batch_size"))
            except KeyboardInterrupt:
                partial = True
            except Exception as err:  # the map stands; only its rescoring failed: keep its own curves
                first_error = first_error or err
                error = errors[m] = "rescoring: " + _describe(err)
        # A partial map is not the method's answer: its pointing game is not played (NaN).
        pointing = float("nan") if partial else scores.get("pointing_mask", scores.get("pointing_box", float("nan")))
        explanations.append(e)
        rows.append(
            {
                "method": m,
                "insertion_auc": float(scores["insertion_auc"]),
                "deletion_auc": float(scores["deletion_auc"]),
                "pointing_game": float(pointing),
                "forwards": int(e.cost["n_forward"]),  # the scorer's images and the method's own forwards
                "seconds": float(seconds),
                "peak_memory_mb": float(memory.mb),
                "partial": partial,
                "error": error,
            }
        )
        if partial:  # Ctrl-C means stop: the methods after this one are not run
            interrupted = True
            break
    if not explanations:
        if interrupted:
            raise KeyboardInterrupt  # interrupted before any method finished: there is nothing to return
        if len(methods) == 1 and first_error is not None:
            raise first_error  # one method asked for: its own exception, unchanged
        listed = "; ".join(f"{k}: {v}" for k, v in errors.items())
        raise RuntimeError(f"compare: every method failed ({listed})") from first_error
    info = {
        "model": getattr(model, "name", ""),
        "regions": regs.spec,
        "n_regions": regs.n,
        "tokens": list(explanations[0].positions),
        "memory": memory.how,
        "seed": seed,
        "rescored": bool(rescore),
        "interrupted": interrupted,
        "not_run": methods[len(rows) :],
        "errors": errors,
        # family, processor, masking path and chat template, from adapters that describe them
        **(model.provenance(generation) if callable(getattr(model, "provenance", None)) else {}),
    }
    if errors:
        warnings.warn(
            f"compare: {len(errors)} of {len(methods)} methods failed and are recorded in their rows "
            f"(info['errors']): {', '.join(errors)}",
            RuntimeWarning,
            stacklevel=2,
        )
    return Comparison(tuple(explanations), tuple(rows), info)


def _describe(err: BaseException) -> str:
    """``"TypeName: message"``, the one line a failed row keeps of its exception."""
    return f"{type(err).__name__}: {err}".strip()


def _failed_row(
    method: str, error: str, seconds: float, peak_mb: float, model: Any, n_before: int | None
) -> dict[str, Any]:
    """The row of a method that raised: no scores (NaN), the forwards it spent, its error."""
    n_after = getattr(model, "n_forward", None)
    spent = n_after - n_before if isinstance(n_before, int) and isinstance(n_after, int) else 0
    nan = float("nan")
    return {
        "method": method,
        "insertion_auc": nan,
        "deletion_auc": nan,
        "pointing_game": nan,
        "forwards": int(spent),
        "seconds": float(seconds),
        "peak_memory_mb": float(peak_mb),
        "partial": False,
        "error": error,
    }


def _scores(model: Any, e: Any, mask: Any, box: Any, rescore: bool, batch_size: int | None) -> dict[str, Any]:
    """A complete Explanation's row scores: rescored through ``evaluate``, or its own curves."""
    from xattr_lab.metrics.evaluate import evaluate
    from xattr_lab.metrics.localisation import pointing_game

    if rescore:
        return evaluate(model, e, mask=mask, box=box, batch_size=batch_size)
    scores = dict(e.metrics)
    if mask is not None:
        scores["pointing_mask"] = float(pointing_game(e.pixel_map, mask=mask))
    if box is not None:
        scores["pointing_box"] = float(pointing_game(e.pixel_map, box=box))
    return scores


__all__ = ["compare"]
