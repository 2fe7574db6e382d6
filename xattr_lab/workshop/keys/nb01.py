"""Answer key for notebooks/01_quickstart.ipynb."""

from __future__ import annotations

from xattr_lab.workshop.answers import Choice, Computed
from xattr_lab.workshop.exercise import Exercise
from xattr_lab.workshop.keys._live import band, peak_object

AUC_BANDS = ("below 0.3", "0.3 to 0.7", "above 0.7")

EXERCISES = (
    Exercise(
        id="01.1",
        question="How much does the answer to a colour question rely on the image (vision reliance)?",
        answer=Choice(
            ("near 0", "about half", "near 1"),
            "near 1",
            close={"about half": "the prompt names a shape, never a colour: what could the words alone tell?"},
        ),
        hint="Could the model answer 'what colour is the triangle ?' with its eyes closed?",
        explanation="The words carry no colour, so the answer rests on the image: reliance is about 0.98. "
        "Count or caption questions can rest more on language priors.",
    ),
    Exercise(
        id="01.2",
        question="The insertion AUC of a random region order: below 0.3, 0.3 to 0.7, or above 0.7?",
        answer=Computed(
            ("rand",),
            lambda rand: band(float(rand.metrics["insertion_auc"]), (0.3, 0.7), AUC_BANDS),
            options=AUC_BANDS,
        ),
        hint="How much of a small blue triangle must show before the model can say 'blue'? A random order "
        "reveals a few pixels of it early on.",
        explanation="Random reaches about 0.8: on these easy scenes a sliver of the object is enough, so the "
        "insertion curve saturates early for any order. Compare methods by their gap over random and by "
        "deletion AUC, which separates them far more (EAGLE 0.04 vs random 0.41).",
    ),
    Exercise(
        id="01.3",
        question="Explaining the counterfactual 'red' (which the model did not say): where does the map peak?",
        answer=Computed(
            ("cf", "sample"),
            peak_object,
            options=("red star", "blue triangle", "purple square", "green circle", "background"),
        ),
        hint="Which region, shown on its own, would make the model answer 'red'?",
        explanation="On the red star. With the triangle hidden and the star shown, the model answers 'red': "
        "the insertion AUC for 'red' is high although its probability on the full image is about 1e-5. A "
        "counterfactual map shows what *would* support an answer, not what the model used.",
    ),
)
