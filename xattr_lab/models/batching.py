"""Automatic batch size with out-of-memory back-off."""

from __future__ import annotations

from collections.abc import Callable

import torch


def is_oom(err: BaseException) -> bool:
    """True for CUDA/MPS/CPU out-of-memory errors."""
    if isinstance(err, torch.cuda.OutOfMemoryError):
        return True
    text = str(err).lower()
    return isinstance(err, (RuntimeError, MemoryError)) and (
        "out of memory" in text or "can't allocate memory" in text or isinstance(err, MemoryError)
    )


class AutoBatch:
    """Runs ``fn(start, stop)`` over ``range(n)`` in chunks, halving the chunk size on out-of-memory.

    The working size is remembered across calls, so a model backs off once and then stays fast.

    Attributes:
        size: the current chunk size.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"batch_size: expected a positive int, got {size}")
        self.size = size

    def run(self, n: int, fn: Callable[[int, int], torch.Tensor]) -> torch.Tensor:
        """Concatenate ``fn(start, stop)`` over chunks covering ``range(n)`` along dim 0."""
        out: list[torch.Tensor] = []
        start = 0
        while start < n:
            stop = min(n, start + self.size)
            try:
                out.append(fn(start, stop))
            except (RuntimeError, MemoryError) as err:
                if not is_oom(err) or self.size == 1:
                    raise
                self.size = max(1, self.size // 2)
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                continue
            start = stop
        return torch.cat(out, 0)
