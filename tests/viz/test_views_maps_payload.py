"""Payload side of the issue-16 map views: per-token figures and scales of the comparison grid, the
overlay style chosen for colour questions, and the near-zero vision reliance note's data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from view_fixtures import comparison_data, explanation_data

from xattr_lab.metrics.faithfulness import auc
from xattr_lab.metrics.reliance import raw_reliance
from xattr_lab.viz.builders import build_comparison
from xattr_lab.viz.comparison_view import comparison_payload, token_metrics
from xattr_lab.viz.explanation_view import NEAR_ZERO_RELIANCE, default_overlay, explanation_payload


def _array(spec: dict) -> np.ndarray:
    return np.frombuffer(spec["data"], dtype=np.dtype(spec["dtype"]).newbyteorder("<")).reshape(spec["shape"])


@pytest.fixture(scope="module")
def comparison():
    import xattr_lab
    from xattr_lab.attr.synthetic import SyntheticModel

    m = SyntheticModel(size=32, boxes=((2, 2, 14, 14), (18, 4, 30, 16), (6, 18, 18, 30)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return xattr_lab.compare(
            m, m.image, "What colour?", methods=("eagle", "random"), regions="grid:3", progress=False
        )


def test_token_metrics_are_the_per_token_terms_of_the_table(comparison):
    tm = token_metrics(comparison.explanations)
    assert list(tm) == ["insertion AUC", "deletion AUC", "vision reliance"]
    for m, (e, row) in enumerate(zip(comparison.explanations, comparison.rows)):
        assert tm["insertion AUC"].shape == (2, len(e.positions))
        assert tm["insertion AUC"][m, 0] == pytest.approx(auc(e.insertion[0], e.area))
        # the table's AUC is the AUC of the mean curve: the mean of the per-token AUCs
        assert tm["insertion AUC"][m].mean() == pytest.approx(row["insertion_auc"])
        assert tm["deletion AUC"][m].mean() == pytest.approx(row["deletion_auc"])
        np.testing.assert_allclose(tm["vision reliance"][m], e.reliance)


def test_comparison_payload_carries_the_strip_link_and_the_scale(comparison):
    data = build_comparison(comparison)["data"]
    assert data["scale"] == "method"
    assert data["token_metric_names"] == ["insertion AUC", "deletion AUC", "vision reliance"]
    values = _array(data["token_metric_values"])
    assert values.shape == (3, 2, len(comparison.explanations[0].positions))
    assert _array(data["targets"]).tolist() == list(comparison.explanations[0].positions)
    assert data["tokens"] == list(comparison.explanations[0].generation.generated_tokens)


def test_comparison_payload_checks_its_new_inputs():
    data = comparison_data(2)
    assert comparison_payload({**data, "scale": "shared"})["data"]["scale"] == "shared"
    with pytest.raises(ValueError, match="scale"):
        comparison_payload({**data, "scale": "global"})
    assert comparison_payload(data)["data"]["overlay"] == "blend"
    assert comparison_payload({**data, "prompt_tokens": ["What", " color", "?"]})["data"]["overlay"] == "contours"
    with pytest.raises(ValueError, match="overlay"):
        comparison_payload({**data, "overlay": "beside"})
    with pytest.raises(ValueError, match="token_metrics"):
        comparison_payload({**data, "token_metrics": {"x": np.zeros((3, 2))}})
    with pytest.raises(ValueError, match="targets"):
        comparison_payload({**data, "tokens": ["a", "b"], "targets": [0, 2]})
    assert token_metrics([]) == {}


def test_overlay_defaults_to_contours_for_colour_questions():
    assert default_overlay(["<image>", "What", " colour", " is", " it", "?"]) == "contours"
    assert default_overlay(["▁What", "▁COLOR", "?"]) == "contours"
    assert default_overlay(["<image>", "Describe", "the", "image"]) == "blend"
    data = explanation_data(16, 3, 32)
    assert explanation_payload(data)["data"]["overlay"] == "blend"
    assert explanation_payload({**data, "overlay": "beside"})["data"]["overlay"] == "beside"
    colour = {**data, "tokens": ["What", "colour", "?", "", "."] + data["tokens"][5:]}
    assert explanation_payload(colour)["data"]["overlay"] == "contours"
    with pytest.raises(ValueError, match="overlay"):
        explanation_payload({**data, "overlay": "tint"})


def test_raw_reliance_and_its_threshold_travel_with_the_explanation():
    data = explanation_data(16, 3, 32)
    ins = data["insertion"].copy()
    ins[1] = 0.9  # a flat curve: the token rests on the language prior
    out = explanation_payload({**data, "insertion": ins})["data"]
    raw = _array(out["raw_reliance"])
    np.testing.assert_allclose(raw, raw_reliance(ins, data["area"]), atol=1e-6)
    assert raw[1] == pytest.approx(0.0, abs=1e-6) and raw[0] > NEAR_ZERO_RELIANCE
    assert out["reliance_floor"] == NEAR_ZERO_RELIANCE
    assert explanation_payload({**data, "reliance_floor": 0.2})["data"]["reliance_floor"] == 0.2
    # contrastive curves hold a log-probability margin: no absolute reliance is read off them
    assert "raw_reliance" not in explanation_payload({**data, "contrast": {"text": "blue"}})["data"]


def test_text_attribution_strip_names_its_uncoloured_tokens():
    from xattr_lab.results.text import TextAttribution
    from xattr_lab.viz.builders import build_text_attribution

    ta = TextAttribution(("<image>", "What", " colour"), np.array([np.nan, 0.2, -0.4]), " red", "leave_one_out")
    data = build_text_attribution(ta)["data"]
    assert data["score_label"] == "log-prob drop when removed"
    assert data["unscored_label"] == "not scored (the explained token, image tokens)"
    assert _array(data["scores"]).shape == (4,)
