"""Image classifiers as ScoringModels: the "tokens" are classes (for LiMA-style class attribution)."""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from xattr_lab.models.batching import AutoBatch
from xattr_lab.models.checks import check_batch_size, check_generation, check_text
from xattr_lab.models.images import as_rgb_array
from xattr_lab.models.masking import baseline_image, check_masks
from xattr_lab.models.positions import check_positions
from xattr_lab.models.protocol import Generation


class ClassifierScoringModel:
    """A torch image classifier behind the ScoringModel protocol.

    ``generate`` "generates" the top-k classes; ``score`` returns their softmax probabilities for masked
    images. Masking happens on the image before ``preprocess``.

    Args:
        module: maps a preprocessed batch to logits [B, n_classes].
        class_names: one name per output class.
        preprocess: maps float images [B, 3, H, W] in [0, 1] to the module's input (default: identity);
            must be differentiable for gradient methods.
        name: a short model name.
        batch_size: the largest batch per forward (halved on out-of-memory).

    Attributes:
        n_forward: forward passes made so far.
        capabilities: ``{"scores", "gradients"}``.
    """

    capabilities: frozenset[str] = frozenset({"scores", "gradients"})

    def __init__(
        self,
        module: torch.nn.Module,
        class_names: Sequence[str],
        preprocess: Callable[[torch.Tensor], torch.Tensor] | None = None,
        name: str = "classifier",
        batch_size: int = 64,
    ) -> None:
        if not callable(module):
            raise TypeError(f"module: expected a callable torch module, got {type(module).__name__}")
        if isinstance(class_names, str) or len(class_names) == 0:
            raise ValueError("class_names: expected a non-empty list of class names")
        self.module = module.eval() if hasattr(module, "eval") else module
        self.class_names = tuple(str(c) for c in class_names)
        self.preprocess = preprocess or (lambda x: x)
        self.name = name
        self.n_forward = 0
        self._batch = AutoBatch(check_batch_size(batch_size, allow_none=False))
        params = list(module.parameters()) if hasattr(module, "parameters") else []
        self.device = params[0].device if params else torch.device("cpu")

    def __repr__(self) -> str:
        n = len(self.class_names)
        return f"ClassifierScoringModel({self.name!r}, n_classes={n}, n_forward={self.n_forward})"

    def pixel_forward(self, gen: Generation, pixels: torch.Tensor, positions: list[int] | None = None) -> torch.Tensor:
        """Differentiable probabilities [B, K] of ``gen``'s classes from images [B, 3, H, W] in [0, 1]."""
        pos = self._positions(gen, positions)
        self.n_forward += 1
        logits = self.module(self.preprocess(pixels.to(self.device)))
        if logits.ndim != 2 or logits.shape[1] != len(self.class_names):
            raise ValueError(f"module: expected logits [B, {len(self.class_names)}], got {tuple(logits.shape)}")
        probs = torch.softmax(logits.float(), dim=-1)
        return probs[:, gen.generated_ids[pos].to(probs.device)]

    def _pixels(self, images: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255.0)

    def _positions(self, gen: Generation, positions: Sequence[int] | None) -> list[int]:
        check_generation(gen)
        return check_positions(positions, gen.n_generated, "classes")

    def _gen(self, image: np.ndarray, prompt: str, ids: list[int], is_target: bool) -> Generation:
        return Generation(
            image=image,
            prompt=prompt,
            input_ids=torch.zeros(0, dtype=torch.long),
            generated_ids=torch.tensor(ids, dtype=torch.long),
            prompt_tokens=(),
            generated_tokens=tuple(self.class_names[i] for i in ids),
            image_token_span=(0, 0),
            geometry={"image_height": int(image.shape[0]), "image_width": int(image.shape[1])},
            model_id=self.name,
            is_target=is_target,
        )

    def generate(self, image: Any, prompt: str = "", max_new_tokens: int = 1) -> Generation:
        """The top-``max_new_tokens`` classes of ``image`` (``prompt`` is ignored by classifiers)."""
        image = as_rgb_array(image, "image")
        check_text(prompt, "prompt", allow_empty=True)
        n = len(self.class_names)
        if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or not 1 <= max_new_tokens <= n:
            raise ValueError(f"max_new_tokens: expected 1..{len(self.class_names)}, got {max_new_tokens!r}")
        gen = self._gen(image, prompt, [0], is_target=False)
        with torch.no_grad():
            self.n_forward += 1
            logits = self.module(self.preprocess(self._pixels(image[None]).to(self.device)))
        top = torch.topk(logits[0].float(), max_new_tokens).indices.tolist()
        return dataclasses.replace(gen, generated_ids=torch.tensor(top), generated_tokens=tuple(
            self.class_names[i] for i in top))  # fmt: skip

    def with_target(self, gen: Generation, target: str | list[int]) -> Generation:
        """``gen`` with its classes replaced by ``target`` (a class name, or class indices)."""
        check_generation(gen)
        if isinstance(target, str):
            if target not in self.class_names:
                raise ValueError(f"target: unknown class {target!r}")
            ids = [self.class_names.index(target)]
        else:
            items = target.tolist() if hasattr(target, "tolist") else list(target)
            if any(isinstance(i, bool) or not isinstance(i, numbers.Integral) for i in items):
                raise TypeError(f"target: expected a class name or class indices (ints), got {items!r}")
            ids = [int(i) for i in items]
            if not ids or any(not 0 <= i < len(self.class_names) for i in ids):
                raise ValueError(f"target: class indices must lie in [0, {len(self.class_names)})")
        return self._gen(gen.image, gen.prompt, ids, is_target=True)

    def score(
        self,
        gen: Generation,
        masks: torch.Tensor | np.ndarray,
        positions: list[int] | None = None,
        baseline: str | float = "black",
    ) -> torch.Tensor:
        """Probabilities [B, K] of ``gen``'s classes for each mask [B, H, W] (1 keeps a pixel)."""
        pos = self._positions(gen, positions)
        masks = check_masks(masks, *gen.image.shape[:2])
        img = self._pixels(gen.image[None])
        base = self._pixels(baseline_image(baseline, gen.image)[None])

        def run(start: int, stop: int) -> torch.Tensor:
            m = masks[start:stop, None]
            with torch.no_grad():
                return self.pixel_forward(gen, base + m * (img - base), pos).cpu()

        return self._batch.run(masks.shape[0], run)

    def score_text(self, gen: Generation, variants: list[str], positions: list[int] | None = None) -> torch.Tensor:
        """Not available: classifiers have no prompt."""
        raise NotImplementedError(f"{self.name}: image classifiers have no text input (capabilities lack 'text')")
