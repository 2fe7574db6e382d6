"""Question/answer tasks on the synthetic shape scenes (the ShapesVLM's training and test data).

Every answer is a few words from a small closed vocabulary, captions follow one canonical order (reading
order of the grid cells), so exact-match accuracy is meaningful.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from xattr_lab.datasets.scenes import CELLS, COLOURS, SHAPES, Scene, render_scene

TASKS: tuple[str, ...] = ("colour", "shape", "presence", "position", "count", "caption")
NUMBERS: tuple[str, ...] = ("one", "two", "three", "four")
PROMPT_WORDS: tuple[str, ...] = (
    "what", "colour", "is", "the", "shape", "object", "there", "a", "where", "how", "many", "shapes",
    "are", "describe", "image", "?", ".", "yes", "no", "and", "top", "bottom", "left", "right",
)  # fmt: skip
VOCABULARY: tuple[str, ...] = PROMPT_WORDS + tuple(COLOURS) + SHAPES + NUMBERS


@dataclass(frozen=True)
class ShapesSample:
    """One scene with a question about it.

    Attributes:
        image: uint8 [96, 96, 3] RGB image.
        prompt: the question, e.g. ``"what colour is the circle ?"``.
        answer: the expected answer, e.g. ``"red"``.
        task: one of ``TASKS``.
        masks: boolean [K, 96, 96] ground-truth masks, one per object (reading order).
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


def sample(seed: int, task: str | None = None) -> ShapesSample:
    """The sample for one seed (deterministic).

    Args:
        seed: any non-negative integer.
        task: one of ``TASKS``; random when None.

    Returns:
        The sample.
    """
    if task is not None and task not in TASKS:
        raise ValueError(f"task: unknown task {task!r}; expected one of {TASKS} or None")
    rng = np.random.default_rng(seed)
    scene = render_scene(rng)
    task = str(rng.choice(TASKS)) if task is None else task
    prompt, answer, target, absent = _question(scene, task, rng)
    return ShapesSample(
        image=scene.image,
        prompt=prompt,
        answer=answer,
        task=task,
        masks=np.stack([o.mask for o in scene.objects]),
        boxes=tuple(o.box for o in scene.objects),
        objects=tuple(o.name for o in scene.objects),
        target=target,
        absent=absent,
        seed=seed,
    )


def shapes(n: int, seed: int = 0, task: str | None = None) -> Iterator[ShapesSample]:
    """Yield ``n`` shape-scene questions.

    Sample ``k`` uses seed ``seed * 1_000_003 + k`` so that different ``seed`` values give disjoint streams
    (the ShapesVLM trains on seeds ``0..`` of stream 0 and is evaluated on streams >= 1).

    Args:
        n: number of samples.
        seed: stream seed.
        task: one of ``"colour"``, ``"shape"``, ``"presence"``, ``"position"``, ``"count"``,
            ``"caption"``, or None for a mix.

    Yields:
        ShapesSample objects.
    """
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"n: expected a non-negative int, got {n!r}")
    if task is not None and task not in TASKS:
        raise ValueError(f"task: unknown task {task!r}; expected one of {TASKS} or None")
    for k in range(n):
        yield sample(seed * 1_000_003 + k, task)


__all__ = ["CELLS", "NUMBERS", "TASKS", "VOCABULARY", "ShapesSample", "caption", "sample", "shapes"]
