"""Attribution methods, their registry, the shared search engines and ``explain``.

Stable API: :func:`explain`, :func:`register_method`, :func:`list_methods`, :func:`get_method`. Names load
lazily so importing this package pulls in neither transformers nor captum.
"""

from __future__ import annotations

from xattr_lab._lazy import lazy_facade

_EXPORTS = {
    "explain": "xattr_lab.attr.explain",
    "register_method": "xattr_lab.attr.registry",
    "list_methods": "xattr_lab.attr.registry",
    "get_method": "xattr_lab.attr.registry",
    "MethodContext": "xattr_lab.attr.context",
    "MethodOutput": "xattr_lab.attr.context",
}

__all__ = list(_EXPORTS)

__getattr__, __dir__ = lazy_facade(__name__, _EXPORTS)
