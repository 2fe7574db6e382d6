"""Frame sequences with a known decisive frame: ``frames(n, seed, task=...)``.

A sequence is ``t`` shape scenes (the ShapesVLM's 96x96 scenes, :mod:`xattr_lab.datasets.shapes`). The
question is asked about one object, and that object appears in exactly one frame, the *decisive* one:

* ``"colour"``: ``"what colour is the circle ?"``; only the decisive frame holds a circle, and no other
  frame holds anything of the answer's colour.
* ``"shape"``: ``"what shape is the red object ?"``; only the decisive frame holds something red, and no
  other frame holds the answer's shape.

So the answer can be read from the decisive frame alone, and removing it removes the evidence (the
ground truth a temporal explanation is checked against). The decisive frame's position is drawn uniformly.
Sample ``k`` of stream ``seed`` starts from the shapes scene with seed ``seed * 1_000_003 + k`` (the
ShapesVLM trains on stream 0; use ``seed >= 1`` for held-out sequences). Only numpy is imported here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

FRAME_TASKS: tuple[str, ...] = ("colour", "shape")


@dataclass(frozen=True)
class FramesSample:
    """One frame sequence with a question whose answer lies in one known frame.

    Attributes:
        frames: uint8 [T, 96, 96, 3] RGB frames.
        prompt: the question, e.g. ``"what colour is the circle ?"``.
        answer: the expected answer, e.g. ``"red"``.
        task: one of ``FRAME_TASKS``.
        decisive: index of the only frame holding the asked object.
        masks: bool [T, 96, 96]: the asked object's pixels (all False outside the decisive frame).
        objects: per frame, ``"<colour> <shape>"`` for each object.
        seed: the sample's seed (``frames_sample(seed, t, task)`` reproduces it).
    """

    frames: np.ndarray
    prompt: str
    answer: str
    task: str
    decisive: int
    masks: np.ndarray
    objects: tuple[tuple[str, ...], ...]
    seed: int

    @property
    def n_frames(self) -> int:
        """Number of frames T."""
        return int(self.frames.shape[0])


def _clean(objects: tuple[str, ...], task: str, asked: str, answer: str) -> bool:
    """True when a filler frame holds neither the asked attribute nor the answer."""
    if task == "colour":
        return all(o.split()[1] != asked and o.split()[0] != answer for o in objects)
    return all(o.split()[0] != asked and o.split()[1] != answer for o in objects)


def frames_sample(seed: int, t: int = 4, task: str = "colour") -> FramesSample:
    """The sequence for one seed (deterministic); see the module docstring.

    Raises:
        ValueError: for an unknown task or fewer than two frames.
    """
    from xattr_lab.datasets.shapes import sample

    if task not in FRAME_TASKS:
        raise ValueError(f"task: unknown frame task {task!r}; expected one of {FRAME_TASKS}")
    if not isinstance(t, (int, np.integer)) or t < 2:
        raise ValueError(f"t: expected an integer number of frames >= 2, got {t!r}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed: expected a non-negative integer, got {seed!r}")
    main = sample(int(seed), task)
    asked = main.objects[main.target].split()[1 if task == "colour" else 0]
    rng = np.random.default_rng([int(seed), int(t), FRAME_TASKS.index(task)])
    decisive = int(rng.integers(t))
    fillers = []
    while len(fillers) < t - 1:
        # Fillers come from seeds far above any training stream's range.
        other = sample(int(rng.integers(2**40, 2**41)), task)
        if _clean(other.objects, task, asked, main.answer):
            fillers.append(other)
    scenes = fillers[:decisive] + [main] + fillers[decisive:]
    masks = np.zeros((t, *main.image.shape[:2]), dtype=bool)
    masks[decisive] = main.masks[main.target]
    return FramesSample(
        frames=np.stack([s.image for s in scenes]),
        prompt=main.prompt,
        answer=main.answer,
        task=task,
        decisive=decisive,
        masks=masks,
        objects=tuple(s.objects for s in scenes),
        seed=int(seed),
    )


def frames(n: int, seed: int = 0, t: int = 4, task: str = "colour") -> Iterator[FramesSample]:
    """Yield ``n`` frame sequences of stream ``seed`` (sample ``k`` uses seed ``seed * 1_000_003 + k``).

    Args:
        n: number of sequences.
        seed: stream seed (``>= 1`` for sequences the ShapesVLM never trained on).
        t: frames per sequence.
        task: ``"colour"`` or ``"shape"``.
    """
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n: expected a non-negative integer, got {n!r}")
    for k in range(int(n)):
        yield frames_sample(int(seed) * 1_000_003 + k, t, task)


__all__ = ["FRAME_TASKS", "FramesSample", "frames", "frames_sample"]
