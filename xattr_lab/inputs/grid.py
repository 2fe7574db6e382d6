"""A regular grid of rectangular regions (the ICLR reviewers' question: why not a patch grid?)."""

from __future__ import annotations

import numpy as np


def parse_grid(spec: str) -> tuple[int, int]:
    """Parse ``"grid"``, ``"grid:R"`` or ``"grid:RxC"`` into ``(rows, cols)`` (default 8 x 8)."""
    _, _, arg = spec.partition(":")
    if not arg:
        return 8, 8
    parts = arg.lower().split("x")
    try:
        rows, cols = (int(parts[0]), int(parts[0])) if len(parts) == 1 else (int(parts[0]), int(parts[1]))
    except ValueError:
        raise ValueError(f"regions: {spec!r} expects 'grid:R' or 'grid:RxC' with integers") from None
    if len(parts) > 2 or rows < 1 or cols < 1:
        raise ValueError(f"regions: {spec!r} expects 'grid:R' or 'grid:RxC' with positive integers")
    return rows, cols


def grid_labels(hw: tuple[int, int], rows: int, cols: int) -> np.ndarray:
    """Label map [H, W] of a rows x cols grid, numbered in reading order."""
    h, w = hw
    if rows > h or cols > w:
        # A grid is exact (the user asked for these cells), so it is refused rather than clamped.
        raise ValueError(
            f"regions: a {rows}x{cols} grid does not fit a {h}x{w} image (at most {h}x{w}: one cell per pixel)"
        )
    ys = (np.arange(h) * rows) // h
    xs = (np.arange(w) * cols) // w
    return (ys[:, None] * cols + xs[None, :]).astype(np.int32)
