"""The method registry: names → attribution methods, explicit and lazy.

Built-in methods are listed here by module path and imported on first use, so ``import xattr_lab`` stays
light; users and plugins add theirs with ``@register_method("name")``. Names are unique: registering a name
twice (or a built-in's name) raises instead of silently replacing a method.

A method is a callable ``method(ctx: MethodContext, **params) -> MethodOutput`` (see
:mod:`xattr_lab.attr.context`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# name -> (module, attribute) of the built-in methods; add new built-ins here.
_BUILTINS: dict[str, tuple[str, str]] = {
    "eagle": ("xattr_lab.attr.methods.eagle", "eagle"),
    "lima": ("xattr_lab.attr.methods.lima", "lima"),
    "random": ("xattr_lab.attr.methods.random", "random_order"),
    "integrated_gradients": ("xattr_lab.attr.methods.integrated_gradients", "integrated_gradients"),
    "saliency": ("xattr_lab.attr.methods.saliency", "saliency"),
    "layer_gradcam": ("xattr_lab.attr.methods.layer_gradcam", "layer_gradcam"),
    "occlusion": ("xattr_lab.attr.methods.occlusion", "occlusion"),
    "feature_ablation": ("xattr_lab.attr.methods.feature_ablation", "feature_ablation"),
    "kernel_shap": ("xattr_lab.attr.methods.kernel_shap", "kernel_shap"),
    "lime": ("xattr_lab.attr.methods.lime", "lime"),
    "tam": ("xattr_lab.attr.methods.tam", "tam"),
    "msea": ("xattr_lab.attr.methods.msea", "msea"),
    "arc": ("xattr_lab.attr.methods.arc", "arc"),
    "tam_msea_arc": ("xattr_lab.attr.methods.tam_msea_arc", "tam_msea_arc"),
}


@dataclass(frozen=True)
class MethodSpec:
    """A registered method.

    Attributes:
        name: registry name.
        fn: the method callable.
        family: ``"search"`` (black-box subset search), ``"map"`` (returns a map) or ``"baseline"``.
        needs: model capabilities it requires (e.g. ``{"gradients"}``).
        description: one line for listings.
    """

    name: str
    fn: Callable[..., Any]
    family: str = "map"
    needs: frozenset[str] = field(default_factory=frozenset)
    description: str = ""


_REGISTRY: dict[str, MethodSpec] = {}


def register_method(
    name: str, family: str = "map", needs: frozenset[str] | set[str] = frozenset(), description: str = ""
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator registering an attribution method under ``name``.

    Args:
        name: unique registry name (lower case by convention).
        family: ``"search"``, ``"map"`` or ``"baseline"``.
        needs: model capabilities required.
        description: one line for listings.

    Returns:
        The decorator (it returns the function unchanged).

    Raises:
        ValueError: when ``name`` is already registered or empty.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name: expected a non-empty string, got {name!r}")

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in _REGISTRY or (name in _BUILTINS and _BUILTINS[name] != (fn.__module__, fn.__name__)):
            raise ValueError(f"name: a method called {name!r} is already registered")
        _REGISTRY[name] = MethodSpec(
            name, fn, family, frozenset(needs), description or (fn.__doc__ or "").split("\n")[0]
        )
        return fn

    return decorator


def list_methods() -> list[str]:
    """Names of all available methods, sorted."""
    return sorted(set(_BUILTINS) | set(_REGISTRY))


def get_method(name: str) -> MethodSpec:
    """The method registered as ``name``.

    Raises:
        ValueError: for an unknown name.
    """
    if name in _REGISTRY:
        return _REGISTRY[name]
    if name in _BUILTINS:
        module, attr = _BUILTINS[name]
        fn = getattr(importlib.import_module(module), attr)
        spec = MethodSpec(
            name,
            fn,
            getattr(fn, "family", "map"),
            frozenset(getattr(fn, "needs", ())),
            (fn.__doc__ or "").strip().split("\n")[0],
        )
        _REGISTRY[name] = spec
        return spec
    raise ValueError(f"method: unknown method {name!r}; available: {', '.join(list_methods())}")
