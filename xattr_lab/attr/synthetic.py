"""A synthetic ScoringModel with a known answer, for tests, benchmarks of search cost and teaching.

The image holds ``K`` square objects on a grey background. Generated token ``t`` is "about" object
``about[t]``: its probability rises with the fraction of that object's pixels kept,
``p = floor + (ceiling − floor) · frac^gamma``. A token with ``about[t] = -1`` is a language-prior token
whose probability ignores the image. So the true explanation of every token is its object's mask, and a
faithful method must rank the regions covering it first. Only numpy and torch are used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from xattr_lab.models.protocol import Generation

_COLOURS = ((215, 35, 35), (40, 75, 215), (35, 160, 55), (235, 200, 25), (140, 50, 180))


class SyntheticModel:
    """A ScoringModel whose token probabilities depend on which objects are visible.

    Args:
        size: image side in pixels.
        boxes: object boxes ``(x0, y0, x1, y1)`` (end exclusive); default three squares.
        about: for each generated token, the object it depends on (-1 for a language-prior token).
        words: display strings of the generated tokens.
        floor: probability with the object fully hidden.
        ceiling: probability with the object fully visible.
        gamma: curvature of the response (1 = linear in the visible fraction).
        seed: seed of the background noise.
    """

    capabilities = frozenset({"scores"})

    def __init__(
        self,
        size: int = 48,
        boxes: Sequence[tuple[int, int, int, int]] = ((4, 4, 20, 20), (28, 8, 44, 24), (10, 30, 26, 44)),
        about: Sequence[int] = (0, 1, -1, 2),
        words: Sequence[str] = ("red", "blue", "and", "green"),
        floor: float = 0.02,
        ceiling: float = 0.95,
        gamma: float = 1.0,
        seed: int = 0,
    ) -> None:
        if len(about) != len(words):
            raise ValueError("words: one display string per entry of about")
        self.name = "synthetic"
        self.n_forward = 0
        self.size = size
        self.boxes = tuple(tuple(int(v) for v in b) for b in boxes)
        self.about = np.asarray(about, dtype=np.int64)
        self.words = tuple(words)
        self.floor, self.ceiling, self.gamma = floor, ceiling, gamma
        rng = np.random.default_rng(seed)
        img = np.clip(rng.normal(128, 12, (size, size, 3)), 0, 255).astype(np.uint8)
        masks = np.zeros((len(self.boxes), size, size), dtype=bool)
        for k, (x0, y0, x1, y1) in enumerate(self.boxes):
            masks[k, y0:y1, x0:x1] = True
            img[y0:y1, x0:x1] = _COLOURS[k % len(_COLOURS)]
        self.image = img
        self.object_masks = masks
        self.prior = 0.9  # probability of language-prior tokens, image or not
        self.vocab = {w: i + 10 for i, w in enumerate(dict.fromkeys(self.words))}

    def generate(self, image: Any = None, prompt: str = "describe", max_new_tokens: int = 16) -> Generation:
        """The fixed answer ``words`` (the model "says" them whatever the image)."""
        import torch

        img = self.image if image is None else np.asarray(image)
        ids = [self.vocab[w] for w in self.words][:max_new_tokens]
        return Generation(
            image=img,
            prompt=prompt,
            input_ids=torch.tensor([1, 2, 3, 4], dtype=torch.long),
            generated_ids=torch.tensor(ids, dtype=torch.long),
            prompt_tokens=("<image>", *prompt.split()),
            generated_tokens=tuple(self.words[: len(ids)]),
            image_token_span=(0, 1),
            geometry={"height": img.shape[0], "width": img.shape[1]},
            model_id=self.name,
        )

    def with_target(self, gen: Generation, target: str | list[int]) -> Generation:
        """Replace the generated tokens (ids of the model's words, or words separated by spaces)."""
        import torch

        inverse = {i: w for w, i in self.vocab.items()}
        ids = [self.vocab.get(w, 99) for w in target.split()] if isinstance(target, str) else list(target)
        tokens = tuple(inverse.get(int(i), "<unk>") for i in ids)
        return Generation(
            image=gen.image,
            prompt=gen.prompt,
            input_ids=gen.input_ids,
            generated_ids=torch.tensor(ids, dtype=torch.long),
            prompt_tokens=gen.prompt_tokens,
            generated_tokens=tokens,
            image_token_span=gen.image_token_span,
            geometry=gen.geometry,
            model_id=self.name,
            is_target=True,
        )

    def score(
        self, gen: Generation, masks: Any, positions: list[int] | None = None, baseline: str | float = "black"
    ) -> Any:
        """Probabilities [B, T] of ``gen``'s tokens at ``positions`` for each mask (1 keeps a pixel)."""
        import torch

        m = torch.as_tensor(np.asarray(masks, dtype=np.float32) if not torch.is_tensor(masks) else masks).float()
        if m.ndim != 3 or tuple(m.shape[1:]) != (self.size, self.size):
            raise ValueError(f"masks: expected [B, {self.size}, {self.size}], got {tuple(m.shape)}")
        self.n_forward += int(m.shape[0])
        obj = torch.from_numpy(self.object_masks.astype(np.float32))
        frac = torch.einsum("bhw,khw->bk", m, obj) / obj.sum((1, 2))  # visible fraction per object
        visible = self.floor + (self.ceiling - self.floor) * frac.clamp(0, 1) ** self.gamma
        positions = list(range(len(gen.generated_tokens))) if positions is None else list(positions)
        cols = []
        for p in positions:
            k = int(self.about[p]) if p < len(self.about) else -1
            right = int(gen.generated_ids[p]) == self.vocab.get(self.words[p], -1) if p < len(self.words) else False
            base = torch.full((m.shape[0],), self.prior) if k < 0 else visible[:, k]
            # A counterfactual token gets the probability mass the true word leaves.
            cols.append(base if right else (1.0 - base) * 0.5)
        return torch.stack(cols, 1) if cols else torch.zeros((m.shape[0], 0))

    def score_text(self, gen: Generation, variants: list[str], positions: list[int] | None = None) -> Any:
        """Text variants do not change this model's answer probabilities."""
        import torch

        full = self.score(gen, torch.ones(1, self.size, self.size), positions)
        return full.expand(len(variants), -1).clone()
