"""Datasets: synthetic shape scenes with questions and ground-truth masks.

``shapes(n, seed, task=...)`` yields :class:`ShapesSample` objects. Only numpy is imported here.
"""

from xattr_lab.datasets.shapes import TASKS, ShapesSample, shapes

__all__ = ["TASKS", "ShapesSample", "shapes"]
