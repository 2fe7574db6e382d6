"""A two-image explanation of the ShapesVLM as offline HTML in Chromium: both images, one map, one strip."""

from __future__ import annotations

from views_support import open_export

import xattr_lab
from xattr_lab.datasets.shapes import sample
from xattr_lab.models.multi_image import MultiImageModel, image_regions


def test_multi_image_explanation_shows_every_image(browser, tmp_path, screenshots):
    model = MultiImageModel(xattr_lab.load_model("toy-shapes"))
    s, other = sample(3000, "colour"), sample(5000, "colour")  # the star is in the first image only
    gen = model.generate([s.image, other.image], s.prompt, max_new_tokens=3)
    e = xattr_lab.explain(
        model, None, s.prompt, "eagle", regions=image_regions("slico:16", gen), search="efficient",
        generation=gen, progress=False,
    )  # fmt: skip
    path = e.export_html(tmp_path / "multi.html")
    context, page, _, _, errors = open_export(browser, path, {"width": 1200, "height": 800})
    assert page.get_by_text("blue", exact=True).count() >= 1  # the answer in the token strip
    canvas = page.locator("canvas").first.bounding_box()
    assert canvas["width"] > 1.8 * canvas["height"]  # the canvas holds both 96-px images side by side
    page.screenshot(path=str(screenshots / "multi_image_explanation.png"), full_page=True)
    assert not errors
    context.close()
