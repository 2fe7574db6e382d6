"""Teacher-forced scoring for the transformers adapter: masked images and prompt variants.

Follows the papers' oracle (cached full sequence, teacher forcing, softmax at ``t - 1``) but batches every
masked image of a call into as few forwards as memory allows, keeps logits only at the target positions and
cuts the sequence after the last target.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from xattr_lab.models import fast_forward
from xattr_lab.models.checks import check_generation, check_text
from xattr_lab.models.hf_inputs import TEXT_KEYS, InputsMixin, _Prepared, tile_image_inputs
from xattr_lab.models.masking import baseline_image, check_masks, mask_images
from xattr_lab.models.positions import check_positions
from xattr_lab.models.processed_masks import check_masks_for
from xattr_lab.models.protocol import Generation


class ScoringMixin(InputsMixin):
    """``score`` and ``score_text``, and the teacher-forced forward they share."""

    def _positions(self, gen: Generation, positions: Sequence[int] | None) -> list[int]:
        check_generation(gen)
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
        # one forward at a time per model: a white-box hook of another thread must never see this forward,
        # and some models keep per-forward state on the module (Qwen2-VL's rope_deltas)
        with self._lock:
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
        if use_pixel_space and prep.path:
            return self._pixel_space_inputs(prep, masks, baseline)
        images = mask_images(prep.image, masks, baseline_image(baseline, prep.image))
        enc = self._process(list(images), [prep.text] * b)
        return {k: v for k, v in enc.items() if k not in TEXT_KEYS}

    def _fast_inputs(self, prep: _Prepared, inputs: dict[str, torch.Tensor], use_px: bool) -> dict[str, Any]:
        """``inputs`` with the work every masked image shares passed in precomputed (``models.fast_forward``)."""
        fast = prep.forward
        if fast is None or not self.fast_forward or not fast.active:
            return inputs

        def unmasked() -> dict[str, torch.Tensor]:
            return self._image_inputs(prep, torch.ones(1, *prep.image.shape[:2]), "black", use_px)

        # under the lock: the state is shared by threads, and the tile path runs the vision encoder (a forward)
        with self._lock:
            if not fast.checked:  # once per prepared image: two masked images through both forwards
                masks = check_masks_for(*prep.image.shape[:2])
                probe = {k: v.expand(len(masks), -1) for k, v in prep.enc.items() if k in TEXT_KEYS}
                probe.update(self._image_inputs(prep, masks, "black", use_px))
                fast_forward.check(fast, lambda x: self.model(**x, use_cache=False).logits, probe, self.name,
                                   unmasked, use_px)  # fmt: skip
            return fast.inputs(inputs, unmasked, use_px)

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
        pos = self._positions(gen, positions)  # checks gen first
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
                inputs = self._fast_inputs(prep, inputs, use_px)
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
        check_generation(gen)
        if isinstance(variants, str) or not all(isinstance(v, str) for v in variants):
            raise TypeError("variants: expected a list of prompt strings")
        for i, v in enumerate(variants):
            check_text(v, f"variants[{i}]", allow_empty=True)
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
            for i, v in enumerate(valid):
                self._check_length(int(v.sum()), last + 1, f"variants[{start + i}]")
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
            inputs.update(tile_image_inputs(image_inputs, b))
            with torch.no_grad():
                probs = self._forward_probs(inputs, keep, targets.expand(b, -1))
            return probs.cpu()

        return self._batch.run(len(variants), run)
