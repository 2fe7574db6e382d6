"""Datasets: synthetic shape scenes with questions and ground-truth masks.

``shapes(n, seed, task=...)`` yields :class:`ShapesSample` objects. Only numpy is imported here.
"""

from xattr_lab.datasets.shapes import TASKS, ShapesSample, shapes
from xattr_lab.datasets.shortcut import ShortcutSample, shortcut

__all__ = ["TASKS", "ShapesSample", "ShortcutSample", "shapes", "shortcut"]
