"""Attribution methods, their registry, the shared search engines and ``explain``.

Stable API: :func:`explain`, :func:`register_method`, :func:`list_methods`, :func:`get_method`. Names load
lazily so importing this package pulls in neither transformers nor captum.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "explain": "xattr_lab.attr.explain",
    "register_method": "xattr_lab.attr.registry",
    "list_methods": "xattr_lab.attr.registry",
    "get_method": "xattr_lab.attr.registry",
    "MethodContext": "xattr_lab.attr.context",
    "MethodOutput": "xattr_lab.attr.context",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'xattr_lab.attr' has no attribute {name!r}")
