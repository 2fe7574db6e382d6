"""Region counts the image cannot hold, and Regions objects that are not numbered 0..n-1 (issue 14, item 1)."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from xattr_lab.inputs import Regions, make_regions
from xattr_lab.inputs.regions import RegionCountWarning
from xattr_lab.inputs.seeds import _cv_safe, max_regions, seeds_labels


def _noise(h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)


def test_oversized_seeds_counts_do_not_crash_the_interpreter():
    # OpenCV's SEEDS corrupted the heap for seeds:2500+ on 96 px and segfaulted on the next call, so this runs
    # in a child process: a regression shows as a failed test with the child's exit status, not a dead run.
    code = textwrap.dedent(
        """
        import warnings
        import numpy as np
        from xattr_lab.inputs import make_regions
        warnings.simplefilter("ignore")
        img = np.random.default_rng(0).integers(0, 255, (96, 96, 3), dtype=np.uint8)
        for spec in ["seeds:5000", "seeds:5000", "seeds:2500", "seeds:2400", "seeds:2401", "seeds:5000"]:
            r = make_regions(spec, img)
            print(spec, r.spec, r.n, flush=True)
        tall = np.random.default_rng(1).integers(0, 255, (278, 9, 3), dtype=np.uint8)
        for n in (50, 92, 300):  # OpenCV's grid has an empty top level here: the numpy path runs instead
            print("tall", make_regions(f"seeds:{n}", tall).n, flush=True)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"child exited {proc.returncode}: {proc.stderr[-2000:]}"
    lines = [line.split() for line in proc.stdout.splitlines()]
    main, tall = [x for x in lines if x[0] != "tall"], [x for x in lines if x[0] == "tall"]
    assert len(main) == 6 and len(tall) == 3
    for asked, used, n in main:
        assert used == ("seeds:2400" if int(asked.split(":")[1]) > 2400 else asked)
        assert int(n) > 100  # a real segmentation, not OpenCV's one-region garbage
    assert all(int(n) > 1 for _, n in tall)


def test_seeds_clamps_with_a_warning_naming_the_limit():
    img = _noise(96, 96)
    with pytest.warns(RegionCountWarning, match="holds at most 2400"):
        r = make_regions("seeds:5000", img)
    assert r.spec == "seeds:2400" and set(np.unique(r.labels)) == set(range(r.n))


def test_seeds_limit_mirrors_opencv_setup():
    assert max_regions((96, 96)) == 2400  # 2400 worked before the fix, 2500 crashed
    assert all(_cv_safe((96, 96), n) for n in range(1, 2401))
    assert not _cv_safe((96, 96), 2500)
    assert not _cv_safe((278, 9), 92) and _cv_safe((278, 9), 300)
    assert max_regions((5, 5)) == 0 and max_regions((1, 100)) == 0


def test_seeds_refuses_images_too_small_and_counts_too_large():
    with pytest.raises(ValueError, match="too small for SEEDS"):
        make_regions("seeds:10", _noise(5, 5))
    with pytest.raises(ValueError, match="n: SEEDS on a 96x96 image needs 1 <= n <= 2400"):
        seeds_labels(_noise(96, 96), 2500)
    with pytest.raises(ValueError, match="image"):
        seeds_labels(np.zeros((32, 32, 4), np.uint8), 20)


def test_seeds_accepts_float_images():
    r = make_regions("seeds:20", _noise(32, 32).astype(np.float64))
    assert r.n > 1


@pytest.mark.parametrize("name", ["slic", "slico"])
def test_slic_clamps_to_one_region_per_pixel(name):
    img = _noise(12, 10)
    with pytest.warns(RegionCountWarning, match="holds at most 120"):
        r = make_regions(f"{name}:99999", img)
    assert r.spec == f"{name}:120" and 1 <= r.n <= 120


def test_counts_that_fit_do_not_warn(recwarn):
    make_regions("slico:16", _noise(32, 32))
    make_regions("seeds:16", _noise(32, 32))
    assert not [w for w in recwarn if issubclass(w.category, RegionCountWarning)]


def test_grid_larger_than_the_image_is_refused():
    with pytest.raises(ValueError, match=r"does not fit a 8x6 image \(at most 8x6"):
        make_regions("grid:9x3", np.zeros((8, 6, 3), np.uint8))
    assert make_regions("grid:8x6", np.zeros((8, 6, 3), np.uint8)).n == 48


def test_empty_image_is_refused():
    with pytest.raises(ValueError, match="image"):
        make_regions("grid:2", np.zeros((0, 5, 3), np.uint8))


def test_regions_with_gaps_are_refused():
    labels = np.zeros((8, 8), np.int32)
    labels[4:] = 5
    with pytest.raises(ValueError, match=r"unused values: 1, 2, 3, 4.*pass the array itself"):
        Regions(labels)
    # The raw array is a naming of the user's segments: it is renumbered compactly.
    r = make_regions(labels, np.zeros((8, 8, 3), np.uint8))
    assert r.n == 2 and (r.area > 0).all()


@pytest.mark.parametrize(
    ("labels", "error", "match"),
    [
        (np.array([[0, -1], [1, 0]]), ValueError, ">= 0"),
        (np.array([[0.0, 1.0], [1.0, 0.0]]), TypeError, "integers"),
        (np.array([[True, False], [False, True]]), TypeError, "integers"),
        (np.zeros((2, 2, 2), np.int32), ValueError, r"\[H, W\]"),
        (np.zeros((0, 3), np.int32), ValueError, "non-empty"),
        ([[0, 1], [1, 0]], TypeError, "numpy"),
        (np.array([[0, 2**40], [1, 0]], np.int64), ValueError, "exceeds the pixel count"),
    ],
)
def test_invalid_regions_fail_at_construction(labels, error, match):
    with pytest.raises(error, match=match):
        Regions(labels)


def test_regions_edited_in_place_are_rechecked():
    r = Regions(np.array([[0, 1], [1, 0]], np.int32))
    r.labels[0, 0] = 7
    with pytest.raises(ValueError, match="regions"):
        make_regions(r, np.zeros((2, 2, 3), np.uint8))


def test_raw_negative_label_map_is_renumbered():
    r = make_regions(np.array([[-3, -3], [9, 9]]), np.zeros((2, 2, 3), np.uint8))
    assert r.n == 2 and r.labels.tolist() == [[0, 0], [1, 1]]
