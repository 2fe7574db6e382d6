"""Exercise (one answer key) and Feedback (one graded answer): plain frozen data, rendered in ``render``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from xattr_lab.workshop.answers import Answer, Choice, Computed, Items, Number

_ID = re.compile(r"^(\d\d)\.(\d+)$")


@dataclass(frozen=True)
class Exercise:
    """One "predict, then check" exercise.

    Attributes:
        id: ``"NN.k"``: notebook number, exercise number (e.g. ``"04.2"``).
        question: the question, in one line.
        answer: the key (:class:`Choice`, :class:`Number`, :class:`Items` or :class:`Computed`).
        hint: shown with a wrong or close answer; nudges without giving it away.
        explanation: shown with a correct answer; why it is so.
    """

    id: str
    question: str
    answer: Answer
    hint: str
    explanation: str

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise ValueError(f"Exercise id {self.id!r}: expected 'NN.k', e.g. '04.2'")
        if not isinstance(self.answer, (Choice, Number, Items, Computed)):
            raise TypeError(f"Exercise {self.id}: answer must be Choice, Number, Items or Computed")
        if not self.hint or not self.explanation:
            raise ValueError(f"Exercise {self.id}: hint and explanation must not be empty")

    @property
    def notebook(self) -> str:
        """The notebook number, ``"NN"``."""
        return self.id.split(".")[0]


@dataclass(frozen=True)
class Feedback:
    """The verdict on one answer; displays as text in a console and as a static HTML block in a notebook.

    Attributes:
        exercise_id: the exercise.
        verdict: ``"correct"``, ``"close"``, ``"wrong"``, or ``"unanswered"`` while the answer is still ``...``.
        note: a detail on a close answer (e.g. "1 missing, 0 extra"), or what to write when unanswered.
        hint: the exercise's hint (empty when correct).
        explanation: the exercise's explanation (empty unless correct).
    """

    exercise_id: str
    verdict: Literal["correct", "close", "wrong", "unanswered"]
    note: str
    hint: str
    explanation: str

    @property
    def correct(self) -> bool:
        """True for a correct answer."""
        return self.verdict == "correct"

    def __str__(self) -> str:
        from xattr_lab.workshop.render import feedback_text

        return feedback_text(self)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        from xattr_lab.workshop.render import feedback_html

        return feedback_html(self)
