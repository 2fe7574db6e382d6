"""The explanation view: token strip ↔ image with heatmap overlay and insertion slider ↔ curves.

Built from ``Explanation.to_view_data()`` (or a plain dict shaped like it). Missing optional keys are
tolerated: a result without curves shows no slider, one without regions shows the pixel map only.

Two reading aids are decided here, in Python, so saved notebooks carry them:

- a note on tokens with near-zero vision reliance: their *raw* reliance (the area under the token's own
  insertion curve minus its minimum, :func:`xattr_lab.metrics.reliance.raw_reliance`) below
  :data:`NEAR_ZERO_RELIANCE`. The raw score is used, not the min-max normalised ``reliance`` the strip is
  coloured by: normalised, the least reliant of any two tokens reads 0 however much it uses the image.
- the overlay style: ``"contours"`` (iso-lines over the unmodified image) by default for colour questions,
  where a tinted map would blend with the object's own colours; ``"blend"`` otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from xattr_lab.metrics.reliance import raw_reliance
from xattr_lab.viz._clean import clean, str_list
from xattr_lab.viz.images import (
    DEFAULT_MAX_SIDE,
    as_rgb_uint8,
    display_size,
    encode_display_image,
    encode_labels,
    pool_map,
    resize_image,
    resize_labels,
)
from xattr_lab.viz.payload import encode_array, make_payload

PIXEL_MAP_SIDE = 96
NEAR_ZERO_RELIANCE = 0.05  # raw vision reliance below which a token "barely depends on the image"
OVERLAY_STYLES = ("blend", "contours", "beside")
_COLOUR_QUESTION = re.compile(r"colou?r", re.IGNORECASE)


def default_overlay(prompt_tokens: list[str]) -> str:
    """``"contours"`` when the prompt asks about colour (a tinted map would hide it), else ``"blend"``."""
    return "contours" if _COLOUR_QUESTION.search("".join(prompt_tokens).replace("▁", " ")) else "blend"


def _raw_reliance(data: Mapping[str, Any]) -> np.ndarray | None:
    """Raw vision reliance per curve row, or None without insertion curves and their area axis."""
    ins, area = data.get("insertion"), data.get("area")
    if ins is None or area is None:
        return None
    ins = np.atleast_2d(np.asarray(ins, dtype=np.float64))
    area = np.asarray(area, dtype=np.float64).reshape(-1)
    if ins.shape[-1] != area.shape[0]:
        return None
    return raw_reliance(ins, area)


def _split_tokens(data: Mapping[str, Any]) -> tuple[list[str], list[str], np.ndarray | None, Any]:
    """(prompt tokens, generated tokens, targets as generated indices or None, per-generated scores)."""
    tokens = str_list("tokens", data.get("tokens"))
    kind = data.get("token_kind")
    targets = data.get("targets")
    scores = data.get("scores", data.get("reliance"))
    if kind is not None:  # Explanation.to_view_data: prompt + generated, indices into the whole list
        kind = list(kind)
        if len(kind) != len(tokens):
            raise ValueError(f"token_kind: expected {len(tokens)} entries, got {len(kind)}")
        offset = sum(1 for k in kind if k == "prompt")
        prompt, generated = tokens[:offset], tokens[offset:]
        if targets is not None:
            targets = np.asarray(targets, dtype=np.int64) - offset
        if scores is not None:
            scores = np.asarray(scores, dtype=np.float64)
            scores = scores[offset:] if scores.shape == (len(tokens),) else scores
        return prompt, generated, targets, scores
    prompt = str_list("prompt_tokens", data.get("prompt_tokens"))
    return prompt, tokens, None if targets is None else np.asarray(targets, dtype=np.int64), scores


def _is_region_constant(pixel_map: np.ndarray, labels: np.ndarray, region_scores: np.ndarray) -> bool:
    if pixel_map.shape != labels.shape or region_scores.ndim != 1 or labels.max(initial=-1) >= len(region_scores):
        return False
    return bool(np.allclose(pixel_map, region_scores[labels], equal_nan=True, atol=1e-6))


def map_arrays(data: Mapping[str, Any], max_side: int = DEFAULT_MAX_SIDE) -> dict[str, Any]:
    """The encoded ``image``, ``labels`` (+ ``n_regions``), ``region_scores`` and ``pixel_map`` of ``data``.

    Each key only when ``data`` has it; the pixel map is left out when ``region_scores[labels]`` already
    draws it. Shared by :func:`explanation_payload` and the frames view (one crop per frame).
    """
    out: dict[str, Any] = {}
    size = None
    if data.get("image") is not None:
        image = as_rgb_uint8(data["image"])
        size = display_size(*image.shape[:2], max_side=max_side)
        out["image"] = encode_display_image(resize_image(image, size))
    labels = data.get("labels")
    region_scores = data.get("region_scores")
    if labels is not None:
        labels = np.asarray(labels)
        size = size or display_size(*labels.shape, max_side=max_side)
        out["labels"] = encode_labels(resize_labels(labels, size))
        out["n_regions"] = int(labels.max(initial=-1)) + 1
    if region_scores is not None:
        region_scores = np.asarray(region_scores, dtype=np.float64)
        out["region_scores"] = encode_array(region_scores)
    pixel_map = data.get("pixel_map")
    if pixel_map is not None:
        pixel_map = np.asarray(pixel_map, dtype=np.float64)
        redundant = labels is not None and region_scores is not None and _is_region_constant(
            pixel_map, labels, region_scores
        )
        if not redundant:
            out["pixel_map"] = encode_array(pool_map(pixel_map, PIXEL_MAP_SIDE))
    return out


def explanation_payload(
    data: Mapping[str, Any], title: str | None = None, max_side: int = DEFAULT_MAX_SIDE
) -> dict[str, Any]:
    """The payload of the composite ``explanation`` view.

    Args:
        data: ``Explanation.to_view_data()`` or a dict with the same keys: ``image`` [H, W, 3],
            ``labels`` [H, W], ``region_scores`` [N] or [T, N], ``pixel_map`` [H, W], ``order`` [N],
            ``area`` [S + 1], ``insertion``/``deletion`` [T, S + 1], ``tokens`` (+ ``token_kind`` and
            ``targets``, or ``prompt_tokens``), ``reliance``/``scores``, ``metrics``, ``cost``, ``method``;
            optional ``overlay`` ("blend", "contours" or "beside"; default from the prompt, see
            :func:`default_overlay`) and ``reliance_floor`` (default :data:`NEAR_ZERO_RELIANCE`).
        title: title line; default from the method.
        max_side: longest image side sent to the browser (the image, labels and maps are downsized).

    Returns:
        The view payload (arrays as bytes).
    """
    prompt, generated, targets, scores = _split_tokens(data)
    out: dict[str, Any] = {
        "tokens": generated,
        "prompt_tokens": prompt,
        "score_label": "vision reliance",
        "unscored_label": "not explained",
    }
    if scores is not None:
        scores = np.asarray(scores, dtype=np.float64)
        if scores.shape == (len(generated),):
            out["scores"] = encode_array(scores)
    if targets is not None:
        out["targets"] = encode_array(targets, "int32")

    out.update(map_arrays(data, max_side))
    contrastive = isinstance(data.get("contrast"), Mapping)
    for key, dtype in (("order", "int32"), ("area", "float32"), ("insertion", "float32"), ("deletion", "float32")):
        if data.get(key) is not None:
            values = np.asarray(data[key])
            if contrastive and key in ("insertion", "deletion"):
                # contrastive curves hold the margin log p(t) − log p(c) (unbounded); the curve chart plots
                # probabilities, so it gets σ(margin) = p(t) / (p(t) + p(c)), named in the view's title line
                values = 1.0 / (1.0 + np.exp(-np.clip(np.asarray(values, dtype=np.float64), -700, 700)))
            out[key] = encode_array(values, dtype)
    method = data.get("method")
    if method:
        out["method"] = str(method)
        out["map_label"] = f"{method} score"
    for key in ("metrics", "cost"):
        if isinstance(data.get(key), Mapping):
            out[key] = clean(dict(data[key]))
    if data.get("partial"):
        out["metrics"] = {**out.get("metrics", {}), "partial": "yes (interrupted)"}
    for key in ("metrics", "cost"):  # saved notebooks sort JSON keys: keep the order explicitly
        if key in out:
            out[f"{key}_order"] = list(out[key])
    if data.get("colour_by"):
        out["colour_by"] = str(data["colour_by"])
    if contrastive:  # a contrastive explanation: the view names both answers
        out["contrast"] = clean(dict(data["contrast"]))
    overlay = data.get("overlay") or default_overlay(prompt)
    if overlay not in OVERLAY_STYLES:
        raise ValueError(f"overlay: expected one of {OVERLAY_STYLES}, got {overlay!r}")
    out["overlay"] = overlay
    # Contrastive curves hold a log-probability margin, not a probability: no absolute reliance to read.
    raw = _raw_reliance(data) if data.get("contrast") is None else None
    if raw is not None:
        out["raw_reliance"] = encode_array(raw, "float32")
        out["reliance_floor"] = float(data.get("reliance_floor", NEAR_ZERO_RELIANCE))
    if title is None and method:
        n = len(targets) if targets is not None else len(generated)
        title = f"{method}: {n} explained token{'s' if n != 1 else ''}"
    return make_payload("explanation", out, title)
