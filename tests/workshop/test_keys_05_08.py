"""Answer keys of notebooks 05-08: each live key graded on constructed results (no model, no training)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from xattr_lab import workshop
from xattr_lab.results.text import TextAttribution
from xattr_lab.results.training import TrainingRun


def _run(train_acc, test_acc, weight_norm) -> TrainingRun:
    history = [
        {"step": 100 * i, "train_acc": a, "test_acc": b, "weight_norm": w}
        for i, (a, b, w) in enumerate(zip(train_acc, test_acc, weight_norm))
    ]
    return TrainingRun.from_history(history)


def test_every_exercise_of_05_to_08_is_registered_in_order():
    ids = [e.id for nb in (5, 6, 7, 8) for e in workshop.exercises(nb)]
    assert ids == ["05.1", "05.2", "05.3", "05.4", "05.5", "06.1", "06.2", "06.3",
                   "07.1", "07.2", "07.3", "07.4", "07.5", "08.1", "08.2", "08.3"]  # fmt: skip


def test_05_leave_one_out_and_arc_bands_follow_the_scores():
    zero = TextAttribution(("describe", "the", "image", "."), np.zeros(4), "red", "leave_one_out")
    big = TextAttribution(("describe", "the", "image", "."), np.array([0.0, 7.0, 0.0, 0.0]), "red", "leave_one_out")
    assert workshop.check("05.2", "about 0", loo_cap=zero).correct
    assert workshop.check("05.2", "more than 5 nats", loo_cap=big).correct
    assert not workshop.check("05.2", "about 0", loo_cap=big).correct
    arc = TextAttribution(("<s>", "<image>", "a"), np.array([0.3, np.nan, 0.05]), "red", "arc")
    assert workshop.check("05.3", "clearly above 0", arc=arc).correct  # NaN <image> ignored
    flat = TextAttribution(("<s>", "<image>", "a"), np.array([0.02, np.nan, 0.05]), "red", "arc")
    assert workshop.check("05.3", "near 0", arc=flat).correct
    assert workshop.check("05.1", "colour").verdict == "close"
    assert workshop.check("05.4", "retrieval").correct and workshop.check("05.5", "pre-training").correct


def test_06_keys_read_the_learners_run():
    # memorised at step 200 (test 0.03), weight norm peaks at 200, test passes 50 % at 600 and 99 % at 800
    run = _run([0.1, 0.5, 0.995, 1, 1, 1, 1, 1, 1], [0.01, 0.02, 0.03, 0.1, 0.3, 0.45, 0.7, 0.9, 0.995],
               [20, 40, 55, 50, 45, 40, 38, 36, 35])  # fmt: skip
    assert workshop.check("06.1", "below 10 %", run=run).correct
    assert workshop.check("06.2", "2 to 10x", run=run).correct  # 800 / 200 = 4
    assert workshop.check("06.3", "before", run=run).correct
    late = _run([0.1, 0.995, 1, 1], [0.01, 0.995, 0.995, 0.995], [20, 30, 40, 50])  # no gap, norm still rising
    assert workshop.check("06.1", "above 50 %", run=late).correct
    assert workshop.check("06.2", "under 2x", run=late).correct  # both at step 100
    assert workshop.check("06.3", "after", run=late).correct


def test_06_a_run_that_never_grokked_says_so():
    run = _run([0.1, 0.995], [0.01, 0.02], [20, 30])
    with pytest.raises(ValueError, match="never reached"):
        workshop.check("06.2", "2 to 10x", run=run)


def test_07_keys():
    assert workshop.check("07.1", "below 1", rope_ratio=0.69).correct
    assert workshop.check("07.2", "above 1", alibi_ratio=15.2).correct
    assert workshop.check("07.2", "about 1", alibi_ratio=1.01).correct

    def report(ratios):
        return SimpleNamespace(
            stats={"contraction_ratio": np.asarray(ratios, float)},
            summary=lambda: {"contraction_ratio": float(np.nanmedian(ratios)) if np.isfinite(ratios).any() else np.nan},
        )

    reports = {"nope": report([np.nan, np.nan]), "rope": report([0.86, 1.2]), "alibi": report([44.0, 1.2])}
    assert workshop.check("07.3", {"nope"}, reports=reports).correct
    assert workshop.check("07.3", {"nope", "rope"}, reports=reports).verdict == "close"
    assert workshop.check("07.4", "around 1", reports=reports).correct
    abl = SimpleNamespace(drop_=np.array([[0.504, 0.597], [0.088, 0.01]]))
    assert workshop.check("07.5", "more than 50 points", abl=abl).correct
    abl_small = SimpleNamespace(drop_=np.array([[0.05, 0.02]]))
    assert workshop.check("07.5", "less than 10 points", abl=abl_small).correct


def test_08_keys():
    import torch

    assert workshop.check("08.1", "raises a ValueError").correct
    assert workshop.check("08.2", 14).correct and workshop.check("08.2", 13.2).correct
    assert workshop.check("08.2", 28).verdict == "wrong"
    model = SimpleNamespace(model=torch.nn.Linear(2, 2))
    assert workshop.check("08.3", "float32", model=model).correct
    model.model = model.model.to(torch.bfloat16)
    assert workshop.check("08.3", "bfloat16", model=model).correct
