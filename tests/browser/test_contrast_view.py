"""A contrastive explanation of the ShapesVLM as offline HTML in Chromium: the title names both answers."""

from __future__ import annotations

from views_support import open_export

import xattr_lab
from xattr_lab.datasets.shapes import sample


def test_contrastive_explanation_renders_offline_with_both_words(browser, tmp_path, screenshots):
    model = xattr_lab.load_model("toy-shapes")
    s = sample(3001, "colour")  # "what colour is the star ?": a purple star and a green triangle
    e = xattr_lab.explain(
        model, s.image, s.prompt, "eagle", regions="slico:24", search="efficient", contrast="green", progress=False
    )
    path = e.export_html(tmp_path / "contrast.html")
    context, page, _, _, errors = open_export(browser, path, {"width": 1100, "height": 800})
    title = page.locator(".xl-contrast").inner_text()
    assert 'why "purple" rather than "green"' in title
    # the margin is unbounded; the chart plots sigma(margin) in [0, 1], so both curves stay inside it
    chart = page.locator("svg.xl-chart").bounding_box()
    for name in ("insertion", "deletion"):
        box = page.locator(f"path.xl-{name}").bounding_box()
        assert chart["y"] - 1 <= box["y"] and box["y"] + box["height"] <= chart["y"] + chart["height"] + 1
    page.screenshot(path=str(screenshots / "contrast_explanation.png"), full_page=True)
    assert not errors
    context.close()
