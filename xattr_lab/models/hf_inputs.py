"""Preparing inputs for the transformers adapter: chat text, processor calls, the per-(image, prompt) cache.

Everything here runs before a forward: the chat template, the processor, the pixel-space masker and its
one-off check, processed baselines and the geometry recorded in a Generation.
"""

from __future__ import annotations

import hashlib
import threading
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from xattr_lab.models import fast_forward
from xattr_lab.models.batching import AutoBatch
from xattr_lab.models.checks import check_text
from xattr_lab.models.hf_chat import ChatText, chat_text
from xattr_lab.models.images import to_pil
from xattr_lab.models.masking import PixelSpaceMasker, baseline_image, baseline_key, mask_images
from xattr_lab.models.processed_masks import ProcessedMasker, TraceError, check_masks_for, one_level

# processor outputs that belong to the text; everything else describes the image
TEXT_KEYS = frozenset({"input_ids", "attention_mask", "token_type_ids", "mm_token_type_ids"})


def tile_image_inputs(enc: Any, b: int, skip: frozenset[str] = frozenset()) -> dict[str, torch.Tensor]:
    """The processor's image inputs (every key but ``TEXT_KEYS`` and ``skip``) repeated ``b`` times on dim 0.

    One image's grid sizes, patch positions and the like are the same for every masked copy, so a batch of
    ``b`` copies repeats them; ``pixel_values`` is usually in ``skip``, as each copy has its own pixels.
    """
    return {k: v.repeat(b, *[1] * (v.ndim - 1)) for k, v in enc.items() if k not in TEXT_KEYS and k not in skip}


# tolerance of the one-off check that pixel-space masking matches mask-then-process: the largest absolute
# difference of any processed pixel (mask edges included), in 8-bit levels of the processor's normalised
# units. The traced replay is exact (measured <= 5e-7 normalised units on every tiny family); one level
# leaves room for Pillow's fixed-point rounding ties on large images, a wrong geometry is far above it.
PIXEL_SPACE_TOLERANCE = 1.0
# On a CPU the replay costs more than the processor for all but small images (it composites and resamples
# at full resolution in float64 where Pillow works in 8-bit SIMD): per masked image, 0.16 vs 0.37 ms at
# 40×52 (LLaVA tiny), 2.1 vs 1.3 ms at 128², 26 vs 15 ms at 512² (toy CLIP processor, one core). Above this
# many pixels a CPU model keeps mask-then-process (equally exact); accelerators always replay.
REPLAY_CPU_MAX_PIXELS = 80 * 80
_PIXELS = frozenset({"pixel_values"})


@dataclass
class _Prepared:
    """Everything about one (image, prompt) pair that masked scoring reuses."""

    image: np.ndarray
    text: str
    enc: dict[str, torch.Tensor]
    masker: PixelSpaceMasker | None = None  # the resize + crop geometry (LLaVA 1.5-style processors)
    template: str = ""  # where the chat template came from (hf_chat.SOURCES)
    # how masked images are built: "processed_replay" (the processor's traced geometry replayed in torch),
    # "pixel_space_composite" (composite under a resized mask; only kept where it passes the edge check)
    # or "" (mask-then-process)
    path: str = ""
    replay: ProcessedMasker | None = None
    check_error: float | None = None  # the one-off check's largest difference, in 8-bit levels
    fallback: str = ""  # why pixel space was not used
    baselines: dict[Any, torch.Tensor] = field(default_factory=dict)
    forward: fast_forward.FastForward | None = None  # work shared by every masked forward (fast_forward)


def find_image_token_id(config: Any, processor: Any) -> int:
    """The id of the image placeholder token, from the config or else the processor/tokenizer."""
    for key in ("image_token_id", "image_token_index"):
        value = getattr(config, key, None)
        if isinstance(value, int):
            return value
    value = getattr(processor, "image_token_id", None)
    if isinstance(value, int):
        return value
    token = getattr(processor, "image_token", None)
    tok = getattr(processor, "tokenizer", None)
    if token is not None and tok is not None:
        value = tok.convert_tokens_to_ids(token)
        if isinstance(value, int) and value != tok.unk_token_id:
            return value
    raise ValueError(
        "model: cannot find the image token id (no image_token_id / image_token_index in the config and no "
        "image_token on the processor); is this an image-text-to-text model?"
    )


class HFBase:
    """The state every part of the adapter shares (set by ``HFScoringModel.__init__``)."""

    model: Any
    processor: Any
    tokenizer: Any
    name: str
    image_token_id: int
    device: torch.device
    n_forward: int
    pixel_space: bool
    # masked forwards pass in what every masked image shares (models.fast_forward); False: the plain forward
    fast_forward: bool = True
    _batch: AutoBatch
    _cache: OrderedDict[str, _Prepared]
    _lock: threading.RLock
    _logits_to_keep: bool
    _stop_ids: set[int]
    _pad_id: int


class InputsMixin(HFBase):
    """Chat text, processor calls and the cache of prepared (image, prompt) pairs."""

    def chat_text(self, prompt: str) -> str:
        """The model-ready text for ``prompt``: its chat template with one image, or image marker + prompt.

        See :func:`xattr_lab.models.hf_chat.chat_text` (the template's source, and prompts that already hold
        the image token or are already templated).
        """
        return self._chat(prompt).text

    def _chat(self, prompt: str) -> ChatText:
        return chat_text(self.processor, self.tokenizer, self.model.config, self.image_token_id, prompt)

    def _process(
        self, images: Sequence[np.ndarray], texts: Sequence[str], padding: bool = False
    ) -> dict[str, torch.Tensor]:
        pil = [[to_pil(im)] for im in images]
        # nested [[image], ...]: one image per sample, the layout every multimodal processor accepts; locked
        # because a fast tokenizer's padding state is shared ("Already borrowed" from two threads)
        with self._lock:
            enc = self.processor(images=pil, text=list(texts), return_tensors="pt", padding=padding)
        return {k: v.to(self.device) for k, v in enc.items() if isinstance(v, torch.Tensor)}

    def _prepare(self, image: np.ndarray, prompt: str) -> _Prepared:
        key = hashlib.sha1(image.tobytes() + str(image.shape).encode() + prompt.encode()).hexdigest()
        with self._lock:  # the cache is shared by threads: look up, fill and evict in one step
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            chat = self._chat(prompt)
            enc = self._process([image], [chat.text])
            self._check_image_reached(enc)
            prep = _Prepared(image=image, text=chat.text, enc=enc, template=chat.source)
            prep.forward = fast_forward.choose(self.model, enc)
            if self.pixel_space:
                self._choose_masking(prep)
            self._cache[key] = prep
            while len(self._cache) > 8:
                self._cache.popitem(last=False)
            return prep

    def _check_image_reached(self, enc: dict[str, torch.Tensor]) -> None:
        """Refuse inputs in which the model would not see the image (no pixels, or no image tokens).

        A processor that drops the image (a tokenizer loaded as the processor) used to give a generation with
        empty ``pixel_values`` and one literal placeholder token, and maps that explained nothing.
        """
        pixels = enc.get("pixel_values")
        n_image = int((enc["input_ids"] == self.image_token_id).sum())
        if pixels is None or pixels.numel() == 0 or n_image == 0:
            raise ValueError(
                f"model: the processor ({type(self.processor).__name__}) gave "
                f"{'no pixel_values' if pixels is None or pixels.numel() == 0 else 'pixel_values'} and "
                f"{n_image} image token(s) for this image and prompt, so {self.name} would not see the image; "
                "load the model with its multimodal processor (xattr_lab.load_model(directory))"
            )

    def _choose_masking(self, prep: _Prepared) -> None:
        """Pick the masking path for this image: the traced replay, else the composite, else mask-then-process.

        Each candidate is checked once against mask-then-process on masks with hard and soft edges; the largest
        difference of any processed pixel must stay within ``PIXEL_SPACE_TOLERANCE`` 8-bit levels. A fallback
        warns and records why; on a CPU, images over ``REPLAY_CPU_MAX_PIXELS`` keep mask-then-process (faster
        there, and as exact), recorded without a warning.
        """
        ip = getattr(self.processor, "image_processor", None)
        pixels = prep.enc.get("pixel_values")
        prep.masker = self._composite_geometry(prep)
        reasons: list[str] = []
        h, w = prep.image.shape[:2]
        slow_here = self.device.type == "cpu" and h * w > REPLAY_CPU_MAX_PIXELS
        if slow_here:
            reasons.append(
                f"on the CPU the replay is slower than the processor for images over {REPLAY_CPU_MAX_PIXELS} pixels "
                f"(this one has {h * w})"
            )
        if not slow_here:
            try:
                from xattr_lab.models.processed_masks import build

                family = str(getattr(self.model.config, "model_type", ""))
                replay = build(ip, prep.image, pixels, family).to(self.device)
                err = self._check_error(prep, lambda m, base: replay.apply(m, baseline_image(base, prep.image)))
                if err <= PIXEL_SPACE_TOLERANCE:
                    prep.path, prep.replay, prep.check_error = "processed_replay", replay, err
                    return
                reasons.append(f"the traced replay differs from mask-then-process by {err:.2f} 8-bit levels")
            except TraceError as trace_err:
                reasons.append(f"cannot trace {type(ip).__name__}: {trace_err}")
        if prep.masker is not None:
            masker = prep.masker

            def composite(m: torch.Tensor, base: str) -> torch.Tensor:
                return masker.apply(pixels, self._processed_baseline(prep, base), m.to(self.device))

            err = self._check_error(prep, composite)
            if err <= PIXEL_SPACE_TOLERANCE:
                prep.path, prep.check_error = "pixel_space_composite", err
                return
            reasons.append(f"compositing under a resized mask differs at mask edges by {err:.2f} 8-bit levels")
        prep.fallback = "; ".join(reasons) or "no processed-space geometry for this processor"
        if slow_here:
            return  # a speed choice between two exact paths, not a missing geometry: recorded, not warned
        warnings.warn(
            f"{self.name}: masking falls back to mask-then-process (one processor call per masked image, "
            f"slower): {prep.fallback}",
            RuntimeWarning,
            stacklevel=4,
        )

    def _composite_geometry(self, prep: _Prepared) -> PixelSpaceMasker | None:
        pixels = prep.enc.get("pixel_values")
        if pixels is None or pixels.ndim != 4 or pixels.shape[0] != 1:
            return None
        masker = PixelSpaceMasker.for_processor(getattr(self.processor, "image_processor", None), *prep.image.shape[:2])
        return masker if masker is not None and tuple(pixels.shape[-2:]) == masker.shape else None

    def _check_error(self, prep: _Prepared, masked: Any) -> float:
        """Largest |difference| (8-bit levels) between ``masked(masks, baseline_name)`` and mask-then-process.

        Taken over every processed pixel, so the mask edges (a hard-edged block and a soft-edged disc) are in it.
        """
        h, w = prep.image.shape[:2]
        masks = check_masks_for(h, w)
        worst = 0.0
        for name in ("black", "blur"):
            base = baseline_image(name, prep.image)
            expected = self._process(list(mask_images(prep.image, masks, base)), [prep.text] * len(masks))
            got = masked(masks, name)
            diff = (got.float().to(self.device) - expected["pixel_values"].float()).abs().max().item()
            worst = max(worst, diff)
        return worst / one_level(getattr(self.processor, "image_processor", None))

    def _pixel_space_inputs(self, prep: _Prepared, masks: torch.Tensor, baseline: Any) -> dict[str, torch.Tensor]:
        """Image inputs of the masked images built in processed space (``prep.path`` must be set)."""
        b = masks.shape[0]
        if prep.replay is not None:
            pixels = prep.replay.apply(masks, baseline_image(baseline, prep.image))
        else:
            assert prep.masker is not None  # noqa: S101 - set together with prep.path
            base = self._processed_baseline(prep, baseline)
            pixels = prep.masker.apply(prep.enc["pixel_values"], base, masks.to(self.device))
        return {"pixel_values": pixels.to(prep.enc["pixel_values"].dtype), **tile_image_inputs(prep.enc, b, _PIXELS)}

    def _processed_baseline(self, prep: _Prepared, baseline: Any) -> torch.Tensor:
        key = baseline_key(baseline)
        if key is not None and key in prep.baselines:
            return prep.baselines[key]
        base = baseline_image(baseline, prep.image).round().clip(0, 255).astype(np.uint8)
        pixels = self._process([base], [prep.text])["pixel_values"]
        if key is not None:
            prep.baselines[key] = pixels
        return pixels

    def _check_prompt(self, prompt: Any) -> str:
        check_text(prompt, "prompt", allow_empty=True)
        if not prompt.strip():
            raise ValueError("prompt: got an empty prompt; ask the model something, e.g. 'Describe the image.'")
        return prompt

    @property
    def context_length(self) -> int | None:
        """The decoder's context in tokens (``max_position_embeddings``), or None when the config has none."""
        config = self.model.config
        for cfg in (getattr(config, "text_config", None), config):
            value = getattr(cfg, "max_position_embeddings", None)
            if isinstance(value, int) and value > 0:
                return value
        return None

    def _check_length(self, n_input: int, n_target: int, name: str) -> None:
        """Refuse a sequence longer than the decoder's context (before, such a prompt gave an empty generation).

        Teacher forcing feeds the input and all target tokens but the last: ``n_input + n_target - 1`` tokens
        (generation needs ``n_input``).
        """
        context = self.context_length
        n = n_input + max(0, n_target - 1)
        if context is None or n <= context:
            return
        if name == "prompt":
            raise ValueError(
                f"prompt: too long for {self.name}: the model input is {n_input} tokens (chat template and image "
                f"tokens included), longer than the model's context of {context} tokens; shorten the prompt"
            )
        raise ValueError(
            f"{name}: too long for {self.name}: {n_input} input tokens + {n_target} target tokens need {n} "
            f"positions, more than the model's context of {context} tokens; shorten the {name} or the prompt"
        )

    def _display(self, ids: Sequence[int]) -> tuple[str, ...]:
        with self._lock:  # a fast tokenizer refuses a read while another thread's padded call holds it
            return tuple(self.tokenizer.decode([int(i)]) for i in ids)

    def _prompt_tokens(self, input_ids: torch.Tensor) -> tuple[str, ...]:
        out: list[str] = []
        prev_image = False
        with self._lock:
            for i in input_ids.tolist():
                is_image = i == self.image_token_id
                if is_image and not prev_image:
                    out.append("<image>")
                elif not is_image:
                    out.append(self.tokenizer.decode([i]))
                prev_image = is_image
        return tuple(out)

    def _geometry(self, prep: _Prepared, input_ids: torch.Tensor) -> dict[str, Any]:
        pixels = prep.enc.get("pixel_values")
        n_image = int((input_ids == self.image_token_id).sum())
        geometry: dict[str, Any] = {
            "image_height": int(prep.image.shape[0]),
            "image_width": int(prep.image.shape[1]),
            "n_image_tokens": n_image,
            "pixel_values_shape": list(pixels.shape) if pixels is not None else [],
            "pixel_space_masking": bool(prep.path),
            "masking_path": prep.path or "mask_then_process",
            "chat_template": prep.template,
            # the path masked forwards take (models.fast_forward); "plain" when switched off or dropped by its check
            "forward_path": prep.forward.path if prep.forward is not None and prep.forward.active and self.fast_forward
            else "plain",
        }
        if prep.check_error is not None:
            geometry["masking_check_levels"] = round(prep.check_error, 6)
        if prep.fallback:
            geometry["masking_fallback"] = prep.fallback
        if prep.masker is not None:
            geometry["height"], geometry["width"] = prep.masker.shape
        vision = getattr(self.model.config, "vision_config", None)
        patch = getattr(vision, "patch_size", None)
        if patch:
            geometry["patch"] = int(patch)
        if prep.masker is not None and patch and n_image:
            gh, gw = prep.masker.shape[0] // patch, prep.masker.shape[1] // patch
            if gh * gw == n_image:
                geometry["grid"] = [gh, gw]
        if "image_grid_thw" in prep.enc:
            t, gh, gw = (int(v) for v in prep.enc["image_grid_thw"][0])
            merge = getattr(vision, "spatial_merge_size", 1) or 1
            geometry["grid"] = [gh // merge, gw // merge]
        return geometry
