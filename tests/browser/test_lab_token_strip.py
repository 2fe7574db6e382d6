"""The token strip end to end in a real JupyterLab: live widget with synced selection, and the saved
notebook rendered by the extension's MIME renderer with no kernel."""

from __future__ import annotations

TOKENS = ["a", "red", "<img src=x onerror=window.__xss=1>", "circle"]
SCORES = [0.1, 0.9, 0.4, 0.6]


def test_widget_selection_syncs_back_to_the_kernel(lab, page, write_notebook, screenshots):
    write_notebook(
        [
            f"from xattr_lab import TokenStrip\nstrip = TokenStrip({TOKENS!r}, scores={SCORES!r}, "
            "prompt_tokens=['What', 'is', 'it?'])\nstrip",
            "print('SELECTED', strip.selected)",
        ],
        lab.root / "live.ipynb",
    )
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    lab.open_notebook(page, "live.ipynb")
    lab.run_all(page)
    tokens = page.locator(".jp-OutputArea .xl-strip [data-index]")
    tokens.first.wait_for(timeout=60_000)
    assert tokens.count() == len(TOKENS)
    assert tokens.nth(2).inner_text() == TOKENS[2]  # markup shows as text
    tokens.nth(1).click()
    page.wait_for_selector(".jp-OutputArea .xl-tok.xl-sel")
    # Re-run the second cell: the kernel must see the selection made in the browser.
    page.evaluate(
        "async () => { const p = window.jupyterapp.shell.currentWidget; p.content.activeCellIndex = 1;"
        " await window.jupyterapp.commands.execute('notebook:run-cell'); }"
    )
    lab.wait_idle(page)
    page.locator(".jp-OutputArea-output", has_text="SELECTED 1").wait_for(timeout=30_000)
    # Keyboard selection goes the same way.
    page.locator(".jp-OutputArea .xl-strip").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "() => document.querySelector('.jp-OutputArea .xl-tok.xl-sel')?.getAttribute('data-index') === '2'"
    )
    page.screenshot(path=str(screenshots / "lab_token_strip_live.png"))
    assert dialogs == []
    assert page.evaluate("() => window.__xss === undefined")


def test_saved_notebook_renders_with_no_kernel(lab_no_kernel, page, execute_notebook, screenshots):
    execute_notebook(
        [
            "import xattr_lab\n"
            f"xattr_lab.token_strip({TOKENS!r}, {SCORES!r}, prompt_tokens=['What', 'is', 'it?'], score_label='p')"
        ],
        lab_no_kernel.root / "saved.ipynb",
    )
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    lab_no_kernel.open_notebook(page, "saved.ipynb")
    lab_no_kernel.dismiss_kernel_dialog(page)
    tokens = page.locator(".jp-OutputArea .xl-strip [data-index]")
    tokens.first.wait_for(timeout=30_000)
    assert tokens.count() == len(TOKENS)
    assert lab_no_kernel.api("/api/sessions") == []  # no kernel anywhere
    # Rendered by our MIME renderer, not by the HTML fallback (untrusted notebooks sanitise scripts).
    assert page.locator(".jp-OutputArea .jp-xattr-lab .xl-strip").count() == 1
    assert page.locator(".jp-OutputArea .xattr-lab-html").count() == 0
    tokens.nth(3).click()
    status = page.locator(".jp-OutputArea .xl-status")
    assert "circle" in status.inner_text()
    assert "p 0.600" in status.inner_text()
    assert tokens.nth(2).inner_text() == TOKENS[2]
    page.screenshot(path=str(screenshots / "lab_token_strip_no_kernel.png"))
    assert dialogs == []
    assert page.evaluate("() => window.__xss === undefined")
