"""Payload builders and MIME bundles for each result type (no browser)."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import numpy as np
import pytest
from view_fixtures import XSS_TOKENS, comparison_data, explanation_data, spectrum_data, training_data

from xattr_lab.viz.bundle import result_bundle
from xattr_lab.viz.comparison_view import comparison_payload
from xattr_lab.viz.explanation_view import explanation_payload
from xattr_lab.viz.html import MIME_TYPE, html_fragment, payload_json
from xattr_lab.viz.spectrum_view import spectrum_payload
from xattr_lab.viz.training_view import training_payload


def _fake(type_name: str, data: dict, **attrs):
    cls = type(type_name, (), {"to_view_data": lambda self: data, "__repr__": lambda self: f"{type_name}(...)"})
    obj = cls()
    for k, v in attrs.items():
        setattr(obj, k, v)
    return obj


def _arrays(value):
    """Every array spec in a payload."""
    if isinstance(value, dict):
        if {"dtype", "shape", "data"} <= set(value):
            yield value
        else:
            for v in value.values():
                yield from _arrays(v)
    elif isinstance(value, list):
        for v in value:
            yield from _arrays(v)


def test_explanation_payload_splits_tokens_and_sends_binary_arrays():
    data = explanation_data(n_regions=16, n_tokens=4, size=64)
    p = explanation_payload(data)
    d = p["data"]
    assert p["view"] == "explanation"
    assert d["prompt_tokens"] == ["<image>", "Describe", "the", "image", "."]
    assert d["tokens"][1:4] == XSS_TOKENS
    specs = list(_arrays(d))
    assert specs and all(isinstance(s["data"], bytes) for s in specs)
    assert (d["image"]["dtype"], d["image"]["data"][:4]) in {("png", b"\x89PNG"), ("jpeg", b"\xff\xd8\xff\xe0")}
    assert d["labels"]["encoding"] == "rle"
    pairs = np.frombuffer(d["labels"]["data"], "<u2").reshape(-1, 2)
    assert pairs[:, 1].sum() == 64 * 64
    targets = np.frombuffer(d["targets"]["data"], "<i4")
    assert targets.tolist() == [0, 1, 2, 3]  # indices into the generated tokens
    assert d["scores"]["shape"] == [4]
    assert "pixel_map" not in d  # equal to region_scores[labels]: not sent twice
    assert d["n_regions"] == 16
    assert d["metrics"]["ahs"] is None  # NaN is not JSON
    json.dumps(payload_json(p))


def test_explanation_payload_downsizes_large_images_and_keeps_fine_pixel_maps():
    data = explanation_data(n_regions=16, n_tokens=2, size=640)
    data["pixel_map"] = np.random.default_rng(0).random((640, 640)).astype(np.float32)
    d = explanation_payload(data, max_side=200)["data"]
    assert d["image"]["shape"][:2] == [200, 200]
    assert d["labels"]["shape"] == [200, 200]
    assert max(d["pixel_map"]["shape"]) <= 96


def test_flat_images_stay_lossless():
    flat = np.zeros((32, 32, 3), np.uint8)
    flat[8:24, 8:24] = (200, 30, 30)
    from xattr_lab.viz.images import encode_display_image

    assert encode_display_image(flat)["dtype"] == "png"


def test_explanation_payload_tolerates_missing_optional_keys():
    p = explanation_payload({"tokens": ["a", "b"], "image": np.zeros((8, 8, 3), np.uint8)})
    assert set(p["data"]) >= {"tokens", "image"}
    assert "insertion" not in p["data"]


def test_real_explanation_bundle_has_all_three_entries():
    import xattr_lab
    from xattr_lab.attr.synthetic import SyntheticModel

    model = SyntheticModel(size=32, boxes=((2, 2, 14, 14), (18, 18, 30, 30)), about=(0, 1), words=tuple(XSS_TOKENS[:2]))
    e = xattr_lab.explain(model, model.image, "describe", regions="grid:4", progress=False)
    bundle = e._repr_mimebundle_()
    assert set(bundle) == {MIME_TYPE, "text/html", "text/plain"}
    assert bundle["text/plain"] == repr(e)
    assert bundle[MIME_TYPE]["view"] == "explanation"
    assert bundle[MIME_TYPE]["data"]["tokens"] == XSS_TOKENS[:2]
    assert isinstance(bundle[MIME_TYPE]["data"]["insertion"]["data"], str)  # base64 in JSON transports
    json.dumps(bundle)


@pytest.mark.parametrize(
    "type_name,data,view",
    [
        ("Explanation", explanation_data(16, 3, 48), "explanation"),
        ("SpectrumReport", spectrum_data(), "spectrum"),
        ("TrainingRun", training_data(), "training_curves"),
        ("Comparison", comparison_data(), "comparison"),
    ],
)
def test_result_bundle_dispatches_by_type_name(type_name, data, view):
    bundle = result_bundle(_fake(type_name, data))
    assert bundle[MIME_TYPE]["view"] == view
    assert bundle["text/plain"] == f"{type_name}(...)"
    html = bundle["text/html"]
    assert f'<script type="{MIME_TYPE}">' in html
    json.dumps(bundle)


def test_unknown_results_fall_back_to_text():
    assert result_bundle(SimpleNamespace(x=1)) == {"text/plain": "namespace(x=1)"}


def test_markup_in_tokens_cannot_escape_the_html_payload():
    data = explanation_data(n_regions=4, n_tokens=4, size=16)
    html = html_fragment(explanation_payload(data), "summary </script><script>window.__xss=3</script>")
    # The only script-closing tags are our own: two scripts, two closings.
    assert html.count("</script>") == 2
    assert "<img" not in html.replace("&lt;img", "")
    assert "window.__xss=3" in html and "&lt;/script&gt;&lt;script&gt;window.__xss=3" in html
    block = re.search(rf'<script type="{re.escape(MIME_TYPE)}">(.*?)</script>', html, re.S).group(1)
    assert json.loads(block)["data"]["tokens"][1:4] == XSS_TOKENS


def test_spectrum_payload_sends_all_logits_within_budget_and_notes_otherwise():
    data = spectrum_data()
    logits = data.pop("_logits")
    p = spectrum_payload(data, all_logits=logits)["data"]
    assert p["logits"]["shape"] == [2, 4, 16, 16]
    assert p["toeplitz"]["shape"] == [8, 31]
    assert p["stats"]["shape"] == [2, 2, 4] and p["stat_names"] == ["spread", "condition"]
    assert (p["layer"], p["head"]) == (0, 1)
    small = spectrum_payload(data, all_logits=logits, logits_budget=100)["data"]
    assert small["logits"]["shape"] == [16, 16]
    assert "layer 0, head 1" in small["logits_note"]


def test_real_spectrum_report_and_training_run_display():
    from xattr_lab.results.spectrum import STAT_NAMES, SpectrumReport
    from xattr_lab.results.training import TrainingRun

    rng = np.random.default_rng(0)
    L, H, T = 2, 2, 6
    logits = rng.normal(size=(L, H, T, T)).astype(np.float32)
    report = SpectrumReport(
        scheme="alibi",
        stats={n: rng.random((L, H)) for n in STAT_NAMES},
        mean_logits=logits,
        eig_sym=np.sort(rng.normal(size=(L, H, T)), -1),
        eig=np.linalg.eigvals(logits.astype(np.float64)),
        singular_values=rng.random((L, H, T)),
        toeplitz_profile=rng.normal(size=(L, H, 2 * T - 1)),
    )
    b = report._repr_mimebundle_()
    assert b[MIME_TYPE]["view"] == "spectrum"
    assert b[MIME_TYPE]["data"]["logits"]["shape"] == [L, H, T, T]
    run = TrainingRun.from_history([{"step": s, "train_loss": 1 / s, "test_acc": s / 10} for s in range(1, 11)])
    b = run._repr_mimebundle_()
    assert b[MIME_TYPE]["view"] == "training_curves"
    assert b[MIME_TYPE]["data"]["panels"][1]["names"] == ["test_acc"]


def test_training_payload_checks_shapes_and_drops_missing_events():
    p = training_payload(training_data())["data"]
    assert p["events"] == {"grokked": 1200}
    assert p["labels"]["test_acc"] == "<b>test</b> acc"
    with pytest.raises(ValueError, match="series"):
        training_payload({"steps": [1, 2], "series": {"a": [1.0]}})


def test_comparison_payload_accepts_both_metric_layouts():
    data = comparison_data()
    p = comparison_payload(data)["data"]
    assert p["metric_names"] == ["insertion_auc", "deletion_auc"]
    assert p["metric_better"] == ["higher", "lower"]
    assert p["metric_values"]["shape"] == [2, 4]
    data["metrics"] = {"insertion_auc": [0.1, 0.2, 0.3, 0.4]}
    assert comparison_payload(data)["data"]["metric_values"]["shape"] == [1, 4]
    with pytest.raises(ValueError, match="one row per method|rows"):
        comparison_payload({**data, "region_scores": np.zeros((2, 16))})
