import numpy as np
import pytest

from xattr_lab.metrics.localisation import f1_iou, func_iou, localisation_scores, obj_iou, otsu_threshold


def square(size=32, box=(8, 8, 20, 20)):
    m = np.zeros((size, size), dtype=bool)
    x0, y0, x1, y1 = box
    m[y0:y1, x0:x1] = True
    return m


def test_otsu_splits_two_levels():
    values = np.r_[np.full(100, 0.1), np.full(50, 0.9)]
    t = otsu_threshold(values)
    assert 0.1 <= t < 0.9
    assert otsu_threshold(np.full(5, 0.3)) == 0.3
    with pytest.raises(ValueError, match="values"):
        otsu_threshold(np.array([np.nan]))


def test_obj_iou_perfect_partial_and_shape_check():
    mask = square()
    assert obj_iou(mask.astype(float) + 0.01, mask) == 1.0
    shifted = square(box=(14, 8, 26, 20)).astype(float)
    assert 0.2 < obj_iou(shifted, mask) < 0.5
    with pytest.raises(ValueError, match="mask"):
        obj_iou(np.zeros((4, 4)), mask)


def test_func_iou_and_f1():
    blank = np.zeros((8, 8))
    assert func_iou(blank, 0.5) == 1.0
    assert func_iou(np.ones((8, 8)), 0.5) == 0.0
    assert f1_iou(1.0, 0.5) == pytest.approx(2 / 3)
    assert f1_iou(0.0, 0.0) == 0.0


def test_localisation_scores_rewards_blank_function_words():
    mask = square()
    noun = mask.astype(float) * 0.9 + 0.05
    good = localisation_scores([(noun, mask)], [np.full(mask.shape, 0.05)])
    bad = localisation_scores([(noun, mask)], [noun])
    assert good["obj_iou"] == 1.0 and good["func_iou"] == 1.0 and good["f1_iou"] == 1.0
    assert bad["func_iou"] < good["func_iou"] and bad["f1_iou"] < good["f1_iou"]
    assert np.isnan(localisation_scores([(noun, mask)])["f1_iou"])
    with pytest.raises(ValueError, match="object_maps"):
        localisation_scores([])
