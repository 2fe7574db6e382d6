"""Dataset sources for runs: built-in generators, a folder of images with prompts, in-memory rows.

Every source becomes a list of :class:`~xattr_lab.runs.work.SampleSpec` with stable ids (a given ``id``
column, else the index) and a description that goes into the run's fingerprint. Nothing is downloaded.

* a built-in generator: ``"shapes"`` or ``{"name": "shapes", "n": 200, "seed": 0, "task": "colour"}``
  (also ``clutter``, ``shortcut``);
* a folder: ``"path/to/folder"`` or ``{"path": ..., "prompts": "prompts.jsonl"}``; the prompts file (JSONL or
  CSV) has columns ``image`` (a path relative to the folder), ``prompt`` and optionally ``id``, ``target``,
  ``answer``, ``task``, ``mask`` (a PNG path), ``boxes`` (``[x0, y0, x1, y1]`` or a list of them) and
  ``polygons`` / ``segmentation`` (COCO-style: a list of flat ``[x, y, x, y, ...]`` lists); in CSV cells
  boxes and polygons are JSON text;
* an in-memory ``datasets.Dataset`` or any sequence / iterable of dicts (or of objects with ``image`` and
  ``prompt`` attributes, such as the generators' samples); images as uint8 arrays, PIL images or paths.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from xattr_lab.runs.work import SampleSpec

BUILTIN = ("shapes", "clutter", "shortcut")
DEFAULT_N = 100
PROMPT_FILES = ("prompts.jsonl", "prompts.csv", "metadata.jsonl", "metadata.csv")
_FIELDS = {"id", "sample_id", "image", "prompt", "target", "answer", "task", "mask", "boxes", "box",
           "polygons", "segmentation"}  # fmt: skip


def load_samples(dataset: Any) -> tuple[list[SampleSpec], dict[str, Any]]:
    """The samples of ``dataset`` and a JSON-able description of it (for the manifest and fingerprint).

    Args:
        dataset: a built-in name or dict, a folder path or dict, a ``datasets.Dataset``, or an iterable of
            dicts (see the module docstring).

    Returns:
        ``(samples, description)``.

    Raises:
        ValueError: an unknown name, a missing folder or prompts file, a row without image or prompt,
            duplicate ids, an empty dataset.
        TypeError: a dataset of an unsupported type, or rows that are not dicts.
    """
    if isinstance(dataset, (str, os.PathLike)):
        text = os.fspath(dataset)
        if text in BUILTIN:
            return _builtin({"name": text})
        return _folder({"path": text})
    if isinstance(dataset, Mapping):
        if "name" in dataset:
            return _builtin(dict(dataset))
        if "path" in dataset:
            return _folder(dict(dataset))
        raise ValueError("dataset: a dict needs 'name' (a built-in generator) or 'path' (a folder of images)")
    if type(dataset).__module__.startswith("datasets") and hasattr(dataset, "column_names"):
        return _rows(list(dataset), kind="datasets.Dataset", base=None)
    if isinstance(dataset, (bytes, np.ndarray)) or not isinstance(dataset, Iterable):
        raise TypeError(
            "dataset: expected a built-in name (" + ", ".join(BUILTIN) + "), a folder path, a dict, a "
            f"datasets.Dataset or an iterable of dicts, got {type(dataset).__name__}"
        )
    return _rows(list(dataset), kind="rows", base=None)


def _builtin(spec: dict[str, Any]) -> tuple[list[SampleSpec], dict[str, Any]]:
    import xattr_lab.datasets as ds

    unknown = set(spec) - {"name", "n", "seed", "task"}
    if unknown:
        raise ValueError(f"dataset: unknown keys {sorted(unknown)} for a built-in generator (n, seed, task)")
    name = spec["name"]
    if name not in BUILTIN:
        raise ValueError(f"dataset: unknown built-in generator {name!r}; expected one of {', '.join(BUILTIN)}")
    n, seed, task = spec.get("n", DEFAULT_N), spec.get("seed", 0), spec.get("task")
    for key, value in (("n", n), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, int) or value < (1 if key == "n" else 0):
            sign = "positive" if key == "n" else "non-negative"
            raise ValueError(f"dataset: {key} must be a {sign} int, got {value!r}")
    if task is not None and not isinstance(task, str):
        raise TypeError(f"dataset: task must be a string or absent, got {type(task).__name__}")
    samples = []
    for i, s in enumerate(getattr(ds, name)(n, seed, task=task)):
        mask = s.masks[s.target] if s.target is not None else None
        boxes = (tuple(float(v) for v in s.boxes[s.target]),) if s.target is not None else ()
        samples.append(SampleSpec(str(i), s.prompt, s.image, task=s.task, answer=s.answer, mask=mask, boxes=boxes))
    return samples, {"kind": "builtin", "name": name, "n": n, "seed": seed, "task": task}


def _folder(spec: dict[str, Any]) -> tuple[list[SampleSpec], dict[str, Any]]:
    unknown = set(spec) - {"path", "prompts"}
    if unknown:
        raise ValueError(f"dataset: unknown keys {sorted(unknown)} for a folder (path, prompts)")
    root = Path(os.fspath(spec["path"])).expanduser().resolve()
    if not root.is_dir():
        raise ValueError(
            f"dataset: {spec['path']!r} is neither a built-in generator ({', '.join(BUILTIN)}) nor a folder"
        )
    if spec.get("prompts"):
        prompts = root / str(spec["prompts"])
        if not prompts.is_file():
            raise ValueError(f"dataset: prompts file {prompts} not found")
    else:
        found = [root / n for n in PROMPT_FILES if (root / n).is_file()]
        if not found:
            raise ValueError(f"dataset: folder {root} has no prompts file; expected one of {', '.join(PROMPT_FILES)}")
        prompts = found[0]
    rows = _read_jsonl(prompts) if prompts.suffix.lower() == ".jsonl" else _read_csv(prompts)
    samples, described = _rows(rows, kind="folder", base=root)
    return samples, {**described, "path": str(root), "prompts": prompts.name}


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"dataset: {path.name} line {n} is not JSON: {err.msg}") from None
        if not isinstance(row, dict):
            raise ValueError(f"dataset: {path.name} line {n} is not a JSON object")
        rows.append(row)
    return rows


def _read_csv(path: Path) -> list[dict[str, Any]]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = [dict(r) for r in csv.DictReader(fh)]
    for n, row in enumerate(rows, 2):
        for key in ("boxes", "box", "polygons", "segmentation"):
            cell = row.get(key)
            if isinstance(cell, str):
                try:
                    row[key] = json.loads(cell) if cell.strip() else None
                except json.JSONDecodeError:
                    raise ValueError(f"dataset: {path.name} line {n} column {key!r} is not JSON") from None
        for key, cell in list(row.items()):
            if cell == "":
                row[key] = None  # an empty CSV cell is a missing value
    return rows


def _as_dict(item: Any, index: int) -> dict[str, Any]:
    if isinstance(item, Mapping):
        return dict(item)
    if hasattr(item, "image") and hasattr(item, "prompt"):
        return {k: getattr(item, k) for k in ("image", "prompt", "answer", "task") if hasattr(item, k)}
    raise TypeError(f"dataset: row {index} is a {type(item).__name__}; expected a dict with image and prompt")


def _rows(items: list[Any], kind: str, base: Path | None) -> tuple[list[SampleSpec], dict[str, Any]]:
    if not items:
        raise ValueError("dataset: it holds no samples")
    samples, seen = [], set()
    for i, item in enumerate(items):
        row = _as_dict(item, i)
        sid = row.get("id", row.get("sample_id"))
        sid = str(i) if sid is None else str(sid)
        if sid in seen:
            raise ValueError(f"dataset: duplicate sample id {sid!r} (row {i})")
        seen.add(sid)
        samples.append(_spec(row, sid, base))
    return samples, {"kind": kind, "n": len(samples), "content": _content_digest(samples)}


def _text(row: dict[str, Any], key: str, sid: str) -> str | None:
    value = row.get(key)
    if value is None:
        return None
    if not isinstance(value, (str, int, float)):
        raise TypeError(f"dataset: sample {sid!r} column {key!r} must be text, got {type(value).__name__}")
    return str(value)


def _path(value: Any, base: Path | None, sid: str, key: str) -> str:
    path = Path(os.fspath(value)).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    if not path.is_file():
        raise ValueError(f"dataset: sample {sid!r} {key} file {path} not found")
    return str(path.resolve())


def _image(value: Any, base: Path | None, sid: str) -> Any:
    if value is None:
        raise ValueError(f"dataset: sample {sid!r} has no image")
    if isinstance(value, (str, os.PathLike)):
        return _path(value, base, sid, "image")
    if hasattr(value, "convert") and hasattr(value, "size"):  # a PIL image (datasets.Image columns)
        value = np.asarray(value.convert("RGB"))
    arr = np.asarray(value)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"dataset: sample {sid!r} image must be uint8 [H, W, 3] RGB, got {arr.dtype} {arr.shape}")
    return arr


def _boxes(value: Any, sid: str) -> tuple[tuple[float, float, float, float], ...]:
    if value is None:
        return ()
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"dataset: sample {sid!r} boxes must be [x0, y0, x1, y1] or a list of them")
    return tuple(tuple(float(v) for v in b) for b in arr)  # type: ignore[misc]


def _polygons(value: Any, sid: str) -> tuple[tuple[float, ...], ...]:
    if value is None:
        return ()
    if isinstance(value, Mapping):  # COCO RLE is not a polygon list
        raise ValueError(f"dataset: sample {sid!r} polygons must be COCO polygon lists, not RLE")
    polys = list(value)
    if polys and not isinstance(polys[0], (list, tuple, np.ndarray)):
        polys = [polys]  # one flat polygon
    out = []
    for p in polys:
        flat = tuple(float(v) for v in p)
        if len(flat) < 6 or len(flat) % 2:
            raise ValueError(f"dataset: sample {sid!r} polygon needs an even number (>= 6) of coordinates")
        out.append(flat)
    return tuple(out)


def _spec(row: dict[str, Any], sid: str, base: Path | None) -> SampleSpec:
    prompt = row.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError(f"dataset: sample {sid!r} needs a non-empty prompt")
    mask = row.get("mask")
    if isinstance(mask, (str, os.PathLike)):
        mask = _path(mask, base, sid, "mask")
    elif mask is not None:
        mask = np.asarray(mask.convert("L") if hasattr(mask, "convert") else mask).astype(bool)
    polygons = row.get("polygons", row.get("segmentation"))
    return SampleSpec(
        sample_id=sid,
        prompt=prompt,
        image=_image(row.get("image"), base, sid),
        target=_text(row, "target", sid),
        task=_text(row, "task", sid),
        answer=_text(row, "answer", sid),
        mask=mask,
        boxes=_boxes(row.get("boxes", row.get("box")), sid),
        polygons=_polygons(polygons, sid),
    )


def _content_digest(samples: list[SampleSpec]) -> str:
    """A digest of what the samples hold (ids, prompts, targets, images, ground truth), for the fingerprint."""
    h = hashlib.sha256()
    for s in samples:
        h.update(json.dumps([s.sample_id, s.prompt, s.target, s.task, s.answer, s.boxes, s.polygons]).encode())
        for value in (s.image, s.mask):
            if isinstance(value, str):  # a file: its contents (a copied or touched folder stays the same run)
                with open(value, "rb") as fh:
                    for chunk in iter(lambda: fh.read(1 << 20), b""):
                        h.update(chunk)
            elif value is not None:
                arr = np.ascontiguousarray(value)
                h.update(f"{arr.dtype}{arr.shape}".encode())
                h.update(arr.tobytes())
    return h.hexdigest()


__all__ = ["BUILTIN", "load_samples"]
