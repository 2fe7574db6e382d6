import numpy as np
import pytest

from xattr_lab.datasets import ShapesSample, shortcut
from xattr_lab.datasets.scenes import COLOURS, SIZE
from xattr_lab.datasets.shortcut import IMAGE_SIZE, NO_CUE, TASKS, VOCABULARY, ShortcutSample, sample


@pytest.fixture(scope="module")
def samples():
    return list(shortcut(300, seed=3))


def test_fields_and_shapes(samples):
    for s in samples[:40]:
        assert isinstance(s, ShortcutSample) and isinstance(s, ShapesSample)
        assert s.image.shape == (IMAGE_SIZE, IMAGE_SIZE, 3) and s.image.dtype == np.uint8
        assert s.cue_mask.shape == s.image.shape[:2] == s.masks.shape[1:] and s.cue_mask.dtype == bool
        assert s.task == "colour" and s.target is not None and not s.absent
        assert len(s.masks) == len(s.boxes) == len(s.objects)
        shape = s.objects[s.target].split(" ")[1]
        assert s.prompt == f"what colour is the {shape} ?"
        assert s.object_colour == s.objects[s.target].split(" ")[0]
        assert s.answer == (s.cue if s.cue is not None else NO_CUE)
        assert all(w in VOCABULARY for w in (*s.prompt.split(), s.answer))


def test_deterministic_per_seed(samples):
    again = list(shortcut(5, seed=3))
    for a, b in zip(samples, again):
        assert np.array_equal(a.image, b.image) and np.array_equal(a.cue_mask, b.cue_mask)
        assert (a.prompt, a.answer, a.seed) == (b.prompt, b.answer, b.seed)
    one = sample(samples[2].seed)
    assert np.array_equal(one.image, samples[2].image) and one.answer == samples[2].answer
    other = next(shortcut(1, seed=4))
    assert not np.array_equal(other.image, samples[0].image)


def test_cue_mask_is_the_marker(samples):
    for s in samples:
        if s.cue is None:
            assert not s.cue_mask.any()
            continue
        ys, xs = np.nonzero(s.cue_mask)
        # one solid square, inside one 16-px patch, on no object
        side = ys.max() - ys.min() + 1
        assert side == xs.max() - xs.min() + 1 and s.cue_mask.sum() == side * side
        assert ys.min() // 16 == ys.max() // 16 and xs.min() // 16 == xs.max() // 16
        assert not (s.cue_mask & s.masks.any(axis=0)).any()
        # its pixels have the cue's colour (the nearest palette colour), its surroundings do not
        mean = s.image[s.cue_mask].mean(axis=0)
        nearest = min(COLOURS, key=lambda c: np.abs(np.array(COLOURS[c]) - mean).sum())
        assert nearest == s.cue
        ring = np.zeros_like(s.cue_mask)
        ring[max(ys.min() - 2, 0) : ys.max() + 3, max(xs.min() - 2, 0) : xs.max() + 3] = True
        ring &= ~s.cue_mask
        assert np.abs(s.image[ring].astype(float) - mean).sum(axis=1).min() > 40


def test_cue_is_independent_of_the_named_object(samples):
    with_cue = [s for s in samples if s.cue is not None]
    agree = np.mean([s.cue == s.object_colour for s in with_cue])
    # independent draws over five colours agree 1 time in 5
    assert 0.1 < agree < 0.3, agree
    # every cue colour occurs with every object colour
    pairs = {(s.cue, s.object_colour) for s in with_cue}
    assert len(pairs) >= 0.9 * len(COLOURS) ** 2
    # and some scenes have no cue at all
    assert 0.1 < np.mean([s.cue is None for s in samples]) < 0.35


def test_arguments_are_checked():
    assert TASKS == ("colour",)
    assert len(list(shortcut(2, seed=1, task="colour"))) == 2
    with pytest.raises(ValueError, match="task"):
        next(shortcut(1, task="shape"))
    with pytest.raises(ValueError, match="n"):
        next(shortcut(-1))
    assert SIZE == IMAGE_SIZE
