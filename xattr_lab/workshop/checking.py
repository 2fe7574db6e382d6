"""``check(exercise_id, answer)``: grade a learner's answer against the notebook's key."""

from __future__ import annotations

from typing import Any

from xattr_lab.workshop.answers import describe, grade
from xattr_lab.workshop.exercise import Exercise, Feedback
from xattr_lab.workshop.keys import all_exercises


def _sort_key(exercise_id: str) -> tuple[int, int]:
    nb, k = exercise_id.split(".")
    return int(nb), int(k)


def exercises(notebook: str | int | None = None) -> list[Exercise]:
    """The exercises, in order; only one notebook's with ``notebook`` (``4``, ``"04"``)."""
    items = sorted(all_exercises().values(), key=lambda e: _sort_key(e.id))
    if notebook is None:
        return items
    nb = f"{int(notebook):02d}"
    return [e for e in items if e.notebook == nb]


def check(exercise_id: str, answer: Any = ..., **objects: Any) -> Feedback:
    """Grade ``answer`` for one exercise.

    Args:
        exercise_id: e.g. ``"04.2"`` (notebook 04, exercise 2).
        answer: the prediction: a str for a choice, a number, or a set of str, as the exercise asks. Left as
            ``...`` (the notebooks' placeholder), the feedback restates the question and what to write.
        **objects: for exercises checked against the learner's own result, the objects they need
            (e.g. ``cmp=cmp``); the error message names them when missing.

    Returns:
        A :class:`Feedback`: correct (with the explanation), close or wrong (with a hint). It shows as text in
        a console and as a static HTML block in a notebook (it needs no kernel once saved).

    Raises:
        TypeError: ``exercise_id`` is not a str, or ``answer`` has the wrong type for this exercise.
        ValueError: unknown ``exercise_id`` (the message lists the valid ones), or an answer that is not
            an option.
    """
    if not isinstance(exercise_id, str):
        raise TypeError(f"exercise_id: expected a str such as '04.2', got {type(exercise_id).__name__}")
    known = all_exercises()
    ex = known.get(exercise_id.strip())
    if ex is None:
        valid = ", ".join(sorted(known, key=_sort_key))
        raise ValueError(f"exercise_id: unknown exercise {exercise_id!r}; valid ids: {valid}")
    if answer is ...:
        note = f"{ex.question} Replace ... with {describe(ex.answer)}, then run the cell again."
        return Feedback(exercise_id=ex.id, verdict="unanswered", note=note, hint="", explanation="")
    try:
        verdict, note = grade(ex.answer, answer, objects)
    except (TypeError, ValueError) as err:
        raise type(err)(f"{ex.id}: {err}") from None
    return Feedback(
        exercise_id=ex.id,
        verdict=verdict,
        note=note,
        hint="" if verdict == "correct" else ex.hint,
        explanation=ex.explanation if verdict == "correct" else "",
    )
