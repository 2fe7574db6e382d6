"""Question/answer tasks on the synthetic shape scenes (the ShapesVLM's training and test data).

Every answer is a few words from a small closed vocabulary, captions follow one canonical order (reading
order of the grid cells), so exact-match accuracy is meaningful.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from xattr_lab.datasets.scenes import CELLS, COLOURS, SHAPES, SIZE, Scene, render_scene

TASKS: tuple[str, ...] = ("colour", "shape", "presence", "position", "count", "caption")
NUMBERS: tuple[str, ...] = ("one", "two", "three", "four")
PROMPT_WORDS: tuple[str, ...] = (
    "what", "colour", "is", "the", "shape", "object", "there", "a", "where", "how", "many", "shapes",
    "are", "describe", "image", "?", ".", "yes", "no", "and", "top", "bottom", "left", "right",
)  # fmt: skip
VOCABULARY: tuple[str, ...] = PROMPT_WORDS + tuple(COLOURS) + SHAPES + NUMBERS
MIN_SIZE = 16  # smallest image side ``size=`` accepts (one 16-px patch)


@dataclass(frozen=True)
class ShapesSample:
    """One scene with a question about it.

    Attributes:
        image: uint8 [S, S, 3] RGB image (S = 96 unless ``size=`` says otherwise).
        prompt: the question, e.g. ``"what colour is the circle ?"``.
        answer: the expected answer, e.g. ``"red"``.
        task: one of ``TASKS``.
        masks: boolean [K, S, S] ground-truth masks, one per object (reading order).
        boxes: (x0, y0, x1, y1) per object, end exclusive.
        objects: ``"<colour> <shape>"`` per object.
        target: index of the object the answer is about, or None (counting, captions, absent objects).
        absent: True for presence questions about an object not in the scene.
        seed: the seed that reproduces the sample with ``shapes(1, seed, task)``.
    """

    image: np.ndarray
    prompt: str
    answer: str
    task: str
    masks: np.ndarray
    boxes: tuple[tuple[int, int, int, int], ...]
    objects: tuple[str, ...]
    target: int | None
    absent: bool
    seed: int


def caption(scene: Scene) -> str:
    """The canonical caption: objects in reading order, ``"a red circle top left and a blue star ..."``."""
    return " and ".join(f"a {o.colour} {o.shape} {o.position}" for o in scene.objects)


def _question(scene: Scene, task: str, rng: np.random.Generator) -> tuple[str, str, int | None, bool]:
    objs = scene.objects
    i = int(rng.integers(len(objs)))
    o = objs[i]
    if task == "colour":
        return f"what colour is the {o.shape} ?", o.colour, i, False
    if task == "shape":
        return f"what shape is the {o.colour} object ?", o.shape, i, False
    if task == "position":
        return f"where is the {o.colour} {o.shape} ?", o.position, i, False
    if task == "count":
        return "how many shapes are there ?", NUMBERS[len(objs) - 1], None, False
    if task == "caption":
        return "describe the image .", caption(scene), None, False
    if task == "presence":
        if rng.random() < 0.5:
            return f"is there a {o.colour} {o.shape} ?", "yes", i, False
        present = {x.name for x in objs}
        # hard negatives first: a colour or a shape that is in the scene, on the wrong object
        kind = rng.integers(3)
        for _ in range(100):
            colour = o.colour if kind == 0 else str(rng.choice(list(COLOURS)))
            shape = o.shape if kind == 1 else str(rng.choice(SHAPES))
            if f"{colour} {shape}" not in present:
                return f"is there a {colour} {shape} ?", "no", None, True
        raise RuntimeError("unreachable: a 4-object scene always leaves some colour/shape pair absent")
    raise ValueError(f"task: unknown task {task!r}; expected one of {TASKS} or None")


def check_size(size: object) -> int:
    """Return ``size`` when it is an int >= 16 (the rendered side in pixels), else raise a ValueError."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < MIN_SIZE:
        raise ValueError(f"size: expected an int >= {MIN_SIZE} (the image side in pixels), got {size!r}")
    return int(size)


def rescale(image: np.ndarray, masks: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """A 96-px scene and its masks resampled to ``size`` x ``size`` with one geometry.

    The image is resized bilinearly (Pillow; antialiased when shrinking). Each mask goes through the same
    filter as a float image and is thresholded at 0.5, so a mask pixel is set where the resized image takes
    at least half of its colour from the object: masks and image stay aligned at every size (nearest-
    neighbour masks would shift edges by up to half a source pixel against the filtered image).
    """
    from PIL import Image

    out = np.asarray(Image.fromarray(image).resize((size, size), Image.BILINEAR))
    resized = [
        np.asarray(Image.fromarray(m.astype(np.float32)).resize((size, size), Image.BILINEAR)) >= 0.5 for m in masks
    ]
    return out, np.stack(resized)


def _box(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    if not len(xs):
        return (0, 0, 0, 0)
    return (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)


def sample(seed: int, task: str | None = None, size: int = SIZE) -> ShapesSample:
    """The sample for one seed (deterministic).

    Args:
        seed: any non-negative integer.
        task: one of ``TASKS``; random when None.
        size: side of the image in pixels. The scene is always drawn at 96 px (same objects, question and
            answer for every size) and, for other sizes, resampled with its masks (see :func:`rescale`);
            boxes are recomputed from the resampled masks. 96 gives the original samples unchanged.

    Returns:
        The sample.
    """
    if task is not None and task not in TASKS:
        raise ValueError(f"task: unknown task {task!r}; expected one of {TASKS} or None")
    size = check_size(size)
    rng = np.random.default_rng(seed)
    scene = render_scene(rng)
    task = str(rng.choice(TASKS)) if task is None else task
    prompt, answer, target, absent = _question(scene, task, rng)
    image, masks = scene.image, np.stack([o.mask for o in scene.objects])
    boxes = tuple(o.box for o in scene.objects)
    if size != SIZE:
        image, masks = rescale(image, masks, size)
        boxes = tuple(_box(m) for m in masks)
    return ShapesSample(
        image=image,
        prompt=prompt,
        answer=answer,
        task=task,
        masks=masks,
        boxes=boxes,
        objects=tuple(o.name for o in scene.objects),
        target=target,
        absent=absent,
        seed=seed,
    )


def shapes(n: int, seed: int = 0, task: str | None = None, size: int = SIZE) -> Iterator[ShapesSample]:
    """Yield ``n`` shape-scene questions.

    Sample ``k`` uses seed ``seed * 1_000_003 + k`` so that different ``seed`` values give disjoint streams
    (the ShapesVLM trains on seeds ``0..`` of stream 0 and is evaluated on streams >= 1).

    Args:
        n: number of samples.
        seed: stream seed.
        task: one of ``"colour"``, ``"shape"``, ``"presence"``, ``"position"``, ``"count"``,
            ``"caption"``, or None for a mix.
        size: image side in pixels (default 96, the rendered size; others are resampled, see :func:`sample`).

    Yields:
        ShapesSample objects.
    """
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"n: expected a non-negative int, got {n!r}")
    if task is not None and task not in TASKS:
        raise ValueError(f"task: unknown task {task!r}; expected one of {TASKS} or None")
    size = check_size(size)
    for k in range(n):
        yield sample(seed * 1_000_003 + k, task, size)


__all__ = ["CELLS", "NUMBERS", "TASKS", "VOCABULARY", "ShapesSample", "caption", "rescale", "sample", "shapes"]
