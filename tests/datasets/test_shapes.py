import numpy as np
import pytest

from xattr_lab.datasets import TASKS, shapes
from xattr_lab.datasets.scenes import COLOURS
from xattr_lab.datasets.shapes import VOCABULARY, caption, sample


def test_deterministic_and_streams_disjoint():
    a = list(shapes(5, seed=1))
    b = list(shapes(5, seed=1))
    c = list(shapes(5, seed=2))
    assert all(np.array_equal(x.image, y.image) and x.prompt == y.prompt for x, y in zip(a, b))
    assert {x.seed for x in a}.isdisjoint({x.seed for x in c})


@pytest.mark.parametrize("task", TASKS)
def test_sample_fields(task):
    for s in shapes(20, seed=3, task=task):
        assert s.image.dtype == np.uint8 and s.image.shape == (96, 96, 3)
        k = len(s.objects)
        assert 1 <= k <= 4 and s.masks.shape == (k, 96, 96) and len(s.boxes) == k
        assert s.task == task
        assert all(w in VOCABULARY for w in (s.prompt + " " + s.answer).split())
        for m, (x0, y0, x1, y1) in zip(s.masks, s.boxes):
            ys, xs = np.nonzero(m)
            assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == (x0, y0, x1, y1)
        if s.target is not None:
            # the target object's pixels have its colour (up to jitter and noise)
            colour = s.objects[s.target].split()[0]
            mean = s.image[s.masks[s.target]].mean(0)
            assert np.abs(mean - np.array(COLOURS[colour])).max() < 40


def test_answers_consistent():
    for s in shapes(60, seed=4):
        names = s.objects
        if s.task == "count":
            assert s.answer == ("one", "two", "three", "four")[len(names) - 1]
        if s.task == "presence":
            asked = " ".join(s.prompt.split()[3:5])
            assert (asked in names) == (s.answer == "yes") == (not s.absent)
        if s.task == "caption":
            assert s.answer.count(" and ") == len(names) - 1
            assert all(n in s.answer for n in names)


def test_absent_questions_occur():
    absent = [s for s in shapes(80, seed=5, task="presence") if s.absent]
    assert 20 < len(absent) < 60 and all(s.answer == "no" and s.target is None for s in absent)


def test_caption_reading_order():
    s = sample(11, "caption")
    assert s.answer.startswith("a ")
    assert caption.__doc__


def test_bad_arguments():
    with pytest.raises(ValueError, match="task"):
        list(shapes(1, task="nonsense"))
    with pytest.raises(ValueError, match="n"):
        list(shapes(-1))


def test_import_is_light():
    import subprocess
    import sys

    code = "import sys, xattr_lab.datasets; assert 'transformers' not in sys.modules and 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
