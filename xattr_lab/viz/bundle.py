"""MIME bundles: the JupyterLab renderer's JSON, self-contained HTML and a plain-text summary.

JupyterLab with the xattr-lab extension renders ``application/vnd.xattr-lab.v1+json`` (also with no
kernel and in untrusted notebooks); everything else falls back to ``text/html`` or ``text/plain``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from xattr_lab.viz.html import MIME_TYPE, html_fragment
from xattr_lab.viz.payload import to_json_ready

# result type name -> function building its payload (registered explicitly by the view modules)
_PAYLOAD_BUILDERS: dict[str, Callable[[Any], dict[str, Any]]] = {}


def register_payload_builder(type_name: str, builder: Callable[[Any], dict[str, Any]]) -> None:
    """Register how a result type becomes a view payload; duplicates are refused."""
    if type_name in _PAYLOAD_BUILDERS:
        raise ValueError(f"type_name: a payload builder for {type_name!r} is already registered")
    _PAYLOAD_BUILDERS[type_name] = builder


def payload_bundle(payload: dict[str, Any], summary: str) -> dict[str, Any]:
    """The full MIME bundle of one payload."""
    return {
        MIME_TYPE: to_json_ready(payload),
        "text/html": html_fragment(payload, summary),
        "text/plain": summary,
    }


def result_payload(result: Any) -> dict[str, Any] | None:
    """The view payload of a result object, or None when its type has no view."""
    from xattr_lab.viz import builders  # noqa: F401  (registers the builders)

    builder = _PAYLOAD_BUILDERS.get(type(result).__name__)
    return None if builder is None else builder(result)


def result_bundle(result: Any) -> dict[str, Any]:
    """The MIME bundle of a result object (Explanation, Comparison, SpectrumReport, TrainingRun, ...)."""
    payload = result_payload(result)
    if payload is None:
        return {"text/plain": repr(result)}
    return payload_bundle(payload, repr(result))


def result_view(result: Any) -> Any:
    """A displayable View of a result object that has a registered payload builder."""
    from xattr_lab.viz.view import View

    payload = result_payload(result)
    if payload is None:
        raise TypeError(f"result: {type(result).__name__} has no view")
    return View(payload, repr(result))
