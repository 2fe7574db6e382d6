"""Issue 14 item 6: a box (or mask) the pointing game cannot score is refused, not scored 0.0."""

import numpy as np
import pytest

from xattr_lab.metrics.localisation import check_box, pointing_game


@pytest.fixture
def peak_map():
    m = np.zeros((10, 10))
    m[2:4, 2:4] = 1.0  # the maximum: rows 2-3, columns 2-3
    return m


def test_a_valid_box_still_wins_and_loses(peak_map):
    assert pointing_game(peak_map, box=(0, 0, 5, 5))
    assert not pointing_game(peak_map, box=(5, 5, 10, 10))
    assert pointing_game(peak_map, box=np.array([1.5, 1.5, 4.0, 4.0]))  # floats and arrays are fine
    assert pointing_game(peak_map, box=(-5, -5, 5, 5))  # partly outside the image is fine


@pytest.mark.parametrize(
    "box, words",
    [
        ((5, 0, 0, 5), "x0 < x1"),  # inverted horizontally
        ((0, 5, 5, 0), "x0 < x1 and y0 < y1"),  # inverted vertically
        ((2, 2, 2, 6), "x0 < x1"),  # empty (end exclusive)
        ((0, 0, float("nan"), 5), "finite"),
        ((0, 0, np.inf, 5), "finite"),
        ((20, 20, 30, 30), "outside"),  # wholly outside the 10x10 map
        ((-9, 0, 0, 5), "outside"),  # ends where the image starts (end exclusive)
        ((0, 0, 5), r"\(x0, y0, x1, y1\)"),
    ],
)
def test_a_box_that_cannot_be_hit_is_refused(peak_map, box, words):
    with pytest.raises(ValueError, match=f"box: .*{words}" if words != "outside" else "box: .*outside"):
        pointing_game(peak_map, box=box)


@pytest.mark.parametrize("box", ["0,0,5,5", (0, 0, "five", 5), 5, None])
def test_a_box_of_the_wrong_type_is_a_type_error(box):
    if box is None:
        with pytest.raises(ValueError, match="mask"):  # neither mask nor box
            pointing_game(np.ones((4, 4)))
        return
    with pytest.raises(TypeError, match="box"):
        check_box(box)


def test_check_box_returns_floats_and_checks_bounds_only_with_a_shape():
    assert check_box((1, 2, 3, 4)) == (1.0, 2.0, 3.0, 4.0)
    assert check_box((20, 20, 30, 30)) == (20.0, 20.0, 30.0, 30.0)  # no shape: bounds unknown
    with pytest.raises(ValueError, match="outside the 10x10 image"):
        check_box((20, 20, 30, 30), (10, 10))


def test_a_nan_mask_is_refused_not_read_as_true(peak_map):
    mask = np.zeros((10, 10))
    mask[:] = np.nan  # np.asarray(nan, bool) is True: before, this "mask" covered the whole image
    with pytest.raises(ValueError, match="mask: .*NaN"):
        pointing_game(peak_map, mask=mask)
    ok = np.zeros((10, 10))
    ok[2:4, 2:4] = 1.0  # a 0/1 float mask is still fine
    assert pointing_game(peak_map, mask=ok)
