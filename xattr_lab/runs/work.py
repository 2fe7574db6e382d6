"""One unit of a dataset run: explain one sample with one method, save it, return its results-table row.

A :class:`WorkUnit` is small and picklable (an executor may ship it to another process or machine); a
:class:`UnitOutcome` carries the row back to the driver, the only writer of the table. Everything random in
a unit derives from the unit itself (its ``params["seed"]``, fixed by the driver from the config seed and the
sample id), never from worker state or order, so every executor gives the same numbers.

The contract with executors: :func:`run_unit` / :func:`run_units` never raise for a sample's error (it goes
in the row, ``status="error"``); ``KeyboardInterrupt`` and ``SystemExit`` propagate, and so does an
interrupted (partial) explanation, which is never recorded as done.
"""

from __future__ import annotations

import functools
import json
import os
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from xattr_lab.models.protocol import Generation, ScoringModel
    from xattr_lab.results.explanation import Explanation

# explain()'s own keywords; every other parameter goes to the method as **params
EXPLAIN_KEYS = ("tokens", "regions", "search", "baseline", "batch_size", "seed")
GENERATION_KEYS = ("max_new_tokens",)
# curve metrics every row carries (NaN when the unit failed), so the table has a fixed core schema
CORE_METRICS = ("insertion_auc", "deletion_auc", "pointing_mask", "pointing_box")
ERROR_LIMIT = 2000  # characters of a traceback kept in a row


@dataclass(frozen=True)
class SampleSpec:
    """One dataset sample, as a worker needs it (arrays or file paths, nothing loaded lazily by reference).

    Attributes:
        sample_id: stable id (a given id column, else the index in the dataset).
        prompt: the prompt text.
        image: uint8 [H, W, 3] array, or an absolute path to an image file (read in the worker).
        target: explain this answer text instead of the generated one (None: the generation).
        task: a task label for grouping the leaderboard (None: no task).
        answer: the expected answer, recorded in the row (exact-match ``correct``), never used to explain.
        mask: ground truth for the pointing game: bool [H, W] array, or an absolute path to a PNG (nonzero
            pixels are the object).
        boxes: ground-truth boxes ``(x0, y0, x1, y1)``, end exclusive; the pointing game is won inside any.
        polygons: COCO-style polygons (flat ``x, y, x, y, ...`` lists), rasterised into the mask.
    """

    sample_id: str
    prompt: str
    image: Any
    target: str | None = None
    task: str | None = None
    answer: str | None = None
    mask: Any = None
    boxes: tuple[tuple[float, float, float, float], ...] = ()
    polygons: tuple[tuple[float, ...], ...] = ()


@dataclass(frozen=True)
class WorkUnit:
    """One sample x one method.

    Attributes:
        key: ``f"{sample_id}/{method}"``, unique in a run.
        sample_id: the sample's id.
        method: a registered method name.
        sample: the sample.
        params: keywords for ``explain`` (regions, search, seed, ...) and the method's parameters.
        result_dir: absolute path where the Explanation is saved.
        provenance: what the row records about the run (model, fingerprint), JSON-able.
    """

    key: str
    sample_id: str
    method: str
    sample: SampleSpec
    params: dict[str, Any]
    result_dir: str
    provenance: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UnitOutcome:
    """What a finished unit sends back to the driver.

    Attributes:
        key: the unit's key.
        row: one results-table row (metrics, cost, provenance, ``status`` "ok" or "error", ``error``).
        result_path: where the Explanation was saved (None when the unit failed).
    """

    key: str
    row: dict[str, Any]
    result_path: str | None


def load_worker_model(model_spec: Any) -> ScoringModel:
    """Load the model in a worker: a registered name (``"toy-shapes"``), a local directory, or a dict.

    Args:
        model_spec: a str, or a dict ``{"spec": <name or dir>, **load_model options}`` (``device``,
            ``dtype``, ``batch_size``, ...). Never downloads (``load_model`` resolves local files only).

    Returns:
        The ScoringModel.

    Raises:
        TypeError: when ``model_spec`` is neither a str nor a dict with ``"spec"``.
    """
    from xattr_lab.models.loading import load_model

    if isinstance(model_spec, str):
        return load_model(model_spec)
    if isinstance(model_spec, dict) and isinstance(model_spec.get("spec"), str):
        options = {k: v for k, v in model_spec.items() if k != "spec"}
        return load_model(model_spec["spec"], **options)
    raise TypeError(
        "model_spec: expected a model name or directory (str) or a dict {'spec': ..., **options}, "
        f"got {type(model_spec).__name__}"
    )


def load_image(image: Any) -> np.ndarray:
    """A sample's image as uint8 [H, W, 3] RGB (a path is read with Pillow, converted to RGB)."""
    if isinstance(image, (str, os.PathLike)):
        from PIL import Image

        with Image.open(image) as im:
            return np.asarray(im.convert("RGB"), dtype=np.uint8)
    return np.asarray(image)


def ground_truth(sample: SampleSpec, shape: tuple[int, int]) -> np.ndarray | None:
    """The sample's ground-truth mask [H, W] (PNG, array and polygons united), or None when it has none."""
    mask: np.ndarray | None = None
    if isinstance(sample.mask, (str, os.PathLike)):
        from PIL import Image

        with Image.open(sample.mask) as im:
            mask = np.asarray(im.convert("L")) > 0
    elif sample.mask is not None:
        mask = np.asarray(sample.mask).astype(bool)
    if sample.polygons:
        from PIL import Image, ImageDraw

        canvas = Image.new("L", (shape[1], shape[0]), 0)
        draw = ImageDraw.Draw(canvas)
        for poly in sample.polygons:
            draw.polygon([(float(poly[i]), float(poly[i + 1])) for i in range(0, len(poly) - 1, 2)], fill=1)
        drawn = np.asarray(canvas) > 0
        mask = drawn if mask is None else (mask | drawn)
    if mask is not None and mask.shape != tuple(shape):
        raise ValueError(f"mask: sample {sample.sample_id!r} has a {mask.shape} mask for a {shape} image")
    return mask


class _Interrupted(Exception):
    """An explanation came back partial (Ctrl-C inside a search): the unit is not done."""


def _generate(model: ScoringModel, sample: SampleSpec, params: dict[str, Any]) -> tuple[np.ndarray, Generation]:
    image = load_image(sample.image)
    kwargs = {k: params[k] for k in GENERATION_KEYS if k in params}
    return image, model.generate(image, sample.prompt, **kwargs)


def _explain(model: ScoringModel, unit: WorkUnit, image: np.ndarray, gen: Generation) -> Explanation:
    from xattr_lab.attr.explain import explain

    kwargs = {k: v for k, v in unit.params.items() if k not in GENERATION_KEYS}
    exp = explain(model, image, unit.sample.prompt, unit.method, generation=gen, target=unit.sample.target,
                  progress=False, **kwargs)  # fmt: skip
    if exp.partial:
        raise KeyboardInterrupt  # explain turned Ctrl-C into a partial result: a run must not keep it
    return exp


def _metrics(exp: Explanation, sample: SampleSpec, mask: np.ndarray | None) -> dict[str, float]:
    from xattr_lab.metrics.localisation import pointing_game

    out = {k: float(v) for k, v in exp.metrics.items() if isinstance(v, (int, float, np.number))}
    out["pointing_mask"] = float(pointing_game(exp.pixel_map, mask=mask)) if mask is not None else float("nan")
    if sample.boxes:
        hits = [pointing_game(exp.pixel_map, box=b) for b in sample.boxes]
        out["pointing_box"] = float(any(hits))
    else:
        out["pointing_box"] = float("nan")
    return out


def _base_row(unit: WorkUnit) -> dict[str, Any]:
    s = unit.sample
    row: dict[str, Any] = {
        "key": unit.key,
        "sample_id": unit.sample_id,
        "method": unit.method,
        "task": s.task,
        "prompt": s.prompt,
        "answer": s.answer,
        "target": s.target,
        "generated": None,
        "correct": None,
        "status": "error",
        "error": None,
        "result_path": None,
    }
    row.update({m: float("nan") for m in CORE_METRICS})
    row.update({"n_forward": 0.0, "n_calls": 0.0, "seconds": 0.0})
    p = unit.params
    row.update({"regions": str(p.get("regions")), "search": p.get("search"), "seed": p.get("seed")})
    row.update(unit.provenance)
    return row


def _error_row(unit: WorkUnit, err: BaseException, seconds: float) -> UnitOutcome:
    row = _base_row(unit)
    text = "".join(traceback.format_exception_only(type(err), err)).strip()
    tb = traceback.format_exc(limit=-3)
    row.update({"status": "error", "error": (text + "\n" + tb)[:ERROR_LIMIT], "seconds": seconds})
    return UnitOutcome(unit.key, row, None)


def _ok_row(
    unit: WorkUnit, exp: Explanation, gen: Generation, truth: Callable[[], np.ndarray | None], seconds: float
) -> UnitOutcome:
    row = _base_row(unit)
    generated = gen.text
    row["generated"] = generated
    if unit.sample.answer is not None:
        row["correct"] = bool(generated.strip().lower() == str(unit.sample.answer).strip().lower())
    row.update(_metrics(exp, unit.sample, truth()))
    row.update({"n_forward": float(exp.cost.get("n_forward", 0.0)), "n_calls": float(exp.cost.get("n_calls", 0.0))})
    row.update({"regions": str(exp.info.get("regions", row["regions"])), "search": exp.info.get("search")})
    row["versions"] = json.dumps(exp.info.get("versions") or {}, sort_keys=True)
    path = Path(unit.result_dir)
    exp.save(path)
    row.update({"status": "ok", "seconds": seconds, "result_path": str(path)})
    return UnitOutcome(unit.key, row, str(path))


def run_unit(model: ScoringModel, unit: WorkUnit) -> UnitOutcome:
    """Explain one unit, save the Explanation atomically under ``unit.result_dir``, return its row.

    Never raises for a sample's error (the row has ``status="error"`` and the error text);
    ``KeyboardInterrupt`` and ``SystemExit`` propagate.
    """
    return run_units(model, [unit])[0]


def run_units(model: ScoringModel, units: Sequence[WorkUnit]) -> list[UnitOutcome]:
    """Run several units, generating once per sample and reusing that generation for each of its methods.

    Results equal :func:`run_unit`'s one by one (generation is greedy, so it is the same either way). The
    ``seconds`` of a unit include its share of the sample's generation (split evenly across its methods).

    Args:
        model: the loaded model.
        units: the units, in any order; units of the same sample share one generation.

    Returns:
        One outcome per unit, in the order given.
    """
    by_sample: dict[str, list[int]] = {}
    for i, unit in enumerate(units):
        by_sample.setdefault(unit.sample_id, []).append(i)
    outcomes: list[UnitOutcome | None] = [None] * len(units)
    for indices in by_sample.values():
        first = units[indices[0]]
        start = time.perf_counter()
        try:
            image, gen = _generate(model, first.sample, first.params)
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as err:  # the sample cannot be generated: every method of it fails alike
            share = (time.perf_counter() - start) / len(indices)
            for i in indices:
                outcomes[i] = _error_row(units[i], err, share)
            continue
        share = (time.perf_counter() - start) / len(indices)
        # the mask (a PNG read, polygons drawn) once per sample; not cached when it raises: each unit fails alike
        truth = functools.cache(functools.partial(ground_truth, first.sample, image.shape[:2]))
        for i in indices:
            outcomes[i] = _one(model, units[i], image, gen, share, truth)
    return [o for o in outcomes if o is not None]


def _one(
    model: ScoringModel,
    unit: WorkUnit,
    image: np.ndarray,
    gen: Generation,
    extra: float,
    truth: Callable[[], np.ndarray | None],
) -> UnitOutcome:
    start = time.perf_counter()
    try:
        exp = _explain(model, unit, image, gen)
        return _ok_row(unit, exp, gen, truth, extra + time.perf_counter() - start)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as err:
        return _error_row(unit, err, extra + time.perf_counter() - start)


__all__ = [
    "CORE_METRICS",
    "SampleSpec",
    "UnitOutcome",
    "WorkUnit",
    "load_image",
    "load_worker_model",
    "run_unit",
    "run_units",
]
