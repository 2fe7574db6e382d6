"""Faster masked forwards that give the same scores: work shared by every masked image of one explanation.

Every masked image of one explanation has the same token sequence and the same image layout; only pixels
differ. Two families redo per masked image, inside the model, work that does not depend on the pixels:

* **Qwen2-VL / Qwen2.5-VL** (``"qwen_precomputed_positions"``): the language model's 3-D rope positions
  (``get_rope_index``, a Python loop over the batch rows) and the vision tower's patch positions, attention
  segments and (2.5) window order (loops over the images of the batch). They are computed once per sequence
  length and batch size with transformers' own functions and passed through the forward's keyword
  arguments (``position_ids``; ``image_position_ids``, ``image_cu_seqlens``, ``image_window_index``,
  ``image_cu_window_seqlens``), which the model uses instead of recomputing them.
* **Idefics3 / SmolVLM** (``"tile_feature_cache"``): the vision encoder and connector see each tile (the
  crops and the global image) on its own, so a tile whose processed pixels equal the unmasked image's gives
  the unmasked image's features. Those are computed once; per batch only the tiles a mask touched (any
  pixel differs) are encoded, and the features go in through ``mm_encoder_outputs``.

Either path is checked once per prepared image against the model's own forward (two masked images, the
largest difference of any next-token log-probability must stay within ``CHECK_TOLERANCE``) and dropped,
with a warning, when it does not match. Other families keep the plain forward (``"plain"``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import torch

# largest |difference| of a next-token log-probability between the fast and the plain forward in the one-off
# check; measured 0 (Qwen) and <= 1e-6 (Idefics3, a different batch composition) on the tiny families
CHECK_TOLERANCE = 1e-4
QWEN_FAMILIES = {"qwen2_vl": False, "qwen2_5_vl": True}  # model_type -> windowed vision attention


@dataclass
class FastForward:
    """The per-(image, prompt) state of a fast path (kept in the adapter's prepared-input cache).

    Attributes:
        path: ``"qwen_precomputed_positions"``, ``"tile_feature_cache"`` or ``"plain"``.
        checked: whether the one-off check ran; ``error`` is its largest log-probability difference.
        reason: why the fast path was dropped (empty while it is used).
    """

    path: str
    base: Any = None  # the inner multimodal model (``model.model``)
    enc: dict[str, torch.Tensor] = field(default_factory=dict)
    checked: bool = False
    error: float | None = None
    reason: str = ""
    _rope: dict[int, torch.Tensor] = field(default_factory=dict)
    _vision: dict[int, dict[str, torch.Tensor]] = field(default_factory=dict)
    # per masking path: the unmasked image's inputs built by that path (pixels compare equal only within one
    # path's arithmetic) and its tile features [T, seq, D]
    _reference: dict[Any, tuple[dict[str, torch.Tensor], torch.Tensor]] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        """Whether masked forwards take this path (not ``"plain"``, not dropped by the check)."""
        return self.path != "plain" and not self.reason

    def inputs(self, inputs: dict[str, torch.Tensor], unmasked: Any = None, key: Any = None) -> dict[str, Any]:
        """``inputs`` of one batched masked forward, with the shared work passed in precomputed.

        Args:
            inputs: the plain forward's inputs (text and masked image inputs, batched).
            unmasked: ``unmasked()`` gives the image inputs of the unmasked image built the same way as the
                masked ones (needed by ``"tile_feature_cache"``).
            key: names that way of building (e.g. the masking path), to cache its reference.
        """
        if not self.active:
            return inputs
        if self.path == "qwen_precomputed_positions":
            return self._qwen(inputs)
        if unmasked is None:
            return inputs
        return self._idefics(inputs, unmasked, key)

    # Qwen ---------------------------------------------------------------------------------------------------

    def _qwen(self, inputs: dict[str, torch.Tensor]) -> dict[str, Any]:
        from transformers.vision_utils import get_vision_cu_seqlens, get_vision_position_ids, get_vision_window_index

        ids = inputs["input_ids"]
        b, n = ids.shape
        if n not in self._rope:  # the rows are identical: one row's positions, broadcast over the batch
            one = {k: inputs[k][:1] for k in ("input_ids", "attention_mask", "mm_token_type_ids") if k in inputs}
            pos, _ = self.base.get_rope_index(one.pop("input_ids"), image_grid_thw=self.enc["image_grid_thw"], **one)
            self._rope[n] = pos
        if b not in self._vision:
            grid = self.enc["image_grid_thw"].repeat(b, 1)
            vc = self.base.config.vision_config
            vision = {
                "image_position_ids": get_vision_position_ids(grid, vc.spatial_merge_size),
                "image_cu_seqlens": get_vision_cu_seqlens(grid),
            }
            if QWEN_FAMILIES[self.base.config.model_type]:
                index, cu_window = get_vision_window_index(grid, vc.spatial_merge_size, vc.window_size, vc.patch_size)
                vision.update(image_window_index=index, image_cu_window_seqlens=cu_window)
            self._vision = {b: vision}  # batch sizes repeat (all full batches, one last one): keep the latest
        else:
            vision = self._vision[b]
        return {**inputs, "position_ids": self._rope[n].expand(-1, b, -1), **vision}

    # Idefics3 -----------------------------------------------------------------------------------------------

    def _features(self, pixels: torch.Tensor, attention: torch.Tensor | None) -> torch.Tensor:
        """Features [n·seq, D] of tiles ``pixels`` [1, n, 3, h, w] through the model's own image path."""
        out = self.base.get_image_features(pixels, attention, return_dict=True)
        return torch.cat(list(out.pooler_output), 0)

    def _idefics(self, inputs: dict[str, torch.Tensor], unmasked: Any, key: Any) -> dict[str, Any]:
        from transformers.modeling_outputs import BaseModelOutputWithPooling

        pixels = inputs["pixel_values"]
        attention = inputs.get("pixel_attention_mask")
        b, t = pixels.shape[:2]
        if key not in self._reference:
            ref = unmasked()
            tiles = self._features(ref["pixel_values"], ref.get("pixel_attention_mask"))
            self._reference[key] = (ref, tiles.reshape(t, -1, tiles.shape[-1]))
        ref, tiles = self._reference[key]
        if pixels.shape[1:] != ref["pixel_values"].shape[1:]:
            return inputs
        touched = (pixels != ref["pixel_values"]).flatten(2).any(-1)  # [B, T]: a tile some mask changed
        feats = tiles.expand(b, -1, -1, -1).clone()
        if touched.any():
            sel = pixels[touched]
            if bool((sel == 0).flatten(1).all(-1).any()):
                return inputs  # an all-zero tile reads as padding to the model: keep its own path
            att = attention[touched][None] if attention is not None else None
            feats[touched] = self._features(sel[None], att).reshape(int(touched.sum()), *feats.shape[2:])
        out = {k: v for k, v in inputs.items() if k not in ("pixel_values", "pixel_attention_mask")}
        flat = [feats.reshape(-1, feats.shape[-1])]
        out["mm_encoder_outputs"] = {"image": BaseModelOutputWithPooling(pooler_output=flat)}
        return out


def choose(model: Any, enc: dict[str, torch.Tensor]) -> FastForward:
    """The fast path for ``model`` and one prepared input ``enc`` (the processor's output for one image)."""
    config = model.config
    family = str(getattr(config, "model_type", ""))
    base = getattr(model, "model", None)
    if family in QWEN_FAMILIES and "image_grid_thw" in enc and hasattr(base, "get_rope_index"):
        try:
            import transformers.vision_utils  # noqa: F401 - precomputed vision inputs need transformers >= 5.2x
        except ImportError:
            return FastForward("plain")
        return FastForward("qwen_precomputed_positions", base, enc)
    pixels = enc.get("pixel_values")
    tiled = pixels is not None and pixels.ndim == 5 and pixels.shape[1] > 1  # one tile: every mask touches it
    if family == "idefics3" and tiled and hasattr(base, "get_image_features"):
        return FastForward("tile_feature_cache", base, enc)
    return FastForward("plain")


def check(
    fast: FastForward, forward: Any, inputs: dict[str, torch.Tensor], name: str, unmasked: Any = None, key: Any = None
) -> None:
    """Compare the fast path with the plain forward once; drop it (and warn) when they differ.

    Args:
        fast: the state to check (``checked``/``error``/``reason`` are set).
        forward: ``forward(inputs) -> logits [B, L, V]`` (the model's own forward).
        inputs: a small batch of masked inputs (two images).
        name: the model's name, for the warning.
        unmasked, key: as in :meth:`FastForward.inputs`.
    """
    if fast.checked or not fast.active:
        return
    fast.checked = True
    try:
        with torch.no_grad():
            plain = torch.log_softmax(forward(inputs)[:, -1].float(), -1)
            quick = torch.log_softmax(forward(fast.inputs(inputs, unmasked, key))[:, -1].float(), -1)
        fast.error = float((plain - quick).abs().max())
    except Exception as err:  # a transformers version whose forward takes other inputs: keep the plain one
        fast.reason = f"{type(err).__name__}: {err}"
    else:
        if not fast.error <= CHECK_TOLERANCE:
            fast.reason = f"differs from the plain forward by {fast.error:.2e} in log-probability"
    if fast.reason:
        warnings.warn(f"{name}: the {fast.path} forward is not used ({fast.reason}); every masked image runs the "
                      "whole model", RuntimeWarning, stacklevel=5)  # fmt: skip
