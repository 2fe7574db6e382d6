"""A contrastive Explanation saves and loads its contrast; files without one still load."""

from __future__ import annotations

import json

import numpy as np
import pytest

import xattr_lab
from xattr_lab.datasets.shapes import sample
from xattr_lab.results._store import ResultFileError
from xattr_lab.results.explanation import Explanation


@pytest.fixture(scope="module")
def pair():
    model = xattr_lab.load_model("toy-shapes")
    s = sample(3001, "colour")
    gen = model.generate(s.image, s.prompt, max_new_tokens=3)
    kw = dict(regions="grid:2", generation=gen, method="random")
    return (
        xattr_lab.explain(model, None, s.prompt, contrast="green", **kw),
        xattr_lab.explain(model, None, s.prompt, **kw),
    )


def test_round_trip_keeps_the_contrast(tmp_path, pair):
    e, _ = pair
    back = Explanation.load(e.save(tmp_path / "c"))
    assert back.contrast == e.contrast and back.contrast.tokens == ("green",)
    np.testing.assert_array_equal(back.insertion, e.insertion)
    view = back.to_view_data()
    assert view["contrast"] == {"text": "green", "tokens": ["green"], "target_tokens": ["purple"]}


def test_files_without_a_contrast_load_as_before(tmp_path, pair):
    _, plain = pair
    path = plain.save(tmp_path / "p")
    meta = json.loads(json.loads((path / "result.json").read_text())["meta"])
    assert "contrast" not in meta  # the saved form of a plain explanation is unchanged
    back = Explanation.load(path)
    assert back.contrast is None and back.to_view_data()["contrast"] is None


def test_a_contrast_that_does_not_fit_the_positions_is_refused():
    from xattr_lab.results.contrast import Contrast

    good = {"text": "green", "ids": [3], "tokens": ["green"], "prefix": "target"}
    assert Contrast.from_meta(good, 1).ids == (3,)
    with pytest.raises(ValueError, match="2 positions"):
        Contrast.from_meta(good, 2)
    with pytest.raises(ValueError, match="prefix"):
        Contrast.from_meta({**good, "prefix": "mine"}, 1)
    with pytest.raises(ValueError, match="ids"):
        Contrast.from_meta({**good, "ids": ["x"]}, 1)
    assert issubclass(ResultFileError, ValueError)


def test_the_view_payload_and_offline_html_carry_the_contrast(tmp_path, pair):
    from xattr_lab.viz.explanation_view import explanation_payload

    e, plain = pair
    payload = explanation_payload(e.to_view_data())
    assert payload["data"]["contrast"] == {"text": "green", "tokens": ["green"], "target_tokens": ["purple"]}
    assert "raw_reliance" not in payload["data"]  # a margin has no absolute vision reliance to warn about
    assert "contrast" not in explanation_payload(plain.to_view_data())["data"]
    html = e.export_html(tmp_path / "c.html").read_text()
    assert "rather than" in html  # the offline page carries the view code that titles it (payload: above)
