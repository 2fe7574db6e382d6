"""The explanation views in a real JupyterLab: live kernel (MIME renderer and explore() widget), then the
saved notebook reopened with no kernel: the views render and still link. Light and dark screenshots."""

from __future__ import annotations

import shutil

from views_support import XSS_TOKENS, assert_no_xss, canvas_png, watch_xss

SETUP = (
    "import xattr_lab\n"
    "from xattr_lab.attr.synthetic import SyntheticModel\n"
    f"words = ('red', {XSS_TOKENS[0]!r}, 'and', {XSS_TOKENS[1]!r})\n"
    "m = SyntheticModel(size=48, about=(0, 1, -1, 2), words=words)\n"
    "e = xattr_lab.explain(m, m.image, 'describe', regions='grid:4', progress=False)\n"
    "e"
)
EXPLORE = "w = xattr_lab.explore(m, m.image, 'describe', regions='grid:4', progress=False)\nw"
OVERLAY = ".jp-xattr-lab .xl-overlay canvas.xl-canvas"


def _select_and_check_heatmap(page, scope: str) -> None:
    """Click two tokens of the first explanation output; the overlay must repaint differently."""
    canvas = page.locator(f"{scope} {OVERLAY}").first
    canvas.wait_for(timeout=60_000)
    page.wait_for_timeout(300)  # image decode
    tokens = page.locator(f"{scope} .jp-xattr-lab .xl-strip [data-index]")
    assert tokens.nth(1).inner_text() == XSS_TOKENS[0]
    tokens.nth(0).click()
    page.wait_for_timeout(100)
    first = canvas_png(canvas)
    tokens.nth(3).click()
    page.wait_for_timeout(100)
    assert canvas_png(canvas) != first  # the heatmap follows the selected token
    key = page.locator(f"{scope} .jp-xattr-lab .xl-key-title").first
    assert key.inner_text() == f'"{XSS_TOKENS[1]}"'  # the curves follow too


def test_lab_live_then_reopened_without_kernel(lab, lab_no_kernel, page, write_notebook, screenshots):
    write_notebook([SETUP, EXPLORE], lab.root / "views.ipynb")
    dialogs = watch_xss(page)
    lab.open_notebook(page, "views.ipynb")
    lab.run_all(page)
    _select_and_check_heatmap(page, ".jp-Cell:nth-child(1)")
    page.screenshot(path=str(screenshots / "lab_explanation_live.png"))

    # explore(): clicking a token computes its explanation in the kernel and shows it.
    explore = page.locator(".jp-Cell:nth-child(2) .jp-OutputArea")
    explore.locator(".xl-strip [data-index]").first.wait_for(timeout=60_000)
    explore.locator(".xl-strip [data-index]").nth(3).click()
    explore.locator(".xl-title", has_text="Explanation(eagle").wait_for(timeout=60_000)
    explore.locator(".xl-key-title", has_text="window.__xss=2").wait_for(timeout=10_000)
    assert explore.locator(".xl-tok.xl-sel").get_attribute("data-index") == "3"
    explore.locator(".xl-strip [data-index]").nth(0).click()
    explore.locator(".xl-title", has_text="tokens='red'").wait_for(timeout=60_000)
    assert explore.locator(".xl-key-title").inner_text() == '"red"'
    explore.locator(".xl-overlay").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "lab_explore_widget.png"))

    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function(
        "() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000
    )
    lab.shutdown_kernels()
    assert lab.api("/api/sessions") == []
    assert_no_xss(page, dialogs)

    # Reopen the saved notebook where no kernel can start: the views render from saved data and link.
    shutil.copy(lab.root / "views.ipynb", lab_no_kernel.root / "views.ipynb")
    dialogs = watch_xss(page)
    lab_no_kernel.open_notebook(page, "views.ipynb")
    lab_no_kernel.dismiss_kernel_dialog(page)
    _select_and_check_heatmap(page, ".jp-Cell:nth-child(1)")
    assert page.locator(".jp-Cell:nth-child(1) .xattr-lab-html").count() == 0  # the renderer, not HTML
    page.locator(".jp-Cell:nth-child(1) input.xl-step").fill("4")
    assert "step 4/16" in page.locator(".jp-Cell:nth-child(1) .xl-curves .xl-status").inner_text()
    assert lab_no_kernel.api("/api/sessions") == []
    page.screenshot(path=str(screenshots / "lab_explanation_no_kernel.png"))
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=15_000)
    page.wait_for_timeout(300)
    page.screenshot(path=str(screenshots / "lab_explanation_dark.png"))
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})")
    assert_no_xss(page, dialogs)
