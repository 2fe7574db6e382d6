"""MIME bundles: the JupyterLab renderer's JSON, self-contained HTML and a plain-text summary.

JupyterLab with the xattr-lab extension renders ``application/vnd.xattr-lab.v1+json`` (also with no
kernel and in untrusted notebooks): that needs no JS in the output at all. Everything else falls back to
``text/html`` (nbconvert, VS Code, Colab) or ``text/plain``.

The view code in ``text/html`` (tens of KB) is sent once per notebook, not once per view: in a kernel, the
first view of the session (and the first view of a re-run of the cell that carried it) inlines it; later
views carry a ~1 KB loader that uses it (:func:`set_html_bundle` changes this; see :func:`display_js`).
"""

from __future__ import annotations

import sys
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


HTML_BUNDLE_MODES = ("once", "compressed", "every")
_policy: dict[str, Any] = {"mode": "once", "carrier": None}  # carrier: (cell id, request id) of the bundle


def set_html_bundle(mode: str = "once") -> None:
    """Choose how the ``text/html`` of displayed views carries the view code (this kernel session).

    Args:
        mode: ``"once"`` (default): the first view inlines the bundle, later ones reference it (each adds
            ~1 KB; on a page without the first view's output they show their text summary);
            ``"compressed"``: later views also carry a deflated copy (~33 KB each) and render on their own
            anywhere, e.g. one output cut out of an nbconvert page; ``"every"``: the whole bundle in every
            view (~68 KB each; always used in Colab, which shows each output in its own frame).
    """
    if mode not in HTML_BUNDLE_MODES:
        raise ValueError(f"mode: expected one of {HTML_BUNDLE_MODES}, got {mode!r}")
    _policy["mode"] = mode
    _policy["carrier"] = None  # the next view carries the bundle again


def _request() -> tuple[str | None, str | None] | None:
    """(cell id, request id) of the cell being executed, or None outside a notebook kernel."""
    from xattr_lab.progress import _get_ipython, in_notebook  # lazy: tqdm only on the display path

    if not in_notebook():
        return None
    kernel = getattr(_get_ipython(), "kernel", None)
    parent = kernel.get_parent() if kernel is not None and hasattr(kernel, "get_parent") else {}
    cell = (parent.get("metadata") or {}).get("cellId")  # JupyterLab sends it; nbclient does not
    return cell, (parent.get("header") or {}).get("msg_id")


def display_js() -> str:
    """How the next displayed view carries its code: ``"inline"``, ``"reference"`` or ``"compressed"``.

    Outside a notebook kernel (scripts, tests, ``export_html``) always ``"inline"``. In a kernel, the first
    view of the session inlines the bundle and becomes its carrier; a re-run of the carrier's cell (a new
    request from the same cell id: its old output, with the bundle, is being replaced) inlines it again.
    """
    request = _request()
    if request is None or _policy["mode"] == "every" or "google.colab" in sys.modules:
        return "inline"
    carrier = _policy["carrier"]
    cell, msg = request
    if carrier is None or (cell is not None and carrier[0] == cell and carrier[1] != msg):
        _policy["carrier"] = (cell, msg)
        return "inline"
    return "compressed" if _policy["mode"] == "compressed" else "reference"


def payload_bundle(payload: dict[str, Any], summary: str, js: str | None = None) -> dict[str, Any]:
    """The full MIME bundle of one payload.

    Args:
        payload: the view payload.
        summary: the text/plain summary (also the HTML's no-JS fallback).
        js: how ``text/html`` carries the view code (see :func:`xattr_lab.viz.html.html_fragment`);
            None: :func:`display_js` decides (the display path).
    """
    ready = to_json_ready(payload)  # base64 the arrays once, for both entries
    return {
        MIME_TYPE: ready,
        "text/html": html_fragment(ready, summary, js=display_js() if js is None else js),
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
