"""Answer key for notebooks/09_beyond_one_image.ipynb."""

from __future__ import annotations

from typing import Any

from xattr_lab.workshop.answers import Choice, Computed
from xattr_lab.workshop.exercise import Exercise

SHARES = ("under a third", "about half", "over two thirds")
FRAMES = ("1", "2", "3", "4")


def share_band(mass: Any) -> str:
    """The band of the first image's share of the map's mass (``mass``: per-image shares)."""
    first = float(mass[0])
    return SHARES[0] if first < 1 / 3 else SHARES[2] if first > 2 / 3 else SHARES[1]


def decisive_frame(clip: Any) -> str:
    """The frame (1-based) that holds the asked object."""
    return str(int(clip.decisive) + 1)


def answer_changed(answers: Any) -> str:
    """``"yes"`` when the answer without the blacked-out frame differs from the answer on the whole clip."""
    return "yes" if answers["without"] != answers["with"] else "no"


EXERCISES = (
    Exercise(
        id="09.1",
        question="The map of 'why <other colour> rather than <the answer>': where does it peak?",
        answer=Choice(
            ("on the asked object", "on the other object", "on the background"),
            "on the other object",
            close={"on the asked object": "that is where the plain map peaks; the contrast turns the question "
                   "around."},
        ),
        hint="Which pixels make the other colour more likely than the answer?",
        explanation="On the other object: the margin log p(other) − log p(answer) grows when the asked object is "
        "hidden and the other object is shown, so its evidence is the other object. Each contrastive map points "
        "at its own object (pointing game 1 and 1 on this scene).",
    ),
    Exercise(
        id="09.2",
        question="Two images, the asked shape in the first only: what share of the map's mass lies on the first?",
        answer=Computed(("mass",), share_band, options=SHARES),
        hint="Removing regions of the second image changes nothing the model needs.",
        explanation="Over two thirds (0.98 here): the regions are numbered across both images and EAGLE ranks "
        "the first image's regions first. Over 20 two-image prompts (`python -m xattr_lab.bench.multi_image`) EAGLE "
        "gave the answer's image the majority of the mass in all 19 the model answered correctly (mean 0.81).",
    ),
    Exercise(
        id="09.3",
        question="Look at the four frames: which frame does the answer rest on?",
        answer=Computed(("clip",), decisive_frame, options=FRAMES),
        hint="The question asks about one shape; how many frames show it?",
        explanation="The only frame that shows the asked shape (the dataset's decisive frame). The temporal "
        "curve agrees: removing that frame drops p(answer) by about 1, removing any other by about 0.",
    ),
    Exercise(
        id="09.4",
        question="Black out frame 1 (not the decisive one): does the answer change?",
        answer=Computed(("answers",), answer_changed, options=("yes", "no")),
        hint="The other frames hold neither the asked shape nor the answer's colour.",
        explanation="No. Over 100 held-out clips (`xattr-lab bench frames`) removing a non-decisive frame "
        "changed a correct answer in almost none, and removing the decisive frame in almost all: that "
        "intervention is the ground truth the temporal pointing game is scored against.",
    ),
)
