"""Datasets: synthetic shape scenes with questions and ground-truth masks.

``shapes(n, seed, task=...)`` yields :class:`ShapesSample` objects and ``clutter(n, seed, task=...)`` the
harder :class:`ClutterSample` scenes (binding, relations). Only numpy is imported here.
"""

from xattr_lab.datasets.clutter import ClutterSample, clutter
from xattr_lab.datasets.frames import FramesSample, frames
from xattr_lab.datasets.shapes import TASKS, ShapesSample, shapes
from xattr_lab.datasets.shortcut import ShortcutSample, shortcut

__all__ = [
    "TASKS", "ClutterSample", "FramesSample", "ShapesSample", "ShortcutSample",
    "clutter", "frames", "shapes", "shortcut",
]  # fmt: skip
