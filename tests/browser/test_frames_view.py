"""The frames view as offline HTML in Chromium (light and dark): scrubber, per-frame map, temporal curve."""

from __future__ import annotations

import pytest
from views_support import canvas_png, open_export

import xattr_lab
from xattr_lab.datasets.frames import frames_sample
from xattr_lab.models.frames import FramesModel
from xattr_lab.video.explain import explain_frames
from xattr_lab.viz.frames_view import frames_view


@pytest.fixture(scope="module")
def clip_html(tmp_path_factory):
    model = FramesModel(xattr_lab.load_model("toy-shapes"))
    s = frames_sample(1_000_003 * 9 + 1)  # held-out stream 9; the answer is read correctly
    e = explain_frames(model, s.frames, s.prompt, "eagle", tokens=[0], regions="grid:4,2,2", max_new_tokens=3)
    assert e.generation.generated_tokens[0] == s.answer
    path = frames_view(e, decisive=s.decisive).export_html(tmp_path_factory.mktemp("frames") / "clip.html")
    return path, s, e


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_frames_view_scrubs_offline(browser, clip_html, screenshots, scheme):
    path, s, e = clip_html
    context, page, dialogs, blocked, errors = open_export(browser, path, {"width": 1200, "height": 800}, scheme)
    caption = page.locator(".xl-frame-caption")
    # the view opens on the frame with the most map mass: the decisive one here
    assert caption.inner_text().startswith(f"frame {s.decisive + 1} of 4")
    assert page.get_by_text(s.answer, exact=True).count() >= 1  # the answer in the token strip
    assert page.locator("g[data-frame]").count() == 4
    page.screenshot(path=str(screenshots / f"frames_view_{scheme}.png"), full_page=True)
    frame_canvas = page.locator(".xl-frame canvas").first
    before = canvas_png(frame_canvas)
    other = (s.decisive + 1) % 4
    page.locator(f"g[data-frame='{other}']").click()
    assert caption.inner_text().startswith(f"frame {other + 1} of 4")
    assert canvas_png(page.locator(".xl-frame canvas").first) != before  # another frame is drawn
    button = "previous frame" if other > 0 else "next frame"
    page.get_by_role("button", name=button).click()
    assert not caption.inner_text().startswith(f"frame {other + 1} of 4")
    assert dialogs == [] and blocked == [] and errors == []
    context.close()
