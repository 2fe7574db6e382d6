"""Self-contained HTML for a payload: inline JS and CSS, no CDN, no network.

Used as the ``text/html`` entry of every MIME bundle (nbconvert exports, VS Code, Colab) and by
``export_html``. The payload JSON sits in a ``<script type="application/vnd.xattr-lab.v1+json">`` block
with ``<``, ``>`` and ``&`` escaped, so no token string can close the script or inject markup.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Any

from xattr_lab.viz.payload import to_json_ready

MIME_TYPE = "application/vnd.xattr-lab.v1+json"
_STATIC = Path(__file__).resolve().parent.parent / "static"


@lru_cache(maxsize=1)
def standalone_js() -> str:
    """The standalone view bundle (built by ``npm run build``)."""
    path = _STATIC / "standalone.js"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: the JS views are not built (run `make` targets or `npm run build`)"
        )
    # A literal "</script" inside inline JS would end the script element early.
    return path.read_text("utf-8").replace("</script", "<\\/script")


def payload_json(payload: dict[str, Any]) -> str:
    """JSON for embedding inside a script element: markup characters escaped as JSON unicode escapes."""
    text = json.dumps(to_json_ready(payload), separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def html_fragment(payload: dict[str, Any], summary: str) -> str:
    """An HTML fragment that renders the payload with inline JS, and shows ``summary`` without JS."""
    return (
        '<div class="xattr-lab-html">'
        f'<div class="xattr-lab-fallback" style="font-family:monospace">{escape(summary)}</div>'
        f'<script type="{MIME_TYPE}">{payload_json(payload)}</script>'
        f"<script>{standalone_js()}</script>"
        "</div>"
    )


def html_document(payload: dict[str, Any], summary: str, title: str = "xattr_lab") -> str:
    """A whole HTML page for the payload."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(title)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:\">"
        f"</head><body>{html_fragment(payload, summary)}</body></html>\n"
    )


def write_html(payload: dict[str, Any], summary: str, path: str | os.PathLike, title: str = "xattr_lab") -> Path:
    """Write a self-contained page; returns the path written."""
    target = Path(path)
    if target.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"path: expected a .html file, got {str(target)!r}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html_document(payload, summary, title), "utf-8")
    return target


def export_html(result: Any, path: str | os.PathLike) -> Path:
    """Write a result (Explanation, SpectrumReport, TrainingRun, Comparison, View) as one self-contained page.

    Raises:
        TypeError: for an object with no view.
    """
    from xattr_lab.viz.bundle import result_payload

    payload = getattr(result, "payload", None) if type(result).__name__ == "View" else result_payload(result)
    if payload is None:
        raise TypeError(f"result: {type(result).__name__} has no HTML view")
    summary = repr(result)
    return write_html(payload, summary, path, title=summary[:120])
