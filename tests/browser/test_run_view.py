"""The run view as exported HTML in Chromium, network blocked, no kernel: leaderboards render, a row with an
embedded explanation opens its linked views, one without names its saved file, untrusted text stays text."""

from __future__ import annotations

import pytest
from views_support import assert_no_xss, block_network, watch_xss

pytest.importorskip("pyarrow")

EVIL = "<img src=x onerror=window.__xss=1>"


@pytest.fixture(scope="module")
def page_path(tmp_path_factory):
    from xattr_lab.runs.api import run
    from xattr_lab.viz.run_view import embedded_explanations, run_payload
    from xattr_lab.viz.view import View

    out = tmp_path_factory.mktemp("run")
    result = run("toy-shapes", {"name": "shapes", "n": 3, "seed": 0}, ["eagle", "random"], out / "r",
                 regions="grid:4", search="efficient", progress=False)  # fmt: skip

    data = result.to_view_data()
    data["rows"][-1] = {**data["rows"][-1], "prompt": EVIL}  # untrusted text in a row (not a real prompt)
    payload = run_payload(data, embedded_explanations(result, data, embed=2))
    return View(payload, repr(result)).export_html(out / "run.html"), [r["key"] for r in data["rows"]]


def test_run_view_offline_drill_down(browser, page_path, screenshots):
    path, keys = page_path
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    dialogs = watch_xss(page)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    blocked = block_network(page)
    try:
        page.goto(path.as_uri())
        page.wait_for_selector(".xl-root[data-xl-ready] .xl-runboard", timeout=15_000)
        assert page.locator(".xl-error").count() == 0
        assert page.locator("svg.xl-ci-bar").count() >= 2  # the pooled board: one interval per method
        rows = page.locator(".xl-rows tbody tr")
        assert rows.count() == len(keys) == 6
        rows.nth(0).click()
        page.wait_for_selector(".xl-detail .xl-explanation", timeout=5_000)
        assert page.locator(".xl-detail .xl-subtitle").first.inner_text() == keys[0]
        assert page.locator(".xl-detail canvas").count() >= 1
        page.wait_for_timeout(200)  # image decode
        page.screenshot(path=str(screenshots / "run_view_drilldown.png"), full_page=True)
        rows.nth(len(keys) - 1).click()  # not embedded: the note names the saved result
        note = page.locator(".xl-detail .xl-note").inner_text()
        assert "not embedded" in note and "explanations" in note and "load_run" in note
        assert page.locator(".xl-detail .xl-explanation").count() == 0
        assert EVIL in page.locator(".xl-rows tbody tr").nth(len(keys) - 1).inner_text()
        page.locator(".xl-runboard select").select_option("deletion_auc")
        assert "deletion_auc ↓" in page.locator(".xl-runboard .xl-subtitle").first.inner_text()
        assert blocked == [] and errors == []
        assert_no_xss(page, dialogs)
    finally:
        context.close()
