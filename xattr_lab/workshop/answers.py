"""Answer kinds for workshop exercises: a choice, a number with a tolerance, a set, or a value computed live.

Each kind is plain data plus one ``grade`` function that type-checks the learner's answer and returns a
verdict (``"correct"``, ``"close"`` or ``"wrong"``) with a short note. Keys stay data so a teacher can read
and edit them without touching the checking code.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, Literal

Verdict = Literal["correct", "close", "wrong"]


def _norm(text: str) -> str:
    return " ".join(text.strip().lower().split())


@dataclass(frozen=True)
class Choice:
    """One option out of several.

    Attributes:
        options: the options a learner may give (matched case- and space-insensitively).
        correct: the right option.
        close: options that earn "close", each with its own hint.
    """

    options: tuple[str, ...]
    correct: str
    close: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        known = {_norm(o) for o in self.options}
        bad = [o for o in (self.correct, *self.close) if _norm(o) not in known]
        if bad:
            raise ValueError(f"Choice: {bad} are not among the options {list(self.options)}")


@dataclass(frozen=True)
class Number:
    """A number, right within ``tol`` and close within ``close_tol`` (absolute differences).

    Attributes:
        value: the expected number.
        tol: the largest difference that still counts as correct.
        close_tol: the largest difference that counts as close; default 3 × ``tol``.
    """

    value: float
    tol: float
    close_tol: float | None = None

    def __post_init__(self) -> None:
        if not self.tol >= 0 or (self.close_tol is not None and not self.close_tol >= self.tol):
            raise ValueError(f"Number: need 0 <= tol <= close_tol, got tol={self.tol}, close_tol={self.close_tol}")


@dataclass(frozen=True)
class Items:
    """A set of items (order does not matter), close when at most ``close_within`` items differ.

    Attributes:
        correct: the right set.
        options: the items a learner may name (``None``: any string).
        close_within: how many missing or extra items still count as close.
    """

    correct: frozenset[str]
    options: tuple[str, ...] | None = None
    close_within: int = 1

    def __post_init__(self) -> None:
        if self.options is not None:
            known = {_norm(o) for o in self.options}
            bad = sorted(o for o in self.correct if _norm(o) not in known)
            if bad:
                raise ValueError(f"Items: {bad} are not among the options {list(self.options)}")


@dataclass(frozen=True)
class Computed:
    """An expected value computed from the learner's own objects (their live result), then graded.

    Attributes:
        needs: names of the objects the learner passes to ``check`` as keywords (e.g. ``("cmp",)``).
        expected: called with those objects as positional arguments, in ``needs`` order; returns a ``str``
            (graded as a choice), a number or a set.
        tol: for a number, the tolerance; ``close_tol`` as in :class:`Number`.
        close_tol: for a number, the close tolerance.
        options: for a string, the options a learner may give (``None``: any string).
    """

    needs: tuple[str, ...]
    expected: Callable[..., Any]
    tol: float = 0.0
    close_tol: float | None = None
    options: tuple[str, ...] | None = None


Answer = Choice | Number | Items | Computed


def _grade_choice(spec: Choice, answer: Any) -> tuple[Verdict, str]:
    if not isinstance(answer, str):
        raise TypeError(f"answer: expected one of {list(spec.options)} as a str, got {type(answer).__name__}")
    given = _norm(answer)
    if given not in {_norm(o) for o in spec.options}:
        raise ValueError(f"answer: {answer!r} is not an option; choose one of {list(spec.options)}")
    if given == _norm(spec.correct):
        return "correct", ""
    for option, note in spec.close.items():
        if given == _norm(option):
            return "close", note
    return "wrong", ""


def _as_number(answer: Any) -> float:
    # bool is an int subclass, but True is not an answer to "how many"
    if isinstance(answer, bool) or not isinstance(answer, Real):
        raise TypeError(f"answer: expected a number (int or float), got {type(answer).__name__}")
    value = float(answer)
    if not math.isfinite(value):
        raise ValueError(f"answer: expected a finite number, got {answer!r}")
    return value


def _grade_number(value: float, tol: float, close_tol: float | None, answer: Any) -> tuple[Verdict, str]:
    diff = abs(_as_number(answer) - value)
    if diff <= tol + 1e-12:
        return "correct", ""
    if diff <= (3 * tol if close_tol is None else close_tol) + 1e-12:
        return "close", "close, but not within the tolerance"
    return "wrong", ""


def _as_items(answer: Any) -> frozenset[str]:
    if isinstance(answer, str) or not isinstance(answer, Iterable):
        raise TypeError(f"answer: expected a set (or list) of str, got {type(answer).__name__}")
    items = list(answer)
    if not all(isinstance(i, str) for i in items):
        raise TypeError("answer: every item must be a str")
    return frozenset(_norm(i) for i in items)


def _grade_items(
    correct: frozenset[str], options: tuple[str, ...] | None, within: int, answer: Any
) -> tuple[Verdict, str]:
    given = _as_items(answer)
    if options is not None:
        unknown = sorted(given - {_norm(o) for o in options})
        if unknown:
            raise ValueError(f"answer: {unknown} are not options; choose from {list(options)}")
    want = frozenset(_norm(c) for c in correct)
    if given == want:
        return "correct", ""
    missing, extra = len(want - given), len(given - want)
    if missing + extra <= within:
        return "close", f"{missing} missing, {extra} extra"
    return "wrong", ""


def _grade_computed(spec: Computed, answer: Any, objects: Mapping[str, Any]) -> tuple[Verdict, str]:
    absent = [n for n in spec.needs if n not in objects]
    if absent:
        wanted = ", ".join(f"{n}=..." for n in absent)
        raise ValueError(f"this exercise is checked against your own result: pass {wanted}")
    expected = spec.expected(*(objects[n] for n in spec.needs))
    if isinstance(expected, str):
        if spec.options is None:
            if not isinstance(answer, str):
                raise TypeError(f"answer: expected a str, got {type(answer).__name__}")
            return ("correct", "") if _norm(answer) == _norm(expected) else ("wrong", "")
        return _grade_choice(Choice(spec.options, expected), answer)
    if isinstance(expected, (set, frozenset)):
        return _grade_items(frozenset(expected), spec.options, 1, answer)
    return _grade_number(float(expected), spec.tol, spec.close_tol, answer)


def grade(spec: Answer, answer: Any, objects: Mapping[str, Any]) -> tuple[Verdict, str]:
    """Type-check ``answer`` against ``spec`` and grade it.

    Raises:
        TypeError: the answer has the wrong type for this exercise.
        ValueError: the answer is not an allowed option, or a live exercise lacks its objects.
    """
    if isinstance(spec, Choice):
        return _grade_choice(spec, answer)
    if isinstance(spec, Number):
        return _grade_number(spec.value, spec.tol, spec.close_tol, answer)
    if isinstance(spec, Items):
        return _grade_items(spec.correct, spec.options, spec.close_within, answer)
    return _grade_computed(spec, answer, objects)


def describe(spec: Answer) -> str:
    """What kind of answer the exercise wants, for prompts and error messages."""
    if isinstance(spec, Choice):
        return "one of " + ", ".join(repr(o) for o in spec.options)
    if isinstance(spec, Number):
        return "a number"
    if isinstance(spec, Items):
        return "a set of " + (", ".join(repr(o) for o in spec.options) if spec.options else "str")
    if spec.options:
        return "one of " + ", ".join(repr(o) for o in spec.options)
    return "a value read off your own result (" + ", ".join(spec.needs) + ")"
