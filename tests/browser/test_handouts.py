"""Handouts (``make handouts``) open offline in Chromium: the views render and answer clicks, plotly draws.

Bounded: notebook 08 (the smallest, ~20 s) is executed into a temporary folder as ``make handouts`` does;
05 (token strips) and 06 (training view, plotly) are built from their saved outputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from views_support import block_network

from xattr_lab.workshop.handouts import build_handout, external_references

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
MIME = "application/vnd.xattr-lab.v1+json"


def _n_views(notebook: Path) -> int:
    nb = json.loads(notebook.read_text("utf-8"))
    return sum(
        MIME in o.get("data", {}) for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
    )


def _open(browser, path: Path, scheme: str = "light"):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    blocked = block_network(page)
    page.goto(path.as_uri())
    return context, page, blocked, errors


def _wait_views(page, n: int) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('.xl-root[data-xl-ready]').length >= n", arg=n, timeout=15_000
    )


@pytest.fixture(scope="module")
def handouts(tmp_path_factory) -> dict[str, Path]:
    """05 and 06 from their saved outputs (fast)."""
    out = tmp_path_factory.mktemp("handouts")
    return {
        "05": build_handout(NOTEBOOKS / "05_text_side.ipynb", out, execute_first=False),
        "06": build_handout(NOTEBOOKS / "06_grokking.ipynb", out, execute_first=False),
    }


@pytest.fixture(scope="module")
def executed_handout(tmp_path_factory) -> Path:
    """08 executed in a fresh kernel, as ``make handouts`` does (~20 s)."""
    out = tmp_path_factory.mktemp("handouts_executed")
    return build_handout(NOTEBOOKS / "08_bring_your_own_model.ipynb", out, execute_first=True, timeout=300)


def test_handouts_are_self_contained(handouts):
    for path in handouts.values():
        html = path.read_text("utf-8")
        assert external_references(html) == []
        assert "Content-Security-Policy" in html
        assert "application/vnd.jupyter.widget-view+json" not in html  # no widget that needs a kernel


@pytest.mark.slow
def test_executed_handout_explanation_renders_and_responds(browser, executed_handout, screenshots):
    assert external_references(executed_handout.read_text("utf-8")) == []
    context, page, blocked, errors = _open(browser, executed_handout)
    try:
        _wait_views(page, _n_views(NOTEBOOKS / "08_bring_your_own_model.ipynb"))
        assert page.locator(".xl-error").count() == 0
        assert "raises a ValueError" in page.content()  # the hidden solution travels with the page
        status = page.locator(".xl-curves .xl-status").first
        page.locator("input.xl-step").first.fill("3")
        assert "step 3/" in status.inner_text()  # the slider moves the curves' marker, with no kernel
        page.locator("input.xl-step").first.fill("7")
        assert "step 7/" in status.inner_text()
        page.screenshot(path=str(screenshots / "handout_08_light.png"), full_page=True)
        assert blocked == [] and errors == []
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_saved_handouts_token_strip_training_view_and_plotly(browser, handouts, screenshots, scheme):
    context, page, blocked, errors = _open(browser, handouts["05"], scheme)
    try:
        _wait_views(page, _n_views(NOTEBOOKS / "05_text_side.ipynb"))
        assert page.locator(".xl-error").count() == 0
        solution = page.locator("details.xattr-lab-solution").first  # solutions stay folded in the handout
        assert solution.get_attribute("open") is None and not solution.locator("p").first.is_visible()
        solution.locator("summary").click()
        assert solution.locator("p").first.is_visible()
        strip = page.locator(".xl-root[data-xl-ready]").first
        token = strip.locator("[data-index]").nth(4)  # "star" in the leave-one-out strip
        token.click()
        assert token.get_attribute("aria-selected") == "true"
        assert "xl-sel" in (token.get_attribute("class") or "")
        page.screenshot(path=str(screenshots / f"handout_05_{scheme}.png"), full_page=False)
        assert blocked == [] and errors == []
    finally:
        context.close()
    context, page, blocked, errors = _open(browser, handouts["06"], scheme)
    try:
        _wait_views(page, _n_views(NOTEBOOKS / "06_grokking.ipynb"))
        assert page.locator(".xl-error").count() == 0
        page.wait_for_selector(".plotly-graph-div .main-svg", timeout=15_000)  # plotly.js inline, drawn
        page.locator(".plotly-graph-div").first.scroll_into_view_if_needed()
        page.screenshot(path=str(screenshots / f"handout_06_{scheme}.png"), full_page=False)
        assert blocked == [] and errors == []
    finally:
        context.close()
