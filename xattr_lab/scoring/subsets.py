"""Memoised, batched probabilities of target tokens for region subsets.

Every search engine and every metric asks one question: what are the target-token probabilities when only
the regions in a subset are kept? A subset is an ``int`` bitmask over the regions (bit ``i`` = region ``i``
kept), which makes it hashable and cheap to combine. All subsets a caller asks for at once go to the model
together (in chunks), and each answer is cached, so a subset is never scored twice.

Memory is bounded by design: the masks of a request are built one chunk at a time, at most one model
batch and at most ``memory_budget`` bytes of estimated host memory, so peak memory does not grow with the
number of subsets and stays linear in one chunk however large the image. An out-of-memory error (CUDA,
or the host's ``MemoryError`` / "not enough memory") halves the chunk and retries; the smaller size sticks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from xattr_lab.models.batching import batch_for_budget, is_oom

if TYPE_CHECKING:
    from xattr_lab.inputs.regions import Regions
    from xattr_lab.models.protocol import Generation, ScoringModel


#: Estimated host bytes per image pixel of one masked image while it is scored: the float32 mask (4), its
#: composited uint8 copy and the PIL image handed to the processor (3 + 3), and room for the processor's
#: float intermediates. Deliberately high: overestimating costs a few more calls, underestimating swaps.
BYTES_PER_PIXEL = 24
#: Default host-memory budget of one chunk of masked images (512 MiB).
DEFAULT_MEMORY_BUDGET = 512 * 2**20
#: Most subsets per chunk when neither the caller nor the model names a batch size.
MAX_CHUNK = 256


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
        batch_size: most images per ``score`` call; None uses the model's own batch size (its
            ``batch_size`` attribute, else 256). Either way a chunk is also capped by ``memory_budget``.
        variants: extra generations scored on the same masks (e.g. candidate answers for LiMA's confidence
            term); each is a ``(generation, positions)`` pair.
        memoise: cache every scored subset (off: only duplicates inside one request are shared).
        memory_budget: estimated host bytes one chunk of masked images may take (``BYTES_PER_PIXEL`` per
            pixel each); default 512 MiB. At 224² this allows all 256 subsets of a chunk, at 2048² five.
        contrast: one contrast token id per position, or None. With a contrast every image of the explained
            generation is also read for it (see :mod:`xattr_lab.scoring.contrast`): :meth:`probs` stays the
            target's probability, :meth:`margins` and :meth:`pairwise` compare the two, and :meth:`values`
            (what the curves plot) is the margin.
        contrast_prefix: ``"target"`` (default) or ``"own"``: the prefix a contrast token is read after.

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
        memory_budget: int = DEFAULT_MEMORY_BUDGET,
        contrast: Sequence[int] | None = None,
        contrast_prefix: str = "target",
    ) -> None:
        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
        ):
            raise ValueError(f"batch_size: expected a positive int or None, got {batch_size!r}")
        if isinstance(memory_budget, bool) or not isinstance(memory_budget, int) or memory_budget < 1:
            raise ValueError(f"memory_budget: expected a positive number of bytes, got {memory_budget!r}")
        self.model = model
        self.gen = gen
        self.regions = regions
        self.positions = [int(p) for p in positions]
        self.baseline = baseline
        self.batch_size = batch_size
        self.memory_budget = memory_budget
        self.variants = [(g, [int(p) for p in ps]) for g, ps in variants]
        self.memoise = memoise
        self.n = regions.n
        self.full = (1 << self.n) - 1
        self._counts = [0, 0]  # images scored, score calls; shared with scorers made by with_variants
        self._cache: list[dict[int, np.ndarray]] = [{} for _ in range(1 + len(self.variants))]
        self._backoff: int | None = None  # chunk size after an out-of-memory error
        self.contrast: tuple[int, ...] | None = None
        self.contrast_prefix = "target"
        self._reads: Any = ()  # how the contrast is read; () = not decided yet (see _contrast_reads)
        if contrast is not None:
            from xattr_lab.scoring.contrast import check_prefix

            self.contrast = tuple(int(c) for c in contrast)
            if len(self.contrast) != len(self.positions):
                raise ValueError(f"contrast: expected {len(self.positions)} token ids, got {len(self.contrast)}")
            self.contrast_prefix = check_prefix(contrast_prefix)

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
            self.memory_budget,
            self.contrast,
            self.contrast_prefix,
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
            float64 [B, T] probabilities (of the targets, also when the scorer has a contrast).
        """
        rows = self._rows(sets, variant, cached_only)
        return rows[:, : len(self.positions)] if variant == 0 and self.contrast is not None else rows

    def contrast_probs(self, sets: Sequence[int], cached_only: bool = False) -> np.ndarray:
        """Probabilities [B, T] of the contrast tokens (the scorer must have a contrast)."""
        return self._pair(sets, cached_only)[1]

    def margins(self, sets: Sequence[int], cached_only: bool = False) -> np.ndarray:
        """``log p(target) − log p(contrast)`` [B, T], float64 (the scorer must have a contrast)."""
        from xattr_lab.scoring.contrast import margin

        return margin(*self._pair(sets, cached_only))

    def pairwise(self, sets: Sequence[int], cached_only: bool = False) -> np.ndarray:
        """What the objectives maximise: ``σ(margin)`` with a contrast, else the target probabilities [B, T]."""
        if self.contrast is None:
            return self.probs(sets, cached_only=cached_only)
        from xattr_lab.scoring.contrast import pairwise

        return pairwise(*self._pair(sets, cached_only))

    def _pair(self, sets: Sequence[int], cached_only: bool) -> tuple[np.ndarray, np.ndarray]:
        """Target and contrast probabilities [B, T] each, from one read of the rows (one scoring without memo)."""
        if self.contrast is None:
            raise ValueError("contrast: this scorer has no contrast")
        rows = self._rows(sets, 0, cached_only)
        t = len(self.positions)
        return rows[:, :t], rows[:, t:]

    def values(self, sets: Sequence[int], cached_only: bool = False) -> np.ndarray:
        """What the curves plot, float64 [B, T]: the margin with a contrast, else the target probabilities."""
        if self.contrast is None:
            return self.probs(sets, cached_only=cached_only)
        return self.margins(sets, cached_only)

    def _rows(self, sets: Sequence[int], variant: int, cached_only: bool) -> np.ndarray:
        cache = self._cache[variant]
        # Unique, in first-asked order; without memoisation only duplicates inside one request are shared.
        todo = list(dict.fromkeys(s for s in sets if not (self.memoise and s in cache)))
        if todo and not cached_only:
            self._score(todo, variant)
        width = len(self.positions if variant == 0 else self.variants[variant - 1][1])
        if variant == 0 and self.contrast is not None:
            width *= 2  # target probabilities, then the contrast's
        nan_row = np.full(width, np.nan)
        return np.stack([cache.get(s, nan_row) for s in sets]) if sets else np.zeros((0, width))

    def is_cached(self, s: int, variant: int = 0) -> bool:
        """Whether subset ``s`` has been scored."""
        return s in self._cache[variant]

    @property
    def chunk_size(self) -> int:
        """Subsets whose masks are built and scored at once: batch size and memory budget both respected."""
        cap = self.batch_size
        if cap is None:
            model_batch = getattr(self.model, "batch_size", None)
            ok = isinstance(model_batch, int) and not isinstance(model_batch, bool) and model_batch > 0
            cap = min(model_batch, MAX_CHUNK) if ok else MAX_CHUNK
        h, w = self.regions.shape
        size = batch_for_budget(h * w * BYTES_PER_PIXEL, self.memory_budget, cap)
        return min(size, self._backoff) if self._backoff else size

    def _masks(self, chunk: list[int]) -> Any:
        """Float32 masks [B, H, W] of a chunk, gathered straight from the label map (no bool copy)."""
        import torch

        keep = bits_to_keep(chunk, self.n).astype(np.float32)
        return torch.from_numpy(np.take(keep, self.regions.labels, axis=1))

    def _contrast_reads(self) -> Any:
        """None to read the contrast with ``tokens=`` in the same forward, else generations carrying it."""
        if self._reads == ():
            from xattr_lab.scoring.contrast import contrast_reads, reads_tokens

            assert self.contrast is not None  # noqa: S101 - only called with a contrast
            one_forward = self.contrast_prefix == "target" and reads_tokens(self.model)
            self._reads = (
                None
                if one_forward
                else contrast_reads(self.model, self.gen, self.positions, self.contrast, self.contrast_prefix)
            )
        return self._reads

    def _call(self, gen: Any, masks: Any, positions: list[int], variant: int) -> tuple[Any, int]:
        """One chunk's scores and the images each mask cost (2+ when the contrast needs its own forward)."""
        if variant == 0 and self.contrast is not None:
            from xattr_lab.scoring.contrast import pair_probs

            return pair_probs(
                self.model, gen, masks, positions, self.baseline, self.contrast, self._contrast_reads()
            )
        return self.model.score(gen, masks, positions=positions, baseline=self.baseline), 1

    def _score(self, sets: list[int], variant: int) -> None:
        import torch

        gen, positions = (self.gen, self.positions) if variant == 0 else self.variants[variant - 1]
        width = len(positions) * (2 if variant == 0 and self.contrast is not None else 1)
        cache = self._cache[variant]
        start = 0
        while start < len(sets):
            chunk = sets[start : start + self.chunk_size]
            masks = out = None
            try:
                masks = self._masks(chunk)
                out, per_image = self._call(gen, masks, positions, variant)
            except (MemoryError, RuntimeError) as err:
                if not is_oom(err) or len(chunk) == 1:
                    raise
                masks = out = None  # free the failed chunk before building the smaller one
                self._backoff = max(1, len(chunk) // 2)
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                continue
            del masks
            probs = out.detach().to(torch.float64).cpu().numpy() if hasattr(out, "detach") else np.asarray(out)
            if probs.shape != (len(chunk), width):
                raise ValueError(f"model: score() returned {tuple(probs.shape)}, expected {(len(chunk), width)}")
            self._counts[0] += len(chunk) * per_image
            self._counts[1] += per_image
            for s, row in zip(chunk, probs):
                cache[s] = row
            start += len(chunk)
