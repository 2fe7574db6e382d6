"""The view code once per notebook: an nbconvert page of a notebook with several views renders them all,
in any order, offline; one output cut out alone renders when it carries the code (first view, or the
"compressed" mode), and otherwise shows its text summary with a note, never a blank or broken output."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from views_support import open_offline

from xattr_lab.viz.html import standalone_js

CELLS = [
    "import xattr_lab\n"
    "from xattr_lab.attr.synthetic import SyntheticModel\n"
    "from xattr_lab.viz.bundle import set_html_bundle\n"
    "m = SyntheticModel()\n"
    "e = xattr_lab.explain(m, m.image, 'describe', regions='grid:4', progress=False)\n"
    "s = xattr_lab.viz.token_strip(['a', 'b', 'c'], [0.1, 0.5, 0.9])",
    "e",  # 1: the first view of the session: carries the bundle
    "s",  # 2: reference
    "e",  # 3: reference
    "set_html_bundle('compressed')\ns",  # 4: the first view after a mode change carries the bundle again
    "e",  # 5: loader + deflated copy
]


@pytest.fixture(scope="module")
def notebook(tmp_path_factory):
    from nbclient import NotebookClient

    root = tmp_path_factory.mktemp("bundle-once")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    path = root / "views.ipynb"
    nbformat.write(nb, path)
    return root, nb


def _html(nb, cell: int) -> str:
    (out,) = [o for o in nb.cells[cell].outputs if "text/html" in o.get("data", {})]
    return out["data"]["text/html"]


def _page(browser, html: str, path: Path):
    path.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>{html}</body></html>")
    context, page, _, _, errors = open_offline(browser, path, {"width": 1000, "height": 800})
    return context, page, errors


def test_nbconvert_page_renders_every_view_with_one_bundle(browser, notebook, screenshots):
    root, nb = notebook
    carriers = [i for i in range(1, 6) if standalone_js() in _html(nb, i)]
    assert carriers == [1, 4]
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nb)  # what `jupyter nbconvert --to html` writes
    (root / "views.html").write_text(body, "utf-8")
    context, page, _, _, errors = open_offline(browser, root / "views.html", {"width": 1000, "height": 800})
    page.wait_for_function("() => document.querySelectorAll('.xl-root[data-xl-ready]').length === 5", timeout=10_000)
    assert page.locator(".xattr-lab-fallback:visible").count() == 0 and errors == []
    context.close()


def test_outputs_render_in_any_order(browser, notebook, tmp_path):
    _, nb = notebook
    html = "".join(_html(nb, i) for i in (3, 2, 1))  # the carrier last
    context, page, errors = _page(browser, html, tmp_path / "reversed.html")
    page.wait_for_function("() => document.querySelectorAll('.xl-root[data-xl-ready]').length === 3", timeout=10_000)
    assert errors == []
    context.close()


@pytest.mark.parametrize(("cell", "renders"), [(1, True), (3, False), (5, True)])
def test_one_output_alone(browser, notebook, tmp_path, screenshots, cell, renders):
    _, nb = notebook
    context, page, errors = _page(browser, _html(nb, cell), tmp_path / f"alone{cell}.html")
    if renders:
        page.wait_for_selector(".xl-root[data-xl-ready]", timeout=10_000)
        assert page.locator(".xattr-lab-fallback").is_hidden()
    else:
        fallback = page.locator(".xattr-lab-fallback")
        fallback.locator("br").wait_for(state="attached", timeout=10_000)
        assert "Explanation(" in fallback.inner_text()  # the summary stays readable
        assert "first xattr_lab output of this notebook" in fallback.inner_text()
        assert page.locator(".xl-root").count() == 0
    assert errors == []
    page.screenshot(path=str(screenshots / f"bundle_output_alone_{cell}.png"))
    context.close()


def test_jupyterlab_without_kernel_renders_every_output_from_its_own_data(lab_no_kernel, page, notebook):
    """JupyterLab draws each output from its MIME data with the prebuilt extension: no JS from other outputs."""
    root, _ = notebook
    shutil.copy(root / "views.ipynb", lab_no_kernel.root / "bundle_once.ipynb")
    lab_no_kernel.open_notebook(page, "bundle_once.ipynb")
    lab_no_kernel.dismiss_kernel_dialog(page)
    page.wait_for_function(
        "() => document.querySelectorAll('.jp-xattr-lab .xl-root[data-xl-ready]').length === 5", timeout=30_000
    )
    assert page.locator(".xattr-lab-html").count() == 0  # the renderer, not the text/html copies
    assert lab_no_kernel.api("/api/sessions") == []
