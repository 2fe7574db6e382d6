"""The generic transformers adapter: any image-text-to-text model + processor as a ScoringModel.

Works with the LLaVA (1.5, NeXT), Qwen2-VL / Qwen2.5-VL and Idefics3 / SmolVLM families, and with the
built-in ShapesVLM. Image tokens are found from the config / processor (``image_token_id`` or
``image_token_index``), never hard-coded.

Scoring follows the papers' oracle (cached full sequence, teacher forcing, softmax at ``t - 1``) but batches
every masked image of a call into as few forwards as memory allows, keeps logits only at the target
positions and cuts the sequence after the last target.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from xattr_lab.models.batching import AutoBatch
from xattr_lab.models.images import as_rgb_array, to_pil
from xattr_lab.models.masking import (
    PixelSpaceMasker,
    baseline_image,
    baseline_key,
    check_masks,
    mask_images,
)
from xattr_lab.models.positions import check_positions
from xattr_lab.models.protocol import Generation

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


class HFScoringModel:
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
        self.model = model.eval()
        self.processor = processor
        self.tokenizer = getattr(processor, "tokenizer", processor)
        self.name = name or getattr(model.config, "_name_or_path", "") or type(model).__name__
        self.image_token_id = find_image_token_id(model.config, processor)
        self.device = next(model.parameters()).device
        self.n_forward = 0
        self.pixel_space = pixel_space
        self._batch = AutoBatch(batch_size or (64 if self.device.type == "cpu" else 256))
        self._cache: OrderedDict[str, _Prepared] = OrderedDict()
        params = inspect.signature(model.forward).parameters
        self._logits_to_keep = "logits_to_keep" in params
        eos = getattr(model.generation_config, "eos_token_id", None) or self.tokenizer.eos_token_id
        self._stop_ids = set(eos if isinstance(eos, list) else [eos]) - {None}
        pad = getattr(self.tokenizer, "pad_token_id", None)
        self._pad_id = pad if pad is not None else 0

    def __repr__(self) -> str:
        return f"HFScoringModel({self.name!r}, device={self.device.type}, n_forward={self.n_forward})"

    # ----------------------------------------------------------------------------------------------
    # preparing inputs
    @property
    def batch_size(self) -> int:
        """The current largest batch per forward (shrinks after out-of-memory)."""
        return self._batch.size

    @batch_size.setter
    def batch_size(self, value: int) -> None:
        self._batch = AutoBatch(int(value))

    def chat_text(self, prompt: str) -> str:
        """The model-ready text for ``prompt``: its chat template with one image, or image token + prompt."""
        if getattr(self.processor, "chat_template", None):
            messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}]
            return self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        token = getattr(self.processor, "image_token", None) or self.tokenizer.convert_ids_to_tokens(
            self.image_token_id
        )
        return f"{token}\n{prompt}"

    def _process(
        self, images: Sequence[np.ndarray], texts: Sequence[str], padding: bool = False
    ) -> dict[str, torch.Tensor]:
        # nested [[image], ...]: one image per sample, the layout every multimodal processor accepts
        enc = self.processor(
            images=[[to_pil(im)] for im in images], text=list(texts), return_tensors="pt", padding=padding
        )
        return {k: v.to(self.device) for k, v in enc.items() if isinstance(v, torch.Tensor)}

    def _prepare(self, image: np.ndarray, prompt: str) -> _Prepared:
        key = hashlib.sha1(image.tobytes() + str(image.shape).encode() + prompt.encode()).hexdigest()
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        text = self.chat_text(prompt)
        enc = self._process([image], [text])
        prep = _Prepared(image=image, text=text, enc=enc)
        if self.pixel_space:
            prep.masker = self._pixel_space_masker(prep)
        self._cache[key] = prep
        while len(self._cache) > 8:
            self._cache.popitem(last=False)
        return prep

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
        if not isinstance(prompt, str):
            raise TypeError(f"prompt: expected a str, got {type(prompt).__name__}")
        if not prompt.strip():
            raise ValueError("prompt: got an empty prompt; ask the model something, e.g. 'Describe the image.'")
        return prompt

    def _display(self, ids: Sequence[int]) -> tuple[str, ...]:
        return tuple(self.tokenizer.decode([int(i)]) for i in ids)

    def _prompt_tokens(self, input_ids: torch.Tensor) -> tuple[str, ...]:
        out: list[str] = []
        prev_image = False
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

    # ----------------------------------------------------------------------------------------------
    # generation
    def generate(self, image: Any, prompt: str, max_new_tokens: int = 16) -> Generation:
        """Generate greedily from ``image`` and ``prompt`` (the chat template applied when there is one).

        Args:
            image: PIL RGB image, or uint8 array / tensor [H, W, 3].
            prompt: the user prompt (not empty).
            max_new_tokens: the most tokens to generate.

        Returns:
            The Generation (end-of-sequence and padding tokens are not part of ``generated_ids``).
        """
        image = as_rgb_array(image, "image")
        prompt = self._check_prompt(prompt)
        if not isinstance(max_new_tokens, int) or max_new_tokens < 1:
            raise ValueError(f"max_new_tokens: expected a positive int, got {max_new_tokens!r}")
        prep = self._prepare(image, prompt)
        with torch.no_grad():
            out = self.model.generate(
                **prep.enc,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=self._pad_id,
                # a generated image placeholder could not be fed back for teacher forcing
                suppress_tokens=[self.image_token_id],
            )
        self.n_forward += 1  # one prefill; the decoding steps are cheap incremental passes
        input_ids = prep.enc["input_ids"][0].detach().cpu()
        new = out[0, input_ids.shape[0] :].detach().cpu().tolist()
        ids = []
        for i in new:
            if i in self._stop_ids:
                break
            ids.append(i)
        return self._generation(prep, prompt, input_ids, ids, is_target=False)

    def _generation(
        self, prep: _Prepared, prompt: str, input_ids: torch.Tensor, ids: list[int], is_target: bool
    ) -> Generation:
        where = (input_ids == self.image_token_id).nonzero().flatten()
        span = (int(where[0]), int(where[-1]) + 1) if len(where) else (0, 0)
        return Generation(
            image=prep.image,
            prompt=prompt,
            input_ids=input_ids,
            generated_ids=torch.tensor(ids, dtype=torch.long),
            prompt_tokens=self._prompt_tokens(input_ids),
            generated_tokens=self._display(ids),
            image_token_span=span,
            geometry=self._geometry(prep, input_ids),
            model_id=self.name,
            is_target=is_target,
        )

    def with_target(self, gen: Generation, target: str | list[int]) -> Generation:
        """Return ``gen`` with its generated tokens replaced by ``target`` (text or token ids).

        Args:
            gen: a Generation from this model.
            target: the text to score instead (tokenised without special tokens), or token ids.
        """
        if isinstance(target, str):
            if not target.strip():
                raise ValueError("target: got an empty string")
            ids = self.tokenizer(target, add_special_tokens=False)["input_ids"]
        elif isinstance(target, (list, tuple, torch.Tensor, np.ndarray)):
            ids = [int(i) for i in (target.tolist() if hasattr(target, "tolist") else target)]
            vocab = self.model.get_output_embeddings().weight.shape[0]
            if any(not 0 <= i < vocab for i in ids):
                raise ValueError(f"target: token ids must lie in [0, {vocab})")
        else:
            raise TypeError(f"target: expected a str or a list of token ids, got {type(target).__name__}")
        if not ids:
            raise ValueError("target: tokenises to no tokens")
        if self.image_token_id in ids:
            raise ValueError("target: contains the image placeholder token, which cannot be scored")
        return dataclasses.replace(
            gen,
            generated_ids=torch.tensor(ids, dtype=torch.long),
            generated_tokens=self._display(ids),
            is_target=True,
        )

    # ----------------------------------------------------------------------------------------------
    # scoring
    def _positions(self, gen: Generation, positions: Sequence[int] | None) -> list[int]:
        t = gen.n_generated
        if t == 0:
            raise ValueError("gen: the generation has no tokens to score; use with_target(gen, text)")
        return check_positions(positions, t, "tokens")

    def _sequence(self, prep: _Prepared, gen: Generation, last: int) -> dict[str, torch.Tensor]:
        """Text inputs for teacher forcing up to (not including) generated token ``last``."""
        enc = prep.enc
        n_in = enc["input_ids"].shape[1]
        if not torch.equal(enc["input_ids"][0].cpu(), gen.input_ids.cpu()):
            raise ValueError("gen: its input_ids do not match this model's processing of its image and prompt")
        gen_ids = gen.generated_ids[:last].to(self.device)
        out = {"input_ids": torch.cat([enc["input_ids"][0], gen_ids])[None]}
        out["attention_mask"] = torch.ones_like(out["input_ids"])
        for key in ("token_type_ids", "mm_token_type_ids"):
            if key in enc:
                out[key] = torch.cat([enc[key][0], torch.zeros_like(gen_ids)])[None]
        assert out["input_ids"].shape[1] == n_in + last  # noqa: S101 - internal invariant
        return out

    def _forward_probs(
        self, inputs: dict[str, torch.Tensor], keep: torch.Tensor, targets: torch.Tensor
    ) -> torch.Tensor:
        """Probabilities of ``targets`` [B, K] read at positions ``keep`` [B, K] (logits at t - 1)."""
        self.n_forward += 1
        if self._logits_to_keep:
            logits = self.model(**inputs, logits_to_keep=keep, use_cache=False).logits
        else:
            logits = self.model(**inputs, use_cache=False).logits
            logits = torch.take_along_dim(logits, keep[..., None], dim=1)
        logp = torch.log_softmax(logits.float(), dim=-1)
        return logp.gather(-1, targets[..., None]).squeeze(-1).exp()

    def _image_inputs(
        self, prep: _Prepared, masks: torch.Tensor, baseline: Any, use_pixel_space: bool
    ) -> dict[str, torch.Tensor]:
        b = masks.shape[0]
        if use_pixel_space and prep.masker is not None:
            pixels = prep.enc["pixel_values"]
            base = self._processed_baseline(prep, baseline)
            out = {"pixel_values": prep.masker.apply(pixels, base, masks.to(self.device))}
            for k, v in prep.enc.items():
                if k not in TEXT_KEYS and k != "pixel_values":
                    out[k] = v.repeat(b, *[1] * (v.ndim - 1))
            return out
        images = mask_images(prep.image, masks, baseline_image(baseline, prep.image))
        enc = self._process(list(images), [prep.text] * b)
        return {k: v for k, v in enc.items() if k not in TEXT_KEYS}

    def score(
        self,
        gen: Generation,
        masks: torch.Tensor | np.ndarray,
        positions: list[int] | None = None,
        baseline: str | float = "black",
        pixel_space: bool | None = None,
        tokens: Sequence[int] | None = None,
    ) -> torch.Tensor:
        """Probabilities [B, K] of the generated tokens at ``positions`` under teacher forcing, per mask.

        Args:
            gen: a Generation from this model.
            masks: [B, H, W] at the image's resolution; 1 keeps a pixel, 0 replaces it by ``baseline``
                (soft values blend).
            positions: indices into the generated tokens (all by default); K = len(positions).
            baseline: ``"black"`` (default, as EAGLE), ``"white"``, ``"gray"``, ``"mean"``, ``"blur"``, a grey
                level in [0, 1], an RGB triple or an image [H, W, 3].
            pixel_space: force (True, when available) or forbid (False) masking in processed pixel space;
                None uses the model's default.
            tokens: token ids to read instead of the generated ones, one per entry of ``positions``
                (positions may repeat): several candidates at one position come from one forward.

        Returns:
            float32 tensor [B, K] on the CPU.
        """
        if not isinstance(gen, Generation):
            raise TypeError(f"gen: expected a Generation, got {type(gen).__name__}")
        pos = self._positions(gen, positions)
        if tokens is not None:
            tokens = [int(t) for t in tokens]
            head = self.model.get_output_embeddings()
            vocab = head.weight.shape[0] if head is not None else 1 << 62
            if len(tokens) != len(pos) or not all(0 <= t < vocab for t in tokens):
                raise ValueError(f"tokens: expected {len(pos)} token ids in [0, {vocab}), got {tokens!r}")
        h, w = gen.image.shape[:2]
        masks = check_masks(masks, h, w)
        baseline_image(baseline, gen.image)  # validate early, before any forward
        prep = self._prepare(gen.image, gen.prompt)
        last = max(pos)
        seq = self._sequence(prep, gen, last)
        n_in = gen.input_ids.shape[0]
        keep = torch.tensor([n_in + p - 1 for p in pos], device=self.device)
        targets = (gen.generated_ids[pos] if tokens is None else torch.tensor(tokens)).to(self.device)
        use_px = self.pixel_space if pixel_space is None else pixel_space

        def run(start: int, stop: int) -> torch.Tensor:
            b = stop - start
            inputs = {k: v.expand(b, -1) for k, v in seq.items()}
            inputs.update(self._image_inputs(prep, masks[start:stop], baseline, use_px))
            with torch.no_grad():
                probs = self._forward_probs(inputs, keep.expand(b, -1), targets.expand(b, -1))
            return probs.cpu()

        return self._batch.run(masks.shape[0], run)

    def score_text(self, gen: Generation, variants: list[str], positions: list[int] | None = None) -> torch.Tensor:
        """Probabilities [B, K] of the generated tokens when the prompt is replaced by each variant.

        The image is unchanged; each variant goes through the chat template like the original prompt.
        Variants of different lengths are right-padded and read at their own positions, one forward per
        batch.

        Args:
            gen: a Generation from this model.
            variants: prompt texts (segments dropped or replaced); an empty string keeps only the image.
            positions: indices into the generated tokens (all by default).
        """
        if not isinstance(gen, Generation):
            raise TypeError(f"gen: expected a Generation, got {type(gen).__name__}")
        if isinstance(variants, str) or not all(isinstance(v, str) for v in variants):
            raise TypeError("variants: expected a list of prompt strings")
        if not variants:
            raise ValueError("variants: got an empty list")
        pos = self._positions(gen, positions)
        prep = self._prepare(gen.image, gen.prompt)
        last = max(pos)
        gen_ids = gen.generated_ids[:last].tolist()
        targets = gen.generated_ids[pos].to(self.device)
        image_inputs = {k: v for k, v in prep.enc.items() if k not in TEXT_KEYS}

        def run(start: int, stop: int) -> torch.Tensor:
            chunk = variants[start:stop]
            b = len(chunk)
            enc = self._process([prep.image] * b, [self.chat_text(v) for v in chunk], padding=True)
            valid = enc["attention_mask"].bool()
            lengths = [int(v.sum()) + len(gen_ids) for v in valid]
            width = max(lengths)
            inputs = {"input_ids": torch.full((b, width), self._pad_id, device=self.device)}
            inputs["attention_mask"] = torch.zeros_like(inputs["input_ids"])
            type_keys = [k for k in ("token_type_ids", "mm_token_type_ids") if k in enc]
            for k in type_keys:
                inputs[k] = torch.zeros_like(inputs["input_ids"])
            keep = torch.zeros((b, len(pos)), dtype=torch.long, device=self.device)
            tail = torch.tensor(gen_ids, dtype=torch.long, device=self.device)
            for i in range(b):
                # right-padded rows: prompt tokens, then the generated prefix, then padding
                n_in = int(valid[i].sum())
                inputs["input_ids"][i, :n_in] = enc["input_ids"][i][valid[i]]
                inputs["input_ids"][i, n_in : lengths[i]] = tail
                inputs["attention_mask"][i, : lengths[i]] = 1
                for k in type_keys:
                    inputs[k][i, :n_in] = enc[k][i][valid[i]]
                keep[i] = torch.tensor([n_in + p - 1 for p in pos], device=self.device)
            inputs.update({k: v.repeat(b, *[1] * (v.ndim - 1)) for k, v in image_inputs.items()})
            with torch.no_grad():
                probs = self._forward_probs(inputs, keep, targets.expand(b, -1))
            return probs.cpu()

        return self._batch.run(len(variants), run)

    # ----------------------------------------------------------------------------------------------
    # white-box access
    def _full_inputs(self, gen: Generation) -> tuple[_Prepared, dict[str, torch.Tensor]]:
        prep = self._prepare(gen.image, gen.prompt)
        seq = self._sequence(prep, gen, gen.n_generated)
        seq.update({k: v for k, v in prep.enc.items() if k not in TEXT_KEYS})
        return prep, seq

    def processed_pixels(self, gen: Generation, baseline: Any = None) -> torch.Tensor:
        """The processed pixel tensor of ``gen``'s image (or of ``baseline``), as the model sees it."""
        prep = self._prepare(gen.image, gen.prompt)
        if baseline is None:
            return prep.enc["pixel_values"].clone()
        return self._processed_baseline(prep, baseline).clone()

    def pixel_forward(
        self, gen: Generation, pixel_values: torch.Tensor, positions: list[int] | None = None
    ) -> torch.Tensor:
        """Differentiable probabilities [B, K] of the generated tokens from processed pixels.

        For gradient methods (Captum IntegratedGradients, Saliency, ...): ``pixel_values`` has the layout
        of :meth:`processed_pixels`, with B images stacked along dim 0 (for Qwen2-VL's flattened patches,
        B blocks of rows).
        """
        pos = self._positions(gen, positions)
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
        for k, v in prep.enc.items():
            if k not in TEXT_KEYS and k != "pixel_values":
                inputs[k] = v.repeat(b, *[1] * (v.ndim - 1))
        inputs["pixel_values"] = pixel_values.to(self.device, ref.dtype)
        n_in = gen.input_ids.shape[0]
        keep = torch.tensor([n_in + p - 1 for p in pos], device=self.device).expand(b, -1)
        targets = gen.generated_ids[pos].to(self.device).expand(b, -1)
        return self._forward_probs(inputs, keep, targets)

    @contextmanager
    def _capture_embeds(self, replace: torch.Tensor | None = None) -> Iterator[dict[str, torch.Tensor]]:
        """Capture (or replace at image positions) the language model's ``inputs_embeds``."""
        lm = self.language_model
        store: dict[str, torch.Tensor] = {}

        def hook(module: Any, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
            embeds = kwargs.get("inputs_embeds")
            if embeds is None:
                return args, kwargs
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
        with self._capture_embeds() as store, torch.no_grad():
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
        if features.ndim == 2:
            features = features[None]
        if features.ndim != 3 or features.shape[1] != len(where):
            raise ValueError(f"features: expected shape [B, {len(where)}, D], got {tuple(features.shape)}")
        b = features.shape[0]
        inputs = {k: v.expand(b, -1) for k, v in seq.items()}
        inputs.update({k: v.repeat(b, *[1] * (v.ndim - 1)) for k, v in prep.enc.items() if k not in TEXT_KEYS})
        n_in = gen.input_ids.shape[0]
        keep = torch.tensor([n_in + p - 1 for p in pos], device=self.device).expand(b, -1)
        targets = gen.generated_ids[pos].to(self.device).expand(b, -1)
        with self._capture_embeds(replace=features.to(self.device)) as store:
            store["image_positions"] = where
            return self._forward_probs(inputs, keep, targets)

    def hidden_states(self, gen: Generation) -> tuple[torch.Tensor, ...]:
        """Hidden states of the decoder over the teacher-forced sequence: [L, D] per layer, embeddings first."""
        _, inputs = self._full_inputs(gen)
        with torch.no_grad():
            out = self.model(**inputs, output_hidden_states=True, logits_to_keep=1, use_cache=False)
        self.n_forward += 1
        return tuple(h[0].detach() for h in out.hidden_states)

    def image_hidden_states(self, gen: Generation, layer: int = -1) -> torch.Tensor:
        """Hidden states [N_img, D] at the image tokens after decoder layer ``layer``."""
        states = self.hidden_states(gen)
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
