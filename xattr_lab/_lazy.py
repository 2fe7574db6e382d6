"""Lazy facades: a package re-exports names that load their module on first use.

This keeps ``import xattr_lab`` (and its sub-facades) fast: torch, transformers, captum and anywidget load
only when a name that needs them is first used.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_facade(
    package: str, exports: Mapping[str, str], submodules: Iterable[str] = ()
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Build a module's ``__getattr__`` and ``__dir__``.

    Args:
        package: the facade's module name (its ``__name__``).
        exports: public name -> absolute module path defining it.
        submodules: sub-packages reachable as attributes (``package.<name>``).

    Returns:
        ``(__getattr__, __dir__)`` to assign at module level.
    """
    subs = tuple(submodules)

    def __getattr__(name: str) -> Any:
        if name in exports:
            value = getattr(importlib.import_module(exports[name]), name)
            setattr(sys.modules[package], name, value)  # resolve once
            return value
        if name in subs:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted([*exports, *subs])

    return __getattr__, __dir__
