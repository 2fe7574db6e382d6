"""Workshop helpers: "predict, then check" exercises for the notebooks in ``notebooks/``.

``check("04.2", answer)`` grades a prediction against the notebook's answer key (data in
``xattr_lab.workshop.keys.nbNN``) and gives feedback: correct with an explanation, or close / wrong with a
hint. The full solutions sit in each notebook, in collapsed ``<details>`` blocks.
"""

from __future__ import annotations

from xattr_lab.workshop.answers import Choice, Computed, Items, Number
from xattr_lab.workshop.checking import check, exercises
from xattr_lab.workshop.exercise import Exercise, Feedback

__all__ = ["Choice", "Computed", "Exercise", "Feedback", "Items", "Number", "check", "exercises"]
