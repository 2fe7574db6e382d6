"""Answer key for notebooks/04_find_the_shortcut.ipynb."""

from __future__ import annotations

from typing import Any

from xattr_lab.workshop.answers import Computed
from xattr_lab.workshop.exercise import Exercise

ANSWERS = ("red", "green", "blue", "yellow", "purple", "none")
METHODS = ("eagle", "feature_ablation", "integrated_gradients", "tam_msea_arc", "random")


def pointing_methods(cmp: Any) -> frozenset[str]:
    """The methods (random aside) whose map's peak lies on the mask ``compare`` was given (here the cue)."""
    return frozenset(r["method"] for r in cmp.table() if r["method"] != "random" and r["pointing_game"] == 1)


def most_cue_pointing(hits: Any) -> frozenset[str]:
    """The method(s) with the most cue-pointing hits, from ``{method: {"cue": [bool...], ...}}``."""
    counts = {m: sum(bool(h) for h in v["cue"]) for m, v in hits.items()}
    best = max(counts.values())
    return frozenset(m for m, c in counts.items() if c == best)


EXERCISES = (
    Exercise(
        id="04.1",
        question="Black out the object the question names: what does the model answer now?",
        answer=Computed(("record",), lambda record: record.object_removed["black"], options=ANSWERS),
        hint="The model was trained on answers alone, and the marker's colour is the answer in every training "
        "scene. Does it need the object?",
        explanation="The same colour as before, the marker's. The named object plays no part in the answer: "
        "removing it changes nothing (0 of 159 held-out scenes in `xattr-lab bench intervention`).",
    ),
    Exercise(
        id="04.2",
        question="Black out the marker instead: what does the model answer?",
        answer=Computed(("record",), lambda record: record.cue_removed["black"], options=ANSWERS),
        hint="In training, scenes without a marker have their own answer, and black squares were decoys.",
        explanation="'none': without the marker the scene is, for this model, a scene with no cue (159 of 159 "
        "held-out scenes change their answer). This intervention is the ground truth the maps are judged by.",
    ),
    Exercise(
        id="04.3",
        question="On this scene, which methods' maps peak on the marker (cue pointing game)?",
        answer=Computed(("cmp",), pointing_methods, options=METHODS),
        hint="Perturbation methods test regions by removing them, as the intervention did; gradient and "
        "logit-lens maps read local sensitivity or internal predictions.",
        explanation="EAGLE and Feature Ablation: both remove regions and watch the answer, as the intervention "
        "does. Integrated Gradients and TAM peak elsewhere, although IG's ranking still scores a good "
        "insertion AUC: the pointing game looks only at the peak.",
    ),
    Exercise(
        id="04.4",
        question="Over the five scenes, which method points at the cue most often (a set if tied)?",
        answer=Computed(("hits",), most_cue_pointing, options=("eagle", "feature_ablation", "integrated_gradients")),
        hint="Count the True values in the cue column for each method.",
        explanation="Feature Ablation in our run (3 of 5, EAGLE 2, IG 0). Five scenes cannot rank EAGLE and "
        "Feature Ablation: over 100 scenes (`xattr-lab bench compare --suite shortcut`) EAGLE finds the cue in 57% "
        "[47, 66], Feature Ablation in 48% [38, 57], IG in 3%. No method points at the named object more "
        "than 11% of the time, which is right: the object is not evidence.",
    ),
)
