"""Boundary checks shared by the diagnostics' trainers and analysers."""

from __future__ import annotations

from typing import Any

import numpy as np


def check_positive_int(name: str, value: Any, expected: str = "a positive integer") -> None:
    """Raise unless ``value`` is an int (numpy integers accepted, bools refused) of at least 1.

    Args:
        name: the argument's name, put first in the message.
        value: the value to check.
        expected: what the message says was expected.

    Raises:
        TypeError: ``value`` is not an integer.
        ValueError: ``value`` is below 1.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected {expected}, got {value!r}")
    if value < 1:
        raise ValueError(f"{name}: expected {expected}, got {value!r}")
