"""Self-contained HTML (export_html and nbconvert) renders with the network blocked and runs no markup."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from views_support import block_network

TOKENS = ["a", "</script><script>window.__xss=1</script>", "<img src=x onerror=window.__xss=2>"]


def test_export_html_offline(page, tmp_path, screenshots):
    from xattr_lab.viz import token_strip

    path = token_strip(TOKENS, [0.2, 0.5, 0.8], prompt_tokens=["Q"]).export_html(tmp_path / "strip.html")
    blocked = block_network(page)
    page.goto(path.as_uri())
    tokens = page.locator(".xl-strip [data-index]")
    tokens.first.wait_for(timeout=10_000)
    assert [tokens.nth(i).inner_text() for i in range(3)] == TOKENS
    tokens.nth(2).click()
    assert "token 2" in page.locator(".xl-status").inner_text()
    assert page.evaluate("() => window.__xss === undefined")
    assert blocked == []
    page.screenshot(path=str(screenshots / "html_token_strip_export.png"))


def test_nbconvert_html_offline(page, tmp_path, execute_notebook, screenshots):
    nb = tmp_path / "strip.ipynb"
    execute_notebook(
        [
            "import xattr_lab\n"
            f"xattr_lab.token_strip({TOKENS!r}, [0.2, 0.5, 0.8])",
            "xattr_lab.token_strip(['second', 'view'], [1.0, 0.0])",
        ],
        nb,
    )
    subprocess.run(
        [str(Path(sys.executable).parent / "jupyter"), "nbconvert", "--to", "html", str(nb)],
        check=True,
        capture_output=True,
    )
    blocked = block_network(page)
    page.goto((tmp_path / "strip.html").as_uri())
    page.locator(".xl-strip").nth(1).wait_for(timeout=10_000)
    assert page.locator(".xl-strip").count() == 2  # each output rendered once
    first = page.locator(".xl-strip").first.locator("[data-index]")
    assert first.nth(1).inner_text() == TOKENS[1]
    first.nth(1).click()
    assert "token 1" in page.locator(".xl-status").first.inner_text()
    assert page.evaluate("() => window.__xss === undefined")
    # nbconvert's template may reference CDN assets (require.js, MathJax); the views need none of them.
    assert all("xattr" not in url for url in blocked)
    page.screenshot(path=str(screenshots / "html_token_strip_nbconvert.png"))
