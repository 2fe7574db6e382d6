"""Bytes each view adds to a saved .ipynb, for a large result (64 regions × 20 tokens × 65 steps)."""

from __future__ import annotations

import json

import nbformat
from view_fixtures import comparison_data, explanation_data, spectrum_data, training_data

from xattr_lab.viz.bundle import payload_bundle
from xattr_lab.viz.comparison_view import comparison_payload
from xattr_lab.viz.explanation_view import explanation_payload
from xattr_lab.viz.html import MIME_TYPE, standalone_js
from xattr_lab.viz.spectrum_view import spectrum_payload
from xattr_lab.viz.training_view import training_payload


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
        report[name] = _output_bytes(payload_bundle(payload, name))
    with capsys.disabled():
        print(f"\nstandalone.js inlined in each text/html: {js} bytes")
        for name, sizes in report.items():
            print(f"{name}: {json.dumps(sizes)}")
    big = report["explanation (64 regions × 20 tokens × 65 steps, 224² image)"]
    assert big[MIME_TYPE] < 120_000  # binary arrays + PNG, not JSON number lists
    assert big["text/html"] < big[MIME_TYPE] + js + 4_000
    assert js < 80_000  # no plotly or framework inside the standalone bundle
