"""Helpers shared by the views' browser tests (test_views_*.py): network blocking, readiness, probes."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "viz"))

from view_fixtures import (  # noqa: E402  (re-exported for the browser tests)
    XSS_TOKENS,
    comparison_data,
    explanation_data,
    spectrum_data,
    training_data,
)

__all__ = [
    "XSS_TOKENS",
    "block_network",
    "canvas_png",
    "comparison_data",
    "explanation_data",
    "open_export",
    "open_offline",
    "spectrum_data",
    "training_data",
    "watch_xss",
]


def block_network(page) -> list[str]:
    """Abort every request that is not file:, data: or blob:; returns the list of blocked URLs."""
    blocked: list[str] = []

    def handle(route):
        url = route.request.url
        if url.startswith(("file:", "data:", "blob:")):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    page.route("**/*", handle)
    return blocked


def watch_xss(page) -> list[str]:
    """Record (and dismiss) every dialog; the XSS payloads in the fixtures would open one or set a flag."""
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    return dialogs


def open_offline(browser, path: Path, viewport: dict[str, int], scheme: str = "light"):
    """Open an HTML file offline in a fresh context, without waiting for any view.

    Returns:
        ``(context, page, dialogs, blocked, errors)``: the dialogs opened, the requests blocked and the page's
        uncaught errors are recorded from the start.
    """
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    page = context.new_page()
    dialogs = watch_xss(page)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    blocked = block_network(page)
    page.goto(path.as_uri())
    return context, page, dialogs, blocked, errors


def open_export(browser, path: Path, viewport: dict[str, int], scheme: str = "light"):
    """:func:`open_offline`, then wait until the (first) view is ready; returns the same tuple."""
    opened = open_offline(browser, path, viewport, scheme)
    opened[1].wait_for_selector(".xl-root[data-xl-ready]", timeout=10_000)
    return opened


def assert_no_xss(page, dialogs: list[str]) -> None:
    """No dialog opened and no payload set its global flag."""
    assert dialogs == []
    assert page.evaluate("() => window.__xss === undefined")


def canvas_png(locator) -> str:
    """What a canvas shows, as a data URL (to compare before/after an interaction)."""
    return locator.evaluate("c => c.toDataURL()")
