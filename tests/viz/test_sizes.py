"""Bytes each view adds to a saved .ipynb: per payload, and per additional view in an executed notebook."""

from __future__ import annotations

import json

import nbformat
import pytest
from view_fixtures import comparison_data, explanation_data, spectrum_data, training_data

from xattr_lab.viz.bundle import payload_bundle
from xattr_lab.viz.comparison_view import comparison_payload
from xattr_lab.viz.explanation_view import explanation_payload
from xattr_lab.viz.html import MIME_TYPE, compressed_js, html_fragment, standalone_js
from xattr_lab.viz.spectrum_view import spectrum_payload
from xattr_lab.viz.training_view import training_payload

PER_VIEW_LIMIT = 15_000  # issue 16: each additional view adds at most 15 KB to a saved notebook


def _output_bytes(bundle: dict) -> dict[str, int]:
    nb = nbformat.v4.new_notebook()
    empty = len(nbformat.writes(nb).encode())
    sizes = {}
    for key in bundle:
        out = nbformat.v4.new_output("display_data", data={key: bundle[key]})
        nb.cells = [nbformat.v4.new_code_cell("x", outputs=[out])]
        sizes[key] = len(nbformat.writes(nb).encode()) - empty
    nb.cells = [nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output("display_data", data=bundle)])]
    sizes["total"] = len(nbformat.writes(nb).encode()) - empty
    return sizes


def test_bytes_per_view_in_a_saved_notebook(capsys):
    data = explanation_data(n_regions=64, n_tokens=20, size=224)
    spectrum = spectrum_data(L=4, H=8, T=32)
    logits = spectrum.pop("_logits")
    payloads = {
        "explanation (64 regions × 20 tokens × 65 steps, 224² image)": explanation_payload(data),
        "spectrum (4 layers × 8 heads, T=32, all logits)": spectrum_payload(spectrum, all_logits=logits),
        "training curves (4 series × 200 points)": training_payload(training_data(200)),
        "comparison (4 methods × 16 regions)": comparison_payload(comparison_data()),
    }
    js = len(standalone_js().encode())
    report = {}
    for name, payload in payloads.items():
        report[name] = {js_form: _output_bytes(payload_bundle(payload, name, js=js_form))
                        for js_form in ("inline", "reference")}
    with capsys.disabled():
        print(f"\nstandalone.js: {js} bytes inline, {len(compressed_js())} deflated+base64")
        for name, sizes in report.items():
            print(f"{name}: {json.dumps(sizes)}")
    big = report["explanation (64 regions × 20 tokens × 65 steps, 224² image)"]
    assert big["inline"][MIME_TYPE] < 120_000  # binary arrays + PNG, not JSON number lists
    # the HTML copy of a large payload is deflated: smaller than the MIME JSON, plus the bundle or a loader
    assert big["inline"]["text/html"] < big["inline"][MIME_TYPE] + js + 4_000
    assert big["reference"]["text/html"] < big["inline"][MIME_TYPE]
    for sizes in report.values():
        assert sizes["inline"]["text/html"] - sizes["reference"]["text/html"] > js - 2_000
    assert js < 100_000  # no plotly or framework inside the standalone bundle
    assert len(compressed_js()) < js / 1.5


def test_html_forms_carry_the_code_once_reference_or_compressed():
    payload = explanation_payload(explanation_data(n_regions=4, n_tokens=3, size=16))
    inline, ref, packed = (html_fragment(payload, "s", js=f) for f in ("inline", "reference", "compressed"))
    assert standalone_js() in inline and standalone_js() not in ref
    assert len(ref) - len(inline) + len(standalone_js()) < 1_500  # the loader
    assert compressed_js() in packed and len(packed) < len(inline)
    with pytest.raises(ValueError, match="js"):
        html_fragment(payload, "s", js="cdn")


VIEW_CELL = "e"
SETUP = (
    "import xattr_lab\n"
    "from xattr_lab.attr.synthetic import SyntheticModel\n"
    "from xattr_lab.viz.bundle import set_html_bundle\n"
    "m = SyntheticModel()\n"
    "e = xattr_lab.explain(m, m.image, 'describe', regions='grid:4', progress=False)\n"
    "set_html_bundle({mode!r})"
)


def _saved_sizes(nb, views: list[int], n_views: tuple[int, ...]) -> dict[int, int]:
    """Size of the saved notebook made of the setup cell and the first k of ``views`` cells, for each k."""
    sizes = {}
    for k in n_views:
        part = nbformat.from_dict(json.loads(json.dumps(nb)))
        part.cells = [part.cells[0]] + [part.cells[i] for i in views[:k]]
        sizes[k] = len(nbformat.writes(part).encode())
    return sizes


@pytest.fixture(scope="module")
def executed():
    """5 views the old way ("every" view inlines the bundle), then the same 5 views the new way ("once")."""
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SETUP.format(mode="every"))]
    nb.cells += [nbformat.v4.new_code_cell(VIEW_CELL) for _ in range(5)]
    nb.cells += [nbformat.v4.new_code_cell("set_html_bundle('once')")]
    nb.cells += [nbformat.v4.new_code_cell(VIEW_CELL) for _ in range(5)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    return nb


def test_each_additional_view_adds_at_most_15_kb(executed, capsys):
    before = _saved_sizes(executed, [1, 2, 3, 4, 5], (1, 2, 5))
    after = _saved_sizes(executed, [7, 8, 9, 10, 11], (1, 2, 5))
    with capsys.disabled():
        print(f"\nsaved notebook with 1, 2, 5 explanation views: before {before}, after {after} bytes")
    html = [executed.cells[i].outputs[0]["data"]["text/html"] for i in range(7, 12)]
    assert standalone_js() in html[0] and all(standalone_js() not in h for h in html[1:])  # once
    assert after[1] == pytest.approx(before[1], abs=200)  # the first view is unchanged
    assert (after[5] - after[1]) / 4 <= PER_VIEW_LIMIT
    assert (after[2] - after[1]) <= PER_VIEW_LIMIT
    assert (before[5] - before[1]) / 4 > len(standalone_js())  # the old way: the whole bundle per view
