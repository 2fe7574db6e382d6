"""White-box access for the transformers adapter: processed pixels, image features, hidden states.

Gradient methods differentiate ``pixel_forward`` or ``score_features``; TAM-style maps read ``logit_lens``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch

from xattr_lab.models.checks import check_generation
from xattr_lab.models.hf_inputs import TEXT_KEYS, _Prepared, tile_image_inputs
from xattr_lab.models.hf_scoring import ScoringMixin
from xattr_lab.models.pixel_geometry import PixelGeometry, geometry_for
from xattr_lab.models.protocol import Generation


class WhiteBoxMixin(ScoringMixin):
    """Entry points that reach inside the model (``capabilities`` ``"gradients"`` and ``"hidden_states"``)."""

    def _full_inputs(self, gen: Generation) -> tuple[_Prepared, dict[str, torch.Tensor]]:
        check_generation(gen)
        prep = self._prepare(gen.image, gen.prompt)
        seq = self._sequence(prep, gen, gen.n_generated)
        seq.update({k: v for k, v in prep.enc.items() if k not in TEXT_KEYS})
        return prep, seq

    def processed_pixels(self, gen: Generation, baseline: Any = None) -> torch.Tensor:
        """The processed pixel tensor of ``gen``'s image (or of ``baseline``), as the model sees it."""
        check_generation(gen)
        prep = self._prepare(gen.image, gen.prompt)
        if baseline is None:
            return prep.enc["pixel_values"].clone()
        return self._processed_baseline(prep, baseline).clone()

    def pixel_geometry(self, gen: Generation) -> PixelGeometry | None:
        """Where ``gen``'s processed pixels come from in its image (None for one ``[1, 3, h, w]`` image).

        Qwen's patch rows and the tiles of LLaVA-NeXT / Idefics3 map back through this (see
        :mod:`xattr_lab.models.pixel_geometry`); a single image maps back through ``to_image_map``.
        """
        check_generation(gen)
        prep = self._prepare(gen.image, gen.prompt)
        ip = getattr(self.processor, "image_processor", None)
        return geometry_for(ip, gen.image.shape[:2], prep.enc)

    def pixel_forward(
        self, gen: Generation, pixel_values: torch.Tensor, positions: list[int] | None = None
    ) -> torch.Tensor:
        """Differentiable probabilities [B, K] of the generated tokens from processed pixels.

        For gradient methods (Captum IntegratedGradients, Saliency, ...): ``pixel_values`` has the layout
        of :meth:`processed_pixels`, with B images stacked along dim 0 (for Qwen2-VL's flattened patches,
        B blocks of rows).
        """
        pos = self._positions(gen, positions)
        if not isinstance(pixel_values, torch.Tensor):
            raise TypeError(f"pixel_values: expected a torch.Tensor, got {type(pixel_values).__name__}")
        prep = self._prepare(gen.image, gen.prompt)
        ref = prep.enc["pixel_values"]
        # rows per image along dim 0: 1 for [B, 3, h, w] layouts, n_patches for Qwen's flattened patches
        rows = ref.shape[0]
        if (
            pixel_values.ndim != ref.ndim
            or tuple(pixel_values.shape[1:]) != tuple(ref.shape[1:])
            or pixel_values.shape[0] % rows
        ):
            raise ValueError(
                f"pixel_values: expected shape [B * {rows}, {', '.join(map(str, ref.shape[1:]))}] "
                "(the layout of processed_pixels)"
            )
        b = pixel_values.shape[0] // rows
        seq = self._sequence(prep, gen, max(pos))
        inputs = {k: v.expand(b, -1) for k, v in seq.items()}
        inputs.update(tile_image_inputs(prep.enc, b, frozenset({"pixel_values"})))
        inputs["pixel_values"] = pixel_values.to(self.device, ref.dtype)
        n_in = gen.input_ids.shape[0]
        keep = torch.tensor([n_in + p - 1 for p in pos], device=self.device).expand(b, -1)
        targets = gen.generated_ids[pos].to(self.device).expand(b, -1)
        return self._forward_probs(inputs, keep, targets)

    @contextmanager
    def _capture_embeds(self, replace: torch.Tensor | None = None) -> Iterator[dict[str, torch.Tensor]]:
        """Capture (or replace at image positions) the language model's ``inputs_embeds``.

        The hook lives on the shared decoder module, so it acts only on forwards of the thread that installed
        it, and callers hold ``self._lock`` from installation to removal: a forward of another thread (which
        takes the same lock) can neither pass through it nor race its (un)registration.
        """
        lm = self.language_model
        store: dict[str, torch.Tensor] = {}
        owner = threading.get_ident()

        def hook(module: Any, args: tuple, kwargs: dict) -> tuple[tuple, dict] | None:
            embeds = kwargs.get("inputs_embeds")
            if embeds is None or threading.get_ident() != owner:
                return None  # not this call's forward: leave it untouched
            if replace is not None:
                where = store["image_positions"]
                embeds = embeds.clone()
                embeds[:, where] = replace.to(embeds.dtype)
                kwargs["inputs_embeds"] = embeds
            store["inputs_embeds"] = embeds
            return args, kwargs

        handle = lm.register_forward_pre_hook(hook, with_kwargs=True)
        try:
            yield store
        finally:
            handle.remove()

    @property
    def language_model(self) -> torch.nn.Module:
        """The decoder that reads the merged text + image embeddings."""
        inner = getattr(self.model, "model", self.model)
        for attr in ("language_model", "text_model"):
            if hasattr(inner, attr):
                return getattr(inner, attr)
        raise AttributeError("model: cannot find its language model")

    def image_features(self, gen: Generation) -> torch.Tensor:
        """The image features [N_img, D] the decoder receives at the image tokens (detached, a leaf).

        Perturb or differentiate them and score with :meth:`score_features`.
        """
        prep, inputs = self._full_inputs(gen)
        where = (inputs["input_ids"][0] == self.image_token_id).nonzero().flatten()
        with self._lock, self._capture_embeds() as store, torch.no_grad():
            self.model(**inputs, logits_to_keep=1, use_cache=False)
            self.n_forward += 1
        return store["inputs_embeds"][0, where].detach().clone()

    def score_features(
        self, gen: Generation, features: torch.Tensor, positions: list[int] | None = None
    ) -> torch.Tensor:
        """Differentiable probabilities [B, K] with the image features set to ``features`` [B, N_img, D]."""
        pos = self._positions(gen, positions)
        prep = self._prepare(gen.image, gen.prompt)
        seq = self._sequence(prep, gen, max(pos))
        where = (seq["input_ids"][0] == self.image_token_id).nonzero().flatten()
        if not isinstance(features, torch.Tensor):
            raise TypeError(f"features: expected a torch.Tensor [B, {len(where)}, D], got {type(features).__name__}")
        if features.ndim == 2:
            features = features[None]
        if features.ndim != 3 or features.shape[1] != len(where):
            raise ValueError(f"features: expected shape [B, {len(where)}, D], got {tuple(features.shape)}")
        b = features.shape[0]
        inputs = {k: v.expand(b, -1) for k, v in seq.items()}
        inputs.update(tile_image_inputs(prep.enc, b))
        n_in = gen.input_ids.shape[0]
        keep = torch.tensor([n_in + p - 1 for p in pos], device=self.device).expand(b, -1)
        targets = gen.generated_ids[pos].to(self.device).expand(b, -1)
        # hook installation, forward and removal in one critical section (issue: a hook on the shared
        # decoder replaced the features of another thread's forward)
        with self._lock, self._capture_embeds(replace=features.to(self.device)) as store:
            store["image_positions"] = where
            return self._forward_probs(inputs, keep, targets)

    def hidden_states(self, gen: Generation) -> tuple[torch.Tensor, ...]:
        """Hidden states of the decoder over the teacher-forced sequence: [L, D] per layer, embeddings first."""
        _, inputs = self._full_inputs(gen)
        with self._lock, torch.no_grad():
            out = self.model(**inputs, output_hidden_states=True, logits_to_keep=1, use_cache=False)
            self.n_forward += 1
        return tuple(h[0].detach() for h in out.hidden_states)

    def image_hidden_states(self, gen: Generation, layer: int = -1) -> torch.Tensor:
        """Hidden states [N_img, D] at the image tokens after decoder layer ``layer``."""
        states = self.hidden_states(gen)
        layer = _check_layer(layer, len(states))
        full = torch.cat([gen.input_ids, gen.generated_ids]).to(states[0].device)
        return states[layer][full == self.image_token_id]

    def logit_lens(
        self,
        gen: Generation,
        layer: int = -1,
        positions: list[int] | None = None,
        tokens: str = "image",
    ) -> torch.Tensor:
        """Logit-lens logits [K, N] of each target token read out from hidden states (TAM-style maps).

        Args:
            gen: a Generation from this model.
            layer: which decoder layer's hidden states to read (after the final norm and the LM head).
            positions: target tokens (all by default).
            tokens: ``"image"`` reads at the image tokens (N = N_img); ``"all"`` at every position of the
                teacher-forced sequence (N = L).
        """
        if tokens not in ("image", "all"):
            raise ValueError(f"tokens: expected 'image' or 'all', got {tokens!r}")
        pos = self._positions(gen, positions)
        states = self.hidden_states(gen)
        layer = _check_layer(layer, len(states))
        h = states[layer]
        if tokens == "image":
            full = torch.cat([gen.input_ids, gen.generated_ids]).to(h.device)
            h = h[full == self.image_token_id]
        norm = getattr(self.language_model, "norm", None)
        with torch.no_grad():
            if norm is not None and layer not in (-1, len(states) - 1):
                h = norm(h)
            logits = self.model.get_output_embeddings()(h)
        return logits[:, gen.generated_ids[pos].to(h.device)].T.float().cpu()


def _check_layer(layer: object, n: int) -> int:
    """``layer`` as an index into ``n`` hidden states (negative from the end), or a clear error."""
    if isinstance(layer, bool) or not isinstance(layer, int):
        raise TypeError(f"layer: expected an int, got {type(layer).__name__}")
    if not -n <= layer < n:
        raise ValueError(f"layer: {layer} is outside the {n} hidden states (embeddings + decoder layers)")
    return layer
