"""Hallucination diagnosis: how little of the image must go for the model to answer correctly.

For a wrong answer, explain the *correct* answer (``target=``) and rank regions; the regions ranked last are
the hallucination-prone ones. The correction area is the smallest tail of the ranking whose removal makes
the model answer correctly. AMCR is its mean (1 for a sample that never flips) and CSR@10% the share of
samples corrected by removing at most 10% of the image. Unlike EAGLE's code, never-flipped samples stay in
the CSR denominator, so CSR is not inflated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from xattr_lab.results.explanation import Explanation


def _default_correct(text: str, label: str) -> bool:
    words = text.strip().lower().split()
    return bool(words) and words[0].strip(".,!?") == label.strip().lower()


def correction_area(
    model: Any,
    explanation: Explanation,
    label: str,
    max_new_tokens: int = 4,
    is_correct: Callable[[str, str], bool] | None = None,
) -> float:
    """Smallest area of lowest-ranked regions whose removal makes the model answer ``label``.

    Removes the tail of ``explanation.order`` one region at a time (blacked out) and regenerates greedily;
    at most N ``generate`` calls.

    Args:
        model: the scoring model (must offer ``generate``).
        explanation: an explanation of the correct answer (made with ``target=label``).
        label: the correct answer.
        max_new_tokens: generation length for each check.
        is_correct: ``(generated_text, label) -> bool``; default compares the first word, case-insensitive.

    Returns:
        The removed area fraction in (0, 1], or 1.0 if the answer never flips.
    """
    check = is_correct or _default_correct
    gen = explanation.generation
    image = np.asarray(gen.image)
    labels = explanation.regions.labels
    region_area = explanation.regions.area
    order = np.asarray(explanation.order)
    keep = np.ones(len(order), dtype=bool)
    removed = 0.0
    for r in order[::-1][:-1]:  # never remove everything: an empty image answers nothing about it
        keep[r] = False
        removed += float(region_area[r])
        masked = np.where(keep[labels][..., None], image, 0).astype(image.dtype)
        if check(model.generate(masked, gen.prompt, max_new_tokens=max_new_tokens).text, label):
            return removed
    return 1.0


def hallucination_scores(areas: Sequence[float], threshold: float = 0.10) -> dict[str, float]:
    """AMCR and CSR over samples.

    Args:
        areas: correction area per sample (1.0 for samples that never flip).
        threshold: the CSR area threshold (10%).

    Returns:
        ``{"amcr": mean area, "csr@10": share of samples with area <= threshold, "n": samples,
        "never_flipped": count}``.
    """
    a = np.asarray(list(areas), dtype=np.float64)
    if a.size == 0:
        raise ValueError("areas: no samples")
    key = f"csr@{int(round(threshold * 100))}"
    return {
        "amcr": float(a.mean()),
        key: float((a <= threshold + 1e-12).mean()),  # every sample counts, flipped or not
        "n": float(a.size),
        "never_flipped": float((a >= 1.0).sum()),
    }
