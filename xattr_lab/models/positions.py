"""Validation of target positions inside a generation, shared by every adapter."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def check_positions(positions: Sequence[int] | int | None, n: int, unit: str = "tokens") -> list[int]:
    """Normalise ``positions`` (None = all, negative = from the end) to a list of indices in ``0..n-1``.

    Raises:
        TypeError: when a position is not an int.
        ValueError: when a position lies outside the generation, or the list is empty.
    """
    if positions is None:
        return list(range(n))
    if isinstance(positions, (int, np.integer)) and not isinstance(positions, bool):
        positions = [int(positions)]
    out = []
    for p in positions:
        if isinstance(p, bool) or not isinstance(p, (int, np.integer)):
            raise TypeError(f"positions: expected ints, got {type(p).__name__}")
        if not -n <= p < n:
            raise ValueError(f"positions: {p} is outside the generation of {n} {unit} (0..{n - 1})")
        out.append(int(p) % n)
    if not out:
        raise ValueError("positions: got an empty list")
    return out
