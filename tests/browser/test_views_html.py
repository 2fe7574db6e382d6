"""Every view as self-contained HTML (export_html, nbconvert) in Chromium with the network blocked:
renders, links, stays responsive on a large result, runs no markup; screenshots in light and dark."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from views_support import (
    XSS_TOKENS,
    assert_no_xss,
    block_network,
    canvas_png,
    comparison_data,
    explanation_data,
    open_export,
    spectrum_data,
    training_data,
    watch_xss,
)

from xattr_lab.viz.comparison_view import comparison_payload
from xattr_lab.viz.explanation_view import explanation_payload
from xattr_lab.viz.spectrum_view import spectrum_payload
from xattr_lab.viz.training_view import training_payload
from xattr_lab.viz.view import View


def _spectrum_payload():
    data = spectrum_data(L=3, H=4, T=24)
    return spectrum_payload(data, all_logits=data.pop("_logits"))


PAYLOADS = {
    "explanation": lambda: explanation_payload(explanation_data(64, 20, 224)),
    "spectrum": _spectrum_payload,
    "training": lambda: training_payload(training_data(300), title="grokking run"),
    "comparison": lambda: comparison_payload(comparison_data()),
}


def _open(browser, tmp_path, name: str, scheme: str = "light"):
    path = View(PAYLOADS[name](), f"{name} view").export_html(tmp_path / f"{name}.html")
    return open_export(browser, path, {"width": 1100, "height": 900}, scheme)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_view_renders_offline_and_screenshot(browser, tmp_path, screenshots, name, scheme):
    context, page, dialogs, blocked, errors = _open(browser, tmp_path, name, scheme)
    try:
        page.wait_for_timeout(150)  # image decode
        assert page.locator(".xl-error").count() == 0
        if name != "training":
            assert page.locator(".xl-legend").count() >= 1  # every heatmap has its legend
        page.screenshot(path=str(screenshots / f"view_{name}_{scheme}.png"), full_page=True)
        assert blocked == [] and errors == []
        assert_no_xss(page, dialogs)
    finally:
        context.close()


def test_explanation_links_and_stays_responsive(browser, tmp_path, screenshots):
    context, page, dialogs, blocked, errors = _open(browser, tmp_path, "explanation")
    try:
        tokens = page.locator(".xl-strip [data-index]")
        assert tokens.count() == 20
        assert [tokens.nth(i).inner_text() for i in (1, 2, 3)] == XSS_TOKENS
        canvas = page.locator(".xl-overlay canvas.xl-canvas")
        page.wait_for_timeout(150)
        before = canvas_png(canvas)
        tokens.nth(2).click()
        page.wait_for_timeout(50)
        assert canvas_png(canvas) != before  # the heatmap follows the token
        assert page.locator(".xl-key-title").inner_text() == f'"{XSS_TOKENS[1]}"'
        # slider -> curves marker, in the same page, no kernel
        page.locator("input.xl-step").fill("10")
        assert "step 10/64" in page.locator(".xl-curves .xl-status").inner_text()
        # responsiveness: 20 token switches and 65 slider steps, each a full repaint of a 224² canvas
        t0 = time.perf_counter()
        page.evaluate(
            """async () => {
              const toks = document.querySelectorAll('.xl-strip [data-index]');
              const slider = document.querySelector('input.xl-step');
              for (const t of toks) { t.click(); await new Promise(requestAnimationFrame); }
              for (let s = 0; s <= 64; s++) {
                slider.value = String(s); slider.dispatchEvent(new Event('input'));
                await new Promise(requestAnimationFrame);
              }
            }"""
        )
        elapsed = time.perf_counter() - t0
        assert elapsed < 5.0, f"85 interactions took {elapsed:.2f}s"
        page.locator("select[aria-label=order]").select_option("1")
        page.locator("input.xl-step").fill("20")
        page.screenshot(path=str(screenshots / "view_explanation_deletion_step.png"), full_page=True)
        assert blocked == [] and errors == []
        assert_no_xss(page, dialogs)
    finally:
        context.close()


def test_spectrum_and_comparison_link(browser, tmp_path):
    context, page, dialogs, _, errors = _open(browser, tmp_path, "spectrum")
    try:
        toeplitz = page.locator(".xl-matrix", has_text="Toeplitz").locator("canvas.xl-canvas")
        box = toeplitz.bounding_box()
        rows = 3 * 4
        page.mouse.click(box["x"] + 5, box["y"] + box["height"] * (6.5 / rows))  # row 6 = layer 1, head 2
        svg = page.locator(".xl-eigen svg")
        assert (svg.get_attribute("data-layer"), svg.get_attribute("data-head")) == ("1", "2")
        logits = page.locator(".xl-matrix", has_text="logits").locator("canvas.xl-canvas")
        assert logits.get_attribute("data-slice") == "6"
        assert page.locator("select[data-key=head]").input_value() == "2"
        assert errors == []
        assert_no_xss(page, dialogs)
    finally:
        context.close()
    context, page, dialogs, _, errors = _open(browser, tmp_path, "comparison")
    try:
        page.locator(".xl-cell").nth(2).click()
        assert page.locator(".xl-cell.xl-sel .xl-cell-title").inner_text() == "<script>ig</script>"
        assert page.locator("th.xl-col-sel").inner_text() == "<script>ig</script>"
        assert errors == []
        assert_no_xss(page, dialogs)
    finally:
        context.close()


def test_real_explanation_nbconvert_html_offline(page, tmp_path, execute_notebook, screenshots):
    """An executed notebook with a real Explanation and a SpectrumReport, exported by nbconvert."""
    nb = tmp_path / "report.ipynb"
    execute_notebook(
        [
            "import numpy as np, xattr_lab\n"
            "from xattr_lab.attr.synthetic import SyntheticModel\n"
            f"words = ('red', {XSS_TOKENS[0]!r}, 'and', {XSS_TOKENS[1]!r})\n"
            "m = SyntheticModel(size=48, about=(0, 1, -1, 2), words=words)\n"
            "e = xattr_lab.explain(m, m.image, 'describe', regions='grid:4', progress=False)\n"
            "e",
            "from xattr_lab.results.training import TrainingRun\n"
            "TrainingRun.from_history([{'step': s, 'train_loss': 1 / s, 'test_acc': min(1, s / 50)}"
            " for s in range(1, 101)])",
        ],
        nb,
    )
    subprocess.run(
        [str(Path(sys.executable).parent / "jupyter"), "nbconvert", "--to", "html", str(nb)],
        check=True,
        capture_output=True,
    )
    dialogs = watch_xss(page)
    blocked = block_network(page)
    page.goto((tmp_path / "report.html").as_uri())
    page.wait_for_selector(".xl-root[data-xl-view=training_curves][data-xl-ready]", timeout=10_000)
    assert page.locator(".xl-root").count() == 2
    tokens = page.locator(".xl-strip [data-index]")
    assert tokens.nth(1).inner_text() == XSS_TOKENS[0]
    assert tokens.nth(3).inner_text() == XSS_TOKENS[1]
    canvas = page.locator(".xl-overlay canvas.xl-canvas")
    page.wait_for_timeout(150)
    before = canvas_png(canvas)
    tokens.nth(3).click()
    page.wait_for_timeout(50)
    assert canvas_png(canvas) != before
    assert page.locator(".xl-key-title").inner_text() == f'"{XSS_TOKENS[1]}"'
    page.screenshot(path=str(screenshots / "view_nbconvert_report.png"), full_page=True)
    assert all("xattr" not in url for url in blocked)
    assert_no_xss(page, dialogs)
