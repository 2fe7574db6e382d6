"""The handout builder without a browser: cleaning, self-containment check, errors (tiny constructed notebooks)."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from xattr_lab.workshop import handouts as H

SOLUTION = '<details><summary>Solution</summary>\n\n**"star"**\n\n```python\nx = 1\n```\n</details>'


def _notebook() -> nbformat.NotebookNode:
    widget = new_output(
        "display_data",
        data={H.WIDGET_MIME: {"model_id": "abc", "version_major": 2}, "text/plain": "<TrainingCurves object>"},
    )
    figure = new_output("display_data", data={H.PLOTLY_MIME: {"data": [{"y": [1, 3, 2]}], "layout": {}}})
    second = new_output("display_data", data={H.PLOTLY_MIME: {"data": [{"y": [2, 1]}], "layout": {}}})
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Title"),
            new_code_cell("curves", outputs=[widget]),
            new_code_cell("fig", outputs=[figure, second]),
            new_markdown_cell(SOLUTION),
        ]
    )
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    return nb


def test_clean_replaces_widgets_inlines_plotly_once_and_folds_solutions():
    nb = _notebook()
    out = H.clean(nb)
    assert "widgets" not in out.metadata and "widgets" in nb.metadata  # a copy; the input is untouched
    widget = out.cells[1].outputs[0].data
    assert H.WIDGET_MIME not in widget and "needs a running kernel" in widget["text/html"]
    first, second = (o.data["text/html"] for o in out.cells[2].outputs)
    assert len(first) > 1_000_000 and len(second) < 20_000  # plotly.js inline in the first figure only
    solution = out.cells[3]
    assert solution.cell_type == "raw" and solution.metadata["xattr_solution"]
    assert solution.source.startswith('<details class="xattr-lab-solution"><summary>Solution</summary><p>')


def test_render_is_self_contained_and_keeps_the_solution_folded():
    html = H.render(H.clean(_notebook()), title="t")
    assert H.external_references(html) == []
    assert "Content-Security-Policy" in html and "require.min.js" not in html and "MathJax.js" not in html
    start = html.index('<details class="xattr-lab-solution">')
    assert html.index("<strong>", start) < html.index("</details>", start)  # the answer sits inside <details>


def test_external_references_finds_loads_not_links():
    page = (
        '<a href="https://example.org">docs</a><img src="data:image/png;base64,AAAA">'
        '<script src="https://cdn.example/x.js"></script><link rel="stylesheet" href="//cdn.example/s.css">'
        "<style>@import url('https://fonts.example/f.css'); .a{background:url(http://x.example/i.png)}</style>"
    )
    assert H.external_references(page) == [
        "https://cdn.example/x.js",
        "//cdn.example/s.css",
        "https://fonts.example/f.css",
        "http://x.example/i.png",
    ]


def test_build_handout_from_saved_outputs_and_bad_paths(tmp_path):
    path = tmp_path / "01_tiny.ipynb"
    nbformat.write(_notebook(), path)
    target = H.build_handout(path, tmp_path / "out", execute_first=False)
    assert target.name == "01_tiny.html" and H.external_references(target.read_text("utf-8")) == []
    with pytest.raises(ValueError, match="ipynb"):
        H.build_handout(tmp_path / "notes.txt", tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        H.build_handout(tmp_path / "missing.ipynb", tmp_path)
    assert H.main(["--no-execute", "--out", str(tmp_path / "cli"), str(path)]) == 0
    assert (tmp_path / "cli" / "01_tiny.html").is_file()
    assert H.main(["--no-execute", "--out", str(tmp_path), str(tmp_path / "missing.ipynb")]) == 1
