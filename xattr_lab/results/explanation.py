"""The Explanation result: what a method says about some generated tokens, with its curves and cost.

Plain data: a frozen dataclass of numpy arrays, the :class:`~xattr_lab.models.protocol.Generation` it
explains and JSON-able dictionaries. Rendering lives in ``xattr_lab.viz`` and is imported only when a
notebook asks for a display; saving goes through ``xattr_lab.results._store`` (JSON + safetensors).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from xattr_lab.inputs.regions import Regions
from xattr_lab.models.protocol import Generation
from xattr_lab.results.contrast import Contrast

KIND = "Explanation"


@dataclass(frozen=True, eq=False)
class Explanation:
    """Attribution of target tokens to image regions.

    Attributes:
        method: the method's registry name (e.g. ``"eagle"``).
        generation: the explained image, prompt and tokens.
        positions: explained positions in ``generation.generated_tokens``.
        regions: the regions attributed to.
        order: int64 [N] region ranking, most important first.
        region_scores: float64 [N] attribution per region in [0, 1].
        pixel_map: float32 [H, W] attribution per pixel.
        area: float64 [N + 1] revealed-area fraction after each step of ``order``.
        insertion: float64 [T, N + 1] per-token probability with the first k regions kept.
        deletion: float64 [T, N + 1] per-token probability with the first k regions removed.
        objective: float64 [N + 1] the method's objective along ``order`` (NaN for map methods).
        reliance: float64 [T] per-token vision reliance in [0, 1].
        metrics: faithfulness numbers (see :func:`xattr_lab.metrics.faithfulness.curve_metrics`).
        params: the method's parameters (JSON-able).
        cost: ``n_forward`` (images scored), ``n_calls`` (score calls), ``seconds``.
        info: provenance (versions, model id, regions spec, seed).
        partial: True when the search was interrupted; missing curve points are NaN.
        contrast: for a contrastive explanation (``explain(..., contrast=)``), the answer the target is
            explained against, one token per explained position; the curves then hold the margin
            ``log p(target) − log p(contrast)`` (nats) instead of probabilities. None otherwise.
    """

    method: str
    generation: Generation
    positions: tuple[int, ...]
    regions: Regions
    order: np.ndarray
    region_scores: np.ndarray
    pixel_map: np.ndarray
    area: np.ndarray
    insertion: np.ndarray
    deletion: np.ndarray
    objective: np.ndarray
    reliance: np.ndarray
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    cost: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    partial: bool = False
    contrast: Contrast | None = None

    # -- convenience -------------------------------------------------------------------------------------
    @property
    def target_tokens(self) -> tuple[str, ...]:
        """Display strings of the explained tokens."""
        return tuple(self.generation.generated_tokens[p] for p in self.positions)

    @property
    def insertion_auc(self) -> float:
        """Mean insertion AUC over the explained tokens."""
        return float(self.metrics.get("insertion_auc", float("nan")))

    @property
    def deletion_auc(self) -> float:
        """Mean deletion AUC over the explained tokens."""
        return float(self.metrics.get("deletion_auc", float("nan")))

    def __repr__(self) -> str:
        tokens = " ".join(self.target_tokens)
        if len(tokens) > 40:
            tokens = tokens[:37] + "..."
        return (
            f"Explanation({self.method}, tokens={tokens!r}, regions={self.regions.n}, "
            f"ins={self.insertion_auc:.3f}, del={self.deletion_auc:.3f}, "
            f"forwards={int(self.cost.get('n_forward', 0))}, {self.cost.get('seconds', 0.0):.2f}s"
            f"{', partial' if self.partial else ''}"
            f"{'' if self.contrast is None else ', contrast=' + repr(' '.join(self.contrast.tokens))})"
        )

    # -- display -----------------------------------------------------------------------------------------
    def figure(self, overlay: str = "blend", curves: bool = False) -> Any:
        """The image with the map over it, a colour bar and the explained token, as a plotly figure.

        For slides and papers; ``fig.write_html(path, include_plotlyjs=True)`` (or
        :func:`xattr_lab.viz.figures.figure_html`) writes it as one HTML file that opens offline.

        Args:
            overlay: ``"blend"``, ``"contours"`` (lines over the untouched image; ``"contour"`` is an alias)
                or ``"beside"``.
            curves: add the mean insertion and deletion curves.
        """
        from xattr_lab.viz.figures.explanation import explanation_figure  # lazy: plotly on demand

        return explanation_figure(self, overlay=overlay, curves=curves)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        try:
            from xattr_lab.viz.bundle import result_bundle

            return result_bundle(self)
        except (ImportError, AttributeError):
            return {"text/plain": repr(self)}

    def export_html(self, path: str | os.PathLike) -> Path:
        """Write a self-contained HTML report (needs ``xattr_lab.viz``).

        Raises:
            RuntimeError: when the views are not available in this installation.
        """
        try:
            from xattr_lab.viz.html import export_html
        except (ImportError, AttributeError) as err:
            raise RuntimeError(
                f"export_html: the HTML views (xattr_lab.viz.html) are not available: {err}"
            ) from None
        out = export_html(self, path)
        return Path(out) if out is not None else Path(path)

    def to_view_data(self) -> dict[str, Any]:
        """Everything the views draw, as plain numpy arrays and lists.

        Returns:
            A dict with ``image`` (uint8 [H, W, 3]), ``labels`` (int32 [H, W]), ``pixel_map`` (float32
            [H, W]), ``region_scores`` (float32 [N]), ``order`` (int32 [N]), ``area`` (float32 [N + 1]),
            ``insertion`` / ``deletion`` (float32 [T, N + 1], one row per explained token), ``tokens``
            (prompt then generated strings), ``token_kind`` ("prompt"/"generated" per token), ``targets``
            (indices into ``tokens`` of the explained ones, aligned with the curve rows), ``reliance``
            (float32 per token, NaN where not explained), ``metrics``, ``method``, ``partial``, and
            ``contrast`` (None, or ``{"text", "tokens", "target_tokens"}`` when the curves hold the margin).
        """
        gen = self.generation
        tokens = list(gen.prompt_tokens) + list(gen.generated_tokens)
        offset = len(gen.prompt_tokens)
        targets = [offset + p for p in self.positions]
        reliance = np.full(len(tokens), np.nan, dtype=np.float32)
        reliance[targets] = self.reliance
        return {
            "image": np.asarray(gen.image, dtype=np.uint8),
            "labels": self.regions.labels.astype(np.int32),
            "pixel_map": self.pixel_map.astype(np.float32),
            "region_scores": self.region_scores.astype(np.float32),
            "order": self.order.astype(np.int32),
            "area": self.area.astype(np.float32),
            "insertion": self.insertion.astype(np.float32),
            "deletion": self.deletion.astype(np.float32),
            "tokens": tokens,
            "token_kind": ["prompt"] * offset + ["generated"] * len(gen.generated_tokens),
            "targets": targets,
            "reliance": reliance,
            "metrics": dict(self.metrics),
            "method": self.method,
            "partial": self.partial,
            "contrast": None
            if self.contrast is None
            else {
                "text": self.contrast.text,
                "tokens": list(self.contrast.tokens),
                "target_tokens": list(self.target_tokens),
            },
        }

    # -- save / load -------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Save as JSON + safetensors (no pickle); read back with ``xattr_lab.load(path)``."""
        from xattr_lab.results._store import save_result

        meta, arrays = _to_store(self)
        return save_result(path, KIND, meta, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Explanation:
        """Load an explanation saved with :meth:`save`.

        Beyond the checksum, the contents are checked: the label map matches the image and numbers the
        regions ``0 .. n-1``, ``order`` is a permutation, the curves are T x (N + 1), the positions lie in
        the generation.

        Raises:
            xattr_lab.results._store.ResultFileError: for a missing, truncated, tampered or inconsistent file.
        """
        from xattr_lab.results._store import load_result

        _, meta, arrays = load_result(path, KIND)
        return cls._from_loaded(path, meta, arrays)

    @classmethod
    def _from_loaded(cls, path: str | os.PathLike, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Explanation:
        """Rebuild from what ``load_result`` read and verified (``xattr_lab.load`` calls it after one parse)."""
        from xattr_lab.results._store import ResultFileError

        try:
            return _from_store(meta, arrays)
        except (KeyError, TypeError, ValueError, IndexError) as err:
            raise ResultFileError(f"path: {path} holds an Explanation that fails its checks: {err}") from None


_ARRAY_FIELDS = (
    "order",
    "region_scores",
    "pixel_map",
    "area",
    "insertion",
    "deletion",
    "objective",
    "reliance",
)


def _to_store(e: Explanation) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    gen = e.generation
    arrays = {name: np.asarray(getattr(e, name)) for name in _ARRAY_FIELDS}
    arrays["labels"] = np.asarray(e.regions.labels)
    arrays["image"] = np.asarray(gen.image)
    arrays["input_ids"] = _numpy(gen.input_ids)
    arrays["generated_ids"] = _numpy(gen.generated_ids)
    meta = {
        "method": e.method,
        "positions": list(e.positions),
        "regions_spec": e.regions.spec,
        "metrics": e.metrics,
        "params": e.params,
        "cost": e.cost,
        "info": e.info,
        "partial": e.partial,
        **({} if e.contrast is None else {"contrast": e.contrast.to_meta()}),  # absent: old readers unaffected
        "generation": {
            "prompt": gen.prompt,
            "prompt_tokens": list(gen.prompt_tokens),
            "generated_tokens": list(gen.generated_tokens),
            "image_token_span": list(gen.image_token_span),
            "geometry": gen.geometry,
            "model_id": gen.model_id,
            "is_target": gen.is_target,
            "ids_are_tensors": [
                not isinstance(gen.input_ids, np.ndarray),
                not isinstance(gen.generated_ids, np.ndarray),
            ],
        },
    }
    return meta, arrays


def _numpy(x: Any) -> np.ndarray:
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def _from_store(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Explanation:
    """Rebuild an Explanation, checking every field's type and every array's shape on the way."""
    from xattr_lab.results import _checks as c

    g = c.field(meta, "generation", dict)
    image = c.array(arrays, "image")
    if image.ndim not in (2, 3):
        raise ValueError(f"the array 'image' has shape {image.shape}, expected [H, W, 3]")
    h, w = image.shape[:2]
    labels = c.array(arrays, "labels", "iu", ndim=2)
    c.shape(labels, (h, w), "labels")  # the label map must cover the image it explains
    regions = Regions(labels, c.field(meta, "regions_spec", str))  # checks 0 .. n-1, every value used
    n = regions.n
    generated_tokens = c.strings(g, "generated_tokens")
    positions = c.ints(meta, "positions")
    outside = [p for p in positions if not 0 <= p < len(generated_tokens)]
    if outside:
        raise ValueError(f"the positions {outside[:5]} lie outside the {len(generated_tokens)} generated tokens")
    t = len(positions)
    order = c.array(arrays, "order", "iu")
    c.permutation(order, n)
    expected = {
        "region_scores": (n,),
        "pixel_map": (h, w),
        "area": (n + 1,),
        "insertion": (t, n + 1),
        "deletion": (t, n + 1),
        "objective": (n + 1,),
        "reliance": (t,),
    }
    for name, shape in expected.items():
        c.shape(c.array(arrays, name, "f"), shape, name)
    span = c.ints(g, "image_token_span")
    if len(span) != 2:
        raise ValueError(f"the entry 'image_token_span' must hold 2 integers, got {len(span)}")
    as_tensor = g.get("ids_are_tensors", [True, True])
    if not (isinstance(as_tensor, list) and len(as_tensor) == 2 and all(isinstance(v, bool) for v in as_tensor)):
        raise ValueError("the entry 'ids_are_tensors' must be a list of 2 booleans")

    def ids(name: str, tensor: bool) -> Any:
        values = c.array(arrays, name, "iu")
        if not tensor:
            return values
        import torch

        return torch.from_numpy(values.copy())

    gen = Generation(
        image=image,
        prompt=c.field(g, "prompt", str),
        input_ids=ids("input_ids", as_tensor[0]),
        generated_ids=ids("generated_ids", as_tensor[1]),
        prompt_tokens=tuple(c.strings(g, "prompt_tokens")),
        generated_tokens=tuple(generated_tokens),
        image_token_span=(span[0], span[1]),
        geometry=c.field(g, "geometry", dict),
        model_id=c.field(g, "model_id", str),
        is_target=c.field(g, "is_target", bool),
    )
    return Explanation(
        method=c.field(meta, "method", str),
        generation=gen,
        positions=tuple(positions),
        regions=regions,
        order=order,
        **{name: arrays[name] for name in _ARRAY_FIELDS if name != "order"},
        metrics=c.field(meta, "metrics", dict),
        params=c.field(meta, "params", dict),
        cost=c.field(meta, "cost", dict),
        info=c.field(meta, "info", dict),
        partial=c.field(meta, "partial", bool),
        contrast=None if meta.get("contrast") is None else Contrast.from_meta(meta["contrast"], t),
    )
