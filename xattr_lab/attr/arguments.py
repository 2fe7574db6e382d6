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


def check_target(target: Any) -> None:
    """None, a non-empty string, or a non-empty sequence of non-negative integer token ids."""
    if target is None:
        return
    if isinstance(target, str):
        if not target.strip():
            raise ValueError("target: expected a non-empty answer text, got an empty string")
        return
    if hasattr(target, "tolist") and hasattr(target, "dtype"):  # numpy array or torch tensor
        if getattr(target, "ndim", 1) != 1:
            raise ValueError(f"target: expected a 1-D sequence of token ids, got shape {tuple(target.shape)}")
        target = target.tolist()
    if not _is_list(target):
        raise TypeError(f"target: expected a str or a list of token ids, got {type(target).__name__}")
    items = list(target)
    if not items:
        raise ValueError("target: expected at least one token id, got an empty list")
    for i, t in enumerate(items):
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
