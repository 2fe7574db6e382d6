"""Synthetic scenes of coloured shapes with a ground-truth mask per object.

A scene is a 96 x 96 RGB image split into a 2 x 2 grid of cells; each object sits in its own cell with some
jitter, so positions are unambiguous ("top left") and every object has a clean mask. Clutter (thin grey lines
and dots) and pixel noise keep the task from being trivially linear. Colours and shapes are distinct inside a
scene, so "the red object" or "the circle" always names one object.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SIZE = 96
CELL = SIZE // 2
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (215, 35, 35),
    "green": (35, 160, 55),
    "blue": (40, 75, 215),
    "yellow": (235, 200, 25),
    "purple": (140, 50, 180),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "star")
CELLS: tuple[str, ...] = ("top left", "top right", "bottom left", "bottom right")
JITTER = 4.0  # pixels an object centre may move from its cell centre


@dataclass(frozen=True)
class SceneObject:
    """One shape in a scene.

    Attributes:
        colour: colour name (a key of ``COLOURS``).
        shape: shape name (one of ``SHAPES``).
        cell: grid cell index 0..3 in reading order (top left, top right, bottom left, bottom right).
        mask: boolean [H, W] ground-truth mask.
        box: (x0, y0, x1, y1) bounding box of the mask, end exclusive.
    """

    colour: str
    shape: str
    cell: int
    mask: np.ndarray
    box: tuple[int, int, int, int]

    @property
    def position(self) -> str:
        """The cell as words, e.g. ``"top left"``."""
        return CELLS[self.cell]

    @property
    def name(self) -> str:
        """``"<colour> <shape>"``."""
        return f"{self.colour} {self.shape}"


@dataclass(frozen=True)
class Scene:
    """An image and its objects (sorted by cell, i.e. in reading order)."""

    image: np.ndarray
    objects: tuple[SceneObject, ...]


def _polygon_mask(xs: np.ndarray, ys: np.ndarray, size: int = SIZE) -> np.ndarray:
    from skimage.draw import polygon  # lazy: skimage is slow to import

    mask = np.zeros((size, size), dtype=bool)
    rr, cc = polygon(ys, xs, shape=mask.shape)
    mask[rr, cc] = True
    return mask


def shape_mask(shape: str, cx: float, cy: float, radius: float, angle: float = 0.0, size: int = SIZE) -> np.ndarray:
    """Boolean mask of ``shape`` centred at (cx, cy) with circumradius ``radius``.

    Args:
        shape: one of ``SHAPES``.
        cx: centre x in pixels.
        cy: centre y in pixels.
        radius: circumradius in pixels.
        angle: small rotation in radians (squares, triangles and stars only).
        size: the side of the (square) image; the clutter world draws the same silhouettes at 160.

    Returns:
        A boolean [size, size] array.
    """
    if shape == "circle":
        yy, xx = np.mgrid[:size, :size]
        return (xx - cx) ** 2 + (yy - cy) ** 2 <= radius**2
    if shape == "square":
        # a square of side ~1.6 r reads as the same "size" as a circle of radius r
        k, start = 4, np.pi / 4
        t = start + angle + 2 * np.pi * np.arange(k) / k
        r = np.full(k, radius * 1.15)
    elif shape == "triangle":
        k, start = 3, -np.pi / 2
        t = start + angle + 2 * np.pi * np.arange(k) / k
        r = np.full(k, radius * 1.2)
    elif shape == "star":
        k, start = 10, -np.pi / 2
        t = start + angle + 2 * np.pi * np.arange(k) / k
        r = np.where(np.arange(k) % 2 == 0, radius * 1.25, radius * 0.5)
    else:
        raise ValueError(f"shape: unknown shape {shape!r}; expected one of {SHAPES}")
    return _polygon_mask(cx + r * np.cos(t), cy + r * np.sin(t), size)


def _clutter(image: np.ndarray, rng: np.random.Generator) -> None:
    from skimage.draw import disk, line

    for _ in range(rng.integers(0, 4)):
        grey = int(rng.integers(70, 150))
        if rng.random() < 0.5:
            r0, c0, r1, c1 = (int(v) for v in rng.integers(0, SIZE, size=4))
            rr, cc = line(r0, c0, r1, c1)
        else:
            rr, cc = disk((rng.integers(2, SIZE - 2), rng.integers(2, SIZE - 2)), 1.5, shape=image.shape[:2])
        image[rr, cc] = grey


def render_scene(rng: np.random.Generator, n_objects: int | None = None) -> Scene:
    """Draw one random scene.

    Args:
        rng: the random generator (the only source of randomness).
        n_objects: how many shapes (1-4); random when None.

    Returns:
        The scene: a uint8 image [96, 96, 3] and its objects in reading order.
    """
    n = int(rng.integers(1, 5)) if n_objects is None else n_objects
    if not 1 <= n <= 4:
        raise ValueError(f"n_objects: expected 1 to 4, got {n}")
    background = rng.integers(195, 250) + rng.integers(-8, 9, size=3)
    image = np.broadcast_to(background, (SIZE, SIZE, 3)).astype(np.float64)
    _clutter(image, rng)

    cells = np.sort(rng.choice(4, size=n, replace=False))
    colours = rng.choice(list(COLOURS), size=n, replace=False)
    shapes = rng.choice(SHAPES, size=n, replace=False)
    objects = []
    for cell, colour, shape in zip(cells, colours, shapes):
        # small jitter around the cell centre: shapes stay recognisable from a few 16-px patches, which
        # is what lets a tiny model learn them on a CPU budget
        radius = rng.uniform(12.0, 16.0)
        cx = (cell % 2) * CELL + CELL / 2 + rng.uniform(-JITTER, JITTER)
        cy = (cell // 2) * CELL + CELL / 2 + rng.uniform(-JITTER, JITTER)
        mask = shape_mask(str(shape), cx, cy, radius, angle=rng.uniform(-0.15, 0.15))
        rgb = np.clip(np.array(COLOURS[str(colour)]) + rng.integers(-20, 21, size=3), 0, 255)
        image[mask] = rgb
        ys, xs = np.nonzero(mask)
        box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
        objects.append(SceneObject(str(colour), str(shape), int(cell), mask, box))
    image += rng.normal(0.0, 6.0, size=image.shape)
    return Scene(np.clip(image, 0, 255).round().astype(np.uint8), tuple(objects))
