"""Answer key for notebooks/05_text_side.ipynb."""

from __future__ import annotations

import numpy as np

from xattr_lab.workshop.answers import Choice, Computed
from xattr_lab.workshop.exercise import Exercise
from xattr_lab.workshop.keys._live import band

LABELS = ("pre-training", "retrieval", "neither")
LOO_BANDS = ("about 0", "about 1 nat", "more than 5 nats")
ARC_BANDS = ("near 0", "clearly above 0")


def _largest_loo(loo_cap: object) -> str:
    return band(float(np.nanmax(loo_cap.scores)), (0.5, 5.0), LOO_BANDS)  # type: ignore[attr-defined]


def _largest_prompt_arc(arc: object) -> str:
    # prompt and earlier generated tokens; the <image> slot is NaN and ignored
    return band(float(np.nanmax(arc.scores)), (0.1,), ARC_BANDS)  # type: ignore[attr-defined]


EXERCISES = (
    Exercise(
        id="05.1",
        question="'what colour is the star ?' -> yellow: which prompt word, removed, costs the answer the most?",
        answer=Choice(
            ("what", "colour", "is", "the", "star", "?"),
            "star",
            close={"colour": "the rest of the prompt may already say which question this is: what else would?"},
        ),
        hint="There are three objects in the scene. Without which word can the model not know which one you mean?",
        explanation="Without 'star' the question no longer picks an object and the model names another colour "
        "(about 15 nats lost). 'colour' costs about 0.1 nats: in this model's templates a shape noun after "
        "'what … is the' already means a colour question. Leave-one-out measures need given the other words.",
    ),
    Exercise(
        id="05.2",
        question="'describe the image .': the largest leave-one-out score of the caption's colour word?",
        answer=Computed(("loo_cap",), _largest_loo, options=LOO_BANDS),
        hint="Remove any one of the four words: does the rest still read as a caption request?",
        explanation="Every word scores 0: any three of them still ask for a caption, so no single removal moves "
        "the answer. Redundant evidence is invisible to leave-one-out; removing two-word segments costs 7–10 nats.",
    ),
    Exercise(
        id="05.3",
        question="For the same colour word, is ARC relevance of the context near 0 like leave-one-out?",
        answer=Computed(("arc",), _largest_prompt_arc, options=ARC_BANDS),
        hint="ARC compares what each position predicts through the logit lens; it never removes anything.",
        explanation="ARC gives the context 0.3–0.4: it is correlational (do the positions predict alike?), "
        "leave-one-out is interventional (is the word needed?). They answer different questions.",
    ),
    Exercise(
        id="05.4",
        question="SMA on the toy LM: what label does 'green' get in kai's answer (the passage says green)?",
        answer=Choice(LABELS, "retrieval", close={"neither": "'green' is a content word; which source moves it?"}),
        hint="kai's colour is never memorised: does the model say 'green' without the passage?",
        explanation="Without the passage p(green) is about 0.002; with it 0.99, carried by the passage's words: "
        "retrieval.",
    ),
    Exercise(
        id="05.5",
        question="And 'red' in alex's answer, where the model memorised red and the passage also says red?",
        answer=Choice(LABELS, "pre-training", close={"retrieval": "compare p(red) with and without the passage."}),
        hint="Switch retrieval off: does the model still answer red for alex?",
        explanation="p(red) stays 0.99 with retrieval off and the question moves it: pre-training. A passage "
        "that agrees with memory does not make an answer retrieved.",
    ),
)
