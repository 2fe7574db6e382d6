"""Preparing inputs for the transformers adapter: chat text, processor calls, the per-(image, prompt) cache.

Everything here runs before a forward: the chat template, the processor, the pixel-space masker and its
one-off check, processed baselines and the geometry recorded in a Generation.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from xattr_lab.models.batching import AutoBatch
from xattr_lab.models.checks import check_text
from xattr_lab.models.hf_chat import ChatText, chat_text
from xattr_lab.models.images import to_pil
from xattr_lab.models.masking import PixelSpaceMasker, baseline_image, baseline_key, mask_images

# processor outputs that belong to the text; everything else describes the image
TEXT_KEYS = frozenset({"input_ids", "attention_mask", "token_type_ids", "mm_token_type_ids"})
# tolerance (processed, normalised units) of the one-off check that pixel-space masking matches
# mask-then-process; resampling at mask edges stays far below it, a wrong geometry far above
PIXEL_SPACE_TOLERANCE = 0.05


@dataclass
class _Prepared:
    """Everything about one (image, prompt) pair that masked scoring reuses."""

    image: np.ndarray
    text: str
    enc: dict[str, torch.Tensor]
    masker: PixelSpaceMasker | None = None
    template: str = ""  # where the chat template came from (hf_chat.SOURCES)
    baselines: dict[Any, torch.Tensor] = field(default_factory=dict)


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
            if self.pixel_space:
                prep.masker = self._pixel_space_masker(prep)
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

    def _pixel_space_masker(self, prep: _Prepared) -> PixelSpaceMasker | None:
        pixels = prep.enc.get("pixel_values")
        if pixels is None or pixels.ndim != 4 or pixels.shape[0] != 1:
            return None
        ip = getattr(self.processor, "image_processor", None)
        masker = PixelSpaceMasker.for_processor(ip, *prep.image.shape[:2])
        if masker is None or tuple(pixels.shape[-2:]) != masker.shape:
            return None
        # verify once on a block mask that compositing in processed space matches mask-then-process
        h, w = prep.image.shape[:2]
        mask = torch.ones(1, h, w)
        mask[:, h // 4 : h // 2, w // 3 : (2 * w) // 3] = 0
        base = baseline_image("black", prep.image)
        expected = self._process(mask_images(prep.image, mask, base), [prep.text])["pixel_values"]
        got = masker.apply(pixels, self._processed_baseline(prep, "black"), mask)
        if (got.float() - expected.float()).abs().mean().item() > PIXEL_SPACE_TOLERANCE:
            return None
        return masker

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
            "pixel_space_masking": prep.masker is not None,
            "chat_template": prep.template,
        }
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
