"""Notebook 09 as saved, reopened in JupyterLab with no kernel: the frames view renders and its scrubber works."""

from __future__ import annotations

import shutil
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "09_beyond_one_image.ipynb"


def test_saved_frames_view_scrubs_without_kernel(lab_no_kernel, page, screenshots):
    shutil.copy(NOTEBOOK, lab_no_kernel.root / NOTEBOOK.name)
    lab_no_kernel.open_notebook(page, NOTEBOOK.name)
    lab_no_kernel.dismiss_kernel_dialog(page)
    view = page.locator(".jp-xattr-lab .xl-frames").first
    view.wait_for(timeout=60_000)
    assert page.locator(".xattr-lab-html .xl-frames").count() == 0  # the MIME renderer, not the HTML fallback
    view.scroll_into_view_if_needed()  # Lab skips painting cells out of view
    caption = view.locator(".xl-frame-caption")
    assert caption.text_content().startswith("frame 4 of 4")  # opens on the frame with the most map mass
    view.get_by_role("button", name="previous frame").click()
    assert caption.text_content().startswith("frame 3 of 4")
    view.locator("g[data-frame='0']").click()
    assert caption.text_content().startswith("frame 1 of 4")
    assert lab_no_kernel.api("/api/sessions") == []
    page.screenshot(path=str(screenshots / "lab_frames_no_kernel.png"))
