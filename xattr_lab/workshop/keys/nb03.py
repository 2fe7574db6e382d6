"""Answer key for notebooks/03_hallucination_forensics.ipynb."""

from __future__ import annotations

from typing import Any

from xattr_lab.workshop.answers import Computed
from xattr_lab.workshop.exercise import Exercise
from xattr_lab.workshop.keys._live import band, peak_object

OBJECTS = ("blue triangle", "red circle", "green star", "yellow square", "background")
AREAS = ("under 10%", "10% to 50%", "over 50%", "never flips")


def area_band(area: float) -> str:
    """The band of a correction area (1.0 means the answer never flipped)."""
    if area >= 1.0:
        return "never flips"
    return band(float(area), (0.10, 0.50), AREAS[:3])


def lower_amcr(scores: Any) -> str:
    """Which ranking has the lower AMCR: ``"eagle"``, ``"random"`` (or ``"tie"`` within 0.01)."""
    e, r = float(scores["eagle"]["amcr"]), float(scores["random"]["amcr"])
    return "tie" if abs(e - r) <= 0.01 else ("eagle" if e < r else "random")


EXERCISES = (
    Exercise(
        id="03.1",
        question="Explaining the wrong answer 'yes' (there is no purple square): where does its map peak?",
        answer=Computed(("e_yes", "sample"), peak_object, options=OBJECTS),
        hint="Do not guess from the words alone: EAGLE ranks the regions whose presence keeps 'yes' likely. "
        "Look at the heat map.",
        explanation="On the green star, not on the yellow square a person would suspect. p(yes) is only about "
        "0.56 on the full image: a close call that every object pushes a little towards 'yes'. A map of a "
        "wrong answer shows what props it up, which need not be the object the words suggest.",
    ),
    Exercise(
        id="03.2",
        question="Removing the regions ranked last for the correct answer 'no', one at a time: how much of the "
        "image must go before the model answers 'no'?",
        answer=Computed(("area",), area_band, options=AREAS),
        hint="The regions ranked last for 'no' are those that speak most against it: how big is the object that "
        "misleads the model?",
        explanation="Under 10% (about 5%): removing the green star's region is enough. A small correction area "
        "says the wrong answer is fragile and localised: a few regions carry it.",
    ),
    Exercise(
        id="03.3",
        question="Over the five hallucinations, which ranking gives the lower AMCR: 'eagle' or 'random' (or 'tie')?",
        answer=Computed(("scores",), lower_amcr, options=("eagle", "random", "tie")),
        hint="AMCR is the mean area that must be removed; a ranking that puts the misleading regions last finds "
        "them first.",
        explanation="EAGLE (AMCR about 0.04 against about 0.16 for random; CSR@10 1.0 against 0.2): explaining "
        "the correct answer puts the regions that prop up the wrong one at the end of the ranking, so the "
        "correction removes them first. Random orders find them by chance.",
    ),
)
