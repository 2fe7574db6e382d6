"""Cluttered scenes whose questions need binding: the ``toy-clutter`` model's training and test data.

A scene is a 160 x 160 RGB image with 5-9 objects (small and large, five colours, four shapes) on a textured,
noisy background. Objects sit in the cells of a 3 x 3 grid with enough jitter that neighbours partly overlap
(each keeps at least half of its pixels visible; ``masks`` are the visible pixels). No two objects share both
colour and shape, so "the red star" always names one object, but most scenes repeat colours and shapes, and
every question is built so that a distractor shares the asked object's colour or shape:

* colour: ``"what colour is the [small|large] star ?"``, the shape (with its size when another object has
  the same shape) names one object, and another object has its colour;
* shape: ``"what shape is the [small|large] red object ?"``, symmetrically;
* presence: ``"is there a red star ?"``; absent pairs are hard negatives whose colour and shape are both in
  the scene, on other objects;
* position: ``"where is the red star ?"`` -> ``"top left"`` ... ``"bottom right"`` (rows top / middle / bottom,
  columns left / centre / right), with a same-colour or same-shape distractor;
* count: ``"how many red objects are there ?"`` or ``"how many stars are there ?"`` -> one to four (uniform);
* relation: ``"what is left of the red star ?"`` (also right of, above, below) -> the object in the adjacent
  grid cell, e.g. ``"blue circle"``; ``related`` is the reference object, ``target`` the answer;
* caption: ``"describe the image ."`` -> ``"a red circle and a blue star and ..."``, objects in reading order
  of their cells. Caption scenes have exactly five objects (the minimum) so that captions stay learnable by a
  small model; all other tasks draw 5-9.

Only numpy is imported at module level (skimage lazily, to draw polygons).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from xattr_lab.datasets.scenes import COLOURS, SHAPES, shape_mask

IMAGE_SIZE = 160
GRID = 3
CELL = IMAGE_SIZE / GRID
ROWS: tuple[str, ...] = ("top", "middle", "bottom")
COLUMNS: tuple[str, ...] = ("left", "centre", "right")
POSITIONS: tuple[str, ...] = tuple(f"{r} {c}" for r in ROWS for c in COLUMNS)
TASKS: tuple[str, ...] = ("colour", "shape", "presence", "position", "count", "relation", "caption")
NUMBERS: tuple[str, ...] = ("one", "two", "three", "four")
SIZES: tuple[str, ...] = ("small", "large")
PLURALS: dict[str, str] = {"circle": "circles", "square": "squares", "triangle": "triangles", "star": "stars"}
# relation word(s) -> (row step, column step) from the reference object to the answer
RELATIONS: dict[str, tuple[int, int]] = {"left of": (0, -1), "right of": (0, 1), "above": (-1, 0), "below": (1, 0)}
MIN_OBJECTS, MAX_OBJECTS, CAPTION_OBJECTS = 5, 9, 5
SMALL_RADIUS, LARGE_RADIUS = (6.0, 8.0), (12.0, 15.0)
MIN_VISIBLE = 0.5  # share of an object's own pixels that later-drawn objects may not cover
PROMPT_WORDS: tuple[str, ...] = (
    "what", "colour", "is", "the", "shape", "object", "objects", "there", "a", "where", "how", "many",
    "are", "describe", "image", "?", ".", "yes", "no", "and", "of", "above", "below",
    *ROWS, *COLUMNS, *SIZES, *PLURALS.values(),
)  # fmt: skip
VOCABULARY: tuple[str, ...] = PROMPT_WORDS + tuple(COLOURS) + SHAPES + NUMBERS
_YY, _XX = np.mgrid[:IMAGE_SIZE, :IMAGE_SIZE].astype(np.float32)  # pixel grids, shared by every draw


@dataclass(frozen=True)
class ClutterSample:
    """One cluttered scene with a question about it (the fields of ``ShapesSample`` plus relation fields).

    Attributes:
        image: uint8 [160, 160, 3] RGB image.
        prompt: the question, e.g. ``"what colour is the small star ?"``.
        answer: the expected answer, e.g. ``"red"``.
        task: one of ``TASKS``.
        masks: boolean [K, 160, 160] visible pixels of each object (reading order of their grid cells).
        boxes: (x0, y0, x1, y1) of each visible mask, end exclusive.
        objects: ``"<colour> <shape>"`` per object.
        target: index of the object the answer is about (for relations: the answer object), or None
            (counts, captions, absent objects).
        absent: True for presence questions about an object not in the scene.
        seed: the seed that reproduces the sample with ``clutter(1, seed, task)`` (see ``sample``).
        related: for relations, the index of the reference object ("the red star" in "what is left of the
            red star ?"); None otherwise.
        relation: for relations, one of ``RELATIONS``; None otherwise.
        sizes: ``"small"`` or ``"large"`` per object.
        cells: grid cell per object, 0..8 in reading order.
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
    related: int | None = None
    relation: str | None = None
    sizes: tuple[str, ...] = ()
    cells: tuple[int, ...] = ()


@dataclass(frozen=True)
class _Spec:
    colour: str
    shape: str
    size: str
    cell: int


def _draw_specs(rng: np.random.Generator, n: int) -> list[_Spec]:
    """``n`` objects with distinct (colour, shape) pairs in distinct cells, sorted by cell."""
    pairs = [(c, s) for c in COLOURS for s in SHAPES]
    chosen = rng.choice(len(pairs), size=n, replace=False)
    cells = np.sort(rng.choice(GRID * GRID, size=n, replace=False))
    sizes = rng.random(n) < 0.4
    return [
        _Spec(pairs[k][0], pairs[k][1], "small" if small else "large", int(cell))
        for k, cell, small in zip(chosen, cells, sizes)
    ]


def _unique(specs: list[_Spec], i: int, *fields: str) -> bool:
    key = tuple(getattr(specs[i], f) for f in fields)
    return sum(tuple(getattr(o, f) for f in fields) == key for o in specs) == 1


def _lookup(specs: list[_Spec], i: int, by: str, other: str) -> str | None:
    """The referring phrase for object ``i`` by ``by`` (shape or colour), with its size when needed.

    None when even size does not single it out, or when no distractor shares its ``other`` attribute.
    """
    o = specs[i]
    if not any(getattr(x, other) == getattr(o, other) for j, x in enumerate(specs) if j != i):
        return None  # no binding distractor
    if _unique(specs, i, by):
        return getattr(o, by)
    if _unique(specs, i, by, "size"):
        return f"{o.size} {getattr(o, by)}"
    return None


def _neighbour(specs: list[_Spec], i: int, step: tuple[int, int]) -> int | None:
    row, col = divmod(specs[i].cell, GRID)
    r, c = row + step[0], col + step[1]
    if not (0 <= r < GRID and 0 <= c < GRID):
        return None
    for j, o in enumerate(specs):
        if o.cell == r * GRID + c:
            return j
    return None


def _question(specs: list[_Spec], task: str, rng: np.random.Generator, want: int = 1) -> tuple | None:
    """(prompt, answer, target, absent, related, relation) for these objects, or None to redraw them.

    ``want`` is the count a count question must have (drawn once per sample, so counts are uniform).
    """
    i = int(rng.integers(len(specs)))
    o = specs[i]
    if task == "colour":
        phrase = _lookup(specs, i, "shape", "colour")
        return None if phrase is None else (f"what colour is the {phrase} ?", o.colour, i, False, None, None)
    if task == "shape":
        phrase = _lookup(specs, i, "colour", "shape")
        return None if phrase is None else (f"what shape is the {phrase} object ?", o.shape, i, False, None, None)
    if task == "position":
        if not any((x.colour == o.colour) != (x.shape == o.shape) for x in specs):
            return None
        return f"where is the {o.colour} {o.shape} ?", POSITIONS[o.cell], i, False, None, None
    if task == "presence":
        if rng.random() < 0.5:
            return f"is there a {o.colour} {o.shape} ?", "yes", i, False, None, None
        present = {(x.colour, x.shape) for x in specs}
        colours, shapes_ = sorted({x.colour for x in specs}), sorted({x.shape for x in specs})
        absent = [(c, s) for c in colours for s in shapes_ if (c, s) not in present]
        if not absent:
            return None
        c, s = absent[int(rng.integers(len(absent)))]
        return f"is there a {c} {s} ?", "no", None, True, None, None
    if task == "count":
        k = want
        if rng.random() < 0.5:
            if sum(x.colour == o.colour for x in specs) != k:
                return None
            return f"how many {o.colour} objects are there ?", NUMBERS[k - 1], None, False, None, None
        if sum(x.shape == o.shape for x in specs) != k:
            return None
        return f"how many {PLURALS[o.shape]} are there ?", NUMBERS[k - 1], None, False, None, None
    if task == "relation":
        relation = list(RELATIONS)[int(rng.integers(len(RELATIONS)))]
        j = _neighbour(specs, i, RELATIONS[relation])
        if j is None:
            return None
        a = specs[j]
        return f"what is {relation} the {o.colour} {o.shape} ?", f"{a.colour} {a.shape}", j, False, i, relation
    if task == "caption":
        answer = " and ".join(f"a {x.colour} {x.shape}" for x in specs)
        return "describe the image .", answer, None, False, None, None
    raise ValueError(f"task: unknown task {task!r}; expected one of {TASKS} or None")


def _shape_mask(shape: str, cx: float, cy: float, radius: float, angle: float) -> np.ndarray:
    """Boolean [160, 160] mask of ``shape`` centred at (cx, cy) with circumradius ``radius``."""
    if shape == "circle":
        # float32 grids here (scenes uses int grids, hence float64): a circle's edge pixels can differ, and the
        # shipped toy-clutter models were trained on these images, so the circle keeps its own arithmetic
        return (_XX - cx) ** 2 + (_YY - cy) ** 2 <= radius**2
    # the polygons: the ShapesVLM's silhouettes (same float64 arithmetic, pixel-exact), at this image size
    return shape_mask(shape, cx, cy, radius, angle, size=IMAGE_SIZE)


def _background(rng: np.random.Generator) -> np.ndarray:
    """A light, low-saturation textured background: smooth blotches, optional stripes, grey lines and dots."""
    from skimage.draw import disk, line

    base = rng.uniform(170, 225) + rng.uniform(-10, 10, size=3)
    coarse = rng.normal(0.0, 14.0, size=(5, 5))
    # bilinear upsampling of a 5 x 5 noise grid: blotches a few objects wide
    xs = np.linspace(0, 4, IMAGE_SIZE)
    i0 = np.minimum(xs.astype(int), 3)
    f = xs - i0
    rows = coarse[i0] * (1 - f)[:, None] + coarse[i0 + 1] * f[:, None]
    blotch = rows[:, i0] * (1 - f)[None, :] + rows[:, i0 + 1] * f[None, :]
    image = (base[None, None, :] + blotch[:, :, None]).astype(np.float32)
    if rng.random() < 0.5:
        yy, xx = _YY, _XX
        theta, period = rng.uniform(0, np.pi), rng.uniform(6, 14)
        image += (8.0 * np.sin(2 * np.pi * (xx * np.cos(theta) + yy * np.sin(theta)) / period))[:, :, None]
    for _ in range(int(rng.integers(2, 7))):
        grey = float(rng.uniform(80, 160))
        if rng.random() < 0.5:
            r0, c0, r1, c1 = (int(v) for v in rng.integers(0, IMAGE_SIZE, size=4))
            rr, cc = line(r0, c0, r1, c1)
        else:
            centre = (int(rng.integers(2, IMAGE_SIZE - 2)), int(rng.integers(2, IMAGE_SIZE - 2)))
            rr, cc = disk(centre, 1.5, shape=(IMAGE_SIZE, IMAGE_SIZE))
        image[rr, cc] = grey
    return image


def _render(specs: list[_Spec], rng: np.random.Generator) -> tuple[np.ndarray, list[np.ndarray]]:
    """The image and each object's visible mask; objects drawn in random order, partly overlapping.

    Returns an empty mask list (and no image) when an object would keep less than ``MIN_VISIBLE`` of its
    pixels; the caller then redraws.
    """
    own: list[np.ndarray] = []
    for o in specs:
        lo, hi = SMALL_RADIUS if o.size == "small" else LARGE_RADIUS
        radius = rng.uniform(lo, hi)
        row, col = divmod(o.cell, GRID)
        # jitter keeps the centre well inside its cell (positions stay unambiguous) while large
        # neighbours can reach into each other; the centre is clamped so the object stays in the image
        reach = CELL / 2 - 6
        margin = 1.25 * radius + 1
        cx = float(np.clip((col + 0.5) * CELL + rng.uniform(-reach, reach), margin, IMAGE_SIZE - margin))
        cy = float(np.clip((row + 0.5) * CELL + rng.uniform(-reach, reach), margin, IMAGE_SIZE - margin))
        own.append(_shape_mask(o.shape, cx, cy, radius, float(rng.uniform(-0.3, 0.3))))
    order = rng.permutation(len(specs))
    # the topmost object per pixel: later-drawn objects cover earlier ones
    top = np.full((IMAGE_SIZE, IMAGE_SIZE), -1, dtype=np.int8)
    for k in order:
        top[own[k]] = k
    visible = [top == k for k in range(len(specs))]
    if any(v.sum() < MIN_VISIBLE * m.sum() for v, m in zip(visible, own)):
        return np.zeros(0, dtype=np.uint8), []
    image = _background(rng)
    for k in order:
        rgb = np.clip(np.array(COLOURS[specs[k].colour]) + rng.integers(-20, 21, size=3), 0, 255)
        image[own[k]] = rgb
    image += 8.0 * rng.standard_normal(size=image.shape, dtype=np.float32)
    return np.clip(image, 0, 255).round().astype(np.uint8), visible


def _check_objects(objects: tuple[int, int] | None) -> tuple[int, int]:
    if objects is None:
        return MIN_OBJECTS, MAX_OBJECTS
    ok = isinstance(objects, tuple | list) and len(objects) == 2 and all(isinstance(v, int) for v in objects)
    if not ok or not 2 <= objects[0] <= objects[1] <= MAX_OBJECTS:
        raise ValueError(f"objects: expected (low, high) with 2 <= low <= high <= {MAX_OBJECTS}, got {objects!r}")
    return int(objects[0]), int(objects[1])


def _balanced(specs: list[_Spec], task: str, target: int | None) -> bool:
    """Whether a colour (shape) question's answer is *not* the scene's only commonest colour (shape).

    Every colour question has a distractor of the answer's colour, so "name the commonest colour" answers
    many of them without binding; in a balanced scene another colour is at least as common as the answer's.
    Other tasks are always balanced.
    """
    field = {"colour": "colour", "shape": "shape"}.get(task)
    if field is None or target is None:
        return True
    answer = getattr(specs[target], field)
    counts = [sum(getattr(o, field) == v for o in specs) for v in {getattr(o, field) for o in specs}]
    mine = sum(getattr(o, field) == answer for o in specs)
    return counts.count(max(counts)) > 1 or max(counts) > mine


def sample(
    seed: int, task: str | None = None, objects: tuple[int, int] | None = None, balanced: bool = False
) -> ClutterSample:
    """The sample for one seed (deterministic).

    Args:
        seed: any non-negative integer.
        task: one of ``TASKS``; random when None.
        objects: (low, high) number of objects, for a training curriculum of sparser scenes; None is the
            world's 5-9 (captions: 5). A count's answer is capped at ``high - 1``, a caption has
            ``min(5, high)`` objects. The default draws exactly the scenes it always drew.
        balanced: close the commonest-attribute shortcut: a colour (shape) question is only asked in a scene
            where another colour (shape) is at least as common as the answer's, so that naming the scene's
            commonest colour is right at most half the time (ties). False draws the world's scenes.

    Returns:
        The sample.
    """
    if task is not None and task not in TASKS:
        raise ValueError(f"task: unknown task {task!r}; expected one of {TASKS} or None")
    low, high = _check_objects(objects)
    rng = np.random.default_rng(seed)
    task = str(rng.choice(TASKS)) if task is None else task
    want = int(rng.integers(1, len(NUMBERS) + 1))  # a count question's answer, uniform over one..four
    if objects is not None:  # k objects sharing a colour or shape among at most `high` is rare at k = high
        want = min(want, max(1, high - 1))
    caption_objects = max(low, min(CAPTION_OBJECTS, high))
    for _ in range(10_000):  # rejection sampling over object lists: cheap, nothing is drawn until accepted
        n = caption_objects if task == "caption" else int(rng.integers(low, high + 1))
        specs = _draw_specs(rng, n)
        question = _question(specs, task, rng, want)
        if question is None or (balanced and not _balanced(specs, task, question[2])):
            continue
        image, masks = _render(specs, rng)
        if masks:
            break
    else:  # pragma: no cover - every task accepts a sizeable share of draws
        raise RuntimeError(f"no {task} scene found for seed {seed}")
    prompt, answer, target, absent, related, relation = question
    boxes = []
    for m in masks:
        ys, xs = np.nonzero(m)
        boxes.append((int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1))
    return ClutterSample(
        image=image,
        prompt=prompt,
        answer=answer,
        task=task,
        masks=np.stack(masks),
        boxes=tuple(boxes),
        objects=tuple(f"{o.colour} {o.shape}" for o in specs),
        target=target,
        absent=absent,
        seed=seed,
        related=related,
        relation=relation,
        sizes=tuple(o.size for o in specs),
        cells=tuple(o.cell for o in specs),
    )


def clutter(
    n: int, seed: int = 0, task: str | None = None, objects: tuple[int, int] | None = None, balanced: bool = False
) -> Iterator[ClutterSample]:
    """Yield ``n`` cluttered-scene questions.

    Sample ``k`` uses seed ``seed * 1_000_003 + k``, as :func:`xattr_lab.datasets.shapes` does: stream 0 is
    the training stream of ``toy-clutter``, streams >= 1 are held out.

    Args:
        n: number of samples.
        seed: stream seed.
        task: one of ``TASKS``, or None for a mix.
        objects: (low, high) objects per scene for sparser training scenes (see :func:`sample`); None is
            the world's 5-9.
        balanced: colour and shape questions only where the answer is not the scene's only commonest
            colour or shape (see :func:`sample`): a held-out test of binding without the frequency shortcut.

    Yields:
        ClutterSample objects.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"n: expected a non-negative int, got {n!r}")
    if task is not None and task not in TASKS:
        raise ValueError(f"task: unknown task {task!r}; expected one of {TASKS} or None")
    _check_objects(objects)
    if not isinstance(balanced, bool):
        raise TypeError(f"balanced: expected a bool, got {type(balanced).__name__}")
    for k in range(n):
        yield sample(seed * 1_000_003 + k, task, objects, balanced)


__all__ = [
    "IMAGE_SIZE", "NUMBERS", "POSITIONS", "RELATIONS", "TASKS", "VOCABULARY", "ClutterSample", "clutter", "sample",
]  # fmt: skip
