"""Self-contained HTML for a payload: inline JS and CSS, no CDN, no network.

Used as the ``text/html`` entry of every MIME bundle (nbconvert exports, VS Code, Colab) and by
``export_html``. The payload JSON sits in a ``<script type="application/vnd.xattr-lab.v1+json">`` block
with ``<``, ``>`` and ``&`` escaped, so no token string can close the script or inject markup. A large
payload is stored there deflated (``{"version", "view", "title", "deflate": base64}``; the page inflates it
with the browser's ``DecompressionStream``): 3-5x fewer bytes for image-sized maps.

The view code (``standalone.js``, 68 KB as of this writing) comes in one of three forms (``js=``):

- ``"inline"``: the whole bundle; the fragment renders on its own anywhere (``export_html`` always).
- ``"reference"``: a ~1 KB loader that renders with the bundle another output of the same page loaded
  (in any order: the bundle renders every view already on the page when it arrives). Alone, it shows
  the text summary and a note saying where the view code is.
- ``"compressed"``: the loader plus the bundle deflated (~half its size, base64), unpacked only when the page has none.

Which one a notebook display gets is :func:`xattr_lab.viz.bundle.display_js`'s choice.
"""

from __future__ import annotations

import base64
import json
import os
import zlib
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


COMPRESS_ABOVE = 3_000  # payload JSON characters; smaller payloads stay readable JSON
JS_FORMS = ("inline", "reference", "compressed")

# Renders this output with the bundle of another output (or its own deflated copy); else shows a note.
# Plain ES2017, no "<" in it, and it never reads the payload as markup.
_LOADER = (
    "(function(s){var r=s.parentElement,w=window;function go(){w.xattrLab.renderAll(r)}"
    "function note(t){var f=r.querySelector('.xattr-lab-fallback');if(f&&!f.dataset.xlNote){"
    "f.dataset.xlNote='1';f.appendChild(document.createElement('br'));"
    "f.appendChild(document.createTextNode('(interactive view not shown: '+t+')'))}}"
    "function miss(){if(w.xattrLab)return go();var z=r.querySelector('script[data-xl-bundle]');"
    "if(!z)return note('its code is in the first xattr_lab output of this notebook, not on this page');"
    "if(!w.DecompressionStream)return note('this browser cannot unpack it');"
    "if(!w.__xlUnpack){var b=Uint8Array.from(atob(z.textContent),function(c){return c.charCodeAt(0)});"
    "w.__xlUnpack=new Response(new Blob([b]).stream().pipeThrough(new DecompressionStream('deflate-raw')))"
    ".text().then(function(t){if(!w.xattrLab){var e=document.createElement('script');e.textContent=t;"
    "document.head.appendChild(e)}})}w.__xlUnpack.then(go)}"
    "if(w.xattrLab)go();else if(r.querySelector('script[data-xl-bundle]')||document.readyState=='complete')miss();"
    "else w.addEventListener('load',miss)})(document.currentScript);"
)


def _deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate: DecompressionStream("deflate-raw")
    return packer.compress(data) + packer.flush()


@lru_cache(maxsize=1)
def compressed_js() -> str:
    """The standalone bundle, raw-deflated and base64-encoded (what a ``"compressed"`` fragment carries)."""
    path = _STATIC / "standalone.js"
    standalone_js()  # same missing-build error
    return base64.b64encode(_deflate(path.read_bytes())).decode("ascii")


def _escape_json(text: str) -> str:
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def payload_json(payload: dict[str, Any], compress_above: int | None = None) -> str:
    """JSON for embedding inside a script element: markup characters escaped as JSON unicode escapes.

    Args:
        payload: the view payload.
        compress_above: deflate the payload when its JSON is longer than this (None: never); the result
            keeps ``version``, ``view`` and ``title`` readable and puts the payload in ``deflate``.
    """
    text = json.dumps(to_json_ready(payload), separators=(",", ":"), allow_nan=False)
    if compress_above is not None and len(text) > compress_above:
        packed = base64.b64encode(_deflate(text.encode("utf-8"))).decode("ascii")
        head = {k: payload[k] for k in ("version", "view", "title") if k in payload}
        text = json.dumps({**head, "deflate": packed}, separators=(",", ":"))
    return _escape_json(text)


def read_payload_json(text: str) -> dict[str, Any]:
    """The view payload of an embedded JSON block, inflated if it was stored deflated.

    The inverse of :func:`payload_json`, for tools and tests that read exported pages.
    """
    payload = json.loads(text)
    if "deflate" in payload:
        payload = json.loads(zlib.decompress(base64.b64decode(payload["deflate"]), -15).decode("utf-8"))
    return payload


def html_fragment(
    payload: dict[str, Any], summary: str, js: str = "inline", compress_above: int | None = COMPRESS_ABOVE
) -> str:
    """An HTML fragment that renders the payload with inline JS, and shows ``summary`` without JS.

    Args:
        payload: the view payload.
        summary: the one-line text shown where scripts do not run.
        js: how the view code comes along: ``"inline"``, ``"reference"`` or ``"compressed"`` (see above).
        compress_above: deflate payloads whose JSON is longer than this many characters (None: never).
    """
    if js not in JS_FORMS:
        raise ValueError(f"js: expected one of {JS_FORMS}, got {js!r}")
    if js == "inline":
        code = f"<script>{standalone_js()}</script>"
    else:
        code = ""
        if js == "compressed":
            code = f'<script type="text/x-xattr-lab-deflate" data-xl-bundle>{compressed_js()}</script>'
        code += f"<script>{_LOADER}</script>"
    return (
        '<div class="xattr-lab-html">'
        f'<div class="xattr-lab-fallback" style="font-family:monospace">{escape(summary)}</div>'
        f'<script type="{MIME_TYPE}">{payload_json(payload, compress_above)}</script>'
        f"{code}"
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
