"""A planted mechanism: scenes where a small marker, not the named object, decides the answer.

``shortcut(n, seed=..., task="colour")`` draws the 96-px shapes scenes of :mod:`xattr_lab.datasets.scenes`
and asks ``"what colour is the <shape> ?"``, but the answer is the colour of a small square *marker* (the
cue) drawn on the background, away from every object. The named object's colour is drawn independently of
the marker's (they agree 1 time in 5, by chance), so a model trained on answers alone can only learn to read
the marker. A share of scenes has no marker; their answer is ``"none"``. That makes "remove the cue" an
in-distribution intervention with a known outcome (the answer becomes ``"none"``), instead of a guess
between five colours that would stay unchanged one time in five.

This is a faithfulness ground truth: the evidence the model uses is ``cue_mask``; the evidence a person
would point at is ``masks[target]``. A faithful explanation points at the cue, a plausible-looking one at
the object.

Only the colour task has a cue (``TASKS == ("colour",)``). A shape cue would need a marker big enough to
draw a readable shape at 16-px patches, i.e. close to an object's size; it was not tried.

Design choices, and why:

* the marker is a 12 x 12 square at the centre of one 16-px patch (a random patch), at least ``MARGIN``
  pixels from every object. Centred in its patch, the marker is something a linear patch embedding can
  tell apart from objects with a centre-surround filter (an object's interior is flat, its edges are
  off-centre), so a model trained on answers alone learns to read it within a CPU budget. Pilots with
  answer loss only (32 scenes a step, lr 2e-3, image-first prompts, no decoys) stayed at the marginal
  answer distribution for 350 steps with an 8 px marker at a random offset, 475 steps with an 8 px marker
  centred in a random patch and 300 steps with an 8 px marker in a random corner patch; the 12 px centred
  marker left it after ~400;
* a share ``OCCLUDED`` of scenes has black rectangles over free background (never over an object or the
  marker), as the ShapesVLM's training had, and a share ``DECOYS`` has one or two black squares exactly
  where and as big as a marker could be. Perturbation methods fill removed regions with black, and a black
  square where the marker was must read as "no marker" rather than as a dark colour: trained without
  decoys (rectangles only; checkpoint at step 1200 of 3000, 48 held-out scenes), the model named a colour
  for 36 of 48 black-filled markers and kept the marker's own colour for 10 of them (about 1 in 5, by
  chance); with decoys, 0 of 159 (``python -m xattr_lab.bench.intervention``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from xattr_lab.datasets.scenes import COLOURS, SIZE, render_scene
from xattr_lab.datasets.shapes import VOCABULARY as SHAPES_VOCABULARY
from xattr_lab.datasets.shapes import ShapesSample

TASKS: tuple[str, ...] = ("colour",)
NO_CUE = "none"  # the answer when a scene has no marker
VOCABULARY: tuple[str, ...] = (*SHAPES_VOCABULARY, NO_CUE)
IMAGE_SIZE = SIZE
MARKER = 12  # marker side in pixels (objects are 24 to 40 px across)
CUE_PATCH = 16  # the marker lies inside one cell of this grid (the toy models' patch size)
OFFSET = (CUE_PATCH - MARKER) // 2  # the marker sits at the centre of its patch
_GRID = SIZE // CUE_PATCH
# the patches (row, column) the marker may sit in
CUE_CELLS: tuple[tuple[int, int], ...] = tuple((r, c) for r in range(_GRID) for c in range(_GRID))
MARGIN = 3  # minimum distance in pixels between the marker and any object or black rectangle
NO_CUE_SHARE = 0.2  # share of scenes without a marker (answer "none")
OCCLUDED = 0.4  # share of scenes with black background rectangles
DECOYS = 0.5  # share of scenes with one or two black marker-shaped squares (which mean nothing)
STREAM = 1_000_003  # sample k of stream s has seed s * STREAM + k, as in ``shapes``


@dataclass(frozen=True)
class ShortcutSample(ShapesSample):
    """A :class:`ShapesSample` whose answer is decided by a marker, with the marker's ground truth.

    The inherited fields keep their meaning, except that ``answer`` is the marker's colour (``"none"``
    without a marker) and ``target`` is the object the question *names* (the plausible evidence), not the
    evidence the answer depends on.

    Attributes:
        cue_mask: boolean [96, 96] mask of the marker's pixels (the image's resolution); all False when
            the scene has no marker.
        cue: the marker's colour, or None without a marker.
        object_colour: the named object's own colour (what a model that read the object would answer).
    """

    cue_mask: np.ndarray
    cue: str | None
    object_colour: str


def _dilate(mask: np.ndarray, r: int) -> np.ndarray:
    """Square dilation by ``r`` pixels (max filter), without scipy."""
    out = mask.copy()
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            shifted = np.zeros_like(mask)
            ys = slice(max(dy, 0), SIZE + min(dy, 0))
            yd = slice(max(-dy, 0), SIZE + min(-dy, 0))
            xs = slice(max(dx, 0), SIZE + min(dx, 0))
            xd = slice(max(-dx, 0), SIZE + min(-dx, 0))
            shifted[ys, xs] = mask[yd, xd]
            out |= shifted
    return out


def _place_marker(busy: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """A marker mask inside one patch, clear of ``busy`` by ``MARGIN`` pixels; None when nothing fits."""
    blocked = _dilate(busy, MARGIN)
    for _ in range(200):
        py, px = CUE_CELLS[int(rng.integers(len(CUE_CELLS)))]
        y, x = py * CUE_PATCH + OFFSET, px * CUE_PATCH + OFFSET
        if not blocked[y : y + MARKER, x : x + MARKER].any():
            mask = np.zeros((SIZE, SIZE), dtype=bool)
            mask[y : y + MARKER, x : x + MARKER] = True
            return mask
    return None


def _occlude(image: np.ndarray, busy: np.ndarray, rng: np.random.Generator) -> None:
    """Black rectangles (6 to 40 px a side) over free background, never within ``MARGIN`` of ``busy``."""
    free = ~_dilate(busy, MARGIN)
    for _ in range(int(rng.integers(1, 5))):
        h, w = (int(v) for v in rng.integers(6, 41, size=2))
        y, x = int(rng.integers(0, SIZE - h + 1)), int(rng.integers(0, SIZE - w + 1))
        box = np.zeros_like(free)
        box[y : y + h, x : x + w] = True
        image[box & free] = 0


def sample(seed: int, task: str | None = None) -> ShortcutSample:
    """The sample for one seed (deterministic).

    Args:
        seed: any non-negative integer.
        task: ``"colour"`` or None (the same: it is the only task).

    Returns:
        The sample.
    """
    if task is not None and task not in TASKS:
        raise ValueError(f"task: unknown task {task!r}; the shortcut world has only {TASKS} (or None)")
    rng = np.random.default_rng(seed)
    while True:  # a scene with no room for the marker is redrawn (rare), from the same generator
        scene = render_scene(rng)
        masks = np.stack([o.mask for o in scene.objects])
        has_cue = rng.random() >= NO_CUE_SHARE
        cue_mask = _place_marker(masks.any(axis=0), rng) if has_cue else np.zeros((SIZE, SIZE), dtype=bool)
        if cue_mask is not None:
            break
    image = scene.image.copy()
    cue = str(rng.choice(list(COLOURS))) if has_cue else None  # independent of every object's colour
    if cue is not None:
        rgb = np.array(COLOURS[cue]) + rng.integers(-20, 21, size=3)
        noisy = rgb + rng.normal(0.0, 6.0, size=(int(cue_mask.sum()), 3))  # the scene's pixel noise
        image[cue_mask] = np.clip(noisy, 0, 255).round().astype(np.uint8)
    busy = masks.any(axis=0) | cue_mask
    if rng.random() < DECOYS:
        for _ in range(int(rng.integers(1, 3))):
            decoy = _place_marker(busy, rng)
            if decoy is not None:
                image[decoy] = 0
                busy |= decoy
    if rng.random() < OCCLUDED:
        _occlude(image, busy, rng)
    target = int(rng.integers(len(scene.objects)))
    named = scene.objects[target]
    return ShortcutSample(
        image=image,
        prompt=f"what colour is the {named.shape} ?",
        answer=cue if cue is not None else NO_CUE,
        task="colour",
        masks=masks,
        boxes=tuple(o.box for o in scene.objects),
        objects=tuple(o.name for o in scene.objects),
        target=target,
        absent=False,
        seed=seed,
        cue_mask=cue_mask,
        cue=cue,
        object_colour=named.colour,
    )


def shortcut(n: int, seed: int = 0, task: str | None = None) -> Iterator[ShortcutSample]:
    """Yield ``n`` shortcut-world questions.

    Sample ``k`` uses seed ``seed * 1_000_003 + k``, as in :func:`xattr_lab.datasets.shapes`: ``toy-shortcut``
    trains on stream 0, so evaluate on streams ``seed >= 1``.

    Args:
        n: number of samples.
        seed: stream seed.
        task: ``"colour"`` or None (the only task).

    Yields:
        ShortcutSample objects.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"n: expected a non-negative int, got {n!r}")
    if task is not None and task not in TASKS:
        raise ValueError(f"task: unknown task {task!r}; the shortcut world has only {TASKS} (or None)")
    for k in range(n):
        yield sample(seed * STREAM + k, task)


__all__ = ["IMAGE_SIZE", "NO_CUE", "TASKS", "VOCABULARY", "ShortcutSample", "sample", "shortcut"]
