"""SEEDS superpixels (Van den Bergh et al., 2012), LiMA's default region maker (about 50 regions).

scikit-image has no SEEDS. When OpenCV's contrib build is installed (``opencv-contrib-python-headless``)
we call ``cv2.ximgproc.createSuperpixelSEEDS`` with LiMA's settings (3 levels, 10 iterations). Otherwise a
numpy SEEDS-style implementation runs: start from a grid of blocks, then hill-climb coarse-to-fine
(block units, then pixels) by moving boundary units to the neighbouring superpixel whose colour histogram
explains them better, with SEEDS' 3 x 3 boundary prior; finally split disconnected pieces and merge
specks. It follows the algorithm's energy and schedule but is not bit-identical to OpenCV.

Limits: OpenCV's SEEDS lays its seeds on a ``sqrt(N*H/W)``-row grid and halves the block size once per
level; when a count leaves it fewer than two levels (blocks under 2 px) it returns garbage (one region)
and corrupts the heap, so a later call segfaults (seen with ``seeds:2500`` on a 96 x 96 image). We never
call it there: :func:`max_regions` is the largest count that keeps two levels, and counts above it are
clamped by ``make_regions`` (refused by :func:`seeds_labels`). An aspect ratio so extreme that OpenCV's
grid would have no seed column (or row) also crashes it, as does a block layout whose top level has no
block; :func:`_cv_safe` mirrors OpenCV's set-up arithmetic and sends any such case to the numpy path.
"""

from __future__ import annotations

import math

import numpy as np

from xattr_lab.inputs.regions import relabel

_BINS = 5  # colour bins per channel, as in OpenCV's default histogram_bins=5
_SHIFTS = ((0, 1), (0, -1), (1, 0), (-1, 0))


def _cv_grid(hw: tuple[int, int], n: int) -> tuple[int, int]:
    """OpenCV's seed grid ``(rows, cols)`` for a count, computed as its C++ does (float32, bumped to 10)."""
    h, w = hw
    n32 = np.float32(max(n, 10))
    rows = int(np.sqrt(n32 * np.float32(h) / np.float32(w)))
    return rows, rows * w // h


def _fits(hw: tuple[int, int], n: int) -> bool:
    """Whether OpenCV keeps at least two block levels (blocks of >= 2 px) for ``n`` regions.

    A grid side of 0 (extreme aspect ratios, where the numpy path runs instead) counts as one seed.
    """
    rows, cols = _cv_grid(hw, n)
    return hw[0] >= 2 * max(rows, 1) and hw[1] >= 2 * max(cols, 1)


def _cv_safe(hw: tuple[int, int], n: int, levels: int = 3) -> bool:
    """Whether OpenCV's SEEDS set-up is sound for this size and count (else it reads out of bounds).

    Mirrors ``SuperpixelSEEDSImpl::initialize``: drop levels until the level-0 block is >= 1 px, then the
    level-0 block grid, halved once per level, must keep at least one block per side at the top level,
    and at least two levels must remain (``initImage`` starts at level ``levels - 2``).
    """
    h, w = hw
    rows, cols = _cv_grid(hw, n)
    if rows < 1 or cols < 1:
        return False  # OpenCV divides by zero here
    level = max(levels, 2)
    while True:
        block_w = np.float32(w) / np.float32(cols) / np.float32(1 << (level - 1))
        block_h = np.float32(h) / np.float32(rows) / np.float32(1 << (level - 1))
        if block_w >= 1 and block_h >= 1:
            break
        level -= 1
        if level < 2:
            return False
    nr_w, nr_h = w // int(np.ceil(block_w)), h // int(np.ceil(block_h))
    return (nr_w >> (level - 1)) >= 1 and (nr_h >> (level - 1)) >= 1


def max_regions(hw: tuple[int, int]) -> int:
    """The largest SEEDS count an ``(H, W)`` image holds (0 when it is too small for any).

    The grid grows with the count, so the counts that fit form a prefix; binary search for its end.
    """
    if not _fits(hw, 1):
        return 0
    low, high = 1, hw[0] * hw[1]
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if _fits(hw, mid) else (low, mid - 1)
    return low


def seeds_labels(
    image: np.ndarray, n: int = 50, levels: int = 3, iterations: int = 10, seed: int = 0
) -> np.ndarray:
    """SEEDS label map [H, W] with about ``n`` regions.

    Args:
        image: uint8 [H, W, 3] image.
        n: wanted number of superpixels.
        levels: block levels (LiMA: 3).
        iterations: hill-climbing iterations per level (LiMA: 10).
        seed: unused by the deterministic numpy path; kept for a uniform maker signature.

    Returns:
        int32 labels numbered ``0 .. n-1`` in reading order.

    Raises:
        ValueError: for an image that is not [H, W] or [H, W, 3], or a count above :func:`max_regions`.
    """
    img = np.asarray(image)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    if img.ndim != 3 or img.shape[2] != 3 or img.shape[0] < 1 or img.shape[1] < 1:
        raise ValueError(f"image: SEEDS expects an [H, W, 3] (or [H, W]) image, got shape {img.shape}")
    if img.dtype != np.uint8:
        # OpenCV asserts on float64; the histograms bin 0..255 anyway.
        img = np.clip(np.nan_to_num(img.astype(np.float64)), 0, 255).astype(np.uint8)
    h, w = img.shape[:2]
    most = max_regions((h, w))
    if not 1 <= n <= most:
        raise ValueError(f"n: SEEDS on a {h}x{w} image needs 1 <= n <= {most}, got {n}")
    try:
        import cv2  # noqa: F401

        ximgproc = cv2.ximgproc
    except (ImportError, AttributeError):
        ximgproc = None
    if ximgproc is not None and _cv_safe((h, w), n, levels):
        engine = ximgproc.createSuperpixelSEEDS(w, h, 3, n, levels, 2, _BINS, False)
        engine.iterate(np.ascontiguousarray(img[..., ::-1]), iterations)  # OpenCV expects BGR
        return relabel(engine.getLabels())
    return _seeds_numpy(img, n, levels, iterations)


def _grid(h: int, w: int, n: int) -> np.ndarray:
    rows = max(1, round(math.sqrt(n * h / w)))
    cols = max(1, round(n / rows))
    ys = (np.arange(h) * rows) // h
    xs = (np.arange(w) * cols) // w
    return (ys[:, None] * cols + xs[None, :]).astype(np.int64)


def _shift(a: np.ndarray, dy: int, dx: int, fill: int) -> np.ndarray:
    """``a`` moved by (dy, dx): out[y, x] = a[y - dy, x - dx], ``fill`` where that falls outside."""
    out = np.full_like(a, fill)
    h, w = a.shape
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[yd, xd] = a[ys, xs]
    return out


def _seeds_numpy(img: np.ndarray, n: int, levels: int, iterations: int) -> np.ndarray:
    h, w = img.shape[:2]
    q = np.minimum(img.astype(np.int64) * _BINS // 256, _BINS - 1)
    colour = (q[..., 0] * _BINS + q[..., 1]) * _BINS + q[..., 2]  # histogram bin per pixel
    n_bins = _BINS**3
    labels = _grid(h, w, n)
    n_labels = int(labels.max()) + 1
    parity = (np.arange(h)[:, None] + np.arange(w)[None, :]) % 2
    # Coarse-to-fine: block units of 2^(levels-1) .. 2 pixels, then single pixels.
    for level in range(levels - 1, -1, -1):
        block = 2**level
        for it in range(iterations):
            hist = np.bincount(labels.ravel() * n_bins + colour.ravel(), minlength=n_labels * n_bins)
            hist = hist.reshape(n_labels, n_bins).astype(np.float64)
            hist /= np.maximum(hist.sum(1, keepdims=True), 1.0)
            # Each pixel's likelihood under each candidate label (own, 4 neighbours), smoothed over its
            # block so a block moves as a unit; the 3x3 prior favours labels that dominate the surroundings.
            cand = [labels] + [_shift(labels, dy, dx, -1) for dy, dx in _SHIFTS]
            best, best_score = labels, None
            for c in cand:
                valid = c >= 0
                like = np.where(valid, hist[np.where(valid, c, 0), colour], -1.0)
                if block > 1:
                    like = _block_mean(like, block)
                prior = sum(
                    (_shift(labels, dy, dx, -1) == c).astype(np.float64)
                    for dy in (-1, 0, 1)
                    for dx in (-1, 0, 1)
                )
                score = like * (1.0 + 0.25 * prior / 9.0)
                score = np.where(valid, score, -np.inf)
                if best_score is None:
                    best_score = score
                    continue
                better = score > best_score + 1e-12
                best = np.where(better, c, best)
                best_score = np.where(better, score, best_score)
            # Alternate a checkerboard so neighbouring units never swap labels in the same sweep.
            moving = (
                (parity == it % 2)
                if block == 1
                else (((np.arange(h)[:, None] // block) + (np.arange(w)[None, :] // block)) % 2 == it % 2)
            )
            labels = np.where(moving, best, labels)
    return relabel(_clean(labels, min_size=max(4, (h * w) // (n * 8))))


def _block_mean(a: np.ndarray, block: int) -> np.ndarray:
    h, w = a.shape
    hp, wp = -(-h // block) * block, -(-w // block) * block
    pad = np.pad(a, ((0, hp - h), (0, wp - w)), mode="edge")
    means = pad.reshape(hp // block, block, wp // block, block).mean(axis=(1, 3))
    return np.repeat(np.repeat(means, block, 0), block, 1)[:h, :w]


def _clean(labels: np.ndarray, min_size: int) -> np.ndarray:
    """Split disconnected pieces into their own regions, then merge specks into a neighbour."""
    from scipy import ndimage

    out = np.zeros_like(labels)
    next_id = 0
    for value in np.unique(labels):
        comp, k = ndimage.label(labels == value)
        mask = comp > 0
        out[mask] = comp[mask] - 1 + next_id
        next_id += k
    sizes = np.bincount(out.ravel())
    for small in np.flatnonzero(sizes < min_size):
        mask = out == small
        if not mask.any():
            continue
        ring = ndimage.binary_dilation(mask) & ~mask
        neighbours = out[ring]
        if neighbours.size:
            out[mask] = np.bincount(neighbours).argmax()
    return out
