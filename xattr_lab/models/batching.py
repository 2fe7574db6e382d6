"""Automatic batch size with out-of-memory back-off."""

from __future__ import annotations

from collections.abc import Callable

import torch

# How out-of-memory reads in RuntimeErrors: CUDA/MPS ("out of memory"), torch's CPU allocator
# ("DefaultCPUAllocator: not enough memory: you tried to allocate ..."), and ENOMEM from the C library.
_OOM_TEXT = ("out of memory", "not enough memory", "can't allocate memory", "cannot allocate memory")


def is_oom(err: BaseException) -> bool:
    """True for out-of-memory errors of an accelerator (CUDA/MPS) or of the host (CPU).

    Host memory running out shows up as ``MemoryError`` (numpy, Python) or as a RuntimeError from torch's
    CPU allocator; both count, so the back-off that protects the GPU protects the machine too.
    """
    if isinstance(err, (torch.cuda.OutOfMemoryError, MemoryError)):
        return True
    text = str(err).lower()
    return isinstance(err, RuntimeError) and any(t in text for t in _OOM_TEXT)


def batch_for_budget(item_bytes: int, budget: int, cap: int) -> int:
    """The largest batch of items of ``item_bytes`` each that fits ``budget`` bytes, between 1 and ``cap``.

    One item is always allowed, so an image larger than the budget is still scored (one at a time).
    """
    if cap < 1:
        raise ValueError(f"cap: expected a positive int, got {cap}")
    return max(1, min(cap, budget // max(1, int(item_bytes))))


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
