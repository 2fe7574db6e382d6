"""Small checks for what a loaded result claims: run after the checksum, since anyone can recompute one.

Each helper raises ``ValueError`` naming the field and what was expected; a result's ``load`` turns that
into a :class:`~xattr_lab.results._store.ResultFileError` with the path.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def array(arrays: dict[str, np.ndarray], name: str, kinds: str = "biuf", ndim: int | None = None) -> np.ndarray:
    """``arrays[name]``, present, of a numpy dtype kind in ``kinds`` and (optionally) ``ndim`` dimensions."""
    if name not in arrays:
        raise ValueError(f"the array {name!r} is missing")
    a = arrays[name]
    if not isinstance(a, np.ndarray) or a.dtype.kind not in kinds:
        raise ValueError(f"the array {name!r} has dtype {getattr(a, 'dtype', type(a).__name__)}, expected kind {kinds}")
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"the array {name!r} has {a.ndim} dimensions, expected {ndim}")
    return a


def shape(a: np.ndarray, expected: tuple[int, ...], name: str) -> None:
    """Refuse an array whose shape is not ``expected``."""
    if tuple(a.shape) != tuple(expected):
        raise ValueError(f"the array {name!r} has shape {tuple(a.shape)}, expected {tuple(expected)}")


def permutation(order: np.ndarray, n: int, name: str = "order") -> None:
    """Refuse an ``order`` that is not a permutation of ``0 .. n-1``."""
    if order.ndim != 1 or order.dtype.kind not in "iu" or not np.array_equal(np.sort(order), np.arange(n)):
        raise ValueError(f"the array {name!r} is not a permutation of the {n} regions")


def field(meta: dict[str, Any], name: str, typ: type | tuple[type, ...]) -> Any:
    """``meta[name]``, present and of type ``typ`` (bool is not accepted as an int)."""
    if name not in meta:
        raise ValueError(f"the entry {name!r} is missing")
    value = meta[name]
    if not isinstance(value, typ) or (isinstance(value, bool) and bool not in _tuple(typ)):
        raise ValueError(f"the entry {name!r} is a {type(value).__name__}, expected {_names(typ)}")
    return value


def strings(meta: dict[str, Any], name: str) -> list[str]:
    """``meta[name]`` as a list of strings."""
    value = field(meta, name, list)
    if not all(isinstance(v, str) for v in value):
        raise ValueError(f"the entry {name!r} must be a list of strings")
    return value


def ints(meta: dict[str, Any], name: str) -> list[int]:
    """``meta[name]`` as a list of integers (not booleans)."""
    value = field(meta, name, list)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ValueError(f"the entry {name!r} must be a list of integers")
    return value


def _tuple(typ: type | tuple[type, ...]) -> tuple[type, ...]:
    return typ if isinstance(typ, tuple) else (typ,)


def _names(typ: type | tuple[type, ...]) -> str:
    return " or ".join(t.__name__ for t in _tuple(typ))
