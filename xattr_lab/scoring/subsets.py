"""Memoised, batched probabilities of target tokens for region subsets.

Every search engine and every metric asks one question: what are the target-token probabilities when only
the regions in a subset are kept? A subset is an ``int`` bitmask over the regions (bit ``i`` = region ``i``
kept), which makes it hashable and cheap to combine. All subsets a caller asks for at once go to the model
together (in chunks of ``batch_size``), and each answer is cached, so a subset is never scored twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from xattr_lab.inputs.regions import Regions
    from xattr_lab.models.protocol import Generation, ScoringModel


def bits_to_keep(sets: Sequence[int], n: int) -> np.ndarray:
    """Bool [B, n] keep flags of ``B`` bitmasks."""
    if not sets:
        return np.zeros((0, n), dtype=bool)
    nbytes = max(1, (n + 7) // 8)
    buf = b"".join(s.to_bytes(nbytes, "little") for s in sets)
    packed = np.frombuffer(buf, dtype=np.uint8).reshape(len(sets), nbytes)
    return np.unpackbits(packed, axis=1, bitorder="little")[:, :n].astype(bool)


def keep_to_bits(keep: np.ndarray) -> int:
    """The bitmask of a bool [n] keep vector."""
    idx = np.flatnonzero(np.asarray(keep, dtype=bool))
    return sum(1 << int(i) for i in idx)


class SubsetScorer:
    """Target-token probabilities for region subsets of one generation, cached and batched.

    Args:
        model: the scoring model.
        gen: the generation whose tokens are explained.
        regions: the regions subsets refer to.
        positions: target token positions (indices into ``gen.generated_tokens``).
        baseline: what removed pixels become (passed to ``model.score``).
        batch_size: most images per ``score`` call; None sends each request in one call (up to 256).
        variants: extra generations scored on the same masks (e.g. candidate answers for LiMA's confidence
            term); each is a ``(generation, positions)`` pair.

    Cost is counted in images scored (``n_forward``: one forward pass each, the papers' unit) and in
    ``model.score`` calls (``n_calls``).
    """

    def __init__(
        self,
        model: ScoringModel,
        gen: Generation,
        regions: Regions,
        positions: Sequence[int],
        baseline: str | float = "black",
        batch_size: int | None = None,
        variants: Sequence[tuple[Generation, Sequence[int]]] = (),
        memoise: bool = True,
    ) -> None:
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
            raise ValueError(f"batch_size: expected a positive int or None, got {batch_size!r}")
        self.model = model
        self.gen = gen
        self.regions = regions
        self.positions = [int(p) for p in positions]
        self.baseline = baseline
        self.batch_size = batch_size or 256
        self.variants = [(g, [int(p) for p in ps]) for g, ps in variants]
        self.memoise = memoise
        self.n = regions.n
        self.full = (1 << self.n) - 1
        self._counts = [0, 0]  # images scored, score calls; shared with scorers made by with_variants
        self._cache: list[dict[int, np.ndarray]] = [{} for _ in range(1 + len(self.variants))]

    @property
    def n_forward(self) -> int:
        """Images scored so far (shared with scorers made by :meth:`with_variants`)."""
        return self._counts[0]

    @property
    def n_calls(self) -> int:
        """``model.score`` calls so far."""
        return self._counts[1]

    def with_variants(self, variants: Sequence[tuple[Generation, Sequence[int]]]) -> SubsetScorer:
        """A scorer that also scores ``variants``, sharing this one's cache and counters."""
        other = SubsetScorer(
            self.model,
            self.gen,
            self.regions,
            self.positions,
            self.baseline,
            self.batch_size,
            variants,
            self.memoise,
        )
        other._counts = self._counts
        other._cache[0] = self._cache[0]
        return other

    def probs(self, sets: Sequence[int], variant: int = 0, cached_only: bool = False) -> np.ndarray:
        """Probabilities [B, T] of the target tokens with only each subset's regions kept.

        Args:
            sets: region bitmasks.
            variant: 0 for the explained generation, ``k`` for ``variants[k - 1]``.
            cached_only: never call the model; subsets not scored yet give NaN rows.

        Returns:
            float64 [B, T] probabilities.
        """
        cache = self._cache[variant]
        # Unique, in first-asked order; without memoisation only duplicates inside one request are shared.
        todo = list(dict.fromkeys(s for s in sets if not (self.memoise and s in cache)))
        if todo and not cached_only:
            self._score(todo, variant)
        width = len(self.positions if variant == 0 else self.variants[variant - 1][1])
        nan_row = np.full(width, np.nan)
        return np.stack([cache.get(s, nan_row) for s in sets]) if sets else np.zeros((0, width))

    def is_cached(self, s: int, variant: int = 0) -> bool:
        """Whether subset ``s`` has been scored."""
        return s in self._cache[variant]

    def _score(self, sets: list[int], variant: int) -> None:
        import torch

        gen, positions = (self.gen, self.positions) if variant == 0 else self.variants[variant - 1]
        cache = self._cache[variant]
        for start in range(0, len(sets), self.batch_size):
            chunk = sets[start : start + self.batch_size]
            masks = torch.from_numpy(self.regions.masks(bits_to_keep(chunk, self.n)).astype(np.float32))
            out: Any = self.model.score(gen, masks, positions=positions, baseline=self.baseline)
            probs = out.detach().to(torch.float64).cpu().numpy() if hasattr(out, "detach") else np.asarray(out)
            if probs.shape != (len(chunk), len(positions)):
                raise ValueError(
                    f"model: score() returned {tuple(probs.shape)}, expected {(len(chunk), len(positions))}"
                )
            self._counts[0] += len(chunk)
            self._counts[1] += 1
            for s, row in zip(chunk, probs):
                cache[s] = row
