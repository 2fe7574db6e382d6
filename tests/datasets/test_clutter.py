"""The cluttered-scene generator: fields, determinism, masks, binding distractors and relations."""

from __future__ import annotations

import numpy as np
import pytest

from xattr_lab.datasets import ClutterSample, clutter
from xattr_lab.datasets.clutter import (
    CAPTION_OBJECTS,
    IMAGE_SIZE,
    MAX_OBJECTS,
    MIN_OBJECTS,
    NUMBERS,
    POSITIONS,
    RELATIONS,
    TASKS,
    VOCABULARY,
    sample,
)

N = 12  # samples per task: enough to see every branch, fast on a shared CPU


@pytest.fixture(scope="module")
def by_task() -> dict[str, list[ClutterSample]]:
    return {t: list(clutter(N, seed=3, task=t)) for t in TASKS}


def _parse(name: str) -> tuple[str, str]:
    colour, shape = name.split(" ")
    return colour, shape


def test_fields_and_sizes(by_task: dict[str, list[ClutterSample]]) -> None:
    assert IMAGE_SIZE >= 160
    for task, samples in by_task.items():
        for s in samples:
            k = len(s.objects)
            assert s.task == task
            assert s.image.shape == (IMAGE_SIZE, IMAGE_SIZE, 3) and s.image.dtype == np.uint8
            assert s.masks.shape == (k, IMAGE_SIZE, IMAGE_SIZE) and s.masks.dtype == bool
            assert len(s.boxes) == len(s.sizes) == len(s.cells) == k
            lo, hi = (CAPTION_OBJECTS, CAPTION_OBJECTS) if task == "caption" else (MIN_OBJECTS, MAX_OBJECTS)
            assert lo <= k <= hi
            assert len(set(s.objects)) == k  # no two objects share colour and shape
            assert list(s.cells) == sorted(s.cells)  # reading order
            # every word of the prompt and the answer is in the tokenizer's vocabulary
            assert set(s.prompt.split()) <= set(VOCABULARY) and set(s.answer.split()) <= set(VOCABULARY)


def test_small_objects_and_overlap_occur(by_task: dict[str, list[ClutterSample]]) -> None:
    samples = [s for ss in by_task.values() for s in ss]
    assert any("small" in s.sizes for s in samples)
    assert any("large" in s.sizes for s in samples)

    def touching(s: ClutterSample) -> bool:
        # two visible masks that are 4-neighbours somewhere: one object partly covers or abuts another
        grown = [m | np.roll(m, 1, 0) | np.roll(m, -1, 0) | np.roll(m, 1, 1) | np.roll(m, -1, 1) for m in s.masks]
        return any((grown[i] & s.masks[j]).any() for i in range(len(grown)) for j in range(len(grown)) if i != j)

    assert any(touching(s) for s in samples)


def test_textured_background() -> None:
    s = next(clutter(1, seed=5, task="colour"))
    background = s.image[~s.masks.any(axis=0)].astype(float)
    assert background.std(axis=0).min() > 5.0  # not a flat fill


def test_masks_match_boxes_and_do_not_overlap(by_task: dict[str, list[ClutterSample]]) -> None:
    for samples in by_task.values():
        for s in samples:
            assert (s.masks.sum(axis=0) <= 1).all()  # visible masks partition the covered pixels
            for m, (x0, y0, x1, y1) in zip(s.masks, s.boxes):
                ys, xs = np.nonzero(m)
                assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == (x0, y0, x1, y1)
                assert m.sum() > 20


def test_deterministic_per_seed() -> None:
    a = list(clutter(3, seed=11, task="relation"))
    b = list(clutter(3, seed=11, task="relation"))
    for x, y in zip(a, b):
        assert np.array_equal(x.image, y.image) and x.prompt == y.prompt and x.answer == y.answer
    # a sample's seed reproduces it alone
    one = next(clutter(1, seed=0, task="count"))
    again = sample(one.seed, "count")
    assert np.array_equal(one.image, again.image) and one.answer == again.answer
    assert not np.array_equal(a[0].image, a[1].image)


def test_colour_and_shape_need_binding(by_task: dict[str, list[ClutterSample]]) -> None:
    for s in by_task["colour"]:
        colour, shape = _parse(s.objects[s.target])
        assert s.answer == colour and shape in s.prompt
        others = [_parse(o) for j, o in enumerate(s.objects) if j != s.target]
        assert any(c == colour for c, _ in others)  # a distractor shares the colour
        # the phrase names one object: the shape alone, or with its size when the shape repeats
        same_shape = [j for j, o in enumerate(s.objects) if _parse(o)[1] == shape]
        if len(same_shape) > 1:
            size = s.sizes[s.target]
            assert f"the {size} {shape}" in s.prompt
            assert sum(s.sizes[j] == size for j in same_shape) == 1
    for s in by_task["shape"]:
        colour, shape = _parse(s.objects[s.target])
        assert s.answer == shape and colour in s.prompt
        assert any(_parse(o)[1] == shape for j, o in enumerate(s.objects) if j != s.target)


def test_presence_has_both_answers_and_hard_negatives(by_task: dict[str, list[ClutterSample]]) -> None:
    samples = by_task["presence"] + list(clutter(20, seed=4, task="presence"))
    assert {s.answer for s in samples} == {"yes", "no"}
    for s in samples:
        asked = " ".join(s.prompt.split()[3:5])
        assert (asked in s.objects) == (s.answer == "yes") == (not s.absent)
        if s.absent:
            colour, shape = asked.split(" ")
            assert s.target is None
            assert any(_parse(o)[0] == colour for o in s.objects) and any(_parse(o)[1] == shape for o in s.objects)


def test_position_count_and_caption(by_task: dict[str, list[ClutterSample]]) -> None:
    for s in by_task["position"]:
        assert s.answer == POSITIONS[s.cells[s.target]]
        # the box centre lies in the named grid cell
        x0, y0, x1, y1 = s.boxes[s.target]
        cell = 3 * int((y0 + y1) / 2 // (IMAGE_SIZE / 3)) + int((x0 + x1) / 2 // (IMAGE_SIZE / 3))
        assert cell == s.cells[s.target]
    for s in by_task["count"]:
        word = s.prompt.split()[2]
        n = sum(word in (c, f"{sh}s") for c, sh in map(_parse, s.objects))
        assert s.answer == NUMBERS[n - 1]
    for s in by_task["caption"]:
        assert s.answer == " and ".join(f"a {o}" for o in s.objects)


def test_relation_answers_the_adjacent_object(by_task: dict[str, list[ClutterSample]]) -> None:
    for s in by_task["relation"]:
        assert s.relation in RELATIONS and s.related is not None and s.target is not None
        assert s.prompt == f"what is {s.relation} the {s.objects[s.related]} ?"
        assert s.answer == s.objects[s.target]
        dr, dc = RELATIONS[s.relation]
        r, c = divmod(s.cells[s.related], 3)
        assert s.cells[s.target] == (r + dr) * 3 + (c + dc)
        # geometrically too: the answer's box centre lies on that side of the reference's
        cx = [(b[0] + b[2]) / 2 for b in s.boxes]
        cy = [(b[1] + b[3]) / 2 for b in s.boxes]
        if dc:
            assert np.sign(cx[s.target] - cx[s.related]) == dc
        else:
            assert np.sign(cy[s.target] - cy[s.related]) == dr


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="task"):
        next(clutter(1, task="colours"))
    with pytest.raises(ValueError, match="n"):
        next(clutter(-1))
    with pytest.raises(ValueError, match="task"):
        sample(0, "nope")


def test_objects_range_gives_sparser_scenes_and_leaves_the_default_alone():
    """``objects=`` (a training curriculum) bounds the object count; None draws the world's own scenes."""
    for task in TASKS:
        default = next(clutter(1, seed=5, task=task))
        explicit = next(clutter(1, seed=5, task=task, objects=None))
        assert np.array_equal(default.image, explicit.image) and default.prompt == explicit.prompt
        for low, high in ((2, 3), (3, 5)):
            for s in clutter(6, seed=5, task=task, objects=(low, high)):
                assert low <= len(s.objects) <= high
                if task == "count":
                    assert NUMBERS.index(s.answer) + 1 <= max(1, high - 1)
    for bad in ((1, 3), (4, 3), (2, MAX_OBJECTS + 1), (2.0, 3), "2-3"):
        with pytest.raises(ValueError, match="objects"):
            next(clutter(1, seed=0, task="colour", objects=bad))


def test_balanced_closes_the_commonest_attribute_shortcut():
    """``balanced=True``: a colour (shape) answer is never the scene's only commonest colour (shape)."""
    from collections import Counter

    for task, field in (("colour", 0), ("shape", 1)):
        heuristic = []
        for s in clutter(30, seed=4, task=task, balanced=True):
            counts = Counter(name.split(" ")[field] for name in s.objects)
            top = max(counts.values())
            commonest = [k for k, v in counts.items() if v == top]
            assert commonest != [s.answer]
            heuristic.append((s.answer in commonest) / len(commonest))
        assert np.mean(heuristic) <= 0.5
    # other tasks draw exactly the world's scenes
    for a, b in zip(clutter(3, seed=4, task="count", balanced=True), clutter(3, seed=4, task="count")):
        assert np.array_equal(a.image, b.image) and a.prompt == b.prompt
    with pytest.raises(TypeError, match="balanced"):
        next(clutter(1, seed=0, task="colour", balanced="yes"))
