"""Answer key for notebooks/07_pe_spectra.ipynb."""

from __future__ import annotations

from typing import Any

import numpy as np

from xattr_lab.workshop.answers import Computed
from xattr_lab.workshop.exercise import Exercise
from xattr_lab.workshop.keys._live import band

RATIO = ("below 1", "about 1", "above 1")
MEDIAN = ("clearly below 1", "around 1", "clearly above 1")
DROP = ("less than 10 points", "10 to 50 points", "more than 50 points")
SCHEMES = ("nope", "sinusoidal", "learned", "rope", "alibi", "t5", "mla")


def _ratio(value: float) -> str:
    return band(float(value), (0.95, 1.05), RATIO)


def _without_ratio(reports: dict[str, Any]) -> set[str]:
    return {pe for pe, r in reports.items() if not np.isfinite(r.stats["contraction_ratio"]).any()}


def _rope_median(reports: dict[str, Any]) -> str:
    return band(float(reports["rope"].summary()["contraction_ratio"]), (0.9, 1.1), MEDIAN)


def _largest_drop(abl: Any) -> str:
    return band(100.0 * float(np.nanmax(abl.drop_)), (10.0, 50.0), DROP)


EXERCISES = (
    Exercise(
        id="07.1",
        question="Constructed case: contraction ratio of C∘G (G the averaged RoPE kernel) versus PSD C?",
        answer=Computed(("rope_ratio",), lambda rope_ratio: _ratio(rope_ratio), options=RATIO),
        hint="Schur: the eigenvalues of C∘G stay inside C's range when G is PSD with a unit diagonal.",
        explanation="Below 1: a Hadamard product with a unit-diagonal PSD kernel pulls the spectrum inwards.",
    ),
    Exercise(
        id="07.2",
        question="Constructed case: contraction ratio of C + B (ALiBi's bias) versus C?",
        answer=Computed(("alibi_ratio",), lambda alibi_ratio: _ratio(alibi_ratio), options=RATIO),
        hint="An added matrix brings its own eigenvalues; is ALiBi's bias small?",
        explanation="Above 1: the bias is a Toeplitz matrix with a large spread of its own, and adding it "
        "expands the spectrum. Additive schemes have no Schur-type bound.",
    ),
    Exercise(
        id="07.3",
        question="Which scheme(s) report no contraction ratio at all?",
        answer=Computed(("reports",), _without_ratio, options=SCHEMES),
        hint="The ratio compares the logits with and without positional coupling. For which scheme does "
        "'without' not exist?",
        explanation="Only NoPE: with no positional coupling there is nothing to remove, so the ratio is "
        "undefined and reported as n/a (not a numerical failure).",
    ),
    Exercise(
        id="07.4",
        question="Untrained RoPE model: is its median contraction ratio below, around or above 1?",
        answer=Computed(("reports",), _rope_median, options=MEDIAN),
        hint="Schur's bound needs C to be PSD. In a model, are queries equal to keys?",
        explanation="Around 1: queries and keys are different random projections, so q·kᵀ's symmetric part is "
        "indefinite and the bound does not apply; at initialisation the heads scatter around 1.",
    ),
    Exercise(
        id="07.5",
        question="Trained RoPE: accuracy cost of ablating the single most important head?",
        answer=Computed(("abl",), _largest_drop, options=DROP),
        hint="Look for one head whose ablation costs far more than the others.",
        explanation="About 60 points for one head, yet no deposit: three layer-0 heads each cost 50-60 points, "
        "so the largest holds only a quarter of the total drop. The task needs several heads at once.",
    ),
)
