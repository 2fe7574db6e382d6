"""The frames world: one decisive frame holds the asked object; the other frames hold neither it nor the answer."""

from __future__ import annotations

import numpy as np
import pytest

from xattr_lab.datasets.frames import FRAME_TASKS, frames, frames_sample


@pytest.mark.parametrize("task", FRAME_TASKS)
def test_only_the_decisive_frame_holds_the_evidence(task):
    for s in frames(12, seed=1, task=task):
        assert s.frames.shape == (4, 96, 96, 3) and s.frames.dtype == np.uint8
        assert s.masks.shape == (4, 96, 96) and s.masks[s.decisive].any()
        assert not np.delete(s.masks, s.decisive, axis=0).any()
        asked = s.prompt.split()[-2] if task == "colour" else s.prompt.split()[-3]
        for t, objects in enumerate(s.objects):
            names = [o.split() for o in objects]
            has_asked = any((shape if task == "colour" else colour) == asked for colour, shape in names)
            has_answer = any((colour if task == "colour" else shape) == s.answer for colour, shape in names)
            assert has_asked == (t == s.decisive)
            if t != s.decisive:
                assert not has_answer


def test_deterministic_streams_and_spread_decisive_frames():
    a, b = list(frames(20, seed=2)), list(frames(20, seed=2))
    assert all(np.array_equal(x.frames, y.frames) and x.decisive == y.decisive for x, y in zip(a, b))
    assert {s.decisive for s in a} == {0, 1, 2, 3}
    assert frames_sample(a[3].seed).prompt == a[3].prompt
    assert not np.array_equal(a[0].frames, next(frames(1, seed=3)).frames)
    assert frames_sample(5, t=6).frames.shape[0] == 6


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="task"):
        frames_sample(0, task="count")
    with pytest.raises(ValueError, match="t:"):
        frames_sample(0, t=1)
    with pytest.raises(ValueError, match="seed"):
        frames_sample(-1)
    with pytest.raises(ValueError, match="n:"):
        list(frames(-2))
