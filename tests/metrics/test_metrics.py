from types import SimpleNamespace

import numpy as np
import pytest

import xattr_lab
from xattr_lab.attr.synthetic import SyntheticModel
from xattr_lab.metrics.faithfulness import auc, cumulative_area, curve_metrics, highest_confidence
from xattr_lab.metrics.hallucination import correction_area, hallucination_scores
from xattr_lab.metrics.localisation import pointing_game
from xattr_lab.metrics.reliance import vision_reliance


def test_auc_over_area_with_end_points():
    area = np.array([0.0, 0.5, 1.0])
    assert auc(np.array([0.0, 1.0, 1.0]), area) == pytest.approx(0.75)
    assert np.isnan(auc(np.array([0.0, np.nan, 1.0]), area))
    assert cumulative_area([1, 0], np.array([0.25, 0.75])).tolist() == [0.0, 0.75, 1.0]


def test_curve_metrics_and_sensitive_tokens():
    area = np.linspace(0, 1, 5)
    ins = np.array([[0.0, 0.8, 0.9, 1.0, 1.0], [0.9, 0.9, 0.9, 0.9, 0.9]])  # token 1 insensitive
    dele = np.array([[1.0, 0.2, 0.1, 0.0, 0.0], [0.9, 0.9, 0.9, 0.9, 0.9]])
    m = curve_metrics(ins, dele, area)
    assert m["n_sensitive"] == 1
    assert m["sensitive_insertion_auc"] == pytest.approx(auc(ins[0], area))
    assert m["insertion_auc"] == pytest.approx(auc(ins.mean(0), area))
    assert m["ahs"] == pytest.approx(0.95)
    assert m["highest_conf@25"] == pytest.approx(0.85) and m["area_at_highest@25"] == 0.25


def test_highest_confidence_respects_budget():
    area = np.array([0.0, 0.3, 0.6, 1.0])
    hc = highest_confidence(np.array([0.1, 0.2, 0.9, 0.5]), area)
    assert hc["highest_conf@25"] == 0.1 and hc["highest_conf@50"] == 0.2
    assert hc["highest_conf@75"] == 0.9 and hc["highest_conf@100"] == 0.9


def test_pointing_game_mask_box_and_plateaus():
    m = np.zeros((10, 10))
    m[2:4, 2:4] = 1.0  # a plateau, as region maps have
    gt = np.zeros((10, 10), bool)
    gt[0:5, 0:5] = True
    assert pointing_game(m, mask=gt) and pointing_game(m, box=(0, 0, 5, 5))
    assert not pointing_game(m, box=(5, 5, 10, 10))
    with pytest.raises(ValueError, match="mask"):
        pointing_game(m)
    with pytest.raises(ValueError, match="mask"):
        pointing_game(m, mask=np.zeros((3, 3), bool))


def test_reliance_normalised_and_flat_curves_score_zero():
    area = np.linspace(0, 1, 3)
    r = vision_reliance(np.array([[0.0, 1.0, 1.0], [0.9, 0.9, 0.9], [0.0, 0.5, 1.0]]), area)
    assert r[1] == 0.0 and r[0] == 1.0 and 0 < r[2] < 1


def test_hallucination_scores_keep_never_flipped_in_csr():
    s = hallucination_scores([0.05, 0.08, 1.0, 0.5])
    assert s["amcr"] == pytest.approx((0.05 + 0.08 + 1.0 + 0.5) / 4)
    assert s["csr@10"] == 0.5  # EAGLE's code would report 2/3
    assert s["never_flipped"] == 1
    with pytest.raises(ValueError, match="areas"):
        hallucination_scores([])


class Absent(SyntheticModel):
    """Says 'yes' (there is a red square) unless the red object is gone: a hallucination driver."""

    def generate(self, image=None, prompt="is there", max_new_tokens=16):
        img = np.asarray(self.image if image is None else image)
        red = (img[..., 0] > 200) & (img[..., 1] < 60)
        return SimpleNamespace(text="yes" if red.sum() > 20 else "no")


def test_correction_area_finds_the_tail():
    model = SyntheticModel(size=32, boxes=((2, 2, 12, 12), (18, 4, 30, 14), (6, 18, 16, 30)))
    e = xattr_lab.explain(model, model.image, "d", tokens=[1], regions="grid:4", progress=False)
    # A model that answers "no" once the red object is fully removed; red is ranked low when explaining blue.
    m = Absent(size=32, boxes=((2, 2, 12, 12), (18, 4, 30, 14), (6, 18, 16, 30)))
    area = correction_area(m, e, "no")
    assert 0 < area < 1


def test_evaluate_matches_the_explanations_own_curves():
    model = SyntheticModel(size=32, boxes=((2, 2, 12, 12), (18, 4, 30, 14), (6, 18, 16, 30)))
    e = xattr_lab.explain(model, model.image, "d", method="random", regions="grid:4", progress=False)
    mask = model.object_masks[0]
    m = xattr_lab.evaluate(model, e, mask=mask, box=(2, 2, 12, 12))
    assert m["insertion_auc"] == pytest.approx(e.metrics["insertion_auc"])
    assert m["deletion_auc"] == pytest.approx(e.metrics["deletion_auc"])
    assert m["pointing_mask"] in (0.0, 1.0) and m["n_forward"] > 0
    with pytest.raises(TypeError, match="explanation"):
        xattr_lab.evaluate(model, object())
