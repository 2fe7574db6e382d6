"""The generic transformers adapter: any image-text-to-text model + processor as a ScoringModel.

Works with the LLaVA (1.5, NeXT), Qwen2-VL / Qwen2.5-VL and Idefics3 / SmolVLM families, and with the
built-in ShapesVLM. Image tokens are found from the config / processor (``image_token_id`` or
``image_token_index``), never hard-coded.

The adapter is assembled from one module per concern:

* ``hf_chat`` — the chat template (processor, else tokenizer config) and prompts already templated;
* ``hf_inputs`` — processor calls, the per-(image, prompt) cache, geometry;
* ``hf_generation`` — ``generate`` and ``with_target``;
* ``hf_scoring`` — teacher-forced ``score`` / ``score_text`` (batched, logits only at the targets);
* ``hf_whitebox`` — processed pixels, image features, hidden states, the logit lens.
"""

from __future__ import annotations

import inspect
import threading
from collections import OrderedDict
from typing import Any

from xattr_lab.models.batching import AutoBatch
from xattr_lab.models.checks import check_batch_size, check_processor
from xattr_lab.models.hf_generation import GenerateMixin
from xattr_lab.models.hf_inputs import PIXEL_SPACE_TOLERANCE, TEXT_KEYS, _Prepared, find_image_token_id
from xattr_lab.models.hf_whitebox import WhiteBoxMixin

__all__ = ["PIXEL_SPACE_TOLERANCE", "TEXT_KEYS", "HFScoringModel", "_Prepared", "find_image_token_id"]


class HFScoringModel(GenerateMixin, WhiteBoxMixin):
    """A transformers image-text-to-text model and its processor behind the ScoringModel protocol.

    Args:
        model: a loaded ``*ForConditionalGeneration`` / ``AutoModelForImageTextToText`` model.
        processor: its processor (image processor + tokenizer, ideally with a chat template).
        name: a short model name for provenance.
        batch_size: the largest number of masked images per forward (halved on out-of-memory);
            None picks 64 on CPU and 256 on accelerators.
        pixel_space: allow masking in the processed pixel tensor when the processor's geometry allows.

    Attributes:
        n_forward: forward passes made so far.
        name: the model name.
        capabilities: ``{"scores", "text", "gradients", "hidden_states"}``.

    Thread safety: one model may serve several threads. Forwards run one at a time under :attr:`lock` (the
    white-box hooks sit on shared modules, and some models keep per-forward state on them); preparing
    inputs and bookkeeping take the same lock.
    """

    capabilities: frozenset[str] = frozenset({"scores", "text", "gradients", "hidden_states"})

    def __init__(
        self,
        model: Any,
        processor: Any,
        name: str = "",
        batch_size: int | None = None,
        pixel_space: bool = True,
    ) -> None:
        batch_size = check_batch_size(batch_size)
        if not isinstance(pixel_space, bool):
            raise TypeError(f"pixel_space: expected True or False, got {pixel_space!r}")
        self.model = model.eval()
        self.processor = check_processor(processor)
        self.tokenizer = getattr(processor, "tokenizer", processor)
        self.name = name or getattr(model.config, "_name_or_path", "") or type(model).__name__
        self.image_token_id = find_image_token_id(model.config, processor)
        self.device = next(model.parameters()).device
        self.n_forward = 0
        self.pixel_space = pixel_space
        self._batch = AutoBatch(batch_size or (64 if self.device.type == "cpu" else 256))
        self._cache: OrderedDict[str, _Prepared] = OrderedDict()
        # one lock per model: white-box hooks, the cache and the forward counter are shared by threads
        self._lock = threading.RLock()
        params = inspect.signature(model.forward).parameters
        self._logits_to_keep = "logits_to_keep" in params
        eos = getattr(model.generation_config, "eos_token_id", None) or self.tokenizer.eos_token_id
        self._stop_ids = set(eos if isinstance(eos, list) else [eos]) - {None}
        pad = getattr(self.tokenizer, "pad_token_id", None)
        self._pad_id = pad if pad is not None else 0

    def __repr__(self) -> str:
        return f"HFScoringModel({self.name!r}, device={self.device.type}, n_forward={self.n_forward})"

    def provenance(self, gen: Any = None) -> dict[str, Any]:
        """What an explanation of this model records about how its inputs were built.

        Args:
            gen: a Generation of this model; adds the masking path and the chat template it used.

        Returns:
            ``family`` (the config's ``model_type``), ``processor`` and ``image_processor`` (class names),
            and with ``gen``: ``masking`` (``"pixel_space"``: masked images built in the processed pixels;
            ``"mask_then_process"``: each masked image re-run through the processor), ``masking_path``
            (``"processed_replay"``, ``"pixel_space_composite"`` or ``"mask_then_process"``, with
            ``masking_fallback`` saying why) and ``chat_template``
            (``"processor"``, ``"tokenizer"``, ``"prompt"`` when passed through, ``"none"``: see
            :mod:`xattr_lab.models.hf_chat`) and ``forward_path`` (``"plain"``,
            ``"qwen_precomputed_positions"`` or ``"tile_feature_cache"``: see :mod:`xattr_lab.models.fast_forward`).
        """
        ip = getattr(self.processor, "image_processor", None)
        out: dict[str, Any] = {
            "family": str(getattr(self.model.config, "model_type", "") or type(self.model).__name__),
            "processor": type(self.processor).__qualname__,
            "image_processor": type(ip).__qualname__ if ip is not None else None,
        }
        geometry = getattr(gen, "geometry", None) or {}
        if "pixel_space_masking" in geometry:
            out["masking"] = "pixel_space" if geometry["pixel_space_masking"] else "mask_then_process"
            if "masking_path" in geometry:  # which pixel-space method (processed_masks), or why it fell back
                out["masking_path"] = geometry["masking_path"]
                if geometry.get("masking_fallback"):
                    out["masking_fallback"] = geometry["masking_fallback"]
        if geometry.get("chat_template"):
            out["chat_template"] = geometry["chat_template"]
        if geometry.get("forward_path"):  # shared work passed into masked forwards (models.fast_forward)
            out["forward_path"] = geometry["forward_path"]
        return out

    @property
    def lock(self) -> threading.RLock:
        """The model's re-entrant lock: every forward, processor call and white-box hook of the adapter holds it.

        Code that installs its own hooks on ``model`` (Captum's layer methods) holds it from installation to
        removal, so that forwards of other threads neither pass through those hooks nor race them.
        """
        return self._lock

    @property
    def batch_size(self) -> int:
        """The current largest batch per forward (shrinks after out-of-memory)."""
        return self._batch.size

    @batch_size.setter
    def batch_size(self, value: int) -> None:
        self._batch = AutoBatch(check_batch_size(value, allow_none=False))
