"""Issue 16 map/strip views in Chromium (exported HTML, network blocked), on a real Comparison and
Explanation of the synthetic model: per-method colour scales and the shared-scale toggle, the comparison's
linked token strip, token-strip legends, the contour / beside overlays, the near-zero-reliance note.
Screenshots in light and dark themes go to tests/browser/screenshots/views_maps_*.png."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from views_support import assert_no_xss, canvas_png, open_export

from xattr_lab.viz.builders import build_comparison, build_explanation
from xattr_lab.viz.token_strip import token_strip_payload
from xattr_lab.viz.view import View

METHODS = ("eagle", "kernel_shap", "occlusion", "random")
WORDS = ("red", "<img src=x onerror=window.__xss=1>", "and", "green")  # "and" rests on the language prior


@pytest.fixture(scope="module")
def comparison():
    import xattr_lab
    from xattr_lab.attr.synthetic import SyntheticModel

    m = SyntheticModel(size=48, words=WORDS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return xattr_lab.compare(
            m, m.image, "What colour is each square?", methods=METHODS, regions="grid:4", progress=False
        )


def _open(browser, tmp_path, payload, name: str, scheme: str = "light"):
    path = View(payload, name).export_html(tmp_path / f"{name}.html")
    context, page, dialogs, blocked, errors = open_export(browser, path, {"width": 1000, "height": 800}, scheme)
    page.wait_for_timeout(150)  # image decode
    return context, page, dialogs, blocked, errors


def _ranges(page) -> list[tuple[float, float]]:
    keys = page.locator(".xl-cell .xl-legend")
    return [
        (float(keys.nth(i).get_attribute("data-lo")), float(keys.nth(i).get_attribute("data-hi")))
        for i in range(keys.count())
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_comparison_scales_toggle_and_strip(browser, tmp_path, screenshots, comparison, scheme):
    context, page, dialogs, blocked, errors = _open(
        browser, tmp_path, build_comparison(comparison), "comparison", scheme
    )
    try:
        own = _ranges(page)
        assert len(own) == len(METHODS)
        ks = METHODS.index("kernel_shap")
        spans = [hi - lo for lo, hi in own]
        assert own[ks][0] < 0 < own[ks][1]  # signed method: symmetric diverging scale of its own
        assert spans[ks] > 2 * min(spans)  # ... much wider than another method's own range
        style = page.locator(".xl-comparison select[aria-label=overlay]")
        assert style.input_value() == "contours"  # a colour question: iso-lines over the unmodified image
        page.screenshot(path=str(screenshots / f"views_maps_comparison_contours_{scheme}.png"), full_page=True)
        style.select_option("blend")
        toggle = page.locator(".xl-scale-toggle")
        assert toggle.get_attribute("aria-pressed") == "false"
        page.screenshot(path=str(screenshots / f"views_maps_comparison_{scheme}.png"), full_page=True)
        cell = page.locator(".xl-grid canvas.xl-thumb").first
        before = canvas_png(cell)
        toggle.click()
        assert toggle.get_attribute("aria-pressed") == "true"
        assert len(set(_ranges(page))) == 1 and _ranges(page)[0] == own[ks]  # one scale, set by kernel_shap
        assert canvas_png(cell) != before
        page.screenshot(path=str(screenshots / f"views_maps_comparison_shared_{scheme}.png"), full_page=True)
        toggle.click()
        assert _ranges(page) == own
        # the token strip of the explained answer, linked to the methods and the table
        tokens = page.locator(".xl-comparison .xl-strip [data-index]")
        assert [tokens.nth(i).inner_text() for i in range(tokens.count())] == list(WORDS)
        page.locator(".xl-cell").nth(ks).click()
        assert "kernel_shap's insertion AUC" in page.locator(".xl-comparison .xl-subtitle").inner_text()
        assert page.locator("th.xl-col-sel").inner_text() == "kernel_shap"
        assert tokens.nth(0).get_attribute("title").startswith("insertion AUC (kernel_shap): ")
        tokens.nth(1).click()
        readout = page.locator(".xl-token-methods").inner_text()
        assert readout.startswith(f"insertion AUC of {WORDS[1]!r}".replace("'", '"'))
        assert all(m in readout for m in METHODS)
        assert page.locator(".xl-token-strip .xl-legend").count() == 1
        page.screenshot(path=str(screenshots / f"views_maps_comparison_linked_{scheme}.png"), full_page=True)
        assert blocked == [] and errors == []
        assert_no_xss(page, dialogs)
    finally:
        context.close()


def test_token_strip_legend(browser, tmp_path, screenshots):
    scores = np.array([-0.8, 0.1, np.nan, 0.45])
    payload = token_strip_payload(list(WORDS), scores, ["What", "colour", "?"], score_label="leave-one-out Δ log p")
    context, page, dialogs, blocked, errors = _open(browser, tmp_path, payload, "strip")
    try:
        key = page.locator(".xl-token-strip .xl-legend")
        assert key.get_attribute("aria-label") == "colour scale leave-one-out Δ log p: -0.8 to 0.8"
        assert "outlined: not scored" in key.inner_text()
        assert key.locator("canvas").bounding_box()["width"] > 100  # the colour bar is drawn
        page.screenshot(path=str(screenshots / "views_maps_token_strip_legend.png"))
        assert blocked == [] and errors == []
        assert_no_xss(page, dialogs)
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_contours_beside_and_near_zero_note(browser, tmp_path, screenshots, comparison, scheme):
    payload = build_explanation(comparison["eagle"])
    context, page, dialogs, blocked, errors = _open(browser, tmp_path, payload, "explanation", scheme)
    try:
        style = page.locator("select[aria-label=overlay]")
        assert style.input_value() == "contours"  # a colour question: readable by default
        assert "lines at" in page.locator(".xl-overlay .xl-legend").inner_text()
        canvas = page.locator(".xl-overlay canvas.xl-canvas")
        tokens = page.locator(".xl-explanation .xl-strip [data-index]")
        note = page.locator(".xl-warn")
        tokens.nth(2).click()  # "and": a language-prior token
        assert note.is_visible()
        text = note.inner_text()
        assert '"and" barely depends on the image' in text and "below the threshold 0.05" in text
        page.screenshot(path=str(screenshots / f"views_maps_contours_note_{scheme}.png"), full_page=True)
        tokens.nth(0).click()
        assert not note.is_visible()
        page.screenshot(path=str(screenshots / f"views_maps_contours_{scheme}.png"), full_page=True)
        page.wait_for_timeout(300)  # the canvas repaints on the next animation frame after a click
        contour_png = canvas_png(canvas)
        style.select_option("blend")
        for _ in range(50):  # poll: the repaint is asynchronous (up to 5 s on a loaded machine)
            if canvas_png(canvas) != contour_png:
                break
            page.wait_for_timeout(100)
        assert canvas_png(canvas) != contour_png
        style.select_option("beside")
        beside = page.locator(".xl-overlay canvas.xl-beside")
        assert beside.is_visible()
        box, map_box = canvas.bounding_box(), beside.bounding_box()
        assert map_box["x"] >= box["x"] + box["width"]  # side by side
        page.screenshot(path=str(screenshots / f"views_maps_beside_{scheme}.png"), full_page=True)
        assert blocked == [] and errors == []
        assert_no_xss(page, dialogs)
    finally:
        context.close()
