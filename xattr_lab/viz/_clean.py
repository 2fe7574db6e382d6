"""JSON-safe metadata: non-finite floats become None, numpy scalars become Python numbers."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def clean(value: Any) -> Any:
    """Recursively make plain metadata JSON-safe (arrays are left to ``encode_array``)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return value
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return clean(value.item())
    return value


def str_list(name: str, values: Any) -> list[str]:
    """Display strings of a token list (untrusted text, rendered as text only).

    Raises:
        TypeError: when ``values`` is a single string or not a sequence.
    """
    if values is None:
        return []
    if isinstance(values, str) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name}: expected a sequence of strings, got {type(values).__name__}")
    return [v if isinstance(v, str) else str(v) for v in values]
