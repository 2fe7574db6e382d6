import numpy as np
import pytest

from xattr_lab.inputs import Regions, make_regions


@pytest.fixture(scope="module")
def image():
    rng = np.random.default_rng(0)
    img = np.full((96, 96, 3), 120, np.uint8)
    img[10:40, 10:40] = (220, 30, 30)
    img[50:90, 40:80] = (30, 60, 220)
    return np.clip(img + rng.normal(0, 4, img.shape), 0, 255).astype(np.uint8)


@pytest.mark.parametrize(("spec", "low", "high"), [("slico:64", 45, 80), ("slic:64", 40, 80), ("seeds:50", 30, 70)])
def test_superpixels_give_about_the_asked_count(image, spec, low, high):
    r = make_regions(spec, image)
    assert low <= r.n <= high
    assert r.labels.dtype == np.int32 and r.labels.shape == (96, 96)
    assert set(np.unique(r.labels)) == set(range(r.n))
    assert np.isclose(r.area.sum(), 1.0) and (r.area > 0).all()


@pytest.mark.parametrize("spec", ["slico:64", "seeds:50"])
def test_superpixels_follow_edges(image, spec):
    # A region should not straddle the red square's border much: most regions are (nearly) pure.
    r = make_regions(spec, image)
    red = np.zeros((96, 96), bool)
    red[10:40, 10:40] = True
    purity = [max(red[r.labels == k].mean(), 1 - red[r.labels == k].mean()) for k in range(r.n)]
    assert np.mean(purity) > 0.9


def test_grid_and_counts():
    img = np.zeros((30, 40, 3), np.uint8)
    assert make_regions("grid:4", img).n == 16
    g = make_regions("grid:3x5", img)
    assert g.n == 15 and g.spec == "grid:3x5"
    assert np.allclose(g.area.sum(), 1.0)


def test_user_label_map_is_relabelled_in_reading_order():
    img = np.zeros((4, 4, 3), np.uint8)
    labels = np.array([[7, 7, 3, 3]] * 2 + [[9, 9, 9, 9]] * 2)
    r = make_regions(labels, img)
    assert r.n == 3 and r.labels[0, 0] == 0 and r.labels[0, 3] == 1 and r.labels[3, 0] == 2


def test_boolean_masks_add_a_background_region():
    img = np.zeros((8, 8, 3), np.uint8)
    masks = np.zeros((2, 8, 8), bool)
    masks[0, :4, :4] = True
    masks[1, 4:, 4:] = True
    r = make_regions(masks, img)
    assert r.n == 3


def test_masks_pool_and_to_pixels():
    r = Regions(np.array([[0, 0, 1], [2, 2, 1]], dtype=np.int32))
    keep = np.array([[True, False, True], [False, True, False]])
    m = r.masks(keep)
    assert m.shape == (2, 2, 3)
    assert m[0].tolist() == [[True, True, False], [True, True, False]]
    assert r.to_pixels([1.0, 2.0, 3.0])[1, 2] == 2.0
    assert np.allclose(r.pool(r.to_pixels([1.0, 2.0, 3.0])), [1, 2, 3])


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ("voronoi:5", ValueError),
        ("slico:x", ValueError),
        ("grid:0", ValueError),
        (np.zeros((5, 5), int), ValueError),
        (np.zeros((8, 8), float), TypeError),
        (3.5, TypeError),
    ],
)
def test_bad_specs_name_the_argument(spec, error):
    with pytest.raises(error, match="regions"):
        make_regions(spec, np.zeros((8, 8, 3), np.uint8))
