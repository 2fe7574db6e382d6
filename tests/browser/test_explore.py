"""explore() in a real JupyterLab while it computes: progress bar with the time left, the pending token
outlined, clicks merged (only the latest is computed next); light and dark screenshots. Then what the saved
notebook shows with no kernel."""

from __future__ import annotations

import shutil

SETUP = (
    "import time, xattr_lab\n"
    "from xattr_lab.attr.synthetic import SyntheticModel\n"
    "class Slow(SyntheticModel):  # ~0.2 s a scoring call: a token takes ~3 s, time to look at it\n"
    "    def score(self, *a, **k):\n"
    "        time.sleep(0.2)\n"
    "        return super().score(*a, **k)\n"
    "m = Slow()\n"
    "calls = []\n"
    "def explain_fn(*a, tokens, **k):\n"
    "    calls.append(tokens[0])\n"
    "    return xattr_lab.explain(*a, tokens=tokens, **k)\n"
    "w = xattr_lab.explore(m, m.image, 'describe', regions='grid:4', explain_fn=explain_fn)\n"
    "w"
)
CALLS = "print('calls', calls, w._kwargs['search'])"


def _theme(page, name: str, light: bool) -> None:
    page.evaluate(f"() => window.jupyterapp.commands.execute('apputils:change-theme', {{theme: '{name}'}})")
    flag = "true" if light else "false"
    page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{flag}'", timeout=15_000)
    page.wait_for_timeout(300)


def test_explore_while_it_computes(lab, lab_no_kernel, page, write_notebook, screenshots):
    write_notebook([SETUP, CALLS], lab.root / "explore.ipynb")
    lab.open_notebook(page, "explore.ipynb")
    lab.run_all(page)
    cell = page.locator(".jp-Cell").nth(0)
    strip = cell.locator(".xl-strip [data-index]")
    strip.first.wait_for(timeout=60_000)
    bar = cell.locator(".xl-wbar")
    assert bar.is_hidden()

    strip.nth(0).click()
    cell.locator('.xl-tok.xl-pending[data-index="0"]').wait_for(timeout=10_000)
    bar.wait_for(state="visible", timeout=10_000)
    strip.nth(2).click()  # queued …
    strip.nth(3).click()  # … and replaced by this one
    cell.locator('.xl-tok.xl-pending[data-index="3"]').wait_for(timeout=10_000)
    assert cell.locator('.xl-tok.xl-pending[data-index="2"]').count() == 0
    page.wait_for_function(
        "() => /about .* left/.test(document.querySelector('.xl-wbar-text').textContent)", timeout=10_000
    )
    text = cell.locator(".xl-wbar-text").inner_text()
    assert text.startswith("token 0: ") and "/16 regions" in text and "elapsed" in text, text
    assert 0 < float(cell.locator(".xl-wbar-fill").evaluate("e => parseFloat(e.style.width)")) <= 100
    cell.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "explore_computing_light.png"))
    _theme(page, "JupyterLab Dark", light=False)
    page.screenshot(path=str(screenshots / "explore_computing_dark.png"))
    _theme(page, "JupyterLab Light", light=True)

    # token 0 finishes; token 3 (the latest click) is computed next, token 2 never
    cell.locator(".xl-title", has_text="tokens='green'").wait_for(timeout=60_000)
    bar.wait_for(state="hidden", timeout=10_000)
    assert cell.locator(".xl-tok.xl-pending").count() == 0
    page.locator(".jp-Cell").nth(1).click()
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-cell')")
    lab.wait_idle(page)
    assert "calls [0, 3] efficient" in page.locator(".jp-Cell").nth(1).locator(".jp-OutputArea").inner_text()
    page.screenshot(path=str(screenshots / "explore_done_light.png"))

    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000)
    lab.shutdown_kernels()
    shutil.copy(lab.root / "explore.ipynb", lab_no_kernel.root / "explore.ipynb")
    lab_no_kernel.open_notebook(page, "explore.ipynb")
    lab_no_kernel.dismiss_kernel_dialog(page)
    page.wait_for_timeout(2_000)
    reloaded = page.locator(".jp-Cell").nth(0).locator(".jp-OutputArea").inner_text()
    page.screenshot(path=str(screenshots / "explore_reloaded_no_kernel.png"))
    # What the docstring says: with no kernel the explorer itself is not shown (JupyterLab's own line).
    assert "Loading widget" in reloaded or "Error displaying widget" in reloaded
