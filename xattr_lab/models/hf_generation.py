"""Greedy generation and target replacement for the transformers adapter."""

from __future__ import annotations

import dataclasses
import numbers
from typing import Any

import numpy as np
import torch

from xattr_lab.models.checks import check_generation, check_text
from xattr_lab.models.hf_inputs import InputsMixin, _Prepared
from xattr_lab.models.images import as_rgb_array
from xattr_lab.models.protocol import Generation


class GenerateMixin(InputsMixin):
    """``generate`` and ``with_target``: the Generation a method explains."""

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
        if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 1:
            raise ValueError(f"max_new_tokens: expected a positive int, got {max_new_tokens!r}")
        prep = self._prepare(image, prompt)
        self._check_length(prep.enc["input_ids"].shape[1], 0, "prompt")
        with self._lock, torch.no_grad():  # one forward at a time per model (see ScoringMixin._forward_probs)
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
        check_generation(gen)
        if isinstance(target, str):
            check_text(target, "target")
            with self._lock:  # the tokenizer's state is shared by threads
                ids = self.tokenizer(target, add_special_tokens=False)["input_ids"]
        elif isinstance(target, (list, tuple, torch.Tensor, np.ndarray)):
            items = target.tolist() if hasattr(target, "tolist") else list(target)
            if any(isinstance(i, bool) or not isinstance(i, numbers.Integral) for i in items):
                raise TypeError(f"target: expected token ids (ints), got {items!r}")
            ids = [int(i) for i in items]
            vocab = self.model.get_output_embeddings().weight.shape[0]
            if any(not 0 <= i < vocab for i in ids):
                raise ValueError(f"target: token ids must lie in [0, {vocab})")
        else:
            raise TypeError(f"target: expected a str or a list of token ids, got {type(target).__name__}")
        if not ids:
            raise ValueError("target: tokenises to no tokens")
        self._check_length(gen.input_ids.shape[0], len(ids), "target")
        if self.image_token_id in ids:
            raise ValueError("target: contains the image placeholder token, which cannot be scored")
        return dataclasses.replace(
            gen,
            generated_ids=torch.tensor(ids, dtype=torch.long),
            generated_tokens=self._display(ids),
            is_target=True,
        )
