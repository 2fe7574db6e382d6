"""Answer key for notebooks/06_grokking.ipynb (graded against the learner's own run)."""

from __future__ import annotations

from typing import Any

import numpy as np

from xattr_lab.workshop.answers import Computed
from xattr_lab.workshop.exercise import Exercise
from xattr_lab.workshop.keys._live import band

ACC_BANDS = ("below 10 %", "10 to 50 %", "above 50 %")
GAP_BANDS = ("under 2x", "2 to 10x", "over 10x")
ORDER = ("before", "after")


def _step_of(run: Any, name: str, threshold: float) -> int:
    step = run.first_step(name, threshold)
    if step is None:
        raise ValueError(f"run: {name} never reached {threshold}; train longer (the demo preset groks)")
    return int(step)


def _test_acc_at_memorisation(run: Any) -> str:
    step = _step_of(run, "train_acc", 0.99)
    index = int(np.searchsorted(np.asarray(run.steps), step))
    return band(float(run.series["test_acc"][index]), (0.1, 0.5), ACC_BANDS)


def _gap(run: Any) -> str:
    memorised = max(_step_of(run, "train_acc", 0.99), 1)
    return band(_step_of(run, "test_acc", 0.99) / memorised, (2.0, 10.0), GAP_BANDS)


def _norm_peak_order(run: Any) -> str:
    steps = np.asarray(run.steps)
    peak = int(steps[int(np.nanargmax(np.asarray(run.series["weight_norm"])))])
    return "before" if peak < _step_of(run, "test_acc", 0.5) else "after"


EXERCISES = (
    Exercise(
        id="06.1",
        question="When train accuracy first reaches 99 %, what is test accuracy?",
        answer=Computed(("run",), _test_acc_at_memorisation, options=ACC_BANDS),
        hint="Memorising 2,823 pairs says nothing about the other 6,586. What is chance level for 97 answers?",
        explanation="Test accuracy is still a few per cent (chance is 1 %): the model has memorised a lookup "
        "table. Generalisation comes hundreds of steps later.",
    ),
    Exercise(
        id="06.2",
        question="How many times more steps to generalise (test acc >= 99 %) than to memorise (train acc >= 99 %)?",
        answer=Computed(("run",), _gap, options=GAP_BANDS),
        hint="This preset uses Grokfast and a 3x learning rate; the classic run takes ~14k steps.",
        explanation="About 5x with the demo preset (memorised near step 300-400, generalised near 1,600-1,900). "
        "Without Grokfast the gap is over 10x.",
    ),
    Exercise(
        id="06.3",
        question="Does the weight norm peak before or after test accuracy first passes 50 %?",
        answer=Computed(("run",), _norm_peak_order, options=ORDER),
        hint="Weight decay keeps pulling the norm down; what does a memorised lookup table cost in norm?",
        explanation="Before: the norm grows while memorising, then falls as weight decay favours the compact "
        "general circuit, while test accuracy is still low. A progress measure moves first.",
    ),
)
