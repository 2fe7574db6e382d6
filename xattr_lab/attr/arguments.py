"""Boundary checks shared by ``explain``, ``compare`` and ``explore``.

Each check raises a ValueError or TypeError that names the argument and what was expected, before any model
work, so a wrong argument never surfaces as an error from inside numpy, torch or a tokenizer.
"""

from __future__ import annotations

import numbers
from typing import Any

SEED_LIMIT = 2**63  # what numpy's generators and torch.manual_seed both accept


def check_method_name(method: Any) -> str:
    """A registered method name, or an error naming ``method``."""
    from xattr_lab.attr.registry import get_method

    if not isinstance(method, str):
        hint = "; to run several methods use xattr_lab.compare(..., methods=[...])" if _is_list(method) else ""
        raise TypeError(f"method: expected a method name (str), got {type(method).__name__}{hint}")
    get_method(method)  # ValueError naming the method and listing the registered ones
    return method


def check_seed(seed: Any) -> int:
    """An int in ``[0, 2**63)`` (numpy integers accepted, bools refused)."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed: expected an int, got {type(seed).__name__} {seed!r}")
    if not 0 <= int(seed) < SEED_LIMIT:
        raise ValueError(f"seed: expected 0 <= seed < 2**63, got {seed!r}")
    return int(seed)


def answer_ids(value: Any, name: str, *, arrays_1d: bool = True) -> list[Any] | None:
    """The checks ``target=`` and ``contrast=`` share: an answer is a non-empty text or a non-empty id list.

    Returns ``None`` for a text, else the items as a list (an array or tensor through ``tolist()``); the
    items themselves are left to the caller, whose messages differ (``check_target`` and
    ``check_contrast``).

    Args:
        value: the answer (not None).
        name: the argument's name, first word of every message.
        arrays_1d: read only arrays with a ``dtype`` through ``tolist()`` and refuse those that are not 1-D
            (``target``'s rule); when False anything with ``tolist()`` is read through it (``contrast``'s).

    Raises:
        ValueError: for an empty text, an empty list or (``arrays_1d``) an array that is not 1-D.
        TypeError: for a value that is neither a str nor a list of token ids.
    """
    if isinstance(value, str):
        if not value.strip():
            raise ValueError(f"{name}: expected a non-empty answer text, got an empty string")
        return None
    items = value
    if hasattr(value, "tolist") and (hasattr(value, "dtype") or not arrays_1d):  # numpy array or torch tensor
        if arrays_1d and getattr(value, "ndim", 1) != 1:
            raise ValueError(f"{name}: expected a 1-D sequence of token ids, got shape {tuple(value.shape)}")
        items = value.tolist()
    if not _is_list(items):
        raise TypeError(f"{name}: expected a str or a list of token ids, got {type(value).__name__}")
    items = list(items)
    if not items:
        raise ValueError(f"{name}: expected at least one token id, got an empty list")
    return items


def check_target(target: Any) -> None:
    """None, a non-empty string, or a non-empty sequence of non-negative integer token ids."""
    items = None if target is None else answer_ids(target, "target")
    for i, t in enumerate(items or ()):
        if isinstance(t, bool) or not isinstance(t, numbers.Integral):
            raise TypeError(
                f"target: expected token ids (ints), got {type(t).__name__} {t!r} at index {i}; "
                "pass the answer as one string to have it tokenised"
            )
        if int(t) < 0:
            raise ValueError(f"target: token ids must be >= 0, got {int(t)} at index {i}")


def check_generation(generation: Any) -> None:
    """None or a :class:`~xattr_lab.models.protocol.Generation` (as ``model.generate`` returns)."""
    from xattr_lab.models.protocol import Generation

    if generation is not None and not isinstance(generation, Generation):
        raise TypeError(f"generation: expected a Generation from model.generate(...), got {type(generation).__name__}")


def _is_list(value: Any) -> bool:
    return isinstance(value, (list, tuple, range))
